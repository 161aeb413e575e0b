/* Built-in functions: the call signature, their declarations for the type
 * checker, and the helpers every group uses to report errors as OPA does. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macros.h"
#include "policy/value.h"

/* A builtin's result when it has no value (e.g. object.get's miss is a value,
 * but regex.match on a bad pattern in non-strict mode is not). */
#define REGO_UNDEFINED 1

/* Bit masks of value kinds for declarations. */
#define RK_NULL   (1u << RV_NULL)
#define RK_BOOL   (1u << RV_BOOL)
#define RK_NUMBER (1u << RV_NUMBER)
#define RK_STRING (1u << RV_STRING)
#define RK_ARRAY  (1u << RV_ARRAY)
#define RK_OBJECT (1u << RV_OBJECT)
#define RK_SET    (1u << RV_SET)
#define RK_ANY    (RK_NULL | RK_BOOL | RK_NUMBER | RK_STRING | RK_ARRAY | RK_OBJECT | RK_SET)
/* The result type of a builtin that never returns (only errors). */
#define RK_NONE   0u

#define REGO_BUILTIN_MAX_ARGS 8

enum rego_builtin_flags {
	REGO_BI_NONDET = 1u << 0,   /* memoized per query: rand.intn, uuid.rfc4122, time.now_ns */
	REGO_BI_RELATION = 1u << 1, /* returns an array of outputs, each a separate solution (walk) */
	REGO_BI_VARIADIC = 1u << 2, /* any number of args (print) */
	REGO_BI_INFIX = 1u << 3,    /* an operator: plus, equal, ... */
	REGO_BI_DEPRECATED = 1u << 4,
	REGO_BI_NETWORK = 1u << 5,  /* needs the network: always errors here */
};

/* The query context a builtin may read. Filled by the evaluator;
 * unit tests fill it by hand. */
struct rego_bctx {
	const char *name;           /* the builtin being called, for messages */
	int64_t now_ns;             /* time.now_ns for the whole query */
	bool strict;                /* strict-builtin-errors */
	/* The error of the last failing call: OPA's code ("eval_type_error",
	 * "eval_builtin_error") and the message OPA prints after the code. */
	const char *err_code;
	char err_msg[1024];
	/* print() output; NULL discards. */
	void (*print)(void *print_arg, const char *line, size_t len);
	void *print_arg;
	/* Evaluator data (rego.metadata, opa.runtime). */
	void *eval;
	struct rv *runtime;         /* opa.runtime() value, borrowed; NULL = {} */
};

/* A builtin function. The args are borrowed. On success it stores a new
 * reference in *ret and returns 0. It returns REGO_UNDEFINED for no result,
 * or a negative WD_E* code after calling rego_bi_error or rego_bi_type_error. */
typedef int (*rego_builtin_fn)(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			       struct rv **ret);

struct rego_builtin {
	const char *name;            /* "count", "io.jwt.decode", "plus" */
	const char *infix;           /* "+", "==", ... for operators; else NULL */
	uint8_t arity;               /* arguments, not counting the output */
	uint8_t flags;               /* enum rego_builtin_flags */
	uint16_t arg_types[REGO_BUILTIN_MAX_ARGS]; /* RK_* masks per argument */
	uint16_t result_type;        /* RK_* mask of the result */
	rego_builtin_fn fn;
};

/* Looks a builtin up by name ("count", "io.jwt.decode"); NULL when unknown. */
const struct rego_builtin *rego_builtin_find(const char *name);
const struct rego_builtin *rego_builtin_find_n(const char *name, size_t len);

/* Calls every builtin in registration order (for capabilities output). */
void rego_builtin_foreach(void (*fn)(const struct rego_builtin *bi, void *arg), void *arg);

/* Records "NAME: operand N must be WANT but got GOT" as eval_type_error and
 * returns WD_EINVAL. want is text such as "string" or "one of {set, array}";
 * argno is 1-based. */
int rego_bi_type_error(struct rego_bctx *ctx, size_t argno, const char *want,
		       const struct rv *got);

/* Records "NAME: MESSAGE" as eval_builtin_error and returns WD_EINVAL. */
int rego_bi_error(struct rego_bctx *ctx, const char *fmt, ...) WD_PRINTF(2, 3);

/* Records "NAME: MESSAGE" as eval_cancel_error and returns WD_EINVAL, for
 * a resource limit of the builtin. The query then fails even without
 * strict-builtin-errors, so that a limit never reads as undefined. */
int rego_bi_limit_error(struct rego_bctx *ctx, const char *fmt, ...) WD_PRINTF(2, 3);

/* Records "NAME: MESSAGE" with an explicit code and returns WD_EINVAL. */
int rego_bi_error_code(struct rego_bctx *ctx, const char *code, const char *fmt, ...)
	WD_PRINTF(3, 4);

/* Argument helpers: each returns 0, or a type error for operand argno. */
int rego_bi_want(struct rego_bctx *ctx, struct rv *const *args, size_t argno,
		 unsigned kinds_mask);
int rego_bi_string(struct rego_bctx *ctx, struct rv *const *args, size_t argno,
		   const char **ret_s, size_t *ret_len);
int rego_bi_int(struct rego_bctx *ctx, struct rv *const *args, size_t argno,
		int64_t *ret);

/* The groups, each a table ending with a NULL name, in its own file. */
extern const struct rego_builtin rego_builtins_numbers[];     /* arithmetic, comparison, aggregates, bits, numbers.* */
extern const struct rego_builtin rego_builtins_collections[]; /* arrays, sets, objects, types, casts, graph, walk */
extern const struct rego_builtin rego_builtins_strings[];     /* strings.*, sprintf, format_int, trims, indexof, template */
extern const struct rego_builtin rego_builtins_regex[];       /* regex.*, re_match, glob.* */
extern const struct rego_builtin rego_builtins_encoding[];    /* base64*, hex, urlquery, uri, json.*, yaml.* */
extern const struct rego_builtin rego_builtins_misc[];        /* units, semver, uuid, rand, opa.runtime, network stubs */
extern const struct rego_builtin rego_builtins_crypto[];      /* crypto.*, x509 */
extern const struct rego_builtin rego_builtins_jwt[];         /* io.jwt.* */
extern const struct rego_builtin rego_builtins_time[];        /* time.* */
extern const struct rego_builtin rego_builtins_net[];         /* net.cidr_* */
extern const struct rego_builtin rego_builtins_graphql[];     /* graphql.* */
extern const struct rego_builtin rego_builtins_schema[];      /* json.match_schema, json.verify_schema */

/* ---- METADATA and rego.parse_module part ---- */

/* rego.parse_module(filename, source): the module as OPA's JSON AST, or
 * eval_builtin_error with OPA's "N error(s) occurred: ..." text. */
int rego_bi_parse_module(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			 struct rv **ret);
