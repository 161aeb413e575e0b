/* KV v2 writes: the check-and-set rules and the one transaction that adds
 * a version, drops the versions past max_versions and stores the key's
 * metadata. */
#include <stdlib.h>

#include "secrets/barrier.h"
#include "secrets/kv_internal.h"

int kv_v2_check_cas(const struct kv_config *config, const struct kv_meta *meta,
	const json_t *options, struct wd_error *err)
{
	int64_t cas = 0;
	int rc;

	rc = kv_field_int(json_is_object(options) ? options : NULL, "cas", INT64_MIN, INT64_MAX,
		&cas, NULL);
	if (rc < 0)
		return wd_error_set(err, WD_EINVAL, "error parsing check-and-set parameter");

	/* cas 0 means "only if the key has no version yet". */
	if (rc == 1 && (cas < 0 || (uint64_t)cas != meta->current_version))
		return wd_error_set(err, WD_EINVAL,
			"check-and-set parameter did not match the current version");
	if (rc == 0 && (config->cas_required || meta->cas_required))
		return wd_error_set(err, WD_EINVAL, "check-and-set parameter required for this call");
	return 0;
}

/* Deletes the stored data of the versions numbered in pruned. */
static int delete_versions(struct secrets *secrets, const struct vault_mount *mount,
	const char *key, const uint64_t *pruned, size_t count, struct wd_error *err)
{
	char path[KV_STORAGE_KEY_MAX];

	for (size_t i = 0; i < count; i++) {
		if (kv_version_key(path, sizeof(path), mount, key, pruned[i]) < 0)
			return wd_error_set(err, WD_EINTERNAL, "KV key too long for storage");
		WD_TRY(barrier_delete(secrets->barrier, path, err));
	}
	return 0;
}

int kv_v2_write_version(struct secrets *secrets, const struct vault_mount *mount,
	const char *key, const struct kv_config *config, struct kv_meta *meta, const json_t *data,
	struct vault_response *resp, struct wd_error *err)
{
	char path[KV_STORAGE_KEY_MAX];
	uint64_t *pruned = NULL;
	size_t pruned_count = 0;
	bool in_transaction = false;
	int64_t now = vault_now_nanos();
	json_t *written = NULL;
	int rc;

	rc = kv_meta_add_version(meta, now, kv_deletion_time(config, meta, now),
		config->max_versions, &pruned, &pruned_count);
	WD_GUARD(rc < 0 ? wd_error_set(err, rc, "out of memory") : 0);
	WD_ENSURE(kv_version_key(path, sizeof(path), mount, key, meta->current_version) == 0,
		wd_error_set(err, WD_EINTERNAL, "KV key too long for storage"));

	WD_GUARD(barrier_begin(secrets->barrier, err));
	in_transaction = true;
	WD_GUARD(barrier_put_json(secrets->barrier, path, data, err));
	WD_GUARD(delete_versions(secrets, mount, key, pruned, pruned_count, err));
	WD_GUARD(kv_meta_store(secrets, mount, key, meta, err));
	/* A failed commit has rolled back already (store_commit's contract). */
	in_transaction = false;
	WD_GUARD(barrier_commit(secrets->barrier, err));

	written = kv_version_json(meta, &meta->versions[meta->version_count - 1]);
	WD_ENSURE(written, wd_error_set(err, WD_ENOMEM, "out of memory"));
	resp->data = WD_TAKE_PTR(written);
out:
	if (in_transaction)
		barrier_rollback(secrets->barrier);
	free(pruned);
	return rc;
}

int kv_v2_commit_meta(struct secrets *secrets, const struct vault_mount *mount, const char *key,
	const struct kv_meta *meta, struct wd_error *err)
{
	int rc;

	WD_TRY(barrier_begin(secrets->barrier, err));
	rc = kv_meta_store(secrets, mount, key, meta, err);
	if (rc < 0) {
		barrier_rollback(secrets->barrier);
		return rc;
	}
	return barrier_commit(secrets->barrier, err);
}
