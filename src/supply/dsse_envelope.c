/* DSSE envelopes: JSON reading and writing, the pre-authentication encoding
 * and ECDSA P-256 signatures over it (DSSE protocol v1.0). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/encoding.h"
#include "supply/dsse.h"
#include "supply/supply_json.h"

/* Ceiling on one decoded signature; DER ECDSA P-256 needs 72 bytes, but
 * other signers' RSA signatures are larger. */
#define SIGNATURE_MAX 1024

void supply_dsse_clear(struct supply_dsse_envelope *envelope)
{
	if (!envelope)
		return;
	for (size_t i = 0; i < envelope->signature_count; i++) {
		free(envelope->signatures[i].keyid);
		free(envelope->signatures[i].sig);
	}
	free(envelope->signatures);
	free(envelope->payload_type);
	free(envelope->payload);
	memset(envelope, 0, sizeof(*envelope));
}

static int read_signature(json_t *item, const char *what, const char *path,
	struct supply_dsse_signature *ret_signature, struct wd_error *err)
{
	static const char *const keys[] = { "sig", "keyid" };
	const char *keyid = NULL;
	int rc;

	if (!json_is_object(item))
		return wd_error_set(err, WD_EINVAL, "%s: \"%s\" is not a JSON object", what, path);
	WD_TRY(supply_json_check_keys(item, what, path, keys, WD_ARRAY_LEN(keys), err));
	WD_TRY(supply_json_string(item, what, path, "keyid", false, &keyid, err));
	rc = supply_json_bytes(item, what, path, "sig", true, SIGNATURE_MAX, &ret_signature->sig,
		&ret_signature->sig_len, err);
	if (rc < 0)
		return rc;
	if (ret_signature->sig_len == 0)
		return wd_error_set(err, WD_EINVAL, "%s: field \"%ssig\" is empty", what, path);
	ret_signature->keyid = strdup(keyid ? keyid : "");
	return ret_signature->keyid ? WD_OK : WD_ENOMEM;
}

static int read_signatures(json_t *object, const char *what, const char *path,
	struct supply_dsse_envelope *envelope, struct wd_error *err)
{
	char item_path[128];
	json_t *array;
	size_t count;

	WD_TRY(supply_json_array(object, what, path, "signatures", true, &array, err));
	count = json_array_size(array);
	if (count == 0)
		return wd_error_set(err, WD_EINVAL, "%s: field \"%ssignatures\" is empty", what,
			path);
	if (count > SUPPLY_DSSE_SIGNATURES_MAX)
		return wd_error_set(err, WD_ETOOBIG,
			"%s: field \"%ssignatures\" has %zu entries, at most %d are allowed", what,
			path, count, SUPPLY_DSSE_SIGNATURES_MAX);

	envelope->signatures = calloc(count, sizeof(*envelope->signatures));
	if (!envelope->signatures)
		return WD_ENOMEM;
	for (size_t i = 0; i < count; i++) {
		snprintf(item_path, sizeof(item_path), "%ssignatures[%zu].", path, i);
		envelope->signature_count = i + 1;
		WD_TRY(read_signature(json_array_get(array, i), what, item_path,
			&envelope->signatures[i], err));
	}
	return WD_OK;
}

int supply_dsse_from_json(json_t *object, const char *what, const char *path,
	struct supply_dsse_envelope *ret_envelope, struct wd_error *err)
{
	static const char *const keys[] = { "payload", "payloadType", "signatures" };
	struct supply_dsse_envelope envelope = { 0 };
	const char *type = NULL;
	int rc;

	memset(ret_envelope, 0, sizeof(*ret_envelope));
	WD_GUARD(supply_json_check_keys(object, what, path, keys, WD_ARRAY_LEN(keys), err));
	WD_GUARD(supply_json_string(object, what, path, "payloadType", true, &type, err));
	WD_ENSURE(type[0] != '\0', wd_error_set(err, WD_EINVAL,
		"%s: field \"%spayloadType\" is empty", what, path));
	WD_ENSURE(strlen(type) <= SUPPLY_DSSE_TYPE_MAX, wd_error_set(err, WD_ETOOBIG,
		"%s: field \"%spayloadType\" is over %d bytes", what, path, SUPPLY_DSSE_TYPE_MAX));
	envelope.payload_type = strdup(type);
	WD_ENSURE(envelope.payload_type, WD_ENOMEM);
	WD_GUARD(supply_json_bytes(object, what, path, "payload", true, SUPPLY_DSSE_PAYLOAD_MAX,
		&envelope.payload, &envelope.payload_len, err));
	WD_GUARD(read_signatures(object, what, path, &envelope, err));

	*ret_envelope = envelope;
	memset(&envelope, 0, sizeof(envelope));
	rc = WD_OK;
out:
	supply_dsse_clear(&envelope);
	return rc;
}

int supply_dsse_parse(const char *text, size_t len, struct supply_dsse_envelope *ret_envelope,
	struct wd_error *err)
{
	json_t *root = NULL;
	int rc;

	memset(ret_envelope, 0, sizeof(*ret_envelope));
	WD_TRY(supply_json_load(text, len, "DSSE envelope", &root, err));
	rc = supply_dsse_from_json(root, "DSSE envelope", "", ret_envelope, err);
	json_decref(root);
	return rc;
}

/* Adds name: base64(data) to object. */
static int set_base64(json_t *object, const char *name, const uint8_t *data, size_t len)
{
	char *text = NULL;
	int rc = wd_base64_encode(data, len, &text);

	if (rc < 0)
		return rc;
	rc = json_object_set_new(object, name, json_string(text)) == 0 ? WD_OK : WD_ENOMEM;
	free(text);
	return rc;
}

