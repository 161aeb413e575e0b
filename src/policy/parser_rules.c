/* Rego statements: `package`, `import`, and rules with their heads (refs,
 * function arguments, `contains`, `:=`/`=`), bodies, `default` and `else`
 * chains, with OPA's messages and its Rego v1 keyword requirements. */
#include <stdio.h>
#include <string.h>

#include "policy/parser.h"

/* A keyword before `.` or `[` is the first part of a ref (`if.foo := 1`). */
static bool scan_ahead_ref(struct parser *p)
{
	enum rego_tok next;

	if (!rego_tok_is_keyword(rp_tok(p)))
		return false;
	next = rp_peek_ws(p);
	if (next == TK_DOT || next == TK_LBRACK) {
		p->s.as_ident = true;
		return true;
	}
	return false;
}

static bool ident_or_keyword(struct parser *p)
{
	if (rp_tok(p) == TK_IDENT)
		return true;
	if (rego_tok_is_keyword(rp_tok(p))) {
		p->s.as_ident = true;
		return true;
	}
	return false;
}

static bool is_string_term(const struct rego_term *t)
{
	return t->kind == RT_VALUE && rv_is(t->u.value, RV_STRING);
}

struct rego_term *rp_parse_package(struct parser *p, struct rego_loc *ret_loc)
{
	struct rego_loc loc = rp_cur_loc(p);
	struct rego_term *term;
	struct rego_term **items;
	size_t n;

	if (rp_tok(p) != TK_PACKAGE)
		return NULL;
	rp_scan_ws(p);
	/* `package.x` or `package[x]` is a ref, not a declaration. */
	if (rp_tok(p) == TK_DOT || rp_tok(p) == TK_LBRACK)
		return NULL;
	if (rp_tok(p) == TK_WS)
		rp_scan(p);
	if (!ident_or_keyword(p)) {
		rp_illegal(p, NULL);
		return NULL;
	}

	term = rp_parse_term(p);
	if (!term) {
		if (p->s.nerrs == 0)
			rp_error(p, rp_cur_loc(p), "expected path");
		return NULL;
	}
	switch (term->kind) {
	case RT_VAR:
		items = rp_alloc(p, 2 * sizeof(*items));
		if (!items)
			return NULL;
		items[0] = rp_new_var(p, "data", 4, term->loc);
		items[1] = rp_new_string(p, term->u.var.name, strlen(term->u.var.name), term->loc);
		n = 2;
		break;
	case RT_REF:
		if (term->u.ref.items[0]->kind != RT_VAR) {
			rp_error(p, term->u.ref.items[0]->loc, "unexpected %s token: expecting var",
				 rp_value_name(term->u.ref.items[0]));
			return NULL;
		}
		n = term->u.ref.len + 1;
		items = rp_alloc(p, n * sizeof(*items));
		if (!items)
			return NULL;
		items[0] = rp_new_var(p, "data", 4, term->u.ref.items[0]->loc);
		items[1] = rp_new_string(p, term->u.ref.items[0]->u.var.name,
					 strlen(term->u.ref.items[0]->u.var.name),
					 term->u.ref.items[0]->loc);
		for (size_t i = 2; i < n; i++) {
			struct rego_term *t = term->u.ref.items[i - 1];

			if (!is_string_term(t)) {
				rp_error(p, t->loc, "unexpected %s token: expecting string",
					 rp_value_name(t));
				return NULL;
			}
			items[i] = t;
		}
		break;
	default:
		rp_illegal(p, NULL);
		return NULL;
	}
	if (!items[0] || !items[1])
		return NULL;
	loc = rp_loc_span(loc, p->s.last_end);
	*ret_loc = loc;
	return rp_new_ref(p, items, n, loc);
}

static bool ends_with_keyword(const struct rego_term *path, const char **ret_name,
			      const struct rego_term **ret_at)
{
	const struct rego_term *last = path->u.ref.items[path->u.ref.len - 1];
	const char *name;

	if (path->u.ref.len == 1)
		name = last->u.var.name;
	else if (is_string_term(last))
		name = rv_str(last->u.value);
	else
		return false;
	*ret_name = name;
	*ret_at = last;
	return rego_tok_keyword(name, strlen(name)) != TK_IDENT;
}

