/* Bitwise builtins bits.and, bits.or, bits.xor, bits.negate, bits.lsh and
 * bits.rsh on integers of any size, with two's-complement semantics for
 * negative numbers as Go's big.Int has. */
#include "common/error.h"
#include "policy/bi_num.h"

enum bits_op { BITS_AND, BITS_OR, BITS_XOR, BITS_LSH, BITS_RSH };

static int bits_finish(struct rego_bctx *ctx, const mpz_t z, struct rv **ret)
{
	*ret = bi_num_from_mpz(z);
	return *ret ? 0 : bi_num_oom(ctx);
}

/* Shifts x in place by count bits; returns 0, or a negative code after
 * recording the error. Like OPA, which reads the count with big.Int.Uint64,
 * a count of 2^64 or more shifts by its low 64 bits only. */
static int bits_shift(struct rego_bctx *ctx, enum bits_op op, mpz_t x, const mpz_t count)
{
	unsigned long bits;

	if (mpz_sgn(count) < 0)
		return rego_bi_error_code(ctx, "eval_type_error",
					  "operand 2 must be an unsigned integer number but "
					  "got a negative integer");

	/* mpz_get_ui returns the low bits of a value too large for it. */
	bits = mpz_get_ui(count);

	if (op == BITS_RSH) {
		/* Shifting out every bit leaves the sign: 0 or -1. */
		if (bits > mpz_sizeinbase(x, 2)) {
			mpz_set_si(x, mpz_sgn(x) < 0 ? -1 : 0);
			return 0;
		}
		mpz_fdiv_q_2exp(x, x, (mp_bitcnt_t)bits);
		return 0;
	}

	if (mpz_sgn(x) == 0)
		return 0;
	if (bits > BI_NUM_SHIFT_MAX)
		return rego_bi_limit_error(ctx, "shift count exceeds the limit of %u bits",
				     BI_NUM_SHIFT_MAX);
	mpz_mul_2exp(x, x, (mp_bitcnt_t)bits);
	return 0;
}

static int bits_binary(struct rego_bctx *ctx, struct rv *const *args, enum bits_op op,
		       struct rv **ret)
{
	mpz_t x, y;
	int rc;

	mpz_init(x);
	mpz_init(y);
	rc = bi_num_big_operand(ctx, args, 1, x);
	if (rc == 0)
		rc = bi_num_big_operand(ctx, args, 2, y);
	if (rc == 0) {
		switch (op) {
		case BITS_AND:
			mpz_and(x, x, y);
			break;
		case BITS_OR:
			mpz_ior(x, x, y);
			break;
		case BITS_XOR:
			mpz_xor(x, x, y);
			break;
		case BITS_LSH:
		case BITS_RSH:
			rc = bits_shift(ctx, op, x, y);
			break;
		}
	}
	if (rc == 0)
		rc = bits_finish(ctx, x, ret);
	mpz_clear(y);
	mpz_clear(x);
	return rc;
}

int bi_bits_and(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	(void)nargs;
	return bits_binary(ctx, args, BITS_AND, ret);
}

int bi_bits_or(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	(void)nargs;
	return bits_binary(ctx, args, BITS_OR, ret);
}

int bi_bits_xor(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	(void)nargs;
	return bits_binary(ctx, args, BITS_XOR, ret);
}

int bi_bits_lsh(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	(void)nargs;
	return bits_binary(ctx, args, BITS_LSH, ret);
}

int bi_bits_rsh(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	(void)nargs;
	return bits_binary(ctx, args, BITS_RSH, ret);
}

int bi_bits_negate(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		   struct rv **ret)
{
	mpz_t x;
	int rc;

	(void)nargs;
	mpz_init(x);
	rc = bi_num_big_operand(ctx, args, 1, x);
	if (rc == 0) {
		mpz_com(x, x);
		rc = bits_finish(ctx, x, ret);
	}
	mpz_clear(x);
	return rc;
}
