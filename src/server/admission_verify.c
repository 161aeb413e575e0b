/* Verification of one registered signature against the admission trust. The
 * supply library checks the signature, chain and subject. This file picks
 * the trust it runs with and adds the server's own state: the current CA
 * bundle, its CRL and the configured signer lists. */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "crypto/x509.h"
#include "identity/x509svid.h"
#include "server/admission_internal.h"
#include "supply/bundle.h"
#include "supply/verify.h"

/* The form of a signature's text. A bare DSSE envelope has no mediaType, and
 * a bundle's content is a message signature or an attestation. */
struct content_form {
	bool is_bundle;
	struct supply_bundle bundle;   /* parsed when is_bundle */
	bool attestation;
};

static void content_form_clear(struct content_form *form)
{
	if (form->is_bundle)
		supply_bundle_clear(&form->bundle);
	memset(form, 0, sizeof(*form));
}

static int read_form(const char *text, size_t len, struct content_form *ret_form,
	struct wd_error *err)
{
	json_t *root = NULL;
	bool is_bundle;

	memset(ret_form, 0, sizeof(*ret_form));
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		return wd_error_set(err, WD_EINVAL,
			"invalid signature: expected a Sigstore bundle or a DSSE envelope as a JSON "
			"object");
	}
	is_bundle = json_object_get(root, "mediaType") != NULL;
	json_decref(root);

	if (!is_bundle) {
		ret_form->attestation = true;
		return 0;
	}
	WD_TRY(supply_bundle_parse(text, len, &ret_form->bundle, err));
	ret_form->is_bundle = true;
	ret_form->attestation = ret_form->bundle.content == SUPPLY_CONTENT_DSSE;
	return 0;
}

static bool listed(char *const *items, size_t count, const char *value)
{
	for (size_t i = 0; i < count; i++) {
		if (strcmp(items[i], value) == 0)
			return true;
	}
	return false;
}

/* Fills trust for an SVID signer: the CA certificates of the current
 * bundle, and the leaf's SPIFFE ID when admission.trusted_spiffe_ids lists
 * it. The chain itself is checked by the supply library. */
static int trust_svid_signer(struct admission *admission, struct authority *authority,
	X509 *leaf, STACK_OF(X509) **ret_authorities, X509 ***ret_array,
	char signer[static ADMISSION_SIGNER_MAX], struct supply_trust *trust,
	struct wd_error *err)
{
	struct spiffe_id id;
	X509 **array = NULL;
	int count;

	if (admission->spiffe_id_count == 0)
		return wd_error_set(err, WD_ECRYPTO, "untrusted signer: the signature comes with "
			"an X.509 certificate, and admission.trusted_spiffe_ids is empty");
	if (!leaf)
		return wd_error_set(err, WD_EINVAL, "the bundle's certificate chain is empty");
	WD_TRY(x509svid_spiffe_id(leaf, &id, err));
	WD_TRY(spiffe_id_format(&id, signer, ADMISSION_SIGNER_MAX));
	if (!listed(admission->spiffe_ids, admission->spiffe_id_count, signer))
		return wd_error_set(err, WD_ECRYPTO, "untrusted signer: the certificate's SPIFFE ID "
			"is %.300s, which admission.trusted_spiffe_ids does not list", signer);

	WD_TRY(authority_x509_authorities(authority, ret_authorities, err));
	count = sk_X509_num(*ret_authorities);
	if (count <= 0)
		return wd_error_set(err, WD_EUNAVAILABLE, "the trust bundle has no X.509 authority");
	array = wd_calloc((size_t)count, sizeof(*array));
	if (!array)
		return wd_error_set(err, WD_ENOMEM, "admission: out of memory");
	for (int i = 0; i < count; i++)
		array[i] = sk_X509_value(*ret_authorities, i);
	*ret_array = array;
	trust->authorities = array;
	trust->authority_count = (size_t)count;
	trust->spiffe_id = signer;
	return 0;
}

/* A revoked signing SVID no longer vouches for anything: revocation is how
 * an operator withdraws a leaked key before its certificate expires. */
