/* Rego expressions and bodies: `not`, `some`, `every`, `with` modifiers,
 * `:=` and `=`, and the separators (`;` or a newline) between expressions. */
#include <string.h>

#include "policy/parser.h"

static struct rego_expr *new_expr(struct parser *p, enum rego_expr_kind kind, struct rego_loc loc)
{
	struct rego_expr *e = rp_alloc(p, sizeof(*e));

	if (!e)
		return NULL;
	e->kind = kind;
	e->loc = loc;
	return e;
}

struct rego_body *rp_body_of(struct parser *p, struct rego_expr **exprs, size_t len)
{
	struct rego_body *b = rp_alloc(p, sizeof(*b));

	if (!b)
		return NULL;
	b->exprs = exprs;
	b->len = len;
	for (size_t i = 0; i < len; i++)
		exprs[i]->index = (int32_t)i;
	if (len > 0) {
		b->loc = exprs[0]->loc;
		b->loc = rp_loc_span(b->loc, exprs[len - 1]->loc.offset + exprs[len - 1]->loc.len);
	}
	return b;
}

struct expr_vec {
	struct rego_expr **items;
	size_t len;
	size_t cap;
};

static int expr_push(struct parser *p, struct expr_vec *v, struct rego_expr *e)
{
	if (v->len == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 4;
		struct rego_expr **grown = rp_alloc(p, cap * sizeof(*grown));

		if (!grown)
			return -1;
		if (v->len)
			memcpy(grown, v->items, v->len * sizeof(*grown));
		v->items = grown;
		v->cap = cap;
	}
	v->items[v->len++] = e;
	return 0;
}

struct rego_body *rp_parse_query(struct parser *p, bool require_semi, enum rego_tok end)
{
	struct expr_vec v = { 0 };

	if (rp_tok(p) == end) {
		rp_error(p, rp_cur_loc(p), "found empty body");
		return NULL;
	}
	for (;;) {
		struct rego_expr *e = rp_parse_literal(p);

		if (!e || expr_push(p, &v, e) < 0)
			return NULL;
		if (rp_tok(p) == TK_SEMICOLON) {
			rp_scan(p);
			continue;
		}
		if (rp_tok(p) == end || require_semi)
			return rp_body_of(p, v.items, v.len);
		if (!p->s.skipped_nl) {
			/* One error is enough: an earlier one explains this. */
			if (p->s.nerrs == 0)
				rp_illegal(p, "expected \\n or ; or %s", rego_tok_name(end));
			return NULL;
		}
	}
}

struct rego_body *rp_parse_body(struct parser *p, enum rego_tok end)
{
	struct rego_body *b;

	if (!rp_enter(p))
		return NULL;
	b = rp_parse_query(p, false, end);
	rp_leave(p);
	return b;
}

static bool parse_with(struct parser *p, struct rego_expr *e)
{
	struct rego_with **withs = NULL;
	size_t len = 0;
	size_t cap = 0;

	for (;;) {
		struct rego_with *w = rp_alloc(p, sizeof(*w));

		if (!w)
			return false;
		w->loc = rp_cur_loc(p);
		rp_scan(p);
		if (rp_tok(p) != TK_IDENT) {
			rp_illegal(p, "expected ident");
			return false;
		}
		w->target = rp_parse_term(p);
		if (!w->target)
			return false;
		if (w->target->kind == RT_VAR) {
			/* A bare name (a function) is kept as a ref of one var. */
			struct rego_term **items = rp_alloc(p, sizeof(*items));

			if (!items)
				return false;
			items[0] = w->target;
			w->target = rp_new_ref(p, items, 1, w->target->loc);
			if (!w->target)
				return false;
		} else if (w->target->kind != RT_REF) {
			rp_illegal(p, "expected with target path");
		}
		if (rp_tok(p) != TK_AS) {
			rp_illegal(p, "expected as keyword");
			return false;
		}
		rp_scan(p);
		w->value = rp_parse_term_infix_call(p);
		if (!w->value)
			return false;
		w->loc = rp_loc_span(w->loc, p->s.last_end);

		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 2;
			struct rego_with **grown = rp_alloc(p, ncap * sizeof(*grown));

			if (!grown)
				return false;
			if (len)
				memcpy(grown, withs, len * sizeof(*grown));
			withs = grown;
			cap = ncap;
		}
		withs[len++] = w;
		if (rp_tok(p) != TK_WITH)
			break;
	}
	e->with = withs;
	e->with_len = len;
	return true;
}

static struct rego_expr *parse_expr(struct parser *p)
{
	static const enum rego_tok assign_ops[] = { TK_ASSIGN, TK_UNIFY };
	struct rego_term *lhs;
	struct rego_term *op;
	struct rego_term *rhs;
	struct rego_term **args;
	struct rego_expr *e;

	lhs = rp_parse_term_infix_call(p);
	if (!lhs)
		return NULL;
	op = rp_parse_term_op(p, assign_ops, 2);
	if (op) {
		rhs = rp_parse_term_infix_call(p);
		if (!rhs)
			return NULL;
		args = rp_alloc(p, 2 * sizeof(*args));
		if (!args)
			return NULL;
		args[0] = lhs;
		args[1] = rhs;
		lhs = rp_new_call(p, op, args, 2, rp_loc_span(lhs->loc, p->s.last_end));
		if (!lhs)
			return NULL;
	}
	e = new_expr(p, RE_TERM, lhs->loc);
	if (e)
		e->u.term = lhs;
	return e;
}

