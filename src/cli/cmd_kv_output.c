/* Output of `warden kv` in the layout of the vault CLI (command/format.go
 * and kv_helpers.go in hashicorp/vault, with ryanuber/columnize): section
 * headers padded with '=', "Key/Value" tables and Go's JSON and %v
 * formatting, so scripts written against `vault kv` read the same text. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_kv.h"
#include "common/alloc.h"

/* Space between table columns (the vault CLI's columnize Glue). */
#define COLUMN_GLUE "    "
/* Ceiling of one formatted value, in bytes. */
#define VALUE_TEXT_MAX ((size_t)64 << 20)

/* Appends the shortest text that reads back as the same double. */
static int append_real(struct wd_buf *out, double value)
{
	char text[40];

	if (!isfinite(value))
		return wd_buf_append_str(out, "0");
	for (int precision = 1; precision <= 17; precision++) {
		snprintf(text, sizeof(text), "%.*g", precision, value);
		if (strtod(text, NULL) == value)
			break;
	}
	return wd_buf_append_str(out, text);
}

/* Returns the keys of obj sorted bytewise (Go's map order); the caller
 * frees the array, not the keys. NULL without memory. */
static const char **sorted_keys(const json_t *obj, size_t *ret_count)
{
	size_t count = json_object_size(obj), i = 0;
	const char **keys = wd_calloc(count + 1, sizeof(*keys));
	const char *key;
	json_t *value;

	*ret_count = 0;
	if (!keys)
		return NULL;
	json_object_foreach((json_t *)obj, key, value)
		keys[i++] = key;
	for (size_t a = 1; a < count; a++) {
		const char *moving = keys[a];
		size_t b = a;

		while (b > 0 && strcmp(keys[b - 1], moving) > 0) {
			keys[b] = keys[b - 1];
			b--;
		}
		keys[b] = moving;
	}
	*ret_count = count;
	return keys;
}

int kv_format_value(const json_t *value, struct wd_buf *out)
{
	char number[32];

	switch (json_typeof(value)) {
	case JSON_STRING:
		return wd_buf_append(out, json_string_value(value), json_string_length(value));
	case JSON_INTEGER:
		snprintf(number, sizeof(number), "%" JSON_INTEGER_FORMAT,
			json_integer_value(value));
		return wd_buf_append_str(out, number);
	case JSON_REAL:
		return append_real(out, json_real_value(value));
	case JSON_TRUE:
		return wd_buf_append_str(out, "true");
	case JSON_FALSE:
		return wd_buf_append_str(out, "false");
	case JSON_NULL:
		return wd_buf_append_str(out, "<nil>");
	case JSON_ARRAY: {
		size_t i;
		json_t *item;

		WD_TRY(wd_buf_append_byte(out, '['));
		json_array_foreach(value, i, item) {
			if (i > 0)
				WD_TRY(wd_buf_append_byte(out, ' '));
			WD_TRY(kv_format_value(item, out));
		}
		return wd_buf_append_byte(out, ']');
	}
	case JSON_OBJECT: {
		size_t count;
		const char **keys = sorted_keys(value, &count);
		int rc = keys ? wd_buf_append_str(out, "map[") : WD_ENOMEM;

		for (size_t i = 0; rc == 0 && i < count; i++) {
			if (i > 0)
				rc = wd_buf_append_byte(out, ' ');
			if (rc == 0)
				rc = wd_buf_appendf(out, "%s:", keys[i]);
			if (rc == 0)
				rc = kv_format_value(json_object_get(value, keys[i]), out);
		}
		if (rc == 0)
			rc = wd_buf_append_byte(out, ']');
		free(keys);
		return rc;
	}
	}
	return WD_EINVAL;
}

