/* crypto.x509.parse_keypair: a certificate chain and its private key, as
 * Go's tls.X509KeyPair reads them, returned as the JSON of tls.Certificate. */
#include <string.h>

#include <openssl/x509.h>

#include "common/error.h"
#include "policy/bi_crypto_util.h"
#include "policy/bi_crypto_x509.h"

#define KEYPAIR_CERTS_MAX 64

/* PEM input, or base64 of PEM or DER: returns the text to read in *out
 * (PEM, or DER when ret_der is set). */
static int unwrap(struct rego_bctx *ctx, const char *text, size_t len, struct wd_buf *out,
		  bool *ret_der)
{
	char err[128];
	int rc;

	*ret_der = false;
	if (len > BI_DECODE_MAX)
		return rego_bi_error(ctx, "input is longer than %u bytes", BI_DECODE_MAX);
	if (bi_has_prefix(text, len, "-----BEGIN "))
		return wd_buf_append(out, text, len);
	rc = bi_b64_decode_go(text, len, false, out, err, sizeof(err));
	if (rc == WD_EINVAL)
		return rego_bi_error(ctx, "%s", err);
	WD_TRY(rc);
	*ret_der = !bi_has_prefix(wd_buf_str(out), wd_buf_len(out), "-----BEGIN");
	return 0;
}

static bool is_key_type(const char *type)
{
	size_t n = strlen(type);

	return strcmp(type, "PRIVATE KEY") == 0 ||
	       (n > 12 && strcmp(type + n - 12, " PRIVATE KEY") == 0);
}

/* tls.parsePrivateKey: PKCS #1, then PKCS #8, then SEC 1. */
static EVP_PKEY *parse_key(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	EVP_PKEY *pkey = d2i_PrivateKey(EVP_PKEY_RSA, NULL, &p, (long)len);
	PKCS8_PRIV_KEY_INFO *info;

	if (pkey)
		return pkey;
	p = der;
	info = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)len);
	if (info) {
		pkey = EVP_PKCS82PKEY(info);
		PKCS8_PRIV_KEY_INFO_free(info);
		if (pkey)
			return pkey;
	}
	p = der;
	return d2i_PrivateKey(EVP_PKEY_EC, NULL, &p, (long)len);
}

