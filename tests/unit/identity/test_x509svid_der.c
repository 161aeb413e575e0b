/* Unit tests for the DER-template path of X.509-SVID issuance: for the same
 * request, serial and time it must encode the TBSCertificate byte for byte
 * as the OpenSSL-API path does. ECDSA signatures are randomized, so under EC
 * CAs the signatures are verified instead of compared. Under an RSA CA
 * (PKCS #1 v1.5 signatures are deterministic) whole certificates are
 * compared. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/asn1.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "crypto/key.h"
#include "crypto/x509.h"
#include "identity/x509svid.h"

#define NOW 1767225600          /* 2026-01-01T00:00:00Z */
#define NOW_2049 2524607990     /* 2049-12-31T23:59:50Z */
#define CA_TTL (24 * 3600)
#define LONG_CA_TTL (30LL * 365 * 86400)
#define SVID_TTL 3600

enum ca_kind { CA_P256, CA_P384, CA_RSA, CA_LONG, CA_2049, CA_COUNT };

struct fixture {
	EVP_PKEY *ca_keys[CA_COUNT];
	X509 *cas[CA_COUNT];
	int64_t ca_now[CA_COUNT];
	EVP_PKEY *p256;
	EVP_PKEY *p384;
};

static int setup(void **state)
{
	static const struct {
		enum crypto_key_type type;
		int64_t now;
		int64_t ttl;
	} cas[CA_COUNT] = {
		[CA_P256] = { CRYPTO_KEY_EC_P256, NOW, CA_TTL },
		[CA_P384] = { CRYPTO_KEY_EC_P384, NOW, CA_TTL },
		[CA_RSA] = { CRYPTO_KEY_RSA_2048, NOW, CA_TTL },
		[CA_LONG] = { CRYPTO_KEY_EC_P256, NOW, LONG_CA_TTL },
		[CA_2049] = { CRYPTO_KEY_EC_P256, NOW_2049, CA_TTL },
	};
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	for (size_t i = 0; i < CA_COUNT; i++) {
		if (crypto_key_generate(cas[i].type, &f->ca_keys[i], NULL) < 0 ||
		    x509svid_ca_create(f->ca_keys[i], "example.org", cas[i].now, cas[i].ttl, 10,
			    &f->cas[i], NULL) < 0)
			return -1;
		f->ca_now[i] = cas[i].now;
	}
	if (crypto_key_generate(CRYPTO_KEY_EC_P256, &f->p256, NULL) < 0 ||
	    crypto_key_generate(CRYPTO_KEY_EC_P384, &f->p384, NULL) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < CA_COUNT; i++) {
		EVP_PKEY_free(f->ca_keys[i]);
		X509_free(f->cas[i]);
	}
	EVP_PKEY_free(f->p256);
	EVP_PKEY_free(f->p384);
	free(f);
	return 0;
}

/* A serial source that returns the same 16 bytes on every call. */
static int fixed_serial(void *context, uint8_t serial[X509SVID_SERIAL_BYTES])
{
	memcpy(serial, context, X509SVID_SERIAL_BYTES);
	return 0;
}

struct der_span {
	const uint8_t *data;
	size_t len;
};

/* Splits a Certificate into tbsCertificate, signatureAlgorithm and
 * signatureValue, each with its tag and length. */
static void split_certificate(const uint8_t *der, size_t len, struct der_span parts[3])
{
	const unsigned char *p = der;
	long body = 0;
	int tag = 0;
	int cls = 0;

	assert_int_equal(ASN1_get_object(&p, &body, &tag, &cls, (long)len) & 0x80, 0);
	assert_int_equal(tag, V_ASN1_SEQUENCE);
	assert_true(p + body == der + len);
	for (size_t i = 0; i < 3; i++) {
		const unsigned char *start = p;

		assert_int_equal(ASN1_get_object(&p, &body, &tag, &cls,
			(long)(der + len - p)) & 0x80, 0);
		parts[i].data = start;
		parts[i].len = (size_t)(p - start) + (size_t)body;
		p += body;
	}
	assert_true(p == der + len);
}

struct issue_case {
	enum ca_kind ca;
	EVP_PKEY *subject;
	const char *spiffe_id;
	const char *const *dns_names;
	size_t dns_name_count;
	int64_t ttl;
	const uint8_t *serial;
	bool expect_template;
};

