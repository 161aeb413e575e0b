/* Safety analysis: reorders each body so every variable is bound by an
 * earlier expression before it is used, as OPA's compiler does, and reports
 * the variables that nothing binds as rego_unsafe_var_error. */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "policy/compile.h"

static bool bit(const uint64_t *s, int32_t slot)
{
	return (s[slot / 64] >> (slot % 64)) & 1u;
}

static void set_bit(uint64_t *s, int32_t slot)
{
	s[slot / 64] |= (uint64_t)1 << (slot % 64);
}

static size_t words(const struct safety_ctx *sc)
{
	return ((size_t)sc->nslots + 63) / 64 + 1;
}

static const struct scope_range *range_of(const struct safety_ctx *sc,
					  const struct rego_body *body)
{
	for (size_t i = 0; i < sc->ranges_len; i++)
		if (sc->ranges[i].body == body)
			return &sc->ranges[i];
	return NULL;
}

static bool is_local(const struct rego_term *t)
{
	return t->kind == RT_VAR && t->u.var.slot >= 0 &&
	       t->u.var.slot < (1 << CALLEE_KIND_SHIFT);
}

/* ---- variable sets ---- */

static void all_vars_term(const struct rego_term *t, uint64_t *set);

static void all_vars_body(const struct rego_body *body, uint64_t *set)
{
	for (size_t i = 0; i < body->len; i++) {
		const struct rego_expr *e = body->exprs[i];

		for (size_t w = 0; w < e->with_len; w++)
			all_vars_term(e->with[w]->value, set);
		switch (e->kind) {
		case RE_TERM:
			all_vars_term(e->u.term, set);
			break;
		case RE_SOME_DECL:
			break;
		case RE_SOME_IN:
			all_vars_term(e->u.some_in.key, set);
			all_vars_term(e->u.some_in.value, set);
			all_vars_term(e->u.some_in.domain, set);
			break;
		case RE_EVERY:
			all_vars_term(e->u.every.key, set);
			all_vars_term(e->u.every.value, set);
			all_vars_term(e->u.every.domain, set);
			all_vars_body(e->u.every.body, set);
			break;
		}
	}
}

static void all_vars_term(const struct rego_term *t, uint64_t *set)
{
	if (!t)
		return;
	switch (t->kind) {
	case RT_VALUE:
		break;
	case RT_VAR:
		if (is_local(t))
			set_bit(set, t->u.var.slot);
		break;
	case RT_REF:
		for (size_t i = 0; i < t->u.ref.len; i++)
			all_vars_term(t->u.ref.items[i], set);
		break;
	case RT_ARRAY:
	case RT_SET:
		for (size_t i = 0; i < t->u.coll.len; i++)
			all_vars_term(t->u.coll.items[i], set);
		break;
	case RT_OBJECT:
		for (size_t i = 0; i < t->u.obj.len; i++) {
			all_vars_term(t->u.obj.keys[i], set);
			all_vars_term(t->u.obj.values[i], set);
		}
		break;
	case RT_ARRAY_COMPR:
	case RT_SET_COMPR:
	case RT_OBJECT_COMPR:
		all_vars_term(t->u.compr.key, set);
		all_vars_term(t->u.compr.head, set);
		all_vars_body(t->u.compr.body, set);
		break;
	case RT_CALL:
		for (size_t i = 0; i < t->u.call.len; i++)
			all_vars_term(t->u.call.args[i], set);
		break;
	case RT_TEMPLATE:
		for (size_t i = 0; i < t->u.tmpl.len; i++)
			all_vars_term(t->u.tmpl.parts[i], set);
		break;
	}
}

/* Slots a nested body uses from outside its own scope. */
static void free_vars_nested(const struct safety_ctx *sc, const struct rego_body *body,
			     const struct rego_term *t1, const struct rego_term *t2,
			     const struct rego_term *t3, uint64_t *set)
{
	size_t n = words(sc);
	uint64_t tmp[n];
	const struct scope_range *r = range_of(sc, body);

	memset(tmp, 0, sizeof(tmp));
	all_vars_body(body, tmp);
	all_vars_term(t1, tmp);
	all_vars_term(t2, tmp);
	all_vars_term(t3, tmp);
	for (int32_t s = 0; s < sc->nslots; s++) {
		if (!bit(tmp, s))
			continue;
		if (r && s >= r->start && s < r->end)
			continue;
		set_bit(set, s);
	}
}

