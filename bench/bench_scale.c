/* Simulates many node agents syncing their registration entries with one
 * server: each simulated agent calls GET /v1/node/entries once per period,
 * and the calls of all agents are spread evenly over the period, so A
 * agents at period P make A/P calls per second. Attesting one real node per
 * simulated agent would take minutes, so the agents share R real node
 * identities: agent i authenticates as node i mod R on a keep-alive mTLS
 * connection of that node, and keeps its own revision. In delta mode (the
 * default, as `warden agent run` syncs) an agent sends ?since=REV from its
 * previous reply, with unchanged=ok unless --no-unchanged is given; with
 * --full it re-reads every entry each time.
 *
 * Every agent first syncs once (the warm-up: a full read, as at agent
 * start), then the driver prints "window_start" and measures for --seconds.
 * bench/scale/run.py reads the datastore's counters at those two points. */
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
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "bench_util.h"
#include "common/error.h"
#include "crypto/key.h"
#include "crypto/x509.h"
#include "net/net_client.h"

#define DEFAULT_THREADS 4
#define MAX_THREADS 64
#define DEFAULT_AGENTS 10000
#define DEFAULT_PERIOD_S 5
#define DEFAULT_SECONDS 20
#define MAX_NODES 10000
#define MAX_BUNDLE_CERTS 16
#define PATH_BYTES 4096

struct options {
	const char *host;
	unsigned long port;
	const char *nodes_dir;
	const char *key_path;
	const char *bundle_path;
	unsigned long nodes;
	unsigned long agents;
	unsigned long period_s;
	unsigned long seconds;
	unsigned long threads;
	bool full;
	bool unchanged;    /* send unchanged=ok with ?since=, as warden agent run does */
};

struct shared {
	const struct options *options;
	X509 **anchors;
	size_t anchor_count;
	EVP_PKEY *key;
	char **chains;                 /* node-N.pem, one per real node */
	pthread_barrier_t warmed;
	uint64_t window_start_ns;      /* written by main between the barriers */
	pthread_barrier_t go;
};

/* Counters of one phase of one worker. */
struct tally {
	uint64_t syncs;
	uint64_t errors;
	uint64_t entries;    /* entries (full) or changed entries (delta) received */
	uint64_t bytes;
	uint64_t late;       /* syncs started over one period after their slot */
	uint64_t *samples_ns;
	size_t sample_count;
	size_t sample_capacity;
};

struct worker {
	pthread_t thread;
	size_t index;
	struct shared *shared;
	struct net_client **clients;   /* indexed by node / threads */
	size_t client_count;
	int64_t *revisions;            /* by the worker's own agent numbering */
	struct tally warmup;
	struct tally window;
	bool failed;
};