int supply_dsse_to_json(const struct supply_dsse_envelope *envelope, json_t **ret_object)
{
	json_t *object = json_object();
	json_t *signatures = json_array();
	int rc;

	*ret_object = NULL;
	WD_ENSURE(object && signatures, WD_ENOMEM);
	WD_GUARD(set_base64(object, "payload", envelope->payload, envelope->payload_len));
	WD_ENSURE(json_object_set_new(object, "payloadType",
			  json_string(envelope->payload_type)) == 0, WD_ENOMEM);
	for (size_t i = 0; i < envelope->signature_count; i++) {
		const struct supply_dsse_signature *signature = &envelope->signatures[i];
		json_t *item = json_pack("{s:s}", "keyid", signature->keyid);

		WD_ENSURE(item, WD_ENOMEM);
		WD_ENSURE(json_array_append_new(signatures, item) == 0, WD_ENOMEM);
		WD_GUARD(set_base64(item, "sig", signature->sig, signature->sig_len));
	}
	WD_ENSURE(json_object_set(object, "signatures", signatures) == 0, WD_ENOMEM);
	*ret_object = WD_TAKE_PTR(object);
	rc = WD_OK;
out:
	json_decref(signatures);
	json_decref(object);
	return rc;
}

int supply_dsse_pae(const char *payload_type, const uint8_t *payload, size_t payload_len,
	uint8_t **ret_pae, size_t *ret_len)
{
	size_t type_len = strlen(payload_type);
	char header[64 + SUPPLY_DSSE_TYPE_MAX];
	uint8_t *pae;
	size_t total;
	int n;

	*ret_pae = NULL;
	*ret_len = 0;
	if (type_len > SUPPLY_DSSE_TYPE_MAX)
		return WD_ETOOBIG;
	n = snprintf(header, sizeof(header), "DSSEv1 %zu %s %zu ", type_len, payload_type,
		payload_len);
	if (n < 0 || (size_t)n >= sizeof(header))
		return WD_EINTERNAL;
	if (__builtin_add_overflow((size_t)n, payload_len, &total))
		return WD_ETOOBIG;

	pae = malloc(total + 1);
	if (!pae)
		return WD_ENOMEM;
	memcpy(pae, header, (size_t)n);
	if (payload_len > 0)
		memcpy(pae + n, payload, payload_len);
	*ret_pae = pae;
	*ret_len = total;
	return WD_OK;
}

/* Computes the SHA-256 digest of PAE(type, payload). */
static int pae_digest(const char *payload_type, const uint8_t *payload, size_t payload_len,
	uint8_t digest[static SUPPLY_DIGEST_LEN], struct wd_error *err)
{
	_wd_cleanup_(wd_freep) uint8_t *pae = NULL;
	size_t pae_len = 0;

	WD_TRY(supply_dsse_pae(payload_type, payload, payload_len, &pae, &pae_len));
	return supply_digest_bytes(pae, pae_len, digest, err);
}

int supply_dsse_sign(EVP_PKEY *key, const char *keyid, const char *payload_type,
	const uint8_t *payload, size_t payload_len, struct supply_dsse_envelope *ret_envelope,
	struct wd_error *err)
{
	struct supply_dsse_envelope envelope = { 0 };
	uint8_t digest[SUPPLY_DIGEST_LEN];
	int rc;

	memset(ret_envelope, 0, sizeof(*ret_envelope));
	WD_ENSURE(strlen(payload_type) <= SUPPLY_DSSE_TYPE_MAX, wd_error_set(err, WD_ETOOBIG,
		"DSSE payload type is over %d bytes", SUPPLY_DSSE_TYPE_MAX));
	WD_GUARD(pae_digest(payload_type, payload, payload_len, digest, err));

	envelope.payload_type = strdup(payload_type);
	envelope.payload = malloc(payload_len + 1);
	envelope.signatures = calloc(1, sizeof(*envelope.signatures));
	WD_ENSURE(envelope.payload_type && envelope.payload && envelope.signatures, WD_ENOMEM);
	envelope.signature_count = 1;
	if (payload_len > 0)
		memcpy(envelope.payload, payload, payload_len);
	envelope.payload_len = payload_len;
	envelope.signatures[0].keyid = strdup(keyid);
	WD_ENSURE(envelope.signatures[0].keyid, WD_ENOMEM);
	WD_GUARD(supply_digest_sign(key, digest, &envelope.signatures[0].sig,
		&envelope.signatures[0].sig_len, err));

	*ret_envelope = envelope;
	memset(&envelope, 0, sizeof(envelope));
	rc = WD_OK;
out:
	supply_dsse_clear(&envelope);
	return rc;
}

int supply_dsse_verify(const struct supply_dsse_envelope *envelope, EVP_PKEY *key,
	struct wd_error *err)
{
	uint8_t digest[SUPPLY_DIGEST_LEN];
	int rc = WD_ECRYPTO;

	WD_TRY(pae_digest(envelope->payload_type, envelope->payload, envelope->payload_len,
		digest, err));
	for (size_t i = 0; i < envelope->signature_count; i++) {
		const struct supply_dsse_signature *signature = &envelope->signatures[i];

		rc = supply_digest_verify(key, digest, signature->sig, signature->sig_len, err);
		if (rc == WD_OK || rc == WD_EUNSUPPORTED)
			return rc;
	}
	if (envelope->signature_count == 1 && rc == WD_EINVAL)
		return rc;
	return wd_error_set(err, WD_ECRYPTO,
		"invalid signature: none of the DSSE envelope's %zu signatures matches its "
		"payload and the public key", envelope->signature_count);
}
