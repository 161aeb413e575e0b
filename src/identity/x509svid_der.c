/* The DER-template path of X.509-SVID issuance: the TBSCertificate (RFC 5280
 * section 4.1) written byte by byte from the issuer's pre-encoded constant
 * parts and the per-SVID values, hashed and signed with the issuer's
 * EVP_PKEY_sign context. It builds no OpenSSL X509 object. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "crypto/key.h"
#include "identity/x509svid_internal.h"

/* DER identifier octets (X.690 section 8.1.2). */
#define TAG_INTEGER 0x02
#define TAG_BIT_STRING 0x03
#define TAG_OCTET_STRING 0x04
#define TAG_UTF8_STRING 0x0c
#define TAG_UTC_TIME 0x17
#define TAG_GENERALIZED_TIME 0x18
#define TAG_SEQUENCE 0x30
#define TAG_SET 0x31
#define TAG_VERSION 0xa0      /* [0] EXPLICIT in TBSCertificate */
#define TAG_EXTENSIONS 0xa3   /* [3] EXPLICIT in TBSCertificate */
#define TAG_GN_DNS 0x82       /* GeneralName dNSName [2] IMPLICIT IA5String */
#define TAG_GN_URI 0x86       /* GeneralName uniformResourceIdentifier [6] */

/* Upper bound of one tag plus a length below 2^32, in bytes. */
#define TLV_HEAD_MAX 6

#define SHA1_LEN 20

/* An append-only DER writer over a fixed buffer. Lengths are inserted when
 * a TLV ends, moving its content up by the size of the length octets.
 * Once a write would pass cap, the writer only records the overflow. */
struct der_writer {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool overflow;
};

static void put(struct der_writer *w, const void *data, size_t len)
{
	if (w->overflow || len > w->cap - w->len) {
		w->overflow = true;
		return;
	}
	memcpy(w->buf + w->len, data, len);
	w->len += len;
}

static void put_byte(struct der_writer *w, uint8_t byte)
{
	put(w, &byte, 1);
}

/* Writes tag and returns the offset where its content starts. */
static size_t tlv_begin(struct der_writer *w, uint8_t tag)
{
	put_byte(w, tag);
	return w->len;
}

/* Inserts the definite length (X.690 section 8.1.3) of the content written
 * since mark in front of it. */
static void tlv_end(struct der_writer *w, size_t mark)
{
	uint8_t head[1 + sizeof(size_t)];
	size_t head_len = 1;
	size_t content;

	if (w->overflow)
		return;
	content = w->len - mark;
	if (content < 0x80) {
		head[0] = (uint8_t)content;
	} else {
		size_t octets = 0;

		for (size_t v = content; v; v >>= 8)
			octets++;
		head[0] = (uint8_t)(0x80 | octets);
		for (size_t i = 0; i < octets; i++)
			head[1 + i] = (uint8_t)(content >> (8 * (octets - 1 - i)));
		head_len = 1 + octets;
	}
	if (head_len > w->cap - w->len) {
		w->overflow = true;
		return;
	}
	memmove(w->buf + mark + head_len, w->buf + mark, content);
	memcpy(w->buf + mark, head, head_len);
	w->len += head_len;
}

static void put_tlv(struct der_writer *w, uint8_t tag, const void *data, size_t len)
{
	size_t mark = tlv_begin(w, tag);

	put(w, data, len);
	tlv_end(w, mark);
}

/* Writes a positive INTEGER from big-endian magnitude bytes in minimal
 * form: leading zero octets dropped, one added back when the top bit is
 * set (X.690 section 8.3.2). */
static void put_unsigned_integer(struct der_writer *w, const uint8_t *bytes, size_t len)
{
	size_t mark = tlv_begin(w, TAG_INTEGER);

	while (len > 1 && bytes[0] == 0) {
		bytes++;
		len--;
	}
	if (bytes[0] & 0x80)
		put_byte(w, 0);
	put(w, bytes, len);
	tlv_end(w, mark);
}

/* Writes value as count decimal digits, zero-padded. */
static void put_digits(char *out, int value, size_t count)
{
	for (size_t i = count; i > 0; i--) {
		out[i - 1] = (char)('0' + value % 10);
		value /= 10;
	}
}

