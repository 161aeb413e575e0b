/* GraphQL lexer (spec section 2.1, October 2021 edition) with gqlparser's
 * token positions and messages, which OPA's graphql builtins print. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "policy/gql.h"

void gql_lexer_init(struct gql_lexer *lx, struct gql_arena *arena, const char *src, size_t len)
{
	memset(lx, 0, sizeof(*lx));
	lx->arena = arena;
	lx->src = src;
	lx->len = len;
	lx->line = 1;
}

const char *gql_token_kind_name(enum gql_token_kind kind)
{
	static const char *const names[] = {
		[GQL_T_INVALID] = "<Invalid>", [GQL_T_EOF] = "<EOF>", [GQL_T_BANG] = "!",
		[GQL_T_DOLLAR] = "$", [GQL_T_AMP] = "&", [GQL_T_PAREN_L] = "(",
		[GQL_T_PAREN_R] = ")", [GQL_T_SPREAD] = "...", [GQL_T_COLON] = ":",
		[GQL_T_EQUALS] = "=", [GQL_T_AT] = "@", [GQL_T_BRACKET_L] = "[",
		[GQL_T_BRACKET_R] = "]", [GQL_T_BRACE_L] = "{", [GQL_T_BRACE_R] = "}",
		[GQL_T_PIPE] = "|", [GQL_T_NAME] = "Name", [GQL_T_INT] = "Int",
		[GQL_T_FLOAT] = "Float", [GQL_T_STRING] = "String",
		[GQL_T_BLOCK_STRING] = "BlockString",
	};

	if ((size_t)kind >= WD_ARRAY_LEN(names))
		return "Unknown";
	return names[kind];
}

/* Width of the code point at s[0], 1 for a byte that starts no valid UTF-8
 * sequence, as Go's utf8.DecodeRuneInString steps. */
static size_t rune_width(const unsigned char *s, size_t left)
{
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 1;
	if (left < n)
		return 1;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 1;
	if (n == 3 && s[0] == 0xe0 && s[1] < 0xa0)
		return 1;
	if (n == 3 && s[0] == 0xed && s[1] >= 0xa0)
		return 1;
	if (n == 4 && s[0] == 0xf0 && s[1] < 0x90)
		return 1;
	if (n == 4 && s[0] == 0xf4 && s[1] >= 0x90)
		return 1;
	return n;
}

/* A decoded string is at most three times its source: an invalid byte
 * becomes U+FFFD. */
static size_t value_ceiling(const struct gql_lexer *lx)
{
	return lx->len > (SIZE_MAX - 16) / 3 ? SIZE_MAX : lx->len * 3 + 16;
}

static int make_token(struct gql_lexer *lx, enum gql_token_kind kind, const char *value,
		      size_t len, struct gql_token *tok)
{
	tok->kind = kind;
	tok->value = gql_strndup(lx->arena, value, len);
	if (!tok->value)
		return WD_ENOMEM;
	tok->line = lx->line;
	tok->col = (int)(lx->start_runes - lx->line_start_runes + 1);
	tok->error = NULL;
	return 0;
}

/* An invalid token sits where the lexer stopped, not where it started. */
static int make_error(struct gql_lexer *lx, struct gql_token *tok, const char *fmt, ...)
	WD_PRINTF(3, 4);

static int make_error(struct gql_lexer *lx, struct gql_token *tok, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	tok->kind = GQL_T_INVALID;
	tok->value = "";
	tok->line = lx->line;
	tok->col = (int)(lx->end_runes - lx->line_start_runes + 1);
	tok->error = gql_strndup(lx->arena, msg, strlen(msg));
	return tok->error ? 0 : WD_ENOMEM;
}

static void newline(struct gql_lexer *lx)
{
	lx->line++;
	lx->line_start_runes = lx->end_runes;
}

static void skip_ignored(struct gql_lexer *lx)
{
	const unsigned char *s = (const unsigned char *)lx->src;

	while (lx->end < lx->len) {
		unsigned char c = s[lx->end];

		if (c == '\t' || c == ' ' || c == ',') {
			lx->end++;
			lx->end_runes++;
		} else if (c == '\n') {
			lx->end++;
			lx->end_runes++;
			newline(lx);
		} else if (c == '\r') {
			lx->end++;
			lx->end_runes++;
			newline(lx);
			if (lx->end < lx->len && s[lx->end] == '\n') {
				lx->end++;
				lx->end_runes++;
			}
		} else if (c == 0xef && lx->end + 2 < lx->len && s[lx->end + 1] == 0xbb &&
			   s[lx->end + 2] == 0xbf) {
			/* A byte order mark counts as one code point. */
			lx->end += 3;
			lx->end_runes++;
		} else if (c == '#') {
			/* A comment runs to the line end: any code point from
			 * U+0020 up, and tab. */
			lx->end++;
			lx->end_runes++;
			while (lx->end < lx->len) {
				unsigned char d = s[lx->end];

				if (d < 0x20 && d != '\t')
					break;
				lx->end += rune_width(s + lx->end, lx->len - lx->end);
				lx->end_runes++;
			}
		} else {
			return;
		}
	}
}

