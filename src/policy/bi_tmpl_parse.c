/* The parser of strings.render_template: Go text/template's actions, pipelines
 * and control structures, with the syntax errors Go reports. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "policy/bi_str_util.h"
#include "policy/bi_tmpl.h"

/* The functions text/template defines; any other identifier is an error. */
static const char *const builtin_funcs[] = {
	"and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf",
	"println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne",
};

enum tok_type {
	T_ERROR, T_RDELIM, T_IDENT, T_FIELD, T_DOT, T_VAR, T_STRING, T_RAW, T_CHAR, T_NUMBER,
	T_PIPE, T_LPAREN, T_RPAREN, T_DECLARE, T_ASSIGN, T_COMMA, T_BOOL, T_NIL,
	T_IF, T_ELSE, T_END, T_RANGE, T_WITH, T_BREAK, T_CONTINUE, T_DEFINE, T_TEMPLATE,
	T_BLOCK,
};

struct token {
	enum tok_type type;
	size_t start, end;
	bool space_before;
	bool trim;          /* T_RDELIM: " -}}" */
};

struct parser {
	struct tmpl *t;
	const char *s;
	size_t len, pos;
	struct wd_buf *err;
	size_t nodes;
	int depth, range_depth;
	char **vars;
	size_t nvars, cap_vars;
	bool trim_next_text;
	bool peeked;
	struct token peek;
};

void *tmpl_alloc(struct tmpl *t, size_t size)
{
	void *p;

	if (t->nallocs == t->cap_allocs) {
		size_t cap = t->cap_allocs ? t->cap_allocs * 2 : 64;
		void **grown = realloc(t->allocs, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		t->allocs = grown;
		t->cap_allocs = cap;
	}
	p = calloc(1, size ? size : 1);
	if (p)
		t->allocs[t->nallocs++] = p;
	return p;
}

void tmpl_free(struct tmpl *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nallocs; i++)
		free(t->allocs[i]);
	free(t->allocs);
	memset(t, 0, sizeof(*t));
}

static size_t line_of(const char *s, size_t pos)
{
	size_t line = 1;

	for (size_t i = 0; i < pos; i++)
		if (s[i] == '\n')
			line++;
	return line;
}

int tmpl_location(const struct tmpl *t, size_t pos, bool with_col, struct wd_buf *out)
{
	size_t line_start = pos;

	while (line_start > 0 && t->src[line_start - 1] != '\n')
		line_start--;
	if (!with_col)
		return wd_buf_appendf(out, "template:%zu", line_of(t->src, pos));
	return wd_buf_appendf(out, "template:%zu:%zu", line_of(t->src, pos), pos - line_start);
}

