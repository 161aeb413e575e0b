/* The sensor client's worker: a bounded FIFO of alerts, response records
 * and revocations, sent one at a time by a thread of its own. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/log.h"
#include "sensor/client/client_internal.h"
#include "sensor/client/server_queue.h"

struct queue_item {
	enum sensor_queue_kind kind;
	pid_t pid;
	json_t *body;        /* alert or response record */
	json_t *selectors;   /* revocation */
	char *rule;
	char *reason;
	struct queue_item *next;
};

struct sensor_queue {
	struct sensor_server *client;
	size_t max_items;
	sensor_queue_result_fn on_result;
	void *result_ctx;
	struct attest_cache *hashes;

	pthread_mutex_t lock;
	pthread_cond_t wake;     /* an item arrived, or stop */
	pthread_cond_t idle;     /* an item finished */
	pthread_t thread;
	struct queue_item *head;
	struct queue_item *tail;
	size_t count;
	bool in_flight;
	bool stop;
	struct sensor_queue_stats stats;
};

static const char *kind_name(enum sensor_queue_kind kind)
{
	switch (kind) {
	case SENSOR_QUEUE_ALERT:
		return "alert";
	case SENSOR_QUEUE_RESPONSE:
		return "response";
	default:
		return "revoke";
	}
}

static void item_free(struct queue_item *item)
{
	if (!item)
		return;
	json_decref(item->body);
	json_decref(item->selectors);
	free(item->rule);
	free(item->reason);
	free(item);
}

static int send_revoke(struct sensor_server *client, const struct queue_item *item,
	json_t **ret_reply, struct wd_error *err)
{
	size_t count = json_array_size(item->selectors);
	const char **selectors = wd_calloc(count ? count : 1, sizeof(*selectors));
	int rc;

	if (!selectors)
		return wd_error_set(err, WD_ENOMEM, "out of memory sending a revocation");
	for (size_t i = 0; i < count; i++)
		selectors[i] = json_string_value(json_array_get(item->selectors, i));
	rc = sensor_server_revoke(client, item->pid, selectors, count, item->rule, item->reason,
		ret_reply, err);
	free(selectors);
	return rc;
}

static void report(struct sensor_queue *queue, const struct queue_item *item,
	const json_t *reply, const struct wd_error *err)
{
	char pid[24];

	if (queue->on_result) {
		queue->on_result(queue->result_ctx, item->kind, item->pid, reply, err);
		return;
	}
	if (!err)
		return;
	snprintf(pid, sizeof(pid), "%lld", (long long)item->pid);
	log_warn("sensor", "server request failed", "kind", kind_name(item->kind), "pid", pid,
		"error", wd_error_text(err));
}

static void send_item(struct sensor_queue *queue, struct queue_item *item)
{
	struct wd_error err = { 0 };
	json_t *reply = NULL;
	int rc;

	switch (item->kind) {
	case SENSOR_QUEUE_ALERT:
		rc = sensor_server_alert(queue->client, item->body, &err);
		break;
	case SENSOR_QUEUE_RESPONSE:
		rc = sensor_server_response(queue->client, item->body, &err);
		break;
	default:
		rc = send_revoke(queue->client, item, &reply, &err);
		break;
	}
	report(queue, item, reply, rc < 0 ? &err : NULL);
	json_decref(reply);

	pthread_mutex_lock(&queue->lock);
	if (rc < 0)
		queue->stats.failed++;
	else
		queue->stats.sent++;
	pthread_mutex_unlock(&queue->lock);
}

static void *worker(void *arg)
{
	struct sensor_queue *queue = arg;

	pthread_mutex_lock(&queue->lock);
	for (;;) {
		struct queue_item *item;

		while (!queue->stop && !queue->head)
			pthread_cond_wait(&queue->wake, &queue->lock);
		if (queue->stop)
			break;
		item = queue->head;
		queue->head = item->next;
		if (!queue->head)
			queue->tail = NULL;
		queue->count--;
		queue->in_flight = true;
		pthread_mutex_unlock(&queue->lock);

		send_item(queue, item);
		item_free(item);

		pthread_mutex_lock(&queue->lock);
		queue->in_flight = false;
		pthread_cond_broadcast(&queue->idle);
	}
	pthread_mutex_unlock(&queue->lock);
	return NULL;
}

int sensor_queue_start(struct sensor_server *client, const struct sensor_queue_config *config,
	struct sensor_queue **ret_queue, struct wd_error *err)
{
	struct sensor_queue *queue;
	int rc;