/* `future.keywords[.kw]` and `rego.v1` are accepted as OPA 1.x accepts
 * them; in v1 syntax they change nothing. */
static void check_special_import(struct parser *p, const struct rego_import *imp)
{
	const struct rego_term *path = imp->path;
	const char *root = path->u.ref.items[0]->u.var.name;
	const struct rego_term *second = path->u.ref.len > 1 ? path->u.ref.items[1] : NULL;

	if (strcmp(root, "future") == 0) {
		if (!second || !is_string_term(second) ||
		    strcmp(rv_str(second->u.value), "keywords") != 0) {
			rp_error(p, path->loc, "invalid import, must be `future.keywords`");
			return;
		}
		if (imp->alias) {
			rp_error(p, path->loc, "`future` imports cannot be aliased");
			return;
		}
		if (path->u.ref.len == 3) {
			const struct rego_term *kw = path->u.ref.items[2];
			const char *name;
			enum rego_tok t;

			if (!is_string_term(kw)) {
				rp_error(p, path->loc, "invalid import, must be `future.keywords.x`, "
					 "e.g. `import future.keywords.in`");
				return;
			}
			name = rv_str(kw->u.value);
			t = rego_tok_keyword(name, strlen(name));
			if (t != TK_IN && t != TK_EVERY && t != TK_CONTAINS && t != TK_IF)
				rp_error(p, path->loc,
					 "unexpected keyword, must be one of [contains every if in]");
		}
		return;
	}
	if (strcmp(root, "rego") == 0) {
		if (path->u.ref.len != 2 || !is_string_term(second) ||
		    strcmp(rv_str(second->u.value), "v1") != 0) {
			const char *text = rp_term_str(p, path);

			rp_error(p, path->loc, "invalid import `%s`, must be `rego.v1`", text);
		}
	}
}

struct rego_import *rp_parse_import(struct parser *p)
{
	struct rego_loc loc = rp_cur_loc(p);
	struct rego_import *imp;
	struct rego_term *term;
	struct rego_term *path = NULL;
	struct rego_term **items;
	const char *root;
	const char *name;
	const struct rego_term *at;

	if (rp_tok(p) != TK_IMPORT)
		return NULL;
	rp_scan_ws(p);
	if (rp_tok(p) == TK_DOT || rp_tok(p) == TK_LBRACK)
		return NULL;
	if (rp_tok(p) == TK_WS)
		rp_scan(p);
	if (!ident_or_keyword(p)) {
		rp_illegal(p, NULL);
		return NULL;
	}

	term = rp_parse_term(p);
	if (term && term->kind == RT_VAR) {
		items = rp_alloc(p, sizeof(*items));
		if (!items)
			return NULL;
		items[0] = term;
		path = rp_new_ref(p, items, 1, term->loc);
	} else if (term && term->kind == RT_REF) {
		for (size_t i = 1; i < term->u.ref.len; i++) {
			if (!is_string_term(term->u.ref.items[i])) {
				rp_error(p, term->u.ref.items[i]->loc,
					 "unexpected %s token: expecting string",
					 rp_value_name(term->u.ref.items[i]));
				return NULL;
			}
		}
		path = term;
	}
	if (!path) {
		rp_error(p, rp_cur_loc(p), "expected path");
		return NULL;
	}

	root = path->u.ref.items[0]->kind == RT_VAR ? path->u.ref.items[0]->u.var.name : "";
	if (strcmp(root, "data") != 0 && strcmp(root, "input") != 0 &&
	    strcmp(root, "future") != 0 && strcmp(root, "rego") != 0) {
		rp_hint(p, "if this is unexpected, try updating OPA");
		rp_error(p, path->loc,
			 "unexpected import path, must begin with one of: "
			 "{data, future, input, rego}, got: %s",
			 rp_term_str(p, path->u.ref.items[0]));
		return NULL;
	}

	imp = rp_alloc(p, sizeof(*imp));
	if (!imp)
		return NULL;
	imp->path = path;