void safety_term_vars(struct safety_ctx *sc, const struct rego_term *t, uint64_t *set)
{
	if (!t)
		return;
	switch (t->kind) {
	case RT_VALUE:
		break;
	case RT_VAR:
		if (is_local(t))
			set_bit(set, t->u.var.slot);
		break;
	case RT_REF:
		for (size_t i = 0; i < t->u.ref.len; i++)
			safety_term_vars(sc, t->u.ref.items[i], set);
		break;
	case RT_ARRAY:
	case RT_SET:
		for (size_t i = 0; i < t->u.coll.len; i++)
			safety_term_vars(sc, t->u.coll.items[i], set);
		break;
	case RT_OBJECT:
		for (size_t i = 0; i < t->u.obj.len; i++) {
			safety_term_vars(sc, t->u.obj.keys[i], set);
			safety_term_vars(sc, t->u.obj.values[i], set);
		}
		break;
	case RT_ARRAY_COMPR:
	case RT_SET_COMPR:
	case RT_OBJECT_COMPR:
		free_vars_nested(sc, t->u.compr.body, t->u.compr.key, t->u.compr.head, NULL, set);
		break;
	case RT_CALL:
		for (size_t i = 0; i < t->u.call.len; i++)
			safety_term_vars(sc, t->u.call.args[i], set);
		break;
	case RT_TEMPLATE:
		for (size_t i = 0; i < t->u.tmpl.len; i++)
			safety_term_vars(sc, t->u.tmpl.parts[i], set);
		break;
	}
}

static void expr_vars(struct safety_ctx *sc, const struct rego_expr *e, uint64_t *set)
{
	for (size_t w = 0; w < e->with_len; w++)
		safety_term_vars(sc, e->with[w]->value, set);
	switch (e->kind) {
	case RE_TERM:
		safety_term_vars(sc, e->u.term, set);
		break;
	case RE_SOME_DECL:
		break;
	case RE_SOME_IN:
		safety_term_vars(sc, e->u.some_in.key, set);
		safety_term_vars(sc, e->u.some_in.value, set);
		safety_term_vars(sc, e->u.some_in.domain, set);
		break;
	case RE_EVERY:
		safety_term_vars(sc, e->u.every.domain, set);
		free_vars_nested(sc, e->u.every.body, e->u.every.key, e->u.every.value, NULL, set);
		break;
	}
}

/* ---- readiness ---- */

static bool can_unify(struct safety_ctx *sc, const struct rego_term *t, const uint64_t *b);

static bool vars_bound(struct safety_ctx *sc, const uint64_t *need, const uint64_t *b)
{
	for (size_t i = 0; i < words(sc); i++)
		if (need[i] & ~b[i])
			return false;
	return true;
}

static bool nested_ready(struct safety_ctx *sc, const struct rego_body *body,
			 const struct rego_term *t1, const struct rego_term *t2,
			 const uint64_t *b)
{
	size_t n = words(sc);
	uint64_t need[n];

	memset(need, 0, sizeof(need));
	free_vars_nested(sc, body, t1, t2, NULL, need);
	return vars_bound(sc, need, b);
}

/* True when t can be evaluated to values now: its variables are bound, or
 * stand where evaluation enumerates them (ref operands). */
static bool can_eval(struct safety_ctx *sc, const struct rego_term *t, const uint64_t *b)
{
	if (!t)
		return true;
	switch (t->kind) {
	case RT_VALUE:
		return true;
	case RT_VAR:
		return !is_local(t) || bit(b, t->u.var.slot);
	case RT_REF:
		if (!can_eval(sc, t->u.ref.items[0], b))
			return false;
		for (size_t i = 1; i < t->u.ref.len; i++) {
			const struct rego_term *op = t->u.ref.items[i];

			if (op->kind == RT_VAR)
				continue;
			if (op->kind == RT_ARRAY || op->kind == RT_OBJECT) {
				if (!can_unify(sc, op, b))
					return false;
				continue;
			}
			if (!can_eval(sc, op, b))
				return false;
		}
		return true;
	case RT_ARRAY:
	case RT_SET:
		for (size_t i = 0; i < t->u.coll.len; i++)
			if (!can_eval(sc, t->u.coll.items[i], b))
				return false;
		return true;
	case RT_OBJECT:
		for (size_t i = 0; i < t->u.obj.len; i++)
			if (!can_eval(sc, t->u.obj.keys[i], b) ||
			    !can_eval(sc, t->u.obj.values[i], b))
				return false;
		return true;
	case RT_ARRAY_COMPR:
	case RT_SET_COMPR:
	case RT_OBJECT_COMPR:
		return nested_ready(sc, t->u.compr.body, t->u.compr.key, t->u.compr.head, b);
	case RT_CALL:
		for (size_t i = 0; i < t->u.call.len; i++)
			if (!can_eval(sc, t->u.call.args[i], b))
				return false;
		return true;
	case RT_TEMPLATE:
		for (size_t i = 0; i < t->u.tmpl.len; i++)
			if (!can_eval(sc, t->u.tmpl.parts[i], b))
				return false;
		return true;
	}
	return false;
}

