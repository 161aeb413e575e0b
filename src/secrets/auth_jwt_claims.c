/* Claim checks of a JWT login after its signature passed, with the error
 * texts of Vault's JWT plugin: times with the role's leeways, iss, sub,
 * aud, bound_claims, and the user claim. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secrets/auth_jwt_internal.h"

/* Bytes of a claim name quoted in an error. */
#define CLAIM_QUOTE_MAX 128

/* Times are clamped to +-2^62 seconds, so adding leeways cannot overflow. */
#define TIME_LIMIT ((int64_t)1 << 62)

static int invalid_token(struct wd_error *err, const char *reason)
{
	return wd_error_set(err, WD_EINVAL, "error validating token: %s", reason);
}

/* Finds one RFC 6901 reference token of pointer in value. */
static const json_t *pointer_step(const json_t *value, const char *token, size_t len)
{
	char key[CLAIM_QUOTE_MAX + 1];
	size_t out = 0;

	/* "~1" stands for '/' and "~0" for '~'. */
	for (size_t i = 0; i < len; i++) {
		char c = token[i];

		if (c == '~' && i + 1 < len && (token[i + 1] == '0' || token[i + 1] == '1')) {
			c = token[i + 1] == '0' ? '~' : '/';
			i++;
		}
		if (out >= CLAIM_QUOTE_MAX)
			return NULL;
		key[out++] = c;
	}
	key[out] = '\0';

	if (json_is_object(value))
		return json_object_get(value, key);
	if (json_is_array(value)) {
		char *end = NULL;
		unsigned long long index = strtoull(key, &end, 10);

		if (out == 0 || *end != '\0' || (key[0] == '0' && out > 1))
			return NULL;
		return json_array_get(value, (size_t)index);
	}
	return NULL;
}

const json_t *jwt_claim_get(const json_t *claims, const char *name)
{
	const json_t *value = claims;
	const char *p;

	if (name[0] != '/')
		return json_object_get(claims, name);

	p = name + 1;
	while (value) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);

		value = pointer_step(value, p, len);
		if (!slash)
			break;
		p = slash + 1;
	}
	return value;
}

/* Reads a NumericDate (RFC 7519 section 2): seconds as an integer or a
 * finite number whose fraction is dropped. Returns 0 when absent. */
static int numeric_date(const json_t *claims, const char *name, bool *ret_present,
	int64_t *ret_time, struct wd_error *err)
{
	const json_t *value = json_object_get(claims, name);
	char reason[64];
	double real;

	*ret_present = false;
	*ret_time = 0;
	if (!value || json_is_null(value))
		return 0;
	*ret_present = true;
	if (json_is_integer(value)) {
		json_int_t t = json_integer_value(value);

		if (t > TIME_LIMIT)
			t = TIME_LIMIT;
		if (t < -TIME_LIMIT)
			t = -TIME_LIMIT;
		*ret_time = t;
		return 0;
	}
	real = json_is_real(value) ? json_real_value(value) : NAN;
	if (isfinite(real)) {
		if (real > (double)TIME_LIMIT)
			*ret_time = TIME_LIMIT;
		else if (real < -(double)TIME_LIMIT)
			*ret_time = -TIME_LIMIT;
		else
			*ret_time = (int64_t)real;
		return 0;
	}
	snprintf(reason, sizeof(reason), "claim %s is not a NumericDate", name);
	return invalid_token(err, reason);
}

/* A role value of 0 means the default and -1 (any negative) no leeway. */
static int64_t leeway(int64_t value, int64_t fallback)
{
	if (value < 0)
		return 0;
	return value == 0 ? fallback : value;
}

static int check_times(const struct jwt_role *role, const json_t *claims, int64_t now,
	struct wd_error *err)
{
	int64_t skew = leeway(role->clock_skew_leeway, JWT_DEFAULT_CLOCK_SKEW_LEEWAY);
	int64_t exp_leeway = leeway(role->expiration_leeway, JWT_DEFAULT_EXPIRATION_LEEWAY);
	int64_t nbf_leeway = leeway(role->not_before_leeway, JWT_DEFAULT_NOT_BEFORE_LEEWAY);
	bool present;
	int64_t t;

	/* Leeways are at most JWT_LEEWAY_MAX (checked when a role is written)
	 * and times are clamped by numeric_date, so these sums cannot
	 * overflow. */
	WD_TRY(numeric_date(claims, "exp", &present, &t, err));
	if (present && now > t + skew + exp_leeway)
		return invalid_token(err, "token is expired (exp)");
	WD_TRY(numeric_date(claims, "nbf", &present, &t, err));
	if (present && now + skew + nbf_leeway < t)
		return invalid_token(err, "token not valid yet (nbf)");
	WD_TRY(numeric_date(claims, "iat", &present, &t, err));
	if (present && now + skew < t)
		return invalid_token(err, "token issued in the future (iat)");
	return 0;
}