	if (rp_tok(p) == TK_AS) {
		struct rego_term *alias;

		rp_scan(p);
		if (rp_tok(p) != TK_IDENT) {
			rp_illegal(p, "expected var");
			return NULL;
		}
		alias = rp_parse_term(p);
		if (!alias || alias->kind != RT_VAR) {
			rp_illegal(p, "expected var");
			return NULL;
		}
		imp->alias = alias->u.var.name;
	} else if (strcmp(root, "future") != 0 || path->u.ref.len == 1) {
		/* The name an import binds must not be a keyword. */
		if (ends_with_keyword(path, &name, &at)) {
			rp_error(p, at->loc, "unexpected import path, must not end with a keyword, "
				 "got: %s", name);
			rp_hint(p, "import a different path or use an alias");
		}
	}
	imp->loc = rp_loc_span(loc, p->s.last_end);
	check_special_import(p, imp);
	return imp;
}

/* ---- rules ---- */

struct head {
	struct rego_loc loc;
	struct tvec ref;
	struct rego_term **args;
	size_t nargs;
	struct rego_term *key;
	struct rego_term *value;
	bool assign;
	bool generated_value;
	bool kw_if;
	bool kw_contains;
};

static const char *head_name(struct parser *p, const struct head *h)
{
	struct rego_term ref = { .kind = RT_REF };

	ref.u.ref.items = h->ref.items;
	ref.u.ref.len = h->ref.len;
	return rp_term_str(p, &ref);
}

static struct rego_term *parse_head_finish(struct parser *p, struct rego_term *head)
{
	struct rego_term **items;

	rp_scan_ws(p);
	switch (rp_tok(p)) {
	case TK_ADD: case TK_SUB: case TK_MUL: case TK_QUO: case TK_REM:
	case TK_AND: case TK_OR:
	case TK_EQUAL: case TK_NEQ: case TK_GT: case TK_GTE: case TK_LT: case TK_LTE:
		rp_illegal(p, NULL);
		break;
	case TK_WS:
		rp_scan(p);
		break;
	default:
		break;
	}
	switch (rp_tok(p)) {
	case TK_LPAREN:
	case TK_DOT:
	case TK_LBRACK:
		return rp_parse_ref(p, head, head->loc.offset);
	default:
		break;
	}
	if (!rp_is_root_doc(head))
		return head;
	items = rp_alloc(p, sizeof(*items));
	if (!items)
		return NULL;
	items[0] = head;
	return rp_new_ref(p, items, 1, head->loc);
}

static struct head *parse_head(struct parser *p, bool is_default, bool *ret_contains)
{
	struct head *h = rp_alloc(p, sizeof(*h));
	struct rego_term *term;
	struct rego_term *ref;
	const char *name;

	*ret_contains = false;
	if (!h)
		return NULL;
	h->loc = rp_cur_loc(p);

	term = rp_parse_var(p);
	if (!term)
		return NULL;
	ref = parse_head_finish(p, term);
	if (!ref) {
		rp_illegal(p, "expected rule head name");
		return NULL;
	}
	switch (ref->kind) {
	case RT_VAR:
		if (rp_tvec_push(p, &h->ref, ref) < 0)
			return NULL;
		break;
	case RT_REF:
	case RT_CALL: {
		struct rego_term *r = ref->kind == RT_CALL ? ref->u.call.op : ref;

		if (r->u.ref.items[0]->kind != RT_VAR) {
			rp_illegal(p, "rule head ref %s invalid", rp_term_str(p, r));
			return NULL;
		}
		h->ref.items = r->u.ref.items;
		h->ref.len = r->u.ref.len;
		h->ref.cap = r->u.ref.len;
		if (ref->kind == RT_CALL) {
			h->args = ref->u.call.args;
			h->nargs = ref->u.call.len;
		}
		break;
	}
	default:
		return NULL;
	}

