/* `warden db config write|read|list|delete|reset`: the connection configs
 * of the database secrets engine. The root password is read from a file or
 * stdin, never from the command line, where other users could see it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli/cli_args.h"
#include "cli/cmd_db.h"
#include "cli/commands.h"
#include "common/file.h"

/* Maximum length of the root password read, in bytes. */
#define PASSWORD_FILE_MAX 1024

enum config_option {
	OPT_PLUGIN_NAME = 1,
	OPT_CONNECTION_URL,
	OPT_USERNAME,
	OPT_PASSWORD_FILE,
	OPT_ALLOWED_ROLES,
	OPT_ROOT_ROTATION_STATEMENT,
	OPT_USERNAME_TEMPLATE,
	OPT_NO_VERIFY,
	OPT_PASSWORD_AUTHENTICATION,
	OPT_DISABLE_ESCAPING,
};

static const struct cli_option write_options[] = {
	DB_CLI_OPTIONS,
	{ "plugin-name", "NAME", OPT_PLUGIN_NAME,
		"database plugin (default postgresql-database-plugin, the only one)" },
	{ "connection-url", "URL", OPT_CONNECTION_URL,
		"libpq URL or key=value string with {{username}} and {{password}},\n"
		"e.g. postgresql://{{username}}:{{password}}@db:5432/app" },
	{ "username", "NAME", OPT_USERNAME, "root user that creates and drops users" },
	{ "password-file", "FILE", OPT_PASSWORD_FILE,
		"file with the root user's password on its first line ('-': stdin)" },
	{ "allowed-roles", "LIST", OPT_ALLOWED_ROLES,
		"comma-separated roles that may use this config; '*' for all\n(default none)" },
	{ "root-rotation-statement", "SQL", OPT_ROOT_ROTATION_STATEMENT,
		"statement of rotate-root, with {{username}} and {{password}};\nrepeat for more" },
	{ "username-template", "TEMPLATE", OPT_USERNAME_TEMPLATE,
		"Go template of generated usernames (default Vault's\nv-<display>-<role>-<random>-<time>)" },
	{ "no-verify", NULL, OPT_NO_VERIFY, "store the config without connecting first" },
	{ "password-authentication", "METHOD", OPT_PASSWORD_AUTHENTICATION,
		"password (default) or scram-sha-256: send {{password}} hashed" },
	{ "disable-escaping", NULL, OPT_DISABLE_ESCAPING,
		"put the root username and password into the URL unescaped" },
};

static const struct cli_option name_options[] = {
	DB_CLI_OPTIONS,
};

static const struct cli_spec write_spec = {
	.name = "db config write",
	.synopsis = "[options] NAME",
	.description = "Creates or updates connection config NAME. The server connects with it\n"
		       "and runs SELECT 1 first unless --no-verify is given.\n",
	.options = write_options,
	.option_count = WD_ARRAY_LEN(write_options),
	.common = CLI_COMMON_JSON,
	.min_operands = 1,
	.max_operands = 1,
	.operand_name = "config name",
};

static const struct cli_spec read_spec = {
	.name = "db config read",
	.synopsis = "[options] NAME",
	.description = "Prints connection config NAME; the root password is never shown.\n",
	.options = name_options,
	.option_count = WD_ARRAY_LEN(name_options),
	.common = CLI_COMMON_JSON,
	.min_operands = 1,
	.max_operands = 1,
	.operand_name = "config name",
};

static const struct cli_spec list_spec = {
	.name = "db config list",
	.synopsis = "[options]",
	.description = "Prints the names of the connection configs, one a line.\n",
	.options = name_options,
	.option_count = WD_ARRAY_LEN(name_options),
	.common = CLI_COMMON_JSON,
};

static const struct cli_spec delete_spec = {
	.name = "db config delete",
	.synopsis = "[options] NAME",
	.description = "Deletes connection config NAME and closes its connection. Leases made\n"
		       "with it stay, and their revocation fails until it exists again.\n",
	.options = name_options,
	.option_count = WD_ARRAY_LEN(name_options),
	.min_operands = 1,
	.max_operands = 1,
	.operand_name = "config name",
};

static const struct cli_spec reset_spec = {
	.name = "db config reset",
	.synopsis = "[options] NAME",
	.description = "Closes the connection of config NAME and connects again.\n",
	.options = name_options,
	.option_count = WD_ARRAY_LEN(name_options),
	.min_operands = 1,
	.max_operands = 1,
	.operand_name = "config name",
};

struct write_args {
	struct db_cli cli;
	json_t *body;
	json_t *statements;
	const char *password_file;
};

/* Reads the first line of path ('-': stdin) into a malloc'd string. */
static char *read_password(const char *path)
{
	uint8_t *data = NULL;
	size_t len = 0;
	struct wd_error err;

	if (!strcmp(path, "-")) {
		data = calloc(1, PASSWORD_FILE_MAX + 2);
		if (data)
			len = fread(data, 1, PASSWORD_FILE_MAX + 1, stdin);
		if (data && len > PASSWORD_FILE_MAX) {
			fprintf(stderr, "warden db config write: the password on stdin is longer than "
				"%d bytes\n", PASSWORD_FILE_MAX);
			OPENSSL_cleanse(data, len);
			free(data);
			return NULL;
		}
	} else if (wd_file_read(path, PASSWORD_FILE_MAX, &data, &len, &err) < 0) {
		fprintf(stderr, "warden db config write: %s\n", wd_error_text(&err));
		return NULL;
	}
	if (!data) {
		fprintf(stderr, "warden db config write: out of memory\n");
		return NULL;
	}
	data[strcspn((char *)data, "\r\n")] = '\0';
	return (char *)data;
}

