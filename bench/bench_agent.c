/* Measures the SPIFFE Workload API of `warden agent run` from the client
 * side, over the agent's Unix socket. Two modes:
 *
 *   fetch:  T threads, each with its own gRPC connection, loop
 *           FetchX509SVID for a fixed time: start the stream, take the first
 *           X509SVIDResponse and cancel the stream (RST_STREAM). Prints the
 *           call rate, p50/p99 latency and, given --agent-pid, the agent's
 *           CPU time over the measured window (from /proc/PID/stat).
 *   update: keeps one FetchX509SVID stream open. Each round creates a
 *           registration entry for the caller (selector unix:uid:0) on the
 *           server's admin socket, waits until the stream delivers its SVID,
 *           deletes the entry and times how long the stream takes to deliver
 *           a message without it.
 *
 * bench/agent.sh starts the server and the agent and runs both modes. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "bench_util.h"
#include "common/error.h"
#include "net/grpc.h"
#include "net/net_client.h"
#include "workload.pb-c.h"

#define FETCH_METHOD "/SpiffeWorkloadAPI/FetchX509SVID"
#define DEFAULT_THREADS 64
#define MAX_THREADS 256
#define DEFAULT_SECONDS 10
#define DEFAULT_ROUNDS 10
#define DEFAULT_SYNC_INTERVAL 5
#define CONNECT_TIMEOUT_MS 5000u
/* Limit of one FetchX509SVID call in fetch mode, first reply included. */
#define CALL_TIMEOUT_MS 10000u
/* How long update mode waits for the stream's first message. */
#define FIRST_MESSAGE_TIMEOUT_S 10
/* fetch_one's result for a call that the agent refused because it had
 * closed the connection (see fetch_one). */
#define FETCH_REFUSED 1
/* Any negative code from the message callback cancels the stream. The
 * callback's context distinguishes this deliberate cancel from a failure. */
#define CANCEL_AFTER_FIRST WD_ECONFLICT

/* The Workload API standard requires this header on every call. */
static const struct grpc_metadata workload_header[] = { { "workload.spiffe.io", "true" } };


