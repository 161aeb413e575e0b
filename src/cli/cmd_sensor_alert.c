/* `warden sensor alert`: forwards alert lines (`warden sensor run`'s
 * output) and response records to the server's audit chain, with the
 * sensor's own SVID. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "sensor/client/server_client.h"
#include "sensor/client/server_queue.h"

/* Maximum length of an input line, in bytes: the server takes alerts of
 * up to 64 KiB. */
#define LINE_MAX_BYTES (64u * 1024u)

/* How long the command waits for the sensor's SVID from the agent, in
 * milliseconds. */
#define START_TIMEOUT_MS 10000u

/* How long the command waits at the end of its input for the queued lines
 * to be sent, in milliseconds. */
#define FLUSH_TIMEOUT_MS 120000u

enum alert_option {
	OPT_SERVER = 1,
	OPT_SOCKET,
	OPT_SPIFFE_ID,
	OPT_CERT,
	OPT_KEY,
	OPT_BUNDLE,
};

static const struct cli_option alert_options[] = {
	{ "server", "URL", OPT_SERVER, "the server's identity API, https://HOST:PORT" },
	{ "socket", "PATH", OPT_SOCKET,
		"the agent's Workload API socket, for the sensor's own X.509-SVID" },
	{ "spiffe-id", "ID", OPT_SPIFFE_ID,
		"which SVID of the Workload API to present (default: the first)" },
	{ "cert", "FILE", OPT_CERT, "instead of --socket: PEM certificate chain, leaf first" },
	{ "key", "FILE", OPT_KEY, "with --cert: PEM private key" },
	{ "bundle", "FILE", OPT_BUNDLE, "with --cert: PEM CA certificates of the trust domain" },
};

static const struct cli_spec alert_spec = {
	.name = "sensor alert",
	.synopsis = "--server URL (--socket PATH | --cert FILE --key FILE --bundle FILE)\n"
		"    [--spiffe-id ID] < LINES",
	.description = "Reads one JSON object a line from standard input and sends each to the\n"
		"server's audit chain: a response record (\"type\": \"response\") to\n"
		"POST /v1/sensor/responses, anything else as a Falco alert to\n"
		"POST /v1/sensor/alerts. Empty lines are skipped. A worker sends the lines\n"
		"from a queue of 1024, so a slow server does not hold up the input. A line\n"
		"that is not a JSON object, does not fit the queue or is rejected by the\n"
		"server is reported on stderr, and the rest are still sent. The server must\n"
		"list the SVID's SPIFFE ID in sensor.spiffe_ids. Exit status: 0 when every\n"
		"line was recorded, 1 otherwise, 2 for a usage error.\n",
	.options = alert_options,
	.option_count = WD_ARRAY_LEN(alert_options),
	.common = 0,
	.min_operands = 0,
	.max_operands = 0,
};

static int alert_option(void *ctx, int id, const char *value)
{
	struct sensor_server_config *config = ctx;

	switch ((enum alert_option)id) {
	case OPT_SERVER:
		config->url = value;
		break;
	case OPT_SOCKET:
		config->workload_api_socket = value;
		break;
	case OPT_SPIFFE_ID:
		config->spiffe_id = value;
		break;
	case OPT_CERT:
		config->cert_path = value;
		break;
	case OPT_KEY:
		config->key_path = value;
		break;
	case OPT_BUNDLE:
		config->bundle_path = value;
		break;
	}
	return CLI_CONTINUE;
}

static int check_config(const struct sensor_server_config *config)
{
	bool files = config->cert_path || config->key_path || config->bundle_path;

	if (!config->url)
		return cli_usage_error(&alert_spec, "missing --server");
	if (!config->workload_api_socket == !files)
		return cli_usage_error(&alert_spec,
			"give either --socket or all of --cert, --key and --bundle");
	if (files && !(config->cert_path && config->key_path && config->bundle_path))
		return cli_usage_error(&alert_spec, "--cert, --key and --bundle go together");
	return CLI_CONTINUE;
}

/* Reports an item the server did not record; the worker calls it in
 * input order. */
static void report_result(void *ctx, enum sensor_queue_kind kind, pid_t pid,
	const json_t *reply, const struct wd_error *err)
{
	(void)ctx;
	(void)pid;
	(void)reply;
	if (err)
		fprintf(stderr, "warden sensor alert: %s not recorded: %s\n",
			kind == SENSOR_QUEUE_RESPONSE ? "response" : "alert", wd_error_text(err));
}

/* Queues one line; returns false after reporting why it was not queued. */
static bool queue_line(struct sensor_queue *queue, const char *line, size_t number)
{
	struct wd_error err = { 0 };

	if (sensor_queue_record(queue, line, &err) == 0)
		return true;
	fprintf(stderr, "warden sensor alert: line %zu: %s\n", number, wd_error_text(&err));
	return false;
}

int cmd_sensor_alert(int argc, char **argv)
{
	struct sensor_server_config config = { .start_timeout_ms = START_TIMEOUT_MS };
	struct sensor_queue_config queue_config = { .on_result = report_result };
	struct sensor_queue_stats stats = { 0 };
	struct sensor_server *client = NULL;
	struct sensor_queue *queue = NULL;
	struct cli_common common = { 0 };
	struct wd_error err = { 0 };
	char **operands = NULL;
	size_t operand_count = 0;
	char *line = NULL;
	size_t number = 0;
	bool all_sent = true;
	int rc;

	rc = cli_parse(&alert_spec, argc, argv, alert_option, &config, &common, &operands,
		&operand_count);
	if (rc != CLI_CONTINUE)
		return rc;
	rc = check_config(&config);
	if (rc != CLI_CONTINUE)
		return rc;
	/* OpenSSL writes to the socket with write(2). */
	signal(SIGPIPE, SIG_IGN);

	if (sensor_server_open(&config, &client, &err) < 0 ||
	    sensor_queue_start(client, &queue_config, &queue, &err) < 0) {
		fprintf(stderr, "warden sensor alert: %s\n", wd_error_text(&err));
		sensor_server_free(client);
		return CLI_EXIT_FAILURE;
	}
	line = malloc(LINE_MAX_BYTES + 2);
	if (!line) {
		fprintf(stderr, "warden sensor alert: out of memory\n");
		sensor_queue_free(queue);
		sensor_server_free(client);
		return CLI_EXIT_FAILURE;
	}
	while (fgets(line, LINE_MAX_BYTES + 2, stdin)) {
		size_t len = strlen(line);
		int c;

		number++;
		if (len > LINE_MAX_BYTES && line[len - 1] != '\n') {
			fprintf(stderr, "warden sensor alert: line %zu is longer than %u bytes\n",
				number, LINE_MAX_BYTES);
			all_sent = false;
			/* Skip the rest of the line. */
			while ((c = getchar()) != EOF && c != '\n')
				;
			continue;
		}
		line[strcspn(line, "\n")] = '\0';
		if (line[strspn(line, " \t\r")] == '\0')
			continue;
		if (!queue_line(queue, line, number))
			all_sent = false;
	}
	free(line);

	if (sensor_queue_flush(queue, FLUSH_TIMEOUT_MS, &err) < 0) {
		fprintf(stderr, "warden sensor alert: %s\n", wd_error_text(&err));
		all_sent = false;
	}
	sensor_queue_get_stats(queue, &stats);
	sensor_queue_free(queue);
	sensor_server_free(client);
	return all_sent && stats.failed == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}
