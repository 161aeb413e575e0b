/* Rule indexing: when many rules of one name test the same input path
 * against constants (`input.method == "GET"`), a hash of those constants
 * selects the rules that can match instead of evaluating every one. */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "policy/eval_internal.h"

/* Fewer rules than this are cheaper to try one by one. */
#define INDEX_MIN_RULES 8
#define INDEX_MAX_PATH 8

struct ibucket {
	struct rv *value;             /* NULL: empty slot */
	struct rego_rule **rules;     /* matching rules and unconditional ones, in order */
	size_t len;
};

struct rule_index {
	struct rv *path[INDEX_MAX_PATH];
	size_t path_len;
	struct ibucket *buckets;
	size_t nbuckets;              /* power of two */
	struct rego_rule **always;    /* rules without the test */
	size_t always_len;
};

void rule_index_free(struct rule_index *ix)
{
	if (!ix)
		return;
	for (size_t i = 0; i < ix->nbuckets; i++)
		free(ix->buckets[i].rules);
	free(ix->buckets);
	free(ix->always);
	free(ix);
}

/* The input path and constant of `input.a.b == c` (or `=`), if e is one. */
static bool expr_input_test(const struct rego_expr *e, const struct rego_term **ret_ref,
			    struct rv **ret_const)
{
	const struct rego_term *t = e->u.term, *a, *b;
	const char *name;

	if (e->kind != RE_TERM || e->negated || e->with_len || t->kind != RT_CALL ||
	    t->u.call.len != 2 || t->u.call.op->kind != RT_VAR)
		return false;
	name = t->u.call.op->u.var.name;
	if (strcmp(name, "equal") != 0 && strcmp(name, "eq") != 0)
		return false;
	a = t->u.call.args[0];
	b = t->u.call.args[1];
	if (a->kind == RT_VALUE) {
		const struct rego_term *tmp = a;

		a = b;
		b = tmp;
	}
	if (b->kind != RT_VALUE || a->kind != RT_REF || a->u.ref.len < 2 ||
	    a->u.ref.len > INDEX_MAX_PATH + 1)
		return false;
	if (a->u.ref.items[0]->kind != RT_VAR || a->u.ref.items[0]->u.var.slot != SLOT_INPUT)
		return false;
	for (size_t i = 1; i < a->u.ref.len; i++)
		if (a->u.ref.items[i]->kind != RT_VALUE)
			return false;
	*ret_ref = a;
	*ret_const = b->u.value;
	return true;
}

static bool same_path(const struct rego_term *ref, struct rv *const *path, size_t len)
{
	if (ref->u.ref.len - 1 != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!rv_equal(ref->u.ref.items[i + 1]->u.value, path[i]))
			return false;
	return true;
}

/* The constant rule r tests the path against, or NULL. */
static struct rv *rule_test(const struct rego_rule *r, struct rv *const *path, size_t len)
{
	if (r->else_chain)
		return NULL;
	for (size_t i = 0; i < r->body->len; i++) {
		const struct rego_term *ref;
		struct rv *c;

		if (expr_input_test(r->body->exprs[i], &ref, &c) && same_path(ref, path, len))
			return c;
	}
	return NULL;
}

static struct ibucket *bucket_find(struct rule_index *ix, struct rv *value)
{
	size_t mask = ix->nbuckets - 1;
	size_t i = (size_t)rv_hash(value) & mask;

	while (ix->buckets[i].value && !rv_equal(ix->buckets[i].value, value))
		i = (i + 1) & mask;
	return &ix->buckets[i];
}

static int bucket_add(struct ibucket *b, struct rego_rule *r)
{
	struct rego_rule **n = wd_reallocarray(b->rules, b->len + 1, sizeof(*n));

	if (!n)
		return WD_ENOMEM;
	b->rules = n;
	b->rules[b->len++] = r;
	return 0;
}

static bool same_ref_path(const struct rego_term *a, const struct rego_term *b)
{
	if (a->u.ref.len != b->u.ref.len)
		return false;
	for (size_t i = 1; i < a->u.ref.len; i++)
		if (!rv_equal(a->u.ref.items[i]->u.value, b->u.ref.items[i]->u.value))
			return false;
	return true;
}

