/* Policies and data behind OPA's REST API: the datastore holds them, the
 * builder compiles them, and a change becomes visible only after it both
 * compiles and commits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/time.h"
#include "server/policy_state.h"

#define POLICY_MIGRATION_COMPONENT "policy"

static const char modules_sql[] =
	"CREATE TABLE policy_modules ("
	" id TEXT PRIMARY KEY,"
	" raw TEXT NOT NULL,"
	" updated_at INTEGER NOT NULL);"
	"CREATE TABLE policy_data ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" document TEXT NOT NULL);";

static const char modules_postgres[] =
	"CREATE TABLE policy_modules ("
	" id TEXT PRIMARY KEY,"
	" raw TEXT NOT NULL,"
	" updated_at BIGINT NOT NULL);"
	"CREATE TABLE policy_data ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" document TEXT NOT NULL);";

static const struct store_migration policy_migrations[] = {
	{ 1, "policy modules and data document", modules_sql, modules_postgres },
};

/* Nesting of the stored data document; deeper JSON is refused on load. */
#define POLICY_DATA_MAX_DEPTH 512

struct policy_module {
	char *id;
	char *raw;
};

struct policy_state {
	struct store *store;
	struct rego_limits limits;
	struct rego_builder *builder;
	struct rego_engine *engine;
	struct policy_module *modules;
	size_t module_count;
	struct rv *data;                /* the base document, an object */
};

size_t policy_state_module_count(const struct policy_state *state)
{
	return state->module_count;
}

void policy_state_module_at(const struct policy_state *state, size_t i, const char **ret_id,
	const char **ret_raw)
{
	*ret_id = state->modules[i].id;
	*ret_raw = state->modules[i].raw;
}

long policy_state_module_find(const struct policy_state *state, const char *id)
{
	for (size_t i = 0; i < state->module_count; i++)
		if (strcmp(state->modules[i].id, id) == 0)
			return (long)i;
	return -1;
}

struct rego_engine *policy_state_engine(struct policy_state *state)
{
	return rego_engine_ref(state->engine);
}

/* Compiles the builder's current contents and installs the result. */
static int recompile(struct policy_state *state, struct rego_errors *errs, struct wd_error *err)
{
	struct rego_engine *engine = rego_builder_compile(state->builder, errs);

	if (!engine)
		return wd_error_set(err, WD_EINVAL, "the policies do not compile: %s",
			errs->len ? errs->items[0].message : "out of memory");
	rego_engine_unref(state->engine);
	state->engine = engine;
	return 0;
}

/* Runs one write and its notification in one transaction, so that other
 * servers sharing the datastore hear of the change only once it is stored,
 * and recompile their copy. */
static int write_and_notify(struct policy_state *state, const char *sql,
	const struct store_value *params, size_t param_count, const char *payload,
	struct wd_error *err)
{
	int rc;

	WD_TRY(store_begin(state->store, err));
	rc = store_exec(state->store, sql, params, param_count, NULL, err);
	if (rc == 0)
		rc = store_notify(state->store, payload, err);
	if (rc == 0)
		return store_commit(state->store, err);
	store_rollback(state->store);
	return rc;
}

/* "policy:ID", the id cut to fit a notification. */
static void module_payload(const char *id, char out[static STORE_NOTIFY_PAYLOAD_MAX + 1])
{
	snprintf(out, STORE_NOTIFY_PAYLOAD_MAX + 1, "policy:%.128s", id);
}

static int module_load_row(void *context, const struct store_row *row)
{
	struct policy_state *state = context;
	struct policy_module *grown;
	const char *id = store_row_text(row, 0);
	const char *raw = store_row_text(row, 1);

	grown = wd_reallocarray(state->modules, state->module_count + 1, sizeof(*grown));
	if (!grown)
		return WD_ENOMEM;
	state->modules = grown;
	grown[state->module_count].id = wd_strdup(id ? id : "");
	grown[state->module_count].raw = wd_strdup(raw ? raw : "");
	state->module_count++;
	if (!grown[state->module_count - 1].id || !grown[state->module_count - 1].raw)
		return WD_ENOMEM;
	return 0;
}

