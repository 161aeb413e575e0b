/* Name resolution for rules and queries: imports, package-relative rule
 * references, local variable slots with their scopes, and call targets. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "policy/compile.h"

/* Locals of a rule or query; a ceiling keeps the slot bitsets small. */
#define MAX_SLOTS 4096

struct sym {
	const char *name;
	int32_t slot;           /* -1 until first use */
	bool declared;          /* some, :=, function argument, some-in */
	bool used;              /* referenced before any := */
};

struct scope {
	struct scope *parent;
	struct sym *syms;
	size_t len;
	size_t cap;
};

/* A name visible without qualification and the ref it stands for. */
struct global {
	const char *name;
	struct rego_term **items;
	size_t len;
};

struct rctx {
	struct resolve_env *env;
	struct global *globals;
	size_t globals_len;
	size_t globals_cap;
	struct scope *cur;
	int32_t nslots;
	struct scope_range *ranges;
	size_t ranges_len;
	size_t ranges_cap;
	int rc;
};

static void fail(struct rctx *c, int rc)
{
	if (c->rc == 0)
		c->rc = rc;
}

static void error_at(struct rctx *c, const char *code, const struct rego_loc *loc,
		     const char *fmt, ...) WD_PRINTF(4, 5);

static void error_at(struct rctx *c, const char *code, const struct rego_loc *loc,
		     const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rego_errors_add(c->env->errs, code, loc, "%s", msg);
	fail(c, WD_EINVAL);
}

static struct rego_term *new_term(struct rctx *c, enum rego_term_kind kind,
				  const struct rego_loc *loc)
{
	struct rego_term *t = rego_arena_alloc(c->env->arena, sizeof(*t));

	if (!t) {
		fail(c, WD_ENOMEM);
		return NULL;
	}
	t->kind = kind;
	if (loc)
		t->loc = *loc;
	return t;
}

static bool is_root_name(const char *name)
{
	return strcmp(name, "data") == 0 || strcmp(name, "input") == 0;
}

/* ---- scopes ---- */

static struct sym *scope_find(struct scope *sc, const char *name)
{
	for (size_t i = 0; i < sc->len; i++)
		if (strcmp(sc->syms[i].name, name) == 0)
			return &sc->syms[i];
	return NULL;
}

static struct sym *lookup(struct rctx *c, const char *name)
{
	for (struct scope *sc = c->cur; sc; sc = sc->parent) {
		struct sym *s = scope_find(sc, name);

		if (s)
			return s;
	}
	return NULL;
}

static struct sym *scope_add(struct rctx *c, const char *name)
{
	struct scope *sc = c->cur;

	if (sc->len == sc->cap) {
		size_t cap = sc->cap ? sc->cap * 2 : 8;
		struct sym *n = wd_reallocarray(sc->syms, cap, sizeof(*n));

		if (!n) {
			fail(c, WD_ENOMEM);
			return NULL;
		}
		sc->syms = n;
		sc->cap = cap;
	}
	sc->syms[sc->len] = (struct sym){ .name = name, .slot = -1 };
	return &sc->syms[sc->len++];
}

static int32_t sym_slot(struct rctx *c, struct sym *s)
{
	if (s->slot < 0) {
		if (c->nslots >= MAX_SLOTS) {
			rego_errors_add(c->env->errs, "rego_compile_error", NULL,
					"too many local variables (max %d)", MAX_SLOTS);
			fail(c, WD_ETOOBIG);
			return 0;
		}
		s->slot = c->nslots++;
	}
	return s->slot;
}

static const struct global *global_find(struct rctx *c, const char *name)
{
	for (size_t i = 0; i < c->globals_len; i++)
		if (strcmp(c->globals[i].name, name) == 0)
			return &c->globals[i];
	return NULL;
}

static void scope_push(struct rctx *c, struct scope *sc)
{
	*sc = (struct scope){ .parent = c->cur };
	c->cur = sc;
}

