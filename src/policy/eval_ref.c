/* References: walking values by key, enumerating free operands, and walking
 * the rule tree under data where base documents and rules meet. */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "policy/eval_internal.h"

struct rv *eval_lookup(struct rv *coll, struct rv *key)
{
	int64_t idx;

	switch (rv_kind_of(coll)) {
	case RV_ARRAY:
		if (!rv_is(key, RV_NUMBER) || !rv_number_to_i64(key, &idx))
			return NULL;
		if (idx < 0 || (uint64_t)idx >= rv_array_len(coll))
			return NULL;
		return rv_array_at(coll, (size_t)idx);
	case RV_OBJECT:
		return rv_object_get(coll, key);
	case RV_SET:
		return rv_set_has(coll, key) ? key : NULL;
	default:
		return NULL;
	}
}

static bool is_local_var(const struct rego_term *t)
{
	return t->kind == RT_VAR && t->u.var.slot >= 0 &&
	       t->u.var.slot < (1 << CALLEE_KIND_SHIFT);
}

/* ---- refs over values ---- */

struct vref_env {
	struct rv *v;
	const struct rego_term *t;
	size_t i;
	kv_fn k;
	void *env;
	struct rv *key;
};

static int vref_key(struct q *q, struct rv *key, void *env)
{
	struct vref_env *ve = env;
	struct rv *child = eval_lookup(ve->v, key);

	if (!child)
		return 0;
	return eval_value_ref(q, child, ve->t, ve->i + 1, ve->k, ve->env);
}

static int vref_pattern_ok(struct q *q, void *env)
{
	struct vref_env *ve = env;
	struct rv *child = eval_lookup(ve->v, ve->key);

	if (!child)
		return 0;
	return eval_value_ref(q, child, ve->t, ve->i + 1, ve->k, ve->env);
}

/* Enumerates the keys of v for a free operand. */
static int vref_enumerate(struct q *q, struct vref_env *ve, const struct rego_term *op)
{
	struct rv *v = ve->v;
	size_t n;
	int rc = 0;

	switch (rv_kind_of(v)) {
	case RV_ARRAY:
		n = rv_array_len(v);
		for (size_t i = 0; i < n && rc == 0; i++) {
			struct rv *key;

			WD_TRY(eval_step(q, &ve->t->loc));
			key = rv_int((int64_t)i);
			if (!key)
				return eval_nomem(q);
			if (is_local_var(op)) {
				eval_bind(q, op->u.var.slot, key);
				rc = eval_value_ref(q, rv_array_at(v, i), ve->t, ve->i + 1, ve->k,
						    ve->env);
				eval_unbind(q, op->u.var.slot);
			} else {
				ve->key = key;
				rc = eval_unify_value(q, op, key, vref_pattern_ok, ve);
			}
			rv_unref(key);
		}
		return rc;
	case RV_OBJECT:
	case RV_SET:
		n = rv_len(v);
		for (size_t i = 0; i < n && rc == 0; i++) {
			struct rv *key, *val;

			WD_TRY(eval_step(q, &ve->t->loc));
			rv_map_sorted_at(v, i, &key, &val);
			if (!val)
				val = key;
			if (is_local_var(op)) {
				eval_bind(q, op->u.var.slot, key);
				rc = eval_value_ref(q, val, ve->t, ve->i + 1, ve->k, ve->env);
				eval_unbind(q, op->u.var.slot);
			} else {
				ve->key = key;
				rc = eval_unify_value(q, op, key, vref_pattern_ok, ve);
			}
		}
		return rc;
	default:
		return 0;
	}
}

int eval_value_ref(struct q *q, struct rv *v, const struct rego_term *t, size_t i, kv_fn k,
		   void *env)
{
	struct vref_env ve = { v, t, i, k, env, NULL };
	const struct rego_term *op;
	struct rv *key;

	if (i == t->u.ref.len)
		return k(q, v, env);
	op = t->u.ref.items[i];
	key = term_direct_value(q, op);
	if (key)
		return vref_key(q, key, &ve);
	if (is_local_var(op))
		return vref_enumerate(q, &ve, op);
	if (eval_term_evaluable(q, op))
		return eval_term(q, op, vref_key, &ve);
	return vref_enumerate(q, &ve, op);
}

/* ---- base documents ---- */

/* Looks key up in base data, where OPA's store reads a number as the
 * object key of its text: data.x[2] finds {"2": ...}. */
static struct rv *base_lookup(struct q *q, struct rv *v, struct rv *key, int *ret_rc)
{
	struct rv *child = eval_lookup(v, key);
	struct wd_buf text;
	struct rv *skey;

