/* Integer helpers of the numbers builtins: exact conversion between number
 * values and GMP integers, and OPA's integer operand checks. */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "policy/bi_num.h"

/* Leaves no error record: the evaluator reports a failure without one as
 * out of memory (or an exhausted budget) instead of a builtin error. */
int bi_num_oom(struct rego_bctx *ctx)
{
	ctx->err_code = NULL;
	return WD_ENOMEM;
}

/* Parses the decimal text "[-]digits[.digits][e[+-]digits]" of an integral
 * number into out. */
static int parse_integral_text(const char *text, mpz_t out)
{
	_wd_cleanup_(wd_freep) char *digits = NULL;
	const char *p = text;
	size_t ndigits = 0, frac_len = 0, len = strlen(text);
	long exp10 = 0;
	bool negative = false, exp_negative = false;
	int rc = 0;

	digits = malloc(len + 1);
	if (!digits)
		return WD_ENOMEM;

	if (*p == '-' || *p == '+')
		negative = *p++ == '-';
	for (; *p >= '0' && *p <= '9'; p++)
		digits[ndigits++] = *p;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			digits[ndigits++] = *p;
			frac_len++;
		}
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			exp_negative = *p++ == '-';
		for (; *p >= '0' && *p <= '9'; p++) {
			/* Past the digit ceiling the value is rejected anyway. */
			if (exp10 < 10L * BI_NUM_MAX_DIGITS)
				exp10 = exp10 * 10 + (*p - '0');
		}
	}
	if (*p != '\0' || ndigits == 0)
		return WD_EINVAL;
	digits[ndigits] = '\0';

	if (exp_negative)
		exp10 = -exp10;
	exp10 -= (long)frac_len;
	if (exp10 > 0 && (size_t)exp10 + ndigits > BI_NUM_MAX_DIGITS)
		return WD_ETOOBIG;

	if (mpz_set_str(out, digits, 10) != 0)
		return WD_EINVAL;

	if (exp10 > 0) {
		mpz_t scale;

		mpz_init(scale);
		mpz_ui_pow_ui(scale, 10, (unsigned long)exp10);
		mpz_mul(out, out, scale);
		mpz_clear(scale);
	} else if (exp10 < 0) {
		mpz_t scale;

		/* A fraction of only zeros, e.g. 2.000 or 2500e-2. */
		mpz_init(scale);
		if ((size_t)-exp10 > ndigits + 1) {
			rc = mpz_sgn(out) == 0 ? 0 : 1;
		} else {
			mpz_ui_pow_ui(scale, 10, (unsigned long)-exp10);
			if (mpz_divisible_p(out, scale))
				mpz_divexact(out, out, scale);
			else
				rc = 1;
		}
		mpz_clear(scale);
		if (rc != 0)
			return rc;
	}

	if (negative)
		mpz_neg(out, out);
	return 0;
}

int bi_num_to_mpz(const struct rv *n, mpz_t out)
{
	struct wd_buf text;
	int rc;

	switch ((enum rv_num_repr)n->num_repr) {
	case RV_NUM_INT:
		mpz_set_si(out, n->u.num.i);
		return 0;
	case RV_NUM_BIG:
		mpz_set(out, (mpz_srcptr)n->u.num.big);
		return 0;
	case RV_NUM_DECIMAL:
		break;
	}

	if (!rv_number_is_int(n))
		return 1;

	/* An integral decimal such as 2.0 or 1e3: its printed form is exact. */
	wd_buf_init(&text, 64, (size_t)BI_NUM_MAX_DIGITS + 64);
	rc = rv_number_format(n, &text);
	if (rc == 0)
		rc = parse_integral_text(wd_buf_str(&text), out);
	wd_buf_free(&text);
	return rc;
}

struct rv *bi_num_from_mpz(const mpz_t z)
{
	char *text;
	struct rv *v;
	size_t cap;

	if (mpz_fits_slong_p(z))
		return rv_int((int64_t)mpz_get_si(z));

	/* mpz_sizeinbase may overstate by one; add room for a sign and NUL. */
	cap = mpz_sizeinbase(z, 10) + 2;
	text = malloc(cap);
	if (!text)
		return NULL;
	mpz_get_str(text, 10, z);
	v = rv_number_parse(text, strlen(text));
	free(text);
	return v;
}

int bi_num_big_operand(struct rego_bctx *ctx, struct rv *const *args, size_t argno,
		       mpz_t out)
{
	const struct rv *v = args[argno - 1];
	int rc;

	if (!rv_is(v, RV_NUMBER))
		return rego_bi_type_error(ctx, argno, "integer", v);

	rc = bi_num_to_mpz(v, out);
	if (rc == WD_ENOMEM)
		return bi_num_oom(ctx);
	if (rc == WD_ETOOBIG)
		return rego_bi_error(ctx, "operand %zu has more than %d digits", argno,
				     BI_NUM_MAX_DIGITS);
	if (rc != 0)
		return rego_bi_error_code(ctx, "eval_type_error",
					  "operand %zu must be integer number but got "
					  "floating-point number", argno);
	return 0;
}

int bi_num_int_operand(struct rego_bctx *ctx, struct rv *const *args, size_t argno,
		       int64_t *ret)
{
	const struct rv *v = args[argno - 1];

	WD_TRY(rego_bi_want(ctx, args, argno, RK_NUMBER));

	/* OPA parses the literal as an int64: 2.0 and 2^64 both fail. NOTE:
	 * values hold an integral 2.0 as the integer 2, which passes here. */
	if (v->num_repr != RV_NUM_INT)
		return rego_bi_error_code(ctx, "eval_type_error",
					  "operand %zu must be integer number but got "
					  "floating-point number", argno);
	*ret = v->u.num.i;
	return 0;
}
