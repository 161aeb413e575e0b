/* KV engine helpers: the mount's engine version, key checks, barrier keys
 * and the request parameters Vault's framework accepts loosely typed. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "secrets/kv_internal.h"

const char *kv_quote(const char *text, char out[static KV_QUOTE_MAX + 4])
{
	size_t i;

	for (i = 0; text[i] && i < KV_QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)text[i];

		out[i] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? (char)c : '?';
	}
	if (text[i]) {
		memcpy(out + i, "...", 4);
		return out;
	}
	out[i] = '\0';
	return out;
}

int kv_mount_version(const struct vault_mount *mount, int *ret_version, struct wd_error *err)
{
	const json_t *value = mount->options ? json_object_get(mount->options, "version") : NULL;
	char shown[KV_QUOTE_MAX + 4];

	*ret_version = 0;
	if (!value || json_is_null(value)) {
		*ret_version = 1;
		return 0;
	}

	if (json_is_integer(value) && (json_integer_value(value) == 1 ||
				       json_integer_value(value) == 2)) {
		*ret_version = (int)json_integer_value(value);
		return 0;
	}
	if (json_is_string(value)) {
		const char *text = json_string_value(value);

		if (!strcmp(text, "") || !strcmp(text, "1")) {
			*ret_version = 1;
			return 0;
		}
		if (!strcmp(text, "2")) {
			*ret_version = 2;
			return 0;
		}
		return wd_error_set(err, WD_EINVAL,
			"invalid KV version \"%s\" of mount %s: expected \"1\" or \"2\"",
			kv_quote(text, shown), mount->path);
	}
	return wd_error_set(err, WD_EINVAL,
		"invalid KV version of mount %s: expected \"1\" or \"2\"", mount->path);
}

int kv_check_key(const char *key, bool allow_empty, struct wd_error *err)
{
	char shown[KV_QUOTE_MAX + 4];
	size_t len = strlen(key);
	const char *segment = key;

	if (len == 0) {
		if (allow_empty)
			return 0;
		return wd_error_set(err, WD_EINVAL, "missing path");
	}
	if (len > VAULT_PATH_MAX)
		return wd_error_set(err, WD_EINVAL, "invalid path \"%s\": longer than %d bytes",
			kv_quote(key, shown), VAULT_PATH_MAX);

	/* Walk the segments between slashes: "a//b", "/a" and "a/" have an
	 * empty one; ".." could climb out of the key's storage area. */
	for (;;) {
		const char *slash = strchr(segment, '/');
		size_t seg_len = slash ? (size_t)(slash - segment) : strlen(segment);

		if (seg_len == 0)
			return wd_error_set(err, WD_EINVAL, "invalid path \"%s\": empty segment",
				kv_quote(key, shown));
		if (seg_len == 2 && segment[0] == '.' && segment[1] == '.')
			return wd_error_set(err, WD_EINVAL, "invalid path \"%s\": \"..\" segment",
				kv_quote(key, shown));
		if (!slash)
			return 0;
		segment = slash + 1;
	}
}

int kv_list_key(const char *rel, char *out, size_t len, struct wd_error *err)
{
	size_t rel_len = strlen(rel);
	char shown[KV_QUOTE_MAX + 4];

	if (rel_len > 0 && rel[rel_len - 1] == '/')
		rel_len--;
	if (rel_len >= len)
		return wd_error_set(err, WD_EINVAL, "invalid path \"%s\": longer than %d bytes",
			kv_quote(rel, shown), VAULT_PATH_MAX);

	memcpy(out, rel, rel_len);
	out[rel_len] = '\0';
	return kv_check_key(out, true, err);
}

int kv_storage_key(char *out, size_t len, const struct vault_mount *mount, const char *area,
	const char *key)
{
	char prefix[64];
	int n;

	vault_mount_storage_prefix(mount, prefix, sizeof(prefix));
	n = snprintf(out, len, "%s%s%s", prefix, area, key);
	if (n < 0 || (size_t)n >= len)
		return WD_ETOOBIG;
	return 0;
}

int kv_version_key(char *out, size_t len, const struct vault_mount *mount, const char *key,
	uint64_t version)
{
	char prefix[64];
	int n;

	/* The number is the last segment after the whole key, so two
	 * different (key, version) pairs never give the same barrier key. */
	vault_mount_storage_prefix(mount, prefix, sizeof(prefix));
	n = snprintf(out, len, "%sversions/%s/%" PRIu64, prefix, key, version);
	if (n < 0 || (size_t)n >= len)
		return WD_ETOOBIG;
	return 0;
}

