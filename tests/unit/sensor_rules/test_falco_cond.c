/* Falco conditions: parsing, errors with positions, every operator, the
 * transformers, list and macro expansion, macro cycles and skip reasons. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sensor/rules/cond.h"

/* A test event: a few fields with fixed values. */
struct field_value {
	const char *field;
	const char *arg;
	enum cond_vkind kind;
	const char *str;
	int64_t num;
	const char *const *items;
	size_t count;
};

static const char *const ancestors[] = { "bash", "sshd", "systemd" };

static const struct field_value event[] = {
	{ "evt.type", NULL, COND_V_STRING, "openat", 0, NULL, 0 },
	{ "proc.name", NULL, COND_V_STRING, "Bash", 0, NULL, 0 },
	{ "proc.cmdline", NULL, COND_V_STRING, "bash -c curl http://x", 0, NULL, 0 },
	{ "proc.exepath", NULL, COND_V_STRING, "/usr/bin/bash", 0, NULL, 0 },
	{ "proc.pid", NULL, COND_V_NUMBER, NULL, 4242, NULL, 0 },
	{ "proc.aname", "2", COND_V_STRING, "sshd", 0, NULL, 0 },
	{ "proc.aname", NULL, COND_V_LIST, NULL, 0, ancestors, 3 },
	{ "proc.env", "HOME", COND_V_STRING, "/root", 0, NULL, 0 },
	{ "fd.name", NULL, COND_V_STRING, "/etc/shadow", 0, NULL, 0 },
	{ "fd.directory", NULL, COND_V_STRING, "/etc", 0, NULL, 0 },
	{ "evt.arg.flags", NULL, COND_V_STRING, "O_RDWR|O_CREAT|O_TRUNC", 0, NULL, 0 },
	{ "evt.arg.uid", NULL, COND_V_STRING, "0", 0, NULL, 0 },
	{ "evt.buffer", NULL, COND_V_STRING, "\xca\xfe\xba\xbe rest", 0, NULL, 0 },
	{ "user.name", NULL, COND_V_STRING, "root", 0, NULL, 0 },
	{ "user.uid", NULL, COND_V_NUMBER, NULL, 0, NULL, 0 },
	{ "container.privileged", NULL, COND_V_NUMBER, NULL, 1, NULL, 0 },
	{ "container.id", NULL, COND_V_STRING, "Y29udGFpbmVy", 0, NULL, 0 },
	{ "proc.pname", NULL, COND_V_STRING, "bash", 0, NULL, 0 },
};

static void get(void *ctx, const char *field, const char *arg, struct cond_fvalue *ret)
{
	(void)ctx;
	for (size_t i = 0; i < sizeof(event) / sizeof(event[0]); i++) {
		const struct field_value *f = &event[i];

		if (strcmp(f->field, field) || (!f->arg) != (!arg) || (arg && strcmp(f->arg, arg)))
			continue;
		ret->kind = f->kind;
		ret->str = f->str;
		ret->len = f->str ? strlen(f->str) : 0;
		ret->num = f->num;
		ret->items = f->items;
		ret->count = f->count;
		return;
	}
}

static const char *macro(void *ctx, const char *name)
{
	(void)ctx;
	if (!strcmp(name, "is_shell"))
		return "proc.pname in (shells)";
	if (!strcmp(name, "outer"))
		return "is_shell and fd.name startswith /etc";
	if (!strcmp(name, "loop_a"))
		return "proc.name = x or loop_b";
	if (!strcmp(name, "loop_b"))
		return "(loop_a)";
	if (!strcmp(name, "bad"))
		return "proc.name = ";
	return NULL;
}

static const char *const shells[] = { "sh", "bash", "zsh" };
static const char *const etc_dirs[] = { "/etc", "/usr/etc" };

static const char *const *list(void *ctx, const char *name, size_t *ret_count)
{
	(void)ctx;
	if (!strcmp(name, "shells")) {
		*ret_count = 3;
		return shells;
	}
	if (!strcmp(name, "etc_dirs")) {
		*ret_count = 2;
		return etc_dirs;
	}
	return NULL;
}

