/* The `with` keyword: replaces input, parts of data (base or virtual) and
 * functions while one expression runs, with a fresh document cache, and
 * restores them for the rest of the body. */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "policy/eval_internal.h"

/* A copy of base with v stored at the path keys; objects are created or
 * replaced along the way as OPA's `with` does. */
static struct rv *upsert(struct rv *base, struct rv *const *keys, size_t n, struct rv *v)
{
	struct rv *obj, *child, *newchild;

	if (n == 0)
		return rv_ref(v);
	obj = base && rv_is(base, RV_OBJECT) ? doc_copy(base) : rv_object_new(1);
	if (!obj)
		return NULL;
	child = base && rv_is(base, RV_OBJECT) ? rv_object_get(base, keys[0]) : NULL;
	newchild = upsert(child, keys + 1, n - 1, v);
	if (!newchild || rv_object_put(obj, rv_ref(keys[0]), newchild) < 0) {
		rv_unref(obj);
		return NULL;
	}
	return obj;
}

/* Depth of node below data and whether its path equals keys[0..len). */
static size_t node_depth(const struct cnode *node)
{
	size_t d = 0;

	for (; node && node->parent; node = node->parent)
		d++;
	return d;
}

static bool path_prefix_of_node(const struct cnode *node, size_t depth, struct rv *const *keys,
				size_t len)
{
	/* Walks node up to the depth len and compares from there. */
	size_t d = depth;

	while (d > len) {
		node = node->parent;
		d--;
	}
	for (size_t i = len; i > 0; i--) {
		if (!rv_equal(node->key, keys[i - 1]))
			return false;
		node = node->parent;
	}
	return true;
}

struct rv *eval_data_override_at(struct q *q, const struct cnode *node)
{
	size_t depth = node_depth(node);
	struct rv *v = q->data;

	for (const struct data_override *o = q->dov; o; o = o->next) {
		if (o->len != depth || !path_prefix_of_node(node, depth, o->keys, o->len))
			continue;

		/* The patched base data contains every override in order. */
		for (size_t i = 0; v && i < o->len; i++)
			v = rv_is(v, RV_OBJECT) ? rv_object_get(v, o->keys[i]) : NULL;
		return v;
	}
	return NULL;
}

int eval_apply_overrides_below(struct q *q, const struct cnode *node, struct rv **doc)
{
	size_t depth = node_depth(node);
	const struct data_override *list[64];
	size_t n = 0;

	for (const struct data_override *o = q->dov; o && n < WD_ARRAY_LEN(list); o = o->next)
		if (o->len > depth && path_prefix_of_node(node, depth, o->keys, depth))
			list[n++] = o;

	/* Oldest first, so newer overrides win. */
	while (n > 0) {
		const struct data_override *o = list[--n];
		struct rv *patched = upsert(*doc, o->keys + depth, o->len - depth, o->value);

		if (!patched)
			return eval_nomem(q);
		rv_unref(*doc);
		*doc = patched;
	}
	return 0;
}

