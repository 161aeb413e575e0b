/* `warden signature add|list|delete`: the signatures and attestations that
 * admit binaries of entries with require_signed, through the admin API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/admin_client.h"
#include "cli/cli_args.h"
#include "cli/cli_format.h"
#include "cli/cli_request.h"
#include "cli/commands.h"
#include "common/encoding.h"
#include "common/file.h"
#include "supply/dsse.h"
#include "supply/sign.h"

enum signature_option {
	OPT_DIGEST,
	OPT_FILE,
};

static const struct cli_option add_options[] = {
	{ "digest", "sha256:HEX", OPT_DIGEST, "SHA-256 digest of the binary the bundle signs" },
	{ "file", "PATH", OPT_FILE, "the binary itself; its SHA-256 digest is computed" },
};

static const struct cli_option list_options[] = {
	{ "digest", "sha256:HEX", OPT_DIGEST, "only signatures of this digest" },
};

static const struct cli_spec add_spec = {
	.name = "signature add",
	.synopsis = "(--digest sha256:HEX | --file PATH) BUNDLE",
	.description = "Registers a signature of a binary with the server, which verifies it\n"
		       "against its admission trust (admission.trusted_keys and\n"
		       "admission.trusted_spiffe_ids) before storing it and again whenever an\n"
		       "entry with require_signed asks for an SVID. BUNDLE is a Sigstore bundle\n"
		       "from `warden sign-blob --bundle`, or the output of `warden attest` (a\n"
		       "DSSE envelope, or a bundle when an SVID signs). Prints the stored\n"
		       "signature.\n",
	.options = add_options,
	.option_count = WD_ARRAY_LEN(add_options),
	.common = CLI_COMMON_ADMIN_SOCKET | CLI_COMMON_JSON,
	.min_operands = 1,
	.max_operands = 1,
	.operand_name = "BUNDLE",
};

static const struct cli_spec list_spec = {
	.name = "signature list",
	.synopsis = "[--digest sha256:HEX]",
	.description = "Prints the registered signatures, oldest first.\n",
	.options = list_options,
	.option_count = WD_ARRAY_LEN(list_options),
	.common = CLI_COMMON_ADMIN_SOCKET | CLI_COMMON_JSON,
};

static const struct cli_spec delete_spec = {
	.name = "signature delete",
	.synopsis = "ID",
	.description = "Deletes a registered signature. Entries whose binary it admitted get no\n"
		       "new SVIDs until another signature admits it; SVIDs already issued stay\n"
		       "valid until they expire or are revoked.\n",
	.common = CLI_COMMON_ADMIN_SOCKET | CLI_COMMON_JSON,
	.min_operands = 1,
	.max_operands = 1,
	.operand_name = "signature ID",
};

struct signature_args {
	const char *digest;
	const char *file;
};

static int signature_option(void *ctx, int id, const char *value)
{
	struct signature_args *args = ctx;

	switch ((enum signature_option)id) {
	case OPT_DIGEST:
		args->digest = value;
		break;
	case OPT_FILE:
		args->file = value;
		break;
	}
	return CLI_CONTINUE;
}

/* Writes "sha256:<hex>" of the file at path to out; prints why on failure. */
static int file_digest(const char *path, char out[static 72])
{
	uint8_t digest[SUPPLY_DIGEST_LEN];
	struct wd_error err;
	char *hex = NULL;

	wd_error_clear(&err);
	if (supply_blob_digest_file(path, digest, &err) < 0) {
		fprintf(stderr, "warden signature add: %s\n", wd_error_text(&err));
		return CLI_EXIT_FAILURE;
	}
	if (wd_hex_encode(digest, sizeof(digest), &hex) < 0) {
		fprintf(stderr, "warden: out of memory\n");
		return CLI_EXIT_FAILURE;
	}
	snprintf(out, 72, "sha256:%s", hex);
	free(hex);
	return CLI_CONTINUE;
}

/* Builds {"digest", "bundle": <the file's text>}; the server parses and
 * verifies the text, so it is sent as read. */
