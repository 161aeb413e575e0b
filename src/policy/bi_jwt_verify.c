/* io.jwt.decode_verify: signature, algorithm, issuer, audience and time
 * checks (RFC 7519 section 7.2) with the results of OPA's tokens.go. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "policy/bi_crypto_util.h"
#include "policy/bi_jwt.h"
#include "policy/bi_jwt_key.h"

static bool crit_names(const struct rv *crit, const char *name)
{
	/* OPA stops reading "crit" at its first non-string member. */
	for (size_t i = 0; i < rv_array_len(crit); i++) {
		const struct rv *item = rv_array_at(crit, i);

		if (!rv_is(item, RV_STRING))
			return false;
		if (strcmp(rv_str(item), name) == 0)
			return true;
	}
	return false;
}

int jwt_header_parse(struct rego_bctx *ctx, const struct rv *header,
		     struct jwt_header_info *ret_info)
{
	static const char *const known[] = { "alg", "kid", "typ", "cty" };

	memset(ret_info, 0, sizeof(*ret_info));
	ret_info->alg = ret_info->kid = ret_info->typ = ret_info->cty = "";

	for (size_t i = 0; i < rv_len(header); i++) {
		struct rv *key, *value;
		bool handled = false;

		rv_map_sorted_at(header, i, &key, &value);
		if (!rv_is(key, RV_STRING))
			continue;
		for (size_t k = 0; k < WD_ARRAY_LEN(known); k++) {
			if (strcmp(rv_str(key), known[k]) != 0)
				continue;
			if (!rv_is(value, RV_STRING))
				return rego_bi_error(ctx, "%s: must be a string", known[k]);
			const char **slots[] = { &ret_info->alg, &ret_info->kid, &ret_info->typ,
						 &ret_info->cty };
			*slots[k] = rv_str(value);
			handled = true;
		}
		if (handled || strcmp(rv_str(key), "crit") != 0)
			continue;
		if (!rv_is(value, RV_ARRAY))
			return rego_bi_error(ctx, "crit: must be a list");
		if (rv_array_len(value) == 0 || !rv_is(rv_array_at(value, 0), RV_STRING))
			return rego_bi_error(ctx, "crit: must be a nonempty list");
		ret_info->crit = value;
	}

	/* RFC 7515 section 4.1.11: a critical parameter that is not understood
	 * makes the token invalid. */
	for (size_t i = 0; ret_info->crit && i < rv_len(header); i++) {
		struct rv *key, *value;
		bool is_known = false;

		rv_map_sorted_at(header, i, &key, &value);
		if (!rv_is(key, RV_STRING))
			continue;
		for (size_t k = 0; k < WD_ARRAY_LEN(known); k++)
			is_known |= strcmp(rv_str(key), known[k]) == 0;
		is_known |= strcmp(rv_str(key), "crit") == 0;
		if (!is_known && crit_names(ret_info->crit, rv_str(key)))
			ret_info->unknown_critical = true;
	}
	return 0;
}

/* The constraints object of decode_verify. */
struct constraints {
	const char *secret;            /* borrowed from the argument; NULL if unset */
	size_t secret_len;
	const char *alg, *iss, *aud;   /* "" when unset */
	struct jwt_keyset keys;
	bool has_keys;
	double time_ns;                /* -1 until set */
};

static int constraint_string(struct rego_bctx *ctx, const char *name, const struct rv *value,
			     const char **ret)
{
	if (!rv_is(value, RV_STRING))
		return rego_bi_error(ctx, "%s constraint: must be a string", name);
	*ret = rv_str(value);
	return 0;
}

static int time_from_value(struct rego_bctx *ctx, const struct rv *value, double *ret)
{
	double t;

	if (!rv_is(value, RV_NUMBER))
		return rego_bi_error(ctx, "token time constraint: must be a number");
	t = rv_number_to_double(value);
	if (isinf(t) || isnan(t))
		return rego_bi_error(ctx, "token time constraint: unvalid float64");
	if (t < 0)
		return rego_bi_error(ctx, "token time constraint: must not be negative");
	*ret = t;
	return 0;
}

