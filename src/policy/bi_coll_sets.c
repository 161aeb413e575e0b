/* Set builtins: and (&), or (|), set_diff (also minus on sets), and the
 * n-ary intersection and union over a set of sets. */
#include "common/error.h"
#include "policy/bi_coll.h"

/* Leaves no error record: the evaluator reports a failure without one as
 * out of memory (or an exhausted budget) instead of a builtin error. */
int bi_coll_oom(struct rego_bctx *ctx)
{
	ctx->err_code = NULL;
	return WD_ENOMEM;
}

static struct rv *set_member(const struct rv *set, size_t i)
{
	struct rv *item, *unused;

	rv_map_at(set, i, &item, &unused);
	return item;
}

/* Adds to out every member of a that is (keep_common) or is not in b. */
static int add_filtered(struct rv *out, const struct rv *a, const struct rv *b,
			bool keep_common)
{
	size_t n = rv_len(a);

	for (size_t i = 0; i < n; i++) {
		struct rv *item = set_member(a, i);

		if (rv_set_has(b, item) == keep_common)
			WD_TRY(rv_set_add(out, rv_ref(item)));
	}
	return 0;
}

static int add_all(struct rv *out, const struct rv *a)
{
	size_t n = rv_len(a);

	for (size_t i = 0; i < n; i++)
		WD_TRY(rv_set_add(out, rv_ref(set_member(a, i))));
	return 0;
}

enum set_op { SET_AND, SET_OR, SET_DIFF };

static int set_binary(struct rego_bctx *ctx, struct rv *const *args, enum set_op op,
		      struct rv **ret)
{
	const struct rv *a = args[0], *b = args[1];
	struct rv *out;
	int rc = 0;

	WD_TRY(rego_bi_want(ctx, args, 1, RK_SET));
	WD_TRY(rego_bi_want(ctx, args, 2, RK_SET));

	out = rv_set_new(op == SET_OR ? rv_len(a) + rv_len(b) : rv_len(a));
	if (!out)
		return bi_coll_oom(ctx);

	switch (op) {
	case SET_AND:
		/* Probing the larger set with the smaller one's members. */
		if (rv_len(a) <= rv_len(b))
			rc = add_filtered(out, a, b, true);
		else
			rc = add_filtered(out, b, a, true);
		break;
	case SET_OR:
		rc = add_all(out, a);
		if (rc == 0)
			rc = add_all(out, b);
		break;
	case SET_DIFF:
		rc = add_filtered(out, a, b, false);
		break;
	}
	if (rc < 0) {
		rv_unref(out);
		return bi_coll_oom(ctx);
	}
	*ret = out;
	return 0;
}

int bi_set_and(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	(void)nargs;
	return set_binary(ctx, args, SET_AND, ret);
}

int bi_set_or(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	(void)nargs;
	return set_binary(ctx, args, SET_OR, ret);
}

int bi_set_diff(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	(void)nargs;
	return set_binary(ctx, args, SET_DIFF, ret);
}

/* Checks that every member of the operand is a set; OPA names the operand
 * (1) and the member's type. */
static int want_set_of_sets(struct rego_bctx *ctx, const struct rv *sets)
{
	size_t n = rv_len(sets);

	for (size_t i = 0; i < n; i++) {
		struct rv *member, *unused;

		rv_map_sorted_at(sets, i, &member, &unused);
		if (!rv_is(member, RV_SET))
			return rego_bi_type_error(ctx, 1, "set", member);
	}
	return 0;
}

int bi_intersection(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		    struct rv **ret)
{
	const struct rv *sets = args[0];
	struct rv *acc = NULL;
	size_t n;

	(void)nargs;
	WD_TRY(rego_bi_want(ctx, args, 1, RK_SET));
	WD_TRY(want_set_of_sets(ctx, sets));

	n = rv_len(sets);
	if (n == 0) {
		*ret = rv_set_new(0);
		return *ret ? 0 : bi_coll_oom(ctx);
	}

	for (size_t i = 0; i < n; i++) {
		struct rv *member = set_member(sets, i), *next;

		if (!acc) {
			acc = rv_ref(member);
			continue;
		}
		next = rv_set_new(rv_len(acc));
		if (!next || add_filtered(next, acc, member, true) < 0) {
			rv_unref(next);
			rv_unref(acc);
			return bi_coll_oom(ctx);
		}
		rv_unref(acc);
		acc = next;
	}
	*ret = acc;
	return 0;
}

int bi_union(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	const struct rv *sets = args[0];
	struct rv *out;
	size_t n;

	(void)nargs;
	WD_TRY(rego_bi_want(ctx, args, 1, RK_SET));
	WD_TRY(want_set_of_sets(ctx, sets));

	n = rv_len(sets);
	out = rv_set_new(0);
	if (!out)
		return bi_coll_oom(ctx);
	for (size_t i = 0; i < n; i++) {
		if (add_all(out, set_member(sets, i)) < 0) {
			rv_unref(out);
			return bi_coll_oom(ctx);
		}
	}
	*ret = out;
	return 0;
}