/* Writes t as UTCTime for the years 1950 to 2049 and as GeneralizedTime
 * otherwise, both in UTC with seconds (RFC 5280 section 4.1.2.5), as
 * ASN1_TIME_set chooses. */
static int put_time(struct der_writer *w, int64_t t)
{
	char text[sizeof("YYYYMMDDHHMMSSZ")];
	time_t seconds = (time_t)t;
	struct tm tm;
	bool utc_time;
	size_t year_digits;
	size_t pos;
	int year;

	if ((int64_t)seconds != t || !gmtime_r(&seconds, &tm))
		return WD_EINVAL;
	year = tm.tm_year + 1900;
	if (year < 0 || year > 9999)
		return WD_EINVAL;
	utc_time = year >= 1950 && year <= 2049;
	year_digits = utc_time ? 2 : 4;

	put_digits(text, utc_time ? year % 100 : year, year_digits);
	pos = year_digits;
	put_digits(text + pos, tm.tm_mon + 1, 2);
	put_digits(text + pos + 2, tm.tm_mday, 2);
	put_digits(text + pos + 4, tm.tm_hour, 2);
	put_digits(text + pos + 6, tm.tm_min, 2);
	put_digits(text + pos + 8, tm.tm_sec, 2);
	text[pos + 10] = 'Z';
	put_tlv(w, utc_time ? TAG_UTC_TIME : TAG_GENERALIZED_TIME, text, pos + 11);
	return 0;
}

/* One RelativeDistinguishedName with a single UTF8String attribute, the
 * string type OpenSSL's default mask (utf8only) gives O and CN. */
static void put_name_attribute(struct der_writer *w, const uint8_t *oid, size_t oid_len,
	const char *value)
{
	size_t set = tlv_begin(w, TAG_SET);
	size_t attribute = tlv_begin(w, TAG_SEQUENCE);

	put(w, oid, oid_len);
	put_tlv(w, TAG_UTF8_STRING, value, strlen(value));
	tlv_end(w, attribute);
	tlv_end(w, set);
}

/* The SVID subject: O=warden and, when given, CN. */
static void put_subject(struct der_writer *w, const char *common_name)
{
	static const uint8_t oid_organization[] = { 0x06, 0x03, 0x55, 0x04, 0x0a };
	static const uint8_t oid_common_name[] = { 0x06, 0x03, 0x55, 0x04, 0x03 };
	size_t name = tlv_begin(w, TAG_SEQUENCE);

	put_name_attribute(w, oid_organization, sizeof(oid_organization), "warden");
	if (common_name)
		put_name_attribute(w, oid_common_name, sizeof(oid_common_name), common_name);
	tlv_end(w, name);
}

/* The AlgorithmIdentifiers of id-ecPublicKey with the named curves P-256
 * and P-384 (RFC 5480 section 2.1.1), as OpenSSL encodes them. */
static const uint8_t p256_algorithm[] = {
	0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
	0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
};
static const uint8_t p384_algorithm[] = {
	0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
	0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22,
};

#define P256_POINT_LEN 65
#define P384_POINT_LEN 97

/* An EC subject key the template encodes: the AlgorithmIdentifier and the
 * uncompressed point, which points into point_storage or into the
 * caller's SubjectPublicKeyInfo. */
struct ec_subject_key {
	const uint8_t *algorithm;
	size_t algorithm_len;
	const uint8_t *point;
	size_t point_len;
	uint8_t point_storage[P384_POINT_LEN];
};

/* Reads key's curve and point. WD_EUNSUPPORTED for other key types and
 * curves, and for points the key stores compressed. The point needs no
 * check here: OpenSSL 3.0 checks that it is on the curve when the key is
 * decoded or imported. */