static const struct cond_env env = { macro, list, NULL };

/* Parses and evaluates; fails the test on a parse error. */
static bool eval(const char *text)
{
	struct cond_node *node = NULL;
	struct wd_error err = { 0 };
	int rc = cond_parse(text, &env, &node, NULL, &err);
	bool result;

	if (rc != 0)
		fail_msg("parse of '%s' failed: %s", text, err.detail);
	result = cond_eval(node, get, NULL);
	cond_free(node);
	return result;
}

/* Parses and returns the error code, with its detail in err. */
static int parse_error(const char *text, struct wd_error *err)
{
	struct cond_node *node = NULL;
	int rc = cond_parse(text, &env, &node, NULL, err);

	assert_null(node == NULL ? NULL : node);
	cond_free(node);
	return rc;
}

static void test_comparisons(void **state)
{
	(void)state;
	assert_true(eval("proc.name = Bash"));
	assert_true(eval("proc.name == Bash"));
	assert_false(eval("proc.name = bash"));
	assert_true(eval("proc.name != bash"));
	assert_true(eval("proc.pid = 4242"));
	assert_true(eval("proc.pid < 4243"));
	assert_false(eval("proc.pid < 4242"));
	assert_true(eval("proc.pid <= 4242"));
	assert_true(eval("proc.pid > 100"));
	assert_false(eval("proc.pid >= 4243"));
	assert_true(eval("proc.pid >= 4242"));
	assert_true(eval("evt.arg.uid = 0"));
	assert_true(eval("evt.arg.uid < 1"));
	assert_true(eval("container.privileged = true"));
	assert_false(eval("container.privileged = false"));
	assert_true(eval("proc.name = \"Bash\""));
	assert_true(eval("proc.name = 'Bash'"));
}

static void test_string_operators(void **state)
{
	(void)state;
	assert_true(eval("proc.cmdline contains curl"));
	assert_false(eval("proc.cmdline contains wget"));
	assert_true(eval("proc.cmdline icontains CURL"));
	assert_false(eval("proc.cmdline contains CURL"));
	assert_true(eval("evt.buffer bcontains FEBA"));
	assert_false(eval("evt.buffer bcontains BEEF"));
	assert_true(eval("evt.buffer bstartswith CAFE"));
	assert_false(eval("evt.buffer bstartswith FEBA"));
	assert_true(eval("fd.name startswith /etc/"));
	assert_false(eval("fd.name startswith /usr"));
	assert_true(eval("fd.name endswith shadow"));
	assert_false(eval("fd.name endswith passwd"));
	assert_true(eval("fd.name glob /etc/sha*"));
	assert_false(eval("fd.name glob /etc/pass*"));
	assert_false(eval("fd.name glob /ETC/*"));
	assert_true(eval("fd.name iglob /ETC/*"));
	assert_true(eval("proc.cmdline regex \"bash -c (curl|wget) .*\""));
	/* Falco's regex matches the whole value. */
	assert_false(eval("proc.cmdline regex curl"));
	assert_true(eval("evt.arg.flags contains O_TRUNC"));
}

