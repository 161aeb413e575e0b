/* KV v2 engine settings and key metadata: their stored JSON form, the
 * version window that max_versions keeps, and the metadata block of one
 * version that reads and writes return. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "secrets/barrier.h"
#include "secrets/kv_internal.h"

int kv_config_load(struct secrets *secrets, const struct vault_mount *mount,
	struct kv_config *ret_config, struct wd_error *err)
{
	char path[KV_STORAGE_KEY_MAX];
	json_t *stored = NULL;
	json_int_t max_versions = 0, delete_after = 0;
	int cas_required = 0;
	json_error_t jerr;
	int rc;

	*ret_config = (struct kv_config){ 0 };
	WD_GUARD(kv_storage_key(path, sizeof(path), mount, "config", ""));

	rc = barrier_get_json(secrets->barrier, path, &stored, err);
	if (rc == WD_ENOTFOUND) {
		wd_error_clear(err);
		rc = 0;
		goto out;
	}
	WD_GUARD(rc);

	if (json_unpack_ex(stored, &jerr, 0, "{s:I, s:b, s:I}", "max_versions", &max_versions,
		    "cas_required", &cas_required, "delete_version_after", &delete_after) < 0) {
		rc = wd_error_set(err, WD_ECORRUPT, "malformed KV settings of mount %s: %s",
			mount->path, jerr.text);
		goto out;
	}
	WD_ENSURE(max_versions >= 0 && max_versions <= UINT32_MAX, wd_error_set(err,
		WD_ECORRUPT, "malformed KV settings of mount %s: max_versions %" PRId64,
		mount->path, (int64_t)max_versions));
	ret_config->max_versions = (uint32_t)max_versions;
	ret_config->cas_required = cas_required;
	ret_config->delete_version_after = delete_after;
out:
	json_decref(stored);
	return rc;
}

int kv_config_store(struct secrets *secrets, const struct vault_mount *mount,
	const struct kv_config *config, struct wd_error *err)
{
	char path[KV_STORAGE_KEY_MAX];
	json_t *stored;
	int rc;

	WD_TRY(kv_storage_key(path, sizeof(path), mount, "config", ""));
	stored = json_pack("{s:I, s:b, s:I}", "max_versions", (json_int_t)config->max_versions,
		"cas_required", config->cas_required, "delete_version_after",
		(json_int_t)config->delete_version_after);
	if (!stored)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	rc = barrier_put_json(secrets->barrier, path, stored, err);
	json_decref(stored);
	return rc;
}

struct kv_meta *kv_meta_new(int64_t now)
{
	struct kv_meta *meta = calloc(1, sizeof(*meta));

	if (meta) {
		meta->created_time = now;
		meta->updated_time = now;
	}
	return meta;
}

void kv_meta_free(struct kv_meta *meta)
{
	if (!meta)
		return;
	json_decref(meta->custom_metadata);
	free(meta->versions);
	free(meta);
}

/* Reads the stored "versions" array into meta, checking that the numbers
 * ascend. */
static int versions_from_json(struct kv_meta *meta, json_t *array)
{
	size_t count = json_array_size(array);
	size_t i;
	json_t *item;

	if (!json_is_array(array))
		return WD_ECORRUPT;
	if (count == 0)
		return 0;
	meta->versions = wd_calloc(count, sizeof(*meta->versions));
	if (!meta->versions)
		return WD_ENOMEM;

	json_array_foreach(array, i, item) {
		struct kv_version *version = &meta->versions[i];
		json_int_t number, created, deleted;
		int destroyed;

		if (json_unpack(item, "{s:I, s:I, s:I, s:b}", "version", &number, "created_time",
			    &created, "deletion_time", &deleted, "destroyed", &destroyed) < 0)
			return WD_ECORRUPT;
		if (number <= 0 || (i > 0 && (uint64_t)number <= meta->versions[i - 1].number))
			return WD_ECORRUPT;
		version->number = (uint64_t)number;
		version->created_time = created;
		version->deletion_time = deleted;
		version->destroyed = destroyed;
		meta->version_count++;
	}
	return 0;
}