static void scope_pop(struct rctx *c)
{
	struct scope *sc = c->cur;

	c->cur = sc->parent;
	free(sc->syms);
	sc->syms = NULL;
}

static void range_add(struct rctx *c, const struct rego_body *body, int32_t start)
{
	if (c->ranges_len == c->ranges_cap) {
		size_t cap = c->ranges_cap ? c->ranges_cap * 2 : 8;
		struct scope_range *n = wd_reallocarray(c->ranges, cap, sizeof(*n));

		if (!n) {
			fail(c, WD_ENOMEM);
			return;
		}
		c->ranges = n;
		c->ranges_cap = cap;
	}
	c->ranges[c->ranges_len++] = (struct scope_range){ body, start, c->nslots };
}

/* ---- implicit locals: names used in a body that nothing else defines ---- */

static void collect_term(struct rctx *c, const struct rego_term *t);

static void collect_name(struct rctx *c, const char *name)
{
	if (is_root_name(name) || lookup(c, name) || global_find(c, name))
		return;
	scope_add(c, name);
}

static void collect_term(struct rctx *c, const struct rego_term *t)
{
	if (!t)
		return;
	switch (t->kind) {
	case RT_VAR:
		collect_name(c, t->u.var.name);
		break;
	case RT_REF:
		for (size_t i = 0; i < t->u.ref.len; i++)
			collect_term(c, t->u.ref.items[i]);
		break;
	case RT_ARRAY:
	case RT_SET:
		for (size_t i = 0; i < t->u.coll.len; i++)
			collect_term(c, t->u.coll.items[i]);
		break;
	case RT_OBJECT:
		for (size_t i = 0; i < t->u.obj.len; i++) {
			collect_term(c, t->u.obj.keys[i]);
			collect_term(c, t->u.obj.values[i]);
		}
		break;
	case RT_CALL:
		/* The operator is a function name, not a variable. */
		for (size_t i = 0; i < t->u.call.len; i++)
			collect_term(c, t->u.call.args[i]);
		break;
	case RT_TEMPLATE:
		for (size_t i = 0; i < t->u.tmpl.len; i++)
			collect_term(c, t->u.tmpl.parts[i]);
		break;
	default:
		/* Comprehension bodies have their own scope. */
		break;
	}
}

static bool is_assign_call(const struct rego_term *t)
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

static bool op_name(const struct rego_term *op, struct wd_buf *out);

/* True when a with value names a builtin or a package rule (`with count
 * as mock_count`) rather than using variables. */
static bool names_function(struct rctx *c, const struct rego_term *t)
{
	struct wd_buf name;
	bool yes = false;

	if (t->kind != RT_VAR && t->kind != RT_REF)
		return false;
	wd_buf_init(&name, 64, 4096);
	if (op_name(t, &name)) {
		const char *n = wd_buf_str(&name);
		const char *head = t->kind == RT_VAR ? t->u.var.name
						     : t->u.ref.items[0]->u.var.name;

		yes = !lookup(c, head) &&
		      (eval_builtin_find(n) || rego_builtin_find(n) ||
		       (global_find(c, head) && strcmp(head, n) == 0));
	}
	wd_buf_free(&name);
	return yes;
}

