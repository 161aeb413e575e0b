// Unit tests of DSSE envelopes and in-toto Statements: the PAE bytes of the
// DSSE specification's example, signing and verification, the Statement's
// exact JSON, and attestation verification with each mismatch.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/encoding.h"
#include "supply/dsse.h"
#include "supply/intoto.h"
#include "supply/verify.h"

static const uint8_t artifact[] = "release artifact\n";

static void pae_matches_specification(void **state)
{
	// The example of the DSSE protocol document (protocol.md).
	static const char expected[] = "DSSEv1 29 http://example.com/HelloWorld 11 hello world";
	uint8_t *pae = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(supply_dsse_pae("http://example.com/HelloWorld",
				 (const uint8_t *)"hello world", 11, &pae, &len), WD_OK);
	assert_int_equal(len, strlen(expected));
	assert_memory_equal(pae, expected, len);
	free(pae);

	assert_int_equal(supply_dsse_pae("", (const uint8_t *)"", 0, &pae, &len), WD_OK);
	assert_int_equal(len, 12);
	assert_memory_equal(pae, "DSSEv1 0  0 ", 12);
	free(pae);
}

static void sign_verify_and_tamper(void **state)
{
	struct supply_dsse_envelope envelope;
	struct supply_dsse_envelope parsed;
	struct wd_error err = { 0 };
	EVP_PKEY *key = NULL;
	EVP_PKEY *other = NULL;
	json_t *json = NULL;
	char *text;

	(void)state;
	assert_int_equal(supply_key_generate(&key, &err), WD_OK);
	assert_int_equal(supply_key_generate(&other, &err), WD_OK);
	assert_int_equal(supply_dsse_sign(key, "", "text/plain", (const uint8_t *)"hi", 2,
				 &envelope, &err), WD_OK);
	assert_int_equal(envelope.signature_count, 1);
	assert_int_equal(supply_dsse_verify(&envelope, key, &err), WD_OK);
	assert_int_equal(supply_dsse_verify(&envelope, other, &err), WD_ECRYPTO);
	assert_non_null(strstr(err.detail, "invalid signature"));

	// The JSON form reads back to the same envelope.
	assert_int_equal(supply_dsse_to_json(&envelope, &json), WD_OK);
	text = json_dumps(json, JSON_COMPACT);
	assert_non_null(strstr(text, "\"payload\":\"aGk=\",\"payloadType\":\"text/plain\","
				     "\"signatures\":[{\"keyid\":\"\",\"sig\":\""));
	assert_int_equal(supply_dsse_parse(text, strlen(text), &parsed, &err), WD_OK);
	assert_string_equal(parsed.payload_type, "text/plain");
	assert_int_equal(parsed.payload_len, 2);
	assert_int_equal(supply_dsse_verify(&parsed, key, &err), WD_OK);

	// The signature covers the payload type and the payload.
	parsed.payload[0] = 'H';
	assert_int_equal(supply_dsse_verify(&parsed, key, &err), WD_ECRYPTO);
	parsed.payload[0] = 'h';
	parsed.payload_type[0] = 'T';
	assert_int_equal(supply_dsse_verify(&parsed, key, &err), WD_ECRYPTO);

	supply_dsse_clear(&parsed);
	supply_dsse_clear(&envelope);
	free(text);
	json_decref(json);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
}

static void statement_json_is_exact(void **state)
{
	uint8_t digest[SUPPLY_DIGEST_LEN];
	json_t *predicate = json_loads("{\"b\":[1,2],\"a\":\"x\"}", 0, NULL);
	char *hex = NULL;
	char *text = NULL;
	char *expected = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(supply_digest_bytes(artifact, sizeof(artifact) - 1, digest, NULL), WD_OK);
	assert_int_equal(wd_hex_encode(digest, sizeof(digest), &hex), WD_OK);
	assert_int_equal(supply_statement_build("artifact.bin", digest, "https://spdx.dev/Document",
				 predicate, &text, &len, NULL), WD_OK);
	assert_true(asprintf(&expected, "{\"_type\":\"https://in-toto.io/Statement/v1\","
			"\"subject\":[{\"name\":\"artifact.bin\",\"digest\":{\"sha256\":\"%s\"}}],"
			"\"predicateType\":\"https://spdx.dev/Document\","
			"\"predicate\":{\"b\":[1,2],\"a\":\"x\"}}", hex) > 0);
	assert_string_equal(text, expected);
	assert_int_equal(len, strlen(expected));

	free(text);
	free(expected);
	free(hex);
	json_decref(predicate);
}

