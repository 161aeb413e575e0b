/* Field readers for the signing formats' JSON, with errors that give the
 * field path ("bundle: messageSignature.signature ...") and the bad value. */
#include <string.h>

#include "common/encoding.h"
#include "supply/supply_json.h"

/* Bytes of a bad value quoted in an error. Signatures and digests are
 * public, but the start of the value is enough to find it. */
#define QUOTE_MAX 48

int supply_json_load(const char *text, size_t len, const char *what, json_t **ret_object,
	struct wd_error *err)
{
	json_error_t json_error;
	json_t *root;

	*ret_object = NULL;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &json_error);
	if (!root)
		return wd_error_set(err, WD_EINVAL, "%s: invalid JSON at line %d column %d: %s",
			what, json_error.line, json_error.column, json_error.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return wd_error_set(err, WD_EINVAL, "%s: the document is not a JSON object", what);
	}
	*ret_object = root;
	return WD_OK;
}

int supply_json_check_keys(json_t *object, const char *what, const char *path,
	const char *const *allowed, size_t allowed_count, struct wd_error *err)
{
	const char *key;
	json_t *value;

	json_object_foreach(object, key, value) {
		bool known = false;

		for (size_t i = 0; i < allowed_count && !known; i++)
			known = strcmp(key, allowed[i]) == 0;
		if (!known)
			return wd_error_set(err, WD_EINVAL, "%s: unknown field \"%s%.64s\"", what, path,
				key);
	}
	return WD_OK;
}

/* Looks name up; 1 with the value, 0 when absent and optional. */
static int lookup(json_t *object, const char *what, const char *path, const char *name,
	bool required, json_t **ret_value, struct wd_error *err)
{
	json_t *value = json_object_get(object, name);

	*ret_value = NULL;
	if (!value || json_is_null(value)) {
		if (required)
			return wd_error_set(err, WD_EINVAL, "%s: missing field \"%s%s\"", what, path,
				name);
		return 0;
	}
	*ret_value = value;
	return 1;
}

static int wrong_type(const char *what, const char *path, const char *name, const char *type,
	struct wd_error *err)
{
	return wd_error_set(err, WD_EINVAL, "%s: field \"%s%s\" is not a JSON %s", what, path,
		name, type);
}

int supply_json_object(json_t *object, const char *what, const char *path, const char *name,
	bool required, json_t **ret_value, struct wd_error *err)
{
	int found = lookup(object, what, path, name, required, ret_value, err);

	if (found == 1 && !json_is_object(*ret_value)) {
		*ret_value = NULL;
		return wrong_type(what, path, name, "object", err);
	}
	return found;
}

int supply_json_array(json_t *object, const char *what, const char *path, const char *name,
	bool required, json_t **ret_value, struct wd_error *err)
{
	int found = lookup(object, what, path, name, required, ret_value, err);

	if (found == 1 && !json_is_array(*ret_value)) {
		*ret_value = NULL;
		return wrong_type(what, path, name, "array", err);
	}
	return found;
}

int supply_json_string(json_t *object, const char *what, const char *path, const char *name,
	bool required, const char **ret_value, struct wd_error *err)
{
	json_t *value;
	int found = lookup(object, what, path, name, required, &value, err);

	*ret_value = NULL;
	if (found != 1)
		return found;
	if (!json_is_string(value))
		return wrong_type(what, path, name, "string", err);
	if (strlen(json_string_value(value)) != json_string_length(value))
		return wd_error_set(err, WD_EINVAL, "%s: field \"%s%s\" contains a NUL byte", what,
			path, name);
	*ret_value = json_string_value(value);
	return 1;
}

/* Go's protojson, which writes and reads Sigstore bundles, picks the
 * URL-safe alphabet when the text contains '-' or '_', and accepts padding
 * only when the length is a multiple of 4. */
int supply_base64_decode_any(const char *text, size_t len, uint8_t **ret_data, size_t *ret_len)
{
	bool url = memchr(text, '-', len) || memchr(text, '_', len);
	char *padded;
	size_t padded_len;
	int rc;

	*ret_data = NULL;
	*ret_len = 0;
	if (url) {
		if (len % 4 == 0) {
			for (int i = 0; i < 2 && len > 0 && text[len - 1] == '='; i++)
				len--;
		}
		return wd_base64url_decode(text, len, ret_data, ret_len);
	}
	if (len % 4 == 0)
		return wd_base64_decode(text, len, ret_data, ret_len);
	if (memchr(text, '=', len))
		return WD_EINVAL;

	padded_len = len + (4 - len % 4);
	padded = malloc(padded_len);
	if (!padded)
		return WD_ENOMEM;
	memcpy(padded, text, len);
	memset(padded + len, '=', padded_len - len);
	rc = wd_base64_decode(padded, padded_len, ret_data, ret_len);
	free(padded);
	return rc;
}

static int too_big(const char *what, const char *path, const char *name, size_t max,
	struct wd_error *err)
{
	return wd_error_set(err, WD_ETOOBIG, "%s: field \"%s%s\" is over %zu bytes", what, path,
		name, max);
}

int supply_json_bytes(json_t *object, const char *what, const char *path, const char *name,
	bool required, size_t max, uint8_t **ret_data, size_t *ret_len, struct wd_error *err)
{
	const char *text;
	size_t len;
	int found;
	int rc;

	*ret_data = NULL;
	*ret_len = 0;
	found = supply_json_string(object, what, path, name, required, &text, err);
	if (found != 1)
		return found;

	/* Four characters carry three bytes, so a longer text cannot fit. */
	len = strlen(text);
	if (len / 4 > max / 3 + 1)
		return too_big(what, path, name, max, err);
	rc = supply_base64_decode_any(text, len, ret_data, ret_len);
	if (rc == WD_ENOMEM)
		return rc;
	if (rc < 0)
		return wd_error_set(err, WD_EINVAL, "%s: field \"%s%s\" is not valid base64: \"%.*s\"%s",
			what, path, name, QUOTE_MAX, text, len > QUOTE_MAX ? "..." : "");
	if (*ret_len > max) {
		free(*ret_data);
		*ret_data = NULL;
		*ret_len = 0;
		return too_big(what, path, name, max, err);
	}
	return 1;
}