static int read_ec_subject_key(EVP_PKEY *key, struct ec_subject_key *ret_key)
{
	char group[32];
	size_t expected_len;

	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
	    !EVP_PKEY_get_group_name(key, group, sizeof(group), NULL))
		return WD_EUNSUPPORTED;
	if (strcmp(group, "prime256v1") == 0) {
		ret_key->algorithm = p256_algorithm;
		ret_key->algorithm_len = sizeof(p256_algorithm);
		expected_len = P256_POINT_LEN;
	} else if (strcmp(group, "secp384r1") == 0) {
		ret_key->algorithm = p384_algorithm;
		ret_key->algorithm_len = sizeof(p384_algorithm);
		expected_len = P384_POINT_LEN;
	} else {
		return WD_EUNSUPPORTED;
	}
	if (!EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
		    ret_key->point_storage, sizeof(ret_key->point_storage), &ret_key->point_len) ||
	    ret_key->point_len != expected_len || ret_key->point_storage[0] != 0x04)
		return WD_EUNSUPPORTED;
	ret_key->point = ret_key->point_storage;
	return 0;
}

/* Reads the identifier octet tag and a definite length at *pos, and moves
 * *pos to the content, which must fit in len. Accepts lengths of up to two
 * octets in minimal form, enough for any SubjectPublicKeyInfo the server
 * accepts (RSA-8192 is about 1 KiB). */
static bool read_tlv_head(const uint8_t *buf, size_t len, size_t *pos, uint8_t tag,
	size_t *ret_content_len)
{
	size_t p = *pos;
	size_t content;

	if (len - p < 2 || buf[p] != tag)
		return false;
	content = buf[p + 1];
	p += 2;
	if (content == 0x81) {
		if (len - p < 1 || buf[p] < 0x80)
			return false;
		content = buf[p];
		p += 1;
	} else if (content == 0x82) {
		if (len - p < 2 || buf[p] == 0)
			return false;
		content = (size_t)buf[p] << 8 | buf[p + 1];
		p += 2;
		if (content < 0x100)
			return false;
	} else if (content >= 0x80) {
		return false;
	}
	if (content > len - p)
		return false;
	*pos = p;
	*ret_content_len = content;
	return true;
}

/* Checks that point is on group's curve. The point is affine, so unlike
 * reading it from an EVP_PKEY no modular inversion is needed. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static int check_ec_point(const EC_GROUP *group, const uint8_t *point, size_t point_len)
{
	EC_POINT *decoded = EC_POINT_new(group);
	int ok;

	if (!decoded)
		return WD_ENOMEM;
	/* EC_POINT_oct2point rejects points that are not on the curve. */
	ok = EC_POINT_oct2point(group, decoded, point, point_len, NULL);
	EC_POINT_free(decoded);
	ERR_clear_error();
	return ok ? 0 : WD_EINVAL;
}
#pragma GCC diagnostic pop

/* Splits a DER SubjectPublicKeyInfo (RFC 5280 section 4.1) into the
 * AlgorithmIdentifier and point that put_subject_public_key_info writes
 * back, so the certificate carries the caller's bytes. WD_EINVAL when spki
 * is not one DER SEQUENCE of an AlgorithmIdentifier and a BIT STRING, or
 * names P-256 or P-384 without an uncompressed point on that curve;
 * WD_EUNSUPPORTED for other algorithms and curves. */
static int parse_ec_subject_spki(const struct x509svid_template *der, const uint8_t *spki,
	size_t spki_len, struct ec_subject_key *ret_key)
{
	const EC_GROUP *group;
	const uint8_t *bits;
	size_t algorithm_start;
	size_t expected_len;
	size_t content_len;
	size_t pos = 0;

	if (!read_tlv_head(spki, spki_len, &pos, TAG_SEQUENCE, &content_len) ||
	    content_len != spki_len - pos)
		return WD_EINVAL;
	algorithm_start = pos;
	if (!read_tlv_head(spki, spki_len, &pos, TAG_SEQUENCE, &content_len))
		return WD_EINVAL;
	pos += content_len;
	ret_key->algorithm = spki + algorithm_start;
	ret_key->algorithm_len = pos - algorithm_start;
	if (!read_tlv_head(spki, spki_len, &pos, TAG_BIT_STRING, &content_len) ||
	    content_len != spki_len - pos)
		return WD_EINVAL;

	if (ret_key->algorithm_len == sizeof(p256_algorithm) &&
	    memcmp(ret_key->algorithm, p256_algorithm, sizeof(p256_algorithm)) == 0) {
		group = der->p256;
		expected_len = P256_POINT_LEN;
	} else if (ret_key->algorithm_len == sizeof(p384_algorithm) &&
		   memcmp(ret_key->algorithm, p384_algorithm, sizeof(p384_algorithm)) == 0) {
		group = der->p384;
		expected_len = P384_POINT_LEN;
	} else {
		return WD_EUNSUPPORTED;
	}
	/* No unused bits, then the uncompressed point (SEC 1 section 2.3.3). */
	bits = spki + pos;
	if (content_len != 1 + expected_len || bits[0] != 0 || bits[1] != 0x04)
		return WD_EINVAL;
	ret_key->point = bits + 1;
	ret_key->point_len = expected_len;
	return check_ec_point(group, ret_key->point, ret_key->point_len);
}

