/* GraphQL parser for executable documents (operations and fragments), and
 * the token handling, values, types and directives the SDL parser shares.
 * It follows gqlparser's grammar and messages, which OPA reports. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "policy/gql.h"

void gql_p_init(struct gql_parser *p, struct gql_arena *arena, const char *src, size_t len,
		struct gql_error *err)
{
	memset(p, 0, sizeof(*p));
	gql_lexer_init(&p->lx, arena, src, len);
	p->arena = arena;
	p->err = err;
	memset(err, 0, sizeof(*err));
	p->prev.kind = GQL_T_EOF;
	p->prev.value = "";
}

void gql_p_oom(struct gql_parser *p)
{
	if (!p->failed)
		p->err->msg[0] = '\0';
	p->failed = true;
	p->oom = true;
	p->prev.kind = GQL_T_EOF;
	p->prev.value = "";
}

void *gql_p_alloc(struct gql_parser *p, size_t len)
{
	void *out = gql_alloc(p->arena, len);

	if (!out)
		gql_p_oom(p);
	return out;
}

void gql_p_push(struct gql_parser *p, struct gql_list *list, void *item)
{
	if (!item) {
		/* Only a parse error leaves an item NULL; the document is dropped. */
		return;
	}
	if (gql_list_push(p->arena, list, item) < 0)
		gql_p_oom(p);
}

static void read_token(struct gql_parser *p, struct gql_token *tok)
{
	if (gql_lexer_next(&p->lx, tok) < 0) {
		gql_p_oom(p);
		*tok = p->prev;
	}
}

struct gql_token gql_p_peek(struct gql_parser *p)
{
	if (p->failed)
		return p->prev;
	if (!p->peeked) {
		read_token(p, &p->peek_tok);
		if (p->failed)
			return p->prev;
		p->peeked = true;
	}
	return p->peek_tok;
}

/* Consuming a malformed token reports the lexer's own message. */
static void take_lexer_error(struct gql_parser *p)
{
	struct gql_pos pos = { .line = p->prev.line, .col = p->prev.col };

	if (p->prev.kind == GQL_T_INVALID) {
		gql_error_set(p->err, &pos, "%s", p->prev.error ? p->prev.error : "");
		p->failed = true;
	}
}

struct gql_token gql_p_next(struct gql_parser *p)
{
	if (p->failed)
		return p->prev;
	if (p->peeked) {
		p->peeked = false;
		p->prev = p->peek_tok;
	} else {
		struct gql_token tok;

		read_token(p, &tok);
		if (p->failed)
			return p->prev;
		p->prev = tok;
	}
	take_lexer_error(p);
	return p->prev;
}

struct gql_pos gql_p_peek_pos(struct gql_parser *p)
{
	struct gql_pos pos = { 0 };
	struct gql_token tok;

	if (p->failed)
		return pos;
	tok = gql_p_peek(p);
	pos.line = tok.line;
	pos.col = tok.col;
	pos.prelude = p->prelude;
	return pos;
}

void gql_p_error(struct gql_parser *p, const struct gql_token *tok, const char *fmt, ...)
{
	struct gql_pos pos = { .line = tok->line, .col = tok->col };
	va_list ap;

	if (p->failed)
		return;
	p->failed = true;
	p->err->has_pos = true;
	p->err->line = pos.line;
	p->err->col = pos.col;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
}

bool gql_p_skip(struct gql_parser *p, enum gql_token_kind kind)
{
	if (p->failed)
		return false;
	if (gql_p_peek(p).kind != kind)
		return false;
	gql_p_next(p);
	return true;
}

struct gql_token gql_p_expect(struct gql_parser *p, enum gql_token_kind kind)
{
	struct gql_token tok = gql_p_peek(p);

	if (tok.kind == kind)
		return gql_p_next(p);
	gql_p_error(p, &tok, "Expected %s, found %s", gql_token_kind_name(kind),
		    gql_token_kind_name(tok.kind));
	return tok;
}

/* A token as gqlparser prints it: the kind, then the quoted value if any. */
static void token_text(const struct gql_token *tok, char *out, size_t cap)
{
	struct wd_buf buf;

	if (!tok->value || !tok->value[0]) {
		snprintf(out, cap, "%s", gql_token_kind_name(tok->kind));
		return;
	}
	wd_buf_init(&buf, 64, cap - 1);
	if (wd_buf_appendf(&buf, "%s ", gql_token_kind_name(tok->kind)) < 0 ||
	    gql_quote(&buf, tok->value) < 0)
		snprintf(out, cap, "%s", gql_token_kind_name(tok->kind));
	else
		snprintf(out, cap, "%s", wd_buf_str(&buf));
	wd_buf_free(&buf);
}

