// Unit tests of ACL policies: HCL and JSON parsing, every rejection
// message, pattern matching with '*' and '+', Vault's priority rules,
// deny, the union across policies, parameter limits, and the built-in
// root and default policies.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "secrets/acl.h"
#include "secrets/acl_internal.h"
#include "secrets/token.h"

#define ALL_CRUDL (ACL_CAP_CREATE | ACL_CAP_READ | ACL_CAP_UPDATE | ACL_CAP_DELETE | ACL_CAP_LIST)

static struct acl_policy *parse_ok(const char *text)
{
	struct acl_policy *policy = NULL;
	struct wd_error err = { 0 };
	int rc = acl_policy_parse("test", text, strlen(text), &policy, &err);

	if (rc != 0)
		fail_msg("parse failed: %s", wd_error_text(&err));
	assert_non_null(policy);
	return policy;
}

static void expect_error(const char *text, int code, const char *message)
{
	struct acl_policy *policy = (struct acl_policy *)1;
	struct wd_error err = { 0 };
	int rc = acl_policy_parse("test", text, strlen(text), &policy, &err);

	assert_int_equal(rc, code);
	assert_null(policy);
	assert_string_equal(wd_error_text(&err), message);
}

static const struct acl_rule *find_rule(const struct acl_policy *policy, const char *pattern)
{
	for (size_t i = 0; i < policy->count; i++) {
		if (strcmp(policy->rules[i].pattern, pattern) == 0)
			return &policy->rules[i];
	}
	fail_msg("no rule %s", pattern);
	return NULL;
}

static unsigned caps_of(struct acl_policy *policy, const char *path)
{
	return acl_capabilities(&policy, 1, path);
}

// --- parsing ---

static const char hcl_policy[] =
	"# Dynamic database credentials\n"
	"path \"database/creds/readonly\" { capabilities = [\"read\"] }\n"
	"path \"secret/data/app/*\" {\n"
	"  capabilities = [\"create\", \"read\", \"update\", \"delete\", \"list\"]\n"
	"}\n"
	"path \"secret/+/team/*\" { capabilities = [\"deny\"] }\n";

static void parse_hcl_rules(void **state)
{
	struct acl_policy *policy = parse_ok(hcl_policy);
	const struct acl_rule *rule;

	(void)state;
	assert_string_equal(policy->name, "test");
	assert_int_equal(policy->count, 3);

	rule = find_rule(policy, "database/creds/readonly");
	assert_int_equal(rule->caps, ACL_CAP_READ);
	assert_false(rule->is_prefix);
	assert_false(rule->has_plus);
	assert_int_equal(rule->line, 2);

	rule = find_rule(policy, "secret/data/app/*");
	assert_int_equal(rule->caps, ALL_CRUDL);
	assert_true(rule->is_prefix);
	assert_int_equal(rule->stem_len, strlen("secret/data/app/"));
	assert_int_equal(rule->first_wildcard, strlen("secret/data/app/"));
	assert_int_equal(rule->line, 3);

	rule = find_rule(policy, "secret/+/team/*");
	assert_int_equal(rule->caps, ACL_CAP_DENY);
	assert_true(rule->has_plus);
	assert_int_equal(rule->plus_count, 1);
	assert_int_equal(rule->first_wildcard, strlen("secret/"));
	assert_int_equal(rule->line, 6);
	acl_policy_free(policy);
}

static void parse_json_rules(void **state)
{
	struct acl_policy *policy = parse_ok(
		"{\n"
		"  \"path\": {\n"
		"    \"database/creds/readonly\": {\"capabilities\": [\"read\"]},\n"
		"    \"secret/data/app/*\": {\"capabilities\": [\"create\", \"read\", \"update\", \"delete\", \"list\"]},\n"
		"    \"secret/+/team/*\": {\"capabilities\": [\"deny\"]}\n"
		"  }\n"
		"}\n");

	(void)state;
	assert_int_equal(policy->count, 3);
	assert_int_equal(find_rule(policy, "database/creds/readonly")->caps, ACL_CAP_READ);
	assert_int_equal(find_rule(policy, "database/creds/readonly")->line, 3);
	assert_int_equal(find_rule(policy, "secret/data/app/*")->caps, ALL_CRUDL);
	assert_int_equal(find_rule(policy, "secret/+/team/*")->caps, ACL_CAP_DENY);
	acl_policy_free(policy);
}