/* Returns the user + system CPU time of this process, in seconds. */
static double own_cpu_seconds(void)
{
	struct rusage usage;

	if (getrusage(RUSAGE_SELF, &usage) < 0)
		return 0;
	return (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6 +
	       (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6;
}

static int connect_agent(const char *socket_path, struct grpc_client **ret_client)
{
	struct wd_error err = { 0 };

	if (grpc_client_connect_unix(socket_path, NULL, CONNECT_TIMEOUT_MS, ret_client, &err) < 0) {
		fprintf(stderr, "bench_agent: connecting to %s failed: %s\n", socket_path,
			wd_error_text(&err));
		return -1;
	}
	return 0;
}

/* ---- fetch: FetchX509SVID calls per second ------------------------------ */

struct fetch_options {
	const char *socket_path;
	unsigned long threads;
	unsigned long seconds;
	unsigned long agent_pid;  /* 0: do not measure the agent's CPU */
};

/* State shared by every worker; read-only once the workers start. */
struct fetch_shared {
	const struct fetch_options *options;
	pthread_barrier_t connected;
	uint64_t deadline_ns;  /* written by main between the two barriers */
	pthread_barrier_t go;
};

/* Sizes of one X509SVIDResponse, decoded once per worker as a check. */
struct reply_sizes {
	size_t message_bytes;
	size_t svid_count;
	size_t chain_bytes;  /* x509_svid of the first SVID: DER chain, leaf first */
	size_t key_bytes;    /* x509_svid_key of the first SVID: PKCS#8 DER */
	size_t bundle_bytes; /* bundle of the first SVID: DER CA certificates */
};

struct fetch_worker {
	pthread_t thread;
	size_t index;
	struct fetch_shared *shared;
	uint64_t calls;
	uint64_t errors;
	uint64_t refused;      /* calls refused after a GOAWAY, then reconnected */
	uint64_t *samples_ns;  /* latency of each successful call */
	size_t sample_count;
	size_t sample_capacity;
	bool connect_failed;
	bool decoded;
	struct reply_sizes sizes;
};

/* Context of one call: the first reply arrived, and its sizes when asked
 * to decode it. */
struct first_reply {
	bool decode;
	bool received;
	bool valid;
	struct reply_sizes sizes;
};

static void decode_sizes(const uint8_t *bytes, size_t len, struct first_reply *first)
{
	X509SVIDResponse *response = x509_svidresponse__unpack(NULL, len, bytes);

	if (!response)
		return;
	first->valid = response->n_svids > 0;
	first->sizes.message_bytes = len;
	first->sizes.svid_count = response->n_svids;
	if (response->n_svids > 0) {
		first->sizes.chain_bytes = response->svids[0]->x509_svid.len;
		first->sizes.key_bytes = response->svids[0]->x509_svid_key.len;
		first->sizes.bundle_bytes = response->svids[0]->bundle.len;
	}
	x509_svidresponse__free_unpacked(response, NULL);
}

static int on_first_reply(const uint8_t *bytes, size_t len, void *arg)
{
	struct first_reply *first = arg;

	first->received = true;
	if (first->decode)
		decode_sizes(bytes, len, first);
	else
		first->valid = len > 0;
	return CANCEL_AFTER_FIRST;
}

/* Makes one call. Returns 0 when the first reply arrived (and, when
 * decoded, contains an SVID), FETCH_REFUSED when the agent had ended the
 * connection with GOAWAY before the call, or -1 after printing the first
 * failure of each worker. */
static int fetch_one(struct fetch_worker *worker, struct grpc_client *client)
{
	struct first_reply first = { .decode = !worker->decoded };
	struct grpc_call_status status;
	struct wd_error err = { 0 };
	int rc = grpc_client_stream(client, FETCH_METHOD, workload_header, 1, NULL, 0,
		CALL_TIMEOUT_MS, on_first_reply, &first, &status, &err);

	if (rc == CANCEL_AFTER_FIRST && first.received && first.valid) {
		if (first.decode) {
			worker->sizes = first.sizes;
			worker->decoded = true;
		}
		return 0;
	}
	/* nghttp2 (1.52.0-1+deb12u1 and later, the CVE-2023-44487 fix) lets a
	 * client reset 1000 streams per connection plus 33 per second, then
	 * the server sends GOAWAY. The call after it is closed with
	 * REFUSED_STREAM, which grpc_client reports only in the error text. */
	if (rc == WD_EIO && !first.received && strstr(err.detail, "REFUSED_STREAM"))
		return FETCH_REFUSED;
	if (worker->errors == 0) {
		if (rc == 0)
			fprintf(stderr, "bench_agent: worker %zu: FetchX509SVID ended with %s "
				"before a reply: %s\n", worker->index, grpc_status_name(status.code),
				status.message);
		else if (first.received)
			fprintf(stderr, "bench_agent: worker %zu: the first reply is not an "
				"X509SVIDResponse with an SVID\n", worker->index);
		else
			fprintf(stderr, "bench_agent: worker %zu: FetchX509SVID failed: %s\n",
				worker->index, wd_error_text(&err));
	}
	return -1;
}

static void record_sample(struct fetch_worker *worker, uint64_t ns)
{
	if (worker->sample_count == worker->sample_capacity) {
		size_t capacity = worker->sample_capacity ? 2 * worker->sample_capacity : 4096;
		uint64_t *grown = realloc(worker->samples_ns, capacity * sizeof(grown[0]));

		/* Out of memory: keep counting calls, stop sampling them. */
		if (!grown)
			return;
		worker->samples_ns = grown;
		worker->sample_capacity = capacity;
	}
	worker->samples_ns[worker->sample_count++] = ns;
}

static void *fetch_worker_main(void *arg)
{
	struct fetch_worker *worker = arg;
	struct fetch_shared *shared = worker->shared;
	const char *socket_path = shared->options->socket_path;
	struct grpc_client *client = NULL;

	worker->connect_failed = connect_agent(socket_path, &client) < 0;
	pthread_barrier_wait(&shared->connected);
	pthread_barrier_wait(&shared->go);

	while (client) {
		uint64_t start = bench_now_ns();
		int rc;

		if (start >= shared->deadline_ns)
			break;
		rc = fetch_one(worker, client);
		if (rc == 0) {
			worker->calls++;
			record_sample(worker, bench_now_ns() - start);
			continue;
		}
		/* A failed call may leave the connection unusable: reconnect, so
		 * one failure does not end the worker's run. */
		if (rc == FETCH_REFUSED)
			worker->refused++;
		else
			worker->errors++;
		grpc_client_free(client);
		client = NULL;
		if (connect_agent(socket_path, &client) < 0)
			break;
	}
	grpc_client_free(client);
	return NULL;
}

static void fetch_report(const struct fetch_options *options, const struct fetch_worker *workers,
	uint64_t elapsed_ns, double client_cpu_seconds, double agent_cpu_seconds)
{
	const struct reply_sizes *sizes = NULL;
	uint64_t calls = 0, errors = 0, refused = 0;
	size_t sample_total = 0, filled = 0;
	double seconds = (double)elapsed_ns / 1e9;
	uint64_t *samples;

	for (size_t i = 0; i < options->threads; i++) {
		calls += workers[i].calls;
		errors += workers[i].errors;
		refused += workers[i].refused;
		sample_total += workers[i].sample_count;
		if (!sizes && workers[i].decoded)
			sizes = &workers[i].sizes;
	}
	samples = calloc(sample_total ? sample_total : 1, sizeof(samples[0]));
	for (size_t i = 0; samples && i < options->threads; i++) {
		if (workers[i].sample_count)
			memcpy(samples + filled, workers[i].samples_ns,
				workers[i].sample_count * sizeof(samples[0]));
		filled += workers[i].sample_count;
	}
	if (!samples)
		filled = 0;
	printf("fetch threads=%lu seconds=%.3f calls=%" PRIu64 " errors=%" PRIu64
	       " refused=%" PRIu64 " rate=%.1f p50_ms=%.3f p99_ms=%.3f client_cpu_s=%.2f"
	       " client_cpu_pct=%.1f",
		options->threads, seconds, calls, errors, refused, (double)calls / seconds,
		(double)bench_percentile(samples, filled, 0.50) / 1e6,
		(double)bench_percentile(samples, filled, 0.99) / 1e6, client_cpu_seconds,
		100.0 * client_cpu_seconds / seconds);
	if (agent_cpu_seconds >= 0)
		printf(" agent_cpu_s=%.2f agent_cpu_pct=%.1f", agent_cpu_seconds,
			100.0 * agent_cpu_seconds / seconds);
	if (sizes)
		printf(" message_bytes=%zu svids=%zu chain_bytes=%zu key_bytes=%zu bundle_bytes=%zu",
			sizes->message_bytes, sizes->svid_count, sizes->chain_bytes,
			sizes->key_bytes, sizes->bundle_bytes);
	printf("\n");
	free(samples);
}

static int parse_fetch_options(int argc, char **argv, struct fetch_options *ret_options)
{
	static const struct option long_options[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "threads", required_argument, NULL, 't' },
		{ "seconds", required_argument, NULL, 'd' },
		{ "agent-pid", required_argument, NULL, 'P' },
		{ 0 },
	};
	struct fetch_options options = {
		.threads = DEFAULT_THREADS,
		.seconds = DEFAULT_SECONDS,
	};
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (c) {
		case 's': options.socket_path = optarg; break;
		case 't':
			rc = bench_parse_uint("--threads", optarg, 1, MAX_THREADS, &options.threads);
			break;
		case 'd': rc = bench_parse_uint("--seconds", optarg, 1, 3600, &options.seconds); break;
		case 'P':
			rc = bench_parse_uint("--agent-pid", optarg, 1, INT_MAX, &options.agent_pid);
			break;
		default: return -1;
		}
		if (rc < 0)
			return -1;
	}
	if (optind != argc || !options.socket_path) {
		fprintf(stderr, "bench_agent fetch: --socket is required, and no other arguments "
			"are accepted\n");
		return -1;
	}
	*ret_options = options;
	return 0;
}