static struct rego_expr *parse_literal_expr(struct parser *p, bool negated)
{
	struct rego_expr *e = parse_expr(p);

	if (!e)
		return NULL;
	e->negated = negated;
	if (rp_tok(p) == TK_WITH && !parse_with(p, e))
		return NULL;
	return e;
}

static struct rego_expr *parse_some(struct parser *p)
{
	struct rego_loc loc = rp_cur_loc(p);
	struct pstate s = rp_save(p);
	struct rego_term *t;
	struct rego_expr *e;
	struct tvec vars = { 0 };

	/* First as `some x in xs` / `some k, v in xs`. */
	rp_scan(p);
	t = rp_parse_term_infix_call(p);
	if (t && t->kind == RT_CALL) {
		bool two = rp_term_is_op(t, "internal.member_2");
		bool three = rp_term_is_op(t, "internal.member_3");

		if (!two && !three) {
			rp_illegal(p, "expected `x in xs` or `x, y in xs` expression");
			return NULL;
		}
		if ((two && t->u.call.len != 2) || (three && t->u.call.len != 3)) {
			rp_illegal(p, "illegal domain");
			return NULL;
		}
		e = new_expr(p, RE_SOME_IN, loc);
		if (!e)
			return NULL;
		e->u.some_in.key = three ? t->u.call.args[0] : NULL;
		e->u.some_in.value = t->u.call.args[three ? 1 : 0];
		e->u.some_in.domain = t->u.call.args[three ? 2 : 1];
		if (rp_tok(p) == TK_WITH && !parse_with(p, e))
			return NULL;
		return e;
	}
	rp_restore(p, s);

	/* Otherwise a list of variables. */
	for (;;) {
		rp_scan(p);
		if (rp_tok(p) != TK_IDENT) {
			rp_illegal(p, "expected var");
			return NULL;
		}
		t = rp_parse_var(p);
		if (!t || rp_tvec_push(p, &vars, t) < 0)
			return NULL;
		rp_scan(p);
		if (rp_tok(p) != TK_COMMA)
			break;
	}
	e = new_expr(p, RE_SOME_DECL, loc);
	if (!e)
		return NULL;
	e->u.decl.vars = vars.items;
	e->u.decl.len = vars.len;
	return e;
}

static struct rego_expr *parse_every(struct parser *p)
{
	struct rego_loc loc = rp_cur_loc(p);
	struct rego_term *t;
	struct rego_term *key = NULL;
	struct rego_term *value;
	struct rego_term *domain;
	struct rego_body *body;
	struct rego_expr *e;

	rp_scan(p);
	t = rp_parse_term_infix_call(p);
	if (!t)
		return NULL;
	if (rp_term_is_op(t, "internal.member_2")) {
		if (t->u.call.len != 2) {
			rp_illegal(p, "illegal domain");
			return NULL;
		}
		value = t->u.call.args[0];
		domain = t->u.call.args[1];
	} else if (rp_term_is_op(t, "internal.member_3")) {
		if (t->u.call.len != 3) {
			rp_illegal(p, "illegal domain");
			return NULL;
		}
		key = t->u.call.args[0];
		value = t->u.call.args[1];
		domain = t->u.call.args[2];
		if (key->kind != RT_VAR) {
			rp_illegal(p, "expected key to be a variable");
			return NULL;
		}
	} else {
		rp_illegal(p, "expected `x[, y] in xs { ... }` expression");
		return NULL;
	}
	if (value->kind != RT_VAR) {
		rp_illegal(p, "expected value to be a variable");
		return NULL;
	}
	if (rp_tok(p) != TK_LBRACE) {
		rp_illegal(p, "missing body");
		return NULL;
	}
	rp_scan(p);
	body = rp_parse_body(p, TK_RBRACE);
	if (!body)
		return NULL;
	rp_scan(p);

	e = new_expr(p, RE_EVERY, loc);
	if (!e)
		return NULL;
	e->u.every.key = key;
	e->u.every.value = value;
	e->u.every.domain = domain;
	e->u.every.body = body;
	if (rp_tok(p) == TK_WITH && !parse_with(p, e))
		return NULL;
	return e;
}

struct rego_expr *rp_parse_literal(struct parser *p)
{
	struct rego_loc loc = rp_cur_loc(p);
	struct rego_expr *e;
	bool negated = false;
	enum rego_tok next;

	/* A keyword glued to `.` or `[` starts a ref (`not.foo`, `if[0]`). */
	if (rego_tok_is_keyword(rp_tok(p))) {
		next = rp_peek_ws(p);
		if (next == TK_DOT || next == TK_LBRACK) {
			p->s.as_ident = true;
			e = parse_literal_expr(p, false);
			goto out;
		}
	}
	if (rp_tok(p) == TK_NOT) {
		next = rp_peek_ws(p);
		if (next != TK_DOT && next != TK_LBRACK) {
			rp_scan(p);
			negated = true;
		}
	}
	switch (rp_tok(p)) {
	case TK_SOME:
		if (negated) {
			rp_illegal(p, "illegal negation of 'some'");
			return NULL;
		}
		e = parse_some(p);
		break;
	case TK_EVERY:
		if (negated) {
			rp_illegal(p, "illegal negation of 'every'");
			return NULL;
		}
		e = parse_every(p);
		break;
	default:
		e = parse_literal_expr(p, negated);
		break;
	}
out:
	if (e)
		e->loc = rp_loc_span(loc, p->s.last_end);
	return e;
}