static void test_list_operators(void **state)
{
	(void)state;
	assert_true(eval("proc.pname in (sh, bash, \"z sh\")"));
	assert_false(eval("proc.name in (sh, bash)"));
	assert_true(eval("proc.pname in (shells)"));
	assert_true(eval("proc.pname in (ksh, shells)"));
	assert_true(eval("proc.pname in shells"));
	assert_true(eval("proc.pid in (1, 4242)"));
	assert_false(eval("proc.pid in (1, 2)"));
	/* Without an index, proc.aname checks each ancestor and holds when one
	 * matches, as Falco's does: `in` requires one listed ancestor. */
	assert_true(eval("proc.aname in (sshd)"));
	assert_true(eval("proc.aname in (bash, sshd, systemd, init)"));
	assert_false(eval("proc.aname in (cron, init)"));
	assert_true(eval("proc.aname intersects (sshd, cron)"));
	assert_false(eval("proc.aname intersects (cron)"));
	assert_true(eval("proc.aname = systemd"));
	assert_false(eval("proc.aname = init"));
	assert_true(eval("proc.aname != bash"));
	assert_true(eval("proc.aname startswith sys"));
	assert_true(eval("not proc.aname in (shells)") == false);
	assert_true(eval("len(proc.aname) = 3"));
	assert_true(eval("proc.aname[2] = sshd"));
	assert_true(eval("proc.env[HOME] = /root"));
	assert_true(eval("fd.name pmatch (/etc)"));
	assert_true(eval("fd.name pmatch (etc_dirs)"));
	assert_false(eval("fd.name pmatch (/et)"));
	assert_false(eval("fd.name pmatch (/etc/shadow/x)"));
	assert_true(eval("fd.name pmatch (/usr, /e*/shadow)"));
	assert_true(eval("proc.pname in ()") == false);
}

static void test_unset_and_exists(void **state)
{
	(void)state;
	/* fd.sport is not in the event: every comparison is false. */
	assert_false(eval("fd.sport = 80"));
	assert_false(eval("fd.sport != 80"));
	assert_true(eval("not fd.sport = 80"));
	assert_false(eval("fd.sport exists"));
	assert_true(eval("fd.name exists"));
	assert_true(eval("not fd.sport exists"));
	/* Absent sources evaluate unset too. */
	assert_false(eval("k8s.ns.name = default"));
	assert_false(eval("k8s.ns.name exists"));
}

static void test_logic(void **state)
{
	(void)state;
	assert_true(eval("proc.name = Bash and fd.name = /etc/shadow"));
	assert_false(eval("proc.name = Bash and fd.name = /etc/passwd"));
	assert_true(eval("proc.name = x or fd.name = /etc/shadow"));
	/* and binds tighter than or. */
	assert_true(eval("proc.name = Bash or proc.name = x and proc.name = y"));
	assert_false(eval("(proc.name = Bash or proc.name = x) and proc.name = y"));
	assert_true(eval("not proc.name = x"));
	assert_true(eval("not not proc.name = Bash"));
	assert_true(eval("not(proc.name = x)"));
	assert_true(eval("((((proc.name = Bash))))"));
}

static void test_macros(void **state)
{
	(void)state;
	assert_true(eval("is_shell"));
	assert_true(eval("outer and not proc.name = x"));
	assert_false(eval("not outer"));
}

static void test_transformers(void **state)
{
	(void)state;
	assert_true(eval("tolower(proc.name) = bash"));
	assert_true(eval("toupper(proc.name) = BASH"));
	assert_true(eval("basename(proc.exepath) = bash"));
	assert_true(eval("b64(container.id) = container"));
	assert_true(eval("toupper(basename(proc.exepath)) = BASH"));
	assert_true(eval("tolower(proc.name) = val(proc.pname)"));
	assert_true(eval("tolower(proc.name) = tolower(proc.pname)"));
	assert_false(eval("proc.name = val(proc.pname)"));
	assert_true(eval("proc.name != val(proc.pname)"));
	/* len: the bytes of a string, the values of a list, a number. */
	assert_true(eval("len(proc.name) = 4"));
	assert_true(eval("len(proc.cmdline) > 20"));
	assert_false(eval("len(proc.cmdline) > 21"));
	assert_true(eval("len(basename(proc.exepath)) = 4"));
	assert_true(eval("len(proc.aname) >= 3"));
	assert_true(eval("len(proc.aname[2]) = 4"));
	assert_true(eval("len(proc.name) in (1, 4)"));
	assert_false(eval("len(k8s.pod.name) exists"));
	/* b64 of a value that is no base64 leaves it unset. */
	assert_false(eval("b64(proc.cmdline) exists"));
}