static int run_fetch(int argc, char **argv)
{
	struct fetch_options options;
	struct fetch_shared shared = { 0 };
	struct fetch_worker *workers;
	unsigned long long ticks_before = 0, ticks_after = 0;
	double agent_cpu_seconds = -1;
	double cpu_before, client_cpu_seconds;
	uint64_t start_ns, elapsed_ns;
	bool have_ticks = false;
	bool failed = false;

	if (parse_fetch_options(argc, argv, &options) < 0)
		return 2;
	shared.options = &options;
	workers = calloc(options.threads, sizeof(workers[0]));
	if (!workers)
		return 1;
	pthread_barrier_init(&shared.connected, NULL, (unsigned)options.threads + 1);
	pthread_barrier_init(&shared.go, NULL, (unsigned)options.threads + 1);
	for (size_t i = 0; i < options.threads; i++) {
		workers[i] = (struct fetch_worker){ .index = i, .shared = &shared };
		if (pthread_create(&workers[i].thread, NULL, fetch_worker_main, &workers[i]) != 0) {
			fprintf(stderr, "bench_agent: starting worker %zu failed\n", i);
			exit(1);
		}
	}

	/* Every connection is up before the clock starts. */
	pthread_barrier_wait(&shared.connected);
	if (options.agent_pid) {
		have_ticks = bench_cpu_ticks(options.agent_pid, &ticks_before) == 0;
		if (!have_ticks)
			fprintf(stderr, "bench_agent: reading /proc/%lu/stat failed\n",
				options.agent_pid);
	}
	cpu_before = own_cpu_seconds();
	start_ns = bench_now_ns();
	shared.deadline_ns = start_ns + options.seconds * 1000000000u;
	pthread_barrier_wait(&shared.go);
	for (size_t i = 0; i < options.threads; i++) {
		pthread_join(workers[i].thread, NULL);
		failed = failed || workers[i].connect_failed || workers[i].errors > 0;
	}
	elapsed_ns = bench_now_ns() - start_ns;
	client_cpu_seconds = own_cpu_seconds() - cpu_before;
	if (have_ticks && bench_cpu_ticks(options.agent_pid, &ticks_after) == 0)
		agent_cpu_seconds = (double)(ticks_after - ticks_before) /
				    (double)sysconf(_SC_CLK_TCK);

	fetch_report(&options, workers, elapsed_ns, client_cpu_seconds, agent_cpu_seconds);
	for (size_t i = 0; i < options.threads; i++)
		free(workers[i].samples_ns);
	free(workers);
	return failed ? 1 : 0;
}

