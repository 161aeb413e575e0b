/* `warden bundle show`, `warden crl show` and `warden ca show`: what the
 * trust domain publishes (the bundle and the CRLs) and the CA's key slots. */
#include <string.h>
#include <unistd.h>

#include "cli/admin_client.h"
#include "cli/cli_args.h"
#include "cli/cli_format.h"
#include "cli/commands.h"

enum show_option {
	OPT_FORMAT,
};

static const struct cli_option bundle_options[] = {
	{ "format", "FORMAT", OPT_FORMAT,
		"pem: the CA certificates (default); spiffe:\n"
		"the SPIFFE bundle (JWK Set) with the JWT keys" },
};

static const struct cli_option crl_options[] = {
	{ "format", "FORMAT", OPT_FORMAT,
		"pem: every current CRL, the active CA's first\n"
		"(default); der: the active CA's CRL as binary DER" },
};

static const struct cli_spec bundle_spec = {
	.name = "bundle show",
	.synopsis = "[--format pem|spiffe]",
	.description = "Prints the trust bundle that verifies the trust domain's SVIDs.\n"
		       "--json is the same as --format spiffe.\n",
	.options = bundle_options,
	.option_count = WD_ARRAY_LEN(bundle_options),
	.common = CLI_COMMON_ADMIN_SOCKET | CLI_COMMON_JSON,
};

static const struct cli_spec crl_spec = {
	.name = "crl show",
	.synopsis = "[--format pem|der]",
	.description = "Prints the certificate revocation lists of the published CAs.\n",
	.options = crl_options,
	.option_count = WD_ARRAY_LEN(crl_options),
	.common = CLI_COMMON_ADMIN_SOCKET,
};

static const struct cli_spec ca_spec = {
	.name = "ca show",
	.synopsis = "",
	.description = "Prints the CA's key slots (prepared, active, old) with their validity\n"
		       "and fingerprints, and the bundle sequence.\n",
	.common = CLI_COMMON_ADMIN_SOCKET | CLI_COMMON_JSON,
};

/* The --format value, checked against the formats of one command. */
struct format_arg {
	const struct cli_spec *spec;
	const char *const *allowed;  /* NULL-terminated */
	const char *value;
};

static int format_option(void *ctx, int id, const char *value)
{
	struct format_arg *format = ctx;

	if (id != OPT_FORMAT)
		return CLI_CONTINUE;
	for (const char *const *name = format->allowed; *name; name++) {
		if (!strcmp(value, *name)) {
			format->value = *name;
			return CLI_CONTINUE;
		}
	}
	return cli_usage_error(format->spec, "invalid --format '%s': expected %s or %s", value,
		format->allowed[0], format->allowed[1]);
}

static int bundle_show(int argc, char **argv)
{
	static const char *const formats[] = { "pem", "spiffe", NULL };
	struct format_arg format = { &bundle_spec, formats, NULL };
	struct admin_reply reply = { 0 };
	struct cli_common common;
	char **operands;
	size_t count;
	const char *path;
	int rc;

	rc = cli_parse(&bundle_spec, argc, argv, format_option, &format, &common, &operands,
		&count);
	if (rc != CLI_CONTINUE)
		return rc;
	if (common.json && format.value && strcmp(format.value, "spiffe"))
		return cli_usage_error(&bundle_spec, "--json prints the SPIFFE bundle: it cannot "
			"be combined with --format %s", format.value);

	path = common.json || (format.value && !strcmp(format.value, "spiffe")) ?
		"/v1/bundle?format=spiffe" : "/v1/bundle?format=pem";
	rc = admin_call_raw(admin_socket_resolve(common.admin_socket), "GET", path, NULL, &reply);
	if (rc == CLI_EXIT_OK)
		rc = admin_reply_print(&reply, stdout);
	admin_reply_clear(&reply);
	return rc;
}

static int crl_show(int argc, char **argv)
{
	static const char *const formats[] = { "pem", "der", NULL };
	struct format_arg format = { &crl_spec, formats, NULL };
	struct admin_reply reply = { 0 };
	struct cli_common common;
	char **operands;
	size_t count;
	bool der;
	int rc;

	rc = cli_parse(&crl_spec, argc, argv, format_option, &format, &common, &operands, &count);
	if (rc != CLI_CONTINUE)
		return rc;
	der = format.value && !strcmp(format.value, "der");
	if (der && isatty(STDOUT_FILENO))
		return cli_usage_error(&crl_spec, "not writing binary DER to a terminal: redirect "
			"stdout to a file, or use --format pem");

	rc = admin_call_raw(admin_socket_resolve(common.admin_socket), "GET",
		der ? "/v1/crl?format=der" : "/v1/crl?format=pem", NULL, &reply);
	if (rc == CLI_EXIT_OK && der) {
		const struct net_response *response = reply.response;

		/* DER is written byte for byte, without the newline text gets. */
		if (fwrite(response->body, 1, response->body_len, stdout) != response->body_len ||
		    fflush(stdout) != 0) {
			fprintf(stderr, "warden: cannot write the CRL to stdout\n");
			rc = CLI_EXIT_FAILURE;
		}
	} else if (rc == CLI_EXIT_OK) {
		rc = admin_reply_print(&reply, stdout);
	}
	admin_reply_clear(&reply);
	return rc;
}

static int ca_show(int argc, char **argv)
{
	struct admin_reply reply = { 0 };
	struct cli_common common;
	char **operands;
	size_t count;
	int rc;

	rc = cli_parse(&ca_spec, argc, argv, NULL, NULL, &common, &operands, &count);
	if (rc != CLI_CONTINUE)
		return rc;

	rc = admin_call(admin_socket_resolve(common.admin_socket), "GET", "/v1/ca", NULL, &reply);
	if (rc == CLI_EXIT_OK && common.json)
		rc = admin_reply_print(&reply, stdout);
	else if (rc == CLI_EXIT_OK)
		cli_print_ca(stdout, reply.json);
	admin_reply_clear(&reply);
	return rc;
}

static const struct cli_command bundle_commands[] = {
	{ "show", "print the trust bundle", bundle_show },
};

static const struct cli_command crl_commands[] = {
	{ "show", "print the certificate revocation lists", crl_show },
};

static const struct cli_command ca_commands[] = {
	{ "show", "print the CA's key slots", ca_show },
};

int cmd_bundle(int argc, char **argv)
{
	return cli_dispatch("bundle", bundle_commands, WD_ARRAY_LEN(bundle_commands), argc, argv);
}

int cmd_crl(int argc, char **argv)
{
	return cli_dispatch("crl", crl_commands, WD_ARRAY_LEN(crl_commands), argc, argv);
}

int cmd_ca(int argc, char **argv)
{
	return cli_dispatch("ca", ca_commands, WD_ARRAY_LEN(ca_commands), argc, argv);
}
