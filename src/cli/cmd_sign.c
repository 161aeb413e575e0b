/* `warden keygen` and `warden sign-blob`: blob signatures whose files cosign
 * reads and writes (cosign.key, cosign.pub, base64 signatures, Sigstore
 * bundles), made with a cosign key or an X.509-SVID's key.
 * `warden verify-blob` is in cmd_verify_blob.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli/cli_args.h"
#include "cli/cmd_sign.h"
#include "cli/commands.h"
#include "common/encoding.h"
#include "common/file.h"
#include "supply/sign.h"

enum sign_option {
	OPT_OUTPUT_KEY_PREFIX,
	OPT_KEY,
	OPT_OUTPUT_SIGNATURE,
	OPT_BUNDLE,
	OPT_SVID,
	OPT_SVID_KEY,
};

struct sign_args {
	const char *prefix;
	const char *key;
	const char *output_signature;
	const char *bundle;
	const char *svid;
	const char *svid_key;
};

static int sign_option(void *ctx, int id, const char *value)
{
	struct sign_args *args = ctx;

	switch ((enum sign_option)id) {
	case OPT_OUTPUT_KEY_PREFIX:
		args->prefix = value;
		break;
	case OPT_KEY:
		args->key = value;
		break;
	case OPT_OUTPUT_SIGNATURE:
		args->output_signature = value;
		break;
	case OPT_BUNDLE:
		args->bundle = value;
		break;
	case OPT_SVID:
		args->svid = value;
		break;
	case OPT_SVID_KEY:
		args->svid_key = value;
		break;
	}
	return CLI_CONTINUE;
}

static const struct cli_option keygen_options[] = {
	{ "output-key-prefix", "PREFIX", OPT_OUTPUT_KEY_PREFIX,
		"write PREFIX.key and PREFIX.pub (default: cosign)" },
};

static const struct cli_spec keygen_spec = {
	.name = "keygen",
	.synopsis = "[--output-key-prefix PREFIX]",
	.description = "Generates an ECDSA P-256 key pair as `cosign generate-key-pair` does:\n"
		       "PREFIX.key (mode 0600) holds the private key encrypted under a password\n"
		       "from COSIGN_PASSWORD or the terminal, PREFIX.pub the PEM public key.\n"
		       "Existing files are not overwritten.\n",
	.options = keygen_options,
	.option_count = WD_ARRAY_LEN(keygen_options),
};

/* Writes both key files unless either one already exists. */
static int write_key_pair(const char *prefix, const char *private_pem, const char *public_pem)
{
	struct wd_error err = { 0 };
	char *key_path = NULL;
	char *pub_path = NULL;
	int rc = CLI_EXIT_FAILURE;

	if (asprintf(&key_path, "%s.key", prefix) < 0 || asprintf(&pub_path, "%s.pub", prefix) < 0) {
		fprintf(stderr, "warden keygen: out of memory\n");
		goto out;
	}
	if (access(key_path, F_OK) == 0 || access(pub_path, F_OK) == 0) {
		fprintf(stderr, "warden keygen: %s or %s already exists: remove it or choose "
			"another --output-key-prefix\n", key_path, pub_path);
		goto out;
	}
	if (wd_file_write_atomic(key_path, private_pem, strlen(private_pem), 0600, &err) < 0 ||
	    wd_file_write_atomic(pub_path, public_pem, strlen(public_pem), 0644, &err) < 0) {
		rc = sign_report("keygen", &err);
		goto out;
	}
	fprintf(stderr, "Private key written to %s\nPublic key written to %s\n", key_path,
		pub_path);
	rc = CLI_EXIT_OK;
out:
	free(key_path);
	free(pub_path);
	return rc;
}

int cmd_keygen(int argc, char **argv)
{
	struct sign_args args = { .prefix = "cosign" };
	struct sign_password password = { 0 };
	struct wd_error err = { 0 };
	struct cli_common common;
	char *private_pem = NULL;
	char *public_pem = NULL;
	EVP_PKEY *key = NULL;
	char **operands;
	size_t count;
	int rc;

	rc = cli_parse(&keygen_spec, argc, argv, sign_option, &args, &common, &operands, &count);
	if (rc != CLI_CONTINUE)
		return rc;
	rc = sign_password_read(true, &password);
	if (rc != CLI_EXIT_OK)
		return rc;

	if (supply_key_generate(&key, &err) < 0 ||
	    supply_private_key_to_pem(key, password.text, password.len, &private_pem, &err) < 0 ||
	    supply_public_key_to_pem(key, &public_pem, &err) < 0)
		rc = sign_report("keygen", &err);
	else
		rc = write_key_pair(args.prefix, private_pem, public_pem);

	sign_password_clear(&password);
	free(private_pem);
	free(public_pem);
	EVP_PKEY_free(key);
	return rc;
}

