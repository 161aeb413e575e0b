/* `warden operator init|seal|status` over the Vault API of the secrets
 * service, and `operator unseal` (cmd_operator_unseal.c). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_args.h"
#include "cli/cli_vault.h"
#include "cli/cmd_operator.h"
#include "cli/commands.h"

/* Width of the label column of the text output. */
#define LABEL_WIDTH 16

int operator_parse_format(const struct cli_spec *spec, const char *value,
	enum operator_format *ret_format)
{
	if (strcmp(value, "table") == 0) {
		*ret_format = OPERATOR_FORMAT_TABLE;
		return CLI_CONTINUE;
	}
	if (strcmp(value, "json") == 0) {
		*ret_format = OPERATOR_FORMAT_JSON;
		return CLI_CONTINUE;
	}
	return cli_usage_error(spec, "invalid --format '%s': expected table or json", value);
}

int operator_request(const struct cli_spec *spec, const struct cli_vault_options *options,
	const char *method, const char *path, const json_t *body, json_t **ret_body)
{
	struct wd_error err;
	json_t *reply = NULL;
	int status = 0;

	*ret_body = NULL;
	wd_error_clear(&err);
	if (cli_vault_request(options, method, path, body, &status, &reply, &err) < 0) {
		fprintf(stderr, "warden %s: %s\n", spec->name, wd_error_text(&err));
		return CLI_EXIT_FAILURE;
	}
	if (status >= 300) {
		cli_vault_print_error(spec->name, status, reply);
		json_decref(reply);
		return CLI_EXIT_FAILURE;
	}
	*ret_body = reply;
	return CLI_EXIT_OK;
}

int operator_print_json(FILE *out, const json_t *value)
{
	if (json_dumpf(value, out, JSON_INDENT(2)) < 0 || fputc('\n', out) == EOF)
		return CLI_EXIT_FAILURE;
	return CLI_EXIT_OK;
}

static void print_row(FILE *out, const char *label, const char *value)
{
	fprintf(out, "%-*s %s\n", LABEL_WIDTH, label, value);
}

static const char *bool_text(const json_t *status, const char *name)
{
	return json_is_true(json_object_get(status, name)) ? "true" : "false";
}

static json_int_t int_value(const json_t *status, const char *name)
{
	return json_integer_value(json_object_get(status, name));
}

static const char *string_value(const json_t *status, const char *name)
{
	const char *value = json_string_value(json_object_get(status, name));

	return value ? value : "";
}

void operator_print_seal_status(FILE *out, const json_t *status)
{
	char number[64];
	const char *nonce = string_value(status, "nonce");

	print_row(out, "Key", "Value");
	print_row(out, "---", "-----");
	print_row(out, "Seal Type", string_value(status, "type"));
	print_row(out, "Initialized", bool_text(status, "initialized"));
	print_row(out, "Sealed", bool_text(status, "sealed"));
	snprintf(number, sizeof(number), "%" JSON_INTEGER_FORMAT, int_value(status, "n"));
	print_row(out, "Total Shares", number);
	snprintf(number, sizeof(number), "%" JSON_INTEGER_FORMAT, int_value(status, "t"));
	print_row(out, "Threshold", number);

	/* Progress and nonce matter only during an unseal, as in Vault's
	 * output. */
	if (json_is_true(json_object_get(status, "sealed"))) {
		snprintf(number, sizeof(number), "%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT,
			int_value(status, "progress"), int_value(status, "t"));
		print_row(out, "Unseal Progress", number);
		print_row(out, "Unseal Nonce", nonce[0] ? nonce : "n/a");
	}
	print_row(out, "Version", string_value(status, "version"));
	print_row(out, "Build Date", string_value(status, "build_date"));
	print_row(out, "Storage Type", string_value(status, "storage_type"));
	if (json_object_get(status, "cluster_name")) {
		print_row(out, "Cluster Name", string_value(status, "cluster_name"));
		print_row(out, "Cluster ID", string_value(status, "cluster_id"));
	}
	print_row(out, "HA Enabled", "false");
}

/* ---- operator init ---- */

static const struct cli_option init_options[] = {
	{ "key-shares", "N", OPERATOR_OPT_KEY_SHARES,
		"number of unseal key shares to create, 1 to 255\n(default 5)" },
	{ "key-threshold", "T", OPERATOR_OPT_KEY_THRESHOLD,
		"number of shares needed to unseal, 1 to N; 1 only\nwhen N is 1 (default 3)" },
	OPERATOR_FORMAT_OPTION,
	CLI_VAULT_OPTIONS,
};