static void predicate_types_resolve(void **state)
{
	static const struct {
		const char *name;
		const char *uri;
	} cases[] = {
		{ "spdx", "https://spdx.dev/Document" },
		{ "spdxjson", "https://spdx.dev/Document" },
		{ "cyclonedx", "https://cyclonedx.org/bom" },
		{ "slsaprovenance", "https://slsa.dev/provenance/v1" },
		{ "slsaprovenance02", "https://slsa.dev/provenance/v0.2" },
		{ "openvex", "https://openvex.dev/ns" },
		{ "https://example.com/custom/v1", "https://example.com/custom/v1" },
		{ "urn:example:predicate", "urn:example:predicate" },
	};
	struct wd_error err = { 0 };
	const char *uri;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(supply_predicate_type_resolve(cases[i].name, &uri, &err), WD_OK);
		assert_string_equal(uri, cases[i].uri);
	}
	assert_int_equal(supply_predicate_type_resolve("sbom", &uri, &err), WD_EINVAL);
	assert_null(uri);
	assert_non_null(strstr(err.detail, "invalid predicate type \"sbom\""));
}

static void statement_parse_rejects(void **state)
{
	static const struct {
		const char *json;
		int code;
		const char *message;
	} cases[] = {
		{ "{\"subject\":[],\"predicateType\":\"p\"}", WD_EINVAL, "missing field \"_type\"" },
		{ "{\"_type\":\"https://in-toto.io/Statement/v2\",\"subject\":[{\"digest\":{\"sha256\":\"00\"}}],\"predicateType\":\"p\"}",
			WD_EUNSUPPORTED, "unsupported _type \"https://in-toto.io/Statement/v2\"" },
		{ "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[],\"predicateType\":\"p\"}",
			WD_EINVAL, "field \"subject\" is empty" },
		{ "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"name\":\"a\"}],\"predicateType\":\"p\"}",
			WD_EINVAL, "missing field \"subject[0].digest\"" },
		{ "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"digest\":{}}],\"predicateType\":\"p\"}",
			WD_EINVAL, "field \"subject[0].digest\" is empty" },
		{ "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"digest\":{\"sha256\":1}}],\"predicateType\":\"p\"}",
			WD_EINVAL, "field \"subject[0].digest.sha256\" is not a JSON string" },
		{ "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"digest\":{\"sha256\":\"00\"}}]}",
			WD_EINVAL, "missing field \"predicateType\"" },
		{ "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[7],\"predicateType\":\"p\"}",
			WD_EINVAL, "\"subject[0]\" is not a JSON object" },
	};
	struct supply_statement statement;
	struct wd_error err = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		wd_error_clear(&err);
		if (supply_statement_parse((const uint8_t *)cases[i].json, strlen(cases[i].json),
			    &statement, &err) != cases[i].code ||
		    !strstr(err.detail, cases[i].message))
			fail_msg("case %zu: got %d: %s", i, err.code, err.detail);
		assert_null(statement.root);
	}
}

// A signed attestation about artifact with the given predicate type.
static char *attest(EVP_PKEY *key, const uint8_t digest[SUPPLY_DIGEST_LEN],
	const char *payload_type, const char *predicate_type)
{
	struct supply_dsse_envelope envelope;
	json_t *predicate = json_object();
	json_t *json = NULL;
	char *statement = NULL;
	char *text;
	size_t len = 0;

	assert_int_equal(supply_statement_build("artifact", digest, predicate_type, predicate,
				 &statement, &len, NULL), WD_OK);
	assert_int_equal(supply_dsse_sign(key, "", payload_type, (const uint8_t *)statement, len,
				 &envelope, NULL), WD_OK);
	assert_int_equal(supply_dsse_to_json(&envelope, &json), WD_OK);
	text = json_dumps(json, JSON_COMPACT);
	json_decref(json);
	json_decref(predicate);
	free(statement);
	supply_dsse_clear(&envelope);
	return text;
}