static void test_errors(void **state)
{
	struct wd_error err = { 0 };

	(void)state;
	assert_int_equal(parse_error("proc.name = x and", &err), WD_EINVAL);
	assert_string_equal(err.detail, "expected a field, macro or '(', got 'end of condition' at position 17");
	assert_int_equal(parse_error("proc.name foo x", &err), WD_EINVAL);
	assert_string_equal(err.detail, "expected an operator after 'proc.name', got 'foo' at position 10");
	assert_int_equal(parse_error("(proc.name = x", &err), WD_EINVAL);
	assert_string_equal(err.detail, "expected ')', got 'end of condition' at position 14");
	assert_int_equal(parse_error("proc.name = x)", &err), WD_EINVAL);
	assert_string_equal(err.detail, "expected 'and', 'or' or the end, got ')' at position 13");
	assert_int_equal(parse_error("proc.name = \"x", &err), WD_EINVAL);
	assert_string_equal(err.detail, "unterminated string starting at position 12");
	assert_int_equal(parse_error("proc.name in (a b)", &err), WD_EINVAL);
	assert_string_equal(err.detail, "expected ',' or ')' in a list, got 'b' at position 16");
	assert_int_equal(parse_error("nosuch_macro", &err), WD_EINVAL);
	assert_string_equal(err.detail, "undefined macro 'nosuch_macro' at position 0");
	assert_int_equal(parse_error("loop_a", &err), WD_EINVAL);
	assert_string_equal(err.detail,
		"in macro 'loop_b': macro cycle: loop_a -> loop_b -> loop_a");
	assert_int_equal(parse_error("proc.name = x and bad", &err), WD_EINVAL);
	assert_string_equal(err.detail,
		"in macro 'bad': expected a value, got 'end of condition' at position 12");
	assert_int_equal(parse_error("proc.pid = abc", &err), WD_EINVAL);
	assert_string_equal(err.detail, "'abc' is not a number for field 'proc.pid'");
	assert_int_equal(parse_error("evt.buffer bcontains XYZ1", &err), WD_EINVAL);
	assert_string_equal(err.detail, "'XYZ1' is not a hex byte string");
	assert_int_equal(parse_error("proc.name regex \"(\"", &err), WD_EINVAL);
	assert_string_equal(err.detail, "invalid regular expression '(' at offset 1");
}

static void test_unsupported(void **state)
{
	struct wd_error err = { 0 };

	(void)state;
	assert_int_equal(parse_error("proc.nosuch = x", &err), WD_EUNSUPPORTED);
	assert_string_equal(err.detail, "unknown field 'proc.nosuch' at position 0");
	assert_int_equal(parse_error("proc.name = x and join(proc.name) > 2", &err), WD_EUNSUPPORTED);
	assert_string_equal(err.detail, "unsupported transformer 'join(' at position 18");
	assert_int_equal(parse_error("getopt(proc.args) = x", &err), WD_EUNSUPPORTED);
	assert_string_equal(err.detail, "unsupported transformer 'getopt(' at position 0");
	assert_int_equal(parse_error("len(proc.name) contains 1", &err), WD_EUNSUPPORTED);
	assert_string_equal(err.detail, "operator 'contains' is not supported on number field 'proc.name'");
	assert_int_equal(parse_error("len(proc.name) > big", &err), WD_EINVAL);
	assert_string_equal(err.detail, "'big' is not a number for field 'proc.name'");
	assert_int_equal(parse_error("tolower(len(proc.name)) = 1", &err), WD_EUNSUPPORTED);
	assert_string_equal(err.detail, "transformer 'tolower' needs a string, len(proc.name) is a number");
	assert_int_equal(parse_error("proc.cmdline contains anyof (a, b)", &err), WD_EUNSUPPORTED);
	assert_string_equal(err.detail, "unsupported operator 'contains anyof' at position 13");
	assert_int_equal(parse_error("proc.pid contains 1", &err), WD_EUNSUPPORTED);
	assert_string_equal(err.detail, "operator 'contains' is not supported on number field 'proc.pid'");
	assert_int_equal(parse_error("proc.name[1] = x", &err), WD_EUNSUPPORTED);
	assert_string_equal(err.detail, "field 'proc.name' takes no argument at position 0");
	assert_int_equal(parse_error("tolower(proc.pid) = x", &err), WD_EUNSUPPORTED);
	assert_string_equal(err.detail, "transformer 'tolower' needs a string field, 'proc.pid' is a number");
}

