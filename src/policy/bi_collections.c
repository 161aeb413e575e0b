/* Built-in functions: arrays, sets, objects, types, casts, graph.* and walk.
 * This file contains the group's table, the type tests and the casts; the other
 * builtins live in bi_coll_*.c. */
#include "policy/bi_coll.h"

static int is_kind(struct rv *const *args, enum rv_kind kind, struct rv **ret)
{
	*ret = rv_bool(rv_is(args[0], kind));
	return 0;
}

#define DEFINE_IS(fn, kind)                                                    \
	static int fn(struct rego_bctx *ctx, struct rv *const *args,           \
		      size_t nargs, struct rv **ret)                           \
	{                                                                      \
		(void)ctx;                                                     \
		(void)nargs;                                                   \
		return is_kind(args, kind, ret);                               \
	}

DEFINE_IS(bi_is_null, RV_NULL)
DEFINE_IS(bi_is_boolean, RV_BOOL)
DEFINE_IS(bi_is_number, RV_NUMBER)
DEFINE_IS(bi_is_string, RV_STRING)
DEFINE_IS(bi_is_array, RV_ARRAY)
DEFINE_IS(bi_is_object, RV_OBJECT)
DEFINE_IS(bi_is_set, RV_SET)

static int bi_type_name(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			struct rv **ret)
{
	(void)nargs;
	*ret = rv_cstring(rv_type_name(args[0]));
	return *ret ? 0 : bi_coll_oom(ctx);
}

/* ---- deprecated casts: the value itself when it has the type ---- */

static int cast_same(struct rego_bctx *ctx, struct rv *const *args, unsigned kind_mask,
		     struct rv **ret)
{
	WD_TRY(rego_bi_want(ctx, args, 1, kind_mask));
	*ret = rv_ref(args[0]);
	return 0;
}

#define DEFINE_CAST(fn, mask)                                                  \
	static int fn(struct rego_bctx *ctx, struct rv *const *args,           \
		      size_t nargs, struct rv **ret)                           \
	{                                                                      \
		(void)nargs;                                                   \
		return cast_same(ctx, args, mask, ret);                        \
	}

DEFINE_CAST(bi_cast_boolean, RK_BOOL)
DEFINE_CAST(bi_cast_null, RK_NULL)
DEFINE_CAST(bi_cast_object, RK_OBJECT)
DEFINE_CAST(bi_cast_string, RK_STRING)

/* cast_array: a set becomes an array of its members in sorted order. */
static int bi_cast_array(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			 struct rv **ret)
{
	const struct rv *set = args[0];
	struct rv *out;
	size_t n;

	(void)nargs;
	WD_TRY(rego_bi_want(ctx, args, 1, RK_ARRAY | RK_SET));
	if (rv_is(set, RV_ARRAY)) {
		*ret = rv_ref(args[0]);
		return 0;
	}

	n = rv_len(set);
	out = rv_array_new(n);
	if (!out)
		return bi_coll_oom(ctx);
	for (size_t i = 0; i < n; i++) {
		struct rv *member, *unused;

		rv_map_sorted_at(set, i, &member, &unused);
		if (rv_array_push(out, rv_ref(member)) < 0) {
			rv_unref(out);
			return bi_coll_oom(ctx);
		}
	}
	*ret = out;
	return 0;
}

/* cast_set: an array becomes the set of its items. */
static int bi_cast_set(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		       struct rv **ret)
{
	const struct rv *arr = args[0];
	struct rv *out;
	size_t n;

	(void)nargs;
	WD_TRY(rego_bi_want(ctx, args, 1, RK_ARRAY | RK_SET));
	if (rv_is(arr, RV_SET)) {
		*ret = rv_ref(args[0]);
		return 0;
	}

	n = rv_array_len(arr);
	out = rv_set_new(n);
	if (!out)
		return bi_coll_oom(ctx);
	for (size_t i = 0; i < n; i++) {
		if (rv_set_add(out, rv_ref(rv_array_at(arr, i))) < 0) {
			rv_unref(out);
			return bi_coll_oom(ctx);
		}
	}
	*ret = out;
	return 0;
}

#define OBJ RK_OBJECT
#define ARR RK_ARRAY
#define KEYS (RK_ARRAY | RK_OBJECT | RK_SET)
#define EDGES (RK_ARRAY | RK_SET)

/* Declarations follow OPA 1.20's capabilities: names, infix operators,
 * argument and result types. */