	name = head_name(p, h);
	switch (rp_tok(p)) {
	case TK_CONTAINS:
		if (h->args)
			rp_illegal(p, "the contains keyword can only be used with multi-value rule "
				   "definitions (e.g., %s contains <VALUE> { ... })", name);
		rp_scan(p);
		h->key = rp_parse_term_infix_call(p);
		if (!h->key)
			rp_illegal(p, "expected rule key term (e.g., %s contains <VALUE> { ... })",
				   name);
		*ret_contains = true;
		h->kw_contains = true;
		h->loc = rp_loc_span(h->loc, p->s.last_end);
		return h;
	case TK_UNIFY:
		rp_scan(p);
		h->value = rp_parse_term_infix_call(p);
		if (!h->value)
			rp_illegal(p, "expected rule value term (e.g., %s[%s] = <VALUE> { ... })",
				   name, "<nil>");
		break;
	case TK_ASSIGN:
		rp_scan(p);
		h->assign = true;
		h->value = rp_parse_term_infix_call(p);
		if (!h->value) {
			if (h->nargs > 0)
				rp_illegal(p, "expected function value term (e.g., %s(...) := "
					   "<VALUE> { ... })", name);
			else if (is_default)
				rp_illegal(p, "expected default rule value term (e.g., default "
					   "%s := <VALUE>)", name);
			else
				rp_illegal(p, "expected rule value term (e.g., %s := <VALUE> "
					   "{ ... })", name);
		}
		break;
	default:
		break;
	}

	if (!h->value && !h->key && (h->ref.len != 2 || h->nargs > 0)) {
		h->generated_value = true;
		h->value = rp_new_bool(p, true, h->loc);
	}
	h->loc = rp_loc_span(h->loc, p->s.last_end);
	return h;
}

/* OPA's checks of `default` rules: a constant value, and plain distinct
 * variables as function arguments. */
static bool default_value_ok(struct parser *p, const struct rego_term *t, struct rego_loc loc)
{
	bool ok = true;

	switch (t->kind) {
	case RT_VAR:
		rp_error(p, loc, "illegal default rule (value cannot contain var)");
		return false;
	case RT_REF:
		rp_error(p, loc, "illegal default rule (value cannot contain ref)");
		return false;
	case RT_CALL:
		rp_error(p, loc, "illegal default rule (value cannot contain call)");
		return false;
	case RT_ARRAY:
	case RT_SET:
		for (size_t i = 0; i < t->u.coll.len; i++)
			ok = default_value_ok(p, t->u.coll.items[i], loc) && ok;
		return ok;
	case RT_OBJECT:
		for (size_t i = 0; i < t->u.obj.len; i++) {
			ok = default_value_ok(p, t->u.obj.keys[i], loc) && ok;
			ok = default_value_ok(p, t->u.obj.values[i], loc) && ok;
		}
		return ok;
	case RT_TEMPLATE:
		for (size_t i = 0; i < t->u.tmpl.len; i++)
			ok = default_value_ok(p, t->u.tmpl.parts[i], loc) && ok;
		return ok;
	default:
		return true;
	}
}

static bool default_args_ok(struct parser *p, const struct head *h, struct rego_loc loc)
{
	bool ok = true;

	for (size_t i = 0; i < h->nargs; i++) {
		const struct rego_term *a = h->args[i];

		if (a->kind != RT_VAR) {
			rp_error(p, loc, "illegal default rule (arguments cannot contain %s)",
				 rp_value_name(a));
			ok = false;
			continue;
		}
		for (size_t j = 0; j < i; j++) {
			if (h->args[j]->kind == RT_VAR &&
			    strcmp(h->args[j]->u.var.name, a->u.var.name) == 0) {
				rp_error(p, loc, "illegal default rule (arguments cannot be "
					 "repeated %s)", a->u.var.name);
				ok = false;
				break;
			}
		}
	}
	return ok;
}

enum rego_rule_kind rp_rule_kind(const struct rego_rule *r, bool multi_value)
{
	const struct rego_term *ref = r->head_ref;

	if (r->args_len > 0)
		return RR_FUNCTION;
	if (multi_value)
		return RR_PARTIAL_SET;
	if (ref->u.ref.len > 1 && !rp_term_is_ground(ref->u.ref.items[ref->u.ref.len - 1]))
		return RR_PARTIAL_OBJ;
	return RR_COMPLETE;
}

int rp_rules_push(struct parser *p, struct rule_out *out, struct rego_rule *r)
{
	if (out->len == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 2;
		struct rego_rule **grown = rp_alloc(p, cap * sizeof(*grown));

		if (!grown)
			return -1;
		if (out->len)
			memcpy(grown, out->rules, out->len * sizeof(*grown));
		out->rules = grown;
		out->cap = cap;
	}
	out->rules[out->len++] = r;
	return 0;
}

