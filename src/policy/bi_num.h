/* Private declarations shared by the numbers group of builtins (bi_numbers.c
 * and bi_num_*.c): the builtin functions and the integer helpers they use. */
#pragma once

#include <gmp.h>

#include "policy/builtin.h"

/* Returns WD_ENOMEM for a failed allocation (or an exhausted value budget)
 * with no error recorded in ctx. */
int bi_num_oom(struct rego_bctx *ctx);

/* Reads an integral number into out (initialised by the caller). Returns 0,
 * 1 when n is not integral, WD_ETOOBIG for an integer written with an
 * exponent beyond BI_NUM_MAX_DIGITS digits, or WD_ENOMEM. */
WD_MUST_CHECK int bi_num_to_mpz(const struct rv *n, mpz_t out);

/* Builds a number value from z; NULL when memory runs out. */
struct rv *bi_num_from_mpz(const mpz_t z);

/* The maximum number of decimal digits of an integer that a builtin expands
 * from an exponent form such as 1e99999. */
#define BI_NUM_MAX_DIGITS 100000

/* OPA's BigIntOperand: a number with an integral value (2.0 counts), with
 * "operand N must be integer but got T" and "operand N must be integer number
 * but got floating-point number" as its errors. */
WD_MUST_CHECK int bi_num_big_operand(struct rego_bctx *ctx, struct rv *const *args,
				     size_t argno, mpz_t out);

/* OPA's IntOperand: an integer literal that fits int64 (2.0 does not), with
 * "operand N must be number but got T" and "operand N must be integer number
 * but got floating-point number" as its errors. */
WD_MUST_CHECK int bi_num_int_operand(struct rego_bctx *ctx, struct rv *const *args,
				     size_t argno, int64_t *ret);

/* Multiplies n numbers, not all integral, as OPA's product does: returns 0
 * with the result, or 1 when a value is outside the range this follows
 * exactly (or memory runs out), for the caller to fall back. */
int bi_num_product_float(const struct rv *const *items, size_t n, struct rv **ret);

/* The builtins, by file. */
#define BI_NUM_FN(name)                                                        \
	int name(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,  \
		 struct rv **ret)

/* bi_num_arith.c */
BI_NUM_FN(bi_plus);
BI_NUM_FN(bi_minus);
BI_NUM_FN(bi_mul);
BI_NUM_FN(bi_div);
BI_NUM_FN(bi_rem);
BI_NUM_FN(bi_abs);
BI_NUM_FN(bi_round);
BI_NUM_FN(bi_ceil);
BI_NUM_FN(bi_floor);
BI_NUM_FN(bi_to_number);

/* bi_num_aggregate.c */
BI_NUM_FN(bi_count);
BI_NUM_FN(bi_sum);
BI_NUM_FN(bi_product);
BI_NUM_FN(bi_max);
BI_NUM_FN(bi_min);
BI_NUM_FN(bi_sort);
BI_NUM_FN(bi_all);
BI_NUM_FN(bi_any);

/* bi_num_bits.c */
BI_NUM_FN(bi_bits_and);
BI_NUM_FN(bi_bits_or);
BI_NUM_FN(bi_bits_xor);
BI_NUM_FN(bi_bits_negate);
BI_NUM_FN(bi_bits_lsh);
BI_NUM_FN(bi_bits_rsh);

/* bi_num_range.c */
BI_NUM_FN(bi_numbers_range);
BI_NUM_FN(bi_numbers_range_step);

/* The maximum length of the arrays numbers.range and numbers.range_step
 * return. OPA has no such limit and runs until the query times out. */
#define BI_NUM_RANGE_MAX (1u << 22)

/* The maximum shift of bits.lsh, in bits. OPA has no limit and fails only
 * when memory runs out. */
#define BI_NUM_SHIFT_MAX (1u << 20)