const struct rego_builtin rego_builtins_collections[] = {
	/* sets */
	{ .name = "and", .infix = "&", .arity = 2, .flags = REGO_BI_INFIX,
	  .arg_types = { RK_SET, RK_SET }, .result_type = RK_SET, .fn = bi_set_and },
	{ .name = "or", .infix = "|", .arity = 2, .flags = REGO_BI_INFIX,
	  .arg_types = { RK_SET, RK_SET }, .result_type = RK_SET, .fn = bi_set_or },
	{ .name = "intersection", .arity = 1, .arg_types = { RK_SET }, .result_type = RK_SET,
	  .fn = bi_intersection },
	{ .name = "union", .arity = 1, .arg_types = { RK_SET }, .result_type = RK_SET,
	  .fn = bi_union },
	{ .name = "set_diff", .arity = 2, .flags = REGO_BI_DEPRECATED,
	  .arg_types = { RK_SET, RK_SET }, .result_type = RK_SET, .fn = bi_set_diff },

	/* arrays */
	{ .name = "array.concat", .arity = 2, .arg_types = { ARR, ARR }, .result_type = ARR,
	  .fn = bi_array_concat },
	{ .name = "array.slice", .arity = 3, .arg_types = { ARR, RK_NUMBER, RK_NUMBER },
	  .result_type = ARR, .fn = bi_array_slice },
	{ .name = "array.reverse", .arity = 1, .arg_types = { ARR }, .result_type = ARR,
	  .fn = bi_array_reverse },
	{ .name = "array.flatten", .arity = 1, .arg_types = { ARR }, .result_type = ARR,
	  .fn = bi_array_flatten },

	/* objects */
	{ .name = "object.get", .arity = 3, .arg_types = { OBJ, RK_ANY, RK_ANY },
	  .result_type = RK_ANY, .fn = bi_object_get },
	{ .name = "object.keys", .arity = 1, .arg_types = { OBJ }, .result_type = RK_SET,
	  .fn = bi_object_keys },
	{ .name = "object.remove", .arity = 2, .arg_types = { OBJ, KEYS }, .result_type = OBJ,
	  .fn = bi_object_remove },
	{ .name = "object.union", .arity = 2, .arg_types = { OBJ, OBJ }, .result_type = OBJ,
	  .fn = bi_object_union },
	{ .name = "object.union_n", .arity = 1, .arg_types = { ARR }, .result_type = OBJ,
	  .fn = bi_object_union_n },
	{ .name = "object.filter", .arity = 2, .arg_types = { OBJ, KEYS }, .result_type = OBJ,
	  .fn = bi_object_filter },
	{ .name = "object.subset", .arity = 2, .arg_types = { KEYS, KEYS },
	  .result_type = RK_BOOL, .fn = bi_object_subset },

	/* types */
	{ .name = "is_array", .arity = 1, .arg_types = { RK_ANY }, .result_type = RK_BOOL,
	  .fn = bi_is_array },
	{ .name = "is_boolean", .arity = 1, .arg_types = { RK_ANY }, .result_type = RK_BOOL,
	  .fn = bi_is_boolean },
	{ .name = "is_null", .arity = 1, .arg_types = { RK_ANY }, .result_type = RK_BOOL,
	  .fn = bi_is_null },
	{ .name = "is_number", .arity = 1, .arg_types = { RK_ANY }, .result_type = RK_BOOL,
	  .fn = bi_is_number },
	{ .name = "is_object", .arity = 1, .arg_types = { RK_ANY }, .result_type = RK_BOOL,
	  .fn = bi_is_object },
	{ .name = "is_set", .arity = 1, .arg_types = { RK_ANY }, .result_type = RK_BOOL,
	  .fn = bi_is_set },
	{ .name = "is_string", .arity = 1, .arg_types = { RK_ANY }, .result_type = RK_BOOL,
	  .fn = bi_is_string },
	{ .name = "type_name", .arity = 1, .arg_types = { RK_ANY }, .result_type = RK_STRING,
	  .fn = bi_type_name },

	/* casts (deprecated) */
	{ .name = "cast_array", .arity = 1, .flags = REGO_BI_DEPRECATED,
	  .arg_types = { RK_ANY }, .result_type = ARR, .fn = bi_cast_array },
	{ .name = "cast_boolean", .arity = 1, .flags = REGO_BI_DEPRECATED,
	  .arg_types = { RK_ANY }, .result_type = RK_BOOL, .fn = bi_cast_boolean },
	{ .name = "cast_null", .arity = 1, .flags = REGO_BI_DEPRECATED,
	  .arg_types = { RK_ANY }, .result_type = RK_NULL, .fn = bi_cast_null },
	{ .name = "cast_object", .arity = 1, .flags = REGO_BI_DEPRECATED,
	  .arg_types = { RK_ANY }, .result_type = OBJ, .fn = bi_cast_object },
	{ .name = "cast_set", .arity = 1, .flags = REGO_BI_DEPRECATED,
	  .arg_types = { RK_ANY }, .result_type = RK_SET, .fn = bi_cast_set },
	{ .name = "cast_string", .arity = 1, .flags = REGO_BI_DEPRECATED,
	  .arg_types = { RK_ANY }, .result_type = RK_STRING, .fn = bi_cast_string },

	/* graphs and walk */
	{ .name = "graph.reachable", .arity = 2, .arg_types = { OBJ, EDGES },
	  .result_type = RK_SET, .fn = bi_graph_reachable },
	{ .name = "graph.reachable_paths", .arity = 2, .arg_types = { OBJ, EDGES },
	  .result_type = RK_SET, .fn = bi_graph_reachable_paths },
	{ .name = "walk", .arity = 1, .flags = REGO_BI_RELATION, .arg_types = { RK_ANY },
	  .result_type = ARR, .fn = bi_walk },

	{ .name = NULL },
};
