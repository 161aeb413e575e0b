/* Creating, reading, updating, deleting and listing registration entries in
 * the datastore. Each change runs in one transaction, so a failure leaves
 * the stored entries as they were. */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/encoding.h"
#include "common/random.h"
#include "identity/registry_internal.h"

#define REQUIRED_FIELDS                                                        \
	(REGISTRY_FIELD_SPIFFE_ID | REGISTRY_FIELD_PARENT_ID | REGISTRY_FIELD_SELECTORS)

/* Computes the hex SHA-256 of the fields that make an entry unique: the
 * canonical SPIFFE ID, parent ID and sorted selectors, each ended by a NUL
 * byte that none of them may contain. */
static int identity_hash(const struct registry_entry *entry, char **ret_hash)
{
	_wd_cleanup_(wd_freep) char *selectors = NULL;
	_wd_cleanup_(wd_freep) char *material = NULL;
	size_t spiffe_len = strlen(entry->spiffe_id) + 1;
	size_t parent_len = strlen(entry->parent_id) + 1;
	size_t selectors_len;
	uint8_t digest[32];

	*ret_hash = NULL;
	WD_TRY(registry_strings_join(entry->selectors, entry->selector_count, &selectors));
	selectors_len = strlen(selectors) + 1;

	material = malloc(spiffe_len + parent_len + selectors_len);
	if (!material)
		return WD_ENOMEM;
	memcpy(material, entry->spiffe_id, spiffe_len);
	memcpy(material + spiffe_len, entry->parent_id, parent_len);
	memcpy(material + spiffe_len + parent_len, selectors, selectors_len);

	WD_TRY(registry_sha256(material, spiffe_len + parent_len + selectors_len, digest));
	return wd_hex_encode(digest, sizeof(digest), ret_hash);
}

static int copy_first_text(void *context, const struct store_row *row)
{
	char *id = context;
	const char *text = store_row_text(row, 0);

	if (text && strlen(text) == REGISTRY_ENTRY_ID_LEN)
		memcpy(id, text, REGISTRY_ENTRY_ID_LEN + 1);
	return 0;
}

static int copy_first_int(void *context, const struct store_row *row)
{
	*(int64_t *)context = store_row_int(row, 0);
	return 0;
}

/* Fails with WD_EEXIST naming the entry, other than entry itself, that has
 * the same identity hash. */
static int check_duplicate(struct registry *registry, const struct registry_entry *entry,
	const char *hash, struct wd_error *err)
{
	char existing[REGISTRY_ENTRY_ID_LEN + 1] = "";
	struct store_value params[] = { STORE_TEXT_VALUE(hash), STORE_TEXT_VALUE(entry->id) };

	WD_TRY(store_query(registry->store,
		"SELECT id FROM registry_entries WHERE identity_hash = $1 AND id <> $2", params,
		WD_ARRAY_LEN(params), copy_first_text, existing, err));
	if (existing[0])
		return wd_error_set(err, WD_EEXIST,
			"entry \"%s\" already has spiffe_id \"%.300s\", parent_id \"%.300s\" and "
			"the same selectors", existing, entry->spiffe_id, entry->parent_id);
	return 0;
}

/* Increments the entry change counter inside the caller's transaction and
 * stores the new value in ret_seq. On PostgreSQL the UPDATE locks the
 * counter row until commit, so changes commit in counter order, and the
 * notification "entry:SEQ" reaches other servers at that commit. */
static int next_change_seq(struct registry *registry, int64_t *ret_seq, struct wd_error *err)
{
	char payload[48];
	int64_t seq = 0;

	*ret_seq = 0;
	registry->entry_writes++;
	WD_TRY(store_exec(registry->store,
		"UPDATE registry_counters SET value = value + 1 WHERE name = 'entry_change_seq'",
		NULL, 0, NULL, err));
	WD_TRY(store_query(registry->store,
		"SELECT value FROM registry_counters WHERE name = 'entry_change_seq'", NULL, 0,
		copy_first_int, &seq, err));
	if (seq <= 0)
		return wd_error_set(err, WD_ECORRUPT, "registry: entry change counter is missing");
	snprintf(payload, sizeof(payload), "entry:%lld", (long long)seq);
	WD_TRY(store_notify(registry->store, payload, err));
	*ret_seq = seq;
	return 0;
}

