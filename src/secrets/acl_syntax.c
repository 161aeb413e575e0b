/* Reader of policy text (see acl_syntax.h): a lexer that checks every read
 * against the end of the bytes, and a recursive descent parser whose depth
 * and number of values are capped. Newlines and commas both separate
 * members, so HCL blocks and JSON objects read with the same rules. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "secrets/acl_internal.h"
#include "secrets/acl_syntax.h"

/* Bytes of one arena chunk; a longer string gets a chunk of its own. */
#define ARENA_CHUNK_BYTES 16384u
/* Labels a block may carry (`path "a" { }` has one). */
#define MAX_LABELS 4u
/* Bytes of a token quoted in an error message. */
#define QUOTE_MAX 64

struct arena_chunk {
	struct arena_chunk *next;
	size_t used;
	size_t cap;
	unsigned char data[];
};

struct acl_document {
	struct arena_chunk *chunks;
	struct acl_value *root;
	size_t values;
};

enum token_kind {
	TOKEN_EOF,
	TOKEN_LBRACE,
	TOKEN_RBRACE,
	TOKEN_LBRACKET,
	TOKEN_RBRACKET,
	TOKEN_ASSIGN,   /* '=' in HCL, ':' in JSON */
	TOKEN_COMMA,
	TOKEN_STRING,
	TOKEN_IDENT,
	TOKEN_NUMBER,
};

struct token {
	enum token_kind kind;
	unsigned line;
	const char *text;  /* STRING: decoded in the arena; others: in the source */
	size_t len;
};

struct parser {
	const char *src;
	size_t len;
	size_t pos;
	unsigned line;
	unsigned depth;
	struct acl_document *doc;
	struct wd_error *err;
	struct token token;  /* the current token */
};

struct label {
	const char *text;
	size_t len;
	unsigned line;
};

static void *arena_alloc(struct acl_document *doc, size_t size)
{
	struct arena_chunk *chunk = doc->chunks;
	void *ptr;

	/* Values hold pointers and size_t, so every block starts 8-aligned. */
	size = (size + 7u) & ~(size_t)7u;
	if (!chunk || chunk->cap - chunk->used < size) {
		size_t cap = size > ARENA_CHUNK_BYTES ? size : ARENA_CHUNK_BYTES;

		chunk = malloc(sizeof(*chunk) + cap);
		if (!chunk)
			return NULL;
		chunk->next = doc->chunks;
		chunk->used = 0;
		chunk->cap = cap;
		doc->chunks = chunk;
	}
	ptr = chunk->data + chunk->used;
	chunk->used += size;
	return ptr;
}

