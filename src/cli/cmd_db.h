/* Shared parts of `warden db`, the client of the database secrets engine:
 * the options every subcommand takes (server, token, CA, mount path) and
 * the request and output helpers of cmd_db*.c. */
#pragma once

#include <stdbool.h>

#include <jansson.h>

#include "cli/cli_args.h"
#include "cli/cli_vault.h"

/* Mount path used when --mount is not given, as Vault's default. */
#define DB_CLI_DEFAULT_MOUNT "database"

/* Option id of --mount; the other shared ids are CLI_VAULT_OPT_*. */
#define DB_CLI_OPT_MOUNT 2000

/* Table entries of the shared options, for a command's cli_option table. */
#define DB_CLI_OPTIONS                                                          \
	CLI_VAULT_OPTIONS,                                                      \
	{ "mount", "PATH", DB_CLI_OPT_MOUNT,                                    \
	  "mount path of the database secrets engine (default " DB_CLI_DEFAULT_MOUNT ")" }

/* Server options and mount path of the requests. */
struct db_cli {
	struct cli_vault_options vault;
	const char *mount;       /* NULL: DB_CLI_DEFAULT_MOUNT */
};

/* Stores the value of a shared option and returns true when id is one. */
bool db_cli_option(struct db_cli *cli, int id, const char *value);

/* Sends method to /v1/<mount>/<collection>[/<name>] with body (may be
 * NULL). On an error status or a transport failure prints it as
 * "warden <command>: ..." and returns CLI_EXIT_FAILURE; on success stores
 * the reply (NULL for 204) in *ret_reply and returns CLI_EXIT_OK. */
int db_cli_call(const struct db_cli *cli, const char *command, const char *method,
	const char *collection, const char *name, const json_t *body, json_t **ret_reply);

/* Prints each warning of a reply on stderr as "WARNING! <text>". */
void db_cli_print_warnings(const json_t *reply);

/* Prints value as indented JSON and a newline; CLI_EXIT_FAILURE when
 * writing fails. */
int db_cli_print_json(const json_t *value);

/* Prints "<key padded> <value>" rows, Vault's CLI table, for each member
 * of data in order; arrays print as "[a b]". */
void db_cli_print_table(const json_t *data);

/* Runs `warden db <group> <verb> [NAME]` with only the shared options:
 * sends method to collection/NAME (no NAME for LIST) and prints the
 * reply: keys one a line for LIST, the data as a table for a read, or
 * "Success!" when there is no data. --json prints the whole reply. */
int db_cli_simple(const struct cli_spec *spec, const char *method, const char *collection,
	int argc, char **argv);

/* The `warden db config` and `warden db role` groups (cmd_db_config.c,
 * cmd_db_role.c). */
int cmd_db_config(int argc, char **argv);
int cmd_db_role(int argc, char **argv);
