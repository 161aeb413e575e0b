/* object.subset: whether the second operand is contained in the first, with
 * OPA's rules per pair of types (objects recursively, sets by membership,
 * arrays as a contiguous run, a set inside an array). */
#include "common/error.h"
#include "policy/bi_coll.h"

enum subset_result { SUBSET_NO = 0, SUBSET_YES = 1, SUBSET_TOO_DEEP = -1 };

static bool set_subset(const struct rv *super, const struct rv *sub)
{
	size_t n = rv_len(sub);

	for (size_t i = 0; i < n; i++) {
		struct rv *member, *unused;

		rv_map_at(sub, i, &member, &unused);
		if (!rv_set_has(super, member))
			return false;
	}
	return true;
}

/* sub must appear in super as a contiguous run of equal items. */
static bool array_subset(const struct rv *super, const struct rv *sub)
{
	size_t nsuper = rv_array_len(super), nsub = rv_array_len(sub);

	if (nsub > nsuper)
		return false;
	for (size_t start = 0; start + nsub <= nsuper; start++) {
		size_t i = 0;

		while (i < nsub && rv_equal(rv_array_at(super, start + i), rv_array_at(sub, i)))
			i++;
		if (i == nsub)
			return true;
	}
	return false;
}

/* OPA counts the items of super that are members of sub and returns true once
 * the count reaches the size of sub. So a repeated item counts twice, and an
 * empty super never returns true, not even for an empty sub. */
static bool array_set_subset(const struct rv *super, const struct rv *sub)
{
	size_t unmatched = rv_len(sub);

	for (size_t i = 0; i < rv_array_len(super); i++) {
		if (unmatched > 0 && rv_set_has(sub, rv_array_at(super, i)))
			unmatched--;
		if (unmatched == 0)
			return true;
	}
	return false;
}

static enum subset_result object_subset(const struct rv *super, const struct rv *sub,
					size_t depth)
{
	size_t n = rv_len(sub);

	if (depth > BI_COLL_MAX_DEPTH)
		return SUBSET_TOO_DEEP;

	for (size_t i = 0; i < n; i++) {
		struct rv *key, *sub_value, *super_value;
		enum subset_result nested;

		rv_map_at(sub, i, &key, &sub_value);
		super_value = rv_object_get(super, key);
		if (!super_value)
			return SUBSET_NO;
		if (rv_equal(sub_value, super_value))
			continue;

		if (rv_is(super_value, RV_OBJECT) && rv_is(sub_value, RV_OBJECT))
			nested = object_subset(super_value, sub_value, depth + 1);
		else if (rv_is(super_value, RV_SET) && rv_is(sub_value, RV_SET))
			nested = set_subset(super_value, sub_value) ? SUBSET_YES : SUBSET_NO;
		else if (rv_is(super_value, RV_ARRAY) && rv_is(sub_value, RV_ARRAY))
			nested = array_subset(super_value, sub_value) ? SUBSET_YES : SUBSET_NO;
		else
			nested = SUBSET_NO;
		if (nested != SUBSET_YES)
			return nested;
	}
	return SUBSET_YES;
}

int bi_object_subset(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		     struct rv **ret)
{
	const struct rv *super = args[0], *sub = args[1];
	enum subset_result result;

	(void)nargs;
	if (rv_is(super, RV_OBJECT) && rv_is(sub, RV_OBJECT))
		result = object_subset(super, sub, 0);
	else if (rv_is(super, RV_SET) && rv_is(sub, RV_SET))
		result = set_subset(super, sub) ? SUBSET_YES : SUBSET_NO;
	else if (rv_is(super, RV_ARRAY) && rv_is(sub, RV_ARRAY))
		result = array_subset(super, sub) ? SUBSET_YES : SUBSET_NO;
	else if (rv_is(super, RV_ARRAY) && rv_is(sub, RV_SET))
		result = array_set_subset(super, sub) ? SUBSET_YES : SUBSET_NO;
	else
		return rego_bi_error_code(ctx, "eval_type_error",
					  "both arguments object.subset must be of the same "
					  "type or array and set");

	if (result == SUBSET_TOO_DEEP)
		return rego_bi_error(ctx, "objects nested deeper than %d levels",
				     BI_COLL_MAX_DEPTH);
	*ret = rv_bool(result == SUBSET_YES);
	return 0;
}
