/* io.jwt.encode_sign and io.jwt.encode_sign_raw: compact JWS (RFC 7515
 * section 7.1) signed with the first key of a JWK (set), with OPA's checks
 * of the header and payload. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/encoding.h"
#include "common/error.h"
#include "policy/bi_crypto_util.h"
#include "policy/bi_jwt.h"
#include "policy/bi_jwt_key.h"

/* Appends v as Go's json.Marshal writes it: compact, sorted keys, and <, >,
 * &, U+2028 and U+2029 escaped (they only occur inside strings). */
static int marshal_go(const struct rv *v, struct wd_buf *out)
{
	struct wd_buf raw;
	int rc = 0;

	if (out->secret)
		wd_buf_init_secret(&raw, 256, BI_DECODE_MAX);
	else
		wd_buf_init(&raw, 256, BI_DECODE_MAX);
	WD_GUARD(rv_write_json(v, &raw));
	for (size_t i = 0; i < wd_buf_len(&raw); i++) {
		uint8_t c = wd_buf_data(&raw)[i];

		if (c == '<' || c == '>' || c == '&') {
			WD_GUARD(wd_buf_appendf(out, "\\u%04x", c));
		} else if (c == 0xe2 && i + 2 < wd_buf_len(&raw) && wd_buf_data(&raw)[i + 1] == 0x80 &&
			   (wd_buf_data(&raw)[i + 2] == 0xa8 || wd_buf_data(&raw)[i + 2] == 0xa9)) {
			WD_GUARD(wd_buf_appendf(out, "\\u%04x", 0x2000 + wd_buf_data(&raw)[i + 2] - 0x80));
			i += 2;
		} else {
			WD_GUARD(wd_buf_append_byte(out, c));
		}
	}
out:
	wd_buf_free(&raw);
	return rc;
}

static bool is_json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Reads the header as the JWS library OPA signs with does: an unquoted
 * token of number characters ("e") parses as a number, which has no "alg".
 * Stores the parsed object in *ret_json (NULL for a scalar). */
static int parse_header(struct rego_bctx *ctx, const char *text, size_t len, json_t **ret_json)
{
	json_error_t jerr;
	size_t i = 0;

	*ret_json = NULL;
	while (i < len && is_json_space(text[i]))
		i++;
	if (i == len)
		return rego_bi_error(ctx, "missing or invalid 'alg' header: cannot parse JSON: "
				     "cannot parse empty string; unparsed tail: \"\"");
	if (strchr("0123456789.eE+-", text[i])) {
		while (i < len && text[i] && strchr("0123456789.eE+-", text[i]))
			i++;
		while (i < len && is_json_space(text[i]))
			i++;
		if (i == len)
			return 0;
	}

	*ret_json = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (!*ret_json)
		return rego_bi_error(ctx, "missing or invalid 'alg' header: cannot parse JSON: %s",
				     jerr.text);
	return 0;
}

static bool json_valid(const char *text, size_t len)
{
	json_t *json = json_loadb(text, len,
				  JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, NULL);

	json_decref(json);
	return json != NULL;
}

static int append_b64url(struct wd_buf *out, const uint8_t *data, size_t len)
{
	char *text = NULL;
	int rc = wd_base64url_encode(data ? data : (const uint8_t *)"", len, &text);

	if (rc == 0)
		rc = wd_buf_append_str(out, text);
	free(text);
	return rc;
}

/* Signs payload under header with the first key of the JWK (set) text. */
static int encode_sign(struct rego_bctx *ctx, const char *header, size_t header_len,
		       const char *payload, size_t payload_len, const char *jwk, size_t jwk_len,
		       struct rv **ret)
{
	struct jwt_keyset keys = { 0 };
	const struct jwt_alg *alg;
	json_t *json = NULL;
	const char *alg_name = NULL, *typ = NULL;
	struct wd_buf compact, sig;
	char err[512];
	int rc;

	wd_buf_init(&compact, 1024, 4 * BI_DECODE_MAX);
	wd_buf_init(&sig, 512, 4096);
	if (header_len > BI_DECODE_MAX || payload_len > BI_DECODE_MAX || jwk_len > BI_DECODE_MAX) {
		rc = rego_bi_error(ctx, "header, payload or key is longer than %u bytes",
				   BI_DECODE_MAX);
		goto out;
	}

