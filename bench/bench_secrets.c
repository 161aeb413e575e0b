/* Measures the Vault-compatible secrets API: T threads, each with its own
 * keep-alive TLS connection (net_client) carrying the X-Vault-Token header,
 * run one mode for a fixed time:
 *   kv-read   GET /v1/MOUNT/data/bench-N over keys written before the clock
 *             starts
 *   kv-write  POST /v1/MOUNT/data/bench-N {"data": {"value": ...}}
 *   creds     GET /v1/DB_MOUNT/creds/ROLE, then PUT /v1/sys/leases/revoke
 *             with the lease id: one full cycle of a dynamic credential
 * Prints one line of key=value results: the rate, p50/p99 latency, the CPU
 * time of this client and of the whole machine over the run and, given
 * --server-pid, the server's CPU time per operation. */
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
#include <unistd.h>

#include <jansson.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "bench_util.h"
#include "common/error.h"
#include "crypto/x509.h"
#include "net/net_client.h"

#define DEFAULT_THREADS 8
#define DEFAULT_SECONDS 10
#define DEFAULT_KEYS 1000
#define DEFAULT_VALUE_BYTES 64
#define MAX_THREADS 64
#define MAX_BUNDLE_CERTS 16
/* Distinct KV bodies that writers use in turn. */
#define BODY_COUNT 64
/* Latency samples kept per thread and series; operations past it are
 * counted but not sampled. At 0.1 ms per request a 10 s run needs 100,000. */
#define MAX_SAMPLES_PER_THREAD (1u << 20)
#define TOKEN_MAX 256
#define PATH_MAX_LEN 512

enum mode { MODE_KV_READ, MODE_KV_WRITE, MODE_CREDS };

static const char *const mode_names[] = {
	[MODE_KV_READ] = "kv-read",
	[MODE_KV_WRITE] = "kv-write",
	[MODE_CREDS] = "creds",
};

struct options {
	enum mode mode;
	const char *host;
	unsigned long port;
	const char *bundle_path;
	const char *kv_mount;
	const char *db_mount;
	const char *role;
	unsigned long threads;
	unsigned long seconds;
	unsigned long keys;
	unsigned long value_bytes;
	unsigned long server_pid;  /* 0: do not measure the server's CPU */
};

/* State shared by every worker; read-only once the workers start. */
struct shared {
	const struct options *options;
	X509 **anchors;
	size_t anchor_count;
	char token_header[TOKEN_MAX + 32];  /* "X-Vault-Token: ..." */
	char *bodies[BODY_COUNT];           /* kv-write bodies */
	pthread_barrier_t connected;
	uint64_t deadline_ns;               /* written by main between the two barriers */
	pthread_barrier_t go;
};

/* Latencies of one kind of operation, in nanoseconds. */
struct series {
	uint64_t *ns;
	size_t count;
};

/* The series of a worker: every operation (a KV request or a whole
 * credential cycle), and in creds mode its two requests apart. */
enum { SERIES_OP, SERIES_ISSUE, SERIES_REVOKE, SERIES_COUNT };

struct worker {
	pthread_t thread;
	size_t index;
	struct shared *shared;
	uint64_t ops;
	uint64_t errors;
	struct series series[SERIES_COUNT];
	bool setup_failed;
};

static int load_anchors(struct shared *shared)
{
	STACK_OF(X509) *bundle = NULL;
	struct wd_error err = { 0 };
	char *bundle_pem = bench_read_file("bench_secrets", shared->options->bundle_path);
	int rc;

	if (!bundle_pem)
		return -1;
	rc = crypto_x509_chain_from_pem(bundle_pem, strlen(bundle_pem), MAX_BUNDLE_CERTS,
		&bundle, &err);
	free(bundle_pem);
	if (rc < 0) {
		fprintf(stderr, "bench_secrets: bundle \"%s\": %s\n", shared->options->bundle_path,
			wd_error_text(&err));
		return -1;
	}
	shared->anchor_count = (size_t)sk_X509_num(bundle);
	shared->anchors = calloc(shared->anchor_count, sizeof(shared->anchors[0]));
	for (size_t i = 0; shared->anchors && i < shared->anchor_count; i++) {
		shared->anchors[i] = sk_X509_value(bundle, (int)i);
		X509_up_ref(shared->anchors[i]);
	}
	sk_X509_pop_free(bundle, X509_free);
	return shared->anchors ? 0 : -1;
}

/* The token comes from VAULT_TOKEN, as for Vault's CLI, so that it does not
 * show in the process list. */
