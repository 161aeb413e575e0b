/* Whole-program checks after resolution: recursion between rules and
 * functions, and the numbering of registry builtins used by resolved calls. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "policy/compile.h"

/* ---- builtin numbering ---- */

struct bi_entry {
	const struct rego_builtin *bi;
	int32_t index;
};

static const struct rego_builtin **bi_list;
static struct bi_entry *bi_sorted;
static size_t bi_count;
static pthread_once_t bi_once = PTHREAD_ONCE_INIT;

static void count_one(const struct rego_builtin *bi, void *arg)
{
	(void)bi;
	(*(size_t *)arg)++;
}

static void add_one(const struct rego_builtin *bi, void *arg)
{
	size_t *n = arg;

	bi_list[*n] = bi;
	bi_sorted[*n] = (struct bi_entry){ bi, (int32_t)*n };
	(*n)++;
}

static int cmp_entry(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const struct bi_entry *)a)->bi;
	uintptr_t y = (uintptr_t)((const struct bi_entry *)b)->bi;

	return x < y ? -1 : x > y;
}

static void bi_build(void)
{
	size_t n = 0;

	rego_builtin_foreach(count_one, &n);
	bi_list = wd_calloc(n ? n : 1, sizeof(*bi_list));
	bi_sorted = wd_calloc(n ? n : 1, sizeof(*bi_sorted));
	if (!bi_list || !bi_sorted) {
		free(bi_list);
		free(bi_sorted);
		bi_list = NULL;
		bi_sorted = NULL;
		return;
	}
	n = 0;
	rego_builtin_foreach(add_one, &n);
	bi_count = n;
	qsort(bi_sorted, n, sizeof(*bi_sorted), cmp_entry);
}

const struct rego_builtin *builtin_by_index(uint32_t idx)
{
	pthread_once(&bi_once, bi_build);
	return idx < bi_count ? bi_list[idx] : NULL;
}

int32_t builtin_index_of(const struct rego_builtin *bi)
{
	struct bi_entry key = { bi, 0 };
	struct bi_entry *hit;

	pthread_once(&bi_once, bi_build);
	if (!bi_sorted)
		return -1;
	hit = bsearch(&key, bi_sorted, bi_count, sizeof(*bi_sorted), cmp_entry);
	return hit ? hit->index : -1;
}

/* ---- recursion ---- */

/* The walk keeps its own stack, not the C stack, so a chain of a hundred
 * thousand rules is checked without recursion. */
struct rec_frame {
	struct cnode *node;
	struct cnode **deps;          /* rule nodes this node reads or calls */
	size_t deps_len;
	size_t deps_cap;
	size_t next;                  /* next dependency to follow */
};

struct rec_ctx {
	struct rego_engine *e;
	struct rego_errors *errs;
	struct rec_frame *stack;
	size_t stack_len;
	struct rec_frame *cur;        /* frame whose dependencies are collected */
	bool found;
};

static int dep_add(struct rec_ctx *rc, struct cnode *node)
{
	struct rec_frame *f = rc->cur;

	if (f->deps_len == f->deps_cap) {
		size_t cap = f->deps_cap ? f->deps_cap * 2 : 8;
		struct cnode **n = wd_reallocarray(f->deps, cap, sizeof(*n));

		if (!n)
			return WD_ENOMEM;
		f->deps = n;
		f->deps_cap = cap;
	}
	f->deps[f->deps_len++] = node;
	return 0;
}

static int visit_node(struct rec_ctx *rc, struct cnode *node)
{
	return dep_add(rc, node);
}

static int visit_subtree(struct rec_ctx *rc, struct cnode *node)
{
	if (node->kind != CN_NAMESPACE)
		return visit_node(rc, node);
	for (size_t i = 0; i < node->children_len && !rc->found; i++)
		WD_TRY(visit_subtree(rc, node->children[i]));
	return 0;
}

static int deps_term(struct rec_ctx *rc, const struct rego_term *t);