static void parse_json_list_forms(void **state)
{
	// HCL 1's JSON form also accepts lists of blocks.
	struct acl_policy *policy = parse_ok(
		"{\"path\": [{\"a\": {\"capabilities\": [\"read\"]}},"
		" {\"b\": [{\"capabilities\": [\"list\"]}, {\"capabilities\": [\"sudo\"]}]}]}");

	(void)state;
	assert_int_equal(policy->count, 3);
	assert_int_equal(policy->rules[0].caps, ACL_CAP_READ);
	assert_string_equal(policy->rules[1].pattern, "b");
	assert_int_equal(policy->rules[1].caps, ACL_CAP_LIST);
	assert_int_equal(policy->rules[2].caps, ACL_CAP_SUDO);
	assert_int_equal(caps_of(policy, "b"), ACL_CAP_LIST | ACL_CAP_SUDO);
	acl_policy_free(policy);
}

static void parse_comments(void **state)
{
	struct acl_policy *policy = parse_ok(
		"// line comment\n"
		"/* block\n comment */ path \"a\" {\n"
		"  # hash comment\n"
		"  capabilities = [\"read\", /* inline */ \"list\",] // trailing comma\n"
		"}\n"
		"path \"b\" { capabilities = [\"patch\"] }");

	(void)state;
	assert_int_equal(policy->count, 2);
	assert_int_equal(find_rule(policy, "a")->caps, ACL_CAP_READ | ACL_CAP_LIST);
	assert_int_equal(find_rule(policy, "a")->line, 3);
	assert_int_equal(find_rule(policy, "b")->caps, ACL_CAP_PATCH);
	assert_int_equal(find_rule(policy, "b")->line, 7);
	acl_policy_free(policy);
}

static void parse_legacy_policy(void **state)
{
	struct acl_policy *policy = parse_ok(
		"path \"r\" { policy = \"read\" }\n"
		"path \"w\" { policy = \"write\" }\n"
		"path \"s\" { policy = \"sudo\" }\n"
		"path \"d\" { policy = \"deny\" }\n"
		"path \"mix\" { policy = \"read\"\n capabilities = [\"patch\"] }\n");

	(void)state;
	assert_int_equal(find_rule(policy, "r")->caps, ACL_CAP_READ | ACL_CAP_LIST);
	assert_int_equal(find_rule(policy, "w")->caps, ALL_CRUDL);
	assert_int_equal(find_rule(policy, "s")->caps, ALL_CRUDL | ACL_CAP_SUDO);
	assert_int_equal(find_rule(policy, "d")->caps, ACL_CAP_DENY);
	assert_int_equal(find_rule(policy, "mix")->caps, ACL_CAP_READ | ACL_CAP_LIST | ACL_CAP_PATCH);
	acl_policy_free(policy);
}

static void parse_deny_clears_others(void **state)
{
	struct acl_policy *policy = parse_ok(
		"path \"x\" {\n"
		"  capabilities = [\"read\", \"deny\", \"sudo\"]\n"
		"  allowed_parameters = { \"a\" = [] }\n"
		"}\n");

	(void)state;
	assert_int_equal(find_rule(policy, "x")->caps, ACL_CAP_DENY);
	assert_null(find_rule(policy, "x")->params.allowed);
	acl_policy_free(policy);
}

