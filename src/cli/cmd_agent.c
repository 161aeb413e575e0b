/* `warden agent list|evict|ban`: the node agents the server has attested,
 * and `warden agent run`, the node agent daemon (cmd_agent_run.c). */
#include "cli/admin_client.h"
#include "cli/cli_args.h"
#include "cli/cli_format.h"
#include "cli/commands.h"

enum agent_option {
	OPT_SPIFFE_ID,
};

static const struct cli_option target_options[] = {
	{ "spiffe-id", "ID", OPT_SPIFFE_ID,
		"SPIFFE ID of the agent, as agent list prints it\n(required)" },
};

static const struct cli_spec list_spec = {
	.name = "agent list",
	.synopsis = "",
	.description = "Prints the attested node agents, banned ones included.\n",
	.common = CLI_COMMON_ADMIN_SOCKET | CLI_COMMON_JSON,
};

static const struct cli_spec evict_spec = {
	.name = "agent evict",
	.synopsis = "--spiffe-id ID",
	.description = "Deletes the agent's record and revokes its node SVIDs, so it must attest\n"
		       "again with a new join token. Evicting a banned agent lifts the ban.\n",
	.options = target_options,
	.option_count = WD_ARRAY_LEN(target_options),
	.common = CLI_COMMON_ADMIN_SOCKET | CLI_COMMON_JSON,
};

static const struct cli_spec ban_spec = {
	.name = "agent ban",
	.synopsis = "--spiffe-id ID",
	.description = "Revokes the agent's node SVIDs and rejects its attestation until it is\n"
		       "evicted.\n",
	.options = target_options,
	.option_count = WD_ARRAY_LEN(target_options),
	.common = CLI_COMMON_ADMIN_SOCKET | CLI_COMMON_JSON,
};

static int agent_list(int argc, char **argv)
{
	struct cli_common common;
	char **operands;
	size_t count;
	json_t *all;
	int rc;

	rc = cli_parse(&list_spec, argc, argv, NULL, NULL, &common, &operands, &count);
	if (rc != CLI_CONTINUE)
		return rc;

	all = json_array();
	if (!all) {
		fprintf(stderr, "warden: out of memory\n");
		return CLI_EXIT_FAILURE;
	}
	rc = admin_call_pages(admin_socket_resolve(common.admin_socket), "/v1/agents", "agents",
		all);
	if (rc == CLI_EXIT_OK && common.json)
		rc = cli_print_list_json(stdout, "agents", all);
	else if (rc == CLI_EXIT_OK)
		cli_print_agent_list(stdout, all);
	json_decref(all);
	return rc;
}

static int target_option(void *ctx, int id, const char *value)
{
	const char **spiffe_id = ctx;

	switch ((enum agent_option)id) {
	case OPT_SPIFFE_ID:
		*spiffe_id = value;
		break;
	}
	return CLI_CONTINUE;
}

/* Evicts or bans the agent named by --spiffe-id. The reply names the agent
 * under reply_key; done is the verb printed before it. */
static int agent_remove(const struct cli_spec *spec, const char *path, const char *reply_key,
	const char *done, int argc, char **argv)
{
	struct admin_reply reply = { 0 };
	struct cli_common common;
	const char *spiffe_id = NULL;
	const char *removed;
	char **operands;
	size_t count;
	json_t *body;
	int rc;

	rc = cli_parse(spec, argc, argv, target_option, &spiffe_id, &common, &operands, &count);
	if (rc != CLI_CONTINUE)
		return rc;
	if (!spiffe_id)
		return cli_usage_error(spec, "missing --spiffe-id");

	body = json_pack("{s:s}", "spiffe_id", spiffe_id);
	if (!body) {
		fprintf(stderr, "warden: out of memory\n");
		return CLI_EXIT_FAILURE;
	}
	rc = admin_call(admin_socket_resolve(common.admin_socket), "POST", path, body, &reply);
	if (rc == CLI_EXIT_OK && common.json) {
		rc = admin_reply_print(&reply, stdout);
	} else if (rc == CLI_EXIT_OK) {
		removed = json_string_value(json_object_get(reply.json, reply_key));
		printf("%s agent %s\n", done, removed ? removed : spiffe_id);
	}
	admin_reply_clear(&reply);
	json_decref(body);
	return rc;
}

static int agent_evict(int argc, char **argv)
{
	return agent_remove(&evict_spec, "/v1/agents/evict", "evicted", "Evicted", argc, argv);
}

static int agent_ban(int argc, char **argv)
{
	return agent_remove(&ban_spec, "/v1/agents/ban", "banned", "Banned", argc, argv);
}

/* Subcommands of `warden agent`. */
static const struct cli_command agent_commands[] = {
	{ "run", "run the node agent and its Workload API", cmd_agent_run },
	{ "list", "list the attested node agents", agent_list },
	{ "evict", "delete an agent so it must attest again", agent_evict },
	{ "ban", "revoke an agent and reject its attestation", agent_ban },
};

int cmd_agent(int argc, char **argv)
{
	return cli_dispatch("agent", agent_commands, WD_ARRAY_LEN(agent_commands), argc, argv);
}
