/* Private declarations shared by the collections group of builtins
 * (bi_collections.c and bi_coll_*.c). */
#pragma once

#include "policy/builtin.h"

/* Records an out-of-memory failure (or an exhausted value budget) and
 * returns WD_ENOMEM. */
int bi_coll_oom(struct rego_bctx *ctx);

/* Cleanup helper: `_wd_cleanup_(bi_coll_unrefp) struct rv *v = NULL;`. */
static inline void bi_coll_unrefp(struct rv **v)
{
	rv_unref(*v);
	*v = NULL;
}

/* The deepest value walk and object.union descend into; deeper values come
 * only from hostile input, and recursion past this could exhaust the
 * stack. */
#define BI_COLL_MAX_DEPTH 4096

/* The most steps graph.reachable_paths takes. OPA has no limit: the number
 * of paths in a graph can grow exponentially with its size. */
#define BI_COLL_PATHS_MAX_STEPS (1u << 20)

#define BI_COLL_FN(name)                                                       \
	int name(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,  \
		 struct rv **ret)

/* bi_coll_sets.c */
BI_COLL_FN(bi_set_and);
BI_COLL_FN(bi_set_or);
BI_COLL_FN(bi_set_diff);
BI_COLL_FN(bi_intersection);
BI_COLL_FN(bi_union);

/* bi_coll_array.c */
BI_COLL_FN(bi_array_concat);
BI_COLL_FN(bi_array_slice);
BI_COLL_FN(bi_array_reverse);
BI_COLL_FN(bi_array_flatten);

/* bi_coll_object.c */
BI_COLL_FN(bi_object_get);
BI_COLL_FN(bi_object_keys);
BI_COLL_FN(bi_object_remove);
BI_COLL_FN(bi_object_filter);
BI_COLL_FN(bi_object_union);
BI_COLL_FN(bi_object_union_n);

/* bi_coll_subset.c */
BI_COLL_FN(bi_object_subset);

/* bi_coll_graph.c */
BI_COLL_FN(bi_graph_reachable);
BI_COLL_FN(bi_graph_reachable_paths);
BI_COLL_FN(bi_walk);
