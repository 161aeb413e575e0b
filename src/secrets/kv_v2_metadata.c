/* KV v2 metadata/<key> (read, list, write, patch, delete a key with all
 * its versions) and config (the engine settings). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "secrets/barrier.h"
#include "secrets/kv_internal.h"

/* Vault's warning when a key turns off a check-and-set rule the engine
 * imposes anyway. */
#define CAS_IGNORED_WARNING \
	"\"cas_required\" set to false, but is mandated by backend config. This value will be " \
	"ignored."

/* Returns {"<n>": {created_time, deletion_time, destroyed}, ...}. */
static json_t *versions_json(const struct kv_meta *meta)
{
	json_t *versions = json_object();

	for (size_t i = 0; versions && i < meta->version_count; i++) {
		const struct kv_version *version = &meta->versions[i];
		char number[24], created[40], deleted[40] = "";

		snprintf(number, sizeof(number), "%" PRIu64, version->number);
		vault_format_time(version->created_time, created, sizeof(created));
		if (version->deletion_time != 0)
			vault_format_time(version->deletion_time, deleted, sizeof(deleted));
		if (json_object_set_new(versions, number, json_pack("{s:s, s:s, s:b}",
			    "created_time", created, "deletion_time", deleted, "destroyed",
			    version->destroyed)) < 0) {
			json_decref(versions);
			return NULL;
		}
	}
	return versions;
}

static int metadata_read(struct secrets *secrets, struct vault_request *req, const char *key,
	struct vault_response *resp, struct wd_error *err)
{
	char created[40], updated[40], delete_after[32];
	struct kv_meta *meta = NULL;
	json_t *custom, *versions;

	WD_TRY(kv_check_key(key, false, err));
	WD_TRY(kv_meta_load(secrets, req->mount, key, &meta, err));
	if (!meta)
		return kv_not_found(err);

	vault_format_time(meta->created_time, created, sizeof(created));
	vault_format_time(meta->updated_time, updated, sizeof(updated));
	kv_format_delete_after(meta->delete_version_after, delete_after, sizeof(delete_after));
	custom = meta->custom_metadata ? json_deep_copy(meta->custom_metadata) : json_null();
	versions = versions_json(meta);

	resp->data = json_pack("{s:b, s:s, s:I, s:o*, s:s, s:I, s:I, s:s, s:o*}",
		"cas_required", meta->cas_required,
		"created_time", created,
		"current_version", (json_int_t)meta->current_version,
		"custom_metadata", custom,
		"delete_version_after", delete_after,
		"max_versions", (json_int_t)meta->max_versions,
		"oldest_version", (json_int_t)meta->oldest_version,
		"updated_time", updated,
		"versions", versions);
	kv_meta_free(meta);
	if (!resp->data || !custom || !versions) {
		json_decref(resp->data);
		resp->data = NULL;
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	}
	return 0;
}

static int list_collect(void *context, const char *rest)
{
	return json_array_append_new(context, json_string(rest)) < 0 ? WD_ENOMEM : 0;
}

/* LIST: the keys and folders ("name/") one level below key. */
static int metadata_list(struct secrets *secrets, struct vault_request *req, const char *rel,
	struct vault_response *resp, struct wd_error *err)
{
	char key[VAULT_PATH_MAX + 1], prefix[KV_STORAGE_KEY_MAX];
	json_t *keys = NULL;
	size_t len;
	int rc;

	WD_TRY(kv_list_key(rel, key, sizeof(key), err));
	WD_TRY(kv_storage_key(prefix, sizeof(prefix) - 1, req->mount, "meta/", key) < 0 ?
		wd_error_set(err, WD_EINTERNAL, "KV key too long for storage") : 0);
	len = strlen(prefix);
	if (key[0]) {
		prefix[len] = '/';
		prefix[len + 1] = '\0';
	}

	keys = json_array();
	WD_ENSURE(keys, wd_error_set(err, WD_ENOMEM, "out of memory"));
	rc = barrier_list(secrets->barrier, prefix, true, list_collect, keys, err);
	WD_GUARD(rc == WD_ENOMEM ? wd_error_set(err, rc, "out of memory") : rc);
	/* An empty folder is a 404, as a Vault list with no keys. */
	WD_ENSURE(json_array_size(keys) > 0, kv_not_found(err));

	resp->data = json_pack("{s:O}", "keys", keys);
	WD_ENSURE(resp->data, wd_error_set(err, WD_ENOMEM, "out of memory"));
out:
	json_decref(keys);
	return rc;
}

/* The settings fields a metadata write or patch names. */
struct metadata_fields {
	int has_max_versions, has_cas_required, has_delete_after;
	int64_t max_versions;
	bool cas_required;
	int64_t delete_after;
	json_t *custom_metadata;          /* owned; NULL when absent */
};

/* Reads the fields present (and not null) in body. */
static int fields_read(const json_t *body, bool keep_nulls, struct metadata_fields *fields,
	struct wd_error *err)
{
	const json_t *custom = json_object_get(body, "custom_metadata");

