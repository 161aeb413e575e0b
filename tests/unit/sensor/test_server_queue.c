/* Unit tests for the sensor client's queue: records and revocations go to
 * the worker in order, a full queue drops and counts, bad input is
 * rejected before it is queued. The server URL points at a closed port, so
 * every send fails at once and no server is needed. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/file.h"
#include "common/time.h"
#include "crypto/key.h"
#include "crypto/x509.h"
#include "identity/x509svid.h"
#include "sensor/client/server_queue.h"

#define SENSOR_ID "spiffe://example.org/sensor"

struct fixture {
	char dir[64];
	char cert[128];
	char key[128];
	char bundle[128];
	struct sensor_server *client;
};

/* The calls the result callback got, and a gate that stops the worker. */
struct results {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	bool hold;           /* the callback waits while this is set */
	bool waiting;        /* the callback is waiting */
	size_t count;
	enum sensor_queue_kind kinds[8];
	pid_t pids[8];
	int codes[8];
};

static void write_pem(const char *path, char *pem)
{
	assert_int_equal(wd_file_write_atomic(path, pem, strlen(pem), 0600, NULL), 0);
	free(pem);
}

/* Writes an SVID of SENSOR_ID, its key and its CA, and opens a client on a
 * closed port of the loopback address. */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sensor_server_config config = { .url = "https://127.0.0.1:1" };
	struct x509svid_request request = { .now = wd_now(), .ttl_seconds = 3600 };
	EVP_PKEY *ca_key = NULL, *key = NULL;
	X509 *ca = NULL, *leaf = NULL;
	struct spiffe_id id;
	char *pem = NULL;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/wd-sensor-queue-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->cert, sizeof(f->cert), "%s/sensor.pem", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/sensor.key", f->dir);
	snprintf(f->bundle, sizeof(f->bundle), "%s/bundle.pem", f->dir);

	assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC_P256, &ca_key, NULL), 0);
	assert_int_equal(x509svid_ca_create(ca_key, "example.org", wd_now(), 86400, 86400, &ca,
		NULL), 0);
	assert_int_equal(spiffe_id_parse(SENSOR_ID, strlen(SENSOR_ID), &id, NULL), 0);
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC_P256, &key, NULL), 0);
	request.id = &id;
	request.public_key = key;
	assert_int_equal(x509svid_issue(ca, ca_key, &request, &leaf, NULL), 0);

	assert_int_equal(crypto_x509_to_pem(leaf, &pem), 0);
	write_pem(f->cert, pem);
	assert_int_equal(crypto_key_to_pem(key, &pem, NULL), 0);
	write_pem(f->key, pem);
	assert_int_equal(crypto_x509_to_pem(ca, &pem), 0);
	write_pem(f->bundle, pem);

	config.cert_path = f->cert;
	config.key_path = f->key;
	config.bundle_path = f->bundle;
	config.timeout_ms = 2000;
	assert_int_equal(sensor_server_open(&config, &f->client, NULL), 0);

	X509_free(leaf);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sensor_server_free(f->client);
	unlink(f->cert);
	unlink(f->key);
	unlink(f->bundle);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void record_result(void *ctx, enum sensor_queue_kind kind, pid_t pid,
	const json_t *reply, const struct wd_error *err)
{
	struct results *results = ctx;

	assert_null(reply);
	pthread_mutex_lock(&results->lock);
	if (results->count < 8) {
		results->kinds[results->count] = kind;
		results->pids[results->count] = pid;
		results->codes[results->count] = err ? err->code : 0;
	}
	results->count++;
	results->waiting = true;
	pthread_cond_broadcast(&results->changed);
	while (results->hold)
		pthread_cond_wait(&results->changed, &results->lock);
	results->waiting = false;
	pthread_mutex_unlock(&results->lock);
}

static void results_init(struct results *results, bool hold)
{
	memset(results, 0, sizeof(*results));
	pthread_mutex_init(&results->lock, NULL);
	pthread_cond_init(&results->changed, NULL);
	results->hold = hold;
}

static void results_destroy(struct results *results)
{
	pthread_cond_destroy(&results->changed);
	pthread_mutex_destroy(&results->lock);
}

/* Records and a revocation reach the worker in order, each failing at the
 * closed port with WD_EIO. */
