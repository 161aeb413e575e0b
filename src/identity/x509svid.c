/* Issues X.509-SVIDs and trust-domain CA certificates with the profile of
 * the X.509-SVID standard and the key usages SPIRE sets, and reads the
 * SPIFFE ID back. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "crypto/key.h"
#include "crypto/x509.h"
#include "identity/x509svid.h"
#include "identity/x509svid_internal.h"

#define SUBJECT_ORGANIZATION "warden"

/* ub-common-name in RFC 5280 Appendix A.1. */
#define COMMON_NAME_MAX 64

/* A ceiling on DNS SANs per SVID, so a registration entry cannot make the
 * server build an unbounded certificate. */
#define DNS_NAMES_MAX 100

/* DNS name rules of RFC 1035 section 2.3.4 with a leading "*." wildcard
 * allowed: 1..253 bytes, labels of 1..63 letters, digits and '-'. */
static bool dns_name_valid(const char *name)
{
	size_t len = strlen(name);
	size_t label = 0;
	size_t i = 0;

	if (len == 0 || len > 253)
		return false;
	if (len > 2 && name[0] == '*' && name[1] == '.')
		i = 2;
	for (; i < len; i++) {
		char c = name[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0;
}

static int set_subject(X509 *cert, const char *common_name)
{
	X509_NAME *name = X509_NAME_new();
	int rc = WD_ENOMEM;

	if (!name)
		return WD_ENOMEM;
	if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
		    (const unsigned char *)SUBJECT_ORGANIZATION, -1, -1, 0))
		goto out;
	if (common_name && !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
				   (const unsigned char *)common_name, -1, -1, 0))
		goto out;
	if (!X509_set_subject_name(cert, name))
		goto out;
	rc = 0;
out:
	X509_NAME_free(name);
	return rc;
}

/* Writes the SVID subject into the certificate's own, still empty, name:
 * the same entries as set_subject without the copy X509_set_subject_name
 * makes. */
static int fill_svid_subject(X509 *cert, const char *common_name)
{
	X509_NAME *name = X509_get_subject_name(cert);

	if (!X509_NAME_add_entry_by_NID(name, NID_organizationName, MBSTRING_UTF8,
		    (const unsigned char *)SUBJECT_ORGANIZATION, -1, -1, 0))
		return WD_ENOMEM;
	if (common_name && !X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
				   (const unsigned char *)common_name, -1, -1, 0))
		return WD_ENOMEM;
	return 0;
}

static int add_general_name(GENERAL_NAMES *names, int type, const char *value)
{
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();

	if (!gn || !ia5 || !ASN1_STRING_set(ia5, value, -1)) {
		GENERAL_NAME_free(gn);
		ASN1_IA5STRING_free(ia5);
		return WD_ENOMEM;
	}
	GENERAL_NAME_set0_value(gn, type, ia5);
	if (!sk_GENERAL_NAME_push(names, gn)) {
		GENERAL_NAME_free(gn);
		return WD_ENOMEM;
	}
	return 0;
}

/* Adds the subjectAltName: the SPIFFE ID as the only URI, then DNS names.
 * The subject is never empty here, so the extension need not be critical
 * (X509-SVID.md section 2). */
static int add_san(X509 *cert, const char *uri, const char *const *dns_names,
	size_t dns_name_count)
{
	GENERAL_NAMES *names = GENERAL_NAMES_new();
	int rc;

	WD_ENSURE(names, WD_ENOMEM);
	WD_GUARD(add_general_name(names, GEN_URI, uri));
	for (size_t i = 0; i < dns_name_count; i++)
		WD_GUARD(add_general_name(names, GEN_DNS, dns_names[i]));
	WD_ENSURE(X509_add1_ext_i2d(cert, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT) == 1,
		WD_EINTERNAL);
	rc = 0;
out:
	GENERAL_NAMES_free(names);
	return rc;
}

/* Adds one extension from OpenSSL's configuration syntax, with issuer and
 * subject taken from ctx (needed for the key identifiers). */
static int add_conf_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok;

	if (!ext)
		return WD_EINTERNAL;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : WD_ENOMEM;
}