/* ---- update: entry deletion to stream update ---------------------------- */

struct update_options {
	const char *socket_path;
	const char *admin_socket;
	const char *parent_id;
	const char *trust_domain;
	const char *tag;
	unsigned long rounds;
	unsigned long sync_interval;  /* the agent's --sync-interval, in seconds */
};

/* The open stream as the stream thread last saw it. */
struct stream_state {
	const char *socket_path;
	pthread_mutex_t mutex;
	pthread_cond_t changed;  /* on CLOCK_MONOTONIC */
	char **spiffe_ids;       /* of the last message */
	size_t spiffe_id_count;
	uint64_t message_count;
	uint64_t last_message_ns;
	bool ended;
	char end_reason[1200];
};

static void free_ids(char **ids, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(ids[i]);
	free(ids);
}

static int on_stream_message(const uint8_t *bytes, size_t len, void *arg)
{
	struct stream_state *state = arg;
	uint64_t now = bench_now_ns();
	X509SVIDResponse *response = x509_svidresponse__unpack(NULL, len, bytes);
	char **ids;
	size_t count = 0;

	if (!response) {
		pthread_mutex_lock(&state->mutex);
		snprintf(state->end_reason, sizeof(state->end_reason),
			"a stream message of %zu bytes is not an X509SVIDResponse", len);
		pthread_mutex_unlock(&state->mutex);
		return WD_EINVAL;
	}
	ids = calloc(response->n_svids ? response->n_svids : 1, sizeof(ids[0]));
	for (size_t i = 0; ids && i < response->n_svids; i++) {
		ids[i] = strdup(response->svids[i]->spiffe_id);
		if (!ids[i]) {
			free_ids(ids, count);
			ids = NULL;
			break;
		}
		count++;
	}
	x509_svidresponse__free_unpacked(response, NULL);
	if (!ids)
		return WD_ENOMEM;

	pthread_mutex_lock(&state->mutex);
	free_ids(state->spiffe_ids, state->spiffe_id_count);
	state->spiffe_ids = ids;
	state->spiffe_id_count = count;
	state->message_count++;
	state->last_message_ns = now;
	pthread_cond_broadcast(&state->changed);
	pthread_mutex_unlock(&state->mutex);
	return 0;
}

