/* `warden db role write|read|list|delete`: the dynamic roles of the
 * database secrets engine, each naming a connection config and the SQL
 * that creates, revokes, rolls back and renews its users. */
#include <stdio.h>
#include <string.h>

#include "cli/cli_args.h"
#include "cli/cmd_db.h"
#include "cli/commands.h"

enum role_option {
	OPT_DB_NAME = 1,
	OPT_CREATION_STATEMENT,
	OPT_REVOCATION_STATEMENT,
	OPT_ROLLBACK_STATEMENT,
	OPT_RENEW_STATEMENT,
	OPT_DEFAULT_TTL,
	OPT_MAX_TTL,
};

static const struct cli_option write_options[] = {
	DB_CLI_OPTIONS,
	{ "db-name", "NAME", OPT_DB_NAME, "connection config the role uses" },
	{ "creation-statement", "SQL", OPT_CREATION_STATEMENT,
		"SQL that creates the user, with {{name}}, {{password}} and\n"
		"{{expiration}}; repeat for more" },
	{ "revocation-statement", "SQL", OPT_REVOCATION_STATEMENT,
		"SQL that drops the user, with {{name}}; repeat for more\n"
		"(default: revoke its grants and DROP ROLE)" },
	{ "rollback-statement", "SQL", OPT_ROLLBACK_STATEMENT,
		"SQL that undoes a failed creation; repeat for more" },
	{ "renew-statement", "SQL", OPT_RENEW_STATEMENT,
		"SQL run on renewal, with {{name}} and {{expiration}}; repeat\n"
		"for more (default: ALTER ROLE ... VALID UNTIL)" },
	{ "default-ttl", "DURATION", OPT_DEFAULT_TTL,
		"lease TTL, as seconds or a Go duration such as 1h30m\n(default: the mount's)" },
	{ "max-ttl", "DURATION", OPT_MAX_TTL,
		"longest lease including renewals (default: the mount's)" },
};

static const struct cli_option name_options[] = {
	DB_CLI_OPTIONS,
};

static const struct cli_spec write_spec = {
	.name = "db role write",
	.synopsis = "[options] NAME",
	.description = "Creates or updates dynamic role NAME. A new role needs --db-name and at\n"
		       "least one --creation-statement.\n",
	.options = write_options,
	.option_count = WD_ARRAY_LEN(write_options),
	.common = CLI_COMMON_JSON,
	.min_operands = 1,
	.max_operands = 1,
	.operand_name = "role name",
};

static const struct cli_spec read_spec = {
	.name = "db role read",
	.synopsis = "[options] NAME",
	.description = "Prints dynamic role NAME.\n",
	.options = name_options,
	.option_count = WD_ARRAY_LEN(name_options),
	.common = CLI_COMMON_JSON,
	.min_operands = 1,
	.max_operands = 1,
	.operand_name = "role name",
};

static const struct cli_spec list_spec = {
	.name = "db role list",
	.synopsis = "[options]",
	.description = "Prints the names of the dynamic roles, one a line.\n",
	.options = name_options,
	.option_count = WD_ARRAY_LEN(name_options),
	.common = CLI_COMMON_JSON,
};

static const struct cli_spec delete_spec = {
	.name = "db role delete",
	.synopsis = "[options] NAME",
	.description = "Deletes dynamic role NAME. Its leases stay valid and are revoked with\n"
		       "the statements they were made with.\n",
	.options = name_options,
	.option_count = WD_ARRAY_LEN(name_options),
	.min_operands = 1,
	.max_operands = 1,
	.operand_name = "role name",
};

struct write_args {
	struct db_cli cli;
	json_t *body;
};

/* Appends value to the list field of the body, creating it. */
static int append_statement(json_t *body, const char *field, const char *value)
{
	json_t *list = json_object_get(body, field);

	if (!list) {
		list = json_array();
		if (!list || json_object_set_new(body, field, list) < 0)
			return CLI_EXIT_FAILURE;
	}
	if (json_array_append_new(list, json_string(value)) < 0) {
		fprintf(stderr, "warden db role write: invalid UTF-8 in %s\n", field);
		return CLI_EXIT_USAGE;
	}
	return CLI_CONTINUE;
}

static int set_string(json_t *body, const char *field, const char *value)
{
	if (json_object_set_new(body, field, json_string(value)) < 0) {
		fprintf(stderr, "warden db role write: invalid UTF-8 in %s\n", field);
		return CLI_EXIT_USAGE;
	}
	return CLI_CONTINUE;
}

static int write_option(void *ctx, int id, const char *value)
{
	struct write_args *args = ctx;

	if (db_cli_option(&args->cli, id, value))
		return CLI_CONTINUE;
	switch ((enum role_option)id) {
	case OPT_DB_NAME:
		return set_string(args->body, "db_name", value);
	case OPT_CREATION_STATEMENT:
		return append_statement(args->body, "creation_statements", value);
	case OPT_REVOCATION_STATEMENT:
		return append_statement(args->body, "revocation_statements", value);
	case OPT_ROLLBACK_STATEMENT:
		return append_statement(args->body, "rollback_statements", value);
	case OPT_RENEW_STATEMENT:
		return append_statement(args->body, "renew_statements", value);
	case OPT_DEFAULT_TTL:
		return set_string(args->body, "default_ttl", value);
	case OPT_MAX_TTL:
		return set_string(args->body, "max_ttl", value);
	}
	return CLI_CONTINUE;
}

static int role_write(int argc, char **argv)
{
	struct write_args args = { .body = json_object() };
	struct cli_common common;
	char **operands;
	size_t count;
	json_t *reply = NULL;
	int rc;

	if (!args.body)
		return CLI_EXIT_FAILURE;
	rc = cli_parse(&write_spec, argc, argv, write_option, &args, &common, &operands, &count);
	if (rc != CLI_CONTINUE) {
		json_decref(args.body);
		return rc;
	}

	rc = db_cli_call(&args.cli, "db role write", "POST", "roles", operands[0], args.body,
		&reply);
	if (rc == CLI_EXIT_OK) {
		db_cli_print_warnings(reply);
		printf("Success! Data written to: %s/roles/%s\n",
			args.cli.mount ? args.cli.mount : DB_CLI_DEFAULT_MOUNT, operands[0]);
	}
	json_decref(reply);
	json_decref(args.body);
	return rc;
}

static int role_read(int argc, char **argv)
{
	return db_cli_simple(&read_spec, "GET", "roles", argc, argv);
}

static int role_list(int argc, char **argv)
{
	return db_cli_simple(&list_spec, "LIST", "roles", argc, argv);
}

static int role_delete(int argc, char **argv)
{
	return db_cli_simple(&delete_spec, "DELETE", "roles", argc, argv);
}

static const struct cli_command role_commands[] = {
	{ "write", "create or update a dynamic role", role_write },
	{ "read", "print a dynamic role", role_read },
	{ "list", "list the dynamic roles", role_list },
	{ "delete", "delete a dynamic role", role_delete },
};

int cmd_db_role(int argc, char **argv)
{
	return cli_dispatch("db role", role_commands, WD_ARRAY_LEN(role_commands), argc, argv);
}
