/* Username templates: an interpreter for the part of Go's text/template
 * that Vault's username_template uses, the usernames made with it, and the
 * {{key}} substitution of statements. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "secrets/db_template.h"

/* Nesting of parentheses. */
#define TEMPLATE_DEPTH_MAX 16

static int parse_pipeline(struct template_parser *parser, struct template_value *ret);
static int parse_operand(struct template_parser *parser, struct template_value *ret);

void template_value_clear(struct template_value *value)
{
	free(value->text);
	*value = (struct template_value){ 0 };
}

int template_value_set_text(struct template_parser *parser, struct template_value *ret, const char *text,
	size_t len)
{
	if (len > DB_TEMPLATE_MAX)
		return wd_error_set(parser->err, WD_ETOOBIG,
			"username_template: a value is longer than %d bytes", DB_TEMPLATE_MAX);
	ret->text = wd_strndup(text, len);
	if (!ret->text)
		return WD_ENOMEM;
	ret->is_int = false;
	ret->len = len;
	return 0;
}

static void skip_space(struct template_parser *parser)
{
	while (parser->pos < parser->end && isspace((unsigned char)*parser->pos))
		parser->pos++;
}

static bool starts_with(const struct template_parser *parser, const char *text)
{
	size_t len = strlen(text);

	return (size_t)(parser->end - parser->pos) >= len && !memcmp(parser->pos, text, len);
}

/* Whether the action ends here: "}}", or " -}}" that also trims the text
 * after it (Go wants the space before '-'). */
static bool at_action_end(const struct template_parser *parser, bool *ret_trim)
{
	*ret_trim = false;
	if (starts_with(parser, "}}"))
		return true;
	if (starts_with(parser, "-}}") && isspace((unsigned char)parser->pos[-1])) {
		*ret_trim = true;
		return true;
	}
	return false;
}

static bool at_command_end(const struct template_parser *parser)
{
	bool trim;

	return parser->pos >= parser->end || *parser->pos == '|' || *parser->pos == ')' ||
		at_action_end(parser, &trim);
}

static bool is_identifier_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

static size_t identifier_length(const struct template_parser *parser)
{
	size_t len = 0;

	while (parser->pos + len < parser->end && is_identifier_char(parser->pos[len]))
		len++;
	return len;
}

static int parse_field(struct template_parser *parser, struct template_value *ret)
{
	size_t len;
	const char *value;

	parser->pos++;
	len = identifier_length(parser);
	if (len == strlen("DisplayName") && !memcmp(parser->pos, "DisplayName", len))
		value = parser->data->display_name;
	else if (len == strlen("RoleName") && !memcmp(parser->pos, "RoleName", len))
		value = parser->data->role_name;
	else
		return wd_error_set(parser->err, WD_EINVAL,
			"username_template: unknown field \".%.*s\" (use .DisplayName or .RoleName)",
			(int)(len > 64 ? 64 : len), parser->pos);
	parser->pos += len;
	if (!value)
		value = "";
	return template_value_set_text(parser, ret, value, strlen(value));
}

static int parse_quoted_string(struct template_parser *parser, struct template_value *ret)
{
	struct wd_buf text;
	int rc = 0;

	wd_buf_init(&text, 32, DB_TEMPLATE_MAX);
	parser->pos++;
	for (;;) {
		char c;

		if (parser->pos >= parser->end || *parser->pos == '\n') {
			rc = wd_error_set(parser->err, WD_EINVAL, "username_template: unterminated string");
			goto out;
		}
		c = *parser->pos++;
		if (c == '"')
			break;
		if (c == '\\') {
			char escaped = parser->pos < parser->end ? *parser->pos++ : '\0';

			switch (escaped) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case '\\': case '"': case '\'': c = escaped; break;
			default:
				rc = wd_error_set(parser->err, WD_EINVAL,
					"username_template: unsupported escape \"\\%c\" in a string",
					escaped ? escaped : ' ');
				goto out;
			}
		}
		WD_GUARD(wd_buf_append_byte(&text, (uint8_t)c));
	}
	WD_GUARD(template_value_set_text(parser, ret, wd_buf_str(&text), wd_buf_len(&text)));
out:
	wd_buf_free(&text);
	return rc;
}

