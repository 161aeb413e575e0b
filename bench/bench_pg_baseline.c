/* The floor for dynamic PostgreSQL credentials: T threads, each with its own
 * libpq connection, loop over the statements that one credential's life
 * needs and nothing else. A cycle is two transactions, each sent as one
 * multi-statement query (one round trip):
 *   BEGIN; CREATE ROLE "n" WITH LOGIN PASSWORD 'p' VALID UNTIL 'e';
 *          LOCK; GRANT SELECT ON TABLE TO "n"; COMMIT
 *   BEGIN; LOCK; REVOKE SELECT ON TABLE FROM "n"; DROP ROLE "n"; COMMIT
 * The REVOKE is there because PostgreSQL refuses to drop a role that still
 * has a privilege. LOCK is SELECT pg_advisory_xact_lock(K): PostgreSQL
 * does not lock a catalog row against concurrent GRANT and REVOKE on the
 * same table, so of two such transactions the later one fails with "tuple
 * concurrently updated" once the first commits. The lock makes them wait
 * for each other instead; --no-lock leaves it out and runs a transaction
 * that lost such a conflict again. Prints one line of key=value results:
 * cycles per second, p50/p99 latency of a cycle, the conflicts, and the
 * CPU time of this client and of the whole machine over the run. The
 * password of the connection comes from PGPASSWORD or ~/.pgpass, as for
 * psql. */
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "bench_util.h"

#define DEFAULT_THREADS 8
#define DEFAULT_SECONDS 10
#define DEFAULT_TTL_SECONDS 3600
#define MAX_THREADS 64
/* Cycle latencies kept per thread; cycles past it are counted but not
 * sampled. */
#define MAX_SAMPLES_PER_THREAD (1u << 20)
/* Generated passwords: 20 letters and digits, as long as warden's. */
#define PASSWORD_LEN 20
#define NAME_MAX_LEN 64
/* Tries of one transaction after write conflicts before it counts as an
 * error. */
#define MAX_CONFLICT_RETRIES 1000
/* The advisory lock key that serializes the ACL changes of the table. */
#define ACL_LOCK_KEY 7366447
#define SQL_MAX 1024

struct options {
	const char *conninfo;
	const char *table;
	unsigned long threads;
	unsigned long seconds;
	unsigned long ttl;
	bool lock;                    /* serialize ACL changes with an advisory lock */
};

struct shared {
	const struct options *options;
	char *table_identifier;       /* the table name quoted for SQL */
	char lock_statement[64];      /* "SELECT pg_advisory_xact_lock(K); " or "" */
	pthread_barrier_t connected;
	uint64_t deadline_ns;         /* written by main between the two barriers */
	pthread_barrier_t go;
};

struct worker {
	pthread_t thread;
	size_t index;
	struct shared *shared;
	uint64_t cycles;
	uint64_t errors;
	uint64_t conflicts;        /* transactions run again after a write conflict */
	uint64_t *samples_ns;
	size_t sample_count;
	bool connect_failed;
};

/* Whether a failed transaction may succeed when run again: a lost write
 * conflict on a catalog row ("tuple concurrently updated", SQLSTATE XX000),
 * a serialization failure or a deadlock. */
static bool is_write_conflict(const PGresult *result)
{
	const char *state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
	const char *message = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);

	if (!state)
		return false;
	if (!strcmp(state, "40001") || !strcmp(state, "40P01"))
		return true;
	return !strcmp(state, "XX000") && message && strstr(message, "concurrently updated");
}

/* Runs sql (one or more statements in BEGIN ... COMMIT) and returns 0 when
 * all succeeded. A write conflict is counted and the transaction run
 * again, up to MAX_CONFLICT_RETRIES times. Prints the worker's first
 * failure. */
static int exec_sql(struct worker *worker, PGconn *pg, const char *sql, const char *what)
{
	for (unsigned attempt = 0;; attempt++) {
		PGresult *result = PQexec(pg, sql);
		bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
		bool retry = !ok && is_write_conflict(result) && attempt < MAX_CONFLICT_RETRIES;

		PQclear(result);
		/* An error inside BEGIN ... COMMIT leaves the transaction aborted,
		 * and every later query of the connection would fail until it
		 * ends. */
		if (!ok && PQtransactionStatus(pg) == PQTRANS_INERROR)
			PQclear(PQexec(pg, "ROLLBACK"));
		if (ok)
			return 0;
		if (retry) {
			worker->conflicts++;
			continue;
		}
		if (worker->errors == 0)
			fprintf(stderr, "bench_pg_baseline: worker %zu: %s failed: %s", worker->index,
				what, PQerrorMessage(pg));
		return -1;
	}
}