static void parse_parameters(void **state)
{
	struct acl_policy *policy = parse_ok(
		"path \"secret/data/app\" {\n"
		"  capabilities = [\"create\", \"update\"]\n"
		"  allowed_parameters = {\n"
		"    \"Color\" = [\"red\", \"blu*\"]\n"
		"    \"ttl\" = [30, 1.5, true]\n"
		"    \"*\" = []\n"
		"  }\n"
		"  denied_parameters { \"password\" = [] }\n"
		"  required_parameters = [\"Owner\"]\n"
		"  min_wrapping_ttl = \"1s\"\n"
		"  max_wrapping_ttl = 90\n"
		"  comment = \"parsed and ignored\"\n"
		"}\n");
	const struct acl_rule *rule = find_rule(policy, "secret/data/app");
	char *dump;

	(void)state;
	dump = json_dumps(rule->params.allowed, JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(dump, "{\"*\":[],\"color\":[\"red\",\"blu*\"],\"ttl\":[30,1.5,true]}");
	free(dump);
	dump = json_dumps(rule->params.denied, JSON_COMPACT);
	assert_string_equal(dump, "{\"password\":[]}");
	free(dump);
	dump = json_dumps(rule->params.required, JSON_COMPACT);
	assert_string_equal(dump, "[\"owner\"]");
	free(dump);
	acl_policy_free(policy);
}

static void parse_escapes_and_leading_slash(void **state)
{
	struct acl_policy *policy = parse_ok(
		"{\"path\": {\"/secret/\\u00e9t\\u00e9\": {\"capabilities\": [\"read\"]},"
		" \"x\\/y\": {\"capabilities\": [\"list\"]}, \"\\ud83d\\ude00\": {\"capabilities\": [\"read\"]}}}");

	(void)state;
	assert_int_equal(find_rule(policy, "secret/\xc3\xa9t\xc3\xa9")->caps, ACL_CAP_READ);
	assert_int_equal(find_rule(policy, "x/y")->caps, ACL_CAP_LIST);
	assert_int_equal(find_rule(policy, "\xf0\x9f\x98\x80")->caps, ACL_CAP_READ);
	acl_policy_free(policy);
}

static void parse_empty_policy(void **state)
{
	struct acl_policy *policy = parse_ok("  # nothing but a comment\n");

	(void)state;
	assert_int_equal(policy->count, 0);
	assert_int_equal(caps_of(policy, "secret/x"), 0);
	acl_policy_free(policy);
	policy = parse_ok("{}");
	assert_int_equal(policy->count, 0);
	acl_policy_free(policy);
	policy = parse_ok("name = \"old-style\"\npath \"a\" { capabilities = [] }");
	assert_int_equal(policy->count, 1);
	assert_int_equal(policy->rules[0].caps, 0);
	acl_policy_free(policy);
}

// --- rejections ---

static void reject_unknown_capability(void **state)
{
	(void)state;
	expect_error("path \"secret/*\" {\n"
		     "  capabilities = [\n"
		     "    \"reed\"]\n"
		     "}\n",
		WD_EINVAL, "unknown capability \"reed\" at line 3");
	expect_error("{\"path\": {\"a\": {\"capabilities\": [\"read\", \"subscribe\"]}}}", WD_EINVAL,
		"unknown capability \"subscribe\" at line 1");
	expect_error("path \"a\" { capabilities = \"read\" }", WD_EINVAL,
		"\"capabilities\" must be a list of strings at line 1");
	expect_error("path \"a\" { capabilities = [1] }", WD_EINVAL,
		"\"capabilities\" must be a list of strings at line 1");
}

static void reject_wildcards(void **state)
{
	(void)state;
	expect_error("path \"secret/+*\" { capabilities = [\"read\"] }", WD_EINVAL,
		"invalid use of wildcards ('+*' is forbidden) in path \"secret/+*\" at line 1");
	expect_error("\n\npath \"secret/*/x\" { capabilities = [\"read\"] }", WD_EINVAL,
		"'*' is allowed only as the last character, in path \"secret/*/x\" at line 3");
	expect_error("path \"a**\" { capabilities = [\"read\"] }", WD_EINVAL,
		"'*' is allowed only as the last character, in path \"a**\" at line 1");
	expect_error("path \"\" { capabilities = [\"read\"] }", WD_EINVAL,
		"empty path pattern at line 1");
}

static void reject_unknown_keys(void **state)
{
	(void)state;
	expect_error("path \"a\" {\n  capabilities = [\"read\"]\n  capabilites = [\"list\"]\n}", WD_EINVAL,
		"unknown key \"capabilites\" in path \"a\" at line 3");
	expect_error("pathh \"a\" { capabilities = [\"read\"] }", WD_EINVAL,
		"unknown key \"pathh\" at line 1");
	expect_error("path \"a\" { control_group = { ttl = \"1h\" } }", WD_EINVAL,
		"\"control_group\" is a Vault Enterprise feature and is not supported at line 1");
	expect_error("path \"a\" { policy = \"admin\" }", WD_EINVAL,
		"unknown policy \"admin\" at line 1 (expected deny, read, write or sudo)");
	expect_error("path = \"a\"", WD_EINVAL, "\"path\" must be a block at line 1");
	expect_error("path \"a\" = [1]", WD_EINVAL, "path \"a\" must be a block at line 1");
}

static void reject_bad_parameters(void **state)
{
	(void)state;
	expect_error("path \"a\" { allowed_parameters = { \"x\" = \"y\" } }", WD_EINVAL,
		"allowed_parameters: \"x\" must be a list at line 1");
	expect_error("path \"a\" { denied_parameters = { \"x*\" = [] } }", WD_EINVAL,
		"denied_parameters: parameter key \"x*\" may use '*' only as the whole key at line 1");
	expect_error("path \"a\" { required_parameters = [\"*\"] }", WD_EINVAL,
		"required_parameters: parameter key \"*\" may not contain '*' at line 1");
	expect_error("path \"a\" { allowed_parameters = { \"x\" = [[1]] } }", WD_EINVAL,
		"allowed_parameters: values of \"x\" must be strings, numbers or booleans at line 1");
	expect_error("path \"a\" { allowed_parameters = { \"x\" = [1e999] } }", WD_EINVAL,
		"allowed_parameters: number out of range at line 1");
	expect_error("path \"a\" { min_wrapping_ttl = \"soon\" }", WD_EINVAL,
		"\"min_wrapping_ttl\" is not a valid duration at line 1");
	expect_error("path \"a\" { max_wrapping_ttl = [1] }", WD_EINVAL,
		"\"max_wrapping_ttl\" is not a valid duration at line 1");
	expect_error("path \"a\" { max_wrapping_ttl = -5 }", WD_EINVAL,
		"\"max_wrapping_ttl\" is not a valid duration at line 1");
	expect_error("path \"a\" {\n min_wrapping_ttl = \"1h\"\n max_wrapping_ttl = \"1m\" }", WD_EINVAL,
		"max_wrapping_ttl cannot be less than min_wrapping_ttl in path \"a\" at line 1");
}

static void reject_bad_syntax(void **state)
{
	(void)state;
	expect_error("path \"a\" {\n  capabilities = [\"read\"]\n", WD_EINVAL,
		"expected '}' but found end of input at line 3");
	expect_error("path \"a { capabilities = [\"read\"] }", WD_EINVAL,
		"unterminated string at line 1");
	expect_error("path \"a\n\" {}", WD_EINVAL, "unterminated string at line 1");
	expect_error("path \"a\" { capabilities = [\"read\" \"list\"] }", WD_EINVAL,
		"expected ',' or ']' but found string \"list\" at line 1");
	expect_error("path \"a\" { capabilities [\"read\"] }", WD_EINVAL,
		"expected '=' or '{' but found '[' at line 1");
	expect_error("\n}", WD_EINVAL, "expected a key but found '}' at line 2");
	expect_error("path \"a\" { capabilities = read }", WD_EINVAL,
		"expected a value but found identifier \"read\" at line 1");
	expect_error("path \"a\" { policy = <<EOF\nread\nEOF\n}", WD_EINVAL,
		"heredoc strings are not supported at line 1");
	expect_error("/* never closed\npath \"a\" {}", WD_EINVAL,
		"unterminated comment starting at line 1");
	expect_error("{\"path\": {}} extra", WD_EINVAL,
		"expected end of input but found identifier \"extra\" at line 1");
	expect_error("path \"\\q\" {}", WD_EINVAL, "invalid escape \"\\q\" in string at line 1");
	expect_error("path \"\\ud800\" {}", WD_EINVAL, "unpaired UTF-16 surrogate in string at line 1");
	expect_error("path \"\\u0000\" {}", WD_EINVAL, "NUL character in string at line 1");
	expect_error("path \"\xff\" {}", WD_EINVAL, "invalid UTF-8 in string at line 1");
	expect_error("path \"a\" { x = 1.}", WD_EINVAL, "invalid number at line 1");
	expect_error("@", WD_EINVAL, "unexpected character '@' at line 1");
	expect_error("path \"a\" \"b\" \"c\" \"d\" \"e\" {}", WD_EINVAL,
		"block has more than 4 labels at line 1");
}

static void reject_nul_byte(void **state)
{
	static const char text[] = "path \"a\" {}\n\0";
	struct acl_policy *policy = NULL;
	struct wd_error err = { 0 };

	(void)state;
	assert_int_equal(acl_policy_parse("t", text, sizeof(text) - 1, &policy, &err), WD_EINVAL);
	assert_string_equal(wd_error_text(&err), "unexpected byte 0x00 at line 2");
}

static void reject_over_limits(void **state)
{
	size_t depth = ACL_POLICY_MAX_DEPTH + 1, len = ACL_POLICY_MAX_BYTES + 1;
	char *text = malloc(len + 1);
	struct wd_buf many;

	(void)state;
	assert_non_null(text);

	// Nesting: x = [[[[...]]]] one level deeper than allowed.
	memcpy(text, "x = ", 4);
	memset(text + 4, '[', depth);
	memset(text + 4 + depth, ']', depth);
	text[4 + 2 * depth] = '\0';
	expect_error(text, WD_ETOOBIG, "policy is nested deeper than 16 levels at line 1");

	memset(text, ' ', len);
	text[len] = '\0';
	expect_error(text, WD_ETOOBIG, "policy text is longer than 524288 bytes");
	free(text);

	// Values: one list with more items than the ceiling.
	wd_buf_init(&many, 4096, ACL_POLICY_MAX_BYTES);
	assert_int_equal(wd_buf_append_str(&many, "x = ["), 0);
	for (unsigned i = 0; i < ACL_POLICY_MAX_VALUES + 1; i++)
		assert_int_equal(wd_buf_append_str(&many, "1,"), 0);
	assert_int_equal(wd_buf_append_str(&many, "]"), 0);
	expect_error(wd_buf_str(&many), WD_ETOOBIG, "policy holds more than 65536 values at line 1");
	wd_buf_free(&many);
}

// --- matching ---

static void match_exact_and_glob(void **state)
{
	struct acl_policy *policy = parse_ok(hcl_policy);

	(void)state;
	assert_int_equal(caps_of(policy, "database/creds/readonly"), ACL_CAP_READ);
	assert_int_equal(caps_of(policy, "database/creds/readonly2"), 0);
	assert_int_equal(caps_of(policy, "database/creds"), 0);
	assert_int_equal(caps_of(policy, "secret/data/app/"), ALL_CRUDL);
	assert_int_equal(caps_of(policy, "secret/data/app/x/y"), ALL_CRUDL);
	assert_int_equal(caps_of(policy, "secret/data/app"), 0);
	// The deny pattern matches one segment, then the prefix.
	assert_int_equal(caps_of(policy, "secret/kv/team/x"), ACL_CAP_DENY);
	assert_int_equal(caps_of(policy, "secret/kv/team/"), ACL_CAP_DENY);
	assert_int_equal(caps_of(policy, "secret/kv/team"), 0);
	assert_int_equal(caps_of(policy, "secret/a/b/team/x"), 0);
	acl_policy_free(policy);
}

static void match_plus_segments(void **state)
{
	struct acl_policy *policy = parse_ok(
		"path \"secret/+/teamb\" { capabilities = [\"read\"] }\n"
		"path \"secret/+/+/teamb\" { capabilities = [\"list\"] }\n"
		"path \"kv/+/conf*\" { capabilities = [\"update\"] }\n"
		"path \"+\" { capabilities = [\"sudo\"] }\n");

	(void)state;
	assert_int_equal(caps_of(policy, "secret/foo/teamb"), ACL_CAP_READ);
	assert_int_equal(caps_of(policy, "secret/foo/bar/teamb"), ACL_CAP_LIST);
	assert_int_equal(caps_of(policy, "secret/foo/teamb/x"), 0);
	assert_int_equal(caps_of(policy, "secret/teamb"), 0);
	// "+" matches an empty segment too, as in Vault.
	assert_int_equal(caps_of(policy, "secret//teamb"), ACL_CAP_READ);
	assert_int_equal(caps_of(policy, "kv/a/config"), ACL_CAP_UPDATE);
	assert_int_equal(caps_of(policy, "kv/a/conf/deeper"), ACL_CAP_UPDATE);
	assert_int_equal(caps_of(policy, "kv/a/con"), 0);
	assert_int_equal(caps_of(policy, "kv/config"), 0);
	assert_int_equal(caps_of(policy, "anything"), ACL_CAP_SUDO);
	assert_int_equal(caps_of(policy, "any/thing"), 0);
	acl_policy_free(policy);
}

static void match_list_uses_exact_without_slash(void **state)
{
	struct acl_policy *policy = parse_ok("path \"secret/metadata/app\" { capabilities = [\"list\"] }");
	struct acl_selection selection;

	(void)state;
	acl_select(&policy, 1, "secret/metadata/app/", true, &selection);
	assert_int_equal(selection.caps, ACL_CAP_LIST);
	assert_string_equal(selection.pattern, "secret/metadata/app");
	acl_select(&policy, 1, "secret/metadata/app/", false, &selection);
	assert_int_equal(selection.caps, 0);
	assert_null(selection.pattern);
	acl_policy_free(policy);
}

// The winner between two patterns that both match path, in both orders.
static void expect_winner(const char *winner, const char *loser, const char *path)
{
	char text[512];
	struct acl_policy *policy;
	struct acl_selection selection;

	snprintf(text, sizeof(text),
		"path \"%s\" { capabilities = [\"read\"] }\npath \"%s\" { capabilities = [\"list\"] }",
		loser, winner);
	policy = parse_ok(text);
	acl_select(&policy, 1, path, false, &selection);
	assert_non_null(selection.pattern);
	assert_string_equal(selection.pattern, winner);
	assert_int_equal(selection.caps, ACL_CAP_LIST);
	acl_policy_free(policy);

	snprintf(text, sizeof(text),
		"path \"%s\" { capabilities = [\"list\"] }\npath \"%s\" { capabilities = [\"read\"] }",
		winner, loser);
	policy = parse_ok(text);
	acl_select(&policy, 1, path, false, &selection);
	assert_string_equal(selection.pattern, winner);
	assert_int_equal(selection.caps, ACL_CAP_LIST);
	acl_policy_free(policy);
}

static void priority_rules(void **state)
{
	(void)state;
	// Vault's own example: the same first wildcard, both end in '*', and
	// "secret/+/*" has more "+" segments, so "secret/*" wins.
	expect_winner("secret/*", "secret/+/*", "secret/foo/bar");
	// An exact pattern wins over every wildcard.
	expect_winner("secret/foo", "secret/foo*", "secret/foo");
	expect_winner("secret/foo", "secret/+", "secret/foo");
	// 1. The first wildcard comes later.
	expect_winner("secret/foo/+/bar", "secret/+/baz/bar", "secret/foo/baz/bar");
	expect_winner("secret/foo/bar*", "secret/+/bar", "secret/foo/bar");
	// 2. Not ending in '*' beats ending in '*'.
	expect_winner("a/+/c", "a/+/c*", "a/b/c");
	// 3. Fewer "+" segments.
	expect_winner("a/+/c", "a/+/+", "a/b/c");
	// 4. Longer beats shorter.
	expect_winner("a/+/cd*", "a/+/c*", "a/b/cde");
	expect_winner("secret/foo*", "secret/*", "secret/foobar");
	// 5. Lexically larger beats smaller when all else ties ('b' > '+').
	expect_winner("a/+/b/+", "a/+/+/c", "a/x/b/c");
}

static void union_same_pattern(void **state)
{
	struct acl_policy *policies[2];

	(void)state;
	policies[0] = parse_ok("path \"secret/data/*\" { capabilities = [\"read\"] }");
	policies[1] = parse_ok("path \"secret/data/*\" { capabilities = [\"update\", \"list\"] }");
	assert_int_equal(acl_capabilities(policies, 2, "secret/data/x"),
		ACL_CAP_READ | ACL_CAP_UPDATE | ACL_CAP_LIST);
	acl_policy_free(policies[0]);
	acl_policy_free(policies[1]);
}

static void highest_pattern_only(void **state)
{
	struct acl_policy *policies[2];

	(void)state;
	policies[0] = parse_ok("path \"secret/*\" { capabilities = [\"read\", \"sudo\"] }");
	policies[1] = parse_ok("path \"secret/foo/*\" { capabilities = [\"create\"] }");
	assert_int_equal(acl_capabilities(policies, 2, "secret/foo/x"), ACL_CAP_CREATE);
	assert_int_equal(acl_capabilities(policies, 2, "secret/bar"), ACL_CAP_READ | ACL_CAP_SUDO);
	acl_policy_free(policies[0]);
	acl_policy_free(policies[1]);
}

static void deny_wins_same_pattern(void **state)
{
	struct acl_policy *policies[2];
	struct acl_selection selection;

	(void)state;
	policies[0] = parse_ok("path \"secret/x\" { capabilities = [\"read\", \"update\"] }");
	policies[1] = parse_ok("path \"secret/x\" { capabilities = [\"deny\"] }");
	acl_select(policies, 2, "secret/x", false, &selection);
	assert_int_equal(selection.caps, ACL_CAP_DENY);
	acl_policy_free(policies[0]);
	acl_policy_free(policies[1]);

	// A deny on a lower-priority pattern does not apply.
	policies[0] = parse_ok("path \"secret/*\" { capabilities = [\"deny\"] }");
	policies[1] = parse_ok("path \"secret/open\" { capabilities = [\"read\"] }");
	assert_int_equal(acl_capabilities(policies, 2, "secret/open"), ACL_CAP_READ);
	assert_int_equal(acl_capabilities(policies, 2, "secret/closed"), ACL_CAP_DENY);
	acl_policy_free(policies[0]);
	acl_policy_free(policies[1]);
}

// --- parameters ---

static bool body_allowed(struct acl_policy *const *policies, size_t count, const char *path,
	enum vault_op op, const char *body_text)
{
	struct acl_selection selection;
	struct acl_params params;
	json_t *body = body_text ? json_loads(body_text, 0, NULL) : NULL;
	bool allowed;

	acl_select(policies, count, path, false, &selection);
	assert_int_equal(acl_params_merge(policies, count, &selection, &params), 0);
	allowed = acl_params_allow(&params, op, body);
	acl_params_clear(&params);
	json_decref(body);
	return allowed;
}

static void parameters_enforced(void **state)
{
	struct acl_policy *policy = parse_ok(
		"path \"app\" {\n"
		"  capabilities = [\"create\", \"update\", \"read\", \"delete\"]\n"
		"  allowed_parameters = { \"color\" = [\"red\", \"blu*\", \"*een\", \"*ell*\"], \"ttl\" = [30], \"note\" = [], \"owner\" = [] }\n"
		"  denied_parameters = { \"color\" = [\"bluest\"] }\n"
		"  required_parameters = [\"Owner\"]\n"
		"}\n"
		"path \"open\" { capabilities = [\"update\"]\n denied_parameters = { \"*\" = [] } }\n");

	(void)state;
	assert_true(body_allowed(&policy, 1, "app", VAULT_OP_UPDATE, "{\"owner\":\"a\",\"color\":\"red\"}"));
	assert_true(body_allowed(&policy, 1, "app", VAULT_OP_UPDATE, "{\"owner\":\"a\",\"COLOR\":\"blue\"}"));
	assert_true(body_allowed(&policy, 1, "app", VAULT_OP_UPDATE, "{\"owner\":\"a\",\"color\":\"green\"}"));
	assert_true(body_allowed(&policy, 1, "app", VAULT_OP_UPDATE, "{\"owner\":\"a\",\"color\":\"yellow\"}"));
	assert_true(body_allowed(&policy, 1, "app", VAULT_OP_CREATE, "{\"owner\":\"a\",\"ttl\":30.0,\"note\":[1]}"));
	// Not in the allowed values, denied value, unknown key, missing owner.
	assert_false(body_allowed(&policy, 1, "app", VAULT_OP_UPDATE, "{\"owner\":\"a\",\"color\":\"pink\"}"));
	assert_false(body_allowed(&policy, 1, "app", VAULT_OP_UPDATE, "{\"owner\":\"a\",\"color\":\"bluest\"}"));
	assert_false(body_allowed(&policy, 1, "app", VAULT_OP_UPDATE, "{\"owner\":\"a\",\"size\":1}"));
	assert_false(body_allowed(&policy, 1, "app", VAULT_OP_UPDATE, "{\"owner\":\"a\",\"ttl\":31}"));
	assert_false(body_allowed(&policy, 1, "app", VAULT_OP_UPDATE, "{\"color\":\"red\"}"));
	assert_false(body_allowed(&policy, 1, "app", VAULT_OP_READ, NULL));
	// Delete and list carry no parameters to check.
	assert_true(body_allowed(&policy, 1, "app", VAULT_OP_DELETE, "{\"size\":1}"));
	// "*" denied: any non-empty body fails, an empty one passes.
	assert_false(body_allowed(&policy, 1, "open", VAULT_OP_UPDATE, "{\"a\":1}"));
	assert_true(body_allowed(&policy, 1, "open", VAULT_OP_UPDATE, "{}"));
	acl_policy_free(policy);
}

static void parameters_merged_across_policies(void **state)
{
	struct acl_policy *policies[2];

	(void)state;
	policies[0] = parse_ok("path \"p\" { capabilities = [\"update\"]\n"
			       "  allowed_parameters = { \"a\" = [\"1\"], \"b\" = [\"x\"] } }");
	policies[1] = parse_ok("path \"p\" { capabilities = [\"update\"]\n"
			       "  allowed_parameters = { \"a\" = [\"2\"], \"b\" = [], \"c\" = [] }\n"
			       "  required_parameters = [\"a\"] }");
	// Values concatenate, an empty list wins, keys add up.
	assert_true(body_allowed(policies, 2, "p", VAULT_OP_UPDATE, "{\"a\":\"1\"}"));
	assert_true(body_allowed(policies, 2, "p", VAULT_OP_UPDATE, "{\"a\":\"2\",\"b\":\"any\",\"c\":0}"));
	assert_false(body_allowed(policies, 2, "p", VAULT_OP_UPDATE, "{\"a\":\"3\"}"));
	assert_false(body_allowed(policies, 2, "p", VAULT_OP_UPDATE, "{\"b\":\"x\"}"));
	acl_policy_free(policies[0]);
	acl_policy_free(policies[1]);
}

// --- root, default and the check ---

static void default_policy_capabilities(void **state)
{
	struct acl_policy *policy = parse_ok(acl_default_policy_text);

	(void)state;
	assert_int_equal(caps_of(policy, "auth/token/lookup-self"), ACL_CAP_READ);
	assert_int_equal(caps_of(policy, "auth/token/renew-self"), ACL_CAP_UPDATE);
	assert_int_equal(caps_of(policy, "auth/token/revoke-self"), ACL_CAP_UPDATE);
	assert_int_equal(caps_of(policy, "sys/capabilities-self"), ACL_CAP_UPDATE);
	assert_int_equal(caps_of(policy, "sys/leases/lookup"), ACL_CAP_UPDATE);
	assert_int_equal(caps_of(policy, "sys/leases/renew"), ACL_CAP_UPDATE);
	assert_int_equal(caps_of(policy, "sys/renew"), ACL_CAP_UPDATE);
	assert_int_equal(caps_of(policy, "sys/tools/hash"), ACL_CAP_UPDATE);
	assert_int_equal(caps_of(policy, "sys/tools/hash/sha2-256"), ACL_CAP_UPDATE);
	assert_int_equal(caps_of(policy, "cubbyhole/mine"), ALL_CRUDL);
	assert_int_equal(caps_of(policy, "auth/token/create"), 0);
	assert_int_equal(caps_of(policy, "secret/data/x"), 0);
	acl_policy_free(policy);
}

static struct vault_token *make_token(const char *policies_json)
{
	struct vault_token *token = calloc(1, sizeof(*token));

	assert_non_null(token);
	token->policies = json_loads(policies_json, 0, NULL);
	assert_non_null(token->policies);
	return token;
}

static void drop_token(struct vault_token *token)
{
	json_decref(token->policies);
	free(token);
}

static void root_token_passes(void **state)
{
	struct secrets secrets = { 0 };
	struct vault_token *root = make_token("[\"root\"]");
	struct wd_error err = { 0 };
	bool is_root = false;
	unsigned caps = 0;

	(void)state;
	assert_int_equal(acl_check(&secrets, root, "sys/seal", VAULT_OP_UPDATE, true, &err), 0);
	assert_int_equal(acl_check(&secrets, root, "anything/at/all", VAULT_OP_DELETE, false, &err), 0);
	assert_int_equal(acl_token_capabilities(&secrets, root, "x", &caps, &is_root, &err), 0);
	assert_true(is_root);
	assert_int_equal(caps, ACL_CAP_ALL);
	drop_token(root);
}

static void missing_token_denied(void **state)
{
	struct secrets secrets = { 0 };
	struct vault_token *none = make_token("[]");
	struct wd_error err = { 0 };

	(void)state;
	assert_int_equal(acl_check(&secrets, NULL, "secret/x", VAULT_OP_READ, false, &err), WD_EPERM);
	assert_string_equal(wd_error_text(&err), "permission denied");
	// No policies at all: nothing to load, nothing allowed.
	assert_int_equal(acl_check(&secrets, none, "secret/x", VAULT_OP_READ, false, &err), WD_EPERM);
	assert_string_equal(wd_error_text(&err), "permission denied");
	drop_token(none);
}

static void capability_names_sorted(void **state)
{
	json_t *list = json_array();
	char *dump;

	(void)state;
	assert_int_equal(acl_caps_to_json(ACL_CAP_ALL, list), 0);
	dump = json_dumps(list, JSON_COMPACT);
	assert_string_equal(dump, "[\"create\",\"delete\",\"list\",\"patch\",\"read\",\"sudo\",\"update\"]");
	free(dump);
	json_array_clear(list);
	assert_int_equal(acl_caps_to_json(0, list), 0);
	assert_int_equal(acl_caps_to_json(ACL_CAP_DENY, list), 0);
	dump = json_dumps(list, JSON_COMPACT);
	assert_string_equal(dump, "[\"deny\",\"deny\"]");
	free(dump);
	json_decref(list);
}

static void op_capabilities(void **state)
{
	(void)state;
	assert_int_equal(acl_op_capability(VAULT_OP_READ), ACL_CAP_READ);
	assert_int_equal(acl_op_capability(VAULT_OP_HEAD), ACL_CAP_READ);
	assert_int_equal(acl_op_capability(VAULT_OP_LIST), ACL_CAP_LIST);
	assert_int_equal(acl_op_capability(VAULT_OP_CREATE), ACL_CAP_CREATE);
	assert_int_equal(acl_op_capability(VAULT_OP_UPDATE), ACL_CAP_UPDATE);
	assert_int_equal(acl_op_capability(VAULT_OP_DELETE), ACL_CAP_DELETE);
	assert_int_equal(acl_op_capability(VAULT_OP_PATCH), ACL_CAP_PATCH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_hcl_rules),
		cmocka_unit_test(parse_json_rules),
		cmocka_unit_test(parse_json_list_forms),
		cmocka_unit_test(parse_comments),
		cmocka_unit_test(parse_legacy_policy),
		cmocka_unit_test(parse_deny_clears_others),
		cmocka_unit_test(parse_parameters),
		cmocka_unit_test(parse_escapes_and_leading_slash),
		cmocka_unit_test(parse_empty_policy),
		cmocka_unit_test(reject_unknown_capability),
		cmocka_unit_test(reject_wildcards),
		cmocka_unit_test(reject_unknown_keys),
		cmocka_unit_test(reject_bad_parameters),
		cmocka_unit_test(reject_bad_syntax),
		cmocka_unit_test(reject_nul_byte),
		cmocka_unit_test(reject_over_limits),
		cmocka_unit_test(match_exact_and_glob),
		cmocka_unit_test(match_plus_segments),
		cmocka_unit_test(match_list_uses_exact_without_slash),
		cmocka_unit_test(priority_rules),
		cmocka_unit_test(union_same_pattern),
		cmocka_unit_test(highest_pattern_only),
		cmocka_unit_test(deny_wins_same_pattern),
		cmocka_unit_test(parameters_enforced),
		cmocka_unit_test(parameters_merged_across_policies),
		cmocka_unit_test(default_policy_capabilities),
		cmocka_unit_test(root_token_passes),
		cmocka_unit_test(missing_token_denied),
		cmocka_unit_test(capability_names_sorted),
		cmocka_unit_test(op_capabilities),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
