/* GraphQL parser for the schema definition language: type, directive and
 * schema definitions and their extensions, with gqlparser's messages. */
#include <string.h>

#include "policy/gql.h"

static const char *parse_description(struct gql_parser *p)
{
	struct gql_token tok = gql_p_peek(p);

	if (tok.kind != GQL_T_BLOCK_STRING && tok.kind != GQL_T_STRING)
		return "";
	return gql_p_next(p).value;
}

/* "{" item+ "}" where an empty body is an error. Returns false when there is
 * no opening token, so the caller parses nothing. */
static bool some_begin(struct gql_parser *p, enum gql_token_kind open)
{
	return gql_p_skip(p, open);
}

static void some_end(struct gql_parser *p, bool called)
{
	struct gql_token tok;

	if (!called) {
		tok = gql_p_peek(p);
		gql_p_error(p, &tok, "expected at least one definition, found %s",
			    gql_token_kind_name(tok.kind));
		return;
	}
	gql_p_next(p);
}

static struct gql_fielddef *parse_input_value(struct gql_parser *p, bool with_args);

static void parse_argument_defs(struct gql_parser *p, struct gql_list *out)
{
	bool called = false;

	if (!some_begin(p, GQL_T_PAREN_L))
		return;
	while (gql_p_peek(p).kind != GQL_T_PAREN_R && !p->failed) {
		called = true;
		gql_p_push(p, out, parse_input_value(p, false));
	}
	some_end(p, called);
}

/* A field definition (with_args), an argument or an input field. */
static struct gql_fielddef *parse_input_value(struct gql_parser *p, bool with_args)
{
	struct gql_fielddef *def = gql_p_alloc(p, sizeof(*def));

	if (!def)
		return NULL;
	def->pos = gql_p_peek_pos(p);
	def->description = parse_description(p);
	def->name = gql_p_name(p);
	if (with_args)
		parse_argument_defs(p, &def->args);
	gql_p_expect(p, GQL_T_COLON);
	def->type = gql_p_type(p);
	if (!with_args && gql_p_skip(p, GQL_T_EQUALS))
		def->default_value = gql_p_value(p, true);
	gql_p_directives(p, true, &def->directives);
	return def;
}

static void parse_fields(struct gql_parser *p, bool input, struct gql_list *out)
{
	bool called = false;

	if (!some_begin(p, GQL_T_BRACE_L))
		return;
	while (gql_p_peek(p).kind != GQL_T_BRACE_R && !p->failed) {
		called = true;
		gql_p_push(p, out, parse_input_value(p, !input));
	}
	some_end(p, called);
}

static void parse_name_list(struct gql_parser *p, enum gql_token_kind sep, struct gql_list *out)
{
	/* An optional leading separator. */
	gql_p_skip(p, sep);
	gql_p_push(p, out, (void *)gql_p_name(p));
	while (gql_p_skip(p, sep) && !p->failed)
		gql_p_push(p, out, (void *)gql_p_name(p));
}

static void parse_implements(struct gql_parser *p, struct gql_list *out)
{
	if (strcmp(gql_p_peek(p).value, "implements") != 0)
		return;
	gql_p_next(p);
	parse_name_list(p, GQL_T_AMP, out);
}

static void parse_union_members(struct gql_parser *p, struct gql_list *out)
{
	if (gql_p_skip(p, GQL_T_EQUALS))
		parse_name_list(p, GQL_T_PIPE, out);
}

static void parse_enum_values(struct gql_parser *p, struct gql_list *out)
{
	bool called = false;

	if (!some_begin(p, GQL_T_BRACE_L))
		return;
	while (gql_p_peek(p).kind != GQL_T_BRACE_R && !p->failed) {
		struct gql_enumvalue *value = gql_p_alloc(p, sizeof(*value));

		called = true;
		if (!value)
			break;
		value->pos = gql_p_peek_pos(p);
		value->description = parse_description(p);
		value->name = gql_p_name(p);
		gql_p_directives(p, true, &value->directives);
		gql_p_push(p, out, value);
	}
	some_end(p, called);
}

