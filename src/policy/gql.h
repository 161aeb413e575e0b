/* GraphQL documents for the graphql.* builtins: the syntax tree that the
 * parser, the schema and query validators and the value converters share. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/macros.h"
#include "policy/value.h"

/* ---- limits: every document comes from policy input ---- */

/* Nesting of selection sets, values and types the parser and the converters
 * accept; deeper documents fail as if malformed. */
#define GQL_MAX_DEPTH 200
/* Bytes one document may allocate for its tree, strings included. */
#define GQL_MAX_ARENA (64u * 1024u * 1024u)
/* Validation errors kept per query; the rest are counted out. */
#define GQL_MAX_ERRORS 64

/* ---- arena: every node of one document lives until gql_arena_free ---- */

struct gql_chunk;

struct gql_arena {
	struct gql_chunk *head;
	size_t used;            /* bytes allocated so far, headers included */
	bool failed;            /* an allocation failed or passed the ceiling */
};

/* Returns len zeroed bytes, or NULL (and sets failed) past GQL_MAX_ARENA. */
void *gql_alloc(struct gql_arena *arena, size_t len);

/* Copies len bytes into a new NUL-terminated string. */
char *gql_strndup(struct gql_arena *arena, const char *s, size_t len);

void gql_arena_free(struct gql_arena *arena);

/* A growable array of node pointers held in the arena. */
struct gql_list {
	void **items;
	size_t len;
	size_t cap;
};

WD_MUST_CHECK int gql_list_push(struct gql_arena *arena, struct gql_list *list, void *item);

/* ---- positions: line 0 means the node came from a value, not text ---- */

struct gql_pos {
	int line;
	int col;
	bool prelude;           /* defined by the built-in prelude */
};

/* ---- executable documents ---- */

enum gql_value_kind {
	GQL_VARIABLE = 0,
	GQL_INT,
	GQL_FLOAT,
	GQL_STRING,
	GQL_BLOCK,
	GQL_BOOLEAN,
	GQL_NULL,
	GQL_ENUM,
	GQL_LIST,
	GQL_OBJECT,
};

struct gql_type {
	const char *named;      /* "" for a list type */
	struct gql_type *elem;  /* the item type of a list type */
	bool non_null;
	struct gql_pos pos;
};

struct gql_def;
struct gql_vardef;
struct gql_fielddef;

struct gql_value {
	int64_t kind;           /* enum gql_value_kind, any integer when decoded */
	const char *raw;
	struct gql_list children;       /* struct gql_child */
	bool expected_has_default;
	struct gql_pos pos;
	/* Set by the validator. */
	struct gql_type *expected;
	struct gql_def *def;
	struct gql_vardef *vardef;
};

/* An item of a list value (name "") or a field of an object value. */
struct gql_child {
	const char *name;
	struct gql_value *value;
	struct gql_pos pos;
};

struct gql_argument {
	const char *name;
	struct gql_value *value;
	struct gql_pos pos;
};

struct gql_directive {
	const char *name;
	struct gql_list args;   /* struct gql_argument */
	const char *location;   /* "" until validated; kept "" in output */
	struct gql_pos pos;
	struct gql_dirdef *def; /* set by the validator */
};

enum gql_selection_kind {
	GQL_SEL_FIELD = 0,
	GQL_SEL_SPREAD,
	GQL_SEL_INLINE,
};

struct gql_selection {
	enum gql_selection_kind kind;
	const char *alias;      /* field */
	const char *name;       /* field, spread */
	const char *type_cond;  /* inline fragment */
	struct gql_list args;   /* field: struct gql_argument */
	struct gql_list directives;
	struct gql_list selset; /* struct gql_selection */
	struct gql_pos pos;
	/* Set by the validator. */
	struct gql_fielddef *def;       /* field */
	struct gql_def *objdef;         /* the enclosing type */
	struct gql_fragment *frag;      /* spread */
};

struct gql_vardef {
	const char *variable;
	struct gql_type *type;
	struct gql_value *default_value;
	struct gql_list directives;
	bool used;
	struct gql_pos pos;
	struct gql_def *def;    /* set by the validator */
};

struct gql_operation {
	const char *operation;  /* "query", "mutation", "subscription" */
	const char *name;
	struct gql_list vardefs;
	struct gql_list directives;
	struct gql_list selset;
	struct gql_pos pos;
};

