/* The system backend at sys/: routes each sub-path to the part that owns
 * it. */
#include <string.h>

#include "secrets/acl.h"
#include "secrets/expire.h"
#include "secrets/secrets_internal.h"

static bool starts_with_segment(const char *rel, const char *name)
{
	size_t len = strlen(name);

	return strncmp(rel, name, len) == 0 && (rel[len] == '\0' || rel[len] == '/');
}

/* sys/audit-hash/<device>: the hash an input has in the audit chain, so an
 * operator can find the records of a known value. */
static int audit_hash(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err)
{
	const json_t *input = json_object_get(req->body, "input");
	char hashed[96];

	if (req->op != VAULT_OP_UPDATE && req->op != VAULT_OP_CREATE)
		return wd_error_set(err, WD_EUNSUPPORTED, "unsupported operation");
	if (!json_is_string(input))
		return wd_error_set(err, WD_EINVAL, "\"input\" must be a string");
	vault_audit_hash(secrets, json_string_value(input), hashed, sizeof(hashed));
	resp->data = json_pack("{s:s}", "hash", hashed);
	return resp->data ? 0 : WD_ENOMEM;
}

static int system_handle(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err)
{
	const char *rel = req->rel;

	if (starts_with_segment(rel, "init") || starts_with_segment(rel, "unseal") ||
		starts_with_segment(rel, "seal") || starts_with_segment(rel, "seal-status") ||
		starts_with_segment(rel, "health"))
		return sys_seal_handle(secrets, req, resp, err);
	if (starts_with_segment(rel, "policies") || starts_with_segment(rel, "policy") ||
		starts_with_segment(rel, "capabilities-self") ||
		starts_with_segment(rel, "capabilities-accessor") ||
		starts_with_segment(rel, "capabilities"))
		return acl_handle_sys(secrets, req, resp, err);
	if (starts_with_segment(rel, "leases") || starts_with_segment(rel, "renew") ||
		starts_with_segment(rel, "revoke") || starts_with_segment(rel, "revoke-prefix") ||
		starts_with_segment(rel, "revoke-force"))
		return expire_handle_sys(secrets, req, resp, err);
	if (starts_with_segment(rel, "mounts") || starts_with_segment(rel, "auth"))
		return sys_mounts_handle(secrets, req, resp, err);
	if (starts_with_segment(rel, "audit-hash"))
		return audit_hash(secrets, req, resp, err);
	return wd_error_set(err, WD_ENOTFOUND, "no handler for route \"sys/%.128s\". route entry "
		"not found.", rel);
}

static bool system_unauthenticated(const char *rel, enum vault_op op)
{
	(void)op;
	return sys_seal_unauthenticated(rel);
}

const struct vault_backend vault_backend_system = {
	.type = "system",
	.handle = system_handle,
	.unauthenticated = system_unauthenticated,
};
