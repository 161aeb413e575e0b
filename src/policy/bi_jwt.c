/* Built-in functions: io.jwt.* decoding, verification and signing, with the
 * results and error messages of OPA's topdown/tokens.go. */
#include <string.h>

#include <openssl/crypto.h>

#include "common/error.h"
#include "policy/bi_crypto_util.h"
#include "policy/bi_jwt.h"
#include "policy/bi_jwt_key.h"
#include "policy/builtin.h"

int jwt_split(struct rego_bctx *ctx, const char *token, size_t len, struct jwt_parts *ret_parts)
{
	const char *dots[2];
	size_t count = 0;

	if (len > BI_DECODE_MAX)
		return rego_bi_error(ctx, "encoded JWT is longer than %u bytes", BI_DECODE_MAX);
	for (size_t i = 0; i < len; i++) {
		if (token[i] != '.')
			continue;
		if (count < 2)
			dots[count] = token + i;
		count++;
	}
	if (count == 0)
		return rego_bi_error(ctx, "encoded JWT had no period separators");
	if (count != 2)
		return rego_bi_error(ctx, "encoded JWT must have 3 sections, found %zu", count + 1);

	ret_parts->header = token;
	ret_parts->header_len = (size_t)(dots[0] - token);
	ret_parts->payload = dots[0] + 1;
	ret_parts->payload_len = (size_t)(dots[1] - dots[0] - 1);
	ret_parts->signature = dots[1] + 1;
	ret_parts->signature_len = (size_t)(token + len - dots[1] - 1);
	return 0;
}

int jwt_b64_part(struct rego_bctx *ctx, const char *what, const char *text, size_t len,
		 struct wd_buf *out)
{
	char err[320];
	int rc = bi_b64url_decode_opa(text, len, out, err, sizeof(err));

	if (rc == WD_EINVAL) {
		if (what)
			return rego_bi_error(ctx, "JWT %s had invalid encoding: %s", what, err);
		return rego_bi_error(ctx, "%s", err);
	}
	return rc;
}

int jwt_json_object(struct rego_bctx *ctx, const char *prefix, const char *text, size_t len,
		    struct rv **ret_obj)
{
	struct wd_buf err;
	struct rv *value;
	int rc = 0;

	wd_buf_init(&err, 128, 512);
	value = rv_parse_json(text, len, JWT_JSON_MAX_DEPTH, &err);
	if (!value) {
		rc = rego_bi_error(ctx, "%sinvalid JSON: %s", prefix, wd_buf_str(&err));
	} else if (!rv_is(value, RV_OBJECT)) {
		rc = rego_bi_error(ctx, "%sdecoded JSON type was not an Object", prefix);
		rv_unref(value);
	} else {
		*ret_obj = value;
	}
	wd_buf_free(&err);
	return rc;
}

int jwt_decode_header(struct rego_bctx *ctx, const struct jwt_parts *parts,
		      struct rv **ret_header)
{
	struct wd_buf text;
	struct rv *header = NULL;
	int rc;

	wd_buf_init(&text, 256, BI_DECODE_MAX);
	WD_GUARD(jwt_b64_part(ctx, "header", parts->header, parts->header_len, &text));
	WD_GUARD(jwt_json_object(ctx, "bad JWT header: ", wd_buf_str(&text), wd_buf_len(&text),
				 &header));

	/* RFC 7516 section 9: a header with "enc" is a JWE. */
	if (rv_object_get_str(header, "enc")) {
		rc = rego_bi_error(ctx, "JWT is a JWE object, which is not supported");
		goto out;
	}
	*ret_header = WD_TAKE_PTR(header);
	rc = 0;
out:
	rv_unref(header);
	wd_buf_free(&text);
	return rc;
}

/* Trims every leading and trailing '"' and '\'' (strings.Trim with `"'`). */
static void trim_quotes(const char **text, size_t *len)
{
	while (*len > 0 && (**text == '"' || **text == '\'')) {
		(*text)++;
		(*len)--;
	}
	while (*len > 0 && ((*text)[*len - 1] == '"' || (*text)[*len - 1] == '\''))
		(*len)--;
}

/* io.jwt.decode: [header, payload, hex signature]. A "cty": "JWT" header
 * means the payload is itself a token, decoded in its place. */
static int decode_token(struct rego_bctx *ctx, const char *token, size_t len, unsigned depth,
			struct rv **ret)
{
	struct jwt_parts parts;
	struct wd_buf payload, sig, hex;
	struct rv *header = NULL, *claims = NULL, *result = NULL;
	struct rv *cty;
	int rc;

	wd_buf_init(&payload, 256, BI_DECODE_MAX);
	wd_buf_init(&sig, 256, BI_DECODE_MAX);
	wd_buf_init(&hex, 256, 2 * BI_DECODE_MAX);
	if (depth > 32) {
		rc = rego_bi_error(ctx, "JWT nesting is deeper than 32 levels");
		goto out;
	}

