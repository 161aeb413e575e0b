/* Falco rule files: lists, macros, append and override, exceptions,
 * enabled, priorities, error messages with file and line, the load report
 * and matching through the event type index. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sensor/rules/rules.h"

static const char base[] =
	"- required_engine_version: 0.57.0\n"
	"- required_plugin_versions:\n"
	"    - name: container\n"
	"      version: 0.4.0\n"
	"- list: shells\n"
	"  items: [sh, bash]\n"
	"- list: all_shells\n"
	"  items: [shells, zsh]\n"
	"- macro: spawned\n"
	"  condition: evt.type = execve\n"
	"- macro: shell_procs\n"
	"  condition: proc.name in (all_shells)\n"
	"- rule: Shell Spawned\n"
	"  desc: a shell started\n"
	"  condition: spawned and shell_procs\n"
	"  output: shell %proc.name\n"
	"  priority: warning\n"
	"  tags: [host, mitre_execution]\n"
	"- rule: Read Shadow\n"
	"  desc: shadow read\n"
	"  condition: evt.type in (open, openat) and fd.name = /etc/shadow\n"
	"  output: read %fd.name\n"
	"  priority: ERROR\n"
	"  exceptions:\n"
	"    - name: proc_dir\n"
	"      fields: [proc.name, fd.directory]\n"
	"      comps: [=, in]\n"
	"      values:\n"
	"        - [sshd, [/etc, /var]]\n"
	"        - [\"my \\\"app\", shells]\n"
	"    - name: names\n"
	"      fields: proc.name\n"
	"      values: [login, su]\n"
	"- rule: Off\n"
	"  desc: off\n"
	"  condition: evt.type = open\n"
	"  output: x\n"
	"  priority: info\n"
	"  enabled: false\n"
	"- rule: K8s Only\n"
	"  desc: k\n"
	"  condition: evt.type = connect and k8s.ns.name = default\n"
	"  output: x\n"
	"  priority: Notice\n"
	"- rule: Audit\n"
	"  desc: audit\n"
	"  condition: ka.verb = create\n"
	"  output: x\n"
	"  priority: debug\n"
	"  source: k8s_audit\n"
	"- rule: Unknown Field\n"
	"  desc: u\n"
	"  condition: evt.type = open and proc.nosuch = 1\n"
	"  output: x\n"
	"  priority: alert\n"
	"- rule: Any Type\n"
	"  desc: a\n"
	"  condition: proc.name = bash\n"
	"  output: x\n"
	"  priority: critical\n";

static const char local[] =
	"- list: shells\n"
	"  items: [ash]\n"
	"  override:\n"
	"    items: append\n"
	"- macro: spawned\n"
	"  condition: and proc.pid > 1\n"
	"  append: true\n"
	"- rule: Shell Spawned\n"
	"  condition: and not user.name = root\n"
	"  priority: EMERGENCY\n"
	"  tags: [local]\n"
	"  override:\n"
	"    condition: append\n"
	"    priority: replace\n"
	"    tags: append\n"
	"- rule: Off\n"
	"  enabled: true\n"
	"  override:\n"
	"    enabled: replace\n"
	"- rule: Read Shadow\n"
	"  exceptions:\n"
	"    - name: names\n"
	"      values: [sudo]\n"
	"  override:\n"
	"    exceptions: append\n";

static struct rules_set *load(const char *first, const char *second)
{
	struct rules_set *set = NULL;
	struct wd_error err = { 0 };

	assert_int_equal(rules_set_new(&set), 0);
	if (rules_load_buffer(set, "base.yaml", first, strlen(first), &err) < 0)
		fail_msg("load failed: %s", err.detail);
	if (second && rules_load_buffer(set, "local.yaml", second, strlen(second), &err) < 0)
		fail_msg("load failed: %s", err.detail);
	return set;
}

static const struct rules_rule *find(const struct rules_set *set, const char *name)
{
	for (size_t i = 0; i < rules_count(set); i++) {
		if (!strcmp(rules_get(set, i)->name, name))
			return rules_get(set, i);
	}
	fail_msg("no rule %s", name);
	return NULL;
}

static void test_load_and_report(void **state)
{
	struct rules_set *set = load(base, NULL);
	struct wd_error err = { 0 };
	struct wd_buf report;
	const struct rules_rule *r;

	(void)state;
	assert_int_equal(rules_compile(set, &err), 0);
	wd_buf_init(&report, 256, 65536);
	assert_int_equal(rules_report(set, &report), 0);
	assert_string_equal(wd_buf_str(&report),
		"loaded Shell Spawned\n"
		"loaded Read Shadow\n"
		"disabled Off\n"
		"loaded K8s Only (absent source: k8s.ns.name evaluate unset)\n"
		"skipped Audit: event source 'k8s_audit' is not supported\n"
		"skipped Unknown Field: unknown field 'proc.nosuch' at position 20\n"
		"loaded Any Type\n");
	wd_buf_free(&report);

	r = find(set, "Shell Spawned");
	assert_int_equal(r->priority, RULES_WARNING);
	assert_int_equal(r->ntags, 2);
	assert_string_equal(r->tags[1], "mitre_execution");
	assert_string_equal(r->file, "base.yaml");
	assert_int_equal(r->line, 13);
	assert_int_equal(r->nevttypes, 1);
	assert_string_equal(r->evttypes[0], "execve");
	assert_false(r->any_evttype);

	r = find(set, "Read Shadow");
	assert_int_equal(r->priority, RULES_ERROR);
	assert_string_equal(r->full_condition,
		"(evt.type in (open, openat) and fd.name = /etc/shadow)"
		" and not ((proc.name = \"sshd\" and fd.directory in (\"/etc\", \"/var\"))"
		" or (proc.name = \"my \\\"app\" and fd.directory in (shells)))"
		" and not (proc.name in (\"login\", \"su\"))");
	assert_int_equal(r->nevttypes, 2);
	assert_string_equal(r->evttypes[0], "open");
	assert_string_equal(r->evttypes[1], "openat");
	assert_true(find(set, "Any Type")->any_evttype);
	assert_int_equal(find(set, "Any Type")->priority, RULES_CRITICAL);
	rules_set_free(set);
}

static void test_append_and_override(void **state)
{
	struct rules_set *set = load(base, local);
	struct wd_error err = { 0 };
	const struct rules_rule *r;

	(void)state;
	assert_int_equal(rules_compile(set, &err), 0);
	r = find(set, "Shell Spawned");
	assert_string_equal(r->condition, "spawned and shell_procs and not user.name = root");
	assert_int_equal(r->priority, RULES_EMERGENCY);
	assert_int_equal(r->ntags, 3);
	assert_string_equal(r->tags[2], "local");
	assert_string_equal(r->desc, "a shell started");
	/* all_shells was expanded when it was defined, before ash was added. */
	assert_string_equal(r->full_condition, "spawned and shell_procs and not user.name = root");
	assert_int_equal(r->ast->kind, COND_AND);
	assert_int_equal(r->ast->nkids, 3);
	assert_int_equal(r->ast->kids[0]->kind, COND_AND);   /* the macro: evt.type and proc.pid */
	assert_int_equal(r->ast->kids[1]->nvalues, 3);
	assert_string_equal(r->ast->kids[1]->values[2].text, "zsh");
	assert_int_equal(find(set, "Off")->status, RULES_LOADED);
	assert_string_equal(find(set, "Read Shadow")->full_condition,
		"(evt.type in (open, openat) and fd.name = /etc/shadow)"
		" and not ((proc.name = \"sshd\" and fd.directory in (\"/etc\", \"/var\"))"
		" or (proc.name = \"my \\\"app\" and fd.directory in (shells)))"
		" and not (proc.name in (\"login\", \"su\", \"sudo\"))");
	rules_set_free(set);
}