static int parse_raw_string(struct template_parser *parser, struct template_value *ret)
{
	const char *start = ++parser->pos;
	const char *close = memchr(start, '`', (size_t)(parser->end - start));

	if (!close)
		return wd_error_set(parser->err, WD_EINVAL, "username_template: unterminated raw string");
	parser->pos = close + 1;
	return template_value_set_text(parser, ret, start, (size_t)(close - start));
}

static int parse_number(struct template_parser *parser, struct template_value *ret)
{
	bool negative = false;
	int64_t number = 0;

	if (*parser->pos == '-' || *parser->pos == '+')
		negative = *parser->pos++ == '-';
	while (parser->pos < parser->end && isdigit((unsigned char)*parser->pos)) {
		int digit = *parser->pos++ - '0';

		if (__builtin_mul_overflow(number, 10, &number) ||
			__builtin_add_overflow(number, digit, &number))
			return wd_error_set(parser->err, WD_EINVAL, "username_template: number too large");
	}
	if (parser->pos < parser->end && is_identifier_char(*parser->pos))
		return wd_error_set(parser->err, WD_EINVAL,
			"username_template: invalid number (only decimal integers are supported)");
	*ret = (struct template_value){ .is_int = true, .number = negative ? -number : number };
	return 0;
}

/* Calls the function named at the parser's position with the operands
 * that follow (none when as_operand) and then piped, which it takes. */
static int parse_call(struct template_parser *parser, struct template_value *piped, bool as_operand,
	struct template_value *ret)
{
	struct template_value args[TEMPLATE_ARGS_MAX] = { 0 };
	const struct template_function *function;
	const char *name = parser->pos;
	size_t name_len = identifier_length(parser);
	size_t count = 0;
	int rc = 0;

	parser->pos += name_len;
	function = template_function_find(name, name_len);
	if (!function) {
		rc = wd_error_set(parser->err, WD_EINVAL,
			"username_template: function \"%.*s\" not defined (Go template actions such as "
			"if, range and variables are not supported)", (int)(name_len > 64 ? 64 : name_len),
			name);
		goto out;
	}

	for (;;) {
		skip_space(parser);
		if (as_operand || at_command_end(parser))
			break;
		if (count == TEMPLATE_ARGS_MAX) {
			rc = wd_error_set(parser->err, WD_EINVAL,
				"username_template: %s: more than %d arguments", function->name,
				TEMPLATE_ARGS_MAX);
			goto out;
		}
		WD_GUARD(parse_operand(parser, &args[count]));
		count++;
	}
	if (piped) {
		if (count == TEMPLATE_ARGS_MAX) {
			rc = wd_error_set(parser->err, WD_EINVAL,
				"username_template: %s: more than %d arguments", function->name,
				TEMPLATE_ARGS_MAX);
			goto out;
		}
		args[count++] = *piped;
		*piped = (struct template_value){ 0 };
	}
	if (count < function->min_args || count > function->max_args) {
		rc = wd_error_set(parser->err, WD_EINVAL,
			"username_template: %s: wrong number of arguments: %zu", function->name, count);
		goto out;
	}
	rc = function->call(parser, args, count, ret);
out:
	for (size_t i = 0; i < count; i++)
		template_value_clear(&args[i]);
	if (piped)
		template_value_clear(piped);
	return rc;
}

static int parse_operand(struct template_parser *parser, struct template_value *ret)
{
	char c;
	int rc;

	skip_space(parser);
	if (parser->pos >= parser->end)
		return wd_error_set(parser->err, WD_EINVAL, "username_template: unclosed action");
	c = *parser->pos;

	if (c == '.')
		return parse_field(parser, ret);
	if (c == '"')
		return parse_quoted_string(parser, ret);
	if (c == '`')
		return parse_raw_string(parser, ret);
	if (isdigit((unsigned char)c) || ((c == '-' || c == '+') && parser->pos + 1 < parser->end &&
		isdigit((unsigned char)parser->pos[1])))
		return parse_number(parser, ret);
	if (isalpha((unsigned char)c) || c == '_')
		return parse_call(parser, NULL, true, ret);
	if (c == '(') {
		if (++parser->depth > TEMPLATE_DEPTH_MAX)
			return wd_error_set(parser->err, WD_EINVAL,
				"username_template: parentheses nested deeper than %d", TEMPLATE_DEPTH_MAX);
		parser->pos++;
		WD_TRY(parse_pipeline(parser, ret));
		skip_space(parser);
		if (parser->pos >= parser->end || *parser->pos != ')') {
			template_value_clear(ret);
			return wd_error_set(parser->err, WD_EINVAL, "username_template: missing ')'");
		}
		parser->pos++;
		parser->depth--;
		return 0;
	}
	if (c == '$')
		rc = wd_error_set(parser->err, WD_EINVAL,
			"username_template: template variables are not supported");
	else
		rc = wd_error_set(parser->err, WD_EINVAL, "username_template: unexpected \"%c\"", c);
	return rc;
}