	WD_GUARD(jwt_split(ctx, token, len, &parts));
	WD_GUARD(jwt_decode_header(ctx, &parts, &header));
	WD_GUARD(jwt_b64_part(ctx, "payload", parts.payload, parts.payload_len, &payload));

	cty = rv_object_get_str(header, "cty");
	if (rv_is(cty, RV_STRING) && strcmp(rv_str(cty), "JWT") == 0) {
		const char *inner = wd_buf_str(&payload);
		size_t inner_len = wd_buf_len(&payload);

		/* jwt.io quotes a nested token; OPA strips the quotes. */
		trim_quotes(&inner, &inner_len);
		rc = decode_token(ctx, inner, inner_len, depth + 1, ret);
		goto out;
	}

	WD_GUARD(jwt_json_object(ctx, "", wd_buf_str(&payload), wd_buf_len(&payload), &claims));
	WD_GUARD(jwt_b64_part(ctx, "signature", parts.signature, parts.signature_len, &sig));
	WD_GUARD(bi_hex_append(&hex, wd_buf_data(&sig), wd_buf_len(&sig)));

	result = rv_array_new(3);
	WD_ENSURE(result, WD_ENOMEM);
	WD_GUARD(rv_array_push(result, WD_TAKE_PTR(header)));
	WD_GUARD(rv_array_push(result, WD_TAKE_PTR(claims)));
	WD_GUARD(rv_array_push(result, rv_string(wd_buf_str(&hex), wd_buf_len(&hex))));
	*ret = WD_TAKE_PTR(result);
	rc = 0;
out:
	rv_unref(result);
	rv_unref(header);
	rv_unref(claims);
	wd_buf_free(&payload);
	wd_buf_free(&sig);
	wd_buf_free(&hex);
	return rc;
}

static int bi_decode(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		     struct rv **ret)
{
	const char *token;
	size_t len;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &token, &len));
	return decode_token(ctx, token, len, 0, ret);
}

/* io.jwt.verify_hs*: HMAC over "header.payload" compared in constant time. */
static int verify_hmac(struct rego_bctx *ctx, struct rv *const *args, const char *alg_name,
		       struct rv **ret)
{
	const struct jwt_alg *alg = jwt_alg_find(alg_name, strlen(alg_name));
	struct jwt_parts parts;
	struct jwt_key key = { 0 };
	struct wd_buf sig;
	const char *token, *secret;
	size_t len, secret_len;
	int rc;

	WD_TRY(rego_bi_string(ctx, args, 1, &token, &len));
	WD_TRY(rego_bi_string(ctx, args, 2, &secret, &secret_len));
	WD_TRY(jwt_split(ctx, token, len, &parts));

	wd_buf_init(&sig, 128, BI_DECODE_MAX);
	WD_GUARD(jwt_b64_part(ctx, NULL, parts.signature, parts.signature_len, &sig));

	/* The secret stays in the argument: the key only borrows it. */
	key.secret = (uint8_t *)(uintptr_t)secret;
	key.secret_len = secret_len;
	rc = jwt_verify(alg, &key, (const uint8_t *)token,
			parts.header_len + 1 + parts.payload_len, wd_buf_data(&sig),
			wd_buf_len(&sig), false);
	WD_GUARD(rc);
	*ret = rv_bool(rc == 1);
	rc = 0;
out:
	wd_buf_free(&sig);
	return rc;
}

/* io.jwt.verify_{rs,ps,es}* and verify_eddsa: the key matching the
 * header's "kid" when there is one, else any key whose "alg" (if set)
 * equals the header's. */
static int verify_public(struct rego_bctx *ctx, struct rv *const *args, const char *alg_name,
			 struct rv **ret)
{
	const struct jwt_alg *alg = jwt_alg_find(alg_name, strlen(alg_name));
	struct jwt_parts parts;
	struct jwt_keyset keys = { 0 };
	struct wd_buf sig;
	struct rv *header = NULL;
	struct jwt_header_info info;
	const char *token, *cert;
	size_t len, cert_len, msg_len;
	char err[512];
	int valid = 0;
	int rc;

	WD_TRY(rego_bi_string(ctx, args, 1, &token, &len));
	WD_TRY(jwt_split(ctx, token, len, &parts));
	WD_TRY(rego_bi_string(ctx, args, 2, &cert, &cert_len));

	wd_buf_init(&sig, 512, BI_DECODE_MAX);
	rc = jwt_keys_load(cert, cert_len, &keys, err, sizeof(err));
	if (rc == WD_EINVAL)
		rc = rego_bi_error(ctx, "%s", err);
	WD_GUARD(rc);
	WD_GUARD(jwt_b64_part(ctx, NULL, parts.signature, parts.signature_len, &sig));
	WD_GUARD(jwt_decode_header(ctx, &parts, &header));
	WD_GUARD(jwt_header_parse(ctx, header, &info));

