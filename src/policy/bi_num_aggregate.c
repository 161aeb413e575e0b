/* Aggregate builtins over collections: count, sum, product, max, min, sort,
 * and the deprecated all and any. Sets are visited in OPA's sorted order. */
#include <stdlib.h>

#include "common/alloc.h"
#include "common/error.h"
#include "policy/bi_num.h"

/* The i-th element of an array, or of a set in sorted order. */
static struct rv *element_at(const struct rv *coll, size_t i)
{
	struct rv *item, *unused;

	if (rv_is(coll, RV_ARRAY))
		return rv_array_at(coll, i);
	rv_map_sorted_at(coll, i, &item, &unused);
	return item;
}

static size_t element_count(const struct rv *coll)
{
	return rv_is(coll, RV_ARRAY) ? rv_array_len(coll) : rv_len(coll);
}

int bi_count(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	const struct rv *v = args[0];

	(void)nargs;
	if (!v || rv_is(v, RV_NULL) || rv_is(v, RV_BOOL) || rv_is(v, RV_NUMBER))
		return rego_bi_type_error(ctx, 1, "one of {array, object, set, string}", v);

	*ret = rv_int((int64_t)rv_count(v));
	return *ret ? 0 : bi_num_oom(ctx);
}

/* Checks that every element of the array or set is a number, as OPA's sum
 * and product do, and reports whether all of them are integral. */
static int numeric_elements(struct rego_bctx *ctx, const struct rv *coll, bool *ret_integral)
{
	size_t n = element_count(coll);
	bool integral = true;

	for (size_t i = 0; i < n; i++) {
		const struct rv *item = element_at(coll, i);

		if (!rv_is(item, RV_NUMBER)) {
			const char *kind = rv_type_name(coll);

			return rego_bi_error_code(ctx, "eval_type_error",
						  "operand 1 must be %s of numbers but got %s "
						  "containing %s", kind, kind, rv_type_name(item));
		}
		if (integral && !rv_number_is_int(item))
			integral = false;
	}
	*ret_integral = integral;
	return 0;
}

/* Folds integral elements exactly, as OPA does on big integers. */
static int fold_integers(struct rego_bctx *ctx, const struct rv *coll, bool multiply,
			 struct rv **ret)
{
	size_t n = element_count(coll);
	mpz_t acc, item;
	int rc = 0;

	mpz_init_set_si(acc, multiply ? 1 : 0);
	mpz_init(item);
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = bi_num_to_mpz(element_at(coll, i), item);
		if (rc != 0)
			break;
		if (multiply)
			mpz_mul(acc, acc, item);
		else
			mpz_add(acc, acc, item);
	}
	if (rc == 0) {
		*ret = bi_num_from_mpz(acc);
		rc = *ret ? 0 : WD_ENOMEM;
	}
	mpz_clear(item);
	mpz_clear(acc);

	if (rc == WD_ETOOBIG)
		return rego_bi_error(ctx, "number has more than %d digits", BI_NUM_MAX_DIGITS);
	return rc != 0 ? bi_num_oom(ctx) : 0;
}

/* Folds with the arithmetic of plus and mul when some element is not
 * integral. NOTE: OPA accumulates such sums in one 64-bit-mantissa float,
 * while this rounds after each step. The two differ only when a partial
 * result becomes an integer too large for that mantissa. A product takes
 * this path only beyond the range of bi_num_product_float. */
static int fold_numbers(struct rego_bctx *ctx, const struct rv *coll, bool multiply,
			struct rv **ret)
{
	size_t n = element_count(coll);
	struct rv *acc = rv_int(multiply ? 1 : 0);

	for (size_t i = 0; i < n && acc; i++) {
		struct rv *next = multiply ? rv_num_mul(acc, element_at(coll, i))
					   : rv_num_add(acc, element_at(coll, i));

		rv_unref(acc);
		acc = next;
	}
	if (!acc)
		return bi_num_oom(ctx);
	*ret = acc;
	return 0;
}

static int sum_or_product(struct rego_bctx *ctx, struct rv *const *args, bool multiply,
			  struct rv **ret)
{
	const struct rv *coll = args[0];
	bool integral = true;

	if (!rv_is(coll, RV_ARRAY) && !rv_is(coll, RV_SET))
		return rego_bi_type_error(ctx, 1, "one of {set, array}", coll);