/* The input path that most of node's rules test against a constant (among
 * the first few distinct paths seen); NULL when none does. */
static const struct rego_term *most_tested_path(const struct cnode *node)
{
	const struct rego_term *paths[8];
	size_t counts[8] = { 0 };
	size_t npaths = 0, best = 0;

	for (size_t r = 0; r < node->rules_len; r++) {
		const struct rego_body *body = node->rules[r]->body;

		for (size_t i = 0; i < body->len; i++) {
			const struct rego_term *ref;
			struct rv *c;
			size_t p;

			if (!expr_input_test(body->exprs[i], &ref, &c))
				continue;
			for (p = 0; p < npaths && !same_ref_path(ref, paths[p]); p++)
				;
			if (p == npaths) {
				if (npaths == WD_ARRAY_LEN(paths))
					continue;
				paths[npaths++] = ref;
			}
			counts[p]++;
		}
	}
	for (size_t p = 1; p < npaths; p++)
		if (counts[p] > counts[best])
			best = p;
	return npaths ? paths[best] : NULL;
}

int compile_index_node(struct cnode *node)
{
	struct rule_index *ix;
	const struct rego_term *ref;
	size_t tested = 0, cap = 16;

	if (node->rules_len < INDEX_MIN_RULES)
		return 0;

	ref = most_tested_path(node);
	if (!ref)
		return 0;

	ix = calloc(1, sizeof(*ix));
	if (!ix)
		return WD_ENOMEM;
	ix->path_len = ref->u.ref.len - 1;
	for (size_t i = 0; i < ix->path_len; i++)
		ix->path[i] = ref->u.ref.items[i + 1]->u.value;

	for (size_t i = 0; i < node->rules_len; i++)
		if (rule_test(node->rules[i], ix->path, ix->path_len))
			tested++;
	if (tested * 2 < node->rules_len) {
		free(ix);
		return 0;
	}
	while (cap < tested * 2)
		cap *= 2;
	ix->nbuckets = cap;
	ix->buckets = wd_calloc(cap, sizeof(*ix->buckets));
	ix->always = wd_calloc(node->rules_len, sizeof(*ix->always));
	if (!ix->buckets || !ix->always)
		goto nomem;

	/* Each bucket lists its rules and the unconditional ones in source
	 * order, so evaluation order (and the first error) matches. */
	for (size_t i = 0; i < node->rules_len; i++) {
		struct rego_rule *r = node->rules[i];
		struct rv *v = rule_test(r, ix->path, ix->path_len);

		if (!v) {
			ix->always[ix->always_len++] = r;
			for (size_t b = 0; b < ix->nbuckets; b++)
				if (ix->buckets[b].value && bucket_add(&ix->buckets[b], r) < 0)
					goto nomem;
			continue;
		}
		{
			struct ibucket *b = bucket_find(ix, v);

			if (!b->value) {
				b->value = v;
				for (size_t k = 0; k < ix->always_len; k++)
					if (bucket_add(b, ix->always[k]) < 0)
						goto nomem;
			}
			if (bucket_add(b, r) < 0)
				goto nomem;
		}
	}
	node->index = ix;
	return 0;
nomem:
	rule_index_free(ix);
	return WD_ENOMEM;
}

bool eval_index_candidates(struct q *q, const struct cnode *node, struct rego_rule ***ret_rules,
			   size_t *ret_len)
{
	struct rule_index *ix = node->index;
	struct rv *v = q->input;
	struct ibucket *b;

	if (!ix)
		return false;
	for (size_t i = 0; v && i < ix->path_len; i++)
		v = eval_lookup(v, ix->path[i]);
	b = v ? bucket_find(ix, v) : NULL;
	if (b && b->value) {
		*ret_rules = b->rules;
		*ret_len = b->len;
	} else {
		*ret_rules = ix->always;
		*ret_len = ix->always_len;
	}
	return true;
}
