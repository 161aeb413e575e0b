/* `warden db`: dynamic PostgreSQL credentials from the secrets API's
 * database engine. This file dispatches the group, defines the helpers the
 * subcommands share, and runs `creds` and `rotate-root`. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_args.h"
#include "cli/cmd_db.h"
#include "cli/commands.h"

/* Maximum length of a request path built here, in bytes. */
#define DB_CLI_PATH_MAX 1024

bool db_cli_option(struct db_cli *cli, int id, const char *value)
{
	if (id == DB_CLI_OPT_MOUNT) {
		cli->mount = value;
		return true;
	}
	return cli_vault_option(&cli->vault, id, value);
}

int db_cli_call(const struct db_cli *cli, const char *command, const char *method,
	const char *collection, const char *name, const json_t *body, json_t **ret_reply)
{
	const char *mount = cli->mount && *cli->mount ? cli->mount : DB_CLI_DEFAULT_MOUNT;
	size_t mount_len = strlen(mount);
	char path[DB_CLI_PATH_MAX];
	struct wd_error err;
	json_t *reply = NULL;
	int status = 0;
	int written;

	*ret_reply = NULL;
	while (mount_len > 0 && mount[mount_len - 1] == '/')
		mount_len--;
	written = snprintf(path, sizeof(path), "%.*s/%s%s%s", (int)mount_len, mount, collection,
		name ? "/" : "", name ? name : "");
	if (written < 0 || (size_t)written >= sizeof(path)) {
		fprintf(stderr, "warden %s: the request path is longer than %d bytes\n", command,
			DB_CLI_PATH_MAX);
		return CLI_EXIT_USAGE;
	}

	wd_error_clear(&err);
	if (cli_vault_request(&cli->vault, method, path, body, &status, &reply, &err) < 0) {
		fprintf(stderr, "warden %s: %s\n", command, wd_error_text(&err));
		return CLI_EXIT_FAILURE;
	}
	/* A list with no entries is Vault's 404 with no errors. */
	if (status == 404 && !strcmp(method, "LIST"))
		status = 204;
	if (status >= 400) {
		int rc = cli_vault_print_error(command, status, reply);

		json_decref(reply);
		return rc;
	}
	*ret_reply = reply;
	return CLI_EXIT_OK;
}

void db_cli_print_warnings(const json_t *reply)
{
	size_t index;
	const json_t *warning;

	json_array_foreach(json_object_get(reply, "warnings"), index, warning) {
		if (json_is_string(warning))
			fprintf(stderr, "WARNING! %s\n", json_string_value(warning));
	}
}

int db_cli_print_json(const json_t *value)
{
	if (json_dumpf(value, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0 ||
		fputc('\n', stdout) == EOF)
		return CLI_EXIT_FAILURE;
	return CLI_EXIT_OK;
}

static void print_value(const json_t *value)
{
	size_t index;
	const json_t *item;

	switch (json_typeof(value)) {
	case JSON_STRING:
		fputs(json_string_value(value), stdout);
		break;
	case JSON_INTEGER:
		printf("%" JSON_INTEGER_FORMAT, json_integer_value(value));
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		fputs(json_is_true(value) ? "true" : "false", stdout);
		break;
	case JSON_ARRAY:
		fputc('[', stdout);
		json_array_foreach(value, index, item) {
			if (index)
				fputc(' ', stdout);
			print_value(item);
		}
		fputc(']', stdout);
		break;
	case JSON_OBJECT: {
		char *text = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS);

		fputs(text ? text : "", stdout);
		free(text);
		break;
	}
	default:
		fputs("n/a", stdout);
		break;
	}
}

void db_cli_print_table(const json_t *data)
{
	const char *key;
	const json_t *value;

	printf("%-24s %s\n%-24s %s\n", "Key", "Value", "---", "-----");
	json_object_foreach((json_t *)data, key, value) {
		printf("%-24s ", key);
		print_value(value);
		fputc('\n', stdout);
	}
}

/* Handles the shared options, the only ones of the simple commands. */
static int name_option(void *ctx, int id, const char *value)
{
	db_cli_option(ctx, id, value);
	return CLI_CONTINUE;
}

