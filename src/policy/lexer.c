/* The Rego tokenizer: scans a whole module up front, following OPA's scanner
 * for token boundaries, positions (rows, character columns) and the text of
 * its scan errors, so the parser can backtrack by index. */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "policy/ast.h"
#include "policy/lexer.h"

/* Template strings nest (`$"{$"{x}"}"`); deeper than this is refused. */
#define MAX_TEMPLATE_NESTING 1000u

struct frame {
	bool raw;
	uint32_t depth;   /* braces opened inside the embedded expression */
};

struct scanner {
	const unsigned char *bs;
	size_t len;
	size_t offset;    /* next byte to read */
	int32_t curr;     /* current character, -1 at the end */
	uint32_t width;   /* bytes of the current character */
	uint32_t row;
	uint32_t col;
	const char *err;  /* first scan error of the token being read */
	struct rego_tokens *out;
	size_t cap;
	size_t comments_cap;
	struct frame *frames;
	size_t frames_len;
	size_t frames_cap;
};

static const struct {
	const char *word;
	enum rego_tok kind;
} keywords[] = {
	{ "package", TK_PACKAGE }, { "import", TK_IMPORT }, { "as", TK_AS },
	{ "default", TK_DEFAULT }, { "else", TK_ELSE },     { "not", TK_NOT },
	{ "some", TK_SOME },       { "with", TK_WITH },     { "null", TK_NULL },
	{ "true", TK_TRUE },       { "false", TK_FALSE },   { "every", TK_EVERY },
	{ "contains", TK_CONTAINS }, { "if", TK_IF },       { "in", TK_IN },
};

static const char *const names[TK_COUNT_] = {
	[TK_ILLEGAL] = "illegal", [TK_EOF] = "eof", [TK_WS] = "whitespace",
	[TK_IDENT] = "ident", [TK_PACKAGE] = "package", [TK_IMPORT] = "import",
	[TK_AS] = "as", [TK_DEFAULT] = "default", [TK_ELSE] = "else",
	[TK_NOT] = "not", [TK_SOME] = "some", [TK_WITH] = "with",
	[TK_NULL] = "null", [TK_TRUE] = "true", [TK_FALSE] = "false",
	[TK_EVERY] = "every", [TK_CONTAINS] = "contains", [TK_IF] = "if",
	[TK_IN] = "in", [TK_NUMBER] = "number", [TK_STRING] = "string",
	[TK_TPL_PART] = "template-string-part", [TK_TPL_END] = "template-string-end",
	[TK_RAW_TPL_PART] = "raw-template-string-part",
	[TK_RAW_TPL_END] = "raw-template-string-end",
	[TK_LBRACK] = "[", [TK_RBRACK] = "]", [TK_LBRACE] = "{", [TK_RBRACE] = "}",
	[TK_LPAREN] = "(", [TK_RPAREN] = ")", [TK_COMMA] = ",", [TK_COLON] = ":",
	[TK_ADD] = "plus", [TK_SUB] = "minus", [TK_MUL] = "mul", [TK_QUO] = "div",
	[TK_REM] = "rem", [TK_AND] = "and", [TK_OR] = "or", [TK_UNIFY] = "eq",
	[TK_EQUAL] = "equal", [TK_ASSIGN] = "assign", [TK_NEQ] = "neq",
	[TK_GT] = "gt", [TK_LT] = "lt", [TK_GTE] = "gte", [TK_LTE] = "lte",
	[TK_DOT] = ".", [TK_SEMICOLON] = ";",
};

const char *rego_tok_name(enum rego_tok kind)
{
	if ((unsigned)kind >= TK_COUNT_ || !names[kind])
		return "unknown";
	return names[kind];
}

bool rego_tok_is_keyword(enum rego_tok kind)
{
	return kind >= TK_PACKAGE && kind <= TK_IN;
}