	WD_TRY(numeric_elements(ctx, coll, &integral));
	if (integral)
		return fold_integers(ctx, coll, multiply, ret);
	if (multiply) {
		_wd_cleanup_(wd_freep) const struct rv **items = NULL;
		size_t n = element_count(coll);

		items = wd_calloc(n, sizeof(*items));
		if (!items)
			return bi_num_oom(ctx);
		for (size_t i = 0; i < n; i++)
			items[i] = element_at(coll, i);
		if (bi_num_product_float(items, n, ret) == 0)
			return 0;
	}
	return fold_numbers(ctx, coll, multiply, ret);
}

int bi_sum(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	(void)nargs;
	return sum_or_product(ctx, args, false, ret);
}

int bi_product(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	(void)nargs;
	return sum_or_product(ctx, args, true, ret);
}

/* max and min: undefined on an empty collection. Among equal elements of an
 * array (1 and 1.0) OPA keeps the last one; a set contains no equal members. */
static int extreme(struct rego_bctx *ctx, struct rv *const *args, bool want_max,
		   struct rv **ret)
{
	const struct rv *coll = args[0];
	struct rv *best;
	size_t n;

	if (!rv_is(coll, RV_ARRAY) && !rv_is(coll, RV_SET))
		return rego_bi_type_error(ctx, 1, "one of {set, array}", coll);

	n = element_count(coll);
	if (n == 0)
		return REGO_UNDEFINED;

	if (rv_is(coll, RV_SET)) {
		*ret = rv_ref(element_at(coll, want_max ? n - 1 : 0));
		return 0;
	}

	best = rv_array_at(coll, 0);
	for (size_t i = 1; i < n; i++) {
		struct rv *item = rv_array_at(coll, i);
		int cmp = rv_compare(best, item);

		if (want_max ? cmp <= 0 : cmp >= 0)
			best = item;
	}
	*ret = rv_ref(best);
	return 0;
}

int bi_max(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	(void)nargs;
	return extreme(ctx, args, true, ret);
}

int bi_min(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	(void)nargs;
	return extreme(ctx, args, false, ret);
}

struct sort_entry {
	struct rv *value;
	size_t index;
};

/* Orders by value, then by position, so equal values keep their order. */
static int sort_entry_compare(const void *a, const void *b)
{
	const struct sort_entry *x = a, *y = b;
	int cmp = rv_compare(x->value, y->value);

	if (cmp != 0)
		return cmp;
	return x->index < y->index ? -1 : x->index > y->index;
}

int bi_sort(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	_wd_cleanup_(wd_freep) struct sort_entry *entries = NULL;
	const struct rv *coll = args[0];
	struct rv *out;
	size_t n;

	(void)nargs;
	if (!rv_is(coll, RV_ARRAY) && !rv_is(coll, RV_SET))
		return rego_bi_type_error(ctx, 1, "one of {set, array}", coll);

	n = element_count(coll);
	out = rv_array_new(n);
	if (!out)
		return bi_num_oom(ctx);

	if (rv_is(coll, RV_ARRAY) && n > 1) {
		entries = wd_calloc(n, sizeof(*entries));
		if (!entries) {
			rv_unref(out);
			return bi_num_oom(ctx);
		}
		for (size_t i = 0; i < n; i++)
			entries[i] = (struct sort_entry){ rv_array_at(coll, i), i };
		qsort(entries, n, sizeof(*entries), sort_entry_compare);
	}

	for (size_t i = 0; i < n; i++) {
		struct rv *item = entries ? entries[i].value : element_at(coll, i);

		if (rv_array_push(out, rv_ref(item)) < 0) {
			rv_unref(out);
			return bi_num_oom(ctx);
		}
	}
	*ret = out;
	return 0;
}

/* all: every element is true; any: some element is true (deprecated). */
static int all_or_any(struct rego_bctx *ctx, struct rv *const *args, bool want_all,
		      struct rv **ret)
{
	const struct rv *coll = args[0];
	size_t n;
	bool result = want_all;

	if (!rv_is(coll, RV_ARRAY) && !rv_is(coll, RV_SET))
		return rego_bi_type_error(ctx, 1, "one of {array, set}", coll);

	n = element_count(coll);
	for (size_t i = 0; i < n; i++) {
		bool is_true = rv_is_true(element_at(coll, i));

		if (want_all && !is_true) {
			result = false;
			break;
		}
		if (!want_all && is_true) {
			result = true;
			break;
		}
	}
	*ret = rv_bool(result);
	return 0;
}

int bi_all(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	(void)nargs;
	return all_or_any(ctx, args, true, ret);
}

int bi_any(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	(void)nargs;
	return all_or_any(ctx, args, false, ret);
}