static void put_subject_public_key_info(struct der_writer *w, const struct ec_subject_key *key)
{
	size_t spki = tlv_begin(w, TAG_SEQUENCE);
	size_t bits;

	put(w, key->algorithm, key->algorithm_len);
	bits = tlv_begin(w, TAG_BIT_STRING);
	put_byte(w, 0); /* no unused bits */
	put(w, key->point, key->point_len);
	tlv_end(w, bits);
	tlv_end(w, spki);
}

/* The subjectKeyIdentifier: SHA-1 of the subjectPublicKey bits, method 1
 * of RFC 5280 section 4.2.1.2, as OpenSSL's "hash" value computes it. */
static int put_subject_key_id(struct der_writer *w, const struct x509svid_issuer *issuer,
	const struct ec_subject_key *key)
{
	static const uint8_t oid[] = { 0x06, 0x03, 0x55, 0x1d, 0x0e };
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;
	size_t extension;
	size_t value;

	if (!EVP_Digest(key->point, key->point_len, digest, &digest_len, issuer->sha1, NULL) ||
	    digest_len != SHA1_LEN)
		return WD_EINTERNAL;
	extension = tlv_begin(w, TAG_SEQUENCE);
	put(w, oid, sizeof(oid));
	value = tlv_begin(w, TAG_OCTET_STRING);
	put_tlv(w, TAG_OCTET_STRING, digest, digest_len);
	tlv_end(w, value);
	tlv_end(w, extension);
	return 0;
}

/* The subjectAltName, not critical because the subject is never empty:
 * the SPIFFE ID as the only URI, then the DNS names, all IA5String. */
static void put_subject_alt_name(struct der_writer *w, const struct x509svid_fields *fields)
{
	static const uint8_t oid[] = { 0x06, 0x03, 0x55, 0x1d, 0x11 };
	size_t extension = tlv_begin(w, TAG_SEQUENCE);
	size_t value;
	size_t names;

	put(w, oid, sizeof(oid));
	value = tlv_begin(w, TAG_OCTET_STRING);
	names = tlv_begin(w, TAG_SEQUENCE);
	put_tlv(w, TAG_GN_URI, fields->uri, strlen(fields->uri));
	for (size_t i = 0; i < fields->dns_name_count; i++)
		put_tlv(w, TAG_GN_DNS, fields->dns_names[i], strlen(fields->dns_names[i]));
	tlv_end(w, names);
	tlv_end(w, value);
	tlv_end(w, extension);
}

/* Writes the TBSCertificate. The extension order is that of the
 * OpenSSL-API path: basicConstraints, keyUsage, extKeyUsage,
 * subjectKeyIdentifier, authorityKeyIdentifier, subjectAltName. */