struct gql_token gql_p_expect_keyword(struct gql_parser *p, const char *value)
{
	struct gql_token tok = gql_p_peek(p);
	char text[400];

	if (tok.kind == GQL_T_NAME && strcmp(tok.value, value) == 0)
		return gql_p_next(p);
	token_text(&tok, text, sizeof(text));
	gql_p_error(p, &tok, "Expected \"%s\", found %s", value, text);
	return tok;
}

void gql_p_unexpected_token(struct gql_parser *p, const struct gql_token *tok)
{
	char text[400];

	token_text(tok, text, sizeof(text));
	gql_p_error(p, tok, "Unexpected %s", text);
}

void gql_p_unexpected(struct gql_parser *p)
{
	struct gql_token tok = gql_p_peek(p);

	gql_p_unexpected_token(p, &tok);
}

bool gql_p_enter(struct gql_parser *p)
{
	if (p->depth >= GQL_MAX_DEPTH) {
		struct gql_token tok = gql_p_peek(p);

		gql_p_error(p, &tok, "Document nesting exceeds %d levels", GQL_MAX_DEPTH);
		return false;
	}
	p->depth++;
	return true;
}

const char *gql_p_name(struct gql_parser *p)
{
	return gql_p_expect(p, GQL_T_NAME).value;
}

const char *gql_p_operation_type(struct gql_parser *p)
{
	struct gql_token tok = gql_p_next(p);

	if (strcmp(tok.value, "query") == 0)
		return "query";
	if (strcmp(tok.value, "mutation") == 0)
		return "mutation";
	if (strcmp(tok.value, "subscription") == 0)
		return "subscription";
	gql_p_unexpected_token(p, &tok);
	return "";
}

static const char *parse_variable(struct gql_parser *p)
{
	gql_p_expect(p, GQL_T_DOLLAR);
	return gql_p_name(p);
}

static struct gql_value *parse_compound(struct gql_parser *p, bool is_const, bool is_list)
{
	enum gql_token_kind open = is_list ? GQL_T_BRACKET_L : GQL_T_BRACE_L;
	enum gql_token_kind close = is_list ? GQL_T_BRACKET_R : GQL_T_BRACE_R;
	struct gql_value *value = gql_p_alloc(p, sizeof(*value));

	if (!value)
		return NULL;
	value->kind = is_list ? GQL_LIST : GQL_OBJECT;
	value->raw = "";
	value->pos = gql_p_peek_pos(p);
	if (!gql_p_enter(p))
		return NULL;

	if (gql_p_skip(p, open)) {
		while (gql_p_peek(p).kind != close && !p->failed) {
			struct gql_child *child = gql_p_alloc(p, sizeof(*child));

			if (!child)
				break;
			child->name = "";
			if (!is_list) {
				child->pos = gql_p_peek_pos(p);
				child->name = gql_p_name(p);
				gql_p_expect(p, GQL_T_COLON);
			}
			child->value = gql_p_value(p, is_const);
			gql_p_push(p, &value->children, child);
		}
		gql_p_next(p);
	}
	p->depth--;
	return value;
}

struct gql_value *gql_p_value(struct gql_parser *p, bool is_const)
{
	struct gql_token tok = gql_p_peek(p);
	struct gql_value *value;
	enum gql_value_kind kind;

	switch (tok.kind) {
	case GQL_T_BRACKET_L:
		return parse_compound(p, is_const, true);
	case GQL_T_BRACE_L:
		return parse_compound(p, is_const, false);
	case GQL_T_DOLLAR:
		if (is_const) {
			gql_p_unexpected(p);
			return NULL;
		}
		value = gql_p_alloc(p, sizeof(*value));
		if (!value)
			return NULL;
		value->kind = GQL_VARIABLE;
		value->pos = (struct gql_pos){ tok.line, tok.col, p->prelude };
		value->raw = parse_variable(p);
		return value;
	case GQL_T_INT: kind = GQL_INT; break;
	case GQL_T_FLOAT: kind = GQL_FLOAT; break;
	case GQL_T_STRING: kind = GQL_STRING; break;
	case GQL_T_BLOCK_STRING: kind = GQL_BLOCK; break;
	case GQL_T_NAME:
		if (strcmp(tok.value, "true") == 0 || strcmp(tok.value, "false") == 0)
			kind = GQL_BOOLEAN;
		else if (strcmp(tok.value, "null") == 0)
			kind = GQL_NULL;
		else
			kind = GQL_ENUM;
		break;
	default:
		gql_p_unexpected(p);
		return NULL;
	}

