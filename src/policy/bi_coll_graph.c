/* graph.reachable, graph.reachable_paths and walk. A graph is an object that
 * maps each node to its neighbours, an array or a set. walk lists every
 * [path, value] pair of a value in OPA's order. */
#include "common/alloc.h"
#include "common/error.h"
#include "policy/bi_coll.h"

/* The neighbours of a node: the items of an array or set value; anything
 * else has none, as in OPA. */
static size_t edge_count(const struct rv *edges)
{
	if (rv_is(edges, RV_ARRAY))
		return rv_array_len(edges);
	if (rv_is(edges, RV_SET))
		return rv_len(edges);
	return 0;
}

static struct rv *edge_at(const struct rv *edges, size_t i)
{
	struct rv *member, *unused;

	if (rv_is(edges, RV_ARRAY))
		return rv_array_at(edges, i);
	rv_map_sorted_at(edges, i, &member, &unused);
	return member;
}

static int want_graph(struct rego_bctx *ctx, struct rv *const *args)
{
	WD_TRY(rego_bi_want(ctx, args, 1, RK_OBJECT));
	if (!rv_is(args[1], RV_ARRAY) && !rv_is(args[1], RV_SET))
		return rego_bi_type_error(ctx, 2, "{array, set}", args[1]);
	return 0;
}

/* Breadth-first from the initial nodes; a node counts as reached once it is
 * taken from the queue and is a key of the graph. A node already reached is
 * not expanded again, which changes nothing in the result. */
int bi_graph_reachable(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		       struct rv **ret)
{
	_wd_cleanup_(wd_freep) struct rv **queue = NULL;
	const struct rv *graph = args[0], *initial = args[1];
	size_t head = 0, tail = 0, cap;
	struct rv *reached = NULL;

	(void)nargs;
	WD_TRY(want_graph(ctx, args));

	cap = edge_count(initial) + 16;
	queue = wd_calloc(cap, sizeof(*queue));
	reached = rv_set_new(0);
	if (!queue || !reached)
		goto oom;
	for (size_t i = 0; i < edge_count(initial); i++)
		queue[tail++] = edge_at(initial, i);

	while (head < tail) {
		struct rv *node = queue[head++];
		const struct rv *edges = rv_object_get(graph, node);
		size_t n;

		if (!edges || rv_set_has(reached, node))
			continue;

		n = edge_count(edges);
		for (size_t i = 0; i < n; i++) {
			struct rv *neighbor = edge_at(edges, i);

			if (rv_set_has(reached, neighbor))
				continue;
			if (tail == cap) {
				struct rv **grown = wd_reallocarray(queue, cap * 2, sizeof(*queue));

				if (!grown)
					goto oom;
				queue = grown;
				cap *= 2;
			}
			queue[tail++] = neighbor;
		}
		if (rv_set_add(reached, rv_ref(node)) < 0)
			goto oom;
	}
	*ret = reached;
	return 0;

oom:
	rv_unref(reached);
	return bi_coll_oom(ctx);
}

/* ---- graph.reachable_paths ---- */

struct path_walk {
	const struct rv *graph;
	struct rv *result;          /* set of path arrays */
	struct rv **path;           /* nodes of the current path */
	const struct rv **edges;    /* edges[i]: neighbours of path[i] */
	size_t *next;               /* next[i]: the next neighbour to visit */
	size_t len, cap;
	size_t steps;
};

/* Adds the current path to the result. */
static int emit_path(struct path_walk *w)
{
	struct rv *arr = rv_array_new(w->len);

	if (!arr)
		return WD_ENOMEM;
	for (size_t i = 0; i < w->len; i++)
		if (rv_array_push(arr, rv_ref(w->path[i])) < 0) {
			rv_unref(arr);
			return WD_ENOMEM;
		}
	return rv_set_add(w->result, arr);
}

static int push_node(struct path_walk *w, struct rv *node, const struct rv *edges)
{
	if (w->len == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;
		struct rv **path = wd_reallocarray(w->path, cap, sizeof(*path));
		const struct rv **edges_arr;
		size_t *next;

		if (!path)
			return WD_ENOMEM;
		w->path = path;
		edges_arr = wd_reallocarray(w->edges, cap, sizeof(*edges_arr));
		if (!edges_arr)
			return WD_ENOMEM;
		w->edges = edges_arr;
		next = wd_reallocarray(w->next, cap, sizeof(*next));
		if (!next)
			return WD_ENOMEM;
		w->next = next;
		w->cap = cap;
	}
	w->path[w->len] = node;
	w->edges[w->len] = edges;
	w->next[w->len] = 0;
	w->len++;
	return 0;
}

static bool path_contains(const struct path_walk *w, const struct rv *node)
{
	for (size_t i = 0; i < w->len; i++)
		if (rv_equal(w->path[i], node))
			return true;
	return false;
}

/* Steps onto node from the end of the current path, as OPA's pathBuilder:
 * a node outside the graph ends the path before it, a node without
 * neighbours ends the path after it. */
static int visit(struct path_walk *w, struct rv *node)
{
	const struct rv *edges = rv_object_get(w->graph, node);

	if (++w->steps > BI_COLL_PATHS_MAX_STEPS)
		return WD_ETOOBIG;
	if (!edges)
		return emit_path(w);

	WD_TRY(push_node(w, node, edges));
	if (edge_count(edges) == 0) {
		int rc = emit_path(w);

		w->len--;
		return rc;
	}
	return 0;
}