static int set_validity(X509 *cert, int64_t not_before, int64_t not_after)
{
	if (!ASN1_TIME_set(X509_getm_notBefore(cert), (time_t)not_before))
		return WD_EINTERNAL;
	if (!ASN1_TIME_set(X509_getm_notAfter(cert), (time_t)not_after))
		return WD_EINTERNAL;
	return 0;
}

static int sign_cert(X509 *cert, EVP_PKEY *key, struct wd_error *err)
{
	if (X509_sign(cert, key, crypto_key_signing_digest(key)) <= 0)
		return wd_error_set(err, WD_ECRYPTO, "signing the certificate failed");
	return 0;
}

static int check_request(const struct x509svid_request *request, struct wd_error *err)
{
	if (!request->id || !request->public_key)
		return wd_error_set(err, WD_EINVAL, "X.509-SVID request: missing ID or public key");
	if (request->public_key_spki && request->public_key_spki_len == 0)
		return wd_error_set(err, WD_EINVAL,
			"X.509-SVID request: the SubjectPublicKeyInfo is empty");
	if (!request->public_key_spki && request->public_key_spki_len > 0)
		return wd_error_set(err, WD_EINVAL,
			"X.509-SVID request: missing SubjectPublicKeyInfo of %zu bytes",
			request->public_key_spki_len);
	if (request->id->path[0] == '\0')
		return wd_error_set(err, WD_EINVAL,
			"X.509-SVID request for \"spiffe://%s\": the ID needs a path, the "
			"trust domain's own ID is for its CA", request->id->trust_domain);
	if (request->ttl_seconds <= 0)
		return wd_error_set(err, WD_EINVAL, "X.509-SVID request: TTL %lld is not positive",
			(long long)request->ttl_seconds);
	if (request->backdate_seconds < 0)
		return wd_error_set(err, WD_EINVAL,
			"X.509-SVID request: backdate %lld is negative",
			(long long)request->backdate_seconds);
	if (request->dns_name_count > DNS_NAMES_MAX)
		return wd_error_set(err, WD_ETOOBIG,
			"X.509-SVID request: %zu DNS names, at most %d are allowed",
			request->dns_name_count, DNS_NAMES_MAX);
	if (request->dns_name_count > 0 && !request->dns_names)
		return wd_error_set(err, WD_EINVAL, "X.509-SVID request: missing DNS names");
	for (size_t i = 0; i < request->dns_name_count; i++) {
		if (!request->dns_names[i] || !dns_name_valid(request->dns_names[i]))
			return wd_error_set(err, WD_EINVAL,
				"X.509-SVID request: invalid DNS name \"%.253s\"",
				request->dns_names[i] ? request->dns_names[i] : "(null)");
	}
	return 0;
}

/* Computes [now - backdate, min(now + ttl, CA notAfter)], so no SVID
 * outlives the CA that signed it. */
static int svid_validity(int64_t ca_not_after, const struct x509svid_request *request,
	int64_t *ret_not_before, int64_t *ret_not_after, struct wd_error *err)
{
	int64_t not_after = 0;
	int64_t not_before = 0;

	if (__builtin_sub_overflow(request->now, request->backdate_seconds, &not_before) ||
	    __builtin_add_overflow(request->now, request->ttl_seconds, &not_after))
		return wd_error_set(err, WD_EINVAL, "X.509-SVID request: validity out of range");
	if (ca_not_after <= request->now)
		return wd_error_set(err, WD_EEXPIRED, "CA certificate expired at %lld",
			(long long)ca_not_after);
	if (not_after > ca_not_after)
		not_after = ca_not_after;
	*ret_not_before = not_before;
	*ret_not_after = not_after;
	return 0;
}

void x509svid_issuer_free(struct x509svid_issuer *issuer)
{
	if (!issuer)
		return;
	X509_free(issuer->ca_cert);
	EVP_PKEY_free(issuer->ca_key);
	EVP_MD_CTX_free(issuer->sign_template);
	EVP_MD_free(issuer->sha1);
	X509_EXTENSION_free(issuer->basic_constraints);
	X509_EXTENSION_free(issuer->key_usage);
	X509_EXTENSION_free(issuer->ext_key_usage);
	X509_EXTENSION_free(issuer->authority_key_id);
	EC_GROUP_free(issuer->group);
	x509svid_template_clear(&issuer->der);
	OPENSSL_cleanse(&issuer->serial_pool, sizeof(issuer->serial_pool));
	free(issuer);
}

