/* KV v2 data/<key> and subkeys/<key>: read a version, write or patch a
 * new one, soft-delete the latest, and the value-free shape of a
 * version. */
#include <string.h>

#include "secrets/barrier.h"
#include "secrets/kv_internal.h"

/* One version chosen for a read. */
struct version_read {
	struct kv_meta *meta;            /* owned */
	const struct kv_version *version;
	json_t *data;                    /* owned; NULL when deleted or destroyed */
};

static void version_read_clear(struct version_read *read)
{
	kv_meta_free(read->meta);
	json_decref(read->data);
	*read = (struct version_read){ 0 };
}

/* Loads the version of key named by the "version" parameter (the current
 * one when absent or not positive). WD_ENOTFOUND without detail when the
 * key or the version does not exist. Succeeds with read->data NULL when
 * the version was deleted or destroyed. */
static int version_load(struct secrets *secrets, struct vault_request *req, const char *key,
	struct version_read *read, struct wd_error *err)
{
	char path[KV_STORAGE_KEY_MAX];
	int64_t requested = 0;
	uint64_t number;
	int rc;

	*read = (struct version_read){ 0 };
	WD_TRY(kv_check_key(key, false, err));
	WD_TRY(kv_request_int(req, "version", INT64_MIN, INT64_MAX, &requested, err));

	WD_TRY(kv_meta_load(secrets, req->mount, key, &read->meta, err));
	if (!read->meta)
		return kv_not_found(err);
	number = requested > 0 ? (uint64_t)requested : read->meta->current_version;
	read->version = kv_meta_find(read->meta, number);
	if (!read->version) {
		version_read_clear(read);
		return kv_not_found(err);
	}
	if (read->version->destroyed || kv_version_deleted(read->version, vault_now_nanos()))
		return 0;

	WD_GUARD(kv_version_key(path, sizeof(path), req->mount, key, number) < 0 ?
		wd_error_set(err, WD_EINTERNAL, "KV key too long for storage") : 0);
	rc = barrier_get_json(secrets->barrier, path, &read->data, err);
	if (rc == WD_ENOTFOUND)
		rc = wd_error_set(err, WD_ECORRUPT, "could not find the data of version %llu",
			(unsigned long long)number);
	WD_GUARD(rc);
	return 0;
out:
	version_read_clear(read);
	return rc;
}

/* Fills resp with {<field>: value or null, metadata: {...}}. A deleted or
 * destroyed version gets status 404 with that body, as in Vault. */
static int read_reply(struct version_read *read, const char *field, json_t *value,
	struct vault_response *resp, struct wd_error *err)
{
	json_t *metadata = kv_version_json(read->meta, read->version);
	json_t *body;

	if (!metadata) {
		json_decref(value);
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	}
	body = json_pack("{s:o, s:o}", field, value ? value : json_null(), "metadata", metadata);
	if (!body)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	if (!value)
		resp->status = 404;
	resp->data = body;
	return 0;
}

static int data_read(struct secrets *secrets, struct vault_request *req, const char *key,
	struct vault_response *resp, struct wd_error *err)
{
	struct version_read read;
	int rc;

	WD_TRY(version_load(secrets, req, key, &read, err));
	rc = read_reply(&read, "data", json_incref(read.data), resp, err);
	version_read_clear(&read);
	return rc;
}

int kv_v2_subkeys(struct secrets *secrets, struct vault_request *req, const char *key,
	struct vault_response *resp, struct wd_error *err)
{
	struct version_read read;
	json_t *subkeys = NULL;
	int64_t depth = 0;
	int rc = 0;

	if (req->op != VAULT_OP_READ)
		return kv_unsupported(req, err);
	WD_TRY(kv_request_int(req, "depth", 0, INT32_MAX, &depth, err));

	WD_TRY(version_load(secrets, req, key, &read, err));
	if (read.data) {
		subkeys = kv_subkeys(read.data, depth);
		WD_ENSURE(subkeys, wd_error_set(err, WD_ENOMEM, "out of memory"));
	}
	rc = read_reply(&read, "subkeys", WD_TAKE_PTR(subkeys), resp, err);
out:
	version_read_clear(&read);
	return rc;
}

/* Returns the "data" object of a write or patch body, or WD_EINVAL. */
static int body_data(const json_t *body, const json_t **ret_data, const json_t **ret_options,
	struct wd_error *err)
{
	const json_t *data = json_object_get(body, "data");
	const json_t *options = json_object_get(body, "options");

	*ret_data = NULL;
	*ret_options = NULL;
	if (!data || json_is_null(data))
		return wd_error_set(err, WD_EINVAL, "no data provided");
	if (!json_is_object(data))
		return wd_error_set(err, WD_EINVAL, "invalid data: expected a JSON object");
	/* hvac always sends "options", {} when no cas is set. */
	if (options && !json_is_null(options) && !json_is_object(options))
		return wd_error_set(err, WD_EINVAL, "invalid options: expected a JSON object");
	*ret_data = data;
	*ret_options = options;
	return 0;
}

