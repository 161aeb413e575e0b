/* Runs the actions of a rule's alert: kill and quarantine are direct system
 * calls on the event loop, notify goes to a bounded queue that a worker
 * thread sends, and revoke calls a hook the caller supplies. Every action
 * gives one audit record. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "common/macros.h"
#include "sensor/response/response.h"
#include "sensor/rules/rules.h"

/* The alert an action responds to. Borrowed for the duration of the call. */
struct response_target {
	const char *rule;          /* the rule's name */
	uint32_t pid;              /* the event's process (thread group id) */
	uint64_t event_ns;         /* CLOCK_MONOTONIC time of the event; 0: unknown */
	const char *alert_json;    /* the alert as written, one line without a newline */
};

/* The revoke hook: revokes what the process of target holds (its workload
 * identity, its leases). Called on the event loop thread, so it should hand
 * slow work to its own queue. Returns 0, or a negative WD_E* code with err
 * set, which the audit record reports. It is not called in dry-run mode. */
typedef int (*response_revoke_fn)(const struct response_target *target, void *ctx,
	struct wd_error *err);

/* The audit hook: receives each audit record as one compact JSON object
 * without a newline (record is borrowed). Called from the event loop thread
 * and from the notify worker, never from both at once. */
typedef void (*response_audit_fn)(const char *record, void *ctx);

struct response_runner_config {
	bool dry_run;                 /* check targets, change nothing, report "dry-run" */
	const char *hostname;         /* copied into the audit records */
	const char *cgroup_root;      /* cgroup v2 mount; NULL: found in /proc/self/mountinfo */
	const struct response_notify_config *notify;  /* NULL or no url: notify fails */
	response_revoke_fn revoke;    /* NULL: revoke fails with "no revoke handler" */
	void *revoke_ctx;
	response_audit_fn audit;      /* required */
	void *audit_ctx;
};

struct response_runner;

/* Counts of the webhook queue. */
struct response_notify_stats {
	unsigned long long sent;      /* the webhook returned a 2xx status */
	unsigned long long failed;    /* connection, TLS or status failures */
	unsigned long long dropped;   /* queue full, or still queued at shutdown */
};

/* Creates a runner, reading the sensor's own cgroup and, with a notify URL,
 * loading the trust anchors and starting the worker thread. The config's
 * strings are copied. Without a cgroup v2 mount the runner is still made
 * and quarantine actions fail with the reason. WD_EINVAL for a bad URL or
 * CA file, WD_EIO, WD_ENOMEM. */
WD_MUST_CHECK int response_runner_new(const struct response_runner_config *config,
	struct response_runner **ret_runner, struct wd_error *err);

/* Runs the actions (RESPONSE_BIT()s) on target in enum order, each giving
 * one audit record. */
void response_runner_run(struct response_runner *runner, unsigned actions,
	const struct response_target *target);

/* Returns the webhook counts so far. */
struct response_notify_stats response_runner_notify_stats(struct response_runner *runner);

/* Stops the notify worker after the request in flight and counts the
 * alerts still queued as dropped, so the counts are final. Later notify
 * actions fail. */
void response_runner_stop(struct response_runner *runner);

/* Stops the runner and frees it; accepts NULL. */
void response_runner_free(struct response_runner *runner);
