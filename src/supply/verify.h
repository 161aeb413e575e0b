/* Verification of signed artifacts as a library: a Sigstore bundle or a
 * DSSE attestation, checked against an artifact's SHA-256 digest and the
 * caller's trusted signers. The CLI's verify-blob and verify-attestation
 * use it, and so can a server that decides whether a binary is signed. It
 * reads no files, prints nothing and returns an error with the reason. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/error.h"
#include "common/macros.h"
#include "identity/spiffe_id.h"
#include "supply/bundle.h"
#include "supply/sign.h"

/* Whom to trust. Key-signed content needs keys; content signed with an
 * X.509-SVID needs the trust domain's authorities and the SPIFFE ID the
 * signer must have. Either set may be empty, and content whose kind of
 * signer has no trusted set is rejected. */
struct supply_trust {
	EVP_PKEY *const *keys;          /* ECDSA P-256 public keys */
	size_t key_count;
	X509 *const *authorities;       /* the trust bundle's X.509 authorities */
	size_t authority_count;
	const char *spiffe_id;          /* required with authorities */
	/* The time of the chain check, in Unix seconds; 0 means the clock.
	 * Nothing in a bundle warden writes proves when the signature was
	 * made. So by default the chain is checked at min(now, notAfter of the
	 * leaf), and an SVID that has since expired still verifies if it
	 * chained to the trust bundle while it was valid. SVIDs live for
	 * hours, and artifacts are verified for much longer. With
	 * require_current the check runs at now, so only a currently valid
	 * SVID is accepted. */
	int64_t now;
	bool require_current;
};

/* The facts a successful verification established. */
struct supply_verified {
	char spiffe_id[SPIFFE_ID_MAX_LEN + 16]; /* the SVID signer's; "" for keys */
	size_t key_index;                       /* the trusted key that verified */
	char predicate_type[1025];              /* attestations only */
};

/* Verifies bundle against the artifact digest. A messageSignature must
 * sign that digest, and carry it when it has a messageDigest. A
 * dsseEnvelope must hold an in-toto Statement with a subject of that
 * digest, signed over its PAE. The signer must be a trusted key (publicKey
 * material) or an X.509-SVID of trust->spiffe_id that chains to
 * trust->authorities (certificate material). ret_verified may be NULL.
 * Fails with WD_ECRYPTO for a signature, digest or identity mismatch,
 * WD_EINVAL when the trust lacks what the bundle needs, and the errors of
 * x509svid_verify for a chain that does not verify. */
WD_MUST_CHECK int supply_verify_bundle(const uint8_t digest[static SUPPLY_DIGEST_LEN],
	const struct supply_bundle *bundle, const struct supply_trust *trust,
	struct supply_verified *ret_verified, struct wd_error *err);

/* Parses bundle JSON text with supply_bundle_parse and verifies it. */
WD_MUST_CHECK int supply_verify_bundle_text(const uint8_t digest[static SUPPLY_DIGEST_LEN],
	const char *text, size_t len, const struct supply_trust *trust,
	struct supply_verified *ret_verified, struct wd_error *err);

/* Verifies an attestation: text is a bare DSSE envelope (signed by a
 * trusted key) or a Sigstore bundle whose content is a dsseEnvelope. The
 * payload type must be application/vnd.in-toto+json, the Statement must
 * have a subject with the artifact digest and, unless predicate_type is
 * NULL, that predicate type. Errors as supply_verify_bundle, and WD_ECRYPTO
 * naming both types for a predicate type mismatch. */
WD_MUST_CHECK int supply_verify_attestation(const uint8_t digest[static SUPPLY_DIGEST_LEN],
	const char *text, size_t len, const struct supply_trust *trust,
	const char *predicate_type, struct supply_verified *ret_verified, struct wd_error *err);
