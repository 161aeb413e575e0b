/* The prefixes and suffixes of open paths that the loaded rules can match,
 * which the sensor's kernel filter keeps: each form of condition that
 * bounds fd.name, the forms that cannot, and rules that see no opens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sensor/rules/rules.h"

static const char bounded[] =
	"- macro: open_read\n"
	"  condition: evt.type in (open, openat, openat2) and evt.is_open_read = true\n"
	"- list: key_dirs\n"
	"  items: [/etc/ssh, /root]\n"
	"- rule: Read Shadow\n"
	"  desc: d\n"
	"  condition: open_read and fd.name = /etc/shadow\n"
	"  output: o\n"
	"  priority: error\n"
	"  exceptions:\n"
	"    - name: dirs\n"
	"      fields: [proc.name, fd.directory]\n"
	"      values:\n"
	"        - [sshd, /etc]\n"
	"- rule: Key Dirs\n"
	"  desc: d\n"
	"  condition: open_read and fd.directory in (key_dirs)\n"
	"  output: o\n"
	"  priority: error\n"
	"- rule: Covered\n"
	"  desc: d\n"
	"  condition: open_read and fd.name = /etc/ssh/sshd_config\n"
	"  output: o\n"
	"  priority: error\n"
	"- rule: Glob\n"
	"  desc: d\n"
	"  condition: evt.type = openat and fd.name glob \"/var/lib/*/secret\"\n"
	"  output: o\n"
	"  priority: error\n"
	"- rule: Pmatch\n"
	"  desc: d\n"
	"  condition: evt.type = openat and fd.name pmatch (/srv/keys)\n"
	"  output: o\n"
	"  priority: error\n"
	"- rule: Names\n"
	"  desc: d\n"
	"  condition: >\n"
	"    evt.type = openat and (fd.filename in (id_rsa, .bash_history)\n"
	"    or fd.name endswith release_agent)\n"
	"  output: o\n"
	"  priority: error\n"
	"- rule: Traversal Or Prefix\n"
	"  desc: d\n"
	"  condition: evt.type = openat and (fd.name startswith /opt/app or fd.nameraw contains \"../\")\n"
	"  output: o\n"
	"  priority: error\n"
	"- rule: Connect Or Open\n"
	"  desc: d\n"
	"  condition: >\n"
	"    (evt.type = connect and fd.name = 10.0.0.1:22)\n"
	"    or (evt.type = openat and fd.name startswith /data/)\n"
	"  output: o\n"
	"  priority: error\n"
	"- rule: Connect Only\n"
	"  desc: d\n"
	"  condition: evt.type = connect and fd.sport = 22\n"
	"  output: o\n"
	"  priority: error\n"
	"- rule: Disabled Any\n"
	"  desc: d\n"
	"  condition: evt.type = openat\n"
	"  output: o\n"
	"  priority: error\n"
	"  enabled: false\n";

static struct rules_set *load(const char *text)
{
	struct rules_set *set = NULL;
	struct wd_error err = { 0 };

	assert_int_equal(rules_set_new(&set), 0);
	if (rules_load_buffer(set, "rules.yaml", text, strlen(text), &err) < 0)
		fail_msg("load failed: %s", err.detail);
	if (rules_compile(set, &err) < 0)
		fail_msg("compile failed: %s", err.detail);
	return set;
}

static void test_bounded(void **state)
{
	static const char *const prefixes[] = {
		"/data/", "/etc/shadow", "/etc/ssh/", "/opt/app", "/root/", "/srv/keys",
		"/var/lib/",
	};
	static const char *const suffixes[] = { "/.bash_history", "/id_rsa", "release_agent" };
	struct rules_set *set = load(bounded);
	struct rules_open_paths paths;
	struct wd_error err = { 0 };

	(void)state;
	assert_int_equal(rules_open_paths(set, &paths, &err), 0);
	assert_true(paths.matches_opens);
	assert_null(paths.any_rule);
	assert_int_equal(paths.count, sizeof(prefixes) / sizeof(prefixes[0]));
	for (size_t i = 0; i < paths.count; i++)
		assert_string_equal(paths.prefixes[i], prefixes[i]);
	assert_int_equal(paths.suffix_count, sizeof(suffixes) / sizeof(suffixes[0]));
	for (size_t i = 0; i < paths.suffix_count; i++)
		assert_string_equal(paths.suffixes[i], suffixes[i]);
	rules_open_paths_free(&paths);
	rules_set_free(set);
}

/* Each condition here can hold for an open of a path no prefix or suffix
 * bounds, so the filter must stay off, and the rule is named. */
static void expect_unbounded(const char *condition)
{
	char text[1024];
	struct rules_set *set;
	struct rules_open_paths paths;
	struct wd_error err = { 0 };

	snprintf(text, sizeof(text),
		"- rule: Bounded\n"
		"  desc: d\n"
		"  condition: evt.type = openat and fd.name = /etc/shadow\n"
		"  output: o\n"
		"  priority: error\n"
		"- rule: Unbounded\n"
		"  desc: d\n"
		"  condition: %s\n"
		"  output: o\n"
		"  priority: error\n", condition);
	set = load(text);
	assert_int_equal(rules_open_paths(set, &paths, &err), 0);
	assert_true(paths.matches_opens);
	if (!paths.any_rule)
		fail_msg("the filter stays on for: %s", condition);
	assert_string_equal(paths.any_rule->name, "Unbounded");
	assert_int_equal(paths.count, 0);
	assert_int_equal(paths.suffix_count, 0);
	rules_open_paths_free(&paths);
	rules_set_free(set);
}

static void test_unbounded(void **state)
{
	(void)state;
	expect_unbounded("proc.name = bash");
	expect_unbounded("evt.type = openat");
	expect_unbounded("evt.type = openat and not fd.name startswith /tmp");
	expect_unbounded("evt.type = openat and fd.name != /etc/shadow");
	expect_unbounded("evt.type = openat and fd.name contains secret");
	expect_unbounded("evt.type = openat and fd.name contains \"../\"");
	expect_unbounded("evt.type = openat and fd.name = shadow");
	expect_unbounded("evt.type = openat and fd.name glob \"*/shadow\"");
	expect_unbounded("evt.type = openat and fd.name icontains /etc");
	expect_unbounded("evt.type = openat and fd.filename startswith id_");
	expect_unbounded("evt.type = openat and (fd.name = /etc/shadow or proc.name = cat)");
	expect_unbounded("evt.type = openat and fd.name = /etc/shadow or proc.name = cat");
}

static void test_no_opens(void **state)
{
	static const char text[] =
		"- rule: Exec\n"
		"  desc: d\n"
		"  condition: evt.type = execve and proc.name = sh\n"
		"  output: o\n"
		"  priority: error\n";
	struct rules_set *set = load(text);
	struct rules_open_paths paths;
	struct wd_error err = { 0 };

	(void)state;
	assert_int_equal(rules_open_paths(set, &paths, &err), 0);
	assert_false(paths.matches_opens);
	assert_null(paths.any_rule);
	assert_int_equal(paths.count, 0);
	assert_int_equal(paths.suffix_count, 0);
	rules_open_paths_free(&paths);
	rules_set_free(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_unbounded),
		cmocka_unit_test(test_no_opens),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