	gql_p_next(p);
	value = gql_p_alloc(p, sizeof(*value));
	if (!value)
		return NULL;
	value->kind = kind;
	value->raw = tok.value;
	value->pos = (struct gql_pos){ tok.line, tok.col, p->prelude };
	return value;
}

struct gql_type *gql_p_type(struct gql_parser *p)
{
	struct gql_type *type = gql_p_alloc(p, sizeof(*type));

	if (!type)
		return NULL;
	type->named = "";
	if (!gql_p_enter(p))
		return NULL;

	if (gql_p_skip(p, GQL_T_BRACKET_L)) {
		type->pos = gql_p_peek_pos(p);
		type->elem = gql_p_type(p);
		gql_p_expect(p, GQL_T_BRACKET_R);
	} else {
		type->pos = gql_p_peek_pos(p);
		type->named = gql_p_name(p);
	}
	/* gqlparser moves the position past the "!". */
	if (gql_p_skip(p, GQL_T_BANG)) {
		type->pos = gql_p_peek_pos(p);
		type->non_null = true;
	}
	p->depth--;
	return type;
}

static void parse_arguments(struct gql_parser *p, bool is_const, struct gql_list *out)
{
	if (!gql_p_skip(p, GQL_T_PAREN_L))
		return;
	while (gql_p_peek(p).kind != GQL_T_PAREN_R && !p->failed) {
		struct gql_argument *arg = gql_p_alloc(p, sizeof(*arg));

		if (!arg)
			break;
		arg->pos = gql_p_peek_pos(p);
		arg->name = gql_p_name(p);
		gql_p_expect(p, GQL_T_COLON);
		arg->value = gql_p_value(p, is_const);
		gql_p_push(p, out, arg);
	}
	gql_p_next(p);
}

void gql_p_directives(struct gql_parser *p, bool is_const, struct gql_list *out)
{
	while (gql_p_peek(p).kind == GQL_T_AT) {
		struct gql_directive *dir;

		if (p->failed)
			break;
		dir = gql_p_alloc(p, sizeof(*dir));
		if (!dir)
			break;
		gql_p_expect(p, GQL_T_AT);
		dir->pos = gql_p_peek_pos(p);
		dir->name = gql_p_name(p);
		dir->location = "";
		parse_arguments(p, is_const, &dir->args);
		gql_p_push(p, out, dir);
	}
}

static void parse_vardefs(struct gql_parser *p, struct gql_list *out)
{
	if (!gql_p_skip(p, GQL_T_PAREN_L))
		return;
	while (gql_p_peek(p).kind != GQL_T_PAREN_R && !p->failed) {
		struct gql_vardef *def = gql_p_alloc(p, sizeof(*def));

		if (!def)
			break;
		def->pos = gql_p_peek_pos(p);
		def->variable = parse_variable(p);
		gql_p_expect(p, GQL_T_COLON);
		def->type = gql_p_type(p);
		if (gql_p_skip(p, GQL_T_EQUALS))
			def->default_value = gql_p_value(p, true);
		gql_p_directives(p, false, &def->directives);
		gql_p_push(p, out, def);
	}
	gql_p_next(p);
}

static void parse_selection_set(struct gql_parser *p, struct gql_list *out);

static void parse_required_selection_set(struct gql_parser *p, struct gql_list *out)
{
	struct gql_token tok = gql_p_peek(p);

	if (tok.kind != GQL_T_BRACE_L) {
		gql_p_error(p, &tok, "Expected {, found %s", gql_token_kind_name(tok.kind));
		return;
	}
	parse_selection_set(p, out);
}

static struct gql_selection *parse_field(struct gql_parser *p)
{
	struct gql_selection *sel = gql_p_alloc(p, sizeof(*sel));

	if (!sel)
		return NULL;
	sel->kind = GQL_SEL_FIELD;
	sel->type_cond = "";
	sel->pos = gql_p_peek_pos(p);
	sel->alias = gql_p_name(p);
	sel->name = gql_p_skip(p, GQL_T_COLON) ? gql_p_name(p) : sel->alias;
	parse_arguments(p, false, &sel->args);
	gql_p_directives(p, false, &sel->directives);
	if (gql_p_peek(p).kind == GQL_T_BRACE_L)
		parse_selection_set(p, &sel->selset);
	return sel;
}

static const char *parse_fragment_name(struct gql_parser *p)
{
	if (strcmp(gql_p_peek(p).value, "on") == 0) {
		gql_p_unexpected(p);
		return "";
	}
	return gql_p_name(p);
}

