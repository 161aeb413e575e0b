/* Unit tests for Rego numbers: literals, printing, order and arithmetic with
 * OPA's results. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "policy/value.h"

static struct rv *num(const char *text)
{
	struct rv *v = rv_number_parse(text, strlen(text));

	assert_non_null(v);
	return v;
}

/* Prints v and frees it; the caller frees the text. */
static char *show(struct rv *v)
{
	struct wd_buf buf;
	char *s;

	assert_non_null(v);
	wd_buf_init(&buf, 16, 1 << 20);
	assert_int_equal(rv_number_format(v, &buf), 0);
	s = strdup(wd_buf_str(&buf));
	wd_buf_free(&buf);
	rv_unref(v);
	return s;
}

static void assert_shows(struct rv *v, const char *want)
{
	char *s = show(v);

	assert_string_equal(s, want);
	free(s);
}

static void assert_literal(const char *text, const char *want)
{
	assert_shows(num(text), want);
}

typedef struct rv *(*binop)(const struct rv *, const struct rv *);

static void assert_op(binop op, const char *a, const char *b, const char *want)
{
	struct rv *x = num(a), *y = num(b);

	assert_shows(op(x, y), want);
	rv_unref(x);
	rv_unref(y);
}

static void assert_div(const char *a, const char *b, const char *want)
{
	struct rv *x = num(a), *y = num(b);
	bool zero = true;

	assert_shows(rv_num_div(x, y, &zero), want);
	assert_false(zero);
	rv_unref(x);
	rv_unref(y);
}

static void number_literals(void **state)
{
	(void)state;
	assert_literal("0", "0");
	assert_literal("-0", "0");
	assert_literal("-0.0", "0.0");
	assert_literal("0.00", "0.00");
	assert_literal("0e5", "0");
	assert_literal("42", "42");
	assert_literal("-17", "-17");
	assert_literal("9223372036854775807", "9223372036854775807");
	assert_literal("-9223372036854775808", "-9223372036854775808");
	assert_literal("9223372036854775808", "9223372036854775808");
	assert_literal("28857836529306024611913", "28857836529306024611913");
	/* Literals with a fraction or exponent keep the scale they were
	 * written with, as OPA keeps their text. */
	assert_literal("1.0", "1.0");
	assert_literal("2.50", "2.50");
	assert_literal("1e3", "1000");
	assert_literal("1E+3", "1000");
	assert_literal("12.5e-1", "1.25");
	assert_literal("0.000001", "0.000001");
	assert_literal("0.0000001", "1e-7");
	assert_literal("123456789012345678901.5", "123456789012345678901.5");
	assert_literal("1234567890123456789012.5", "1.2345678901234567890125e+21");
	assert_literal("-0.5", "-0.5");
	assert_literal("0.1", "0.1");
}

static void number_big_literal_digits(void **state)
{
	char *s;

	(void)state;
	s = show(num("123456789012345678901234567890"));
	assert_string_equal(s, "123456789012345678901234567890");
	free(s);
	assert_literal("1e400", "1e+400");
	assert_literal("1e21", "1e+21");
	assert_literal("1e20", "100000000000000000000");

	/* Past a thousand digits an integer is kept as mantissa and exponent
	 * and printed with one. */
	assert_literal("1e5000", "1e+5000");
	assert_literal("-2.5e-300", "-2.5e-300");
}