static int constraint_cert(struct rego_bctx *ctx, const struct rv *value, struct constraints *c)
{
	char err[512];
	int rc;

	if (!rv_is(value, RV_STRING))
		return rego_bi_error(ctx, "cert constraint: must be a string");
	jwt_keyset_free(&c->keys);
	rc = jwt_keys_load(rv_str(value), rv_str_len(value), &c->keys, err, sizeof(err));
	if (rc == WD_EINVAL)
		return rego_bi_error(ctx, "%s", err);
	WD_TRY(rc);
	c->has_keys = true;
	return 0;
}

/* Parses the constraints in OPA's key order; an unknown name is an error. */
static int constraints_parse(struct rego_bctx *ctx, const struct rv *obj, struct constraints *c)
{
	for (size_t i = 0; i < rv_len(obj); i++) {
		struct rv *key, *value;
		const char *name;

		rv_map_sorted_at(obj, i, &key, &value);
		name = rv_is(key, RV_STRING) ? rv_str(key) : "";
		if (strcmp(name, "cert") == 0) {
			WD_TRY(constraint_cert(ctx, value, c));
		} else if (strcmp(name, "secret") == 0) {
			WD_TRY(constraint_string(ctx, "secret", value, &c->secret));
			c->secret_len = rv_str_len(value);
		} else if (strcmp(name, "alg") == 0) {
			WD_TRY(constraint_string(ctx, "alg", value, &c->alg));
		} else if (strcmp(name, "iss") == 0) {
			WD_TRY(constraint_string(ctx, "iss", value, &c->iss));
		} else if (strcmp(name, "aud") == 0) {
			WD_TRY(constraint_string(ctx, "aud", value, &c->aud));
		} else if (strcmp(name, "time") == 0) {
			WD_TRY(time_from_value(ctx, value, &c->time_ns));
		} else {
			return rego_bi_error(ctx, "unknown token validation constraint: %s", name);
		}
	}

	if (c->time_ns == -1)
		c->time_ns = (double)ctx->now_ns;

	/* An empty secret does not count as a key; an empty JWK set does. */
	int key_kinds = (c->has_keys ? 1 : 0) + (c->secret && c->secret_len ? 1 : 0);

	if (key_kinds > 1)
		return rego_bi_error(ctx, "duplicate key constraints");
	if (key_kinds < 1)
		return rego_bi_error(ctx, "no key constraint");
	return 0;
}

/* Returns 1 when the signature verifies under the constraints' keys. A
 * header "kid" matching a key restricts the check to that key. */
static int signature_valid(const struct constraints *c, const struct jwt_header_info *info,
			   const struct jwt_parts *parts, const struct wd_buf *sig)
{
	const struct jwt_alg *alg = jwt_alg_find(info->alg, strlen(info->alg));
	const uint8_t *msg = (const uint8_t *)parts->header;
	size_t msg_len = parts->header_len + 1 + parts->payload_len;
	int valid = 0;

	if (!alg)
		return 0;

	if (!c->has_keys) {
		struct jwt_key key = { 0 };

		key.secret = (uint8_t *)(uintptr_t)c->secret;
		key.secret_len = c->secret_len;
		return jwt_verify(alg, &key, msg, msg_len, wd_buf_data(sig), wd_buf_len(sig), true);
	}

	for (size_t i = 0; info->kid[0] && i < c->keys.count; i++)
		if (c->keys.keys[i].kid && strcmp(c->keys.keys[i].kid, info->kid) == 0)
			return jwt_verify(alg, &c->keys.keys[i], msg, msg_len, wd_buf_data(sig),
					  wd_buf_len(sig), true);

	for (size_t i = 0; i < c->keys.count && valid == 0; i++) {
		const struct jwt_key *key = &c->keys.keys[i];

		if (key->alg[0] && strcmp(key->alg, info->alg) != 0)
			continue;
		valid = jwt_verify(alg, key, msg, msg_len, wd_buf_data(sig), wd_buf_len(sig), true);
	}
	return valid;
}