	*ret_rc = 0;
	if (child || !rv_is(v, RV_OBJECT) || !rv_is(key, RV_NUMBER))
		return child;
	wd_buf_init(&text, 32, 1024);
	if (rv_number_format(key, &text) < 0) {
		wd_buf_free(&text);
		return NULL;
	}
	skey = rv_string(wd_buf_str(&text), wd_buf_len(&text));
	wd_buf_free(&text);
	if (!skey) {
		*ret_rc = eval_nomem(q);
		return NULL;
	}
	child = rv_object_get(v, skey);
	rv_unref(skey);
	return child;
}

/* Continues a ref from operand i over base data. */
static int base_value_ref(struct q *q, struct rv *v, const struct rego_term *t, size_t i,
			  kv_fn k, void *env)
{
	struct rv *key, *child;
	int rc;

	if (i == t->u.ref.len)
		return k(q, v, env);
	key = term_direct_value(q, t->u.ref.items[i]);
	if (!key)
		return eval_value_ref(q, v, t, i, k, env);
	child = base_lookup(q, v, key, &rc);
	if (rc < 0)
		return rc;
	return child ? base_value_ref(q, child, t, i + 1, k, env) : 0;
}

/* ---- namespaces ---- */

static struct rv *base_child(struct rv *base, struct rv *key)
{
	return base && rv_is(base, RV_OBJECT) ? rv_object_get(base, key) : NULL;
}

/* A namespace's document: its base data with each child's document. */
static int namespace_doc(struct q *q, struct cnode *node, struct rv *base,
			 struct rv *const *keys, size_t nkeys, struct rv **ret)
{
	struct rv *obj;

	*ret = NULL;
	if (nkeys > 0) {
		/* Only the entry under keys[0] is needed. */
		struct cnode *child = cnode_child(node, keys[0]);
		struct rv *b = base_child(base, keys[0]);
		struct rv *doc = NULL;

		if (child) {
			WD_TRY(eval_node_doc(q, child, b, keys + 1, nkeys - 1, &doc));
		} else if (b) {
			doc = rv_ref(b);
		}
		obj = rv_object_new(1);
		if (!obj) {
			rv_unref(doc);
			return eval_nomem(q);
		}
		if (doc && rv_object_put(obj, rv_ref(keys[0]), doc) < 0) {
			rv_unref(obj);
			return eval_nomem(q);
		}
		*ret = obj;
		return 0;
	}

	obj = base && rv_is(base, RV_OBJECT) ? doc_copy(base) : rv_object_new(node->children_len);
	if (!obj)
		return eval_nomem(q);
	for (size_t i = 0; i < node->children_len; i++) {
		struct cnode *child = node->children[i];
		struct rv *doc = NULL;
		int rc;

		if (child->kind == CN_FUNCTION)
			continue;
		rc = eval_node_doc(q, child, base_child(base, child->key), NULL, 0, &doc);
		if (rc < 0) {
			rv_unref(obj);
			return rc;
		}
		if (!doc)
			continue;
		if (rv_object_put(obj, rv_ref(child->key), doc) < 0) {
			rv_unref(obj);
			return eval_nomem(q);
		}
	}
	*ret = obj;
	return 0;
}

int eval_node_doc(struct q *q, struct cnode *node, struct rv *base, struct rv *const *keys,
		  size_t nkeys, struct rv **ret)
{
	struct rv *ov;

	*ret = NULL;
	if (q->dov_len) {
		ov = eval_data_override_at(q, node);
		if (ov) {
			*ret = rv_ref(ov);
			return 0;
		}
	}
	switch (node->kind) {
	case CN_NAMESPACE:
		WD_TRY(namespace_doc(q, node, base, keys, nkeys, ret));
		break;
	case CN_FUNCTION:
		return 0;
	default:
		WD_TRY(eval_rule_doc(q, node, keys, nkeys, ret));
		break;
	}
	if (q->dov_len && *ret)
		WD_TRY(eval_apply_overrides_below(q, node, ret));
	return 0;
}

/* ---- refs under data ---- */

/* Ground operands right after position i, as restriction keys. */
static size_t ground_keys(struct q *q, const struct rego_term *t, size_t i, struct rv **keys,
			  size_t cap)
{
	size_t n = 0;

	while (i + n < t->u.ref.len && n < cap) {
		struct rv *key = term_direct_value(q, t->u.ref.items[i + n]);

		if (!key)
			break;
		keys[n++] = key;
	}
	return n;
}

static int data_ref(struct q *q, struct cnode *node, struct rv *base, const struct rego_term *t,
		    size_t i, kv_fn k, void *env);

struct dref_env {
	struct cnode *node;
	struct rv *base;
	const struct rego_term *t;
	size_t i;
	kv_fn k;
	void *env;
};

