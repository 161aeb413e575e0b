/* Term evaluation: constants, variables, composite values built item by
 * item, calls to builtins and user functions, and string templates. */
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "policy/eval_internal.h"

struct rv *term_direct_value(struct q *q, const struct rego_term *t)
{
	if (t->kind == RT_VALUE)
		return t->u.value;
	if (t->kind == RT_VAR && t->u.var.slot >= 0 && t->u.var.slot < (1 << CALLEE_KIND_SHIFT))
		return q->slots[t->u.var.slot];
	return NULL;
}

/* ---- composites ---- */

struct coll_env {
	const struct rego_term *t;
	struct rego_term **items;     /* RT_ARRAY, RT_SET; keys for objects */
	struct rego_term **values;    /* RT_OBJECT */
	size_t n;                     /* terms to evaluate */
	size_t i;
	struct rv **vals;
	kv_fn k;
	void *env;
};

static int coll_next(struct q *q, struct coll_env *ce);

static const struct rego_term *coll_term(const struct coll_env *ce, size_t i)
{
	if (ce->t->kind == RT_OBJECT)
		return (i % 2 == 0) ? ce->items[i / 2] : ce->values[i / 2];
	return ce->items[i];
}

static int coll_item(struct q *q, struct rv *v, void *env)
{
	struct coll_env *ce = env;
	int rc;

	ce->vals[ce->i++] = v;
	rc = coll_next(q, ce);
	ce->i--;
	return rc;
}

static struct rv *coll_build(const struct coll_env *ce)
{
	struct rv *v = NULL;

	switch (ce->t->kind) {
	case RT_ARRAY:
		v = rv_array_new(ce->n);
		for (size_t i = 0; v && i < ce->n; i++)
			if (rv_array_push(v, rv_ref(ce->vals[i])) < 0)
				return NULL;
		return v;
	case RT_SET:
		v = rv_set_new(ce->n);
		for (size_t i = 0; v && i < ce->n; i++)
			if (rv_set_add(v, rv_ref(ce->vals[i])) < 0)
				return NULL;
		return v;
	case RT_OBJECT:
		v = rv_object_new(ce->n / 2);
		for (size_t i = 0; v && i + 1 < ce->n; i += 2)
			if (rv_object_put(v, rv_ref(ce->vals[i]), rv_ref(ce->vals[i + 1])) < 0)
				return NULL;
		return v;
	default:
		return NULL;
	}
}

static int coll_next(struct q *q, struct coll_env *ce)
{
	const struct rego_term *item;
	struct rv *v;
	size_t start = ce->i;
	int rc;

	/* Items at hand are taken in a loop, not a nested call each, so long
	 * literals do not deepen the stack. */
	while (ce->i < ce->n) {
		item = coll_term(ce, ce->i);
		v = term_direct_value(q, item);
		if (!v)
			break;
		ce->vals[ce->i++] = v;
	}
	if (ce->i < ce->n) {
		item = coll_term(ce, ce->i);
		/* Items that need evaluation still nest, so the stack is
		 * checked here as on every step. */
		rc = eval_step(q, &item->loc);
		if (rc == 0)
			rc = eval_term(q, item, coll_item, ce);
		ce->i = start;
		return rc;
	}

	{
		v = coll_build(ce);
		ce->i = start;
		if (!v)
			return eval_nomem(q);
		rc = ce->k(q, v, ce->env);
		rv_unref(v);
		return rc;
	}
}

static int eval_coll(struct q *q, const struct rego_term *t, kv_fn k, void *env)
{
	struct coll_env ce = { .t = t, .k = k, .env = env };
	struct rv *small[16];
	int rc;

	if (t->kind == RT_OBJECT) {
		ce.items = t->u.obj.keys;
		ce.values = t->u.obj.values;
		ce.n = t->u.obj.len * 2;
	} else {
		ce.items = t->u.coll.items;
		ce.n = t->u.coll.len;
	}
	ce.vals = ce.n <= 16 ? small : wd_calloc(ce.n, sizeof(*ce.vals));
	if (!ce.vals)
		return WD_ENOMEM;
	rc = coll_next(q, &ce);
	if (ce.vals != small)
		free(ce.vals);
	return rc;
}

