/* graph.reachable and walk. A graph is an object that maps each node to its
 * neighbours, an array or a set. walk lists every [path, value] pair of a
 * value in OPA's order. */
#include "common/alloc.h"
#include "common/error.h"
#include "policy/bi_coll.h"

size_t bi_coll_edge_count(const struct rv *edges)
{
	if (rv_is(edges, RV_ARRAY))
		return rv_array_len(edges);
	if (rv_is(edges, RV_SET))
		return rv_len(edges);
	return 0;
}

struct rv *bi_coll_edge_at(const struct rv *edges, size_t i)
{
	struct rv *member, *unused;

	if (rv_is(edges, RV_ARRAY))
		return rv_array_at(edges, i);
	rv_map_sorted_at(edges, i, &member, &unused);
	return member;
}

int bi_coll_want_graph(struct rego_bctx *ctx, struct rv *const *args)
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
	WD_TRY(bi_coll_want_graph(ctx, args));

	cap = bi_coll_edge_count(initial) + 16;
	queue = wd_calloc(cap, sizeof(*queue));
	reached = rv_set_new(0);
	if (!queue || !reached)
		goto oom;
	for (size_t i = 0; i < bi_coll_edge_count(initial); i++)
		queue[tail++] = bi_coll_edge_at(initial, i);

	while (head < tail) {
		struct rv *node = queue[head++];
		const struct rv *edges = rv_object_get(graph, node);
		size_t n;

		if (!edges || rv_set_has(reached, node))
			continue;

		n = bi_coll_edge_count(edges);
		for (size_t i = 0; i < n; i++) {
			struct rv *neighbor = bi_coll_edge_at(edges, i);

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

/* A relation: each item of the result array is the output of one solution. */
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