/* Compares the constraint time, in seconds as the shortest float64 text
 * (OPA's FloatNumberTerm), with a numeric claim: <0, 0 or >0. */
static int compare_time(double time_ns, const struct rv *claim, int *ret_cmp)
{
	double seconds = time_ns / 1e9;
	char text[40];
	struct rv *number;

	for (int precision = 1; precision <= 17; precision++) {
		snprintf(text, sizeof(text), "%.*g", precision, seconds);
		if (strtod(text, NULL) == seconds)
			break;
	}
	number = rv_number_parse(text, strlen(text));
	if (!number)
		return WD_ENOMEM;
	*ret_cmp = rv_compare(number, claim);
	rv_unref(number);
	return 0;
}

static bool audience_valid(const struct rv *aud, const char *want)
{
	if (rv_is(aud, RV_STRING))
		return strcmp(rv_str(aud), want) == 0;
	if (!rv_is(aud, RV_ARRAY))
		return false;
	for (size_t i = 0; i < rv_array_len(aud); i++) {
		const struct rv *item = rv_array_at(aud, i);

		if (rv_is(item, RV_STRING) && strcmp(rv_str(item), want) == 0)
			return true;
	}
	return false;
}

/* Checks the registered claims (RFC 7519 section 4.1): sets *ret_ok. */
static int claims_valid(struct rego_bctx *ctx, const struct constraints *c,
			const struct rv *claims, bool *ret_ok)
{
	const struct rv *iss = rv_object_get_str(claims, "iss");
	const struct rv *aud = rv_object_get_str(claims, "aud");
	const struct rv *exp = rv_object_get_str(claims, "exp");
	const struct rv *nbf = rv_object_get_str(claims, "nbf");
	int cmp;

	*ret_ok = false;
	if (c->iss[0] && (!rv_is(iss, RV_STRING) || strcmp(rv_str(iss), c->iss) != 0))
		return 0;
	if (aud ? !audience_valid(aud, c->aud) : c->aud[0] != '\0')
		return 0;
	if (exp) {
		if (!rv_is(exp, RV_NUMBER))
			return rego_bi_error(ctx, "exp value must be a number");
		WD_TRY(compare_time(c->time_ns, exp, &cmp));
		if (cmp >= 0)
			return 0;
	}
	if (nbf) {
		if (!rv_is(nbf, RV_NUMBER))
			return rego_bi_error(ctx, "nbf value must be a number");
		WD_TRY(compare_time(c->time_ns, nbf, &cmp));
		if (cmp < 0)
			return 0;
	}
	*ret_ok = true;
	return 0;
}

static struct rv *unverified(void)
{
	struct rv *result = rv_array_new(3);

	if (!result || rv_array_push(result, rv_bool(false)) < 0 ||
	    rv_array_push(result, rv_object_new(0)) < 0 ||
	    rv_array_push(result, rv_object_new(0)) < 0) {
		rv_unref(result);
		return NULL;
	}
	return result;
}

/* Verifies one token level; on success stores its header and the decoded
 * payload. *ret_ok is false when the token is not valid. */
static int verify_level(struct rego_bctx *ctx, const struct constraints *c, const char *token,
			size_t len, struct rv **ret_header, struct wd_buf *payload,
			struct jwt_header_info *info, bool *ret_ok)
{
	struct jwt_parts parts;
	struct rv *header = NULL;
	struct wd_buf sig;
	int rc;

