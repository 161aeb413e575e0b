/* The compiled form of a module set: the rule tree under `data`, per-rule
 * data and the callee encoding shared by the compiler and evaluator. */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/ast.h"
#include "policy/builtin.h"
#include "policy/policy.h"
#include "policy/value.h"

/* Slots of the root documents; locals have slots >= 0. */
#define SLOT_UNRESOLVED (-1)
#define SLOT_DATA (-2)
#define SLOT_INPUT (-3)

/* A resolved call operator is rewritten to an RT_VAR whose slot encodes the
 * callee: the kind in the top bits and an index below. */
#define CALLEE_KIND_SHIFT 24
#define CALLEE_BUILTIN 1   /* index into the registry's list (builtin_index) */
#define CALLEE_EVAL 2      /* index into the evaluator's own table */
#define CALLEE_USER 3      /* node id of a user function */
#define CALLEE_ENCODE(kind, idx) ((int32_t)(((uint32_t)(kind) << CALLEE_KIND_SHIFT) | (uint32_t)(idx)))
#define CALLEE_KIND(slot) ((uint32_t)(slot) >> CALLEE_KIND_SHIFT)
#define CALLEE_INDEX(slot) ((uint32_t)(slot) & ((1u << CALLEE_KIND_SHIFT) - 1))

/* A node of the rule tree. */
enum cnode_kind {
	CN_NAMESPACE = 0,  /* only children and base data */
	CN_COMPLETE,       /* complete rules: one value */
	CN_SET,            /* multi-value rules: a set */
	CN_OBJECT,         /* rules with a dynamic head suffix: an object */
	CN_FUNCTION,       /* function definitions */
};

struct rule_index;

/* One node of the tree under data: a package, a rule or an intermediate
 * segment of a rule's head. */
struct cnode {
	struct rv *key;               /* frozen segment; NULL for data itself */
	char *path;                   /* "data.a.b" */
	struct cnode *parent;
	struct cnode **children;
	size_t children_len;
	size_t children_cap;
	struct cnode **child_hash;    /* while building: children by key */
	size_t child_hash_cap;
	struct rego_rule **rules;     /* rules whose ground head prefix ends here */
	size_t rules_len;
	size_t rules_cap;
	struct rego_rule *default_rule;
	enum cnode_kind kind;
	uint32_t id;                  /* index into per-query caches */
	uint32_t arity;               /* CN_FUNCTION */
	/* All rules have the same constant value, so the first success decides
	 * the document (OPA's early exit). */
	bool early_exit;
	struct rule_index *index;     /* NULL when the rules are not indexed */
	/* Recursion check state. */
	uint8_t visit;
	/* The first segment of a rule head (not a subpackage): its name is
	 * visible unqualified inside the package. */
	bool rule_head;
};

/* Per-rule compiled data, stored in rule->index. */
struct crule {
	struct cnode *node;           /* node of the ground head prefix */
	struct rego_term **suffix;    /* head terms after the ground prefix */
	size_t suffix_len;
	bool set_leaf;                /* multi-value: key is a set member */
	bool const_value;             /* value is a constant */
	struct rv *value_const;       /* frozen constant value, when const_value */
	struct cnode *package;        /* node of the rule's package */
};

/* The immutable base data shared by a builder and the engines built from
 * it; freed when the last holder lets go. */
struct data_holder {
	atomic_uint refs;
	struct rv *data;              /* frozen object */
};

/* Slots of an engine's cache of compiled queries (one entry per slot). */
#define QUERY_CACHE_SLOTS 64

struct compiled_query;

struct rego_engine {
	atomic_uint refs;
	struct rego_limits limits;
	struct rego_module **modules;
	size_t modules_len;
	struct data_holder *data;
	struct cnode *root;           /* data */
	struct cnode **nodes;         /* by id */
	size_t nodes_len;
	struct rego_arena *arena;     /* compiler-made terms and strings */
	struct rv **owned;            /* frozen values the compiler made */
	size_t owned_len;
	size_t owned_cap;
	pthread_mutex_t qlock;        /* guards qcache and entry references */
	struct compiled_query *qcache[QUERY_CACHE_SLOTS];
};

/* Freezes v and keeps it until the engine is freed; returns v, or NULL
 * (and drops v) when memory runs out. */
struct rv *engine_own(struct rego_engine *e, struct rv *v);

/* ---- compile.c ---- */

/* Builds the rule tree and checks every module; fills errs on failure. */
WD_MUST_CHECK int compile_modules(struct rego_engine *e, struct rego_errors *errs);

/* Finds the node at a dotted path below root ("data.a.b"); NULL if absent. */
struct cnode *cnode_find_path(struct cnode *root, const char *path);

/* A private, unfrozen deep copy of v: for values that must outlive the
 * syntax tree or engine they came from, or be frozen by a new owner.
 * NULL when memory runs out. */
struct rv *value_deep_copy(const struct rv *v);

/* Builds a new, unfrozen value for a term without variables, refs or calls;
 * NULL when it has any or memory runs out. */