static void add_check(struct parser *p, struct check_list *list, struct rego_loc loc,
		      const char *msg)
{
	struct pcheck *c = rp_alloc(p, sizeof(*c));

	if (!c || !msg)
		return;
	c->loc = loc;
	c->msg = msg;
	if (list->tail)
		list->tail->next = c;
	else
		list->head = c;
	list->tail = c;
}

void rp_v1_checks(struct parser *p, struct check_list *list, const struct rule_flags *f)
{
	const char *kind = f->function ? "function" : "rule";
	char buf[128];

	if (f->name && rego_tok_keyword(f->name, strlen(f->name)) != TK_IDENT) {
		snprintf(buf, sizeof(buf), "%s keyword cannot be used for rule name", f->name);
		add_check(p, list, f->loc, rp_strndup(p, buf, strlen(buf)));
	}
	if (f->generated_body && f->generated_value) {
		snprintf(buf, sizeof(buf), "%s must have value assignment and/or body declaration",
			 kind);
		add_check(p, list, f->loc, rp_strndup(p, buf, strlen(buf)));
	}
	if (f->has_body && !f->generated_body && !f->kw_if && !f->is_default) {
		snprintf(buf, sizeof(buf), "`if` keyword is required before %s body", kind);
		add_check(p, list, f->loc, rp_strndup(p, buf, strlen(buf)));
	}
	if (f->multi_value && !f->kw_contains)
		add_check(p, list, f->loc, "`contains` keyword is required for partial set rules");
}

static struct rego_body *empty_body(struct parser *p, struct rego_loc loc)
{
	struct rego_body *b = rp_alloc(p, sizeof(*b));

	if (b)
		b->loc = loc;
	return b;
}

static struct rego_body *single_body(struct parser *p, struct rego_expr *e)
{
	struct rego_expr **exprs = rp_alloc(p, sizeof(*exprs));

	if (!exprs)
		return NULL;
	exprs[0] = e;
	return rp_body_of(p, exprs, 1);
}

/* A copy of the head's arguments in which every wildcard is renamed, as
 * OPA does for each further body or else branch of a function. */
static struct rego_term **fresh_args(struct parser *p, const struct head *h)
{
	struct rego_term **args;

	if (h->nargs == 0)
		return h->args;
	args = rp_alloc(p, h->nargs * sizeof(*args));
	if (!args)
		return NULL;
	for (size_t i = 0; i < h->nargs; i++) {
		struct rego_term *a = h->args[i];
		char name[16];
		int n;

		if (a->kind == RT_VAR && a->u.var.wildcard) {
			n = snprintf(name, sizeof(name), "$%u", p->s.wildcard++);
			a = rp_new_var(p, name, (size_t)n, a->loc);
			if (!a)
				return NULL;
			a->u.var.wildcard = true;
		}
		args[i] = a;
	}
	return args;
}

static struct rego_rule *build_rule(struct parser *p, const struct head *h, bool is_default,
				    struct rego_body *body, struct rego_loc loc, bool multi_value)
{
	struct rego_rule *r = rp_alloc(p, sizeof(*r));

	if (!r || !body)
		return NULL;
	r->loc = loc;
	r->is_default = is_default;
	r->assign = h->assign;
	r->head_ref = rp_new_ref(p, h->ref.items, h->ref.len, h->loc);
	if (!r->head_ref)
		return NULL;
	r->args = h->args;
	r->args_len = h->nargs;
	r->value = multi_value ? NULL : h->value;
	r->body = body;
	r->slots = -1;
	r->kind = rp_rule_kind(r, multi_value);
	if (r->kind == RR_PARTIAL_SET)
		r->key = h->key;
	else if (r->kind == RR_PARTIAL_OBJ)
		r->key = h->ref.items[h->ref.len - 1];
	return r;
}

