/* The Rego syntax tree: modules, rules, expressions and terms as the parser
 * builds them and the compiler annotates them. Nodes live in an arena owned
 * by the module and are freed with it in one step. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macros.h"
#include "policy/value.h"

/* A bump allocator; every AST node and string of a module comes from one. */
struct rego_arena;

struct rego_arena *rego_arena_new(void);
void rego_arena_free(struct rego_arena *arena);           /* accepts NULL */
/* Zeroed memory, 16-byte aligned; NULL when memory runs out. */
void *rego_arena_alloc(struct rego_arena *arena, size_t size);
char *rego_arena_strndup(struct rego_arena *arena, const char *s, size_t len);

/* A source position. file is the module's name as given ("test-0.rego"). */
struct rego_loc {
	const char *file;
	uint32_t row;          /* 1-based */
	uint32_t col;          /* 1-based, in bytes */
	uint32_t offset;       /* byte offset of the first character */
	uint32_t len;          /* bytes of source text covered */
};

enum rego_term_kind {
	RT_VALUE = 0,    /* a constant scalar: null, boolean, number, string */
	RT_VAR,          /* a variable; `_` is renamed to a unique wildcard */
	RT_REF,          /* head followed by path operands: a.b[x]["c"] */
	RT_ARRAY,        /* [t, ...] */
	RT_OBJECT,       /* {k: v, ...} */
	RT_SET,          /* {t, ...} or set() */
	RT_ARRAY_COMPR,  /* [head | body] */
	RT_SET_COMPR,    /* {head | body} */
	RT_OBJECT_COMPR, /* {key: head | body} */
	RT_CALL,         /* operator(args...), including infix operators */
	RT_TEMPLATE,     /* $"text {expr} text" string template */
};

struct rego_body;

struct rego_term {
	enum rego_term_kind kind;
	struct rego_loc loc;
	union {
		struct rv *value;                 /* RT_VALUE (frozen) */
		struct {
			const char *name;
			int32_t slot;             /* compiler: local slot or -1 */
			bool wildcard;            /* was `_` */
			bool generated;           /* made up by the compiler */
		} var;
		struct {
			struct rego_term **items; /* items[0] is the head */
			size_t len;
		} ref;
		struct {
			struct rego_term **items; /* RT_ARRAY and RT_SET */
			size_t len;
		} coll;
		struct {
			struct rego_term **keys;
			struct rego_term **values;
			size_t len;
		} obj;
		struct {
			struct rego_term *key;    /* RT_OBJECT_COMPR only */
			struct rego_term *head;
			struct rego_body *body;
		} compr;
		struct {
			/* The operator is a ref (`count`, `io.jwt.decode`,
			 * `data.pkg.f`) or, for infix operators, a var ref whose
			 * name is the builtin: plus, minus, mul, div, rem,
			 * equal, neq, lt, lte, gt, gte, and, or, eq (=),
			 * assign (:=), internal.member_2/3 (in). */
			struct rego_term *op;
			struct rego_term **args;
			size_t len;
		} call;
		struct {
			/* Alternating literal parts and expressions: literal
			 * parts are RT_VALUE strings, the rest are terms. */
			struct rego_term **parts;
			size_t len;
			/* Parallel to parts: the whole expression of each
			 * embedded part (it may carry `with` modifiers), NULL
			 * for literal text and for constant scalars. */
			struct rego_expr **exprs;
		} tmpl;
	} u;
};

/* A `with target as value` modifier. target is a ref into input, data or a
 * function (builtin or user function). */
struct rego_with {
	struct rego_term *target;
	struct rego_term *value;
	struct rego_loc loc;
};

enum rego_expr_kind {
	RE_TERM = 0,     /* a term (usually RT_CALL); true unless false/undefined */
	RE_SOME_DECL,    /* some x, y: declares locals */
	RE_SOME_IN,      /* some k, v in domain */
	RE_EVERY,        /* every k, v in domain { body } */
};

struct rego_expr {
	enum rego_expr_kind kind;
	struct rego_loc loc;
	bool negated;                     /* `not` */
	struct rego_with **with;
	size_t with_len;
	union {
		struct rego_term *term;           /* RE_TERM */
		struct {
			struct rego_term **vars;  /* RE_SOME_DECL */
			size_t len;
		} decl;
		struct {
			struct rego_term *key;    /* NULL when only a value is named */
			struct rego_term *value;
			struct rego_term *domain;
		} some_in;
		struct {
			struct rego_term *key;    /* may be NULL */
			struct rego_term *value;
			struct rego_term *domain;
			struct rego_body *body;
		} every;
	} u;
	int32_t index;                    /* position in the body as written */
};

struct rego_body {
	struct rego_expr **exprs;
	size_t len;
	struct rego_loc loc;
};

enum rego_rule_kind {
	RR_COMPLETE = 0, /* p := v, p if {...}, p.q.r := v */
	RR_PARTIAL_SET,  /* p contains x if {...}  (also p[x] in v0-compatible form) */
	RR_PARTIAL_OBJ,  /* p[k] := v if {...}, p.q[k] := v */
	RR_FUNCTION,     /* f(x, y) := v if {...} */
};

/* One `else` branch: a value and a body, evaluated in order when the
 * previous body is undefined. */
