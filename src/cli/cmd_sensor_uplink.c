/* The sensor's uplink to warden server: a client with the sensor's own
 * SVID and a queue in front of it, plugged into the responder's hooks. */
#include <signal.h>
#include <stdio.h>
#include <sys/types.h>

#include "cli/cli_args.h"
#include "cli/cmd_sensor_uplink.h"

/* How long closing waits for alerts and revocations still queued. */
#define UPLINK_FLUSH_MS 5000u

/* The reason the server records with each revocation. */
#define UPLINK_REVOKE_REASON "warden sensor response"

static int revoke_hook(const struct response_target *target, void *ctx, struct wd_error *err)
{
	struct sensor_uplink *uplink = ctx;

	/* The selectors are read here, before a kill action that follows. */
	return sensor_queue_revoke(uplink->queue, (pid_t)target->pid, target->rule,
		UPLINK_REVOKE_REASON, err);
}

static void forward_hook(const char *kind, const char *json, void *ctx)
{
	struct sensor_uplink *uplink = ctx;
	struct wd_error err = { 0 };

	/* A full queue drops the record and counts it, reported at close. */
	if (sensor_queue_record(uplink->queue, json, &err) < 0 && err.code != WD_ETOOBIG)
		fprintf(stderr, "warden sensor: failed to forward the %s to the server: %s\n", kind,
			wd_error_text(&err));
}

int sensor_uplink_open(struct sensor_uplink *uplink, const struct sensor_uplink_args *args,
	struct sensor_output_args *outputs)
{
	struct sensor_server_config config = {
		.url = args->url,
		.workload_api_socket = args->socket,
		.spiffe_id = args->spiffe_id,
		.cert_path = args->cert,
		.key_path = args->key,
		.bundle_path = args->bundle,
	};
	bool files = args->cert || args->key || args->bundle;
	struct wd_error err = { 0 };

	if (!args->url) {
		if (args->socket || args->spiffe_id || files) {
			fprintf(stderr, "warden sensor: --socket, --spiffe-id, --cert, --key and "
				"--bundle need --server URL\n");
			return CLI_EXIT_USAGE;
		}
		return CLI_CONTINUE;
	}
	if (!args->socket == !files || (files && (!args->cert || !args->key || !args->bundle))) {
		fprintf(stderr, "warden sensor: --server needs the sensor's SVID: either --socket "
			"PATH, or --cert, --key and --bundle\n");
		return CLI_EXIT_USAGE;
	}

	/* The client writes to sockets the server may have closed. */
	signal(SIGPIPE, SIG_IGN);
	if (sensor_server_open(&config, &uplink->client, &err) < 0 ||
	    sensor_queue_start(uplink->client, NULL, &uplink->queue, &err) < 0) {
		fprintf(stderr, "warden sensor: failed to reach the server at %s: %s\n", args->url,
			wd_error_text(&err));
		return CLI_EXIT_FAILURE;
	}
	outputs->revoke = revoke_hook;
	outputs->revoke_ctx = uplink;
	outputs->forward = forward_hook;
	outputs->forward_ctx = uplink;
	return CLI_CONTINUE;
}

void sensor_uplink_close(struct sensor_uplink *uplink)
{
	struct sensor_queue_stats stats;
	struct wd_error err = { 0 };

	if (uplink->queue) {
		if (sensor_queue_flush(uplink->queue, UPLINK_FLUSH_MS, &err) < 0)
			fprintf(stderr, "warden sensor: %s\n", wd_error_text(&err));
		sensor_queue_get_stats(uplink->queue, &stats);
		fprintf(stderr, "warden sensor: server: %llu sent, %llu failed, %llu dropped\n",
			(unsigned long long)stats.sent, (unsigned long long)stats.failed,
			(unsigned long long)stats.dropped);
	}
	sensor_queue_free(uplink->queue);
	sensor_server_free(uplink->client);
	uplink->queue = NULL;
	uplink->client = NULL;
}