static size_t accept_digits(struct gql_lexer *lx)
{
	size_t n = 0;

	while (lx->end < lx->len && lx->src[lx->end] >= '0' && lx->src[lx->end] <= '9') {
		lx->end++;
		lx->end_runes++;
		n++;
	}
	return n;
}

static bool accept_byte(struct gql_lexer *lx, char a, char b)
{
	if (lx->end < lx->len && (lx->src[lx->end] == a || lx->src[lx->end] == b)) {
		lx->end++;
		lx->end_runes++;
		return true;
	}
	return false;
}

/* The character after a bad number, for its message. */
static void describe_next(const struct gql_lexer *lx, char *out, size_t cap)
{
	if (lx->end < lx->len)
		snprintf(out, cap, "\"%c\"", lx->src[lx->end]);
	else
		snprintf(out, cap, "<EOF>");
}

static int read_number(struct gql_lexer *lx, struct gql_token *tok)
{
	bool is_float = false;
	char next[16];

	lx->end = lx->start;
	lx->end_runes = lx->start_runes;
	accept_byte(lx, '-', '-');

	if (accept_byte(lx, '0', '0')) {
		size_t extra = accept_digits(lx);

		if (extra) {
			lx->end -= extra;
			lx->end_runes -= extra;
			describe_next(lx, next, sizeof(next));
			return make_error(lx, tok, "Invalid number, unexpected digit after 0: %s.", next);
		}
	} else if (accept_digits(lx) == 0) {
		describe_next(lx, next, sizeof(next));
		return make_error(lx, tok, "Invalid number, expected digit but got: %s.", next);
	}

	if (accept_byte(lx, '.', '.')) {
		is_float = true;
		if (accept_digits(lx) == 0) {
			describe_next(lx, next, sizeof(next));
			return make_error(lx, tok, "Invalid number, expected digit but got: %s.", next);
		}
	}
	if (accept_byte(lx, 'e', 'E')) {
		is_float = true;
		accept_byte(lx, '-', '+');
		if (accept_digits(lx) == 0) {
			describe_next(lx, next, sizeof(next));
			return make_error(lx, tok, "Invalid number, expected digit but got: %s.", next);
		}
	}
	return make_token(lx, is_float ? GQL_T_FLOAT : GQL_T_INT, lx->src + lx->start,
			  lx->end - lx->start, tok);
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

static int append_rune(struct wd_buf *buf, uint32_t cp)
{
	uint8_t out[4];
	size_t n;

	/* Surrogates encode as U+FFFD, as Go's WriteRune does. */
	if (cp >= 0xd800 && cp <= 0xdfff)
		cp = 0xfffd;
	if (cp < 0x80) {
		out[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800) {
		out[0] = (uint8_t)(0xc0 | (cp >> 6));
		out[1] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 2;
	} else {
		out[0] = (uint8_t)(0xe0 | (cp >> 12));
		out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 3;
	}
	return wd_buf_append(buf, out, n);
}

/* "..." with escapes; the value excludes the quotes. */
static int read_string(struct gql_lexer *lx, struct gql_token *tok)
{
	const unsigned char *s = (const unsigned char *)lx->src;
	struct wd_buf buf;
	bool escaped = false;
	int rc = 0;

	wd_buf_init(&buf, 64, value_ceiling(lx));
	lx->start++;
	lx->start_runes++;

	while (lx->end < lx->len) {
		unsigned char c = s[lx->end];

		if (c == '\n' || c == '\r')
			break;
		if (c < 0x20 && c != '\t') {
			rc = make_error(lx, tok, "Invalid character within String: \"\\u%04d\".", c);
			goto out;
		}
		if (c == '"') {
			if (escaped)
				rc = make_token(lx, GQL_T_STRING, wd_buf_str(&buf), wd_buf_len(&buf), tok);
			else
				rc = make_token(lx, GQL_T_STRING, lx->src + lx->start,
						lx->end - lx->start, tok);
			lx->end++;
			lx->end_runes++;
			goto out;
		}
		if (c != '\\') {
			size_t w = rune_width(s + lx->end, lx->len - lx->end);

			if (escaped) {
				if (w == 1 && c >= 0x80)
					WD_GUARD(append_rune(&buf, 0xfffd));
				else
					WD_GUARD(wd_buf_append(&buf, s + lx->end, w));
			}
			lx->end += w;
			lx->end_runes++;
			continue;
		}

		/* An escape sequence: from here on the value is rebuilt. */
		if (lx->end + 1 >= lx->len) {
			lx->end++;
			lx->end_runes++;
			rc = make_error(lx, tok, "Invalid character escape sequence.");
			goto out;
		}
		if (!escaped) {
			WD_GUARD(wd_buf_append(&buf, s + lx->start, lx->end - lx->start));
			escaped = true;
		}
		if (s[lx->end + 1] == 'u') {
			uint32_t cp = 0;

			if (lx->end + 6 >= lx->len) {
				lx->end++;
				lx->end_runes++;
				rc = make_error(lx, tok, "Invalid character escape sequence: \\%.*s.",
						(int)(lx->len - lx->end), lx->src + lx->end);
				goto out;
			}
			for (size_t i = 2; i < 6; i++) {
				int h = hex_value(lx->src[lx->end + i]);

				if (h < 0) {
					lx->end++;
					lx->end_runes++;
					rc = make_error(lx, tok,
							"Invalid character escape sequence: \\%.5s.",
							lx->src + lx->end);
					goto out;
				}
				cp = cp << 4 | (uint32_t)h;
			}
			WD_GUARD(append_rune(&buf, cp));
			lx->end += 6;
			lx->end_runes += 6;
			continue;
		}

		switch (s[lx->end + 1]) {
		case '"': case '/': case '\\':
			WD_GUARD(wd_buf_append_byte(&buf, s[lx->end + 1]));
			break;
		case 'b': WD_GUARD(wd_buf_append_byte(&buf, '\b')); break;
		case 'f': WD_GUARD(wd_buf_append_byte(&buf, '\f')); break;
		case 'n': WD_GUARD(wd_buf_append_byte(&buf, '\n')); break;
		case 'r': WD_GUARD(wd_buf_append_byte(&buf, '\r')); break;
		case 't': WD_GUARD(wd_buf_append_byte(&buf, '\t')); break;
		default:
			lx->end++;
			lx->end_runes++;
			rc = make_error(lx, tok, "Invalid character escape sequence: \\%c.",
					s[lx->end]);
			goto out;
		}
		lx->end += 2;
		lx->end_runes += 2;
	}
	rc = make_error(lx, tok, "Unterminated string.");
out:
	wd_buf_free(&buf);
	return rc;
}

static bool is_blank(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t')
			return false;
	return true;
}

static size_t leading_ws(const char *line, size_t len)
{
	size_t i = 0;

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	return i;
}

/* The spec's BlockStringValue, as gqlparser computes it: the common indent
 * is taken over every line that is not blank, the first one included. */
static int block_string_value(struct gql_lexer *lx, const char *raw, size_t len,
			      struct gql_token *tok)
{
	struct wd_buf out;
	size_t indent = SIZE_MAX, first = 0, last = 0, nlines = 0;
	bool any = false;
	int rc;

	for (size_t pos = 0;;) {
		const char *nl = memchr(raw + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - raw) : len;
		size_t ws = leading_ws(raw + pos, end - pos);

		if (ws < end - pos && ws < indent)
			indent = ws;
		nlines++;
		if (!nl)
			break;
		pos = end + 1;
	}

	wd_buf_init(&out, 64, len + 1);

	/* Find the first and last lines that are not blank after trimming. */
	for (size_t i = 0, pos = 0; i < nlines; i++) {
		const char *nl = memchr(raw + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - raw) : len;
		size_t start = pos;

		if (i > 0 && indent != SIZE_MAX)
			start = end - start < indent ? end : start + indent;
		if (!is_blank(raw + start, end - start)) {
			if (!any)
				first = i;
			last = i;
			any = true;
		}
		pos = end + 1;
	}

	for (size_t i = 0, pos = 0; any && i <= last; i++) {
		const char *nl = memchr(raw + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - raw) : len;
		size_t start = pos;

		if (i > 0 && indent != SIZE_MAX)
			start = end - start < indent ? end : start + indent;
		if (i >= first) {
			if (i > first) {
				rc = wd_buf_append_byte(&out, '\n');
				if (rc < 0)
					goto out;
			}
			rc = wd_buf_append(&out, raw + start, end - start);
			if (rc < 0)
				goto out;
		}
		pos = end + 1;
	}
	rc = make_token(lx, GQL_T_BLOCK_STRING, wd_buf_str(&out), wd_buf_len(&out), tok);
out:
	wd_buf_free(&out);
	return rc;
}

static int read_block_string(struct gql_lexer *lx, struct gql_token *tok)
{
	const unsigned char *s = (const unsigned char *)lx->src;
	struct wd_buf buf;
	int rc = 0;

	wd_buf_init(&buf, 64, value_ceiling(lx));
	lx->start += 3;
	lx->start_runes += 3;
	lx->end += 2;
	lx->end_runes += 2;

	while (lx->end < lx->len) {
		unsigned char c = s[lx->end];

		if (c == '"' && lx->end + 3 <= lx->len && memcmp(s + lx->end, "\"\"\"", 3) == 0) {
			rc = block_string_value(lx, wd_buf_str(&buf), wd_buf_len(&buf), tok);
			lx->end += 3;
			lx->end_runes += 3;
			goto out;
		}
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
			rc = make_error(lx, tok, "Invalid character within String: \"\\u%04d\".", c);
			goto out;
		}
		if (c == '\\' && lx->end + 4 <= lx->len && memcmp(s + lx->end, "\\\"\"\"", 4) == 0) {
			WD_GUARD(wd_buf_append(&buf, "\"\"\"", 3));
			lx->end += 4;
			lx->end_runes += 4;
		} else if (c == '\r') {
			if (lx->end + 1 < lx->len && s[lx->end + 1] == '\n') {
				lx->end++;
				lx->end_runes++;
			}
			WD_GUARD(wd_buf_append_byte(&buf, '\n'));
			lx->end++;
			lx->end_runes++;
			newline(lx);
		} else {
			size_t w = rune_width(s + lx->end, lx->len - lx->end);

			if (w == 1 && c >= 0x80)
				WD_GUARD(append_rune(&buf, 0xfffd));
			else
				WD_GUARD(wd_buf_append(&buf, s + lx->end, w));
			lx->end += w;
			lx->end_runes++;
			if (c == '\n')
				newline(lx);
		}
	}
	rc = make_error(lx, tok, "Unterminated string.");
out:
	wd_buf_free(&buf);
	return rc;
}

static bool is_name_start(unsigned char c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_name_char(unsigned char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

int gql_lexer_next(struct gql_lexer *lx, struct gql_token *tok)
{
	static const struct {
		char c;
		enum gql_token_kind kind;
	} punct[] = {
		{ '!', GQL_T_BANG }, { '$', GQL_T_DOLLAR }, { '&', GQL_T_AMP },
		{ '(', GQL_T_PAREN_L }, { ')', GQL_T_PAREN_R }, { ':', GQL_T_COLON },
		{ '=', GQL_T_EQUALS }, { '@', GQL_T_AT }, { '[', GQL_T_BRACKET_L },
		{ ']', GQL_T_BRACKET_R }, { '{', GQL_T_BRACE_L }, { '}', GQL_T_BRACE_R },
		{ '|', GQL_T_PIPE },
	};
	const unsigned char *s = (const unsigned char *)lx->src;
	unsigned char c;

	skip_ignored(lx);
	lx->start = lx->end;
	lx->start_runes = lx->end_runes;
	if (lx->end >= lx->len)
		return make_token(lx, GQL_T_EOF, "", 0, tok);

	c = s[lx->start];
	lx->end++;
	lx->end_runes++;

	for (size_t i = 0; i < WD_ARRAY_LEN(punct); i++)
		if (punct[i].c == (char)c)
			return make_token(lx, punct[i].kind, "", 0, tok);

	if (c == '.' && lx->start + 2 < lx->len && memcmp(s + lx->start, "...", 3) == 0) {
		lx->end += 2;
		lx->end_runes += 2;
		return make_token(lx, GQL_T_SPREAD, "", 0, tok);
	}
	if (is_name_start(c)) {
		while (lx->end < lx->len && is_name_char(s[lx->end])) {
			lx->end++;
			lx->end_runes++;
		}
		return make_token(lx, GQL_T_NAME, lx->src + lx->start, lx->end - lx->start, tok);
	}
	if (c == '-' || (c >= '0' && c <= '9'))
		return read_number(lx, tok);
	if (c == '"') {
		if (lx->start + 2 < lx->len && memcmp(s + lx->start, "\"\"\"", 3) == 0)
			return read_block_string(lx, tok);
		return read_string(lx, tok);
	}

	lx->end--;
	lx->end_runes--;
	if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
		return make_error(lx, tok, "Cannot contain the invalid character \"\\u%04d\"", c);
	if (c == '\'')
		return make_error(lx, tok,
				  "Unexpected single quote character ('), did you mean to use a double quote (\")?");
	/* gqlparser prints the first byte as the code point of that value. */
	if (c >= 0x80)
		return make_error(lx, tok, "Cannot parse the unexpected character \"%c%c\".",
				  (char)(0xc0 | (c >> 6)), (char)(0x80 | (c & 0x3f)));
	return make_error(lx, tok, "Cannot parse the unexpected character \"%c\".", c);
}