struct rego_else {
	struct rego_term *value;          /* defaults to true */
	struct rego_body *body;
	struct rego_else *next;
	struct rego_loc loc;
};

struct rego_rule {
	enum rego_rule_kind kind;
	struct rego_loc loc;
	bool is_default;
	bool assign;                      /* head used := (not =) */
	/* The head reference relative to the package: `p`, `a.b.c`, `a.b[x]`.
	 * ref->u.ref.items[0] is a var; later items are string constants or,
	 * for the last position of partial rules, the key term. */
	struct rego_term *head_ref;
	struct rego_term **args;          /* RR_FUNCTION */
	size_t args_len;
	struct rego_term *key;            /* RR_PARTIAL_SET member / RR_PARTIAL_OBJ key */
	struct rego_term *value;          /* value; boolean true when omitted */
	struct rego_body *body;           /* empty body = always true */
	struct rego_else *else_chain;
	struct rego_module *module;
	/* Compiler annotations. */
	int32_t slots;                    /* local variable slots needed */
	const char *path;                 /* full dotted path: "data.pkg.p" */
	void *index;                      /* evaluator-private rule index data */
	/* METADATA blocks attached to the rule (scopes rule and document):
	 * an array of annotation objects in source order, kept by the
	 * module's arena; NULL when none. */
	struct rv *annotations;
};

struct rego_import {
	struct rego_term *path;           /* ref: data.x.y, input.z, future.keywords.in, rego.v1 */
	const char *alias;                /* NULL when none */
	struct rego_loc loc;
};

struct rego_module {
	struct rego_arena *arena;
	const char *file;                 /* name given at parse time */
	const char *source;               /* copy of the source text */
	size_t source_len;
	struct rego_term *package;        /* ref: data.a.b */
	struct rego_import **imports;
	size_t imports_len;
	struct rego_rule **rules;
	size_t rules_len;
	bool rego_v1;                     /* always true: v1 syntax is the only one */
	/* METADATA blocks attached to the package (scopes package and
	 * subpackages), as for rego_rule.annotations. */
	struct rv *annotations;
};

/* Parse errors carry OPA's code, the location and a message. */
struct rego_error {
	const char *code;                 /* "rego_parse_error", ... (static string) */
	char message[512];
	char file[128];
	uint32_t row;
	uint32_t col;
};

/* Parses one module in Rego v1 syntax. On failure returns NULL and fills
 * errs (up to errs_cap entries, *ret_errs_len set) with rego_parse_error
 * entries. Source longer than max_bytes is refused. */
struct rego_module *rego_parse_module(const char *file, const char *source, size_t len,
				      struct rego_error *errs, size_t errs_cap,
				      size_t *ret_errs_len);

/* Parses a query (a body: `x = 1; y := data.p[x]`, or newline-separated). */
struct rego_body *rego_parse_query(struct rego_arena *arena, const char *source,
				   size_t len, struct rego_error *errs, size_t errs_cap,
				   size_t *ret_errs_len);

/* Parses a single term (used for `input_term` and `--input` Rego values). */
struct rego_term *rego_parse_term(struct rego_arena *arena, const char *source, size_t len,
				  struct rego_error *errs, size_t errs_cap,
				  size_t *ret_errs_len);

void rego_module_free(struct rego_module *module);        /* accepts NULL */

/* Appends the term as Rego source (for messages and printing). */
WD_MUST_CHECK int rego_term_write(const struct rego_term *term, struct wd_buf *out);
WD_MUST_CHECK int rego_expr_write(const struct rego_expr *expr, struct wd_buf *out);

/* Converts a module to OPA's JSON AST shape (rego.parse_module). */
struct rv *rego_module_to_value(const struct rego_module *module);

/* ---- parser additions ---- */

/* Ceilings of the parser: rego_parse_module refuses larger sources, and
 * recursion deeper than REGO_MAX_PARSE_DEPTH steps fails with "max parsing
 * recursion depth exceeded". A nested array costs 2 steps, a nested call or
 * parenthesis about 10; 2000 steps need under 1 MiB of stack. */
#define REGO_MAX_MODULE_BYTES ((size_t)4 << 20)
#define REGO_MAX_PARSE_DEPTH 2000u

/* Like rego_parse_module with a caller-chosen ceiling on the source size
 * (0 = REGO_MAX_MODULE_BYTES). */
struct rego_module *rego_parse_module_max(const char *file, const char *source, size_t len,
					  size_t max_bytes, struct rego_error *errs,
					  size_t errs_cap, size_t *ret_errs_len);

/* Freezes v and ties its lifetime to the arena, which frees it; returns v,
 * or NULL (v released) when memory runs out. Values in a tree belong to its
 * arena: a caller that keeps one longer than the module must copy it. */
struct rv *rego_arena_keep_value(struct rego_arena *arena, struct rv *v);

/* ---- METADATA and rego.parse_module part ---- */

/* Like rego_parse_module but leaves `# METADATA` blocks as plain comments:
 * no annotations and no annotation errors, as OPA's ast.ParseModule (which
 * rego.parse_module calls) parses without ProcessAnnotation. */
struct rego_module *rego_parse_module_without_metadata(const char *file, const char *source,
						       size_t len, struct rego_error *errs,
						       size_t errs_cap, size_t *ret_errs_len);
