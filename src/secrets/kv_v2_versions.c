/* KV v2 delete/<key>, undelete/<key> and destroy/<key>: soft-delete,
 * restore or permanently remove the versions a body {"versions": [...]}
 * names. Versions that do not exist are skipped, as in Vault, and each
 * call replies 204. */
#include <stdlib.h>

#include "secrets/barrier.h"
#include "secrets/kv_internal.h"

/* The change one endpoint makes to a version. */
enum versions_action {
	ACTION_DELETE,
	ACTION_UNDELETE,
	ACTION_DESTROY,
};

/* Marks one kept, not destroyed version. */
static void version_apply(enum versions_action action, const struct kv_config *config,
	const struct kv_meta *meta, struct kv_version *version, int64_t now)
{
	switch (action) {
	case ACTION_DELETE:
		if (!kv_version_deleted(version, now))
			version->deletion_time = now;
		break;
	case ACTION_UNDELETE:
		/* An undeleted version gets a fresh delete_version_after
		 * deadline, counted from now. */
		version->deletion_time = kv_deletion_time(config, meta, now);
		break;
	case ACTION_DESTROY:
		version->destroyed = true;
		break;
	}
}

/* Deletes the stored data of the listed versions. */
static int destroy_data(struct secrets *secrets, const struct vault_mount *mount,
	const char *key, const int64_t *versions, size_t count, struct wd_error *err)
{
	char path[KV_STORAGE_KEY_MAX];

	for (size_t i = 0; i < count; i++) {
		if (versions[i] <= 0)
			continue;
		if (kv_version_key(path, sizeof(path), mount, key, (uint64_t)versions[i]) < 0)
			return wd_error_set(err, WD_EINTERNAL, "KV key too long for storage");
		WD_TRY(barrier_delete(secrets->barrier, path, err));
	}
	return 0;
}

static int versions_update(struct secrets *secrets, struct vault_request *req, const char *key,
	enum versions_action action, struct wd_error *err)
{
	struct kv_config config = { 0 };
	struct kv_meta *meta = NULL;
	int64_t *versions = NULL;
	size_t count = 0;
	int64_t now = vault_now_nanos();
	bool in_transaction = false;
	int rc = 0;

	if (req->op != VAULT_OP_CREATE && req->op != VAULT_OP_UPDATE)
		return kv_unsupported(req, err);
	WD_TRY(kv_check_key(key, false, err));
	WD_GUARD(kv_field_versions(req->body, "versions", &versions, &count, err));
	/* Vault's messages differ in case between the endpoints. */
	WD_ENSURE(count > 0, wd_error_set(err, WD_EINVAL, action == ACTION_DESTROY ?
		"no version number provided" : "No version number provided"));

	if (action == ACTION_UNDELETE)
		WD_GUARD(kv_config_load(secrets, req->mount, &config, err));
	WD_GUARD(kv_meta_load(secrets, req->mount, key, &meta, err));
	if (!meta)
		goto out;

	for (size_t i = 0; i < count; i++) {
		struct kv_version *version = versions[i] > 0 ?
			kv_meta_find(meta, (uint64_t)versions[i]) : NULL;

		if (version && !version->destroyed)
			version_apply(action, &config, meta, version, now);
	}

	/* Destroy writes the metadata and deletes the data together, so a
	 * version is never marked destroyed with its data left behind. */
	WD_GUARD(barrier_begin(secrets->barrier, err));
	in_transaction = true;
	WD_GUARD(kv_meta_store(secrets, req->mount, key, meta, err));
	if (action == ACTION_DESTROY)
		WD_GUARD(destroy_data(secrets, req->mount, key, versions, count, err));
	in_transaction = false;
	WD_GUARD(barrier_commit(secrets->barrier, err));
out:
	if (in_transaction)
		barrier_rollback(secrets->barrier);
	kv_meta_free(meta);
	free(versions);
	return rc;
}

int kv_v2_delete_versions(struct secrets *secrets, struct vault_request *req, const char *key,
	struct vault_response *resp WD_UNUSED, struct wd_error *err)
{
	return versions_update(secrets, req, key, ACTION_DELETE, err);
}

int kv_v2_undelete_versions(struct secrets *secrets, struct vault_request *req, const char *key,
	struct vault_response *resp WD_UNUSED, struct wd_error *err)
{
	return versions_update(secrets, req, key, ACTION_UNDELETE, err);
}

int kv_v2_destroy_versions(struct secrets *secrets, struct vault_request *req, const char *key,
	struct vault_response *resp WD_UNUSED, struct wd_error *err)
{
	return versions_update(secrets, req, key, ACTION_DESTROY, err);
}