static int deps_body(struct rec_ctx *rc, const struct rego_body *body)
{
	for (size_t i = 0; body && i < body->len && !rc->found; i++) {
		const struct rego_expr *e = body->exprs[i];

		for (size_t w = 0; w < e->with_len; w++)
			WD_TRY(deps_term(rc, e->with[w]->value));
		switch (e->kind) {
		case RE_TERM:
			WD_TRY(deps_term(rc, e->u.term));
			break;
		case RE_SOME_IN:
			WD_TRY(deps_term(rc, e->u.some_in.domain));
			break;
		case RE_EVERY:
			WD_TRY(deps_term(rc, e->u.every.domain));
			WD_TRY(deps_body(rc, e->u.every.body));
			break;
		default:
			break;
		}
	}
	return 0;
}

/* A ref depends on the rules its path can reach: variable operands match
 * any child, so `data[x].allow` does not reach `data.test.p`. */
static int deps_match(struct rec_ctx *rc, struct cnode *node, const struct rego_term *t, size_t i)
{
	const struct rego_term *it;

	if (node->kind != CN_NAMESPACE || i == t->u.ref.len)
		return visit_subtree(rc, node);
	it = t->u.ref.items[i];
	if (it->kind == RT_VALUE) {
		struct cnode *child = cnode_child(node, it->u.value);

		return child ? deps_match(rc, child, t, i + 1) : 0;
	}
	for (size_t c = 0; c < node->children_len && !rc->found; c++)
		WD_TRY(deps_match(rc, node->children[c], t, i + 1));
	return 0;
}

static int deps_ref(struct rec_ctx *rc, const struct rego_term *t)
{
	const struct rego_term *head = t->u.ref.items[0];

	if (head->kind != RT_VAR || head->u.var.slot != SLOT_DATA)
		return 0;
	return deps_match(rc, rc->e->root, t, 1);
}

static int deps_term(struct rec_ctx *rc, const struct rego_term *t)
{
	if (!t || rc->found)
		return 0;
	switch (t->kind) {
	case RT_REF:
		WD_TRY(deps_ref(rc, t));
		for (size_t i = 1; i < t->u.ref.len; i++)
			WD_TRY(deps_term(rc, t->u.ref.items[i]));
		break;
	case RT_VAR:
		if (t->u.var.slot == SLOT_DATA)
			return visit_subtree(rc, rc->e->root);
		if (t->u.var.slot >= (1 << CALLEE_KIND_SHIFT) &&
		    CALLEE_KIND(t->u.var.slot) == CALLEE_USER) {
			uint32_t id = CALLEE_INDEX(t->u.var.slot);

			if (id < rc->e->nodes_len)
				return visit_node(rc, rc->e->nodes[id]);
		}
		break;
	case RT_ARRAY:
	case RT_SET:
		for (size_t i = 0; i < t->u.coll.len; i++)
			WD_TRY(deps_term(rc, t->u.coll.items[i]));
		break;
	case RT_OBJECT:
		for (size_t i = 0; i < t->u.obj.len; i++) {
			WD_TRY(deps_term(rc, t->u.obj.keys[i]));
			WD_TRY(deps_term(rc, t->u.obj.values[i]));
		}
		break;
	case RT_ARRAY_COMPR:
	case RT_SET_COMPR:
	case RT_OBJECT_COMPR:
		WD_TRY(deps_term(rc, t->u.compr.key));
		WD_TRY(deps_term(rc, t->u.compr.head));
		WD_TRY(deps_body(rc, t->u.compr.body));
		break;
	case RT_CALL:
		WD_TRY(deps_term(rc, t->u.call.op));
		for (size_t i = 0; i < t->u.call.len; i++)
			WD_TRY(deps_term(rc, t->u.call.args[i]));
		break;
	case RT_TEMPLATE:
		for (size_t i = 0; i < t->u.tmpl.len; i++)
			WD_TRY(deps_term(rc, t->u.tmpl.parts[i]));
		break;
	default:
		break;
	}
	return 0;
}