static const struct cli_option sign_blob_options[] = {
	{ "key", "KEY", OPT_KEY, "encrypted private key file, e.g. cosign.key" },
	{ "svid", "CERT", OPT_SVID,
		"sign with an X.509-SVID instead: its PEM certificate\n"
		"chain, leaf first (e.g. svid.pem)" },
	{ "svid-key", "KEY", OPT_SVID_KEY, "the SVID's PEM private key (e.g. svid.key)" },
	{ "output-signature", "FILE", OPT_OUTPUT_SIGNATURE,
		"write the base64 signature to FILE instead of\nstandard output" },
	{ "bundle", "FILE", OPT_BUNDLE,
		"also write a Sigstore bundle (v0.3 JSON) with the\n"
		"signature, the artifact digest and the public key\n"
		"hint or the SVID's certificate chain" },
};

static const struct cli_spec sign_blob_spec = {
	.name = "sign-blob",
	.synopsis = "(--key KEY | --svid CERT --svid-key KEY) [--bundle FILE]\n"
		    "    [--output-signature FILE] FILE",
	.description = "Signs the SHA-256 digest of FILE with ECDSA P-256 and prints the base64\n"
		       "DER signature, as `cosign sign-blob --key` does (without the upload to\n"
		       "a transparency log). The key is a cosign key, whose password comes from\n"
		       "COSIGN_PASSWORD or the terminal, or the key of an X.509-SVID; then the\n"
		       "bundle carries the SVID's chain for verify-blob --trust-bundle.\n",
	.options = sign_blob_options,
	.option_count = WD_ARRAY_LEN(sign_blob_options),
	.min_operands = 1,
	.max_operands = 1,
	.operand_name = "FILE",
};

/* Writes the signature as cosign does: base64 without a newline to a file,
 * or with one on standard output. */
static int emit_signature(const char *output, const char *signature, struct wd_error *err)
{
	if (output)
		return wd_file_write_atomic(output, signature, strlen(signature), 0644, err);
	printf("%s\n", signature);
	return WD_OK;
}

/* Writes the Sigstore bundle of a message signature over digest. */
static int emit_bundle(const char *path, const struct sign_signer *signer,
	const uint8_t digest[static SUPPLY_DIGEST_LEN], const uint8_t *der, size_t der_len,
	struct wd_error *err)
{
	struct supply_bundle bundle = { .content = SUPPLY_CONTENT_MESSAGE_SIGNATURE };
	char *text = NULL;
	int rc;

	WD_GUARD(sign_bundle_material(signer, &bundle, err));
	bundle.has_message_digest = true;
	memcpy(bundle.message_digest, digest, SUPPLY_DIGEST_LEN);
	bundle.signature = malloc(der_len);
	WD_ENSURE(bundle.signature, WD_ENOMEM);
	memcpy(bundle.signature, der, der_len);
	bundle.signature_len = der_len;
	WD_GUARD(supply_bundle_write(&bundle, &text, err));
	WD_GUARD(wd_file_write_atomic(path, text, strlen(text), 0644, err));
	rc = WD_OK;
out:
	free(text);
	supply_bundle_clear(&bundle);
	return rc;
}

static int sign_file(const struct sign_args *args, const char *path, struct wd_error *err)
{
	struct sign_signer signer = { 0 };
	uint8_t digest[SUPPLY_DIGEST_LEN];
	uint8_t *der = NULL;
	size_t der_len = 0;
	char *signature = NULL;
	int rc;

	WD_GUARD(supply_blob_digest_file(path, digest, err));
	WD_GUARD(sign_signer_load(args->key, args->svid, args->svid_key, &signer, err));
	WD_GUARD(supply_digest_sign(signer.key, digest, &der, &der_len, err));
	WD_GUARD(wd_base64_encode(der, der_len, &signature));
	if (args->bundle)
		WD_GUARD(emit_bundle(args->bundle, &signer, digest, der, der_len, err));
	WD_GUARD(emit_signature(args->output_signature, signature, err));
	rc = WD_OK;
out:
	free(der);
	free(signature);
	sign_signer_clear(&signer);
	return rc;
}

int cmd_sign_blob(int argc, char **argv)
{
	struct sign_args args = { 0 };
	struct wd_error err = { 0 };
	struct cli_common common;
	char **operands;
	size_t count;
	int rc;

	rc = cli_parse(&sign_blob_spec, argc, argv, sign_option, &args, &common, &operands, &count);
	if (rc != CLI_CONTINUE)
		return rc;
	rc = sign_check_signer_options(&sign_blob_spec, args.key, args.svid, args.svid_key);
	if (rc != CLI_CONTINUE)
		return rc;

	if (sign_file(&args, operands[0], &err) < 0)
		return sign_report("sign-blob", &err);
	return CLI_EXIT_OK;
}