static void number_bad_literals(void **state)
{
	static const char *const bad[] = {
		"", "-", "+1", "01", "1.", ".5", "1e", "1e+", "1.5x", "0x10", "1 ", " 1",
		"NaN", "inf", "--1", "1e1000000000", "1e-1000000000", "1e999999999",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_null(rv_number_parse(bad[i], strlen(bad[i])));
	assert_null(rv_number_parse(NULL, 3));
}

static void number_doubles(void **state)
{
	(void)state;
	assert_shows(rv_double(0.1), "0.1");
	assert_shows(rv_double(2.0), "2");
	assert_shows(rv_double(-1.5e-10), "-1.5e-10");
	assert_shows(rv_double(1e21), "1e+21");
	assert_shows(rv_double(1e20), "100000000000000000000");
	assert_null(rv_double(0.0 / 0.0));
	assert_null(rv_double(1.0 / 0.0));
}

static void number_conversions(void **state)
{
	struct rv *v;
	int64_t i = 7;

	(void)state;
	v = num("3.0");
	assert_true(rv_number_is_int(v));
	assert_true(rv_number_to_i64(v, &i));
	assert_int_equal(i, 3);
	rv_unref(v);

	v = num("3.5");
	assert_false(rv_number_is_int(v));
	assert_false(rv_number_to_i64(v, &i));
	assert_true(rv_number_to_double(v) == 3.5);
	rv_unref(v);

	v = num("1e5000");
	assert_true(rv_number_is_int(v));
	assert_false(rv_number_to_i64(v, &i));
	rv_unref(v);

	v = num("18446744073709551616");
	assert_true(rv_number_to_double(v) == 18446744073709551616.0);
	rv_unref(v);

	v = num("0.1");
	assert_true(rv_number_to_double(v) == 0.1);
	rv_unref(v);
	v = num("1.7976931348623157e308");
	assert_true(rv_number_to_double(v) == 1.7976931348623157e308);
	rv_unref(v);
	assert_string_equal(rv_type_name(rv_int(1)), "number");
}

static void number_written_scale(void **state)
{
	static const char *const ones[] = { "1", "1.0", "1e0", "10e-1", "0.1e1", "1.000" };
	struct rv *one = num("1"), *v;
	int64_t i = 0;

	(void)state;
	for (size_t k = 0; k < sizeof(ones) / sizeof(ones[0]); k++) {
		v = num(ones[k]);
		assert_int_equal(rv_compare(v, one), 0);
		assert_true(rv_hash(v) == rv_hash(one));
		assert_true(rv_number_is_int(v));
		assert_true(rv_number_to_i64(v, &i));
		assert_int_equal(i, 1);
		/* Only the plain integer is OPA's int (an index, a count). */
		assert_int_equal(v->num_repr, k == 0 ? RV_NUM_INT : RV_NUM_DECIMAL);
		rv_unref(v);
	}
	rv_unref(one);

	v = num("1e30");
	one = num("1000000000000000000000000000000");
	assert_int_equal(v->num_repr, RV_NUM_DECIMAL);
	assert_int_equal(one->num_repr, RV_NUM_BIG);
	assert_int_equal(rv_compare(v, one), 0);
	assert_true(rv_hash(v) == rv_hash(one));
	assert_false(rv_number_to_i64(v, &i));
	rv_unref(v);
	rv_unref(one);

	v = num("2.50");
	one = num("2.5");
	assert_true(rv_hash(v) == rv_hash(one));
	assert_false(rv_number_is_int(v));
	rv_unref(v);
	rv_unref(one);

	/* Arithmetic results are plain: OPA prints them from a float or an
	 * integer, not from the operands' text. */
	assert_op(rv_num_add, "1.0", "1", "2");
	assert_op(rv_num_mul, "2.50", "2", "5");
	assert_op(rv_num_sub, "1e3", "0.0", "1000");
	v = num("2.0");
	one = rv_num_round(v);
	assert_int_equal(one->num_repr, RV_NUM_INT);
	assert_shows(one, "2");
	assert_shows(rv_num_floor(v), "2");
	rv_unref(v);
	v = num("-3.00");
	assert_shows(rv_num_abs(v), "3");
	assert_shows(rv_num_neg(v), "3.00");
	rv_unref(v);

	v = num("0.2500000000");
	one = rv_number_normalize(v);
	assert_shows(one, "0.25");
	rv_unref(v);
	v = num("12.000e2");
	one = rv_number_normalize(v);
	assert_int_equal(one->num_repr, RV_NUM_INT);
	assert_shows(one, "1200");
	rv_unref(v);
	assert_null(rv_number_normalize(rv_null()));
}

static void number_order_and_hash(void **state)
{
	static const char *const ascending[] = {
		"-1e5000", "-28857836529306024611913", "-9223372036854775809", "-2.5", "-1",
		"-0.5", "0", "1e-300", "0.1", "1", "1.5", "2", "9223372036854775807",
		"9223372036854775807.5", "28857836529306024611912", "28857836529306024611913",
		"1e5000",
	};
	size_t n = sizeof(ascending) / sizeof(ascending[0]);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			struct rv *a = num(ascending[i]), *b = num(ascending[j]);
			int want = i < j ? -1 : i > j;
			int c = rv_compare(a, b);

			assert_int_equal(c < 0 ? -1 : c > 0, want);
			if (i == j)
				assert_true(rv_hash(a) == rv_hash(b));
			rv_unref(a);
			rv_unref(b);
		}
	}

	{
		struct rv *a = num("1"), *b = num("1.0"), *c = num("100e-2");

		assert_int_equal(rv_compare(a, b), 0);
		assert_int_equal(rv_compare(a, c), 0);
		assert_true(rv_hash(a) == rv_hash(b));
		assert_true(rv_hash(a) == rv_hash(c));
		rv_unref(a);
		rv_unref(b);
		rv_unref(c);
	}
}

