/* Stored values: every row of secrets_barrier outside the barrier's own
 * key paths is an envelope under a keyring term. Prefix operations use
 * byte ranges on the primary key (path >= prefix AND path < successor),
 * so user text never becomes a LIKE pattern. */
#include <string.h>

#include <openssl/crypto.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "secrets/barrier_private.h"

/* Ceiling on the bytes of paths one list call collects. */
#define BARRIER_LIST_MAX_BYTES ((size_t)64 << 20)

struct blob_copy {
	uint8_t *data;
	size_t len;
};

static int blob_copy_row(void *context, const struct store_row *row)
{
	struct blob_copy *copy = context;
	size_t len = 0;
	const void *blob = store_row_blob(row, 0, &len);

	copy->data = malloc(len ? len : 1);
	if (!copy->data)
		return WD_ENOMEM;
	if (len)
		memcpy(copy->data, blob, len);
	copy->len = len;
	return 0;
}

int barrier_row_read(struct barrier *barrier, const char *path, uint8_t **ret_blob,
	size_t *ret_len, struct wd_error *err)
{
	struct store_value params[] = { STORE_TEXT_VALUE(path) };
	struct blob_copy copy = { 0 };
	int rc;

	*ret_blob = NULL;
	*ret_len = 0;
	rc = store_query(barrier->store, "SELECT value FROM secrets_barrier WHERE path = $1",
		params, WD_ARRAY_LEN(params), blob_copy_row, &copy, err);
	if (rc < 0) {
		free(copy.data);
		if (rc == WD_ENOMEM)
			wd_error_set(err, rc, "reading %s failed: %s", path, wd_strerror(rc));
		return rc;
	}
	if (!copy.data)
		return wd_error_set(err, WD_ENOTFOUND, "no value at %s", path);
	*ret_blob = copy.data;
	*ret_len = copy.len;
	return 0;
}

int barrier_row_write(struct barrier *barrier, const char *path, const uint8_t *blob, size_t len,
	struct wd_error *err)
{
	struct store_value params[] = { STORE_TEXT_VALUE(path), STORE_BLOB_VALUE(blob, len) };

	return store_exec(barrier->store,
		"INSERT INTO secrets_barrier (path, value) VALUES ($1, $2)"
		" ON CONFLICT (path) DO UPDATE SET value = excluded.value",
		params, WD_ARRAY_LEN(params), NULL, err);
}

static int sealed_error(struct wd_error *err)
{
	return wd_error_set(err, WD_EUNAVAILABLE, "Vault is sealed");
}

/* Checks a path given to a value call. */
static int path_check(const char *path, struct wd_error *err)
{
	size_t len;

	if (!path || !path[0])
		return wd_error_set(err, WD_EINVAL, "barrier path is empty");
	len = strlen(path);
	if (len > BARRIER_PATH_MAX)
		return wd_error_set(err, WD_EINVAL, "barrier path of %zu bytes is above the maximum of %d",
			len, BARRIER_PATH_MAX);
	if (barrier_path_reserved(path))
		return wd_error_set(err, WD_EPERM, "path %s is reserved for the barrier's keys", path);
	return 0;
}

int barrier_put(struct barrier *barrier, const char *path, const void *value, size_t len,
	struct wd_error *err)
{
	const struct barrier_term *term;
	uint8_t *envelope = NULL;
	size_t envelope_len = 0;
	int rc;

	if (!barrier->keyring)
		return sealed_error(err);
	WD_TRY(path_check(path, err));
	if (!value && len > 0)
		return wd_error_set(err, WD_EINVAL, "value for %s is NULL with length %zu", path, len);

	term = barrier_keyring_term(barrier->keyring, barrier->keyring->active_term);
	if (!term)
		return wd_error_set(err, WD_EINTERNAL, "keyring has no active term %u",
			barrier->keyring->active_term);
	WD_TRY(barrier_encrypt(term->key, term->term, path, value ? value : (const void *)"", len,
		&envelope, &envelope_len, err));
	rc = barrier_row_write(barrier, path, envelope, envelope_len, err);
	free(envelope);
	return rc;
}

int barrier_get(struct barrier *barrier, const char *path, uint8_t **ret_value, size_t *ret_len,
	struct wd_error *err)
{
	const struct barrier_term *term;
	uint8_t *envelope = NULL;
	size_t envelope_len = 0;
	uint32_t term_number;
	int rc = 0;

	*ret_value = NULL;
	*ret_len = 0;
	if (!barrier->keyring)
		return sealed_error(err);
	WD_TRY(path_check(path, err));

