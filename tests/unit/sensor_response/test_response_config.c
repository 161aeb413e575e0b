/* The response file parser, the per-rule plan and its precedence, the
 * `warden:` section of rules with append and override, and errors naming
 * file, line and the bad value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sensor/response/response.h"

#define KILL RESPONSE_BIT(RESPONSE_KILL)
#define QUARANTINE RESPONSE_BIT(RESPONSE_QUARANTINE)
#define REVOKE RESPONSE_BIT(RESPONSE_REVOKE)
#define NOTIFY RESPONSE_BIT(RESPONSE_NOTIFY)

static const char rules_text[] =
	"- rule: Read sensitive file untrusted\n"
	"  desc: d\n"
	"  condition: evt.type = openat\n"
	"  output: x\n"
	"  priority: WARNING\n"
	"  tags: [filesystem, mitre_credential_access]\n"
	"  warden:\n"
	"    actions: [quarantine, kill]\n"
	"- rule: Shell\n"
	"  desc: d\n"
	"  condition: evt.type = execve\n"
	"  output: x\n"
	"  priority: NOTICE\n"
	"  tags: [mitre_execution]\n"
	"- rule: Quiet\n"
	"  desc: d\n"
	"  condition: evt.type = connect\n"
	"  output: x\n"
	"  priority: INFO\n";

static const char responses_text[] =
	"responses:\n"
	"  - rule: Read sensitive file untrusted\n"
	"    actions: [kill, revoke, kill]\n"
	"  - tag: mitre_execution\n"
	"    actions: [quarantine]\n"
	"  - tag: filesystem\n"
	"    actions: [notify]\n"
	"  - tag: unused_tag\n"
	"    actions: [kill]\n"
	"notify:\n"
	"  url: http://127.0.0.1:9000/hook\n"
	"  timeout_ms: 250\n";

static struct rules_set *load_rules(const char *const *files, size_t count,
	struct wd_error *err)
{
	struct rules_set *set = NULL;

	assert_int_equal(rules_set_new(&set), 0);
	for (size_t i = 0; i < count; i++) {
		char name[32];

		snprintf(name, sizeof(name), "rules%zu.yaml", i + 1);
		if (rules_load_buffer(set, name, files[i], strlen(files[i]), err) < 0) {
			rules_set_free(set);
			return NULL;
		}
	}
	return set;
}

static const struct rules_rule *rule_named(const struct rules_set *set, const char *name)
{
	for (size_t i = 0; i < rules_count(set); i++) {
		if (!strcmp(rules_get(set, i)->name, name))
			return rules_get(set, i);
	}
	fail_msg("no rule %s", name);
	return NULL;
}

static void test_parse_file(void **state)
{
	struct response_config config;
	struct wd_error err = { 0 };

	(void)state;
	assert_int_equal(response_config_parse("r.yaml", responses_text, strlen(responses_text),
		&config, &err), 0);
	assert_int_equal(config.count, 4);
	assert_string_equal(config.entries[0].rule, "Read sensitive file untrusted");
	assert_null(config.entries[0].tag);
	assert_int_equal(config.entries[0].actions, KILL | REVOKE);
	assert_int_equal(config.entries[0].line, 2);
	assert_string_equal(config.entries[1].tag, "mitre_execution");
	assert_int_equal(config.entries[1].actions, QUARANTINE);
	assert_int_equal(config.entries[1].line, 4);
	assert_string_equal(config.notify.url, "http://127.0.0.1:9000/hook");
	assert_null(config.notify.ca_file);
	assert_int_equal(config.notify.timeout_ms, 250);
	assert_int_equal(config.notify.queue_max, RESPONSE_NOTIFY_DEFAULT_QUEUE);
	response_config_clear(&config);

	assert_int_equal(response_config_parse("empty.yaml", "", 0, &config, &err), 0);
	assert_int_equal(config.count, 0);
	assert_null(config.notify.url);
	assert_int_equal(config.deny_exec_count, 0);
	response_config_clear(&config);
}

static void expect_parse_error(const char *text, const char *expected)
{
	struct response_config config;
	struct wd_error err = { 0 };

	assert_int_not_equal(response_config_parse("r.yaml", text, strlen(text), &config, &err), 0);
	assert_string_equal(wd_error_text(&err), expected);
	response_config_clear(&config);
}

static void test_parse_errors(void **state)
{
	(void)state;
	expect_parse_error("responses:\n  - rule: X\n    actions: [kill, reboot]\n",
		"r.yaml:3: unknown action 'reboot': expected kill, quarantine, revoke or notify");
	expect_parse_error("responses:\n  - rule: X\n    actions: kill\n",
		"r.yaml:3: 'actions' must be a sequence of kill, quarantine, revoke or notify");
	expect_parse_error("responses:\n  - rule: X\n    action: [kill]\n",
		"r.yaml:3: unknown key 'action' in an item of 'responses'");
	expect_parse_error("responses:\n  - rule: X\n",
		"r.yaml:2: an item of 'responses' lacks 'actions'");
	expect_parse_error("responses:\n  - rule: X\n    tag: t\n    actions: [kill]\n",
		"r.yaml:2: an item of 'responses' needs exactly one of 'rule' and 'tag'");
	expect_parse_error("responses:\n  - actions: [kill]\n",
		"r.yaml:2: an item of 'responses' needs exactly one of 'rule' and 'tag'");
	expect_parse_error("responses:\n  - rule: ''\n    actions: [kill]\n",
		"r.yaml:2: 'rule' must be a non-empty string");
	expect_parse_error("responses: {rule: X}\n", "r.yaml:1: 'responses' must be a sequence");
	expect_parse_error("- rule: X\n",
		"r.yaml:1: a response file must be a mapping with 'responses', 'notify' and 'deny_exec'");
	expect_parse_error("respones: []\n", "r.yaml:1: unknown key 'respones' in the response file");
	expect_parse_error("notify:\n  url: ftp://example.com/\n",
		"r.yaml:2: notify url 'ftp://example.com/' must start with http:// or https://");
	expect_parse_error("notify:\n  url: http:///x\n", "r.yaml:2: notify url 'http:///x' has no host");
	expect_parse_error("notify:\n  url: \"http://h/a b\"\n",
		"r.yaml:2: notify url 'http://h/a b' contains a space or a control character");
	expect_parse_error("notify:\n  ca: /x.pem\n", "r.yaml:2: 'notify' lacks 'url'");
	expect_parse_error("notify:\n  url: http://h/\n  timeout_ms: 0\n",
		"r.yaml:3: 'timeout_ms' must be a number from 1 to 600000, got '0'");
	expect_parse_error("notify:\n  url: http://h/\n  queue: -1\n",
		"r.yaml:3: 'queue' must be a number from 1 to 65536, got '-1'");
	expect_parse_error("responses: [\n", "r.yaml:2: did not find expected node content");
}

static void test_parse_deny_exec(void **state)
{
	static const char text[] = "deny_exec:\n  - /usr/bin/nc\n  - /tmp/x/miner\n";
	struct response_config config;
	struct wd_error err = { 0 };

	(void)state;
	assert_int_equal(response_config_parse("r.yaml", text, strlen(text), &config, &err), 0);
	assert_int_equal(config.deny_exec_count, 2);
	assert_string_equal(config.deny_exec[0].path, "/usr/bin/nc");
	assert_int_equal(config.deny_exec[0].line, 2);
	assert_string_equal(config.deny_exec[1].path, "/tmp/x/miner");
	assert_int_equal(config.deny_exec[1].line, 3);
	response_config_clear(&config);

	expect_parse_error("deny_exec: /usr/bin/nc\n",
		"r.yaml:1: 'deny_exec' must be a sequence of paths");
	expect_parse_error("deny_exec:\n  - /usr/bin/nc\n  - nc\n",
		"r.yaml:3: 'deny_exec' needs absolute paths, got 'nc'");
	expect_parse_error("deny_exec:\n  - [a]\n", "r.yaml:2: 'deny_exec' needs absolute paths, got '?'");
}

static void test_plan_precedence(void **state)
{
	const char *files[] = { rules_text };
	struct response_config config;
	struct response_plan *plan = NULL;
	struct wd_error err = { 0 };
	struct rules_set *set = load_rules(files, 1, &err);

	(void)state;
	assert_non_null(set);
	assert_int_equal(response_config_parse("r.yaml", responses_text, strlen(responses_text),
		&config, &err), 0);
	assert_int_equal(response_plan_build(set, &config, &plan, &err), 0);
	/* The rule's own section (quarantine, kill), its name (kill, revoke)
	 * and its tag filesystem (notify), as one set. */
	assert_int_equal(response_plan_actions(plan, rule_named(set,
		"Read sensitive file untrusted")), QUARANTINE | KILL | REVOKE | NOTIFY);
	assert_int_equal(response_plan_actions(plan, rule_named(set, "Shell")), QUARANTINE);
	assert_int_equal(response_plan_actions(plan, rule_named(set, "Quiet")), 0);
	assert_int_equal(response_plan_all(plan), QUARANTINE | KILL | REVOKE | NOTIFY);
	response_plan_free(plan);

	/* Without a response file only the rule's section counts. */
	assert_int_equal(response_plan_build(set, NULL, &plan, &err), 0);
	assert_int_equal(response_plan_actions(plan, rule_named(set,
		"Read sensitive file untrusted")), QUARANTINE | KILL);
	assert_int_equal(response_plan_actions(plan, rule_named(set, "Shell")), 0);
	assert_int_equal(response_plan_all(plan), QUARANTINE | KILL);
	response_plan_free(plan);
	response_config_clear(&config);
	rules_set_free(set);
}