struct rv *term_const_value(const struct rego_term *t);

/* Child of node with the given key; NULL if absent. */
struct cnode *cnode_child(const struct cnode *node, const struct rv *key);

/* Frees the tree (not the rules, which live in module arenas). */
void cnode_free(struct cnode *node);

/* ---- compile_resolve.c ---- */

struct global;

/* The context of name resolution: the engine, the module (NULL for a query) and
 * the names visible in it without qualification, built once per module. */
struct resolve_env {
	struct rego_engine *engine;
	struct rego_module *module;   /* NULL for a query */
	struct rego_arena *arena;     /* for new terms */
	struct rego_errors *errs;
	struct cnode *package;        /* the module's package node */
	struct global *globals;       /* sorted by name; freed by resolve_env_free */
	size_t globals_len;
	size_t globals_cap;
	bool globals_ready;
};

/* Frees what resolution cached in env. */
void resolve_env_free(struct resolve_env *env);

/* Resolves names, assigns local slots and reorders a rule for safety. */
WD_MUST_CHECK int compile_rule(struct resolve_env *env, struct rego_rule *rule);

/* ---- compile_check.c ---- */

/* Rejects recursion between rules and functions. */
WD_MUST_CHECK int compile_check_recursion(struct rego_engine *e, struct rego_errors *errs);

/* Builtin lookup by global index (the registry order plus nothing else). */
const struct rego_builtin *builtin_by_index(uint32_t idx);
int32_t builtin_index_of(const struct rego_builtin *bi);

/* ---- eval_builtins.c ---- */

/* The builtins the evaluator owns; looked up before the registry. */
const struct rego_builtin *eval_builtin_find(const char *name);
const struct rego_builtin *eval_builtin_at(uint32_t idx);
int32_t eval_builtin_index_of(const struct rego_builtin *bi);

/* ---- compile_index.c ---- */

/* Builds the input-equality index of a node's rules when it pays off. */
WD_MUST_CHECK int compile_index_node(struct cnode *node);
void rule_index_free(struct rule_index *index);

/* Shared helpers for a ref's name, "data.a.b" or "count" (only leading
 * var and string items); false when it has other items. */
bool ref_static_name(const struct rego_term *ref, struct wd_buf *out);

/* A user variable of a query, reported in its bindings. */
struct query_var {
	const char *name;
	int32_t slot;
};

struct query_vars {
	struct query_var *items;      /* malloc'd */
	size_t len;
};

/* Resolves and reorders a query body; lists its user variables. */
WD_MUST_CHECK int compile_query_body(struct resolve_env *env, struct rego_body *body,
				     int32_t *ret_slots, struct query_vars *ret_vars);

/* ---- compile_fold.c ---- */

/* Replaces constant arrays, objects and sets by frozen values. */
void compile_fold_rule(struct resolve_env *env, struct rego_rule *rule);
void compile_fold_body(struct resolve_env *env, struct rego_body *body);

/* ---- compile_query_cache.c ---- */

/* A parsed and compiled query, shared read-only by the queries running it;
 * refs is guarded by the engine's qlock. */
struct compiled_query {
	char *text;
	size_t len;
	uint64_t hash;
	struct rego_arena *arena;
	struct rego_body *body;
	int32_t nslots;
	struct query_vars vars;
	unsigned refs;
};

/* Returns the compiled form of a query, from the cache or made now, with a
 * reference for the caller; NULL with *ret_rc set (WD_EINVAL with parse or
 * compile errors in errs, or WD_ENOMEM). */
struct compiled_query *query_cache_acquire(struct rego_engine *e, const char *text, size_t len,
					   struct rego_errors *errs, int *ret_rc);

/* Drops the caller's reference. */
void query_cache_release(struct rego_engine *e, struct compiled_query *cq);

/* Drops every cached entry; only for the engine's last owner. */
void query_cache_free(struct rego_engine *e);

/* ---- compile_safety.c ---- */

/* A nested body's own slots: [start, end). */
struct scope_range {
	const struct rego_body *body;
	int32_t start;
	int32_t end;
};

struct safety_ctx {
	struct rego_engine *engine;
	struct rego_errors *errs;
	int32_t nslots;
	struct scope_range *ranges;
	size_t ranges_len;
	int rc;
};

/* Reorders body so every variable is bound before use, starting with the
 * slots set in bound (a bitset of nslots bits); adds the variables the body
 * binds to bound. Unsafe variables are reported as rego_unsafe_var_error. */
WD_MUST_CHECK int safety_body(struct safety_ctx *sc, struct rego_body *body, uint64_t *bound);

/* Reports head terms whose variables the body does not bind. */
WD_MUST_CHECK int safety_head_term(struct safety_ctx *sc, struct rego_term *t,
				   const uint64_t *bound);

/* Sets the bits of every local variable in t (not inside nested bodies,
 * but including their free variables). */
void safety_term_vars(struct safety_ctx *sc, const struct rego_term *t, uint64_t *set);
