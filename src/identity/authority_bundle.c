/* The trust bundle of the authority: every published slot's CA certificate
 * and JWT key, as SPIFFE bundle JSON, as PEM, and as copies for trust stores
 * and JWT verification. */
#include <inttypes.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "common/alloc.h"
#include "identity/authority_internal.h"
#include "identity/bundle.h"

/* Active first, so a client that tries authorities in order finds the one
 * that signs new SVIDs at once; the rest by slot id. */
size_t authority_slots_ordered(const struct authority *authority,
	struct authority_slot *ret_slots[static AUTHORITY_MAX_SLOTS])
{
	size_t count = 0;

	for (size_t i = 0; i < authority->slot_count; i++) {
		if (authority->slots[i]->state == AUTHORITY_SLOT_ACTIVE)
			ret_slots[count++] = authority->slots[i];
	}
	for (size_t i = 0; i < authority->slot_count; i++) {
		if (authority->slots[i]->state != AUTHORITY_SLOT_ACTIVE)
			ret_slots[count++] = authority->slots[i];
	}
	return count;
}

/* The view borrows the slots' certificates and keys; it is valid while the
 * lock is held. */
struct bundle_arrays {
	X509 *certs[AUTHORITY_MAX_SLOTS];
	struct jwt_authority jwt[AUTHORITY_MAX_SLOTS];
	struct bundle_view view;
};

static void bundle_view_locked(const struct authority *authority, struct bundle_arrays *arrays)
{
	struct authority_slot *ordered[AUTHORITY_MAX_SLOTS];
	size_t count = authority_slots_ordered(authority, ordered);

	for (size_t i = 0; i < count; i++) {
		arrays->certs[i] = ordered[i]->cert;
		arrays->jwt[i] = (struct jwt_authority){
			.kid = ordered[i]->jwt_kid,
			.key = ordered[i]->jwt_public,
		};
	}
	arrays->view = (struct bundle_view){
		.trust_domain = authority->trust_domain,
		.x509_authorities = arrays->certs,
		.x509_authority_count = count,
		.jwt_authorities = arrays->jwt,
		.jwt_authority_count = count,
		.sequence = authority->sequence,
		.refresh_hint_seconds = authority->config.refresh_hint_seconds,
	};
}

int authority_bundle_json(struct authority *authority, char **ret_json, struct wd_error *err)
{
	struct bundle_arrays arrays;
	int rc;

	*ret_json = NULL;
	pthread_mutex_lock(&authority->lock);
	bundle_view_locked(authority, &arrays);
	rc = bundle_to_spiffe_json(&arrays.view, ret_json, err);
	pthread_mutex_unlock(&authority->lock);
	return rc;
}

int authority_bundle_pem(struct authority *authority, char **ret_pem, struct wd_error *err)
{
	struct bundle_arrays arrays;
	int rc;

	*ret_pem = NULL;
	pthread_mutex_lock(&authority->lock);
	bundle_view_locked(authority, &arrays);
	rc = bundle_to_pem(&arrays.view, ret_pem, err);
	pthread_mutex_unlock(&authority->lock);
	return rc;
}

int authority_x509_authorities(struct authority *authority,
	STACK_OF(X509) **ret_authorities, struct wd_error *err)
{
	struct authority_slot *ordered[AUTHORITY_MAX_SLOTS];
	STACK_OF(X509) *stack = NULL;
	size_t count;
	int rc;

	*ret_authorities = NULL;
	stack = sk_X509_new_null();
	if (!stack)
		return wd_error_set(err, WD_ENOMEM, "copying the X.509 authorities: out of memory");

	pthread_mutex_lock(&authority->lock);
	count = authority_slots_ordered(authority, ordered);
	for (size_t i = 0; i < count; i++) {
		if (!X509_up_ref(ordered[i]->cert)) {
			rc = wd_error_set(err, WD_EINTERNAL, "referencing a CA certificate failed");
			goto out;
		}
		if (sk_X509_push(stack, ordered[i]->cert) <= 0) {
			X509_free(ordered[i]->cert);
			rc = wd_error_set(err, WD_ENOMEM,
				"copying the X.509 authorities: out of memory");
			goto out;
		}
	}

	*ret_authorities = WD_TAKE_PTR(stack);
	rc = 0;
out:
	pthread_mutex_unlock(&authority->lock);
	sk_X509_pop_free(stack, X509_free);
	return rc;
}

void authority_jwt_authorities_free(struct jwt_authority *authorities, size_t count)
{
	if (!authorities)
		return;
	for (size_t i = 0; i < count; i++) {
		free((char *)authorities[i].kid);
		EVP_PKEY_free(authorities[i].key);
	}
	free(authorities);
}

/* An EVP_PKEY cannot drop its private half, so the SubjectPublicKeyInfo is
 * encoded and parsed again. The signing keys never leave the authority this
 * way. */
EVP_PKEY *authority_public_key_copy(EVP_PKEY *key)
{
	unsigned char *der = NULL;
	const unsigned char *cursor;
	EVP_PKEY *copy;
	int len;

	len = i2d_PUBKEY(key, &der);
	if (len <= 0)
		return NULL;
	cursor = der;
	copy = d2i_PUBKEY(NULL, &cursor, len);
	OPENSSL_free(der);
	return copy;
}

int authority_jwt_authorities(struct authority *authority,
	struct jwt_authority **ret_authorities, size_t *ret_count, struct wd_error *err)
{
	struct authority_slot *ordered[AUTHORITY_MAX_SLOTS];
	struct jwt_authority *copies = NULL;
	size_t filled = 0;
	size_t count;
	int rc;

	*ret_authorities = NULL;
	*ret_count = 0;

	pthread_mutex_lock(&authority->lock);
	count = authority_slots_ordered(authority, ordered);
	copies = wd_calloc(count, sizeof(*copies));
	WD_ENSURE(copies, WD_ENOMEM);
	for (; filled < count; filled++) {
		char *kid = wd_strdup(ordered[filled]->jwt_kid);
		EVP_PKEY *key = authority_public_key_copy(ordered[filled]->jwt_public);

		if (!kid || !key) {
			free(kid);
			EVP_PKEY_free(key);
			rc = WD_ENOMEM;
			goto out;
		}
		copies[filled] = (struct jwt_authority){ .kid = kid, .key = key };
	}

	*ret_authorities = WD_TAKE_PTR(copies);
	*ret_count = count;
	rc = 0;
out:
	pthread_mutex_unlock(&authority->lock);
	if (rc < 0)
		wd_error_set(err, rc, "copying the JWT authorities failed");
	authority_jwt_authorities_free(copies, filled);
	return rc;
}
