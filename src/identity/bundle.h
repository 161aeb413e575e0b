/* Trust bundles: the trust domain's X.509 authorities and JWT keys, as a
 * SPIFFE bundle (a JWK Set with "use" x509-svid / jwt-svid,
 * spiffe_sequence and spiffe_refresh_hint) and as PEM. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "common/error.h"
#include "common/macros.h"
#include "identity/jwtsvid.h"

struct bundle_view {
	const char *trust_domain;
	X509 *const *x509_authorities;
	size_t x509_authority_count;
	const struct jwt_authority *jwt_authorities;
	size_t jwt_authority_count;
	uint64_t sequence;
	int64_t refresh_hint_seconds;
};

/* Encodes the bundle as SPIFFE bundle JSON (one JWK per X.509 authority with
 * x5c holding exactly that certificate and no kid; one JWK per JWT key with
 * its kid). */
WD_MUST_CHECK int bundle_to_spiffe_json(const struct bundle_view *bundle, char **ret_json,
	struct wd_error *err);

/* Encodes the X.509 authorities as concatenated PEM. */
WD_MUST_CHECK int bundle_to_pem(const struct bundle_view *bundle, char **ret_pem,
	struct wd_error *err);

/* A parsed SPIFFE bundle; free with bundle_parsed_free. */
struct bundle_parsed {
	STACK_OF(X509) *x509_authorities;
	struct jwt_authority *jwt_authorities;  /* kid and key owned here */
	size_t jwt_authority_count;
	uint64_t sequence;
	int64_t refresh_hint_seconds;           /* 0 when absent */
};

/* Parses SPIFFE bundle JSON: rejects duplicate keys, a missing "keys",
 * x509-svid keys whose x5c does not hold exactly one certificate and
 * jwt-svid keys without kid; ignores unknown kty and use values. */
WD_MUST_CHECK int bundle_from_spiffe_json(const char *json, size_t len,
	struct bundle_parsed **ret_bundle, struct wd_error *err);

void bundle_parsed_free(struct bundle_parsed *bundle);
