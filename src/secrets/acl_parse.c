/* Reads policy text into path rules, with Vault's checks: known keys and
 * capabilities only, '*' only at the end of a pattern and never after a
 * "+" segment, and parameter lists that are lists. Each error names the
 * line of the offending value. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "secrets/acl_internal.h"
#include "secrets/acl_syntax.h"

/* Bytes of a pattern or key quoted in an error message. */
#define QUOTE_MAX 64

struct capability_name {
	const char *name;
	unsigned bit;
};

static const struct capability_name capability_names[] = {
	{ "create", ACL_CAP_CREATE },
	{ "read", ACL_CAP_READ },
	{ "update", ACL_CAP_UPDATE },
	{ "delete", ACL_CAP_DELETE },
	{ "list", ACL_CAP_LIST },
	{ "sudo", ACL_CAP_SUDO },
	{ "deny", ACL_CAP_DENY },
	{ "patch", ACL_CAP_PATCH },
};

/* The legacy `policy = "..."` values and the capabilities Vault maps them
 * to (vault/policy.go; "write" and "sudo" do not include patch). */
static const struct capability_name legacy_policies[] = {
	{ "deny", ACL_CAP_DENY },
	{ "read", ACL_CAP_READ | ACL_CAP_LIST },
	{ "write", ACL_CAP_CREATE | ACL_CAP_READ | ACL_CAP_UPDATE | ACL_CAP_DELETE | ACL_CAP_LIST },
	{ "sudo", ACL_CAP_CREATE | ACL_CAP_READ | ACL_CAP_UPDATE | ACL_CAP_DELETE | ACL_CAP_LIST |
			ACL_CAP_SUDO },
};

static bool key_is(const struct acl_value *value, const char *name)
{
	size_t len = strlen(name);

	return value->key_len == len && memcmp(value->key, name, len) == 0;
}

static int quote_len(size_t len)
{
	return len > QUOTE_MAX ? QUOTE_MAX : (int)len;
}

static int lookup_name(const struct capability_name *table, size_t count,
	const struct acl_value *value, unsigned *ret_bits)
{
	for (size_t i = 0; i < count; i++) {
		if (strlen(table[i].name) == value->len && memcmp(table[i].name, value->text, value->len) == 0) {
			*ret_bits = table[i].bit;
			return 0;
		}
	}
	return -1;
}

static int read_capabilities(const struct acl_value *value, unsigned *caps, struct wd_error *err)
{
	if (value->kind != ACL_VALUE_LIST)
		return wd_error_set(err, WD_EINVAL, "\"capabilities\" must be a list of strings at line %u",
			value->line);
	for (const struct acl_value *item = value->first; item; item = item->next) {
		unsigned bit;

		if (item->kind != ACL_VALUE_STRING)
			return wd_error_set(err, WD_EINVAL,
				"\"capabilities\" must be a list of strings at line %u", item->line);
		if (lookup_name(capability_names, WD_ARRAY_LEN(capability_names), item, &bit) < 0)
			return wd_error_set(err, WD_EINVAL, "unknown capability \"%.*s\" at line %u",
				quote_len(item->len), item->text, item->line);
		*caps |= bit;
	}
	return 0;
}

static int read_legacy_policy(const struct acl_value *value, unsigned *caps, struct wd_error *err)
{
	unsigned bits;

	if (value->kind != ACL_VALUE_STRING)
		return wd_error_set(err, WD_EINVAL, "\"policy\" must be a string at line %u", value->line);
	if (lookup_name(legacy_policies, WD_ARRAY_LEN(legacy_policies), value, &bits) < 0)
		return wd_error_set(err, WD_EINVAL,
			"unknown policy \"%.*s\" at line %u (expected deny, read, write or sudo)",
			quote_len(value->len), value->text, value->line);
	*caps |= bits;
	return 0;
}

/* Converts a scalar to JSON. Numbers that fit int64 become integers, so
 * they compare equal to the integers of a request body. */
static json_t *scalar_to_json(const struct acl_value *value)
{
	char *end;
	long long number;

	switch (value->kind) {
	case ACL_VALUE_STRING:
		return json_stringn(value->text, value->len);
	case ACL_VALUE_BOOL:
		return json_boolean(value->boolean);
	case ACL_VALUE_NUMBER:
		if (!strpbrk(value->text, ".eE")) {
			errno = 0;
			number = strtoll(value->text, &end, 10);
			if (errno == 0 && *end == '\0')
				return json_integer(number);
		}
		return json_real(strtod(value->text, NULL));
	default:
		return NULL;
	}
}