void kv_print_path(FILE *out, const char *title, const char *path)
{
	size_t total = strlen(path);
	size_t title_len = strlen(title);
	size_t signs = total > title_len + 2 ? total - (title_len + 2) : 0;

	/* padEqualSigns: at least two signs a side, and an even count. */
	if (signs == 0)
		signs = 4;
	if (signs % 2)
		signs++;
	for (size_t i = 0; i < signs / 2; i++)
		fputc('=', out);
	fprintf(out, " %s ", title);
	for (size_t i = 0; i < signs / 2; i++)
		fputc('=', out);
	fprintf(out, "\n%s\n\n", path);
}

void kv_print_map_header(FILE *out, const char *title, const json_t *map)
{
	size_t longest = 0, total, title_len = strlen(title), signs;
	const char *key;
	json_t *value;

	json_object_foreach((json_t *)map, key, value) {
		if (strlen(key) > longest)
			longest = strlen(key);
	}
	/* getHeaderForMap: the longest key, four spaces and "Value". */
	total = longest + 4 + 5;
	signs = total > title_len + 2 ? total - (title_len + 2) : 0;
	if (signs == 0)
		signs = 4;
	if (signs % 2)
		signs++;
	for (size_t i = 0; i < signs / 2; i++)
		fputc('=', out);
	fprintf(out, " %s ", title);
	for (size_t i = 0; i < signs / 2; i++)
		fputc('=', out);
	fputc('\n', out);
}

/* Whether the value under key is a duration in seconds (looksLikeDuration). */
static bool looks_like_duration(const char *key)
{
	static const char *const suffixes[] = { "_period", "_ttl", "_duration" };
	size_t len = strlen(key);

	if (!strcmp(key, "period") || !strcmp(key, "ttl") || !strcmp(key, "duration") ||
	    !strcmp(key, "lease_max") || !strcmp(key, "ttl_max"))
		return true;
	for (size_t i = 0; i < WD_ARRAY_LEN(suffixes); i++) {
		size_t suffix_len = strlen(suffixes[i]);

		if (len >= suffix_len && !strcmp(key + len - suffix_len, suffixes[i]))
			return true;
	}
	return false;
}

/* Appends seconds as the vault CLI's humanDuration: Go's duration text
 * without a zero minute or second part ("1h", "1m30s", "768h"). */
static int append_duration(struct wd_buf *out, int64_t seconds)
{
	uint64_t magnitude = seconds < 0 ? (uint64_t)0 - (uint64_t)seconds : (uint64_t)seconds;
	uint64_t hours = magnitude / 3600, minutes = magnitude % 3600 / 60, rest = magnitude % 60;

	if (seconds == 0)
		return wd_buf_append_str(out, "0s");
	if (seconds < 0)
		WD_TRY(wd_buf_append_byte(out, '-'));
	if (hours)
		WD_TRY(wd_buf_appendf(out, "%" PRIu64 "h", hours));
	if (minutes)
		WD_TRY(wd_buf_appendf(out, "%" PRIu64 "m", minutes));
	if (rest || (!hours && !minutes))
		WD_TRY(wd_buf_appendf(out, "%" PRIu64 "s", rest));
	return 0;
}

/* Returns the visible width of UTF-8 text: its code points. */
static size_t text_width(const char *text)
{
	size_t width = 0;

	for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
		if ((*c & 0xc0) != 0x80)
			width++;
	}
	return width;
}

/* Returns text without leading and trailing whitespace, as a new string;
 * "n/a" when nothing is left (columnize's Empty). */
static char *cell_text(const char *text, size_t len)
{
	while (len > 0 && strchr(" \t\n\r\v\f", text[0])) {
		text++;
		len--;
	}
	while (len > 0 && strchr(" \t\n\r\v\f", text[len - 1]))
		len--;
	return len ? wd_strndup(text, len) : wd_strdup("n/a");
}

/* Prints rows of two cells, the first padded to its widest, the rows
 * ending in the second cell. */
static void print_columns(FILE *out, char *const *left, char *const *right, size_t rows)
{
	size_t width = 0;

	for (size_t i = 0; i < rows; i++) {
		if (text_width(left[i]) > width)
			width = text_width(left[i]);
	}
	for (size_t i = 0; i < rows; i++) {
		fputs(left[i], out);
		for (size_t pad = text_width(left[i]); pad < width; pad++)
			fputc(' ', out);
		fprintf(out, COLUMN_GLUE "%s\n", right[i]);
	}
}

