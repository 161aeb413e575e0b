/* Unification: matching terms with variables against values and against
 * each other (`[x, 1] = [2, y]`), binding variables for the continuation
 * and unbinding them on return. */
#include <string.h>

#include "common/error.h"
#include "policy/eval_internal.h"

static bool is_local_var(const struct rego_term *t)
{
	return t->kind == RT_VAR && t->u.var.slot >= 0 &&
	       t->u.var.slot < (1 << CALLEE_KIND_SHIFT);
}

bool eval_term_evaluable(struct q *q, const struct rego_term *t)
{
	switch (t->kind) {
	case RT_VALUE:
		return true;
	case RT_VAR:
		return !is_local_var(t) || q->slots[t->u.var.slot] != NULL;
	case RT_REF:
		/* Operands with free variables are enumerated. */
		return eval_term_evaluable(q, t->u.ref.items[0]);
	case RT_ARRAY:
	case RT_SET:
		for (size_t i = 0; i < t->u.coll.len; i++)
			if (!eval_term_evaluable(q, t->u.coll.items[i]))
				return false;
		return true;
	case RT_OBJECT:
		for (size_t i = 0; i < t->u.obj.len; i++)
			if (!eval_term_evaluable(q, t->u.obj.keys[i]) ||
			    !eval_term_evaluable(q, t->u.obj.values[i]))
				return false;
		return true;
	default:
		return true;
	}
}

/* ---- term against value ---- */

struct uv_env {
	const struct rego_term *t;
	struct rv *v;
	size_t i;                     /* next item */
	k_fn k;
	void *env;
};

static int uv_array_next(struct q *q, void *env)
{
	struct uv_env *ue = env;
	size_t i = ue->i;
	int rc;

	if (i == ue->t->u.coll.len)
		return ue->k(q, ue->env);
	ue->i++;
	rc = eval_unify_value(q, ue->t->u.coll.items[i], rv_array_at(ue->v, i), uv_array_next, ue);
	ue->i--;
	return rc;
}

struct obj_key_env {
	struct uv_env *ue;
	size_t i;
};

static int uv_object_next(struct q *q, void *env);

static int uv_object_key(struct q *q, struct rv *key, void *env)
{
	struct uv_env *ue = env;
	size_t i = ue->i;
	struct rv *val = rv_object_get(ue->v, key);
	int rc;

	if (!val)
		return 0;
	ue->i++;
	rc = eval_unify_value(q, ue->t->u.obj.values[i], val, uv_object_next, ue);
	ue->i--;
	return rc;
}

static int uv_object_next(struct q *q, void *env)
{
	struct uv_env *ue = env;
	const struct rego_term *key;
	struct rv *kv;

	if (ue->i == ue->t->u.obj.len)
		return ue->k(q, ue->env);
	key = ue->t->u.obj.keys[ue->i];
	kv = term_direct_value(q, key);
	if (kv)
		return uv_object_key(q, kv, ue);
	return eval_term(q, key, uv_object_key, ue);
}

struct cmp_env {
	struct rv *v;
	k_fn k;
	void *env;
};

static int cmp_value(struct q *q, struct rv *w, void *env)
{
	struct cmp_env *ce = env;

	if (!rv_equal(w, ce->v))
		return 0;
	return ce->k(q, ce->env);
}

int eval_unify_value(struct q *q, const struct rego_term *t, struct rv *v, k_fn k, void *env)
{
	switch (t->kind) {
	case RT_VALUE:
		return rv_equal(t->u.value, v) ? k(q, env) : 0;
	case RT_VAR:
		if (is_local_var(t)) {
			int32_t slot = t->u.var.slot;
			int rc;

			if (q->slots[slot])
				return rv_equal(q->slots[slot], v) ? k(q, env) : 0;
			eval_bind(q, slot, v);
			rc = k(q, env);
			eval_unbind(q, slot);
			return rc;
		}
		break;
	case RT_ARRAY:
		if (!rv_is(v, RV_ARRAY) || rv_array_len(v) != t->u.coll.len)
			return 0;
		if (!eval_term_evaluable(q, t)) {
			struct uv_env ue = { t, v, 0, k, env };

			return uv_array_next(q, &ue);
		}
		break;
	case RT_OBJECT:
		if (!rv_is(v, RV_OBJECT) || rv_len(v) != t->u.obj.len)
			return 0;
		if (!eval_term_evaluable(q, t)) {
			struct uv_env ue = { t, v, 0, k, env };

			return uv_object_next(q, &ue);
		}
		break;
	default:
		break;
	}

	{
		struct cmp_env ce = { v, k, env };

		return eval_term(q, t, cmp_value, &ce);
	}
}

