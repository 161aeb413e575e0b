/* Measures X.509-SVID issuance through the HTTPS identity API: T threads,
 * each with its own keep-alive mTLS connection authenticated by a node SVID,
 * loop POST /v1/svid/x509 with pre-generated CSRs for a fixed time. Prints
 * the total rate, p50/p99 latency and, given --server-pid, the server's CPU
 * time over the measured window (from /proc/PID/stat). */
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
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "bench_util.h"
#include "common/error.h"
#include "crypto/key.h"
#include "crypto/x509.h"
#include "net/net_client.h"

#define DEFAULT_THREADS 8
#define DEFAULT_SECONDS 10
#define DEFAULT_CSR_COUNT 256
#define MAX_THREADS 64
#define MAX_BUNDLE_CERTS 16
/* Latency samples kept per thread; requests past it are counted but not
 * sampled. At 1 ms per request a 10 s run needs 10,000. */
#define MAX_SAMPLES_PER_THREAD 1000000
#define MAX_FILE_BYTES (1u << 20)

struct options {
	const char *host;
	unsigned long port;
	const char *cert_path;
	const char *key_path;
	const char *bundle_path;
	const char *entry_id;
	unsigned long threads;
	unsigned long seconds;
	unsigned long csr_count;
	unsigned long server_pid;  /* 0: do not measure the server's CPU */
};

/* What every worker shares; read-only once the workers start. */
struct shared {
	const struct options *options;
	X509 **anchors;
	size_t anchor_count;
	char *cert_chain_pem;
	EVP_PKEY *key;
	char **bodies;             /* JSON request bodies, one per CSR */
	size_t body_count;
	pthread_barrier_t connected;
	uint64_t deadline_ns;      /* written by main between the two barriers */
	pthread_barrier_t go;
};

struct worker {
	pthread_t thread;
	size_t index;
	struct shared *shared;
	uint64_t requests;
	uint64_t errors;
	uint64_t *samples_ns;
	size_t sample_count;
	bool connect_failed;
};

static char *read_file(const char *path)
{
	FILE *file = fopen(path, "r");
	char *data = NULL;
	size_t len;

	if (!file) {
		fprintf(stderr, "bench_api: opening \"%s\" failed: %s\n", path, strerror(errno));
		return NULL;
	}
	data = calloc(MAX_FILE_BYTES + 1, 1);
	if (data) {
		len = fread(data, 1, MAX_FILE_BYTES, file);
		if (ferror(file) || len == MAX_FILE_BYTES) {
			fprintf(stderr, "bench_api: reading \"%s\" failed or it is over %u bytes\n",
				path, MAX_FILE_BYTES);
			free(data);
			data = NULL;
		}
	}
	fclose(file);
	return data;
}

/* Builds a PEM PKCS#10 CSR for a new EC P-256 key, as an agent would. */
static char *make_csr_pem(void)
{
	struct wd_error err = { 0 };
	EVP_PKEY *key = NULL;
	X509_REQ *req = NULL;
	X509_NAME *name = NULL;
	BIO *bio = NULL;
	char *pem = NULL;
	char *data;
	long len;

	if (crypto_key_generate(CRYPTO_KEY_EC_P256, &key, &err) < 0)
		goto out;
	req = X509_REQ_new();
	name = X509_NAME_new();
	bio = BIO_new(BIO_s_mem());
	if (!req || !name || !bio ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)"bench",
		    -1, -1, 0) ||
	    !X509_REQ_set_subject_name(req, name) || !X509_REQ_set_pubkey(req, key) ||
	    X509_REQ_sign(req, key, EVP_sha256()) <= 0 || !PEM_write_bio_X509_REQ(bio, req))
		goto out;
	len = BIO_get_mem_data(bio, &data);
	if (len > 0)
		pem = strndup(data, (size_t)len);
out:
	BIO_free(bio);
	X509_NAME_free(name);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
	return pem;
}

static int make_bodies(struct shared *shared)
{
	size_t count = shared->options->csr_count;

	shared->bodies = calloc(count, sizeof(shared->bodies[0]));
	if (!shared->bodies)
		return -1;
	for (size_t i = 0; i < count; i++) {
		char *csr = make_csr_pem();
		json_t *body;

		if (!csr) {
			fprintf(stderr, "bench_api: creating a CSR failed\n");
			return -1;
		}
		body = json_pack("{s:s, s:s}", "entry_id", shared->options->entry_id, "csr", csr);
		free(csr);
		shared->bodies[i] = body ? json_dumps(body, JSON_COMPACT) : NULL;
		json_decref(body);
		if (!shared->bodies[i])
			return -1;
		shared->body_count = i + 1;
	}
	return 0;
}

