/* Built-in functions: crypto.* digests, HMACs and X.509 parsing, with the
 * results and error messages of OPA's topdown/crypto.go. */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "common/error.h"
#include "policy/bi_crypto_util.h"
#include "policy/bi_crypto_x509.h"
#include "policy/builtin.h"

/* Ceiling on certificates read from one argument. */
#define CERTS_MAX 256

/* ---- digests and HMACs ---- */

static int hex_result(const uint8_t *digest, size_t len, struct rv **ret)
{
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		hex[2 * i] = digits[digest[i] >> 4];
		hex[2 * i + 1] = digits[digest[i] & 15];
	}
	*ret = rv_string(hex, 2 * len);
	return *ret ? 0 : WD_ENOMEM;
}

static int digest(struct rego_bctx *ctx, struct rv *const *args, const char *md_name,
		  struct rv **ret)
{
	uint8_t out[EVP_MAX_MD_SIZE];
	unsigned int out_len = 0;
	const char *s;
	size_t len;

	WD_TRY(rego_bi_string(ctx, args, 1, &s, &len));
	if (EVP_Digest(s, len, out, &out_len, EVP_get_digestbyname(md_name), NULL) != 1)
		return WD_EINTERNAL;
	return hex_result(out, out_len, ret);
}

static int hmac(struct rego_bctx *ctx, struct rv *const *args, const char *md_name,
		struct rv **ret)
{
	static const uint8_t empty[1];
	uint8_t out[EVP_MAX_MD_SIZE];
	unsigned int out_len = 0;
	const char *msg, *key;
	size_t msg_len, key_len;
	int rc;

	WD_TRY(rego_bi_string(ctx, args, 1, &msg, &msg_len));
	WD_TRY(rego_bi_string(ctx, args, 2, &key, &key_len));
	if (!HMAC(EVP_get_digestbyname(md_name), key_len ? key : (const char *)empty,
		  (int)key_len, (const uint8_t *)msg, msg_len, out, &out_len))
		return WD_EINTERNAL;
	rc = hex_result(out, out_len, ret);
	OPENSSL_cleanse(out, sizeof(out));
	return rc;
}

#define DIGEST_FN(fn, md)                                                                    \
	static int fn(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,          \
		      struct rv **ret)                                                       \
	{                                                                                    \
		(void)nargs;                                                                 \
		return digest(ctx, args, md, ret);                                           \
	}
#define HMAC_FN(fn, md)                                                                      \
	static int fn(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,          \
		      struct rv **ret)                                                       \
	{                                                                                    \
		(void)nargs;                                                                 \
		return hmac(ctx, args, md, ret);                                             \
	}

DIGEST_FN(bi_md5, "MD5")
DIGEST_FN(bi_sha1, "SHA1")
DIGEST_FN(bi_sha256, "SHA256")
HMAC_FN(bi_hmac_md5, "MD5")
HMAC_FN(bi_hmac_sha1, "SHA1")
HMAC_FN(bi_hmac_sha256, "SHA256")
HMAC_FN(bi_hmac_sha512, "SHA512")

/* Compares two MACs in time independent of their contents. */
static int bi_hmac_equal(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			 struct rv **ret)
{
	const char *a, *b;
	size_t a_len, b_len;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &a, &a_len));
	WD_TRY(rego_bi_string(ctx, args, 2, &b, &b_len));
	*ret = rv_bool(a_len == b_len && CRYPTO_memcmp(a, b, a_len) == 0);
	return 0;
}

/* ---- certificates ---- */

struct cert_list {
	X509 *certs[CERTS_MAX];
	size_t count;
};

static void cert_list_free(struct cert_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		X509_free(list->certs[i]);
	list->count = 0;
}

/* Parses concatenated DER certificates (Go's x509.ParseCertificates). */
static int certs_from_der(struct rego_bctx *ctx, const uint8_t *der, size_t len,
			  struct cert_list *list)
{
	const unsigned char *p = der;

	while ((size_t)(p - der) < len) {
		X509 *cert;

		if (list->count == CERTS_MAX)
			return rego_bi_error(ctx, "more than %d certificates", CERTS_MAX);
		cert = d2i_X509(NULL, &p, (long)(len - (size_t)(p - der)));
		if (!cert)
			return rego_bi_error(ctx, "x509: malformed certificate");
		list->certs[list->count++] = cert;
	}
	return 0;
}

