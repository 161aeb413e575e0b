/* A JSON tokenizer for OSV records (RFC 8259): one pass that validates the
 * whole document, UTF-8 included, and records every value as a token
 * without copying text. A database has hundreds of thousands of small
 * records, and jansson's allocation of every node cost more time than the
 * file reads. Strings are decoded only when a record keeps them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "supply/osv_internal.h"
#include "supply/utf8.h"

struct parser {
	struct osv_json *json;
	const char *text;
	const char *p;
	const char *end;
	struct wd_error *err;
};

void osv_json_init(struct osv_json *json, size_t max_tokens, size_t max_depth)
{
	*json = (struct osv_json){ .max_tokens = max_tokens, .max_depth = max_depth };
}

void osv_json_free(struct osv_json *json)
{
	if (!json)
		return;
	free(json->tokens);
	json->tokens = NULL;
	json->count = 0;
	json->cap = 0;
}

/* Fails with reason, naming the 1-based line and byte column of at. */
static int fail_at(struct parser *ps, const char *at, const char *reason)
{
	size_t line = 1, column = 1;

	for (const char *c = ps->text; c < at; c++) {
		if (*c == '\n') {
			line++;
			column = 1;
		} else {
			column++;
		}
	}
	return wd_error_set(ps->err, WD_EINVAL, "invalid JSON at line %zu column %zu: %s", line,
		column, reason);
}

static int push(struct parser *ps, enum osv_json_type type, const char *start, size_t len,
	uint32_t *ret_index)
{
	struct osv_json *json = ps->json;

	if (json->count >= json->max_tokens)
		return wd_error_set(ps->err, WD_ETOOBIG, "JSON document has more than %zu values",
			json->max_tokens);
	if (json->count == json->cap) {
		size_t cap = json->cap ? json->cap * 2 : 256;
		struct osv_json_token *grown;

		if (cap > json->max_tokens)
			cap = json->max_tokens;
		grown = wd_reallocarray(json->tokens, cap, sizeof(*grown));
		if (!grown)
			return wd_error_set(ps->err, WD_ENOMEM, "out of memory for %zu JSON values", cap);
		json->tokens = grown;
		json->cap = cap;
	}
	json->tokens[json->count] = (struct osv_json_token){
		.type = (uint8_t)type,
		.start = (uint32_t)(start - ps->text),
		.len = (uint32_t)len,
	};
	*ret_index = (uint32_t)json->count++;
	return 0;
}

static void skip_space(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
		ps->p++;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Reads the four hex digits after "\u" at s; -1 when they are not hex. */
static long hex4(const char *s)
{
	long value = 0;

	for (int i = 0; i < 4; i++) {
		int digit = hex_value(s[i]);

		if (digit < 0)
			return -1;
		value = value * 16 + digit;
	}
	return value;
}

/* Checks the escape at ps->p (the backslash) and moves past it. */
static int check_escape(struct parser *ps, bool *ret_escaped)
{
	const char *at = ps->p;
	long unit;

	*ret_escaped = true;
	if (ps->end - ps->p < 2)
		return fail_at(ps, at, "unterminated string");
	if (strchr("\"\\/bfnrt", ps->p[1]) && ps->p[1] != '\0') {
		ps->p += 2;
		return 0;
	}
	if (ps->p[1] != 'u')
		return fail_at(ps, at, "invalid escape in string");
	if (ps->end - ps->p < 6 || (unit = hex4(ps->p + 2)) < 0)
		return fail_at(ps, at, "invalid \\u escape in string");
	ps->p += 6;
	if (unit == 0)
		return fail_at(ps, at, "escaped NUL in string");
	if (unit >= 0xdc00 && unit <= 0xdfff)
		return fail_at(ps, at, "unpaired surrogate in string");
	if (unit >= 0xd800 && unit <= 0xdbff) {
		long low;

		if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' ||
		    (low = hex4(ps->p + 2)) < 0xdc00 || low > 0xdfff)
			return fail_at(ps, at, "unpaired surrogate in string");
		ps->p += 6;
	}
	return 0;
}