/* True when t can be matched against a value now, binding its free
 * variables: vars and arrays/objects of such patterns. */
static bool can_unify(struct safety_ctx *sc, const struct rego_term *t, const uint64_t *b)
{
	if (!t)
		return true;
	switch (t->kind) {
	case RT_VAR:
		return true;
	case RT_ARRAY:
		for (size_t i = 0; i < t->u.coll.len; i++)
			if (!can_unify(sc, t->u.coll.items[i], b))
				return false;
		return true;
	case RT_OBJECT:
		for (size_t i = 0; i < t->u.obj.len; i++)
			if (!can_eval(sc, t->u.obj.keys[i], b) ||
			    !can_unify(sc, t->u.obj.values[i], b))
				return false;
		return true;
	default:
		return can_eval(sc, t, b);
	}
}

static bool unify_ready(struct safety_ctx *sc, const struct rego_term *a,
			const struct rego_term *b_term, const uint64_t *b)
{
	if (can_eval(sc, a, b) && can_unify(sc, b_term, b))
		return true;
	if (can_eval(sc, b_term, b) && can_unify(sc, a, b))
		return true;

	/* [x, 1] = [2, y]: pairs settle one another in some order. */
	if (a->kind == RT_ARRAY && b_term->kind == RT_ARRAY &&
	    a->u.coll.len == b_term->u.coll.len) {
		size_t n = words(sc), len = a->u.coll.len, done = 0;
		uint64_t tmp[n];
		bool placed[len + 1];
		bool progress = true;

		memcpy(tmp, b, sizeof(tmp));
		memset(placed, 0, sizeof(placed));
		while (progress && done < len) {
			progress = false;
			for (size_t i = 0; i < len; i++) {
				if (placed[i] || !unify_ready(sc, a->u.coll.items[i],
							      b_term->u.coll.items[i], tmp))
					continue;
				placed[i] = true;
				done++;
				progress = true;
				safety_term_vars(sc, a->u.coll.items[i], tmp);
				safety_term_vars(sc, b_term->u.coll.items[i], tmp);
			}
		}
		return done == len;
	}
	if (a->kind == RT_OBJECT && b_term->kind == RT_OBJECT && a->u.obj.len == b_term->u.obj.len) {
		for (size_t i = 0; i < a->u.obj.len; i++)
			if (!can_eval(sc, a->u.obj.keys[i], b) ||
			    !can_eval(sc, b_term->u.obj.keys[i], b))
				return false;
		/* Values are matched by key at run time; require each pair
		 * to be settled by one side. */
		for (size_t i = 0; i < a->u.obj.len; i++) {
			bool ok = false;

			for (size_t j = 0; j < b_term->u.obj.len && !ok; j++)
				ok = unify_ready(sc, a->u.obj.values[i], b_term->u.obj.values[j], b);
			if (!ok)
				return false;
		}
		return true;
	}
	return false;
}

static const char *call_name(const struct rego_term *t)
{
	if (t->kind != RT_CALL || t->u.call.op->kind != RT_VAR)
		return "";
	return t->u.call.op->u.var.name;
}

/* Arguments a builtin or function takes; the rest is its output. */
static size_t call_arity(const struct rego_term *t)
{
	int32_t slot = t->u.call.op->u.var.slot;
	const struct rego_builtin *bi = NULL;

	if (t->u.call.op->kind != RT_VAR)
		return t->u.call.len;
	switch (CALLEE_KIND(slot)) {
	case CALLEE_BUILTIN:
		bi = builtin_by_index(CALLEE_INDEX(slot));
		break;
	case CALLEE_EVAL:
		bi = eval_builtin_at(CALLEE_INDEX(slot));
		break;
	default:
		return t->u.call.len; /* user functions: checked by the caller */
	}
	if (!bi || (bi->flags & REGO_BI_VARIADIC))
		return t->u.call.len;
	return bi->arity < t->u.call.len ? bi->arity : t->u.call.len;
}