static void collect_body(struct rctx *c, const struct rego_body *body)
{
	for (size_t i = 0; i < body->len; i++) {
		const struct rego_expr *e = body->exprs[i];

		for (size_t w = 0; w < e->with_len; w++)
			if (!names_function(c, e->with[w]->value))
				collect_term(c, e->with[w]->value);
		switch (e->kind) {
		case RE_TERM:
			/* `x := v` declares x; only the value side uses names. */
			if (is_assign_call(e->u.term))
				collect_term(c, e->u.term->u.call.args[1]);
			else
				collect_term(c, e->u.term);
			break;
		case RE_SOME_IN:
			collect_term(c, e->u.some_in.domain);
			break;
		case RE_EVERY:
			collect_term(c, e->u.every.domain);
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
	struct sym *s = scope_find(c->cur, name);

	if (s && s->declared && !var->u.var.wildcard) {
		error_at(c, "rego_compile_error", &var->loc,
			 assign ? "var %s assigned above" : "var %s declared above", name);
		return;
	}
	if (s && s->used && !var->u.var.wildcard) {
		error_at(c, "rego_compile_error", &var->loc, "var %s referenced above", name);
		return;
	}
	if (!s)
		s = scope_add(c, name);
	if (!s)
		return;
	s->declared = true;
	var->u.var.slot = sym_slot(c, s);
}

/* Declares every variable of a pattern: a var, or arrays and object values
 * of patterns. */
static void declare_pattern(struct rctx *c, struct rego_term *t, bool assign)
{
	if (!t)
		return;
	switch (t->kind) {
	case RT_VAR:
		if (is_root_name(t->u.var.name)) {
			error_at(c, "rego_compile_error", &t->loc, "cannot assign to %s",
				 t->u.var.name);
			return;
		}
		declare_name(c, t, assign);
		break;
	case RT_ARRAY:
		for (size_t i = 0; i < t->u.coll.len; i++)
			declare_pattern(c, t->u.coll.items[i], assign);
		break;
	case RT_OBJECT:
		for (size_t i = 0; i < t->u.obj.len; i++)
			declare_pattern(c, t->u.obj.values[i], assign);
		break;
	case RT_REF:
		if (assign)
			error_at(c, "rego_compile_error", &t->loc, "cannot assign to ref");
		break;
	default:
		break;
	}
}

/* Declares the variables of a function's argument patterns. */
static void declare_args(struct rctx *c, const struct rego_term *t)
{
	struct sym *s;

	switch (t->kind) {
	case RT_VAR:
		if (is_root_name(t->u.var.name))
			return;
		s = scope_find(c->cur, t->u.var.name);
		if (!s)
			s = scope_add(c, t->u.var.name);
		if (s)
			s->declared = true;
		break;
	case RT_ARRAY:
	case RT_SET:
		for (size_t i = 0; i < t->u.coll.len; i++)
			declare_args(c, t->u.coll.items[i]);
		break;
	case RT_OBJECT:
		for (size_t i = 0; i < t->u.obj.len; i++)
			declare_args(c, t->u.obj.values[i]);
		break;
	default:
		collect_term(c, t);
		break;
	}
}

/* ---- terms ---- */

static void resolve_term(struct rctx *c, struct rego_term *t);
static void resolve_body_in_scope(struct rctx *c, struct rego_body *body,
				  struct rego_term *head1, struct rego_term *head2);
static void resolve_with(struct rctx *c, struct rego_with *w);

/* Replaces items[0] of a ref by the global's items. */
static void splice_global(struct rctx *c, struct rego_term *t, const struct global *g,
			  struct rego_term **rest, size_t rest_len)
{
	size_t len = g->len + rest_len;
	struct rego_term **items = rego_arena_alloc(c->env->arena, len * sizeof(*items));

	if (!items) {
		fail(c, WD_ENOMEM);
		return;
	}
	memcpy(items, g->items, g->len * sizeof(*items));
	if (rest_len)
		memcpy(items + g->len, rest, rest_len * sizeof(*items));
	t->kind = RT_REF;
	t->u.ref.items = items;
	t->u.ref.len = len;
}

static void resolve_var(struct rctx *c, struct rego_term *t)
{
	const char *name = t->u.var.name;
	struct sym *s;
	const struct global *g;

	if (t->u.var.slot >= 0 || t->u.var.slot < SLOT_UNRESOLVED)
		return; /* already resolved */
	if (strcmp(name, "data") == 0) {
		t->u.var.slot = SLOT_DATA;
		return;
	}
	if (strcmp(name, "input") == 0) {
		t->u.var.slot = SLOT_INPUT;
		return;
	}
	s = lookup(c, name);
	if (s) {
		s->used = true;
		t->u.var.slot = sym_slot(c, s);
		return;
	}
	g = global_find(c, name);
	if (g) {
		splice_global(c, t, g, NULL, 0);
		return;
	}
	s = scope_add(c, name);
	if (s) {
		s->used = true;
		t->u.var.slot = sym_slot(c, s);
	}
}

static void resolve_ref(struct rctx *c, struct rego_term *t)
{
	struct rego_term *head = t->u.ref.items[0];

	if (head->kind == RT_VAR && head->u.var.slot == SLOT_UNRESOLVED &&
	    !is_root_name(head->u.var.name) && !lookup(c, head->u.var.name)) {
		const struct global *g = global_find(c, head->u.var.name);

		if (g)
			splice_global(c, t, g, t->u.ref.items + 1, t->u.ref.len - 1);
	}
	for (size_t i = 0; i < t->u.ref.len; i++)
		resolve_term(c, t->u.ref.items[i]);
}

/* The dotted name of a call operator or with target: `count`,
 * `io.jwt.decode`, `data.a.f`, `f` (leading var, then string items). */
static bool op_name(const struct rego_term *op, struct wd_buf *out)
{
	if (op->kind == RT_VAR)
		return wd_buf_append_str(out, op->u.var.name) == 0;
	if (op->kind != RT_REF)
		return false;
	return ref_static_name(op, out);
}

bool ref_static_name(const struct rego_term *ref, struct wd_buf *out)
{
	for (size_t i = 0; i < ref->u.ref.len; i++) {
		const struct rego_term *it = ref->u.ref.items[i];
		const char *s;

		if (i == 0 && it->kind == RT_VAR)
			s = it->u.var.name;
		else if (i > 0 && it->kind == RT_VALUE && rv_is(it->u.value, RV_STRING))
			s = rv_str(it->u.value);
		else
			return false;
		if (i > 0 && wd_buf_append_byte(out, '.') < 0)
			return false;
		if (wd_buf_append_str(out, s) < 0)
			return false;
	}
	return true;
}

/* Expands a leading package-relative or imported name to its full path. */
static bool full_name(struct rctx *c, const char *name, struct wd_buf *out)
{
	const char *dot = strchr(name, '.');
	size_t head_len = dot ? (size_t)(dot - name) : strlen(name);
	char head[256];
	const struct global *g;
	struct rego_term ref;

	if (head_len >= sizeof(head))
		return wd_buf_append_str(out, name) == 0;
	memcpy(head, name, head_len);
	head[head_len] = '\0';

	g = lookup(c, head) ? NULL : global_find(c, head);
	if (!g)
		return wd_buf_append_str(out, name) == 0;
	ref.kind = RT_REF;
	ref.u.ref.items = g->items;
	ref.u.ref.len = g->len;
	if (!ref_static_name(&ref, out))
		return false;
	return dot ? wd_buf_append_str(out, dot) == 0 : true;
}

/* Finds what a function name calls; 0 and *ret_slot set, or an error. */
static int resolve_callee(struct rctx *c, const char *name, const struct rego_loc *loc,
			  int32_t *ret_slot, uint32_t *ret_arity, bool *ret_variadic,
			  const char **ret_full)
{
	struct wd_buf full;
	const struct rego_builtin *bi;
	int rc = 0;

	wd_buf_init(&full, 64, 4096);
	if (!full_name(c, name, &full)) {
		rc = WD_ENOMEM;
		goto out;
	}
	*ret_variadic = false;
	if (strncmp(wd_buf_str(&full), "data.", 5) == 0 || strcmp(wd_buf_str(&full), "data") == 0) {
		struct cnode *node = cnode_find_path(c->env->engine->root, wd_buf_str(&full));

		if (!node || node->kind != CN_FUNCTION) {
			rego_errors_add(c->env->errs, "rego_type_error", loc,
					"undefined function %s", wd_buf_str(&full));
			rc = WD_EINVAL;
			goto out;
		}
		*ret_slot = CALLEE_ENCODE(CALLEE_USER, node->id);
		*ret_arity = node->arity;
		*ret_full = node->path;
		goto out;
	}
	bi = eval_builtin_find(name);
	if (bi) {
		*ret_slot = CALLEE_ENCODE(CALLEE_EVAL, eval_builtin_index_of(bi));
	} else {
		bi = rego_builtin_find(name);
		if (!bi || builtin_index_of(bi) < 0) {
			rego_errors_add(c->env->errs, "rego_type_error", loc,
					"undefined function %s", name);
			rc = WD_EINVAL;
			goto out;
		}
		*ret_slot = CALLEE_ENCODE(CALLEE_BUILTIN, builtin_index_of(bi));
	}
	*ret_arity = bi->arity;
	*ret_variadic = (bi->flags & REGO_BI_VARIADIC) != 0;
	*ret_full = bi->name;
out:
	wd_buf_free(&full);
	return rc;
}

static struct rego_term *callee_term(struct rctx *c, const struct rego_loc *loc,
				     const char *full, int32_t slot)
{
	struct rego_term *t = new_term(c, RT_VAR, loc);

	if (!t)
		return NULL;
	t->u.var.name = full;
	t->u.var.slot = slot;
	t->u.var.generated = true;
	return t;
}

/* The kind a term evaluates to when the syntax alone tells; -1 if not. */
static int static_kind(const struct rego_term *t)
{
	switch (t->kind) {
	case RT_VALUE:
		return (int)rv_kind_of(t->u.value);
	case RT_ARRAY:
	case RT_ARRAY_COMPR:
		return RV_ARRAY;
	case RT_OBJECT:
	case RT_OBJECT_COMPR:
		return RV_OBJECT;
	case RT_SET:
	case RT_SET_COMPR:
		return RV_SET;
	case RT_TEMPLATE:
		return RV_STRING;
	default:
		return -1;
	}
}

/* Rejects constant arguments of the wrong kind, as OPA's type checker
 * does before evaluation (`count(1)`). */
static void check_arg_types(struct rctx *c, const struct rego_term *t,
			    const struct rego_builtin *bi)
{
	if (!bi || (bi->flags & REGO_BI_VARIADIC))
		return;
	for (size_t i = 0; i < bi->arity && i < t->u.call.len && i < REGO_BUILTIN_MAX_ARGS; i++) {
		int kind = static_kind(t->u.call.args[i]);
		unsigned mask = bi->arg_types[i];

		if (kind < 0 || mask == 0 || (mask & (1u << kind)))
			continue;
		error_at(c, "rego_type_error", &t->loc, "%s: invalid argument(s)", bi->name);
		return;
	}
}

static void resolve_call(struct rctx *c, struct rego_term *t)
{
	struct wd_buf name;
	int32_t slot = 0;
	uint32_t arity = 0;
	bool variadic = false;
	const char *full = NULL;
	struct rego_term *op = t->u.call.op;

	wd_buf_init(&name, 64, 4096);
	if (op->kind == RT_VAR && op->u.var.slot >= (1 << CALLEE_KIND_SHIFT))
		goto args; /* resolved before */
	if (!op_name(op, &name)) {
		rego_errors_add(c->env->errs, "rego_type_error", &t->loc, "undefined function");
		fail(c, WD_EINVAL);
		goto args;
	}
	if (op->kind == RT_REF && op->u.ref.items[0]->kind == RT_VAR &&
	    !is_root_name(op->u.ref.items[0]->u.var.name)) {
		struct sym *s = lookup(c, op->u.ref.items[0]->u.var.name);

		if (s && s->declared) {
			error_at(c, "rego_type_error", &t->loc, "undefined function %s",
				 wd_buf_str(&name));
			goto args;
		}
	}
	if (resolve_callee(c, wd_buf_str(&name), &t->loc, &slot, &arity, &variadic, &full) < 0) {
		fail(c, WD_EINVAL);
		goto args;
	}
	if (!variadic && t->u.call.len < arity) {
		error_at(c, "rego_type_error", &t->loc, "%s: too few arguments", full);
		goto args;
	}
	if (!variadic && t->u.call.len > (size_t)arity + 1) {
		error_at(c, "rego_type_error", &t->loc, "%s: too many arguments", full);
		goto args;
	}
	if (CALLEE_KIND(slot) == CALLEE_BUILTIN)
		check_arg_types(c, t, builtin_by_index(CALLEE_INDEX(slot)));
	t->u.call.op = callee_term(c, &op->loc, full, slot);
args:
	wd_buf_free(&name);
	for (size_t i = 0; i < t->u.call.len; i++)
		resolve_term(c, t->u.call.args[i]);
}

static void resolve_compr(struct rctx *c, struct rego_term *t)
{
	resolve_body_in_scope(c, t->u.compr.body, t->u.compr.key, t->u.compr.head);
}

static void resolve_term(struct rctx *c, struct rego_term *t)
{
	if (!t || c->rc < 0)
		return;
	switch (t->kind) {
	case RT_VALUE:
		break;
	case RT_VAR:
		resolve_var(c, t);
		break;
	case RT_REF:
		resolve_ref(c, t);
		break;
	case RT_ARRAY:
	case RT_SET:
		for (size_t i = 0; i < t->u.coll.len; i++)
			resolve_term(c, t->u.coll.items[i]);
		break;
	case RT_OBJECT:
		for (size_t i = 0; i < t->u.obj.len; i++) {
			resolve_term(c, t->u.obj.keys[i]);
			resolve_term(c, t->u.obj.values[i]);
		}
		break;
	case RT_ARRAY_COMPR:
	case RT_SET_COMPR:
	case RT_OBJECT_COMPR:
		resolve_compr(c, t);
		break;
	case RT_CALL:
		resolve_call(c, t);
		break;
	case RT_TEMPLATE:
		for (size_t i = 0; i < t->u.tmpl.len; i++) {
			struct rego_expr *e = t->u.tmpl.exprs ? t->u.tmpl.exprs[i] : NULL;

			for (size_t w = 0; e && w < e->with_len; w++)
				resolve_with(c, e->with[w]);
			resolve_term(c, t->u.tmpl.parts[i]);
		}
		break;
	}
}

/* ---- with targets ---- */

static void resolve_with(struct rctx *c, struct rego_with *w)
{
	struct rego_term *target = w->target;
	struct wd_buf name;

	/* A value naming a function (`with f as g`) becomes a callee. */
	if ((w->value->kind == RT_REF || w->value->kind == RT_VAR) &&
	    !(w->value->kind == RT_VAR && lookup(c, w->value->u.var.name)) &&
	    !(w->value->kind == RT_REF && w->value->u.ref.items[0]->kind == RT_VAR &&
	      lookup(c, w->value->u.ref.items[0]->u.var.name))) {
		wd_buf_init(&name, 64, 4096);
		if (op_name(w->value, &name)) {
			int32_t slot;
			uint32_t arity;
			bool variadic;
			const char *full;
			struct rego_errors scratch = { .len = 0 };
			struct rego_errors *saved = c->env->errs;

			c->env->errs = &scratch;
			if (resolve_callee(c, wd_buf_str(&name), &w->value->loc, &slot, &arity,
					   &variadic, &full) == 0)
				w->value = callee_term(c, &w->value->loc, full, slot);
			c->env->errs = saved;
		}
		wd_buf_free(&name);
	}
	resolve_term(c, w->value);

	if (target->kind == RT_VAR && is_root_name(target->u.var.name)) {
		resolve_var(c, target);
		return;
	}
	wd_buf_init(&name, 64, 4096);
	if (!op_name(target, &name)) {
		rego_errors_add(c->env->errs, "rego_type_error", &w->loc,
				"with target must be a ref to input, data or a function");
		fail(c, WD_EINVAL);
		wd_buf_free(&name);
		return;
	}
	if (target->kind == RT_REF && target->u.ref.items[0]->kind == RT_VAR &&
	    strcmp(target->u.ref.items[0]->u.var.name, "input") == 0) {
		target->u.ref.items[0]->u.var.slot = SLOT_INPUT;
		wd_buf_free(&name);
		return;
	}
	{
		int32_t slot;
		uint32_t arity;
		bool variadic;
		const char *full;
		struct rego_errors scratch = { .len = 0 };
		struct rego_errors *saved = c->env->errs;
		struct wd_buf fullname;

		/* A function (user or builtin) is replaced by callee; anything
		 * else under data is a document override. */
		c->env->errs = &scratch;
		if (resolve_callee(c, wd_buf_str(&name), &w->loc, &slot, &arity, &variadic,
				   &full) == 0) {
			c->env->errs = saved;
			w->target = callee_term(c, &target->loc, full, slot);
			wd_buf_free(&name);
			return;
		}
		c->env->errs = saved;
		wd_buf_init(&fullname, 64, 4096);
		if (full_name(c, wd_buf_str(&name), &fullname) &&
		    strncmp(wd_buf_str(&fullname), "data", 4) == 0 &&
		    (wd_buf_str(&fullname)[4] == '\0' || wd_buf_str(&fullname)[4] == '.')) {
			if (target->kind == RT_VAR) {
				const struct global *g = global_find(c, target->u.var.name);

				if (g)
					splice_global(c, target, g, NULL, 0);
			} else {
				resolve_ref(c, target);
			}
			if (target->kind == RT_VAR)
				target->u.var.slot = SLOT_DATA;
			else
				target->u.ref.items[0]->u.var.slot = SLOT_DATA;
		} else {
			rego_errors_add(c->env->errs, "rego_type_error", &w->loc,
					"with keyword target %s is not a ref to input, data or a function",
					wd_buf_str(&name));
			fail(c, WD_EINVAL);
		}
		wd_buf_free(&fullname);
	}
	wd_buf_free(&name);
}

/* ---- expressions and bodies ---- */

static void resolve_expr(struct rctx *c, struct rego_expr *e)
{
	for (size_t w = 0; w < e->with_len; w++)
		resolve_with(c, e->with[w]);

	switch (e->kind) {
	case RE_TERM:
		if (is_assign_call(e->u.term)) {
			struct rego_term *t = e->u.term;

			resolve_term(c, t->u.call.args[1]);
			declare_pattern(c, t->u.call.args[0], true);
			resolve_term(c, t->u.call.args[0]);
			if (t->u.call.op->kind != RT_VAR ||
			    t->u.call.op->u.var.slot < (1 << CALLEE_KIND_SHIFT)) {
				int32_t slot = CALLEE_ENCODE(CALLEE_EVAL,
						eval_builtin_index_of(eval_builtin_find("assign")));

				t->u.call.op = callee_term(c, &t->u.call.op->loc, "assign", slot);
			}
			break;
		}
		resolve_term(c, e->u.term);
		break;
	case RE_SOME_DECL:
		for (size_t i = 0; i < e->u.decl.len; i++)
			declare_pattern(c, e->u.decl.vars[i], false);
		break;
	case RE_SOME_IN:
		resolve_term(c, e->u.some_in.domain);
		declare_pattern(c, e->u.some_in.key, false);
		declare_pattern(c, e->u.some_in.value, false);
		resolve_term(c, e->u.some_in.key);
		resolve_term(c, e->u.some_in.value);
		break;
	case RE_EVERY: {
		struct scope sc;
		int32_t start = c->nslots;

		resolve_term(c, e->u.every.domain);
		scope_push(c, &sc);
		declare_pattern(c, e->u.every.key, false);
		declare_pattern(c, e->u.every.value, false);
		resolve_term(c, e->u.every.key);
		resolve_term(c, e->u.every.value);
		collect_body(c, e->u.every.body);
		for (size_t i = 0; i < e->u.every.body->len; i++)
			resolve_expr(c, e->u.every.body->exprs[i]);
		scope_pop(c);
		range_add(c, e->u.every.body, start);
		break;
	}
	}
}

static void resolve_body_in_scope(struct rctx *c, struct rego_body *body,
				  struct rego_term *head1, struct rego_term *head2)
{
	struct scope sc;
	int32_t start = c->nslots;

	scope_push(c, &sc);
	collect_body(c, body);
	collect_term(c, head1);
	collect_term(c, head2);
	for (size_t i = 0; i < body->len; i++)
		resolve_expr(c, body->exprs[i]);
	resolve_term(c, head1);
	resolve_term(c, head2);
	scope_pop(c);
	range_add(c, body, start);
}

/* ---- globals of a module ---- */

static int global_add(struct rctx *c, const char *name, struct rego_term **items, size_t len)
{
	if (global_find(c, name))
		return 0;
	if (c->globals_len == c->globals_cap) {
		size_t cap = c->globals_cap ? c->globals_cap * 2 : 16;
		struct global *n = wd_reallocarray(c->globals, cap, sizeof(*n));

		if (!n)
			return WD_ENOMEM;
		c->globals = n;
		c->globals_cap = cap;
	}
	c->globals[c->globals_len++] = (struct global){ name, items, len };
	return 0;
}

static int globals_build(struct rctx *c)
{
	struct rego_module *m = c->env->module;
	struct cnode *pkg = c->env->package;

	if (!m)
		return 0;

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

		if (!rv_is(child->key, RV_STRING))
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
				items[k] = new_term(c, RT_VALUE, NULL);
				if (!items[k])
					return WD_ENOMEM;
				items[k]->u.value = n->key;
			} else {
				items[k] = new_term(c, RT_VAR, NULL);
				if (!items[k])
					return WD_ENOMEM;
				items[k]->u.var.name = "data";
				items[k]->u.var.slot = SLOT_DATA;
			}
		}
		WD_TRY(global_add(c, rv_str(child->key), items, depth));
	}
	return 0;
}

