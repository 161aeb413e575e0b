/* Option parsing shared by the operator commands: one declarative table per
 * command drives both getopt_long and the --help text, so the two never
 * disagree. Also the subcommand dispatch of command groups. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli/commands.h"

/* Process exit codes of every command. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAILURE 1
#define CLI_EXIT_USAGE 2

/* Returned by cli_parse when the command should go on running. */
#define CLI_CONTINUE (-1)

/* Common options a command accepts besides its own (always --help). */
#define CLI_COMMON_ADMIN_SOCKET 0x1u
#define CLI_COMMON_JSON 0x2u

/* One option of a command. */
struct cli_option {
	const char *name;        /* long name without the dashes */
	const char *value_name;  /* "ID", "DURATION"; NULL for a flag */
	int id;                  /* passed to the command's handler */
	const char *help;        /* what it sets, with the unit */
};

/* The grammar and help of one command. */
struct cli_spec {
	const char *name;        /* "entry create", for messages */
	const char *synopsis;    /* operands and options after the name */
	const char *description; /* one or two sentences, ends with a newline */
	const struct cli_option *options;
	size_t option_count;
	unsigned common;         /* CLI_COMMON_* bits */
	size_t min_operands;
	size_t max_operands;
	const char *operand_name; /* "entry ID", for "missing entry ID" messages */
};

/* Values of the common options after parsing. */
struct cli_common {
	const char *admin_socket; /* NULL: not given */
	bool json;
};

/* Handles one option of the command's table; value is NULL for a flag.
 * Returns CLI_CONTINUE, or an exit code after printing why. */
typedef int (*cli_option_fn)(void *ctx, int id, const char *value);

/* Parses argv (argv[0] is the command's own name) against spec with
 * getopt_long, calling handle for each option of the table. Returns
 * CLI_CONTINUE with the operands in *ret_operands (pointers into argv) and
 * their count, CLI_EXIT_OK after printing --help, or CLI_EXIT_USAGE after
 * printing the problem and a pointer to --help on stderr. */
int cli_parse(const struct cli_spec *spec, int argc, char **argv, cli_option_fn handle,
	void *ctx, struct cli_common *ret_common, char ***ret_operands, size_t *ret_count);

/* Prints the usage line, description and option table of spec. */
void cli_print_help(const struct cli_spec *spec, FILE *out);

/* Prints "warden NAME: <message>" and the --help pointer on stderr and
 * returns CLI_EXIT_USAGE. */
int cli_usage_error(const struct cli_spec *spec, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Parses a duration value of option (e.g. "--ttl"), in seconds. Returns
 * CLI_CONTINUE, or CLI_EXIT_USAGE after printing
 * "warden: invalid --ttl '10x': <reason>". */
int cli_parse_duration(const char *option, const char *value, int64_t *ret_seconds);

/* Values of a repeated option in the order given; the strings are borrowed
 * from argv. */
struct cli_strings {
	const char **items;
	size_t count;
};

/* Appends value; CLI_CONTINUE, or CLI_EXIT_FAILURE when memory runs out. */
int cli_strings_append(struct cli_strings *list, const char *value);

void cli_strings_free(struct cli_strings *list);

/* Runs the subcommand named by argv[1] from table; argv[0] is the group's
 * name. Prints the group's usage for --help (exit 0) and after a missing or
 * unknown subcommand (exit 2). */
int cli_dispatch(const char *group, const struct cli_command *table, size_t count, int argc,
	char **argv);
