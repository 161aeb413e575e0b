/* Reading Sigstore bundles, versions 0.1 to 0.3, from their JSON form. The
 * reader is strict in the way of protobuf's JSON parsers: unknown fields,
 * wrong types and bad base64 are errors that name the field. */
#include <stdio.h>
#include <string.h>

#include "supply/bundle.h"
#include "supply/supply_json.h"

#define WHAT "bundle"

/* Ceiling on one DER certificate, in bytes. */
#define CERTIFICATE_MAX (64 * 1024)

/* Ceiling on a message signature; a DER ECDSA P-256 one is 72 bytes, and
 * RSA ones of other signers are larger. */
#define SIGNATURE_MAX 1024

void supply_bundle_clear(struct supply_bundle *bundle)
{
	if (!bundle)
		return;
	free(bundle->key_hint);
	sk_X509_pop_free(bundle->certificates, X509_free);
	free(bundle->signature);
	supply_dsse_clear(&bundle->envelope);
	memset(bundle, 0, sizeof(*bundle));
}

/* Maps the media type to the bundle's minor version (0.1 to 0.3). */
static int parse_media_type(const char *media_type, int *ret_minor, struct wd_error *err)
{
	static const struct {
		const char *media_type;
		int minor;
	} known[] = {
		{ SUPPLY_BUNDLE_MEDIA_TYPE_PREFIX "0.1", 1 },
		{ SUPPLY_BUNDLE_MEDIA_TYPE_PREFIX "0.2", 2 },
		{ SUPPLY_BUNDLE_MEDIA_TYPE_PREFIX "0.3", 3 },
		{ SUPPLY_BUNDLE_MEDIA_TYPE_V03, 3 },
	};

	for (size_t i = 0; i < WD_ARRAY_LEN(known); i++) {
		if (strcmp(media_type, known[i].media_type) == 0) {
			*ret_minor = known[i].minor;
			return WD_OK;
		}
	}
	return wd_error_set(err, WD_EUNSUPPORTED,
		WHAT ": unsupported mediaType \"%.128s\": expected %s or %s0.1 to 0.3", media_type,
		SUPPLY_BUNDLE_MEDIA_TYPE_V03, SUPPLY_BUNDLE_MEDIA_TYPE_PREFIX);
}

/* Decodes the rawBytes member of object (at path) as one DER certificate
 * and appends it to bundle->certificates. */
static int read_certificate(json_t *object, const char *path, struct supply_bundle *bundle,
	struct wd_error *err)
{
	static const char *const keys[] = { "rawBytes" };
	_wd_cleanup_(wd_freep) uint8_t *der = NULL;
	size_t der_len = 0;
	const unsigned char *cursor;
	X509 *cert;

	if (!json_is_object(object))
		return wd_error_set(err, WD_EINVAL, WHAT ": \"%.*s\" is not a JSON object",
			(int)strlen(path) - 1, path);
	WD_TRY(supply_json_check_keys(object, WHAT, path, keys, WD_ARRAY_LEN(keys), err));
	WD_TRY(supply_json_bytes(object, WHAT, path, "rawBytes", true, CERTIFICATE_MAX, &der,
		&der_len, err));

	cursor = der;
	cert = d2i_X509(NULL, &cursor, (long)der_len);
	if (!cert || cursor != der + der_len) {
		X509_free(cert);
		return wd_error_set(err, WD_EINVAL, WHAT ": field \"%srawBytes\" is not a DER "
			"X.509 certificate", path);
	}
	if (!sk_X509_push(bundle->certificates, cert)) {
		X509_free(cert);
		return WD_ENOMEM;
	}
	return WD_OK;
}