struct gql_fragment {
	const char *name;
	struct gql_list vardefs;
	const char *type_cond;
	struct gql_list directives;
	struct gql_list selset;
	struct gql_pos pos;
	struct gql_def *def;    /* set by the validator */
};

struct gql_query_doc {
	struct gql_list operations;     /* struct gql_operation */
	struct gql_list fragments;      /* struct gql_fragment */
};

/* ---- schema documents ---- */

/* A field, an input field or an argument definition. */
struct gql_fielddef {
	const char *description;
	const char *name;
	struct gql_list args;   /* struct gql_fielddef, fields only */
	struct gql_value *default_value;
	struct gql_type *type;
	struct gql_list directives;
	struct gql_pos pos;
};

struct gql_enumvalue {
	const char *description;
	const char *name;
	struct gql_list directives;
	struct gql_pos pos;
};

/* A type definition or extension; kind is "SCALAR", "OBJECT", ... */
struct gql_def {
	const char *kind;
	const char *description;
	const char *name;
	struct gql_list directives;
	struct gql_list interfaces;     /* const char * */
	struct gql_list fields;         /* struct gql_fielddef */
	struct gql_list types;          /* const char * */
	struct gql_list enum_values;    /* struct gql_enumvalue */
	bool builtin;
	struct gql_pos pos;
};

struct gql_optype {
	const char *operation;
	const char *type;
	struct gql_pos pos;
};

struct gql_schemadef {
	const char *description;
	struct gql_list directives;
	struct gql_list optypes;        /* struct gql_optype */
	struct gql_pos pos;
};

struct gql_dirdef {
	const char *description;
	const char *name;
	struct gql_list args;           /* struct gql_fielddef */
	struct gql_list locations;      /* const char * */
	bool repeatable;
	struct gql_pos pos;
};

struct gql_schema_doc {
	struct gql_list schema;         /* struct gql_schemadef */
	struct gql_list schema_ext;     /* struct gql_schemadef */
	struct gql_list directives;     /* struct gql_dirdef */
	struct gql_list definitions;    /* struct gql_def */
	struct gql_list extensions;     /* struct gql_def */
};

/* ---- errors: one message with an optional position ---- */

struct gql_error {
	bool has_pos;
	bool prelude;
	int line;
	int col;
	char msg[512];
};

void gql_error_set(struct gql_error *err, const struct gql_pos *pos, const char *fmt, ...)
	WD_PRINTF(3, 4);

/* Appends s quoted as Go's strconv.Quote does (the parser's messages quote
 * token values that way). */
WD_MUST_CHECK int gql_quote(struct wd_buf *out, const char *s);

/* ---- parsing (gql_lexer.c, gql_parser.c, gql_parser_schema.c) ---- */

/* Parses an executable document; NULL with err set on a syntax error, or
 * NULL with err->msg empty when memory or the arena ceiling ran out. */
struct gql_query_doc *gql_parse_query(struct gql_arena *arena, const char *src, size_t len,
				      struct gql_error *err);

/* Parses a schema document (SDL); prelude marks its definitions built in. */
struct gql_schema_doc *gql_parse_schema(struct gql_arena *arena, const char *src, size_t len,
					bool prelude, struct gql_error *err);

/* ---- conversion to and from Rego values (gql_encode.c, gql_decode.c) ---- */

/* Builds the object OPA returns for a document: the tree as JSON with null
 * fields, empty lists and positions left out. NULL on memory. */
struct rv *gql_query_to_value(const struct gql_query_doc *doc);
struct rv *gql_schema_to_value(const struct gql_schema_doc *doc);

/* Reads a document back from such an object, field by field as Go's JSON
 * decoder fills gqlparser's structs. NULL with err set when a field has the
 * wrong type. */
struct gql_query_doc *gql_query_from_value(struct gql_arena *arena, const struct rv *v,
					   struct gql_error *err);
struct gql_schema_doc *gql_schema_from_value(struct gql_arena *arena, const struct rv *v,
					     struct gql_error *err);

/* ---- validation (gql_schema.c, gql_validate*.c) ---- */

struct gql_schema;

/* Merges the prelude with doc and checks the type system as gqlparser's
 * ValidateSchemaDocument does; NULL with err set when it is invalid. The
 * schema borrows doc's nodes and lives in the same arena. */
struct gql_schema *gql_schema_build(struct gql_arena *arena, const struct gql_schema_doc *doc,
				    struct gql_error *err);