static const char *const type_keywords[][2] = {
	{ "scalar", "SCALAR" }, { "type", "OBJECT" }, { "interface", "INTERFACE" },
	{ "union", "UNION" }, { "enum", "ENUM" }, { "input", "INPUT_OBJECT" },
};

static const char *kind_of_keyword(const char *keyword)
{
	for (size_t i = 0; i < WD_ARRAY_LEN(type_keywords); i++)
		if (strcmp(type_keywords[i][0], keyword) == 0)
			return type_keywords[i][1];
	return NULL;
}

/* A type definition (extension false) or extension; the keyword decides the
 * kind, and each kind reads its own clauses in gqlparser's order. */
static struct gql_def *parse_type(struct gql_parser *p, const char *description, bool extension)
{
	struct gql_token tok = gql_p_peek(p);
	const char *kind = kind_of_keyword(tok.value);
	struct gql_def *def;
	bool empty;

	if (!kind) {
		gql_p_unexpected(p);
		return NULL;
	}
	def = gql_p_alloc(p, sizeof(*def));
	if (!def)
		return NULL;
	gql_p_expect_keyword(p, tok.value);
	def->pos = gql_p_peek_pos(p);
	def->kind = kind;
	def->description = description;
	def->name = gql_p_name(p);
	def->builtin = p->prelude;

	if (strcmp(kind, "OBJECT") == 0 ||
	    (strcmp(kind, "INTERFACE") == 0 && !extension))
		parse_implements(p, &def->interfaces);
	/* gqlparser reads directives on an input extension as non-constant. */
	gql_p_directives(p, !(extension && strcmp(kind, "INPUT_OBJECT") == 0), &def->directives);

	if (strcmp(kind, "OBJECT") == 0 || strcmp(kind, "INTERFACE") == 0)
		parse_fields(p, false, &def->fields);
	else if (strcmp(kind, "INPUT_OBJECT") == 0)
		parse_fields(p, true, &def->fields);
	else if (strcmp(kind, "UNION") == 0)
		parse_union_members(p, &def->types);
	else if (strcmp(kind, "ENUM") == 0)
		parse_enum_values(p, &def->enum_values);

	if (extension) {
		empty = def->directives.len == 0 && def->fields.len == 0 &&
			def->types.len == 0 && def->enum_values.len == 0 &&
			def->interfaces.len == 0;
		if (empty)
			gql_p_unexpected(p);
	}
	return def;
}

static struct gql_schemadef *parse_schema_def(struct gql_parser *p, const char *description,
					      bool extension)
{
	struct gql_schemadef *def = gql_p_alloc(p, sizeof(*def));
	bool called = false;

	if (!def)
		return NULL;
	gql_p_expect_keyword(p, "schema");
	def->pos = gql_p_peek_pos(p);
	def->description = description;
	gql_p_directives(p, true, &def->directives);

	if (some_begin(p, GQL_T_BRACE_L)) {
		while (gql_p_peek(p).kind != GQL_T_BRACE_R && !p->failed) {
			struct gql_optype *op = gql_p_alloc(p, sizeof(*op));

			called = true;
			if (!op)
				break;
			op->pos = gql_p_peek_pos(p);
			op->operation = gql_p_operation_type(p);
			gql_p_expect(p, GQL_T_COLON);
			op->type = gql_p_name(p);
			gql_p_push(p, &def->optypes, op);
		}
		some_end(p, called);
	}
	if (extension && def->directives.len == 0 && def->optypes.len == 0)
		gql_p_unexpected(p);
	return def;
}

