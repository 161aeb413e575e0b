// Unit tests of Sigstore bundles: the v0.3 writer, the reader's acceptance
// of v0.1 to v0.3 and its errors for each malformed field, protobuf's
// base64 forms, and verification of key-signed message signatures.
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
#include "supply/bundle.h"
#include "supply/supply_json.h"
#include "supply/verify.h"

static const uint8_t artifact[] = "release artifact\n";

// A key-signed bundle over artifact, written and read back.
struct signed_bundle {
	EVP_PKEY *key;
	uint8_t digest[SUPPLY_DIGEST_LEN];
	char *text;
};

static void make_signed_bundle(struct signed_bundle *out)
{
	struct supply_bundle bundle = { .content = SUPPLY_CONTENT_MESSAGE_SIGNATURE };
	struct wd_error err = { 0 };

	assert_int_equal(supply_key_generate(&out->key, &err), WD_OK);
	assert_int_equal(supply_digest_bytes(artifact, sizeof(artifact) - 1, out->digest, &err),
		WD_OK);
	bundle.material = SUPPLY_MATERIAL_PUBLIC_KEY;
	assert_int_equal(supply_bundle_key_hint(out->key, &bundle.key_hint, &err), WD_OK);
	bundle.has_message_digest = true;
	memcpy(bundle.message_digest, out->digest, SUPPLY_DIGEST_LEN);
	assert_int_equal(supply_digest_sign(out->key, out->digest, &bundle.signature,
				 &bundle.signature_len, &err), WD_OK);
	assert_int_equal(supply_bundle_write(&bundle, &out->text, &err), WD_OK);
	supply_bundle_clear(&bundle);
}

static void free_signed_bundle(struct signed_bundle *b)
{
	EVP_PKEY_free(b->key);
	free(b->text);
}

static void write_has_v03_layout(void **state)
{
	struct signed_bundle b = { 0 };
	json_t *root, *message;
	char *hint = NULL;
	char *digest = NULL;

	(void)state;
	make_signed_bundle(&b);
	root = json_loads(b.text, 0, NULL);
	assert_non_null(root);
	assert_int_equal(json_object_size(root), 3);
	assert_string_equal(json_string_value(json_object_get(root, "mediaType")),
		"application/vnd.dev.sigstore.bundle.v0.3+json");

	assert_int_equal(supply_bundle_key_hint(b.key, &hint, NULL), WD_OK);
	assert_int_equal(strlen(hint), 44);
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(
		root, "verificationMaterial"), "publicKey"), "hint")), hint);

	message = json_object_get(root, "messageSignature");
	assert_string_equal(json_string_value(json_object_get(json_object_get(message,
		"messageDigest"), "algorithm")), "SHA2_256");
	assert_int_equal(wd_base64_encode(b.digest, SUPPLY_DIGEST_LEN, &digest), WD_OK);
	assert_string_equal(json_string_value(json_object_get(json_object_get(message,
		"messageDigest"), "digest")), digest);
	assert_true(json_is_string(json_object_get(message, "signature")));

	json_decref(root);
	free(hint);
	free(digest);
	free_signed_bundle(&b);
}

static void parse_round_trip_and_verify(void **state)
{
	struct signed_bundle b = { 0 };
	struct supply_bundle parsed;
	struct supply_verified verified;
	struct wd_error err = { 0 };
	struct supply_trust trust = { 0 };

	(void)state;
	make_signed_bundle(&b);
	assert_int_equal(supply_bundle_parse(b.text, strlen(b.text), &parsed, &err), WD_OK);
	assert_int_equal(parsed.minor_version, 3);
	assert_int_equal(parsed.material, SUPPLY_MATERIAL_PUBLIC_KEY);
	assert_int_equal(parsed.content, SUPPLY_CONTENT_MESSAGE_SIGNATURE);
	assert_true(parsed.has_message_digest);
	assert_memory_equal(parsed.message_digest, b.digest, SUPPLY_DIGEST_LEN);
	assert_in_range(parsed.signature_len, 8, 72);

	trust.keys = &b.key;
	trust.key_count = 1;
	assert_int_equal(supply_verify_bundle(b.digest, &parsed, &trust, &verified, &err), WD_OK);
	assert_int_equal(verified.key_index, 0);
	assert_string_equal(verified.spiffe_id, "");
	supply_bundle_clear(&parsed);
	free_signed_bundle(&b);
}

