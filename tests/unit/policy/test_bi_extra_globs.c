/* Unit tests of regex.globs_match: intersections of glob-like patterns and
 * the pattern errors, with the texts OPA reports. */
#include "common/error.h"
#include "test_bi_strings_support.h"

#define GM "regex.globs_match"

static void test_globs_intersect(void **state)
{
	(void)state;
	expect_ok(GM, "[\"ab*c\", \"a.c\"]", "true");
	expect_ok(GM, "[\"[a-c]+x\", \"b*x\"]", "true");
	expect_ok(GM, "[\"a+\", \"b*\"]", "false");
	expect_ok(GM, "[\"id-[0-9]+\", \"id-4.*\"]", "true");
	expect_ok(GM, "[\"id-[0-9]+\", \"id-x.*\"]", "false");
	expect_ok(GM, "[\"[pq][rs]\", \"[st][tu]\"]", "false");
	expect_ok(GM, "[\"[pq][rs]\", \"[qt][su]\"]", "true");
	expect_ok(GM, "[\"\", \"\"]", "true");
	expect_ok(GM, "[\"\", \"z*\"]", "false");

	/* "[]" is an empty set: no character is in it, yet '.' matches it. */
	expect_ok(GM, "[\"a[]\", \"ab\"]", "false");
	expect_ok(GM, "[\"a[]\", \"a.\"]", "true");
}

/* '?' and '|' are plain characters; a backslash makes '.', '[' or '*' one. */
static void test_globs_literals(void **state)
{
	(void)state;
	expect_ok(GM, "[\"x?\", \"x?\"]", "true");
	expect_ok(GM, "[\"x?\", \"xy\"]", "false");
	expect_ok(GM, "[\"a|b\", \"a.b\"]", "true");
	expect_ok(GM, "[\"\\\\.q\", \"wq\"]", "false");
	expect_ok(GM, "[\".q\", \"wq\"]", "true");
	expect_ok(GM, "[\"\\\\[1\\\\]\", \"[[][0-9][\\\\]]\"]", "true");
	expect_ok(GM, "[\"k\\\\*\", \"k\\\\*\"]", "true");
	expect_ok(GM, "[\"k\\\\*\", \"kkk\"]", "false");
}

/* Consecutive equal flagged tokens merge, '+' winning: "m*m+n" is "m+n". */
static void test_globs_simplify(void **state)
{
	(void)state;
	expect_ok(GM, "[\"m*m+n\", \"mn\"]", "true");
	expect_ok(GM, "[\"m*m*n\", \"n\"]", "true");
	expect_ok(GM, "[\"[a-b]+[ba]*c\", \"abac\"]", "true");
}

static void test_globs_errors(void **state)
{
	(void)state;
	expect_err(GM, "[\"a\\\\\", \"a\"]", "eval_builtin_error",
		   GM ": input:a\\, pos:1, input ends with a \\ (escape) character: "
		   "the input provided is invalid");
	expect_err(GM, "[\"*a\", \"a\"]", "eval_builtin_error",
		   GM ": input:*a, pos:1, flag '*' must be preceded by a non-flag: "
		   "the input provided is invalid");
	expect_err(GM, "[\"[z-a]\", \"a\"]", "eval_builtin_error",
		   GM ": input:[z-a], pos:4, range is out of order: 'a' comes before 'z' in "
		   "Unicode: the input provided is invalid");
	expect_err(GM, "[\"[-a]\", \"a\"]", "eval_builtin_error",
		   GM ": input:[-a], pos:2, range character '-' must be preceded by a Unicode "
		   "character: the input provided is invalid");
	expect_err(GM, "[\"[a-]\", \"a\"]", "eval_builtin_error",
		   GM ": input:[a-], pos:3, range character '-' must be followed by a Unicode "
		   "character: the input provided is invalid");
	expect_err(GM, "[\"[a-]]\", \"a\"]", "eval_builtin_error",
		   GM ": input:[a-]], pos:4, range character '-' cannot be followed by a special "
		   "symbol: the input provided is invalid");
	expect_err(GM, "[\"[ab\", \"a\"]", "eval_builtin_error",
		   GM ": input:[ab, pos:3, found [ without matching ]: the input provided is invalid");
	expect_err(GM, "[\"ok\", \"x]\"]", "eval_builtin_error",
		   GM ": input:x], pos:2, set-close ']' with no preceding '[': "
		   "the input provided is invalid");
	expect_err(GM, "[1, \"a\"]", "eval_type_error",
		   GM ": operand 1 must be string but got number");
	expect_err(GM, "[\"a\", null]", "eval_type_error",
		   GM ": operand 2 must be string but got null");
}

/* Invalid UTF-8 counts as one U+FFFD rune per byte, in positions and text. */
static void test_globs_invalid_utf8(void **state)
{
	const struct rego_builtin *bi = rego_builtin_find(GM);
	struct rv *args[2] = { rv_string("\xff\xfe]", 3), rv_cstring("a") };
	struct rego_bctx ctx = { .name = GM };
	struct rv *result = NULL;

	(void)state;
	assert_non_null(bi);
	assert_int_equal(bi->fn(&ctx, args, 2, &result), WD_EINVAL);
	assert_null(result);
	assert_string_equal(ctx.err_msg, GM ": input:\xef\xbf\xbd\xef\xbf\xbd], pos:3, "
			    "set-close ']' with no preceding '[': the input provided is invalid");
	rv_unref(args[0]);
	rv_unref(args[1]);
}

/* Backtracking over many stars stays within the step ceiling. */
static void test_globs_hostile(void **state)
{
	char a[4 * 30 + 3], b[200 + 3], args[sizeof(a) + sizeof(b) + 16];
	size_t n = 0;

	(void)state;
	for (int i = 0; i < 30; i++) {
		a[n++] = '.';
		a[n++] = '*';
		a[n++] = 'x';
		a[n++] = '*';
	}
	a[n++] = 'y';
	a[n] = '\0';
	memset(b, 'x', 200);
	b[200] = 'z';
	b[201] = '*';
	b[202] = '\0';
	snprintf(args, sizeof(args), "[\"%s\", \"%s\"]", a, b);
	expect_err(GM, args, "eval_builtin_error", GM ": patterns too complex to intersect");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_globs_intersect),
		cmocka_unit_test(test_globs_literals),
		cmocka_unit_test(test_globs_simplify),
		cmocka_unit_test(test_globs_errors),
		cmocka_unit_test(test_globs_invalid_utf8),
		cmocka_unit_test(test_globs_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