static int parse_string(struct parser *ps, uint32_t *ret_index)
{
	const char *start = ++ps->p;
	bool escaped = false;
	uint32_t index;

	for (;;) {
		unsigned char c;

		if (ps->p >= ps->end)
			return fail_at(ps, start - 1, "unterminated string");
		c = (unsigned char)*ps->p;
		if (c == '"')
			break;
		if (c == '\\') {
			WD_TRY(check_escape(ps, &escaped));
		} else if (c < 0x20) {
			return fail_at(ps, ps->p, "control character in string");
		} else if (c < 0x80) {
			ps->p++;
		} else {
			size_t len = supply_utf8_sequence((const unsigned char *)ps->p,
				(const unsigned char *)ps->end);

			if (len == 0)
				return fail_at(ps, ps->p, "invalid UTF-8 in string");
			ps->p += len;
		}
	}
	WD_TRY(push(ps, OSV_JSON_STRING, start, (size_t)(ps->p - start), &index));
	ps->json->tokens[index].escaped = escaped;
	ps->p++;
	*ret_index = index;
	return 0;
}

static size_t count_digits(const struct parser *ps, const char *p)
{
	size_t n = 0;

	while (p + n < ps->end && p[n] >= '0' && p[n] <= '9')
		n++;
	return n;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int parse_number(struct parser *ps)
{
	const char *start = ps->p;
	size_t digits;
	uint32_t index;

	if (*ps->p == '-')
		ps->p++;
	digits = count_digits(ps, ps->p);
	if (digits == 0 || (digits > 1 && *ps->p == '0'))
		return fail_at(ps, start, "invalid number");
	ps->p += digits;
	if (ps->p < ps->end && *ps->p == '.') {
		digits = count_digits(ps, ++ps->p);
		if (digits == 0)
			return fail_at(ps, start, "invalid number");
		ps->p += digits;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		digits = count_digits(ps, ps->p);
		if (digits == 0)
			return fail_at(ps, start, "invalid number");
		ps->p += digits;
	}
	return push(ps, OSV_JSON_NUMBER, start, (size_t)(ps->p - start), &index);
}

static int parse_literal(struct parser *ps)
{
	static const struct {
		const char *text;
		enum osv_json_type type;
	} literals[] = {
		{ "true", OSV_JSON_TRUE },
		{ "false", OSV_JSON_FALSE },
		{ "null", OSV_JSON_NULL },
	};
	uint32_t index;

	for (size_t i = 0; i < WD_ARRAY_LEN(literals); i++) {
		size_t len = strlen(literals[i].text);

		if ((size_t)(ps->end - ps->p) >= len && !memcmp(ps->p, literals[i].text, len)) {
			const char *start = ps->p;

			ps->p += len;
			return push(ps, literals[i].type, start, len, &index);
		}
	}
	return fail_at(ps, ps->p, "unexpected character");
}

static int parse_value(struct parser *ps, size_t depth);

/* Parses the members or elements after '{' or '[' up to the closing
 * bracket, and sets the container's count and next. */
static int parse_container(struct parser *ps, size_t depth, bool object)
{
	const char close = object ? '}' : ']';
	const char *open = ps->p;
	uint32_t index;
	uint32_t count = 0;

	if (depth > ps->json->max_depth)
		return fail_at(ps, ps->p, "nesting too deep");
	WD_TRY(push(ps, object ? OSV_JSON_OBJECT : OSV_JSON_ARRAY, ps->p, 1, &index));
	ps->p++;
	skip_space(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		ps->json->tokens[index].next = (uint32_t)ps->json->count;
		return 0;
	}

	for (;;) {
		if (object) {
			skip_space(ps);
			uint32_t key;

			if (ps->p >= ps->end || *ps->p != '"')
				return fail_at(ps, ps->p, "expected a string key");
			WD_TRY(parse_string(ps, &key));
			ps->json->tokens[key].next = key + 1;
			skip_space(ps);
			if (ps->p >= ps->end || *ps->p != ':')
				return fail_at(ps, ps->p, "expected ':'");
			ps->p++;
		}
		WD_TRY(parse_value(ps, depth + 1));
		if (count == UINT32_MAX)
			return fail_at(ps, ps->p, "too many members");
		count++;
		skip_space(ps);
		if (ps->p >= ps->end)
			return fail_at(ps, open, object ? "unterminated object" : "unterminated array");
		if (*ps->p == close)
			break;
		if (*ps->p != ',')
			return fail_at(ps, ps->p, object ? "expected ',' or '}'" : "expected ',' or ']'");
		ps->p++;
	}
	ps->p++;
	ps->json->tokens[index].count = count;
	ps->json->tokens[index].next = (uint32_t)ps->json->count;
	return 0;
}

static int parse_value(struct parser *ps, size_t depth)
{
	uint32_t index;
	int rc;

	skip_space(ps);
	if (ps->p >= ps->end)
		return fail_at(ps, ps->p, "unexpected end of input");
	switch (*ps->p) {
	case '{':
		return parse_container(ps, depth, true);
	case '[':
		return parse_container(ps, depth, false);
	case '"':
		rc = parse_string(ps, &index);
		break;
	case '-':
	case '0' ... '9':
		rc = parse_number(ps);
		index = (uint32_t)ps->json->count - 1;
		break;
	default:
		rc = parse_literal(ps);
		index = (uint32_t)ps->json->count - 1;
		break;
	}
	if (rc < 0)
		return rc;
	ps->json->tokens[index].next = index + 1;
	return 0;
}

int osv_json_parse(struct osv_json *json, const char *text, size_t len, struct wd_error *err)
{
	struct parser ps = {
		.json = json,
		.text = text,
		.p = text,
		.end = text + len,
		.err = err,
	};

	json->text = text;
	json->text_len = len;
	json->count = 0;
	if (len > UINT32_MAX - 1)
		return wd_error_set(err, WD_ETOOBIG, "JSON document larger than 4 GiB");
	WD_TRY(parse_value(&ps, 1));
	skip_space(&ps);
	if (ps.p != ps.end)
		return fail_at(&ps, ps.p, "text after the JSON value");
	return 0;
}

/* Writes the code point cp as UTF-8 to out; returns the bytes written. */
static size_t put_utf8(unsigned long cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Decodes len bytes of string text that osv_json_parse validated into out,
 * which has room for len + 1 bytes (no escape decodes to more bytes than
 * it takes), and terminates it. Returns the decoded length. */
static size_t decode(const char *s, size_t len, char *out)
{
	static const char simple_from[] = "\"\\/bfnrt";
	static const char simple_to[] = "\"\\/\b\f\n\r\t";
	size_t n = 0;

	for (size_t i = 0; i < len;) {
		if (s[i] != '\\') {
			out[n++] = s[i++];
			continue;
		}
		if (s[i + 1] != 'u') {
			out[n++] = simple_to[strchr(simple_from, s[i + 1]) - simple_from];
			i += 2;
			continue;
		}

		unsigned long cp = (unsigned long)hex4(s + i + 2);

		i += 6;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			unsigned long low = (unsigned long)hex4(s + i + 2);

			cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
			i += 6;
		}
		n += put_utf8(cp, out + n);
	}
	out[n] = '\0';
	return n;
}

char *osv_json_string_dup(const struct osv_json *json, uint32_t index, struct osv_arena *arena)
{
	const struct osv_json_token *token = &json->tokens[index];
	const char *s = json->text + token->start;
	char *out = osv_arena_alloc(arena, (size_t)token->len + 1);

	if (!out)
		return NULL;
	if (!token->escaped) {
		memcpy(out, s, token->len);
		out[token->len] = '\0';
	} else {
		decode(s, token->len, out);
	}
	return out;
}

/* Compares the string at index with text_len bytes of text. */
static bool string_equals_n(const struct osv_json *json, uint32_t index, const char *text,
	size_t text_len)
{
	const struct osv_json_token *token = &json->tokens[index];
	const char *s = json->text + token->start;
	char small[256];
	char *buf;
	bool equal;

	if (token->type != OSV_JSON_STRING)
		return false;
	if (!token->escaped)
		return token->len == text_len && memcmp(s, text, text_len) == 0;

	/* Decoding never lengthens, so a shorter raw text cannot match. */
	if (token->len < text_len)
		return false;
	buf = token->len < sizeof(small) ? small : malloc((size_t)token->len + 1);
	if (!buf)
		return false;
	equal = decode(s, token->len, buf) == text_len && memcmp(buf, text, text_len) == 0;
	if (buf != small)
		free(buf);
	return equal;
}

bool osv_json_string_equals(const struct osv_json *json, uint32_t index, const char *text)
{
	return string_equals_n(json, index, text, strlen(text));
}

int osv_json_member(const struct osv_json *json, uint32_t obj, const char *key,
	uint32_t *ret_value, struct wd_error *err)
{
	const struct osv_json_token *tokens = json->tokens;
	uint32_t k = osv_json_first_child(obj);
	size_t key_len = strlen(key);
	bool found = false;

	for (uint32_t i = 0; i < tokens[obj].count; i++) {
		uint32_t value = k + 1;

		/* Most keys differ in length, which needs no byte compared. */
		if ((tokens[k].escaped || tokens[k].len == key_len) &&
		    string_equals_n(json, k, key, key_len)) {
			if (found)
				return wd_error_set(err, WD_EINVAL, "duplicate key \"%s\"", key);
			found = true;
			*ret_value = value;
		}
		k = tokens[value].next;
	}
	return found ? 1 : 0;
}