static void verify_rejects_mismatches(void **state)
{
	struct signed_bundle b = { 0 };
	struct wd_error err = { 0 };
	struct supply_trust trust = { 0 };
	uint8_t other_digest[SUPPLY_DIGEST_LEN];
	EVP_PKEY *other = NULL;
	EVP_PKEY *both[2];

	(void)state;
	make_signed_bundle(&b);
	trust.keys = &b.key;
	trust.key_count = 1;

	// Another artifact: the message digest no longer matches.
	memcpy(other_digest, b.digest, SUPPLY_DIGEST_LEN);
	other_digest[0] ^= 1;
	assert_int_equal(supply_verify_bundle_text(other_digest, b.text, strlen(b.text), &trust,
				 NULL, &err), WD_ECRYPTO);
	assert_non_null(strstr(err.detail, "digest mismatch: the bundle signs sha256:"));

	// Another key: the signature does not verify.
	assert_int_equal(supply_key_generate(&other, &err), WD_OK);
	trust.keys = &other;
	assert_int_equal(supply_verify_bundle_text(b.digest, b.text, strlen(b.text), &trust, NULL,
				 &err), WD_ECRYPTO);
	assert_non_null(strstr(err.detail, "invalid signature"));

	// Of two trusted keys, the second one verifies.
	both[0] = other;
	both[1] = b.key;
	trust.keys = both;
	trust.key_count = 2;
	struct supply_verified verified;
	assert_int_equal(supply_verify_bundle_text(b.digest, b.text, strlen(b.text), &trust,
				 &verified, &err), WD_OK);
	assert_int_equal(verified.key_index, 1);

	// No trusted key at all, or only a trust bundle.
	trust.key_count = 0;
	assert_int_equal(supply_verify_bundle_text(b.digest, b.text, strlen(b.text), &trust, NULL,
				 &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "verify it with the public key"));

	EVP_PKEY_free(other);
	free_signed_bundle(&b);
}

// Returns a minimal bundle body from its media type, the members of its
// verification material and its content members.
static char *bundle_text(const char *media_type, const char *material, const char *content)
{
	char *text = NULL;

	assert_true(asprintf(&text, "{\"mediaType\":\"%s\",\"verificationMaterial\":{%s},%s}",
			    media_type, material, content) > 0);
	return text;
}

#define V03 "application/vnd.dev.sigstore.bundle.v0.3+json"
#define KEY_MATERIAL "\"publicKey\":{\"hint\":\"abc\"}"
#define SIG "MEUCIQCACfhpIX3+zVXJjwEeIS0yFTK2jRfBjduXAaLHJSARHAIgSUdTM+S5xucODRFtrGHN2uClS0MRPhqZm76g0ZHEQ5c="
#define DIGEST "oM/HEnHW4njlfNMy/5V8P3BD/do1TEy7GQow1W76Ab8="
#define MESSAGE "\"messageSignature\":{\"messageDigest\":{\"algorithm\":\"SHA2_256\",\"digest\":\"" DIGEST "\"},\"signature\":\"" SIG "\"}"

static void parse_accepts_versions(void **state)
{
	static const struct {
		const char *media_type;
		int minor;
	} cases[] = {
		{ "application/vnd.dev.sigstore.bundle+json;version=0.1", 1 },
		{ "application/vnd.dev.sigstore.bundle+json;version=0.2", 2 },
		{ "application/vnd.dev.sigstore.bundle+json;version=0.3", 3 },
		{ V03, 3 },
	};
	struct supply_bundle parsed;
	struct wd_error err = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = bundle_text(cases[i].media_type,
			KEY_MATERIAL ",\"tlogEntries\":[],\"timestampVerificationData\":{}", MESSAGE);

		assert_int_equal(supply_bundle_parse(text, strlen(text), &parsed, &err), WD_OK);
		assert_int_equal(parsed.minor_version, cases[i].minor);
		assert_string_equal(parsed.key_hint, "abc");
		supply_bundle_clear(&parsed);
		free(text);
	}
}