/* Builds the leaf extensions that are the same for every SVID of the CA.
 * The authority key identifier is the CA's subject key identifier
 * ("keyid:always": it fails when the CA has none). */
static int issuer_build_extensions(struct x509svid_issuer *issuer)
{
	X509V3_CTX ctx;
	X509 *subject = X509_new();

	if (!subject)
		return WD_ENOMEM;
	/* The AKI reads only the issuer; an empty certificate stands in for
	 * the subject, which OpenSSL compares with the issuer to spot
	 * self-signed certificates. */
	X509V3_set_ctx(&ctx, issuer->ca_cert, subject, NULL, NULL, 0);
	issuer->basic_constraints = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
		"critical,CA:FALSE");
	issuer->key_usage = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage,
		"critical,digitalSignature,keyEncipherment,keyAgreement");
	issuer->ext_key_usage = X509V3_EXT_conf_nid(NULL, &ctx, NID_ext_key_usage,
		"serverAuth,clientAuth");
	issuer->authority_key_id = X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier,
		"keyid:always");
	X509_free(subject);
	if (!issuer->basic_constraints || !issuer->key_usage || !issuer->ext_key_usage)
		return WD_EINTERNAL;
	if (!issuer->authority_key_id)
		return WD_EINVAL;
	return 0;
}

int x509svid_issuer_new(X509 *ca_cert, EVP_PKEY *ca_key, struct x509svid_issuer **ret_issuer,
	struct wd_error *err)
{
	struct x509svid_issuer *issuer = NULL;
	int rc;

	if (ret_issuer)
		*ret_issuer = NULL;
	if (!ca_cert || !ca_key || !ret_issuer)
		return wd_error_set(err, WD_EINVAL, "X.509-SVID issuer: missing argument");
	wd_error_clear(err);
	if (X509_check_private_key(ca_cert, ca_key) != 1) {
		ERR_clear_error();
		return wd_error_set(err, WD_EINVAL, "the CA key does not match the CA certificate");
	}

	issuer = calloc(1, sizeof(*issuer));
	WD_ENSURE(issuer, WD_ENOMEM);
	WD_ENSURE(X509_up_ref(ca_cert) && EVP_PKEY_up_ref(ca_key), WD_EINTERNAL);
	issuer->ca_cert = ca_cert;
	issuer->ca_key = ca_key;
	if (crypto_x509_not_after(ca_cert, &issuer->ca_not_after) < 0) {
		rc = wd_error_set(err, WD_EINVAL, "CA certificate has an unreadable notAfter");
		goto out;
	}
	rc = issuer_build_extensions(issuer);
	if (rc == WD_EINVAL) {
		wd_error_set(err, rc, "the CA certificate has no subject key identifier");
		goto out;
	}
	WD_GUARD(rc);
	issuer->sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	issuer->sign_template = EVP_MD_CTX_new();
	WD_ENSURE(issuer->sha1 && issuer->sign_template, WD_ENOMEM);
	if (EVP_DigestSignInit(issuer->sign_template, NULL, crypto_key_signing_digest(ca_key),
		    NULL, ca_key) != 1) {
		rc = wd_error_set(err, WD_ECRYPTO, "setting up signing with the CA key failed");
		goto out;
	}
	WD_GUARD(x509svid_template_init(issuer));
	*ret_issuer = WD_TAKE_PTR(issuer);
	rc = 0;
out:
	if (rc < 0 && err && err->code != rc)
		wd_error_set(err, rc, "preparing the X.509-SVID issuer failed");
	x509svid_issuer_free(issuer);
	ERR_clear_error();
	return rc;
}

/* The deprecated EC_KEY calls below are the only public way in OpenSSL 3.0
 * to hand X509_set_pubkey a key it encodes with the built-in EC method.
 * For a provider key it instead builds an OSSL_ENCODER and an OSSL_DECODER
 * per call, about ten times slower. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

/* Sets the subject public key of an EC key on a named curve from its curve
 * and encoded point. The certificate then also caches the key, so
 * X509_get0_pubkey works on it; setting only the SubjectPublicKeyInfo
 * (X509_PUBKEY_set0_param) leaves X509_get0_pubkey returning NULL. Returns
 * WD_EUNSUPPORTED for other keys, which take X509_set_pubkey. */