static int check_not_revoked(struct authority *authority, X509 *leaf, const char *signer,
	struct wd_error *err)
{
	char serial[AUTHORITY_SERIAL_HEX_SIZE];
	bool revoked = false;

	WD_TRY(crypto_x509_serial_hex(leaf, serial, sizeof(serial)));
	WD_TRY(authority_is_revoked(authority, serial, &revoked, err));
	if (revoked)
		return wd_error_set(err, WD_EREVOKED, "the signer's X.509-SVID (serial %s of %.300s) "
			"is revoked", serial, signer);
	return 0;
}

/* A key-signed bundle names its key by a hint that proves nothing. When the
 * signature has failed and the hint matches no trusted key, the likely cause
 * is a key the server does not trust, and the error names that cause. */
static void explain_unknown_key(const struct admission *admission,
	const struct content_form *form, struct wd_error *err)
{
	const char *hint = form->is_bundle ? form->bundle.key_hint : "";

	if (!hint[0] || listed(admission->key_hints, admission->key_count, hint))
		return;
	wd_error_set(err, WD_ECRYPTO, "untrusted signer: the signature does not verify with "
		"admission.trusted_keys, and the bundle names key %.100s, which is not one of them",
		hint);
}

static int check_predicate_type(struct admission *admission, const char *predicate_type,
	struct wd_error *err)
{
	if (admission->predicate_type_count == 0 ||
	    listed(admission->predicate_types, admission->predicate_type_count, predicate_type))
		return 0;
	return wd_error_set(err, WD_ECRYPTO, "wrong predicate type: the attestation has "
		"\"%.300s\", which admission.predicate_types does not list", predicate_type);
}

int admission_verify(struct admission *admission, struct authority *authority,
	const uint8_t digest[static SUPPLY_DIGEST_LEN], const char *text, size_t len, int64_t now,
	struct admission_verdict *ret_verdict, struct wd_error *err)
{
	struct admission_verdict verdict = { 0 };
	struct supply_verified verified;
	struct supply_trust trust = {
		.keys = admission->keys,
		.key_count = admission->key_count,
		.now = now,
	};
	struct content_form form;
	STACK_OF(X509) *authorities = NULL;
	X509 **authority_array = NULL;
	X509 *leaf = NULL;
	int rc;

	memset(ret_verdict, 0, sizeof(*ret_verdict));
	WD_TRY(read_form(text, len, &form, err));
	verdict.kind = form.attestation ? "attestation" : "signature";

	if (form.is_bundle && form.bundle.material != SUPPLY_MATERIAL_PUBLIC_KEY) {
		leaf = sk_X509_value(form.bundle.certificates, 0);
		WD_GUARD(trust_svid_signer(admission, authority, leaf, &authorities,
			&authority_array, verdict.signer, &trust, err));
	} else if (admission->key_count == 0) {
		rc = wd_error_set(err, WD_ECRYPTO, "untrusted signer: the signature is made with a "
			"key, and admission.trusted_keys is empty");
		goto out;
	}

	if (form.attestation)
		rc = supply_verify_attestation(digest, text, len, &trust, NULL, &verified, err);
	else
		rc = supply_verify_bundle(digest, &form.bundle, &trust, &verified, err);
	if (rc == WD_ECRYPTO && !leaf)
		explain_unknown_key(admission, &form, err);
	WD_GUARD(rc);

	if (leaf)
		WD_GUARD(check_not_revoked(authority, leaf, verdict.signer, err));
	else
		snprintf(verdict.signer, sizeof(verdict.signer), "key:%s",
			admission->key_hints[verified.key_index]);
	if (form.attestation) {
		WD_GUARD(check_predicate_type(admission, verified.predicate_type, err));
		snprintf(verdict.predicate_type, sizeof(verdict.predicate_type), "%s",
			verified.predicate_type);
	}

	*ret_verdict = verdict;
	rc = 0;
out:
	free(authority_array);
	sk_X509_pop_free(authorities, X509_free);
	content_form_clear(&form);
	return rc;
}
