/* Entry points of the Rego parser: modules (statements, then the package,
 * imports and rules they form, with OPA's module-level errors), queries and
 * single terms. */
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "policy/builtin.h"
#include "policy/parser.h"
#include "policy/parser_metadata.h"

enum stmt_kind {
	ST_PACKAGE,
	ST_IMPORT,
	ST_RULES,
	ST_BODY,
};

struct stmt {
	enum stmt_kind kind;
	struct rego_loc loc;
	struct rego_term *package;
	struct rego_import *import;
	struct rule_out rules;
	struct rego_body *body;
};

struct stmt_vec {
	struct stmt *items;
	size_t len;
	size_t cap;
};

static struct stmt *stmt_push(struct parser *p, struct stmt_vec *v, enum stmt_kind kind)
{
	if (v->len == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		struct stmt *grown = rp_alloc(p, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		if (v->len)
			memcpy(grown, v->items, v->len * sizeof(*grown));
		v->items = grown;
		v->cap = cap;
	}
	memset(&v->items[v->len], 0, sizeof(v->items[0]));
	v->items[v->len].kind = kind;
	return &v->items[v->len++];
}

/* Reads statements until the end or the first failed one, trying each
 * kind in OPA's order: package, import, rules, then a query. */
static void parse_statements(struct parser *p, struct stmt_vec *out, bool skip_rules)
{
	while (rp_tok(p) != TK_EOF && !p->oom) {
		struct pstate s = rp_save(p);
		struct rego_loc loc;
		struct rego_term *pkg;
		struct rego_import *imp;
		struct rule_out rules;
		struct rego_body *body;
		struct stmt *st;

		pkg = rp_parse_package(p, &loc);
		if (pkg) {
			st = stmt_push(p, out, ST_PACKAGE);
			if (!st)
				return;
			st->package = pkg;
			st->loc = loc;
			continue;
		}
		if (p->s.nerrs > 0)
			return;
		rp_restore(p, s);

		imp = rp_parse_import(p);
		if (imp) {
			st = stmt_push(p, out, ST_IMPORT);
			if (!st)
				return;
			st->import = imp;
			st->loc = imp->loc;
			continue;
		}
		if (p->s.nerrs > 0)
			return;
		rp_restore(p, s);

		if (!skip_rules) {
			if (rp_parse_rules(p, &rules)) {
				st = stmt_push(p, out, ST_RULES);
				if (!st)
					return;
				st->rules = rules;
				st->loc = rules.rules[0]->loc;
				continue;
			}
			if (p->s.nerrs > 0)
				return;
			rp_restore(p, s);
		}

		body = rp_parse_query(p, true, TK_EOF);
		if (!body)
			return;
		st = stmt_push(p, out, ST_BODY);
		if (!st)
			return;
		st->body = body;
		st->loc = body->exprs[0]->loc;
	}
}

static bool is_infix_name(const char *name)
{
	static const char *const infix[] = {
		"equal", "neq", "lt", "lte", "gt", "gte", "plus", "minus", "mul", "div",
		"rem", "and", "or", "eq", "assign",
	};

	for (size_t i = 0; i < WD_ARRAY_LEN(infix); i++) {
		if (strcmp(infix[i], name) == 0)
			return true;
	}
	return false;
}

/* An expression written where a rule belongs (`p := 1`, `f(x) = y`,
 * `a.b.c`) becomes the rule OPA makes of it; NULL with the reason. */
static struct rego_rule *rule_from_expr(struct parser *p, const struct rego_expr *e,
					struct rule_flags *f, const char **ret_err)
{
	struct rego_rule *r = rp_alloc(p, sizeof(*r));
	struct rego_term *t = e->u.term;
	struct rego_term *lhs;
	struct rego_term *ref;
	struct rego_term **items;
	bool multi_value = false;

	*ret_err = NULL;
	if (!r)
		return NULL;
	memset(f, 0, sizeof(*f));
	f->has_body = true;
	f->generated_body = true;
	r->slots = -1;
	r->loc = e->loc;
	r->body = rp_alloc(p, sizeof(*r->body));
	if (!r->body)
		return NULL;
	r->body->loc = e->loc;

