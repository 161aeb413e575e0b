/* graph.reachable_paths: the paths from the initial nodes that OPA 1.20's
 * depth-first pathBuilder records, quirks included (see paths_from). */
#include <stdlib.h>

#include "common/alloc.h"
#include "common/error.h"
#include "policy/bi_coll.h"

/* A hash index from graph key to its entry number, so that the walk can
 * mark reached nodes and test a neighbour in O(1). */
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
	bool *reached;              /* by graph entry number */
	size_t *touched;            /* entries set in reached, to clear them */
	size_t touched_len;
	struct rv **path;           /* nodes of the current path */
	size_t *entry;              /* entry[i]: graph entry number of path[i] */
	size_t *next;               /* next[i]: the next neighbour of path[i] to visit */
	size_t *commits;            /* commits[i]: cycle commits made at path[i] */
	size_t len, cap;
	size_t steps;
};

static const struct rv *entry_edges(const struct path_walk *w, size_t entry)
{
	struct rv *key, *value;

	rv_map_at(w->index.graph, entry, &key, &value);
	return value;
}

/* Counts work against BI_COLL_PATHS_MAX_STEPS. */
static int charge(struct path_walk *w, size_t steps)
{
	if (steps > BI_COLL_PATHS_MAX_STEPS - w->steps)
		return WD_ETOOBIG;
	w->steps += steps;
	return 0;
}

/* Adds the current path, written repeat times in a row, to the result. */
static int emit_path(struct path_walk *w, size_t repeat)
{
	struct rv *arr;

	WD_TRY(charge(w, w->len * repeat));
	arr = rv_array_new(w->len * repeat);
	if (!arr)
		return WD_ENOMEM;
	for (size_t r = 0; r < repeat; r++) {
		for (size_t i = 0; i < w->len; i++) {
			if (rv_array_push(arr, rv_ref(w->path[i])) < 0) {
				rv_unref(arr);
				return WD_ENOMEM;
			}
		}
	}
	return rv_set_add(w->result, arr);
}

static int push_node(struct path_walk *w, struct rv *node, size_t entry)
{
	if (w->len == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;
		struct rv **path = wd_reallocarray(w->path, cap, sizeof(*path));
		size_t *entries, *next, *commits;

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
		commits = wd_reallocarray(w->commits, cap, sizeof(*commits));
		if (!commits)
			return WD_ENOMEM;
		w->commits = commits;
		w->cap = cap;
	}
	w->path[w->len] = node;
	w->entry[w->len] = entry;
	w->next[w->len] = 0;
	w->commits[w->len] = 0;
	w->len++;
	return 0;
}

static void mark_reached(struct path_walk *w, size_t entry)
{
	if (w->reached[entry])
		return;
	w->reached[entry] = true;
	w->touched[w->touched_len++] = entry;
}

static void clear_reached(struct path_walk *w)
{
	while (w->touched_len > 0)
		w->reached[w->touched[--w->touched_len]] = false;
}

/* Steps onto node from the end of the current path: a node outside the
 * graph ends the path before it, a node without neighbours ends the path
 * after it. */
static int visit(struct path_walk *w, struct rv *node)
{
	long entry = node_index_find(&w->index, node);

	WD_TRY(charge(w, 1));
	if (entry < 0)
		return emit_path(w, 1);

	WD_TRY(push_node(w, node, (size_t)entry));
	if (bi_coll_edge_count(entry_edges(w, (size_t)entry)) == 0) {
		int rc = emit_path(w, 1);

		w->len--;
		return rc;
	}
	return 0;
}

/* Follows OPA's pathBuilder from start (path[0]) through neighbor, with an
 * explicit stack so that a long chain cannot exhaust the C stack. Like OPA,
 * one set of reached nodes is shared by the whole walk from this neighbor:
 * a node counts as reached once it steps on to an unreached neighbor, and
 * reaching an already reached neighbor commits the current path. Each such
 * commit at the same node appends the path once more to what it commits, so
 * the second one records the path twice in a row. */
static int paths_from(struct path_walk *w, struct rv *neighbor)
{
	clear_reached(w);
	mark_reached(w, w->entry[0]);
	WD_TRY(visit(w, neighbor));

	while (w->len > 1) {
		size_t top = w->len - 1;
		const struct rv *edges = entry_edges(w, w->entry[top]);
		struct rv *next;
		long next_entry;

		if (w->next[top] == bi_coll_edge_count(edges)) {
			w->len--;
			continue;
		}
		next = bi_coll_edge_at(edges, w->next[top]++);
		next_entry = node_index_find(&w->index, next);

		if (next_entry >= 0 && w->reached[next_entry]) {
			w->commits[top]++;
			WD_TRY(emit_path(w, w->commits[top]));
		} else {
			mark_reached(w, w->entry[top]);
			WD_TRY(visit(w, next));
		}
	}
	return 0;
}

static int all_paths(struct path_walk *w, const struct rv *initial)
{
	for (size_t i = 0; i < bi_coll_edge_count(initial); i++) {
		struct rv *node = bi_coll_edge_at(initial, i);
		long entry = node_index_find(&w->index, node);
		const struct rv *edges;

		if (entry < 0)
			continue;

		w->len = 0;
		WD_TRY(push_node(w, node, (size_t)entry));
		edges = entry_edges(w, (size_t)entry);
		if (bi_coll_edge_count(edges) == 0) {
			WD_TRY(emit_path(w, 1));
			continue;
		}

		/* OPA starts afresh from each neighbour of an initial node, and
		 * follows these first edges without a reached check, so
		 * {"x": ["x"]} gives the path ["x", "x"]. */
		for (size_t j = 0; j < bi_coll_edge_count(edges); j++)
			WD_TRY(paths_from(w, bi_coll_edge_at(edges, j)));
	}
	return 0;
}

int bi_graph_reachable_paths(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			     struct rv **ret)
{
	struct path_walk w = { 0 };
	size_t nodes;
	int rc;

	(void)nargs;
	WD_TRY(bi_coll_want_graph(ctx, args));
	nodes = rv_len(args[0]) + 1;

	rc = node_index_build(&w.index, args[0]);
	if (rc == 0) {
		w.reached = wd_calloc(nodes, sizeof(*w.reached));
		w.touched = wd_calloc(nodes, sizeof(*w.touched));
		w.result = rv_set_new(0);
		rc = w.reached && w.touched && w.result ? all_paths(&w, args[1]) : WD_ENOMEM;
	}

	free(w.index.slots);
	free(w.reached);
	free(w.touched);
	free(w.path);
	free(w.entry);
	free(w.next);
	free(w.commits);
	if (rc < 0) {
		rv_unref(w.result);
		if (rc == WD_ETOOBIG)
			return rego_bi_limit_error(ctx, "path search exceeds the limit of %u steps",
					     BI_COLL_PATHS_MAX_STEPS);
		return bi_coll_oom(ctx);
	}
	*ret = w.result;
	return 0;
}