static int load_token(struct shared *shared)
{
	const char *token = getenv("VAULT_TOKEN");

	if (!token || !*token || strlen(token) > TOKEN_MAX || strpbrk(token, "\r\n")) {
		fprintf(stderr, "bench_secrets: set VAULT_TOKEN to a token of at most %d bytes "
				"on one line\n", TOKEN_MAX);
		return -1;
	}
	snprintf(shared->token_header, sizeof(shared->token_header), "X-Vault-Token: %s", token);
	return 0;
}

/* Builds the kv-write bodies: {"data": {"value": V}} with V value_bytes
 * random letters and digits, a different V in each body. */
static int make_bodies(struct shared *shared)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	size_t len = shared->options->value_bytes;
	unsigned char *random = malloc(len);
	char *value = malloc(len + 1);
	int rc = 0;

	for (size_t i = 0; i < BODY_COUNT && rc == 0; i++) {
		json_t *body;

		if (!random || !value || RAND_bytes(random, (int)len) != 1) {
			rc = -1;
			break;
		}
		for (size_t j = 0; j < len; j++)
			value[j] = alphabet[random[j] % (sizeof(alphabet) - 1)];
		value[len] = '\0';
		body = json_pack("{s:{s:s}}", "data", "value", value);
		shared->bodies[i] = body ? json_dumps(body, JSON_COMPACT) : NULL;
		json_decref(body);
		if (!shared->bodies[i])
			rc = -1;
	}
	free(random);
	free(value);
	if (rc < 0)
		fprintf(stderr, "bench_secrets: building the KV bodies failed\n");
	return rc;
}

static struct net_client *connect_client(const struct shared *shared)
{
	const struct options *options = shared->options;
	struct net_client_config config = {
		.host = options->host,
		.port = (uint16_t)options->port,
		.trust_anchors = shared->anchors,
		.trust_anchor_count = shared->anchor_count,
	};
	struct net_client *client = NULL;
	struct wd_error err = { 0 };

	if (net_client_connect(&config, &client, &err) < 0) {
		fprintf(stderr, "bench_secrets: connecting to %s:%lu failed: %s\n", options->host,
			options->port, wd_error_text(&err));
		return NULL;
	}
	return client;
}

/* Sends one request and returns the response when its status is the
 * expected one, else NULL after printing the worker's first failure. */
static struct net_response *send_request(struct worker *worker, struct net_client *client,
	const char *method, const char *path, const char *body, int expected_status)
{
	const char *headers[] = { worker->shared->token_header };
	struct net_response *response = NULL;
	struct wd_error err = { 0 };
	int rc = net_client_request(client, method, path, headers, 1,
		body ? "application/json" : NULL, body, body ? strlen(body) : 0, &response, &err);

	if (rc == 0 && response->status == expected_status)
		return response;
	if (worker->errors == 0) {
		if (rc < 0)
			fprintf(stderr, "bench_secrets: worker %zu: %s %s failed: %s\n", worker->index,
				method, path, wd_error_text(&err));
		else
			fprintf(stderr, "bench_secrets: worker %zu: %s %s: HTTP %d: %.300s\n",
				worker->index, method, path, response->status,
				(const char *)response->body);
	}
	net_response_free(response);
	return NULL;
}

static void kv_path(const struct options *options, size_t key, char path[static PATH_MAX_LEN])
{
	snprintf(path, PATH_MAX_LEN, "/v1/%s/data/bench-%zu", options->kv_mount, key);
}

static int kv_write(struct worker *worker, struct net_client *client, size_t key,
	const char *body)
{
	char path[PATH_MAX_LEN];
	struct net_response *response;

	kv_path(worker->shared->options, key, path);
	response = send_request(worker, client, "POST", path, body, 200);
	net_response_free(response);
	return response ? 0 : -1;
}

static int kv_read(struct worker *worker, struct net_client *client, size_t key)
{
	char path[PATH_MAX_LEN];
	struct net_response *response;

	kv_path(worker->shared->options, key, path);
	response = send_request(worker, client, "GET", path, NULL, 200);
	net_response_free(response);
	return response ? 0 : -1;
}

static void record(struct series *series, uint64_t ns)
{
	if (series->count < MAX_SAMPLES_PER_THREAD)
		series->ns[series->count++] = ns;
}

/* One credential cycle: issue, then revoke by lease id. Both requests are
 * timed apart in the issue and revoke series. */