/* Parses a whole decimal integer; false for anything else. */
static bool parse_decimal(const char *text, int64_t *ret_value)
{
	char *end = NULL;
	long long value;

	if (!*text)
		return false;
	errno = 0;
	value = strtoll(text, &end, 10);
	if (errno || *end)
		return false;
	*ret_value = value;
	return true;
}

/* Converts a real with no fractional part inside the int64 range. */
static bool integral(double real, int64_t *ret_value)
{
	if (!(real >= -9.2e18 && real <= 9.2e18) || real != (double)(int64_t)real)
		return false;
	*ret_value = (int64_t)real;
	return true;
}

int kv_field_int(const json_t *obj, const char *name, int64_t min, int64_t max,
	int64_t *ret_value, struct wd_error *err)
{
	const json_t *value = obj ? json_object_get(obj, name) : NULL;
	char shown[KV_QUOTE_MAX + 4];
	int64_t number;

	*ret_value = 0;
	if (!value || json_is_null(value))
		return 0;

	/* Go decodes every JSON number as a float64, so Vault takes 3.0 for 3. */
	if (json_is_integer(value))
		number = json_integer_value(value);
	else if (json_is_real(value) && integral(json_real_value(value), &number))
		;
	else if (json_is_string(value) && parse_decimal(json_string_value(value), &number))
		;
	else if (json_is_string(value))
		return wd_error_set(err, WD_EINVAL, "invalid %s \"%s\": expected an integer", name,
			kv_quote(json_string_value(value), shown));
	else
		return wd_error_set(err, WD_EINVAL, "invalid %s: expected an integer", name);

	if (number < min || number > max)
		return wd_error_set(err, WD_EINVAL, "invalid %s %" PRId64 ": expected %" PRId64
			" to %" PRId64, name, number, min, max);
	*ret_value = number;
	return 1;
}

int kv_request_int(const struct vault_request *req, const char *name, int64_t min, int64_t max,
	int64_t *ret_value, struct wd_error *err)
{
	const char *text = req->net ? net_request_query(req->net, name) : NULL;
	char shown[KV_QUOTE_MAX + 4];
	int64_t number;

	*ret_value = 0;
	if (!text)
		return kv_field_int(req->body, name, min, max, ret_value, err);

	if (!parse_decimal(text, &number))
		return wd_error_set(err, WD_EINVAL, "invalid %s \"%s\": expected an integer", name,
			kv_quote(text, shown));
	if (number < min || number > max)
		return wd_error_set(err, WD_EINVAL, "invalid %s %" PRId64 ": expected %" PRId64
			" to %" PRId64, name, number, min, max);
	*ret_value = number;
	return 1;
}

int kv_field_bool(const json_t *obj, const char *name, bool *ret_value, struct wd_error *err)
{
	const json_t *value = obj ? json_object_get(obj, name) : NULL;
	char shown[KV_QUOTE_MAX + 4];

	*ret_value = false;
	if (!value || json_is_null(value))
		return 0;

	if (json_is_boolean(value)) {
		*ret_value = json_is_true(value);
		return 1;
	}
	if (json_is_string(value)) {
		const char *text = json_string_value(value);

		if (!strcmp(text, "true") || !strcmp(text, "1")) {
			*ret_value = true;
			return 1;
		}
		if (!strcmp(text, "false") || !strcmp(text, "0"))
			return 1;
		return wd_error_set(err, WD_EINVAL, "invalid %s \"%s\": expected true or false",
			name, kv_quote(text, shown));
	}
	return wd_error_set(err, WD_EINVAL, "invalid %s: expected true or false", name);
}

int kv_field_duration(const json_t *obj, const char *name, bool allow_negative,
	int64_t *ret_seconds, struct wd_error *err)
{
	const json_t *value = obj ? json_object_get(obj, name) : NULL;
	char shown[KV_QUOTE_MAX + 4];
	int64_t seconds = 0;
	bool negative = false;
	int rc;

	*ret_seconds = 0;
	if (!value || json_is_null(value))
		return 0;

	/* vault_json_ttl rejects negative durations, so a negative value is
	 * caught first: it disables the setting in the engine config and is an
	 * error elsewhere. */
	if (json_is_integer(value) && json_integer_value(value) < 0) {
		negative = true;
	} else if (json_is_string(value) && json_string_value(value)[0] == '-') {
		const char *rest = json_string_value(value) + 1;

		if (!parse_decimal(rest, &seconds) && vault_parse_duration(rest, &seconds) < 0)
			return wd_error_set(err, WD_EINVAL, "invalid %s \"%s\": expected a duration",
				name, kv_quote(json_string_value(value), shown));
		if (seconds == 0)
			return 1;
		negative = true;
	}

	if (negative) {
		if (!allow_negative)
			return wd_error_set(err, WD_EINVAL, "invalid %s: the duration cannot be "
				"negative", name);
		*ret_seconds = KV_DELETE_AFTER_DISABLED;
		return 1;
	}

	rc = vault_json_ttl(obj, name, &seconds, err);
	if (rc < 0)
		return rc;
	*ret_seconds = seconds;
	return 1;
}