/* Steps from a namespace into the entry under key. */
static int dref_key(struct q *q, struct rv *key, void *env)
{
	struct dref_env *de = env;
	struct cnode *child = cnode_child(de->node, key);
	struct rv *b = NULL;
	int rc = 0;

	if (de->base && rv_is(de->base, RV_OBJECT))
		b = base_lookup(q, de->base, key, &rc);
	if (rc < 0)
		return rc;
	if (child)
		return data_ref(q, child, b, de->t, de->i + 1, de->k, de->env);
	if (b)
		return base_value_ref(q, b, de->t, de->i + 1, de->k, de->env);
	return 0;
}

struct dpat_env {
	struct dref_env *de;
	struct rv *key;
};

static int dref_pattern_ok(struct q *q, void *env)
{
	struct dpat_env *pe = env;

	return dref_key(q, pe->key, pe->de);
}

static int dref_enumerate(struct q *q, struct dref_env *de, const struct rego_term *op)
{
	struct cnode *node = de->node;
	struct rv *base = de->base && rv_is(de->base, RV_OBJECT) ? de->base : NULL;
	size_t nb = base ? rv_len(base) : 0;
	size_t ci = 0, bi = 0;
	int rc = 0;

	/* Merge the sorted child keys with the sorted base keys. */
	while (rc == 0 && (ci < node->children_len || bi < nb)) {
		struct rv *key, *bkey = NULL, *bval = NULL;
		int c;

		if (bi < nb)
			rv_map_sorted_at(base, bi, &bkey, &bval);
		if (ci < node->children_len && bi < nb)
			c = rv_compare(node->children[ci]->key, bkey);
		else
			c = ci < node->children_len ? -1 : 1;
		if (c <= 0) {
			key = node->children[ci]->key;
			ci++;
			if (c == 0)
				bi++;
			if (node->children[ci - 1]->kind == CN_FUNCTION)
				continue;
		} else {
			key = bkey;
			bi++;
		}
		if (is_local_var(op)) {
			eval_bind(q, op->u.var.slot, key);
			rc = dref_key(q, key, de);
			eval_unbind(q, op->u.var.slot);
		} else {
			struct dpat_env pe = { de, key };

			rc = eval_unify_value(q, op, key, dref_pattern_ok, &pe);
		}
	}
	return rc;
}

static int data_ref(struct q *q, struct cnode *node, struct rv *base, const struct rego_term *t,
		    size_t i, kv_fn k, void *env)
{
	struct dref_env de = { node, base, t, i, k, env };
	const struct rego_term *op;
	struct rv *key;

	if (q->dov_len) {
		struct rv *ov = eval_data_override_at(q, node);

		if (ov)
			return eval_value_ref(q, ov, t, i, k, env);
	}

	if (node->kind != CN_NAMESPACE || i == t->u.ref.len) {
		struct rv *keys[8];
		size_t nkeys = ground_keys(q, t, i, keys, WD_ARRAY_LEN(keys));
		struct rv *doc = NULL;
		int rc;

		if (node->kind == CN_FUNCTION)
			return 0;
		WD_TRY(eval_node_doc(q, node, base, keys, nkeys, &doc));
		if (!doc)
			return 0;
		rc = eval_value_ref(q, doc, t, i, k, env);
		rv_unref(doc);
		return rc;
	}

	op = t->u.ref.items[i];
	key = term_direct_value(q, op);
	if (key)
		return dref_key(q, key, &de);
	if (is_local_var(op))
		return dref_enumerate(q, &de, op);
	if (eval_term_evaluable(q, op))
		return eval_term(q, op, dref_key, &de);

	/* A pattern operand: match it against the whole document. */
	{
		struct rv *doc = NULL;
		int rc;

		WD_TRY(eval_node_doc(q, node, base, NULL, 0, &doc));
		if (!doc)
			return 0;
		rc = eval_value_ref(q, doc, t, i, k, env);
		rv_unref(doc);
		return rc;
	}
}

struct head_env {
	const struct rego_term *t;
	kv_fn k;
	void *env;
};

static int ref_head_value(struct q *q, struct rv *v, void *env)
{
	struct head_env *he = env;

	return eval_value_ref(q, v, he->t, 1, he->k, he->env);
}

int eval_ref(struct q *q, const struct rego_term *t, kv_fn k, void *env)
{
	const struct rego_term *head = t->u.ref.items[0];
	struct head_env he = { t, k, env };

	if (head->kind == RT_VAR) {
		int32_t slot = head->u.var.slot;

		if (slot == SLOT_DATA)
			return data_ref(q, q->e->root, q->data, t, 1, k, env);
		if (slot == SLOT_INPUT)
			return q->input ? eval_value_ref(q, q->input, t, 1, k, env) : 0;
		if (is_local_var(head)) {
			struct rv *v = q->slots[slot];

			return v ? eval_value_ref(q, v, t, 1, k, env) : 0;
		}
		return 0;
	}
	return eval_term(q, head, ref_head_value, &he);
}
