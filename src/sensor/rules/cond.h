/* Falco filter conditions: the field registry, the lexer, the parser that
 * expands lists and macros into an AST, and the evaluator over one event. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/macros.h"

/* Limits on what one condition may grow to, so hostile rule files fail early:
 * nesting of parentheses, `not` and macros, and AST nodes after expansion. */
#define COND_MAX_DEPTH 100
#define COND_MAX_NODES 100000   /* AST nodes plus list values */
#define COND_MAX_TEXT (1024u * 1024u)

enum cond_ftype {
	COND_FT_STRING,
	COND_FT_NUMBER,
	COND_FT_BOOL,
	COND_FT_LIST,     /* several strings, e.g. proc.aname without an index */
	COND_FT_ANY,      /* typed by the event: evt.arg.* */
};

/* One field of the registry. `absent` marks a data source the sensor does not
 * have (Kubernetes metadata, audit logs, plugins): such a field evaluates
 * unset, so the rule loads but checks on it never match. */
struct cond_field {
	const char *name;     /* "proc.name"; for a family, the prefix "evt.arg." */
	enum cond_ftype type;
	bool family;          /* name is a prefix that takes any suffix */
	bool index;           /* takes an argument in brackets */
	bool absent;
};

/* Looks a field name (without its bracket argument) up; NULL if unknown. */
const struct cond_field *cond_field_find(const char *name);

/* Returns "string", "number", "boolean", "list" or "any". */
const char *cond_ftype_name(enum cond_ftype type);

/* The registry itself, for documentation and tests. */
const struct cond_field *cond_field_table(size_t *ret_count);

enum cond_op {
	COND_OP_EQ, COND_OP_NE, COND_OP_LT, COND_OP_LE, COND_OP_GT, COND_OP_GE,
	COND_OP_CONTAINS, COND_OP_ICONTAINS, COND_OP_BCONTAINS, COND_OP_STARTSWITH,
	COND_OP_BSTARTSWITH, COND_OP_ENDSWITH, COND_OP_GLOB, COND_OP_IGLOB,
	COND_OP_REGEX, COND_OP_IN, COND_OP_INTERSECTS, COND_OP_PMATCH, COND_OP_EXISTS,
};

/* Returns the operator's spelling in conditions ("icontains"). */
const char *cond_op_name(enum cond_op op);

enum cond_xform {
	COND_X_TOLOWER, COND_X_TOUPPER, COND_X_B64, COND_X_BASENAME,
	COND_X_LEN,       /* a number: elements of a list, bytes of a string */
};

#define COND_MAX_XFORMS 4

/* Looks the transformer spelled by the len bytes at name up ("toupper");
 * false for another name. */
bool cond_xform_lookup(const char *name, size_t len, enum cond_xform *ret);

/* Applies a string transformer (not COND_X_LEN) to the len bytes at s.
 * Returns a new NUL-terminated string and its length in *ret_len, or NULL
 * when the value has no result (b64 of a value that is not base64) or
 * memory runs out. */
char *cond_xform_apply(enum cond_xform x, const char *s, size_t len, size_t *ret_len);

/* A field reference, with the transformers around it applied innermost first. */
struct cond_operand {
	char *field;                  /* "proc.aname" */
	char *arg;                    /* "2" for proc.aname[2], or NULL */
	const struct cond_field *def;
	enum cond_xform xforms[COND_MAX_XFORMS];
	size_t nxforms;
};

/* One right-hand value, prepared for its operator. */
struct cond_value {
	char *text;                   /* as written, after unquoting */
	size_t len;                   /* bytes of text (hex-decoded for b*) */
	int64_t num;
	bool is_num;                  /* text parsed as a whole integer */
	void *re;                     /* pcre2_code for regex */
};

enum cond_kind { COND_AND, COND_OR, COND_NOT, COND_CHECK };

struct cond_node {
	enum cond_kind kind;
	struct cond_node **kids;      /* AND, OR: n >= 1; NOT: exactly 1 */
	size_t nkids;
	/* COND_CHECK */
	struct cond_operand lhs;
	enum cond_op op;
	bool rhs_field;               /* compare to another field (val(), xform) */
	struct cond_operand rhs;
	struct cond_value *values;
	size_t nvalues;
};

/* Lookups the parser requests from its owner: the text of a macro and the
 * items of a list, or NULL when no such name is defined. */
struct cond_env {
	const char *(*macro)(void *ctx, const char *name);
	const char *const *(*list)(void *ctx, const char *name, size_t *ret_count);
	void *ctx;
};

/* Parses text into a new AST in *ret_node, expanding lists and macros from
 * env (which may be NULL). WD_EINVAL for a syntax error, an undefined name or
 * a macro cycle, WD_EUNSUPPORTED for an unknown field, operator or
 * transformer; err names the token and its byte position. When absent is not
 * NULL, it receives the names of absent-source fields, space separated
 * (caller frees). */
WD_MUST_CHECK int cond_parse(const char *text, const struct cond_env *env,
	struct cond_node **ret_node, char **ret_absent, struct wd_error *err);

/* Frees an AST; accepts NULL. */
void cond_free(struct cond_node *node);

/* --- lexer --- */

enum cond_tok {
	COND_TOK_EOF,
	COND_TOK_LPAREN,
	COND_TOK_RPAREN,
	COND_TOK_COMMA,
	COND_TOK_WORD,     /* identifier, field, keyword or bare value */
	COND_TOK_STRING,   /* quoted */
	COND_TOK_OP,       /* = == != < <= > >= */
};

struct cond_token {
	enum cond_tok kind;
	size_t pos;        /* byte offset in the text */
	const char *start; /* raw bytes */
	size_t len;
	char *text;        /* owned, NUL-terminated value (unquoted for strings) */
};

/* Reads the next token from text at *pos and advances *pos. Words stop at
 * blanks, parentheses, commas, quotes and comparison characters, except
 * that a bracket argument ("proc.aname[2]") belongs to its word. WD_EINVAL
 * for an unterminated string. The caller frees tok->text. */
WD_MUST_CHECK int cond_lex(const char *text, size_t *pos, struct cond_token *tok,
	struct wd_error *err);

/* --- evaluation --- */

enum cond_vkind { COND_V_UNSET, COND_V_STRING, COND_V_NUMBER, COND_V_LIST };

/* A field's value for one event, owned by the event source and valid until
 * the next lookup. Strings are NUL-terminated; len 0 means strlen(str). */
struct cond_fvalue {
	enum cond_vkind kind;
	const char *str;
	size_t len;
	int64_t num;
	const char *const *items;
	size_t count;
};

/* The event record: returns the value of field[arg] (arg may be NULL) in
 * *ret; leaving ret->kind COND_V_UNSET means the field has no value. */
typedef void (*cond_getter)(void *ctx, const char *field, const char *arg,
	struct cond_fvalue *ret);

/* Evaluates node against one event; true when the condition matches. */
bool cond_eval(const struct cond_node *node, cond_getter get, void *ctx);