static int data_load_row(void *context, const struct store_row *row)
{
	struct rv **ret_data = context;
	const char *text = store_row_text(row, 0);

	if (!text)
		return WD_ECORRUPT;
	*ret_data = rv_parse_json(text, strlen(text), POLICY_DATA_MAX_DEPTH, NULL);
	return *ret_data && rv_is(*ret_data, RV_OBJECT) ? 0 : WD_ECORRUPT;
}

/* Reads every stored module and the data document into a new state and
 * compiles them. */
static int load_state(struct store *store, const struct rego_limits *limits,
	struct policy_state **ret_state, struct wd_error *err)
{
	struct policy_state *state = NULL;
	struct rego_errors errs = { 0 };
	struct rv *data = NULL;
	int rc;

	*ret_state = NULL;
	state = wd_calloc(1, sizeof(*state));
	WD_ENSURE(state, WD_ENOMEM);
	state->store = store;
	if (limits)
		state->limits = *limits;

	WD_GUARD(store_query(store, "SELECT id, raw FROM policy_modules ORDER BY id", NULL, 0,
		module_load_row, state, err));
	rc = store_query(store, "SELECT document FROM policy_data WHERE id = 1", NULL, 0,
		data_load_row, &data, err);
	if (rc == WD_ECORRUPT) {
		rc = wd_error_set(err, WD_ECORRUPT, "the stored policy data document is not a "
			"JSON object");
		goto out;
	}
	WD_GUARD(rc);
	if (!data)
		data = rv_object_new(0);
	WD_ENSURE(data, WD_ENOMEM);
	state->data = data;

	state->builder = rego_builder_new(&state->limits);
	WD_ENSURE(state->builder, WD_ENOMEM);
	for (size_t i = 0; i < state->module_count; i++) {
		const struct policy_module *m = &state->modules[i];

		rc = rego_builder_add_module(state->builder, m->id, m->raw, strlen(m->raw), &errs);
		if (rc < 0) {
			rc = wd_error_set(err, WD_ECORRUPT, "stored policy \"%.128s\" no longer "
				"parses: %s", m->id, errs.len ? errs.items[0].message : "");
			goto out;
		}
	}
	WD_GUARD(rego_builder_set_data(state->builder, rv_ref(state->data)));
	rc = recompile(state, &errs, err);
	if (rc < 0) {
		rc = wd_error_set(err, WD_ECORRUPT, "stored policies no longer compile: %s",
			errs.len ? errs.items[0].message : "");
		goto out;
	}

	*ret_state = WD_TAKE_PTR(state);
out:
	if (rc == WD_ENOMEM)
		wd_error_set(err, rc, "out of memory loading the stored policies");
	policy_state_free(state);
	return rc;
}

int policy_state_open(struct store *store, const struct rego_limits *limits,
	struct policy_state **ret_state, struct wd_error *err)
{
	*ret_state = NULL;
	WD_TRY(store_migrate(store, POLICY_MIGRATION_COMPONENT, policy_migrations,
		WD_ARRAY_LEN(policy_migrations), err));
	return load_state(store, limits, ret_state, err);
}

int policy_state_reload(struct policy_state *state, struct wd_error *err)
{
	struct policy_state *fresh = NULL;
	struct policy_state swap;

	WD_TRY(load_state(state->store, &state->limits, &fresh, err));
	/* Requests hold their own engine references, so the old engine lives
	 * on until the last of them finishes. */
	swap = *state;
	*state = *fresh;
	*fresh = swap;
	policy_state_free(fresh);
	return 0;
}

void policy_state_free(struct policy_state *state)
{
	if (!state)
		return;
	for (size_t i = 0; i < state->module_count; i++) {
		free(state->modules[i].id);
		free(state->modules[i].raw);
	}
	free(state->modules);
	rego_engine_unref(state->engine);
	rego_builder_free(state->builder);
	rv_unref(state->data);
	free(state);
}

/* Puts the module back as it was before a failed change: the old source,
 * or nothing when it is new. */