static void attestation_checks_each_part(void **state)
{
	struct supply_verified verified;
	struct supply_trust trust = { 0 };
	struct wd_error err = { 0 };
	uint8_t digest[SUPPLY_DIGEST_LEN];
	uint8_t other_digest[SUPPLY_DIGEST_LEN];
	EVP_PKEY *key = NULL;
	EVP_PKEY *other = NULL;
	char *text;

	(void)state;
	assert_int_equal(supply_key_generate(&key, &err), WD_OK);
	assert_int_equal(supply_key_generate(&other, &err), WD_OK);
	assert_int_equal(supply_digest_bytes(artifact, sizeof(artifact) - 1, digest, &err), WD_OK);
	memcpy(other_digest, digest, sizeof(digest));
	other_digest[31] ^= 0x80;
	trust.keys = &key;
	trust.key_count = 1;

	text = attest(key, digest, SUPPLY_DSSE_INTOTO_TYPE, "https://cyclonedx.org/bom");
	assert_int_equal(supply_verify_attestation(digest, text, strlen(text), &trust,
				 "https://cyclonedx.org/bom", &verified, &err), WD_OK);
	assert_string_equal(verified.predicate_type, "https://cyclonedx.org/bom");
	assert_int_equal(supply_verify_attestation(digest, text, strlen(text), &trust, NULL,
				 &verified, &err), WD_OK);

	assert_int_equal(supply_verify_attestation(digest, text, strlen(text), &trust,
				 "https://spdx.dev/Document", NULL, &err), WD_ECRYPTO);
	assert_string_equal(err.detail, "wrong predicate type: the attestation has "
		"\"https://cyclonedx.org/bom\", expected \"https://spdx.dev/Document\"");

	assert_int_equal(supply_verify_attestation(other_digest, text, strlen(text), &trust, NULL,
				 NULL, &err), WD_ECRYPTO);
	assert_non_null(strstr(err.detail, "no subject of the in-toto Statement has the "
		"artifact's digest sha256:"));

	trust.keys = &other;
	assert_int_equal(supply_verify_attestation(digest, text, strlen(text), &trust, NULL, NULL,
				 &err), WD_ECRYPTO);
	assert_non_null(strstr(err.detail, "invalid signature"));
	trust.keys = &key;
	free(text);

	text = attest(key, digest, "application/json", "https://cyclonedx.org/bom");
	assert_int_equal(supply_verify_attestation(digest, text, strlen(text), &trust, NULL, NULL,
				 &err), WD_EUNSUPPORTED);
	assert_non_null(strstr(err.detail, "unsupported DSSE payloadType \"application/json\""));
	free(text);

	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
}

static void bundled_envelope_verifies(void **state)
{
	struct supply_bundle bundle = { .content = SUPPLY_CONTENT_DSSE };
	struct supply_trust trust = { 0 };
	struct wd_error err = { 0 };
	uint8_t digest[SUPPLY_DIGEST_LEN];
	EVP_PKEY *key = NULL;
	json_t *predicate = json_object();
	char *statement = NULL;
	char *text = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(supply_key_generate(&key, &err), WD_OK);
	assert_int_equal(supply_digest_bytes(artifact, sizeof(artifact) - 1, digest, &err), WD_OK);
	assert_int_equal(supply_statement_build("artifact", digest, "https://slsa.dev/provenance/v1",
				 predicate, &statement, &len, &err), WD_OK);
	assert_int_equal(supply_dsse_sign(key, "", SUPPLY_DSSE_INTOTO_TYPE,
				 (const uint8_t *)statement, len, &bundle.envelope, &err), WD_OK);
	bundle.material = SUPPLY_MATERIAL_PUBLIC_KEY;
	assert_int_equal(supply_bundle_key_hint(key, &bundle.key_hint, &err), WD_OK);
	assert_int_equal(supply_bundle_write(&bundle, &text, &err), WD_OK);
	assert_non_null(strstr(text, "\"dsseEnvelope\":{\"payload\":\""));

	trust.keys = &key;
	trust.key_count = 1;
	assert_int_equal(supply_verify_bundle_text(digest, text, strlen(text), &trust, NULL, &err),
		WD_OK);
	assert_int_equal(supply_verify_attestation(digest, text, strlen(text), &trust,
				 "https://slsa.dev/provenance/v1", NULL, &err), WD_OK);
	digest[0] ^= 1;
	assert_int_equal(supply_verify_bundle_text(digest, text, strlen(text), &trust, NULL, &err),
		WD_ECRYPTO);
	assert_non_null(strstr(err.detail, "no subject of the in-toto Statement"));

	supply_bundle_clear(&bundle);
	json_decref(predicate);
	free(statement);
	free(text);
	EVP_PKEY_free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pae_matches_specification),
		cmocka_unit_test(sign_verify_and_tamper),
		cmocka_unit_test(statement_json_is_exact),
		cmocka_unit_test(predicate_types_resolve),
		cmocka_unit_test(statement_parse_rejects),
		cmocka_unit_test(attestation_checks_each_part),
		cmocka_unit_test(bundled_envelope_verifies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