static int set_string(json_t *body, const char *field, const char *value)
{
	if (json_object_set_new(body, field, json_string(value)) < 0) {
		fprintf(stderr, "warden db config write: invalid UTF-8 in %s\n", field);
		return CLI_EXIT_USAGE;
	}
	return CLI_CONTINUE;
}

static int write_option(void *ctx, int id, const char *value)
{
	struct write_args *args = ctx;

	if (db_cli_option(&args->cli, id, value))
		return CLI_CONTINUE;
	switch ((enum config_option)id) {
	case OPT_PLUGIN_NAME:
		return set_string(args->body, "plugin_name", value);
	case OPT_CONNECTION_URL:
		return set_string(args->body, "connection_url", value);
	case OPT_USERNAME:
		return set_string(args->body, "username", value);
	case OPT_PASSWORD_FILE:
		args->password_file = value;
		return CLI_CONTINUE;
	case OPT_ALLOWED_ROLES:
		return set_string(args->body, "allowed_roles", value);
	case OPT_ROOT_ROTATION_STATEMENT:
		if (json_array_append_new(args->statements, json_string(value)) < 0) {
			fprintf(stderr, "warden db config write: invalid UTF-8 in a statement\n");
			return CLI_EXIT_USAGE;
		}
		return CLI_CONTINUE;
	case OPT_USERNAME_TEMPLATE:
		return set_string(args->body, "username_template", value);
	case OPT_NO_VERIFY:
		return json_object_set_new(args->body, "verify_connection", json_false()) < 0 ?
			CLI_EXIT_FAILURE : CLI_CONTINUE;
	case OPT_PASSWORD_AUTHENTICATION:
		return set_string(args->body, "password_authentication", value);
	case OPT_DISABLE_ESCAPING:
		return json_object_set_new(args->body, "disable_escaping", json_true()) < 0 ?
			CLI_EXIT_FAILURE : CLI_CONTINUE;
	}
	return CLI_CONTINUE;
}

static int config_write(int argc, char **argv)
{
	struct write_args args = { .body = json_object(), .statements = json_array() };
	struct cli_common common;
	char **operands;
	size_t count;
	json_t *reply = NULL;
	char *password = NULL;
	int rc;

	if (!args.body || !args.statements) {
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	rc = cli_parse(&write_spec, argc, argv, write_option, &args, &common, &operands, &count);
	if (rc != CLI_CONTINUE)
		goto out;

	if (!json_object_get(args.body, "plugin_name") &&
		json_object_set_new(args.body, "plugin_name", json_string("postgresql-database-plugin")) < 0) {
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	if (json_array_size(args.statements) > 0 &&
		json_object_set(args.body, "root_rotation_statements", args.statements) < 0) {
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	if (args.password_file) {
		password = read_password(args.password_file);
		if (!password || json_object_set_new(args.body, "password", json_string(password)) < 0) {
			rc = CLI_EXIT_FAILURE;
			goto out;
		}
	}

	rc = db_cli_call(&args.cli, "db config write", "POST", "config", operands[0], args.body,
		&reply);
	if (rc == CLI_EXIT_OK) {
		db_cli_print_warnings(reply);
		printf("Success! Data written to: %s/config/%s\n",
			args.cli.mount ? args.cli.mount : DB_CLI_DEFAULT_MOUNT, operands[0]);
	}
out:
	if (password) {
		OPENSSL_cleanse(password, strlen(password));
		free(password);
	}
	json_decref(reply);
	json_decref(args.statements);
	json_decref(args.body);
	return rc == CLI_CONTINUE ? CLI_EXIT_OK : rc;
}

static int config_read(int argc, char **argv)
{
	return db_cli_simple(&read_spec, "GET", "config", argc, argv);
}

static int config_list(int argc, char **argv)
{
	return db_cli_simple(&list_spec, "LIST", "config", argc, argv);
}

static int config_delete(int argc, char **argv)
{
	return db_cli_simple(&delete_spec, "DELETE", "config", argc, argv);
}

static int config_reset(int argc, char **argv)
{
	return db_cli_simple(&reset_spec, "POST", "reset", argc, argv);
}

static const struct cli_command config_commands[] = {
	{ "write", "create or update a connection config", config_write },
	{ "read", "print a connection config", config_read },
	{ "list", "list the connection configs", config_list },
	{ "delete", "delete a connection config", config_delete },
	{ "reset", "reconnect a connection config", config_reset },
};

int cmd_db_config(int argc, char **argv)
{
	return cli_dispatch("db config", config_commands, WD_ARRAY_LEN(config_commands), argc,
		argv);
}