/* Depth-first from one initial node with an explicit stack, so a long chain
 * cannot exhaust the C stack. */
static int paths_from(struct path_walk *w, struct rv *start, const struct rv *edges)
{
	w->len = 0;
	WD_TRY(push_node(w, start, edges));

	while (w->len > 0) {
		size_t top = w->len - 1;
		struct rv *neighbor;

		if (w->next[top] == edge_count(w->edges[top])) {
			w->len--;
			continue;
		}
		neighbor = edge_at(w->edges[top], w->next[top]++);

		/* OPA checks for a cycle from the second node on: the start
		 * node's own edges are followed unchecked, so {"x": {"x"}}
		 * gives the path ["x", "x"]. */
		if (top > 0 && path_contains(w, neighbor))
			WD_TRY(emit_path(w));
		else
			WD_TRY(visit(w, neighbor));
	}
	return 0;
}

int bi_graph_reachable_paths(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			     struct rv **ret)
{
	struct path_walk w = { .graph = args[0] };
	const struct rv *initial = args[1];
	int rc = 0;

	(void)nargs;
	WD_TRY(want_graph(ctx, args));

	w.result = rv_set_new(0);
	if (!w.result)
		return bi_coll_oom(ctx);

	for (size_t i = 0; i < edge_count(initial) && rc == 0; i++) {
		struct rv *node = edge_at(initial, i);
		const struct rv *edges = rv_object_get(w.graph, node);

		if (!edges)
			continue;
		if (edge_count(edges) == 0) {
			w.len = 0;
			rc = push_node(&w, node, edges);
			if (rc == 0)
				rc = emit_path(&w);
			continue;
		}
		rc = paths_from(&w, node, edges);
	}

	free(w.path);
	free(w.edges);
	free(w.next);
	if (rc == WD_ETOOBIG) {
		rv_unref(w.result);
		return rego_bi_error(ctx, "graph has more than %u path steps",
				     BI_COLL_PATHS_MAX_STEPS);
	}
	if (rc < 0) {
		rv_unref(w.result);
		return bi_coll_oom(ctx);
	}
	*ret = w.result;
	return 0;
}

/* ---- walk ---- */

struct walk_state {
	struct rv *out;             /* array of [path, value] pairs */
	struct rv **path;           /* keys from the root to the current value */
	size_t len, cap;
};

static int walk_emit(struct walk_state *s, struct rv *value)
{
	struct rv *path = rv_array_new(s->len);
	struct rv *pair = rv_array_new(2);

	if (!path || !pair) {
		rv_unref(path);
		rv_unref(pair);
		return WD_ENOMEM;
	}
	for (size_t i = 0; i < s->len; i++) {
		if (rv_array_push(path, rv_ref(s->path[i])) < 0) {
			rv_unref(pair);
			return WD_ENOMEM;
		}
	}
	if (rv_array_push(pair, path) < 0 || rv_array_push(pair, rv_ref(value)) < 0) {
		rv_unref(pair);
		return WD_ENOMEM;
	}
	return rv_array_push(s->out, pair);
}

static int walk_value(struct walk_state *s, struct rv *value);

static int walk_child(struct walk_state *s, struct rv *key, struct rv *child)
{
	int rc;

	if (s->len == BI_COLL_MAX_DEPTH)
		return WD_ETOOBIG;
	if (s->len == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct rv **path = wd_reallocarray(s->path, cap, sizeof(*path));

		if (!path)
			return WD_ENOMEM;
		s->path = path;
		s->cap = cap;
	}
	s->path[s->len++] = key;
	rc = walk_value(s, child);
	s->len--;
	return rc;
}

/* Pre-order: the value itself, then its children; object keys and set
 * members in sorted order, as OPA's walk. */
static int walk_value(struct walk_state *s, struct rv *value)
{
	size_t n;

	WD_TRY(walk_emit(s, value));

	switch (rv_kind_of(value)) {
	case RV_ARRAY:
		n = rv_array_len(value);
		for (size_t i = 0; i < n; i++) {
			struct rv *index = rv_int((int64_t)i);
			int rc;

			if (!index)
				return WD_ENOMEM;
			rc = walk_child(s, index, rv_array_at(value, i));
			rv_unref(index);
			WD_TRY(rc);
		}
		break;
	case RV_OBJECT:
	case RV_SET:
		n = rv_len(value);
		for (size_t i = 0; i < n; i++) {
			struct rv *key, *child;

			rv_map_sorted_at(value, i, &key, &child);
			WD_TRY(walk_child(s, key, child ? child : key));
		}
		break;
	default:
		break;
	}
	return 0;
}

/* A relation: the result array holds one output per solution. */
int bi_walk(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	struct walk_state s = { 0 };
	int rc;

	(void)nargs;
	s.out = rv_array_new(0);
	if (!s.out)
		return bi_coll_oom(ctx);

	rc = walk_value(&s, args[0]);
	free(s.path);
	if (rc < 0) {
		rv_unref(s.out);
		if (rc == WD_ETOOBIG)
			return rego_bi_error(ctx, "value nested deeper than %d levels",
					     BI_COLL_MAX_DEPTH);
		return bi_coll_oom(ctx);
	}
	*ret = s.out;
	return 0;
}
