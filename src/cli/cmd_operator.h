/* Shared parts of `warden operator`: the Vault API call with error
 * printing, the --format option and the seal-status output. */
#pragma once

#include <stdio.h>

#include <jansson.h>

#include "cli/cli_args.h"
#include "cli/cli_vault.h"

/* Option ids of the operator commands, above the CLI_VAULT_OPT_* ids'
 * range so both fit one handler. */
enum operator_option {
	OPERATOR_OPT_FORMAT = 2000,
	OPERATOR_OPT_KEY_SHARES,
	OPERATOR_OPT_KEY_THRESHOLD,
	OPERATOR_OPT_RESET,
};

#define OPERATOR_FORMAT_OPTION                                                   \
	{ "format", "FORMAT", OPERATOR_OPT_FORMAT,                                   \
	  "output format: table or json (default table)" }

enum operator_format {
	OPERATOR_FORMAT_TABLE,
	OPERATOR_FORMAT_JSON,
};

/* Parses --format; CLI_CONTINUE, or CLI_EXIT_USAGE after printing why. */
int operator_parse_format(const struct cli_spec *spec, const char *value,
	enum operator_format *ret_format);

/* Sends one request to /v1/<path>. Returns CLI_EXIT_OK with the reply's
 * JSON body (NULL for none) in *ret_body, which the caller frees, or
 * CLI_EXIT_FAILURE after printing the transport error or the server's
 * status and errors on stderr. */
int operator_request(const struct cli_spec *spec, const struct cli_vault_options *options,
	const char *method, const char *path, const json_t *body, json_t **ret_body);

/* Prints value as indented JSON and a newline; CLI_EXIT_FAILURE when
 * writing fails. */
int operator_print_json(FILE *out, const json_t *value);

/* Prints a sys/seal-status reply as "Label : value" lines. */
void operator_print_seal_status(FILE *out, const json_t *status);
