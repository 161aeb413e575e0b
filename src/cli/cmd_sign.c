/* `warden keygen`, `warden sign-blob` and `warden verify-blob`: key-based
 * blob signatures whose files cosign reads and writes (cosign.key,
 * cosign.pub, base64 signatures). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli/cli_args.h"
#include "cli/cmd_sign.h"
#include "cli/commands.h"
#include "common/file.h"
#include "supply/sign.h"

enum sign_option {
	OPT_OUTPUT_KEY_PREFIX,
	OPT_KEY,
	OPT_OUTPUT_SIGNATURE,
	OPT_SIGNATURE,
};

struct sign_args {
	const char *prefix;
	const char *key;
	const char *output_signature;
	const char *signature;
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
	case OPT_SIGNATURE:
		args->signature = value;
		break;
	}
	return CLI_CONTINUE;
}

/* Prints "warden NAME: <detail>" for a failed library call and returns the
 * failure exit code. */
static int report(const char *name, const struct wd_error *err)
{
	fprintf(stderr, "warden %s: %s\n", name, wd_error_text(err));
	return CLI_EXIT_FAILURE;
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
		rc = report("keygen", &err);
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
		rc = report("keygen", &err);
	else
		rc = write_key_pair(args.prefix, private_pem, public_pem);

	sign_password_clear(&password);
	free(private_pem);
	free(public_pem);
	EVP_PKEY_free(key);
	return rc;
}

static const struct cli_option sign_blob_options[] = {
	{ "key", "KEY", OPT_KEY, "encrypted private key file, e.g. cosign.key\n(required)" },
	{ "output-signature", "FILE", OPT_OUTPUT_SIGNATURE,
		"write the base64 signature to FILE instead of\nstandard output" },
};

static const struct cli_spec sign_blob_spec = {
	.name = "sign-blob",
	.synopsis = "--key KEY [--output-signature FILE] FILE",
	.description = "Signs the SHA-256 digest of FILE with ECDSA P-256 and prints the base64\n"
		       "DER signature, as `cosign sign-blob --key` does (without the upload to\n"
		       "a transparency log). The key's password comes from COSIGN_PASSWORD or\n"
		       "the terminal.\n",
	.options = sign_blob_options,
	.option_count = WD_ARRAY_LEN(sign_blob_options),
	.min_operands = 1,
	.max_operands = 1,
	.operand_name = "FILE",
};

static int load_private_key(const char *path, EVP_PKEY **ret_key, struct wd_error *err)
{
	struct sign_password password = { 0 };
	uint8_t *pem = NULL;
	size_t len = 0;
	int rc;

	rc = wd_file_read(path, SUPPLY_KEY_FILE_MAX, &pem, &len, err);
	if (rc < 0)
		return rc;
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

/* Writes the signature as cosign does: base64 without a newline to a file,
 * or with one on standard output. */
static int emit_signature(const char *output, const char *signature, struct wd_error *err)
{
	if (output)
		return wd_file_write_atomic(output, signature, strlen(signature), 0644, err);
	printf("%s\n", signature);
	return WD_OK;
}

int cmd_sign_blob(int argc, char **argv)
{
	struct sign_args args = { 0 };
	struct wd_error err = { 0 };
	struct cli_common common;
	uint8_t digest[SUPPLY_DIGEST_LEN];
	char *signature = NULL;
	EVP_PKEY *key = NULL;
	char **operands;
	size_t count;
	int rc;

	rc = cli_parse(&sign_blob_spec, argc, argv, sign_option, &args, &common, &operands, &count);
	if (rc != CLI_CONTINUE)
		return rc;
	if (!args.key)
		return cli_usage_error(&sign_blob_spec, "missing --key");

	if (supply_blob_digest_file(operands[0], digest, &err) < 0 ||
	    load_private_key(args.key, &key, &err) < 0 ||
	    supply_blob_sign(key, digest, &signature, &err) < 0 ||
	    emit_signature(args.output_signature, signature, &err) < 0)
		rc = report("sign-blob", &err);
	else
		rc = CLI_EXIT_OK;

	free(signature);
	EVP_PKEY_free(key);
	return rc;
}

static const struct cli_option verify_blob_options[] = {
	{ "key", "PUB", OPT_KEY, "PEM public key file, e.g. cosign.pub (required)" },
	{ "signature", "SIG", OPT_SIGNATURE, "file with the base64 signature (required)" },
};

static const struct cli_spec verify_blob_spec = {
	.name = "verify-blob",
	.synopsis = "--key PUB --signature SIG FILE",
	.description = "Verifies a base64 ECDSA P-256 signature over the SHA-256 digest of FILE,\n"
		       "as `cosign verify-blob --key` does offline. Prints \"Verified OK\" and\n"
		       "exits 0, or prints why and exits 1.\n",
	.options = verify_blob_options,
	.option_count = WD_ARRAY_LEN(verify_blob_options),
	.min_operands = 1,
	.max_operands = 1,
	.operand_name = "FILE",
};

static int verify_file(const struct sign_args *args, const char *path, struct wd_error *err)
{
	uint8_t digest[SUPPLY_DIGEST_LEN];
	uint8_t *pem = NULL;
	uint8_t *signature = NULL;
	size_t pem_len = 0, signature_len = 0;
	EVP_PKEY *key = NULL;
	int rc;

	WD_GUARD(wd_file_read(args->key, SUPPLY_KEY_FILE_MAX, &pem, &pem_len, err));
	WD_GUARD(wd_file_read(args->signature, SUPPLY_KEY_FILE_MAX, &signature, &signature_len,
		err));
	WD_GUARD(supply_public_key_from_pem((const char *)pem, pem_len, &key, err));
	WD_GUARD(supply_blob_digest_file(path, digest, err));
	WD_GUARD(supply_blob_verify(key, digest, (const char *)signature, signature_len, err));
	rc = WD_OK;
out:
	free(pem);
	free(signature);
	EVP_PKEY_free(key);
	return rc;
}

int cmd_verify_blob(int argc, char **argv)
{
	struct sign_args args = { 0 };
	struct wd_error err = { 0 };
	struct cli_common common;
	char **operands;
	size_t count;
	int rc;

	rc = cli_parse(&verify_blob_spec, argc, argv, sign_option, &args, &common, &operands,
		&count);
	if (rc != CLI_CONTINUE)
		return rc;
	if (!args.key)
		return cli_usage_error(&verify_blob_spec, "missing --key");
	if (!args.signature)
		return cli_usage_error(&verify_blob_spec, "missing --signature");

	if (verify_file(&args, operands[0], &err) < 0)
		return report("verify-blob", &err);
	printf("Verified OK\n");
	return CLI_EXIT_OK;
}