static char *lowercase_copy(const char *text, size_t len)
{
	char *copy = wd_strndup(text, len);

	if (!copy)
		return NULL;
	/* ASCII only: Vault lowercases with Go's Unicode rules, which agree for
	 * the ASCII names that request parameters use. */
	for (size_t i = 0; i < len; i++) {
		if (copy[i] >= 'A' && copy[i] <= 'Z')
			copy[i] = (char)(copy[i] - 'A' + 'a');
	}
	return copy;
}

static int check_parameter_key(const struct acl_value *member, const char *field,
	bool wildcard_allowed, struct wd_error *err)
{
	const char *key = member->key ? member->key : member->text;
	size_t len = member->key ? member->key_len : member->len;

	if (!memchr(key, '*', len))
		return 0;
	if (!wildcard_allowed)
		return wd_error_set(err, WD_EINVAL,
			"%s: parameter key \"%.*s\" may not contain '*' at line %u", field, quote_len(len),
			key, member->line);
	if (len != 1)
		return wd_error_set(err, WD_EINVAL,
			"%s: parameter key \"%.*s\" may use '*' only as the whole key at line %u", field,
			quote_len(len), key, member->line);
	return 0;
}

/* Reads { key = [values] } into a JSON object keyed by the lowercased
 * names. A key given twice keeps the later list. */
static int read_parameter_map(const struct acl_value *value, const char *field, json_t **params,
	struct wd_error *err)
{
	if (value->kind != ACL_VALUE_OBJECT)
		return wd_error_set(err, WD_EINVAL, "\"%s\" must be a block of lists at line %u", field,
			value->line);
	if (!*params && !(*params = json_object()))
		return WD_ENOMEM;

	for (const struct acl_value *member = value->first; member; member = member->next) {
		_wd_cleanup_(wd_freep) char *key = NULL;
		json_t *list;

		WD_TRY(check_parameter_key(member, field, true, err));
		if (member->kind != ACL_VALUE_LIST)
			return wd_error_set(err, WD_EINVAL, "%s: \"%.*s\" must be a list at line %u", field,
				quote_len(member->key_len), member->key, member->line);
		key = lowercase_copy(member->key, member->key_len);
		list = json_array();
		if (!key || !list || json_object_set_new(*params, key, list) < 0)
			return WD_ENOMEM;
		for (const struct acl_value *item = member->first; item; item = item->next) {
			json_t *converted;

			if (item->kind == ACL_VALUE_LIST || item->kind == ACL_VALUE_OBJECT)
				return wd_error_set(err, WD_EINVAL,
					"%s: values of \"%.*s\" must be strings, numbers or booleans at line %u",
					field, quote_len(member->key_len), member->key, item->line);
			converted = scalar_to_json(item);
			if (!converted && item->kind == ACL_VALUE_NUMBER)
				return wd_error_set(err, WD_EINVAL, "%s: number out of range at line %u", field,
					item->line);
			if (json_array_append_new(list, converted) < 0)
				return WD_ENOMEM;
		}
	}
	return 0;
}

static int read_required(const struct acl_value *value, json_t **required, struct wd_error *err)
{
	if (value->kind != ACL_VALUE_LIST)
		return wd_error_set(err, WD_EINVAL,
			"\"required_parameters\" must be a list of strings at line %u", value->line);
	if (!*required && !(*required = json_array()))
		return WD_ENOMEM;
	for (const struct acl_value *item = value->first; item; item = item->next) {
		_wd_cleanup_(wd_freep) char *key = NULL;

		if (item->kind != ACL_VALUE_STRING)
			return wd_error_set(err, WD_EINVAL,
				"\"required_parameters\" must be a list of strings at line %u", item->line);
		WD_TRY(check_parameter_key(item, "required_parameters", false, err));
		key = lowercase_copy(item->text, item->len);
		if (!key || json_array_append_new(*required, json_string(key)) < 0)
			return WD_ENOMEM;
	}
	return 0;
}

/* Parses a TTL as Vault's parseutil.ParseDurationSecond does: a number of
 * seconds, or a string of seconds or of number-and-unit parts (ns, us, ms,
 * s, m, h, d). Returns the seconds, or -1 when it is not a duration. */
