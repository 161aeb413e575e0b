/* Statement lists of roles and configs: how requests give them, and how a
 * stored entry becomes the queries that run, as Vault's
 * strutil.ParseArbitraryStringSlice and the PostgreSQL plugin do. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/encoding.h"
#include "secrets/db_internal.h"

static void trim(const char **text, size_t *len)
{
	while (*len && isspace((unsigned char)**text)) {
		(*text)++;
		(*len)--;
	}
	while (*len && isspace((unsigned char)(*text)[*len - 1]))
		(*len)--;
}

static int append_trimmed(json_t *list, const char *text, size_t len)
{
	trim(&text, &len);
	if (len == 0)
		return 0;
	return json_array_append_new(list, json_stringn(text, len)) < 0 ? WD_ENOMEM : 0;
}

int db_statements_field(const json_t *body, const char *field, json_t **ret_list,
	struct wd_error *err)
{
	const json_t *value = json_object_get(body, field);
	json_t *list;
	size_t index;
	const json_t *item;
	int rc = 0;

	*ret_list = NULL;
	if (!value || json_is_null(value))
		return 0;
	if (!json_is_string(value) && !json_is_array(value))
		return wd_error_set(err, WD_EINVAL, "%s: expected a list of statements or a string",
			field);
	if (json_is_array(value) && json_array_size(value) > DB_STATEMENTS_MAX)
		return wd_error_set(err, WD_ETOOBIG, "%s: more than %d entries", field,
			DB_STATEMENTS_MAX);

	list = json_array();
	if (!list)
		return WD_ENOMEM;
	if (json_is_string(value)) {
		/* One string is one entry, as Vault's weak decoding makes it. */
		if (json_string_length(value) > DB_STATEMENT_BYTES_MAX) {
			rc = wd_error_set(err, WD_ETOOBIG, "%s: longer than %d bytes", field,
				DB_STATEMENT_BYTES_MAX);
			goto out;
		}
		WD_GUARD(append_trimmed(list, json_string_value(value), json_string_length(value)));
	} else {
		json_array_foreach(value, index, item) {
			if (!json_is_string(item)) {
				rc = wd_error_set(err, WD_EINVAL, "%s[%zu]: expected a string", field, index);
				goto out;
			}
			if (json_string_length(item) > DB_STATEMENT_BYTES_MAX) {
				rc = wd_error_set(err, WD_ETOOBIG, "%s[%zu]: longer than %d bytes", field,
					index, DB_STATEMENT_BYTES_MAX);
				goto out;
			}
			WD_GUARD(append_trimmed(list, json_string_value(item), json_string_length(item)));
		}
	}
	*ret_list = WD_TAKE_PTR(list);
	rc = 1;
out:
	json_decref(list);
	return rc;
}

static bool is_word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

bool db_statement_has_end(const char *text, size_t len)
{
	size_t i = 0;

	/* Quoted text is skipped as a whole: 'END' and "END" are data. Dollar
	 * quotes are not skipped, since DO $$ ... END $$ is the case to find. */
	while (i < len) {
		char c = text[i];

		if (c == '\'' || c == '"') {
			const char *close = memchr(text + i + 1, c, len - i - 1);

			if (close) {
				i = (size_t)(close - text) + 1;
				continue;
			}
		}
		/* Any case, unlike Vault: PQexec runs a text of several
		 * statements in order, so a lower-case "do ... end" block also
		 * runs whole instead of being cut at its inner semicolons. */
		if (len - i >= 3 && !strncasecmp(text + i, "END", 3) &&
			(i == 0 || !is_word_char(text[i - 1])) &&
			(len - i == 3 || !is_word_char(text[i + 3])))
			return true;
		i++;
	}
	return false;
}

/* Returns the length of a dollar-quote tag ("$$" or "$tag$") at text[i],
 * or 0 when there is none. A '$' after a word character belongs to an
 * identifier, and "$1" is a parameter. */
static size_t dollar_tag_length(const char *text, size_t len, size_t i)
{
	size_t end = i + 1;

	if (i > 0 && is_word_char(text[i - 1]))
		return 0;
	if (end < len && isdigit((unsigned char)text[end]))
		return 0;
	while (end < len && is_word_char(text[end]))
		end++;
	if (end < len && text[end] == '$')
		return end - i + 1;
	return 0;
}

/* Returns the index just past the quoted text, comment or dollar-quoted
 * body that starts at text[i], or i when none starts there. An unclosed
 * one runs to the end. */