static int set_ec_pubkey(struct x509svid_issuer *issuer, X509 *cert, EVP_PKEY *key)
{
	unsigned char point[133]; /* an uncompressed P-521 point */
	char group_name[64];
	EC_KEY *ec = NULL;
	EVP_PKEY *legacy = NULL;
	size_t len = 0;
	int nid;
	int rc = WD_EINVAL;

	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
	    !EVP_PKEY_get_group_name(key, group_name, sizeof(group_name), NULL) ||
	    (nid = OBJ_txt2nid(group_name)) == NID_undef ||
	    !EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
		    sizeof(point), &len))
		return WD_EUNSUPPORTED;
	if (issuer->group_nid != nid) {
		EC_GROUP_free(issuer->group);
		issuer->group_nid = NID_undef;
		issuer->group = EC_GROUP_new_by_curve_name(nid);
		if (!issuer->group)
			return WD_EUNSUPPORTED;
		issuer->group_nid = nid;
	}

	ec = EC_KEY_new();
	legacy = EVP_PKEY_new();
	WD_ENSURE(ec && legacy, WD_ENOMEM);
	/* EC_KEY_oct2key checks that the point is on the curve. */
	WD_ENSURE(EC_KEY_set_group(ec, issuer->group) && EC_KEY_oct2key(ec, point, len, NULL),
		WD_EINVAL);
	WD_ENSURE(EVP_PKEY_assign(legacy, EVP_PKEY_EC, ec), WD_EINTERNAL);
	ec = NULL; /* owned by legacy now */
	WD_ENSURE(X509_set_pubkey(cert, legacy), WD_EINVAL);
	rc = 0;
out:
	EC_KEY_free(ec);
	EVP_PKEY_free(legacy);
	return rc;
}

#pragma GCC diagnostic pop

static int set_subject_pubkey(struct x509svid_issuer *issuer, X509 *cert, EVP_PKEY *key)
{
	int rc = set_ec_pubkey(issuer, cert, key);

	if (rc != WD_EUNSUPPORTED)
		return rc;
	return X509_set_pubkey(cert, key) ? 0 : WD_EINVAL;
}

/* Adds the subject key identifier: the SHA-1 of the subjectPublicKey bits,
 * method 1 of RFC 5280 section 4.2.1.2, as OpenSSL's "hash" computes it. */
static int add_subject_key_id(const struct x509svid_issuer *issuer, X509 *cert)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;
	const unsigned char *key_bits = NULL;
	ASN1_OCTET_STRING *id = NULL;
	int key_len = 0;
	int rc;

	WD_ENSURE(X509_PUBKEY_get0_param(NULL, &key_bits, &key_len, NULL,
		X509_get_X509_PUBKEY(cert)) && key_bits && key_len > 0, WD_EINTERNAL);
	WD_ENSURE(EVP_Digest(key_bits, (size_t)key_len, digest, &digest_len, issuer->sha1, NULL),
		WD_EINTERNAL);
	id = ASN1_OCTET_STRING_new();
	WD_ENSURE(id && ASN1_OCTET_STRING_set(id, digest, (int)digest_len), WD_ENOMEM);
	WD_ENSURE(X509_add1_ext_i2d(cert, NID_subject_key_identifier, id, 0,
		X509V3_ADD_DEFAULT) == 1, WD_ENOMEM);
	rc = 0;
out:
	ASN1_OCTET_STRING_free(id);
	return rc;
}

/* Signs with a copy of the issuer's DigestSign context, which skips the
 * algorithm fetches and key setup of X509_sign. */
static int sign_svid(const struct x509svid_issuer *issuer, X509 *cert, struct wd_error *err)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_MD_CTX_copy_ex(ctx, issuer->sign_template) &&
		X509_sign_ctx(cert, ctx) > 0;

	EVP_MD_CTX_free(ctx);
	if (!ok)
		return wd_error_set(err, WD_ECRYPTO, "signing the certificate failed");
	return 0;
}

void x509svid_issuer_set_serial_source(struct x509svid_issuer *issuer,
	x509svid_serial_fn source, void *context)
{
	issuer->serial_source = source;
	issuer->serial_context = context;
}