/* A command is a function call with its arguments, or one operand; piped
 * (taken) is the value of the command before '|', or NULL. */
static int parse_command(struct template_parser *parser, struct template_value *piped,
	struct template_value *ret)
{
	char c;
	int rc;

	skip_space(parser);
	c = parser->pos < parser->end ? *parser->pos : '\0';
	if (isalpha((unsigned char)c) || c == '_')
		return parse_call(parser, piped, false, ret);

	if (piped) {
		template_value_clear(piped);
		return wd_error_set(parser->err, WD_EINVAL,
			"username_template: only a function can follow '|'");
	}
	WD_TRY(parse_operand(parser, ret));
	skip_space(parser);
	if (!at_command_end(parser)) {
		template_value_clear(ret);
		rc = wd_error_set(parser->err, WD_EINVAL,
			"username_template: a value cannot take arguments");
		return rc;
	}
	return 0;
}

static int parse_pipeline(struct template_parser *parser, struct template_value *ret)
{
	struct template_value value = { 0 };

	WD_TRY(parse_command(parser, NULL, &value));
	for (;;) {
		struct template_value next = { 0 };

		skip_space(parser);
		if (parser->pos >= parser->end || *parser->pos != '|')
			break;
		parser->pos++;
		WD_TRY(parse_command(parser, &value, &next));
		value = next;
	}
	*ret = value;
	return 0;
}

static int output_too_long(struct wd_error *err)
{
	return wd_error_set(err, WD_ETOOBIG, "username_template output is longer than %d bytes",
		DB_TEMPLATE_MAX);
}

static int append_value(struct wd_buf *out, const struct template_value *value)
{
	if (value->is_int)
		return wd_buf_appendf(out, "%" PRId64, value->number);
	return wd_buf_append(out, value->text, value->len);
}

/* Renders one action that starts after "{{" (and its trim marker) and
 * moves past its "}}". Sets *ret_trim when it ends with " -}}". */
static int render_action(struct template_parser *parser, struct wd_buf *out, bool *ret_trim)
{
	struct template_value value = { 0 };
	int rc;

	skip_space(parser);
	if (starts_with(parser, "/*")) {
		const char *close = NULL;

		for (const char *p = parser->pos + 2; p + 1 < parser->end; p++) {
			if (p[0] == '*' && p[1] == '/') {
				close = p;
				break;
			}
		}
		if (!close)
			return wd_error_set(parser->err, WD_EINVAL, "username_template: unclosed comment");
		parser->pos = close + 2;
		skip_space(parser);
	} else {
		WD_TRY(parse_pipeline(parser, &value));
		skip_space(parser);
	}

	if (!at_action_end(parser, ret_trim)) {
		template_value_clear(&value);
		return wd_error_set(parser->err, WD_EINVAL,
			"username_template: expected \"}}\" to end the action");
	}
	parser->pos += *ret_trim ? 3 : 2;
	rc = value.text || value.is_int ? append_value(out, &value) : 0;
	template_value_clear(&value);
	if (rc == WD_ETOOBIG)
		return output_too_long(parser->err);
	return rc;
}

int db_template_render(const char *text, const struct db_template_data *data, char **ret_text,
	struct wd_error *err)
{
	struct template_parser parser = { .data = data, .err = err };
	struct wd_buf out;
	size_t len = strlen(text);
	bool trim_next = false;
	int rc = 0;

	*ret_text = NULL;
	if (len > DB_TEMPLATE_MAX)
		return wd_error_set(err, WD_ETOOBIG, "username_template is longer than %d bytes",
			DB_TEMPLATE_MAX);
	wd_buf_init(&out, 64, DB_TEMPLATE_MAX);
	parser.pos = text;
	parser.end = text + len;