static int read_chain(json_t *chain, struct supply_bundle *bundle, struct wd_error *err)
{
	static const char *const keys[] = { "certificates" };
	const char *path = "verificationMaterial.x509CertificateChain.";
	char item_path[96];
	json_t *certificates;
	size_t count;

	WD_TRY(supply_json_check_keys(chain, WHAT, path, keys, WD_ARRAY_LEN(keys), err));
	WD_TRY(supply_json_array(chain, WHAT, path, "certificates", false, &certificates, err));
	count = json_array_size(certificates);
	if (count == 0)
		return wd_error_set(err, WD_EINVAL,
			WHAT ": the certificate chain \"%scertificates\" is empty", path);
	if (count > SUPPLY_BUNDLE_CERTS_MAX)
		return wd_error_set(err, WD_ETOOBIG,
			WHAT ": the certificate chain has %zu certificates, at most %d are allowed",
			count, SUPPLY_BUNDLE_CERTS_MAX);
	for (size_t i = 0; i < count; i++) {
		snprintf(item_path, sizeof(item_path), "%scertificates[%zu].", path, i);
		WD_TRY(read_certificate(json_array_get(certificates, i), item_path, bundle, err));
	}
	return WD_OK;
}

static int read_public_key(json_t *public_key, struct supply_bundle *bundle,
	struct wd_error *err)
{
	static const char *const keys[] = { "hint" };
	const char *path = "verificationMaterial.publicKey.";
	const char *hint = NULL;

	WD_TRY(supply_json_check_keys(public_key, WHAT, path, keys, WD_ARRAY_LEN(keys), err));
	WD_TRY(supply_json_string(public_key, WHAT, path, "hint", false, &hint, err));
	bundle->key_hint = strndup(hint ? hint : "", 256);
	return bundle->key_hint ? WD_OK : WD_ENOMEM;
}

/* Reads verificationMaterial: exactly one of publicKey,
 * x509CertificateChain and certificate. tlogEntries and
 * timestampVerificationData may be present; they are not verified. */
static int read_material(json_t *root, struct supply_bundle *bundle, struct wd_error *err)
{
	static const char *const keys[] = { "publicKey", "x509CertificateChain", "certificate",
		"tlogEntries", "timestampVerificationData" };
	const char *path = "verificationMaterial.";
	json_t *material, *public_key, *chain, *certificate;
	int forms;

	WD_TRY(supply_json_object(root, WHAT, "", "verificationMaterial", true, &material, err));
	WD_TRY(supply_json_check_keys(material, WHAT, path, keys, WD_ARRAY_LEN(keys), err));
	WD_TRY(supply_json_object(material, WHAT, path, "publicKey", false, &public_key, err));
	WD_TRY(supply_json_object(material, WHAT, path, "x509CertificateChain", false, &chain,
		err));
	WD_TRY(supply_json_object(material, WHAT, path, "certificate", false, &certificate, err));
	forms = (public_key != NULL) + (chain != NULL) + (certificate != NULL);
	if (forms != 1)
		return wd_error_set(err, WD_EINVAL, WHAT ": \"verificationMaterial\" needs exactly "
			"one of publicKey, x509CertificateChain and certificate, found %d", forms);

	if (public_key) {
		bundle->material = SUPPLY_MATERIAL_PUBLIC_KEY;
		return read_public_key(public_key, bundle, err);
	}
	bundle->certificates = sk_X509_new_null();
	if (!bundle->certificates)
		return WD_ENOMEM;
	if (chain) {
		bundle->material = SUPPLY_MATERIAL_CHAIN;
		return read_chain(chain, bundle, err);
	}
	bundle->material = SUPPLY_MATERIAL_CERTIFICATE;
	return read_certificate(certificate, "verificationMaterial.certificate.", bundle, err);
}

static int read_message_digest(json_t *digest, struct supply_bundle *bundle,
	struct wd_error *err)
{
	static const char *const keys[] = { "algorithm", "digest" };
	const char *path = "messageSignature.messageDigest.";
	_wd_cleanup_(wd_freep) uint8_t *bytes = NULL;
	const char *algorithm;
	size_t len = 0;