/* ---- templates ---- */

int eval_format_value(const struct rv *v, struct wd_buf *out)
{
	if (rv_is(v, RV_STRING))
		return wd_buf_append(out, rv_str(v), rv_str_len(v));
	return rv_write_rego(v, out);
}

struct collect_env {
	struct rv *set;
};

static int collect_one(struct q *q, struct rv *v, void *env)
{
	struct collect_env *ce = env;

	if (rv_set_add(ce->set, rv_ref(v)) < 0)
		return eval_nomem(q);
	return 0;
}

int eval_collect(struct q *q, const struct rego_term *t, struct rv **ret_set)
{
	struct collect_env ce = { rv_set_new(4) };
	int rc;

	*ret_set = NULL;
	if (!ce.set)
		return eval_nomem(q);
	rc = eval_term(q, t, collect_one, &ce);
	if (rc < 0) {
		rv_unref(ce.set);
		return rc;
	}
	*ret_set = ce.set;
	return 0;
}

/* Collects the values of an embedded expression with `with` modifiers. */
static int collect_expr(struct q *q, const struct rego_expr *e, struct rv **ret_set)
{
	struct collect_env ce = { rv_set_new(4) };
	int rc;

	*ret_set = NULL;
	if (!ce.set)
		return eval_nomem(q);
	rc = eval_with(q, e, collect_one, &ce);
	if (rc < 0) {
		rv_unref(ce.set);
		return rc;
	}
	*ret_set = ce.set;
	return 0;
}

/* Each expression part shows its value; an undefined one shows
 * "<undefined>", as OPA's string templates do. */
static int eval_template(struct q *q, const struct rego_term *t, kv_fn k, void *env)
{
	struct wd_buf out;
	struct rv *s = NULL;
	int rc = 0;

	wd_buf_init(&out, 64, (size_t)64 << 20);
	for (size_t i = 0; i < t->u.tmpl.len; i++) {
		const struct rego_term *part = t->u.tmpl.parts[i];
		struct rv *vals = NULL;

		if (part->kind == RT_VALUE && rv_is(part->u.value, RV_STRING)) {
			WD_GUARD(wd_buf_append(&out, rv_str(part->u.value),
					       rv_str_len(part->u.value)));
			continue;
		}
		if (t->u.tmpl.exprs && t->u.tmpl.exprs[i] && t->u.tmpl.exprs[i]->with_len)
			WD_GUARD(collect_expr(q, t->u.tmpl.exprs[i], &vals));
		else
			WD_GUARD(eval_collect(q, part, &vals));
		if (rv_len(vals) == 0) {
			rc = wd_buf_append_str(&out, "<undefined>");
		} else {
			struct rv *first, *unused;

			/* NOTE: a part with several values shows the smallest;
			 * OPA's behaviour for that case is not pinned down. */
			rv_map_sorted_at(vals, 0, &first, &unused);
			rc = eval_format_value(first, &out);
		}
		rv_unref(vals);
		WD_GUARD(rc);
	}
	s = rv_string(wd_buf_str(&out), wd_buf_len(&out));
	if (!s) {
		rc = eval_nomem(q);
		goto out;
	}
	rc = k(q, s, env);
	rv_unref(s);
out:
	wd_buf_free(&out);
	return rc;
}

/* ---- variables ---- */

static int eval_var(struct q *q, const struct rego_term *t, kv_fn k, void *env)
{
	int32_t slot = t->u.var.slot;

	if (slot == SLOT_INPUT)
		return q->input ? k(q, q->input, env) : 0;
	if (slot == SLOT_DATA) {
		struct rv *doc = NULL;
		int rc;

		WD_TRY(eval_node_doc(q, q->e->root, q->data, NULL, 0, &doc));
		if (!doc)
			return 0;
		rc = k(q, doc, env);
		rv_unref(doc);
		return rc;
	}
	if (slot >= 0 && slot < (1 << CALLEE_KIND_SHIFT)) {
		struct rv *v = q->slots[slot];

		/* Safety ordering binds every variable before use; an unbound
		 * one here is undefined. */
		return v ? k(q, v, env) : 0;
	}
	return 0;
}

