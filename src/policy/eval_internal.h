/* The evaluator's private interface: per-query state and the
 * continuation-passing functions that walk bodies, terms, refs and rules. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/compile.h"

/* Returned through continuations to stop an enumeration early (a `not`
 * found a solution, a complete rule with a constant value succeeded). It is
 * caught by the function that asked for it and never escapes a query. */
#define EV_HALT 1

struct q;

/* A continuation: called once per solution. */
typedef int (*k_fn)(struct q *q, void *env);
/* A continuation receiving a value, borrowed for the duration of the call. */
typedef int (*kv_fn)(struct q *q, struct rv *v, void *env);

/* Marker for "evaluated, undefined" in document caches. */
extern struct rv eval_undef_marker;
#define UNDEF_MARK (&eval_undef_marker)

/* Documents and function results computed in one `with` context. */
struct cache {
	struct rv **docs;             /* by node id; UNDEF_MARK when undefined */
	size_t len;
	struct fmemo *fmemo;          /* function results by node and arguments */
	struct cache *parent;
};

/* Segments a `with` target path may have, as many as a rule head. */
#define WITH_MAX_PATH 128

/* Active `with` overrides form lists, newest first, whose entries live in
 * the stack frames of eval_with. */
struct data_override {
	struct rv *keys[WITH_MAX_PATH]; /* path below data */
	size_t len;
	struct rv *value;
	struct data_override *next;
};

struct fn_override {
	const char *name;             /* full name: "count", "data.a.f" */
	const struct rego_term *callee; /* replacement function (RT_VAR callee), or */
	struct rv *value;             /* replacement value */
	struct fn_override *next;
};

struct nondet_memo;

struct q {
	struct rego_engine *e;
	struct rv **slots;            /* the current frame */
	const struct rego_rule *rule; /* the rule being evaluated, or NULL */
	struct rv *input;             /* current input (NULL: undefined) */
	struct rv *data;              /* current base data */
	struct cache *cache;
	struct cache *root_cache;     /* the cache outside every `with` */

	struct data_override *dov;
	size_t dov_len;
	struct fn_override *fov;
	size_t fov_len;

	uint64_t steps;
	uint64_t max_steps;
	const struct rego_loc *last_loc; /* of the latest step, for limit errors */
	uint32_t depth;
	uint32_t max_depth;
	size_t max_memory;
	uintptr_t stack_floor;        /* lowest stack address we may reach */

	bool strict;
	bool keep_false;   /* the query's one expression may be false */
	struct rego_bctx bctx;
	struct nondet_memo *nondet;
	struct rego_errors *errs;

	/* The query being evaluated. */
	const struct rego_body *qbody;
	struct rv **expr_vals;        /* by expression index, borrowed */
	size_t expr_vals_len;

	/* The builtin call being evaluated (rego.metadata finds its rule). */
	const struct rego_term *bi_call;
};

/* ---- eval.c ---- */

/* True for a query whose single expression reports false rather than
 * failing: no negation, no unification and no iteration (OPA's rule). */
bool eval_query_keeps_false(const struct rego_body *body);

WD_MUST_CHECK int eval_body(struct q *q, const struct rego_body *body, size_t i, k_fn k,
			    void *env);

/* Evaluates e without `not` and `with`, passing the expression's value
 * (true for unifications, some, every). */
WD_MUST_CHECK int eval_expr_core(struct q *q, const struct rego_expr *e, kv_fn kv, void *env);

/* Counts a step and checks the limits; an eval_cancel_error past one. */
WD_MUST_CHECK int eval_step(struct q *q, const struct rego_loc *loc);

/* Records an evaluation error and returns WD_EINVAL. */
int eval_error(struct q *q, const char *code, const struct rego_loc *loc, const char *fmt, ...)
	WD_PRINTF(4, 5);

/* Maps a NULL from a value constructor to the right error: the memory
 * limit (eval_cancel_error) or WD_ENOMEM. */
int eval_nomem(struct q *q);

/* ---- eval_term.c ---- */

WD_MUST_CHECK int eval_term(struct q *q, const struct rego_term *t, kv_fn k, void *env);

/* Evaluates a call; for a call with an output argument, unifies it and
 * passes true. */
WD_MUST_CHECK int eval_call(struct q *q, const struct rego_term *t, kv_fn k, void *env);

/* Collects every value of t into a new set (NULL when memory runs out). */
WD_MUST_CHECK int eval_collect(struct q *q, const struct rego_term *t, struct rv **ret_set);

/* The value of a term if it needs no evaluation (constant or bound var). */
struct rv *term_direct_value(struct q *q, const struct rego_term *t);

/* Appends a value as string templates and print show it. */
WD_MUST_CHECK int eval_format_value(const struct rv *v, struct wd_buf *out);

/* ---- eval_print.c ---- */

/* print(a, b, ...): writes its arguments' values to the print hook and
 * passes true. */
WD_MUST_CHECK int eval_print(struct q *q, const struct rego_term *t, kv_fn k, void *env);

/* ---- eval_unify.c ---- */

WD_MUST_CHECK int eval_unify(struct q *q, const struct rego_term *a, const struct rego_term *b,
			     k_fn k, void *env);