static void parse_rejects_malformed(void **state)
{
	static const struct {
		const char *media_type;
		const char *material;
		const char *content;
		int code;
		const char *message;
	} cases[] = {
		{ "application/vnd.dev.sigstore.bundle+json;version=99.9", KEY_MATERIAL, MESSAGE,
			WD_EUNSUPPORTED, "unsupported mediaType \"application/vnd.dev.sigstore.bundle+json;version=99.9\"" },
		{ "application/vnd.dev.sigstore.bundle.v0.4+json", KEY_MATERIAL, MESSAGE,
			WD_EUNSUPPORTED, "unsupported mediaType \"application/vnd.dev.sigstore.bundle.v0.4+json\"" },
		{ "application/json", KEY_MATERIAL, MESSAGE, WD_EUNSUPPORTED,
			"unsupported mediaType \"application/json\"" },
		{ V03, KEY_MATERIAL, "\"messageSignature\":{\"signature\":\"INVALID!!!BASE64===\"}",
			WD_EINVAL, "field \"messageSignature.signature\" is not valid base64: \"INVALID!!!BASE64===\"" },
		{ V03, "\"x509CertificateChain\":{\"certificates\":[]}", MESSAGE, WD_EINVAL,
			"the certificate chain \"verificationMaterial.x509CertificateChain.certificates\" is empty" },
		{ V03, "\"x509CertificateChain\":{}", MESSAGE, WD_EINVAL, "is empty" },
		{ V03, "\"certificate\":{\"rawBytes\":\"AAAA\"}", MESSAGE, WD_EINVAL,
			"field \"verificationMaterial.certificate.rawBytes\" is not a DER X.509 certificate" },
		{ V03, "\"certificate\":{}", MESSAGE, WD_EINVAL,
			"missing field \"verificationMaterial.certificate.rawBytes\"" },
		{ V03, "", MESSAGE, WD_EINVAL, "needs exactly one of publicKey, x509CertificateChain and certificate, found 0" },
		{ V03, KEY_MATERIAL ",\"certificate\":{\"rawBytes\":\"AAAA\"}", MESSAGE, WD_EINVAL,
			"found 2" },
		{ V03, KEY_MATERIAL ",\"extra\":1", MESSAGE, WD_EINVAL,
			"unknown field \"verificationMaterial.extra\"" },
		{ V03, KEY_MATERIAL, "\"other\":{}", WD_EINVAL, "unknown field \"other\"" },
		{ V03, KEY_MATERIAL, "\"x\":null", WD_EINVAL, "unknown field \"x\"" },
		{ V03, KEY_MATERIAL, MESSAGE ",\"dsseEnvelope\":{}", WD_EINVAL,
			"needs exactly one of messageSignature and dsseEnvelope" },
		{ V03, KEY_MATERIAL, "\"messageSignature\":{\"messageDigest\":{\"algorithm\":\"SHA2_384\",\"digest\":\"" DIGEST "\"},\"signature\":\"" SIG "\"}",
			WD_EUNSUPPORTED, "unsupported message digest algorithm \"SHA2_384\"" },
		{ V03, KEY_MATERIAL, "\"messageSignature\":{\"messageDigest\":{\"algorithm\":\"SHA2_256\",\"digest\":\"AAAA\"},\"signature\":\"" SIG "\"}",
			WD_EINVAL, "is 3 bytes, a SHA2_256 digest is 32" },
		{ V03, KEY_MATERIAL, "\"messageSignature\":{\"signature\":\"\"}", WD_EINVAL,
			"field \"messageSignature.signature\" is empty" },
		{ V03, KEY_MATERIAL, "\"messageSignature\":{\"signature\":7}", WD_EINVAL,
			"field \"messageSignature.signature\" is not a JSON string" },
		{ V03, "\"publicKey\":[]", MESSAGE, WD_EINVAL,
			"field \"verificationMaterial.publicKey\" is not a JSON object" },
		{ V03, KEY_MATERIAL, "\"dsseEnvelope\":{\"payload\":\"e30=\",\"payloadType\":\"t\",\"signatures\":[]}",
			WD_EINVAL, "field \"dsseEnvelope.signatures\" is empty" },
		{ V03, KEY_MATERIAL, "\"dsseEnvelope\":{\"payload\":\"e30=\",\"payloadType\":\"\",\"signatures\":[{\"sig\":\"" SIG "\"}]}",
			WD_EINVAL, "field \"dsseEnvelope.payloadType\" is empty" },
		{ V03, KEY_MATERIAL, "\"dsseEnvelope\":{\"payload\":\"e30=\",\"payloadType\":\"t\",\"signatures\":[{\"sig\":\"\"}]}",
			WD_EINVAL, "field \"dsseEnvelope.signatures[0].sig\" is empty" },
		{ V03, KEY_MATERIAL, "\"dsseEnvelope\":{\"payload\":\"e30=\",\"payloadType\":\"t\",\"signatures\":[{\"sig\":\"" SIG "\",\"x\":1}]}",
			WD_EINVAL, "unknown field \"dsseEnvelope.signatures[0].x\"" },
		{ V03, KEY_MATERIAL, "\"dsseEnvelope\":{\"payload\":\"%%%\",\"payloadType\":\"t\",\"signatures\":[{\"sig\":\"" SIG "\"}]}",
			WD_EINVAL, "field \"dsseEnvelope.payload\" is not valid base64" },
	};
	struct supply_bundle parsed;
	struct wd_error err = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = bundle_text(cases[i].media_type, cases[i].material, cases[i].content);

		wd_error_clear(&err);
		if (supply_bundle_parse(text, strlen(text), &parsed, &err) != cases[i].code ||
		    !strstr(err.detail, cases[i].message))
			fail_msg("case %zu: %s\n  got %d: %s", i, text, err.code, err.detail);
		assert_null(parsed.signature);
		assert_null(parsed.certificates);
		free(text);
	}

	assert_int_equal(supply_bundle_parse("[]", 2, &parsed, &err), WD_EINVAL);
	assert_string_equal(err.detail, "bundle: the document is not a JSON object");
	assert_int_equal(supply_bundle_parse("{\"mediaType\":1}", 15, &parsed, &err), WD_EINVAL);
	assert_string_equal(err.detail, "bundle: field \"mediaType\" is not a JSON string");
	assert_int_equal(supply_bundle_parse("{", 1, &parsed, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "bundle: invalid JSON at line 1"));
}