/* Checks doc against the schema with the executable-document rules. Appends
 * each error as gqlparser prints it ("input:LINE:COL: MESSAGE\n") to out and
 * returns the number of errors, or a negative code on memory. */
int gql_validate_query(struct gql_arena *arena, struct gql_schema *schema,
		       struct gql_query_doc *doc, struct wd_buf *out);

/* ---- lexer (gql_lexer.c), shared by the two parsers ---- */

enum gql_token_kind {
	GQL_T_INVALID = 0,
	GQL_T_EOF,
	GQL_T_BANG,
	GQL_T_DOLLAR,
	GQL_T_AMP,
	GQL_T_PAREN_L,
	GQL_T_PAREN_R,
	GQL_T_SPREAD,
	GQL_T_COLON,
	GQL_T_EQUALS,
	GQL_T_AT,
	GQL_T_BRACKET_L,
	GQL_T_BRACKET_R,
	GQL_T_BRACE_L,
	GQL_T_BRACE_R,
	GQL_T_PIPE,
	GQL_T_NAME,
	GQL_T_INT,
	GQL_T_FLOAT,
	GQL_T_STRING,
	GQL_T_BLOCK_STRING,
};

struct gql_token {
	enum gql_token_kind kind;
	const char *value;      /* NUL-terminated, "" for punctuators */
	int line;
	int col;                /* in code points, from 1 */
	const char *error;      /* the lexer's message for GQL_T_INVALID */
};

/* Positions count code points, as gqlparser does. */
struct gql_lexer {
	struct gql_arena *arena;
	const char *src;
	size_t len;
	size_t start;
	size_t end;
	size_t start_runes;
	size_t end_runes;
	size_t line_start_runes;
	int line;
};

void gql_lexer_init(struct gql_lexer *lx, struct gql_arena *arena, const char *src, size_t len);

/* Reads the next token, skipping white space, commas and comments. A
 * malformed token comes back as GQL_T_INVALID with its message; WD_ENOMEM
 * when the arena is exhausted. */
WD_MUST_CHECK int gql_lexer_next(struct gql_lexer *lx, struct gql_token *ret_tok);

/* The token kind as gqlparser's messages name it ("Name", "<EOF>", "{"). */
const char *gql_token_kind_name(enum gql_token_kind kind);

/* ---- parser state shared by gql_parser.c and gql_parser_schema.c ---- */

/* gqlparser's parser: one token of lookahead and a sticky first error, after
 * which every read returns the previous token. */
struct gql_parser {
	struct gql_lexer lx;
	struct gql_arena *arena;
	struct gql_error *err;
	bool failed;
	bool oom;
	bool peeked;
	bool prelude;
	int depth;
	struct gql_token peek_tok;
	struct gql_token prev;
};

void gql_p_init(struct gql_parser *p, struct gql_arena *arena, const char *src, size_t len,
		struct gql_error *err);
struct gql_token gql_p_peek(struct gql_parser *p);
struct gql_token gql_p_next(struct gql_parser *p);
struct gql_pos gql_p_peek_pos(struct gql_parser *p);
void gql_p_error(struct gql_parser *p, const struct gql_token *tok, const char *fmt, ...)
	WD_PRINTF(3, 4);
void gql_p_oom(struct gql_parser *p);
bool gql_p_skip(struct gql_parser *p, enum gql_token_kind kind);
struct gql_token gql_p_expect(struct gql_parser *p, enum gql_token_kind kind);
struct gql_token gql_p_expect_keyword(struct gql_parser *p, const char *value);
void gql_p_unexpected_token(struct gql_parser *p, const struct gql_token *tok);
void gql_p_unexpected(struct gql_parser *p);
/* Enters one nesting level; false (with an error) past GQL_MAX_DEPTH. */
bool gql_p_enter(struct gql_parser *p);
const char *gql_p_name(struct gql_parser *p);
const char *gql_p_operation_type(struct gql_parser *p);
struct gql_value *gql_p_value(struct gql_parser *p, bool is_const);
struct gql_type *gql_p_type(struct gql_parser *p);
void gql_p_directives(struct gql_parser *p, bool is_const, struct gql_list *out);
void gql_p_push(struct gql_parser *p, struct gql_list *list, void *item);
void *gql_p_alloc(struct gql_parser *p, size_t len);

/* ---- the validated schema (gql_schema.c), read by the query validator ---- */