static size_t skip_quoted(const char *text, size_t len, size_t i)
{
	char c = text[i];
	size_t tag;

	if (c == '\'' || c == '"') {
		const char *close = memchr(text + i + 1, c, len - i - 1);

		return close ? (size_t)(close - text) + 1 : len;
	}
	if (c == '-' && i + 1 < len && text[i + 1] == '-') {
		const char *newline = memchr(text + i, '\n', len - i);

		return newline ? (size_t)(newline - text) + 1 : len;
	}
	if (c == '/' && i + 1 < len && text[i + 1] == '*') {
		for (size_t k = i + 2; k + 1 < len; k++) {
			if (text[k] == '*' && text[k + 1] == '/')
				return k + 2;
		}
		return len;
	}
	if (c == '$' && (tag = dollar_tag_length(text, len, i)) > 0) {
		for (size_t k = i + tag; k + tag <= len; k++) {
			if (!memcmp(text + k, text + i, tag))
				return k + tag;
		}
		return len;
	}
	return i;
}

int db_statements_split(const char *text, size_t len, json_t *queries)
{
	size_t start = 0;
	size_t i = 0;

	while (i < len) {
		size_t next = skip_quoted(text, len, i);

		if (next != i) {
			i = next;
			continue;
		}
		if (text[i] == ';') {
			if (json_array_size(queries) >= DB_QUERIES_MAX)
				return WD_ETOOBIG;
			WD_TRY(append_trimmed(queries, text + start, i - start));
			start = i + 1;
		}
		i++;
	}
	if (json_array_size(queries) >= DB_QUERIES_MAX)
		return WD_ETOOBIG;
	return append_trimmed(queries, text + start, len - start);
}

/* Whether len bytes are text a query can hold: UTF-8 without NUL or other
 * control characters but white space. Decoded base64 of binary data, or of
 * a word such as "null" that happens to be base64, is not a statement. */
static bool printable_text(const uint8_t *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (data[i] == 0 || (data[i] < 0x20 && !isspace(data[i])))
			return false;
	}
	return db_utf8_valid((const char *)data, len);
}

/* Appends the strings of text when it is a JSON array of strings (or
 * null) and returns 1; returns 0 when it is not. */
static int append_json_array(const char *text, size_t len, json_t *queries)
{
	json_t *parsed = json_loadb(text, len, JSON_DECODE_ANY, NULL);
	size_t index;
	json_t *item;
	int rc = 1;

	if (!parsed)
		return 0;
	if (!json_is_array(parsed) && !json_is_null(parsed)) {
		json_decref(parsed);
		return 0;
	}
	json_array_foreach(parsed, index, item) {
		if (!json_is_string(item)) {
			json_decref(parsed);
			return 0;
		}
	}
	json_array_foreach(parsed, index, item) {
		if (json_array_size(queries) >= DB_QUERIES_MAX) {
			rc = WD_ETOOBIG;
			break;
		}
		rc = append_trimmed(queries, json_string_value(item), json_string_length(item));
		if (rc < 0)
			break;
		rc = 1;
	}
	json_decref(parsed);
	return rc;
}

static int expand_entry(const char *entry, size_t len, json_t *queries)
{
	uint8_t *decoded = NULL;
	size_t decoded_len = 0;
	int rc;

	trim(&entry, &len);
	if (len == 0)
		return 0;

	/* A valid base64 entry stands for its decoded text. */
	if (wd_base64_decode(entry, len, &decoded, &decoded_len) == 0 && decoded_len > 0 &&
		printable_text(decoded, decoded_len)) {
		entry = (const char *)decoded;
		len = decoded_len;
	}

	rc = append_json_array(entry, len, queries);
	if (rc == 0) {
		if (db_statement_has_end(entry, len)) {
			rc = json_array_size(queries) >= DB_QUERIES_MAX ? WD_ETOOBIG :
				append_trimmed(queries, entry, len);
		} else {
			rc = db_statements_split(entry, len, queries);
		}
	}
	free(decoded);
	return rc < 0 ? rc : 0;
}

int db_statements_expand(const json_t *list, json_t **ret_queries, struct wd_error *err)
{
	json_t *queries = json_array();
	size_t index;
	const json_t *item;
	int rc = 0;

	*ret_queries = NULL;
	if (!queries)
		return WD_ENOMEM;
	json_array_foreach(list, index, item) {
		if (!json_is_string(item))
			continue;
		rc = expand_entry(json_string_value(item), json_string_length(item), queries);
		if (rc == WD_ETOOBIG)
			rc = wd_error_set(err, rc, "statements expand to more than %d queries",
				DB_QUERIES_MAX);
		if (rc < 0)
			goto out;
	}
	*ret_queries = WD_TAKE_PTR(queries);
out:
	json_decref(queries);
	return rc;
}