	WD_GUARD(barrier_row_read(barrier, path, &envelope, &envelope_len, err));
	WD_GUARD(barrier_envelope_term(path, envelope, envelope_len, &term_number, err));
	term = barrier_keyring_term(barrier->keyring, term_number);
	WD_ENSURE(term, wd_error_set(err, WD_ECORRUPT, "value at %s uses key term %u, not in the keyring",
		path, term_number));
	WD_GUARD(barrier_decrypt(term->key, path, envelope, envelope_len, ret_value, ret_len, err));

out:
	free(envelope);
	return rc;
}

void barrier_value_free(uint8_t *value, size_t len)
{
	/* The copy has a NUL after its len bytes. */
	wd_free_secret(value, len + 1);
}

int barrier_delete(struct barrier *barrier, const char *path, struct wd_error *err)
{
	struct store_value params[] = { STORE_TEXT_VALUE(path) };

	if (!barrier->keyring)
		return sealed_error(err);
	WD_TRY(path_check(path, err));
	return store_exec(barrier->store, "DELETE FROM secrets_barrier WHERE path = $1", params,
		WD_ARRAY_LEN(params), NULL, err);
}

int barrier_put_json(struct barrier *barrier, const char *path, const json_t *value,
	struct wd_error *err)
{
	size_t flags = JSON_COMPACT | JSON_ENCODE_ANY;
	size_t len;
	char *text;
	int rc;

	if (!value)
		return wd_error_set(err, WD_EINVAL, "JSON value for %s is NULL", path ? path : "(null)");
	len = json_dumpb(value, NULL, 0, flags);
	if (len == 0)
		return wd_error_set(err, WD_EINVAL, "value for %s cannot be encoded as JSON",
			path ? path : "(null)");
	/* Encoded into a buffer of our own so the text is wiped after use. */
	text = malloc(len);
	if (!text)
		return wd_error_set(err, WD_ENOMEM, "encoding the value for %s failed", path);
	if (json_dumpb(value, text, len, flags) != len) {
		wd_free_secret(text, len);
		return wd_error_set(err, WD_EINTERNAL, "encoding the value for %s failed", path);
	}
	rc = barrier_put(barrier, path, text, len, err);
	wd_free_secret(text, len);
	return rc;
}

int barrier_get_json(struct barrier *barrier, const char *path, json_t **ret_value,
	struct wd_error *err)
{
	uint8_t *text = NULL;
	size_t len = 0;
	json_t *value;