static int certs_from_pem(struct rego_bctx *ctx, const char *text, size_t len,
			  struct cert_list *list)
{
	struct bi_pem_block block;
	struct wd_buf all;
	size_t pos = 0, end = 0;
	int rc = 0;

	wd_buf_init(&block.der, 4096, BI_DECODE_MAX);
	wd_buf_init(&all, 4096, BI_DECODE_MAX);
	while (pos < len) {
		rc = bi_pem_decode(text + pos, len - pos, &block, &end);
		if (rc <= 0)
			break;
		if (strcmp(block.type, "CERTIFICATE") != 0) {
			rc = rego_bi_error(ctx, "PEM block type is '%s', expected CERTIFICATE",
					   block.type);
			goto out;
		}
		WD_GUARD(wd_buf_append(&all, wd_buf_data(&block.der), wd_buf_len(&block.der)));
		pos += end;
	}
	WD_GUARD(rc);
	rc = certs_from_der(ctx, wd_buf_data(&all), wd_buf_len(&all), list);
out:
	wd_buf_free(&block.der);
	wd_buf_free(&all);
	return rc;
}

/* PEM text, or base64 of PEM or DER (OPA's getX509CertsFromString). */
static int certs_from_string(struct rego_bctx *ctx, const char *text, size_t len,
			     struct cert_list *list)
{
	struct wd_buf raw;
	char err[128];
	int rc;

	if (len > BI_DECODE_MAX)
		return rego_bi_error(ctx, "input is longer than %u bytes", BI_DECODE_MAX);
	if (bi_has_prefix(text, len, "-----BEGIN"))
		return certs_from_pem(ctx, text, len, list);

	wd_buf_init(&raw, 4096, BI_DECODE_MAX);
	rc = bi_b64_decode_go(text, len, false, &raw, err, sizeof(err));
	if (rc == WD_EINVAL)
		rc = rego_bi_error(ctx, "%s", err);
	if (rc == 0 && bi_has_prefix(wd_buf_str(&raw), wd_buf_len(&raw), "-----BEGIN"))
		rc = certs_from_pem(ctx, wd_buf_str(&raw), wd_buf_len(&raw), list);
	else if (rc == 0)
		rc = certs_from_der(ctx, wd_buf_data(&raw), wd_buf_len(&raw), list);
	wd_buf_free(&raw);
	return rc;
}

static int certs_value(X509 *const *certs, size_t count, bool with_uri_strings,
		       struct rv **ret)
{
	struct rv *arr = rv_array_new(count);

	if (!arr)
		return WD_ENOMEM;
	for (size_t i = 0; i < count; i++) {
		struct rv *cert = NULL;
		int rc = x509_cert_value(certs[i], with_uri_strings, &cert);

		if (rc == 0)
			rc = rv_array_push(arr, cert);
		if (rc < 0) {
			rv_unref(arr);
			return rc;
		}
	}
	*ret = arr;
	return 0;
}

static int bi_parse_certificates(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
				 struct rv **ret)
{
	struct cert_list list = { .count = 0 };
	const char *text;
	size_t len;
	int rc;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &text, &len));
	rc = certs_from_string(ctx, text, len, &list);
	if (rc == 0)
		rc = certs_value(list.certs, list.count, true, ret);
	cert_list_free(&list);
	return rc;
}

/* ---- chain verification ---- */

struct verify_opts {
	const char *dns_name;
	int64_t time_ns;          /* 0: the query's time */
	int purposes[16];         /* X509_PURPOSE_* to try, any one passing */
	size_t purpose_count;
};

/* Verifies certs as OPA does: the first is the root, the last the leaf,
 * those between intermediates. Stores the chain (leaf first) in ret_chain
 * or returns 0 with *ret_chain NULL when it does not verify. */