int eval_term(struct q *q, const struct rego_term *t, kv_fn k, void *env)
{
	switch (t->kind) {
	case RT_VALUE:
		return k(q, t->u.value, env);
	case RT_VAR:
		return eval_var(q, t, k, env);
	case RT_REF:
		return eval_ref(q, t, k, env);
	case RT_ARRAY:
	case RT_SET:
	case RT_OBJECT:
		return eval_coll(q, t, k, env);
	case RT_ARRAY_COMPR:
	case RT_SET_COMPR:
	case RT_OBJECT_COMPR:
		return eval_compr(q, t, k, env);
	case RT_CALL:
		return eval_call(q, t, k, env);
	case RT_TEMPLATE:
		return eval_template(q, t, k, env);
	}
	return 0;
}

/* ---- calls ---- */

struct call_env {
	const struct rego_term *t;
	int32_t callee;
	const char *name;
	size_t nin;                   /* input arguments */
	size_t i;
	struct rv *vals[REGO_BUILTIN_MAX_ARGS + 8];
	struct rv **args;
	kv_fn k;
	void *env;
};

static int call_args_next(struct q *q, struct call_env *ce);

static int call_arg(struct q *q, struct rv *v, void *env)
{
	struct call_env *ce = env;
	int rc;

	ce->args[ce->i++] = v;
	rc = call_args_next(q, ce);
	ce->i--;
	return rc;
}

struct out_env {
	kv_fn k;
	void *env;
};

static int out_true(struct q *q, void *env)
{
	struct out_env *oe = env;

	return oe->k(q, rv_bool(true), oe->env);
}

/* Passes a call's result on: unified with the output argument, if any. */
static int call_result(struct q *q, struct call_env *ce, struct rv *ret)
{
	const struct rego_term *t = ce->t;

	if (t->u.call.len > ce->nin) {
		struct out_env oe = { ce->k, ce->env };

		return eval_unify_value(q, t->u.call.args[ce->nin], ret, out_true, &oe);
	}
	return ce->k(q, ret, ce->env);
}

/* Computes a call's result (NULL: undefined) without continuing; *ret_bi
 * is set for builtins so relations can be spread. */
static int call_compute(struct q *q, struct call_env *ce, int32_t callee, const char *name,
			int hops, struct rv **ret, const struct rego_builtin **ret_bi)
{
	const struct fn_override *ov = q->fov_len ? eval_fn_override(q, name) : NULL;
	const struct rego_builtin *bi = NULL;
	int rc;

	*ret = NULL;
	*ret_bi = NULL;

	/* `with f as g` replaces f by a value or another function. The
	 * replacement runs without any replacements, as in OPA: a mock can
	 * call the original and never another mock. */
	if (ov && hops < 8) {
		struct fn_override *saved = q->fov;
		size_t saved_len = q->fov_len;

		if (ov->value) {
			*ret = rv_ref(ov->value);
			return 0;
		}
		q->fov = NULL;
		q->fov_len = 0;
		rc = call_compute(q, ce, ov->callee->u.var.slot, ov->callee->u.var.name, hops + 1,
				  ret, ret_bi);
		q->fov = saved;
		q->fov_len = saved_len;
		return rc;
	}

	switch (CALLEE_KIND(callee)) {
	case CALLEE_BUILTIN:
		bi = builtin_by_index(CALLEE_INDEX(callee));
		break;
	case CALLEE_EVAL:
		bi = eval_builtin_at(CALLEE_INDEX(callee));
		break;
	case CALLEE_USER: {
		uint32_t id = CALLEE_INDEX(callee);

		if (id >= q->e->nodes_len)
			return 0;
		return eval_function(q, q->e->nodes[id], ce->args, ce->nin, &ce->t->loc, ret);
	}
	default:
		return 0;
	}
	if (!bi)
		return 0;
	rc = eval_builtin_call(q, bi, ce->t, ce->args, ce->nin, ret);
	if (rc == REGO_UNDEFINED) {
		*ret = NULL;
		return 0;
	}
	*ret_bi = bi;
	return rc;
}