static void module_restore(struct policy_state *state, const char *id, const char *old_raw)
{
	struct rego_errors ignored = { 0 };

	if (old_raw) {
		if (rego_builder_add_module(state->builder, id, old_raw, strlen(old_raw),
			&ignored) < 0)
			log_error("policy", "could not restore a policy after a failed change",
				"id", id);
	} else if (rego_builder_remove_module(state->builder, id) < 0) {
		log_error("policy", "could not drop a policy after a failed change", "id", id);
	}
}

int policy_state_put_module(struct policy_state *state, const char *id, const char *raw,
	size_t len, struct rego_errors *errs, struct wd_error *err)
{
	long index = policy_state_module_find(state, id);
	const char *old_raw = index >= 0 ? state->modules[index].raw : NULL;
	char payload[STORE_NOTIFY_PAYLOAD_MAX + 1];
	char *id_copy = NULL;
	char *raw_copy = NULL;
	int rc;

	if (memchr(raw, '\0', len))
		return wd_error_set(err, WD_EINVAL, "policy \"%.128s\" contains a NUL byte", id);
	raw_copy = wd_strndup(raw, len);
	id_copy = index < 0 ? wd_strdup(id) : NULL;
	if (!raw_copy || (index < 0 && !id_copy)) {
		rc = wd_error_set(err, WD_ENOMEM, "out of memory storing policy \"%.128s\"", id);
		goto out;
	}

	rc = rego_builder_add_module(state->builder, id, raw, len, errs);
	if (rc < 0) {
		module_restore(state, id, old_raw);
		rc = wd_error_set(err, WD_EINVAL, "policy \"%.128s\" does not parse", id);
		goto out;
	}
	rc = recompile(state, errs, err);
	if (rc < 0) {
		module_restore(state, id, old_raw);
		goto out;
	}

	module_payload(id, payload);
	rc = write_and_notify(state,
		"INSERT INTO policy_modules (id, raw, updated_at) VALUES ($1, $2, $3)"
		" ON CONFLICT (id) DO UPDATE SET raw = excluded.raw, updated_at = excluded.updated_at",
		(struct store_value[]){ STORE_TEXT_VALUE(id), STORE_TEXT_VALUE(raw_copy),
			STORE_INT_VALUE(wd_now()) }, 3, payload, err);
	if (rc < 0) {
		struct rego_errors ignored = { 0 };

		module_restore(state, id, old_raw);
		if (recompile(state, &ignored, err) < 0)
			log_error("policy", "could not recompile after a failed store write");
		goto out;
	}

	if (index >= 0) {
		free(state->modules[index].raw);
		state->modules[index].raw = WD_TAKE_PTR(raw_copy);
	} else {
		struct policy_module *grown = wd_reallocarray(state->modules,
			state->module_count + 1, sizeof(*grown));

		/* The row is stored and compiled; only the in-memory list failed. */
		WD_ENSURE(grown, WD_ENOMEM);
		state->modules = grown;
		grown[state->module_count].id = WD_TAKE_PTR(id_copy);
		grown[state->module_count].raw = WD_TAKE_PTR(raw_copy);
		state->module_count++;
	}
out:
	free(id_copy);
	free(raw_copy);
	return rc;
}

int policy_state_delete_module(struct policy_state *state, const char *id,
	struct rego_errors *errs, struct wd_error *err)
{
	long index = policy_state_module_find(state, id);
	char payload[STORE_NOTIFY_PAYLOAD_MAX + 1];
	int rc;

	if (index < 0)
		return wd_error_set(err, WD_ENOTFOUND, "policy \"%.128s\" does not exist", id);

	WD_TRY(rego_builder_remove_module(state->builder, id));
	rc = recompile(state, errs, err);
	if (rc < 0) {
		module_restore(state, id, state->modules[index].raw);
		return rc;
	}
	module_payload(id, payload);
	rc = write_and_notify(state, "DELETE FROM policy_modules WHERE id = $1",
		(struct store_value[]){ STORE_TEXT_VALUE(id) }, 1, payload, err);
	if (rc < 0) {
		struct rego_errors ignored = { 0 };

		module_restore(state, id, state->modules[index].raw);
		if (recompile(state, &ignored, err) < 0)
			log_error("policy", "could not recompile after a failed store write");
		return rc;
	}