/* Rewrites the selector rows of entry, which the list filter queries. */
static int write_selectors(struct registry *registry, const struct registry_entry *entry,
	struct wd_error *err)
{
	struct store_value id_param[] = { STORE_TEXT_VALUE(entry->id) };

	WD_TRY(store_exec(registry->store,
		"DELETE FROM registry_entry_selectors WHERE entry_id = $1", id_param, 1, NULL,
		err));
	for (size_t i = 0; i < entry->selector_count; i++) {
		const char *selector = entry->selectors[i];
		size_t type_len = strcspn(selector, ":");
		_wd_cleanup_(wd_freep) char *type = wd_strndup(selector, type_len);
		struct store_value params[] = {
			STORE_TEXT_VALUE(entry->id),
			STORE_TEXT_VALUE(type),
			STORE_TEXT_VALUE(selector + type_len + 1),
		};

		if (!type)
			return wd_error_set(err, WD_ENOMEM, "registry: out of memory");
		WD_TRY(store_exec(registry->store,
			"INSERT INTO registry_entry_selectors (entry_id, type, value) "
			"VALUES ($1, $2, $3)", params, WD_ARRAY_LEN(params), NULL, err));
	}
	return 0;
}

/* Writes entry's row (insert or update) and its selector rows. */
static int write_entry(struct registry *registry, const struct registry_entry *entry,
	bool insert, bool selectors_changed, struct wd_error *err)
{
	_wd_cleanup_(wd_freep) char *hash = NULL;
	_wd_cleanup_(wd_freep) char *selectors = NULL;
	_wd_cleanup_(wd_freep) char *dns_names = NULL;
	int64_t change_seq;
	int rc;

	rc = identity_hash(entry, &hash);
	if (rc == 0)
		rc = registry_strings_join(entry->selectors, entry->selector_count, &selectors);
	if (rc == 0)
		rc = registry_strings_join(entry->dns_names, entry->dns_name_count, &dns_names);
	if (rc < 0)
		return wd_error_set(err, rc, "registry: cannot encode entry \"%s\"", entry->id);

	WD_TRY(check_duplicate(registry, entry, hash, err));
	WD_TRY(next_change_seq(registry, &change_seq, err));

	struct store_value params[] = {
		STORE_TEXT_VALUE(entry->id),
		STORE_TEXT_VALUE(entry->spiffe_id),
		STORE_TEXT_VALUE(entry->parent_id),
		STORE_TEXT_VALUE(selectors),
		STORE_TEXT_VALUE(hash),
		STORE_INT_VALUE(entry->x509_svid_ttl),
		STORE_INT_VALUE(entry->jwt_svid_ttl),
		STORE_TEXT_VALUE(dns_names),
		STORE_INT_VALUE(entry->admin ? 1 : 0),
		STORE_INT_VALUE(entry->revision),
		STORE_INT_VALUE(entry->created_at),
		STORE_INT_VALUE(entry->updated_at),
		STORE_INT_VALUE(change_seq),
		STORE_INT_VALUE(entry->require_signed ? 1 : 0),
	};
	const char *sql = insert ?
		"INSERT INTO registry_entries (id, spiffe_id, parent_id, selectors, "
		"identity_hash, x509_svid_ttl, jwt_svid_ttl, dns_names, admin, revision, "
		"created_at, updated_at, change_seq, require_signed) "
		"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)" :
		"UPDATE registry_entries SET spiffe_id = $2, parent_id = $3, selectors = $4, "
		"identity_hash = $5, x509_svid_ttl = $6, jwt_svid_ttl = $7, dns_names = $8, "
		"admin = $9, revision = $10, created_at = $11, updated_at = $12, change_seq = $13, "
		"require_signed = $14 WHERE id = $1";

	WD_TRY(store_exec(registry->store, sql, params, WD_ARRAY_LEN(params), NULL, err));
	if (selectors_changed)
		WD_TRY(write_selectors(registry, entry, err));
	return 0;
}

/* Hands entry to ret_entry when the caller wants it, else frees it. */
static void entry_hand_over(struct registry_entry *entry, struct registry_entry **ret_entry)
{
	if (ret_entry)
		*ret_entry = entry;
	else
		registry_entry_free(entry);
}

int registry_entry_create(struct registry *registry,
	const struct registry_entry_input *input, int64_t now,
	struct registry_entry **ret_entry, struct wd_error *err)
{
	struct registry_entry *entry = NULL;
	bool in_transaction = false;
	int rc = 0;