static int deps_rule(struct rec_ctx *rc, const struct rego_rule *r)
{
	const struct crule *cr = r->index;

	WD_TRY(deps_body(rc, r->body));
	WD_TRY(deps_term(rc, r->key));
	WD_TRY(deps_term(rc, r->value));
	for (size_t i = 0; cr && i < cr->suffix_len; i++)
		WD_TRY(deps_term(rc, cr->suffix[i]));
	for (const struct rego_else *el = r->else_chain; el; el = el->next) {
		WD_TRY(deps_body(rc, el->body));
		WD_TRY(deps_term(rc, el->value));
	}
	return 0;
}

static int report_cycle(struct rec_ctx *rc, struct cnode *node)
{
	struct wd_buf msg;
	size_t start = 0;
	const struct rego_loc *loc = node->rules_len ? &node->rules[0]->loc : NULL;

	for (size_t i = 0; i < rc->stack_len; i++)
		if (rc->stack[i].node == node)
			start = i;
	wd_buf_init(&msg, 128, 4096);
	for (size_t i = start; i < rc->stack_len; i++) {
		if (wd_buf_append_str(&msg, rc->stack[i].node->path) < 0 ||
		    wd_buf_append_str(&msg, " -> ") < 0)
			break;
	}
	if (wd_buf_append_str(&msg, node->path) < 0)
		wd_buf_truncate(&msg, 0);
	rego_errors_add(rc->errs, "rego_recursion_error", loc, "rule %s is recursive: %s",
			node->path, wd_buf_str(&msg));
	wd_buf_free(&msg);
	rc->found = true;
	return 0;
}

/* Opens a frame for node and collects what its rules depend on. */
static int push_node(struct rec_ctx *rc, struct cnode *node)
{
	struct rec_frame *f = &rc->stack[rc->stack_len++];

	*f = (struct rec_frame){ .node = node };
	node->visit = 1;
	rc->cur = f;
	for (size_t i = 0; i < node->rules_len; i++)
		WD_TRY(deps_rule(rc, node->rules[i]));
	if (node->default_rule)
		WD_TRY(deps_rule(rc, node->default_rule));
	/* A rule node's children (ref heads below it) are part of it. */
	for (size_t i = 0; i < node->children_len; i++)
		WD_TRY(visit_subtree(rc, node->children[i]));
	return 0;
}

/* Depth-first search from start; a node met again while still open closes
 * a cycle. */
static int walk_from(struct rec_ctx *rc, struct cnode *start)
{
	WD_TRY(push_node(rc, start));
	while (rc->stack_len > 0 && !rc->found) {
		struct rec_frame *f = &rc->stack[rc->stack_len - 1];
		struct cnode *next;

		if (f->next == f->deps_len) {
			f->node->visit = 2;
			free(f->deps);
			rc->stack_len--;
			continue;
		}
		next = f->deps[f->next++];
		if (next->visit == 1)
			return report_cycle(rc, next);
		if (next->visit == 0)
			WD_TRY(push_node(rc, next));
	}
	return 0;
}

int compile_check_recursion(struct rego_engine *e, struct rego_errors *errs)
{
	struct rec_ctx rc = { .e = e, .errs = errs };
	int r = 0;

	rc.stack = wd_calloc(e->nodes_len + 1, sizeof(*rc.stack));
	if (!rc.stack)
		return WD_ENOMEM;
	for (size_t i = 0; i < e->nodes_len && !rc.found && r == 0; i++) {
		if (e->nodes[i]->kind == CN_NAMESPACE || e->nodes[i]->visit)
			continue;
		r = walk_from(&rc, e->nodes[i]);
	}
	for (size_t i = 0; i < rc.stack_len; i++)
		free(rc.stack[i].deps);
	free(rc.stack);
	if (r < 0)
		return r;
	return rc.found ? WD_EINVAL : 0;
}