static void base64_forms_of_protobuf_json(void **state)
{
	static const struct {
		const char *text;
		int code;
		const char *bytes;
	} cases[] = {
		{ "+/8=", WD_OK, "\xfb\xff" },
		{ "+/8", WD_OK, "\xfb\xff" },
		{ "-_8", WD_OK, "\xfb\xff" },
		{ "-_8=", WD_OK, "\xfb\xff" },
		{ "aGk=", WD_OK, "hi" },
		{ "aGk", WD_OK, "hi" },
		{ "", WD_OK, "" },
		{ "+_8=", WD_EINVAL, NULL },
		{ "aGk==", WD_EINVAL, NULL },
		{ "aG=k", WD_EINVAL, NULL },
		{ "a", WD_EINVAL, NULL },
		{ "aGk!", WD_EINVAL, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *data = NULL;
		size_t len = 0;
		int rc = supply_base64_decode_any(cases[i].text, strlen(cases[i].text), &data, &len);

		if (rc != cases[i].code)
			fail_msg("case \"%s\": got %d", cases[i].text, rc);
		if (cases[i].bytes) {
			assert_int_equal(len, strlen(cases[i].bytes));
			assert_memory_equal(data, cases[i].bytes, len);
		} else {
			assert_null(data);
		}
		free(data);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(write_has_v03_layout),
		cmocka_unit_test(parse_round_trip_and_verify),
		cmocka_unit_test(verify_rejects_mismatches),
		cmocka_unit_test(parse_accepts_versions),
		cmocka_unit_test(parse_rejects_malformed),
		cmocka_unit_test(base64_forms_of_protobuf_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
