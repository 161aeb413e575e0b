/* `warden lease lookup|renew|revoke`: the leases of the secrets API
 * (sys/leases/...), as Vault's `vault lease` commands manage them. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_args.h"
#include "cli/cli_format.h"
#include "cli/cli_vault.h"
#include "cli/commands.h"
#include "common/time.h"

enum lease_option {
	OPT_INCREMENT = 1,
	OPT_PREFIX,
	OPT_FORCE,
};

struct lease_args {
	struct cli_vault_options vault;
	bool has_increment;
	int64_t increment;   /* seconds */
	bool prefix;
	bool force;
};

static int lease_option(void *ctx, int id, const char *value)
{
	struct lease_args *args = ctx;

	if (cli_vault_option(&args->vault, id, value))
		return CLI_CONTINUE;
	switch ((enum lease_option)id) {
	case OPT_INCREMENT:
		args->has_increment = true;
		return cli_parse_duration("--increment", value, &args->increment);
	case OPT_PREFIX:
		args->prefix = true;
		return CLI_CONTINUE;
	case OPT_FORCE:
		args->force = true;
		return CLI_CONTINUE;
	}
	return CLI_CONTINUE;
}

static const struct cli_option lookup_options[] = {
	CLI_VAULT_OPTIONS,
};

static const struct cli_option renew_options[] = {
	{ "increment", "TTL", OPT_INCREMENT,
		"TTL to request from now, e.g. 1h (default: the backend's TTL);\n"
		"the server caps it at the lease's maximum" },
	CLI_VAULT_OPTIONS,
};

static const struct cli_option revoke_options[] = {
	{ "prefix", NULL, OPT_PREFIX, "take LEASE_ID as a prefix and revoke every lease under it" },
	{ "force", NULL, OPT_FORCE,
		"with --prefix: delete the leases even when their backend fails to\n"
		"revoke them (the credentials may stay valid)" },
	CLI_VAULT_OPTIONS,
};

static const struct cli_spec lookup_spec = {
	.name = "lease lookup",
	.synopsis = "[options] LEASE_ID",
	.description = "Prints a lease's issue and expiry times, TTL and whether it can be renewed.\n",
	.options = lookup_options,
	.option_count = WD_ARRAY_LEN(lookup_options),
	.common = CLI_COMMON_JSON,
	.min_operands = 1,
	.max_operands = 1,
	.operand_name = "LEASE_ID",
};

static const struct cli_spec renew_spec = {
	.name = "lease renew",
	.synopsis = "[--increment TTL] [options] LEASE_ID",
	.description = "Extends a lease and prints its new duration.\n",
	.options = renew_options,
	.option_count = WD_ARRAY_LEN(renew_options),
	.common = CLI_COMMON_JSON,
	.min_operands = 1,
	.max_operands = 1,
	.operand_name = "LEASE_ID",
};

static const struct cli_spec revoke_spec = {
	.name = "lease revoke",
	.synopsis = "[--prefix [--force]] [options] LEASE_ID",
	.description = "Revokes a lease, or with --prefix every lease under a prefix, before it\n"
		       "expires. The secret behind it is revoked first.\n",
	.options = revoke_options,
	.option_count = WD_ARRAY_LEN(revoke_options),
	.min_operands = 1,
	.max_operands = 1,
	.operand_name = "LEASE_ID",
};

/* Appends text to a URL path, percent-encoding every byte but '/' and
 * RFC 3986's unreserved characters. Returns NULL when out of memory. */
static char *path_with(const char *base, const char *text)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t base_len = strlen(base);
	size_t text_len = strlen(text);
	char *path = malloc(base_len + 3 * text_len + 1);
	size_t used = base_len;

	if (!path)
		return NULL;
	memcpy(path, base, base_len);
	for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
		if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
			(*c >= '0' && *c <= '9') || strchr("-._~/", *c)) {
			path[used++] = (char)*c;
		} else {
			path[used++] = '%';
			path[used++] = hex[*c >> 4];
			path[used++] = hex[*c & 0xf];
		}
	}
	path[used] = '\0';
	return path;
}

/* Sends the request and prints the server's errors for a status of 300
 * or above. Returns CLI_CONTINUE with *ret_body (may be NULL) on success. */
static int call_api(const char *command, const struct lease_args *args, const char *method,
	const char *path, const json_t *body, json_t **ret_body)
{
	struct wd_error err;
	int status = 0;

	wd_error_clear(&err);
	*ret_body = NULL;
	if (cli_vault_request(&args->vault, method, path, body, &status, ret_body, &err) < 0) {
		fprintf(stderr, "warden %s: %s\n", command, wd_error_text(&err));
		return CLI_EXIT_FAILURE;
	}
	if (status >= 300) {
		int rc = cli_vault_print_error(command, status, *ret_body);

		json_decref(*ret_body);
		*ret_body = NULL;
		return rc;
	}
	return CLI_CONTINUE;
}

static int print_json(const json_t *body)
{
	if (json_dumpf(body, stdout, JSON_INDENT(2) | JSON_SORT_KEYS) < 0)
		return CLI_EXIT_FAILURE;
	putchar('\n');
	return CLI_EXIT_OK;
}

static void print_warnings(const json_t *body)
{
	size_t index;
	const json_t *warning;

	json_array_foreach(json_object_get(body, "warnings"), index, warning) {
		if (json_is_string(warning))
			fprintf(stderr, "warning: %s\n", json_string_value(warning));
	}
}

static void print_seconds(const char *label, const json_t *value)
{
	char text[WD_DURATION_TEXT_MAX] = "";
	json_int_t seconds = json_integer_value(value);

	if (json_is_integer(value) && wd_duration_format(seconds, text) < 0)
		snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT "s", seconds);
	cli_print_field(stdout, label, text);
}

