/* libFuzzer harness for ACL policy text: every input either parses or
 * fails with WD_EINVAL or WD_ETOOBIG and a message, and a parsed policy
 * answers matching and parameter checks on its own patterns without
 * breaking the rules' invariants. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "secrets/acl_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_selection(struct acl_policy *policy, const char *path)
{
	struct acl_selection selection;
	struct acl_params params;
	json_t *body;

	acl_select(&policy, 1, path, true, &selection);
	if ((selection.caps & ACL_CAP_DENY) && selection.caps != ACL_CAP_DENY)
		abort();
	if (!selection.pattern && selection.caps != 0)
		abort();
	if (acl_params_merge(&policy, 1, &selection, &params) < 0)
		return;
	body = json_pack("{s:s, s:i}", "Color", path, "ttl", 30);
	(void)acl_params_allow(&params, VAULT_OP_UPDATE, body);
	json_decref(body);
	acl_params_clear(&params);
}

static void exercise(struct acl_policy *policy)
{
	for (size_t i = 0; i < policy->count; i++) {
		const struct acl_rule *rule = &policy->rules[i];
		struct acl_selection selection;

		if (rule->stem_len > strlen(rule->pattern))
			abort();
		/* An exact pattern always selects itself. */
		if (!rule->is_prefix && !rule->has_plus) {
			acl_select(&policy, 1, rule->pattern, false, &selection);
			if (!selection.pattern || strcmp(selection.pattern, rule->pattern) != 0)
				abort();
		}
		check_selection(policy, rule->pattern);
	}
	check_selection(policy, "secret/data/app");
	check_selection(policy, "");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct acl_policy *policy = NULL;
	struct wd_error err = { 0 };
	int rc;

	rc = acl_policy_parse("fuzz", (const char *)data, size, &policy, &err);
	if (rc == 0) {
		if (!policy)
			abort();
		exercise(policy);
		acl_policy_free(policy);
		return 0;
	}
	if (policy || err.detail[0] == '\0')
		abort();
	if (rc != WD_EINVAL && rc != WD_ETOOBIG && rc != WD_ENOMEM)
		abort();
	return 0;
}