static int call_dispatch(struct q *q, struct call_env *ce)
{
	const struct rego_builtin *bi = NULL;
	struct rv *ret = NULL;
	int rc;

	WD_TRY(call_compute(q, ce, ce->callee, ce->name, 0, &ret, &bi));
	if (!ret)
		return 0;

	/* A relation (walk) returns each of its outputs as a solution. */
	if (bi && (bi->flags & REGO_BI_RELATION) && rv_is(ret, RV_ARRAY)) {
		rc = 0;
		for (size_t i = 0; i < rv_array_len(ret) && rc == 0; i++)
			rc = call_result(q, ce, rv_array_at(ret, i));
		rv_unref(ret);
		return rc;
	}
	rc = call_result(q, ce, ret);
	rv_unref(ret);
	return rc;
}

static int call_args_next(struct q *q, struct call_env *ce)
{
	const struct rego_term *arg;
	struct rv *v;

	if (ce->i == ce->nin)
		return call_dispatch(q, ce);
	arg = ce->t->u.call.args[ce->i];
	v = term_direct_value(q, arg);
	if (v)
		return call_arg(q, v, ce);
	return eval_term(q, arg, call_arg, ce);
}

/* Arguments the callee takes; an extra one is the output. */
static size_t call_inputs(struct q *q, const struct rego_term *t)
{
	int32_t slot = t->u.call.op->u.var.slot;
	const struct rego_builtin *bi = NULL;

	switch (CALLEE_KIND(slot)) {
	case CALLEE_BUILTIN:
		bi = builtin_by_index(CALLEE_INDEX(slot));
		break;
	case CALLEE_EVAL:
		bi = eval_builtin_at(CALLEE_INDEX(slot));
		break;
	case CALLEE_USER: {
		uint32_t id = CALLEE_INDEX(slot);

		if (id < q->e->nodes_len && q->e->nodes[id]->arity < t->u.call.len)
			return q->e->nodes[id]->arity;
		return t->u.call.len;
	}
	default:
		break;
	}
	if (!bi || (bi->flags & REGO_BI_VARIADIC) || bi->arity >= t->u.call.len)
		return t->u.call.len;
	return bi->arity;
}

int eval_call(struct q *q, const struct rego_term *t, kv_fn k, void *env)
{
	struct call_env ce = { .t = t, .k = k, .env = env };
	const struct rego_term *op = t->u.call.op;
	int rc;

	if (op->kind != RT_VAR || op->u.var.slot < (1 << CALLEE_KIND_SHIFT))
		return 0;
	ce.callee = op->u.var.slot;
	ce.name = op->u.var.name;

	if (CALLEE_KIND(ce.callee) == CALLEE_EVAL) {
		if (eval_callee_is(ce.callee, EVAL_BI_EQ) ||
		    eval_callee_is(ce.callee, EVAL_BI_ASSIGN)) {
			struct out_env oe = { k, env };

			return eval_unify(q, t->u.call.args[0], t->u.call.args[1], out_true, &oe);
		}
		if (eval_callee_is(ce.callee, EVAL_BI_PRINT) ||
		    eval_callee_is(ce.callee, EVAL_BI_INTERNAL_PRINT))
			return eval_print(q, t, k, env);
	}

	ce.nin = call_inputs(q, t);
	ce.args = ce.nin <= WD_ARRAY_LEN(ce.vals) ? ce.vals : wd_calloc(ce.nin, sizeof(*ce.args));
	if (!ce.args)
		return WD_ENOMEM;
	rc = call_args_next(q, &ce);
	if (ce.args != ce.vals)
		free(ce.args);
	return rc;
}
