/* Helpers every part of the secrets service uses: TTL parsing and
 * arithmetic, random ids, times as Vault prints them, error statuses. */
#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "secrets/secrets_internal.h"

const char *vault_op_name(enum vault_op op)
{
	static const char *const names[] = {
		[VAULT_OP_READ] = "read",
		[VAULT_OP_LIST] = "list",
		[VAULT_OP_CREATE] = "create",
		[VAULT_OP_UPDATE] = "update",
		[VAULT_OP_DELETE] = "delete",
		[VAULT_OP_PATCH] = "patch",
		[VAULT_OP_HEAD] = "header",
	};

	return (unsigned)op < WD_ARRAY_LEN(names) ? names[op] : "unknown";
}

void vault_response_clear(struct vault_response *resp)
{
	json_decref(resp->data);
	json_decref(resp->auth);
	json_decref(resp->warnings);
	json_decref(resp->raw);
	memset(resp, 0, sizeof(*resp));
}

int vault_response_warn(struct vault_response *resp, const char *fmt, ...)
{
	char text[512];
	va_list args;

	va_start(args, fmt);
	vsnprintf(text, sizeof(text), fmt, args);
	va_end(args);
	if (!resp->warnings) {
		resp->warnings = json_array();
		if (!resp->warnings)
			return WD_ENOMEM;
	}
	return json_array_append_new(resp->warnings, json_string(text)) == 0 ? 0 : WD_ENOMEM;
}

int vault_error_status(int code)
{
	switch (code) {
	case WD_EINVAL:
	case WD_ECONFLICT:
	case WD_EEXIST:
	case WD_EEXPIRED:
	case WD_ETRUNCATED:
		return 400;
	case WD_EAUTH:
	case WD_EPERM:
	case WD_EREVOKED:
		return 403;
	case WD_ENOTFOUND:
		return 404;
	case WD_EUNSUPPORTED:
		return 405;
	case WD_ETOOBIG:
		return 413;
	case WD_ERATELIMIT:
		return 429;
	case WD_EUNAVAILABLE:
		return 503;
	default:
		return 500;
	}
}

/* Units of Go's time.ParseDuration that make sense for TTLs. */
static int64_t unit_nanos(const char *unit, size_t len)
{
	static const struct {
		const char *name;
		int64_t nanos;
	} units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "µs", 1000 }, { "ms", 1000000 },
		{ "s", 1000000000LL }, { "m", 60 * 1000000000LL }, { "h", 3600 * 1000000000LL },
		{ "d", 86400 * 1000000000LL },
	};

	for (size_t i = 0; i < WD_ARRAY_LEN(units); i++) {
		if (strlen(units[i].name) == len && memcmp(units[i].name, unit, len) == 0)
			return units[i].nanos;
	}
	return 0;
}

int vault_parse_duration(const char *text, int64_t *ret_seconds)
{
	const char *p = text;
	long double total = 0;

	if (!text || !*text)
		return WD_EINVAL;

	/* A bare number is seconds, as Vault's parseutil accepts. */
	{
		char *end;
		long long plain;

		if (isdigit((unsigned char)*p)) {
			plain = strtoll(p, &end, 10);
			if (*end == '\0' && plain >= 0) {
				*ret_seconds = plain;
				return 0;
			}
		}
	}

	while (*p) {
		char *end;
		long double value = strtold(p, &end);
		const char *unit = end;
		int64_t nanos;

		if (end == p || value < 0 || *p == '-' || *p == '+')
			return WD_EINVAL;
		while (*end && !isdigit((unsigned char)*end) && *end != '.')
			end++;
		nanos = unit_nanos(unit, (size_t)(end - unit));
		if (nanos == 0)
			return WD_EINVAL;
		total += value * (long double)nanos;
		if (total > (long double)INT64_MAX)
			return WD_EINVAL;
		p = end;
	}
	*ret_seconds = (int64_t)(total / 1000000000.0L);
	return 0;
}

void vault_format_duration(int64_t seconds, char *out, size_t len)
{
	int64_t hours = seconds / 3600;
	int64_t minutes = (seconds % 3600) / 60;
	int64_t rest = seconds % 60;

	if (hours)
		snprintf(out, len, "%" PRId64 "h%" PRId64 "m%" PRId64 "s", hours, minutes, rest);
	else if (minutes)
		snprintf(out, len, "%" PRId64 "m%" PRId64 "s", minutes, rest);
	else
		snprintf(out, len, "%" PRId64 "s", rest);
}

int vault_json_ttl(const json_t *obj, const char *field, int64_t *ret_seconds,
	struct wd_error *err)
{
	const json_t *value = json_object_get(obj, field);
	int64_t seconds;

	if (!value || json_is_null(value))
		return 0;
	if (json_is_integer(value)) {
		seconds = json_integer_value(value);
	} else if (json_is_string(value)) {
		if (vault_parse_duration(json_string_value(value), &seconds) < 0)
			return wd_error_set(err, WD_EINVAL, "%s: invalid duration \"%.64s\"", field,
				json_string_value(value));
	} else {
		return wd_error_set(err, WD_EINVAL, "%s: expected seconds or a duration string",
			field);
	}
	if (seconds < 0)
		return wd_error_set(err, WD_EINVAL, "%s: negative duration %" PRId64, field,
			seconds);
	if (seconds > VAULT_TTL_MAX)
		return wd_error_set(err, WD_EINVAL, "%s: duration of %" PRId64 " seconds is above "
			"the limit of %" PRId64, field, seconds, VAULT_TTL_MAX);
	*ret_seconds = seconds;
	return 1;
}