static int verify_chain(struct rego_bctx *ctx, const struct cert_list *list,
			const struct verify_opts *opts, STACK_OF(X509) **ret_chain)
{
	X509_STORE *store = NULL;
	STACK_OF(X509) *untrusted = NULL;
	int rc = 0;

	*ret_chain = NULL;
	if (list->count < 2)
		return 0;
	store = X509_STORE_new();
	untrusted = sk_X509_new_null();
	WD_ENSURE(store && untrusted && X509_STORE_add_cert(store, list->certs[0]) == 1,
		  WD_ENOMEM);
	for (size_t i = 1; i + 1 < list->count; i++)
		WD_ENSURE(sk_X509_push(untrusted, list->certs[i]) > 0, WD_ENOMEM);

	for (size_t p = 0; p < opts->purpose_count && !*ret_chain; p++) {
		X509_STORE_CTX *vctx = X509_STORE_CTX_new();
		X509_VERIFY_PARAM *param;
		int64_t when = opts->time_ns ? opts->time_ns : ctx->now_ns;

		WD_ENSURE(vctx, WD_ENOMEM);
		if (X509_STORE_CTX_init(vctx, store, list->certs[list->count - 1], untrusted) != 1) {
			X509_STORE_CTX_free(vctx);
			rc = WD_ENOMEM;
			goto out;
		}
		param = X509_STORE_CTX_get0_param(vctx);

		/* Go trusts every root given, self-signed or not. */
		X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
		if (when)
			X509_VERIFY_PARAM_set_time(param, (time_t)(when / 1000000000));
		if (opts->dns_name)
			X509_VERIFY_PARAM_set1_host(param, opts->dns_name, 0);
		if (opts->purposes[p] != 0)
			X509_STORE_CTX_set_purpose(vctx, opts->purposes[p]);
		if (X509_verify_cert(vctx) == 1)
			*ret_chain = X509_STORE_CTX_get1_chain(vctx);
		X509_STORE_CTX_free(vctx);
	}
out:
	sk_X509_free(untrusted);
	X509_STORE_free(store);
	return rc;
}

static int unverified_result(struct rv **ret)
{
	struct rv *arr = rv_array_new(2);

	if (!arr || rv_array_push(arr, rv_bool(false)) < 0 ||
	    rv_array_push(arr, rv_array_new(0)) < 0) {
		rv_unref(arr);
		return WD_ENOMEM;
	}
	*ret = arr;
	return 0;
}

static int verify_result(struct rego_bctx *ctx, const char *text, size_t len,
			 const struct verify_opts *opts, bool with_uri_strings, struct rv **ret)
{
	struct cert_list list = { .count = 0 };
	STACK_OF(X509) *chain = NULL;
	struct rv *arr = NULL, *certs = NULL;
	char saved_msg[sizeof(ctx->err_msg)];
	const char *saved_code = ctx->err_code;
	int rc;

	/* A certificate that does not parse makes the result [false, []]. */
	memcpy(saved_msg, ctx->err_msg, sizeof(saved_msg));
	rc = certs_from_string(ctx, text, len, &list);
	if (rc == WD_EINVAL) {
		memcpy(ctx->err_msg, saved_msg, sizeof(saved_msg));
		ctx->err_code = saved_code;
		cert_list_free(&list);
		return unverified_result(ret);
	}
	WD_GUARD(rc);
	WD_GUARD(verify_chain(ctx, &list, opts, &chain));
	if (!chain) {
		rc = unverified_result(ret);
		goto out;
	}

	{
		X509 *certs_arr[CERTS_MAX];
		size_t n = (size_t)sk_X509_num(chain);

		for (size_t i = 0; i < n && i < CERTS_MAX; i++)
			certs_arr[i] = sk_X509_value(chain, (int)i);
		WD_GUARD(certs_value(certs_arr, n < CERTS_MAX ? n : CERTS_MAX, with_uri_strings,
				     &certs));
	}
	arr = rv_array_new(2);
	WD_ENSURE(arr, WD_ENOMEM);
	WD_GUARD(rv_array_push(arr, rv_bool(true)));
	WD_GUARD(rv_array_push(arr, WD_TAKE_PTR(certs)));
	*ret = WD_TAKE_PTR(arr);
	rc = 0;
out:
	rv_unref(arr);
	rv_unref(certs);
	sk_X509_pop_free(chain, X509_free);
	cert_list_free(&list);
	return rc;
}

static int bi_parse_and_verify(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			       struct rv **ret)
{
	/* Go verifies for server authentication when no key usage is given. */
	struct verify_opts opts = { .purposes = { X509_PURPOSE_SSL_SERVER }, .purpose_count = 1 };
	const char *text;
	size_t len;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &text, &len));
	return verify_result(ctx, text, len, &opts, true, ret);
}