	if (e->with_len > 0) {
		*ret_err = "expressions using with keyword cannot be used for rule head";
		return NULL;
	}
	if (e->negated) {
		*ret_err = "negated expressions cannot be used for rule head";
		return NULL;
	}
	if (e->kind == RE_SOME_DECL || e->kind == RE_SOME_IN) {
		*ret_err = "'some' declarations cannot be used for rule head";
		return NULL;
	}
	if (e->kind != RE_TERM) {
		*ret_err = "expression cannot be used for rule head";
		return NULL;
	}

	if (t->kind != RT_CALL) {
		if (t->kind != RT_REF) {
			*ret_err = rp_strndup(p, "", 0);
			if (*ret_err) {
				char buf[96];

				snprintf(buf, sizeof(buf), "%s cannot be used for rule name",
					 rp_value_name(t));
				*ret_err = rp_strndup(p, buf, strlen(buf));
			}
			return NULL;
		}
		if (t->u.ref.items[0]->kind != RT_VAR) {
			char buf[256];

			snprintf(buf, sizeof(buf), "invalid rule head: %s", rp_term_str(p, t));
			*ret_err = rp_strndup(p, buf, strlen(buf));
			return NULL;
		}
		r->loc = t->loc;
		if (t->u.ref.len > 2) {
			/* a.b.c: a complete rule without a value. */
			r->head_ref = t;
			r->value = rp_new_bool(p, true, t->loc);
			f->generated_value = true;
		} else if (t->u.ref.len == 2) {
			/* p[x] or p.q: the old partial set form. */
			r->head_ref = rp_new_ref(p, t->u.ref.items, 1, t->u.ref.items[0]->loc);
			r->key = t->u.ref.items[1];
			multi_value = true;
		} else {
			*ret_err = "refs cannot be used for rule head";
			return NULL;
		}
		goto done;
	}

	if ((rp_term_is_op(t, "eq") || rp_term_is_op(t, "assign")) && t->u.call.len == 2) {
		lhs = t->u.call.args[0];
		r->assign = rp_term_is_op(t, "assign");
		r->value = t->u.call.args[1];
		if (lhs->kind == RT_CALL && lhs->u.call.op->u.ref.items[0]->kind == RT_VAR) {
			r->head_ref = lhs->u.call.op;
			r->args = lhs->u.call.args;
			r->args_len = lhs->u.call.len;
		} else if (lhs->kind == RT_REF && lhs->u.ref.items[0]->kind == RT_VAR) {
			r->head_ref = lhs;
		} else if (lhs->kind == RT_VAR) {
			items = rp_alloc(p, sizeof(*items));
			if (!items)
				return NULL;
			items[0] = lhs;
			r->head_ref = rp_new_ref(p, items, 1, lhs->loc);
		} else {
			char buf[256];

			if (lhs->kind == RT_REF)
				snprintf(buf, sizeof(buf), "invalid rule head: %s", rp_term_str(p, lhs));
			else
				snprintf(buf, sizeof(buf), "%s cannot be used for rule name",
					 rp_value_name(lhs));
			*ret_err = rp_strndup(p, buf, strlen(buf));
			return NULL;
		}
		goto done;
	}