/* Builds meta from its stored object. */
static int meta_from_json(json_t *stored, struct kv_meta *meta)
{
	json_int_t created, updated, current, oldest, max_versions, delete_after;
	json_t *custom = NULL, *versions = NULL;
	int cas_required;

	if (json_unpack(stored, "{s:I, s:I, s:I, s:I, s:I, s:b, s:I, s?o, s:o}",
		    "created_time", &created, "updated_time", &updated, "current_version", &current,
		    "oldest_version", &oldest, "max_versions", &max_versions, "cas_required",
		    &cas_required, "delete_version_after", &delete_after, "custom_metadata",
		    &custom, "versions", &versions) < 0)
		return WD_ECORRUPT;
	if (current < 0 || oldest < 0 || max_versions < 0 || max_versions > UINT32_MAX ||
	    (custom && !json_is_object(custom) && !json_is_null(custom)))
		return WD_ECORRUPT;

	meta->created_time = created;
	meta->updated_time = updated;
	meta->current_version = (uint64_t)current;
	meta->oldest_version = (uint64_t)oldest;
	meta->max_versions = (uint32_t)max_versions;
	meta->cas_required = cas_required;
	meta->delete_version_after = delete_after;
	if (custom && json_is_object(custom))
		meta->custom_metadata = json_incref(custom);
	return versions_from_json(meta, versions);
}

int kv_meta_load(struct secrets *secrets, const struct vault_mount *mount, const char *key,
	struct kv_meta **ret_meta, struct wd_error *err)
{
	char path[KV_STORAGE_KEY_MAX];
	struct kv_meta *meta = NULL;
	json_t *stored = NULL;
	int rc;

	*ret_meta = NULL;
	WD_GUARD(kv_storage_key(path, sizeof(path), mount, "meta/", key));

	rc = barrier_get_json(secrets->barrier, path, &stored, err);
	if (rc == WD_ENOTFOUND) {
		wd_error_clear(err);
		rc = 0;
		goto out;
	}
	WD_GUARD(rc);

	meta = calloc(1, sizeof(*meta));
	WD_ENSURE(meta, wd_error_set(err, WD_ENOMEM, "out of memory"));
	rc = meta_from_json(stored, meta);
	if (rc == WD_ECORRUPT) {
		rc = wd_error_set(err, WD_ECORRUPT, "malformed KV metadata at %s", path);
		goto out;
	}
	WD_GUARD(rc < 0 ? wd_error_set(err, rc, "out of memory") : 0);

	*ret_meta = WD_TAKE_PTR(meta);
out:
	kv_meta_free(meta);
	json_decref(stored);
	return rc;
}

/* Returns the stored form of meta, or NULL without memory. */
static json_t *meta_to_json(const struct kv_meta *meta)
{
	json_t *versions = json_array();
	json_t *stored;

	if (!versions)
		return NULL;
	for (size_t i = 0; i < meta->version_count; i++) {
		const struct kv_version *version = &meta->versions[i];

		if (json_array_append_new(versions, json_pack("{s:I, s:I, s:I, s:b}", "version",
			    (json_int_t)version->number, "created_time",
			    (json_int_t)version->created_time, "deletion_time",
			    (json_int_t)version->deletion_time, "destroyed",
			    version->destroyed)) < 0) {
			json_decref(versions);
			return NULL;
		}
	}

	stored = json_pack("{s:I, s:I, s:I, s:I, s:I, s:b, s:I, s:o}",
		"created_time", (json_int_t)meta->created_time,
		"updated_time", (json_int_t)meta->updated_time,
		"current_version", (json_int_t)meta->current_version,
		"oldest_version", (json_int_t)meta->oldest_version,
		"max_versions", (json_int_t)meta->max_versions,
		"cas_required", meta->cas_required,
		"delete_version_after", (json_int_t)meta->delete_version_after,
		"versions", versions);
	if (stored && meta->custom_metadata &&
	    json_object_set(stored, "custom_metadata", meta->custom_metadata) < 0) {
		json_decref(stored);
		return NULL;
	}
	return stored;
}

int kv_meta_store(struct secrets *secrets, const struct vault_mount *mount, const char *key,
	const struct kv_meta *meta, struct wd_error *err)
{
	char path[KV_STORAGE_KEY_MAX];
	json_t *stored;
	int rc;

	if (kv_storage_key(path, sizeof(path), mount, "meta/", key) < 0)
		return wd_error_set(err, WD_ETOOBIG, "KV key too long for storage");
	stored = meta_to_json(meta);
	if (!stored)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	rc = barrier_put_json(secrets->barrier, path, stored, err);
	json_decref(stored);
	return rc;
}