/* The X509_PURPOSE_* closest to one of Go's ExtKeyUsage names. OpenSSL 3.0
 * has no purpose for code signing or IPsec: those check no usage. */
static int purpose_for(const char *usage, bool *ret_known)
{
	static const struct {
		const char *name;
		int purpose;
	} usages[] = {
		{ "KeyUsageAny", X509_PURPOSE_ANY },
		{ "KeyUsageServerAuth", X509_PURPOSE_SSL_SERVER },
		{ "KeyUsageClientAuth", X509_PURPOSE_SSL_CLIENT },
		{ "KeyUsageCodeSigning", X509_PURPOSE_ANY },
		{ "KeyUsageEmailProtection", X509_PURPOSE_SMIME_SIGN },
		{ "KeyUsageIPSECEndSystem", X509_PURPOSE_ANY },
		{ "KeyUsageIPSECTunnel", X509_PURPOSE_ANY },
		{ "KeyUsageIPSECUser", X509_PURPOSE_ANY },
		{ "KeyUsageTimeStamping", X509_PURPOSE_TIMESTAMP_SIGN },
		{ "KeyUsageOCSPSigning", X509_PURPOSE_OCSP_HELPER },
		{ "KeyUsageMicrosoftServerGatedCrypto", X509_PURPOSE_NS_SSL_SERVER },
		{ "KeyUsageNetscapeServerGatedCrypto", X509_PURPOSE_NS_SSL_SERVER },
		{ "KeyUsageMicrosoftCommercialCodeSigning", X509_PURPOSE_ANY },
		{ "KeyUsageMicrosoftKernelCodeSigning", X509_PURPOSE_ANY },
	};

	for (size_t i = 0; i < WD_ARRAY_LEN(usages); i++) {
		if (strcmp(usage, usages[i].name) == 0) {
			*ret_known = true;
			return usages[i].purpose;
		}
	}
	*ret_known = false;
	return 0;
}

/* Reads the options object of parse_and_verify_certificates_with_options. */
static int verify_options(struct rego_bctx *ctx, const struct rv *obj, struct verify_opts *opts)
{
	opts->purposes[0] = X509_PURPOSE_SSL_SERVER;
	opts->purpose_count = 1;

	for (size_t i = 0; i < rv_len(obj); i++) {
		struct rv *key, *value;
		const char *name;

		rv_map_sorted_at(obj, i, &key, &value);
		if (!rv_is(key, RV_STRING))
			continue;
		name = rv_str(key);
		if (strcmp(name, "DNSName") == 0) {
			if (!rv_is(value, RV_STRING))
				return rego_bi_error(ctx, "'DNSName' should be a string");
			opts->dns_name = rv_str(value);
		} else if (strcmp(name, "CurrentTime") == 0) {
			if (!rv_is(value, RV_NUMBER))
				return rego_bi_error(ctx, "'CurrentTime' should be a number");
			if (!rv_number_to_i64(value, &opts->time_ns))
				return rego_bi_error(ctx,
						     "'CurrentTime' should be a valid int64 number");
		} else if (strcmp(name, "MaxConstraintComparisons") == 0) {
			int64_t unused;

			if (!rv_is(value, RV_NUMBER))
				return rego_bi_error(ctx, "'MaxConstraintComparisons' should be a number");
			if (!rv_number_to_i64(value, &unused))
				return rego_bi_error(ctx,
						     "'MaxConstraintComparisons' should be a valid number");
		} else if (strcmp(name, "KeyUsages") == 0) {
			struct wd_buf invalid;
			size_t n;

			if (!rv_is(value, RV_ARRAY) && !rv_is(value, RV_SET))
				return rego_bi_error(ctx, "'KeyUsages' should be an Array or Set");
			n = rv_is(value, RV_ARRAY) ? rv_array_len(value) : rv_len(value);
			wd_buf_init(&invalid, 64, 1024);
			opts->purpose_count = 0;
			for (size_t k = 0; k < n; k++) {
				struct rv *item, *unused;
				bool known;
				int purpose;

				if (rv_is(value, RV_ARRAY))
					item = rv_array_at(value, k);
				else
					rv_map_sorted_at(value, k, &item, &unused);
				if (!rv_is(item, RV_STRING))
					continue;
				purpose = purpose_for(rv_str(item), &known);
				if (!known) {
					(void)!wd_buf_appendf(&invalid, "%s%s",
							      wd_buf_len(&invalid) ? " " : "",
							      rv_str(item));
					continue;
				}
				if (opts->purpose_count < WD_ARRAY_LEN(opts->purposes))
					opts->purposes[opts->purpose_count++] = purpose;
			}
			if (wd_buf_len(&invalid)) {
				int rc = rego_bi_error(ctx,
						       "invalid entries for 'KeyUsages' found: [%s]",
						       wd_buf_str(&invalid));

				wd_buf_free(&invalid);
				return rc;
			}
			wd_buf_free(&invalid);
			if (opts->purpose_count == 0) {
				opts->purposes[0] = X509_PURPOSE_SSL_SERVER;
				opts->purpose_count = 1;
			}
		} else {
			return rego_bi_error(ctx, "invalid key option");
		}
	}
	return 0;
}