static double parse_ttl_seconds(const struct acl_value *value)
{
	static const struct {
		const char *unit;
		double seconds;
	} units[] = {
		{ "ns", 1e-9 }, { "us", 1e-6 }, { "ms", 1e-3 }, { "s", 1 }, { "m", 60 }, { "h", 3600 },
		{ "d", 86400 },
	};
	const char *s, *end;
	double total = 0;

	if (value->kind == ACL_VALUE_NUMBER) {
		total = strtod(value->text, NULL);
		return total < 0 ? -1 : total;
	}
	/* Lists and blocks have no text. */
	if (value->kind != ACL_VALUE_STRING || value->len == 0)
		return -1;
	s = value->text;
	end = value->text + value->len;
	if (strspn(s, "0123456789") == value->len)
		return strtod(s, NULL);

	while (s < end) {
		char *number_end;
		double number;
		size_t unit_len = 0, best = SIZE_MAX;

		if (!(*s >= '0' && *s <= '9') && *s != '.')
			return -1;
		number = strtod(s, &number_end);
		s = number_end;
		while (s + unit_len < end && s[unit_len] >= 'a' && s[unit_len] <= 'z')
			unit_len++;
		for (size_t i = 0; i < WD_ARRAY_LEN(units); i++) {
			if (strlen(units[i].unit) == unit_len && memcmp(units[i].unit, s, unit_len) == 0)
				best = i;
		}
		if (best == SIZE_MAX)
			return -1;
		total += number * units[best].seconds;
		s += unit_len;
	}
	return total;
}

static int read_ttl(const struct acl_value *value, const char *field, double *ret_seconds,
	struct wd_error *err)
{
	double seconds = parse_ttl_seconds(value);

	if (seconds < 0)
		return wd_error_set(err, WD_EINVAL, "\"%s\" is not a valid duration at line %u", field,
			value->line);
	*ret_seconds = seconds;
	return 0;
}

/* Checks the pattern and fills the fields that matching uses. */
static int set_pattern(struct acl_rule *rule, const struct acl_value *member, struct wd_error *err)
{
	const char *pattern = member->key;
	size_t len = member->key_len;
	const char *star;

	/* Request paths start after "/v1/", so a leading '/' would never match. */
	if (len > 0 && pattern[0] == '/') {
		pattern++;
		len--;
	}
	if (len == 0)
		return wd_error_set(err, WD_EINVAL, "empty path pattern at line %u", member->line);
	if (len > VAULT_PATH_MAX)
		return wd_error_set(err, WD_EINVAL, "path pattern longer than %d bytes at line %u",
			VAULT_PATH_MAX, member->line);
	if (strstr(pattern, "+*"))
		return wd_error_set(err, WD_EINVAL,
			"invalid use of wildcards ('+*' is forbidden) in path \"%.*s\" at line %u",
			quote_len(len), pattern, member->line);
	star = memchr(pattern, '*', len);
	if (star && star != pattern + len - 1)
		return wd_error_set(err, WD_EINVAL,
			"'*' is allowed only as the last character, in path \"%.*s\" at line %u",
			quote_len(len), pattern, member->line);

	rule->pattern = wd_strndup(pattern, len);
	if (!rule->pattern)
		return WD_ENOMEM;
	rule->is_prefix = star != NULL;
	rule->stem_len = rule->is_prefix ? len - 1 : len;
	for (size_t start = 0; start <= rule->stem_len;) {
		const char *slash = memchr(pattern + start, '/', rule->stem_len - start);
		size_t end = slash ? (size_t)(slash - pattern) : rule->stem_len;

		if (end - start == 1 && pattern[start] == '+') {
			if (!rule->has_plus)
				rule->first_wildcard = start;
			rule->has_plus = true;
			rule->plus_count++;
		}
		start = end + 1;
	}
	if (!rule->has_plus)
		rule->first_wildcard = rule->stem_len;
	rule->line = member->line;
	return 0;
}

static int reject_unknown_key(const struct acl_value *member, const struct acl_rule *rule,
	struct wd_error *err)
{
	if (key_is(member, "mfa_methods") || key_is(member, "control_group"))
		return wd_error_set(err, WD_EINVAL,
			"\"%.*s\" is a Vault Enterprise feature and is not supported at line %u",
			quote_len(member->key_len), member->key, member->line);
	return wd_error_set(err, WD_EINVAL, "unknown key \"%.*s\" in path \"%.*s\" at line %u",
		quote_len(member->key_len), member->key, quote_len(strlen(rule->pattern)), rule->pattern,
		member->line);
}