/* Appends one version number to a growing array. */
static int versions_append(int64_t **versions, size_t *count, int64_t number,
	struct wd_error *err)
{
	int64_t *grown;

	if (*count >= KV_REQUEST_VERSIONS_MAX)
		return wd_error_set(err, WD_ETOOBIG, "too many versions: at most %d per request",
			KV_REQUEST_VERSIONS_MAX);
	grown = wd_reallocarray(*versions, *count + 1, sizeof(**versions));
	if (!grown)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	grown[(*count)++] = number;
	*versions = grown;
	return 0;
}

/* Splits "1,2, 3" into numbers. */
static int versions_from_text(const char *name, const char *text, int64_t **versions,
	size_t *count, struct wd_error *err)
{
	char shown[KV_QUOTE_MAX + 4];
	const char *start = text;

	while (*start) {
		const char *comma = strchr(start, ',');
		size_t len = comma ? (size_t)(comma - start) : strlen(start);
		char item[32];
		int64_t number;

		while (len > 0 && *start == ' ') {
			start++;
			len--;
		}
		while (len > 0 && start[len - 1] == ' ')
			len--;
		if (len > 0) {
			if (len >= sizeof(item))
				return wd_error_set(err, WD_EINVAL, "invalid %s \"%s\": expected "
					"version numbers", name, kv_quote(text, shown));
			memcpy(item, start, len);
			item[len] = '\0';
			if (!parse_decimal(item, &number))
				return wd_error_set(err, WD_EINVAL, "invalid %s \"%s\": expected "
					"version numbers", name, kv_quote(text, shown));
			WD_TRY(versions_append(versions, count, number, err));
		}
		if (!comma)
			break;
		start = comma + 1;
	}
	return 0;
}

int kv_field_versions(const json_t *obj, const char *name, int64_t **ret_versions,
	size_t *ret_count, struct wd_error *err)
{
	const json_t *value = obj ? json_object_get(obj, name) : NULL;
	int64_t *versions = NULL;
	size_t count = 0;
	int rc = 0;

	*ret_versions = NULL;
	*ret_count = 0;
	if (!value || json_is_null(value))
		return 0;

	if (json_is_integer(value)) {
		WD_GUARD(versions_append(&versions, &count, json_integer_value(value), err));
	} else if (json_is_string(value)) {
		WD_GUARD(versions_from_text(name, json_string_value(value), &versions, &count,
			err));
	} else if (json_is_array(value)) {
		size_t i;
		json_t *item;

		json_array_foreach(value, i, item) {
			if (json_is_integer(item))
				WD_GUARD(versions_append(&versions, &count, json_integer_value(item),
					err));
			else if (json_is_string(item))
				WD_GUARD(versions_from_text(name, json_string_value(item), &versions,
					&count, err));
			else
				WD_GUARD(wd_error_set(err, WD_EINVAL, "invalid %s: expected "
					"version numbers", name));
		}
	} else {
		WD_GUARD(wd_error_set(err, WD_EINVAL, "invalid %s: expected version numbers",
			name));
	}

	*ret_versions = WD_TAKE_PTR(versions);
	*ret_count = count;
out:
	free(versions);
	return rc;
}

int kv_not_found(struct wd_error *err)
{
	wd_error_clear(err);
	if (err)
		err->code = WD_ENOTFOUND;
	return WD_ENOTFOUND;
}

int kv_unsupported(const struct vault_request *req, struct wd_error *err)
{
	return wd_error_set(err, WD_EUNSUPPORTED, "unsupported operation: %s",
		vault_op_name(req->op));
}

int64_t kv_default_ttl(const struct secrets *secrets, const struct vault_mount *mount)
{
	if (mount->default_lease_ttl > 0)
		return mount->default_lease_ttl;
	if (secrets->config.default_lease_ttl > 0)
		return secrets->config.default_lease_ttl;
	return SECRETS_DEFAULT_LEASE_TTL;
}
