/* The Rego tokenizer, private to the parser: turns a whole source into an
 * array of tokens with the positions and scan errors OPA's scanner reports. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macros.h"

enum rego_tok {
	TK_ILLEGAL = 0,
	TK_EOF,
	TK_WS,            /* never stored: the parser's view of skipped blanks */
	TK_IDENT,
	/* keywords */
	TK_PACKAGE,
	TK_IMPORT,
	TK_AS,
	TK_DEFAULT,
	TK_ELSE,
	TK_NOT,
	TK_SOME,
	TK_WITH,
	TK_NULL,
	TK_TRUE,
	TK_FALSE,
	TK_EVERY,
	TK_CONTAINS,
	TK_IF,
	TK_IN,
	/* literals */
	TK_NUMBER,
	TK_STRING,        /* "..." or `...` */
	TK_TPL_PART,      /* $"text{ or }text{ */
	TK_TPL_END,       /* $"text" or }text" */
	TK_RAW_TPL_PART,  /* $`text{ or }text{ */
	TK_RAW_TPL_END,   /* $`text` or }text` */
	/* punctuation */
	TK_LBRACK,
	TK_RBRACK,
	TK_LBRACE,
	TK_RBRACE,
	TK_LPAREN,
	TK_RPAREN,
	TK_COMMA,
	TK_COLON,
	TK_ADD,
	TK_SUB,
	TK_MUL,
	TK_QUO,
	TK_REM,
	TK_AND,
	TK_OR,
	TK_UNIFY,
	TK_EQUAL,
	TK_ASSIGN,
	TK_NEQ,
	TK_GT,
	TK_LT,
	TK_GTE,
	TK_LTE,
	TK_DOT,
	TK_SEMICOLON,
	TK_COUNT_,
};

enum {
	TOKF_WS = 1u << 0, /* blanks (or a comment) come right before the token */
	TOKF_NL = 1u << 1, /* those blanks hold a newline */
};

struct rego_token {
	uint8_t kind;          /* enum rego_tok */
	uint8_t flags;         /* TOKF_* */
	uint32_t offset;       /* first byte of the token */
	uint32_t end;          /* byte after the token */
	uint32_t row;          /* as OPA counts: 1-based rows, columns in characters */
	uint32_t col;
	uint32_t lit_off;      /* strings and template parts: the text between */
	uint32_t lit_len;      /* the delimiters, escapes still in place */
	const char *error;     /* scan error (static text); kind is then ILLEGAL */
};

/* A comment, kept for METADATA blocks. */
struct rego_comment {
	uint32_t offset;       /* the byte after '#' */
	uint32_t len;          /* text up to the newline, without a CR */
	uint32_t row;
	uint32_t col;
};

struct rego_tokens {
	struct rego_token *items;   /* malloc'd; the last one is TK_EOF */
	size_t len;
	struct rego_comment *comments;
	size_t comments_len;
};

/* Tokenizes len bytes of source. Scan errors become TK_ILLEGAL tokens, so
 * this fails only with WD_ENOMEM or WD_ETOOBIG (len above UINT32_MAX). */
WD_MUST_CHECK int rego_lex(const char *src, size_t len, struct rego_tokens *ret);

void rego_tokens_free(struct rego_tokens *toks);

/* The token's name as OPA's messages spell it: "ident", "eof", "assign". */
const char *rego_tok_name(enum rego_tok kind);

/* True for the words the v1 scanner knows as keywords. */
bool rego_tok_is_keyword(enum rego_tok kind);

/* The keyword token of a word, or TK_IDENT. */
enum rego_tok rego_tok_keyword(const char *word, size_t len);