static int data_write(struct secrets *secrets, struct vault_request *req, const char *key,
	struct vault_response *resp, struct wd_error *err)
{
	const json_t *data, *options;
	struct kv_config config;
	struct kv_meta *meta = NULL;
	int rc;

	WD_TRY(kv_check_key(key, false, err));
	WD_TRY(body_data(req->body, &data, &options, err));
	WD_TRY(kv_config_load(secrets, req->mount, &config, err));

	WD_GUARD(kv_meta_load(secrets, req->mount, key, &meta, err));
	if (!meta) {
		meta = kv_meta_new(0);
		WD_ENSURE(meta, wd_error_set(err, WD_ENOMEM, "out of memory"));
	}
	WD_GUARD(kv_v2_check_cas(&config, meta, options, err));
	WD_GUARD(kv_v2_write_version(secrets, req->mount, key, &config, meta, data, resp, err));
out:
	kv_meta_free(meta);
	return rc;
}

/* Fills resp with the flat metadata of the current version and status
 * 404, Vault's reply to a patch of a deleted or destroyed version. */
static int patch_gone(const struct kv_meta *meta, const struct kv_version *version,
	struct vault_response *resp, struct wd_error *err)
{
	resp->data = kv_version_json(meta, version);
	if (!resp->data)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	resp->status = 404;
	return 0;
}

/* PATCH: merges the body's data (RFC 7396) into the current version and
 * writes the result as a new version. */
static int data_patch(struct secrets *secrets, struct vault_request *req, const char *key,
	struct vault_response *resp, struct wd_error *err)
{
	char path[KV_STORAGE_KEY_MAX];
	const json_t *patch, *options;
	const struct kv_version *current;
	struct kv_config config;
	struct kv_meta *meta = NULL;
	json_t *data = NULL;
	int rc;

	WD_TRY(kv_check_key(key, false, err));
	WD_TRY(body_data(req->body, &patch, &options, err));

	WD_GUARD(kv_meta_load(secrets, req->mount, key, &meta, err));
	WD_ENSURE(meta, kv_not_found(err));
	WD_GUARD(kv_config_load(secrets, req->mount, &config, err));
	WD_GUARD(kv_v2_check_cas(&config, meta, options, err));

	current = kv_meta_find(meta, meta->current_version);
	WD_ENSURE(current, kv_not_found(err));
	if (current->destroyed || kv_version_deleted(current, vault_now_nanos())) {
		rc = patch_gone(meta, current, resp, err);
		goto out;
	}

	WD_GUARD(kv_version_key(path, sizeof(path), req->mount, key, current->number) < 0 ?
		wd_error_set(err, WD_EINTERNAL, "KV key too long for storage") : 0);
	rc = barrier_get_json(secrets->barrier, path, &data, err);
	if (rc == WD_ENOTFOUND)
		rc = wd_error_set(err, WD_ECORRUPT, "could not find the data of version %llu",
			(unsigned long long)current->number);
	WD_GUARD(rc);

	WD_GUARD(kv_merge_patch(&data, patch) < 0 ?
		wd_error_set(err, WD_ENOMEM, "out of memory") : 0);
	WD_GUARD(kv_v2_write_version(secrets, req->mount, key, &config, meta, data, resp, err));
out:
	json_decref(data);
	kv_meta_free(meta);
	return rc;
}

/* DELETE: marks the latest version deleted now. A missing key, or a
 * latest version already deleted or destroyed, is a success. */
static int data_delete(struct secrets *secrets, struct vault_request *req, const char *key,
	struct wd_error *err)
{
	struct kv_meta *meta = NULL;
	struct kv_version *latest;
	int64_t now = vault_now_nanos();
	int rc = 0;

	WD_TRY(kv_check_key(key, false, err));
	WD_GUARD(kv_meta_load(secrets, req->mount, key, &meta, err));
	if (!meta)
		goto out;
	latest = kv_meta_find(meta, meta->current_version);
	if (!latest || latest->destroyed || kv_version_deleted(latest, now))
		goto out;

	latest->deletion_time = now;
	WD_GUARD(kv_v2_commit_meta(secrets, req->mount, key, meta, err));
out:
	kv_meta_free(meta);
	return rc;
}

int kv_v2_data(struct secrets *secrets, struct vault_request *req, const char *key,
	struct vault_response *resp, struct wd_error *err)
{
	switch (req->op) {
	case VAULT_OP_READ:
		return data_read(secrets, req, key, resp, err);
	case VAULT_OP_CREATE:
	case VAULT_OP_UPDATE:
		return data_write(secrets, req, key, resp, err);
	case VAULT_OP_PATCH:
		return data_patch(secrets, req, key, resp, err);
	case VAULT_OP_DELETE:
		return data_delete(secrets, req, key, err);
	default:
		return kv_unsupported(req, err);
	}
}