	*ret_queue = NULL;
	queue = wd_calloc(1, sizeof(*queue));
	if (!queue)
		return wd_error_set(err, WD_ENOMEM, "out of memory starting the server queue");
	queue->client = client;
	queue->max_items = config && config->max_items ? config->max_items :
		SENSOR_QUEUE_DEFAULT_MAX;
	queue->on_result = config ? config->on_result : NULL;
	queue->result_ctx = config ? config->result_ctx : NULL;
	queue->hashes = attest_cache_new(0);
	if (!queue->hashes) {
		free(queue);
		return wd_error_set(err, WD_ENOMEM, "out of memory starting the server queue");
	}
	pthread_mutex_init(&queue->lock, NULL);
	pthread_cond_init(&queue->wake, NULL);
	pthread_cond_init(&queue->idle, NULL);
	rc = pthread_create(&queue->thread, NULL, worker, queue);
	if (rc != 0) {
		pthread_cond_destroy(&queue->idle);
		pthread_cond_destroy(&queue->wake);
		pthread_mutex_destroy(&queue->lock);
		attest_cache_free(queue->hashes);
		free(queue);
		return wd_error_set(err, WD_EIO, "cannot start the server queue's thread: %s",
			strerror(rc));
	}
	*ret_queue = queue;
	return 0;
}

/* Appends item, or drops and counts it when the queue is full. */
static int push(struct sensor_queue *queue, struct queue_item *item, struct wd_error *err)
{
	enum sensor_queue_kind kind = item->kind;

	pthread_mutex_lock(&queue->lock);
	if (queue->count >= queue->max_items) {
		queue->stats.dropped++;
		pthread_mutex_unlock(&queue->lock);
		item_free(item);
		return wd_error_set(err, WD_ETOOBIG, "the server queue is full (%zu items): "
			"dropped the %s", queue->max_items, kind_name(kind));
	}
	if (queue->tail)
		queue->tail->next = item;
	else
		queue->head = item;
	queue->tail = item;
	queue->count++;
	pthread_cond_signal(&queue->wake);
	pthread_mutex_unlock(&queue->lock);
	return 0;
}

int sensor_queue_record(struct sensor_queue *queue, const char *json_text,
	struct wd_error *err)
{
	struct queue_item *item;
	json_error_t error;
	json_t *body = json_loads(json_text, JSON_REJECT_DUPLICATES, &error);
	const char *type;

	if (!json_is_object(body)) {
		json_decref(body);
		return wd_error_set(err, WD_EINVAL, "invalid record: %s",
			body ? "expected a JSON object" : error.text);
	}
	item = wd_calloc(1, sizeof(*item));
	if (!item) {
		json_decref(body);
		return wd_error_set(err, WD_ENOMEM, "out of memory queueing a record");
	}
	type = json_string_value(json_object_get(body, "type"));
	item->kind = type && !strcmp(type, "response") ? SENSOR_QUEUE_RESPONSE :
		SENSOR_QUEUE_ALERT;
	item->body = body;
	if (json_is_integer(json_object_get(body, "pid")))
		item->pid = (pid_t)json_integer_value(json_object_get(body, "pid"));
	return push(queue, item, err);
}

int sensor_queue_revoke(struct sensor_queue *queue, pid_t pid, const char *rule,
	const char *reason, struct wd_error *err)
{
	struct queue_item *item = wd_calloc(1, sizeof(*item));
	int rc;

	if (!item)
		return wd_error_set(err, WD_ENOMEM, "out of memory queueing a revocation");
	item->kind = SENSOR_QUEUE_REVOKE;
	item->pid = pid;
	rc = client_selectors_of_pid(pid, NULL, queue->hashes, &item->selectors, err);
	if (rc < 0) {
		item_free(item);
		return rc;
	}
	item->rule = rule ? wd_strdup(rule) : NULL;
	item->reason = reason ? wd_strdup(reason) : NULL;
	if ((rule && !item->rule) || (reason && !item->reason)) {
		item_free(item);
		return wd_error_set(err, WD_ENOMEM, "out of memory queueing a revocation");
	}
	return push(queue, item, err);
}

int sensor_queue_flush(struct sensor_queue *queue, unsigned timeout_ms, struct wd_error *err)
{
	struct timespec deadline;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}

	pthread_mutex_lock(&queue->lock);
	while ((queue->head || queue->in_flight) && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&queue->idle, &queue->lock, &deadline);
	rc = queue->head || queue->in_flight ? WD_ETIMEOUT : 0;
	pthread_mutex_unlock(&queue->lock);
	if (rc < 0)
		return wd_error_set(err, rc, "the server queue still had items after %u ms",
			timeout_ms);
	return 0;
}

void sensor_queue_get_stats(struct sensor_queue *queue, struct sensor_queue_stats *ret_stats)
{
	pthread_mutex_lock(&queue->lock);
	*ret_stats = queue->stats;
	pthread_mutex_unlock(&queue->lock);
}

void sensor_queue_free(struct sensor_queue *queue)
{
	if (!queue)
		return;
	pthread_mutex_lock(&queue->lock);
	queue->stop = true;
	pthread_cond_signal(&queue->wake);
	pthread_mutex_unlock(&queue->lock);
	pthread_join(queue->thread, NULL);

	while (queue->head) {
		struct queue_item *item = queue->head;

		queue->head = item->next;
		queue->stats.dropped++;
		item_free(item);
	}
	pthread_cond_destroy(&queue->idle);
	pthread_cond_destroy(&queue->wake);
	pthread_mutex_destroy(&queue->lock);
	attest_cache_free(queue->hashes);
	free(queue);
}
