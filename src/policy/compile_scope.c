/* Symbols and scopes of name resolution: implicit locals, declarations by
 * `some`, `:=` and function arguments, and their slots. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "policy/compile_resolve.h"

void rs_fail(struct rctx *c, int rc)
{
	if (c->rc == 0)
		c->rc = rc;
}

void rs_error_at(struct rctx *c, const char *code, const struct rego_loc *loc,
		     const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rego_errors_add(c->env->errs, code, loc, "%s", msg);
	rs_fail(c, WD_EINVAL);
}

struct rego_term *rs_new_term(struct rctx *c, enum rego_term_kind kind,
				  const struct rego_loc *loc)
{
	struct rego_term *t = rego_arena_alloc(c->env->arena, sizeof(*t));

	if (!t) {
		rs_fail(c, WD_ENOMEM);
		return NULL;
	}
	t->kind = kind;
	if (loc)
		t->loc = *loc;
	return t;
}

bool rs_is_root_name(const char *name)
{
	return strcmp(name, "data") == 0 || strcmp(name, "input") == 0;
}

/* ---- scopes ---- */

struct sym *rs_scope_find(struct scope *sc, const char *name)
{
	for (size_t i = 0; i < sc->len; i++)
		if (strcmp(sc->syms[i].name, name) == 0)
			return &sc->syms[i];
	return NULL;
}

struct sym *rs_lookup(struct rctx *c, const char *name)
{
	for (struct scope *sc = c->cur; sc; sc = sc->parent) {
		struct sym *s = rs_scope_find(sc, name);

		if (s)
			return s;
	}
	return NULL;
}

struct sym *rs_scope_add(struct rctx *c, const char *name)
{
	struct scope *sc = c->cur;

	/* Each symbol takes a slot, so a scope past MAX_SLOTS cannot compile.
	 * Failing here keeps the linear lookups from going quadratic on a
	 * function with 100,000 arguments. */
	if (sc->len >= MAX_SLOTS) {
		if (c->rc == 0)
			rego_errors_add(c->env->errs, "rego_compile_error", NULL,
					"too many local variables (max %d)", MAX_SLOTS);
		rs_fail(c, WD_ETOOBIG);
		return NULL;
	}
	if (sc->len == sc->cap) {
		size_t cap = sc->cap ? sc->cap * 2 : 8;
		struct sym *n = wd_reallocarray(sc->syms, cap, sizeof(*n));

		if (!n) {
			rs_fail(c, WD_ENOMEM);
			return NULL;
		}
		sc->syms = n;
		sc->cap = cap;
	}
	sc->syms[sc->len] = (struct sym){ .name = name, .slot = -1 };
	return &sc->syms[sc->len++];
}

int32_t rs_sym_slot(struct rctx *c, struct sym *s)
{
	if (s->slot < 0) {
		if (c->nslots >= MAX_SLOTS) {
			rego_errors_add(c->env->errs, "rego_compile_error", NULL,
					"too many local variables (max %d)", MAX_SLOTS);
			rs_fail(c, WD_ETOOBIG);
			return 0;
		}
		s->slot = c->nslots++;
	}
	return s->slot;
}