/* Runs one FetchX509SVID stream without a time limit until the agent or
 * the connection ends it. */
static void *stream_main(void *arg)
{
	struct stream_state *state = arg;
	struct grpc_client *client = NULL;
	struct grpc_call_status status;
	struct wd_error err = { 0 };
	char reason[sizeof(state->end_reason)];
	int rc;

	if (connect_agent(state->socket_path, &client) < 0) {
		snprintf(reason, sizeof(reason), "connecting to %s failed", state->socket_path);
	} else {
		rc = grpc_client_stream(client, FETCH_METHOD, workload_header, 1, NULL, 0, 0,
			on_stream_message, state, &status, &err);
		if (rc == 0)
			snprintf(reason, sizeof(reason), "the agent ended the stream with %s: %s",
				grpc_status_name(status.code), status.message);
		else
			snprintf(reason, sizeof(reason), "the stream failed: %s", wd_error_text(&err));
	}
	grpc_client_free(client);

	pthread_mutex_lock(&state->mutex);
	state->ended = true;
	if (state->end_reason[0] == '\0')
		memcpy(state->end_reason, reason, sizeof(reason));
	pthread_cond_broadcast(&state->changed);
	pthread_mutex_unlock(&state->mutex);
	return NULL;
}

static bool ids_contain(const struct stream_state *state, const char *spiffe_id)
{
	for (size_t i = 0; i < state->spiffe_id_count; i++) {
		if (strcmp(state->spiffe_ids[i], spiffe_id) == 0)
			return true;
	}
	return false;
}

static uint64_t stream_message_count(struct stream_state *state)
{
	uint64_t count;

	pthread_mutex_lock(&state->mutex);
	count = state->message_count;
	pthread_mutex_unlock(&state->mutex);
	return count;
}

/* Waits until a message after message number after_count does (present) or
 * does not contain spiffe_id, and stores the time it arrived. Fails with a
 * message after timeout_s or when the stream ended. */
static int wait_for_message(struct stream_state *state, const char *spiffe_id, bool present,
	uint64_t after_count, long timeout_s, uint64_t *ret_ns)
{
	struct timespec deadline;
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_s;
	pthread_mutex_lock(&state->mutex);
	for (;;) {
		if (state->message_count > after_count &&
		    (!spiffe_id || ids_contain(state, spiffe_id) == present)) {
			*ret_ns = state->last_message_ns;
			break;
		}
		if (state->ended) {
			fprintf(stderr, "bench_agent: %s\n", state->end_reason);
			rc = -1;
			break;
		}
		if (pthread_cond_timedwait(&state->changed, &state->mutex, &deadline) == ETIMEDOUT) {
			fprintf(stderr, "bench_agent: no stream message %s %s within %ld s\n",
				present ? "with" : "without", spiffe_id ? spiffe_id : "(any)",
				timeout_s);
			rc = -1;
			break;
		}
	}
	pthread_mutex_unlock(&state->mutex);
	return rc;
}