static bool term_expr_ready(struct safety_ctx *sc, const struct rego_term *t, const uint64_t *b,
			    size_t user_arity)
{
	const char *name;
	size_t arity;

	if (t->kind != RT_CALL)
		return can_eval(sc, t, b);
	name = call_name(t);
	if (strcmp(name, "eq") == 0 && t->u.call.len == 2)
		return unify_ready(sc, t->u.call.args[0], t->u.call.args[1], b);
	if (strcmp(name, "assign") == 0 && t->u.call.len == 2)
		return can_eval(sc, t->u.call.args[1], b) && can_unify(sc, t->u.call.args[0], b);

	arity = user_arity ? user_arity : call_arity(t);
	for (size_t i = 0; i < t->u.call.len; i++) {
		if (i < arity ? !can_eval(sc, t->u.call.args[i], b)
			      : !can_unify(sc, t->u.call.args[i], b))
			return false;
	}
	return true;
}

/* Wildcard slots of a term: `_` inside `not` is enumerated there. */
static void wild_vars_term(const struct rego_term *t, uint64_t *set)
{
	if (!t)
		return;
	switch (t->kind) {
	case RT_VAR:
		if (is_local(t) && t->u.var.wildcard)
			set_bit(set, t->u.var.slot);
		break;
	case RT_REF:
		for (size_t i = 0; i < t->u.ref.len; i++)
			wild_vars_term(t->u.ref.items[i], set);
		break;
	case RT_ARRAY:
	case RT_SET:
		for (size_t i = 0; i < t->u.coll.len; i++)
			wild_vars_term(t->u.coll.items[i], set);
		break;
	case RT_OBJECT:
		for (size_t i = 0; i < t->u.obj.len; i++) {
			wild_vars_term(t->u.obj.keys[i], set);
			wild_vars_term(t->u.obj.values[i], set);
		}
		break;
	case RT_CALL:
		for (size_t i = 0; i < t->u.call.len; i++)
			wild_vars_term(t->u.call.args[i], set);
		break;
	default:
		break;
	}
}

static bool expr_ready(struct safety_ctx *sc, const struct rego_expr *e, const uint64_t *b)
{
	for (size_t w = 0; w < e->with_len; w++)
		if (!can_eval(sc, e->with[w]->value, b))
			return false;

	if (e->negated) {
		size_t n = words(sc);
		uint64_t need[n], wild[n];

		memset(need, 0, sizeof(need));
		memset(wild, 0, sizeof(wild));
		expr_vars(sc, e, need);
		if (e->kind == RE_TERM)
			wild_vars_term(e->u.term, wild);
		/* Wildcards inside `not` are enumerated there; every other
		 * variable must come from outside. */
		for (int32_t s = 0; s < sc->nslots; s++)
			if (bit(need, s) && !bit(wild, s) && !bit(b, s))
				return false;
	}

	switch (e->kind) {
	case RE_TERM: {
		const struct rego_term *t = e->u.term;
		size_t ua = 0;

		if (t->kind == RT_CALL && t->u.call.op->kind == RT_VAR &&
		    CALLEE_KIND(t->u.call.op->u.var.slot) == CALLEE_USER &&
		    sc->engine) {
			uint32_t id = CALLEE_INDEX(t->u.call.op->u.var.slot);

			ua = id < sc->engine->nodes_len ? sc->engine->nodes[id]->arity : 0;
			if (ua == 0 || ua > t->u.call.len)
				ua = t->u.call.len;
		}
		return term_expr_ready(sc, t, b, ua);
	}
	case RE_SOME_DECL:
		return true;
	case RE_SOME_IN:
		return can_eval(sc, e->u.some_in.domain, b) &&
		       can_unify(sc, e->u.some_in.key, b) && can_unify(sc, e->u.some_in.value, b);
	case RE_EVERY:
		return can_eval(sc, e->u.every.domain, b) &&
		       nested_ready(sc, e->u.every.body, e->u.every.key, e->u.every.value, b);
	}
	return false;
}

/* ---- unsafe variable reports ---- */