	WD_TRY(supply_json_check_keys(digest, WHAT, path, keys, WD_ARRAY_LEN(keys), err));
	WD_TRY(supply_json_string(digest, WHAT, path, "algorithm", true, &algorithm, err));
	if (strcmp(algorithm, "SHA2_256") != 0)
		return wd_error_set(err, WD_EUNSUPPORTED,
			WHAT ": unsupported message digest algorithm \"%.32s\", expected SHA2_256",
			algorithm);
	WD_TRY(supply_json_bytes(digest, WHAT, path, "digest", true, SUPPLY_DIGEST_LEN, &bytes,
		&len, err));
	if (len != SUPPLY_DIGEST_LEN)
		return wd_error_set(err, WD_EINVAL,
			WHAT ": field \"%sdigest\" is %zu bytes, a SHA2_256 digest is %d", path, len,
			SUPPLY_DIGEST_LEN);
	memcpy(bundle->message_digest, bytes, SUPPLY_DIGEST_LEN);
	bundle->has_message_digest = true;
	return WD_OK;
}

static int read_message_signature(json_t *message, struct supply_bundle *bundle,
	struct wd_error *err)
{
	static const char *const keys[] = { "messageDigest", "signature" };
	const char *path = "messageSignature.";
	json_t *digest;

	bundle->content = SUPPLY_CONTENT_MESSAGE_SIGNATURE;
	WD_TRY(supply_json_check_keys(message, WHAT, path, keys, WD_ARRAY_LEN(keys), err));
	WD_TRY(supply_json_object(message, WHAT, path, "messageDigest", false, &digest, err));
	if (digest)
		WD_TRY(read_message_digest(digest, bundle, err));
	WD_TRY(supply_json_bytes(message, WHAT, path, "signature", true, SIGNATURE_MAX,
		&bundle->signature, &bundle->signature_len, err));
	if (bundle->signature_len == 0)
		return wd_error_set(err, WD_EINVAL, WHAT ": field \"%ssignature\" is empty", path);
	return WD_OK;
}

static int read_content(json_t *root, struct supply_bundle *bundle, struct wd_error *err)
{
	json_t *message, *envelope;

	WD_TRY(supply_json_object(root, WHAT, "", "messageSignature", false, &message, err));
	WD_TRY(supply_json_object(root, WHAT, "", "dsseEnvelope", false, &envelope, err));
	if ((message != NULL) == (envelope != NULL))
		return wd_error_set(err, WD_EINVAL,
			WHAT ": needs exactly one of messageSignature and dsseEnvelope");
	if (message)
		return read_message_signature(message, bundle, err);
	bundle->content = SUPPLY_CONTENT_DSSE;
	return supply_dsse_from_json(envelope, WHAT, "dsseEnvelope.", &bundle->envelope, err);
}

int supply_bundle_parse(const char *text, size_t len, struct supply_bundle *ret_bundle,
	struct wd_error *err)
{
	static const char *const keys[] = { "mediaType", "verificationMaterial",
		"messageSignature", "dsseEnvelope" };
	struct supply_bundle bundle = { 0 };
	const char *media_type;
	json_t *root = NULL;
	int rc;

	memset(ret_bundle, 0, sizeof(*ret_bundle));
	WD_GUARD(supply_json_load(text, len, WHAT, &root, err));
	WD_GUARD(supply_json_string(root, WHAT, "", "mediaType", true, &media_type, err));
	WD_GUARD(parse_media_type(media_type, &bundle.minor_version, err));
	WD_GUARD(supply_json_check_keys(root, WHAT, "", keys, WD_ARRAY_LEN(keys), err));
	WD_GUARD(read_material(root, &bundle, err));
	WD_GUARD(read_content(root, &bundle, err));

	*ret_bundle = bundle;
	memset(&bundle, 0, sizeof(bundle));
	rc = WD_OK;
out:
	supply_bundle_clear(&bundle);
	json_decref(root);
	return rc;
}