static int put_tbs_certificate(struct der_writer *w, const struct x509svid_issuer *issuer,
	const struct x509svid_fields *fields, const struct ec_subject_key *key)
{
	static const uint8_t version_v3[] = { TAG_INTEGER, 0x01, 0x02 };
	const struct x509svid_template *der = &issuer->der;
	size_t tbs = tlv_begin(w, TAG_SEQUENCE);
	size_t mark;
	size_t extensions;

	put_tlv(w, TAG_VERSION, version_v3, sizeof(version_v3));
	put_unsigned_integer(w, fields->serial, X509SVID_SERIAL_BYTES);
	put(w, der->signature_algorithm, der->signature_algorithm_len);
	put(w, der->issuer_name, der->issuer_name_len);

	mark = tlv_begin(w, TAG_SEQUENCE);
	WD_TRY(put_time(w, fields->not_before));
	WD_TRY(put_time(w, fields->not_after));
	tlv_end(w, mark);

	put_subject(w, fields->common_name);
	put_subject_public_key_info(w, key);

	mark = tlv_begin(w, TAG_EXTENSIONS);
	extensions = tlv_begin(w, TAG_SEQUENCE);
	put(w, der->fixed_extensions, der->fixed_extensions_len);
	WD_TRY(put_subject_key_id(w, issuer, key));
	put(w, der->authority_key_id, der->authority_key_id_len);
	put_subject_alt_name(w, fields);
	tlv_end(w, extensions);
	tlv_end(w, mark);

	tlv_end(w, tbs);
	return 0;
}

/* Adds n to *total; false on overflow. */
static bool size_add(size_t *total, size_t n)
{
	return !__builtin_add_overflow(*total, n, total);
}

/* Computes an upper bound of the Certificate's DER: the constant parts,
 * the variable strings, and TLV_HEAD_MAX for every tag and length. The
 * fixed structure has about 30 TLVs plus 23 bytes of OIDs and version, so
 * 64 heads cover it, and each DNS name adds one. */
static bool certificate_bound(const struct x509svid_issuer *issuer,
	const struct x509svid_fields *fields, const struct ec_subject_key *key, size_t *ret_bound)
{
	const struct x509svid_template *der = &issuer->der;
	size_t bound = 64 * TLV_HEAD_MAX;
	bool ok = true;

	ok = ok && size_add(&bound, 2 * der->signature_algorithm_len);
	ok = ok && size_add(&bound, der->issuer_name_len);
	ok = ok && size_add(&bound, der->fixed_extensions_len);
	ok = ok && size_add(&bound, der->authority_key_id_len);
	ok = ok && size_add(&bound, der->signature_max_len);
	ok = ok && size_add(&bound, X509SVID_SERIAL_BYTES + 1);
	ok = ok && size_add(&bound, 2 * sizeof("YYYYMMDDHHMMSSZ"));
	ok = ok && size_add(&bound, sizeof("warden"));
	ok = ok && size_add(&bound, fields->common_name ? strlen(fields->common_name) : 0);
	ok = ok && size_add(&bound, key->algorithm_len + key->point_len + 1);
	ok = ok && size_add(&bound, SHA1_LEN);
	ok = ok && size_add(&bound, strlen(fields->uri));
	for (size_t i = 0; ok && i < fields->dns_name_count; i++) {
		ok = size_add(&bound, strlen(fields->dns_names[i])) &&
			size_add(&bound, TLV_HEAD_MAX);
	}
	*ret_bound = bound;
	return ok;
}

/* Hashes buf[tbs_start, tbs_end) and signs the digest with the template's
 * EVP_PKEY_sign context, then appends the signature as a BIT STRING. The
 * result equals EVP_DigestSign's for ECDSA and for RSA with PKCS #1 v1.5
 * padding, and skips the context copies EVP_DigestSignFinal makes. */
static int put_signature(struct der_writer *w, const struct x509svid_template *der,
	size_t tbs_start, size_t tbs_end)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;
	size_t bits;
	size_t sig_len;

	bits = tlv_begin(w, TAG_BIT_STRING);
	put_byte(w, 0); /* no unused bits */
	if (w->overflow || w->cap - w->len < der->signature_max_len)
		return WD_ETOOBIG;
	if (!EVP_Digest(w->buf + tbs_start, tbs_end - tbs_start, digest, &digest_len,
		    der->digest, NULL))
		return WD_ECRYPTO;
	sig_len = w->cap - w->len;
	if (EVP_PKEY_sign(der->sign_ctx, w->buf + w->len, &sig_len, digest, digest_len) != 1)
		return WD_ECRYPTO;
	w->len += sig_len;
	tlv_end(w, bits);
	return 0;
}

int x509svid_der_issue(const struct x509svid_issuer *issuer,
	const struct x509svid_fields *fields, uint8_t **ret_der, size_t *ret_der_len,
	struct wd_error *err)
{
	struct ec_subject_key key;
	struct der_writer w = { 0 };
	size_t certificate;
	size_t tbs_start;
	size_t tbs_end;
	int rc;