int bi_crypto_parse_keypair(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			    struct rv **ret)
{
	struct wd_buf cert_text, key_text, key_der, cert_ders[KEYPAIR_CERTS_MAX];
	struct bi_pem_block block;
	size_t cert_count = 0, pos = 0, end = 0;
	bool cert_is_der, key_is_der, saw_key = false, saw_cert = false, have_key = false;
	const char *cert, *key;
	size_t cert_len, key_len;
	EVP_PKEY *pkey = NULL;
	X509 *leaf = NULL;
	struct rv *obj = NULL, *list = NULL, *value = NULL;
	int rc;

	(void)nargs;
	wd_buf_init(&cert_text, 4096, BI_DECODE_MAX);
	wd_buf_init_secret(&key_text, 4096, BI_DECODE_MAX);
	wd_buf_init_secret(&key_der, 4096, BI_DECODE_MAX);
	wd_buf_init_secret(&block.der, 4096, BI_DECODE_MAX);
	WD_GUARD(rego_bi_string(ctx, args, 1, &cert, &cert_len));
	WD_GUARD(rego_bi_string(ctx, args, 2, &key, &key_len));
	WD_GUARD(unwrap(ctx, cert, cert_len, &cert_text, &cert_is_der));
	WD_GUARD(unwrap(ctx, key, key_len, &key_text, &key_is_der));

	/* The certificates: every CERTIFICATE block, or the DER given. */
	if (cert_is_der) {
		wd_buf_init(&cert_ders[0], 4096, BI_DECODE_MAX);
		cert_count = 1;
		WD_GUARD(wd_buf_append(&cert_ders[0], wd_buf_data(&cert_text),
				       wd_buf_len(&cert_text)));
	}
	while (!cert_is_der && pos < wd_buf_len(&cert_text)) {
		rc = bi_pem_decode(wd_buf_str(&cert_text) + pos, wd_buf_len(&cert_text) - pos,
				   &block, &end);
		WD_GUARD(rc);
		if (rc == 0)
			break;
		pos += end;
		if (strcmp(block.type, "CERTIFICATE") != 0) {
			saw_key |= is_key_type(block.type);
			continue;
		}
		if (cert_count == KEYPAIR_CERTS_MAX) {
			rc = rego_bi_error(ctx, "more than %d certificates", KEYPAIR_CERTS_MAX);
			goto out;
		}
		wd_buf_init(&cert_ders[cert_count], 4096, BI_DECODE_MAX);
		cert_count++;
		WD_GUARD(wd_buf_append(&cert_ders[cert_count - 1], wd_buf_data(&block.der),
				       wd_buf_len(&block.der)));
	}
	if (cert_count == 0) {
		rc = rego_bi_error(ctx, saw_key ? "tls: failed to find certificate PEM data in "
						  "certificate input, but did find a private key; "
						  "PEM inputs may have been switched"
						: "tls: failed to find any PEM data in certificate input");
		goto out;
	}

	/* The key: the first "... PRIVATE KEY" block, or the DER given. */
	if (key_is_der) {
		WD_GUARD(wd_buf_append(&key_der, wd_buf_data(&key_text), wd_buf_len(&key_text)));
		have_key = true;
	}
	for (pos = 0; !have_key && pos < wd_buf_len(&key_text);) {
		rc = bi_pem_decode(wd_buf_str(&key_text) + pos, wd_buf_len(&key_text) - pos, &block,
				   &end);
		WD_GUARD(rc);
		if (rc == 0)
			break;
		pos += end;
		if (is_key_type(block.type)) {
			WD_GUARD(wd_buf_append(&key_der, wd_buf_data(&block.der),
					       wd_buf_len(&block.der)));
			have_key = true;
		}
		saw_cert |= strcmp(block.type, "CERTIFICATE") == 0;
	}
	if (!have_key) {
		rc = rego_bi_error(ctx, saw_cert ? "tls: found a certificate rather than a key in "
						   "the PEM for the private key"
						 : "tls: failed to find any PEM data in key input");
		goto out;
	}

	{
		const unsigned char *p = wd_buf_data(&cert_ders[0]);

		leaf = p ? d2i_X509(NULL, &p, (long)wd_buf_len(&cert_ders[0])) : NULL;
		if (!leaf) {
			rc = rego_bi_error(ctx, "x509: malformed certificate");
			goto out;
		}
	}
	pkey = wd_buf_data(&key_der) ? parse_key(wd_buf_data(&key_der), wd_buf_len(&key_der))
				     : NULL;
	if (!pkey) {
		rc = rego_bi_error(ctx, "tls: failed to parse private key");
		goto out;
	}
	if (EVP_PKEY_eq(X509_get0_pubkey(leaf), pkey) != 1) {
		rc = rego_bi_error(ctx, "tls: private key does not match public key");
		goto out;
	}

	obj = rv_object_new(6);
	list = rv_array_new(cert_count);
	WD_ENSURE(obj && list, WD_ENOMEM);
	for (size_t i = 0; i < cert_count; i++)
		WD_GUARD(rv_array_push(list, x509_b64_value(wd_buf_data(&cert_ders[i]),
							    wd_buf_len(&cert_ders[i]))));
	WD_GUARD(x509_put(obj, "Certificate", WD_TAKE_PTR(list)));
	WD_GUARD(x509_key_value(pkey, true, &value));
	WD_GUARD(x509_put(obj, "PrivateKey", WD_TAKE_PTR(value)));
	WD_GUARD(x509_put(obj, "SupportedSignatureAlgorithms", rv_null()));
	WD_GUARD(x509_put(obj, "OCSPStaple", rv_null()));
	WD_GUARD(x509_put(obj, "SignedCertificateTimestamps", rv_null()));
	WD_GUARD(x509_cert_value(leaf, false, &value));
	WD_GUARD(x509_put(obj, "Leaf", WD_TAKE_PTR(value)));
	*ret = WD_TAKE_PTR(obj);
	rc = 0;
out:
	rv_unref(obj);
	rv_unref(list);
	rv_unref(value);
	EVP_PKEY_free(pkey);
	X509_free(leaf);
	for (size_t i = 0; i < cert_count; i++)
		wd_buf_free(&cert_ders[i]);
	wd_buf_free(&cert_text);
	wd_buf_free(&key_text);
	wd_buf_free(&key_der);
	wd_buf_free(&block.der);
	return rc;
}