static char *arena_strndup(struct acl_document *doc, const char *text, size_t len)
{
	char *copy = arena_alloc(doc, len + 1);

	if (!copy)
		return NULL;
	memcpy(copy, text, len);
	copy[len] = '\0';
	return copy;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident_char(char c)
{
	return is_ident_start(c) || is_digit(c) || c == '-' || c == '.';
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static char peek(const struct parser *p, size_t ahead)
{
	return p->pos + ahead < p->len ? p->src[p->pos + ahead] : '\0';
}

/* Returns the length of the UTF-8 sequence at s (at most avail bytes), or
 * 0 when it is not well-formed (RFC 3629: no overlong forms, surrogates or
 * code points past U+10FFFF). */
static size_t utf8_sequence_len(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1fu;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0fu;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07u;
	else
		return 0;
	if (avail < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0u) != 0x80u)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static size_t utf8_encode(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Writes a short description of the current token for error messages. */
static void describe_token(const struct token *token, char *out, size_t size)
{
	int len = token->len > QUOTE_MAX ? QUOTE_MAX : (int)token->len;

	switch (token->kind) {
	case TOKEN_EOF:
		snprintf(out, size, "end of input");
		break;
	case TOKEN_STRING:
		snprintf(out, size, "string \"%.*s\"", len, token->text);
		break;
	case TOKEN_IDENT:
		snprintf(out, size, "identifier \"%.*s\"", len, token->text);
		break;
	case TOKEN_NUMBER:
		snprintf(out, size, "number %.*s", len, token->text);
		break;
	default:
		snprintf(out, size, "'%c'", token->text[0]);
		break;
	}
}

static int unexpected(struct parser *p, const char *expected)
{
	char found[QUOTE_MAX + 32];

	describe_token(&p->token, found, sizeof(found));
	return wd_error_set(p->err, WD_EINVAL, "expected %s but found %s at line %u", expected, found,
		p->token.line);
}

static int skip_block_comment(struct parser *p)
{
	unsigned start = p->line;

	p->pos += 2;
	while (p->pos < p->len) {
		if (p->src[p->pos] == '*' && peek(p, 1) == '/') {
			p->pos += 2;
			return 0;
		}
		if (p->src[p->pos] == '\n')
			p->line++;
		p->pos++;
	}
	return wd_error_set(p->err, WD_EINVAL, "unterminated comment starting at line %u", start);
}

static int skip_blank(struct parser *p)
{
	while (p->pos < p->len) {
		char c = p->src[p->pos];

		if (c == '\n') {
			p->line++;
			p->pos++;
		} else if (c == ' ' || c == '\t' || c == '\r') {
			p->pos++;
		} else if (c == '#' || (c == '/' && peek(p, 1) == '/')) {
			while (p->pos < p->len && p->src[p->pos] != '\n')
				p->pos++;
		} else if (c == '/' && peek(p, 1) == '*') {
			WD_TRY(skip_block_comment(p));
		} else {
			break;
		}
	}
	return 0;
}

/* Reads the four hex digits of a \u escape at src[at]. */
static int read_hex4(const struct parser *p, size_t at, uint32_t *ret_value)
{
	uint32_t value = 0;

	if (at + 4 > p->len)
		return -1;
	for (size_t i = 0; i < 4; i++) {
		int digit = hex_digit(p->src[at + i]);

		if (digit < 0)
			return -1;
		value = value << 4 | (uint32_t)digit;
	}
	*ret_value = value;
	return 0;
}

/* Decodes a \u escape (a UTF-16 surrogate pair takes two) starting at the
 * 'u'; advances *at past it and appends the UTF-8 bytes at out. */
static int decode_unicode_escape(struct parser *p, size_t *at, char *out, size_t *ret_written)
{
	uint32_t cp, low;

	if (read_hex4(p, *at + 1, &cp) < 0)
		return wd_error_set(p->err, WD_EINVAL, "invalid \\u escape in string at line %u",
			p->line);
	*at += 5;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return wd_error_set(p->err, WD_EINVAL, "unpaired UTF-16 surrogate in string at line %u",
			p->line);
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (*at + 1 >= p->len || p->src[*at] != '\\' || p->src[*at + 1] != 'u' ||
		    read_hex4(p, *at + 2, &low) < 0 || low < 0xdc00 || low > 0xdfff)
			return wd_error_set(p->err, WD_EINVAL,
				"unpaired UTF-16 surrogate in string at line %u", p->line);
		cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
		*at += 6;
	}
	if (cp == 0)
		return wd_error_set(p->err, WD_EINVAL, "NUL character in string at line %u", p->line);
	*ret_written = utf8_encode(cp, out);
	return 0;
}

static int decode_escape(struct parser *p, size_t *at, char *out, size_t *ret_written)
{
	static const char from[] = "\"\\/bfnrt";
	static const char to[] = "\"\\/\b\f\n\r\t";
	char c = *at + 1 < p->len ? p->src[*at + 1] : '\0';
	const char *hit = c ? strchr(from, c) : NULL;

	if (c == 'u') {
		*at += 1;
		return decode_unicode_escape(p, at, out, ret_written);
	}
	if (!hit) {
		if (c >= 0x21 && c <= 0x7e)
			return wd_error_set(p->err, WD_EINVAL, "invalid escape \"\\%c\" in string at line %u",
				c, p->line);
		return wd_error_set(p->err, WD_EINVAL, "invalid escape in string at line %u", p->line);
	}
	out[0] = to[hit - from];
	*ret_written = 1;
	*at += 2;
	return 0;
}

/* Lexes a quoted string into the arena. The decoded text is never longer
 * than the quoted bytes, so one allocation of that size suffices. */
static int lex_string(struct parser *p)
{
	size_t end = p->pos + 1, at, used = 0;
	char *out;

	while (end < p->len && p->src[end] != '"' && p->src[end] != '\n')
		end += p->src[end] == '\\' ? 2 : 1;
	if (end >= p->len || p->src[end] != '"')
		return wd_error_set(p->err, WD_EINVAL, "unterminated string at line %u", p->line);

	out = arena_alloc(p->doc, end - p->pos);
	if (!out)
		return WD_ENOMEM;
	at = p->pos + 1;
	while (at < end) {
		unsigned char c = (unsigned char)p->src[at];
		size_t n = 0;

		if (c == '\\') {
			WD_TRY(decode_escape(p, &at, out + used, &n));
			used += n;
			continue;
		}
		if (c < 0x20 && c != '\t')
			return wd_error_set(p->err, WD_EINVAL, "control character in string at line %u",
				p->line);
		n = utf8_sequence_len((const unsigned char *)p->src + at, end - at);
		if (n == 0)
			return wd_error_set(p->err, WD_EINVAL, "invalid UTF-8 in string at line %u", p->line);
		memcpy(out + used, p->src + at, n);
		used += n;
		at += n;
	}
	out[used] = '\0';
	p->token.kind = TOKEN_STRING;
	p->token.text = out;
	p->token.len = used;
	p->pos = end + 1;
	return 0;
}

static size_t skip_digits(const struct parser *p, size_t at)
{
	while (at < p->len && is_digit(p->src[at]))
		at++;
	return at;
}

/* Lexes -?digits(.digits)?([eE][+-]?digits)? as JSON writes numbers. */
static int lex_number(struct parser *p)
{
	size_t at = p->pos, digits;

	if (p->src[at] == '-')
		at++;
	digits = at;
	at = skip_digits(p, at);
	if (at == digits)
		goto bad;
	if (at < p->len && p->src[at] == '.') {
		digits = ++at;
		at = skip_digits(p, at);
		if (at == digits)
			goto bad;
	}
	if (at < p->len && (p->src[at] == 'e' || p->src[at] == 'E')) {
		at++;
		if (at < p->len && (p->src[at] == '+' || p->src[at] == '-'))
			at++;
		digits = at;
		at = skip_digits(p, at);
		if (at == digits)
			goto bad;
	}
	if (at < p->len && is_ident_char(p->src[at]))
		goto bad;
	p->token.kind = TOKEN_NUMBER;
	p->token.text = p->src + p->pos;
	p->token.len = at - p->pos;
	p->pos = at;
	return 0;
bad:
	return wd_error_set(p->err, WD_EINVAL, "invalid number at line %u", p->line);
}

static int lex_punctuation(struct parser *p, enum token_kind kind)
{
	p->token.kind = kind;
	p->token.text = p->src + p->pos;
	p->token.len = 1;
	p->pos++;
	return 0;
}

static int next_token(struct parser *p)
{
	char c;

	WD_TRY(skip_blank(p));
	p->token.line = p->line;
	if (p->pos >= p->len) {
		p->token.kind = TOKEN_EOF;
		p->token.text = "";
		p->token.len = 0;
		return 0;
	}

	c = p->src[p->pos];
	switch (c) {
	case '{':
		return lex_punctuation(p, TOKEN_LBRACE);
	case '}':
		return lex_punctuation(p, TOKEN_RBRACE);
	case '[':
		return lex_punctuation(p, TOKEN_LBRACKET);
	case ']':
		return lex_punctuation(p, TOKEN_RBRACKET);
	case '=':
	case ':':
		return lex_punctuation(p, TOKEN_ASSIGN);
	case ',':
		return lex_punctuation(p, TOKEN_COMMA);
	case '"':
		return lex_string(p);
	default:
		break;
	}
	if (c == '-' || is_digit(c))
		return lex_number(p);
	if (is_ident_start(c)) {
		size_t start = p->pos;

		while (p->pos < p->len && is_ident_char(p->src[p->pos]))
			p->pos++;
		p->token.kind = TOKEN_IDENT;
		p->token.text = p->src + start;
		p->token.len = p->pos - start;
		return 0;
	}
	if (c == '<' && peek(p, 1) == '<')
		return wd_error_set(p->err, WD_EINVAL, "heredoc strings are not supported at line %u",
			p->line);
	if (c >= 0x21 && c <= 0x7e)
		return wd_error_set(p->err, WD_EINVAL, "unexpected character '%c' at line %u", c, p->line);
	return wd_error_set(p->err, WD_EINVAL, "unexpected byte 0x%02x at line %u", (unsigned char)c,
		p->line);
}

static int new_value(struct parser *p, enum acl_value_kind kind, unsigned line,
	struct acl_value **ret_value)
{
	struct acl_value *value;

	if (p->doc->values >= ACL_POLICY_MAX_VALUES)
		return wd_error_set(p->err, WD_ETOOBIG, "policy holds more than %u values at line %u",
			ACL_POLICY_MAX_VALUES, line);
	value = arena_alloc(p->doc, sizeof(*value));
	if (!value)
		return WD_ENOMEM;
	memset(value, 0, sizeof(*value));
	value->kind = kind;
	value->line = line;
	p->doc->values++;
	*ret_value = value;
	return 0;
}

static int parse_value(struct parser *p, struct acl_value **ret_value);

static int enter(struct parser *p)
{
	if (p->depth >= ACL_POLICY_MAX_DEPTH)
		return wd_error_set(p->err, WD_ETOOBIG, "policy is nested deeper than %u levels at line %u",
			ACL_POLICY_MAX_DEPTH, p->token.line);
	p->depth++;
	return 0;
}

static int parse_list(struct parser *p, struct acl_value **ret_value)
{
	struct acl_value *list, **tail;

	WD_TRY(enter(p));
	WD_TRY(new_value(p, ACL_VALUE_LIST, p->token.line, &list));
	tail = &list->first;
	WD_TRY(next_token(p));
	while (p->token.kind != TOKEN_RBRACKET) {
		WD_TRY(parse_value(p, tail));
		tail = &(*tail)->next;
		if (p->token.kind == TOKEN_COMMA)
			WD_TRY(next_token(p));
		else if (p->token.kind != TOKEN_RBRACKET)
			return unexpected(p, "',' or ']'");
	}
	WD_TRY(next_token(p));
	p->depth--;
	*ret_value = list;
	return 0;
}

static int parse_members(struct parser *p, struct acl_value *object, enum token_kind end);

static int parse_object(struct parser *p, struct acl_value **ret_value)
{
	struct acl_value *object = NULL;

	WD_TRY(enter(p));
	WD_TRY(new_value(p, ACL_VALUE_OBJECT, p->token.line, &object));
	WD_TRY(next_token(p));
	WD_TRY(parse_members(p, object, TOKEN_RBRACE));
	WD_TRY(next_token(p));
	p->depth--;
	*ret_value = object;
	return 0;
}

static int parse_scalar(struct parser *p, struct acl_value **ret_value)
{
	const struct token *token = &p->token;
	struct acl_value *value;

	if (token->kind == TOKEN_IDENT) {
		bool is_true = token->len == 4 && memcmp(token->text, "true", 4) == 0;
		bool is_false = token->len == 5 && memcmp(token->text, "false", 5) == 0;

		if (!is_true && !is_false)
			return unexpected(p, "a value");
		WD_TRY(new_value(p, ACL_VALUE_BOOL, token->line, &value));
		value->boolean = is_true;
		value->text = is_true ? "true" : "false";
		value->len = token->len;
	} else if (token->kind == TOKEN_STRING || token->kind == TOKEN_NUMBER) {
		WD_TRY(new_value(p, token->kind == TOKEN_STRING ? ACL_VALUE_STRING : ACL_VALUE_NUMBER,
			token->line, &value));
		/* Decoded strings already sit in the arena; numbers point at the source. */
		value->text = token->kind == TOKEN_STRING ? token->text :
			arena_strndup(p->doc, token->text, token->len);
		if (!value->text)
			return WD_ENOMEM;
		value->len = token->len;
	} else {
		return unexpected(p, "a value");
	}
	WD_TRY(next_token(p));
	*ret_value = value;
	return 0;
}

static int parse_value(struct parser *p, struct acl_value **ret_value)
{
	if (p->token.kind == TOKEN_LBRACKET)
		return parse_list(p, ret_value);
	if (p->token.kind == TOKEN_LBRACE)
		return parse_object(p, ret_value);
	return parse_scalar(p, ret_value);
}

static int read_key(struct parser *p, struct label *ret_key)
{
	if (p->token.kind != TOKEN_IDENT && p->token.kind != TOKEN_STRING)
		return unexpected(p, "a key");
	ret_key->text = p->token.kind == TOKEN_STRING ? p->token.text :
		arena_strndup(p->doc, p->token.text, p->token.len);
	if (!ret_key->text)
		return WD_ENOMEM;
	ret_key->len = p->token.len;
	ret_key->line = p->token.line;
	return next_token(p);
}

/* Parses `key label... = value` or `key label... { ... }` and stores the
 * member, with each label turned into a one-member object around the
 * value. */
static int parse_member(struct parser *p, struct acl_value **ret_member)
{
	struct label keys[MAX_LABELS + 1];
	size_t count = 0;
	struct acl_value *value;

	WD_TRY(read_key(p, &keys[count++]));
	while (p->token.kind == TOKEN_STRING || p->token.kind == TOKEN_IDENT) {
		if (count > MAX_LABELS)
			return wd_error_set(p->err, WD_EINVAL, "block has more than %u labels at line %u",
				MAX_LABELS, p->token.line);
		WD_TRY(read_key(p, &keys[count++]));
	}

	if (p->token.kind == TOKEN_ASSIGN)
		WD_TRY(next_token(p));
	else if (p->token.kind != TOKEN_LBRACE)
		return unexpected(p, "'=' or '{'");
	WD_TRY(parse_value(p, &value));

	for (size_t i = count; i-- > 1;) {
		struct acl_value *wrapper;

		value->key = keys[i].text;
		value->key_len = keys[i].len;
		WD_TRY(new_value(p, ACL_VALUE_OBJECT, keys[i].line, &wrapper));
		wrapper->first = value;
		value = wrapper;
	}
	value->key = keys[0].text;
	value->key_len = keys[0].len;
	*ret_member = value;
	return 0;
}

static int parse_members(struct parser *p, struct acl_value *object, enum token_kind end)
{
	struct acl_value **tail = &object->first;

	while (p->token.kind != end) {
		if (p->token.kind == TOKEN_EOF)
			return unexpected(p, "'}'");
		WD_TRY(parse_member(p, tail));
		tail = &(*tail)->next;
		if (p->token.kind == TOKEN_COMMA)
			WD_TRY(next_token(p));
	}
	return 0;
}

static int parse_document(struct parser *p)
{
	WD_TRY(next_token(p));
	if (p->token.kind == TOKEN_LBRACE) {
		/* JSON: one object and nothing after it. */
		WD_TRY(parse_object(p, &p->doc->root));
		if (p->token.kind != TOKEN_EOF)
			return unexpected(p, "end of input");
		return 0;
	}
	WD_TRY(new_value(p, ACL_VALUE_OBJECT, 1, &p->doc->root));
	return parse_members(p, p->doc->root, TOKEN_EOF);
}

int acl_syntax_parse(const char *text, size_t len, struct acl_document **ret_doc,
	struct wd_error *err)
{
	struct parser parser = { 0 };
	struct acl_document *doc;
	int rc;

	*ret_doc = NULL;
	if (len > ACL_POLICY_MAX_BYTES)
		return wd_error_set(err, WD_ETOOBIG, "policy text is longer than %u bytes",
			ACL_POLICY_MAX_BYTES);
	doc = calloc(1, sizeof(*doc));
	if (!doc)
		return WD_ENOMEM;

	parser.src = text ? text : "";
	parser.len = text ? len : 0;
	parser.line = 1;
	parser.doc = doc;
	parser.err = err;
	rc = parse_document(&parser);
	if (rc < 0) {
		if (rc == WD_ENOMEM)
			wd_error_set(err, WD_ENOMEM, "out of memory reading the policy");
		acl_document_free(doc);
		return rc;
	}
	*ret_doc = doc;
	return 0;
}

const struct acl_value *acl_document_root(const struct acl_document *doc)
{
	return doc->root;
}

void acl_document_free(struct acl_document *doc)
{
	struct arena_chunk *chunk, *next;

	if (!doc)
		return;
	for (chunk = doc->chunks; chunk; chunk = next) {
		next = chunk->next;
		free(chunk);
	}
	free(doc);
}