	*ret_value = NULL;
	WD_TRY(barrier_get(barrier, path, &text, &len, err));
	value = json_loadb((const char *)text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
	barrier_value_free(text, len);
	/* The parser's error text may quote the value, so it is not passed on. */
	if (!value)
		return wd_error_set(err, WD_ECORRUPT, "value at %s is not valid JSON", path);
	*ret_value = value;
	return 0;
}

/* Writes into ret_successor the smallest string above every string that
 * starts with prefix, and returns false when there is none (an empty
 * prefix, or one of only 0xff bytes). */
static bool prefix_successor(const char *prefix, char *ret_successor, size_t size)
{
	size_t len = strlen(prefix);

	/* Paths are at most BARRIER_PATH_MAX bytes, which size exceeds. */
	if (len >= size)
		return false;
	memcpy(ret_successor, prefix, len + 1);
	while (len > 0 && (uint8_t)ret_successor[len - 1] == 0xff)
		len--;
	if (len == 0)
		return false;
	ret_successor[len - 1] = (char)((uint8_t)ret_successor[len - 1] + 1);
	ret_successor[len] = '\0';
	return true;
}

static int prefix_check(const char *prefix, struct wd_error *err)
{
	if (!prefix)
		return wd_error_set(err, WD_EINVAL, "barrier prefix is NULL");
	if (strlen(prefix) > BARRIER_PATH_MAX)
		return wd_error_set(err, WD_EINVAL,
			"barrier prefix of %zu bytes is above the maximum of %d", strlen(prefix),
			BARRIER_PATH_MAX);
	return 0;
}

/* Paths collected by a list query, NUL-separated, before on_key runs: the
 * callbacks may then write to the barrier without a query open. */
struct list_state {
	size_t prefix_len;
	bool children_only;
	struct wd_buf names;
	size_t last;            /* offset of the last name added */
	bool any;
	struct wd_error *err;
};

static int list_row(void *context, const struct store_row *row)
{
	struct list_state *state = context;
	const char *path = store_row_text(row, 0);
	const char *rest;
	const char *slash;
	size_t len;
	int rc;

	if (!path || strlen(path) < state->prefix_len || barrier_path_reserved(path))
		return 0;
	rest = path + state->prefix_len;
	len = strlen(rest);
	if (state->children_only) {
		slash = strchr(rest, '/');
		if (slash)
			len = (size_t)(slash - rest) + 1;
	}
	if (len == 0)
		return 0;

	/* Rows arrive sorted, so the paths of one folder are adjacent and a
	 * folder repeats only right after itself. */
	if (state->any) {
		const char *last = (const char *)wd_buf_data(&state->names) + state->last;

		if (strlen(last) == len && memcmp(last, rest, len) == 0)
			return 0;
	}
	state->last = wd_buf_len(&state->names);
	rc = wd_buf_append(&state->names, rest, len);
	if (rc == 0)
		rc = wd_buf_append_byte(&state->names, 0);
	if (rc < 0) {
		wd_buf_truncate(&state->names, state->last);
		return wd_error_set(state->err, rc, "listing collected more than %zu bytes of paths",
			BARRIER_LIST_MAX_BYTES);
	}
	state->any = true;
	return 0;
}

int barrier_list(struct barrier *barrier, const char *prefix, bool children_only,
	barrier_list_fn on_key, void *context, struct wd_error *err)
{
	char successor[BARRIER_PATH_MAX + 2];
	struct list_state state = {
		.children_only = children_only,
		.err = err,
	};
	bool bounded;
	int rc = 0;

	if (!barrier->keyring)
		return sealed_error(err);
	WD_TRY(prefix_check(prefix, err));
	state.prefix_len = strlen(prefix);
	wd_buf_init(&state.names, 4096, BARRIER_LIST_MAX_BYTES);

	bounded = prefix_successor(prefix, successor, sizeof(successor));
	if (bounded) {
		struct store_value params[] = { STORE_TEXT_VALUE(prefix), STORE_TEXT_VALUE(successor) };

		WD_GUARD(store_query(barrier->store,
			"SELECT path FROM secrets_barrier WHERE path >= $1 AND path < $2 ORDER BY path",
			params, WD_ARRAY_LEN(params), list_row, &state, err));
	} else {
		struct store_value params[] = { STORE_TEXT_VALUE(prefix) };

		WD_GUARD(store_query(barrier->store,
			"SELECT path FROM secrets_barrier WHERE path >= $1 ORDER BY path", params,
			WD_ARRAY_LEN(params), list_row, &state, err));
	}

	for (size_t offset = 0; offset < wd_buf_len(&state.names);) {
		const char *name = (const char *)wd_buf_data(&state.names) + offset;

		rc = on_key(context, name);
		if (rc < 0)
			goto out;
		rc = 0;
		offset += strlen(name) + 1;
	}

out:
	wd_buf_free(&state.names);
	return rc;
}

int barrier_delete_prefix(struct barrier *barrier, const char *prefix, struct wd_error *err)
{
	char successor[BARRIER_PATH_MAX + 2];

	if (!barrier->keyring)
		return sealed_error(err);
	WD_TRY(prefix_check(prefix, err));

	/* The key rows survive any prefix, also "" and "core/". */
	if (prefix_successor(prefix, successor, sizeof(successor))) {
		struct store_value params[] = { STORE_TEXT_VALUE(prefix), STORE_TEXT_VALUE(successor),
			STORE_TEXT_VALUE(BARRIER_PATH_SEAL_CONFIG), STORE_TEXT_VALUE(BARRIER_PATH_ROOT_KEY),
			STORE_TEXT_VALUE(BARRIER_PATH_KEYRING) };

		return store_exec(barrier->store,
			"DELETE FROM secrets_barrier WHERE path >= $1 AND path < $2"
			" AND path <> $3 AND path <> $4 AND path <> $5",
			params, WD_ARRAY_LEN(params), NULL, err);
	} else {
		struct store_value params[] = { STORE_TEXT_VALUE(prefix),
			STORE_TEXT_VALUE(BARRIER_PATH_SEAL_CONFIG), STORE_TEXT_VALUE(BARRIER_PATH_ROOT_KEY),
			STORE_TEXT_VALUE(BARRIER_PATH_KEYRING) };

		return store_exec(barrier->store,
			"DELETE FROM secrets_barrier WHERE path >= $1"
			" AND path <> $2 AND path <> $3 AND path <> $4",
			params, WD_ARRAY_LEN(params), NULL, err);
	}
}

int barrier_begin(struct barrier *barrier, struct wd_error *err)
{
	return store_begin(barrier->store, err);
}

int barrier_commit(struct barrier *barrier, struct wd_error *err)
{
	return store_commit(barrier->store, err);
}

void barrier_rollback(struct barrier *barrier)
{
	store_rollback(barrier->store);
}