	ref = t->u.call.op;
	if (is_infix_name(rp_term_str(p, ref)) || rego_builtin_find(rp_term_str(p, ref))) {
		*ret_err = "rule name conflicts with built-in function";
		return NULL;
	}
	if (t->u.call.len == 0) {
		*ret_err = "rule argument list must take at least one argument";
		return NULL;
	}
	if (ref->u.ref.items[0]->kind != RT_VAR) {
		char buf[256];

		snprintf(buf, sizeof(buf), "invalid rule head: %s", rp_term_str(p, ref));
		*ret_err = rp_strndup(p, buf, strlen(buf));
		return NULL;
	}
	r->loc = t->u.call.op->loc;
	r->head_ref = ref;
	r->args = t->u.call.args;
	r->args_len = t->u.call.len;
	r->value = rp_new_bool(p, true, ref->loc);

done:
	if (!r->head_ref || (!multi_value && !r->value))
		return NULL;
	r->kind = rp_rule_kind(r, multi_value);
	if (r->kind == RR_PARTIAL_OBJ)
		r->key = r->head_ref->u.ref.items[r->head_ref->u.ref.len - 1];
	f->loc = r->loc;
	f->function = r->args_len > 0;
	f->multi_value = multi_value;
	if (r->head_ref->u.ref.len < 2)
		f->name = r->head_ref->u.ref.items[0]->u.var.name;
	return r;
}

static int module_push_rule(struct parser *p, struct rego_module *m, size_t *cap,
			    struct rego_rule *r)
{
	if (m->rules_len == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct rego_rule **grown = rp_alloc(p, ncap * sizeof(*grown));

		if (!grown)
			return -1;
		if (m->rules_len)
			memcpy(grown, m->rules, m->rules_len * sizeof(*grown));
		m->rules = grown;
		*cap = ncap;
	}
	r->module = m;
	m->rules[m->rules_len++] = r;
	return 0;
}

static int module_push_import(struct parser *p, struct rego_module *m, size_t *cap,
			      struct rego_import *imp)
{
	if (m->imports_len == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct rego_import **grown = rp_alloc(p, ncap * sizeof(*grown));

		if (!grown)
			return -1;
		if (m->imports_len)
			memcpy(grown, m->imports, m->imports_len * sizeof(*grown));
		m->imports = grown;
		*cap = ncap;
	}
	m->imports[m->imports_len++] = imp;
	return 0;
}

/* Forms the module from its statements; errors go to the parser. */
static struct rego_module *build_module(struct parser *p, struct stmt_vec *stmts,
					const struct meta_blocks *blocks)
{
	struct rego_module *m = rp_alloc(p, sizeof(*m));
	struct check_list checks = { 0 };
	size_t rules_cap = 0;
	size_t imports_cap = 0;

	if (!m)
		return NULL;
	m->rego_v1 = true;
	if (stmts->len == 0) {
		struct rego_loc loc = { .file = p->file };

		rp_error(p, loc, "empty module");
		return NULL;
	}
	if (stmts->items[0].kind != ST_PACKAGE)
		rp_error(p, stmts->items[0].loc, "package expected");
	else
		m->package = stmts->items[0].package;

	for (size_t i = 1; i < stmts->len; i++) {
		struct stmt *st = &stmts->items[i];
		struct rule_flags f;
		struct rego_rule *r;
		const char *err;

		switch (st->kind) {
		case ST_IMPORT:
			if (module_push_import(p, m, &imports_cap, st->import) < 0)
				return NULL;
			break;
		case ST_RULES:
			for (size_t k = 0; k < st->rules.len; k++) {
				if (module_push_rule(p, m, &rules_cap, st->rules.rules[k]) < 0)
					return NULL;
			}
			break;
		case ST_BODY:
			if (st->body->len != 1) {
				rp_error(p, st->loc, "multiple expressions cannot be used for rule head");
				break;
			}
			r = rule_from_expr(p, st->body->exprs[0], &f, &err);
			if (!r) {
				if (err)
					rp_error(p, st->loc, "%s", err);
				break;
			}
			if (module_push_rule(p, m, &rules_cap, r) < 0)
				return NULL;
			rp_v1_checks(p, &st->rules.checks, &f);
			break;
		case ST_PACKAGE:
			rp_error(p, st->loc, "unexpected package");
			break;
		}
	}

	/* The Rego v1 checks come after every other module error. */
	for (size_t i = 1; i < stmts->len; i++) {
		for (struct pcheck *c = stmts->items[i].rules.checks.head; c; c = c->next)
			rp_error(p, c->loc, "%s", c->msg);
	}
	(void)checks;
	if (p->s.nerrs > 0 || p->oom)
		return NULL;
	rp_metadata_attach(p, m, blocks);
	if (p->s.nerrs > 0 || p->oom)
		return NULL;
	return m;
}

/* Copies the recorded errors out, oldest first. */
static void export_errors(const struct parser *p, struct rego_error *errs, size_t cap,
			  size_t *ret_len)
{
	size_t n = p->s.nerrs;
	size_t skip;
	const struct perr *e = p->s.errs;

	if (!ret_len)
		return;
	*ret_len = 0;
	if (!errs || cap == 0)
		return;
	if (p->oom) {
		memset(&errs[0], 0, sizeof(errs[0]));
		errs[0].code = "rego_parse_error";
		snprintf(errs[0].message, sizeof(errs[0].message), "out of memory");
		snprintf(errs[0].file, sizeof(errs[0].file), "%s", p->file);
		*ret_len = 1;
		return;
	}
	skip = n > cap ? n - cap : 0;
	for (size_t i = n; i > 0; i--, e = e->prev) {
		size_t at = i - 1;

		if (at >= cap)
			continue;
		(void)skip;
		memset(&errs[at], 0, sizeof(errs[at]));
		errs[at].code = "rego_parse_error";
		snprintf(errs[at].message, sizeof(errs[at].message), "%s", e->msg);
		snprintf(errs[at].file, sizeof(errs[at].file), "%s", e->loc.file ? e->loc.file : "");
		errs[at].row = e->loc.row;
		errs[at].col = e->loc.col;
	}
	*ret_len = n < cap ? n : cap;
}

static void simple_error(const char *file, const char *msg, struct rego_error *errs,
			 size_t cap, size_t *ret_len)
{
	if (ret_len)
		*ret_len = 0;
	if (!errs || cap == 0 || !ret_len)
		return;
	memset(&errs[0], 0, sizeof(errs[0]));
	errs[0].code = "rego_parse_error";
	snprintf(errs[0].message, sizeof(errs[0].message), "%s", msg);
	snprintf(errs[0].file, sizeof(errs[0].file), "%s", file ? file : "");
	*ret_len = 1;
}

/* The recursion limit may have cut a parse short after backtracking lost
 * its error; make sure it is reported. */
static void ensure_depth_error(struct parser *p)
{
	if (p->depth_hit && p->s.nerrs == 0) {
		p->depth_hit = false;
		rp_error(p, rp_cur_loc(p), "max parsing recursion depth exceeded");
	}
}

static struct rego_module *parse_module(const char *file, const char *source, size_t len,
					size_t max_bytes, bool metadata, struct rego_error *errs,
					size_t errs_cap, size_t *ret_errs_len)
{
	struct rego_arena *arena = NULL;
	struct rego_tokens toks = { 0 };
	struct parser p;
	struct stmt_vec stmts = { 0 };
	struct meta_blocks blocks = { 0 };
	struct rego_module *m = NULL;
	char *file_copy;
	char *src_copy;

	if (ret_errs_len)
		*ret_errs_len = 0;
	if (max_bytes == 0)
		max_bytes = REGO_MAX_MODULE_BYTES;
	if (len > max_bytes) {
		char msg[128];

		snprintf(msg, sizeof(msg), "module too large: %zu bytes, the limit is %zu", len,
			 max_bytes);
		simple_error(file, msg, errs, errs_cap, ret_errs_len);
		return NULL;
	}
	if (!source && len > 0)
		return NULL;

	arena = rego_arena_new();
	file_copy = arena ? rego_arena_strndup(arena, file ? file : "", file ? strlen(file) : 0)
			  : NULL;
	src_copy = file_copy ? rego_arena_strndup(arena, source ? source : "", len) : NULL;
	if (!src_copy || rego_lex(src_copy, len, &toks) < 0) {
		simple_error(file, "out of memory", errs, errs_cap, ret_errs_len);
		rego_arena_free(arena);
		return NULL;
	}
	rp_init(&p, arena, file_copy, src_copy, len, &toks);

	parse_statements(&p, &stmts, false);
	ensure_depth_error(&p);
	/* OPA reads METADATA blocks after the statements, so their errors
	 * follow the syntax errors. */
	if (metadata && !p.oom)
		rp_metadata_parse(&p, &blocks);
	if (p.s.nerrs == 0 && !p.oom)
		m = build_module(&p, &stmts, &blocks);
	if (m) {
		m->arena = arena;
		m->file = file_copy;
		m->source = src_copy;
		m->source_len = len;
	} else {
		export_errors(&p, errs, errs_cap, ret_errs_len);
		rego_arena_free(arena);
	}
	rp_fini(&p);
	rego_tokens_free(&toks);
	return m;
}

struct rego_module *rego_parse_module_max(const char *file, const char *source, size_t len,
					  size_t max_bytes, struct rego_error *errs,
					  size_t errs_cap, size_t *ret_errs_len)
{
	return parse_module(file, source, len, max_bytes, true, errs, errs_cap, ret_errs_len);
}

struct rego_module *rego_parse_module(const char *file, const char *source, size_t len,
				      struct rego_error *errs, size_t errs_cap,
				      size_t *ret_errs_len)
{
	return parse_module(file, source, len, 0, true, errs, errs_cap, ret_errs_len);
}

struct rego_module *rego_parse_module_without_metadata(const char *file, const char *source,
						       size_t len, struct rego_error *errs,
						       size_t errs_cap, size_t *ret_errs_len)
{
	return parse_module(file, source, len, 0, false, errs, errs_cap, ret_errs_len);
}

void rego_module_free(struct rego_module *module)
{
	if (module)
		rego_arena_free(module->arena);
}

/* Parses a query into the caller's arena: every statement must be a body;
 * they are joined in order. */
static struct rego_body *parse_query_into(struct parser *p)
{
	struct stmt_vec stmts = { 0 };
	struct rego_expr **all = NULL;
	size_t n = 0;