static void items_sent_in_order(void **state)
{
	struct fixture *f = *state;
	struct results results;
	struct sensor_queue_config config = { .on_result = record_result, .result_ctx = &results };
	struct sensor_queue *queue = NULL;
	struct sensor_queue_stats stats;
	struct wd_error err = { 0 };

	results_init(&results, false);
	assert_int_equal(sensor_queue_start(f->client, &config, &queue, &err), 0);
	assert_int_equal(sensor_queue_record(queue, "{\"rule\": \"r\", \"pid\": 7}", &err), 0);
	assert_int_equal(sensor_queue_record(queue,
		"{\"type\": \"response\", \"action\": \"kill\", \"pid\": 8}", &err), 0);
	/* The selectors of this very process are read at once. */
	assert_int_equal(sensor_queue_revoke(queue, getpid(), "r", "test", &err), 0);
	assert_int_equal(sensor_queue_flush(queue, 20000, &err), 0);

	sensor_queue_get_stats(queue, &stats);
	assert_int_equal(stats.sent, 0);
	assert_int_equal(stats.failed, 3);
	assert_int_equal(stats.dropped, 0);
	assert_int_equal(results.count, 3);
	assert_int_equal(results.kinds[0], SENSOR_QUEUE_ALERT);
	assert_int_equal(results.pids[0], 7);
	assert_int_equal(results.kinds[1], SENSOR_QUEUE_RESPONSE);
	assert_int_equal(results.pids[1], 8);
	assert_int_equal(results.kinds[2], SENSOR_QUEUE_REVOKE);
	assert_int_equal(results.pids[2], getpid());
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(results.codes[i], WD_EIO);
	sensor_queue_free(queue);
	results_destroy(&results);
}

/* Bad input is rejected by the caller's thread and never queued. */
static void bad_input_rejected(void **state)
{
	struct fixture *f = *state;
	struct sensor_queue *queue = NULL;
	struct sensor_queue_stats stats;
	struct wd_error err = { 0 };

	assert_int_equal(sensor_queue_start(f->client, NULL, &queue, &err), 0);
	assert_int_equal(sensor_queue_record(queue, "not json", &err), WD_EINVAL);
	assert_non_null(strstr(wd_error_text(&err), "invalid record: "));
	assert_int_equal(sensor_queue_record(queue, "[1]", &err), WD_EINVAL);
	assert_string_equal(wd_error_text(&err), "invalid record: expected a JSON object");
	assert_int_equal(sensor_queue_revoke(queue, 2147483647, NULL, NULL, &err), WD_ENOTFOUND);
	assert_int_equal(sensor_queue_flush(queue, 1000, &err), 0);
	sensor_queue_get_stats(queue, &stats);
	assert_int_equal(stats.sent + stats.failed + stats.dropped, 0);
	sensor_queue_free(queue);
}

/* With the worker held in its callback, a queue of one takes one more item
 * and drops the next. */
static void full_queue_drops(void **state)
{
	struct fixture *f = *state;
	struct results results;
	struct sensor_queue_config config = {
		.max_items = 1, .on_result = record_result, .result_ctx = &results,
	};
	struct sensor_queue *queue = NULL;
	struct sensor_queue_stats stats;
	struct wd_error err = { 0 };

	results_init(&results, true);
	assert_int_equal(sensor_queue_start(f->client, &config, &queue, &err), 0);
	assert_int_equal(sensor_queue_record(queue, "{\"rule\": \"first\"}", &err), 0);
	pthread_mutex_lock(&results.lock);
	while (!results.waiting)
		pthread_cond_wait(&results.changed, &results.lock);
	pthread_mutex_unlock(&results.lock);

	assert_int_equal(sensor_queue_record(queue, "{\"rule\": \"second\"}", &err), 0);
	assert_int_equal(sensor_queue_record(queue, "{\"rule\": \"third\"}", &err), WD_ETOOBIG);
	assert_string_equal(wd_error_text(&err),
		"the server queue is full (1 items): dropped the alert");
	assert_int_equal(sensor_queue_flush(queue, 100, &err), WD_ETIMEOUT);

	pthread_mutex_lock(&results.lock);
	results.hold = false;
	pthread_cond_broadcast(&results.changed);
	pthread_mutex_unlock(&results.lock);
	assert_int_equal(sensor_queue_flush(queue, 20000, &err), 0);
	sensor_queue_get_stats(queue, &stats);
	assert_int_equal(stats.failed, 2);
	assert_int_equal(stats.dropped, 1);
	assert_int_equal(results.count, 2);
	sensor_queue_free(queue);
	results_destroy(&results);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(items_sent_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_input_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(full_queue_drops, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