	*fields = (struct metadata_fields){ 0 };
	fields->has_max_versions = kv_field_int(body, "max_versions", 0, KV_MAX_VERSIONS_LIMIT,
		&fields->max_versions, err);
	WD_TRY(fields->has_max_versions);
	fields->has_cas_required = kv_field_bool(body, "cas_required", &fields->cas_required, err);
	WD_TRY(fields->has_cas_required);
	fields->has_delete_after = kv_field_duration(body, "delete_version_after", false,
		&fields->delete_after, err);
	WD_TRY(fields->has_delete_after);
	if (custom && !json_is_null(custom))
		WD_TRY(kv_custom_metadata_parse(custom, keep_nulls, &fields->custom_metadata, err));
	return 0;
}

/* Adds Vault's warning when the key sets cas_required false against the
 * engine's setting. */
static int cas_warning(struct secrets *secrets, const struct vault_mount *mount,
	const struct metadata_fields *fields, struct vault_response *resp, struct wd_error *err)
{
	struct kv_config config;

	if (!fields->has_cas_required || fields->cas_required)
		return 0;
	WD_TRY(kv_config_load(secrets, mount, &config, err));
	if (!config.cas_required)
		return 0;
	if (vault_response_warn(resp, "%s", CAS_IGNORED_WARNING) < 0)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	/* A reply with only warnings is 200 with a body in Vault. */
	resp->status = 200;
	return 0;
}

/* POST/PUT: sets the fields given, creating the key's metadata when it
 * has none. A body with none of the fields changes nothing. */
static int metadata_write(struct secrets *secrets, struct vault_request *req, const char *key,
	struct vault_response *resp, struct wd_error *err)
{
	struct metadata_fields fields;
	struct kv_meta *meta = NULL;
	int rc;

	WD_TRY(kv_check_key(key, false, err));
	WD_GUARD(fields_read(req->body, false, &fields, err));
	if (!fields.has_max_versions && !fields.has_cas_required && !fields.has_delete_after &&
	    !fields.custom_metadata)
		goto out;
	WD_GUARD(cas_warning(secrets, req->mount, &fields, resp, err));

	WD_GUARD(kv_meta_load(secrets, req->mount, key, &meta, err));
	if (!meta) {
		meta = kv_meta_new(vault_now_nanos());
		WD_ENSURE(meta, wd_error_set(err, WD_ENOMEM, "out of memory"));
	}
	if (fields.has_max_versions)
		meta->max_versions = (uint32_t)fields.max_versions;
	if (fields.has_cas_required)
		meta->cas_required = fields.cas_required;
	if (fields.has_delete_after)
		meta->delete_version_after = fields.delete_after;
	if (fields.custom_metadata) {
		json_decref(meta->custom_metadata);
		/* Vault stores an empty map as none: reads show null. */
		meta->custom_metadata = json_object_size(fields.custom_metadata) > 0 ?
			WD_TAKE_PTR(fields.custom_metadata) : NULL;
	}
	WD_GUARD(kv_v2_commit_meta(secrets, req->mount, key, meta, err));
out:
	json_decref(fields.custom_metadata);
	kv_meta_free(meta);
	return rc;
}

/* Applies the custom_metadata of a patch: null entries remove keys. */
static int patch_custom(struct kv_meta *meta, const json_t *patch, struct wd_error *err)
{
	json_t *merged = meta->custom_metadata ? json_incref(meta->custom_metadata) : NULL;

	if (kv_merge_patch(&merged, patch) < 0)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	json_decref(meta->custom_metadata);
	meta->custom_metadata = NULL;
	if (json_object_size(merged) > KV_CUSTOM_METADATA_MAX_KEYS) {
		size_t count = json_object_size(merged);

		json_decref(merged);
		return wd_error_set(err, WD_EINVAL, "custom_metadata validation failed: payload must "
			"contain at most %d keys, provided %zu", KV_CUSTOM_METADATA_MAX_KEYS, count);
	}
	if (json_object_size(merged) == 0)
		json_decref(merged);
	else
		meta->custom_metadata = merged;
	return 0;
}

/* PATCH: a JSON merge patch of the settings of an existing key. A null
 * field resets it, and a null custom_metadata entry removes that entry. */
static int metadata_patch(struct secrets *secrets, struct vault_request *req, const char *key,
	struct vault_response *resp, struct wd_error *err)
{
	struct metadata_fields fields;
	struct kv_meta *meta = NULL;
	const json_t *body = req->body;
	int rc;

	WD_TRY(kv_check_key(key, false, err));
	WD_GUARD(fields_read(body, true, &fields, err));
	WD_GUARD(kv_meta_load(secrets, req->mount, key, &meta, err));
	WD_ENSURE(meta, kv_not_found(err));
	WD_GUARD(cas_warning(secrets, req->mount, &fields, resp, err));