static int bi_parse_and_verify_with_options(struct rego_bctx *ctx, struct rv *const *args,
					    size_t nargs, struct rv **ret)
{
	struct verify_opts opts = { .purpose_count = 0 };
	struct cert_list probe = { .count = 0 };
	const char *text;
	size_t len;
	int rc;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &text, &len));
	WD_TRY(rego_bi_want(ctx, args, 2, RK_OBJECT));

	/* OPA reads the options only once the certificates parse. */
	rc = certs_from_string(ctx, text, len, &probe);
	cert_list_free(&probe);
	if (rc == WD_EINVAL)
		return unverified_result(ret);
	WD_TRY(rc);
	WD_TRY(verify_options(ctx, args[1], &opts));
	return verify_result(ctx, text, len, &opts, false, ret);
}

/* ---- certificate requests ---- */

static int bi_parse_certificate_request(struct rego_bctx *ctx, struct rv *const *args,
					size_t nargs, struct rv **ret)
{
	struct bi_pem_block block;
	struct wd_buf raw;
	const uint8_t *der;
	size_t der_len, end;
	const char *text;
	size_t len;
	X509_REQ *req = NULL;
	char err[128];
	int rc;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &text, &len));
	if (len > BI_DECODE_MAX)
		return rego_bi_error(ctx, "input is longer than %u bytes", BI_DECODE_MAX);
	wd_buf_init(&raw, 2048, BI_DECODE_MAX);
	wd_buf_init(&block.der, 2048, BI_DECODE_MAX);

	if (bi_has_prefix(text, len, "-----BEGIN CERTIFICATE REQUEST-----")) {
		WD_GUARD(wd_buf_append(&raw, text, len));
	} else {
		rc = bi_b64_decode_go(text, len, false, &raw, err, sizeof(err));
		if (rc == WD_EINVAL)
			rc = rego_bi_error(ctx, "%s", err);
		WD_GUARD(rc);
	}
	der = wd_buf_data(&raw);
	der_len = wd_buf_len(&raw);

	rc = bi_pem_decode(wd_buf_str(&raw), wd_buf_len(&raw), &block, &end);
	WD_GUARD(rc);
	if (rc == 1) {
		if (strcmp(block.type, "CERTIFICATE REQUEST") != 0) {
			rc = rego_bi_error(ctx, "invalid PEM-encoded certificate signing request");
			goto out;
		}
		der = wd_buf_data(&block.der);
		der_len = wd_buf_len(&block.der);
	}

	{
		const unsigned char *p = der;

		req = der ? d2i_X509_REQ(NULL, &p, (long)der_len) : NULL;
		if (!req || (size_t)(p - der) != der_len) {
			rc = rego_bi_error(ctx, "asn1: structure error: tags don't match");
			goto out;
		}
	}
	rc = x509_csr_value(req, ret);
out:
	X509_REQ_free(req);
	wd_buf_free(&raw);
	wd_buf_free(&block.der);
	return rc;
}

/* ---- private keys ---- */

