/* The policy engine's public face: compile a set of Rego modules against a
 * data document, then answer queries with OPA's results and errors. A
 * compiled engine is immutable and may be queried from many threads at once;
 * to change policies or data, build a new one and swap it in. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macros.h"
#include "policy/ast.h"
#include "policy/value.h"

/* Bounds for hostile policies and inputs; 0 means the default. */
struct rego_limits {
	uint64_t max_steps;        /* evaluation steps per query (default 10,000,000) */
	uint32_t max_depth;        /* rule/function call depth (default 1,000) */
	size_t max_memory;         /* bytes of values per query (default 512 MiB) */
	size_t max_module_bytes;   /* source size per module (default 4 MiB) */
};

#define REGO_MAX_ERRORS 16

/* Errors of a compile or a query, in OPA's vocabulary. */
struct rego_errors {
	struct rego_error items[REGO_MAX_ERRORS];
	size_t len;
};

/* Appends an error; extra errors past REGO_MAX_ERRORS are dropped. */
void rego_errors_add(struct rego_errors *errs, const char *code, const struct rego_loc *loc,
		     const char *fmt, ...) WD_PRINTF(4, 5);

/* Writes "file:row: code: message" lines as `opa` prints them. */
WD_MUST_CHECK int rego_errors_write(const struct rego_errors *errs, struct wd_buf *out);

/* Converts errors to OPA's JSON: {"errors": [{"code","message","location"}]}. */
struct rv *rego_errors_to_value(const struct rego_errors *errs);

struct rego_engine;

/* A builder collects modules and data, then compiles them into an engine. */
struct rego_builder;

struct rego_builder *rego_builder_new(const struct rego_limits *limits);
void rego_builder_free(struct rego_builder *b);             /* accepts NULL */

/* Parses and adds a module under file; replaces a module of the same name.
 * WD_EINVAL with rego_parse_error entries in errs. */
WD_MUST_CHECK int rego_builder_add_module(struct rego_builder *b, const char *file,
					  const char *source, size_t len,
					  struct rego_errors *errs);

/* Removes the module named file; WD_ENOTFOUND when absent. */
WD_MUST_CHECK int rego_builder_remove_module(struct rego_builder *b, const char *file);

/* Sets the base data document (an object; takes the reference). The tree is
 * frozen: it stays immutable and may be shared with the caller's other
 * references, which keep counting. */
WD_MUST_CHECK int rego_builder_set_data(struct rego_builder *b, struct rv *data);

/* Compiles everything added so far: import resolution, safety, type and
 * recursion checks. Returns a new engine (the builder stays usable) or NULL
 * with rego_compile_error / rego_type_error / rego_unsafe_var_error /
 * rego_recursion_error entries in errs. */
struct rego_engine *rego_builder_compile(struct rego_builder *b, struct rego_errors *errs);

struct rego_engine *rego_engine_ref(struct rego_engine *e);
void rego_engine_unref(struct rego_engine *e);              /* accepts NULL */

/* Number of modules and their names, for the REST API and `policy check`. */
size_t rego_engine_module_count(const struct rego_engine *e);
const struct rego_module *rego_engine_module_at(const struct rego_engine *e, size_t i);

/* True when a rule defines the document at path (segments under data), one
 * of its prefixes, or anything below it: the base document cannot be
 * written there. ret_rule (may be NULL) receives the rule's path, such as
 * "data.app.allow". */
bool rego_engine_path_has_rules(const struct rego_engine *e, const char *const *path,
				size_t path_len, char *ret_rule, size_t rule_cap);

/* Per-query options. */
struct rego_query_opts {
	struct rv *input;          /* borrowed; NULL = no input (input is undefined) */
	bool strict_builtin_errors;
	int64_t now_ns;            /* 0 = the clock at query start */
	void (*print)(void *arg, const char *line, size_t len);
	void *print_arg;
	struct rv *runtime;        /* value of opa.runtime(); NULL = {} */
	const struct rego_limits *limits; /* NULL = the engine's */
};

/* One solution of a query. */
struct rego_solution {
	struct rv *bindings;       /* object: var name -> value (user vars only) */
	struct rv **expressions;   /* value of each query expression, in order */
	size_t expressions_len;
};

struct rego_results {
	struct rego_solution *solutions;
	size_t len;
	/* For opa eval output: each query expression's text and location. */
	char **expression_text;
	struct rego_loc *expression_loc;
	size_t expressions_len;
	uint64_t steps;            /* evaluation steps used */
};

void rego_results_free(struct rego_results *r);             /* accepts NULL */

/* Parses, compiles (against the engine's rules) and evaluates a query.
 * Returns 0 with all solutions (none when undefined), or WD_EINVAL with a
 * parse/compile error, or with eval_conflict_error, eval_type_error,
 * eval_builtin_error or eval_cancel_error (a limit was reached) in errs. */
WD_MUST_CHECK int rego_engine_query(struct rego_engine *e, const char *query, size_t len,
				    const struct rego_query_opts *opts,
				    struct rego_results **ret_results,
				    struct rego_errors *errs);

/* Evaluates the document at a path ("data.a.b" or "data" ...) with input.
 * *ret_value is NULL when undefined. Same errors as rego_engine_query. */
WD_MUST_CHECK int rego_engine_eval_ref(struct rego_engine *e, const char *ref,
				       const struct rego_query_opts *opts,
				       struct rv **ret_value, struct rego_errors *errs);
