/* KV v1: one unversioned JSON object per key at "<prefix>values/<key>".
 * A read carries a lease_duration taken from the secret's own "ttl" (or
 * "lease") field, an advisory refresh interval with no lease behind it. */
#include <string.h>

#include "secrets/barrier.h"
#include "secrets/kv_internal.h"

static int value_path(char *out, size_t len, const struct vault_mount *mount, const char *key,
	struct wd_error *err)
{
	if (kv_storage_key(out, len, mount, "values/", key) < 0)
		return wd_error_set(err, WD_EINTERNAL, "KV key too long for storage");
	return 0;
}

/* Returns the TTL a read reports: the secret's "ttl" or "lease" field
 * (seconds or a Go duration), else the mount's default. An unparsable
 * field falls back to the default, as Vault's passthrough backend does. */
static int64_t read_ttl(const struct secrets *secrets, const struct vault_mount *mount,
	const json_t *data)
{
	int64_t ttl = kv_default_ttl(secrets, mount);
	int64_t field = 0;
	int rc;

	rc = vault_json_ttl(data, "ttl", &field, NULL);
	if (rc == 0)
		rc = vault_json_ttl(data, "lease", &field, NULL);
	return rc == 1 ? field : ttl;
}

static int v1_read(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err)
{
	char path[KV_STORAGE_KEY_MAX];
	json_t *data = NULL;
	int rc;

	WD_TRY(kv_check_key(req->rel, false, err));
	WD_TRY(value_path(path, sizeof(path), req->mount, req->rel, err));
	rc = barrier_get_json(secrets->barrier, path, &data, err);
	if (rc == WD_ENOTFOUND)
		return kv_not_found(err);
	WD_TRY(rc);

	resp->lease_duration = read_ttl(secrets, req->mount, data);
	resp->data = data;
	return 0;
}

static int v1_write(struct secrets *secrets, struct vault_request *req, struct wd_error *err)
{
	char path[KV_STORAGE_KEY_MAX];
	int rc;

	WD_TRY(kv_check_key(req->rel, false, err));
	if (!json_is_object(req->body) || json_object_size(req->body) == 0)
		return wd_error_set(err, WD_EINVAL, "missing data fields");
	WD_TRY(value_path(path, sizeof(path), req->mount, req->rel, err));

	WD_TRY(barrier_begin(secrets->barrier, err));
	rc = barrier_put_json(secrets->barrier, path, req->body, err);
	if (rc < 0) {
		barrier_rollback(secrets->barrier);
		return rc;
	}
	return barrier_commit(secrets->barrier, err);
}

static int v1_delete(struct secrets *secrets, struct vault_request *req, struct wd_error *err)
{
	char path[KV_STORAGE_KEY_MAX];

	WD_TRY(kv_check_key(req->rel, false, err));
	WD_TRY(value_path(path, sizeof(path), req->mount, req->rel, err));
	return barrier_delete(secrets->barrier, path, err);
}

static int list_collect(void *context, const char *rest)
{
	return json_array_append_new(context, json_string(rest)) < 0 ? WD_ENOMEM : 0;
}

/* LIST: the keys and folders ("name/") one level below the path. An empty
 * folder is a 404. */
static int v1_list(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err)
{
	char key[VAULT_PATH_MAX + 1], prefix[KV_STORAGE_KEY_MAX];
	json_t *keys = NULL;
	size_t len;
	int rc;

	WD_TRY(kv_list_key(req->rel, key, sizeof(key), err));
	WD_TRY(value_path(prefix, sizeof(prefix) - 1, req->mount, key, err));
	len = strlen(prefix);
	if (key[0]) {
		prefix[len] = '/';
		prefix[len + 1] = '\0';
	}

	keys = json_array();
	WD_ENSURE(keys, wd_error_set(err, WD_ENOMEM, "out of memory"));
	rc = barrier_list(secrets->barrier, prefix, true, list_collect, keys, err);
	WD_GUARD(rc == WD_ENOMEM ? wd_error_set(err, rc, "out of memory") : rc);
	WD_ENSURE(json_array_size(keys) > 0, kv_not_found(err));

	resp->data = json_pack("{s:O}", "keys", keys);
	WD_ENSURE(resp->data, wd_error_set(err, WD_ENOMEM, "out of memory"));
out:
	json_decref(keys);
	return rc;
}

int kv_v1_handle(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err)
{
	switch (req->op) {
	case VAULT_OP_READ:
		return v1_read(secrets, req, resp, err);
	case VAULT_OP_CREATE:
	case VAULT_OP_UPDATE:
		return v1_write(secrets, req, err);
	case VAULT_OP_DELETE:
		return v1_delete(secrets, req, err);
	case VAULT_OP_LIST:
		return v1_list(secrets, req, resp, err);
	default:
		return kv_unsupported(req, err);
	}
}

int kv_v1_exists(struct secrets *secrets, const struct vault_request *req, bool *ret_exists,
	struct wd_error *err)
{
	char path[KV_STORAGE_KEY_MAX];
	uint8_t *value = NULL;
	size_t len = 0;
	int rc;

	/* A bad key is left for handle() to reject with its message. */
	*ret_exists = false;
	if (kv_check_key(req->rel, false, NULL) < 0)
		return 0;
	WD_TRY(value_path(path, sizeof(path), req->mount, req->rel, err));

	rc = barrier_get(secrets->barrier, path, &value, &len, err);
	if (rc == WD_ENOTFOUND) {
		wd_error_clear(err);
		return 0;
	}
	WD_TRY(rc);
	barrier_value_free(value, len);
	*ret_exists = true;
	return 0;
}