static int random_password(char out[static PASSWORD_LEN + 1])
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char random[PASSWORD_LEN];

	if (RAND_bytes(random, sizeof(random)) != 1)
		return -1;
	for (size_t i = 0; i < PASSWORD_LEN; i++)
		out[i] = alphabet[random[i] % (sizeof(alphabet) - 1)];
	out[PASSWORD_LEN] = '\0';
	OPENSSL_cleanse(random, sizeof(random));
	return 0;
}

/* Formats now + ttl as VALID UNTIL takes it: "2026-12-05 10:20:30+0000". */
static void format_expiration(unsigned long ttl, char *out, size_t len)
{
	time_t at = time(NULL) + (time_t)ttl;
	struct tm tm;

	gmtime_r(&at, &tm);
	strftime(out, len, "%Y-%m-%d %H:%M:%S+0000", &tm);
}

/* One credential's life: create and grant, then revoke and drop. */
static int run_cycle(struct worker *worker, PGconn *pg, uint64_t number)
{
	const struct shared *shared = worker->shared;
	char name[NAME_MAX_LEN];
	char password[PASSWORD_LEN + 1];
	char expiration[40];
	char sql[SQL_MAX];
	int rc;

	/* Unique across workers and across runs against the same cluster. */
	snprintf(name, sizeof(name), "bench-%ld-%zu-%" PRIu64, (long)getpid(), worker->index,
		number);
	if (random_password(password) < 0)
		return -1;
	format_expiration(shared->options->ttl, expiration, sizeof(expiration));

	snprintf(sql, sizeof(sql),
		"BEGIN; CREATE ROLE \"%s\" WITH LOGIN PASSWORD '%s' VALID UNTIL '%s'; "
		"%sGRANT SELECT ON %s TO \"%s\"; COMMIT",
		name, password, expiration, shared->lock_statement, shared->table_identifier, name);
	rc = exec_sql(worker, pg, sql, "CREATE ROLE and GRANT");
	OPENSSL_cleanse(sql, sizeof(sql));
	OPENSSL_cleanse(password, sizeof(password));
	if (rc < 0)
		return -1;

	snprintf(sql, sizeof(sql), "BEGIN; %sREVOKE SELECT ON %s FROM \"%s\"; DROP ROLE \"%s\"; "
		"COMMIT", shared->lock_statement, shared->table_identifier, name, name);
	return exec_sql(worker, pg, sql, "REVOKE and DROP ROLE");
}

static PGconn *connect_pg(const struct worker *worker)
{
	const char *const keywords[] = { "dbname", "application_name", NULL };
	const char *const values[] = { worker->shared->options->conninfo, "bench_pg_baseline",
		NULL };
	PGconn *pg = PQconnectdbParams(keywords, values, 1);

	if (PQstatus(pg) != CONNECTION_OK) {
		fprintf(stderr, "bench_pg_baseline: worker %zu: connecting failed: %s", worker->index,
			PQerrorMessage(pg));
		PQfinish(pg);
		return NULL;
	}
	return pg;
}

static void *worker_main(void *arg)
{
	struct worker *worker = arg;
	struct shared *shared = worker->shared;
	PGconn *pg = connect_pg(worker);

	worker->connect_failed = pg == NULL;
	pthread_barrier_wait(&shared->connected);
	pthread_barrier_wait(&shared->go);
	if (!pg)
		return NULL;

	for (uint64_t number = 0;; number++) {
		uint64_t start = bench_now_ns();

		if (start >= shared->deadline_ns)
			break;
		if (run_cycle(worker, pg, number) < 0) {
			worker->errors++;
			if (PQstatus(pg) == CONNECTION_BAD)
				break;
			continue;
		}
		worker->cycles++;
		if (worker->sample_count < MAX_SAMPLES_PER_THREAD)
			worker->samples_ns[worker->sample_count++] = bench_now_ns() - start;
	}
	PQfinish(pg);
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bench_pg_baseline --conninfo STRING [--table NAME] [--threads N]\n"
		"                         [--seconds N] [--ttl SECONDS] [--no-lock]\n"
		"  --conninfo STRING  libpq connection string or URI of a role that may\n"
		"                     create roles and grant on the table\n"
		"  --table NAME       table granted to each role (default bench_table)\n"
		"  --threads N        connections, one thread each (default %d)\n"
		"  --seconds N        measured duration (default %d)\n"
		"  --ttl SECONDS      VALID UNTIL lies this far ahead (default %d)\n"
		"  --no-lock          no advisory lock around GRANT and REVOKE; conflicting\n"
		"                     transactions run again\n",
		DEFAULT_THREADS, DEFAULT_SECONDS, DEFAULT_TTL_SECONDS);
}

