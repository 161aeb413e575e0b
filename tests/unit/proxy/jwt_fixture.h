// Keys, JWKS files and signed tokens for the proxy's JWT and authz tests,
// made with OpenSSL at run time.
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "common/buf.h"
#include "common/encoding.h"
#include "crypto/jwk.h"
#include "policy/bi_jwt_key.h"

static inline EVP_PKEY *fixture_key(const char *type, const char *param)
{
	EVP_PKEY *key = NULL;

	if (strcmp(type, "EC") == 0)
		key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", param);
	else if (strcmp(type, "RSA") == 0)
		key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)strtoul(param, NULL, 10));
	else
		key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(key);
	return key;
}

static inline char *fixture_b64url(const void *data, size_t len)
{
	char *text = NULL;

	assert_int_equal(wd_base64url_encode(data, len, &text), 0);
	return text;
}

// The public JWK of key with kid (NULL: none) and alg (NULL: none).
static inline json_t *fixture_jwk(EVP_PKEY *key, const char *kid, const char *alg)
{
	json_t *jwk = NULL;

	if (EVP_PKEY_is_a(key, "ED25519")) {
		uint8_t raw[32];
		size_t raw_len = sizeof(raw);
		char *x;

		assert_int_equal(EVP_PKEY_get_raw_public_key(key, raw, &raw_len), 1);
		x = fixture_b64url(raw, raw_len);
		jwk = json_pack("{s:s, s:s, s:s}", "kty", "OKP", "crv", "Ed25519", "x", x);
		free(x);
	} else {
		assert_int_equal(crypto_jwk_from_key(key, &jwk, NULL), 0);
	}
	if (kid)
		json_object_set_new(jwk, "kid", json_string(kid));
	if (alg)
		json_object_set_new(jwk, "alg", json_string(alg));
	return jwk;
}

// Writes {"keys": [jwks...]} to path, taking the references.
static inline void fixture_write_jwks(const char *path, json_t **jwks, size_t count)
{
	json_t *keys = json_array();
	json_t *root;

	for (size_t i = 0; i < count; i++)
		json_array_append_new(keys, jwks[i]);
	root = json_pack("{s:o}", "keys", keys);
	assert_int_equal(json_dump_file(root, path, JSON_COMPACT), 0);
	json_decref(root);
}

// Signs header.payload (JSON texts) with alg and key; key NULL leaves the
// signature part as "c2ln". Returns a malloc'd compact token.
static inline char *fixture_token_raw(const char *alg_name, EVP_PKEY *key, const char *header,
	const char *payload)
{
	char *h = fixture_b64url(header, strlen(header));
	char *p = fixture_b64url(payload, strlen(payload));
	struct wd_buf input, sig;
	char *s, *token;
	size_t len;

	wd_buf_init(&input, 256, 1 << 20);
	wd_buf_init(&sig, 256, 1 << 20);
	assert_int_equal(wd_buf_appendf(&input, "%s.%s", h, p), 0);
	if (key) {
		const struct jwt_alg *alg = jwt_alg_find(alg_name, strlen(alg_name));
		struct jwt_key jwt_key = { .pkey = key };
		char err[128];

		assert_non_null(alg);
		assert_int_equal(jwt_sign(alg, &jwt_key, wd_buf_data(&input), wd_buf_len(&input), &sig,
			err, sizeof(err)), 0);
		s = fixture_b64url(wd_buf_data(&sig), wd_buf_len(&sig));
	} else {
		s = strdup("c2ln");
	}
	len = wd_buf_len(&input) + 1 + strlen(s) + 1;
	token = malloc(len);
	assert_non_null(token);
	snprintf(token, len, "%s.%s", wd_buf_str(&input), s);
	free(h);
	free(p);
	free(s);
	wd_buf_free(&input);
	wd_buf_free(&sig);
	return token;
}

// A token with header {"alg": alg, "kid": kid} (kid NULL: none).
static inline char *fixture_token(const char *alg, const char *kid, EVP_PKEY *key,
	const char *payload)
{
	char header[256];

	if (kid)
		snprintf(header, sizeof(header), "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"%s\"}", alg,
			kid);
	else
		snprintf(header, sizeof(header), "{\"alg\":\"%s\",\"typ\":\"JWT\"}", alg);
	return fixture_token_raw(alg, key, header, payload);
}
