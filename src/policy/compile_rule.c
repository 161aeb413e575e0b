/* Resolution entry points: a module's globals (rules and imports), then
 * each rule or query resolved, checked for safety and folded. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "policy/compile_resolve.h"

/* ---- globals of a module ---- */

static int global_add(struct rctx *c, const char *name, struct rego_term **items, size_t len)
{
	struct resolve_env *env = c->env;

	if (env->globals_len == env->globals_cap) {
		size_t cap = env->globals_cap ? env->globals_cap * 2 : 16;
		struct global *n = wd_reallocarray(env->globals, cap, sizeof(*n));

		if (!n)
			return WD_ENOMEM;
		env->globals = n;
		env->globals_cap = cap;
	}
	env->globals[env->globals_len] = (struct global){ name, items, len, env->globals_len };
	env->globals_len++;
	return 0;
}

static int cmp_global(const void *a, const void *b)
{
	const struct global *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Sorts the names and keeps the first definition of each: an import
 * hides a rule of the same name. */
static void globals_sort(struct resolve_env *env)
{
	size_t out = 0;

	qsort(env->globals, env->globals_len, sizeof(*env->globals), cmp_global);
	for (size_t i = 0; i < env->globals_len; i++) {
		if (out > 0 && strcmp(env->globals[out - 1].name, env->globals[i].name) == 0)
			continue;
		env->globals[out++] = env->globals[i];
	}
	env->globals_len = out;
}

void resolve_env_free(struct resolve_env *env)
{
	free(env->globals);
	env->globals = NULL;
	env->globals_len = 0;
	env->globals_cap = 0;
	env->globals_ready = false;
}

static int globals_build(struct rctx *c)
{
	struct rego_module *m = c->env->module;
	struct cnode *pkg = c->env->package;

	if (!m || c->env->globals_ready) {
		c->globals = c->env->globals;
		c->globals_len = c->env->globals_len;
		return 0;
	}

	for (size_t i = 0; i < m->imports_len; i++) {
		struct rego_import *imp = m->imports[i];
		struct rego_term *path = imp->path;
		struct rego_term *head;
		const char *name;

		if (path->kind == RT_VAR) {
			continue; /* `import input` / `import data` change nothing */
		}
		if (path->kind != RT_REF || path->u.ref.len < 1)
			continue;
		head = path->u.ref.items[0];
		if (head->kind != RT_VAR)
			continue;
		if (strcmp(head->u.var.name, "data") == 0)
			head->u.var.slot = SLOT_DATA;
		else if (strcmp(head->u.var.name, "input") == 0)
			head->u.var.slot = SLOT_INPUT;
		else
			continue; /* future.keywords, rego.v1 */
		if (imp->alias) {
			name = imp->alias;
		} else {
			struct rego_term *last = path->u.ref.items[path->u.ref.len - 1];

			if (path->u.ref.len == 1 || last->kind != RT_VALUE ||
			    !rv_is(last->u.value, RV_STRING))
				continue;
			name = rv_str(last->u.value);
		}
		WD_TRY(global_add(c, name, path->u.ref.items, path->u.ref.len));
	}

	/* Every rule of the package, from any module, by its first name. */
	for (size_t i = 0; pkg && i < pkg->children_len; i++) {
		struct cnode *child = pkg->children[i];
		struct rego_term **items;
		size_t depth = 0, k;

		if (!rv_is(child->key, RV_STRING) || !child->rule_head)
			continue;
		for (struct cnode *n = child; n; n = n->parent)
			depth++;
		items = rego_arena_alloc(c->env->arena, depth * sizeof(*items));
		if (!items)
			return WD_ENOMEM;
		k = depth;
		for (struct cnode *n = child; n; n = n->parent) {
			k--;
			if (n->parent) {
				items[k] = rs_new_term(c, RT_VALUE, NULL);
				if (!items[k])
					return WD_ENOMEM;
				items[k]->u.value = n->key;
			} else {
				items[k] = rs_new_term(c, RT_VAR, NULL);
				if (!items[k])
					return WD_ENOMEM;
				items[k]->u.var.name = "data";
				items[k]->u.var.slot = SLOT_DATA;
			}
		}
		WD_TRY(global_add(c, rv_str(child->key), items, depth));
	}
	globals_sort(c->env);
	c->env->globals_ready = true;
	c->globals = c->env->globals;
	c->globals_len = c->env->globals_len;
	return 0;
}

static void rctx_free(struct rctx *c)
{
	free(c->ranges);
}

/* ---- rules ---- */

static int run_safety(struct rctx *c, struct rego_rule *rule)
{
	struct safety_ctx sc = {
		.engine = c->env->engine,
		.errs = c->env->errs,
		.nslots = c->nslots,
		.ranges = c->ranges,
		.ranges_len = c->ranges_len,
	};
	size_t words = ((size_t)c->nslots + 63) / 64 + 1;
	uint64_t *bound0 = calloc(words, sizeof(uint64_t));
	uint64_t *bound = calloc(words, sizeof(uint64_t));
	struct crule *cr = rule->index;
	int rc = 0;

	if (!bound0 || !bound) {
		rc = WD_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < rule->args_len; i++)
		safety_term_vars(&sc, rule->args[i], bound0);

	memcpy(bound, bound0, words * sizeof(uint64_t));
	WD_GUARD(safety_body(&sc, rule->body, bound));
	if (rule->key)
		WD_GUARD(safety_head_term(&sc, rule->key, bound));
	if (rule->value)
		WD_GUARD(safety_head_term(&sc, rule->value, bound));
	for (size_t i = 0; cr && i < cr->suffix_len; i++)
		WD_GUARD(safety_head_term(&sc, cr->suffix[i], bound));

	for (struct rego_else *el = rule->else_chain; el; el = el->next) {
		memcpy(bound, bound0, words * sizeof(uint64_t));
		WD_GUARD(safety_body(&sc, el->body, bound));
		if (el->value)
			WD_GUARD(safety_head_term(&sc, el->value, bound));
	}
out:
	free(bound0);
	free(bound);
	return rc;
}

/* True for terms a call's argument can be matched against directly. */
static bool is_pattern(const struct rego_term *t)
{
	switch (t->kind) {
	case RT_VAR:
	case RT_VALUE:
		return true;
	case RT_ARRAY:
		for (size_t i = 0; i < t->u.coll.len; i++)
			if (!is_pattern(t->u.coll.items[i]))
				return false;
		return true;
	case RT_OBJECT:
		for (size_t i = 0; i < t->u.obj.len; i++)
			if (t->u.obj.keys[i]->kind != RT_VALUE || !is_pattern(t->u.obj.values[i]))
				return false;
		return true;
	default:
		return false;
	}
}

/* An argument that is not a pattern (`f($"{x}") := ...`, `f(x + 1)`)
 * becomes a fresh variable and a body expression comparing it, so it is
 * evaluated once the body has bound its variables, as OPA rewrites it.
 * NOTE: else branches do not get the comparison. */
static int hoist_args(struct rctx *c, struct rego_rule *rule)
{
	struct rego_arena *arena = c->env->arena;

	for (size_t i = 0; i < rule->args_len; i++) {
		struct rego_term *arg = rule->args[i];
		struct rego_term *var, *op, *call, **args;
		struct rego_expr *e, **exprs;
		char name[32];
		struct rego_body *body = rule->body;

		if (is_pattern(arg))
			continue;
		snprintf(name, sizeof(name), "$arg%zu", i);
		var = rs_new_term(c, RT_VAR, &arg->loc);
		op = rs_new_term(c, RT_VAR, &arg->loc);
		call = rs_new_term(c, RT_CALL, &arg->loc);
		args = rego_arena_alloc(arena, 2 * sizeof(*args));
		e = rego_arena_alloc(arena, sizeof(*e));
		exprs = rego_arena_alloc(arena, (body->len + 1) * sizeof(*exprs));
		if (!var || !op || !call || !args || !e || !exprs)
			return WD_ENOMEM;
		var->u.var.name = rego_arena_strndup(arena, name, strlen(name));
		if (!var->u.var.name)
			return WD_ENOMEM;
		var->u.var.slot = SLOT_UNRESOLVED;
		var->u.var.generated = true;
		op->u.var.name = "eq";
		op->u.var.slot = SLOT_UNRESOLVED;
		args[0] = var;
		args[1] = arg;
		call->u.call.op = op;
		call->u.call.args = args;
		call->u.call.len = 2;
		e->kind = RE_TERM;
		e->loc = arg->loc;
		e->u.term = call;
		e->index = (int32_t)body->len;
		if (body->len)
			memcpy(exprs, body->exprs, body->len * sizeof(*exprs));
		exprs[body->len] = e;
		body->exprs = exprs;
		body->len++;
		rule->args[i] = var;
	}
	return 0;
}

int compile_rule(struct resolve_env *env, struct rego_rule *rule)
{
	struct rctx c = { .env = env };
	struct scope sc;
	struct crule *cr = rule->index;
	int rc = 0;

	WD_GUARD(globals_build(&c));
	WD_GUARD(hoist_args(&c, rule));

	rs_scope_push(&c, &sc);
	/* Function arguments are declared first: they shadow rules. */
	for (size_t i = 0; i < rule->args_len; i++)
		rs_declare_args(&c, rule->args[i]);
	for (size_t i = 0; i < rule->args_len; i++)
		rs_resolve_term(&c, rule->args[i]);
	/* Head variables are bound by the body; a name first met in the
	 * head does not capture same-named variables of comprehensions. */
	rs_collect_body(&c, rule->body);

	for (size_t i = 0; i < rule->body->len; i++)
		rs_resolve_expr(&c, rule->body->exprs[i]);
	for (size_t i = 0; cr && i < cr->suffix_len; i++)
		rs_resolve_term(&c, cr->suffix[i]);
	rs_resolve_term(&c, rule->key);
	rs_resolve_term(&c, rule->value);

	/* Else branches see the arguments and the rule's names. */
	for (struct rego_else *el = rule->else_chain; el; el = el->next) {
		struct scope esc;

		rs_scope_push(&c, &esc);
		rs_collect_body(&c, el->body);
		for (size_t i = 0; i < el->body->len; i++)
			rs_resolve_expr(&c, el->body->exprs[i]);
		rs_resolve_term(&c, el->value);
		rs_scope_pop(&c);
	}
	rs_scope_pop(&c);
	WD_GUARD(c.rc);

	rule->slots = c.nslots;
	WD_GUARD(run_safety(&c, rule));
	compile_fold_rule(env, rule);
out:
	if (c.cur)
		rs_scope_pop(&c);
	rctx_free(&c);
	return rc < 0 ? rc : c.rc;
}

int compile_query_body(struct resolve_env *env, struct rego_body *body, int32_t *ret_slots,
		       struct query_vars *ret_vars)
{
	struct rctx c = { .env = env };
	struct scope sc;
	struct safety_ctx sctx;
	uint64_t *bound = NULL;
	int rc = 0;

	*ret_vars = (struct query_vars){ 0 };
	rs_scope_push(&c, &sc);
	rs_collect_body(&c, body);
	for (size_t i = 0; i < body->len; i++)
		rs_resolve_expr(&c, body->exprs[i]);
	WD_GUARD(c.rc);

	sctx = (struct safety_ctx){ .engine = env->engine, .errs = env->errs, .nslots = c.nslots,
				    .ranges = c.ranges, .ranges_len = c.ranges_len };
	bound = calloc(((size_t)c.nslots + 63) / 64 + 1, sizeof(uint64_t));
	if (!bound) {
		rc = WD_ENOMEM;
		goto out;
	}
	WD_GUARD(safety_body(&sctx, body, bound));
	compile_fold_body(env, body);

	ret_vars->items = wd_calloc(sc.len ? sc.len : 1, sizeof(struct query_var));
	if (!ret_vars->items) {
		rc = WD_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < sc.len; i++) {
		const char *name = sc.syms[i].name;

		if (sc.syms[i].slot < 0 || name[0] == '$' || strncmp(name, "__local", 7) == 0)
			continue;
		ret_vars->items[ret_vars->len++] =
			(struct query_var){ name, sc.syms[i].slot };
	}
	*ret_slots = c.nslots;
out:
	free(bound);
	rs_scope_pop(&c);
	rctx_free(&c);
	if (rc < 0) {
		free(ret_vars->items);
		*ret_vars = (struct query_vars){ 0 };
	}
	return rc;
}