static const struct cli_spec init_spec = {
	.name = "operator init",
	.synopsis = "[--key-shares N] [--key-threshold T] [--format table|json]",
	.description = "Initializes the secrets service: creates its keys, splits the unseal key\n"
		       "into shares and prints them with the initial root token. This happens\n"
		       "once; the output is the only copy of the shares, so store each one\n"
		       "with a different person. The service stays sealed afterwards.\n",
	.options = init_options,
	.option_count = WD_ARRAY_LEN(init_options),
};

struct init_args {
	struct cli_vault_options vault;
	enum operator_format format;
	long shares;
	long threshold;
};

/* Parses a count option: decimal digits only, 1 to 255. */
static int parse_count(const char *option, const char *value, long *ret_count)
{
	char *end = NULL;
	long count;

	if (!value[0] || strspn(value, "0123456789") != strlen(value)) {
		fprintf(stderr, "warden operator init: invalid %s '%s': expected a number\n", option,
			value);
		return CLI_EXIT_USAGE;
	}
	count = strtol(value, &end, 10);
	if (count < 1 || count > 255) {
		fprintf(stderr, "warden operator init: invalid %s '%s': expected 1 to 255\n", option,
			value);
		return CLI_EXIT_USAGE;
	}
	*ret_count = count;
	return CLI_CONTINUE;
}

static int init_option(void *ctx, int id, const char *value)
{
	struct init_args *args = ctx;

	if (cli_vault_option(&args->vault, id, value))
		return CLI_CONTINUE;
	switch (id) {
	case OPERATOR_OPT_FORMAT:
		return operator_parse_format(&init_spec, value, &args->format);
	case OPERATOR_OPT_KEY_SHARES:
		return parse_count("--key-shares", value, &args->shares);
	case OPERATOR_OPT_KEY_THRESHOLD:
		return parse_count("--key-threshold", value, &args->threshold);
	default:
		return CLI_CONTINUE;
	}
}

/* Prints the shares and root token as Vault's `operator init` does. */
static void print_init_table(const json_t *reply, long shares, long threshold)
{
	const json_t *keys = json_object_get(reply, "keys_base64");
	const json_t *key;
	size_t index;

	json_array_foreach(keys, index, key)
		printf("Unseal Key %zu: %s\n", index + 1, json_string_value(key));
	printf("\nInitial Root Token: %s\n\n", string_value(reply, "root_token"));
	printf("The secrets service is initialized and sealed. Unsealing it, at every\n"
	       "start, takes %ld of the %ld key shares above (`warden operator unseal`).\n"
	       "Give each share to a different person: they are shown only this once.\n"
	       "Revoke the root token once other tokens and policies are set up.\n",
		threshold, shares);
}

/* Prints the reply in the shape of Vault's `operator init -format=json`. */
static int print_init_json(const json_t *reply, long shares, long threshold)
{
	json_t *out = json_pack("{s:O, s:O, s:I, s:I, s:[], s:[], s:i, s:i, s:O}",
		"unseal_keys_b64", json_object_get(reply, "keys_base64"),
		"unseal_keys_hex", json_object_get(reply, "keys"),
		"unseal_shares", (json_int_t)shares,
		"unseal_threshold", (json_int_t)threshold,
		"recovery_keys_b64",
		"recovery_keys_hex",
		"recovery_keys_shares", 0,
		"recovery_keys_threshold", 0,
		"root_token", json_object_get(reply, "root_token"));
	int rc;

	if (!out) {
		fprintf(stderr, "warden operator init: the reply lacks keys or root_token\n");
		return CLI_EXIT_FAILURE;
	}
	rc = operator_print_json(stdout, out);
	json_decref(out);
	return rc;
}