/* Reads the body of one path block into rule. */
static int read_rule_body(struct acl_rule *rule, const struct acl_value *body, struct wd_error *err)
{
	double min_ttl = 0, max_ttl = 0;

	for (const struct acl_value *member = body->first; member; member = member->next) {
		if (key_is(member, "capabilities"))
			WD_TRY(read_capabilities(member, &rule->caps, err));
		else if (key_is(member, "policy"))
			WD_TRY(read_legacy_policy(member, &rule->caps, err));
		else if (key_is(member, "allowed_parameters"))
			WD_TRY(read_parameter_map(member, "allowed_parameters", &rule->params.allowed, err));
		else if (key_is(member, "denied_parameters"))
			WD_TRY(read_parameter_map(member, "denied_parameters", &rule->params.denied, err));
		else if (key_is(member, "required_parameters"))
			WD_TRY(read_required(member, &rule->params.required, err));
		else if (key_is(member, "min_wrapping_ttl"))
			WD_TRY(read_ttl(member, "min_wrapping_ttl", &min_ttl, err));
		else if (key_is(member, "max_wrapping_ttl"))
			WD_TRY(read_ttl(member, "max_wrapping_ttl", &max_ttl, err));
		else if (key_is(member, "comment") && member->kind == ACL_VALUE_STRING)
			continue;
		else
			return reject_unknown_key(member, rule, err);
	}

	if (min_ttl > 0 && max_ttl > 0 && max_ttl < min_ttl)
		return wd_error_set(err, WD_EINVAL,
			"max_wrapping_ttl cannot be less than min_wrapping_ttl in path \"%.*s\" at line %u",
			quote_len(strlen(rule->pattern)), rule->pattern, rule->line);

	/* deny wipes every other capability and every parameter limit. */
	if (rule->caps & ACL_CAP_DENY) {
		rule->caps = ACL_CAP_DENY;
		acl_params_clear(&rule->params);
	}
	return 0;
}

static void rule_clear(struct acl_rule *rule)
{
	free(rule->pattern);
	acl_params_clear(&rule->params);
	memset(rule, 0, sizeof(*rule));
}

static int add_rule(struct acl_policy *policy, const struct acl_value *member,
	const struct acl_value *body, struct wd_error *err)
{
	struct acl_rule rule = { 0 }, *rules;
	int rc = 0;

	if (body->kind != ACL_VALUE_OBJECT)
		return wd_error_set(err, WD_EINVAL, "path \"%.*s\" must be a block at line %u",
			quote_len(member->key_len), member->key, body->line);
	WD_GUARD(set_pattern(&rule, member, err));
	WD_GUARD(read_rule_body(&rule, body, err));

	rules = wd_reallocarray(policy->rules, policy->count + 1, sizeof(*rules));
	WD_ENSURE(rules, WD_ENOMEM);
	policy->rules = rules;
	rules[policy->count++] = rule;
	return 0;
out:
	rule_clear(&rule);
	return rc;
}

/* Reads `path "pattern" { ... }` members; JSON may also give a pattern a
 * list of blocks, as HCL 1's JSON form allows. */
static int read_paths(struct acl_policy *policy, const struct acl_value *paths,
	struct wd_error *err)
{
	if (paths->kind == ACL_VALUE_LIST) {
		for (const struct acl_value *item = paths->first; item; item = item->next)
			WD_TRY(read_paths(policy, item, err));
		return 0;
	}
	if (paths->kind != ACL_VALUE_OBJECT)
		return wd_error_set(err, WD_EINVAL, "\"path\" must be a block at line %u", paths->line);

	for (const struct acl_value *member = paths->first; member; member = member->next) {
		if (member->kind != ACL_VALUE_LIST) {
			WD_TRY(add_rule(policy, member, member, err));
			continue;
		}
		for (const struct acl_value *body = member->first; body; body = body->next)
			WD_TRY(add_rule(policy, member, body, err));
	}
	return 0;
}

static int read_policy(struct acl_policy *policy, const struct acl_value *root,
	struct wd_error *err)
{
	for (const struct acl_value *member = root->first; member; member = member->next) {
		if (key_is(member, "path"))
			WD_TRY(read_paths(policy, member, err));
		else if (key_is(member, "name") && member->kind == ACL_VALUE_STRING)
			continue; /* Vault's deprecated in-text name; the API path names the policy */
		else
			return wd_error_set(err, WD_EINVAL, "unknown key \"%.*s\" at line %u",
				quote_len(member->key_len), member->key, member->line);
	}
	return 0;
}

int acl_policy_parse(const char *name, const char *text, size_t len,
	struct acl_policy **ret_policy, struct wd_error *err)
{
	struct acl_document *doc = NULL;
	struct acl_policy *policy = NULL;
	int rc = 0;

	*ret_policy = NULL;
	policy = calloc(1, sizeof(*policy));
	WD_ENSURE(policy, WD_ENOMEM);
	policy->name = wd_strdup(name ? name : "");
	WD_ENSURE(policy->name, WD_ENOMEM);

	WD_GUARD(acl_syntax_parse(text, len, &doc, err));
	WD_GUARD(read_policy(policy, acl_document_root(doc), err));

	*ret_policy = WD_TAKE_PTR(policy);
out:
	if (rc == WD_ENOMEM)
		wd_error_set(err, WD_ENOMEM, "out of memory reading the policy");
	acl_document_free(doc);
	acl_policy_free(policy);
	return rc;
}

void acl_policy_free(struct acl_policy *policy)
{
	if (!policy)
		return;
	for (size_t i = 0; i < policy->count; i++)
		rule_clear(&policy->rules[i]);
	free(policy->rules);
	free(policy->name);
	free(policy);
}