	while (parser.pos < parser.end) {
		const char *open = strstr(parser.pos, "{{");
		const char *chunk_end = open ? open : parser.end;
		const char *chunk = parser.pos;
		bool trim_before = false;

		/* " -}}" and "{{- " drop the white space between the action and
		 * the text beside it. */
		if (trim_next) {
			while (chunk < chunk_end && isspace((unsigned char)*chunk))
				chunk++;
			trim_next = false;
		}
		if (open && open + 3 < parser.end && open[2] == '-' &&
			isspace((unsigned char)open[3]))
			trim_before = true;
		if (trim_before) {
			while (chunk_end > chunk && isspace((unsigned char)chunk_end[-1]))
				chunk_end--;
		}
		rc = wd_buf_append(&out, chunk, (size_t)(chunk_end - chunk));
		if (rc == WD_ETOOBIG)
			rc = output_too_long(err);
		if (rc < 0)
			goto out;
		if (!open)
			break;

		parser.pos = open + (trim_before ? 3 : 2);
		WD_GUARD(render_action(&parser, &out, &trim_next));
	}

	*ret_text = wd_buf_take(&out, NULL);
	if (!*ret_text)
		rc = WD_ENOMEM;
out:
	wd_buf_free(&out);
	return rc;
}

/* Returns the length of the longest prefix of text (len bytes) that is at
 * most max bytes and ends on a UTF-8 character boundary. */
static size_t utf8_prefix(const char *text, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)text[max] & 0xc0) == 0x80)
		max--;
	return max;
}

bool db_utf8_valid(const char *data, size_t len)
{
	const unsigned char *text = (const unsigned char *)data;
	size_t i = 0;

	while (i < len) {
		unsigned char c = text[i];
		size_t need;
		uint32_t code;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			code = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			code = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			code = c & 0x07;
		} else {
			return false;
		}
		if (len - i <= need)
			return false;
		for (size_t k = 1; k <= need; k++) {
			if ((text[i + k] & 0xc0) != 0x80)
				return false;
			code = (code << 6) | (text[i + k] & 0x3f);
		}
		/* Overlong forms, surrogates and values past U+10FFFF. */
		if ((need == 2 && code < 0x800) || (need == 3 && code < 0x10000) ||
			(code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff)
			return false;
		i += need + 1;
	}
	return true;
}

int db_username_generate(const char *template_text, const struct db_template_data *data,
	char ret_username[static DB_USERNAME_MAX + 1], struct wd_error *err)
{
	char *rendered = NULL;
	size_t len;
	int rc;

	ret_username[0] = '\0';
	if (!template_text || !*template_text)
		template_text = DB_DEFAULT_USERNAME_TEMPLATE;
	WD_TRY(db_template_render(template_text, data, &rendered, err));

	len = utf8_prefix(rendered, strlen(rendered), DB_USERNAME_MAX);
	if (len == 0) {
		rc = wd_error_set(err, WD_EINVAL, "username_template produced an empty username");
		goto out;
	}
	if (!db_utf8_valid(rendered, len)) {
		rc = wd_error_set(err, WD_EINVAL,
			"username_template produced a username that is not valid UTF-8");
		goto out;
	}

	/* Statements put the username between quotes without escaping it, as
	 * Vault does, so a quote or backslash in it would change their SQL. */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)rendered[i];

		if (c == '"' || c == '\'' || c == '\\' || c < 0x20 || c == 0x7f) {
			rc = wd_error_set(err, WD_EINVAL,
				"username_template produced a username with a quote, backslash or "
				"control character at byte %zu; change the template or the display name", i);
			goto out;
		}
	}
	memcpy(ret_username, rendered, len);
	ret_username[len] = '\0';
	rc = 0;
out:
	free(rendered);
	return rc;
}

int db_substitute(const char *text, const struct db_substitution *subs, size_t count,
	struct wd_buf *out)
{
	const char *pos = text;

	while (*pos) {
		const char *open = strstr(pos, "{{");
		bool replaced = false;

		if (!open)
			return wd_buf_append_str(out, pos);
		WD_TRY(wd_buf_append(out, pos, (size_t)(open - pos)));

		for (size_t i = 0; i < count; i++) {
			size_t key_len = strlen(subs[i].key);

			if (!strncmp(open + 2, subs[i].key, key_len) &&
				!strncmp(open + 2 + key_len, "}}", 2)) {
				WD_TRY(wd_buf_append_str(out, subs[i].value));
				pos = open + 2 + key_len + 2;
				replaced = true;
				break;
			}
		}
		if (!replaced) {
			WD_TRY(wd_buf_append(out, "{{", 2));
			pos = open + 2;
		}
	}
	return 0;
}