static bool aud_contains(const json_t *aud, const char *name)
{
	const json_t *item;
	size_t index;

	if (json_is_string(aud))
		return strcmp(json_string_value(aud), name) == 0;
	json_array_foreach(aud, index, item) {
		if (json_is_string(item) && strcmp(json_string_value(item), name) == 0)
			return true;
	}
	return false;
}

static int check_audience(const struct jwt_role *role, const json_t *claims,
	struct wd_error *err)
{
	const json_t *aud = json_object_get(claims, "aud");
	bool present = (json_is_string(aud) && json_string_length(aud) > 0) ||
		       (json_is_array(aud) && json_array_size(aud) > 0);
	const json_t *item;
	size_t index;

	if (json_array_size(role->bound_audiences) == 0) {
		if (present)
			return wd_error_set(err, WD_EINVAL,
				"audience claim found in JWT but no audiences bound to the role");
		return 0;
	}
	json_array_foreach(role->bound_audiences, index, item) {
		if (aud_contains(aud, json_string_value(item)))
			return 0;
	}
	return invalid_token(err, "invalid audience (aud) claim: audience claim does not match "
		"any expected audience");
}

/* Whether one claim value (a string, number or bool) equals or, with
 * glob, matches expected. */
static bool scalar_matches(const json_t *value, const char *expected, bool glob)
{
	char text[64];

	if (json_is_string(value)) {
		if (glob)
			return auth_glob_match(expected, json_string_value(value));
		return strcmp(json_string_value(value), expected) == 0;
	}
	if (json_is_integer(value))
		snprintf(text, sizeof(text), "%" PRId64, (int64_t)json_integer_value(value));
	else if (json_is_boolean(value))
		snprintf(text, sizeof(text), "%s", json_is_true(value) ? "true" : "false");
	else
		return false;
	return glob ? auth_glob_match(expected, text) : strcmp(text, expected) == 0;
}

/* A claim holding a list matches when any of its items does. */
static bool value_matches(const json_t *value, const char *expected, bool glob)
{
	const json_t *item;
	size_t index;

	if (!json_is_array(value))
		return scalar_matches(value, expected, glob);
	json_array_foreach(value, index, item) {
		if (scalar_matches(item, expected, glob))
			return true;
	}
	return false;
}

static bool bound_matches(const json_t *value, const json_t *bound, bool glob)
{
	const json_t *item;
	size_t index;

	if (json_is_string(bound))
		return value_matches(value, json_string_value(bound), glob);
	json_array_foreach(bound, index, item) {
		if (json_is_string(item) && value_matches(value, json_string_value(item), glob))
			return true;
	}
	return false;
}

static int check_bound_claims(const struct jwt_role *role, const json_t *claims,
	struct wd_error *err)
{
	const char *name;
	const json_t *bound;

	json_object_foreach((json_t *)role->bound_claims, name, bound) {
		const json_t *value = jwt_claim_get(claims, name);

		if (!value)
			return wd_error_set(err, WD_EINVAL, "error validating claims: claim \"%.*s\" is "
				"missing", CLAIM_QUOTE_MAX, name);
		if (!bound_matches(value, bound, role->bound_claims_glob))
			return wd_error_set(err, WD_EINVAL, "error validating claims: claim \"%.*s\" "
				"does not match any associated bound claim values", CLAIM_QUOTE_MAX, name);
	}
	return 0;
}

static bool string_claim_equals(const json_t *claims, const char *name, const char *expected)
{
	const json_t *value = json_object_get(claims, name);

	return json_is_string(value) && strcmp(json_string_value(value), expected) == 0;
}

int jwt_check_claims(const struct jwt_config *config, const struct jwt_role *role,
	const json_t *claims, int64_t now, struct wd_error *err)
{
	WD_TRY(check_times(role, claims, now, err));
	if (config->bound_issuer && !string_claim_equals(claims, "iss", config->bound_issuer))
		return invalid_token(err, "invalid issuer (iss) claim");
	if (role->bound_subject && !string_claim_equals(claims, "sub", role->bound_subject))
		return invalid_token(err, "invalid subject (sub) claim");
	WD_TRY(check_audience(role, claims, err));
	return check_bound_claims(role, claims, err);
}

int jwt_user_claim(const json_t *claims, const char *name, char *out, size_t len,
	struct wd_error *err)
{
	const json_t *value = jwt_claim_get(claims, name);
	int n = -1;

	out[0] = '\0';
	if (!value)
		return wd_error_set(err, WD_EINVAL, "claim \"%.*s\" not found in token",
			CLAIM_QUOTE_MAX, name);
	if (json_is_string(value))
		n = snprintf(out, len, "%s", json_string_value(value));
	else if (json_is_integer(value))
		n = snprintf(out, len, "%" PRId64, (int64_t)json_integer_value(value));
	if (n < 0 || (size_t)n >= len || (json_is_string(value) && n == 0)) {
		out[0] = '\0';
		return wd_error_set(err, WD_EINVAL, "claim \"%.*s\" could not be converted to string",
			CLAIM_QUOTE_MAX, name);
	}
	return 0;
}