	*ret_der = NULL;
	*ret_der_len = 0;
	if (!issuer->der.ready)
		return WD_EUNSUPPORTED;
	if (fields->public_key_spki) {
		rc = parse_ec_subject_spki(&issuer->der, fields->public_key_spki,
			fields->public_key_spki_len, &key);
		if (rc == WD_EINVAL)
			return wd_error_set(err, rc, "X.509-SVID request for \"%.300s\": the "
				"SubjectPublicKeyInfo of %zu bytes is not DER, or its P-256 or "
				"P-384 key is not an uncompressed point on the curve", fields->uri,
				fields->public_key_spki_len);
		WD_TRY(rc);
	} else {
		WD_TRY(read_ec_subject_key(fields->public_key, &key));
	}
	if (!certificate_bound(issuer, fields, &key, &w.cap))
		return WD_ETOOBIG;
	w.buf = malloc(w.cap);
	if (!w.buf)
		return WD_ENOMEM;

	certificate = tlv_begin(&w, TAG_SEQUENCE);
	tbs_start = w.len;
	WD_GUARD(put_tbs_certificate(&w, issuer, fields, &key));
	tbs_end = w.len;
	put(&w, issuer->der.signature_algorithm, issuer->der.signature_algorithm_len);
	WD_GUARD(put_signature(&w, &issuer->der, tbs_start, tbs_end));
	tlv_end(&w, certificate);
	WD_ENSURE(!w.overflow, WD_ETOOBIG);

	*ret_der = WD_TAKE_PTR(w.buf);
	*ret_der_len = w.len;
	rc = 0;
out:
	free(w.buf);
	return rc;
}

/* Reads the AlgorithmIdentifier that the CA key's signature provider
 * writes for the digest set up in ctx, as ASN1_item_sign_ctx does in
 * OpenSSL 3.0. */
static int read_signature_algorithm(EVP_MD_CTX *ctx, uint8_t **ret_der, size_t *ret_len)
{
	EVP_PKEY_CTX *pctx = EVP_MD_CTX_get_pkey_ctx(ctx);
	unsigned char algorithm[128];
	OSSL_PARAM params[2];

	params[0] = OSSL_PARAM_construct_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID,
		algorithm, sizeof(algorithm));
	params[1] = OSSL_PARAM_construct_end();
	if (!pctx || EVP_PKEY_CTX_get_params(pctx, params) <= 0 || params[0].return_size == 0 ||
	    params[0].return_size > sizeof(algorithm))
		return WD_EUNSUPPORTED;
	*ret_der = OPENSSL_memdup(algorithm, params[0].return_size);
	if (!*ret_der)
		return WD_ENOMEM;
	*ret_len = params[0].return_size;
	return 0;
}

/* Encodes count extensions one after another into one malloc'd buffer. */
static int encode_extensions(X509_EXTENSION *const *extensions, size_t count,
	uint8_t **ret_der, size_t *ret_len)
{
	size_t total = 0;
	uint8_t *der;
	uint8_t *p;

	for (size_t i = 0; i < count; i++) {
		int len = i2d_X509_EXTENSION(extensions[i], NULL);

		if (len <= 0 || !size_add(&total, (size_t)len))
			return WD_EINTERNAL;
	}
	der = OPENSSL_malloc(total);
	if (!der)
		return WD_ENOMEM;
	p = der;
	for (size_t i = 0; i < count; i++) {
		if (i2d_X509_EXTENSION(extensions[i], &p) <= 0) {
			OPENSSL_free(der);
			return WD_EINTERNAL;
		}
	}
	*ret_der = der;
	*ret_len = total;
	return 0;
}

void x509svid_template_clear(struct x509svid_template *der)
{
	OPENSSL_free(der->signature_algorithm);
	OPENSSL_free(der->issuer_name);
	OPENSSL_free(der->fixed_extensions);
	OPENSSL_free(der->authority_key_id);
	EVP_MD_free(der->digest);
	EVP_PKEY_CTX_free(der->sign_ctx);
	EC_GROUP_free(der->p256);
	EC_GROUP_free(der->p384);
	*der = (struct x509svid_template){ 0 };
}

