/* The outputs of `warden sensor run` besides its alert stream: the rule's
 * responses with their audit records, and syslog. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#include "sensor/response/responder.h"
#include "sensor/response/response.h"
#include "sensor/response/response_syslog.h"
#include "sensor/rules/rules.h"
#include "sensor/sensor_event.h"

/* Receives each alert line (kind "alert") and each audit record (kind
 * "response") after it is written, for example to forward it to the
 * server's audit chain. json is one compact object, borrowed. Calls are
 * serialized: they come from the event loop and the notify worker. */
typedef void (*sensor_output_forward_fn)(const char *kind, const char *json, void *ctx);

struct sensor_output_args {
	const char *responses;       /* --responses FILE, or NULL */
	const char *audit;           /* --audit FILE, or NULL: the alert stream */
	bool dry_run;
	bool syslog;
	const char *syslog_socket;   /* --syslog-socket PATH, or NULL: /dev/log */
	response_revoke_fn revoke;   /* NULL: revoke actions fail */
	void *revoke_ctx;
	sensor_output_forward_fn forward;  /* NULL: nothing is forwarded */
	void *forward_ctx;
};

struct sensor_output {
	FILE *audit;                 /* audit records; the alert stream or its own file */
	bool own_audit;
	struct response_config config;
	struct response_plan *plan;
	struct response_runner *runner;  /* NULL when no rule has an action */
	struct response_syslog *syslog;
	sensor_output_forward_fn forward;
	void *forward_ctx;
	pthread_mutex_t forward_lock;
	bool forward_lock_ready;            /* forward_lock is initialized */
	unsigned long long responses;
	unsigned long long syslog_failures;
};

/* Reads the response file, builds the plan of set, opens the audit file and
 * syslog, and starts the runner when a rule has actions. Prints what went
 * wrong on stderr. Returns CLI_CONTINUE or an exit code. */
int sensor_output_open(struct sensor_output *out, const struct sensor_output_args *args,
	const struct rules_set *set, FILE *alerts, const char *hostname);

/* Sends the alert of rule (text: the JSON line without its newline) for
 * event to syslog and runs the rule's actions. */
void sensor_output_alert(struct sensor_output *out, const struct rules_rule *rule,
	const char *text, const struct sensor_event *event);

/* Stops the runner, prints the response and webhook counts on stderr, and
 * frees everything; accepts a zeroed struct. */
void sensor_output_close(struct sensor_output *out);