static void report_term(struct safety_ctx *sc, const struct rego_term *t, const uint64_t *b,
			uint64_t *reported);

static void report_body(struct safety_ctx *sc, const struct rego_body *body, const uint64_t *b,
			uint64_t *reported)
{
	for (size_t i = 0; i < body->len; i++) {
		const struct rego_expr *e = body->exprs[i];

		switch (e->kind) {
		case RE_TERM:
			report_term(sc, e->u.term, b, reported);
			break;
		case RE_SOME_IN:
			report_term(sc, e->u.some_in.domain, b, reported);
			break;
		case RE_EVERY:
			report_term(sc, e->u.every.domain, b, reported);
			report_body(sc, e->u.every.body, b, reported);
			break;
		default:
			break;
		}
	}
}

static void report_term(struct safety_ctx *sc, const struct rego_term *t, const uint64_t *b,
			uint64_t *reported)
{
	if (!t)
		return;
	switch (t->kind) {
	case RT_VAR:
		if (is_local(t) && !bit(b, t->u.var.slot) && !bit(reported, t->u.var.slot)) {
			set_bit(reported, t->u.var.slot);
			rego_errors_add(sc->errs, "rego_unsafe_var_error", &t->loc,
					"var %s is unsafe",
					t->u.var.wildcard ? "_" : t->u.var.name);
			sc->rc = WD_EINVAL;
		}
		break;
	case RT_REF:
		for (size_t i = 0; i < t->u.ref.len; i++)
			report_term(sc, t->u.ref.items[i], b, reported);
		break;
	case RT_ARRAY:
	case RT_SET:
		for (size_t i = 0; i < t->u.coll.len; i++)
			report_term(sc, t->u.coll.items[i], b, reported);
		break;
	case RT_OBJECT:
		for (size_t i = 0; i < t->u.obj.len; i++) {
			report_term(sc, t->u.obj.keys[i], b, reported);
			report_term(sc, t->u.obj.values[i], b, reported);
		}
		break;
	case RT_ARRAY_COMPR:
	case RT_SET_COMPR:
	case RT_OBJECT_COMPR: {
		size_t n = words(sc);
		uint64_t inner[n];
		const struct scope_range *r = range_of(sc, t->u.compr.body);

		/* Only the comprehension's free variables are reported here. */
		memcpy(inner, b, sizeof(inner));
		for (int32_t s = r ? r->start : 0; r && s < r->end; s++)
			set_bit(inner, s);
		report_term(sc, t->u.compr.key, inner, reported);
		report_term(sc, t->u.compr.head, inner, reported);
		report_body(sc, t->u.compr.body, inner, reported);
		break;
	}
	case RT_CALL:
		for (size_t i = 0; i < t->u.call.len; i++)
			report_term(sc, t->u.call.args[i], b, reported);
		break;
	case RT_TEMPLATE:
		for (size_t i = 0; i < t->u.tmpl.len; i++)
			report_term(sc, t->u.tmpl.parts[i], b, reported);
		break;
	default:
		break;
	}
}

static void report_expr(struct safety_ctx *sc, const struct rego_expr *e, const uint64_t *b,
			uint64_t *reported)
{
	struct rego_body one = { .exprs = (struct rego_expr **)&e, .len = 1 };

	for (size_t w = 0; w < e->with_len; w++)
		report_term(sc, e->with[w]->value, b, reported);
	report_body(sc, &one, b, reported);
}

/* ---- nested bodies ---- */

static int nested_term(struct safety_ctx *sc, struct rego_term *t, const uint64_t *b);

static int nested_body(struct safety_ctx *sc, struct rego_body *body, struct rego_term *head1,
		       struct rego_term *head2, struct rego_term *pre1, struct rego_term *pre2,
		       const uint64_t *b)
{
	size_t n = words(sc);
	uint64_t inner[n];
	const struct scope_range *r = range_of(sc, body);

	/* Outer variables are bound by the time the nested body runs (its
	 * readiness demanded it); its own start unbound. */
	memcpy(inner, b, sizeof(inner));
	for (int32_t s = 0; s < sc->nslots; s++)
		if (!r || s < r->start || s >= r->end)
			set_bit(inner, s);
	safety_term_vars(sc, pre1, inner);
	safety_term_vars(sc, pre2, inner);
	WD_TRY(safety_body(sc, body, inner));
	if (head1)
		WD_TRY(safety_head_term(sc, head1, inner));
	if (head2)
		WD_TRY(safety_head_term(sc, head2, inner));
	return 0;
}

