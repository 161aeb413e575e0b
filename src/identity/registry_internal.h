/* Shared between the registry's source files: the registry object and the
 * helpers that validate and convert entry fields. Not for other modules. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/macros.h"
#include "identity/registry.h"
#include "identity/spiffe_id.h"
#include "store/store.h"

struct registry {
	struct store *store;
	char trust_domain[SPIFFE_TRUST_DOMAIN_MAX_LEN + 1];
	int64_t max_x509_svid_ttl;
	int64_t max_jwt_svid_ttl;
	int max_authorization_depth;
	size_t max_authorized_entries;
	/* Entry changes this handle has started, committed or not; see
	 * registry_entry_write_count. */
	uint64_t entry_writes;
};

/* The schema of the "registry" migration component. */
extern const struct store_migration registry_migrations[];
extern const size_t registry_migration_count;

/* A list of owned strings. */
struct registry_strings {
	char **items;
	size_t count;
};

void registry_strings_clear(struct registry_strings *strings);

/* Joins strings with '\n' (which no selector or DNS name may contain) into
 * a malloc'd string; "" for an empty list. */
WD_MUST_CHECK int registry_strings_join(char *const *items, size_t count, char **ret_text);

/* Splits a '\n'-joined string back into a list; "" gives an empty list.
 * WD_ECORRUPT when it contains more than max_count items. */
WD_MUST_CHECK int registry_strings_split(const char *text, size_t max_count,
	struct registry_strings *ret_strings, struct wd_error *err);

/* Validates selectors (count, syntax, duplicates) and returns copies sorted
 * by type, then value. */
WD_MUST_CHECK int registry_selectors_normalize(const char *const *selectors, size_t count,
	struct registry_strings *ret_sorted, struct wd_error *err);

/* Validates DNS names (count, syntax, duplicates ignoring case) and returns
 * lowercase copies in the given order. */
WD_MUST_CHECK int registry_dns_names_normalize(const char *const *names, size_t count,
	struct registry_strings *ret_names, struct wd_error *err);

/* Parses text as a SPIFFE ID in the registry's trust domain, with a
 * non-root path when need_path is set, and returns its canonical form.
 * field names the input field ("spiffe_id") in error details. */
WD_MUST_CHECK int registry_spiffe_id_canonical(const struct registry *registry,
	const char *field, const char *text, bool need_path, char **ret_id,
	struct wd_error *err);

/* Validates the fields of input that input->fields sets and writes them
 * into entry. On failure entry is unchanged and WD_EINVAL names the field
 * and the bad value. */
WD_MUST_CHECK int registry_entry_apply(const struct registry *registry,
	const struct registry_entry_input *input, struct registry_entry *entry,
	struct wd_error *err);

/* Checks that id looks like an entry id (a lowercase UUID); WD_EINVAL naming
 * what is given as field otherwise. */
WD_MUST_CHECK int registry_entry_id_validate(const char *field, const char *id,
	struct wd_error *err);

/* Column list and row reader shared by the entry queries. */
#define REGISTRY_ENTRY_COLUMNS                                                 \
	"id, spiffe_id, parent_id, selectors, x509_svid_ttl, jwt_svid_ttl, "   \
	"dns_names, admin, revision, created_at, updated_at, require_signed"

WD_MUST_CHECK int registry_entry_from_row(const struct store_row *row,
	struct registry_entry **ret_entry, struct wd_error *err);

/* store_row_fn context that collects entries into a growing list, failing
 * with WD_ETOOBIG past max. */
struct registry_entry_collector {
	struct registry_entry **entries;
	size_t count;
	size_t capacity;
	size_t max;
	struct wd_error *err;
};

int registry_entry_collect_row(void *context, const struct store_row *row);

void registry_entry_collector_clear(struct registry_entry_collector *collector);

/* Loads entry id inside the caller's transaction; WD_ENOTFOUND naming it. */
WD_MUST_CHECK int registry_entry_load(struct registry *registry, const char *id,
	struct registry_entry **ret_entry, struct wd_error *err);

/* Writes the SHA-256 of len bytes at data to digest. */
WD_MUST_CHECK int registry_sha256(const void *data, size_t len, uint8_t digest[static 32]);