/* Frees count cells; secret cells (values) are wiped first. */
static void free_cells(char **cells, size_t count, bool secret)
{
	for (size_t i = 0; cells && i < count; i++) {
		if (secret)
			wd_free_secret_str(cells[i]);
		else
			free(cells[i]);
	}
	free(cells);
}

int kv_print_table(FILE *out, const json_t *map)
{
	size_t count = 0, rows = 0;
	const char **keys = sorted_keys(map, &count);
	char **left = NULL, **right = NULL;
	struct wd_buf text;
	int rc = 0;

	wd_buf_init(&text, 64, VALUE_TEXT_MAX);
	left = wd_calloc(count + 2, sizeof(*left));
	right = wd_calloc(count + 2, sizeof(*right));
	WD_ENSURE(keys && left && right, WD_ENOMEM);
	if (count == 0)
		goto out;

	left[rows] = wd_strdup("Key");
	right[rows++] = wd_strdup("Value");
	left[rows] = wd_strdup("---");
	right[rows++] = wd_strdup("-----");
	for (size_t i = 0; i < count; i++) {
		const json_t *value = json_object_get(map, keys[i]);

		wd_buf_reset(&text);
		if (looks_like_duration(keys[i]) && json_is_integer(value))
			WD_GUARD(append_duration(&text, json_integer_value(value)));
		else
			WD_GUARD(kv_format_value(value, &text));
		left[rows] = cell_text(keys[i], strlen(keys[i]));
		right[rows++] = cell_text(wd_buf_str(&text), wd_buf_len(&text));
	}
	for (size_t i = 0; i < rows; i++)
		WD_ENSURE(left[i] && right[i], WD_ENOMEM);
	print_columns(out, left, right, rows);
out:
	/* Values are secrets: wipe the formatting buffer. */
	wd_buf_free_secret(&text);
	free_cells(left, rows, false);
	free_cells(right, rows, true);
	free(keys);
	return rc;
}

/* Compares two C strings bytewise, for qsort. */
static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int kv_print_keys(FILE *out, const json_t *keys)
{
	size_t count = json_array_size(keys);
	char **cells = wd_calloc(count + 1, sizeof(*cells));
	size_t i;
	json_t *item;
	int rc = 0;

	WD_ENSURE(cells, WD_ENOMEM);
	json_array_foreach(keys, i, item) {
		const char *text = json_is_string(item) ? json_string_value(item) : "";

		cells[i] = cell_text(text, strlen(text));
		WD_ENSURE(cells[i], WD_ENOMEM);
	}
	qsort(cells, count, sizeof(*cells), compare_strings);
	fputs("Keys\n----\n", out);
	for (i = 0; i < count; i++)
		fprintf(out, "%s\n", cells[i]);
out:
	free_cells(cells, count, false);
	return rc;
}

/* Writes text as a JSON string the way Go's encoding/json does: <, > and
 * & as \u escapes (HTML-safe), \b \f \n \r \t short, other control
 * characters and U+2028/U+2029 as \u escapes. */
static void print_json_string(FILE *out, const char *text, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	fputc('"', out);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '"' || c == '\\') {
			fputc('\\', out);
			fputc(c, out);
		} else if (c == '\b') {
			fputs("\\b", out);
		} else if (c == '\f') {
			fputs("\\f", out);
		} else if (c == '\n') {
			fputs("\\n", out);
		} else if (c == '\r') {
			fputs("\\r", out);
		} else if (c == '\t') {
			fputs("\\t", out);
		} else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
			fprintf(out, "\\u00%c%c", hex[c >> 4], hex[c & 0xf]);
		} else if (c == 0xe2 && i + 2 < len && (unsigned char)text[i + 1] == 0x80 &&
			   ((unsigned char)text[i + 2] == 0xa8 || (unsigned char)text[i + 2] == 0xa9)) {
			fprintf(out, "\\u202%c", (unsigned char)text[i + 2] == 0xa8 ? '8' : '9');
			i += 2;
		} else {
			fputc(c, out);
		}
	}
	fputc('"', out);
}

