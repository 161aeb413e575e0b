/* Definitions the ACL files share: parsed path rules, the selection of the
 * rule that applies to a path, parameter checks and the policy store's
 * cache. Not part of the public interface. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "common/error.h"
#include "common/macros.h"
#include "secrets/acl.h"

/* Ceilings on policy text, so hostile input costs bounded memory: the
 * text's size in bytes, the nesting of { and [, and the number of values
 * (strings, numbers, lists, objects) it may hold. */
#define ACL_POLICY_MAX_BYTES (512u * 1024u)
#define ACL_POLICY_MAX_DEPTH 16u
#define ACL_POLICY_MAX_VALUES 65536u

/* Maximum length of a policy name at the sys/policy endpoints, in bytes. */
#define ACL_POLICY_NAME_MAX 128u

/* Every capability except deny: what root may do. */
#define ACL_CAP_ALL                                                                     \
	(ACL_CAP_CREATE | ACL_CAP_READ | ACL_CAP_UPDATE | ACL_CAP_DELETE | ACL_CAP_LIST | \
		ACL_CAP_SUDO | ACL_CAP_PATCH)

/* Parameter limits of one rule, as Vault keeps them. allowed and denied
 * map a lowercased body key (or "*") to an array of values. An empty
 * array means any value. required is an array of lowercased keys. Each is
 * NULL when the rule sets none. */
struct acl_params {
	json_t *allowed;
	json_t *denied;
	json_t *required;
};

/* One `path "pattern" { ... }` block. */
struct acl_rule {
	char *pattern;          /* as written, without a leading '/', '*' kept */
	size_t stem_len;        /* bytes before a trailing '*' */
	bool is_prefix;         /* the pattern ends in '*' */
	bool has_plus;          /* a whole segment is "+" */
	unsigned plus_count;    /* segments that are "+" */
	size_t first_wildcard;  /* offset of the first "+" segment, else stem_len */
	unsigned caps;          /* ACL_CAP_* bits; ACL_CAP_DENY alone when denied */
	struct acl_params params;
	unsigned line;
};

struct acl_policy {
	char *name;
	struct acl_rule *rules;
	size_t count;
};

/* The pattern that applies to a path and the union of the capabilities
 * that every policy gives under that pattern. pattern is NULL when no
 * rule matches; it points into one of the policies. */
struct acl_selection {
	const char *pattern;
	unsigned caps;
};

/* Selects the pattern that applies to path: an exact rule first, then
 * (with list, for a path ending in '/') an exact rule without the '/',
 * then the highest-priority prefix or "+" pattern. ACL_CAP_DENY clears
 * the other bits. */
void acl_select(struct acl_policy *const *policies, size_t count, const char *path, bool list,
	struct acl_selection *ret_selection);

/* Merges the parameter limits of every rule with the selected pattern,
 * as Vault merges them across policies. The caller frees *ret_params with
 * acl_params_clear. */
WD_MUST_CHECK int acl_params_merge(struct acl_policy *const *policies, size_t count,
	const struct acl_selection *selection, struct acl_params *ret_params);
void acl_params_clear(struct acl_params *params);

/* Whether body (a JSON object, may be NULL) passes params for op:
 * required keys present, no denied key with a denied value, and only
 * allowed keys with allowed values. Read (and HEAD), create, update and
 * patch are checked, and other operations always pass. */
bool acl_params_allow(const struct acl_params *params, enum vault_op op, const json_t *body);

/* The capability bit that op needs (HEAD needs read). */
unsigned acl_op_capability(enum vault_op op);

/* Appends the names of caps to array in Vault's sorted order, or "deny"
 * when caps has ACL_CAP_DENY or nothing. */
WD_MUST_CHECK int acl_caps_to_json(unsigned caps, json_t *array);

/* Text of Vault's built-in "default" policy, used until one is stored. */
extern const char acl_default_policy_text[];

/* Loads the parsed policy name through the store's cache. *ret_policy is
 * NULL for a name that is neither stored nor built in. "root" is never
 * loaded here. The store keeps ownership. */
WD_MUST_CHECK int acl_store_get(struct secrets *secrets, const char *name,
	struct acl_policy **ret_policy, struct wd_error *err);

/* Drops the cached copy of name after a write or delete. */
void acl_store_forget(struct secrets *secrets, const char *name);

/* Capabilities that token has on path, as sys/capabilities returns them:
 * ACL_CAP_ALL with *ret_root set for a root token. */
WD_MUST_CHECK int acl_token_capabilities(struct secrets *secrets, const struct vault_token *token,
	const char *path, unsigned *ret_caps, bool *ret_root, struct wd_error *err);
