/* JSON request bodies: strict parsing with a nesting ceiling and typed
 * field getters whose errors name the field. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/alloc.h"
#include "net/net_json.h"

/* Maximum bytes of a field name quoted in an error; longer names end in "...". */
#define NAME_QUOTE_MAX 64

/* Copies name for an error message: printable ASCII only, other bytes as
 * '?', so a hostile key cannot inject control characters into logs. */
static const char *name_quote(const char *name, char out[static NAME_QUOTE_MAX + 4])
{
	size_t i;

	for (i = 0; name[i] && i < NAME_QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)name[i];

		out[i] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? (char)c : '?';
	}
	if (name[i]) {
		memcpy(out + i, "...", 4);
		return out;
	}
	out[i] = '\0';
	return out;
}

/* Returns whether value nests at most max_depth levels of arrays and
 * objects; the outermost object is level 1. */
static bool depth_within(const json_t *value, size_t depth, size_t max_depth)
{
	if (!json_is_object(value) && !json_is_array(value))
		return true;
	if (depth > max_depth)
		return false;

	if (json_is_object(value)) {
		const char *key;
		json_t *child;

		json_object_foreach((json_t *)value, key, child) {
			if (!depth_within(child, depth + 1, max_depth))
				return false;
		}
		return true;
	}
	for (size_t i = 0; i < json_array_size(value); i++) {
		if (!depth_within(json_array_get(value, i), depth + 1, max_depth))
			return false;
	}
	return true;
}

static void *json_block_alloc(size_t size)
{
	return malloc(size);
}

static void json_block_free(void *block)
{
	if (!block)
		return;
	/* jansson passes no size, so the allocator's own record of it is used;
	 * the whole usable block is wiped, which covers what jansson wrote. */
	OPENSSL_cleanse(block, malloc_usable_size(block));
	free(block);
}

void net_json_wipe_on_free(void)
{
	json_set_alloc_funcs(json_block_alloc, json_block_free);
}

int net_json_parse_object(const void *body, size_t len, size_t max_depth, json_t **ret_obj,
	struct wd_error *err)
{
	json_error_t jerr;
	json_t *obj;

	*ret_obj = NULL;
	if (max_depth == 0)
		max_depth = NET_JSON_DEFAULT_MAX_DEPTH;
	if (!body && len > 0)
		return wd_error_set(err, WD_EINVAL, "request body is missing");

	obj = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &jerr);
	if (!obj)
		return wd_error_set(err, WD_EINVAL, "invalid JSON at line %d column %d: %s",
			jerr.line, jerr.column, jerr.text);
	if (!json_is_object(obj)) {
		json_decref(obj);
		return wd_error_set(err, WD_EINVAL, "request body must be a JSON object");
	}
	if (!depth_within(obj, 1, max_depth)) {
		json_decref(obj);
		return wd_error_set(err, WD_EINVAL, "JSON nesting is deeper than %zu levels",
			max_depth);
	}
	*ret_obj = obj;
	return 0;
}

int net_json_check_fields(const json_t *obj, const char *const *allowed, size_t allowed_count,
	struct wd_error *err)
{
	const char *key;
	json_t *value;
	char quoted[NAME_QUOTE_MAX + 4];

	if (!json_is_object(obj))
		return wd_error_set(err, WD_EINVAL, "request body must be a JSON object");
	json_object_foreach((json_t *)obj, key, value) {
		bool known = false;

		for (size_t i = 0; i < allowed_count && !known; i++)
			known = strcmp(key, allowed[i]) == 0;
		if (!known)
			return wd_error_set(err, WD_EINVAL, "unknown field \"%s\"",
				name_quote(key, quoted));
	}
	return 0;
}

/* Looks the field up. Returns 1 with the value, 0 when absent (or null)
 * and optional, WD_EINVAL when absent and required. */
static int field_lookup(const json_t *obj, const char *name, bool required,
	json_t **ret_value, struct wd_error *err)
{
	json_t *value = json_is_object(obj) ? json_object_get(obj, name) : NULL;

	*ret_value = NULL;
	if (!value || json_is_null(value)) {
		if (required)
			return wd_error_set(err, WD_EINVAL, "missing field \"%s\"", name);
		return 0;
	}
	*ret_value = value;
	return 1;
}

int net_json_get_string(const json_t *obj, const char *name, bool required, size_t max_len,
	const char **ret_value, struct wd_error *err)
{
	json_t *value;
	int rc;

	*ret_value = NULL;
	rc = field_lookup(obj, name, required, &value, err);
	if (rc <= 0)
		return rc;
	if (!json_is_string(value))
		return wd_error_set(err, WD_EINVAL, "field \"%s\" must be a string", name);
	if (json_string_length(value) > max_len)
		return wd_error_set(err, WD_EINVAL, "field \"%s\" is longer than %zu bytes", name,
			max_len);
	*ret_value = json_string_value(value);
	return 1;
}

int net_json_get_int(const json_t *obj, const char *name, bool required, int64_t min,
	int64_t max, int64_t *ret_value, struct wd_error *err)
{
	json_t *value;
	json_int_t number;
	int rc;

	*ret_value = 0;
	rc = field_lookup(obj, name, required, &value, err);
	if (rc <= 0)
		return rc;
	if (!json_is_integer(value))
		return wd_error_set(err, WD_EINVAL, "field \"%s\" must be an integer", name);
	number = json_integer_value(value);
	if (number < min || number > max)
		return wd_error_set(err, WD_EINVAL, "field \"%s\" is %lld, outside %lld to %lld",
			name, (long long)number, (long long)min, (long long)max);
	*ret_value = number;
	return 1;
}

int net_json_get_bool(const json_t *obj, const char *name, bool required, bool *ret_value,
	struct wd_error *err)
{
	json_t *value;
	int rc;

	*ret_value = false;
	rc = field_lookup(obj, name, required, &value, err);
	if (rc <= 0)
		return rc;
	if (!json_is_boolean(value))
		return wd_error_set(err, WD_EINVAL, "field \"%s\" must be true or false", name);
	*ret_value = json_is_true(value);
	return 1;
}

int net_json_get_string_array(const json_t *obj, const char *name, bool required,
	size_t max_count, size_t max_item_len, const char ***ret_items, size_t *ret_count,
	struct wd_error *err)
{
	const char **items;
	json_t *value;
	size_t count;
	int rc;

	*ret_items = NULL;
	*ret_count = 0;
	rc = field_lookup(obj, name, required, &value, err);
	if (rc <= 0)
		return rc;
	if (!json_is_array(value))
		return wd_error_set(err, WD_EINVAL, "field \"%s\" must be an array of strings",
			name);
	count = json_array_size(value);
	if (count > max_count)
		return wd_error_set(err, WD_EINVAL, "field \"%s\" has %zu items, more than %zu",
			name, count, max_count);
	if (count == 0)
		return 1;

	items = wd_calloc(count, sizeof(*items));
	if (!items)
		return wd_error_set(err, WD_ENOMEM, "out of memory reading field \"%s\"", name);
	for (size_t i = 0; i < count; i++) {
		json_t *item = json_array_get(value, i);

		if (!json_is_string(item)) {
			free(items);
			return wd_error_set(err, WD_EINVAL, "field \"%s\" item %zu must be a string",
				name, i);
		}
		if (json_string_length(item) > max_item_len) {
			free(items);
			return wd_error_set(err, WD_EINVAL, "field \"%s\" item %zu is longer than "
				"%zu bytes", name, i, max_item_len);
		}
		items[i] = json_string_value(item);
	}
	*ret_items = items;
	*ret_count = count;
	return 1;
}