/* A keep-alive connection to the server's admin socket. */
struct admin_connection {
	const char *socket_path;
	struct net_client *client;
};

/* Sends one request and expects expected_status; stores the JSON body in
 * ret_json (may be NULL). Reconnects when the server closed the connection. */
static int admin_request(struct admin_connection *admin, const char *method, const char *path,
	const json_t *body, int expected_status, json_t **ret_json)
{
	struct net_client_config config = { .unix_path = admin->socket_path };
	struct net_response *response = NULL;
	struct wd_error err = { 0 };
	int rc;

	if (admin->client && !net_client_is_open(admin->client)) {
		net_client_free(admin->client);
		admin->client = NULL;
	}
	if (!admin->client && net_client_connect(&config, &admin->client, &err) < 0) {
		fprintf(stderr, "bench_agent: connecting to the admin socket %s failed: %s\n",
			admin->socket_path, wd_error_text(&err));
		return -1;
	}
	rc = net_client_request_json(admin->client, method, path, body, &response, &err);
	if (rc < 0) {
		fprintf(stderr, "bench_agent: %s %s failed: %s\n", method, path, wd_error_text(&err));
		return -1;
	}
	if (response->status != expected_status) {
		fprintf(stderr, "bench_agent: %s %s: HTTP %d, expected %d: %.300s\n", method, path,
			response->status, expected_status, (const char *)response->body);
		net_response_free(response);
		return -1;
	}
	if (ret_json && net_response_json(response, ret_json, &err) < 0) {
		fprintf(stderr, "bench_agent: %s %s: %s\n", method, path, wd_error_text(&err));
		rc = -1;
	}
	net_response_free(response);
	return rc;
}

/* Creates an entry for spiffe_id with the selector unix:uid:0; stores its
 * id (malloc'd) in ret_id. */
static int create_entry(struct admin_connection *admin, const struct update_options *options,
	const char *spiffe_id, char **ret_id)
{
	json_t *body = json_pack("{s:s, s:s, s:[s]}", "spiffe_id", spiffe_id, "parent_id",
		options->parent_id, "selectors", "unix:uid:0");
	json_t *reply = NULL;
	const char *id;
	int rc;

	*ret_id = NULL;
	if (!body)
		return -1;
	rc = admin_request(admin, "POST", "/v1/entries", body, 201, &reply);
	json_decref(body);
	if (rc < 0)
		return -1;
	id = json_string_value(json_object_get(reply, "id"));
	if (id)
		*ret_id = strdup(id);
	else
		fprintf(stderr, "bench_agent: POST /v1/entries returned no id\n");
	json_decref(reply);
	return *ret_id ? 0 : -1;
}

static int delete_entry(struct admin_connection *admin, const char *id)
{
	char path[128];

	snprintf(path, sizeof(path), "/v1/entries/%s", id);
	return admin_request(admin, "DELETE", path, NULL, 200, NULL);
}

static void sleep_ns(uint64_t ns)
{
	struct timespec left = {
		.tv_sec = (time_t)(ns / 1000000000u),
		.tv_nsec = (long)(ns % 1000000000u),
	};

	while (nanosleep(&left, &left) < 0 && errno == EINTR)
		;
}

/* Runs one round: create, wait until the stream delivers the new SVID,
 * wait offset_ns, delete, wait until the stream drops it. */