static void head_flags(const struct head *h, struct rule_flags *f, struct rego_loc loc)
{
	memset(f, 0, sizeof(*f));
	f->loc = loc;
	f->function = h->nargs > 0;
	f->generated_value = h->generated_value;
	f->kw_if = h->kw_if;
	f->kw_contains = h->kw_contains;
	f->multi_value = h->key && !h->value;
	if (h->ref.len < 2 && h->ref.items[0]->kind == RT_VAR)
		f->name = h->ref.items[0]->u.var.name;
}

static struct rego_else *parse_else(struct parser *p, const struct head *parent,
				    struct check_list *checks)
{
	struct rego_else *e = rp_alloc(p, sizeof(*e));
	struct rule_flags f;
	struct rego_expr *lit;
	bool has_if;

	if (!e)
		return NULL;
	e->loc = rp_cur_loc(p);
	head_flags(parent, &f, e->loc);
	f.generated_value = false;
	/* Wildcard arguments are renamed per branch, as OPA does. */
	if (parent->nargs > 0 && !fresh_args(p, parent))
		return NULL;
	rp_scan(p);

	switch (rp_tok(p)) {
	case TK_LBRACE:
	case TK_IF:
		f.generated_value = true;
		e->value = rp_new_bool(p, true, e->loc);
		break;
	case TK_ASSIGN:
	case TK_UNIFY:
		rp_scan(p);
		e->value = rp_parse_term_infix_call(p);
		if (!e->value)
			return NULL;
		break;
	default:
		rp_illegal(p, "expected else value term or rule body");
		return NULL;
	}

	has_if = rp_tok(p) == TK_IF;
	if (!has_if && rp_tok(p) != TK_LBRACE) {
		e->body = empty_body(p, e->loc);
		f.generated_body = true;
		f.has_body = true;
	} else {
		if (has_if) {
			f.kw_if = true;
			rp_scan(p);
		}
		f.has_body = true;
		if (rp_tok(p) == TK_LBRACE) {
			rp_scan(p);
			e->body = rp_parse_body(p, TK_RBRACE);
			if (!e->body)
				return NULL;
			rp_scan(p);
		} else if (rp_tok(p) != TK_EOF) {
			lit = rp_parse_literal(p);
			if (!lit)
				return NULL;
			e->body = single_body(p, lit);
		} else {
			rp_illegal(p, "rule body expected");
			return NULL;
		}
	}
	if (!e->body)
		return NULL;
	e->loc = rp_loc_span(e->loc, p->s.last_end);
	f.loc = e->loc;
	rp_v1_checks(p, checks, &f);
	return e;
}

/* Parses the else branches that follow a rule. A loop, not recursion, so
 * that a long chain cannot overflow the stack. */
static struct rego_else *parse_else_chain(struct parser *p, const struct head *parent,
					  struct check_list *checks)
{
	struct rego_else *first = NULL;
	struct rego_else **tail = &first;

	while (rp_tok(p) == TK_ELSE) {
		struct rego_else *e = parse_else(p, parent, checks);

		if (!e)
			return NULL;
		*tail = e;
		tail = &e->next;
	}
	return first;
}

static bool ref_is_ground(const struct head *h)
{
	for (size_t i = 0; i < h->ref.len; i++) {
		if (i > 0 && !rp_term_is_ground(h->ref.items[i]))
			return false;
	}
	return true;
}

