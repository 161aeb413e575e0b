/* Private interface of name resolution, shared by its files: symbols and
 * scopes (compile_scope.c), terms, calls and with targets
 * (compile_resolve.c), and the rule and query entry points (compile_rule.c). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "policy/compile.h"

/* Locals of a rule or query; a ceiling keeps the slot bitsets small. */
#define MAX_SLOTS 4096

/* A local variable name and its slot. */
struct sym {
	const char *name;
	int32_t slot;           /* -1 until first use */
	bool declared;          /* some, :=, function argument, some-in */
	bool used;              /* referenced before any := */
	bool unused_some;       /* declared by `some x` and not referenced yet */
	const struct rego_loc *decl_loc;
};

/* The names of one body; nested bodies (comprehensions, every) nest. */
struct scope {
	struct scope *parent;
	struct sym *syms;
	size_t len;
	size_t cap;
};

/* A name visible without qualification and the ref it stands for. */
struct global {
	const char *name;
	struct rego_term **items;
	size_t len;
	size_t order;                 /* imports first, then rules */
};

/* One resolution: a rule or query with its globals, scopes and slots. */
struct rctx {
	struct resolve_env *env;
	const struct global *globals; /* borrowed from env, sorted by name */
	size_t globals_len;
	struct scope *cur;
	int32_t nslots;
	struct scope_range *ranges;
	size_t ranges_len;
	size_t ranges_cap;
	int rc;
};

/* Records the first failure code of a resolution. */
void rs_fail(struct rctx *c, int rc);

/* Adds a compile error at loc and fails the resolution. */
void rs_error_at(struct rctx *c, const char *code, const struct rego_loc *loc,
		 const char *fmt, ...) WD_PRINTF(4, 5);

/* A zeroed term from the arena; NULL (and failure) on memory. */
struct rego_term *rs_new_term(struct rctx *c, enum rego_term_kind kind,
			      const struct rego_loc *loc);

/* True for `data` and `input`. */
bool rs_is_root_name(const char *name);

/* The symbol of name in one scope, or NULL. */
struct sym *rs_scope_find(struct scope *sc, const char *name);

/* The symbol of name in the current scope or an enclosing one. */
struct sym *rs_lookup(struct rctx *c, const char *name);

/* Adds name to the current scope without a slot yet. */
struct sym *rs_scope_add(struct rctx *c, const char *name);

/* The symbol's slot, allocated on first use. */
int32_t rs_sym_slot(struct rctx *c, struct sym *s);

/* The package rule or import named name, or NULL. */
const struct global *rs_global_find(struct rctx *c, const char *name);

/* Opens a nested scope. */
void rs_scope_push(struct rctx *c, struct scope *sc);

/* Closes the current scope. */
void rs_scope_pop(struct rctx *c);

/* Records the slots a nested body owns, from start to now. */
void rs_range_add(struct rctx *c, const struct rego_body *body, int32_t start);

/* Adds the names a term uses that nothing defines to the current scope. */
void rs_collect_term(struct rctx *c, const struct rego_term *t);

/* True for `x := v`. */
bool rs_is_assign_call(const struct rego_term *t);

/* Adds the implicit locals of a body to the current scope. */
void rs_collect_body(struct rctx *c, const struct rego_body *body);

/* Declares every variable of a pattern (`some`, `:=`). */
void rs_declare_pattern(struct rctx *c, struct rego_term *t, bool assign);

/* Declares the variables of function argument patterns. */
void rs_declare_args(struct rctx *c, const struct rego_term *t);

/* The dotted name of a call operator or with target. */
bool rs_op_name(const struct rego_term *op, struct wd_buf *out);

/* Resolves names, slots and callees inside a term. */
void rs_resolve_term(struct rctx *c, struct rego_term *t);

/* Resolves an expression, declaring what it declares. */
void rs_resolve_expr(struct rctx *c, struct rego_expr *e);
