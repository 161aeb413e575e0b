/* `warden verify-blob`: checks a cosign signature file or a Sigstore bundle
 * over a file, against a public key or, for bundles signed with an
 * X.509-SVID, a trust bundle and the expected SPIFFE ID. */
#include <stdio.h>
#include <string.h>

#include "cli/cli_args.h"
#include "cli/cmd_sign.h"
#include "cli/commands.h"
#include "common/file.h"
#include "supply/dsse.h"

enum verify_option {
	OPT_KEY,
	OPT_SIGNATURE,
	OPT_BUNDLE,
	OPT_TRUST_BUNDLE,
	OPT_SPIFFE_ID,
};

struct verify_args {
	const char *key;
	const char *signature;
	const char *bundle;
	const char *trust_bundle;
	const char *spiffe_id;
};

static int verify_option(void *ctx, int id, const char *value)
{
	struct verify_args *args = ctx;

	switch ((enum verify_option)id) {
	case OPT_KEY:
		args->key = value;
		break;
	case OPT_SIGNATURE:
		args->signature = value;
		break;
	case OPT_BUNDLE:
		args->bundle = value;
		break;
	case OPT_TRUST_BUNDLE:
		args->trust_bundle = value;
		break;
	case OPT_SPIFFE_ID:
		args->spiffe_id = value;
		break;
	}
	return CLI_CONTINUE;
}

static const struct cli_option verify_blob_options[] = {
	{ "key", "PUB", OPT_KEY, "PEM public key file, e.g. cosign.pub" },
	{ "signature", "SIG", OPT_SIGNATURE, "file with the base64 signature" },
	{ "bundle", "FILE", OPT_BUNDLE,
		"Sigstore bundle (v0.1 to v0.3 JSON) to verify\ninstead of --signature" },
	{ "trust-bundle", "PEM", OPT_TRUST_BUNDLE,
		"the trust domain's CA certificates, for a bundle\n"
		"signed with an X.509-SVID (e.g. bundle.pem)" },
	{ "spiffe-id", "ID", OPT_SPIFFE_ID, "the SPIFFE ID the SVID signer must have" },
};

static const struct cli_spec verify_blob_spec = {
	.name = "verify-blob",
	.synopsis = "(--key PUB | --trust-bundle PEM --spiffe-id ID)\n"
		    "    (--signature SIG | --bundle FILE) FILE",
	.description = "Verifies an ECDSA P-256 signature over the SHA-256 digest of FILE, as\n"
		       "`cosign verify-blob` does offline: a base64 signature file or a Sigstore\n"
		       "bundle (a message signature, or a DSSE envelope whose in-toto Statement\n"
		       "names FILE's digest). A bundle signed with an X.509-SVID must name the\n"
		       "SPIFFE ID and chain to the trust bundle at a time the SVID was valid:\n"
		       "now, or its last second once it has expired. Transparency log entries\n"
		       "are not checked. Prints \"Verified OK\" and exits 0, or prints why and\n"
		       "exits 1.\n",
	.options = verify_blob_options,
	.option_count = WD_ARRAY_LEN(verify_blob_options),
	.min_operands = 1,
	.max_operands = 1,
	.operand_name = "FILE",
};

static int verify_signature_file(const struct verify_args *args, const char *path,
	struct wd_error *err)
{
	struct sign_trust trust = { 0 };
	uint8_t digest[SUPPLY_DIGEST_LEN];
	uint8_t *signature = NULL;
	size_t signature_len = 0;
	int rc;

	WD_GUARD(sign_trust_load(args->key, NULL, NULL, &trust, err));
	WD_GUARD(wd_file_read(args->signature, SUPPLY_KEY_FILE_MAX, &signature, &signature_len,
		err));
	WD_GUARD(supply_blob_digest_file(path, digest, err));
	WD_GUARD(supply_blob_verify(trust.key, digest, (const char *)signature, signature_len,
		err));
	rc = WD_OK;
out:
	free(signature);
	sign_trust_clear(&trust);
	return rc;
}

static int verify_bundle_file(const struct verify_args *args, const char *path,
	struct supply_verified *verified, struct wd_error *err)
{
	struct sign_trust trust = { 0 };
	uint8_t digest[SUPPLY_DIGEST_LEN];
	uint8_t *text = NULL;
	size_t len = 0;
	int rc;

	WD_GUARD(wd_file_read(args->bundle, SUPPLY_ENVELOPE_FILE_MAX, &text, &len, err));
	WD_GUARD(sign_trust_load(args->key, args->trust_bundle, args->spiffe_id, &trust, err));
	WD_GUARD(supply_blob_digest_file(path, digest, err));
	WD_GUARD(supply_verify_bundle_text(digest, (const char *)text, len, &trust.trust,
		verified, err));
	rc = WD_OK;
out:
	free(text);
	sign_trust_clear(&trust);
	return rc;
}

int cmd_verify_blob(int argc, char **argv)
{
	struct verify_args args = { 0 };
	struct supply_verified verified = { 0 };
	struct wd_error err = { 0 };
	struct cli_common common;
	char **operands;
	size_t count;
	int rc;

	rc = cli_parse(&verify_blob_spec, argc, argv, verify_option, &args, &common, &operands,
		&count);
	if (rc != CLI_CONTINUE)
		return rc;
	if (!args.signature && !args.bundle)
		return cli_usage_error(&verify_blob_spec, "missing --signature or --bundle");
	if (args.signature && args.bundle)
		return cli_usage_error(&verify_blob_spec, "--signature and --bundle exclude each other");
	if (args.signature && !args.key)
		return cli_usage_error(&verify_blob_spec, "missing --key");
	rc = sign_check_trust_options(&verify_blob_spec, args.key, args.trust_bundle,
		args.spiffe_id);
	if (rc != CLI_CONTINUE)
		return rc;

	if (args.signature)
		rc = verify_signature_file(&args, operands[0], &err);
	else
		rc = verify_bundle_file(&args, operands[0], &verified, &err);
	if (rc < 0)
		return sign_report("verify-blob", &err);
	printf("Verified OK\n");
	if (verified.spiffe_id[0] != '\0')
		fprintf(stderr, "Signed by %s\n", verified.spiffe_id);
	return CLI_EXIT_OK;
}
