/* Workload selector sets: the sorted, deduplicated "type:value" strings that
 * workload attestation produces and registration entries are matched
 * against (SPIRE's model: an entry applies when its selectors are a subset
 * of the workload's). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "common/macros.h"

/* The grammar is the server's (identity/registry.h): type matches
 * [a-z0-9_-]+ and is at most 64 bytes, then ':' and a non-empty value of
 * printable ASCII (0x20-0x7e). The value may itself contain ':'
 * ("unix:uid:1000"). A whole selector is at most 1024 bytes. */
#define AGENT_SELECTOR_TYPE_MAX_LEN 64
#define AGENT_SELECTOR_MAX_LEN 1024

/* Default ceiling on the number of selectors in one set. */
#define AGENT_SELECTOR_SET_DEFAULT_MAX 1024

/* An opaque set of selectors, kept sorted by type and then by value (the
 * server's order) without duplicates. */
struct agent_selector_set;

/* Checks one selector against the grammar above; WD_EINVAL quoting it and
 * naming the rule it breaks otherwise. */
WD_MUST_CHECK int agent_selector_validate(const char *selector, struct wd_error *err);

/* Creates an empty set of at most max selectors (0: the default).
 * Returns NULL only when memory runs out. Free with agent_selector_set_free. */
WD_MUST_CHECK struct agent_selector_set *agent_selector_set_new(size_t max);

/* Frees the set and its strings; accepts NULL. */
void agent_selector_set_free(struct agent_selector_set *set);

/* Adds a copy of selector after validating it. Adding a selector already in
 * the set succeeds and changes nothing. WD_EINVAL (invalid selector),
 * WD_ETOOBIG (the set is full) or WD_ENOMEM; on failure the set is unchanged. */
WD_MUST_CHECK int agent_selector_set_add(struct agent_selector_set *set, const char *selector,
	struct wd_error *err);

/* Adds "type:value", with the errors of agent_selector_set_add. */
WD_MUST_CHECK int agent_selector_set_add_pair(struct agent_selector_set *set, const char *type,
	const char *value, struct wd_error *err);

/* Builds a set from count selector strings (for example an entry's
 * selectors from the server), validating each. Duplicates collapse into one.
 * ret_set gets the new set, which the caller frees; errors as
 * agent_selector_set_add, naming the first bad selector. */
WD_MUST_CHECK int agent_selector_set_parse(const char *const *selectors, size_t count, size_t max,
	struct agent_selector_set **ret_set, struct wd_error *err);

/* Returns the number of selectors in the set (0 for NULL). */
size_t agent_selector_set_count(const struct agent_selector_set *set);

/* Returns the selector at index (in sorted order), owned by the set, or NULL
 * when index is out of range. */
const char *agent_selector_set_get(const struct agent_selector_set *set, size_t index);

/* Returns true when selector is in the set. */
bool agent_selector_set_contains(const struct agent_selector_set *set, const char *selector);

/* SPIRE's matching rule: returns true when every selector of the entry is in
 * the workload's set. An entry with no selectors matches nothing, so a
 * malformed entry can never apply to every workload. */
bool agent_selectors_subset(const struct agent_selector_set *entry_selectors,
	const struct agent_selector_set *workload_selectors);

/* The same rule for an entry whose selectors are plain strings, as the
 * registry stores them; count 0 matches nothing. */
bool agent_selectors_subset_strings(const char *const *entry_selectors, size_t count,
	const struct agent_selector_set *workload_selectors);