/* Issues c through both paths and checks that they agree. */
static void check_paths_agree(struct fixture *f, const struct issue_case *c)
{
	struct x509svid_issuer *issuer = NULL;
	struct x509svid_issued issued = { 0 };
	struct spiffe_id id;
	struct x509svid_request req = {
		.id = &id,
		.public_key = c->subject,
		.dns_names = c->dns_names,
		.dns_name_count = c->dns_name_count,
		.now = f->ca_now[c->ca],
		.ttl_seconds = c->ttl,
		.backdate_seconds = X509SVID_DEFAULT_BACKDATE_SECONDS,
	};
	struct der_span expected[3];
	struct der_span actual[3];
	struct wd_error err = { 0 };
	char serial_hex[X509SVID_SERIAL_HEX_SIZE];
	unsigned char *reference_der = NULL;
	const unsigned char *p;
	char *reference_pem = NULL;
	X509 *reference = NULL;
	X509 *decoded = NULL;
	int64_t not_after = 0;
	int reference_len;

	assert_int_equal(spiffe_id_parse(c->spiffe_id, strlen(c->spiffe_id), &id, NULL), 0);
	assert_int_equal(x509svid_issuer_new(f->cas[c->ca], f->ca_keys[c->ca], &issuer, &err), 0);
	x509svid_issuer_set_serial_source(issuer, fixed_serial, (void *)c->serial);

	assert_int_equal(x509svid_issuer_issue(issuer, &req, &reference, &err), 0);
	if (x509svid_issuer_issue_der(issuer, &req, &issued, &err) != 0)
		fail_msg("x509svid_issuer_issue_der: %s", err.detail);
	assert_int_equal(issued.from_template, c->expect_template);

	reference_len = i2d_X509(reference, &reference_der);
	assert_true(reference_len > 0);
	split_certificate(reference_der, (size_t)reference_len, expected);
	split_certificate(issued.der, issued.der_len, actual);
	assert_int_equal(actual[0].len, expected[0].len);
	assert_memory_equal(actual[0].data, expected[0].data, expected[0].len);
	assert_int_equal(actual[1].len, expected[1].len);
	assert_memory_equal(actual[1].data, expected[1].data, expected[1].len);
	if (c->ca == CA_RSA) {
		assert_int_equal(issued.der_len, (size_t)reference_len);
		assert_memory_equal(issued.der, reference_der, issued.der_len);
	}

	p = issued.der;
	decoded = d2i_X509(NULL, &p, (long)issued.der_len);
	assert_non_null(decoded);
	assert_true(p == issued.der + issued.der_len);
	assert_int_equal(X509_verify(decoded, f->ca_keys[c->ca]), 1);

	assert_int_equal(crypto_x509_serial_hex(reference, serial_hex, sizeof(serial_hex)), 0);
	assert_string_equal(issued.serial_hex, serial_hex);
	assert_int_equal(crypto_x509_not_after(reference, &not_after), 0);
	assert_int_equal(issued.not_after, not_after);
	assert_int_equal(crypto_x509_to_pem(decoded, &reference_pem), 0);
	assert_string_equal(issued.pem, reference_pem);

	free(reference_pem);
	OPENSSL_free(reference_der);
	X509_free(decoded);
	X509_free(reference);
	x509svid_issued_clear(&issued);
	x509svid_issuer_free(issuer);
}

static const uint8_t serial_plain[X509SVID_SERIAL_BYTES] = {
	0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
	0x0f, 0xed, 0xcb, 0xa9, 0x87, 0x65, 0x43, 0x21,
};

static const char *const one_dns[] = { "web.example.org" };
static const char *const three_dns[] = { "web.example.org", "*.api.example.org", "localhost" };

/* P-256 and P-384 subjects with 0, 1 and 3 DNS names, under P-256, P-384
 * and RSA CAs. */
