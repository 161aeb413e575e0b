/* Private state of the Rego parser, shared by its files (terms, expressions,
 * rules and modules, templates). The parser follows OPA's recursive descent
 * with backtracking: a saved state is a small struct copied by value. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/ast.h"
#include "policy/lexer.h"

/* One recorded error; a persistent list so that restoring a state restores
 * exactly the errors it had. */
struct perr {
	struct perr *prev;
	struct rego_loc loc;
	const char *msg;
};

/* A Rego v1 check (`if` required, ...) to report once parsing succeeded. */
struct pcheck {
	struct pcheck *next;
	struct rego_loc loc;
	const char *msg;
};

struct check_list {
	struct pcheck *head;
	struct pcheck *tail;
};

/* What the Rego v1 checks need to know of one rule or else branch. */
struct rule_flags {
	struct rego_loc loc;
	const char *name;      /* the rule's name when its ref has one part */
	bool function;
	bool is_default;
	bool has_body;
	bool generated_body;
	bool generated_value;
	bool kw_if;
	bool kw_contains;
	bool multi_value;
};

/* The rules of one statement: a rule and the rules chained to it by
 * further bodies (`p if {...} {...}`). */
struct rule_out {
	struct rego_rule **rules;
	size_t len;
	size_t cap;
	struct check_list checks;
};

struct pstate {
	uint32_t pos;          /* index of the current token */
	bool at_ws;            /* the current token is the blank before pos */
	bool as_ident;         /* a keyword to be read as an identifier */
	bool skipped_nl;       /* a newline came before the current token */
	uint32_t last_end;     /* end of the last token before the current one */
	uint32_t wildcard;     /* next `_` number */
	uint32_t nerrs;
	struct perr *errs;
	const char *hint;
};

struct pcache_entry {
	uint32_t pos;
	bool as_ident;
	struct rego_term *term;
	struct pstate post;
};

struct parser {
	struct rego_arena *arena;
	const char *file;
	const char *src;
	size_t src_len;
	struct rego_token *toks;
	size_t ntoks;
	struct rego_comment *comments;
	size_t ncomments;
	struct pstate s;
	uint32_t depth;
	uint32_t max_depth;
	bool depth_hit;
	bool oom;
	/* Terms already parsed at a position, so that backtracking stays
	 * linear: a stack ordered by position, as OPA keeps it. */
	struct pcache_entry *cache;
	size_t cache_len;
	size_t cache_cap;
};

/* A growable list of term pointers in the arena. */
struct tvec {
	struct rego_term **items;
	size_t len;
	size_t cap;
};

/* ---- parser_core.c ---- */

int rp_init(struct parser *p, struct rego_arena *arena, const char *file,
		const char *src, size_t len, struct rego_tokens *toks);
void rp_fini(struct parser *p);

enum rego_tok rp_tok(const struct parser *p);
const struct rego_token *rp_cur(const struct parser *p);
struct rego_loc rp_cur_loc(const struct parser *p);
uint32_t rp_cur_offset(const struct parser *p);
uint32_t rp_tok_end(const struct parser *p);
enum rego_tok rp_peek_ws(const struct parser *p);

void rp_scan(struct parser *p);
void rp_scan_ws(struct parser *p);
static inline struct pstate rp_save(const struct parser *p)
{
	return p->s;
}
static inline void rp_restore(struct parser *p, struct pstate s)
{
	p->s = s;
}

bool rp_enter(struct parser *p);
void rp_leave(struct parser *p);

void rp_error(struct parser *p, struct rego_loc loc, const char *fmt, ...) WD_PRINTF(3, 4);
void rp_illegal(struct parser *p, const char *fmt, ...) WD_PRINTF(2, 3);
void rp_hint(struct parser *p, const char *text);

void *rp_alloc(struct parser *p, size_t size);
char *rp_strndup(struct parser *p, const char *s, size_t len);
struct rv *rp_keep(struct parser *p, struct rv *v);
int rp_tvec_push(struct parser *p, struct tvec *v, struct rego_term *t);

/* loc with its text extended (or cut) to end at byte end. */
struct rego_loc rp_loc_span(struct rego_loc loc, uint32_t end);

/* True when a term was parsed at the current position before: the state
 * after it is restored and *ret set (NULL for a failed parse). */
bool rp_cache_lookup(struct parser *p, struct rego_term **ret);
void rp_cache_push(struct parser *p, struct rego_term *t, const struct pstate *before);

/* ---- parser_terms.c ---- */

struct rego_term *rp_new_term(struct parser *p, enum rego_term_kind kind, struct rego_loc loc);
struct rego_term *rp_new_var(struct parser *p, const char *name, size_t len, struct rego_loc loc);
struct rego_term *rp_new_string(struct parser *p, const char *s, size_t len, struct rego_loc loc);
struct rego_term *rp_new_bool(struct parser *p, bool b, struct rego_loc loc);
struct rego_term *rp_new_ref(struct parser *p, struct rego_term **items, size_t len,
			  struct rego_loc loc);
struct rego_term *rp_new_call(struct parser *p, struct rego_term *op, struct rego_term **args,
			   size_t len, struct rego_loc loc);
struct rego_term *rp_op_ref(struct parser *p, const char *name, const char *second,
			 struct rego_loc loc);

struct rego_term *rp_parse_term(struct parser *p);
struct rego_term *rp_parse_var(struct parser *p);
struct rego_term *rp_parse_ref(struct parser *p, struct rego_term *head, uint32_t offset);
struct rego_term *rp_parse_term_infix_call(struct parser *p);
struct rego_term *rp_parse_term_infix_call_in_list(struct parser *p);
struct rego_term *rp_parse_term_op(struct parser *p, const enum rego_tok *ops, size_t n);

bool rp_term_is_ground(const struct rego_term *t);
bool rp_is_root_doc(const struct rego_term *t);
bool rp_term_is_op(const struct rego_term *t, const char *name);
const char *rp_value_name(const struct rego_term *t);
const char *rp_term_str(struct parser *p, const struct rego_term *t);
bool rp_decode_json_string(struct parser *p, const char *s, size_t len, bool template,
			char **ret, size_t *ret_len);

/* ---- parser_templates.c ---- */

struct rego_term *rp_parse_template(struct parser *p, bool raw);

/* ---- parser_exprs.c ---- */

struct rego_body *rp_parse_body(struct parser *p, enum rego_tok end);
struct rego_body *rp_parse_query(struct parser *p, bool require_semi, enum rego_tok end);
struct rego_expr *rp_parse_literal(struct parser *p);
struct rego_body *rp_body_of(struct parser *p, struct rego_expr **exprs, size_t len);

/* ---- parser_rules.c ---- */

struct rego_term *rp_parse_package(struct parser *p, struct rego_loc *ret_loc);
struct rego_import *rp_parse_import(struct parser *p);
bool rp_parse_rules(struct parser *p, struct rule_out *out);
/* Appends the Rego v1 errors of one rule to list, in OPA's order. */
void rp_v1_checks(struct parser *p, struct check_list *list, const struct rule_flags *f);
enum rego_rule_kind rp_rule_kind(const struct rego_rule *r, bool multi_value);
int rp_rules_push(struct parser *p, struct rule_out *out, struct rego_rule *r);