static int parse_options(int argc, char **argv, struct options *ret_options)
{
	static const struct option long_options[] = {
		{ "conninfo", required_argument, NULL, 'c' },
		{ "table", required_argument, NULL, 'T' },
		{ "threads", required_argument, NULL, 't' },
		{ "seconds", required_argument, NULL, 's' },
		{ "ttl", required_argument, NULL, 'l' },
		{ "no-lock", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct options options = {
		.table = "bench_table",
		.threads = DEFAULT_THREADS,
		.seconds = DEFAULT_SECONDS,
		.ttl = DEFAULT_TTL_SECONDS,
		.lock = true,
	};
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (c) {
		case 'c': options.conninfo = optarg; break;
		case 'T': options.table = optarg; break;
		case 't':
			rc = bench_parse_uint("--threads", optarg, 1, MAX_THREADS, &options.threads);
			break;
		case 's': rc = bench_parse_uint("--seconds", optarg, 1, 3600, &options.seconds); break;
		case 'l': rc = bench_parse_uint("--ttl", optarg, 1, 31536000, &options.ttl); break;
		case 'L': options.lock = false; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
		if (rc < 0)
			return -1;
	}
	if (optind != argc || !options.conninfo) {
		fprintf(stderr, "bench_pg_baseline: missing or unexpected arguments\n");
		usage(stderr);
		return -1;
	}
	*ret_options = options;
	return 0;
}

/* Quotes the table name with a throwaway connection, since
 * PQescapeIdentifier needs one for the encoding. */
static int quote_table(struct shared *shared)
{
	struct worker probe = { .shared = shared };
	PGconn *pg = connect_pg(&probe);
	char *quoted;

	if (!pg)
		return -1;
	quoted = PQescapeIdentifier(pg, shared->options->table, strlen(shared->options->table));
	if (quoted) {
		shared->table_identifier = strdup(quoted);
		PQfreemem(quoted);
	}
	PQfinish(pg);
	if (!shared->table_identifier || strlen(shared->table_identifier) > SQL_MAX / 4) {
		fprintf(stderr, "bench_pg_baseline: table name \"%s\" cannot be used\n",
			shared->options->table);
		return -1;
	}
	return 0;
}

static void report(const struct options *options, struct worker *workers, uint64_t elapsed_ns,
	const struct bench_window *window)
{
	uint64_t cycles = 0, errors = 0, conflicts = 0;
	size_t total = 0, filled = 0;
	double seconds = (double)elapsed_ns / 1e9;
	uint64_t *samples;

	for (size_t i = 0; i < options->threads; i++) {
		cycles += workers[i].cycles;
		errors += workers[i].errors;
		conflicts += workers[i].conflicts;
		total += workers[i].sample_count;
	}
	samples = calloc(total ? total : 1, sizeof(samples[0]));
	for (size_t i = 0; samples && i < options->threads; i++) {
		memcpy(samples + filled, workers[i].samples_ns,
			workers[i].sample_count * sizeof(samples[0]));
		filled += workers[i].sample_count;
	}
	printf("mode=baseline threads=%lu lock=%d seconds=%.3f ops=%" PRIu64 " errors=%" PRIu64
	       " conflicts=%" PRIu64 " rate=%.1f p50_ms=%.3f p99_ms=%.3f",
		options->threads, options->lock, seconds, cycles, errors, conflicts,
		(double)cycles / seconds,
		(double)bench_percentile(samples, filled, 0.50) / 1e6,
		(double)bench_percentile(samples, filled, 0.99) / 1e6);
	bench_window_print(window);
	printf("\n");
	free(samples);
}

int main(int argc, char **argv)
{
	struct options options;
	struct shared shared = { 0 };
	struct worker *workers = NULL;
	struct bench_window window;
	uint64_t start_ns, elapsed_ns;
	bool failed = false;
	int status = 1;

	if (parse_options(argc, argv, &options) < 0)
		return 2;
	shared.options = &options;
	if (options.lock)
		snprintf(shared.lock_statement, sizeof(shared.lock_statement),
			"SELECT pg_advisory_xact_lock(%d); ", ACL_LOCK_KEY);
	if (quote_table(&shared) < 0)
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
			fprintf(stderr, "bench_pg_baseline: starting worker %zu failed\n", i);
			exit(1);
		}
	}

	/* Every connection is up before the clock starts. */
	pthread_barrier_wait(&shared.connected);
	bench_window_start(&window);
	start_ns = bench_now_ns();
	shared.deadline_ns = start_ns + options.seconds * 1000000000u;
	pthread_barrier_wait(&shared.go);
	for (size_t i = 0; i < options.threads; i++) {
		pthread_join(workers[i].thread, NULL);
		failed = failed || workers[i].connect_failed || workers[i].errors > 0;
	}
	elapsed_ns = bench_now_ns() - start_ns;

	report(&options, workers, elapsed_ns, &window);
	status = failed ? 1 : 0;
out:
	if (workers) {
		for (size_t i = 0; i < options.threads; i++)
			free(workers[i].samples_ns);
		free(workers);
	}
	free(shared.table_identifier);
	return status;
}
