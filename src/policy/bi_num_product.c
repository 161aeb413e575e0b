/* The float path of product, as OPA computes it. The accumulator is a Go
 * big.Float made by big.NewFloat(1), so every step rounds to its 53-bit
 * mantissa, while big.Float.SetString reads each factor with 64 bits. */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "common/buf.h"
#include "common/error.h"
#include "policy/bi_num.h"

/* A binary float mant * 2^exp with the sign kept apart; zero has mant 0. */
struct binfloat {
	mpz_t mant;
	long exp;
	bool negative;
};

/* Rounds f to bits significant bits, half to even, as big.Float does. */
static void round_to_bits(struct binfloat *f, size_t bits)
{
	size_t have = mpz_sizeinbase(f->mant, 2);
	mp_bitcnt_t shift;
	bool up;

	if (mpz_sgn(f->mant) == 0 || have <= bits)
		return;

	shift = (mp_bitcnt_t)(have - bits);
	/* The bit below the kept ones, then whether any lower bit is set. */
	up = mpz_tstbit(f->mant, shift - 1) &&
	     (mpz_scan1(f->mant, 0) < shift - 1 || mpz_tstbit(f->mant, shift));
	mpz_fdiv_q_2exp(f->mant, f->mant, shift);
	f->exp += (long)shift;
	if (up) {
		mpz_add_ui(f->mant, f->mant, 1);
		if (mpz_sizeinbase(f->mant, 2) > bits) {
			mpz_fdiv_q_2exp(f->mant, f->mant, 1);
			f->exp++;
		}
	}
}

/* Reads a number as big.Float.SetString does with a 64-bit mantissa. x87's
 * long double has exactly that mantissa, and glibc's strtold rounds
 * correctly. Returns false for values outside its normal range. */
static bool read_factor(const struct rv *n, struct binfloat *f)
{
	struct wd_buf text;
	long double x, m;
	int exp;
	bool ok = false;

	if (LDBL_MANT_DIG != 64)
		return false;

	wd_buf_init(&text, 64, 4096);
	if (rv_number_format(n, &text) == 0) {
		x = strtold(wd_buf_str(&text), NULL);
		ok = fpclassify(x) == FP_NORMAL || fpclassify(x) == FP_ZERO;
	}
	wd_buf_free(&text);
	if (!ok)
		return false;

	f->negative = signbit(x) != 0;
	m = frexpl(fabsl(x), &exp);
	/* m is in [0.5, 1): its 64 mantissa bits as an integer. */
	mpz_set_ui(f->mant, (unsigned long)ldexpl(m, 64));
	f->exp = (long)exp - 64;
	return true;
}

/* Converts the result as OPA's FloatToNumber does: an integer prints all its
 * digits, anything else as the shortest text of the float64 it equals. */
static struct rv *binfloat_to_number(const struct binfloat *f)
{
	struct rv *out = NULL;
	mpz_t z;

	mpz_init(z);
	if (f->exp >= 0 || mpz_scan1(f->mant, 0) >= (mp_bitcnt_t)-f->exp) {
		if (f->exp >= 0)
			mpz_mul_2exp(z, f->mant, (mp_bitcnt_t)f->exp);
		else
			mpz_fdiv_q_2exp(z, f->mant, (mp_bitcnt_t)-f->exp);
		if (f->negative)
			mpz_neg(z, z);
		out = bi_num_from_mpz(z);
	} else if (f->exp > DBL_MIN_EXP - DBL_MANT_DIG) {
		double d = ldexp(mpz_get_d(f->mant), (int)f->exp);

		out = rv_double(f->negative ? -d : d);
	}
	mpz_clear(z);
	return out;
}

int bi_num_product_float(const struct rv *const *items, size_t n, struct rv **ret)
{
	struct binfloat acc, factor;
	int rc = 1;

	mpz_init_set_ui(acc.mant, 1);
	acc.exp = 0;
	acc.negative = false;
	mpz_init(factor.mant);

	for (size_t i = 0; i < n; i++) {
		if (!read_factor(items[i], &factor))
			goto out;
		mpz_mul(acc.mant, acc.mant, factor.mant);
		acc.exp += factor.exp;
		acc.negative = acc.negative != factor.negative;
		round_to_bits(&acc, 53);
		/* OPA keeps going past a double's range, so the caller's
		 * fold takes over there. */
		if (mpz_sgn(acc.mant) != 0 &&
		    (acc.exp > DBL_MAX_EXP || acc.exp < DBL_MIN_EXP - 2 * DBL_MANT_DIG))
			goto out;
	}

	*ret = binfloat_to_number(&acc);
	rc = *ret ? 0 : 1;
out:
	mpz_clear(factor.mant);
	mpz_clear(acc.mant);
	return rc;
}
