/* Constant folding: arrays, objects and sets whose items are all constants
 * become one frozen value, built once at compile time instead of item by
 * item on every evaluation. */
#include "common/error.h"
#include "policy/compile.h"

static void fold_body(struct resolve_env *env, struct rego_body *body);

static bool is_const(const struct rego_term *t)
{
	return t->kind == RT_VALUE;
}

static void fold_term(struct resolve_env *env, struct rego_term *t)
{
	bool all = true;
	struct rv *v;

	if (!t)
		return;
	switch (t->kind) {
	case RT_REF:
		for (size_t i = 0; i < t->u.ref.len; i++)
			fold_term(env, t->u.ref.items[i]);
		return;
	case RT_CALL:
		for (size_t i = 0; i < t->u.call.len; i++)
			fold_term(env, t->u.call.args[i]);
		return;
	case RT_ARRAY_COMPR:
	case RT_SET_COMPR:
	case RT_OBJECT_COMPR:
		fold_term(env, t->u.compr.key);
		fold_term(env, t->u.compr.head);
		fold_body(env, t->u.compr.body);
		return;
	case RT_TEMPLATE:
		for (size_t i = 0; i < t->u.tmpl.len; i++)
			fold_term(env, t->u.tmpl.parts[i]);
		return;
	case RT_ARRAY:
	case RT_SET:
		for (size_t i = 0; i < t->u.coll.len; i++) {
			fold_term(env, t->u.coll.items[i]);
			all = all && is_const(t->u.coll.items[i]);
		}
		break;
	case RT_OBJECT:
		for (size_t i = 0; i < t->u.obj.len; i++) {
			fold_term(env, t->u.obj.keys[i]);
			fold_term(env, t->u.obj.values[i]);
			all = all && is_const(t->u.obj.keys[i]) && is_const(t->u.obj.values[i]);
		}
		break;
	default:
		return;
	}
	if (!all)
		return;

	/* When memory runs out the term stays as it was, which is still correct. */
	v = term_const_value(t);
	if (!v)
		return;
	v = env->module ? engine_own(env->engine, v) : rego_arena_keep_value(env->arena, v);
	if (!v)
		return;
	t->kind = RT_VALUE;
	t->u.value = v;
}

static void fold_expr(struct resolve_env *env, struct rego_expr *e)
{
	for (size_t w = 0; w < e->with_len; w++)
		fold_term(env, e->with[w]->value);
	switch (e->kind) {
	case RE_TERM:
		fold_term(env, e->u.term);
		break;
	case RE_SOME_IN:
		fold_term(env, e->u.some_in.domain);
		break;
	case RE_EVERY:
		fold_term(env, e->u.every.domain);
		fold_body(env, e->u.every.body);
		break;
	default:
		break;
	}
}

static void fold_body(struct resolve_env *env, struct rego_body *body)
{
	for (size_t i = 0; body && i < body->len; i++)
		fold_expr(env, body->exprs[i]);
}

void compile_fold_rule(struct resolve_env *env, struct rego_rule *rule)
{
	struct crule *cr = rule->index;

	fold_body(env, rule->body);
	fold_term(env, rule->value);
	fold_term(env, rule->key);
	for (size_t i = 0; cr && i < cr->suffix_len; i++)
		fold_term(env, cr->suffix[i]);
	for (struct rego_else *el = rule->else_chain; el; el = el->next) {
		fold_body(env, el->body);
		fold_term(env, el->value);
	}
}

void compile_fold_body(struct resolve_env *env, struct rego_body *body)
{
	fold_body(env, body);
}