struct ev {
	const char *type;
	const char *name;
	const char *user;
	int64_t pid;
};

static void get(void *ctx, const char *field, const char *arg, struct cond_fvalue *ret)
{
	const struct ev *ev = ctx;

	(void)arg;
	if (!strcmp(field, "evt.type")) {
		ret->kind = COND_V_STRING;
		ret->str = ev->type;
	} else if (!strcmp(field, "proc.name")) {
		ret->kind = COND_V_STRING;
		ret->str = ev->name;
	} else if (!strcmp(field, "user.name")) {
		ret->kind = COND_V_STRING;
		ret->str = ev->user;
	} else if (!strcmp(field, "proc.pid")) {
		ret->kind = COND_V_NUMBER;
		ret->num = ev->pid;
	}
	if (ret->str)
		ret->len = strlen(ret->str);
}

static bool collect(const struct rules_rule *rule, void *ctx)
{
	char *names = ctx;

	strncat(names, rule->name, 200);
	strncat(names, ";", 2);
	return true;
}

static void test_match(void **state)
{
	struct rules_set *set = load(base, local);
	struct wd_error err = { 0 };
	struct ev ev = { "execve", "ash", "alice", 10 };
	char names[512] = "";

	(void)state;
	assert_int_equal(rules_compile(set, &err), 0);
	/* Candidates for execve: Shell Spawned (indexed) and Any Type. */
	assert_int_equal(rules_match(set, "execve", get, &ev, collect, names), 2);
	assert_string_equal(names, "");
	ev.name = "sh";
	assert_int_equal(rules_match(set, "execve", get, &ev, collect, names), 2);
	assert_string_equal(names, "Shell Spawned;");
	names[0] = '\0';
	ev.name = "bash";
	ev.user = "root";
	assert_int_equal(rules_match(set, "execve", get, &ev, collect, names), 2);
	assert_string_equal(names, "Any Type;");
	names[0] = '\0';
	/* open: Read Shadow, Off (enabled by the override) and Any Type. */
	ev.type = "open";
	assert_int_equal(rules_match(set, "open", get, &ev, collect, names), 3);
	assert_string_equal(names, "Off;Any Type;");
	names[0] = '\0';
	assert_int_equal(rules_match(set, "ptrace", get, &ev, collect, names), 1);
	rules_set_free(set);
}