int vault_json_string_list(const json_t *obj, const char *field, json_t **ret_list,
	struct wd_error *err)
{
	const json_t *value = json_object_get(obj, field);
	json_t *list = json_array();
	size_t index;
	const json_t *item;

	*ret_list = NULL;
	if (!list)
		return WD_ENOMEM;
	if (!value || json_is_null(value)) {
		*ret_list = list;
		return 0;
	}
	if (json_is_string(value)) {
		const char *text = json_string_value(value);

		while (*text) {
			size_t len = strcspn(text, ",");
			const char *start = text;
			size_t trimmed = len;

			while (trimmed && isspace((unsigned char)*start)) {
				start++;
				trimmed--;
			}
			while (trimmed && isspace((unsigned char)start[trimmed - 1]))
				trimmed--;
			if (trimmed && json_array_append_new(list, json_stringn(start, trimmed)) < 0)
				goto nomem;
			text += len;
			if (*text == ',')
				text++;
		}
		*ret_list = list;
		return 0;
	}
	if (!json_is_array(value)) {
		json_decref(list);
		return wd_error_set(err, WD_EINVAL, "%s: expected a list of strings", field);
	}
	json_array_foreach(value, index, item) {
		if (!json_is_string(item)) {
			json_decref(list);
			return wd_error_set(err, WD_EINVAL, "%s[%zu]: expected a string", field, index);
		}
		if (json_array_append(list, (json_t *)item) < 0)
			goto nomem;
	}
	*ret_list = list;
	return 0;
nomem:
	json_decref(list);
	return WD_ENOMEM;
}

int vault_random_base62(char *out, size_t len)
{
	static const char alphabet[] =
		"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	size_t filled = 0;

	/* Rejection sampling keeps every character equally likely: bytes of
	 * 248 and above would favour the first eight characters. */
	while (filled < len) {
		unsigned char bytes[64];

		if (RAND_bytes(bytes, sizeof(bytes)) != 1)
			return WD_ECRYPTO;
		for (size_t i = 0; i < sizeof(bytes) && filled < len; i++) {
			if (bytes[i] < 248)
				out[filled++] = alphabet[bytes[i] % 62];
		}
		/* The characters may form a token id, a secret. */
		OPENSSL_cleanse(bytes, sizeof(bytes));
	}
	out[len] = '\0';
	return 0;
}

int vault_random_uuid(char out[static 37])
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return WD_ECRYPTO;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37,
		"%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		b[13], b[14], b[15]);
	return 0;
}

int64_t vault_now_nanos(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
}

void vault_format_time(int64_t unix_nanos, char *out, size_t len)
{
	time_t seconds = (time_t)(unix_nanos / 1000000000LL);
	long nanos = (long)(unix_nanos % 1000000000LL);
	struct tm tm;
	char date[32];

	gmtime_r(&seconds, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, len, "%s.%09ldZ", date, nanos);
}

int vault_calculate_ttl(struct secrets *secrets, const struct vault_mount *mount, int64_t now,
	int64_t issue_time, int64_t increment, int64_t backend_ttl, int64_t backend_max,
	int64_t *ret_ttl, char *ret_warning, struct wd_error *err)
{
	int64_t system_max = secrets->config.max_lease_ttl ? secrets->config.max_lease_ttl :
		SECRETS_MAX_LEASE_TTL;
	int64_t system_default = secrets->config.default_lease_ttl ?
		secrets->config.default_lease_ttl : SECRETS_DEFAULT_LEASE_TTL;
	int64_t max_ttl = system_max;
	int64_t ttl;
	int64_t max_valid;

	if (ret_warning)
		ret_warning[0] = '\0';
	if (mount && mount->max_lease_ttl > 0 && mount->max_lease_ttl < max_ttl)
		max_ttl = mount->max_lease_ttl;
	if (backend_max > 0 && backend_max < max_ttl)
		max_ttl = backend_max;

	if (increment > 0)
		ttl = increment;
	else if (backend_ttl > 0)
		ttl = backend_ttl;
	else if (mount && mount->default_lease_ttl > 0)
		ttl = mount->default_lease_ttl;
	else
		ttl = system_default;

	/* Inputs come from stored leases and parsed fields, both bounded by
	 * VAULT_TTL_MAX; compare by subtraction all the same, so no sum can
	 * overflow. */
	max_valid = issue_time + (max_ttl > VAULT_TTL_MAX ? VAULT_TTL_MAX : max_ttl);
	if (now >= max_valid)
		return wd_error_set(err, WD_EINVAL, "past the max TTL, cannot renew");
	if (ttl > max_valid - now) {
		char asked[32];
		char limit[32];

		/* Vault names the time left until the maximum, not the maximum. */
		vault_format_duration(ttl, asked, sizeof(asked));
		vault_format_duration(max_valid - now, limit, sizeof(limit));
		if (ret_warning)
			snprintf(ret_warning, 256, "TTL of \"%s\" exceeded the effective max_ttl of "
				"\"%s\"; TTL value is capped accordingly", asked, limit);
		ttl = max_valid - now;
	}
	*ret_ttl = ttl;
	return 0;
}