	free(state->modules[index].id);
	free(state->modules[index].raw);
	memmove(&state->modules[index], &state->modules[index + 1],
		(state->module_count - (size_t)index - 1) * sizeof(*state->modules));
	state->module_count--;
	return 0;
}

/* A shallow copy of obj with key set to value (NULL: key removed). Values are
 * immutable, so an edit copies only the objects along its path. */
static struct rv *object_with(const struct rv *obj, const char *key, struct rv *value)
{
	size_t len = obj ? rv_len(obj) : 0;
	struct rv *copy = rv_object_new(len + 1);
	int rc = 0;

	if (!copy) {
		rv_unref(value);
		return NULL;
	}
	for (size_t i = 0; i < len && rc == 0; i++) {
		struct rv *k;
		struct rv *v;

		rv_map_at(obj, i, &k, &v);
		if (rv_is(k, RV_STRING) && strcmp(rv_str(k), key) == 0)
			continue;
		rc = rv_object_put(copy, rv_ref(k), rv_ref(v));
	}
	if (rc == 0 && value)
		rc = rv_object_put(copy, rv_cstring(key), value);
	else
		rv_unref(value);
	if (rc < 0) {
		rv_unref(copy);
		return NULL;
	}
	return copy;
}

/* Returns a copy of doc with the value at path replaced (value NULL:
 * removed); sets *ret_conflict when the path crosses a non-object, and
 * *ret_missing when a removal finds nothing. */
static struct rv *document_edit(const struct rv *doc, const char *const *path, size_t len,
	struct rv *value, bool *ret_conflict, bool *ret_missing)
{
	struct rv *child;
	struct rv *edited;

	if (len == 1) {
		if (!value && (!doc || !rv_object_get_str(doc, path[0]))) {
			*ret_missing = true;
			return NULL;
		}
		return object_with(doc, path[0], value);
	}

	child = doc ? rv_object_get_str(doc, path[0]) : NULL;
	if (child && !rv_is(child, RV_OBJECT)) {
		*ret_conflict = true;
		rv_unref(value);
		return NULL;
	}
	if (!child && !value) {
		*ret_missing = true;
		return NULL;
	}
	edited = document_edit(child, path + 1, len - 1, value, ret_conflict, ret_missing);
	if (!edited)
		return NULL;
	return object_with(doc, path[0], edited);
}

/* Stores and compiles doc as the new base document; the old one stays on any
 * failure. Takes the reference. */
static int data_replace(struct policy_state *state, struct rv *doc, struct rego_errors *errs,
	struct wd_error *err)
{
	struct wd_buf json;
	int rc;

	wd_buf_init(&json, 4096, (size_t)1 << 32);
	WD_GUARD(rv_write_json(doc, &json));
	WD_GUARD(rego_builder_set_data(state->builder, rv_ref(doc)));
	rc = recompile(state, errs, err);
	if (rc < 0)
		goto restore;
	rc = write_and_notify(state,
		"INSERT INTO policy_data (id, document) VALUES (1, $1)"
		" ON CONFLICT (id) DO UPDATE SET document = excluded.document",
		(struct store_value[]){ STORE_TEXT_VALUE(wd_buf_str(&json)) }, 1, "policy_data", err);
	if (rc < 0)
		goto restore;

	rv_unref(state->data);
	state->data = WD_TAKE_PTR(doc);
	goto out;

restore:
	if (rego_builder_set_data(state->builder, rv_ref(state->data)) == 0) {
		struct rego_errors ignored = { 0 };
		struct wd_error ignored_err;

		if (recompile(state, &ignored, &ignored_err) < 0)
			log_error("policy", "could not recompile the previous data document");
	}
out:
	if (rc == WD_ENOMEM || rc == WD_ETOOBIG)
		wd_error_set(err, rc, "the data document could not be written");
	wd_buf_free(&json);
	rv_unref(doc);
	return rc;
}

/* A base document may not be written where a rule defines the document,
 * above it or below it, as OPA's server refuses such writes. */
static int check_rule_conflict(struct policy_state *state, const char *const *path,
	size_t path_len, struct wd_error *err)
{
	char rule[256];

	if (!rego_engine_path_has_rules(state->engine, path, path_len, rule, sizeof(rule)))
		return 0;
	return wd_error_set(err, WD_EINVAL, "conflicting rule for data path: %s is defined by a "
		"policy, so the base document cannot be written there", rule);
}