static void der_matches_openssl_path(void **state)
{
	struct fixture *f = *state;
	static const enum ca_kind cas[] = { CA_P256, CA_P384, CA_RSA };
	EVP_PKEY *subjects[] = { f->p256, f->p384 };
	static const struct {
		const char *const *names;
		size_t count;
	} dns_sets[] = { { NULL, 0 }, { one_dns, 1 }, { three_dns, 3 } };

	for (size_t ca = 0; ca < WD_ARRAY_LEN(cas); ca++) {
		for (size_t s = 0; s < WD_ARRAY_LEN(subjects); s++) {
			for (size_t d = 0; d < WD_ARRAY_LEN(dns_sets); d++) {
				struct issue_case c = {
					.ca = cas[ca],
					.subject = subjects[s],
					.spiffe_id = "spiffe://example.org/ns/prod/sa/web",
					.dns_names = dns_sets[d].names,
					.dns_name_count = dns_sets[d].count,
					.ttl = SVID_TTL,
					.serial = serial_plain,
					.expect_template = true,
				};

				check_paths_agree(f, &c);
			}
		}
	}
}

/* Serials whose minimal INTEGER drops leading zero octets, needs a 0x00
 * octet after dropping them, or has its top bit cleared by the issuer. */
static void der_serial_encodings(void **state)
{
	struct fixture *f = *state;
	static const uint8_t serials[][X509SVID_SERIAL_BYTES] = {
		{ 0x00, 0x80, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 },
		{ 0x00, 0x00, 0x00, 0x7f, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
		{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
		{ 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 },
	};

	for (size_t i = 0; i < WD_ARRAY_LEN(serials); i++) {
		struct issue_case c = {
			.ca = CA_P256,
			.subject = f->p256,
			.spiffe_id = "spiffe://example.org/web",
			.dns_names = one_dns,
			.dns_name_count = 1,
			.ttl = SVID_TTL,
			.serial = serials[i],
			.expect_template = true,
		};

		check_paths_agree(f, &c);
	}
}

/* A SPIFFE ID of 2048 bytes (multi-octet lengths throughout), a first DNS
 * name of 64 bytes (still the CN) and of 75 bytes (no CN). */
static void der_long_names(void **state)
{
	struct fixture *f = *state;
	static const char prefix[] = "spiffe://example.org/";
	char long_id[SPIFFE_ID_MAX_LEN + 1];
	char dns64[65];
	char dns75[76];
	const char *cn_names[] = { dns64, "b.example.org" };
	const char *no_cn_names[] = { dns75, "b.example.org", "c.example.org" };
	struct issue_case c = {
		.ca = CA_P256,
		.subject = f->p384,
		.ttl = SVID_TTL,
		.serial = serial_plain,
		.expect_template = true,
	};

	memcpy(long_id, prefix, sizeof(prefix) - 1);
	for (size_t i = sizeof(prefix) - 1; i < SPIFFE_ID_MAX_LEN; i++)
		long_id[i] = (i % 50 == 0) ? '/' : 'p';
	long_id[SPIFFE_ID_MAX_LEN] = '\0';
	/* 52 + ".example.org" = 64 bytes, and 63 + ".example.org" = 75 bytes. */
	snprintf(dns64, sizeof(dns64), "%.*s.example.org", 52,
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	snprintf(dns75, sizeof(dns75), "%.*s.example.org", 63,
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_int_equal(strlen(dns64), 64);
	assert_int_equal(strlen(dns75), 75);

	c.spiffe_id = long_id;
	c.dns_names = three_dns;
	c.dns_name_count = 3;
	check_paths_agree(f, &c);

	c.spiffe_id = "spiffe://example.org/web";
	c.dns_names = cn_names;
	c.dns_name_count = 2;
	check_paths_agree(f, &c);

	c.dns_names = no_cn_names;
	c.dns_name_count = 3;
	check_paths_agree(f, &c);
}

/* 100 DNS names of 253 bytes each, the most a request may carry. */
static void der_max_dns_names(void **state)
{
	struct fixture *f = *state;
	static char names[100][254];
	const char *pointers[100];
	struct issue_case c = {
		.ca = CA_P256,
		.subject = f->p256,
		.spiffe_id = "spiffe://example.org/web",
		.dns_names = pointers,
		.dns_name_count = 100,
		.ttl = SVID_TTL,
		.serial = serial_plain,
		.expect_template = true,
	};

	for (size_t i = 0; i < 100; i++) {
		/* Labels of 63 bytes: "xx" + 61 letters, four of them with dots. */
		snprintf(names[i], sizeof(names[i]), "%02zu%.61s.%.63s.%.63s.%.61s", i,
			"hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh",
			"hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh",
			"hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh",
			"hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh");
		assert_int_equal(strlen(names[i]), 253);
		pointers[i] = names[i];
	}
	check_paths_agree(f, &c);
}

/* UTCTime through 2049 and GeneralizedTime from 2050 (RFC 5280 section
 * 4.1.2.5): a notAfter in 2056, and a validity that starts in 2049 and
 * ends in 2050. */
static void der_time_encodings(void **state)
{
	struct fixture *f = *state;
	struct issue_case c = {
		.ca = CA_LONG,
		.subject = f->p256,
		.spiffe_id = "spiffe://example.org/web",
		.ttl = 30LL * 365 * 86400,
		.serial = serial_plain,
		.expect_template = true,
	};

	check_paths_agree(f, &c);
	c.ca = CA_2049;
	c.ttl = SVID_TTL;
	check_paths_agree(f, &c);
}

/* RSA and P-521 subject keys take the OpenSSL-API path and come out the
 * same. A P-256 key set to the compressed form still reports its point
 * uncompressed in OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY (OpenSSL 3.0.19), which
 * both paths encode, so it stays on the template. */
static void der_fallback_keys(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *rsa = NULL;
	EVP_PKEY *compressed = NULL;
	EVP_PKEY *p521 = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t point[200];
	size_t point_len = 0;
	struct issue_case c = {
		.ca = CA_RSA,
		.spiffe_id = "spiffe://example.org/web",
		.dns_names = one_dns,
		.dns_name_count = 1,
		.ttl = SVID_TTL,
		.serial = serial_plain,
		.expect_template = false,
	};

	assert_int_equal(crypto_key_generate(CRYPTO_KEY_RSA_2048, &rsa, NULL), 0);
	c.subject = rsa;
	check_paths_agree(f, &c);

	assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC_P256, &compressed, NULL), 0);
	assert_int_equal(EVP_PKEY_set_utf8_string_param(compressed,
		OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "compressed"), 1);
	assert_int_equal(EVP_PKEY_get_octet_string_param(compressed,
		OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point, sizeof(point), &point_len), 1);
	assert_int_equal(point_len, 65);
	c.subject = compressed;
	c.expect_template = true;
	check_paths_agree(f, &c);
	c.expect_template = false;

	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_group_name(ctx, "P-521"), 1);
	assert_int_equal(EVP_PKEY_keygen(ctx, &p521), 1);
	c.subject = p521;
	check_paths_agree(f, &c);

	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(p521);
	EVP_PKEY_free(compressed);
	EVP_PKEY_free(rsa);
}

/* A source that yields 0 once the top bit is cleared fails the signing
 * instead of looping or issuing serial 0. */
static void der_rejects_zero_serial(void **state)
{
	struct fixture *f = *state;
	static const uint8_t zero_after_clear[X509SVID_SERIAL_BYTES] = { 0x80 };
	struct x509svid_issuer *issuer = NULL;
	struct x509svid_issued issued = { 0 };
	struct spiffe_id id;
	struct x509svid_request req = {
		.id = &id,
		.public_key = f->p256,
		.now = NOW,
		.ttl_seconds = SVID_TTL,
	};
	struct wd_error err = { 0 };
	X509 *cert = NULL;

	assert_int_equal(spiffe_id_parse("spiffe://example.org/web", 24, &id, NULL), 0);
	assert_int_equal(x509svid_issuer_new(f->cas[CA_P256], f->ca_keys[CA_P256], &issuer, &err),
		0);
	x509svid_issuer_set_serial_source(issuer, fixed_serial, (void *)zero_after_clear);
	assert_int_equal(x509svid_issuer_issue_der(issuer, &req, &issued, &err), WD_EINTERNAL);
	assert_null(issued.der);
	assert_null(issued.pem);
	assert_int_equal(x509svid_issuer_issue(issuer, &req, &cert, &err), WD_EINTERNAL);
	assert_null(cert);

	/* NULL restores RAND_bytes. */
	x509svid_issuer_set_serial_source(issuer, NULL, NULL);
	assert_int_equal(x509svid_issuer_issue_der(issuer, &req, &issued, &err), 0);
	assert_true(issued.from_template);
	x509svid_issued_clear(&issued);
	x509svid_issuer_free(issuer);
}

/* The DER path checks requests as the OpenSSL-API path does. */
static void der_rejects_bad_requests(void **state)
{
	struct fixture *f = *state;
	static const char *const bad_dns[] = { "bad name" };
	struct x509svid_issuer *issuer = NULL;
	struct x509svid_issued issued = { 0 };
	struct spiffe_id id;
	struct x509svid_request req = {
		.id = &id,
		.public_key = f->p256,
		.now = NOW,
		.ttl_seconds = SVID_TTL,
	};
	struct wd_error err = { 0 };

	assert_int_equal(spiffe_id_parse("spiffe://example.org/web", 24, &id, NULL), 0);
	assert_int_equal(x509svid_issuer_new(f->cas[CA_P256], f->ca_keys[CA_P256], &issuer, &err),
		0);
	req.dns_names = bad_dns;
	req.dns_name_count = 1;
	assert_int_equal(x509svid_issuer_issue_der(issuer, &req, &issued, &err), WD_EINVAL);
	assert_null(issued.der);

	req.dns_names = NULL;
	req.dns_name_count = 0;
	req.now = NOW + 2 * CA_TTL;
	assert_int_equal(x509svid_issuer_issue_der(issuer, &req, &issued, &err), WD_EEXPIRED);
	assert_null(issued.der);

	assert_int_equal(x509svid_issuer_issue_der(issuer, NULL, &issued, &err), WD_EINVAL);
	x509svid_issuer_free(issuer);
}

/* Returns the DER SubjectPublicKeyInfo of key (OPENSSL_malloc'd). */
static uint8_t *encode_spki(EVP_PKEY *key, size_t *ret_len)
{
	unsigned char *der = NULL;
	int len = i2d_PUBKEY(key, &der);

	assert_true(len > 0);
	*ret_len = (size_t)len;
	return der;
}

/* Issues req through the DER path with serial_plain and checks it succeeds. */
static void issue_der_fixed(struct x509svid_issuer *issuer, const struct x509svid_request *req,
	struct x509svid_issued *ret_issued)
{
	struct wd_error err = { 0 };

	x509svid_issuer_set_serial_source(issuer, fixed_serial, (void *)serial_plain);
	if (x509svid_issuer_issue_der(issuer, req, ret_issued, &err) != 0)
		fail_msg("x509svid_issuer_issue_der: %s", err.detail);
}

/* Passing the subject's SubjectPublicKeyInfo DER gives the same certificate
 * as passing only its EVP_PKEY: the same TBSCertificate under every CA, the
 * same bytes under the RSA CA. An RSA subject's SPKI falls back to the
 * OpenSSL-API path. */
static void der_spki_matches_pkey_path(void **state)
{
	struct fixture *f = *state;
	static const enum ca_kind cas[] = { CA_P256, CA_P384, CA_RSA };
	EVP_PKEY *rsa = NULL;
	struct spiffe_id id;

	assert_int_equal(crypto_key_generate(CRYPTO_KEY_RSA_2048, &rsa, NULL), 0);
	assert_int_equal(spiffe_id_parse("spiffe://example.org/web", 24, &id, NULL), 0);
	for (size_t ca = 0; ca < WD_ARRAY_LEN(cas); ca++) {
		EVP_PKEY *subjects[] = { f->p256, f->p384, rsa };

		for (size_t s = 0; s < WD_ARRAY_LEN(subjects); s++) {
			struct x509svid_issuer *issuer = NULL;
			struct x509svid_issued from_pkey = { 0 };
			struct x509svid_issued from_spki = { 0 };
			struct der_span expected[3];
			struct der_span actual[3];
			struct wd_error err = { 0 };
			size_t spki_len = 0;
			uint8_t *spki = encode_spki(subjects[s], &spki_len);
			struct x509svid_request req = {
				.id = &id,
				.public_key = subjects[s],
				.dns_names = one_dns,
				.dns_name_count = 1,
				.now = f->ca_now[cas[ca]],
				.ttl_seconds = SVID_TTL,
				.backdate_seconds = X509SVID_DEFAULT_BACKDATE_SECONDS,
			};
			const unsigned char *p;
			X509 *decoded;

			assert_int_equal(x509svid_issuer_new(f->cas[cas[ca]], f->ca_keys[cas[ca]],
				&issuer, &err), 0);
			issue_der_fixed(issuer, &req, &from_pkey);
			req.public_key_spki = spki;
			req.public_key_spki_len = spki_len;
			issue_der_fixed(issuer, &req, &from_spki);

			assert_int_equal(from_spki.from_template, subjects[s] != rsa);
			assert_int_equal(from_pkey.from_template, from_spki.from_template);
			split_certificate(from_pkey.der, from_pkey.der_len, expected);
			split_certificate(from_spki.der, from_spki.der_len, actual);
			assert_int_equal(actual[0].len, expected[0].len);
			assert_memory_equal(actual[0].data, expected[0].data, expected[0].len);
			assert_int_equal(actual[1].len, expected[1].len);
			assert_memory_equal(actual[1].data, expected[1].data, expected[1].len);
			if (cas[ca] == CA_RSA) {
				assert_int_equal(from_spki.der_len, from_pkey.der_len);
				assert_memory_equal(from_spki.der, from_pkey.der, from_pkey.der_len);
			}
			assert_non_null(memmem(from_spki.der, from_spki.der_len, spki, spki_len));

			p = from_spki.der;
			decoded = d2i_X509(NULL, &p, (long)from_spki.der_len);
			assert_non_null(decoded);
			assert_int_equal(X509_verify(decoded, f->ca_keys[cas[ca]]), 1);
			assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(decoded), subjects[s]), 1);

			X509_free(decoded);
			OPENSSL_free(spki);
			x509svid_issued_clear(&from_pkey);
			x509svid_issued_clear(&from_spki);
			x509svid_issuer_free(issuer);
		}
	}
	EVP_PKEY_free(rsa);
}

