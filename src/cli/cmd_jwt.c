/* `warden jwt mint`: a JWT-SVID signed by the server for a SPIFFE ID and
 * audience, printed alone so scripts can capture it. */
#include "cli/admin_client.h"
#include "cli/cli_args.h"
#include "cli/commands.h"

enum jwt_option {
	OPT_SPIFFE_ID,
	OPT_AUDIENCE,
	OPT_TTL,
};

static const struct cli_option mint_options[] = {
	{ "spiffe-id", "ID", OPT_SPIFFE_ID, "SPIFFE ID in the token's sub claim (required)" },
	{ "audience", "AUD", OPT_AUDIENCE,
		"value of the aud claim (required); repeat for more" },
	{ "ttl", "DURATION", OPT_TTL,
		"lifetime of the token, e.g. 5m (default: the\n"
		"server's JWT-SVID TTL; at most 30d, and never\n"
		"past the signing key's expiry)" },
};

static const struct cli_spec mint_spec = {
	.name = "jwt mint",
	.synopsis = "--spiffe-id ID --audience AUD... [--ttl DURATION]",
	.description = "Has the server sign a JWT-SVID and prints the compact token. The token\n"
		       "is a bearer credential: keep it out of logs.\n",
	.options = mint_options,
	.option_count = WD_ARRAY_LEN(mint_options),
	.common = CLI_COMMON_ADMIN_SOCKET | CLI_COMMON_JSON,
};

struct mint_args {
	const char *spiffe_id;
	struct cli_strings audience;
	bool has_ttl;
	int64_t ttl;  /* seconds */
};

static int mint_option(void *ctx, int id, const char *value)
{
	struct mint_args *args = ctx;

	switch ((enum jwt_option)id) {
	case OPT_SPIFFE_ID:
		args->spiffe_id = value;
		break;
	case OPT_AUDIENCE:
		return cli_strings_append(&args->audience, value);
	case OPT_TTL:
		args->has_ttl = true;
		return cli_parse_duration("--ttl", value, &args->ttl);
	}
	return CLI_CONTINUE;
}

static json_t *mint_request(const struct mint_args *args)
{
	json_t *audience = json_array();
	json_t *body = NULL;
	int failed = !audience;

	for (size_t i = 0; !failed && i < args->audience.count; i++)
		failed |= json_array_append_new(audience, json_string(args->audience.items[i]));
	if (!failed)
		body = json_pack("{s:s, s:O}", "spiffe_id", args->spiffe_id, "audience", audience);
	if (body && args->has_ttl &&
	    json_object_set_new(body, "ttl", json_integer(args->ttl)) < 0) {
		json_decref(body);
		body = NULL;
	}
	json_decref(audience);
	return body;
}

static int jwt_mint(int argc, char **argv)
{
	struct mint_args args = { 0 };
	struct admin_reply reply = { 0 };
	struct cli_common common;
	const char *token;
	char **operands;
	size_t count;
	json_t *body = NULL;
	int rc;

	rc = cli_parse(&mint_spec, argc, argv, mint_option, &args, &common, &operands, &count);
	if (rc != CLI_CONTINUE)
		goto out;
	if (!args.spiffe_id) {
		rc = cli_usage_error(&mint_spec, "missing --spiffe-id");
		goto out;
	}
	if (args.audience.count == 0) {
		rc = cli_usage_error(&mint_spec, "missing --audience: give at least one");
		goto out;
	}

	body = mint_request(&args);
	if (!body) {
		fprintf(stderr, "warden: out of memory\n");
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	rc = admin_call(admin_socket_resolve(common.admin_socket), "POST", "/v1/svid/jwt/mint",
		body, &reply);
	if (rc == CLI_EXIT_OK && common.json) {
		rc = admin_reply_print(&reply, stdout);
	} else if (rc == CLI_EXIT_OK) {
		token = json_string_value(json_object_get(reply.json, "token"));
		if (!token) {
			fprintf(stderr, "warden: the server's response has no \"token\"\n");
			rc = CLI_EXIT_FAILURE;
		} else {
			printf("%s\n", token);
		}
	}
out:
	admin_reply_clear(&reply);
	json_decref(body);
	cli_strings_free(&args.audience);
	return rc;
}

static const struct cli_command jwt_commands[] = {
	{ "mint", "issue a JWT-SVID", jwt_mint },
};

int cmd_jwt(int argc, char **argv)
{
	return cli_dispatch("jwt", jwt_commands, WD_ARRAY_LEN(jwt_commands), argc, argv);
}