	parse_statements(p, &stmts, true);
	ensure_depth_error(p);
	if (p->s.nerrs > 0 || p->oom)
		return NULL;
	for (size_t i = 0; i < stmts.len; i++) {
		if (stmts.items[i].kind != ST_BODY) {
			rp_error(p, stmts.items[i].loc, "expected body but got %s",
				 stmts.items[i].kind == ST_PACKAGE ? "*ast.Package" : "*ast.Import");
			return NULL;
		}
		n += stmts.items[i].body->len;
	}
	all = rp_alloc(p, (n ? n : 1) * sizeof(*all));
	if (!all)
		return NULL;
	n = 0;
	for (size_t i = 0; i < stmts.len; i++) {
		memcpy(all + n, stmts.items[i].body->exprs,
		       stmts.items[i].body->len * sizeof(*all));
		n += stmts.items[i].body->len;
	}
	if (n == 0) {
		struct rego_body *b = rp_alloc(p, sizeof(*b));

		return b;
	}
	return rp_body_of(p, all, n);
}

struct rego_body *rego_parse_query(struct rego_arena *arena, const char *source, size_t len,
				   struct rego_error *errs, size_t errs_cap, size_t *ret_errs_len)
{
	struct rego_tokens toks = { 0 };
	struct parser p;
	struct rego_body *body;
	char *src_copy;