/* Records "template: template:LINE: MESSAGE" and returns WD_EINVAL. */
static int perr(struct parser *p, size_t pos, const char *fmt, ...) WD_PRINTF(3, 4);
static int perr(struct parser *p, size_t pos, const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (wd_buf_appendf(p->err, "template: template:%zu: %s", line_of(p->s, pos), msg) < 0)
		return WD_ENOMEM;
	return WD_EINVAL;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_alnum_(char c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (unsigned char)c >= 0x80;
}

static bool starts(const struct parser *p, size_t at, const char *lit)
{
	size_t n = strlen(lit);

	return at + n <= p->len && memcmp(p->s + at, lit, n) == 0;
}

static enum tok_type keyword(const char *s, size_t n)
{
	static const struct {
		const char *word;
		enum tok_type type;
	} words[] = {
		{ "if", T_IF }, { "else", T_ELSE }, { "end", T_END }, { "range", T_RANGE },
		{ "with", T_WITH }, { "break", T_BREAK }, { "continue", T_CONTINUE },
		{ "define", T_DEFINE }, { "template", T_TEMPLATE }, { "block", T_BLOCK },
		{ "true", T_BOOL }, { "false", T_BOOL }, { "nil", T_NIL },
	};

	for (size_t i = 0; i < WD_ARRAY_LEN(words); i++)
		if (strlen(words[i].word) == n && memcmp(words[i].word, s, n) == 0)
			return words[i].type;
	return T_IDENT;
}

/* Scans a quoted string, raw string or character constant. */
/* The token type of a one-character punctuation mark: | ( ) , or =. */
static enum tok_type punct_type(char c)
{
	switch (c) {
	case '|':
		return T_PIPE;
	case '(':
		return T_LPAREN;
	case ')':
		return T_RPAREN;
	case ',':
		return T_COMMA;
	default:
		return T_ASSIGN;
	}
}

static int lex_quoted(struct parser *p, struct token *tok, char quote)
{
	const char *unterminated;
	size_t i = p->pos + 1;

	for (; i < p->len && p->s[i] != quote; i++) {
		if (quote != '`' && p->s[i] == '\\' && i + 1 < p->len) {
			i++;
			continue;
		}
		if (quote != '`' && p->s[i] == '\n')
			break;
	}
	if (quote == '`') {
		tok->type = T_RAW;
		unterminated = "unterminated raw quoted string";
	} else if (quote == '"') {
		tok->type = T_STRING;
		unterminated = "unterminated quoted string";
	} else {
		tok->type = T_CHAR;
		unterminated = "unterminated character constant";
	}
	if (i >= p->len || p->s[i] != quote)
		return perr(p, p->pos, "%s", unterminated);
	p->pos = i + 1;
	return 0;
}

/* Reads the next token of an action. */
static int lex(struct parser *p, struct token *tok)
{
	bool space = false;
	char c;

	if (p->peeked) {
		*tok = p->peek;
		p->peeked = false;
		return 0;
	}
	while (p->pos < p->len && is_space(p->s[p->pos])) {
		p->pos++;
		space = true;
	}
	memset(tok, 0, sizeof(*tok));
	tok->space_before = space;
	tok->start = p->pos;
	if (p->pos >= p->len)
		return perr(p, p->pos, "unclosed action");

	if (space && starts(p, p->pos, "-}}")) {
		tok->type = T_RDELIM;
		tok->trim = true;
		p->pos += 3;
	} else if (starts(p, p->pos, "}}")) {
		tok->type = T_RDELIM;
		p->pos += 2;
	} else if (starts(p, p->pos, ":=")) {
		tok->type = T_DECLARE;
		p->pos += 2;
	} else if ((c = p->s[p->pos]) == '|' || c == '(' || c == ')' || c == ',' || c == '=') {
		tok->type = punct_type(c);
		p->pos++;
	} else if (c == '"' || c == '`' || c == '\'') {
		WD_TRY(lex_quoted(p, tok, c));
	} else if (c == '$') {
		p->pos++;
		while (p->pos < p->len && is_alnum_(p->s[p->pos]))
			p->pos++;
		tok->type = T_VAR;
	} else if (c == '.' && p->pos + 1 < p->len && p->s[p->pos + 1] >= '0' &&
		   p->s[p->pos + 1] <= '9') {
		goto number;
	} else if (c == '.') {
		p->pos++;
		while (p->pos < p->len && is_alnum_(p->s[p->pos]))
			p->pos++;
		tok->type = p->pos - tok->start == 1 ? T_DOT : T_FIELD;
	} else if ((c >= '0' && c <= '9') ||
		   ((c == '-' || c == '+') && p->pos + 1 < p->len &&
		    ((p->s[p->pos + 1] >= '0' && p->s[p->pos + 1] <= '9') || p->s[p->pos + 1] == '.'))) {
number:
		p->pos++;
		while (p->pos < p->len && (is_alnum_(p->s[p->pos]) || p->s[p->pos] == '.' ||
					   ((p->s[p->pos] == '+' || p->s[p->pos] == '-') &&
					    strchr("eEpP", p->s[p->pos - 1]))))
			p->pos++;
		tok->type = T_NUMBER;
	} else if (is_alnum_(c)) {
		while (p->pos < p->len && is_alnum_(p->s[p->pos]))
			p->pos++;
		tok->type = keyword(p->s + tok->start, p->pos - tok->start);
	} else {
		return perr(p, p->pos, "unrecognized character in action: U+%04X '%c'",
			    (unsigned char)c, c);
	}
	tok->end = p->pos;
	return 0;
}

static int peek(struct parser *p, struct token *tok)
{
	if (!p->peeked) {
		WD_TRY(lex(p, &p->peek));
		p->peeked = true;
	}
	*tok = p->peek;
	return 0;
}

static const char *tok_text(const struct parser *p, const struct token *tok, int *ret_len)
{
	*ret_len = (int)(tok->end - tok->start);
	return p->s + tok->start;
}

/* ---- variables in scope ---- */

static int push_var(struct parser *p, const char *name)
{
	if (p->nvars == p->cap_vars) {
		size_t cap = p->cap_vars ? p->cap_vars * 2 : 16;
		char **grown;

		if (cap > TMPL_MAX_VARS)
			return WD_ETOOBIG;
		grown = realloc(p->vars, cap * sizeof(*grown));
		if (!grown)
			return WD_ENOMEM;
		p->vars = grown;
		p->cap_vars = cap;
	}
	p->vars[p->nvars++] = (char *)name;
	return 0;
}

static bool var_known(const struct parser *p, const char *name, size_t len)
{
	for (size_t i = p->nvars; i > 0; i--)
		if (strlen(p->vars[i - 1]) == len && memcmp(p->vars[i - 1], name, len) == 0)
			return true;
	return false;
}

static char *dup_text(struct tmpl *t, const char *s, size_t len)
{
	char *out = tmpl_alloc(t, len + 1);

	if (out)
		memcpy(out, s, len);
	return out;
}

/* ---- constants ---- */

/* Decodes a Go string or character literal body (strconv.Unquote). */
static int unquote(struct parser *p, const struct token *tok, struct tmpl_arg *arg)
{
	const char *s = p->s + tok->start + 1;
	size_t n = tok->end - tok->start - 2;
	struct wd_buf out;
	int rc = 0;

	wd_buf_init(&out, n + 1, BI_STR_MAX);
	for (size_t i = 0; i < n && rc == 0; i++) {
		uint32_t r;
		size_t digits = 0;

		if (tok->type == T_RAW || s[i] != '\\') {
			if (tok->type != T_RAW || s[i] != '\r')
				rc = wd_buf_append_byte(&out, (uint8_t)s[i]);
			continue;
		}
		if (++i >= n)
			break;
		switch (s[i]) {
		case 'n': rc = wd_buf_append_byte(&out, '\n'); break;
		case 't': rc = wd_buf_append_byte(&out, '\t'); break;
		case 'r': rc = wd_buf_append_byte(&out, '\r'); break;
		case 'a': rc = wd_buf_append_byte(&out, '\a'); break;
		case 'b': rc = wd_buf_append_byte(&out, '\b'); break;
		case 'f': rc = wd_buf_append_byte(&out, '\f'); break;
		case 'v': rc = wd_buf_append_byte(&out, '\v'); break;
		case '\\': case '\'': case '"': rc = wd_buf_append_byte(&out, (uint8_t)s[i]); break;
		case 'x': digits = 2; break;
		case 'u': digits = 4; break;
		case 'U': digits = 8; break;
		default:
			if (s[i] >= '0' && s[i] <= '7' && i + 2 < n) {
				r = (uint32_t)((s[i] - '0') * 64 + (s[i + 1] - '0') * 8 + (s[i + 2] - '0'));
				i += 2;
				rc = wd_buf_append_byte(&out, (uint8_t)r);
				break;
			}
			rc = WD_EINVAL;
		}
		if (digits) {
			char hex[9] = "";

			if (i + digits >= n + 1 || i + digits > n) {
				rc = WD_EINVAL;
				break;
			}
			memcpy(hex, s + i + 1, digits);
			r = (uint32_t)strtoul(hex, NULL, 16);
			i += digits;
			rc = digits == 2 ? wd_buf_append_byte(&out, (uint8_t)r) : bi_buf_rune(&out, r);
		}
	}
	if (rc == WD_EINVAL) {
		int len;
		const char *text = tok_text(p, tok, &len);

		wd_buf_free(&out);
		return perr(p, tok->start, "%s", len < 400 ? text : "invalid syntax");
	}
	if (rc < 0) {
		wd_buf_free(&out);
		return rc;
	}
	arg->value_len = wd_buf_len(&out);
	arg->value = dup_text(p->t, wd_buf_str(&out), wd_buf_len(&out));
	wd_buf_free(&out);
	return arg->value ? 0 : WD_ENOMEM;
}

/* Parses a number constant: Go's integers (decimal, 0x, 0o, 0b, with '_'),
 * floats, and character constants as their code point. */
static int parse_number(struct parser *p, const struct token *tok, struct tmpl_arg *arg)
{
	char buf[128];
	size_t n = 0;
	char *end;
	int len;
	const char *text = tok_text(p, tok, &len);

	if (tok->type == T_CHAR) {
		size_t pos = 0;

		WD_TRY(unquote(p, tok, arg));
		arg->is_int = true;
		arg->ival = arg->value_len ? bi_utf8_next(arg->value, arg->value_len, &pos) : 0;
		if (pos != arg->value_len || arg->value_len == 0)
			return perr(p, tok->start, "malformed character constant: %.*s", len, text);
		return 0;
	}
	for (int i = 0; i < len && n + 1 < sizeof(buf); i++)
		if (text[i] != '_')
			buf[n++] = text[i];
	buf[n] = '\0';
	if ((size_t)len >= sizeof(buf))
		return perr(p, tok->start, "bad number syntax: \"%.*s\"", len, text);

	errno = 0;
	if (strpbrk(buf, ".eEpP") == NULL || (strncasecmp(buf, "0x", 2) == 0 &&
					      strpbrk(buf, ".pP") == NULL)) {
		const char *digits = buf + (buf[0] == '+' || buf[0] == '-');
		int base = 10;

		if (strncasecmp(digits, "0x", 2) == 0)
			base = 16;
		else if (strncasecmp(digits, "0o", 2) == 0)
			base = 8;
		else if (strncasecmp(digits, "0b", 2) == 0)
			base = 2;
		else if (digits[0] == '0' && digits[1])
			base = 8;
		arg->ival = strtoll(base == 10 || base == 8 ? buf : buf, &end, base == 8 &&
				    strncasecmp(digits, "0o", 2) == 0 ? 0 : base);
		if (base == 8 && strncasecmp(digits, "0o", 2) == 0)
			arg->ival = strtoll(digits + 2, &end, 8) * (buf[0] == '-' ? -1 : 1);
		if (base == 2)
			arg->ival = strtoll(digits + 2, &end, 2) * (buf[0] == '-' ? -1 : 1);
		if (*end == '\0' && errno == 0) {
			arg->is_int = true;
			arg->fval = (double)arg->ival;
			return 0;
		}
	}
	errno = 0;
	arg->fval = strtod(buf, &end);
	if (*end != '\0' || errno != 0 || !isfinite(arg->fval))
		return perr(p, tok->start, "bad number syntax: \"%.*s\"", len, text);
	arg->is_int = false;
	return 0;
}

/* ---- pipelines ---- */

static int parse_pipeline(struct parser *p, const char *context, bool in_paren, bool decl_ok,
			  struct tmpl_pipe **ret_pipe, struct token *ret_end);

static int new_arg(struct parser *p, const struct token *tok, enum tmpl_arg_kind kind,
		   struct tmpl_arg **ret)
{
	struct tmpl_arg *arg = tmpl_alloc(p->t, sizeof(*arg));

	if (!arg || ++p->nodes > TMPL_MAX_NODES)
		return arg ? WD_ETOOBIG : WD_ENOMEM;
	arg->kind = kind;
	arg->pos = tok->start;
	arg->text = p->s + tok->start;
	arg->text_len = tok->end - tok->start;
	*ret = arg;
	return 0;
}

/* Appends the fields of a ".a.b" token run to arg. */
static int add_fields(struct parser *p, struct tmpl_arg *arg, const char *s, size_t len)
{
	size_t count = arg->nfields, i = 0;
	char **fields;

	for (size_t k = 0; k < len; k++)
		if (s[k] == '.')
			count++;
	fields = tmpl_alloc(p->t, (count + 1) * sizeof(*fields));
	if (!fields)
		return WD_ENOMEM;
	if (arg->nfields)
		memcpy(fields, arg->fields, arg->nfields * sizeof(*fields));
	i = arg->nfields;
	for (size_t k = 0; k < len;) {
		size_t start = ++k;

		while (k < len && s[k] != '.')
			k++;
		fields[i] = dup_text(p->t, s + start, k - start);
		if (!fields[i++])
			return WD_ENOMEM;
	}
	arg->fields = fields;
	arg->nfields = i;
	return 0;
}

/* Reads the fields written right after an operand, as in "$x.a.b" or
 * "(pipe).a". */
static int parse_chain(struct parser *p, struct tmpl_arg *arg)
{
	struct token tok;

	for (;;) {
		WD_TRY(peek(p, &tok));
		if (tok.space_before || (tok.type != T_FIELD))
			return 0;
		WD_TRY(lex(p, &tok));
		WD_TRY(add_fields(p, arg, p->s + tok.start, tok.end - tok.start));
		arg->text_len = tok.end - (size_t)(arg->text - p->s);
	}
}

static bool is_func(const char *s, size_t len)
{
	for (size_t i = 0; i < WD_ARRAY_LEN(builtin_funcs); i++)
		if (strlen(builtin_funcs[i]) == len && memcmp(builtin_funcs[i], s, len) == 0)
			return true;
	return false;
}

/* Reads one operand; *ret_arg stays NULL when the token ends the command. */
static int parse_operand(struct parser *p, struct tmpl_arg **ret_arg)
{
	struct token tok;
	struct tmpl_arg *arg = NULL;
	int len;
	const char *text;

	*ret_arg = NULL;
	WD_TRY(peek(p, &tok));
	text = tok_text(p, &tok, &len);
	switch (tok.type) {
	case T_RDELIM: case T_PIPE: case T_RPAREN:
		return 0;
	case T_DOT:
		WD_TRY(new_arg(p, &tok, TA_DOT, &arg));
		break;
	case T_NIL:
		WD_TRY(new_arg(p, &tok, TA_NIL, &arg));
		break;
	case T_BOOL:
		WD_TRY(new_arg(p, &tok, TA_BOOL, &arg));
		arg->boolean = len == 4;
		break;
	case T_NUMBER: case T_CHAR:
		WD_TRY(new_arg(p, &tok, TA_NUMBER, &arg));
		WD_TRY(parse_number(p, &tok, arg));
		break;
	case T_STRING: case T_RAW:
		WD_TRY(new_arg(p, &tok, TA_STRING, &arg));
		WD_TRY(unquote(p, &tok, arg));
		break;
	case T_FIELD:
		WD_TRY(new_arg(p, &tok, TA_FIELD, &arg));
		WD_TRY(add_fields(p, arg, text, (size_t)len));
		break;
	case T_VAR:
		if (!var_known(p, text, (size_t)len))
			return perr(p, tok.start, "undefined variable \"%.*s\"", len, text);
		WD_TRY(new_arg(p, &tok, TA_VAR, &arg));
		arg->value = dup_text(p->t, text, (size_t)len);
		if (!arg->value)
			return WD_ENOMEM;
		break;
	case T_IDENT:
		if (!is_func(text, (size_t)len))
			return perr(p, tok.start, "function \"%.*s\" not defined", len, text);
		WD_TRY(new_arg(p, &tok, TA_FUNC, &arg));
		arg->value = dup_text(p->t, text, (size_t)len);
		if (!arg->value)
			return WD_ENOMEM;
		break;
	case T_LPAREN: {
		struct token end;

		WD_TRY(lex(p, &tok));
		WD_TRY(new_arg(p, &tok, TA_PIPE, &arg));
		if (++p->depth > TMPL_MAX_DEPTH)
			return WD_ETOOBIG;
		WD_TRY(parse_pipeline(p, "parenthesized pipeline", true, false, &arg->pipe, &end));
		p->depth--;
		arg->text_len = end.end - tok.start;
		WD_TRY(parse_chain(p, arg));
		if (arg->nfields)
			arg->kind = TA_CHAIN;
		*ret_arg = arg;
		return 0;
	}
	default:
		return perr(p, tok.start, "unexpected \"%.*s\" in operand", len, text);
	}
	WD_TRY(lex(p, &tok));
	if (arg->kind != TA_FIELD && arg->kind != TA_FUNC) {
		WD_TRY(parse_chain(p, arg));
		if (arg->nfields && arg->kind != TA_VAR && arg->kind != TA_DOT)
			return perr(p, tok.start, "unexpected . after term \"%.*s\"", len, text);
		if (arg->nfields && arg->kind == TA_DOT)
			return perr(p, tok.start, "unexpected . after term \".\"");
	} else if (arg->kind == TA_FIELD) {
		WD_TRY(parse_chain(p, arg));
	}
	*ret_arg = arg;
	return 0;
}

static int parse_command(struct parser *p, struct tmpl_cmd **ret_cmd, struct token *ret_next)
{
	struct tmpl_cmd *cmd = tmpl_alloc(p->t, sizeof(*cmd));
	struct tmpl_arg *args[256];
	struct token tok;

	if (!cmd)
		return WD_ENOMEM;
	WD_TRY(peek(p, &tok));
	cmd->pos = tok.start;
	cmd->text = p->s + tok.start;
	for (;;) {
		struct tmpl_arg *arg;

		WD_TRY(parse_operand(p, &arg));
		if (!arg)
			break;
		if (cmd->nargs == WD_ARRAY_LEN(args))
			return perr(p, arg->pos, "too many arguments");
		args[cmd->nargs++] = arg;
		cmd->text_len = (size_t)(arg->text + arg->text_len - cmd->text);
		WD_TRY(peek(p, &tok));
		if (!tok.space_before && tok.type != T_RDELIM && tok.type != T_PIPE &&
		    tok.type != T_RPAREN) {
			int len;
			const char *text = tok_text(p, &tok, &len);

			return perr(p, tok.start, "unexpected \"%.*s\" in operand", len, text);
		}
	}
	WD_TRY(peek(p, ret_next));
	if (cmd->nargs == 0)
		return WD_EINVAL; /* reported by the caller with its context */
	cmd->args = tmpl_alloc(p->t, cmd->nargs * sizeof(*cmd->args));
	if (!cmd->args)
		return WD_ENOMEM;
	memcpy(cmd->args, args, cmd->nargs * sizeof(*args));
	*ret_cmd = cmd;
	return 0;
}

/* Reads "$x :=", "$x =" or "$i, $x :=" at the start of a pipeline. */
static int parse_decl(struct parser *p, struct tmpl_pipe *pipe, bool decl_ok)
{
	struct token first, next;

	WD_TRY(peek(p, &first));
	if (first.type != T_VAR)
		return 0;
	p->peeked = false;
	WD_TRY(lex(p, &next));
	if (next.type == T_DECLARE || next.type == T_ASSIGN ||
	    (next.type == T_COMMA && decl_ok)) {
		struct token second, op;

		pipe->decl[0] = dup_text(p->t, p->s + first.start, first.end - first.start);
		pipe->ndecl = 1;
		if (next.type == T_COMMA) {
			WD_TRY(lex(p, &second));
			WD_TRY(lex(p, &op));
			if (second.type != T_VAR || (op.type != T_DECLARE && op.type != T_ASSIGN))
				return perr(p, second.start, "too many declarations in range");
			pipe->decl[1] = dup_text(p->t, p->s + second.start, second.end - second.start);
			pipe->ndecl = 2;
			next = op;
		}
		pipe->is_assign = next.type == T_ASSIGN;
		for (size_t i = 0; i < pipe->ndecl; i++) {
			if (!pipe->decl[i])
				return WD_ENOMEM;
			if (pipe->is_assign && !var_known(p, pipe->decl[i], strlen(pipe->decl[i])))
				return perr(p, first.start, "undefined variable \"%s\"", pipe->decl[i]);
			if (!pipe->is_assign)
				WD_TRY(push_var(p, pipe->decl[i]));
		}
		return 0;
	}

	/* Not a declaration: rewind so the variable is read as an operand. */
	p->pos = first.start;
	p->peeked = false;
	return 0;
}

static int parse_pipeline(struct parser *p, const char *context, bool in_paren, bool decl_ok,
			  struct tmpl_pipe **ret_pipe, struct token *ret_end)
{
	struct tmpl_pipe *pipe = tmpl_alloc(p->t, sizeof(*pipe));
	struct tmpl_cmd *cmds[64];
	struct token tok;
	int rc;

	if (!pipe)
		return WD_ENOMEM;
	WD_TRY(peek(p, &tok));
	pipe->pos = tok.start;
	pipe->text = p->s + tok.start;
	WD_TRY(parse_decl(p, pipe, decl_ok));
	for (;;) {
		struct tmpl_cmd *cmd = NULL;

		rc = parse_command(p, &cmd, &tok);
		if (rc == WD_EINVAL && !cmd && p->err->len == 0)
			return perr(p, tok.start, "missing value for %s", context);
		WD_TRY(rc);
		if (pipe->ncmds == WD_ARRAY_LEN(cmds))
			return perr(p, tok.start, "pipeline too long");
		cmds[pipe->ncmds++] = cmd;
		WD_TRY(lex(p, &tok));
		if (tok.type == T_PIPE)
			continue;
		if (in_paren && tok.type == T_RPAREN)
			break;
		if (!in_paren && tok.type == T_RDELIM)
			break;
		if (tok.type == T_RDELIM)
			return perr(p, tok.start, "unclosed left paren");
		return perr(p, tok.start, "unexpected right paren");
	}
	pipe->text_len = tok.start - pipe->pos;
	while (pipe->text_len && is_space(pipe->text[pipe->text_len - 1]))
		pipe->text_len--;
	pipe->cmds = tmpl_alloc(p->t, pipe->ncmds * sizeof(*pipe->cmds));
	if (!pipe->cmds)
		return WD_ENOMEM;
	memcpy(pipe->cmds, cmds, pipe->ncmds * sizeof(*cmds));
	p->trim_next_text = tok.type == T_RDELIM && tok.trim;
	*ret_pipe = pipe;
	*ret_end = tok;
	return 0;
}

/* ---- lists and control structures ---- */

struct node_vec {
	struct tmpl_node **items;
	size_t len, cap;
};

static int vec_push(struct node_vec *v, struct tmpl_node *node)
{
	if (v->len == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 8;
		struct tmpl_node **grown = realloc(v->items, cap * sizeof(*grown));

		if (!grown)
			return WD_ENOMEM;
		v->items = grown;
		v->cap = cap;
	}
	v->items[v->len++] = node;
	return 0;
}

/* The token that ended a list. */
enum list_end { END_EOF, END_END, END_ELSE };

static int parse_list(struct parser *p, struct tmpl_node ***ret_list, size_t *ret_len,
		      enum list_end *ret_end, size_t *ret_end_pos);

static int finish_action(struct parser *p, const char *what)
{
	struct token tok;

	WD_TRY(lex(p, &tok));
	if (tok.type != T_RDELIM) {
		int len;
		const char *text = tok_text(p, &tok, &len);

		return perr(p, tok.start, "unexpected \"%.*s\" in %s", len, text, what);
	}
	p->trim_next_text = tok.trim;
	return 0;
}

/* Parses if, range or with after its keyword, through its {{end}}. An
 * "{{else if ...}}" (or "else with") nests the next structure in the else
 * list, sharing the one {{end}}. */
static int parse_control(struct parser *p, struct tmpl_node *node, const char *context)
{
	struct token end, tok;
	size_t mark = p->nvars, end_pos = 0;
	enum list_end how;
	struct tmpl_node **list;
	size_t nlist;

	if (++p->depth > TMPL_MAX_DEPTH)
		return WD_ETOOBIG;
	WD_TRY(parse_pipeline(p, context, false, node->kind == TN_RANGE, &node->pipe, &end));
	if (node->kind == TN_RANGE)
		p->range_depth++;
	WD_TRY(parse_list(p, &list, &nlist, &how, &end_pos));
	if (node->kind == TN_RANGE)
		p->range_depth--;
	node->list = list;
	node->nlist = nlist;
	if (how == END_EOF)
		return perr(p, p->len, "unexpected EOF");

	if (how == END_ELSE) {
		node->has_else = true;
		WD_TRY(peek(p, &tok));
		if ((tok.type == T_IF && node->kind == TN_IF) ||
		    (tok.type == T_WITH && node->kind == TN_WITH)) {
			struct tmpl_node *nested = tmpl_alloc(p->t, sizeof(*nested));

			WD_TRY(lex(p, &tok));
			if (!nested)
				return WD_ENOMEM;
			nested->kind = node->kind;
			nested->pos = tok.start;
			WD_TRY(parse_control(p, nested, context));
			node->else_list = tmpl_alloc(p->t, sizeof(*node->else_list));
			if (!node->else_list)
				return WD_ENOMEM;
			node->else_list[0] = nested;
			node->nelse = 1;
			p->nvars = mark;
			p->depth--;
			return 0;
		}
		WD_TRY(finish_action(p, "else"));
		WD_TRY(parse_list(p, &node->else_list, &node->nelse, &how, &end_pos));
		if (how == END_EOF)
			return perr(p, p->len, "unexpected EOF");
		if (how == END_ELSE)
			return perr(p, end_pos, "expected end; found {{else}}");
	}
	p->nvars = mark;
	p->depth--;
	return 0;
}

static int new_node(struct parser *p, enum tmpl_node_kind kind, size_t pos,
		    struct tmpl_node **ret)
{
	struct tmpl_node *node = tmpl_alloc(p->t, sizeof(*node));

	if (!node)
		return WD_ENOMEM;
	if (++p->nodes > TMPL_MAX_NODES)
		return WD_ETOOBIG;
	node->kind = kind;
	node->pos = pos;
	*ret = node;
	return 0;
}

/* Skips a comment, from its opening slash-star at p->pos to the closing delimiter. */
static int skip_comment(struct parser *p, size_t action_start)
{
	const char *close = NULL;

	for (size_t i = p->pos + 2; i + 1 < p->len; i++) {
		if (p->s[i] == '*' && p->s[i + 1] == '/') {
			close = p->s + i;
			break;
		}
	}
	if (!close)
		return perr(p, action_start, "unclosed comment");
	p->pos = (size_t)(close - p->s) + 2;
	if (starts(p, p->pos, " -}}") || starts(p, p->pos, "\t-}}") ||
	    starts(p, p->pos, "\n-}}") || starts(p, p->pos, "\r-}}")) {
		p->pos += 4;
		p->trim_next_text = true;
		return 0;
	}
	if (starts(p, p->pos, "}}")) {
		p->pos += 2;
		return 0;
	}
	return perr(p, action_start, "comment ends before closing delimiter");
}

/* Parses one action after "{{" (and any trim marker); appends its node, or
 * reports the {{end}} or {{else}} that closes the list. */
static int parse_action(struct parser *p, struct node_vec *out, enum list_end *ret_end)
{
	struct tmpl_node *node = NULL;
	struct token tok, end;
	int len;
	const char *text;

	*ret_end = END_EOF;
	if (starts(p, p->pos, "/*"))
		return skip_comment(p, p->pos);
	WD_TRY(peek(p, &tok));
	text = tok_text(p, &tok, &len);
	switch (tok.type) {
	case T_END:
		WD_TRY(lex(p, &tok));
		WD_TRY(finish_action(p, "end"));
		*ret_end = END_END;
		return 0;
	case T_ELSE:
		WD_TRY(lex(p, &tok));
		*ret_end = END_ELSE;
		return 0;
	case T_IF: case T_RANGE: case T_WITH:
		WD_TRY(lex(p, &tok));
		WD_TRY(new_node(p, tok.type == T_IF ? TN_IF : tok.type == T_RANGE ? TN_RANGE :
				TN_WITH, tok.start, &node));
		WD_TRY(parse_control(p, node, tok.type == T_IF ? "if" : tok.type == T_RANGE ?
				     "range" : "with"));
		return vec_push(out, node);
	case T_BREAK: case T_CONTINUE:
		WD_TRY(lex(p, &tok));
		if (p->range_depth == 0)
			return perr(p, tok.start, "{{%.*s}} outside {{range}}", len, text);
		WD_TRY(finish_action(p, tok.type == T_BREAK ? "break" : "continue"));
		WD_TRY(new_node(p, tok.type == T_BREAK ? TN_BREAK : TN_CONTINUE, tok.start, &node));
		return vec_push(out, node);
	case T_DEFINE: case T_TEMPLATE: case T_BLOCK:
		/* TODO: named templates; OPA's builtin rarely needs them. */
		return perr(p, tok.start, "{{%.*s}} is not supported by warden's template engine",
			    len, text);
	default:
		break;
	}
	WD_TRY(new_node(p, TN_ACTION, tok.start, &node));
	WD_TRY(parse_pipeline(p, "command", false, false, &node->pipe, &end));
	return vec_push(out, node);
}

static int parse_list(struct parser *p, struct tmpl_node ***ret_list, size_t *ret_len,
		      enum list_end *ret_end, size_t *ret_end_pos)
{
	struct node_vec vec = { 0 };
	enum list_end how = END_EOF;
	int rc = 0;

	*ret_list = NULL;
	*ret_len = 0;
	*ret_end = END_EOF;
	for (;;) {
		const char *open = NULL;
		size_t text_start = p->pos, text_end;
		bool trim_left = false;

		for (size_t i = p->pos; i + 1 < p->len; i++) {
			if (p->s[i] == '{' && p->s[i + 1] == '{') {
				open = p->s + i;
				break;
			}
		}
		text_end = open ? (size_t)(open - p->s) : p->len;

		/* " -}}" before this text and "{{- " after it trim white space. */
		if (p->trim_next_text) {
			while (text_start < text_end && is_space(p->s[text_start]))
				text_start++;
			p->trim_next_text = false;
		}
		trim_left = open && text_end + 3 < p->len && p->s[text_end + 2] == '-' &&
			    is_space(p->s[text_end + 3]);
		if (trim_left)
			while (text_end > text_start && is_space(p->s[text_end - 1]))
				text_end--;
		if (text_end > text_start) {
			struct tmpl_node *node;

			WD_GUARD(new_node(p, TN_TEXT, text_start, &node));
			node->text = p->s + text_start;
			node->text_len = text_end - text_start;
			WD_GUARD(vec_push(&vec, node));
		}
		if (!open)
			break;

		p->pos = (size_t)(open - p->s) + (trim_left ? 4 : 2);
		p->peeked = false;
		*ret_end_pos = p->pos;
		WD_GUARD(parse_action(p, &vec, &how));
		if (how != END_EOF)
			break;
	}

	*ret_end = how;
	if (vec.len) {
		*ret_list = tmpl_alloc(p->t, vec.len * sizeof(**ret_list));
		if (!*ret_list) {
			rc = WD_ENOMEM;
			goto out;
		}
		memcpy(*ret_list, vec.items, vec.len * sizeof(*vec.items));
		*ret_len = vec.len;
	}
out:
	free(vec.items);
	return rc;
}

int tmpl_parse(struct tmpl *t, const char *src, size_t len, struct wd_buf *err)
{
	struct parser p = { .t = t, .s = src, .len = len, .err = err };
	enum list_end how;
	size_t end_pos = 0;
	int rc;

	memset(t, 0, sizeof(*t));
	t->src = src;
	t->src_len = len;
	rc = push_var(&p, "$");
	if (rc == 0)
		rc = parse_list(&p, &t->list, &t->nlist, &how, &end_pos);
	if (rc == 0 && how == END_END)
		rc = perr(&p, end_pos, "unexpected {{end}}");
	if (rc == 0 && how == END_ELSE)
		rc = perr(&p, end_pos, "unexpected {{else}}");
	free(p.vars);
	if (rc < 0)
		tmpl_free(t);
	t->src = src;
	t->src_len = len;
	return rc;
}