int db_cli_simple(const struct cli_spec *spec, const char *method, const char *collection,
	int argc, char **argv)
{
	struct db_cli cli = { 0 };
	struct cli_common common = { 0 };
	char **operands;
	size_t count;
	json_t *reply = NULL;
	const json_t *data;
	int rc;

	rc = cli_parse(spec, argc, argv, name_option, &cli, &common, &operands, &count);
	if (rc != CLI_CONTINUE)
		return rc;
	rc = db_cli_call(&cli, spec->name, method, collection, count ? operands[0] : NULL, NULL,
		&reply);
	if (rc != CLI_EXIT_OK)
		return rc;

	db_cli_print_warnings(reply);
	data = json_object_get(reply, "data");
	if (common.json && reply) {
		rc = db_cli_print_json(reply);
	} else if (!strcmp(method, "LIST")) {
		size_t index;
		const json_t *key;

		json_array_foreach(json_object_get(data, "keys"), index, key)
			printf("%s\n", json_string_value(key));
	} else if (data) {
		db_cli_print_table(data);
	} else {
		printf("Success! %s %s\n", !strcmp(method, "DELETE") ? "Deleted" : "Done with",
			operands[0]);
	}
	json_decref(reply);
	return rc;
}

/* --- creds and rotate-root --- */

static const struct cli_option shared_options[] = {
	DB_CLI_OPTIONS,
};

static const struct cli_spec creds_spec = {
	.name = "db creds",
	.synopsis = "[options] ROLE",
	.description = "Creates a PostgreSQL user for the role and prints its username and\n"
		       "password with the lease that revokes it. The password is a secret.\n",
	.options = shared_options,
	.option_count = WD_ARRAY_LEN(shared_options),
	.common = CLI_COMMON_JSON,
	.min_operands = 1,
	.max_operands = 1,
	.operand_name = "role",
};

static const struct cli_spec rotate_spec = {
	.name = "db rotate-root",
	.synopsis = "[options] NAME",
	.description = "Gives the root user of connection config NAME a new random password in\n"
		       "PostgreSQL and stores it in the server. Nobody learns the new password.\n",
	.options = shared_options,
	.option_count = WD_ARRAY_LEN(shared_options),
	.common = CLI_COMMON_JSON,
	.min_operands = 1,
	.max_operands = 1,
	.operand_name = "config name",
};

static int db_creds(int argc, char **argv)
{
	struct db_cli cli = { 0 };
	struct cli_common common;
	char **operands;
	size_t count;
	json_t *reply = NULL;
	json_t *table;
	int rc;

	rc = cli_parse(&creds_spec, argc, argv, name_option, &cli, &common, &operands, &count);
	if (rc != CLI_CONTINUE)
		return rc;
	rc = db_cli_call(&cli, "db creds", "GET", "creds", operands[0], NULL, &reply);
	if (rc != CLI_EXIT_OK)
		return rc;

	db_cli_print_warnings(reply);
	if (common.json) {
		rc = db_cli_print_json(reply);
		json_decref(reply);
		return rc;
	}

	/* Vault's CLI shows the lease first, then the data. */
	table = json_pack("{s:O*, s:O*, s:O*}", "lease_id", json_object_get(reply, "lease_id"),
		"lease_duration", json_object_get(reply, "lease_duration"), "lease_renewable",
		json_object_get(reply, "renewable"));
	if (table && json_object_update(table, json_object_get(reply, "data")) == 0)
		db_cli_print_table(table);
	else
		rc = CLI_EXIT_FAILURE;
	json_decref(table);
	json_decref(reply);
	return rc;
}

static int db_rotate_root(int argc, char **argv)
{
	struct db_cli cli = { 0 };
	struct cli_common common;
	char **operands;
	size_t count;
	json_t *reply = NULL;
	int rc;

	rc = cli_parse(&rotate_spec, argc, argv, name_option, &cli, &common, &operands, &count);
	if (rc != CLI_CONTINUE)
		return rc;
	rc = db_cli_call(&cli, "db rotate-root", "POST", "rotate-root", operands[0], NULL, &reply);
	if (rc == CLI_EXIT_OK) {
		db_cli_print_warnings(reply);
		printf("Success! Rotated the root credentials of %s\n", operands[0]);
	}
	json_decref(reply);
	return rc;
}

static const struct cli_command db_commands[] = {
	{ "config", "write, read, list, delete and reset connection configs", cmd_db_config },
	{ "role", "write, read, list and delete dynamic roles", cmd_db_role },
	{ "creds", "create a PostgreSQL user for a role", db_creds },
	{ "rotate-root", "give a config's root user a new password", db_rotate_root },
};

int cmd_db(int argc, char **argv)
{
	return cli_dispatch("db", db_commands, WD_ARRAY_LEN(db_commands), argc, argv);
}