static void number_integer_arithmetic(void **state)
{
	(void)state;
	assert_op(rv_num_add, "49649733057", "1", "49649733058");
	assert_op(rv_num_add, "9223372036854775807", "1", "9223372036854775808");
	assert_op(rv_num_sub, "-9223372036854775808", "1", "-9223372036854775809");
	assert_op(rv_num_mul, "4294967296", "4294967296", "18446744073709551616");
	assert_op(rv_num_mul, "28857836529306024611913", "28857836529306024611913",
		  "832774729152149184289965691003050502261519569");
	assert_op(rv_num_sub, "18446744073709551616", "18446744073709551615", "1");
	assert_op(rv_num_add, "1.5", "1.5", "3");
	assert_op(rv_num_mul, "3", "2", "6");
	assert_op(rv_num_add, "1e5000", "-1e5000", "0");
	assert_op(rv_num_mul, "1e99999", "1e99999", "1e+199998");
	assert_op(rv_num_add, "1e99999", "1e-99999", "1e+99999");
}

static void number_limits(void **state)
{
	struct rv *big = num("1e99999"), *sq, *four, *eight, *one = num("1");
	bool div_zero = true;

	(void)state;
	sq = rv_num_mul(big, big);
	four = rv_num_mul(sq, sq);
	assert_non_null(four);
	eight = rv_num_mul(four, four);
	assert_non_null(eight);
	assert_shows(rv_ref(eight), "1e+799992");
	/* Sums and floats would expand 10^799992, so they are rejected. */
	assert_null(rv_num_add(eight, one));
	assert_null(rv_num_sub(one, eight));
	assert_null(rv_num_div(eight, one, &div_zero));
	assert_false(div_zero);
	assert_null(rv_num_rem(eight, one, &div_zero));
	assert_false(div_zero);
	assert_int_equal(rv_compare(eight, four), 1);
	assert_true(rv_number_to_double(eight) > 1e308);
	rv_unref(big);
	rv_unref(sq);
	rv_unref(four);
	rv_unref(eight);
	rv_unref(one);
}

static void number_float_arithmetic(void **state)
{
	(void)state;
	/* OPA computes with 64 mantissa bits and prints the shortest decimal
	 * that reads back to the same 64-bit float. */
	assert_op(rv_num_add, "0.1", "0.2", "0.3");
	assert_op(rv_num_sub, "0.3", "0.1", "0.20000000000000000002");
	assert_op(rv_num_mul, "1.1", "1.1", "1.21");
	assert_op(rv_num_mul, "0.1", "3", "0.3");
	assert_op(rv_num_add, "1e-300", "1", "1");
	assert_div("1", "3", "0.33333333333333333334");
	assert_div("-1", "3", "-0.33333333333333333334");
	assert_div("2", "3", "0.6666666666666666667");
	assert_div("100", "3", "33.333333333333333332");
	assert_div("10", "4", "2.5");
	assert_div("9", "3", "3");
	assert_div("0", "5", "0");
	assert_div("1e30", "7", "142857142857142857140000000000");
	assert_div("7.5", "2.5", "3");
	assert_div("-9223372036854775808", "-1", "9223372036854775808");
}

static void number_division_by_zero(void **state)
{
	struct rv *one = num("1"), *zero = num("0"), *zero_dec = num("0.0"), *half = num("0.5");
	bool div_zero = false;

	(void)state;
	assert_null(rv_num_div(one, zero, &div_zero));
	assert_true(div_zero);
	div_zero = false;
	assert_null(rv_num_div(half, zero_dec, &div_zero));
	assert_true(div_zero);
	div_zero = false;
	assert_null(rv_num_rem(one, zero, &div_zero));
	assert_true(div_zero);

	/* A non-integer operand of % is OPA's "modulo on floating-point
	 * number": NULL without the zero flag. */
	div_zero = true;
	assert_null(rv_num_rem(half, one, &div_zero));
	assert_false(div_zero);
	div_zero = true;
	assert_null(rv_num_rem(one, half, &div_zero));
	assert_false(div_zero);

	rv_unref(one);
	rv_unref(zero);
	rv_unref(zero_dec);
	rv_unref(half);
}