static void print_indent(FILE *out, int depth)
{
	for (int i = 0; i < depth; i++)
		fputs("  ", out);
}

static int print_json_value(FILE *out, const json_t *value, int depth)
{
	switch (json_typeof(value)) {
	case JSON_OBJECT: {
		size_t count;
		const char **keys = sorted_keys(value, &count);

		if (!keys)
			return WD_ENOMEM;
		if (count == 0) {
			fputs("{}", out);
			free(keys);
			return 0;
		}
		fputs("{\n", out);
		for (size_t i = 0; i < count; i++) {
			int rc;

			print_indent(out, depth + 1);
			print_json_string(out, keys[i], strlen(keys[i]));
			fputs(": ", out);
			rc = print_json_value(out, json_object_get(value, keys[i]), depth + 1);
			if (rc < 0) {
				free(keys);
				return rc;
			}
			fputs(i + 1 < count ? ",\n" : "\n", out);
		}
		print_indent(out, depth);
		fputc('}', out);
		free(keys);
		return 0;
	}
	case JSON_ARRAY: {
		size_t count = json_array_size(value);

		if (count == 0) {
			fputs("[]", out);
			return 0;
		}
		fputs("[\n", out);
		for (size_t i = 0; i < count; i++) {
			print_indent(out, depth + 1);
			WD_TRY(print_json_value(out, json_array_get(value, i), depth + 1));
			fputs(i + 1 < count ? ",\n" : "\n", out);
		}
		print_indent(out, depth);
		fputc(']', out);
		return 0;
	}
	case JSON_STRING:
		print_json_string(out, json_string_value(value), json_string_length(value));
		return 0;
	default: {
		struct wd_buf text;
		int rc;

		wd_buf_init(&text, 32, 64);
		rc = json_is_null(value) ? wd_buf_append_str(&text, "null") :
					   kv_format_value(value, &text);
		if (rc == 0)
			fputs(wd_buf_str(&text), out);
		wd_buf_free(&text);
		return rc;
	}
	}
}

int kv_print_json(FILE *out, const json_t *value)
{
	WD_TRY(print_json_value(out, value, 0));
	fputc('\n', out);
	return 0;
}

int kv_print_secret_json(FILE *out, const json_t *response)
{
	static const char *const fields[] = {
		"request_id", "lease_id", "lease_duration", "renewable", "data", "warnings",
	};
	const json_t *mount_type = json_object_get(response, "mount_type");
	bool with_mount_type = json_is_string(mount_type) && json_string_length(mount_type) > 0;

	/* api.Secret's field order; absent fields print Go's zero values. */
	fputs("{\n", out);
	for (size_t i = 0; i < WD_ARRAY_LEN(fields); i++) {
		const json_t *value = json_object_get(response, fields[i]);
		json_t *zero = NULL;
		int rc;

		if (!value) {
			if (i < 2)
				zero = json_string("");
			else if (i == 2)
				zero = json_integer(0);
			else if (i == 3)
				zero = json_false();
			else
				zero = json_null();
			value = zero;
		}
		print_indent(out, 1);
		print_json_string(out, fields[i], strlen(fields[i]));
		fputs(": ", out);
		rc = value ? print_json_value(out, value, 1) : WD_ENOMEM;
		json_decref(zero);
		WD_TRY(rc);
		fputs(i + 1 < WD_ARRAY_LEN(fields) || with_mount_type ? ",\n" : "\n", out);
	}
	if (with_mount_type) {
		print_indent(out, 1);
		fputs("\"mount_type\": ", out);
		print_json_string(out, json_string_value(mount_type),
			json_string_length(mount_type));
		fputc('\n', out);
	}
	fputs("}\n", out);
	return 0;
}
