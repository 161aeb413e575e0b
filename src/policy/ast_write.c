/* Rego source text of terms and expressions, spelled as OPA's String()
 * methods spell them (for messages, `opa eval` output and printing). */
#include <string.h>

#include "common/error.h"
#include "policy/ast.h"
#include "policy/lexer.h"

static int write_body(const struct rego_body *b, struct wd_buf *out);

static bool is_var_name(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';

		if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
			return false;
	}
	return rego_tok_keyword(s, len) == TK_IDENT;
}

static int write_list(struct rego_term *const *items, size_t len, struct wd_buf *out)
{
	for (size_t i = 0; i < len; i++) {
		if (i > 0)
			WD_TRY(wd_buf_append_str(out, ", "));
		WD_TRY(rego_term_write(items[i], out));
	}
	return 0;
}

static int write_ref(const struct rego_term *t, struct wd_buf *out)
{
	WD_TRY(rego_term_write(t->u.ref.items[0], out));
	for (size_t i = 1; i < t->u.ref.len; i++) {
		const struct rego_term *part = t->u.ref.items[i];

		if (part->kind == RT_VALUE && rv_is(part->u.value, RV_STRING) &&
		    is_var_name(rv_str(part->u.value), rv_str_len(part->u.value))) {
			WD_TRY(wd_buf_append_byte(out, '.'));
			WD_TRY(wd_buf_append(out, rv_str(part->u.value), rv_str_len(part->u.value)));
			continue;
		}
		WD_TRY(wd_buf_append_byte(out, '['));
		WD_TRY(rego_term_write(part, out));
		WD_TRY(wd_buf_append_byte(out, ']'));
	}
	return 0;
}

/* Template text: quotes, backslashes, braces and control characters are
 * escaped so that the output parses back to the same template. */
static int write_template_text(const struct rv *s, struct wd_buf *out)
{
	const char *d = rv_str(s);

	for (size_t i = 0; i < rv_str_len(s); i++) {
		unsigned char c = (unsigned char)d[i];

		switch (c) {
		case '"': WD_TRY(wd_buf_append_str(out, "\\\"")); break;
		case '\\': WD_TRY(wd_buf_append_str(out, "\\\\")); break;
		case '{': WD_TRY(wd_buf_append_str(out, "\\{")); break;
		case '\n': WD_TRY(wd_buf_append_str(out, "\\n")); break;
		case '\t': WD_TRY(wd_buf_append_str(out, "\\t")); break;
		case '\r': WD_TRY(wd_buf_append_str(out, "\\r")); break;
		default:
			if (c < 0x20)
				WD_TRY(wd_buf_appendf(out, "\\u%04x", c));
			else
				WD_TRY(wd_buf_append_byte(out, c));
			break;
		}
	}
	return 0;
}

static int write_template(const struct rego_term *t, struct wd_buf *out)
{
	WD_TRY(wd_buf_append_str(out, "$\""));
	for (size_t i = 0; i < t->u.tmpl.len; i++) {
		const struct rego_term *part = t->u.tmpl.parts[i];
		const struct rego_expr *e = t->u.tmpl.exprs ? t->u.tmpl.exprs[i] : NULL;

		if (e) {
			WD_TRY(wd_buf_append_byte(out, '{'));
			WD_TRY(rego_expr_write(e, out));
			WD_TRY(wd_buf_append_byte(out, '}'));
		} else if (part->kind == RT_VALUE && rv_is(part->u.value, RV_STRING)) {
			WD_TRY(write_template_text(part->u.value, out));
		} else {
			WD_TRY(wd_buf_append_byte(out, '{'));
			WD_TRY(rego_term_write(part, out));
			WD_TRY(wd_buf_append_byte(out, '}'));
		}
	}
	return wd_buf_append_byte(out, '"');
}

int rego_term_write(const struct rego_term *t, struct wd_buf *out)
{
	switch (t->kind) {
	case RT_VALUE:
		return rv_write_rego(t->u.value, out);
	case RT_VAR:
		if (t->u.var.wildcard)
			return wd_buf_append_byte(out, '_');
		return wd_buf_append_str(out, t->u.var.name);
	case RT_REF:
		return write_ref(t, out);
	case RT_ARRAY:
		WD_TRY(wd_buf_append_byte(out, '['));
		WD_TRY(write_list(t->u.coll.items, t->u.coll.len, out));
		return wd_buf_append_byte(out, ']');
	case RT_SET:
		if (t->u.coll.len == 0)
			return wd_buf_append_str(out, "set()");
		WD_TRY(wd_buf_append_byte(out, '{'));
		WD_TRY(write_list(t->u.coll.items, t->u.coll.len, out));
		return wd_buf_append_byte(out, '}');
	case RT_OBJECT:
		WD_TRY(wd_buf_append_byte(out, '{'));
		for (size_t i = 0; i < t->u.obj.len; i++) {
			if (i > 0)
				WD_TRY(wd_buf_append_str(out, ", "));
			WD_TRY(rego_term_write(t->u.obj.keys[i], out));
			WD_TRY(wd_buf_append_str(out, ": "));
			WD_TRY(rego_term_write(t->u.obj.values[i], out));
		}
		return wd_buf_append_byte(out, '}');
	case RT_ARRAY_COMPR:
		WD_TRY(wd_buf_append_byte(out, '['));
		WD_TRY(rego_term_write(t->u.compr.head, out));
		WD_TRY(wd_buf_append_str(out, " | "));
		WD_TRY(write_body(t->u.compr.body, out));
		return wd_buf_append_byte(out, ']');
	case RT_SET_COMPR:
	case RT_OBJECT_COMPR:
		WD_TRY(wd_buf_append_byte(out, '{'));
		if (t->kind == RT_OBJECT_COMPR) {
			WD_TRY(rego_term_write(t->u.compr.key, out));
			WD_TRY(wd_buf_append_str(out, ": "));
		}
		WD_TRY(rego_term_write(t->u.compr.head, out));
		WD_TRY(wd_buf_append_str(out, " | "));
		WD_TRY(write_body(t->u.compr.body, out));
		return wd_buf_append_byte(out, '}');
	case RT_CALL:
		WD_TRY(rego_term_write(t->u.call.op, out));
		WD_TRY(wd_buf_append_byte(out, '('));
		WD_TRY(write_list(t->u.call.args, t->u.call.len, out));
		return wd_buf_append_byte(out, ')');
	case RT_TEMPLATE:
		return write_template(t, out);
	}
	return WD_EINVAL;
}