bool rp_parse_rules(struct parser *p, struct rule_out *out)
{
	struct rego_loc loc = rp_cur_loc(p);
	struct rego_body *body = NULL;
	struct rego_rule *rule;
	struct rule_flags f;
	struct head *h;
	struct pstate s;
	bool is_default = false;
	bool uses_contains;
	bool has_if;

	memset(out, 0, sizeof(*out));
	scan_ahead_ref(p);
	if (rp_tok(p) == TK_DEFAULT) {
		rp_scan(p);
		is_default = true;
		scan_ahead_ref(p);
	}
	if (rp_tok(p) != TK_IDENT)
		return false;

	h = parse_head(p, is_default, &uses_contains);
	if (!h)
		return false;

	if (is_default) {
		if (!h->value) {
			rp_error(p, loc, "illegal default rule (must have a value)");
			return false;
		}
		if (!default_value_ok(p, h->value, loc))
			return false;
		if (h->nargs > 0 && !default_args_ok(p, h, loc))
			return false;
		loc = rp_loc_span(loc, p->s.last_end);
		rule = build_rule(p, h, true, empty_body(p, loc), loc, false);
		if (!rule || rp_rules_push(p, out, rule) < 0)
			return false;
		head_flags(h, &f, loc);
		f.is_default = true;
		f.has_body = true;
		rp_v1_checks(p, &out->checks, &f);
		return true;
	}

	/* `p[x] if ...` is a single-value rule with key x; `p[x] { ... }`
	 * the old multi-value form (refused below by the v1 checks). */
	has_if = rp_tok(p) == TK_IF;
	if (has_if && !uses_contains && h->ref.len == 2) {
		struct rego_term *v = h->ref.items[1];

		if ((!rp_term_is_ground(v) || v->kind == RT_REF) && h->nargs == 0)
			h->key = v;
		if (!h->value) {
			h->generated_value = true;
			h->value = rp_new_bool(p, true, h->loc);
		}
	}
	if (!has_if && !uses_contains && h->nargs == 0 && h->ref.len == 2) {
		h->key = h->ref.items[1];
		if (!h->value)
			h->ref.len = 1;
	}

	memset(&f, 0, sizeof(f));
	if (has_if) {
		struct rego_expr *lit;

		h->kw_if = true;
		rp_scan(p);
		s = rp_save(p);
		lit = rp_parse_literal(p);
		/* A set literal is never false, so `p if { x }` is a body. */
		if (lit && !(lit->kind == RE_TERM && lit->u.term->kind == RT_SET)) {
			body = single_body(p, lit);
			if (!body)
				return false;
		} else {
			rp_restore(p, s);
		}
	}
	if (!body) {
		if (has_if || rp_tok(p) == TK_LBRACE) {
			rp_scan(p);
			body = rp_parse_body(p, TK_RBRACE);
			if (!body)
				return false;
			rp_scan(p);
		} else if (uses_contains) {
			rule = build_rule(p, h, false, empty_body(p, h->loc), h->loc, true);
			if (!rule || rp_rules_push(p, out, rule) < 0)
				return false;
			head_flags(h, &f, h->loc);
			f.has_body = true;
			f.generated_body = true;
			rp_v1_checks(p, &out->checks, &f);
			return true;
		} else {
			return false;
		}
	}

	loc = rp_loc_span(loc, p->s.last_end);
	rule = build_rule(p, h, false, body, loc, h->key && !h->value);
	if (!rule || rp_rules_push(p, out, rule) < 0)
		return false;
	head_flags(h, &f, loc);
	f.has_body = true;
	rp_v1_checks(p, &out->checks, &f);

	if (rp_tok(p) == TK_ELSE && !scan_ahead_ref(p)) {
		if (h->ref.len > 1 && !ref_is_ground(h)) {
			rp_error(p, rp_cur_loc(p),
				 "else keyword cannot be used on rules with variables in head");
			return false;
		}
		if (h->key) {
			rp_error(p, rp_cur_loc(p), "else keyword cannot be used on multi-value rules");
			return false;
		}
		rule->else_chain = parse_else_chain(p, h, &out->checks);
		if (!rule->else_chain)
			return false;
		rule->loc = rp_loc_span(rule->loc, p->s.last_end);
	}

	/* Further bodies define more rules with the same head. */
	while (rp_tok(p) == TK_LBRACE) {
		struct rego_loc next_loc = rp_cur_loc(p);
		struct rego_rule *next;
		struct head copy = *h;

		if (rule->else_chain) {
			rp_error(p, rp_cur_loc(p), "expected else keyword");
			return false;
		}
		rp_scan(p);
		body = rp_parse_body(p, TK_RBRACE);
		if (!body)
			return false;
		rp_scan(p);
		next_loc = rp_loc_span(next_loc, p->s.last_end);
		copy.args = fresh_args(p, h);
		if (h->nargs && !copy.args)
			return false;
		next = build_rule(p, &copy, false, body, next_loc, h->key && !h->value);
		if (!next || rp_rules_push(p, out, next) < 0)
			return false;
		head_flags(&copy, &f, next_loc);
		f.has_body = true;
		rp_v1_checks(p, &out->checks, &f);
	}
	return true;
}
