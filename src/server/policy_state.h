/* The server's policies and data document: kept in the datastore, compiled
 * into one Rego engine that every decision uses. Changes compile first and
 * are stored only when they compile, so a bad policy changes nothing. */
#pragma once

#include <stddef.h>

#include "common/error.h"
#include "policy/policy.h"
#include "store/store.h"

struct policy_state;

/* Loads every stored module and the data document and compiles them.
 * limits (copied) bound every decision. A stored set that no longer compiles
 * fails with WD_ECORRUPT naming the first error. */
WD_MUST_CHECK int policy_state_open(struct store *store, const struct rego_limits *limits,
	struct policy_state **ret_state, struct wd_error *err);

void policy_state_free(struct policy_state *state);         /* accepts NULL */

/* Reads the stored modules and data document again and compiles them, for
 * a change that another server made (a notification). On any failure the
 * current set stays and the error is returned. Every write of this module
 * notifies "policy:ID" or "policy_data" in its transaction. */
WD_MUST_CHECK int policy_state_reload(struct policy_state *state, struct wd_error *err);

/* The current engine, with a new reference the caller drops. */
struct rego_engine *policy_state_engine(struct policy_state *state);

/* Adds or replaces module id. On a compile error returns WD_EINVAL with
 * OPA's errors in errs and keeps the previous set. */
WD_MUST_CHECK int policy_state_put_module(struct policy_state *state, const char *id,
	const char *raw, size_t len, struct rego_errors *errs, struct wd_error *err);

/* Removes module id: WD_ENOTFOUND when absent, WD_EINVAL with errs when the
 * others no longer compile without it. */
WD_MUST_CHECK int policy_state_delete_module(struct policy_state *state, const char *id,
	struct rego_errors *errs, struct wd_error *err);

size_t policy_state_module_count(const struct policy_state *state);

/* The id and source of module i, borrowed until the next change. */
void policy_state_module_at(const struct policy_state *state, size_t i, const char **ret_id,
	const char **ret_raw);

/* Finds module id; -1 when absent. */
long policy_state_module_find(const struct policy_state *state, const char *id);

/* Replaces the base document at path (segments; none for the root, which
 * must then be an object), creating missing objects on the way. Takes the
 * value reference. WD_ECONFLICT when a segment crosses a non-object. */
WD_MUST_CHECK int policy_state_put_data(struct policy_state *state, const char *const *path,
	size_t path_len, struct rv *value, struct rego_errors *errs, struct wd_error *err);

/* Removes the base document at path; WD_ENOTFOUND when there is none. */
WD_MUST_CHECK int policy_state_delete_data(struct policy_state *state, const char *const *path,
	size_t path_len, struct rego_errors *errs, struct wd_error *err);

/* One JSON Patch operation (RFC 6902) on the base document. */
struct policy_patch_op {
	enum { POLICY_PATCH_ADD, POLICY_PATCH_REMOVE, POLICY_PATCH_REPLACE } kind;
	const char *const *path;      /* full path: the request's then the pointer's */
	size_t path_len;
	const struct rv *value;       /* borrowed; NULL for remove */
};

/* Applies every operation in order to one working copy and installs it only
 * when all succeed: a patch changes everything or nothing. WD_ENOTFOUND
 * names the operation whose target is missing (remove, replace). */
WD_MUST_CHECK int policy_state_patch_data(struct policy_state *state,
	const struct policy_patch_op *ops, size_t op_count, struct rego_errors *errs,
	struct wd_error *err);

/* True when the base document has a value at path. */
bool policy_state_data_exists(const struct policy_state *state, const char *const *path,
	size_t path_len);