_Static_assert(X509SVID_SERIAL_POOL_BYTES % X509SVID_SERIAL_BYTES == 0,
	"the serial pool holds whole serials");

/* The count of fork() calls that led to this process since the handler was
 * registered: the child handler adds one in each new child. */
static atomic_ulong fork_generation;
static bool fork_handler_registered;
static pthread_once_t fork_handler_once = PTHREAD_ONCE_INIT;

static void count_fork_in_child(void)
{
	atomic_fetch_add(&fork_generation, 1);
}

static void register_fork_handler(void)
{
	fork_handler_registered = pthread_atfork(NULL, NULL, count_fork_in_child) == 0;
}

/* Takes X509SVID_SERIAL_BYTES from the issuer's pool, refilling it from
 * RAND_bytes when it is empty or was filled before a fork(). Without a
 * registered fork handler every serial comes from its own RAND_bytes call. */
static int take_pooled_random(struct x509svid_serial_pool *pool,
	uint8_t serial[X509SVID_SERIAL_BYTES])
{
	unsigned long generation = atomic_load(&fork_generation);
	uint8_t *taken;

	pthread_once(&fork_handler_once, register_fork_handler);
	if (!fork_handler_registered)
		return RAND_bytes(serial, X509SVID_SERIAL_BYTES) == 1 ? 0 : WD_EINTERNAL;
	if (pool->fork_generation != generation) {
		OPENSSL_cleanse(pool->bytes, sizeof(pool->bytes));
		pool->available = 0;
	}
	if (pool->available < X509SVID_SERIAL_BYTES) {
		if (RAND_bytes(pool->bytes, sizeof(pool->bytes)) != 1) {
			OPENSSL_cleanse(pool->bytes, sizeof(pool->bytes));
			pool->available = 0;
			return WD_EINTERNAL;
		}
		pool->available = sizeof(pool->bytes);
		pool->fork_generation = generation;
	}
	taken = pool->bytes + sizeof(pool->bytes) - pool->available;
	memcpy(serial, taken, X509SVID_SERIAL_BYTES);
	OPENSSL_cleanse(taken, X509SVID_SERIAL_BYTES);
	pool->available -= X509SVID_SERIAL_BYTES;
	return 0;
}

/* Draws a serial from the issuer's source, or from its random pool until
 * the draw is not 0 once the top bit is cleared. */
static int draw_serial(struct x509svid_issuer *issuer, uint8_t serial[X509SVID_SERIAL_BYTES])
{
	bool all_zero = true;

	do {
		if (issuer->serial_source)
			WD_TRY(issuer->serial_source(issuer->serial_context, serial));
		else
			WD_TRY(take_pooled_random(&issuer->serial_pool, serial));
		serial[0] &= 0x7f;
		all_zero = true;
		for (size_t i = 0; i < X509SVID_SERIAL_BYTES; i++)
			all_zero = all_zero && serial[i] == 0;
	} while (all_zero && !issuer->serial_source);
	return all_zero ? WD_EINTERNAL : 0;
}

static int set_serial(X509 *cert, const uint8_t serial[X509SVID_SERIAL_BYTES])
{
	BIGNUM *bn = BN_bin2bn(serial, X509SVID_SERIAL_BYTES, NULL);
	int rc = WD_ENOMEM;

	if (bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)))
		rc = 0;
	BN_free(bn);
	return rc;
}

/* Writes the serial as crypto_x509_serial_hex does: lowercase hex of the
 * positive value, without leading zeros. */
static void serial_to_hex(const uint8_t serial[X509SVID_SERIAL_BYTES],
	char out[static X509SVID_SERIAL_HEX_SIZE])
{
	static const char digits[] = "0123456789abcdef";
	char full[X509SVID_SERIAL_HEX_SIZE];
	size_t start = 0;

	for (size_t i = 0; i < X509SVID_SERIAL_BYTES; i++) {
		full[2 * i] = digits[serial[i] >> 4];
		full[2 * i + 1] = digits[serial[i] & 0x0f];
	}
	full[2 * X509SVID_SERIAL_BYTES] = '\0';
	while (full[start] == '0' && full[start + 1] != '\0')
		start++;
	memcpy(out, full + start, sizeof(full) - start);
}

/* Checks request and computes the values both issuance paths encode. uri
 * and serial are the caller's buffers that fields then points into. */
