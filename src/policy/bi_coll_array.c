/* Array builtins: array.concat, array.slice, array.reverse, array.flatten. */
#include "common/error.h"
#include "policy/bi_coll.h"
#include "policy/bi_num.h"

/* Appends items [from, to) of src to out. */
static int push_range(struct rv *out, const struct rv *src, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		WD_TRY(rv_array_push(out, rv_ref(rv_array_at(src, i))));
	return 0;
}

int bi_array_concat(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		    struct rv **ret)
{
	const struct rv *a = args[0], *b = args[1];
	struct rv *out;

	(void)nargs;
	WD_TRY(rego_bi_want(ctx, args, 1, RK_ARRAY));
	WD_TRY(rego_bi_want(ctx, args, 2, RK_ARRAY));

	out = rv_array_new(rv_array_len(a) + rv_array_len(b));
	if (!out || push_range(out, a, 0, rv_array_len(a)) < 0 ||
	    push_range(out, b, 0, rv_array_len(b)) < 0) {
		rv_unref(out);
		return bi_coll_oom(ctx);
	}
	*ret = out;
	return 0;
}

/* OPA clamps both indexes into [0, len] and the start to at most the stop,
 * so out-of-range bounds give a shorter or empty slice, never an error. */
int bi_array_slice(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		   struct rv **ret)
{
	const struct rv *arr = args[0];
	int64_t start, stop, len;
	struct rv *out;

	(void)nargs;
	WD_TRY(rego_bi_want(ctx, args, 1, RK_ARRAY));
	WD_TRY(bi_num_int_operand(ctx, args, 2, &start));
	WD_TRY(bi_num_int_operand(ctx, args, 3, &stop));

	len = (int64_t)rv_array_len(arr);
	if (stop < 0)
		stop = 0;
	else if (stop > len)
		stop = len;
	if (start < 0)
		start = 0;
	else if (start > stop)
		start = stop;

	out = rv_array_new((size_t)(stop - start));
	if (!out || push_range(out, arr, (size_t)start, (size_t)stop) < 0) {
		rv_unref(out);
		return bi_coll_oom(ctx);
	}
	*ret = out;
	return 0;
}

int bi_array_reverse(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		     struct rv **ret)
{
	const struct rv *arr = args[0];
	struct rv *out;
	size_t n;

	(void)nargs;
	WD_TRY(rego_bi_want(ctx, args, 1, RK_ARRAY));

	n = rv_array_len(arr);
	out = rv_array_new(n);
	if (!out)
		return bi_coll_oom(ctx);
	for (size_t i = n; i > 0; i--) {
		if (rv_array_push(out, rv_ref(rv_array_at(arr, i - 1))) < 0) {
			rv_unref(out);
			return bi_coll_oom(ctx);
		}
	}
	*ret = out;
	return 0;
}

/* Unpacks items that are arrays one level deep; other items stay as they
 * are (array.flatten, OPA 1.13 and later). */
int bi_array_flatten(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		     struct rv **ret)
{
	const struct rv *arr = args[0];
	struct rv *out;
	size_t n, total = 0;

	(void)nargs;
	WD_TRY(rego_bi_want(ctx, args, 1, RK_ARRAY));

	n = rv_array_len(arr);
	for (size_t i = 0; i < n; i++) {
		const struct rv *item = rv_array_at(arr, i);

		total += rv_is(item, RV_ARRAY) ? rv_array_len(item) : 1;
	}

	out = rv_array_new(total);
	if (!out)
		return bi_coll_oom(ctx);
	for (size_t i = 0; i < n; i++) {
		struct rv *item = rv_array_at(arr, i);
		int rc = rv_is(item, RV_ARRAY) ? push_range(out, item, 0, rv_array_len(item))
					       : rv_array_push(out, rv_ref(item));

		if (rc < 0) {
			rv_unref(out);
			return bi_coll_oom(ctx);
		}
	}
	*ret = out;
	return 0;
}