static int add_body(const char *digest, const char *bundle_path, json_t **ret_body)
{
	struct wd_error err;
	uint8_t *text = NULL;
	size_t len = 0;

	*ret_body = NULL;
	wd_error_clear(&err);
	if (wd_file_read(bundle_path, SUPPLY_ENVELOPE_FILE_MAX, &text, &len, &err) < 0) {
		fprintf(stderr, "warden signature add: %s\n", wd_error_text(&err));
		return CLI_EXIT_FAILURE;
	}
	*ret_body = json_pack("{s:s, s:s%}", "digest", digest, "bundle", (const char *)text, len);
	free(text);
	if (!*ret_body) {
		fprintf(stderr, "warden signature add: %s is not UTF-8 text\n", bundle_path);
		return CLI_EXIT_FAILURE;
	}
	return CLI_CONTINUE;
}

static int signature_add(int argc, char **argv)
{
	struct signature_args args = { 0 };
	struct admin_reply reply = { 0 };
	struct cli_common common;
	char computed[72];
	char **operands;
	size_t count;
	json_t *body = NULL;
	int rc;

	rc = cli_parse(&add_spec, argc, argv, signature_option, &args, &common, &operands, &count);
	if (rc != CLI_CONTINUE)
		return rc;
	if ((args.digest == NULL) == (args.file == NULL))
		return cli_usage_error(&add_spec, "give exactly one of --digest and --file");
	if (args.file) {
		rc = file_digest(args.file, computed);
		if (rc != CLI_CONTINUE)
			return rc;
		args.digest = computed;
	}

	rc = add_body(args.digest, operands[0], &body);
	if (rc != CLI_CONTINUE)
		return rc;
	rc = admin_call(admin_socket_resolve(common.admin_socket), "POST", "/v1/signatures", body,
		&reply);
	if (rc == CLI_EXIT_OK && common.json)
		rc = admin_reply_print(&reply, stdout);
	else if (rc == CLI_EXIT_OK)
		cli_print_signature(stdout, reply.json);
	admin_reply_clear(&reply);
	json_decref(body);
	return rc;
}

static int signature_list(int argc, char **argv)
{
	struct signature_args args = { 0 };
	struct admin_reply reply = { 0 };
	struct cli_common common;
	struct wd_buf url;
	char **operands;
	size_t count;
	int rc;

	rc = cli_parse(&list_spec, argc, argv, signature_option, &args, &common, &operands,
		&count);
	if (rc != CLI_CONTINUE)
		return rc;

	wd_buf_init(&url, 0, 0);
	if (cli_url_init(&url, "/v1/signatures") < 0 ||
	    (args.digest && cli_url_append_query(&url, "digest", args.digest) < 0)) {
		fprintf(stderr, "warden: the --digest value is too long\n");
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	rc = admin_call(admin_socket_resolve(common.admin_socket), "GET", wd_buf_str(&url), NULL,
		&reply);
	if (rc == CLI_EXIT_OK && common.json)
		rc = admin_reply_print(&reply, stdout);
	else if (rc == CLI_EXIT_OK)
		cli_print_signature_list(stdout, json_object_get(reply.json, "signatures"));
out:
	admin_reply_clear(&reply);
	wd_buf_free(&url);
	return rc;
}

static int signature_delete(int argc, char **argv)
{
	struct admin_reply reply = { 0 };
	struct cli_common common;
	struct wd_buf url;
	char **operands;
	size_t count;
	int rc;

	rc = cli_parse(&delete_spec, argc, argv, NULL, NULL, &common, &operands, &count);
	if (rc != CLI_CONTINUE)
		return rc;

	wd_buf_init(&url, 0, 0);
	if (cli_url_init(&url, "/v1/signatures") < 0 ||
	    cli_url_append_segment(&url, operands[0]) < 0) {
		fprintf(stderr, "warden: signature ID '%.100s' is too long\n", operands[0]);
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	rc = admin_call(admin_socket_resolve(common.admin_socket), "DELETE", wd_buf_str(&url),
		NULL, &reply);
	if (rc == CLI_EXIT_OK && common.json) {
		rc = admin_reply_print(&reply, stdout);
	} else if (rc == CLI_EXIT_OK) {
		const char *id = json_string_value(json_object_get(reply.json, "id"));

		printf("Deleted signature %s\n", id ? id : operands[0]);
	}
out:
	admin_reply_clear(&reply);
	wd_buf_free(&url);
	return rc;
}

static const struct cli_command signature_commands[] = {
	{ "add", "register a signature or attestation of a binary", signature_add },
	{ "list", "list registered signatures", signature_list },
	{ "delete", "delete a registered signature", signature_delete },
};

int cmd_signature(int argc, char **argv)
{
	return cli_dispatch("signature", signature_commands, WD_ARRAY_LEN(signature_commands),
		argc, argv);
}