static void number_remainder(void **state)
{
	struct rv *a, *b;
	bool div_zero = true;

	(void)state;
	a = num("7");
	b = num("4");
	assert_shows(rv_num_rem(a, b, &div_zero), "3");
	assert_false(div_zero);
	rv_unref(a);
	rv_unref(b);

	a = num("-7");
	b = num("3");
	assert_shows(rv_num_rem(a, b, &div_zero), "-1");
	rv_unref(a);
	rv_unref(b);

	a = num("-9223372036854775808");
	b = num("-1");
	assert_shows(rv_num_rem(a, b, &div_zero), "0");
	rv_unref(a);
	rv_unref(b);

	a = num("10");
	b = num("18446744073709551616");
	assert_shows(rv_num_rem(a, b, &div_zero), "10");
	rv_unref(a);
	rv_unref(b);

	a = num("28857836529306024611913");
	b = num("1000");
	assert_shows(rv_num_rem(a, b, &div_zero), "913");
	rv_unref(a);
	rv_unref(b);

	a = num("3.0");
	b = num("2");
	assert_shows(rv_num_rem(a, b, &div_zero), "1");
	rv_unref(a);
	rv_unref(b);

	a = num("-7e2");
	b = num("40.00");
	assert_shows(rv_num_rem(a, b, &div_zero), "-20");
	rv_unref(a);
	rv_unref(b);

	a = num("7");
	b = num("0.0");
	assert_null(rv_num_rem(a, b, &div_zero));
	assert_true(div_zero);
	rv_unref(a);
	rv_unref(b);
}

static void number_unary(void **state)
{
	struct rv *v;

	(void)state;
	static const struct {
		const char *in, *abs, *round, *ceil, *floor;
	} cases[] = {
		{ "1.01", "1.01", "1", "2", "1" },
		{ "1.5", "1.5", "2", "2", "1" },
		{ "2.5", "2.5", "3", "3", "2" },
		{ "-2.5", "2.5", "-3", "-2", "-3" },
		{ "-1.99999", "1.99999", "-2", "-1", "-2" },
		{ "-1.001", "1.001", "-1", "-1", "-2" },
		{ "2222.2222222222", "2222.2222222222", "2222", "2223", "2222" },
		{ "99.99999", "99.99999", "100", "100", "99" },
		{ "-4", "4", "-4", "-4", "-4" },
		{ "28857836529306024611913", "28857836529306024611913",
		  "28857836529306024611913", "28857836529306024611913",
		  "28857836529306024611913" },
		/* OPA steps from the truncated value, and a truncated zero is
		 * not negative: ceil(-0.5) is 1 and floor(-0.5) is 0. */
		{ "-0.5", "0.5", "-1", "1", "0" },
		{ "0.4", "0.4", "0", "1", "0" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = num(cases[i].in);
		assert_shows(rv_num_abs(v), cases[i].abs);
		assert_shows(rv_num_round(v), cases[i].round);
		assert_shows(rv_num_ceil(v), cases[i].ceil);
		assert_shows(rv_num_floor(v), cases[i].floor);
		rv_unref(v);
	}

	v = num("-9223372036854775808");
	assert_shows(rv_num_neg(v), "9223372036854775808");
	assert_shows(rv_num_abs(v), "9223372036854775808");
	rv_unref(v);
	v = num("0.25");
	assert_shows(rv_num_neg(v), "-0.25");
	rv_unref(v);
	assert_null(rv_num_abs(rv_null()));
	v = rv_cstring("x");
	assert_null(rv_num_add(rv_int(1), v));
	rv_unref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(number_literals),
		cmocka_unit_test(number_big_literal_digits),
		cmocka_unit_test(number_bad_literals),
		cmocka_unit_test(number_doubles),
		cmocka_unit_test(number_conversions),
		cmocka_unit_test(number_written_scale),
		cmocka_unit_test(number_order_and_hash),
		cmocka_unit_test(number_integer_arithmetic),
		cmocka_unit_test(number_float_arithmetic),
		cmocka_unit_test(number_division_by_zero),
		cmocka_unit_test(number_remainder),
		cmocka_unit_test(number_unary),
		cmocka_unit_test(number_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
