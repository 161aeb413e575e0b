/* Name resolution of terms: package-relative and imported names, local
 * slots, call targets with their arity, and `with` targets. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "policy/compile_resolve.h"

/* ---- terms ---- */

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
		rs_fail(c, WD_ENOMEM);
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
	s = rs_lookup(c, name);
	if (s) {
		s->used = true;
		s->unused_some = false;
		t->u.var.slot = rs_sym_slot(c, s);
		return;
	}
	g = rs_global_find(c, name);
	if (g) {
		splice_global(c, t, g, NULL, 0);
		return;
	}
	s = rs_scope_add(c, name);
	if (s) {
		s->used = true;
		t->u.var.slot = rs_sym_slot(c, s);
	}
}

static void resolve_ref(struct rctx *c, struct rego_term *t)
{
	struct rego_term *head = t->u.ref.items[0];

	if (head->kind == RT_VAR && head->u.var.slot == SLOT_UNRESOLVED &&
	    !rs_is_root_name(head->u.var.name) && !rs_lookup(c, head->u.var.name)) {
		const struct global *g = rs_global_find(c, head->u.var.name);

		if (g)
			splice_global(c, t, g, t->u.ref.items + 1, t->u.ref.len - 1);
	}
	for (size_t i = 0; i < t->u.ref.len; i++)
		rs_resolve_term(c, t->u.ref.items[i]);
}

/* The dotted name of a call operator or with target: `count`,
 * `io.jwt.decode`, `data.a.f`, `f` (leading var, then string items). */
bool rs_op_name(const struct rego_term *op, struct wd_buf *out)
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

	g = rs_lookup(c, head) ? NULL : rs_global_find(c, head);
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
	struct rego_term *t = rs_new_term(c, RT_VAR, loc);

	if (!t)
		return NULL;
	t->u.var.name = full;
	t->u.var.slot = slot;
	t->u.var.generated = true;
	return t;
}

/* The kind a term evaluates to when the syntax alone determines it; -1 if not. */
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
		rs_error_at(c, "rego_type_error", &t->loc, "%s: invalid argument(s)", bi->name);
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
	if (!rs_op_name(op, &name)) {
		rego_errors_add(c->env->errs, "rego_type_error", &t->loc, "undefined function");
		rs_fail(c, WD_EINVAL);
		goto args;
	}
	if (op->kind == RT_REF && op->u.ref.items[0]->kind == RT_VAR &&
	    !rs_is_root_name(op->u.ref.items[0]->u.var.name)) {
		struct sym *s = rs_lookup(c, op->u.ref.items[0]->u.var.name);

		if (s && s->declared) {
			rs_error_at(c, "rego_type_error", &t->loc, "undefined function %s",
				 wd_buf_str(&name));
			goto args;
		}
	}
	if (resolve_callee(c, wd_buf_str(&name), &t->loc, &slot, &arity, &variadic, &full) < 0) {
		rs_fail(c, WD_EINVAL);
		goto args;
	}
	if (!variadic && t->u.call.len < arity) {
		rs_error_at(c, "rego_type_error", &t->loc, "%s: too few arguments", full);
		goto args;
	}
	if (!variadic && t->u.call.len > (size_t)arity + 1) {
		rs_error_at(c, "rego_type_error", &t->loc, "%s: too many arguments", full);
		goto args;
	}
	if (CALLEE_KIND(slot) == CALLEE_BUILTIN)
		check_arg_types(c, t, builtin_by_index(CALLEE_INDEX(slot)));
	t->u.call.op = callee_term(c, &op->loc, full, slot);
args:
	wd_buf_free(&name);
	for (size_t i = 0; i < t->u.call.len; i++)
		rs_resolve_term(c, t->u.call.args[i]);
}

static void resolve_compr(struct rctx *c, struct rego_term *t)
{
	resolve_body_in_scope(c, t->u.compr.body, t->u.compr.key, t->u.compr.head);
}

