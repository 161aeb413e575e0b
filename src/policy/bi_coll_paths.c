/* graph.reachable_paths: every path from the initial nodes that ends at a
 * node without neighbours, outside the graph, or before a cycle, as OPA's
 * pathBuilder finds them. */
#include <stdlib.h>

#include "common/alloc.h"
#include "common/error.h"
#include "policy/bi_coll.h"

/* A hash index from graph key to its entry number, so that the walk can
 * mark which nodes are on the current path and test a neighbour in O(1). */
struct node_index {
	const struct rv *graph;
	size_t mask;
	size_t *slots;              /* entry number + 1; 0 = empty */
};

static int node_index_build(struct node_index *ix, const struct rv *graph)
{
	size_t n = rv_len(graph), cap = 16;

	while (cap < 2 * n)
		cap *= 2;
	ix->graph = graph;
	ix->mask = cap - 1;
	ix->slots = wd_calloc(cap, sizeof(*ix->slots));
	if (!ix->slots)
		return WD_ENOMEM;

	for (size_t i = 0; i < n; i++) {
		struct rv *key, *value;
		size_t slot;

		rv_map_at(graph, i, &key, &value);
		slot = (size_t)rv_hash(key) & ix->mask;
		while (ix->slots[slot])
			slot = (slot + 1) & ix->mask;
		ix->slots[slot] = i + 1;
	}
	return 0;
}

/* Returns the entry number of node in the graph, or -1 when it is no key. */
static long node_index_find(const struct node_index *ix, struct rv *node)
{
	size_t slot = (size_t)rv_hash(node) & ix->mask;

	while (ix->slots[slot]) {
		struct rv *key, *value;
		size_t entry = ix->slots[slot] - 1;

		rv_map_at(ix->graph, entry, &key, &value);
		if (rv_equal(key, node))
			return (long)entry;
		slot = (slot + 1) & ix->mask;
	}
	return -1;
}

struct path_walk {
	struct node_index index;
	struct rv *result;          /* set of path arrays */
	bool *on_path;              /* by graph entry number */
	struct rv **path;           /* nodes of the current path */
	size_t *entry;              /* entry[i]: graph entry number of path[i] */
	size_t *next;               /* next[i]: the next neighbour of path[i] to visit */
	size_t len, cap;
	size_t steps;
};

static const struct rv *entry_edges(const struct path_walk *w, size_t entry)
{
	struct rv *key, *value;

	rv_map_at(w->index.graph, entry, &key, &value);
	return value;
}

/* Adds the current path to the result. */
static int emit_path(struct path_walk *w)
{
	struct rv *arr = rv_array_new(w->len);

	if (!arr)
		return WD_ENOMEM;
	for (size_t i = 0; i < w->len; i++) {
		if (rv_array_push(arr, rv_ref(w->path[i])) < 0) {
			rv_unref(arr);
			return WD_ENOMEM;
		}
	}
	return rv_set_add(w->result, arr);
}

static int push_node(struct path_walk *w, struct rv *node, size_t entry)
{
	if (w->len == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;
		struct rv **path = wd_reallocarray(w->path, cap, sizeof(*path));
		size_t *entries, *next;

		if (!path)
			return WD_ENOMEM;
		w->path = path;
		entries = wd_reallocarray(w->entry, cap, sizeof(*entries));
		if (!entries)
			return WD_ENOMEM;
		w->entry = entries;
		next = wd_reallocarray(w->next, cap, sizeof(*next));
		if (!next)
			return WD_ENOMEM;
		w->next = next;
		w->cap = cap;
	}
	w->path[w->len] = node;
	w->entry[w->len] = entry;
	w->next[w->len] = 0;
	w->on_path[entry] = true;
	w->len++;
	return 0;
}

static void pop_node(struct path_walk *w)
{
	w->len--;
	w->on_path[w->entry[w->len]] = false;
}

/* Steps onto node from the end of the current path: a node outside the
 * graph ends the path before it, a node without neighbours ends the path
 * after it. */
static int visit(struct path_walk *w, struct rv *node)
{
	long entry = node_index_find(&w->index, node);

	if (++w->steps > BI_COLL_PATHS_MAX_STEPS)
		return WD_ETOOBIG;
	if (entry < 0)
		return emit_path(w);

	WD_TRY(push_node(w, node, (size_t)entry));
	if (bi_coll_edge_count(entry_edges(w, (size_t)entry)) == 0) {
		int rc = emit_path(w);

		pop_node(w);
		return rc;
	}
	return 0;
}

/* Walks depth-first from one initial node with an explicit stack, so a long
 * chain cannot exhaust the C stack. */
static int paths_from(struct path_walk *w, struct rv *start, size_t entry)
{
	WD_TRY(push_node(w, start, entry));

	while (w->len > 0) {
		size_t top = w->len - 1;
		const struct rv *edges = entry_edges(w, w->entry[top]);
		struct rv *neighbor;
		long neighbor_entry;

		if (w->next[top] == bi_coll_edge_count(edges)) {
			pop_node(w);
			continue;
		}
		neighbor = bi_coll_edge_at(edges, w->next[top]++);

		/* OPA checks for a cycle from the second node on: the start
		 * node's own edges are followed unchecked, so {"x": {"x"}}
		 * gives the path ["x", "x"]. */
		neighbor_entry = top > 0 ? node_index_find(&w->index, neighbor) : -1;
		if (neighbor_entry >= 0 && w->on_path[neighbor_entry])
			WD_TRY(emit_path(w));
		else
			WD_TRY(visit(w, neighbor));
	}
	return 0;
}

static int all_paths(struct path_walk *w, const struct rv *initial)
{
	for (size_t i = 0; i < bi_coll_edge_count(initial); i++) {
		struct rv *node = bi_coll_edge_at(initial, i);
		long entry = node_index_find(&w->index, node);

		if (entry < 0)
			continue;
		if (bi_coll_edge_count(entry_edges(w, (size_t)entry)) == 0) {
			WD_TRY(push_node(w, node, (size_t)entry));
			WD_TRY(emit_path(w));
			pop_node(w);
			continue;
		}
		WD_TRY(paths_from(w, node, (size_t)entry));
	}
	return 0;
}

int bi_graph_reachable_paths(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			     struct rv **ret)
{
	struct path_walk w = { 0 };
	int rc;

	(void)nargs;
	WD_TRY(bi_coll_want_graph(ctx, args));

	rc = node_index_build(&w.index, args[0]);
	if (rc == 0) {
		w.on_path = wd_calloc(rv_len(args[0]) + 1, sizeof(*w.on_path));
		w.result = rv_set_new(0);
		rc = w.on_path && w.result ? all_paths(&w, args[1]) : WD_ENOMEM;
	}

	free(w.index.slots);
	free(w.on_path);
	free(w.path);
	free(w.entry);
	free(w.next);
	if (rc < 0) {
		rv_unref(w.result);
		if (rc == WD_ETOOBIG)
			return rego_bi_error(ctx, "graph has more than %u path steps",
					     BI_COLL_PATHS_MAX_STEPS);
		return bi_coll_oom(ctx);
	}
	*ret = w.result;
	return 0;
}
