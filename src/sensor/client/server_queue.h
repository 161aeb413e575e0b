/* A worker thread in front of the sensor's server client, so that the
 * sensor's event loop does not wait for the server. The responder's audit
 * hook queues each record. Its revoke hook queues a revocation whose
 * selectors are read at once, while the process still exists. The queue
 * has a ceiling, and an item that does not fit is dropped and counted. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "common/error.h"
#include "common/macros.h"
#include "sensor/client/server_client.h"

/* Default ceiling on queued items. */
#define SENSOR_QUEUE_DEFAULT_MAX 1024

/* The kind of a queued item. */
enum sensor_queue_kind {
	SENSOR_QUEUE_ALERT,      /* POST /v1/sensor/alerts */
	SENSOR_QUEUE_RESPONSE,   /* POST /v1/sensor/responses */
	SENSOR_QUEUE_REVOKE,     /* POST /v1/sensor/revoke */
};

/* Called on the worker thread after each item: err is NULL on success;
 * reply is the server's reply of a revocation (borrowed), else NULL. */
typedef void (*sensor_queue_result_fn)(void *ctx, enum sensor_queue_kind kind, pid_t pid,
	const json_t *reply, const struct wd_error *err);

struct sensor_queue_config {
	size_t max_items;                 /* 0: SENSOR_QUEUE_DEFAULT_MAX */
	sensor_queue_result_fn on_result; /* NULL: failures are logged, successes not */
	void *result_ctx;
};

struct sensor_queue_stats {
	uint64_t sent;       /* the server replied 200 */
	uint64_t failed;     /* the server refused it or could not be reached */
	uint64_t dropped;    /* the queue was full, or the queue was freed first */
};

struct sensor_queue;

/* Starts the worker. client is borrowed and must outlive the queue; config
 * may be NULL. WD_ENOMEM, or WD_EIO when the thread cannot start. */
WD_MUST_CHECK int sensor_queue_start(struct sensor_server *client,
	const struct sensor_queue_config *config, struct sensor_queue **ret_queue,
	struct wd_error *err);

/* Queues one JSON object given as text (copied): a record with "type":
 * "response" goes to the responses route, anything else to the alerts
 * route. It only takes the queue's lock, so the network never delays it. WD_EINVAL for text that is not a JSON
 * object, WD_ETOOBIG when the queue is full (the record is dropped and
 * counted). Safe to call from any thread. */
WD_MUST_CHECK int sensor_queue_record(struct sensor_queue *queue, const char *json_text,
	struct wd_error *err);

/* Reads the selectors of pid now, with the agent's unix attestor (this
 * reads /proc and hashes the executable, with a cache of hashes), and
 * queues the revocation. rule and reason may be NULL. WD_ENOTFOUND when
 * the process is gone, the other errors of sensor_selectors_of_pid, and
 * WD_ETOOBIG when the queue is full. Safe to call from any thread. */
WD_MUST_CHECK int sensor_queue_revoke(struct sensor_queue *queue, pid_t pid, const char *rule,
	const char *reason, struct wd_error *err);

/* Waits until every queued item has been sent or has failed, for at most
 * timeout_ms. WD_ETIMEOUT when items remain. */
WD_MUST_CHECK int sensor_queue_flush(struct sensor_queue *queue, unsigned timeout_ms,
	struct wd_error *err);

/* Copies the counters. */
void sensor_queue_get_stats(struct sensor_queue *queue, struct sensor_queue_stats *ret_stats);

/* Stops the worker after the item in flight, drops the rest (counted) and
 * frees the queue; accepts NULL. */
void sensor_queue_free(struct sensor_queue *queue);