	if (ret_errs_len)
		*ret_errs_len = 0;
	if (len > REGO_MAX_MODULE_BYTES) {
		simple_error("", "query too large", errs, errs_cap, ret_errs_len);
		return NULL;
	}
	src_copy = rego_arena_strndup(arena, source ? source : "", source ? len : 0);
	if (!src_copy || rego_lex(src_copy, len, &toks) < 0) {
		simple_error("", "out of memory", errs, errs_cap, ret_errs_len);
		return NULL;
	}
	rp_init(&p, arena, "", src_copy, len, &toks);
	body = parse_query_into(&p);
	if (!body)
		export_errors(&p, errs, errs_cap, ret_errs_len);
	rp_fini(&p);
	rego_tokens_free(&toks);
	return body;
}

struct rego_term *rego_parse_term(struct rego_arena *arena, const char *source, size_t len,
				  struct rego_error *errs, size_t errs_cap, size_t *ret_errs_len)
{
	struct rego_tokens toks = { 0 };
	struct parser p;
	struct rego_body *body;
	struct rego_term *term = NULL;
	char *src_copy;

	if (ret_errs_len)
		*ret_errs_len = 0;
	if (len > REGO_MAX_MODULE_BYTES) {
		simple_error("", "term too large", errs, errs_cap, ret_errs_len);
		return NULL;
	}
	src_copy = rego_arena_strndup(arena, source ? source : "", source ? len : 0);
	if (!src_copy || rego_lex(src_copy, len, &toks) < 0) {
		simple_error("", "out of memory", errs, errs_cap, ret_errs_len);
		return NULL;
	}
	rp_init(&p, arena, "", src_copy, len, &toks);
	body = parse_query_into(&p);
	if (body) {
		const struct rego_expr *e = body->len == 1 ? body->exprs[0] : NULL;

		if (!e) {
			rp_error(&p, body->len ? body->exprs[1]->loc : rp_cur_loc(&p),
				 "expected exactly one term");
		} else if (e->kind != RE_TERM || e->negated || e->with_len ||
			   e->u.term->kind == RT_CALL) {
			rp_error(&p, e->loc, "expected term");
		} else {
			term = e->u.term;
		}
	}
	if (!term)
		export_errors(&p, errs, errs_cap, ret_errs_len);
	rp_fini(&p);
	rego_tokens_free(&toks);
	return term;
}