static int creds_cycle(struct worker *worker, struct net_client *client)
{
	const struct options *options = worker->shared->options;
	struct net_response *response;
	struct wd_error err = { 0 };
	json_t *reply = NULL;
	json_t *revoke_body = NULL;
	char *revoke_text = NULL;
	const char *lease_id;
	char path[PATH_MAX_LEN];
	uint64_t start = bench_now_ns();
	int rc = -1;

	snprintf(path, sizeof(path), "/v1/%s/creds/%s", options->db_mount, options->role);
	response = send_request(worker, client, "GET", path, NULL, 200);
	if (!response)
		return -1;
	record(&worker->series[SERIES_ISSUE], bench_now_ns() - start);

	if (net_response_json(response, &reply, &err) < 0) {
		fprintf(stderr, "bench_secrets: worker %zu: credentials response: %s\n",
			worker->index, wd_error_text(&err));
		goto out;
	}
	lease_id = json_string_value(json_object_get(reply, "lease_id"));
	if (!lease_id || !*lease_id ||
	    !json_is_string(json_object_get(json_object_get(reply, "data"), "username"))) {
		fprintf(stderr, "bench_secrets: worker %zu: credentials response has no lease_id "
				"or data.username\n", worker->index);
		goto out;
	}
	revoke_body = json_pack("{s:s}", "lease_id", lease_id);
	revoke_text = revoke_body ? json_dumps(revoke_body, JSON_COMPACT) : NULL;
	if (!revoke_text)
		goto out;

	start = bench_now_ns();
	net_response_free(response);
	response = send_request(worker, client, "PUT", "/v1/sys/leases/revoke", revoke_text, 204);
	if (response) {
		record(&worker->series[SERIES_REVOKE], bench_now_ns() - start);
		rc = 0;
	}
out:
	free(revoke_text);
	json_decref(revoke_body);
	json_decref(reply);
	net_response_free(response);
	return rc;
}

/* kv-read needs its keys: each worker writes its share before the clock
 * starts. */
static int prefill(struct worker *worker, struct net_client *client)
{
	const struct options *options = worker->shared->options;

	for (size_t key = worker->index; key < options->keys; key += options->threads) {
		if (kv_write(worker, client, key, worker->shared->bodies[key % BODY_COUNT]) < 0)
			return -1;
	}
	return 0;
}

static int run_one(struct worker *worker, struct net_client *client, size_t step)
{
	const struct options *options = worker->shared->options;
	size_t key = (worker->index + step * options->threads) % options->keys;

	switch (options->mode) {
	case MODE_KV_READ:
		return kv_read(worker, client, key);
	case MODE_KV_WRITE:
		return kv_write(worker, client, key, worker->shared->bodies[step % BODY_COUNT]);
	case MODE_CREDS:
		return creds_cycle(worker, client);
	}
	return -1;
}

static void *worker_main(void *arg)
{
	struct worker *worker = arg;
	struct shared *shared = worker->shared;
	struct net_client *client = connect_client(shared);

	worker->setup_failed = client == NULL ||
			       (shared->options->mode == MODE_KV_READ && prefill(worker, client) < 0);
	pthread_barrier_wait(&shared->connected);
	pthread_barrier_wait(&shared->go);
	if (worker->setup_failed) {
		net_client_free(client);
		return NULL;
	}

	/* A credential cycle that starts before the deadline runs to its end,
	 * so that no issued credential is left unrevoked. */
	for (size_t step = 0;; step++) {
		uint64_t start = bench_now_ns();

		if (start >= shared->deadline_ns)
			break;
		if (!net_client_is_open(client)) {
			/* The server closed the connection: count it and reconnect, so
			 * one failure does not end the worker's run. */
			net_client_free(client);
			client = connect_client(shared);
			if (!client)
				break;
		}
		if (run_one(worker, client, step) < 0) {
			worker->errors++;
			continue;
		}
		worker->ops++;
		record(&worker->series[SERIES_OP], bench_now_ns() - start);
	}
	net_client_free(client);
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: VAULT_TOKEN=TOKEN bench_secrets --mode MODE --port N --bundle FILE\n"
		"                     [--host ADDR] [--threads N] [--seconds N] [--keys N]\n"
		"                     [--value-bytes N] [--kv-mount PATH] [--db-mount PATH]\n"
		"                     [--role NAME] [--server-pid PID]\n"
		"  --mode MODE        kv-read, kv-write or creds\n"
		"  --host ADDR        server address (default 127.0.0.1)\n"
		"  --port N           the secrets API port\n"
		"  --bundle FILE      CA certificates (PEM) that the server's certificate chains to\n"
		"  --threads N        connections, one thread each (default %d)\n"
		"  --seconds N        measured duration (default %d)\n"
		"  --keys N           KV keys bench-0 .. bench-(N-1) (default %d)\n"
		"  --value-bytes N    bytes of each written KV value (default %d)\n"
		"  --kv-mount PATH    KV version 2 mount (default secret)\n"
		"  --db-mount PATH    database secrets engine mount (default database)\n"
		"  --role NAME        database role of the creds mode (default bench)\n"
		"  --server-pid PID   report that process's CPU time per operation\n",
		DEFAULT_THREADS, DEFAULT_SECONDS, DEFAULT_KEYS, DEFAULT_VALUE_BYTES);
}