static EVP_PKEY *parse_private_der(const char *type, const uint8_t *der, size_t len)
{
	const unsigned char *p = der;

	if (strcmp(type, "RSA PRIVATE KEY") == 0)
		return d2i_PrivateKey(EVP_PKEY_RSA, NULL, &p, (long)len);
	if (strcmp(type, "EC PRIVATE KEY") == 0)
		return d2i_PrivateKey(EVP_PKEY_EC, NULL, &p, (long)len);
	if (strcmp(type, "PRIVATE KEY") == 0) {
		PKCS8_PRIV_KEY_INFO *info = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)len);
		EVP_PKEY *pkey = info ? EVP_PKCS82PKEY(info) : NULL;

		PKCS8_PRIV_KEY_INFO_free(info);
		return pkey;
	}
	return NULL;
}

#define KEYS_MAX 64

/* OPA's getPrivateKeysFromPEMData: the text may be base64 of the PEM;
 * RSA PRIVATE KEY, PRIVATE KEY and EC PRIVATE KEY blocks are read, others
 * skipped, and reading stops at the first text that is not a block. */
static int private_keys(struct rego_bctx *ctx, const char *text, size_t len, EVP_PKEY **keys,
			size_t *ret_count)
{
	struct wd_buf decoded;
	struct bi_pem_block block;
	const char *data = text;
	size_t data_len = len, pos = 0, end = 0;
	int rc = 0;

	*ret_count = 0;
	if (len > BI_DECODE_MAX)
		return rego_bi_error(ctx, "input is longer than %u bytes", BI_DECODE_MAX);
	wd_buf_init_secret(&decoded, 4096, BI_DECODE_MAX);
	wd_buf_init_secret(&block.der, 4096, BI_DECODE_MAX);
	if (bi_b64_decode_go(text, len, false, &decoded, NULL, 0) == 0) {
		data = wd_buf_str(&decoded);
		data_len = wd_buf_len(&decoded);
	}

	while (pos < data_len) {
		EVP_PKEY *pkey;

		rc = bi_pem_decode(data + pos, data_len - pos, &block, &end);
		if (rc <= 0)
			break;
		pos += end;
		if (strcmp(block.type, "RSA PRIVATE KEY") != 0 &&
		    strcmp(block.type, "PRIVATE KEY") != 0 &&
		    strcmp(block.type, "EC PRIVATE KEY") != 0)
			continue;
		pkey = parse_private_der(block.type, wd_buf_data(&block.der),
					 wd_buf_len(&block.der));
		if (!pkey) {
			rc = rego_bi_error(ctx, "x509: failed to parse private key");
			goto out;
		}
		if (*ret_count == KEYS_MAX) {
			EVP_PKEY_free(pkey);
			rc = rego_bi_error(ctx, "more than %d private keys", KEYS_MAX);
			goto out;
		}
		keys[(*ret_count)++] = pkey;
	}
	rc = rc < 0 ? rc : 0;
out:
	wd_buf_free(&decoded);
	wd_buf_free(&block.der);
	return rc;
}

static void keys_free(EVP_PKEY **keys, size_t count)
{
	for (size_t i = 0; i < count; i++)
		EVP_PKEY_free(keys[i]);
}

static int bi_parse_rsa_private_key(struct rego_bctx *ctx, struct rv *const *args,
				    size_t nargs, struct rv **ret)
{
	EVP_PKEY *keys[KEYS_MAX];
	size_t count = 0;
	struct wd_buf decoded;
	const char *text;
	size_t len;
	char err[128];
	int rc;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &text, &len));
	if (len == 0)
		return rego_bi_error(ctx, "input PEM data was empty");
	if (len > BI_DECODE_MAX)
		return rego_bi_error(ctx, "input is longer than %u bytes", BI_DECODE_MAX);

	wd_buf_init_secret(&decoded, 4096, BI_DECODE_MAX);
	if (!bi_has_prefix(text, len, "-----BEGIN")) {
		rc = bi_b64_decode_go(text, len, false, &decoded, err, sizeof(err));
		if (rc == WD_EINVAL)
			rc = rego_bi_error(ctx, "%s", err);
		WD_GUARD(rc);
		text = wd_buf_str(&decoded);
		len = wd_buf_len(&decoded);
	}
	WD_GUARD(private_keys(ctx, text, len, keys, &count));
	if (count == 0) {
		*ret = rv_null();
	} else {
		rc = x509_key_jwk(keys[0], ret);
		if (rc == WD_EUNSUPPORTED)
			rc = rego_bi_error(ctx, "unsupported key type");
		WD_GUARD(rc);
	}
	rc = 0;
