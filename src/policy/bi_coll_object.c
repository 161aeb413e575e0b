/* Object builtins: object.get, object.keys, object.remove, object.filter,
 * object.union and object.union_n. */
#include "common/error.h"
#include "policy/bi_coll.h"

/* Follows path[from..] through value as OPA's Value.Find does: object keys,
 * integer array indexes, set members; NULL when some step is missing. */
static const struct rv *find_path(const struct rv *value, const struct rv *path)
{
	size_t n = rv_array_len(path);

	for (size_t i = 0; i < n && value; i++) {
		const struct rv *step = rv_array_at(path, i);

		switch (rv_kind_of(value)) {
		case RV_OBJECT:
			value = rv_object_get(value, step);
			break;
		case RV_ARRAY:
			/* OPA indexes an array only with an integer literal, so
			 * 1.0 fails there. NOTE: values hold 1.0 as the integer 1,
			 * so here it indexes. */
			if (rv_is(step, RV_NUMBER) && step->num_repr == RV_NUM_INT &&
			    step->u.num.i >= 0 && (uint64_t)step->u.num.i < rv_array_len(value))
				value = rv_array_at(value, (size_t)step->u.num.i);
			else
				value = NULL;
			break;
		case RV_SET:
			value = rv_set_has(value, step) ? step : NULL;
			break;
		default:
			value = NULL;
			break;
		}
	}
	return value;
}

/* object.get(obj, key, default): a key, or an array taken as a path; the
 * default when it leads nowhere. */
int bi_object_get(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		  struct rv **ret)
{
	const struct rv *found;

	(void)nargs;
	WD_TRY(rego_bi_want(ctx, args, 1, RK_OBJECT));

	if (rv_is(args[1], RV_ARRAY))
		found = find_path(args[0], args[1]);
	else
		found = rv_object_get(args[0], args[1]);

	*ret = rv_ref((struct rv *)(found ? found : args[2]));
	return 0;
}

int bi_object_keys(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		   struct rv **ret)
{
	const struct rv *obj = args[0];
	struct rv *out;
	size_t n;

	(void)nargs;
	WD_TRY(rego_bi_want(ctx, args, 1, RK_OBJECT));

	n = rv_len(obj);
	out = rv_set_new(n);
	if (!out)
		return bi_coll_oom(ctx);
	for (size_t i = 0; i < n; i++) {
		struct rv *key, *value;

		rv_map_at(obj, i, &key, &value);
		if (rv_set_add(out, rv_ref(key)) < 0) {
			rv_unref(out);
			return bi_coll_oom(ctx);
		}
	}
	*ret = out;
	return 0;
}

/* The keys operand of object.remove and object.filter: the members of an
 * array or set, or the keys of an object. */
static bool key_listed(const struct rv *keys, const struct rv *key)
{
	switch (rv_kind_of(keys)) {
	case RV_SET:
		return rv_set_has(keys, key);
	case RV_OBJECT:
		return rv_object_get(keys, key) != NULL;
	default:
		for (size_t i = 0; i < rv_array_len(keys); i++)
			if (rv_equal(rv_array_at(keys, i), key))
				return true;
		return false;
	}
}

/* Copies the entries of obj whose key is (keep_listed) or is not listed. */
static int filter_entries(struct rego_bctx *ctx, struct rv *const *args, bool keep_listed,
			  struct rv **ret)
{
	_wd_cleanup_(bi_coll_unrefp) struct rv *index = NULL;
	const struct rv *obj = args[0], *keys = args[1];
	struct rv *out;
	size_t n;

	WD_TRY(rego_bi_want(ctx, args, 1, RK_OBJECT));
	if (!rv_is(keys, RV_ARRAY) && !rv_is(keys, RV_SET) && !rv_is(keys, RV_OBJECT))
		return rego_bi_type_error(ctx, 2, "one of {object, set, array}", keys);

	/* A long array of keys is indexed once so each lookup is a hash probe. */
	if (rv_is(keys, RV_ARRAY) && rv_array_len(keys) > 8) {
		index = rv_set_new(rv_array_len(keys));
		if (!index)
			return bi_coll_oom(ctx);
		for (size_t i = 0; i < rv_array_len(keys); i++)
			if (rv_set_add(index, rv_ref(rv_array_at(keys, i))) < 0)
				return bi_coll_oom(ctx);
		keys = index;
	}