static int load_credentials(struct shared *shared)
{
	const struct options *options = shared->options;
	STACK_OF(X509) *bundle = NULL;
	struct wd_error err = { 0 };
	char *bundle_pem = bench_read_file("bench_scale", options->bundle_path);
	int rc;

	if (!bundle_pem)
		return -1;
	rc = crypto_x509_chain_from_pem(bundle_pem, strlen(bundle_pem), MAX_BUNDLE_CERTS,
		&bundle, &err);
	free(bundle_pem);
	if (rc < 0) {
		fprintf(stderr, "bench_scale: bundle \"%s\": %s\n", options->bundle_path,
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
	if (crypto_key_load(options->key_path, &shared->key, &err) < 0) {
		fprintf(stderr, "bench_scale: key \"%s\": %s\n", options->key_path,
			wd_error_text(&err));
		return -1;
	}
	shared->chains = calloc(options->nodes, sizeof(shared->chains[0]));
	if (!shared->chains)
		return -1;
	for (size_t n = 0; n < options->nodes; n++) {
		char path[PATH_BYTES];

		snprintf(path, sizeof(path), "%s/node-%zu.pem", options->nodes_dir, n);
		shared->chains[n] = bench_read_file("bench_scale", path);
		if (!shared->chains[n])
			return -1;
	}
	return 0;
}

static struct net_client *connect_node(const struct shared *shared, size_t node)
{
	const struct options *options = shared->options;
	struct net_client_config config = {
		.host = options->host,
		.port = (uint16_t)options->port,
		.trust_anchors = shared->anchors,
		.trust_anchor_count = shared->anchor_count,
		.cert_chain_pem = shared->chains[node],
		.cert_chain_len = strlen(shared->chains[node]),
		.key = shared->key,
	};
	struct net_client *client = NULL;
	struct wd_error err = { 0 };

	if (net_client_connect(&config, &client, &err) < 0) {
		fprintf(stderr, "bench_scale: node %zu: connecting to %s:%lu failed: %s\n", node,
			options->host, options->port, wd_error_text(&err));
		return NULL;
	}
	return client;
}

static void record_sample(struct tally *tally, uint64_t ns)
{
	if (tally->sample_count == tally->sample_capacity) {
		size_t capacity = tally->sample_capacity ? 2 * tally->sample_capacity : 4096;
		uint64_t *grown = realloc(tally->samples_ns, capacity * sizeof(grown[0]));

		/* Out of memory: keep counting syncs, stop sampling them. */
		if (!grown)
			return;
		tally->samples_ns = grown;
		tally->sample_capacity = capacity;
	}
	tally->samples_ns[tally->sample_count++] = ns;
}

/* Reads "revision" and the number of entries from a sync reply; -1 when the
 * reply is not one. */
static int parse_reply(const struct net_response *response, bool delta, int64_t *ret_revision,
	size_t *ret_entries)
{
	json_t *reply = json_loadb((const char *)response->body, response->body_len, 0, NULL);
	json_t *revision = json_object_get(reply, "revision");
	json_t *entries = json_object_get(reply, delta ? "changed" : "entries");
	int rc = -1;

	/* An agent that sends unchanged=ok gets {"unchanged": true} when no entry
	 * changed since its revision. */
	if (delta && json_is_true(json_object_get(reply, "unchanged")) &&
	    json_is_integer(revision)) {
		*ret_revision = json_integer_value(revision);
		*ret_entries = 0;
		rc = 0;
	} else if (json_is_integer(revision) && json_is_array(entries)) {
		*ret_revision = json_integer_value(revision);
		*ret_entries = json_array_size(entries);
		rc = 0;
	}
	json_decref(reply);
	return rc;
}

/* Runs one sync of the worker's agent local_agent, authenticated as node. */
static void sync_one(struct worker *worker, size_t node, size_t local_agent, bool delta,
	struct tally *tally)
{
	const struct options *options = worker->shared->options;
	size_t slot = node / options->threads;
	struct net_client **client = &worker->clients[slot];
	struct net_response *response = NULL;
	struct wd_error err = { 0 };
	char path[64];
	uint64_t start = bench_now_ns();
	int64_t revision = 0;
	size_t entries = 0;

	if (delta)
		snprintf(path, sizeof(path), "/v1/node/entries?since=%" PRId64 "%s",
			worker->revisions[local_agent], options->unchanged ? "&unchanged=ok" : "");
	else
		snprintf(path, sizeof(path), "/v1/node/entries");
	if (*client && !net_client_is_open(*client)) {
		/* The server closed the idle connection: an agent reconnects. */
		net_client_free(*client);
		*client = NULL;
	}
	if (!*client)
		*client = connect_node(worker->shared, node);
	if (*client && net_client_request(*client, "GET", path, NULL, 0, NULL, NULL, 0, &response,
		&err) == 0 && response->status == 200 &&
	    parse_reply(response, delta, &revision, &entries) == 0) {
		worker->revisions[local_agent] = revision;
		tally->syncs++;
		tally->entries += entries;
		tally->bytes += response->body_len;
		record_sample(tally, bench_now_ns() - start);
	} else {
		if (tally->errors == 0) {
			if (response)
				fprintf(stderr, "bench_scale: node %zu: HTTP %d: %.300s\n", node,
					response->status, (const char *)response->body);
			else
				fprintf(stderr, "bench_scale: node %zu: sync failed: %s\n", node,
					wd_error_text(&err));
		}
		tally->errors++;
		if (*client) {
			net_client_free(*client);
			*client = NULL;
		}
	}
	net_response_free(response);
}

/* Runs one worker, which serves the real nodes n with n mod threads ==
 * index and the agents on them (agent a is on node a mod nodes). Agent a's
 * slot in each period is a * period / agents. The worker walks its agents
 * in slot order and sleeps until each slot comes. */
static void *worker_main(void *arg)
{
	struct worker *worker = arg;
	struct shared *shared = worker->shared;
	const struct options *options = shared->options;
	uint64_t period_ns = options->period_s * 1000000000ull;
	size_t local = 0;

	/* Warm-up: every agent's first sync, a full read as at agent start. */
	for (size_t a = 0; a < options->agents; a++) {
		size_t node = a % options->nodes;

		if (node % options->threads != worker->index)
			continue;
		sync_one(worker, node, local++, false, &worker->warmup);
	}
	pthread_barrier_wait(&shared->warmed);
	pthread_barrier_wait(&shared->go);

	for (uint64_t round = 0;; round++) {
		local = 0;
		for (size_t a = 0; a < options->agents; a++) {
			size_t node = a % options->nodes;
			uint64_t due, now;

			if (node % options->threads != worker->index)
				continue;
			due = shared->window_start_ns + round * period_ns +
			      (uint64_t)a * period_ns / options->agents;
			if (due >= shared->window_start_ns + options->seconds * 1000000000ull)
				return NULL;
			now = bench_now_ns();
			if (now < due) {
				struct timespec wait = {
					.tv_sec = (time_t)((due - now) / 1000000000ull),
					.tv_nsec = (long)((due - now) % 1000000000ull),
				};
				nanosleep(&wait, NULL);
			} else if (now - due > period_ns) {
				worker->window.late++;
			}
			sync_one(worker, node, local++, !options->full, &worker->window);
		}
	}
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bench_scale --port N --nodes-dir DIR --node-count R --key FILE --bundle FILE\n"
		"                   [--host ADDR] [--agents A] [--period S] [--seconds D]\n"
		"                   [--threads T] [--full | --no-unchanged]\n"
		"  --nodes-dir DIR  holds node-0.pem .. node-(R-1).pem, the real nodes' SVIDs\n"
		"  --key FILE       the private key of every node SVID\n"
		"  --bundle FILE    the trust bundle as PEM\n"
		"  --agents A       simulated agents, on the R nodes in turn (default %d)\n"
		"  --period S       seconds between two syncs of one agent (default %d)\n"
		"  --seconds D      measured window after the warm-up (default %d)\n"
		"  --threads T      client threads; each holds the connections of its nodes\n"
		"                   (default %d)\n"
		"  --full           re-read every entry on each sync (no ?since=)\n"
		"  --no-unchanged   delta syncs without unchanged=ok, so the server reads\n"
		"                   the changed and authorized lists even when nothing changed\n",
		DEFAULT_AGENTS, DEFAULT_PERIOD_S, DEFAULT_SECONDS, DEFAULT_THREADS);
}

static int parse_options(int argc, char **argv, struct options *ret_options)
{
	static const struct option long_options[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "nodes-dir", required_argument, NULL, 'd' },
		{ "node-count", required_argument, NULL, 'r' },
		{ "key", required_argument, NULL, 'k' },
		{ "bundle", required_argument, NULL, 'b' },
		{ "agents", required_argument, NULL, 'a' },
		{ "period", required_argument, NULL, 'P' },
		{ "seconds", required_argument, NULL, 's' },
		{ "threads", required_argument, NULL, 't' },
		{ "full", no_argument, NULL, 'f' },
		{ "no-unchanged", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct options options = {
		.host = "127.0.0.1",
		.agents = DEFAULT_AGENTS,
		.period_s = DEFAULT_PERIOD_S,
		.seconds = DEFAULT_SECONDS,
		.threads = DEFAULT_THREADS,
		.unchanged = true,
	};
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (c) {
		case 'H': options.host = optarg; break;
		case 'p': rc = bench_parse_uint("--port", optarg, 1, 65535, &options.port); break;
		case 'd': options.nodes_dir = optarg; break;
		case 'r':
			rc = bench_parse_uint("--node-count", optarg, 1, MAX_NODES, &options.nodes);
			break;
		case 'k': options.key_path = optarg; break;
		case 'b': options.bundle_path = optarg; break;
		case 'a': rc = bench_parse_uint("--agents", optarg, 1, 1000000, &options.agents); break;
		case 'P': rc = bench_parse_uint("--period", optarg, 1, 3600, &options.period_s); break;
		case 's': rc = bench_parse_uint("--seconds", optarg, 1, 3600, &options.seconds); break;
		case 't':
			rc = bench_parse_uint("--threads", optarg, 1, MAX_THREADS, &options.threads);
			break;
		case 'f': options.full = true; break;
		case 'u': options.unchanged = false; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
		if (rc < 0)
			return -1;
	}
	if (optind != argc || !options.port || !options.nodes_dir || !options.nodes ||
	    !options.key_path || !options.bundle_path) {
		fprintf(stderr, "bench_scale: missing or unexpected arguments\n");
		usage(stderr);
		return -1;
	}
	if (options.agents < options.nodes) {
		fprintf(stderr, "bench_scale: --agents %lu is below --node-count %lu: every node "
			"needs an agent\n", options.agents, options.nodes);
		return -1;
	}
	*ret_options = options;
	return 0;
}

/* Adds one worker's tally to sum and appends its samples. */
static void merge(struct tally *sum, const struct tally *part)
{
	sum->syncs += part->syncs;
	sum->errors += part->errors;
	sum->entries += part->entries;
	sum->bytes += part->bytes;
	sum->late += part->late;
	for (size_t i = 0; i < part->sample_count; i++)
		record_sample(sum, part->samples_ns[i]);
}

static void print_tally(const char *phase, const struct options *options,
	const struct tally *tally, double seconds)
{
	printf("%s mode=%s agents=%lu nodes=%lu period_s=%lu seconds=%.3f syncs=%" PRIu64
	       " errors=%" PRIu64 " late=%" PRIu64 " target_rate=%.1f rate=%.1f entries=%" PRIu64
	       " bytes=%" PRIu64 " p50_ms=%.3f p99_ms=%.3f\n",
		phase, options->full ? "full" : "delta", options->agents, options->nodes,
		options->period_s, seconds, tally->syncs, tally->errors, tally->late,
		(double)options->agents / (double)options->period_s,
		(double)tally->syncs / seconds, tally->entries, tally->bytes,
		(double)bench_percentile(tally->samples_ns, tally->sample_count, 0.50) / 1e6,
		(double)bench_percentile(tally->samples_ns, tally->sample_count, 0.99) / 1e6);
}

int main(int argc, char **argv)
{
	struct options options;
	struct shared shared = { 0 };
	struct worker *workers = NULL;
	struct tally warmup = { 0 }, window = { 0 };
	uint64_t warm_start, elapsed_ns;
	int status = 1;

	if (parse_options(argc, argv, &options) < 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	shared.options = &options;
	if (load_credentials(&shared) < 0)
		goto out;
	workers = calloc(options.threads, sizeof(workers[0]));
	if (!workers)
		goto out;
	pthread_barrier_init(&shared.warmed, NULL, (unsigned)options.threads + 1);
	pthread_barrier_init(&shared.go, NULL, (unsigned)options.threads + 1);
	warm_start = bench_now_ns();
	for (size_t i = 0; i < options.threads; i++) {
		struct worker *worker = &workers[i];

		*worker = (struct worker){ .index = i, .shared = &shared };
		worker->client_count = options.nodes / options.threads + 1;
		worker->clients = calloc(worker->client_count, sizeof(worker->clients[0]));
		worker->revisions = calloc(options.agents, sizeof(worker->revisions[0]));
		if (!worker->clients || !worker->revisions ||
		    pthread_create(&worker->thread, NULL, worker_main, worker) != 0) {
			fprintf(stderr, "bench_scale: starting worker %zu failed\n", i);
			exit(1);
		}
	}
	pthread_barrier_wait(&shared.warmed);
	elapsed_ns = bench_now_ns() - warm_start;
	for (size_t i = 0; i < options.threads; i++)
		merge(&warmup, &workers[i].warmup);
	print_tally("warmup", &options, &warmup, (double)elapsed_ns / 1e9);
	printf("window_start\n");
	fflush(stdout);
	shared.window_start_ns = bench_now_ns();
	pthread_barrier_wait(&shared.go);
	for (size_t i = 0; i < options.threads; i++)
		pthread_join(workers[i].thread, NULL);
	elapsed_ns = bench_now_ns() - shared.window_start_ns;
	for (size_t i = 0; i < options.threads; i++)
		merge(&window, &workers[i].window);
	print_tally("window", &options, &window, (double)elapsed_ns / 1e9);
	fflush(stdout);
	status = warmup.errors + window.errors > 0 ? 1 : 0;
out:
	for (size_t i = 0; workers && i < options.threads; i++) {
		for (size_t c = 0; c < workers[i].client_count; c++)
			net_client_free(workers[i].clients[c]);
		free(workers[i].clients);
		free(workers[i].revisions);
		free(workers[i].warmup.samples_ns);
		free(workers[i].window.samples_ns);
	}
	free(workers);
	free(warmup.samples_ns);
	free(window.samples_ns);
	for (size_t n = 0; shared.chains && n < options.nodes; n++)
		free(shared.chains[n]);
	free(shared.chains);
	for (size_t i = 0; shared.anchors && i < shared.anchor_count; i++)
		X509_free(shared.anchors[i]);
	free(shared.anchors);
	EVP_PKEY_free(shared.key);
	return status;
}
