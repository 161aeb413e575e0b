/* Comprehensions, `some ... in` and `every`: bodies evaluated inside the
 * current frame, their variables unbound again after each solution. */
#include <string.h>

#include "common/error.h"
#include "policy/eval_internal.h"

/* ---- comprehensions ---- */

struct compr_env {
	const struct rego_term *t;
	struct rv *acc;
	struct rv *key;               /* object comprehension: current key */
};

static int compr_value(struct q *q, struct rv *v, void *env)
{
	struct compr_env *ce = env;
	int rc;

	switch (ce->t->kind) {
	case RT_ARRAY_COMPR:
		rc = rv_array_push(ce->acc, rv_ref(v));
		break;
	case RT_SET_COMPR:
		rc = rv_set_add(ce->acc, rv_ref(v));
		break;
	default: {
		struct rv *old = rv_object_get(ce->acc, ce->key);

		if (old) {
			if (rv_equal(old, v))
				return 0;
			return eval_error(q, "eval_conflict_error", &ce->t->loc,
					  "object keys must be unique");
		}
		rc = rv_object_put(ce->acc, rv_ref(ce->key), rv_ref(v));
		break;
	}
	}
	return rc < 0 ? eval_nomem(q) : 0;
}

static int compr_key(struct q *q, struct rv *key, void *env)
{
	struct compr_env *ce = env;
	struct rv *saved = ce->key;
	int rc;

	ce->key = key;
	rc = eval_term(q, ce->t->u.compr.head, compr_value, ce);
	ce->key = saved;
	return rc;
}

static int compr_solution(struct q *q, void *env)
{
	struct compr_env *ce = env;

	WD_TRY(eval_step(q, &ce->t->loc));
	if (ce->t->kind == RT_OBJECT_COMPR)
		return eval_term(q, ce->t->u.compr.key, compr_key, ce);
	return eval_term(q, ce->t->u.compr.head, compr_value, ce);
}

int eval_compr(struct q *q, const struct rego_term *t, kv_fn k, void *env)
{
	struct compr_env ce = { .t = t };
	int rc;

	switch (t->kind) {
	case RT_ARRAY_COMPR:
		ce.acc = rv_array_new(4);
		break;
	case RT_SET_COMPR:
		ce.acc = rv_set_new(4);
		break;
	default:
		ce.acc = rv_object_new(4);
		break;
	}
	if (!ce.acc)
		return eval_nomem(q);
	rc = eval_body(q, t->u.compr.body, 0, compr_solution, &ce);
	if (rc == 0)
		rc = k(q, ce.acc, env);
	rv_unref(ce.acc);
	return rc;
}

/* ---- some k, v in domain ---- */

struct member_env {
	const struct rego_term *key;
	const struct rego_term *value;
	struct rv *value_v;
	k_fn k;
	void *env;
};

static int member_value(struct q *q, void *env)
{
	struct member_env *me = env;

	return eval_unify_value(q, me->value, me->value_v, me->k, me->env);
}

/* Calls k once per (key, value) member of domain that the patterns
 * match. */
static int each_member(struct q *q, struct rv *domain, struct member_env *me)
{
	size_t n;
	int rc = 0;
	struct rv *bound_key = me->key ? term_direct_value(q, me->key) : NULL;

	/* A bound key is a lookup, not a scan: `some k, v in xs` with k
	 * known visits one member. */
	if (bound_key) {
		struct rv *val = eval_lookup(domain, bound_key);

		if (!val || (rv_is(domain, RV_SET) && !rv_equal(val, bound_key)))
			return 0;
		WD_TRY(eval_step(q, NULL));
		me->value_v = val;
		return member_value(q, me);
	}

	switch (rv_kind_of(domain)) {
	case RV_ARRAY:
		n = rv_array_len(domain);
		for (size_t i = 0; i < n && rc == 0; i++) {
			WD_TRY(eval_step(q, NULL));
			me->value_v = rv_array_at(domain, i);
			if (me->key) {
				struct rv *idx = rv_int((int64_t)i);

				if (!idx)
					return eval_nomem(q);
				rc = eval_unify_value(q, me->key, idx, member_value, me);
				rv_unref(idx);
			} else {
				rc = member_value(q, me);
			}
		}
		return rc;
	case RV_OBJECT:
	case RV_SET:
		n = rv_len(domain);
		for (size_t i = 0; i < n && rc == 0; i++) {
			struct rv *key, *val;

			WD_TRY(eval_step(q, NULL));
			rv_map_sorted_at(domain, i, &key, &val);
			me->value_v = val ? val : key;
			if (me->key)
				rc = eval_unify_value(q, me->key, key, member_value, me);
			else
				rc = member_value(q, me);
		}
		return rc;
	default:
		return 0;
	}
}

struct some_in_env {
	const struct rego_expr *e;
	k_fn k;
	void *env;
};

static int some_in_domain(struct q *q, struct rv *domain, void *env)
{
	struct some_in_env *se = env;
	struct member_env me = {
		.key = se->e->u.some_in.key,
		.value = se->e->u.some_in.value,
		.k = se->k,
		.env = se->env,
	};

	return each_member(q, domain, &me);
}

int eval_some_in(struct q *q, const struct rego_expr *e, k_fn k, void *env)
{
	struct some_in_env se = { e, k, env };

	return eval_term(q, e->u.some_in.domain, some_in_domain, &se);
}

/* ---- every ---- */

struct every_env {
	const struct rego_expr *e;
	bool failed;
	bool found;
	k_fn k;
	void *env;
};

static int every_body_ok(struct q *q, void *env)
{
	(void)q;
	((struct every_env *)env)->found = true;
	return EV_HALT;
}

/* Runs the body for one member; a member the body rejects fails `every`. */
static int every_member(struct q *q, void *env)
{
	struct every_env *ee = env;
	int rc;

	ee->found = false;
	rc = eval_body(q, ee->e->u.every.body, 0, every_body_ok, ee);
	if (rc < 0)
		return rc;
	if (!ee->found) {
		ee->failed = true;
		return EV_HALT;
	}
	return 0;
}

static int every_domain(struct q *q, struct rv *domain, void *env)
{
	struct every_env *ee = env;
	struct member_env me = {
		.key = ee->e->u.every.key,
		.value = ee->e->u.every.value,
		.k = every_member,
		.env = ee,
	};
	int rc;

	/* A domain that is not a collection makes `every` false. */
	if (!rv_is(domain, RV_ARRAY) && !rv_is(domain, RV_OBJECT) && !rv_is(domain, RV_SET))
		return 0;
	ee->failed = false;
	rc = each_member(q, domain, &me);
	if (rc < 0)
		return rc;
	if (ee->failed)
		return 0;
	return ee->k(q, ee->env);
}

int eval_every(struct q *q, const struct rego_expr *e, k_fn k, void *env)
{
	struct every_env ee = { .e = e, .k = k, .env = env };

	return eval_term(q, e->u.every.domain, every_domain, &ee);
}