static unsigned plan_of(const char *second, const char *rule, struct wd_error *err)
{
	const char *files[] = { rules_text, second };
	struct response_plan *plan = NULL;
	struct rules_set *set = load_rules(files, 2, err);
	unsigned actions;

	if (!set)
		fail_msg("%s", wd_error_text(err));
	if (response_plan_build(set, NULL, &plan, err) < 0)
		fail_msg("%s", wd_error_text(err));
	actions = response_plan_actions(plan, rule_named(set, rule));
	response_plan_free(plan);
	rules_set_free(set);
	return actions;
}

static void test_section_append_override(void **state)
{
	struct wd_error err = { 0 };

	(void)state;
	assert_int_equal(plan_of("- rule: Read sensitive file untrusted\n"
		"  override: {warden: append}\n"
		"  warden: {actions: [revoke, kill]}\n", "Read sensitive file untrusted", &err),
		QUARANTINE | KILL | REVOKE);
	assert_int_equal(plan_of("- rule: Read sensitive file untrusted\n"
		"  override: {warden: replace}\n"
		"  warden: {actions: [revoke]}\n", "Read sensitive file untrusted", &err), REVOKE);
	assert_int_equal(plan_of("- rule: Read sensitive file untrusted\n"
		"  append: true\n"
		"  condition: and proc.name = cat\n"
		"  warden: {actions: [revoke]}\n", "Read sensitive file untrusted", &err),
		QUARANTINE | KILL | REVOKE);
	/* Appending to the condition alone keeps the section. */
	assert_int_equal(plan_of("- rule: Read sensitive file untrusted\n"
		"  override: {condition: append}\n"
		"  condition: and proc.name = cat\n", "Read sensitive file untrusted", &err),
		QUARANTINE | KILL);
	/* A plain redefinition starts the rule over, without the section. */
	assert_int_equal(plan_of("- rule: Read sensitive file untrusted\n"
		"  desc: d\n  condition: evt.type = openat\n  output: x\n  priority: ERROR\n",
		"Read sensitive file untrusted", &err), 0);
	assert_int_equal(plan_of("- rule: Shell\n"
		"  override: {warden: append}\n"
		"  warden: {actions: [kill]}\n", "Shell", &err), KILL);
	/* An empty section requests no action. */
	assert_int_equal(plan_of("- rule: Shell\n"
		"  override: {warden: replace}\n"
		"  warden: {}\n", "Shell", &err), 0);
}