static const char *const directive_locations[] = {
	"QUERY", "MUTATION", "SUBSCRIPTION", "FIELD", "FRAGMENT_DEFINITION",
	"FRAGMENT_SPREAD", "INLINE_FRAGMENT", "VARIABLE_DEFINITION", "SCHEMA", "SCALAR",
	"OBJECT", "FIELD_DEFINITION", "ARGUMENT_DEFINITION", "INTERFACE", "UNION", "ENUM",
	"ENUM_VALUE", "INPUT_OBJECT", "INPUT_FIELD_DEFINITION",
};

static const char *parse_directive_location(struct gql_parser *p)
{
	struct gql_token tok = gql_p_expect(p, GQL_T_NAME);

	for (size_t i = 0; i < WD_ARRAY_LEN(directive_locations); i++)
		if (strcmp(tok.value, directive_locations[i]) == 0)
			return directive_locations[i];
	gql_p_unexpected_token(p, &tok);
	return "";
}

static struct gql_dirdef *parse_directive_def(struct gql_parser *p, const char *description)
{
	struct gql_dirdef *def = gql_p_alloc(p, sizeof(*def));
	struct gql_token tok;

	if (!def)
		return NULL;
	gql_p_expect_keyword(p, "directive");
	gql_p_expect(p, GQL_T_AT);
	def->pos = gql_p_peek_pos(p);
	def->description = description;
	def->name = gql_p_name(p);
	parse_argument_defs(p, &def->args);

	tok = gql_p_peek(p);
	if (tok.kind == GQL_T_NAME && strcmp(tok.value, "repeatable") == 0) {
		def->repeatable = true;
		gql_p_skip(p, GQL_T_NAME);
	}
	gql_p_expect_keyword(p, "on");

	gql_p_skip(p, GQL_T_PIPE);
	gql_p_push(p, &def->locations, (void *)parse_directive_location(p));
	while (gql_p_skip(p, GQL_T_PIPE) && !p->failed)
		gql_p_push(p, &def->locations, (void *)parse_directive_location(p));
	return def;
}

static void parse_extension(struct gql_parser *p, struct gql_schema_doc *doc)
{
	const char *keyword;

	gql_p_expect_keyword(p, "extend");
	keyword = gql_p_peek(p).value;
	if (strcmp(keyword, "schema") == 0)
		gql_p_push(p, &doc->schema_ext, parse_schema_def(p, "", true));
	else if (kind_of_keyword(keyword))
		gql_p_push(p, &doc->extensions, parse_type(p, "", true));
	else
		gql_p_unexpected(p);
}

struct gql_schema_doc *gql_parse_schema(struct gql_arena *arena, const char *src, size_t len,
					bool prelude, struct gql_error *err)
{
	struct gql_parser p;
	struct gql_schema_doc *doc;

	gql_p_init(&p, arena, src, len, err);
	p.prelude = prelude;
	doc = gql_p_alloc(&p, sizeof(*doc));
	if (!doc)
		return NULL;

	while (gql_p_peek(&p).kind != GQL_T_EOF && !p.failed) {
		const char *description = "";
		struct gql_token tok = gql_p_peek(&p);

		if (tok.kind == GQL_T_BLOCK_STRING || tok.kind == GQL_T_STRING)
			description = parse_description(&p);
		tok = gql_p_peek(&p);
		if (tok.kind != GQL_T_NAME) {
			gql_p_unexpected(&p);
			break;
		}

		if (kind_of_keyword(tok.value)) {
			gql_p_push(&p, &doc->definitions, parse_type(&p, description, false));
		} else if (strcmp(tok.value, "schema") == 0) {
			gql_p_push(&p, &doc->schema, parse_schema_def(&p, description, false));
		} else if (strcmp(tok.value, "directive") == 0) {
			gql_p_push(&p, &doc->directives, parse_directive_def(&p, description));
		} else if (strcmp(tok.value, "extend") == 0) {
			/* A description before "extend" is reported on itself. */
			if (description[0])
				gql_p_unexpected_token(&p, &p.prev);
			parse_extension(&p, doc);
		} else {
			gql_p_unexpected(&p);
		}
	}
	return p.failed ? NULL : doc;
}
