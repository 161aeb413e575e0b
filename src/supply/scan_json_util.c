/* JSON building for the reports of `warden scan`, with one failure flag in
 * place of a check after every call. */
#include <stdlib.h>
#include <string.h>

#include "supply/scan_internal.h"

json_t *scan_json_string(struct scan_json *b, const char *text)
{
	json_t *value;
	char *ascii;

	if (!text)
		return json_null();
	value = json_string(text);
	if (value)
		return value;
	ascii = strdup(text);
	if (!ascii) {
		b->failed = true;
		return NULL;
	}
	for (char *p = ascii; *p; p++) {
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	}
	value = json_string(ascii);
	free(ascii);
	if (!value)
		b->failed = true;
	return value;
}

void scan_json_set(struct scan_json *b, json_t *object, const char *key, json_t *value)
{
	if (!object || !value || json_object_set_new(object, key, value) < 0) {
		if (!object)
			json_decref(value);
		b->failed = true;
	}
}

void scan_json_append(struct scan_json *b, json_t *array, json_t *value)
{
	if (!array || !value || json_array_append_new(array, value) < 0) {
		if (!array)
			json_decref(value);
		b->failed = true;
	}
}

json_t *scan_json_score(struct scan_json *b, const struct osv_severity *severity)
{
	json_t *value;

	if (severity->score < 0)
		return json_null();
	value = json_real(severity->score / 10.0);
	if (!value)
		b->failed = true;
	return value;
}

int scan_json_finish(json_t *root, char **ret_text, struct wd_error *err)
{
	char *text, *with_newline;
	size_t len;

	*ret_text = NULL;
	text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(4));
	json_decref(root);
	if (!text)
		return wd_error_set(err, WD_ENOMEM, "out of memory for the report");

	/* A text file ends with a newline, which json_dumps leaves out. */
	len = strlen(text);
	with_newline = realloc(text, len + 2);
	if (!with_newline) {
		free(text);
		return wd_error_set(err, WD_ENOMEM, "out of memory for the report");
	}
	with_newline[len] = '\n';
	with_newline[len + 1] = '\0';
	*ret_text = with_newline;
	return 0;
}
