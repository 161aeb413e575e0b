/* Writing Sigstore bundles in the v0.3 JSON form, and cosign's public key
 * hint. */
#include <string.h>

#include "common/encoding.h"
#include "supply/bundle.h"

int supply_bundle_key_hint(EVP_PKEY *key, char **ret_hint, struct wd_error *err)
{
	uint8_t digest[SUPPLY_DIGEST_LEN];
	unsigned char *der = NULL;
	int der_len;
	int rc;

	*ret_hint = NULL;
	der_len = i2d_PUBKEY(key, &der);
	if (der_len <= 0)
		return wd_error_set(err, WD_ECRYPTO, "encoding the public key as DER failed");
	rc = supply_digest_bytes(der, (size_t)der_len, digest, err);
	OPENSSL_free(der);
	if (rc < 0)
		return rc;
	return wd_base64_encode(digest, sizeof(digest), ret_hint);
}

/* Returns {"rawBytes": base64(DER of cert)}, or NULL. */
static json_t *certificate_json(X509 *cert)
{
	unsigned char *der = NULL;
	char *text = NULL;
	json_t *object = NULL;
	int der_len = i2d_X509(cert, &der);

	if (der_len > 0 && wd_base64_encode(der, (size_t)der_len, &text) == WD_OK)
		object = json_pack("{s:s}", "rawBytes", text);
	OPENSSL_free(der);
	free(text);
	return object;
}

static json_t *material_json(const struct supply_bundle *bundle)
{
	int count = bundle->certificates ? sk_X509_num(bundle->certificates) : 0;
	json_t *certificates;

	if (bundle->material == SUPPLY_MATERIAL_PUBLIC_KEY)
		return json_pack("{s:{s:s}}", "publicKey", "hint",
			bundle->key_hint ? bundle->key_hint : "");
	if (count < 1)
		return NULL;
	/* v0.3 puts a lone leaf in "certificate"; a chain with intermediates,
	 * which a SPIFFE trust bundle may not hold, stays in the older form. */
	if (count == 1)
		return json_pack("{s:o}", "certificate",
			certificate_json(sk_X509_value(bundle->certificates, 0)));

	certificates = json_array();
	for (int i = 0; certificates && i < count; i++) {
		if (json_array_append_new(certificates,
			    certificate_json(sk_X509_value(bundle->certificates, i))) != 0) {
			json_decref(certificates);
			return NULL;
		}
	}
	return json_pack("{s:{s:o}}", "x509CertificateChain", "certificates", certificates);
}

static json_t *message_json(const struct supply_bundle *bundle)
{
	char *digest = NULL;
	char *signature = NULL;
	json_t *object = NULL;

	if (wd_base64_encode(bundle->message_digest, SUPPLY_DIGEST_LEN, &digest) == WD_OK &&
	    wd_base64_encode(bundle->signature, bundle->signature_len, &signature) == WD_OK)
		object = json_pack("{s:{s:s, s:s}, s:s}", "messageDigest", "algorithm", "SHA2_256",
			"digest", digest, "signature", signature);
	free(digest);
	free(signature);
	return object;
}

int supply_bundle_write(const struct supply_bundle *bundle, char **ret_text,
	struct wd_error *err)
{
	json_t *root = NULL;
	json_t *material = NULL;
	json_t *content = NULL;
	char *text;
	int rc;

	*ret_text = NULL;
	WD_ENSURE(bundle->content == SUPPLY_CONTENT_DSSE || bundle->has_message_digest,
		wd_error_set(err, WD_EINVAL, "a message signature bundle needs its digest"));
	material = material_json(bundle);
	WD_ENSURE(material, wd_error_set(err, WD_EINVAL,
		"the bundle has no public key hint or certificate to write"));
	if (bundle->content == SUPPLY_CONTENT_DSSE)
		WD_GUARD(supply_dsse_to_json(&bundle->envelope, &content));
	else
		content = message_json(bundle);
	WD_ENSURE(content, WD_ENOMEM);

	root = json_pack("{s:s, s:O, s:O}", "mediaType", SUPPLY_BUNDLE_MEDIA_TYPE_V03,
		"verificationMaterial", material,
		bundle->content == SUPPLY_CONTENT_DSSE ? "dsseEnvelope" : "messageSignature",
		content);
	WD_ENSURE(root, WD_ENOMEM);
	text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	WD_ENSURE(text, WD_ENOMEM);
	*ret_text = text;
	rc = WD_OK;
out:
	json_decref(root);
	json_decref(material);
	json_decref(content);
	return rc;
}
