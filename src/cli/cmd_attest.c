/* `warden attest` and `warden verify-attestation`: in-toto attestations
 * about a file, as a DSSE envelope signed with a cosign key, or as a
 * Sigstore bundle when an X.509-SVID signs, since the bundle carries the
 * certificate that a bare envelope has no place for. */
#include <stdio.h>
#include <string.h>

#include "cli/cli_args.h"
#include "cli/cmd_sign.h"
#include "cli/commands.h"
#include "common/file.h"
#include "supply/intoto.h"
#include "supply/supply_json.h"

enum attest_option {
	OPT_KEY,
	OPT_SVID,
	OPT_SVID_KEY,
	OPT_PREDICATE,
	OPT_TYPE,
	OPT_OUTPUT,
	OPT_TRUST_BUNDLE,
	OPT_SPIFFE_ID,
};

struct attest_args {
	const char *key;
	const char *svid;
	const char *svid_key;
	const char *predicate;
	const char *type;
	const char *output;
	const char *trust_bundle;
	const char *spiffe_id;
};

static int attest_option(void *ctx, int id, const char *value)
{
	struct attest_args *args = ctx;

	switch ((enum attest_option)id) {
	case OPT_KEY:
		args->key = value;
		break;
	case OPT_SVID:
		args->svid = value;
		break;
	case OPT_SVID_KEY:
		args->svid_key = value;
		break;
	case OPT_PREDICATE:
		args->predicate = value;
		break;
	case OPT_TYPE:
		args->type = value;
		break;
	case OPT_OUTPUT:
		args->output = value;
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

static const struct cli_option attest_options[] = {
	{ "key", "KEY", OPT_KEY, "encrypted private key file, e.g. cosign.key" },
	{ "svid", "CERT", OPT_SVID,
		"sign with an X.509-SVID instead: its PEM certificate\n"
		"chain, leaf first (e.g. svid.pem)" },
	{ "svid-key", "KEY", OPT_SVID_KEY, "the SVID's PEM private key (e.g. svid.key)" },
	{ "predicate", "FILE", OPT_PREDICATE, "JSON object to attest, e.g. an SBOM (required)" },
	{ "type", "TYPE", OPT_TYPE,
		"predicate type: spdx, cyclonedx, slsaprovenance,\n"
		"openvex or a URI (required)" },
	{ "output", "FILE", OPT_OUTPUT, "write to FILE instead of standard output" },
};

static const struct cli_spec attest_spec = {
	.name = "attest",
	.synopsis = "(--key KEY | --svid CERT --svid-key KEY) --predicate FILE\n"
		    "    --type TYPE [--output FILE] ARTIFACT",
	.description = "Writes an in-toto Statement v1 about ARTIFACT (its file name and SHA-256\n"
		       "digest) with the predicate, signed in a DSSE envelope of payload type\n"
		       "application/vnd.in-toto+json. With --svid the envelope goes into a\n"
		       "Sigstore bundle that also carries the SVID's certificate chain.\n",
	.options = attest_options,
	.option_count = WD_ARRAY_LEN(attest_options),
	.min_operands = 1,
	.max_operands = 1,
	.operand_name = "ARTIFACT",
};

/* Reads the predicate file as one JSON object. */
static int load_predicate(const char *path, json_t **ret_predicate, struct wd_error *err)
{
	_wd_cleanup_(wd_freep) uint8_t *text = NULL;
	size_t len = 0;
	int rc;

	WD_TRY(wd_file_read(path, SUPPLY_INTOTO_PREDICATE_MAX, &text, &len, err));
	rc = supply_json_load((const char *)text, len, path, ret_predicate, err);
	return rc;
}

static const char *file_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Encodes the signed envelope: bare for a cosign key, in a bundle for an
 * SVID. *ret_text is malloc'd. */
static int encode_attestation(const struct sign_signer *signer,
	struct supply_dsse_envelope *envelope, char **ret_text, struct wd_error *err)
{
	struct supply_bundle bundle = { .content = SUPPLY_CONTENT_DSSE };
	json_t *json = NULL;
	int rc;

	*ret_text = NULL;
	if (!signer->chain) {
		WD_TRY(supply_dsse_to_json(envelope, &json));
		*ret_text = json_dumps(json, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(json);
		return *ret_text ? WD_OK : WD_ENOMEM;
	}
	bundle.envelope = *envelope;
	memset(envelope, 0, sizeof(*envelope));
	WD_GUARD(sign_bundle_material(signer, &bundle, err));
	WD_GUARD(supply_bundle_write(&bundle, ret_text, err));
	rc = WD_OK;
out:
	supply_bundle_clear(&bundle);
	return rc;
}

static int emit(const char *output, const char *text, struct wd_error *err)
{
	if (output)
		return wd_file_write_atomic(output, text, strlen(text), 0644, err);
	printf("%s\n", text);
	return WD_OK;
}

static int attest_file(const struct attest_args *args, const char *path, struct wd_error *err)
{
	struct supply_dsse_envelope envelope = { 0 };
	struct sign_signer signer = { 0 };
	uint8_t digest[SUPPLY_DIGEST_LEN];
	const char *predicate_type;
	json_t *predicate = NULL;
	char *statement = NULL;
	char *text = NULL;
	size_t statement_len = 0;
	int rc;

	WD_GUARD(supply_predicate_type_resolve(args->type, &predicate_type, err));
	WD_GUARD(load_predicate(args->predicate, &predicate, err));
	WD_GUARD(supply_blob_digest_file(path, digest, err));
	WD_GUARD(supply_statement_build(file_name(path), digest, predicate_type, predicate,
		&statement, &statement_len, err));
	WD_GUARD(sign_signer_load(args->key, args->svid, args->svid_key, &signer, err));
	WD_GUARD(supply_dsse_sign(signer.key, "", SUPPLY_DSSE_INTOTO_TYPE,
		(const uint8_t *)statement, statement_len, &envelope, err));
	WD_GUARD(encode_attestation(&signer, &envelope, &text, err));
	WD_GUARD(emit(args->output, text, err));
	rc = WD_OK;
out:
	json_decref(predicate);
	free(statement);
	free(text);
	supply_dsse_clear(&envelope);
	sign_signer_clear(&signer);
	return rc;
}

int cmd_attest(int argc, char **argv)
{
	struct attest_args args = { 0 };
	struct wd_error err = { 0 };
	struct cli_common common;
	char **operands;
	size_t count;
	int rc;

	rc = cli_parse(&attest_spec, argc, argv, attest_option, &args, &common, &operands, &count);
	if (rc != CLI_CONTINUE)
		return rc;
	rc = sign_check_signer_options(&attest_spec, args.key, args.svid, args.svid_key);
	if (rc != CLI_CONTINUE)
		return rc;
	if (!args.predicate)
		return cli_usage_error(&attest_spec, "missing --predicate");
	if (!args.type)
		return cli_usage_error(&attest_spec, "missing --type");

	if (attest_file(&args, operands[0], &err) < 0)
		return sign_report("attest", &err);
	return CLI_EXIT_OK;
}

static const struct cli_option verify_options[] = {
	{ "key", "PUB", OPT_KEY, "PEM public key file, e.g. cosign.pub" },
	{ "trust-bundle", "PEM", OPT_TRUST_BUNDLE,
		"the trust domain's CA certificates, for an\n"
		"attestation signed with an X.509-SVID" },
	{ "spiffe-id", "ID", OPT_SPIFFE_ID, "the SPIFFE ID the SVID signer must have" },
	{ "type", "TYPE", OPT_TYPE,
		"required predicate type: spdx, cyclonedx,\n"
		"slsaprovenance, openvex or a URI (default: any)" },
};

static const struct cli_spec verify_spec = {
	.name = "verify-attestation",
	.synopsis = "(--key PUB | --trust-bundle PEM --spiffe-id ID) [--type TYPE]\n"
		    "    ARTIFACT ATTESTATION",
	.description = "Verifies an attestation written by `warden attest` or another DSSE\n"
		       "signer using ECDSA P-256: a DSSE envelope, or a Sigstore bundle holding\n"
		       "one. The signature over the envelope's PAE must verify, and the in-toto\n"
		       "Statement must have a subject with ARTIFACT's SHA-256 digest and, with\n"
		       "--type, that predicate type.\n"
		       "Prints \"Verified OK\" and exits 0, or prints why and exits 1.\n",
	.options = verify_options,
	.option_count = WD_ARRAY_LEN(verify_options),
	.min_operands = 2,
	.max_operands = 2,
	.operand_name = "ARTIFACT and ATTESTATION",
};

static int verify_file(const struct attest_args *args, const char *path,
	const char *attestation_path, struct supply_verified *verified, struct wd_error *err)
{
	struct sign_trust trust = { 0 };
	uint8_t digest[SUPPLY_DIGEST_LEN];
	const char *predicate_type = NULL;
	uint8_t *text = NULL;
	size_t len = 0;
	int rc;

	if (args->type)
		WD_GUARD(supply_predicate_type_resolve(args->type, &predicate_type, err));
	WD_GUARD(wd_file_read(attestation_path, SUPPLY_ENVELOPE_FILE_MAX, &text, &len, err));
	WD_GUARD(sign_trust_load(args->key, args->trust_bundle, args->spiffe_id, &trust, err));
	WD_GUARD(supply_blob_digest_file(path, digest, err));
	WD_GUARD(supply_verify_attestation(digest, (const char *)text, len, &trust.trust,
		predicate_type, verified, err));
	rc = WD_OK;
out:
	free(text);
	sign_trust_clear(&trust);
	return rc;
}

int cmd_verify_attestation(int argc, char **argv)
{
	struct attest_args args = { 0 };
	struct supply_verified verified = { 0 };
	struct wd_error err = { 0 };
	struct cli_common common;
	char **operands;
	size_t count;
	int rc;

	rc = cli_parse(&verify_spec, argc, argv, attest_option, &args, &common, &operands, &count);
	if (rc != CLI_CONTINUE)
		return rc;
	rc = sign_check_trust_options(&verify_spec, args.key, args.trust_bundle, args.spiffe_id);
	if (rc != CLI_CONTINUE)
		return rc;

	if (verify_file(&args, operands[0], operands[1], &verified, &err) < 0)
		return sign_report("verify-attestation", &err);
	printf("Verified OK\n");
	fprintf(stderr, "Predicate type %s\n", verified.predicate_type);
	if (verified.spiffe_id[0] != '\0')
		fprintf(stderr, "Signed by %s\n", verified.spiffe_id);
	return CLI_EXIT_OK;
}
