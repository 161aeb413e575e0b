/* The KV secrets engine (mount type "kv"): the mount option "version"
 * picks the unversioned store of KV v1 ("1" or absent) or the versioned
 * store of KV v2 ("2", Vault's default for secret/). */
#include "secrets/kv_internal.h"

/* Rejects a mount whose version option is neither 1 nor 2. KV keeps no
 * state of its own: every request reads the barrier. */
static int kv_mount_open(struct secrets *secrets WD_UNUSED, struct vault_mount *mount,
	struct wd_error *err)
{
	int version;

	return kv_mount_version(mount, &version, err);
}

static void kv_mount_close(struct vault_mount *mount WD_UNUSED)
{
}

static int kv_handle(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err)
{
	int version;

	WD_TRY(kv_mount_version(req->mount, &version, err));
	if (version == 2)
		return kv_v2_handle(secrets, req, resp, err);
	return kv_v1_handle(secrets, req, resp, err);
}

static int kv_exists(struct secrets *secrets, const struct vault_request *req, bool *ret_exists,
	struct wd_error *err)
{
	int version;

	*ret_exists = false;
	WD_TRY(kv_mount_version(req->mount, &version, err));
	if (version == 2)
		return kv_v2_exists(secrets, req, ret_exists, err);
	return kv_v1_exists(secrets, req, ret_exists, err);
}

const struct vault_backend vault_backend_kv = {
	.type = "kv",
	.mount_open = kv_mount_open,
	.mount_close = kv_mount_close,
	.handle = kv_handle,
	.exists = kv_exists,
};
