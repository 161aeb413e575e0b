/* Vault ACL policies: HCL or JSON path rules with capabilities, stored in
 * the barrier at sys/policy/<name>, and the check of one request against
 * the policies of a token. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "common/macros.h"
#include "secrets/secrets_internal.h"

enum acl_capability {
	ACL_CAP_CREATE = 1 << 0,
	ACL_CAP_READ = 1 << 1,
	ACL_CAP_UPDATE = 1 << 2,
	ACL_CAP_DELETE = 1 << 3,
	ACL_CAP_LIST = 1 << 4,
	ACL_CAP_SUDO = 1 << 5,
	ACL_CAP_DENY = 1 << 6,
	ACL_CAP_PATCH = 1 << 7,
};

/* A parsed policy: its path rules. */
struct acl_policy;

/* Parses HCL or JSON policy text. WD_EINVAL with the line and the reason
 * (unknown capability, "+*" in a path, bad syntax). */
WD_MUST_CHECK int acl_policy_parse(const char *name, const char *text, size_t len,
	struct acl_policy **ret_policy, struct wd_error *err);
void acl_policy_free(struct acl_policy *policy);

/* Returns the capability bits that policies (the union for the same
 * pattern; only the highest-priority pattern otherwise) give on path. */
unsigned acl_capabilities(struct acl_policy *const *policies, size_t count, const char *path);

WD_MUST_CHECK int acl_store_open(struct secrets *secrets, struct acl_store **ret_store,
	struct wd_error *err);
void acl_store_free(struct acl_store *store);

/* Whether token may perform op on path (after "/v1/"). root_protected
 * marks paths that also need sudo. WD_EPERM "permission denied" when not. */
WD_MUST_CHECK int acl_check(struct secrets *secrets, const struct vault_token *token,
	const char *path, enum vault_op op, bool root_protected, struct wd_error *err);

/* acl_check for req's token, path and op that also enforces the required,
 * denied and allowed parameters of the matching rule on the keys and
 * values of req->body, as Vault does for read, create, update and patch. */
WD_MUST_CHECK int acl_check_request(struct secrets *secrets, const struct vault_request *req,
	bool root_protected, struct wd_error *err);

/* The sys/policies/acl/:name, sys/policy/:name and sys/capabilities,
 * capabilities-self and capabilities-accessor handlers (rel is the path
 * below "sys/"). */
WD_MUST_CHECK int acl_handle_sys(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err);

/* The optional Rego hook (acl_rego.c): a module whose rule
 * data.warden.secrets.allow is evaluated after the ACL allowed a request,
 * with input {"identity": {"display_name", "policies", "meta", "path"},
 * "operation", "path", "time_ns", "request": {"remote_address", "body_keys"}}.
 * Anything but true denies. */
WD_MUST_CHECK int acl_rego_open(const char *module_path, struct policy_hook **ret_hook,
	struct wd_error *err);
void acl_rego_free(struct policy_hook *hook);
WD_MUST_CHECK int acl_rego_check(struct secrets *secrets, const struct vault_request *req,
	struct wd_error *err);