/* A string-keyed hash map in the arena. */
struct gql_map {
	size_t cap;             /* a power of two, or 0 */
	size_t len;
	const char **keys;
	void **values;
};

void *gql_map_get(const struct gql_map *map, const char *key);
/* Inserts or replaces; WD_ENOMEM when the arena is exhausted. */
WD_MUST_CHECK int gql_map_put(struct gql_arena *arena, struct gql_map *map, const char *key,
			      void *value);

/* Empties the map and keeps its storage for reuse. */
void gql_map_clear(struct gql_map *map);

struct gql_schema {
	struct gql_map types;           /* name -> struct gql_def */
	struct gql_map directives;      /* name -> struct gql_dirdef */
	struct gql_map possible;        /* name -> struct gql_list of struct gql_def */
	struct gql_map implements;      /* name -> struct gql_list of struct gql_def */
	struct gql_def *query;
	struct gql_def *mutation;
	struct gql_def *subscription;
};

/* The innermost named type ("" for a malformed list type). */
const char *gql_type_name(const struct gql_type *type);
/* The type as SDL writes it ("[String!]!"). */
WD_MUST_CHECK int gql_type_string(const struct gql_type *type, struct wd_buf *out);
struct gql_fielddef *gql_find_field(const struct gql_list *fields, const char *name);
bool gql_def_is_input(const struct gql_def *def);
bool gql_def_is_leaf(const struct gql_def *def);
bool gql_def_is_composite(const struct gql_def *def);

/* Checks every type and directive definition of a built schema, in name
 * order, as gqlparser's validateTypeDefinitions and
 * validateDirectiveDefinitions do (gql_schema_check.c). */
WD_MUST_CHECK int gql_schema_check(struct gql_arena *arena, struct gql_schema *schema,
				   struct gql_error *err);

/* ---- query validator state shared by gql_validate*.c ---- */

struct gql_overlap;

struct gql_vctx {
	struct gql_arena *arena;
	struct gql_schema *schema;
	struct gql_query_doc *doc;
	struct wd_buf *out;
	int nerrors;
	int rc;                         /* WD_ENOMEM once memory ran out */
	int depth;
	bool too_deep;                  /* the nesting error was reported */
	struct gql_operation *op;       /* the operation being walked */
	struct gql_map spread_walked;   /* fragments walked in this operation */
	struct gql_map fragments;       /* name -> first struct gql_fragment */
	bool in_fragment_defs;          /* walking fragment definitions */
	struct gql_map fragment_used;
	struct gql_map cycle_visited;
	struct gql_map op_names;
	struct gql_map fragment_names;
	struct gql_map misplaced;       /* directives reported as misplaced */
	struct gql_fielddef typename_def;
	struct gql_type typename_type;
	struct gql_overlap *overlap;    /* OverlappingFieldsCanBeMerged state */
};

/* Records one validation error; pos may be NULL. */
void gql_v_error(struct gql_vctx *v, const struct gql_pos *pos, const char *fmt, ...)
	WD_PRINTF(3, 4);

/* Rules on values: ValuesOfCorrectType, UniqueInputFieldNames and
 * VariablesInAllowedPosition, NoUndefinedVariables (gql_validate_values.c). */
void gql_v_value_rules(struct gql_vctx *v, struct gql_value *value);

/* Appends a value as gqlparser's Value.String prints it. */
WD_MUST_CHECK int gql_value_string(const struct gql_value *value, struct wd_buf *out, int depth);

/* OverlappingFieldsCanBeMerged for one selection set (gql_validate_overlap.c). */
void gql_v_overlap(struct gql_vctx *v, const struct gql_list *selset, struct gql_def *parent);

/* gqlparser's Type.IsCompatible: same named type and list shape, and t is
 * non-null wherever other is. */
bool gql_type_compatible(const struct gql_type *t, const struct gql_type *other, int depth);

/* ---- suggestions (gql_suggest.c) ---- */

/* Appends " PREFIX A, B, or C?" for the first five names, quoted when
 * asked, as gqlparser's QuotedOrList and OrList; nothing for no names. */
WD_MUST_CHECK int gql_or_list(struct wd_buf *out, const char *prefix, const char *const *names,
			      size_t n, bool quoted);

/* Appends the options within edit distance of typed (half the longer
 * length, at least 1), closest first, through gql_or_list. */
WD_MUST_CHECK int gql_suggest(struct wd_buf *out, const char *prefix, const char *typed,
			      const struct gql_list *options, bool quoted);