void rs_resolve_term(struct rctx *c, struct rego_term *t)
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
			rs_resolve_term(c, t->u.coll.items[i]);
		break;
	case RT_OBJECT:
		for (size_t i = 0; i < t->u.obj.len; i++) {
			rs_resolve_term(c, t->u.obj.keys[i]);
			rs_resolve_term(c, t->u.obj.values[i]);
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
			rs_resolve_term(c, t->u.tmpl.parts[i]);
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
	    !(w->value->kind == RT_VAR && rs_lookup(c, w->value->u.var.name)) &&
	    !(w->value->kind == RT_REF && w->value->u.ref.items[0]->kind == RT_VAR &&
	      rs_lookup(c, w->value->u.ref.items[0]->u.var.name))) {
		wd_buf_init(&name, 64, 4096);
		if (rs_op_name(w->value, &name)) {
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
	rs_resolve_term(c, w->value);

	if (target->kind == RT_VAR && rs_is_root_name(target->u.var.name)) {
		resolve_var(c, target);
		return;
	}
	wd_buf_init(&name, 64, 4096);
	if (!rs_op_name(target, &name)) {
		rego_errors_add(c->env->errs, "rego_type_error", &w->loc,
				"with target must be a ref to input, data or a function");
		rs_fail(c, WD_EINVAL);
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
		    (strcmp(wd_buf_str(&fullname), "data") == 0 ||
		     strncmp(wd_buf_str(&fullname), "data.", 5) == 0)) {
			if (target->kind == RT_VAR) {
				const struct global *g = rs_global_find(c, target->u.var.name);

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
			rs_fail(c, WD_EINVAL);
		}
		wd_buf_free(&fullname);
	}
	wd_buf_free(&name);
}

/* ---- expressions and bodies ---- */

void rs_resolve_expr(struct rctx *c, struct rego_expr *e)
{
	for (size_t w = 0; w < e->with_len; w++)
		resolve_with(c, e->with[w]);

	switch (e->kind) {
	case RE_TERM:
		if (rs_is_assign_call(e->u.term)) {
			struct rego_term *t = e->u.term;

			rs_resolve_term(c, t->u.call.args[1]);
			rs_declare_pattern(c, t->u.call.args[0], true);
			rs_resolve_term(c, t->u.call.args[0]);
			if (t->u.call.op->kind != RT_VAR ||
			    t->u.call.op->u.var.slot < (1 << CALLEE_KIND_SHIFT)) {
				int32_t slot = CALLEE_ENCODE(CALLEE_EVAL,
						eval_builtin_index_of(eval_builtin_find("assign")));

				t->u.call.op = callee_term(c, &t->u.call.op->loc, "assign", slot);
			}
			break;
		}
		rs_resolve_term(c, e->u.term);
		break;
	case RE_SOME_DECL:
		for (size_t i = 0; i < e->u.decl.len; i++) {
			struct rego_term *v = e->u.decl.vars[i];
			struct sym *s;

			rs_declare_pattern(c, v, false);
			s = v->kind == RT_VAR ? rs_scope_find(c->cur, v->u.var.name) : NULL;
			if (s && !v->u.var.wildcard) {
				s->unused_some = true;
				s->decl_loc = &v->loc;
			}
		}
		break;
	case RE_SOME_IN:
		rs_resolve_term(c, e->u.some_in.domain);
		rs_declare_pattern(c, e->u.some_in.key, false);
		rs_declare_pattern(c, e->u.some_in.value, false);
		rs_resolve_term(c, e->u.some_in.key);
		rs_resolve_term(c, e->u.some_in.value);
		break;
	case RE_EVERY: {
		struct scope sc;
		int32_t start = c->nslots;

		rs_resolve_term(c, e->u.every.domain);
		rs_scope_push(c, &sc);
		rs_declare_pattern(c, e->u.every.key, false);
		rs_declare_pattern(c, e->u.every.value, false);
		rs_resolve_term(c, e->u.every.key);
		rs_resolve_term(c, e->u.every.value);
		rs_collect_body(c, e->u.every.body);
		for (size_t i = 0; i < e->u.every.body->len; i++)
			rs_resolve_expr(c, e->u.every.body->exprs[i]);
		rs_scope_pop(c);
		rs_range_add(c, e->u.every.body, start);
		break;
	}
	}
}

static void resolve_body_in_scope(struct rctx *c, struct rego_body *body,
				  struct rego_term *head1, struct rego_term *head2)
{
	struct scope sc;
	int32_t start = c->nslots;

	rs_scope_push(c, &sc);
	rs_collect_body(c, body);
	rs_collect_term(c, head1);
	rs_collect_term(c, head2);
	for (size_t i = 0; i < body->len; i++)
		rs_resolve_expr(c, body->exprs[i]);
	rs_resolve_term(c, head1);
	rs_resolve_term(c, head2);
	rs_scope_pop(c);
	rs_range_add(c, body, start);
}