static int update_round(struct stream_state *state, struct admin_connection *admin,
	const struct update_options *options, unsigned long round, uint64_t offset_ns,
	uint64_t *ret_appear_ns, uint64_t *ret_delete_ns)
{
	/* A deletion may land just after a sync pass began: allow two passes
	 * and a margin for minting. */
	long timeout_s = 2 * (long)options->sync_interval + 30;
	char spiffe_id[512];
	char *id = NULL;
	uint64_t count, start, seen;
	int rc = -1;

	snprintf(spiffe_id, sizeof(spiffe_id), "spiffe://%s/bench/update-%s-%lu",
		options->trust_domain, options->tag, round);
	count = stream_message_count(state);
	start = bench_now_ns();
	if (create_entry(admin, options, spiffe_id, &id) < 0 ||
	    wait_for_message(state, spiffe_id, true, count, timeout_s, &seen) < 0)
		goto out;
	*ret_appear_ns = seen - start;

	sleep_ns(offset_ns);
	count = stream_message_count(state);
	start = bench_now_ns();
	if (delete_entry(admin, id) < 0 ||
	    wait_for_message(state, spiffe_id, false, count, timeout_s, &seen) < 0)
		goto out;
	*ret_delete_ns = seen - start;
	fprintf(stderr, "  round %lu: in the stream %.3f s after the create; deleted %.3f s "
		"later, gone from the stream %.3f s after the delete\n", round,
		(double)*ret_appear_ns / 1e9, (double)offset_ns / 1e9, (double)*ret_delete_ns / 1e9);
	rc = 0;
out:
	free(id);
	return rc;
}

static int parse_update_options(int argc, char **argv, struct update_options *ret_options)
{
	static const struct option long_options[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "admin-socket", required_argument, NULL, 'a' },
		{ "parent-id", required_argument, NULL, 'p' },
		{ "trust-domain", required_argument, NULL, 'T' },
		{ "tag", required_argument, NULL, 'g' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "sync-interval", required_argument, NULL, 'i' },
		{ 0 },
	};
	struct update_options options = {
		.tag = "run",
		.rounds = DEFAULT_ROUNDS,
		.sync_interval = DEFAULT_SYNC_INTERVAL,
	};
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (c) {
		case 's': options.socket_path = optarg; break;
		case 'a': options.admin_socket = optarg; break;
		case 'p': options.parent_id = optarg; break;
		case 'T': options.trust_domain = optarg; break;
		case 'g': options.tag = optarg; break;
		case 'r': rc = bench_parse_uint("--rounds", optarg, 1, 1000, &options.rounds); break;
		case 'i':
			rc = bench_parse_uint("--sync-interval", optarg, 1, 3600,
				&options.sync_interval);
			break;
		default: return -1;
		}
		if (rc < 0)
			return -1;
	}
	if (optind != argc || !options.socket_path || !options.admin_socket ||
	    !options.parent_id || !options.trust_domain) {
		fprintf(stderr, "bench_agent update: --socket, --admin-socket, --parent-id and "
			"--trust-domain are required, and no other arguments are accepted\n");
		return -1;
	}
	*ret_options = options;
	return 0;
}

