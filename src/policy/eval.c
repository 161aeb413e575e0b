/* The evaluator's core: bodies and expressions in continuation-passing
 * style, with step, depth, memory and stack limits checked on every step. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "policy/eval_internal.h"

struct rv eval_undef_marker = { .refs = RV_REFS_FROZEN, .kind = RV_NULL };

int eval_error(struct q *q, const char *code, const struct rego_loc *loc, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Only the first error of a query is reported, as OPA halts there. */
	if (q->errs && q->errs->len == 0)
		rego_errors_add(q->errs, code, loc, "%s", msg);
	return WD_EINVAL;
}

int eval_nomem(struct q *q)
{
	if (rv_budget_hit())
		return eval_error(q, "eval_cancel_error", NULL,
				  "caller cancelled query execution: memory limit of %zu bytes exceeded",
				  q->max_memory);
	return WD_ENOMEM;
}

int eval_step(struct q *q, const struct rego_loc *loc)
{
	char here;

	/* Steps inside an enumeration report the expression being run. */
	if (loc)
		q->last_loc = loc;
	else
		loc = q->last_loc;

	if (++q->steps > q->max_steps)
		return eval_error(q, "eval_cancel_error", loc,
				  "caller cancelled query execution: step limit of %llu exceeded",
				  (unsigned long long)q->max_steps);
	if (rv_budget_hit())
		return eval_nomem(q);
	/* Continuations nest on the C stack: stop well before its end. */
	if ((uintptr_t)&here < q->stack_floor)
		return eval_error(q, "eval_cancel_error", loc,
				  "caller cancelled query execution: evaluation nested too deeply");
	return 0;
}

/* ---- expressions ---- */

struct body_env {
	const struct rego_body *body;
	size_t next;
	k_fn k;
	void *env;
	const struct rego_expr *expr;
};

struct true_env {
	kv_fn kv;
	void *env;
};

static int pass_true(struct q *q, void *env)
{
	struct true_env *te = env;

	return te->kv(q, rv_bool(true), te->env);
}

static bool is_unify_call(const struct rego_term *t)
{
	const struct rego_term *op;

	if (t->kind != RT_CALL || t->u.call.len != 2)
		return false;
	op = t->u.call.op;
	if (op->kind != RT_VAR)
		return false;
	return eval_callee_is(op->u.var.slot, EVAL_BI_EQ) ||
	       eval_callee_is(op->u.var.slot, EVAL_BI_ASSIGN);
}

int eval_expr_core(struct q *q, const struct rego_expr *e, kv_fn kv, void *env)
{
	struct true_env te = { kv, env };

	switch (e->kind) {
	case RE_SOME_DECL:
		return kv(q, rv_bool(true), env);
	case RE_SOME_IN:
		return eval_some_in(q, e, pass_true, &te);
	case RE_EVERY:
		return eval_every(q, e, pass_true, &te);
	case RE_TERM:
		break;
	}
	if (is_unify_call(e->u.term))
		return eval_unify(q, e->u.term->u.call.args[0], e->u.term->u.call.args[1],
				  pass_true, &te);
	return eval_term(q, e->u.term, kv, env);
}

/* The expression with its `with` modifiers, not its negation. */
static int eval_expr_v(struct q *q, const struct rego_expr *e, kv_fn kv, void *env)
{
	if (e->with_len)
		return eval_with(q, e, kv, env);
	return eval_expr_core(q, e, kv, env);
}

/* OPA's iteration test: a ref with a variable operand after its head, not
 * counting comprehensions, which iterate inside their own value. */
static bool term_iterates(const struct rego_term *t)
{
	if (!t)
		return false;
	switch (t->kind) {
	case RT_REF:
		for (size_t i = 1; i < t->u.ref.len; i++)
			if (t->u.ref.items[i]->kind == RT_VAR)
				return true;
		for (size_t i = 0; i < t->u.ref.len; i++)
			if (term_iterates(t->u.ref.items[i]))
				return true;
		return false;
	case RT_ARRAY:
	case RT_SET:
		for (size_t i = 0; i < t->u.coll.len; i++)
			if (term_iterates(t->u.coll.items[i]))
				return true;
		return false;
	case RT_OBJECT:
		for (size_t i = 0; i < t->u.obj.len; i++)
			if (term_iterates(t->u.obj.keys[i]) || term_iterates(t->u.obj.values[i]))
				return true;
		return false;
	case RT_CALL:
		for (size_t i = 0; i < t->u.call.len; i++)
			if (term_iterates(t->u.call.args[i]))
				return true;
		return false;
	case RT_TEMPLATE:
		for (size_t i = 0; i < t->u.tmpl.len; i++)
			if (term_iterates(t->u.tmpl.parts[i]))
				return true;
		return false;
	default:
		return false;
	}
}

bool eval_query_keeps_false(const struct rego_body *body)
{
	const struct rego_expr *e;

	if (body->len != 1)
		return false;
	e = body->exprs[0];
	return e->kind == RE_TERM && !e->negated && !is_unify_call(e->u.term) &&
	       !term_iterates(e->u.term);
}

static int found_one(struct q *q, struct rv *v, void *env)
{
	(void)q;
	if (rv_is(v, RV_BOOL) && !v->u.boolean)
		return 0;
	*(bool *)env = true;
	return EV_HALT;
}

static int expr_value(struct q *q, struct rv *v, void *env)
{
	struct body_env *be = env;
	const struct rego_expr *e = be->expr;
	bool record = be->body == q->qbody && e->index >= 0 &&
		      (size_t)e->index < q->expr_vals_len;
	struct rv *saved = NULL;
	int rc;

	/* A query of one expression without iteration reports a false value
	 * as its answer, as OPA does (opa eval data.p.allow prints false);
	 * everywhere else false fails the expression. */
	if (rv_is(v, RV_BOOL) && !v->u.boolean && !(record && q->keep_false))
		return 0;
	if (record) {
		saved = q->expr_vals[e->index];
		q->expr_vals[e->index] = v;
	}
	rc = eval_body(q, be->body, be->next, be->k, be->env);
	if (record)
		q->expr_vals[e->index] = saved;
	return rc;
}

static int eval_expr(struct q *q, const struct rego_expr *e, struct body_env *be)
{
	WD_TRY(eval_step(q, &e->loc));

	if (e->negated) {
		bool found = false;
		int rc = eval_expr_v(q, e, found_one, &found);

		if (rc < 0)
			return rc;
		return found ? 0 : expr_value(q, rv_bool(true), be);
	}
	return eval_expr_v(q, e, expr_value, be);
}

int eval_body(struct q *q, const struct rego_body *body, size_t i, k_fn k, void *env)
{
	struct body_env be;

	if (i == body->len)
		return k(q, env);
	be = (struct body_env){ body, i + 1, k, env, body->exprs[i] };
	return eval_expr(q, body->exprs[i], &be);
}