static void expect_plan_error(const char *rules, const char *responses, const char *expected)
{
	const char *files[] = { rules };
	struct response_config config = { 0 };
	struct response_plan *plan = NULL;
	struct wd_error err = { 0 };
	struct rules_set *set = load_rules(files, 1, &err);

	assert_non_null(set);
	if (responses)
		assert_int_equal(response_config_parse("r.yaml", responses, strlen(responses),
			&config, &err), 0);
	assert_int_equal(response_plan_build(set, responses ? &config : NULL, &plan, &err),
		WD_EINVAL);
	assert_null(plan);
	assert_string_equal(wd_error_text(&err), expected);
	response_config_clear(&config);
	rules_set_free(set);
}

static void test_plan_errors(void **state)
{
	static const char base[] =
		"- rule: A\n  desc: d\n  condition: evt.type = openat\n  output: x\n"
		"  priority: INFO\n";

	(void)state;
	expect_plan_error(base, "responses:\n  - rule: a\n    actions: [kill]\n",
		"r.yaml:2: rule 'a' is not defined in the loaded rule files");
	expect_plan_error(base, "responses:\n  - rule: A\n    actions: [notify]\n",
		"r.yaml:2: notify needs a webhook: set notify.url in a response file "
		"(--responses FILE)");
	expect_plan_error("- rule: A\n  desc: d\n  condition: evt.type = openat\n  output: x\n"
		"  priority: INFO\n  warden:\n    actions: [kill, freeze]\n", NULL,
		"rules1.yaml:7: unknown action 'freeze': expected kill, quarantine, revoke or notify");
	expect_plan_error("- rule: A\n  desc: d\n  condition: evt.type = openat\n  output: x\n"
		"  priority: INFO\n  warden:\n    action: [kill]\n", NULL,
		"rules1.yaml:7: unknown key 'action' in 'warden' of rule 'A'");
	expect_plan_error("- rule: A\n  desc: d\n  condition: evt.type = openat\n  output: x\n"
		"  priority: INFO\n  warden: kill\n", NULL,
		"rules1.yaml:6: 'warden' of rule 'A' must be a mapping");
	expect_plan_error("- rule: A\n  desc: d\n  condition: evt.type = openat\n  output: x\n"
		"  priority: INFO\n  warden: {actions: [notify]}\n", NULL,
		"rules1.yaml:6: notify needs a webhook: set notify.url in a response file "
		"(--responses FILE)");
}

static void test_action_names(void **state)
{
	enum response_action action;

	(void)state;
	assert_int_equal(response_action_parse("kill", &action), 0);
	assert_int_equal(action, RESPONSE_KILL);
	assert_int_equal(response_action_parse("quarantine", &action), 0);
	assert_int_equal(action, RESPONSE_QUARANTINE);
	assert_int_equal(response_action_parse("Kill", &action), WD_EINVAL);
	assert_string_equal(response_action_name(RESPONSE_REVOKE), "revoke");
	assert_string_equal(response_action_name(RESPONSE_NOTIFY), "notify");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_file),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_deny_exec),
		cmocka_unit_test(test_plan_precedence),
		cmocka_unit_test(test_section_append_override),
		cmocka_unit_test(test_plan_errors),
		cmocka_unit_test(test_action_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
