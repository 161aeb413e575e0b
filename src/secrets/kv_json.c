/* JSON transformations of the KV engine: RFC 7396 merge patches, the
 * value-free shape that subkeys returns, and custom_metadata as Vault
 * decodes and checks it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secrets/kv_internal.h"

#define CUSTOM_PREFIX "custom_metadata validation failed"

/* Returns target (owned, may be NULL) merged with patch, as RFC 7396
 * section 2 defines MergePatch; NULL without memory. */
static json_t *merge(json_t *target, const json_t *patch)
{
	const char *name;
	json_t *value;

	if (!json_is_object(patch)) {
		json_decref(target);
		return json_deep_copy(patch);
	}
	if (!json_is_object(target)) {
		json_decref(target);
		target = json_object();
		if (!target)
			return NULL;
	}

	json_object_foreach((json_t *)patch, name, value) {
		json_t *child, *merged;

		if (json_is_null(value)) {
			json_object_del(target, name);
			continue;
		}
		child = json_incref(json_object_get(target, name));
		merged = merge(child, value);
		if (!merged || json_object_set_new(target, name, merged) < 0) {
			json_decref(target);
			return NULL;
		}
	}
	return target;
}

int kv_merge_patch(json_t **target, const json_t *patch)
{
	json_t *merged = merge(*target, patch);

	*target = merged;
	return merged ? 0 : WD_ENOMEM;
}

/* Copies the keys of obj at nesting level depth (the top is 1). */
static json_t *strip(const json_t *obj, int64_t depth, int64_t max_depth)
{
	json_t *out = json_object();
	const char *name;
	json_t *value;

	if (!out)
		return NULL;
	json_object_foreach((json_t *)obj, name, value) {
		json_t *child;

		/* A non-empty object above the depth limit keeps its keys. Every
		 * other value, an empty object included, becomes null so no
		 * secret value is returned. */
		if (json_is_object(value) && json_object_size(value) > 0 &&
		    (max_depth == 0 || depth + 1 <= max_depth))
			child = strip(value, depth + 1, max_depth);
		else
			child = json_null();
		if (!child || json_object_set_new(out, name, child) < 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

json_t *kv_subkeys(const json_t *data, int64_t depth)
{
	return strip(data, 1, depth);
}

/* Whether text has no control characters (Vault's strutil.Printable,
 * byte-wise: multi-byte UTF-8 counts as printable). */
static bool printable(const char *text)
{
	for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
		if (*c < 0x20 || *c == 0x7f)
			return false;
	}
	return true;
}

/* Returns value as the string Go's weak decoding makes of it: numbers
 * as their text and bools as "1" or "0"; NULL for objects and arrays. */
static json_t *weak_string(const json_t *value)
{
	char text[64];

	if (json_is_string(value))
		return json_incref((json_t *)value);
	if (json_is_null(value))
		return json_string("");
	if (json_is_boolean(value))
		return json_string(json_is_true(value) ? "1" : "0");
	if (json_is_integer(value)) {
		snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT, json_integer_value(value));
		return json_string(text);
	}
	if (json_is_real(value)) {
		snprintf(text, sizeof(text), "%.17g", json_real_value(value));
		return json_string(text);
	}
	return NULL;
}

/* Checks one key and its value against Vault's limits. */
static int check_entry(const char *key, const char *value, struct wd_error *err)
{
	char shown[KV_QUOTE_MAX + 4];
	size_t key_len = strlen(key), value_len = strlen(value);

	if (key_len == 0 || key_len > KV_CUSTOM_METADATA_KEY_MAX)
		return wd_error_set(err, WD_EINVAL, CUSTOM_PREFIX ": length of key \"%s\" is %zu "
			"but must be 0 < len(key) <= %d", kv_quote(key, shown), key_len,
			KV_CUSTOM_METADATA_KEY_MAX);
	if (value_len == 0 || value_len > KV_CUSTOM_METADATA_VALUE_MAX)
		return wd_error_set(err, WD_EINVAL, CUSTOM_PREFIX ": length of value for key "
			"\"%s\" is %zu but must be 0 < len(value) <= %d", kv_quote(key, shown),
			value_len, KV_CUSTOM_METADATA_VALUE_MAX);
	if (!printable(key))
		return wd_error_set(err, WD_EINVAL, CUSTOM_PREFIX ": key \"%s\" contains "
			"unprintable characters", kv_quote(key, shown));
	if (!printable(value))
		return wd_error_set(err, WD_EINVAL, CUSTOM_PREFIX ": value for key \"%s\" contains "
			"unprintable characters", kv_quote(key, shown));
	return 0;
}

int kv_custom_metadata_parse(const json_t *value, bool keep_nulls, json_t **ret_object,
	struct wd_error *err)
{
	char shown[KV_QUOTE_MAX + 4];
	json_t *object = NULL;
	const char *key;
	json_t *item;
	int rc = 0;

	*ret_object = NULL;
	if (!json_is_object(value))
		return wd_error_set(err, WD_EINVAL, "invalid custom_metadata: expected an object");
	if (json_object_size(value) > KV_CUSTOM_METADATA_MAX_KEYS)
		return wd_error_set(err, WD_EINVAL, CUSTOM_PREFIX ": payload must contain at most "
			"%d keys, provided %zu", KV_CUSTOM_METADATA_MAX_KEYS, json_object_size(value));

	object = json_object();
	WD_ENSURE(object, wd_error_set(err, WD_ENOMEM, "out of memory"));
	json_object_foreach((json_t *)value, key, item) {
		json_t *text;

		if (keep_nulls && json_is_null(item)) {
			WD_ENSURE(json_object_set_new(object, key, json_null()) == 0,
				wd_error_set(err, WD_ENOMEM, "out of memory"));
			continue;
		}
		text = weak_string(item);
		WD_ENSURE(text || json_is_object(item) || json_is_array(item),
			wd_error_set(err, WD_ENOMEM, "out of memory"));
		WD_ENSURE(text, wd_error_set(err, WD_EINVAL, CUSTOM_PREFIX ": value for key \"%s\" "
			"must be a string", kv_quote(key, shown)));
		rc = check_entry(key, json_string_value(text), err);
		if (rc < 0) {
			json_decref(text);
			goto out;
		}
		WD_ENSURE(json_object_set_new(object, key, text) == 0,
			wd_error_set(err, WD_ENOMEM, "out of memory"));
	}

	*ret_object = WD_TAKE_PTR(object);
out:
	json_decref(object);
	return rc;
}