out:
	keys_free(keys, count);
	wd_buf_free(&decoded);
	return rc;
}

static int bi_parse_private_keys(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
				 struct rv **ret)
{
	EVP_PKEY *keys[KEYS_MAX];
	size_t count = 0;
	struct rv *arr = NULL;
	const char *text;
	size_t len;
	int rc;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &text, &len));
	if (len == 0) {
		*ret = rv_null();
		return 0;
	}
	WD_GUARD(private_keys(ctx, text, len, keys, &count));
	arr = rv_array_new(count);
	WD_ENSURE(arr, WD_ENOMEM);
	for (size_t i = 0; i < count; i++) {
		struct rv *key = NULL;

		WD_GUARD(x509_key_value(keys[i], true, &key));
		WD_GUARD(rv_array_push(arr, key));
	}
	*ret = WD_TAKE_PTR(arr);
	rc = 0;
out:
	rv_unref(arr);
	keys_free(keys, count);
	return rc;
}

const struct rego_builtin rego_builtins_crypto[] = {
	{ .name = "crypto.hmac.equal", .arity = 2, .arg_types = { RK_STRING, RK_STRING },
	  .result_type = RK_BOOL, .fn = bi_hmac_equal },
	{ .name = "crypto.hmac.md5", .arity = 2, .arg_types = { RK_STRING, RK_STRING },
	  .result_type = RK_STRING, .fn = bi_hmac_md5 },
	{ .name = "crypto.hmac.sha1", .arity = 2, .arg_types = { RK_STRING, RK_STRING },
	  .result_type = RK_STRING, .fn = bi_hmac_sha1 },
	{ .name = "crypto.hmac.sha256", .arity = 2, .arg_types = { RK_STRING, RK_STRING },
	  .result_type = RK_STRING, .fn = bi_hmac_sha256 },
	{ .name = "crypto.hmac.sha512", .arity = 2, .arg_types = { RK_STRING, RK_STRING },
	  .result_type = RK_STRING, .fn = bi_hmac_sha512 },
	{ .name = "crypto.md5", .arity = 1, .arg_types = { RK_STRING }, .result_type = RK_STRING,
	  .fn = bi_md5 },
	{ .name = "crypto.parse_private_keys", .arity = 1, .arg_types = { RK_STRING },
	  .result_type = RK_ARRAY | RK_NULL, .fn = bi_parse_private_keys },
	{ .name = "crypto.sha1", .arity = 1, .arg_types = { RK_STRING }, .result_type = RK_STRING,
	  .fn = bi_sha1 },
	{ .name = "crypto.sha256", .arity = 1, .arg_types = { RK_STRING },
	  .result_type = RK_STRING, .fn = bi_sha256 },
	{ .name = "crypto.x509.parse_and_verify_certificates", .arity = 1,
	  .arg_types = { RK_STRING }, .result_type = RK_ARRAY, .fn = bi_parse_and_verify },
	{ .name = "crypto.x509.parse_and_verify_certificates_with_options", .arity = 2,
	  .arg_types = { RK_STRING, RK_OBJECT }, .result_type = RK_ARRAY,
	  .fn = bi_parse_and_verify_with_options },
	{ .name = "crypto.x509.parse_certificate_request", .arity = 1,
	  .arg_types = { RK_STRING }, .result_type = RK_OBJECT,
	  .fn = bi_parse_certificate_request },
	{ .name = "crypto.x509.parse_certificates", .arity = 1, .arg_types = { RK_STRING },
	  .result_type = RK_ARRAY, .fn = bi_parse_certificates },
	{ .name = "crypto.x509.parse_keypair", .arity = 2, .arg_types = { RK_STRING, RK_STRING },
	  .result_type = RK_OBJECT, .fn = bi_crypto_parse_keypair },
	{ .name = "crypto.x509.parse_rsa_private_key", .arity = 1, .arg_types = { RK_STRING },
	  .result_type = RK_OBJECT | RK_NULL, .fn = bi_parse_rsa_private_key },
	{ .name = NULL },
};