static int run_update(int argc, char **argv)
{
	struct update_options options;
	struct stream_state state = { 0 };
	struct admin_connection admin = { 0 };
	pthread_condattr_t condattr;
	pthread_t stream_thread;
	uint64_t *appear_ns, *delete_ns;
	uint64_t first_ns, interval_ns, delete_min = UINT64_MAX;
	size_t done = 0;

	if (parse_update_options(argc, argv, &options) < 0)
		return 2;
	admin.socket_path = options.admin_socket;
	state.socket_path = options.socket_path;
	appear_ns = calloc(options.rounds, sizeof(appear_ns[0]));
	delete_ns = calloc(options.rounds, sizeof(delete_ns[0]));
	if (!appear_ns || !delete_ns)
		return 1;
	pthread_mutex_init(&state.mutex, NULL);
	pthread_condattr_init(&condattr);
	pthread_condattr_setclock(&condattr, CLOCK_MONOTONIC);
	pthread_cond_init(&state.changed, &condattr);
	if (pthread_create(&stream_thread, NULL, stream_main, &state) != 0) {
		fprintf(stderr, "bench_agent: starting the stream thread failed\n");
		return 1;
	}
	/* NOTE: the stream thread is never joined. It stays blocked in the open
	 * stream until the process exits, so its client is never freed. */
	if (wait_for_message(&state, NULL, true, 0, FIRST_MESSAGE_TIMEOUT_S, &first_ns) < 0)
		return 1;

	/* Spread the deletions evenly over one sync interval after the pass
	 * that delivered the entry, as deletions at random times would be:
	 * round i waits (i + 0.5) / rounds of the interval. */
	interval_ns = options.sync_interval * 1000000000u;
	for (unsigned long i = 0; i < options.rounds; i++) {
		uint64_t offset_ns = (2 * i + 1) * interval_ns / (2 * options.rounds);

		if (update_round(&state, &admin, &options, i, offset_ns, &appear_ns[done],
			&delete_ns[done]) < 0)
			break;
		if (delete_ns[done] < delete_min)
			delete_min = delete_ns[done];
		done++;
	}
	net_client_free(admin.client);
	if (done < options.rounds) {
		fprintf(stderr, "bench_agent: stopped after %zu of %lu rounds\n", done,
			options.rounds);
		return 1;
	}
	printf("update rounds=%zu sync_interval_s=%lu delete_min_ms=%.0f delete_p50_ms=%.0f "
	       "delete_max_ms=%.0f appear_p50_ms=%.0f appear_max_ms=%.0f\n",
		done, options.sync_interval, (double)delete_min / 1e6,
		(double)bench_percentile(delete_ns, done, 0.50) / 1e6,
		(double)bench_percentile(delete_ns, done, 1.0) / 1e6,
		(double)bench_percentile(appear_ns, done, 0.50) / 1e6,
		(double)bench_percentile(appear_ns, done, 1.0) / 1e6);
	free(appear_ns);
	free(delete_ns);
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bench_agent fetch --socket PATH [--threads N] [--seconds N] [--agent-pid PID]\n"
		"       bench_agent update --socket PATH --admin-socket PATH --parent-id ID\n"
		"                          --trust-domain NAME [--rounds N] [--sync-interval S]\n"
		"                          [--tag NAME]\n"
		"  --socket PATH        the agent's Workload API socket\n"
		"  --threads N          fetch: connections, one thread each (default %d)\n"
		"  --seconds N          fetch: measured duration in seconds (default %d)\n"
		"  --agent-pid PID      fetch: report that process's CPU time over the run\n"
		"  --admin-socket PATH  update: the server's admin socket\n"
		"  --parent-id ID       update: the agent's SPIFFE ID, parent of the entries\n"
		"  --trust-domain NAME  update: trust domain of the entries' SPIFFE IDs\n"
		"  --rounds N           update: create/delete rounds (default %d)\n"
		"  --sync-interval S    update: the agent's sync interval in seconds, over which\n"
		"                       the deletions are spread (default %d)\n"
		"  --tag NAME           update: part of the entries' SPIFFE IDs, unique per run\n",
		DEFAULT_THREADS, DEFAULT_SECONDS, DEFAULT_ROUNDS, DEFAULT_SYNC_INTERVAL);
}

int main(int argc, char **argv)
{
	int status;

	/* net_client writes with write(2): a closed peer must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "fetch") == 0)
		status = run_fetch(argc - 1, argv + 1);
	else if (strcmp(argv[1], "update") == 0)
		status = run_update(argc - 1, argv + 1);
	else {
		fprintf(stderr, "bench_agent: unknown mode \"%s\": expected fetch or update\n",
			argv[1]);
		status = 2;
	}
	if (status == 2)
		usage(stderr);
	fflush(stdout);
	/* _exit: the update stream thread may still be blocked in its call. */
	_exit(status);
}