/* Expects the DER path to reject spki as the subject key with WD_EINVAL. */
static void check_spki_rejected(struct x509svid_issuer *issuer, EVP_PKEY *key,
	const uint8_t *spki, size_t spki_len, const char *what)
{
	struct x509svid_issued issued = { 0 };
	struct wd_error err = { 0 };
	struct spiffe_id id;
	struct x509svid_request req = {
		.id = &id,
		.public_key = key,
		.public_key_spki = spki,
		.public_key_spki_len = spki_len,
		.now = NOW,
		.ttl_seconds = SVID_TTL,
	};
	int rc;

	assert_int_equal(spiffe_id_parse("spiffe://example.org/web", 24, &id, NULL), 0);
	rc = x509svid_issuer_issue_der(issuer, &req, &issued, &err);
	if (rc != WD_EINVAL)
		fail_msg("%s: expected WD_EINVAL, got %d", what, rc);
	assert_null(issued.der);
	assert_null(issued.pem);
	assert_non_null(strstr(err.detail, "SubjectPublicKeyInfo"));
}

/* SubjectPublicKeyInfo DER that is truncated, has trailing bytes, an
 * indefinite length, unused bits, a compressed or wrongly prefixed point,
 * a point off the curve, or is no DER at all. */
static void der_rejects_malformed_spki(void **state)
{
	struct fixture *f = *state;
	struct x509svid_issuer *issuer = NULL;
	struct wd_error err = { 0 };
	size_t p256_len = 0;
	size_t p384_len = 0;
	uint8_t *p256 = encode_spki(f->p256, &p256_len);
	uint8_t *p384 = encode_spki(f->p384, &p384_len);
	uint8_t bad[200];
	uint8_t compressed[59];

	/* P-256: SEQUENCE head (2), AlgorithmIdentifier (21), BIT STRING head
	 * (2), unused-bits octet, then the 65-octet point. */
	assert_int_equal(p256_len, 91);
	assert_int_equal(p384_len, 120);
	assert_int_equal(x509svid_issuer_new(f->cas[CA_P256], f->ca_keys[CA_P256], &issuer, &err),
		0);

	check_spki_rejected(issuer, f->p256, p256, p256_len - 1, "truncated");
	memcpy(bad, p256, p256_len);
	bad[p256_len] = 0;
	check_spki_rejected(issuer, f->p256, bad, p256_len + 1, "trailing byte");

	memcpy(bad, p256, p256_len);
	bad[1] = 0x80;
	check_spki_rejected(issuer, f->p256, bad, p256_len, "indefinite length");

	memcpy(bad, p256, p256_len);
	bad[25] = 0x01;
	check_spki_rejected(issuer, f->p256, bad, p256_len, "unused bits");

	memcpy(bad, p256, p256_len);
	bad[26] = 0x05;
	check_spki_rejected(issuer, f->p256, bad, p256_len, "point prefix");

	memcpy(bad, p256, p256_len);
	bad[p256_len - 1] ^= 0x01;
	check_spki_rejected(issuer, f->p256, bad, p256_len, "P-256 point off the curve");

	memcpy(bad, p384, p384_len);
	bad[p384_len - 1] ^= 0x01;
	check_spki_rejected(issuer, f->p384, bad, p384_len, "P-384 point off the curve");

	/* The P-256 point in compressed form: 0x02 or 0x03 by the parity of y,
	 * then x. */
	compressed[0] = 0x30;
	compressed[1] = 0x39;
	memcpy(compressed + 2, p256 + 2, 21);
	compressed[23] = 0x03;
	compressed[24] = 0x22;
	compressed[25] = 0x00;
	compressed[26] = (uint8_t)(0x02 | (p256[p256_len - 1] & 1));
	memcpy(compressed + 27, p256 + 27, 32);
	check_spki_rejected(issuer, f->p256, compressed, sizeof(compressed), "compressed point");

	check_spki_rejected(issuer, f->p256, (const uint8_t *)"garbage", 7, "not DER");
	check_spki_rejected(issuer, f->p256, p256, 0, "empty");

	OPENSSL_free(p256);
	OPENSSL_free(p384);
	x509svid_issuer_free(issuer);
}

