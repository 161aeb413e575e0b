/* strings.render_template: a parser and executor for the part of Go's
 * text/template that OPA's builtin reaches, over Rego values. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "policy/builtin.h"

/* Ceilings on what a template may build: nodes parsed, nesting of blocks
 * and parentheses, and variables alive at once. */
#define TMPL_MAX_NODES 100000
#define TMPL_MAX_DEPTH 100
#define TMPL_MAX_VARS 10000

enum tmpl_arg_kind {
	TA_DOT,      /* . */
	TA_NIL,      /* nil */
	TA_BOOL,     /* true, false */
	TA_NUMBER,   /* 3, 1.5, 0x1F, 'a' */
	TA_STRING,   /* "x", `x` */
	TA_FIELD,    /* .a.b */
	TA_VAR,      /* $x.a */
	TA_FUNC,     /* len, index, ... */
	TA_PIPE,     /* (pipeline) */
	TA_CHAIN,    /* (pipeline).a.b */
};

struct tmpl_pipe;

struct tmpl_arg {
	enum tmpl_arg_kind kind;
	size_t pos;                 /* byte offset in the template */
	const char *text;           /* source text of the operand */
	size_t text_len;
	char *value;                /* decoded string, variable or function name */
	size_t value_len;
	bool boolean;
	char **fields;              /* field chain after the base, NULL-terminated */
	size_t nfields;
	struct tmpl_pipe *pipe;     /* TA_PIPE and TA_CHAIN */
	bool is_int;                /* TA_NUMBER: an integer constant */
	int64_t ival;
	double fval;
};

struct tmpl_cmd {
	struct tmpl_arg **args;
	size_t nargs;
	size_t pos;
	const char *text;
	size_t text_len;
};

struct tmpl_pipe {
	size_t pos;
	const char *text;           /* the action's source, for error context */
	size_t text_len;
	char *decl[2];              /* declared or assigned variables */
	size_t ndecl;
	bool is_assign;             /* "=" rather than ":=" */
	struct tmpl_cmd **cmds;
	size_t ncmds;
};

enum tmpl_node_kind { TN_TEXT, TN_ACTION, TN_IF, TN_RANGE, TN_WITH, TN_BREAK, TN_CONTINUE };

struct tmpl_node {
	enum tmpl_node_kind kind;
	size_t pos;
	const char *text;           /* TN_TEXT: the bytes to copy */
	size_t text_len;
	struct tmpl_pipe *pipe;
	struct tmpl_node **list;    /* body */
	size_t nlist;
	struct tmpl_node **else_list;
	size_t nelse;
	bool has_else;
};

/* A parsed template. Every allocation is tracked so one call frees all. */
struct tmpl {
	const char *src;
	size_t src_len;
	struct tmpl_node **list;
	size_t nlist;
	void **allocs;
	size_t nallocs, cap_allocs;
};

/* Parses src as Go's template.New("template").Parse. On a syntax error
 * appends Go's message ("template: template:LINE: ...") to err and returns
 * WD_EINVAL; WD_ENOMEM and WD_ETOOBIG for resources. */
WD_MUST_CHECK int tmpl_parse(struct tmpl *t, const char *src, size_t len, struct wd_buf *err);

/* Frees everything tmpl_parse allocated; accepts a zeroed struct. */
void tmpl_free(struct tmpl *t);

/* Allocates zeroed memory owned by t; NULL when memory runs out. */
void *tmpl_alloc(struct tmpl *t, size_t size);

/* Executes t with data (an object) as dot, appending output to out. On an
 * execution error appends Go's message to err and returns WD_EINVAL. */
WD_MUST_CHECK int tmpl_execute(const struct tmpl *t, struct rv *data, struct wd_buf *out,
			       struct wd_buf *err);

/* Appends "template:LINE:COL" for byte offset pos, as Go's ErrorContext. */
WD_MUST_CHECK int tmpl_location(const struct tmpl *t, size_t pos, bool with_col,
				struct wd_buf *out);

/* strings.render_template(template, vars) (bi_tmpl.c). */
int bi_tmpl_render(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		   struct rv **ret);