static int parse_mode(const char *text, enum mode *ret_mode)
{
	for (size_t i = 0; i < WD_ARRAY_LEN(mode_names); i++) {
		if (!strcmp(text, mode_names[i])) {
			*ret_mode = (enum mode)i;
			return 0;
		}
	}
	fprintf(stderr, "bench_secrets: unknown mode \"%s\" (expected kv-read, kv-write or "
			"creds)\n", text);
	return -1;
}

static int parse_options(int argc, char **argv, struct options *ret_options)
{
	static const struct option long_options[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "bundle", required_argument, NULL, 'b' },
		{ "threads", required_argument, NULL, 't' },
		{ "seconds", required_argument, NULL, 's' },
		{ "keys", required_argument, NULL, 'k' },
		{ "value-bytes", required_argument, NULL, 'v' },
		{ "kv-mount", required_argument, NULL, 'K' },
		{ "db-mount", required_argument, NULL, 'D' },
		{ "role", required_argument, NULL, 'r' },
		{ "server-pid", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct options options = {
		.mode = MODE_KV_READ,
		.host = "127.0.0.1",
		.kv_mount = "secret",
		.db_mount = "database",
		.role = "bench",
		.threads = DEFAULT_THREADS,
		.seconds = DEFAULT_SECONDS,
		.keys = DEFAULT_KEYS,
		.value_bytes = DEFAULT_VALUE_BYTES,
	};
	bool mode_set = false;
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (c) {
		case 'm':
			rc = parse_mode(optarg, &options.mode);
			mode_set = true;
			break;
		case 'H': options.host = optarg; break;
		case 'p': rc = bench_parse_uint("--port", optarg, 1, 65535, &options.port); break;
		case 'b': options.bundle_path = optarg; break;
		case 't':
			rc = bench_parse_uint("--threads", optarg, 1, MAX_THREADS, &options.threads);
			break;
		case 's': rc = bench_parse_uint("--seconds", optarg, 1, 3600, &options.seconds); break;
		case 'k': rc = bench_parse_uint("--keys", optarg, 1, 10000000, &options.keys); break;
		case 'v':
			rc = bench_parse_uint("--value-bytes", optarg, 1, 65536, &options.value_bytes);
			break;
		case 'K': options.kv_mount = optarg; break;
		case 'D': options.db_mount = optarg; break;
		case 'r': options.role = optarg; break;
		case 'P':
			rc = bench_parse_uint("--server-pid", optarg, 1, INT_MAX, &options.server_pid);
			break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
		if (rc < 0)
			return -1;
	}
	if (optind != argc || !mode_set || !options.port || !options.bundle_path) {
		fprintf(stderr, "bench_secrets: missing or unexpected arguments\n");
		usage(stderr);
		return -1;
	}
	*ret_options = options;
	return 0;
}

/* Prints " NAME_p50_ms=X NAME_p99_ms=Y" over series kind of every worker. */
static void print_percentiles(const struct options *options, struct worker *workers,
	size_t kind, const char *name)
{
	size_t total = 0, filled = 0;
	uint64_t *samples;

	for (size_t i = 0; i < options->threads; i++)
		total += workers[i].series[kind].count;
	samples = calloc(total ? total : 1, sizeof(samples[0]));
	for (size_t i = 0; samples && i < options->threads; i++) {
		memcpy(samples + filled, workers[i].series[kind].ns,
			workers[i].series[kind].count * sizeof(samples[0]));
		filled += workers[i].series[kind].count;
	}
	printf(" %sp50_ms=%.3f %sp99_ms=%.3f", name,
		(double)bench_percentile(samples, filled, 0.50) / 1e6, name,
		(double)bench_percentile(samples, filled, 0.99) / 1e6);
	free(samples);
}

static void report(const struct options *options, struct worker *workers, uint64_t elapsed_ns,
	double server_cpu_seconds, const struct bench_window *window)
{
	uint64_t ops = 0, errors = 0;
	double seconds = (double)elapsed_ns / 1e9;

	for (size_t i = 0; i < options->threads; i++) {
		ops += workers[i].ops;
		errors += workers[i].errors;
	}
	printf("mode=%s threads=%lu seconds=%.3f ops=%" PRIu64 " errors=%" PRIu64 " rate=%.1f",
		mode_names[options->mode], options->threads, seconds, ops, errors,
		(double)ops / seconds);
	print_percentiles(options, workers, SERIES_OP, "");
	if (options->mode == MODE_CREDS) {
		print_percentiles(options, workers, SERIES_ISSUE, "issue_");
		print_percentiles(options, workers, SERIES_REVOKE, "revoke_");
	}
	if (server_cpu_seconds >= 0)
		printf(" server_cpu_s=%.2f server_cpu_us_per_op=%.1f", server_cpu_seconds,
			ops ? 1e6 * server_cpu_seconds / (double)ops : 0.0);
	bench_window_print(window);
	printf("\n");
}

static void workers_free(struct worker *workers, size_t count)
{
	if (!workers)
		return;
	for (size_t i = 0; i < count; i++) {
		for (size_t kind = 0; kind < SERIES_COUNT; kind++)
			free(workers[i].series[kind].ns);
	}
	free(workers);
}

int main(int argc, char **argv)
{
	struct options options;
	struct shared shared = { 0 };
	struct worker *workers = NULL;
	unsigned long long ticks_before = 0, ticks_after = 0;
	struct bench_window window;
	double server_cpu_seconds = -1;
	uint64_t start_ns, elapsed_ns;
	bool failed = false;
	int status = 1;

	if (parse_options(argc, argv, &options) < 0)
		return 2;
	/* net_client writes with write(2): a closed peer must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	shared.options = &options;
	if (load_token(&shared) < 0 || load_anchors(&shared) < 0 || make_bodies(&shared) < 0)
		goto out;

	workers = calloc(options.threads, sizeof(workers[0]));
	if (!workers)
		goto out;
	pthread_barrier_init(&shared.connected, NULL, (unsigned)options.threads + 1);
	pthread_barrier_init(&shared.go, NULL, (unsigned)options.threads + 1);
	for (size_t i = 0; i < options.threads; i++) {
		workers[i] = (struct worker){ .index = i, .shared = &shared };
		for (size_t kind = 0; kind < SERIES_COUNT; kind++) {
			workers[i].series[kind].ns = calloc(MAX_SAMPLES_PER_THREAD, sizeof(uint64_t));
			if (!workers[i].series[kind].ns) {
				fprintf(stderr, "bench_secrets: out of memory for latency samples\n");
				exit(1);
			}
		}
		if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) != 0) {
			fprintf(stderr, "bench_secrets: starting worker %zu failed\n", i);
			exit(1);
		}
	}

	/* Every connection is up (and kv-read's keys written) before the clock
	 * starts. */
	pthread_barrier_wait(&shared.connected);
	if (options.server_pid && bench_cpu_ticks(options.server_pid, &ticks_before) < 0)
		fprintf(stderr, "bench_secrets: reading /proc/%lu/stat failed\n", options.server_pid);
	bench_window_start(&window);
	start_ns = bench_now_ns();
	shared.deadline_ns = start_ns + options.seconds * 1000000000u;
	pthread_barrier_wait(&shared.go);
	for (size_t i = 0; i < options.threads; i++) {
		pthread_join(workers[i].thread, NULL);
		failed = failed || workers[i].setup_failed || workers[i].errors > 0;
	}
	elapsed_ns = bench_now_ns() - start_ns;
	if (options.server_pid && ticks_before &&
	    bench_cpu_ticks(options.server_pid, &ticks_after) == 0)
		server_cpu_seconds = (double)(ticks_after - ticks_before) /
				     (double)sysconf(_SC_CLK_TCK);

	report(&options, workers, elapsed_ns, server_cpu_seconds, &window);
	status = failed ? 1 : 0;
out:
	workers_free(workers, options.threads);
	for (size_t i = 0; i < BODY_COUNT; i++)
		free(shared.bodies[i]);
	for (size_t i = 0; i < shared.anchor_count && shared.anchors; i++)
		X509_free(shared.anchors[i]);
	free(shared.anchors);
	return status;
}