static int load_credentials(struct shared *shared)
{
	const struct options *options = shared->options;
	STACK_OF(X509) *bundle = NULL;
	struct wd_error err = { 0 };
	char *bundle_pem;
	int rc;

	shared->cert_chain_pem = read_file(options->cert_path);
	bundle_pem = read_file(options->bundle_path);
	if (!shared->cert_chain_pem || !bundle_pem) {
		free(bundle_pem);
		return -1;
	}
	rc = crypto_x509_chain_from_pem(bundle_pem, strlen(bundle_pem), MAX_BUNDLE_CERTS,
		&bundle, &err);
	free(bundle_pem);
	if (rc < 0) {
		fprintf(stderr, "bench_api: bundle \"%s\": %s\n", options->bundle_path,
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
	if (!shared->anchors)
		return -1;

	rc = crypto_key_load(options->key_path, &shared->key, &err);
	if (rc < 0) {
		fprintf(stderr, "bench_api: key \"%s\": %s\n", options->key_path,
			wd_error_text(&err));
		return -1;
	}
	return 0;
}

static struct net_client *connect_client(const struct shared *shared)
{
	const struct options *options = shared->options;
	struct net_client_config config = {
		.host = options->host,
		.port = (uint16_t)options->port,
		.trust_anchors = shared->anchors,
		.trust_anchor_count = shared->anchor_count,
		.cert_chain_pem = shared->cert_chain_pem,
		.cert_chain_len = strlen(shared->cert_chain_pem),
		.key = shared->key,
	};
	struct net_client *client = NULL;
	struct wd_error err = { 0 };

	if (net_client_connect(&config, &client, &err) < 0) {
		fprintf(stderr, "bench_api: connecting to %s:%lu failed: %s\n", options->host,
			options->port, wd_error_text(&err));
		return NULL;
	}
	return client;
}

/* Sends one request; returns 0 on a 200 response. Prints the first failure
 * of each worker. */
static int send_one(struct worker *worker, struct net_client *client, const char *body)
{
	struct net_response *response = NULL;
	struct wd_error err = { 0 };
	int rc = net_client_request(client, "POST", "/v1/svid/x509", NULL, 0,
		"application/json", body, strlen(body), &response, &err);

	if (rc == 0 && response->status == 200) {
		net_response_free(response);
		return 0;
	}
	if (worker->errors == 0) {
		if (rc < 0)
			fprintf(stderr, "bench_api: worker %zu: request failed: %s\n", worker->index,
				wd_error_text(&err));
		else
			fprintf(stderr, "bench_api: worker %zu: HTTP %d: %.300s\n", worker->index,
				response->status, (const char *)response->body);
	}
	net_response_free(response);
	return -1;
}

static void *worker_main(void *arg)
{
	struct worker *worker = arg;
	struct shared *shared = worker->shared;
	struct net_client *client = connect_client(shared);
	size_t next = worker->index;

	worker->connect_failed = client == NULL;
	pthread_barrier_wait(&shared->connected);
	pthread_barrier_wait(&shared->go);
	if (!client)
		return NULL;

	for (;;) {
		uint64_t start = bench_now_ns();
		uint64_t end;

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
		if (send_one(worker, client, shared->bodies[next % shared->body_count]) < 0)
			worker->errors++;
		else
			worker->requests++;
		end = bench_now_ns();
		if (worker->sample_count < MAX_SAMPLES_PER_THREAD)
			worker->samples_ns[worker->sample_count++] = end - start;
		next += shared->options->threads;
	}
	net_client_free(client);
	return NULL;
}


static void usage(FILE *out)
{
	fprintf(out,
		"usage: bench_api --port N --cert FILE --key FILE --bundle FILE --entry-id ID\n"
		"                 [--host ADDR] [--threads N] [--seconds N] [--csrs N]\n"
		"                 [--server-pid PID]\n"
		"  --host ADDR      server address (default 127.0.0.1)\n"
		"  --cert, --key    the node SVID chain (PEM) and its key (mode 0600)\n"
		"  --bundle FILE    the trust bundle as PEM\n"
		"  --entry-id ID    a registration entry parented to the node\n"
		"  --threads N      connections, one thread each (default %d)\n"
		"  --seconds N      measured duration (default %d)\n"
		"  --csrs N         pre-generated CSRs, used in turn (default %d)\n"
		"  --server-pid PID report that process's CPU time over the run\n",
		DEFAULT_THREADS, DEFAULT_SECONDS, DEFAULT_CSR_COUNT);
}

static int parse_options(int argc, char **argv, struct options *ret_options)
{
	static const struct option long_options[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "bundle", required_argument, NULL, 'b' },
		{ "entry-id", required_argument, NULL, 'e' },
		{ "threads", required_argument, NULL, 't' },
		{ "seconds", required_argument, NULL, 's' },
		{ "csrs", required_argument, NULL, 'n' },
		{ "server-pid", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct options options = {
		.host = "127.0.0.1",
		.threads = DEFAULT_THREADS,
		.seconds = DEFAULT_SECONDS,
		.csr_count = DEFAULT_CSR_COUNT,
	};
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (c) {
		case 'H': options.host = optarg; break;
		case 'p': rc = bench_parse_uint("--port", optarg, 1, 65535, &options.port); break;
		case 'c': options.cert_path = optarg; break;
		case 'k': options.key_path = optarg; break;
		case 'b': options.bundle_path = optarg; break;
		case 'e': options.entry_id = optarg; break;
		case 't':
			rc = bench_parse_uint("--threads", optarg, 1, MAX_THREADS, &options.threads);
			break;
		case 's': rc = bench_parse_uint("--seconds", optarg, 1, 3600, &options.seconds); break;
		case 'n': rc = bench_parse_uint("--csrs", optarg, 1, 100000, &options.csr_count); break;
		case 'P':
			rc = bench_parse_uint("--server-pid", optarg, 1, INT_MAX, &options.server_pid);
			break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
		if (rc < 0)
			return -1;
	}
	if (optind != argc || !options.port || !options.cert_path || !options.key_path ||
	    !options.bundle_path || !options.entry_id) {
		fprintf(stderr, "bench_api: missing or unexpected arguments\n");
		usage(stderr);
		return -1;
	}
	*ret_options = options;
	return 0;
}

static void report(const struct options *options, struct worker *workers, uint64_t elapsed_ns,
	double server_cpu_seconds)
{
	uint64_t requests = 0, errors = 0;
	size_t sample_total = 0, filled = 0;
	uint64_t *samples;
	double seconds = (double)elapsed_ns / 1e9;

	for (size_t i = 0; i < options->threads; i++) {
		requests += workers[i].requests;
		errors += workers[i].errors;
		sample_total += workers[i].sample_count;
	}
	samples = calloc(sample_total ? sample_total : 1, sizeof(samples[0]));
	for (size_t i = 0; samples && i < options->threads; i++) {
		memcpy(samples + filled, workers[i].samples_ns,
			workers[i].sample_count * sizeof(samples[0]));
		filled += workers[i].sample_count;
	}
	printf("api threads=%lu seconds=%.3f requests=%" PRIu64 " errors=%" PRIu64
	       " rate=%.1f p50_ms=%.3f p99_ms=%.3f",
		options->threads, seconds, requests, errors, (double)requests / seconds,
		(double)bench_percentile(samples, filled, 0.50) / 1e6,
		(double)bench_percentile(samples, filled, 0.99) / 1e6);
	if (server_cpu_seconds >= 0)
		printf(" server_cpu_s=%.2f server_cpu_pct=%.1f", server_cpu_seconds,
			100.0 * server_cpu_seconds / seconds);
	printf("\n");
	free(samples);
}

int main(int argc, char **argv)
{
	struct options options;
	struct shared shared = { 0 };
	struct worker *workers = NULL;
	unsigned long long ticks_before = 0, ticks_after = 0;
	double server_cpu_seconds = -1;
	uint64_t start_ns, elapsed_ns;
	bool failed = false;
	int status = 1;

	if (parse_options(argc, argv, &options) < 0)
		return 2;
	/* net_client writes with write(2): a closed peer must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	shared.options = &options;
	if (load_credentials(&shared) < 0 || make_bodies(&shared) < 0)
		goto out;

	workers = calloc(options.threads, sizeof(workers[0]));
	if (!workers)
		goto out;
	pthread_barrier_init(&shared.connected, NULL, (unsigned)options.threads + 1);
	pthread_barrier_init(&shared.go, NULL, (unsigned)options.threads + 1);
	for (size_t i = 0; i < options.threads; i++) {
		workers[i] = (struct worker){ .index = i, .shared = &shared };
		workers[i].samples_ns = calloc(MAX_SAMPLES_PER_THREAD, sizeof(uint64_t));
		if (!workers[i].samples_ns ||
		    pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) != 0) {
			fprintf(stderr, "bench_api: starting worker %zu failed\n", i);
			exit(1);
		}
	}

	/* Every connection is up before the clock starts. */
	pthread_barrier_wait(&shared.connected);
	if (options.server_pid && bench_cpu_ticks(options.server_pid, &ticks_before) < 0)
		fprintf(stderr, "bench_api: reading /proc/%lu/stat failed\n", options.server_pid);
	start_ns = bench_now_ns();
	shared.deadline_ns = start_ns + options.seconds * 1000000000u;
	pthread_barrier_wait(&shared.go);
	for (size_t i = 0; i < options.threads; i++) {
		pthread_join(workers[i].thread, NULL);
		failed = failed || workers[i].connect_failed;
	}
	elapsed_ns = bench_now_ns() - start_ns;
	if (options.server_pid && ticks_before &&
	    bench_cpu_ticks(options.server_pid, &ticks_after) == 0)
		server_cpu_seconds = (double)(ticks_after - ticks_before) /
				     (double)sysconf(_SC_CLK_TCK);

	report(&options, workers, elapsed_ns, server_cpu_seconds);
	for (size_t i = 0; i < options.threads; i++)
		failed = failed || workers[i].errors > 0;
	status = failed ? 1 : 0;
out:
	if (workers) {
		for (size_t i = 0; i < options.threads; i++)
			free(workers[i].samples_ns);
		free(workers);
	}
	for (size_t i = 0; i < shared.body_count; i++)
		free(shared.bodies[i]);
	free(shared.bodies);
	for (size_t i = 0; i < shared.anchor_count && shared.anchors; i++)
		X509_free(shared.anchors[i]);
	free(shared.anchors);
	free(shared.cert_chain_pem);
	EVP_PKEY_free(shared.key);
	return status;
}
