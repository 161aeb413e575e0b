/* Signers and trust for the signing commands: cosign key files, X.509-SVIDs
 * with their keys, public keys and SPIFFE trust bundles, read from files. */
#include <stdio.h>
#include <string.h>

#include "cli/cli_args.h"
#include "cli/cmd_sign.h"
#include "common/file.h"
#include "crypto/key.h"
#include "crypto/x509.h"

/* Ceiling on the certificates of an SVID file or trust bundle file. */
#define CERTS_MAX 64

/* Ceiling on a certificate PEM file, in bytes. */
#define CERT_FILE_MAX (1024 * 1024)

/* Puts "path: " before the detail of err, and returns rc. */
static int name_file(int rc, const char *path, struct wd_error *err)
{
	char detail[sizeof(err->detail)];

	snprintf(detail, sizeof(detail), "%s", wd_error_text(err));
	return wd_error_set(err, rc, "%s: %s", path, detail);
}

int sign_report(const char *name, const struct wd_error *err)
{
	fprintf(stderr, "warden %s: %s\n", name, wd_error_text(err));
	return CLI_EXIT_FAILURE;
}

int sign_check_signer_options(const struct cli_spec *spec, const char *key, const char *svid,
	const char *svid_key)
{
	if (key && (svid || svid_key))
		return cli_usage_error(spec, "--key and --svid exclude each other");
	if (!key && !svid && !svid_key)
		return cli_usage_error(spec, "missing --key, or --svid with --svid-key");
	if (!key && (!svid || !svid_key))
		return cli_usage_error(spec, "--svid and --svid-key go together");
	return CLI_CONTINUE;
}

int sign_check_trust_options(const struct cli_spec *spec, const char *key,
	const char *trust_bundle, const char *spiffe_id)
{
	if (key && (trust_bundle || spiffe_id))
		return cli_usage_error(spec, "--key and --trust-bundle exclude each other");
	if (!key && !trust_bundle && !spiffe_id)
		return cli_usage_error(spec, "missing --key, or --trust-bundle with --spiffe-id");
	if (!key && (!trust_bundle || !spiffe_id))
		return cli_usage_error(spec, "--trust-bundle and --spiffe-id go together");
	return CLI_CONTINUE;
}

static int load_cosign_key(const char *path, EVP_PKEY **ret_key, struct wd_error *err)
{
	struct sign_password password = { 0 };
	uint8_t *pem = NULL;
	size_t len = 0;
	int rc;

	WD_TRY(wd_file_read(path, SUPPLY_KEY_FILE_MAX, &pem, &len, err));
	if (sign_password_read(false, &password) != CLI_EXIT_OK) {
		free(pem);
		return wd_error_set(err, WD_EINVAL, "no password for %s", path);
	}
	rc = supply_private_key_from_pem((const char *)pem, len, password.text, password.len,
		ret_key, err);
	sign_password_clear(&password);
	free(pem);
	return rc;
}

static int load_certificates(const char *path, STACK_OF(X509) **ret_certs,
	struct wd_error *err)
{
	_wd_cleanup_(wd_freep) uint8_t *pem = NULL;
	size_t len = 0;
	int rc;

	WD_TRY(wd_file_read(path, CERT_FILE_MAX, &pem, &len, err));
	rc = crypto_x509_chain_from_pem((const char *)pem, len, CERTS_MAX, ret_certs, err);
	return rc < 0 ? name_file(rc, path, err) : WD_OK;
}

/* Loads an SVID's chain and key, and checks that the key is the leaf's. */
static int load_svid(const char *svid_path, const char *key_path,
	struct sign_signer *signer, struct wd_error *err)
{
	WD_TRY(load_certificates(svid_path, &signer->chain, err));
	WD_TRY(crypto_key_load(key_path, &signer->key, err));
	if (X509_check_private_key(sk_X509_value(signer->chain, 0), signer->key) != 1)
		return wd_error_set(err, WD_EINVAL,
			"%s does not hold the private key of the first certificate in %s", key_path,
			svid_path);
	return supply_key_check_type(signer->key, err);
}

int sign_signer_load(const char *key_path, const char *svid_path, const char *svid_key_path,
	struct sign_signer *ret_signer, struct wd_error *err)
{
	int rc;

	memset(ret_signer, 0, sizeof(*ret_signer));
	if (key_path)
		rc = load_cosign_key(key_path, &ret_signer->key, err);
	else
		rc = load_svid(svid_path, svid_key_path, ret_signer, err);
	if (rc < 0)
		sign_signer_clear(ret_signer);
	return rc;
}

void sign_signer_clear(struct sign_signer *signer)
{
	EVP_PKEY_free(signer->key);
	sk_X509_pop_free(signer->chain, X509_free);
	memset(signer, 0, sizeof(*signer));
}

int sign_bundle_material(const struct sign_signer *signer, struct supply_bundle *bundle,
	struct wd_error *err)
{
	if (!signer->chain) {
		bundle->material = SUPPLY_MATERIAL_PUBLIC_KEY;
		return supply_bundle_key_hint(signer->key, &bundle->key_hint, err);
	}
	bundle->material = sk_X509_num(signer->chain) == 1 ? SUPPLY_MATERIAL_CERTIFICATE :
		SUPPLY_MATERIAL_CHAIN;
	bundle->certificates = X509_chain_up_ref(signer->chain);
	return bundle->certificates ? WD_OK : WD_ENOMEM;
}

static int load_public_key(const char *path, EVP_PKEY **ret_key, struct wd_error *err)
{
	_wd_cleanup_(wd_freep) uint8_t *pem = NULL;
	size_t len = 0;
	int rc;

	WD_TRY(wd_file_read(path, SUPPLY_KEY_FILE_MAX, &pem, &len, err));
	rc = supply_public_key_from_pem((const char *)pem, len, ret_key, err);
	return rc < 0 ? name_file(rc, path, err) : WD_OK;
}

static int load_trust_bundle(const char *path, struct sign_trust *trust, struct wd_error *err)
{
	int count;

	WD_TRY(load_certificates(path, &trust->authorities, err));
	count = sk_X509_num(trust->authorities);
	trust->authority_array = calloc((size_t)count, sizeof(*trust->authority_array));
	if (!trust->authority_array)
		return WD_ENOMEM;
	for (int i = 0; i < count; i++)
		trust->authority_array[i] = sk_X509_value(trust->authorities, i);
	trust->trust.authorities = trust->authority_array;
	trust->trust.authority_count = (size_t)count;
	return WD_OK;
}

int sign_trust_load(const char *key_path, const char *trust_bundle_path,
	const char *spiffe_id, struct sign_trust *ret_trust, struct wd_error *err)
{
	int rc;

	memset(ret_trust, 0, sizeof(*ret_trust));
	if (key_path) {
		rc = load_public_key(key_path, &ret_trust->key, err);
		ret_trust->trust.keys = &ret_trust->key;
		ret_trust->trust.key_count = 1;
	} else {
		rc = load_trust_bundle(trust_bundle_path, ret_trust, err);
		ret_trust->trust.spiffe_id = spiffe_id;
	}
	if (rc < 0)
		sign_trust_clear(ret_trust);
	return rc;
}

void sign_trust_clear(struct sign_trust *trust)
{
	EVP_PKEY_free(trust->key);
	sk_X509_pop_free(trust->authorities, X509_free);
	free(trust->authority_array);
	memset(trust, 0, sizeof(*trust));
}