static void print_lease(const json_t *data)
{
	const json_t *renewal = json_object_get(data, "last_renewal");
	const json_t *revoke_error = json_object_get(data, "revoke_error");
	const char *text;

	text = json_string_value(json_object_get(data, "id"));
	cli_print_field(stdout, "Lease ID", text ? text : "");
	text = json_string_value(json_object_get(data, "issue_time"));
	cli_print_field(stdout, "Issued", text ? text : "");
	text = json_string_value(json_object_get(data, "expire_time"));
	cli_print_field(stdout, "Expires", text ? text : "");
	cli_print_field(stdout, "Last renewal",
		json_is_string(renewal) ? json_string_value(renewal) : "never");
	print_seconds("TTL", json_object_get(data, "ttl"));
	cli_print_field(stdout, "Renewable",
		json_is_true(json_object_get(data, "renewable")) ? "true" : "false");
	if (json_is_string(revoke_error))
		cli_print_field(stdout, "Revoke error", json_string_value(revoke_error));
}

static int lease_lookup(int argc, char **argv)
{
	struct lease_args args = { 0 };
	struct cli_common common;
	json_t *request = NULL;
	json_t *reply = NULL;
	char **operands;
	size_t count;
	int rc;

	rc = cli_parse(&lookup_spec, argc, argv, lease_option, &args, &common, &operands, &count);
	if (rc != CLI_CONTINUE)
		return rc;

	request = json_pack("{s:s}", "lease_id", operands[0]);
	if (!request) {
		fprintf(stderr, "warden lease lookup: out of memory\n");
		return CLI_EXIT_FAILURE;
	}
	rc = call_api("lease lookup", &args, "PUT", "sys/leases/lookup", request, &reply);
	if (rc == CLI_CONTINUE) {
		if (common.json)
			rc = print_json(reply);
		else {
			print_lease(json_object_get(reply, "data"));
			rc = CLI_EXIT_OK;
		}
	}
	json_decref(request);
	json_decref(reply);
	return rc;
}

static int lease_renew(int argc, char **argv)
{
	struct lease_args args = { 0 };
	struct cli_common common;
	json_t *request = NULL;
	json_t *reply = NULL;
	char **operands;
	size_t count;
	int rc;

	rc = cli_parse(&renew_spec, argc, argv, lease_option, &args, &common, &operands, &count);
	if (rc != CLI_CONTINUE)
		return rc;

	/* Without --increment the backend's own TTL applies, as Vault's null. */
	request = json_pack("{s:s, s:o}", "lease_id", operands[0], "increment",
		args.has_increment ? json_integer((json_int_t)args.increment) : json_null());
	if (!request) {
		fprintf(stderr, "warden lease renew: out of memory\n");
		return CLI_EXIT_FAILURE;
	}
	rc = call_api("lease renew", &args, "PUT", "sys/leases/renew", request, &reply);
	if (rc == CLI_CONTINUE) {
		const char *id = json_string_value(json_object_get(reply, "lease_id"));

		print_warnings(reply);
		if (common.json) {
			rc = print_json(reply);
		} else {
			cli_print_field(stdout, "Lease ID", id ? id : "");
			print_seconds("Duration", json_object_get(reply, "lease_duration"));
			cli_print_field(stdout, "Renewable",
				json_is_true(json_object_get(reply, "renewable")) ? "true" : "false");
			rc = CLI_EXIT_OK;
		}
	}
	json_decref(request);
	json_decref(reply);
	return rc;
}

static int lease_revoke(int argc, char **argv)
{
	struct lease_args args = { 0 };
	struct cli_common common;
	json_t *request = NULL;
	json_t *reply = NULL;
	char *path = NULL;
	char **operands;
	size_t count;
	int rc;

	rc = cli_parse(&revoke_spec, argc, argv, lease_option, &args, &common, &operands, &count);
	if (rc != CLI_CONTINUE)
		return rc;
	if (args.force && !args.prefix)
		return cli_usage_error(&revoke_spec, "--force needs --prefix");

	/* One lease goes in the body of sys/leases/revoke; a prefix is part
	 * of the path of revoke-prefix or revoke-force. */
	if (args.prefix)
		path = path_with(args.force ? "sys/leases/revoke-force/" : "sys/leases/revoke-prefix/",
			operands[0]);
	else
		request = json_pack("{s:s}", "lease_id", operands[0]);
	if (args.prefix ? !path : !request) {
		fprintf(stderr, "warden lease revoke: out of memory\n");
		return CLI_EXIT_FAILURE;
	}

	rc = call_api("lease revoke", &args, "PUT", path ? path : "sys/leases/revoke", request, &reply);
	if (rc == CLI_CONTINUE) {
		if (args.force)
			printf("Revoked every lease under %s; failed revocations were deleted anyway\n",
				operands[0]);
		else if (args.prefix)
			printf("Revoked every lease under %s\n", operands[0]);
		else
			printf("Revoked lease %s\n", operands[0]);
		rc = CLI_EXIT_OK;
	}
	free(path);
	json_decref(request);
	json_decref(reply);
	return rc;
}

static const struct cli_command lease_commands[] = {
	{ "lookup", "print a lease's times and TTL", lease_lookup },
	{ "renew", "extend a lease", lease_renew },
	{ "revoke", "revoke a lease or every lease under a prefix", lease_revoke },
};

int cmd_lease(int argc, char **argv)
{
	return cli_dispatch("lease", lease_commands, WD_ARRAY_LEN(lease_commands), argc, argv);
}
