/* `warden sensor revoke`: requests that the server revoke the identities of
 * one process, as the sensor's revoke response does, for operators and
 * tests. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "sensor/client/server_client.h"

/* How long the command waits for the sensor's SVID from the agent, in
 * milliseconds. */
#define START_TIMEOUT_MS 10000u

enum revoke_option {
	OPT_SERVER = 1,
	OPT_SOCKET,
	OPT_SPIFFE_ID,
	OPT_CERT,
	OPT_KEY,
	OPT_BUNDLE,
	OPT_PID,
	OPT_RULE,
	OPT_REASON,
	OPT_SELECTORS_ONLY,
};

struct revoke_args {
	struct sensor_server_config config;
	long long pid;
	const char *rule;
	const char *reason;
	bool selectors_only;
};

static const struct cli_option revoke_options[] = {
	{ "server", "URL", OPT_SERVER, "the server's identity API, https://HOST:PORT" },
	{ "socket", "PATH", OPT_SOCKET,
		"the agent's Workload API socket, for the sensor's own X.509-SVID" },
	{ "spiffe-id", "ID", OPT_SPIFFE_ID,
		"which SVID of the Workload API to present (default: the first)" },
	{ "cert", "FILE", OPT_CERT, "instead of --socket: PEM certificate chain, leaf first" },
	{ "key", "FILE", OPT_KEY, "with --cert: PEM private key" },
	{ "bundle", "FILE", OPT_BUNDLE, "with --cert: PEM CA certificates of the trust domain" },
	{ "pid", "PID", OPT_PID, "the process whose identities to revoke (required)" },
	{ "rule", "NAME", OPT_RULE, "the rule that caught the process, for the audit record" },
	{ "reason", "TEXT", OPT_REASON, "why, for the audit record and the CRL entry" },
	{ "selectors-only", NULL, OPT_SELECTORS_ONLY,
		"print the selectors of PID as the agent computes them, and revoke nothing" },
};

static const struct cli_spec revoke_spec = {
	.name = "sensor revoke",
	.synopsis = "--server URL (--socket PATH | --cert FILE --key FILE --bundle FILE) --pid PID\n"
		"    [--spiffe-id ID] [--rule NAME] [--reason TEXT]\n"
		"   or: warden sensor revoke --pid PID --selectors-only",
	.description = "Computes the selectors of PID with the agent's unix attestor and asks the\n"
		"server, authenticated with the sensor's SVID, to revoke the X.509-SVIDs of the\n"
		"entries of this node that the selectors match and the secrets tokens and\n"
		"leases of their logins. Prints the server's reply as JSON. The server must list\n"
		"the SVID's SPIFFE ID in sensor.spiffe_ids. Reading another user's process\n"
		"needs root.\n",
	.options = revoke_options,
	.option_count = WD_ARRAY_LEN(revoke_options),
	.common = 0,
	.min_operands = 0,
	.max_operands = 0,
};

static int revoke_option(void *ctx, int id, const char *value)
{
	struct revoke_args *args = ctx;
	char *end = NULL;

	switch ((enum revoke_option)id) {
	case OPT_SERVER:
		args->config.url = value;
		break;
	case OPT_SOCKET:
		args->config.workload_api_socket = value;
		break;
	case OPT_SPIFFE_ID:
		args->config.spiffe_id = value;
		break;
	case OPT_CERT:
		args->config.cert_path = value;
		break;
	case OPT_KEY:
		args->config.key_path = value;
		break;
	case OPT_BUNDLE:
		args->config.bundle_path = value;
		break;
	case OPT_PID:
		errno = 0;
		args->pid = strtoll(value, &end, 10);
		if (errno || end == value || *end || args->pid <= 0 || args->pid > INT32_MAX)
			return cli_usage_error(&revoke_spec,
				"invalid --pid '%s': expected a positive integer", value);
		break;
	case OPT_RULE:
		args->rule = value;
		break;
	case OPT_REASON:
		args->reason = value;
		break;
	case OPT_SELECTORS_ONLY:
		args->selectors_only = true;
		break;
	}
	return CLI_CONTINUE;
}

static int print_json(const json_t *value)
{
	char *text = json_dumps(value, JSON_INDENT(2) | JSON_SORT_KEYS);

	if (!text) {
		fprintf(stderr, "warden sensor revoke: out of memory\n");
		return CLI_EXIT_FAILURE;
	}
	printf("%s\n", text);
	free(text);
	return 0;
}

static int check_args(const struct revoke_args *args)
{
	bool files = args->config.cert_path || args->config.key_path || args->config.bundle_path;

	if (args->pid == 0)
		return cli_usage_error(&revoke_spec, "missing --pid");
	if (args->selectors_only)
		return CLI_CONTINUE;
	if (!args->config.url)
		return cli_usage_error(&revoke_spec, "missing --server");
	if (!args->config.workload_api_socket == !files)
		return cli_usage_error(&revoke_spec,
			"give either --socket or all of --cert, --key and --bundle");
	if (files && !(args->config.cert_path && args->config.key_path && args->config.bundle_path))
		return cli_usage_error(&revoke_spec, "--cert, --key and --bundle go together");
	return CLI_CONTINUE;
}

int cmd_sensor_revoke(int argc, char **argv)
{
	struct revoke_args args = { 0 };
	struct sensor_server *client = NULL;
	struct wd_error err = { 0 };
	json_t *reply = NULL;
	json_t *selectors = NULL;
	const char **items = NULL;
	size_t count;
	int rc;
	struct cli_common common = { 0 };
	char **operands = NULL;
	size_t operand_count = 0;

	rc = cli_parse(&revoke_spec, argc, argv, revoke_option, &args, &common, &operands,
		&operand_count);
	if (rc != CLI_CONTINUE)
		return rc;
	rc = check_args(&args);
	if (rc != CLI_CONTINUE)
		return rc;
	/* OpenSSL writes to the socket with write(2). */
	signal(SIGPIPE, SIG_IGN);

	/* The selectors are read first: the process may not live long. */
	if (sensor_selectors_of_pid((pid_t)args.pid, NULL, &selectors, &err) < 0)
		goto fail;
	if (args.selectors_only) {
		rc = print_json(selectors);
		json_decref(selectors);
		return rc;
	}

	count = json_array_size(selectors);
	items = calloc(count ? count : 1, sizeof(*items));
	if (!items) {
		wd_error_set(&err, WD_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < count; i++)
		items[i] = json_string_value(json_array_get(selectors, i));
	args.config.start_timeout_ms = START_TIMEOUT_MS;
	if (sensor_server_open(&args.config, &client, &err) < 0 ||
	    sensor_server_revoke(client, (pid_t)args.pid, items, count, args.rule, args.reason,
		&reply, &err) < 0)
		goto fail;
	rc = print_json(reply);
	json_decref(reply);
	free(items);
	json_decref(selectors);
	sensor_server_free(client);
	return rc;
fail:
	fprintf(stderr, "warden sensor revoke: %s\n", wd_error_text(&err));
	free(items);
	json_decref(selectors);
	sensor_server_free(client);
	return CLI_EXIT_FAILURE;
}