	*ret_ok = false;
	wd_buf_init(&sig, 512, BI_DECODE_MAX);
	WD_GUARD(jwt_split(ctx, token, len, &parts));
	WD_GUARD(jwt_decode_header(ctx, &parts, &header));
	WD_GUARD(jwt_header_parse(ctx, header, info));

	/* RFC 7515 section 4.1.1: "alg" is required. */
	if (!info->alg[0] || info->unknown_critical)
		goto invalid;
	if (c->alg[0] && strcmp(c->alg, info->alg) != 0)
		goto invalid;

	WD_GUARD(jwt_b64_part(ctx, NULL, parts.signature, parts.signature_len, &sig));
	rc = signature_valid(c, info, &parts, &sig);
	WD_GUARD(rc);
	if (rc != 1)
		goto invalid;

	wd_buf_reset(payload);
	WD_GUARD(jwt_b64_part(ctx, "payload", parts.payload, parts.payload_len, payload));
	*ret_header = WD_TAKE_PTR(header);
	*ret_ok = true;
invalid:
	rc = 0;
out:
	rv_unref(header);
	wd_buf_free(&sig);
	return rc;
}

int bi_jwt_decode_verify(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			 struct rv **ret)
{
	struct constraints c = { .alg = "", .iss = "", .aud = "", .time_ns = -1 };
	struct wd_buf token, payload;
	struct rv *header = NULL, *claims = NULL, *result = NULL;
	struct jwt_header_info info;
	bool ok = false;
	int rc;

	(void)nargs;
	wd_buf_init(&token, 1024, BI_DECODE_MAX);
	wd_buf_init(&payload, 1024, BI_DECODE_MAX);
	WD_GUARD(rego_bi_want(ctx, args, 2, RK_OBJECT));
	WD_GUARD(constraints_parse(ctx, args[1], &c));
	WD_GUARD(rego_bi_want(ctx, args, 1, RK_STRING));
	if (rv_str_len(args[0]) > BI_DECODE_MAX) {
		rc = rego_bi_error(ctx, "encoded JWT is longer than %u bytes", BI_DECODE_MAX);
		goto out;
	}
	WD_GUARD(wd_buf_append(&token, rv_str(args[0]), rv_str_len(args[0])));

	/* A "cty": "JWT" header (any case) nests a token in the payload, which
	 * is verified in turn; the innermost header is returned. */
	for (unsigned depth = 0;; depth++) {
		rv_unref(header);
		header = NULL;
		if (depth > 32) {
			rc = rego_bi_error(ctx, "JWT nesting is deeper than 32 levels");
			goto out;
		}
		WD_GUARD(verify_level(ctx, &c, wd_buf_str(&token), wd_buf_len(&token), &header,
				      &payload, &info, &ok));
		if (!ok)
			break;
		if (strcasecmp(info.cty, "JWT") != 0)
			break;
		wd_buf_reset(&token);
		WD_GUARD(wd_buf_append(&token, wd_buf_data(&payload), wd_buf_len(&payload)));
	}

	if (ok) {
		WD_GUARD(jwt_json_object(ctx, "", wd_buf_str(&payload), wd_buf_len(&payload),
					 &claims));
		WD_GUARD(claims_valid(ctx, &c, claims, &ok));
	}
	if (!ok) {
		result = unverified();
		WD_ENSURE(result, WD_ENOMEM);
	} else {
		result = rv_array_new(3);
		WD_ENSURE(result, WD_ENOMEM);
		WD_GUARD(rv_array_push(result, rv_bool(true)));
		WD_GUARD(rv_array_push(result, WD_TAKE_PTR(header)));
		WD_GUARD(rv_array_push(result, WD_TAKE_PTR(claims)));
	}
	*ret = WD_TAKE_PTR(result);
	rc = 0;
out:
	rv_unref(result);
	rv_unref(header);
	rv_unref(claims);
	jwt_keyset_free(&c.keys);
	wd_buf_free(&token);
	wd_buf_free(&payload);
	return rc;
}