static int prepare_fields(struct x509svid_issuer *issuer,
	const struct x509svid_request *request, char uri[static SPIFFE_ID_MAX_LEN + 1],
	uint8_t serial[static X509SVID_SERIAL_BYTES], struct x509svid_fields *ret_fields,
	struct wd_error *err)
{
	struct x509svid_fields fields = {
		.serial = serial,
		.uri = uri,
		.public_key = request->public_key,
		.public_key_spki = request->public_key_spki,
		.public_key_spki_len = request->public_key_spki_len,
		.dns_names = request->dns_names,
		.dns_name_count = request->dns_name_count,
	};
	int rc;

	WD_TRY(check_request(request, err));
	if (spiffe_id_format(request->id, uri, SPIFFE_ID_MAX_LEN + 1) < 0)
		return wd_error_set(err, WD_EINVAL, "X.509-SVID request: SPIFFE ID is too long");
	WD_TRY(svid_validity(issuer->ca_not_after, request, &fields.not_before,
		&fields.not_after, err));
	if (request->dns_name_count > 0 && strlen(request->dns_names[0]) <= COMMON_NAME_MAX)
		fields.common_name = request->dns_names[0];
	rc = draw_serial(issuer, serial);
	if (rc < 0)
		return wd_error_set(err, rc, "drawing a serial number for \"%.300s\" failed", uri);
	*ret_fields = fields;
	return 0;
}

/* Builds and signs the SVID as an X509 object through the OpenSSL API. */
static int issue_with_openssl(struct x509svid_issuer *issuer,
	const struct x509svid_fields *fields, X509 **ret_cert, struct wd_error *err)
{
	X509 *cert = X509_new();
	int rc;

	WD_ENSURE(cert, WD_ENOMEM);
	WD_ENSURE(X509_set_version(cert, X509_VERSION_3), WD_EINTERNAL);
	WD_GUARD(set_serial(cert, fields->serial));
	WD_ENSURE(X509_set_issuer_name(cert, X509_get_subject_name(issuer->ca_cert)), WD_ENOMEM);
	WD_GUARD(fill_svid_subject(cert, fields->common_name));
	WD_GUARD(set_validity(cert, fields->not_before, fields->not_after));
	WD_GUARD(set_subject_pubkey(issuer, cert, fields->public_key));

	/* The order is that of OpenSSL's configuration path used before. */
	WD_ENSURE(X509_add_ext(cert, issuer->basic_constraints, -1), WD_ENOMEM);
	WD_ENSURE(X509_add_ext(cert, issuer->key_usage, -1), WD_ENOMEM);
	WD_ENSURE(X509_add_ext(cert, issuer->ext_key_usage, -1), WD_ENOMEM);
	WD_GUARD(add_subject_key_id(issuer, cert));
	WD_ENSURE(X509_add_ext(cert, issuer->authority_key_id, -1), WD_ENOMEM);
	WD_GUARD(add_san(cert, fields->uri, fields->dns_names, fields->dns_name_count));

	WD_GUARD(sign_svid(issuer, cert, err));
	*ret_cert = WD_TAKE_PTR(cert);
	rc = 0;
out:
	X509_free(cert);
	return rc;
}

int x509svid_issuer_issue(struct x509svid_issuer *issuer,
	const struct x509svid_request *request, X509 **ret_cert, struct wd_error *err)
{
	char uri[SPIFFE_ID_MAX_LEN + 1] = "";
	uint8_t serial[X509SVID_SERIAL_BYTES];
	struct x509svid_fields fields;
	int rc;

	if (ret_cert)
		*ret_cert = NULL;
	if (!issuer || !request || !ret_cert)
		return wd_error_set(err, WD_EINVAL, "X.509-SVID issue: missing argument");
	wd_error_clear(err);
	WD_GUARD(prepare_fields(issuer, request, uri, serial, &fields, err));
	WD_GUARD(issue_with_openssl(issuer, &fields, ret_cert, err));
	rc = 0;
out:
	if (rc < 0 && err && err->code != rc)
		wd_error_set(err, rc, "building the X.509-SVID for \"%.300s\" failed", uri);
	ERR_clear_error();
	return rc;
}