static struct gql_selection *parse_fragment(struct gql_parser *p)
{
	struct gql_selection *sel = gql_p_alloc(p, sizeof(*sel));
	struct gql_token tok;

	if (!sel)
		return NULL;
	sel->alias = "";
	sel->name = "";
	sel->type_cond = "";
	gql_p_expect(p, GQL_T_SPREAD);

	tok = gql_p_peek(p);
	if (tok.kind == GQL_T_NAME && strcmp(tok.value, "on") != 0) {
		sel->kind = GQL_SEL_SPREAD;
		sel->pos = gql_p_peek_pos(p);
		sel->name = parse_fragment_name(p);
		gql_p_directives(p, false, &sel->directives);
		return sel;
	}

	/* gqlparser compares the value of any token kind with "on" here. */
	sel->kind = GQL_SEL_INLINE;
	sel->pos = gql_p_peek_pos(p);
	if (strcmp(gql_p_peek(p).value, "on") == 0) {
		gql_p_next(p);
		sel->type_cond = gql_p_name(p);
	}
	gql_p_directives(p, false, &sel->directives);
	parse_required_selection_set(p, &sel->selset);
	return sel;
}

/* "{" selection+ "}": an empty set is gqlparser's "expected at least one
 * definition" error. */
static void parse_selection_set(struct gql_parser *p, struct gql_list *out)
{
	bool called = false;
	struct gql_token tok;

	if (!gql_p_skip(p, GQL_T_BRACE_L))
		return;
	if (!gql_p_enter(p))
		return;
	while (gql_p_peek(p).kind != GQL_T_BRACE_R && !p->failed) {
		called = true;
		if (gql_p_peek(p).kind == GQL_T_SPREAD)
			gql_p_push(p, out, parse_fragment(p));
		else
			gql_p_push(p, out, parse_field(p));
	}
	p->depth--;
	if (!called) {
		tok = gql_p_peek(p);
		gql_p_error(p, &tok, "expected at least one definition, found %s",
			    gql_token_kind_name(tok.kind));
		return;
	}
	gql_p_next(p);
}

static struct gql_operation *parse_operation(struct gql_parser *p)
{
	struct gql_operation *op = gql_p_alloc(p, sizeof(*op));

	if (!op)
		return NULL;
	op->name = "";
	op->pos = gql_p_peek_pos(p);
	if (gql_p_peek(p).kind == GQL_T_BRACE_L) {
		op->operation = "query";
		parse_required_selection_set(p, &op->selset);
		return op;
	}

	op->operation = gql_p_operation_type(p);
	if (gql_p_peek(p).kind == GQL_T_NAME)
		op->name = gql_p_next(p).value;
	parse_vardefs(p, &op->vardefs);
	gql_p_directives(p, false, &op->directives);
	parse_required_selection_set(p, &op->selset);
	return op;
}

static struct gql_fragment *parse_fragment_definition(struct gql_parser *p)
{
	struct gql_fragment *frag = gql_p_alloc(p, sizeof(*frag));

	if (!frag)
		return NULL;
	frag->pos = gql_p_peek_pos(p);
	gql_p_expect_keyword(p, "fragment");
	frag->name = parse_fragment_name(p);
	parse_vardefs(p, &frag->vardefs);
	gql_p_expect_keyword(p, "on");
	frag->type_cond = gql_p_name(p);
	gql_p_directives(p, false, &frag->directives);
	parse_required_selection_set(p, &frag->selset);
	return frag;
}

struct gql_query_doc *gql_parse_query(struct gql_arena *arena, const char *src, size_t len,
				      struct gql_error *err)
{
	struct gql_parser p;
	struct gql_query_doc *doc;

	gql_p_init(&p, arena, src, len, err);
	doc = gql_p_alloc(&p, sizeof(*doc));
	if (!doc)
		return NULL;

	while (gql_p_peek(&p).kind != GQL_T_EOF && !p.failed) {
		struct gql_token tok = gql_p_peek(&p);

		if (tok.kind == GQL_T_BRACE_L) {
			gql_p_push(&p, &doc->operations, parse_operation(&p));
		} else if (tok.kind == GQL_T_NAME && (strcmp(tok.value, "query") == 0 ||
						       strcmp(tok.value, "mutation") == 0 ||
						       strcmp(tok.value, "subscription") == 0)) {
			gql_p_push(&p, &doc->operations, parse_operation(&p));
		} else if (tok.kind == GQL_T_NAME && strcmp(tok.value, "fragment") == 0) {
			gql_p_push(&p, &doc->fragments, parse_fragment_definition(&p));
		} else {
			gql_p_unexpected(&p);
		}
	}
	return p.failed ? NULL : doc;
}