static void test_absent_fields(void **state)
{
	struct cond_node *node = NULL;
	struct wd_error err = { 0 };
	char *absent = NULL;

	(void)state;
	assert_int_equal(cond_parse("k8s.ns.name = a or ka.verb = b or k8s.ns.name = c or proc.name = x",
		&env, &node, &absent, &err), 0);
	assert_string_equal(absent, "k8s.ns.name ka.verb");
	free(absent);
	cond_free(node);
}

static void test_ast_shape(void **state)
{
	struct cond_node *node = NULL;
	struct wd_error err = { 0 };

	(void)state;
	assert_int_equal(cond_parse("a.b = 1 or evt.type in (open, shells) and not proc.aname[3] exists",
		&env, &node, NULL, &err), WD_EUNSUPPORTED);
	assert_int_equal(cond_parse("proc.name = 1 or evt.type in (open, shells) and not proc.aname[3] exists",
		&env, &node, NULL, &err), 0);
	assert_int_equal(node->kind, COND_OR);
	assert_int_equal(node->nkids, 2);
	assert_int_equal(node->kids[0]->kind, COND_CHECK);
	assert_int_equal(node->kids[1]->kind, COND_AND);
	assert_int_equal(node->kids[1]->kids[0]->nvalues, 4);
	assert_string_equal(node->kids[1]->kids[0]->values[3].text, "zsh");
	assert_int_equal(node->kids[1]->kids[1]->kind, COND_NOT);
	assert_string_equal(node->kids[1]->kids[1]->kids[0]->lhs.arg, "3");
	assert_int_equal(node->kids[1]->kids[1]->kids[0]->op, COND_OP_EXISTS);
	cond_free(node);
}

static void test_depth_limit(void **state)
{
	char text[1024];
	struct wd_error err = { 0 };
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < 150; i++)
		text[n++] = '(';
	memcpy(text + n, "proc.name = x", 14);
	assert_int_equal(parse_error(text, &err), WD_EINVAL);
	assert_string_equal(err.detail, "condition nests deeper than 100 levels at position 100");
}

/* d0 is one check; each dN uses d(N-1) twice, so d20 expands to 2^20. */
static const char *doubling(void *ctx, const char *name)
{
	static char bodies[21][32];
	long n;

	(void)ctx;
	if (name[0] != 'd')
		return NULL;
	n = strtol(name + 1, NULL, 10);
	if (n < 0 || n > 20)
		return NULL;
	if (n == 0)
		return "proc.pid = 1";
	snprintf(bodies[n], sizeof(bodies[n]), "d%ld or d%ld", n - 1, n - 1);
	return bodies[n];
}

static void test_expansion_limit(void **state)
{
	const struct cond_env grow = { doubling, NULL, NULL };
	struct cond_node *node = NULL;
	struct wd_error err = { 0 };

	(void)state;
	assert_int_equal(cond_parse("d10", &grow, &node, NULL, &err), 0);
	cond_free(node);
	node = NULL;
	assert_int_equal(cond_parse("d20", &grow, &node, NULL, &err), WD_ETOOBIG);
	assert_null(node);
	assert_string_equal(err.detail, "in macro 'd0': condition expands to more than 100000 nodes");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_comparisons),
		cmocka_unit_test(test_string_operators),
		cmocka_unit_test(test_list_operators),
		cmocka_unit_test(test_unset_and_exists),
		cmocka_unit_test(test_logic),
		cmocka_unit_test(test_macros),
		cmocka_unit_test(test_transformers),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_unsupported),
		cmocka_unit_test(test_absent_fields),
		cmocka_unit_test(test_ast_shape),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_expansion_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