struct kv_version *kv_meta_find(const struct kv_meta *meta, uint64_t number)
{
	for (size_t i = 0; i < meta->version_count; i++) {
		if (meta->versions[i].number == number)
			return &meta->versions[i];
	}
	return NULL;
}

bool kv_version_deleted(const struct kv_version *version, int64_t now)
{
	return version->deletion_time != 0 && version->deletion_time < now;
}

int64_t kv_deletion_time(const struct kv_config *config, const struct kv_meta *meta,
	int64_t start)
{
	int64_t engine = config->delete_version_after;
	int64_t key = meta->delete_version_after;
	int64_t seconds;

	/* Vault's deletionTime: the smaller of the two non-zero settings. */
	if (engine == KV_DELETE_AFTER_DISABLED || (engine <= 0 && key <= 0))
		return 0;
	if (key > 0 && (engine <= 0 || key < engine))
		seconds = key;
	else
		seconds = engine;
	if (seconds > (INT64_MAX - start) / 1000000000)
		return INT64_MAX;
	return start + seconds * 1000000000;
}

int kv_meta_add_version(struct kv_meta *meta, int64_t now, int64_t deletion_time,
	uint32_t config_max_versions, uint64_t **ret_pruned, size_t *ret_pruned_count)
{
	struct kv_version *grown;
	uint64_t *pruned = NULL;
	size_t pruned_count = 0, kept = 0;
	uint32_t max_versions;
	uint64_t last_dropped;

	*ret_pruned = NULL;
	*ret_pruned_count = 0;
	grown = wd_reallocarray(meta->versions, meta->version_count + 1, sizeof(*grown));
	if (!grown)
		return WD_ENOMEM;
	meta->versions = grown;

	meta->current_version++;
	meta->versions[meta->version_count++] = (struct kv_version){
		.number = meta->current_version,
		.created_time = now,
		.deletion_time = deletion_time,
	};
	meta->updated_time = now;
	if (meta->created_time == 0)
		meta->created_time = now;

	/* The key's own max_versions wins over the engine's, as Vault's
	 * documentation of the field states. */
	if (meta->max_versions != 0)
		max_versions = meta->max_versions;
	else if (config_max_versions != 0)
		max_versions = config_max_versions;
	else
		max_versions = KV_DEFAULT_MAX_VERSIONS;
	if (meta->current_version - meta->oldest_version < max_versions)
		return 0;

	/* Vault's window: drop every version up to current - max and move
	 * oldest_version past them, so oldest_version becomes 1 once the
	 * first max versions exist. */
	last_dropped = meta->current_version - max_versions;
	pruned = wd_calloc(meta->version_count, sizeof(*pruned));
	if (!pruned)
		return WD_ENOMEM;
	for (size_t i = 0; i < meta->version_count; i++) {
		if (meta->versions[i].number <= last_dropped)
			pruned[pruned_count++] = meta->versions[i].number;
		else
			meta->versions[kept++] = meta->versions[i];
	}
	meta->version_count = kept;
	meta->oldest_version = last_dropped + 1;

	if (pruned_count == 0)
		free(pruned);
	else
		*ret_pruned = pruned;
	*ret_pruned_count = pruned_count;
	return 0;
}

json_t *kv_version_json(const struct kv_meta *meta, const struct kv_version *version)
{
	char created[40], deleted[40] = "";
	json_t *custom;

	vault_format_time(version->created_time, created, sizeof(created));
	if (version->deletion_time != 0)
		vault_format_time(version->deletion_time, deleted, sizeof(deleted));
	custom = meta->custom_metadata ? json_deep_copy(meta->custom_metadata) : json_null();
	if (!custom)
		return NULL;

	/* Keys in sorted order, as Vault's JSON encoder writes a map. */
	return json_pack("{s:s, s:o, s:s, s:b, s:I}", "created_time", created,
		"custom_metadata", custom, "deletion_time", deleted, "destroyed",
		version->destroyed, "version", (json_int_t)version->number);
}

void kv_format_delete_after(int64_t seconds, char *out, size_t len)
{
	if (seconds < 0) {
		snprintf(out, len, "%" PRId64 "s", seconds);
		return;
	}
	vault_format_duration(seconds, out, len);
}