	n = rv_len(obj);
	out = rv_object_new(keep_listed ? 0 : n);
	if (!out)
		return bi_coll_oom(ctx);
	for (size_t i = 0; i < n; i++) {
		struct rv *key, *value;

		rv_map_at(obj, i, &key, &value);
		if (key_listed(keys, key) != keep_listed)
			continue;
		if (rv_object_put(out, rv_ref(key), rv_ref(value)) < 0) {
			rv_unref(out);
			return bi_coll_oom(ctx);
		}
	}
	*ret = out;
	return 0;
}

int bi_object_remove(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		     struct rv **ret)
{
	(void)nargs;
	return filter_entries(ctx, args, false, ret);
}

int bi_object_filter(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		     struct rv **ret)
{
	(void)nargs;
	return filter_entries(ctx, args, true, ret);
}

/* Merges b over a as OPA's object.union does. Where both values of a key are
 * objects they merge recursively, otherwise b's value wins, and a key keeps
 * the spelling it has in a (1 over 1.0). Returns NULL when memory runs out,
 * with *ret_too_deep set when the nesting passes BI_COLL_MAX_DEPTH. */
static struct rv *merge_objects(const struct rv *a, const struct rv *b, size_t depth,
				bool *ret_too_deep)
{
	size_t na = rv_len(a), nb = rv_len(b);
	struct rv *out;

	if (depth > BI_COLL_MAX_DEPTH) {
		*ret_too_deep = true;
		return NULL;
	}

	out = rv_object_new(na + nb);
	if (!out)
		return NULL;

	for (size_t i = 0; i < na; i++) {
		struct rv *key, *value, *other, *merged;

		rv_map_at(a, i, &key, &value);
		other = rv_object_get(b, key);
		if (!other)
			merged = rv_ref(value);
		else if (rv_is(value, RV_OBJECT) && rv_is(other, RV_OBJECT))
			merged = merge_objects(value, other, depth + 1, ret_too_deep);
		else
			merged = rv_ref(other);
		if (rv_object_put(out, rv_ref(key), merged) < 0)
			goto fail;
	}

	for (size_t i = 0; i < nb; i++) {
		struct rv *key, *value;

		rv_map_at(b, i, &key, &value);
		if (rv_object_get(a, key))
			continue;
		if (rv_object_put(out, rv_ref(key), rv_ref(value)) < 0)
			goto fail;
	}
	return out;

fail:
	rv_unref(out);
	return NULL;
}

static int merge_result(struct rego_bctx *ctx, struct rv *merged, bool too_deep,
			struct rv **ret)
{
	if (merged) {
		*ret = merged;
		return 0;
	}
	if (too_deep)
		return rego_bi_error(ctx, "objects nested deeper than %d levels",
				     BI_COLL_MAX_DEPTH);
	return bi_coll_oom(ctx);
}

int bi_object_union(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		    struct rv **ret)
{
	bool too_deep = false;

	(void)nargs;
	WD_TRY(rego_bi_want(ctx, args, 1, RK_OBJECT));
	WD_TRY(rego_bi_want(ctx, args, 2, RK_OBJECT));

	if (rv_equal(args[0], args[1])) {
		*ret = rv_ref(args[0]);
		return 0;
	}
	return merge_result(ctx, merge_objects(args[0], args[1], 0, &too_deep), too_deep, ret);
}

/* object.union_n: the objects merged left to right. OPA merges right to left
 * and freezes keys that a later non-object value overwrote, which gives the
 * same result. It reports the last non-object item, so the check runs in
 * that order. */
int bi_object_union_n(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		      struct rv **ret)
{
	const struct rv *arr = args[0];
	struct rv *acc;
	size_t n;

	(void)nargs;
	WD_TRY(rego_bi_want(ctx, args, 1, RK_ARRAY));

	n = rv_array_len(arr);
	for (size_t i = n; i > 0; i--) {
		const struct rv *item = rv_array_at(arr, i - 1);

		if (!rv_is(item, RV_OBJECT))
			return rego_bi_error_code(ctx, "eval_type_error",
						  "operand 1 must be array of objects but got "
						  "array containing %s", rv_type_name(item));
	}

	acc = rv_object_new(0);
	if (!acc)
		return bi_coll_oom(ctx);
	for (size_t i = 0; i < n; i++) {
		bool too_deep = false;
		struct rv *next = merge_objects(acc, rv_array_at(arr, i), 0, &too_deep);

		rv_unref(acc);
		if (!next)
			return merge_result(ctx, NULL, too_deep, ret);
		acc = next;
	}
	*ret = acc;
	return 0;
}
