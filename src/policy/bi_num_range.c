/* numbers.range and numbers.range_step: arrays of integers from one bound to
 * the other, both included, ascending or descending. */
#include "common/error.h"
#include "policy/bi_num.h"

/* Builds [x, x ± step, ...] up to y. The count is known up front, so a range
 * past BI_NUM_RANGE_MAX fails before anything is allocated. */
static int build_range(struct rego_bctx *ctx, const mpz_t x, const mpz_t y, const mpz_t step,
		       struct rv **ret)
{
	struct rv *out = NULL;
	mpz_t count, cursor;
	bool descending = mpz_cmp(x, y) > 0;
	size_t n;
	int rc = 0;

	mpz_init(count);
	mpz_init_set(cursor, x);

	/* count = |y - x| / step + 1 */
	mpz_sub(count, y, x);
	mpz_abs(count, count);
	mpz_fdiv_q(count, count, step);
	mpz_add_ui(count, count, 1);
	if (mpz_cmp_ui(count, BI_NUM_RANGE_MAX) > 0) {
		rc = rego_bi_limit_error(ctx, "range of more than %u numbers", BI_NUM_RANGE_MAX);
		goto out;
	}
	n = (size_t)mpz_get_ui(count);

	out = rv_array_new(n);
	if (!out) {
		rc = bi_num_oom(ctx);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (rv_array_push(out, bi_num_from_mpz(cursor)) < 0) {
			rc = bi_num_oom(ctx);
			goto out;
		}
		if (descending)
			mpz_sub(cursor, cursor, step);
		else
			mpz_add(cursor, cursor, step);
	}
	*ret = WD_TAKE_PTR(out);

out:
	rv_unref(out);
	mpz_clear(cursor);
	mpz_clear(count);
	return rc;
}

int bi_numbers_range(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		     struct rv **ret)
{
	mpz_t x, y, step;
	int rc;

	(void)nargs;
	mpz_init(x);
	mpz_init(y);
	mpz_init_set_ui(step, 1);
	rc = bi_num_big_operand(ctx, args, 1, x);
	if (rc == 0)
		rc = bi_num_big_operand(ctx, args, 2, y);
	if (rc == 0)
		rc = build_range(ctx, x, y, step, ret);
	mpz_clear(step);
	mpz_clear(y);
	mpz_clear(x);
	return rc;
}

int bi_numbers_range_step(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			  struct rv **ret)
{
	mpz_t x, y, step;
	int rc;

	(void)nargs;
	mpz_init(x);
	mpz_init(y);
	mpz_init(step);
	rc = bi_num_big_operand(ctx, args, 1, x);
	if (rc == 0)
		rc = bi_num_big_operand(ctx, args, 2, y);
	if (rc == 0)
		rc = bi_num_big_operand(ctx, args, 3, step);
	/* OPA's message repeats the name: its error text already starts with
	 * it, and the evaluator adds it again. */
	if (rc == 0 && mpz_sgn(step) <= 0)
		rc = rego_bi_error(ctx, "numbers.range_step: step must be a positive integer");
	if (rc == 0)
		rc = build_range(ctx, x, y, step, ret);
	mpz_clear(step);
	mpz_clear(y);
	mpz_clear(x);
	return rc;
}