WD_MUST_CHECK int eval_unify_value(struct q *q, const struct rego_term *t, struct rv *v,
				   k_fn k, void *env);

/* True when t can be evaluated to values with the current bindings. */
bool eval_term_evaluable(struct q *q, const struct rego_term *t);

static inline void eval_bind(struct q *q, int32_t slot, struct rv *v)
{
	q->slots[slot] = rv_ref(v);
}

static inline void eval_unbind(struct q *q, int32_t slot)
{
	rv_unref(q->slots[slot]);
	q->slots[slot] = NULL;
}

/* ---- eval_ref.c ---- */

WD_MUST_CHECK int eval_ref(struct q *q, const struct rego_term *t, kv_fn k, void *env);

/* Continues a ref from operand i over a value. */
WD_MUST_CHECK int eval_value_ref(struct q *q, struct rv *v, const struct rego_term *t, size_t i,
				 kv_fn k, void *env);

/* Looks key up in a collection: array index, object key, set member. */
struct rv *eval_lookup(struct rv *coll, struct rv *key);

/* The full document at a node (base is the base data there, or NULL).
 * keys, when given, restrict the work to entries under those keys. */
WD_MUST_CHECK int eval_node_doc(struct q *q, struct cnode *node, struct rv *base,
				struct rv *const *keys, size_t nkeys, struct rv **ret);

/* ---- eval_rule.c ---- */

WD_MUST_CHECK int eval_rule_doc(struct q *q, struct cnode *node, struct rv *const *keys,
				size_t nkeys, struct rv **ret);
WD_MUST_CHECK int eval_function(struct q *q, struct cnode *node, struct rv *const *args,
				size_t nargs, const struct rego_loc *loc, struct rv **ret);

/* Inserts leaf at path keys under obj (which the caller owns, refs 1),
 * copying shared children; a set leaf adds leaf to the set at keys.
 * Returns 1 on a conflicting value. */
WD_MUST_CHECK int doc_insert(struct rv *obj, struct rv *const *keys, size_t nkeys,
			     struct rv *leaf, bool set_leaf);

/* A copy of a shared object or set that the caller may extend. */
struct rv *doc_copy(const struct rv *v);

/* ---- eval_with.c ---- */

/* Evaluates e under its `with` modifiers; kv runs without them. */
WD_MUST_CHECK int eval_with(struct q *q, const struct rego_expr *e, kv_fn kv, void *env);

/* Looks up an active override of a function by full name. */
const struct fn_override *eval_fn_override(struct q *q, const char *name);

/* Exact data override at node's path; NULL when none. */
struct rv *eval_data_override_at(struct q *q, const struct cnode *node);

/* Applies overrides strictly below node to doc (a new reference). */
WD_MUST_CHECK int eval_apply_overrides_below(struct q *q, const struct cnode *node,
					     struct rv **doc);

/* ---- eval_compr.c ---- */

WD_MUST_CHECK int eval_compr(struct q *q, const struct rego_term *t, kv_fn k, void *env);
WD_MUST_CHECK int eval_some_in(struct q *q, const struct rego_expr *e, k_fn k, void *env);
WD_MUST_CHECK int eval_every(struct q *q, const struct rego_expr *e, k_fn k, void *env);

/* ---- eval_index.c ---- */

/* Rules of node worth evaluating for the current input, in order; returns
 * false when the node has no index (use all rules). */
bool eval_index_candidates(struct q *q, const struct cnode *node,
			   struct rego_rule ***ret_rules, size_t *ret_len);

/* ---- eval_builtins.c ---- */

/* Positions in the evaluator's builtin table that calls test for. */
#define EVAL_BI_EQ 0
#define EVAL_BI_ASSIGN 1
#define EVAL_BI_PRINT 4
#define EVAL_BI_INTERNAL_PRINT 5

static inline bool eval_callee_is(int32_t slot, uint32_t index)
{
	return slot >= (1 << CALLEE_KIND_SHIFT) && CALLEE_KIND(slot) == CALLEE_EVAL &&
	       CALLEE_INDEX(slot) == index;
}

/* Calls a builtin with evaluator context. */
WD_MUST_CHECK int eval_builtin_call(struct q *q, const struct rego_builtin *bi,
				    const struct rego_term *t, struct rv **args, size_t nargs,
				    struct rv **ret);

void eval_nondet_free(struct nondet_memo *m);

/* ---- eval_memo.c ---- */

void eval_fmemo_free(struct fmemo *m);

/* The memo key for a call's arguments (a new array), NULL on memory. */
struct rv *eval_memo_args(struct rv *const *args, size_t nargs);

/* A remembered result (*ret NULL: undefined); false when not known. */
bool eval_memo_get(struct q *q, uint32_t node, struct rv *args, struct rv **ret);

/* Remembers a result (NULL: undefined); silently skipped past the cap. */
void eval_memo_put(struct q *q, uint32_t node, struct rv *args, struct rv *result);

/* ---- eval_metadata.c ---- */

/* rego.metadata.rule() and rego.metadata.chain(): the METADATA annotations
 * of the rule whose text contains the call. */
int eval_metadata_rule(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		       struct rv **ret);
int eval_metadata_chain(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			struct rv **ret);
