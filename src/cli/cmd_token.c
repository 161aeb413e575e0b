/* `warden token generate`: a one-time join token with which a node agent
 * attests on first contact. */
#include "cli/admin_client.h"
#include "cli/cli_args.h"
#include "cli/cli_format.h"
#include "cli/commands.h"

enum token_option {
	OPT_TTL,
};

static const struct cli_option generate_options[] = {
	{ "ttl", "DURATION", OPT_TTL,
		"how long the token is valid, e.g. 30m\n(default 10m, at most 7d)" },
};

static const struct cli_spec generate_spec = {
	.name = "token generate",
	.synopsis = "[--ttl DURATION]",
	.description = "Creates a join token for one node agent and prints it with the SPIFFE ID\n"
		       "the agent will get. The token is a secret: hand it to the node only.\n",
	.options = generate_options,
	.option_count = WD_ARRAY_LEN(generate_options),
	.common = CLI_COMMON_ADMIN_SOCKET | CLI_COMMON_JSON,
};

struct generate_args {
	bool has_ttl;
	int64_t ttl;  /* seconds */
};

static int generate_option(void *ctx, int id, const char *value)
{
	struct generate_args *args = ctx;

	switch ((enum token_option)id) {
	case OPT_TTL:
		args->has_ttl = true;
		return cli_parse_duration("--ttl", value, &args->ttl);
	}
	return CLI_CONTINUE;
}

/* Prints the three lines scripts parse: "Token: ", "agent id: " and
 * "Expires at: ". */
static void print_token(const json_t *reply)
{
	const char *token = json_string_value(json_object_get(reply, "token"));
	const char *agent_id = json_string_value(json_object_get(reply, "agent_id"));
	char expires[WD_TIME_TEXT_MAX];

	cli_format_time(json_object_get(reply, "expires_at"), expires);
	printf("Token: %s\n", token ? token : "");
	printf("agent id: %s\n", agent_id ? agent_id : "");
	printf("Expires at: %s\n", expires);
}

static int token_generate(int argc, char **argv)
{
	struct generate_args args = { 0 };
	struct admin_reply reply = { 0 };
	struct cli_common common;
	char **operands;
	size_t count;
	json_t *body = NULL;
	int rc;

	rc = cli_parse(&generate_spec, argc, argv, generate_option, &args, &common, &operands,
		&count);
	if (rc != CLI_CONTINUE)
		return rc;

	/* Without --ttl no body is sent, so the server applies its default. */
	if (args.has_ttl) {
		body = json_pack("{s:I}", "ttl", (json_int_t)args.ttl);
		if (!body) {
			fprintf(stderr, "warden: out of memory\n");
			return CLI_EXIT_FAILURE;
		}
	}
	rc = admin_call(admin_socket_resolve(common.admin_socket), "POST", "/v1/tokens", body,
		&reply);
	if (rc == CLI_EXIT_OK && common.json)
		rc = admin_reply_print(&reply, stdout);
	else if (rc == CLI_EXIT_OK)
		print_token(reply.json);
	admin_reply_clear(&reply);
	json_decref(body);
	return rc;
}

static const struct cli_command token_commands[] = {
	{ "generate", "create a join token for a node agent", token_generate },
};

int cmd_token(int argc, char **argv)
{
	return cli_dispatch("token", token_commands, WD_ARRAY_LEN(token_commands), argc, argv);
}