static int nested_term(struct safety_ctx *sc, struct rego_term *t, const uint64_t *b)
{
	if (!t)
		return 0;
	switch (t->kind) {
	case RT_REF:
		for (size_t i = 0; i < t->u.ref.len; i++)
			WD_TRY(nested_term(sc, t->u.ref.items[i], b));
		break;
	case RT_ARRAY:
	case RT_SET:
		for (size_t i = 0; i < t->u.coll.len; i++)
			WD_TRY(nested_term(sc, t->u.coll.items[i], b));
		break;
	case RT_OBJECT:
		for (size_t i = 0; i < t->u.obj.len; i++) {
			WD_TRY(nested_term(sc, t->u.obj.keys[i], b));
			WD_TRY(nested_term(sc, t->u.obj.values[i], b));
		}
		break;
	case RT_ARRAY_COMPR:
	case RT_SET_COMPR:
	case RT_OBJECT_COMPR:
		return nested_body(sc, t->u.compr.body, t->u.compr.key, t->u.compr.head,
				   NULL, NULL, b);
	case RT_CALL:
		for (size_t i = 0; i < t->u.call.len; i++)
			WD_TRY(nested_term(sc, t->u.call.args[i], b));
		break;
	case RT_TEMPLATE:
		for (size_t i = 0; i < t->u.tmpl.len; i++)
			WD_TRY(nested_term(sc, t->u.tmpl.parts[i], b));
		break;
	default:
		break;
	}
	return 0;
}

static int nested_expr(struct safety_ctx *sc, struct rego_expr *e, const uint64_t *b)
{
	for (size_t w = 0; w < e->with_len; w++)
		WD_TRY(nested_term(sc, e->with[w]->value, b));
	switch (e->kind) {
	case RE_TERM:
		return nested_term(sc, e->u.term, b);
	case RE_SOME_IN:
		return nested_term(sc, e->u.some_in.domain, b);
	case RE_EVERY:
		WD_TRY(nested_term(sc, e->u.every.domain, b));
		return nested_body(sc, e->u.every.body, NULL, NULL, e->u.every.key,
				   e->u.every.value, b);
	default:
		return 0;
	}
}

/* ---- bodies ---- */

int safety_body(struct safety_ctx *sc, struct rego_body *body, uint64_t *bound)
{
	size_t len = body->len;
	struct rego_expr **order = NULL;
	bool *placed = NULL;
	size_t done = 0;
	int rc = 0;

	if (len == 0)
		return 0;
	order = wd_calloc(len, sizeof(*order));
	placed = wd_calloc(len, sizeof(*placed));
	if (!order || !placed) {
		rc = WD_ENOMEM;
		goto out;
	}

	/* Greedy: the first expression (as written) that is ready goes next,
	 * so the written order is kept wherever it is already safe. */
	while (done < len) {
		size_t i;

		for (i = 0; i < len; i++)
			if (!placed[i] && expr_ready(sc, body->exprs[i], bound))
				break;
		if (i == len)
			break;
		placed[i] = true;
		order[done++] = body->exprs[i];
		WD_GUARD(nested_expr(sc, body->exprs[i], bound));
		if (!body->exprs[i]->negated)
			expr_vars(sc, body->exprs[i], bound);
	}

	if (done < len) {
		size_t n = words(sc);
		uint64_t reported[n];

		memset(reported, 0, sizeof(reported));
		for (size_t i = 0; i < len; i++)
			if (!placed[i])
				report_expr(sc, body->exprs[i], bound, reported);
		if (sc->rc == 0) {
			rego_errors_add(sc->errs, "rego_unsafe_var_error", &body->loc,
					"expression is unsafe");
		}
		rc = WD_EINVAL;
		goto out;
	}
	memcpy(body->exprs, order, len * sizeof(*order));
out:
	free(order);
	free(placed);
	return rc;
}

int safety_head_term(struct safety_ctx *sc, struct rego_term *t, const uint64_t *bound)
{
	size_t n = words(sc);
	uint64_t reported[n];

	WD_TRY(nested_term(sc, t, bound));
	if (can_eval(sc, t, bound))
		return 0;
	memset(reported, 0, sizeof(reported));
	report_term(sc, t, bound, reported);
	return WD_EINVAL;
}
