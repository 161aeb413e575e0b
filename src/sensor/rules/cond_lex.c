/* Tokens of Falco's filter language. Which token means what (field, macro,
 * keyword, bare value) depends on its position, so the parser decides. */
#include <string.h>

#include "common/alloc.h"
#include "sensor/rules/cond.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool ends_word(char c)
{
	return is_blank(c) || c == '(' || c == ')' || c == ',' || c == '"' || c == '\'' ||
		c == '=' || c == '<' || c == '>' || c == '!' || c == '\0';
}

/* Unquotes a string starting at text[start] (the quote). Inside it, a
 * backslash escapes the quote and itself; any other backslash stays, so
 * regular expressions keep theirs. */
static int lex_string(const char *text, size_t *pos, struct cond_token *tok, struct wd_error *err)
{
	char quote = text[*pos];
	size_t i = *pos + 1;
	size_t n = 0;
	char *out;

	out = malloc(strlen(text + i) + 1);
	if (!out)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	for (;;) {
		char c = text[i];

		if (c == '\0') {
			free(out);
			return wd_error_set(err, WD_EINVAL,
				"unterminated string starting at position %zu", *pos);
		}
		if (c == quote) {
			i++;
			break;
		}
		if (c == '\\' && (text[i + 1] == quote || text[i + 1] == '\\')) {
			out[n++] = text[i + 1];
			i += 2;
			continue;
		}
		out[n++] = c;
		i++;
	}
	out[n] = '\0';
	tok->kind = COND_TOK_STRING;
	tok->len = i - *pos;
	tok->text = out;
	*pos = i;
	return 0;
}

int cond_lex(const char *text, size_t *pos, struct cond_token *tok, struct wd_error *err)
{
	size_t i = *pos;
	char c;

	memset(tok, 0, sizeof(*tok));
	while (is_blank(text[i]))
		i++;
	tok->pos = i;
	tok->start = text + i;
	c = text[i];

	if (c == '\0') {
		tok->kind = COND_TOK_EOF;
		*pos = i;
		tok->text = wd_strdup("end of condition");
		return tok->text ? 0 : wd_error_set(err, WD_ENOMEM, "out of memory");
	}
	if (c == '"' || c == '\'') {
		*pos = i;
		return lex_string(text, pos, tok, err);
	}

	size_t start = i;

	if (c == '(' || c == ')' || c == ',') {
		if (c == '(')
			tok->kind = COND_TOK_LPAREN;
		else if (c == ')')
			tok->kind = COND_TOK_RPAREN;
		else
			tok->kind = COND_TOK_COMMA;
		i++;
	} else if (c == '=' || c == '<' || c == '>' || c == '!') {
		tok->kind = COND_TOK_OP;
		i++;
		if (text[i] == '=')
			i++;
		/* A lone "!" is no operator; the parser reports it. */
	} else {
		tok->kind = COND_TOK_WORD;
		while (!ends_word(text[i])) {
			/* A bracket argument may hold characters that end a
			 * word elsewhere, up to a blank or parenthesis. */
			if (text[i] == '[') {
				size_t j = i + 1;

				while (text[j] != ']' && text[j] != '\0' && !is_blank(text[j]) &&
					text[j] != '(' && text[j] != ')')
					j++;
				if (text[j] == ']') {
					i = j + 1;
					continue;
				}
			}
			i++;
		}
	}

	tok->len = i - start;
	tok->text = wd_strndup(text + start, tok->len);
	if (!tok->text)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	*pos = i;
	return 0;
}