/* ---- term against term ---- */

struct tt_env {
	const struct rego_term *other;
	k_fn k;
	void *env;
};

static int tt_value(struct q *q, struct rv *v, void *env)
{
	struct tt_env *te = env;

	return eval_unify_value(q, te->other, v, te->k, te->env);
}

struct pairs_env {
	const struct rego_term *a;
	const struct rego_term *b;
	size_t i;
	k_fn k;
	void *env;
};

static int pairs_next(struct q *q, void *env)
{
	struct pairs_env *pe = env;
	size_t i = pe->i;
	int rc;

	if (i == pe->a->u.coll.len)
		return pe->k(q, pe->env);
	pe->i++;
	rc = eval_unify(q, pe->a->u.coll.items[i], pe->b->u.coll.items[i], pairs_next, pe);
	pe->i--;
	return rc;
}

/* {"x": x, "y": 2} = {"x": 1, "y": y}: values are paired by their
 * constant keys. */
struct objpairs_env {
	const struct rego_term **left;
	const struct rego_term **right;
	size_t len;
	size_t i;
	k_fn k;
	void *env;
};

static int objpairs_next(struct q *q, void *env)
{
	struct objpairs_env *oe = env;
	size_t i = oe->i;
	int rc;

	if (i == oe->len)
		return oe->k(q, oe->env);
	oe->i++;
	rc = eval_unify(q, oe->left[i], oe->right[i], objpairs_next, oe);
	oe->i--;
	return rc;
}

static int unify_objects(struct q *q, const struct rego_term *a, const struct rego_term *b,
			 k_fn k, void *env)
{
	size_t n = a->u.obj.len;
	const struct rego_term *left[n + 1], *right[n + 1];
	struct objpairs_env oe = { left, right, n, 0, k, env };

	for (size_t i = 0; i < n; i++) {
		struct rv *ka = term_direct_value(q, a->u.obj.keys[i]);
		size_t j;

		if (!ka)
			return 0;
		for (j = 0; j < n; j++) {
			struct rv *kb = term_direct_value(q, b->u.obj.keys[j]);

			if (kb && rv_equal(ka, kb))
				break;
		}
		if (j == n)
			return 0;
		left[i] = a->u.obj.values[i];
		right[i] = b->u.obj.values[j];
	}
	return objpairs_next(q, &oe);
}

int eval_unify(struct q *q, const struct rego_term *a, const struct rego_term *b, k_fn k,
	       void *env)
{
	struct tt_env te;
	struct rv *v;

	/* A side with a value at hand is the cheapest start. */
	v = term_direct_value(q, b);
	if (v)
		return eval_unify_value(q, a, v, k, env);
	v = term_direct_value(q, a);
	if (v)
		return eval_unify_value(q, b, v, k, env);

	if (a->kind == RT_ARRAY && b->kind == RT_ARRAY && a->u.coll.len == b->u.coll.len &&
	    (!eval_term_evaluable(q, a) || !eval_term_evaluable(q, b))) {
		struct pairs_env pe = { a, b, 0, k, env };

		return pairs_next(q, &pe);
	}
	if (a->kind == RT_OBJECT && b->kind == RT_OBJECT && a->u.obj.len == b->u.obj.len &&
	    (!eval_term_evaluable(q, a) || !eval_term_evaluable(q, b)))
		return unify_objects(q, a, b, k, env);
	if (eval_term_evaluable(q, b)) {
		te = (struct tt_env){ a, k, env };
		return eval_term(q, b, tt_value, &te);
	}
	if (eval_term_evaluable(q, a)) {
		te = (struct tt_env){ b, k, env };
		return eval_term(q, a, tt_value, &te);
	}
	/* Both sides have free variables with no structure to match: the
	 * safety check orders bodies so this does not happen. */
	return 0;
}