/* Issues one SVID and writes its serial to serial_hex. */
static int issue_serial(struct x509svid_issuer *issuer, EVP_PKEY *key,
	char serial_hex[X509SVID_SERIAL_HEX_SIZE])
{
	struct x509svid_issued issued = { 0 };
	struct spiffe_id id;
	struct x509svid_request req = {
		.id = &id,
		.public_key = key,
		.now = NOW,
		.ttl_seconds = SVID_TTL,
	};
	int rc;

	rc = spiffe_id_parse("spiffe://example.org/web", 24, &id, NULL);
	if (rc == 0)
		rc = x509svid_issuer_issue_der(issuer, &req, &issued, NULL);
	if (rc == 0)
		memcpy(serial_hex, issued.serial_hex, X509SVID_SERIAL_HEX_SIZE);
	x509svid_issued_clear(&issued);
	return rc;
}

/* Serials from the random pool are distinct across a refill, and a forked
 * child does not reuse the pool its parent filled before the fork. */
static void der_serial_pool_fork(void **state)
{
	struct fixture *f = *state;
	enum { SERIAL_COUNT = 300 };
	static char serials[SERIAL_COUNT][X509SVID_SERIAL_HEX_SIZE];
	char child_serial[X509SVID_SERIAL_HEX_SIZE] = "";
	struct x509svid_issuer *issuer = NULL;
	struct wd_error err = { 0 };
	int status = 0;
	int fds[2];
	pid_t pid;

	assert_int_equal(x509svid_issuer_new(f->cas[CA_P256], f->ca_keys[CA_P256], &issuer, &err),
		0);
	for (size_t i = 0; i < SERIAL_COUNT; i++) {
		assert_int_equal(issue_serial(issuer, f->p256, serials[i]), 0);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(serials[i], serials[j]);
	}

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char serial[X509SVID_SERIAL_HEX_SIZE];
		int ok = issue_serial(issuer, f->p256, serial) == 0 &&
			write(fds[1], serial, sizeof(serial)) == (ssize_t)sizeof(serial);

		_exit(ok ? 0 : 1);
	}
	close(fds[1]);
	assert_int_equal(issue_serial(issuer, f->p256, serials[0]), 0);
	assert_int_equal(read(fds[0], child_serial, sizeof(child_serial)),
		(ssize_t)sizeof(child_serial));
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_string_not_equal(child_serial, serials[0]);
	x509svid_issuer_free(issuer);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(der_matches_openssl_path),
		cmocka_unit_test(der_serial_encodings),
		cmocka_unit_test(der_long_names),
		cmocka_unit_test(der_max_dns_names),
		cmocka_unit_test(der_time_encodings),
		cmocka_unit_test(der_fallback_keys),
		cmocka_unit_test(der_rejects_zero_serial),
		cmocka_unit_test(der_rejects_bad_requests),
		cmocka_unit_test(der_spki_matches_pkey_path),
		cmocka_unit_test(der_rejects_malformed_spki),
		cmocka_unit_test(der_serial_pool_fork),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