	msg_len = parts.header_len + 1 + parts.payload_len;
	for (size_t i = 0; info.kid[0] && i < keys.count; i++) {
		if (!keys.keys[i].kid || strcmp(keys.keys[i].kid, info.kid) != 0)
			continue;
		valid = jwt_verify(alg, &keys.keys[i], (const uint8_t *)token, msg_len,
				   wd_buf_data(&sig), wd_buf_len(&sig), false);
		WD_GUARD(valid);
		goto done;
	}
	for (size_t i = 0; i < keys.count && valid == 0; i++) {
		if (keys.keys[i].alg[0] && strcmp(keys.keys[i].alg, info.alg) != 0)
			continue;
		valid = jwt_verify(alg, &keys.keys[i], (const uint8_t *)token, msg_len,
				   wd_buf_data(&sig), wd_buf_len(&sig), false);
		WD_GUARD(valid);
	}
done:
	*ret = rv_bool(valid == 1);
	rc = 0;
out:
	rv_unref(header);
	jwt_keyset_free(&keys);
	wd_buf_free(&sig);
	return rc;
}

#define VERIFY_HMAC(fn, alg)                                                                 \
	static int fn(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,          \
		      struct rv **ret)                                                       \
	{                                                                                    \
		(void)nargs;                                                                 \
		return verify_hmac(ctx, args, alg, ret);                                     \
	}
#define VERIFY_PUBLIC(fn, alg)                                                               \
	static int fn(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,          \
		      struct rv **ret)                                                       \
	{                                                                                    \
		(void)nargs;                                                                 \
		return verify_public(ctx, args, alg, ret);                                   \
	}

VERIFY_HMAC(bi_verify_hs256, "HS256")
VERIFY_HMAC(bi_verify_hs384, "HS384")
VERIFY_HMAC(bi_verify_hs512, "HS512")
VERIFY_PUBLIC(bi_verify_rs256, "RS256")
VERIFY_PUBLIC(bi_verify_rs384, "RS384")
VERIFY_PUBLIC(bi_verify_rs512, "RS512")
VERIFY_PUBLIC(bi_verify_ps256, "PS256")
VERIFY_PUBLIC(bi_verify_ps384, "PS384")
VERIFY_PUBLIC(bi_verify_ps512, "PS512")
VERIFY_PUBLIC(bi_verify_es256, "ES256")
VERIFY_PUBLIC(bi_verify_es384, "ES384")
VERIFY_PUBLIC(bi_verify_es512, "ES512")
VERIFY_PUBLIC(bi_verify_eddsa, "EdDSA")

#define VERIFY_ENTRY(bi_name, impl)                                                          \
	{ .name = bi_name, .arity = 2, .arg_types = { RK_STRING, RK_STRING },               \
	  .result_type = RK_BOOL, .fn = impl }

const struct rego_builtin rego_builtins_jwt[] = {
	{ .name = "io.jwt.decode", .arity = 1, .arg_types = { RK_STRING },
	  .result_type = RK_ARRAY, .fn = bi_decode },
	{ .name = "io.jwt.decode_verify", .arity = 2, .flags = REGO_BI_NONDET,
	  .arg_types = { RK_STRING, RK_OBJECT }, .result_type = RK_ARRAY,
	  .fn = bi_jwt_decode_verify },
	{ .name = "io.jwt.encode_sign", .arity = 3, .flags = REGO_BI_NONDET,
	  .arg_types = { RK_OBJECT, RK_OBJECT, RK_OBJECT }, .result_type = RK_STRING,
	  .fn = bi_jwt_encode_sign },
	{ .name = "io.jwt.encode_sign_raw", .arity = 3, .flags = REGO_BI_NONDET,
	  .arg_types = { RK_STRING, RK_STRING, RK_STRING }, .result_type = RK_STRING,
	  .fn = bi_jwt_encode_sign_raw },
	VERIFY_ENTRY("io.jwt.verify_eddsa", bi_verify_eddsa),
	VERIFY_ENTRY("io.jwt.verify_es256", bi_verify_es256),
	VERIFY_ENTRY("io.jwt.verify_es384", bi_verify_es384),
	VERIFY_ENTRY("io.jwt.verify_es512", bi_verify_es512),
	VERIFY_ENTRY("io.jwt.verify_hs256", bi_verify_hs256),
	VERIFY_ENTRY("io.jwt.verify_hs384", bi_verify_hs384),
	VERIFY_ENTRY("io.jwt.verify_hs512", bi_verify_hs512),
	VERIFY_ENTRY("io.jwt.verify_ps256", bi_verify_ps256),
	VERIFY_ENTRY("io.jwt.verify_ps384", bi_verify_ps384),
	VERIFY_ENTRY("io.jwt.verify_ps512", bi_verify_ps512),
	VERIFY_ENTRY("io.jwt.verify_rs256", bi_verify_rs256),
	VERIFY_ENTRY("io.jwt.verify_rs384", bi_verify_rs384),
	VERIFY_ENTRY("io.jwt.verify_rs512", bi_verify_rs512),
	{ .name = NULL },
};