void x509svid_issued_clear(struct x509svid_issued *issued)
{
	if (!issued)
		return;
	free(issued->der);
	free(issued->pem);
	*issued = (struct x509svid_issued){ 0 };
}

/* Encodes a certificate of the OpenSSL path into a malloc'd DER buffer. */
static int encode_cert(X509 *cert, uint8_t **ret_der, size_t *ret_len)
{
	int len = i2d_X509(cert, NULL);
	uint8_t *der;
	unsigned char *p;

	if (len <= 0)
		return WD_EINTERNAL;
	der = malloc((size_t)len);
	if (!der)
		return WD_ENOMEM;
	p = der;
	if (i2d_X509(cert, &p) != len) {
		free(der);
		return WD_EINTERNAL;
	}
	*ret_der = der;
	*ret_len = (size_t)len;
	return 0;
}

int x509svid_issuer_issue_der(struct x509svid_issuer *issuer,
	const struct x509svid_request *request, struct x509svid_issued *ret_issued,
	struct wd_error *err)
{
	char uri[SPIFFE_ID_MAX_LEN + 1] = "";
	uint8_t serial[X509SVID_SERIAL_BYTES];
	struct x509svid_issued issued = { 0 };
	struct x509svid_fields fields;
	X509 *cert = NULL;
	int rc;

	if (ret_issued)
		*ret_issued = (struct x509svid_issued){ 0 };
	if (!issuer || !request || !ret_issued)
		return wd_error_set(err, WD_EINVAL, "X.509-SVID issue: missing argument");
	wd_error_clear(err);
	WD_GUARD(prepare_fields(issuer, request, uri, serial, &fields, err));

	rc = x509svid_der_issue(issuer, &fields, &issued.der, &issued.der_len, err);
	if (rc == 0) {
		issued.from_template = true;
	} else if (rc == WD_EUNSUPPORTED) {
		WD_GUARD(issue_with_openssl(issuer, &fields, &cert, err));
		WD_GUARD(encode_cert(cert, &issued.der, &issued.der_len));
	} else if (rc == WD_ECRYPTO) {
		rc = wd_error_set(err, rc, "signing the certificate failed");
		goto out;
	} else {
		goto out;
	}
	WD_GUARD(x509svid_der_to_pem(issued.der, issued.der_len, &issued.pem));
	serial_to_hex(serial, issued.serial_hex);
	issued.not_after = fields.not_after;

	*ret_issued = issued;
	issued = (struct x509svid_issued){ 0 };
	rc = 0;
out:
	if (rc < 0 && err && err->code != rc)
		wd_error_set(err, rc, "building the X.509-SVID for \"%.300s\" failed", uri);
	x509svid_issued_clear(&issued);
	X509_free(cert);
	ERR_clear_error();
	return rc;
}

int x509svid_issue(X509 *ca_cert, EVP_PKEY *ca_key, const struct x509svid_request *request,
	X509 **ret_cert, struct wd_error *err)
{
	struct x509svid_issuer *issuer = NULL;
	int rc;

	if (ret_cert)
		*ret_cert = NULL;
	if (!ca_cert || !ca_key || !request || !ret_cert)
		return wd_error_set(err, WD_EINVAL, "X.509-SVID issue: missing argument");
	rc = x509svid_issuer_new(ca_cert, ca_key, &issuer, err);
	if (rc == 0)
		rc = x509svid_issuer_issue(issuer, request, ret_cert, err);
	x509svid_issuer_free(issuer);
	return rc;
}