	rc = jwt_jwks_parse(jwk, jwk_len, &keys, err, sizeof(err));
	if (rc == WD_EINVAL)
		rc = rego_bi_error(ctx, "failed to parse jwk: %s", err);
	WD_GUARD(rc);
	if (keys.count == 0) {
		rc = rego_bi_error(ctx, "no keys found in JWK set");
		goto out;
	}

	WD_GUARD(parse_header(ctx, header, header_len, &json));
	alg_name = json_string_value(json_object_get(json, "alg"));
	if (!alg_name) {
		rc = rego_bi_error(ctx, "missing or invalid 'alg' header: jwsbb: header \"alg\" "
				   "not found");
		goto out;
	}
	alg = jwt_alg_find(alg_name, strlen(alg_name));
	if (!alg) {
		rc = rego_bi_error(ctx, "unknown JWS algorithm: %s", alg_name);
		goto out;
	}

	/* A missing "typ" is taken as "JWT": the payload must then be JSON. */
	typ = json_string_value(json_object_get(json, "typ"));
	if ((!typ || strcmp(typ, "JWT") == 0) && !json_valid(payload, payload_len)) {
		rc = rego_bi_error(ctx, "type is JWT but payload is not JSON");
		goto out;
	}

	WD_GUARD(append_b64url(&compact, (const uint8_t *)header, header_len));
	WD_GUARD(wd_buf_append_byte(&compact, '.'));
	WD_GUARD(append_b64url(&compact, (const uint8_t *)payload, payload_len));
	rc = jwt_sign(alg, &keys.keys[0], wd_buf_data(&compact), wd_buf_len(&compact), &sig, err,
		      sizeof(err));
	if (rc == WD_EINVAL)
		rc = rego_bi_error(ctx, "%s", err);
	WD_GUARD(rc);
	WD_GUARD(wd_buf_append_byte(&compact, '.'));
	WD_GUARD(append_b64url(&compact, wd_buf_data(&sig), wd_buf_len(&sig)));

	*ret = rv_string(wd_buf_str(&compact), wd_buf_len(&compact));
	WD_ENSURE(*ret, WD_ENOMEM);
	rc = 0;
out:
	json_decref(json);
	jwt_keyset_free(&keys);
	wd_buf_free(&compact);
	wd_buf_free(&sig);
	return rc;
}

int bi_jwt_encode_sign_raw(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			   struct rv **ret)
{
	const char *header, *payload, *jwk;
	size_t header_len, payload_len, jwk_len;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 3, &jwk, &jwk_len));
	WD_TRY(rego_bi_string(ctx, args, 1, &header, &header_len));
	WD_TRY(rego_bi_string(ctx, args, 2, &payload, &payload_len));
	return encode_sign(ctx, header, header_len, payload, payload_len, jwk, jwk_len, ret);
}

int bi_jwt_encode_sign(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		       struct rv **ret)
{
	struct wd_buf text[3];
	int rc = 0;

	(void)nargs;
	/* The key JSON contains private members, so its copy is wiped. */
	wd_buf_init(&text[0], 256, BI_DECODE_MAX);
	wd_buf_init(&text[1], 256, BI_DECODE_MAX);
	wd_buf_init_secret(&text[2], 256, BI_DECODE_MAX);

	for (size_t i = 0; i < 3; i++) {
		WD_GUARD(rego_bi_want(ctx, args, i + 1, RK_OBJECT));
		rc = marshal_go(args[i], &text[i]);
		if (rc == WD_ETOOBIG)
			rc = rego_bi_error(ctx, "operand %zu is longer than %u bytes as JSON", i + 1,
					   BI_DECODE_MAX);
		WD_GUARD(rc);
	}
	rc = encode_sign(ctx, wd_buf_str(&text[0]), wd_buf_len(&text[0]), wd_buf_str(&text[1]),
			 wd_buf_len(&text[1]), wd_buf_str(&text[2]), wd_buf_len(&text[2]), ret);
out:
	for (size_t i = 0; i < 3; i++)
		wd_buf_free(&text[i]);
	return rc;
}