/* Sets up EVP_PKEY_sign with the CA key and its signing digest.
 * WD_EUNSUPPORTED for keys that only sign through EVP_DigestSign. */
static int prepare_digest_signing(struct x509svid_template *der, EVP_PKEY *ca_key)
{
	const EVP_MD *digest = crypto_key_signing_digest(ca_key);

	der->digest = EVP_MD_fetch(NULL, EVP_MD_get0_name(digest), NULL);
	der->sign_ctx = EVP_PKEY_CTX_new_from_pkey(NULL, ca_key, NULL);
	if (!der->digest || !der->sign_ctx)
		return WD_ENOMEM;
	if (EVP_PKEY_sign_init(der->sign_ctx) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(der->sign_ctx, der->digest) != 1)
		return WD_EUNSUPPORTED;
	return 0;
}

int x509svid_template_init(struct x509svid_issuer *issuer)
{
	struct x509svid_template *der = &issuer->der;
	X509_EXTENSION *fixed[] = {
		issuer->basic_constraints, issuer->key_usage, issuer->ext_key_usage,
	};
	unsigned char *encoded = NULL;
	int len;
	int rc;

	x509svid_template_clear(der);
	rc = read_signature_algorithm(issuer->sign_template, &der->signature_algorithm,
		&der->signature_algorithm_len);
	if (rc == WD_EUNSUPPORTED)
		return 0;
	WD_GUARD(rc);

	len = i2d_X509_NAME(X509_get_subject_name(issuer->ca_cert), &encoded);
	WD_ENSURE(len > 0, WD_EINTERNAL);
	der->issuer_name = WD_TAKE_PTR(encoded);
	der->issuer_name_len = (size_t)len;

	WD_GUARD(encode_extensions(fixed, WD_ARRAY_LEN(fixed), &der->fixed_extensions,
		&der->fixed_extensions_len));
	WD_GUARD(encode_extensions(&issuer->authority_key_id, 1, &der->authority_key_id,
		&der->authority_key_id_len));

	rc = prepare_digest_signing(der, issuer->ca_key);
	if (rc == WD_EUNSUPPORTED) {
		x509svid_template_clear(der);
		ERR_clear_error();
		return 0;
	}
	WD_GUARD(rc);

	der->p256 = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	der->p384 = EC_GROUP_new_by_curve_name(NID_secp384r1);
	WD_ENSURE(der->p256 && der->p384, WD_ENOMEM);

	len = EVP_PKEY_get_size(issuer->ca_key);
	WD_ENSURE(len > 0, WD_EINTERNAL);
	der->signature_max_len = (size_t)len;
	der->ready = true;
	rc = 0;
out:
	if (rc < 0)
		x509svid_template_clear(der);
	return rc;
}

int x509svid_der_to_pem(const uint8_t *der, size_t der_len, char **ret_pem)
{
	static const char begin_line[] = "-----BEGIN CERTIFICATE-----\n";
	static const char end_line[] = "-----END CERTIFICATE-----\n";
	/* 48 bytes of DER become one 64-column base64 line (RFC 7468). */
	size_t lines = der_len / 48 + (der_len % 48 != 0);
	size_t size = sizeof(begin_line) + sizeof(end_line) - 1;
	char *pem;
	char *p;

	*ret_pem = NULL;
	if (der_len == 0 || der_len > INT32_MAX || !size_add(&size, lines * 65))
		return WD_EINVAL;
	pem = malloc(size);
	if (!pem)
		return WD_ENOMEM;

	p = pem;
	memcpy(p, begin_line, sizeof(begin_line) - 1);
	p += sizeof(begin_line) - 1;
	for (size_t offset = 0; offset < der_len; offset += 48) {
		size_t chunk = der_len - offset < 48 ? der_len - offset : 48;
		int n = EVP_EncodeBlock((unsigned char *)p, der + offset, (int)chunk);

		p += n;
		*p++ = '\n';
	}
	memcpy(p, end_line, sizeof(end_line));
	*ret_pem = pem;
	return 0;
}