static void expect_error(const char *yaml, int code, const char *detail)
{
	struct rules_set *set = NULL;
	struct wd_error err = { 0 };

	assert_int_equal(rules_set_new(&set), 0);
	assert_int_equal(rules_load_buffer(set, "bad.yaml", yaml, strlen(yaml), &err), code);
	assert_string_equal(err.detail, detail);
	rules_set_free(set);
}

/* Loads yaml, which must compile with the error detail. */
static void expect_compile_error(const char *yaml, const char *detail)
{
	struct rules_set *set = NULL;
	struct wd_error err = { 0 };

	assert_int_equal(rules_set_new(&set), 0);
	assert_int_equal(rules_load_buffer(set, "c.yaml", yaml, strlen(yaml), &err), 0);
	assert_int_equal(rules_compile(set, &err), WD_EINVAL);
	assert_string_equal(err.detail, detail);
	rules_set_free(set);
}

static void test_errors(void **state)
{
	struct rules_set *set = NULL;
	struct wd_error err = { 0 };
	static const char bad_cond[] =
		"- rule: A\n  desc: a\n  condition: evt.type = open\n  output: x\n  priority: info\n"
		"- rule: B\n  desc: b\n  condition: evt.type = open and (\n  output: x\n  priority: info\n";

	(void)state;
	expect_error("- list: a\n  items: [x\n", WD_EINVAL,
		"bad.yaml:3: did not find expected ',' or ']'");
	expect_error("rule: x\n", WD_EINVAL, "bad.yaml:1: a rules file must be a sequence of items");
	expect_error("- list: a\n  items: [x]\n- foo: 1\n", WD_EINVAL,
		"bad.yaml:3: unknown item: expected rule, macro or list");
	expect_error("- rule: r\n  desc: d\n  condition: evt.type = open\n  output: o\n", WD_EINVAL,
		"bad.yaml:1: rule 'r' lacks 'priority'");
	expect_error("- rule: r\n  desc: d\n  condition: c\n  output: o\n  priority: loud\n", WD_EINVAL,
		"bad.yaml:5: rule 'r' has an unknown priority 'loud'");
	expect_error("- macro: m\n  condition: x\n  append: true\n", WD_EINVAL,
		"bad.yaml:1: macro 'm' changes no earlier macro of that name");
	expect_error("- list: l\n  items: [a]\n- list: l\n  items: [b]\n  override:\n    items: merge\n",
		WD_EINVAL, "bad.yaml:6: override of 'items' must be append or replace, got 'merge'");
	expect_error("- list: l\n  items: [a]\n  override:\n    condition: append\n", WD_EINVAL,
		"bad.yaml:4: 'override' cannot change 'condition'");
	expect_error("- rule: r\n  desc: d\n  condition: c\n  output: o\n  priority: info\n  enabled: maybe\n",
		WD_EINVAL, "bad.yaml:6: expected true or false, got 'maybe'");

	/* A syntax error in a condition fails the compile with file and line. */
	assert_int_equal(rules_set_new(&set), 0);
	assert_int_equal(rules_load_buffer(set, "cond.yaml", bad_cond, strlen(bad_cond), &err), 0);
	assert_int_equal(rules_compile(set, &err), WD_EINVAL);
	assert_string_equal(err.detail,
		"cond.yaml:6: rule 'B': expected a field, macro or '(', got 'end of condition' at position 21");
	rules_set_free(set);

	/* The offending token is named, inside a macro too. */
	expect_compile_error("- rule: R\n  desc: d\n  condition: evt.type = open and proc.name startswith\n"
		"  output: o\n  priority: info\n",
		"c.yaml:1: rule 'R': expected a value, got 'end of condition' at position 40");
	expect_compile_error("- macro: m\n  condition: proc.name = x or or y\n"
		"- rule: R\n  desc: d\n  condition: evt.type = open and m\n  output: o\n  priority: info\n",
		"c.yaml:3: rule 'R': in macro 'm': expected a field, macro or '(', got 'or' at position 17");
	expect_compile_error("- rule: R\n  desc: d\n  condition: evt.type = open and nosuch\n"
		"  output: o\n  priority: info\n",
		"c.yaml:1: rule 'R': undefined macro 'nosuch' at position 20");
	expect_compile_error("- rule: R\n  desc: d\n  condition: proc.name in (a, b\n"
		"  output: o\n  priority: info\n",
		"c.yaml:1: rule 'R': expected ',' or ')' in a list, got 'end of condition' at position 18");
}

static void test_priorities(void **state)
{
	enum rules_priority p;

	(void)state;
	assert_int_equal(rules_priority_parse("INFORMATIONAL", &p), 0);
	assert_int_equal(p, RULES_INFORMATIONAL);
	assert_int_equal(rules_priority_parse("Info", &p), 0);
	assert_int_equal(p, RULES_INFORMATIONAL);
	assert_int_equal(rules_priority_parse("eRRoR", &p), 0);
	assert_int_equal(p, RULES_ERROR);
	assert_int_equal(rules_priority_parse("warn", &p), WD_EINVAL);
	assert_string_equal(rules_priority_name(RULES_DEBUG), "Debug");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_and_report),
		cmocka_unit_test(test_append_and_override),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_priorities),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
