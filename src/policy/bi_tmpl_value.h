/* Values of strings.render_template: Rego values seen as the Go values that
 * OPA's template receives (map[string]any, []any, string, json.Number, bool,
 * nil), plus the int and float64 constants a template writes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "policy/bi_tmpl.h"
#include "policy/value.h"

enum tv_kind {
	TV_INVALID,  /* no value: a missing map key */
	TV_NIL,      /* JSON null, Go's nil interface */
	TV_BOOL,
	TV_INT,      /* Go int: constants, indexes, len */
	TV_FLOAT,    /* Go float64 constants */
	TV_STRING,
	TV_JNUM,     /* json.Number: a number's JSON text, a string kind in Go */
	TV_ARRAY,    /* []any, borrowed Rego array */
	TV_MAP,      /* map[string]any, borrowed Rego object */
};

struct tv {
	enum tv_kind kind;
	bool b;
	int64_t i;
	double f;
	const char *s;  /* TV_STRING, TV_JNUM: bytes owned by the data, the template or a pool */
	size_t len;
	struct rv *rv;  /* TV_ARRAY, TV_MAP */
};

/* Strings made during one execution, freed together. */
struct tv_pool {
	char **strs;
	size_t n, cap;
};

/* Stores a copy of s in the pool; NULL when memory runs out. */
char *tv_pool_keep(struct tv_pool *pool, const char *s, size_t len);
void tv_pool_free(struct tv_pool *pool);

/* Converts a Rego value (borrowed for the whole execution). */
WD_MUST_CHECK int tv_from_rv(struct tv_pool *pool, struct rv *v, struct tv *ret);

/* Go's template truth: false, 0, "", empty collections, nil and no value
 * are false. */
bool tv_truth(struct tv v);

/* The Go type name used in messages: "string", "json.Number", ... */
const char *tv_type_name(struct tv v);

/* Appends v as fmt.Print prints it; a missing value is "<undefined>". */
WD_MUST_CHECK int tv_print(struct tv v, struct wd_buf *out);

/* A call of a template function. */
struct tmpl_call {
	const char *name;
	size_t pos;          /* the command, for error context */
	const char *text;
	size_t text_len;
	const struct tv *args;
	size_t nargs;
};

/* Calls the builtin template function call->name (bi_tmpl_funcs.c). On an
 * error appends Go's "error calling NAME: ..." message to err. */
WD_MUST_CHECK int tmpl_call_func(struct tv_pool *pool, const struct tmpl_call *call,
				 struct wd_buf *err, const struct tmpl *t, struct tv *ret);

/* Checks that data converts to map[string]any as OPA's ast.As does: no set
 * and no non-string object key anywhere. Appends the JSON decoder's message
 * to err and returns WD_EINVAL otherwise. */
WD_MUST_CHECK int tv_check_data(const struct rv *data, struct wd_buf *err);