static void rctx_free(struct rctx *c)
{
	free(c->globals);
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

int compile_rule(struct resolve_env *env, struct rego_rule *rule)
{
	struct rctx c = { .env = env };
	struct scope sc;
	struct crule *cr = rule->index;
	int rc = 0;

	WD_GUARD(globals_build(&c));

	scope_push(&c, &sc);
	/* Function arguments are declared first: they shadow rules. */
	for (size_t i = 0; i < rule->args_len; i++)
		declare_args(&c, rule->args[i]);
	for (size_t i = 0; i < rule->args_len; i++)
		resolve_term(&c, rule->args[i]);
	/* Head variables are bound by the body; a name first met in the
	 * head does not capture same-named variables of comprehensions. */
	collect_body(&c, rule->body);

	for (size_t i = 0; i < rule->body->len; i++)
		resolve_expr(&c, rule->body->exprs[i]);
	for (size_t i = 0; cr && i < cr->suffix_len; i++)
		resolve_term(&c, cr->suffix[i]);
	resolve_term(&c, rule->key);
	resolve_term(&c, rule->value);

	/* Else branches see the arguments and the rule's names. */
	for (struct rego_else *el = rule->else_chain; el; el = el->next) {
		struct scope esc;

		scope_push(&c, &esc);
		collect_body(&c, el->body);
		for (size_t i = 0; i < el->body->len; i++)
			resolve_expr(&c, el->body->exprs[i]);
		resolve_term(&c, el->value);
		scope_pop(&c);
	}
	scope_pop(&c);
	WD_GUARD(c.rc);

	rule->slots = c.nslots;
	WD_GUARD(run_safety(&c, rule));
	compile_fold_rule(env, rule);
out:
	if (c.cur)
		scope_pop(&c);
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
	scope_push(&c, &sc);
	collect_body(&c, body);
	for (size_t i = 0; i < body->len; i++)
		resolve_expr(&c, body->exprs[i]);
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
	scope_pop(&c);
	rctx_free(&c);
	if (rc < 0) {
		free(ret_vars->items);
		*ret_vars = (struct query_vars){ 0 };
	}
	return rc;
}