enum rego_tok rego_tok_keyword(const char *word, size_t len)
{
	for (size_t i = 0; i < WD_ARRAY_LEN(keywords); i++) {
		if (strlen(keywords[i].word) == len && memcmp(keywords[i].word, word, len) == 0)
			return keywords[i].kind;
	}
	return TK_IDENT;
}

static void scan_error(struct scanner *s, const char *msg)
{
	if (!s->err)
		s->err = msg;
}

/* Decodes one UTF-8 sequence as Go's utf8.DecodeRune does: invalid input
 * yields -2 with width 1. */
static int32_t decode_rune(const unsigned char *p, size_t avail, uint32_t *ret_width)
{
	uint32_t c = p[0];
	uint32_t need;
	uint32_t min;
	int32_t r;

	if (c < 0xC2 || c > 0xF4) {
		*ret_width = 1;
		return -2;
	}
	if (c < 0xE0) {
		need = 1;
		min = 0x80;
		r = (int32_t)(c & 0x1F);
	} else if (c < 0xF0) {
		need = 2;
		min = 0x800;
		r = (int32_t)(c & 0x0F);
	} else {
		need = 3;
		min = 0x10000;
		r = (int32_t)(c & 0x07);
	}
	if (avail < need + 1) {
		*ret_width = 1;
		return -2;
	}
	for (uint32_t i = 1; i <= need; i++) {
		if ((p[i] & 0xC0) != 0x80) {
			*ret_width = 1;
			return -2;
		}
		r = (r << 6) | (int32_t)(p[i] & 0x3F);
	}
	if ((uint32_t)r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) {
		*ret_width = 1;
		return -2;
	}
	*ret_width = need + 1;
	return r;
}

/* Moves to the next character, counting rows and columns as OPA does: a
 * newline starts the next row at column 0. */
static void next(struct scanner *s)
{
	if (s->offset >= s->len) {
		s->curr = -1;
		s->offset = s->len + 1;
		s->width = 1;
		return;
	}
	s->curr = s->bs[s->offset];
	s->width = 1;
	if (s->curr == 0) {
		scan_error(s, "illegal null character");
	} else if (s->curr >= 0x80) {
		s->curr = decode_rune(s->bs + s->offset, s->len - s->offset, &s->width);
		if (s->curr == -2)
			scan_error(s, "illegal utf-8 character");
		else if (s->curr == 0xFEFF && s->offset > 0)
			scan_error(s, "illegal byte-order mark");
	}
	s->offset += s->width;
	if (s->curr == '\n') {
		s->row++;
		s->col = 0;
	} else {
		s->col++;
	}
}

/* Byte index of the current character. */
static size_t here(const struct scanner *s)
{
	return s->offset - s->width;
}