const struct fn_override *eval_fn_override(struct q *q, const char *name)
{
	for (const struct fn_override *o = q->fov; o; o = o->next)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

/* ---- applying modifiers ---- */

struct with_state {
	struct rv *input;
	struct rv *data;
	struct data_override *dov;
	size_t dov_len;
	struct fn_override *fov;
	size_t fov_len;
	struct cache *cache;
};

static void state_save(const struct q *q, struct with_state *s)
{
	*s = (struct with_state){ q->input, q->data, q->dov, q->dov_len, q->fov, q->fov_len,
				  q->cache };
}

static void state_load(struct q *q, const struct with_state *s)
{
	q->input = s->input;
	q->data = s->data;
	q->dov = s->dov;
	q->dov_len = s->dov_len;
	q->fov = s->fov;
	q->fov_len = s->fov_len;
	q->cache = s->cache;
}

struct with_env {
	const struct rego_expr *e;
	size_t wi;                    /* next modifier */
	kv_fn kv;
	void *env;
	struct with_state outside;
	struct cache cache;           /* fresh documents for the inside */
};

static int with_next(struct q *q, struct with_env *we);

/* The expression's solutions continue the body outside the modifiers. */
static int with_outside(struct q *q, struct rv *v, void *env)
{
	struct with_env *we = env;
	struct with_state inside;
	int rc;

	state_save(q, &inside);
	state_load(q, &we->outside);
	rc = we->kv(q, v, we->env);
	state_load(q, &inside);
	return rc;
}

static bool target_keys(struct q *q, const struct rego_term *t, struct rv **keys,
			size_t *ret_len)
{
	size_t n = 0;

	if (t->kind == RT_VAR) {
		*ret_len = 0;
		return true;
	}
	for (size_t i = 1; i < t->u.ref.len; i++) {
		struct rv *k = term_direct_value(q, t->u.ref.items[i]);

		if (!k || n >= WITH_MAX_PATH)
			return false;
		keys[n++] = k;
	}
	*ret_len = n;
	return true;
}

struct with_value_env {
	struct with_env *we;
	const struct rego_with *w;
};

static int with_apply(struct q *q, struct rv *v, void *env)
{
	struct with_value_env *wv = env;
	struct with_env *we = wv->we;
	const struct rego_term *target = wv->w->target;
	struct with_state before;
	struct data_override dov = { .len = 0 };
	struct fn_override fov = { 0 };
	struct rv *owned = NULL;
	int32_t slot;
	int rc;

	state_save(q, &before);
	slot = target->kind == RT_VAR ? target->u.var.slot : target->u.ref.items[0]->u.var.slot;

	if (target->kind == RT_VAR && slot >= (1 << CALLEE_KIND_SHIFT)) {
		/* A function replaced by a value or another function. */
		fov.name = target->u.var.name;
		if (v) {
			fov.value = v;
		} else {
			fov.callee = wv->w->value;
		}
		fov.next = q->fov;
		q->fov = &fov;
		q->fov_len++;
	} else if (slot == SLOT_INPUT) {
		struct rv *keys[WITH_MAX_PATH];
		size_t n;

		if (!target_keys(q, target, keys, &n))
			return 0;
		owned = upsert(q->input, keys, n, v);
		if (!owned)
			return eval_nomem(q);
		q->input = owned;
	} else if (slot == SLOT_DATA) {
		if (!target_keys(q, target, dov.keys, &dov.len))
			return 0;
		owned = upsert(q->data, dov.keys, dov.len, v);
		if (!owned)
			return eval_nomem(q);
		q->data = owned;
		dov.value = v;
		dov.next = q->dov;
		q->dov = &dov;
		q->dov_len++;
	}

	we->wi++;
	rc = with_next(q, we);
	we->wi--;
	state_load(q, &before);
	rv_unref(owned);
	return rc;
}

static int with_next(struct q *q, struct with_env *we)
{
	const struct rego_with *w;
	struct with_value_env wv;

	if (we->wi == we->e->with_len) {
		/* Documents computed under the modifiers are private to them. */
		q->cache = &we->cache;
		return eval_expr_core(q, we->e, with_outside, we);
	}
	w = we->e->with[we->wi];
	wv = (struct with_value_env){ we, w };
	if (w->value->kind == RT_VAR && w->value->u.var.slot >= (1 << CALLEE_KIND_SHIFT))
		return with_apply(q, NULL, &wv);
	return eval_term(q, w->value, with_apply, &wv);
}

int eval_with(struct q *q, const struct rego_expr *e, kv_fn kv, void *env)
{
	struct with_env we = { .e = e, .kv = kv, .env = env };
	int rc;

	state_save(q, &we.outside);
	rc = with_next(q, &we);
	state_load(q, &we.outside);
	for (size_t i = 0; we.cache.docs && i < we.cache.len; i++)
		if (we.cache.docs[i] != UNDEF_MARK)
			rv_unref(we.cache.docs[i]);
	free(we.cache.docs);
	eval_fmemo_free(we.cache.fmemo);
	return rc;
}