static int operator_init(int argc, char **argv)
{
	struct init_args args = { .shares = 5, .threshold = 3 };
	struct cli_common common;
	char **operands;
	size_t count;
	json_t *body;
	json_t *reply = NULL;
	int rc;

	rc = cli_parse(&init_spec, argc, argv, init_option, &args, &common, &operands, &count);
	if (rc != CLI_CONTINUE)
		return rc;
	if (args.threshold > args.shares)
		return cli_usage_error(&init_spec, "--key-threshold %ld is above --key-shares %ld",
			args.threshold, args.shares);

	body = json_pack("{s:I, s:I}", "secret_shares", (json_int_t)args.shares,
		"secret_threshold", (json_int_t)args.threshold);
	if (!body) {
		fprintf(stderr, "warden: out of memory\n");
		return CLI_EXIT_FAILURE;
	}
	rc = operator_request(&init_spec, &args.vault, "PUT", "sys/init", body, &reply);
	json_decref(body);
	if (rc != CLI_EXIT_OK)
		return rc;

	if (args.format == OPERATOR_FORMAT_JSON)
		rc = print_init_json(reply, args.shares, args.threshold);
	else
		print_init_table(reply, args.shares, args.threshold);
	json_decref(reply);
	return rc;
}

/* ---- operator seal ---- */

static const struct cli_option vault_only_options[] = {
	CLI_VAULT_OPTIONS,
};

static const struct cli_spec seal_spec = {
	.name = "operator seal",
	.synopsis = "",
	.description = "Seals the secrets service: it drops its keys from memory and answers\n"
		       "every request but the seal endpoints with 503 until it is unsealed\n"
		       "again. Needs a token with the root policy or sudo on sys/seal.\n",
	.options = vault_only_options,
	.option_count = WD_ARRAY_LEN(vault_only_options),
};

static int vault_option(void *ctx, int id, const char *value)
{
	cli_vault_option(ctx, id, value);
	return CLI_CONTINUE;
}

static int operator_seal(int argc, char **argv)
{
	struct cli_vault_options vault = { 0 };
	struct cli_common common;
	char **operands;
	size_t count;
	json_t *reply = NULL;
	int rc;

	rc = cli_parse(&seal_spec, argc, argv, vault_option, &vault, &common, &operands, &count);
	if (rc != CLI_CONTINUE)
		return rc;
	rc = operator_request(&seal_spec, &vault, "PUT", "sys/seal", NULL, &reply);
	json_decref(reply);
	if (rc == CLI_EXIT_OK)
		printf("Success! The secrets service is sealed.\n");
	return rc;
}

/* ---- operator status ---- */

static const struct cli_option status_options[] = {
	OPERATOR_FORMAT_OPTION,
	CLI_VAULT_OPTIONS,
};

static const struct cli_spec status_spec = {
	.name = "operator status",
	.synopsis = "[--format table|json]",
	.description = "Prints whether the secrets service is initialized and sealed, its\n"
		       "share counts and the progress of an unseal. Needs no token. Exits 0\n"
		       "whenever the status was read, sealed or not.\n",
	.options = status_options,
	.option_count = WD_ARRAY_LEN(status_options),
};

struct status_args {
	struct cli_vault_options vault;
	enum operator_format format;
};

static int status_option(void *ctx, int id, const char *value)
{
	struct status_args *args = ctx;

	if (cli_vault_option(&args->vault, id, value))
		return CLI_CONTINUE;
	if (id == OPERATOR_OPT_FORMAT)
		return operator_parse_format(&status_spec, value, &args->format);
	return CLI_CONTINUE;
}

static int operator_status(int argc, char **argv)
{
	struct status_args args = { .format = OPERATOR_FORMAT_TABLE };
	struct cli_common common;
	char **operands;
	size_t count;
	json_t *reply = NULL;
	int rc;

	rc = cli_parse(&status_spec, argc, argv, status_option, &args, &common, &operands, &count);
	if (rc != CLI_CONTINUE)
		return rc;
	rc = operator_request(&status_spec, &args.vault, "GET", "sys/seal-status", NULL, &reply);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (args.format == OPERATOR_FORMAT_JSON)
		rc = operator_print_json(stdout, reply);
	else
		operator_print_seal_status(stdout, reply);
	json_decref(reply);
	return rc;
}

static const struct cli_command operator_commands[] = {
	{ "init", "create the secrets service's keys and root token", operator_init },
	{ "unseal", "submit an unseal key share", cmd_operator_unseal },
	{ "seal", "drop the secrets service's keys from memory", operator_seal },
	{ "status", "print the seal status of the secrets service", operator_status },
};

int cmd_operator(int argc, char **argv)
{
	return cli_dispatch("operator", operator_commands, WD_ARRAY_LEN(operator_commands), argc,
		argv);
}