static bool is_letter(int32_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_decimal(int32_t c)
{
	return c >= '0' && c <= '9';
}

static bool is_blank(int32_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int push_token(struct scanner *s, const struct rego_token *tok)
{
	struct rego_tokens *out = s->out;

	if (out->len == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct rego_token *grown = wd_reallocarray(out->items, cap, sizeof(*grown));

		if (!grown)
			return WD_ENOMEM;
		out->items = grown;
		s->cap = cap;
	}
	out->items[out->len++] = *tok;
	return 0;
}

static int push_comment(struct scanner *s, const struct rego_comment *c)
{
	struct rego_tokens *out = s->out;

	if (out->comments_len == s->comments_cap) {
		size_t cap = s->comments_cap ? s->comments_cap * 2 : 32;
		struct rego_comment *grown = wd_reallocarray(out->comments, cap, sizeof(*grown));

		if (!grown)
			return WD_ENOMEM;
		out->comments = grown;
		s->comments_cap = cap;
	}
	out->comments[out->comments_len++] = *c;
	return 0;
}

static int push_frame(struct scanner *s, bool raw)
{
	if (s->frames_len >= MAX_TEMPLATE_NESTING)
		return WD_ETOOBIG;
	if (s->frames_len == s->frames_cap) {
		size_t cap = s->frames_cap ? s->frames_cap * 2 : 8;
		struct frame *grown = wd_reallocarray(s->frames, cap, sizeof(*grown));

		if (!grown)
			return WD_ENOMEM;
		s->frames = grown;
		s->frames_cap = cap;
	}
	s->frames[s->frames_len].raw = raw;
	s->frames[s->frames_len].depth = 0;
	s->frames_len++;
	return 0;
}

static void scan_number(struct scanner *s)
{
	if (s->curr != '.') {
		while (is_decimal(s->curr))
			next(s);
	}
	if (s->curr == '.') {
		bool found = false;

		next(s);
		while (is_decimal(s->curr)) {
			next(s);
			found = true;
		}
		if (!found)
			scan_error(s, "expected fraction");
	}
	if (s->curr == 'e' || s->curr == 'E') {
		bool found = false;

		next(s);
		if (s->curr == '+' || s->curr == '-')
			next(s);
		while (is_decimal(s->curr)) {
			next(s);
			found = true;
		}
		if (!found)
			scan_error(s, "expected exponent");
	}
	/* OPA reads a number glued to letters ("0a2b") as one bad token. */
	if (is_letter(s->curr)) {
		scan_error(s, "illegal number format");
		while (is_letter(s->curr) || is_decimal(s->curr))
			next(s);
	}
}

/* Reads a "..." string after its opening quote; *ret_end is the byte index
 * where the content stops. */
static void scan_string(struct scanner *s, size_t *ret_end)
{
	for (;;) {
		int32_t ch = s->curr;

		if (ch == '\n' || ch < 0) {
			scan_error(s, "non-terminated string");
			*ret_end = here(s);
			return;
		}
		next(s);
		if (ch == '"') {
			*ret_end = here(s) - 1;
			return;
		}
		if (ch == '\\') {
			switch (s->curr) {
			case '\\': case '"': case '/': case 'b': case 'f':
			case 'n': case 'r': case 't':
				next(s);
				break;
			case 'u':
				/* Hex digits are checked when the string is decoded. */
				next(s);
				next(s);
				next(s);
				next(s);
				break;
			default:
				scan_error(s, "illegal escape sequence");
				break;
			}
		}
	}
}

static void scan_raw_string(struct scanner *s, size_t *ret_end)
{
	for (;;) {
		int32_t ch = s->curr;

		next(s);
		if (ch == '`') {
			*ret_end = here(s) - 1;
			return;
		}
		if (ch < 0) {
			scan_error(s, "non-terminated string");
			*ret_end = s->len;
			return;
		}
	}
}

/* Reads template text up to the closing delimiter (end) or an embedded
 * expression's `{` (part); `\{` is a literal brace. */
static enum rego_tok scan_template(struct scanner *s, bool raw, size_t *ret_end)
{
	for (;;) {
		int32_t ch = s->curr;

		if ((!raw && ch == '\n') || ch < 0) {
			scan_error(s, "non-terminated string");
			*ret_end = ch < 0 ? s->len : here(s);
			return raw ? TK_RAW_TPL_END : TK_TPL_END;
		}
		next(s);
		if (ch == (raw ? '`' : '"')) {
			*ret_end = here(s) - 1;
			return raw ? TK_RAW_TPL_END : TK_TPL_END;
		}
		if (ch == '{') {
			*ret_end = here(s) - 1;
			return raw ? TK_RAW_TPL_PART : TK_TPL_PART;
		}
		if (ch != '\\')
			continue;
		if (raw) {
			if (s->curr == '{')
				next(s);
			continue;
		}
		switch (s->curr) {
		case '\\': case '"': case '/': case 'b': case 'f':
		case 'n': case 'r': case 't': case '{':
			next(s);
			break;
		case 'u':
			next(s);
			next(s);
			next(s);
			next(s);
			break;
		default:
			scan_error(s, "illegal escape sequence");
			break;
		}
	}
}

static void scan_comment(struct scanner *s, struct rego_comment *c)
{
	size_t start = here(s);
	size_t end;

	while (s->curr != '\n' && s->curr != -1)
		next(s);
	end = here(s);
	if (end > start && s->bs[end - 1] == '\r')
		end--;
	c->offset = (uint32_t)start;
	c->len = (uint32_t)(end - start);
}

/* Scans the template text that follows an embedded expression's `}`. */
static int continue_template(struct scanner *s, uint8_t flags)
{
	struct rego_token tok = { 0 };
	struct frame f = s->frames[--s->frames_len];
	size_t lit_end;
	int rc;

	s->err = NULL;
	tok.offset = (uint32_t)here(s);
	tok.row = s->row;
	tok.col = s->col;
	tok.lit_off = tok.offset;
	tok.kind = (uint8_t)scan_template(s, f.raw, &lit_end);
	tok.lit_len = (uint32_t)(lit_end - tok.lit_off);
	tok.end = (uint32_t)here(s);
	tok.flags = flags;
	if (tok.kind == TK_TPL_PART || tok.kind == TK_RAW_TPL_PART) {
		rc = push_frame(s, f.raw);
		if (rc == WD_ETOOBIG)
			scan_error(s, "max parsing recursion depth exceeded");
		else if (rc < 0)
			return rc;
	}
	if (s->err) {
		tok.kind = TK_ILLEGAL;
		tok.error = s->err;
	}
	return push_token(s, &tok);
}

/* Scans one token at the current character into tok; returns 1 for blanks
 * and comments that produce no token. */
static int scan_one(struct scanner *s, struct rego_token *tok, uint8_t *flags)
{
	int32_t ch;
	size_t lit_end;
	int rc;

	if (is_blank(s->curr)) {
		*flags |= TOKF_WS;
		if (s->curr == '\n')
			*flags |= TOKF_NL;
		next(s);
		return 1;
	}
	if (is_letter(s->curr)) {
		size_t start = here(s);

		while (is_letter(s->curr) || is_decimal(s->curr))
			next(s);
		tok->kind = (uint8_t)rego_tok_keyword((const char *)s->bs + start, here(s) - start);
		return 0;
	}
	if (is_decimal(s->curr)) {
		scan_number(s);
		tok->kind = TK_NUMBER;
		return 0;
	}

	ch = s->curr;
	next(s);
	switch (ch) {
	case -1:
		tok->kind = TK_EOF;
		break;
	case '#': {
		struct rego_comment c = { .row = tok->row, .col = tok->col };

		scan_comment(s, &c);
		if (s->err)
			break;
		rc = push_comment(s, &c);
		return rc < 0 ? rc : 1;
	}
	case '"':
		tok->lit_off = (uint32_t)here(s);
		scan_string(s, &lit_end);
		tok->lit_len = (uint32_t)(lit_end - tok->lit_off);
		tok->kind = TK_STRING;
		break;
	case '`':
		tok->lit_off = (uint32_t)here(s);
		scan_raw_string(s, &lit_end);
		tok->lit_len = (uint32_t)(lit_end - tok->lit_off);
		tok->kind = TK_STRING;
		break;
	case '[': tok->kind = TK_LBRACK; break;
	case ']': tok->kind = TK_RBRACK; break;
	case '{':
		tok->kind = TK_LBRACE;
		if (s->frames_len)
			s->frames[s->frames_len - 1].depth++;
		break;
	case '}':
		tok->kind = TK_RBRACE;
		if (s->frames_len) {
			if (s->frames[s->frames_len - 1].depth == 0)
				return 2;
			s->frames[s->frames_len - 1].depth--;
		}
		break;
	case '(': tok->kind = TK_LPAREN; break;
	case ')': tok->kind = TK_RPAREN; break;
	case ',': tok->kind = TK_COMMA; break;
	case ';': tok->kind = TK_SEMICOLON; break;
	case '.': tok->kind = TK_DOT; break;
	case '+': tok->kind = TK_ADD; break;
	case '-': tok->kind = TK_SUB; break;
	case '*': tok->kind = TK_MUL; break;
	case '/': tok->kind = TK_QUO; break;
	case '%': tok->kind = TK_REM; break;
	case '&': tok->kind = TK_AND; break;
	case '|': tok->kind = TK_OR; break;
	case ':':
		tok->kind = TK_COLON;
		if (s->curr == '=') {
			next(s);
			tok->kind = TK_ASSIGN;
		}
		break;
	case '=':
		tok->kind = TK_UNIFY;
		if (s->curr == '=') {
			next(s);
			tok->kind = TK_EQUAL;
		}
		break;
	case '>':
		tok->kind = TK_GT;
		if (s->curr == '=') {
			next(s);
			tok->kind = TK_GTE;
		}
		break;
	case '<':
		tok->kind = TK_LT;
		if (s->curr == '=') {
			next(s);
			tok->kind = TK_LTE;
		}
		break;
	case '!':
		if (s->curr == '=') {
			next(s);
			tok->kind = TK_NEQ;
		} else {
			scan_error(s, "illegal ! character");
		}
		break;
	case '$':
		if (s->curr == '"' || s->curr == '`') {
			bool raw = s->curr == '`';

			next(s);
			tok->lit_off = (uint32_t)here(s);
			tok->kind = (uint8_t)scan_template(s, raw, &lit_end);
			tok->lit_len = (uint32_t)(lit_end - tok->lit_off);
			if (tok->kind == TK_TPL_PART || tok->kind == TK_RAW_TPL_PART) {
				rc = push_frame(s, raw);
				if (rc == WD_ETOOBIG)
					scan_error(s, "max parsing recursion depth exceeded");
				else if (rc < 0)
					return rc;
			}
		} else {
			scan_error(s, "illegal $ character");
		}
		break;
	default:
		/* Any other character is an illegal token without a scan error. */
		tok->kind = TK_ILLEGAL;
		break;
	}
	return 0;
}

int rego_lex(const char *src, size_t len, struct rego_tokens *ret)
{
	struct scanner s = { 0 };
	uint8_t flags = 0;
	int rc = 0;

	memset(ret, 0, sizeof(*ret));
	if (len >= UINT32_MAX)
		return WD_ETOOBIG;
	s.bs = (const unsigned char *)src;
	s.len = len;
	s.row = 1;
	s.curr = -1;
	s.out = ret;

	next(&s);
	if (s.curr == 0xFEFF)
		next(&s);

	for (;;) {
		struct rego_token tok = { 0 };

		tok.offset = (uint32_t)here(&s);
		tok.row = s.row;
		tok.col = s.col;
		rc = scan_one(&s, &tok, &flags);
		if (rc < 0)
			goto out;
		if (rc == 1 && !s.err)
			continue;
		tok.end = (uint32_t)here(&s);
		tok.flags = flags;
		if (rc == 2) {
			/* The `}` closing a template's embedded expression. */
			tok.kind = TK_RBRACE;
			if (s.err) {
				tok.kind = TK_ILLEGAL;
				tok.error = s.err;
			}
			s.err = NULL;
			WD_GUARD(push_token(&s, &tok));
			WD_GUARD(continue_template(&s, 0));
			s.err = NULL;
			flags = 0;
			continue;
		}
		if (s.err) {
			/* Blanks and comments with a bad character become an
			 * illegal token where they stand, as in OPA. */
			tok.kind = TK_ILLEGAL;
			tok.error = s.err;
		}
		s.err = NULL;
		flags = 0;
		WD_GUARD(push_token(&s, &tok));
		if (tok.kind == TK_EOF && s.curr == -1)
			break;
	}
	rc = 0;
out:
	free(s.frames);
	if (rc < 0)
		rego_tokens_free(ret);
	return rc;
}

void rego_tokens_free(struct rego_tokens *toks)
{
	if (!toks)
		return;
	free(toks->items);
	free(toks->comments);
	toks->items = NULL;
	toks->comments = NULL;
	toks->len = 0;
	toks->comments_len = 0;
}