int policy_state_put_data(struct policy_state *state, const char *const *path, size_t path_len,
	struct rv *value, struct rego_errors *errs, struct wd_error *err)
{
	bool conflict = false;
	bool missing = false;
	struct rv *doc;

	if (path_len == 0) {
		if (!rv_is(value, RV_OBJECT)) {
			rv_unref(value);
			return wd_error_set(err, WD_EINVAL, "the root data document must be an object");
		}
		return data_replace(state, value, errs, err);
	}
	if (check_rule_conflict(state, path, path_len, err) < 0) {
		rv_unref(value);
		return err->code;
	}

	doc = document_edit(state->data, path, path_len, value, &conflict, &missing);
	if (!doc && conflict)
		return wd_error_set(err, WD_ECONFLICT, "data path crosses a value that is not an "
			"object");
	if (!doc)
		return wd_error_set(err, WD_ENOMEM, "out of memory editing the data document");
	return data_replace(state, doc, errs, err);
}

int policy_state_delete_data(struct policy_state *state, const char *const *path,
	size_t path_len, struct rego_errors *errs, struct wd_error *err)
{
	bool conflict = false;
	bool missing = false;
	struct rv *doc;

	if (path_len == 0) {
		doc = rv_object_new(0);
		if (!doc)
			return WD_ENOMEM;
		return data_replace(state, doc, errs, err);
	}

	doc = document_edit(state->data, path, path_len, NULL, &conflict, &missing);
	if (!doc && (conflict || missing))
		return wd_error_set(err, WD_ENOTFOUND, "no data document at this path");
	if (!doc)
		return wd_error_set(err, WD_ENOMEM, "out of memory editing the data document");
	return data_replace(state, doc, errs, err);
}

static bool document_has(const struct rv *doc, const char *const *path, size_t path_len)
{
	const struct rv *node = doc;

	for (size_t i = 0; i < path_len; i++) {
		if (!rv_is(node, RV_OBJECT))
			return false;
		node = rv_object_get_str(node, path[i]);
		if (!node)
			return false;
	}
	return true;
}

int policy_state_patch_data(struct policy_state *state, const struct policy_patch_op *ops,
	size_t op_count, struct rego_errors *errs, struct wd_error *err)
{
	struct rv *doc = rv_ref(state->data);

	for (size_t i = 0; i < op_count; i++) {
		const struct policy_patch_op *op = &ops[i];
		bool conflict = false;
		bool missing = false;
		struct rv *next;

		if (op->path_len == 0) {
			rv_unref(doc);
			return wd_error_set(err, WD_EINVAL, "patch operation %zu targets the root "
				"document", i);
		}
		if (op->kind != POLICY_PATCH_REMOVE &&
		    check_rule_conflict(state, op->path, op->path_len, err) < 0) {
			rv_unref(doc);
			return err->code;
		}
		if (op->kind == POLICY_PATCH_REPLACE && !document_has(doc, op->path, op->path_len)) {
			rv_unref(doc);
			return wd_error_set(err, WD_ENOTFOUND, "patch operation %zu: replace finds "
				"no document at its path", i);
		}
		next = document_edit(doc, op->path, op->path_len,
			op->kind == POLICY_PATCH_REMOVE ? NULL : rv_ref((struct rv *)op->value),
			&conflict, &missing);
		rv_unref(doc);
		if (!next && missing)
			return wd_error_set(err, WD_ENOTFOUND, "patch operation %zu: remove finds no "
				"document at its path", i);
		if (!next && conflict)
			return wd_error_set(err, WD_ECONFLICT, "patch operation %zu: the path crosses "
				"a value that is not an object", i);
		if (!next)
			return wd_error_set(err, WD_ENOMEM, "out of memory applying a patch");
		doc = next;
	}
	return data_replace(state, doc, errs, err);
}

bool policy_state_data_exists(const struct policy_state *state, const char *const *path,
	size_t path_len)
{
	return document_has(state->data, path, path_len);
}