/* The infix spelling of an operator ref, or NULL. */
static const char *infix_of(const struct rego_term *op)
{
	static const struct {
		const char *name;
		const char *infix;
	} ops[] = {
		{ "eq", "=" }, { "assign", ":=" }, { "equal", "==" }, { "neq", "!=" },
		{ "lt", "<" }, { "lte", "<=" }, { "gt", ">" }, { "gte", ">=" },
		{ "plus", "+" }, { "minus", "-" }, { "mul", "*" }, { "div", "/" },
		{ "rem", "%" }, { "and", "&" }, { "or", "|" },
	};
	const char *name;

	if (op->kind != RT_REF || op->u.ref.items[0]->kind != RT_VAR)
		return NULL;
	name = op->u.ref.items[0]->u.var.name;
	if (op->u.ref.len == 2 && strcmp(name, "internal") == 0)
		return "in";
	if (op->u.ref.len != 1)
		return NULL;
	for (size_t i = 0; i < WD_ARRAY_LEN(ops); i++) {
		if (strcmp(ops[i].name, name) == 0)
			return ops[i].infix;
	}
	return NULL;
}

static int write_some_in(const struct rego_term *key, const struct rego_term *value,
			 const struct rego_term *domain, struct wd_buf *out)
{
	if (key) {
		WD_TRY(rego_term_write(key, out));
		WD_TRY(wd_buf_append_str(out, ", "));
	}
	WD_TRY(rego_term_write(value, out));
	WD_TRY(wd_buf_append_str(out, " in "));
	return rego_term_write(domain, out);
}

int rego_expr_write(const struct rego_expr *e, struct wd_buf *out)
{
	const struct rego_term *t;
	const char *infix;

	if (e->negated)
		WD_TRY(wd_buf_append_str(out, "not "));
	switch (e->kind) {
	case RE_TERM:
		t = e->u.term;
		infix = t->kind == RT_CALL ? infix_of(t->u.call.op) : NULL;
		if (infix && t->u.call.len == 2) {
			WD_TRY(rego_term_write(t->u.call.args[0], out));
			WD_TRY(wd_buf_appendf(out, " %s ", infix));
			WD_TRY(rego_term_write(t->u.call.args[1], out));
		} else if (infix && strcmp(infix, "in") == 0 && t->u.call.len == 3) {
			WD_TRY(write_some_in(t->u.call.args[0], t->u.call.args[1],
					     t->u.call.args[2], out));
		} else {
			WD_TRY(rego_term_write(t, out));
		}
		break;
	case RE_SOME_DECL:
		WD_TRY(wd_buf_append_str(out, "some "));
		WD_TRY(write_list(e->u.decl.vars, e->u.decl.len, out));
		break;
	case RE_SOME_IN:
		WD_TRY(wd_buf_append_str(out, "some "));
		WD_TRY(write_some_in(e->u.some_in.key, e->u.some_in.value, e->u.some_in.domain, out));
		break;
	case RE_EVERY:
		WD_TRY(wd_buf_append_str(out, "every "));
		WD_TRY(write_some_in(e->u.every.key, e->u.every.value, e->u.every.domain, out));
		WD_TRY(wd_buf_append_str(out, " { "));
		WD_TRY(write_body(e->u.every.body, out));
		WD_TRY(wd_buf_append_str(out, " }"));
		break;
	}
	for (size_t i = 0; i < e->with_len; i++) {
		WD_TRY(wd_buf_append_str(out, " with "));
		WD_TRY(rego_term_write(e->with[i]->target, out));
		WD_TRY(wd_buf_append_str(out, " as "));
		WD_TRY(rego_term_write(e->with[i]->value, out));
	}
	return 0;
}

static int write_body(const struct rego_body *b, struct wd_buf *out)
{
	if (!b || b->len == 0)
		return wd_buf_append_str(out, "true");
	for (size_t i = 0; i < b->len; i++) {
		if (i > 0)
			WD_TRY(wd_buf_append_str(out, "; "));
		WD_TRY(rego_expr_write(b->exprs[i], out));
	}
	return 0;
}
