/* Rego string templates, $"text {expr} text" and the raw $`...` form: the
 * literal text and the embedded expressions, checked as OPA checks them. */
#include <string.h>

#include "policy/parser.h"

/* The text of one template token with its escapes resolved. */
static bool template_text(struct parser *p, bool raw, char **ret, size_t *ret_len)
{
	const struct rego_token *t = rp_cur(p);
	const char *lit = p->src + t->lit_off;
	size_t len = t->lit_len;
	char *out;
	size_t o = 0;

	if (!raw)
		return rp_decode_json_string(p, lit, len, true, ret, ret_len);

	/* Raw text keeps every byte except the backslash of `\{`. */
	out = rp_alloc(p, len + 1);
	if (!out)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (lit[i] == '\\' && i + 1 < len && lit[i + 1] == '{')
			continue;
		out[o++] = lit[i];
	}
	out[o] = '\0';
	*ret = out;
	*ret_len = o;
	return true;
}

static bool is_part(enum rego_tok t, bool raw)
{
	return raw ? t == TK_RAW_TPL_PART : t == TK_TPL_PART;
}

static bool is_end(enum rego_tok t, bool raw)
{
	return raw ? t == TK_RAW_TPL_END : t == TK_TPL_END;
}

/* Rejects what OPA rejects inside `{...}`: negation, unification,
 * assignment, some and every. */
static bool check_embedded(struct parser *p, const struct rego_expr *e)
{
	if (e->negated) {
		rp_error(p, e->loc, "unexpected negation ('not') in template-string expression");
		return false;
	}
	if (e->kind == RE_TERM && rp_term_is_op(e->u.term, "eq") && e->u.term->u.call.len == 2) {
		rp_error(p, e->loc, "unexpected unification ('=') in template-string expression");
		return false;
	}
	if (e->kind == RE_TERM && rp_term_is_op(e->u.term, "assign") &&
	    e->u.term->u.call.len == 2) {
		rp_error(p, e->loc, "unexpected assignment (':=') in template-string expression");
		return false;
	}
	if (e->kind == RE_EVERY) {
		rp_error(p, e->loc, "unexpected 'every' in template-string expression");
		return false;
	}
	if (e->kind == RE_SOME_DECL || e->kind == RE_SOME_IN) {
		rp_error(p, e->loc, "unexpected 'some' in template-string expression");
		return false;
	}
	return true;
}

static int push_expr(struct parser *p, struct rego_expr ***exprs, size_t *cap, size_t len,
		     struct rego_expr *e)
{
	if (len == *cap) {
		size_t ncap = *cap ? *cap * 2 : 4;
		struct rego_expr **grown = rp_alloc(p, ncap * sizeof(*grown));

		if (!grown)
			return -1;
		if (len)
			memcpy(grown, *exprs, len * sizeof(*grown));
		*exprs = grown;
		*cap = ncap;
	}
	(*exprs)[len] = e;
	return 0;
}

struct rego_term *rp_parse_template(struct parser *p, bool raw)
{
	struct rego_loc loc = rp_cur_loc(p);
	struct tvec parts = { 0 };
	struct rego_expr **exprs = NULL;
	size_t exprs_cap = 0;
	struct rego_term *term;

	for (;;) {
		enum rego_tok t = rp_tok(p);
		struct rego_expr *e;
		struct rego_term *part;
		char *text;
		size_t text_len;

		if (!is_part(t, raw) && !is_end(t, raw)) {
			if (t != TK_ILLEGAL)
				rp_error(p, rp_cur_loc(p), "expected template-string part");
			return NULL;
		}
		if (!template_text(p, raw, &text, &text_len)) {
			if (!p->oom)
				rp_error(p, rp_cur_loc(p), "illegal template-string part: %.*s",
					 (int)(rp_cur(p)->end - rp_cur(p)->offset),
					 p->src + rp_cur(p)->offset);
			return NULL;
		}
		/* Empty text between expressions is left out, as in OPA. */
		if (text_len > 0) {
			part = rp_new_string(p, text, text_len, rp_cur_loc(p));
			if (!part || push_expr(p, &exprs, &exprs_cap, parts.len, NULL) < 0 ||
			    rp_tvec_push(p, &parts, part) < 0)
				return NULL;
		}
		if (is_end(t, raw))
			break;

		rp_scan(p);
		e = rp_parse_literal(p);
		if (!e) {
			rp_error(p, rp_cur_loc(p), "invalid template-string expression");
			return NULL;
		}
		if (!check_embedded(p, e))
			return NULL;
		/* Constant scalars stand for themselves; anything else keeps
		 * its expression, which may carry `with` modifiers. */
		if (e->with_len == 0 && e->u.term->kind == RT_VALUE) {
			part = e->u.term;
			e = NULL;
		} else {
			part = e->u.term;
		}
		if (push_expr(p, &exprs, &exprs_cap, parts.len, e) < 0 ||
		    rp_tvec_push(p, &parts, part) < 0)
			return NULL;

		if (rp_tok(p) != TK_RBRACE) {
			rp_error(p, rp_cur_loc(p), "expected } to end template string expression");
			return NULL;
		}
		rp_scan(p);
	}

	term = rp_new_term(p, RT_TEMPLATE, rp_loc_span(loc, rp_tok_end(p)));
	if (!term)
		return NULL;
	term->u.tmpl.parts = parts.items;
	term->u.tmpl.len = parts.len;
	term->u.tmpl.exprs = exprs;
	return term;
}
