/* Request fields as Vault's framework reads them: typed JSON values, or
 * strings such as "false" and "4" that Vault's CLI sends for every field. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "secrets/db_internal.h"

/* Go's strconv.ParseBool. */
static int parse_bool_text(const char *text, bool *ret_value)
{
	static const char *const truths[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const falsities[] = { "0", "f", "F", "FALSE", "false", "False" };

	for (size_t i = 0; i < WD_ARRAY_LEN(truths); i++) {
		if (!strcmp(text, truths[i])) {
			*ret_value = true;
			return 0;
		}
		if (!strcmp(text, falsities[i])) {
			*ret_value = false;
			return 0;
		}
	}
	return WD_EINVAL;
}

int db_field_bool(const json_t *body, const char *field, bool *ret_value,
	struct wd_error *err)
{
	const json_t *value = json_object_get(body, field);

	if (!value || json_is_null(value))
		return 0;
	if (json_is_boolean(value)) {
		*ret_value = json_is_true(value);
		return 1;
	}
	if (json_is_string(value) && parse_bool_text(json_string_value(value), ret_value) == 0)
		return 1;
	return wd_error_set(err, WD_EINVAL, "%s: expected true or false", field);
}

int db_field_int(const json_t *body, const char *field, int64_t min, int64_t max,
	int64_t *ret_value, struct wd_error *err)
{
	const json_t *value = json_object_get(body, field);
	int64_t number;

	if (!value || json_is_null(value))
		return 0;
	if (json_is_integer(value)) {
		number = json_integer_value(value);
	} else if (json_is_string(value) && json_string_length(value) > 0) {
		const char *text = json_string_value(value);
		char *end = NULL;

		errno = 0;
		number = strtoll(text, &end, 10);
		if (errno || *end)
			return wd_error_set(err, WD_EINVAL, "%s: invalid integer \"%.32s\"", field, text);
	} else {
		return wd_error_set(err, WD_EINVAL, "%s: expected an integer", field);
	}
	if (number < min || number > max)
		return wd_error_set(err, WD_EINVAL, "%s: %" PRId64 " is outside %" PRId64 "..%" PRId64,
			field, number, min, max);
	*ret_value = number;
	return 1;
}

int db_field_string(const json_t *body, const char *field, size_t max_len,
	const char **ret_value, struct wd_error *err)
{
	const json_t *value = json_object_get(body, field);

	if (!value || json_is_null(value))
		return 0;
	if (!json_is_string(value))
		return wd_error_set(err, WD_EINVAL, "%s: expected a string", field);
	if (json_string_length(value) > max_len)
		return wd_error_set(err, WD_EINVAL, "%s: longer than %zu bytes", field, max_len);
	if (strlen(json_string_value(value)) != json_string_length(value))
		return wd_error_set(err, WD_EINVAL, "%s: contains a NUL byte", field);
	*ret_value = json_string_value(value);
	return 1;
}

int db_warn_unknown_fields(const json_t *body, const char *const *known, size_t known_count,
	struct vault_response *resp)
{
	struct wd_buf names;
	const char *key;
	const json_t *value;
	int rc = 0;

	wd_buf_init(&names, 64, 1024);
	json_object_foreach((json_t *)body, key, value) {
		bool found = false;

		for (size_t i = 0; i < known_count && !found; i++)
			found = !strcmp(key, known[i]);
		if (found)
			continue;
		/* A long list is cut; the warning names the first fields. */
		if (wd_buf_len(&names) && wd_buf_append_byte(&names, ' ') < 0)
			break;
		if (wd_buf_appendf(&names, "%.64s", key) < 0)
			break;
	}
	if (wd_buf_len(&names))
		rc = vault_response_warn(resp, "Endpoint ignored these unrecognized parameters: [%s]",
			wd_buf_str(&names));
	wd_buf_free(&names);
	return rc;
}
