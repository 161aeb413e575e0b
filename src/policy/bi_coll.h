/* Private declarations shared by the collections group of builtins
 * (bi_collections.c and bi_coll_*.c). */
#pragma once

#include "policy/builtin.h"

/* Returns WD_ENOMEM for a failed allocation (or an exhausted value budget)
 * with no error recorded in ctx. */
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

/* The maximum number of steps of graph.reachable_paths, counting each node
 * visited and each item of the paths it records. OPA has no limit, and its repeated
 * cycle paths grow quadratically with a node's neighbours. */
#define BI_COLL_PATHS_MAX_STEPS (1u << 22)

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
BI_COLL_FN(bi_walk);

/* The neighbours of a graph node are the items of an array or set value, set
 * members in sorted order. As in OPA, any other value has none. */
size_t bi_coll_edge_count(const struct rv *edges);
struct rv *bi_coll_edge_at(const struct rv *edges, size_t i);

/* Checks the operands of graph.reachable and graph.reachable_paths. */
int bi_coll_want_graph(struct rego_bctx *ctx, struct rv *const *args);

/* bi_coll_paths.c */
BI_COLL_FN(bi_graph_reachable_paths);