const struct global *rs_global_find(struct rctx *c, const char *name)
{
	size_t lo = 0, hi = c->globals_len;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = strcmp(c->globals[mid].name, name);

		if (cmp == 0)
			return &c->globals[mid];
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void rs_scope_push(struct rctx *c, struct scope *sc)
{
	*sc = (struct scope){ .parent = c->cur };
	c->cur = sc;
}

void rs_scope_pop(struct rctx *c)
{
	struct scope *sc = c->cur;

	/* OPA rejects `some x` when nothing uses x. */
	for (size_t i = 0; i < sc->len && c->rc == 0; i++)
		if (sc->syms[i].unused_some)
			rs_error_at(c, "rego_compile_error", sc->syms[i].decl_loc,
				    "declared var %s unused", sc->syms[i].name);
	c->cur = sc->parent;
	free(sc->syms);
	sc->syms = NULL;
}

void rs_range_add(struct rctx *c, const struct rego_body *body, int32_t start)
{
	if (c->ranges_len == c->ranges_cap) {
		size_t cap = c->ranges_cap ? c->ranges_cap * 2 : 8;
		struct scope_range *n = wd_reallocarray(c->ranges, cap, sizeof(*n));

		if (!n) {
			rs_fail(c, WD_ENOMEM);
			return;
		}
		c->ranges = n;
		c->ranges_cap = cap;
	}
	c->ranges[c->ranges_len++] = (struct scope_range){ body, start, c->nslots };
}

/* ---- implicit locals: names used in a body that nothing else defines ---- */


static void collect_name(struct rctx *c, const char *name)
{
	if (rs_is_root_name(name) || rs_lookup(c, name) || rs_global_find(c, name))
		return;
	rs_scope_add(c, name);
}

void rs_collect_term(struct rctx *c, const struct rego_term *t)
{
	if (!t)
		return;
	switch (t->kind) {
	case RT_VAR:
		collect_name(c, t->u.var.name);
		break;
	case RT_REF:
		for (size_t i = 0; i < t->u.ref.len; i++)
			rs_collect_term(c, t->u.ref.items[i]);
		break;
	case RT_ARRAY:
	case RT_SET:
		for (size_t i = 0; i < t->u.coll.len; i++)
			rs_collect_term(c, t->u.coll.items[i]);
		break;
	case RT_OBJECT:
		for (size_t i = 0; i < t->u.obj.len; i++) {
			rs_collect_term(c, t->u.obj.keys[i]);
			rs_collect_term(c, t->u.obj.values[i]);
		}
		break;
	case RT_CALL:
		/* The operator is a function name, not a variable. */
		for (size_t i = 0; i < t->u.call.len; i++)
			rs_collect_term(c, t->u.call.args[i]);
		break;
	case RT_TEMPLATE:
		for (size_t i = 0; i < t->u.tmpl.len; i++)
			rs_collect_term(c, t->u.tmpl.parts[i]);
		break;
	default:
		/* Comprehension bodies have their own scope. */
		break;
	}
}

bool rs_is_assign_call(const struct rego_term *t)
{
	const struct rego_term *op;

	if (!t || t->kind != RT_CALL || t->u.call.len != 2)
		return false;
	op = t->u.call.op;
	if (op->kind == RT_VAR)
		return strcmp(op->u.var.name, "assign") == 0;
	if (op->kind == RT_REF && op->u.ref.len == 1 && op->u.ref.items[0]->kind == RT_VAR)
		return strcmp(op->u.ref.items[0]->u.var.name, "assign") == 0;
	return false;
}


/* True when a with value names a builtin or a package rule (`with count
 * as mock_count`) rather than using variables. */
static bool names_function(struct rctx *c, const struct rego_term *t)
{
	struct wd_buf name;
	bool yes = false;

	if (t->kind != RT_VAR && t->kind != RT_REF)
		return false;
	wd_buf_init(&name, 64, 4096);
	if (rs_op_name(t, &name)) {
		const char *n = wd_buf_str(&name);
		const char *head = t->kind == RT_VAR ? t->u.var.name
						     : t->u.ref.items[0]->u.var.name;

		yes = !rs_lookup(c, head) &&
		      (eval_builtin_find(n) || rego_builtin_find(n) ||
		       (rs_global_find(c, head) && strcmp(head, n) == 0));
	}
	wd_buf_free(&name);
	return yes;
}

void rs_collect_body(struct rctx *c, const struct rego_body *body)
{
	for (size_t i = 0; i < body->len; i++) {
		const struct rego_expr *e = body->exprs[i];

		for (size_t w = 0; w < e->with_len; w++)
			if (!names_function(c, e->with[w]->value))
				rs_collect_term(c, e->with[w]->value);
		switch (e->kind) {
		case RE_TERM:
			/* `x := v` declares x; only the value side uses names. */
			if (rs_is_assign_call(e->u.term))
				rs_collect_term(c, e->u.term->u.call.args[1]);
			else
				rs_collect_term(c, e->u.term);
			break;
		case RE_SOME_IN:
			rs_collect_term(c, e->u.some_in.domain);
			break;
		case RE_EVERY:
			rs_collect_term(c, e->u.every.domain);
			break;
		default:
			break;
		}
	}
}

/* ---- declarations ---- */

static void declare_name(struct rctx *c, struct rego_term *var, bool assign)
{
	const char *name = var->u.var.name;
	struct sym *s = rs_scope_find(c->cur, name);

	if (s && s->declared && !var->u.var.wildcard) {
		rs_error_at(c, "rego_compile_error", &var->loc,
			 assign ? "var %s assigned above" : "var %s declared above", name);
		return;
	}
	if (s && s->used && !var->u.var.wildcard) {
		rs_error_at(c, "rego_compile_error", &var->loc, "var %s referenced above", name);
		return;
	}
	if (!s)
		s = rs_scope_add(c, name);
	if (!s)
		return;
	s->declared = true;
	var->u.var.slot = rs_sym_slot(c, s);
}

/* Declares every variable of a pattern: a var, or arrays and object values
 * of patterns. */
void rs_declare_pattern(struct rctx *c, struct rego_term *t, bool assign)
{
	if (!t)
		return;
	switch (t->kind) {
	case RT_VAR:
		if (rs_is_root_name(t->u.var.name)) {
			rs_error_at(c, "rego_compile_error", &t->loc, "cannot assign to %s",
				 t->u.var.name);
			return;
		}
		declare_name(c, t, assign);
		break;
	case RT_ARRAY:
		for (size_t i = 0; i < t->u.coll.len; i++)
			rs_declare_pattern(c, t->u.coll.items[i], assign);
		break;
	case RT_OBJECT:
		for (size_t i = 0; i < t->u.obj.len; i++)
			rs_declare_pattern(c, t->u.obj.values[i], assign);
		break;
	case RT_REF:
		if (assign)
			rs_error_at(c, "rego_compile_error", &t->loc, "cannot assign to ref");
		break;
	default:
		break;
	}
}

/* Declares the variables of a function's argument patterns. */
void rs_declare_args(struct rctx *c, const struct rego_term *t)
{
	struct sym *s;

	switch (t->kind) {
	case RT_VAR:
		if (rs_is_root_name(t->u.var.name))
			return;
		s = rs_scope_find(c->cur, t->u.var.name);
		if (!s)
			s = rs_scope_add(c, t->u.var.name);
		if (s)
			s->declared = true;
		break;
	case RT_ARRAY:
	case RT_SET:
		for (size_t i = 0; i < t->u.coll.len; i++)
			rs_declare_args(c, t->u.coll.items[i]);
		break;
	case RT_OBJECT:
		for (size_t i = 0; i < t->u.obj.len; i++)
			rs_declare_args(c, t->u.obj.values[i]);
		break;
	default:
		rs_collect_term(c, t);
		break;
	}
}
