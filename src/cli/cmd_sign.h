/* Shared parts of `warden keygen`, `sign-blob` and `verify-blob`. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Largest password accepted at the prompt, in bytes. */
#define SIGN_PASSWORD_MAX 1024

/* A password read for a key file; sign_password_clear wipes it. */
struct sign_password {
	char *text;
	size_t len;
};

/* Takes the password from COSIGN_PASSWORD (which may be empty, as in
 * cosign), or prompts for it on the terminal without echo. With confirm, the
 * prompt reads it twice and both entries must match. Returns a CLI exit code
 * and prints why on failure. */
int sign_password_read(bool confirm, struct sign_password *ret_password);

/* Wipes and frees the password. */
void sign_password_clear(struct sign_password *password);

/* The shared parts of sign-blob, verify-blob, attest and verify-attestation
 * that load signers and trust (cmd_sign_material.c). */
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/error.h"
#include "supply/bundle.h"
#include "supply/verify.h"

/* A signing key: a cosign key file (chain is NULL), or an X.509-SVID's key
 * with its certificate chain, leaf first. */
struct sign_signer {
	EVP_PKEY *key;
	STACK_OF(X509) *chain;
};

/* Loads the signer from a cosign key file (key_path, password from
 * COSIGN_PASSWORD or the terminal) or from an SVID's PEM chain and PEM
 * private key, which must belong to the leaf. Exactly one of key_path and
 * svid_path is set. */
int sign_signer_load(const char *key_path, const char *svid_path, const char *svid_key_path,
	struct sign_signer *ret_signer, struct wd_error *err);

void sign_signer_clear(struct sign_signer *signer);

/* Sets the verification material of bundle from signer: the public key hint,
 * or a copy of the certificate chain. */
int sign_bundle_material(const struct sign_signer *signer, struct supply_bundle *bundle,
	struct wd_error *err);

/* Trust for verification: a public key file, or a trust bundle PEM file of
 * X.509 authorities with the expected SPIFFE ID. */
struct sign_trust {
	struct supply_trust trust;
	EVP_PKEY *key;
	STACK_OF(X509) *authorities;
	X509 **authority_array;
};

int sign_trust_load(const char *key_path, const char *trust_bundle_path,
	const char *spiffe_id, struct sign_trust *ret_trust, struct wd_error *err);

void sign_trust_clear(struct sign_trust *trust);

/* Checks the signer options of a command: --key, or --svid with
 * --svid-key. Returns CLI_CONTINUE, or prints the problem and returns
 * CLI_EXIT_USAGE. */
struct cli_spec;
int sign_check_signer_options(const struct cli_spec *spec, const char *key, const char *svid,
	const char *svid_key);

/* Checks the trust options of a command: --key, or --trust-bundle with
 * --spiffe-id. Returns as sign_check_signer_options does. */
int sign_check_trust_options(const struct cli_spec *spec, const char *key,
	const char *trust_bundle, const char *spiffe_id);

/* Prints "warden NAME: <detail>" and returns CLI_EXIT_FAILURE. */
int sign_report(const char *name, const struct wd_error *err);
