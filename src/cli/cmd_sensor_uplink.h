/* The link of `warden sensor run` to warden server (--server): alert lines
 * and response records go to the server's audit chain, and revoke actions
 * ask the server to revoke the caught process's identities and leases. A
 * worker thread sends them, so the event loop never waits for the server. */
#pragma once

#include "cli/cmd_sensor_output.h"
#include "sensor/client/server_client.h"
#include "sensor/client/server_queue.h"

struct sensor_uplink_args {
	const char *url;      /* --server URL, or NULL: no uplink */
	const char *socket;   /* --socket: the agent's Workload API socket */
	const char *spiffe_id;  /* --spiffe-id: which SVID of the socket; NULL: the first */
	const char *cert;     /* or --cert, --key and --bundle: PEM files */
	const char *key;
	const char *bundle;
};

struct sensor_uplink {
	struct sensor_server *client;
	struct sensor_queue *queue;
};

/* Checks the arguments, obtains the sensor's SVID, starts the worker and
 * sets the revoke and forward hooks of outputs. Does nothing without a
 * URL. Prints what went wrong on stderr. Returns CLI_CONTINUE, or
 * CLI_EXIT_USAGE / CLI_EXIT_FAILURE. */
int sensor_uplink_open(struct sensor_uplink *uplink, const struct sensor_uplink_args *args,
	struct sensor_output_args *outputs);

/* Waits a few seconds for queued items, prints the counts on stderr, and
 * frees everything; accepts a zeroed struct. */
void sensor_uplink_close(struct sensor_uplink *uplink);