	if (json_object_get(body, "max_versions"))
		meta->max_versions = (uint32_t)fields.max_versions;
	if (json_object_get(body, "cas_required"))
		meta->cas_required = fields.cas_required;
	if (json_object_get(body, "delete_version_after"))
		meta->delete_version_after = fields.delete_after;
	if (fields.custom_metadata) {
		WD_GUARD(patch_custom(meta, fields.custom_metadata, err));
	} else if (json_is_null(json_object_get(body, "custom_metadata"))) {
		json_decref(meta->custom_metadata);
		meta->custom_metadata = NULL;
	}
	WD_GUARD(kv_v2_commit_meta(secrets, req->mount, key, meta, err));
out:
	json_decref(fields.custom_metadata);
	kv_meta_free(meta);
	return rc;
}

/* DELETE: removes the data of every version and the metadata. */
static int metadata_delete(struct secrets *secrets, struct vault_request *req, const char *key,
	struct wd_error *err)
{
	char path[KV_STORAGE_KEY_MAX];
	struct kv_meta *meta = NULL;
	bool in_transaction = false;
	int rc = 0;

	WD_TRY(kv_check_key(key, false, err));
	WD_GUARD(kv_meta_load(secrets, req->mount, key, &meta, err));
	if (!meta)
		goto out;

	WD_GUARD(barrier_begin(secrets->barrier, err));
	in_transaction = true;
	for (size_t i = 0; i < meta->version_count; i++) {
		WD_ENSURE(kv_version_key(path, sizeof(path), req->mount, key,
				  meta->versions[i].number) == 0,
			wd_error_set(err, WD_EINTERNAL, "KV key too long for storage"));
		WD_GUARD(barrier_delete(secrets->barrier, path, err));
	}
	WD_ENSURE(kv_storage_key(path, sizeof(path), req->mount, "meta/", key) == 0,
		wd_error_set(err, WD_EINTERNAL, "KV key too long for storage"));
	WD_GUARD(barrier_delete(secrets->barrier, path, err));
	in_transaction = false;
	WD_GUARD(barrier_commit(secrets->barrier, err));
out:
	if (in_transaction)
		barrier_rollback(secrets->barrier);
	kv_meta_free(meta);
	return rc;
}

int kv_v2_metadata(struct secrets *secrets, struct vault_request *req, const char *key,
	struct vault_response *resp, struct wd_error *err)
{
	switch (req->op) {
	case VAULT_OP_READ:
		return metadata_read(secrets, req, key, resp, err);
	case VAULT_OP_LIST:
		return metadata_list(secrets, req, key, resp, err);
	case VAULT_OP_CREATE:
	case VAULT_OP_UPDATE:
		return metadata_write(secrets, req, key, resp, err);
	case VAULT_OP_PATCH:
		return metadata_patch(secrets, req, key, resp, err);
	case VAULT_OP_DELETE:
		return metadata_delete(secrets, req, key, err);
	default:
		return kv_unsupported(req, err);
	}
}

static int config_read(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err)
{
	struct kv_config config;
	char delete_after[32];

	WD_TRY(kv_config_load(secrets, req->mount, &config, err));
	kv_format_delete_after(config.delete_version_after, delete_after, sizeof(delete_after));
	resp->data = json_pack("{s:b, s:s, s:I}", "cas_required", config.cas_required,
		"delete_version_after", delete_after, "max_versions",
		(json_int_t)config.max_versions);
	if (!resp->data)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	return 0;
}

/* POST/PUT config: a negative delete_version_after turns the setting off
 * for every key, zero clears it. */
static int config_write(struct secrets *secrets, struct vault_request *req,
	struct wd_error *err)
{
	struct kv_config config;
	int64_t max_versions = 0, delete_after = 0;
	bool cas_required = false;
	int has_max, has_cas, has_delete;
	int rc;

	has_max = kv_field_int(req->body, "max_versions", 0, KV_MAX_VERSIONS_LIMIT, &max_versions,
		err);
	WD_TRY(has_max);
	has_cas = kv_field_bool(req->body, "cas_required", &cas_required, err);
	WD_TRY(has_cas);
	has_delete = kv_field_duration(req->body, "delete_version_after", true, &delete_after,
		err);
	WD_TRY(has_delete);
	if (!has_max && !has_cas && !has_delete)
		return 0;

	WD_TRY(kv_config_load(secrets, req->mount, &config, err));
	if (has_max)
		config.max_versions = (uint32_t)max_versions;
	if (has_cas)
		config.cas_required = cas_required;
	if (has_delete)
		config.delete_version_after = delete_after;

	WD_TRY(barrier_begin(secrets->barrier, err));
	rc = kv_config_store(secrets, req->mount, &config, err);
	if (rc < 0) {
		barrier_rollback(secrets->barrier);
		return rc;
	}
	return barrier_commit(secrets->barrier, err);
}

int kv_v2_config(struct secrets *secrets, struct vault_request *req, const char *key WD_UNUSED,
	struct vault_response *resp, struct wd_error *err)
{
	switch (req->op) {
	case VAULT_OP_READ:
		return config_read(secrets, req, resp, err);
	case VAULT_OP_CREATE:
	case VAULT_OP_UPDATE:
		return config_write(secrets, req, err);
	default:
		return kv_unsupported(req, err);
	}
}