	if (ret_entry)
		*ret_entry = NULL;
	if ((input->fields & REQUIRED_FIELDS) != REQUIRED_FIELDS) {
		const char *missing = !(input->fields & REGISTRY_FIELD_SPIFFE_ID) ? "spiffe_id" :
			!(input->fields & REGISTRY_FIELD_PARENT_ID) ? "parent_id" : "selectors";

		return wd_error_set(err, WD_EINVAL, "missing \"%s\"", missing);
	}

	entry = wd_calloc(1, sizeof(*entry));
	WD_ENSURE(entry, WD_ENOMEM);
	WD_GUARD(registry_entry_apply(registry, input, entry, err));
	if (wd_random_uuid(entry->id) < 0) {
		rc = wd_error_set(err, WD_EINTERNAL, "registry: random entry id failed");
		goto out;
	}
	entry->revision = 0;
	entry->created_at = now;
	entry->updated_at = now;

	WD_GUARD(store_begin(registry->store, err));
	in_transaction = true;
	WD_GUARD(write_entry(registry, entry, true, true, err));
	WD_GUARD(store_commit(registry->store, err));
	in_transaction = false;

	entry_hand_over(WD_TAKE_PTR(entry), ret_entry);
out:
	if (in_transaction)
		store_rollback(registry->store);
	if (rc == WD_ENOMEM)
		wd_error_set(err, rc, "registry: out of memory");
	registry_entry_free(entry);
	return rc;
}

int registry_entry_get(struct registry *registry, const char *id,
	struct registry_entry **ret_entry, struct wd_error *err)
{
	*ret_entry = NULL;
	WD_TRY(registry_entry_id_validate("entry id", id, err));
	return registry_entry_load(registry, id, ret_entry, err);
}

int registry_entry_update(struct registry *registry, const char *id,
	const struct registry_entry_input *input, int64_t now,
	struct registry_entry **ret_entry, struct wd_error *err)
{
	struct registry_entry *entry = NULL;
	bool in_transaction = false;
	int rc = 0;

	if (ret_entry)
		*ret_entry = NULL;
	WD_TRY(registry_entry_id_validate("entry id", id, err));

	WD_GUARD(store_begin(registry->store, err));
	in_transaction = true;
	WD_GUARD(registry_entry_load(registry, id, &entry, err));
	WD_GUARD(registry_entry_apply(registry, input, entry, err));
	entry->revision++;
	entry->updated_at = now;
	WD_GUARD(write_entry(registry, entry, false,
		(input->fields & REGISTRY_FIELD_SELECTORS) != 0, err));
	WD_GUARD(store_commit(registry->store, err));
	in_transaction = false;

	entry_hand_over(WD_TAKE_PTR(entry), ret_entry);
out:
	if (in_transaction)
		store_rollback(registry->store);
	registry_entry_free(entry);
	return rc;
}

int registry_entry_delete(struct registry *registry, const char *id,
	struct registry_entry **ret_entry, struct wd_error *err)
{
	struct registry_entry *entry = NULL;
	struct store_value params[] = { STORE_TEXT_VALUE(id) };
	bool in_transaction = false;
	int64_t change_seq;
	int rc = 0;

	if (ret_entry)
		*ret_entry = NULL;
	WD_TRY(registry_entry_id_validate("entry id", id, err));

	WD_GUARD(store_begin(registry->store, err));
	in_transaction = true;
	WD_GUARD(registry_entry_load(registry, id, &entry, err));
	WD_GUARD(store_exec(registry->store,
		"DELETE FROM registry_entry_selectors WHERE entry_id = $1", params, 1, NULL, err));
	WD_GUARD(store_exec(registry->store, "DELETE FROM registry_entries WHERE id = $1",
		params, 1, NULL, err));
	/* A deleted entry has no row to carry the value, so agents learn of it
	 * from the id list of registry_authorized_changes. The counter still
	 * moves, so that every change shows in it. */
	WD_GUARD(next_change_seq(registry, &change_seq, err));
	WD_GUARD(store_commit(registry->store, err));
	in_transaction = false;

	entry_hand_over(WD_TAKE_PTR(entry), ret_entry);
out:
	if (in_transaction)
		store_rollback(registry->store);
	registry_entry_free(entry);
	return rc;
}