int x509svid_ca_create(EVP_PKEY *key, const char *trust_domain, int64_t now,
	int64_t ttl_seconds, int64_t backdate_seconds, X509 **ret_cert, struct wd_error *err)
{
	char uri[sizeof("spiffe://") + SPIFFE_TRUST_DOMAIN_MAX_LEN];
	char common_name[COMMON_NAME_MAX + 1];
	X509V3_CTX ctx;
	X509 *cert = NULL;
	int64_t not_before = 0;
	int64_t not_after = 0;
	int rc;

	if (ret_cert)
		*ret_cert = NULL;
	if (!key || !trust_domain || !ret_cert)
		return wd_error_set(err, WD_EINVAL, "CA creation: missing argument");
	wd_error_clear(err);
	WD_GUARD(spiffe_trust_domain_validate(trust_domain, err));
	if (ttl_seconds <= 0 || backdate_seconds < 0 ||
	    __builtin_sub_overflow(now, backdate_seconds, &not_before) ||
	    __builtin_add_overflow(now, ttl_seconds, &not_after))
		return wd_error_set(err, WD_EINVAL,
			"CA creation: TTL %lld or backdate %lld out of range",
			(long long)ttl_seconds, (long long)backdate_seconds);

	snprintf(uri, sizeof(uri), "spiffe://%s", trust_domain);
	/* The CN only helps people read the certificate; fall back to a
	 * fixed one when "<trust domain> CA" exceeds ub-common-name. */
	if (strlen(trust_domain) + 3 <= COMMON_NAME_MAX)
		snprintf(common_name, sizeof(common_name), "%s CA", trust_domain);
	else
		snprintf(common_name, sizeof(common_name), "warden CA");

	cert = X509_new();
	WD_ENSURE(cert, WD_ENOMEM);
	WD_ENSURE(X509_set_version(cert, X509_VERSION_3), WD_EINTERNAL);
	WD_GUARD(crypto_x509_set_random_serial(cert));
	WD_GUARD(set_subject(cert, common_name));
	WD_ENSURE(X509_set_issuer_name(cert, X509_get_subject_name(cert)), WD_ENOMEM);
	WD_GUARD(set_validity(cert, not_before, not_after));
	WD_ENSURE(X509_set_pubkey(cert, key), WD_EINVAL);

	X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
	WD_GUARD(add_conf_ext(cert, &ctx, NID_basic_constraints, "critical,CA:TRUE"));
	WD_GUARD(add_conf_ext(cert, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign"));
	WD_GUARD(add_conf_ext(cert, &ctx, NID_subject_key_identifier, "hash"));
	/* The signing certificate's SPIFFE ID has no path (X509-SVID.md
	 * section 4.1). */
	WD_GUARD(add_san(cert, uri, NULL, 0));

	WD_GUARD(sign_cert(cert, key, err));
	*ret_cert = WD_TAKE_PTR(cert);
	rc = 0;
out:
	if (rc < 0 && err && err->code != rc)
		wd_error_set(err, rc, "building the CA certificate for \"%.255s\" failed",
			trust_domain);
	X509_free(cert);
	ERR_clear_error();
	return rc;
}

int x509svid_spiffe_id(X509 *cert, struct spiffe_id *ret_id, struct wd_error *err)
{
	GENERAL_NAMES *names = NULL;
	const ASN1_IA5STRING *uri = NULL;
	struct wd_error parse_err = { 0 };
	size_t uri_count = 0;
	int critical = -1;
	int rc;

	if (ret_id)
		memset(ret_id, 0, sizeof(*ret_id));
	if (!cert || !ret_id)
		return wd_error_set(err, WD_EINVAL, "reading the SPIFFE ID: missing argument");

	names = X509_get_ext_d2i(cert, NID_subject_alt_name, &critical, NULL);
	if (!names) {
		if (critical == -1)
			rc = wd_error_set(err, WD_EINVAL, "certificate has no subjectAltName extension");
		else if (critical == -2)
			rc = wd_error_set(err, WD_EINVAL,
				"certificate has more than one subjectAltName extension");
		else
			rc = wd_error_set(err, WD_EINVAL, "certificate subjectAltName is malformed");
		goto out;
	}
	for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);

		if (gn->type == GEN_URI) {
			uri = gn->d.uniformResourceIdentifier;
			uri_count++;
		}
	}
	/* X509-SVID.md section 2: validators MUST reject more than one URI. */
	if (uri_count != 1) {
		rc = wd_error_set(err, WD_EINVAL,
			"certificate has %zu URI SANs, an X.509-SVID must have exactly one",
			uri_count);
		goto out;
	}
	rc = spiffe_id_parse((const char *)ASN1_STRING_get0_data(uri),
		(size_t)ASN1_STRING_length(uri), ret_id, &parse_err);
	if (rc < 0) {
		rc = wd_error_set(err, rc, "certificate URI SAN is not a SPIFFE ID: %s",
			parse_err.detail);
		goto out;
	}
	rc = 0;
out:
	GENERAL_NAMES_free(names);
	ERR_clear_error();
	return rc;
}
