/* PostgreSQL work on the secrets worker threads. Each worker keeps its own
 * connection per config, since a libpq connection serves one thread at a
 * time, and closes them when it exits. A config change bumps the epoch of
 * db_conn.c, and a worker then reopens its connection at its next job. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "secrets/db_internal.h"

struct worker_conn {
	struct worker_conn *next;
	char *key;
	uint64_t epoch;
	PGconn *pg;
};

static pthread_key_t worker_conns_key;
static pthread_once_t worker_conns_once = PTHREAD_ONCE_INIT;
static int worker_conns_ready = -1;

static void worker_conns_free(void *head)
{
	struct worker_conn *conn = head;

	while (conn) {
		struct worker_conn *next = conn->next;

		PQfinish(conn->pg);
		free(conn->key);
		free(conn);
		conn = next;
	}
}

static void worker_conns_init(void)
{
	worker_conns_ready = pthread_key_create(&worker_conns_key, worker_conns_free);
}

static void worker_conn_drop(const char *key)
{
	struct worker_conn *head = pthread_getspecific(worker_conns_key);

	for (struct worker_conn **at = &head; *at; at = &(*at)->next) {
		struct worker_conn *conn = *at;

		if (strcmp(conn->key, key) != 0)
			continue;
		*at = conn->next;
		PQfinish(conn->pg);
		free(conn->key);
		free(conn);
		break;
	}
	pthread_setspecific(worker_conns_key, head);
}

/* Returns this thread's connection of async's config, opening it when
 * there is none, it broke, or it predates the last config change. */
static int worker_conn_get(const struct db_async *async, PGconn **ret_pg, struct wd_error *err)
{
	struct worker_conn *head = pthread_getspecific(worker_conns_key);
	struct worker_conn *conn;
	PGconn *pg = NULL;

	for (conn = head; conn; conn = conn->next) {
		if (strcmp(conn->key, async->key) == 0)
			break;
	}
	if (conn && conn->epoch >= async->epoch && PQstatus(conn->pg) == CONNECTION_OK) {
		if (PQtransactionStatus(conn->pg) != PQTRANS_IDLE)
			PQclear(PQexec(conn->pg, "ROLLBACK"));
		*ret_pg = conn->pg;
		return 0;
	}
	if (conn)
		worker_conn_drop(async->key);

	WD_TRY(db_conn_open(async->config, NULL, &pg, err));
	conn = calloc(1, sizeof(*conn));
	if (!conn || !(conn->key = wd_strdup(async->key))) {
		free(conn);
		PQfinish(pg);
		return wd_error_set(err, WD_ENOMEM, "out of memory for a worker connection");
	}
	conn->epoch = async->epoch;
	conn->pg = pg;
	conn->next = pthread_getspecific(worker_conns_key);
	pthread_setspecific(worker_conns_key, conn);
	*ret_pg = pg;
	return 0;
}

static int async_work(void *context, struct wd_error *err)
{
	struct db_async *async = context;
	PGconn *pg = NULL;
	int rc;

	WD_TRY(worker_conn_get(async, &pg, err));
	rc = async->work(pg, async->context, err);
	if (rc >= 0 || PQstatus(pg) != CONNECTION_BAD)
		return rc;

	/* As db_conn_run: the work failed before it could commit. */
	log_warn("database", "connection broke; reconnecting once", "error",
		wd_error_text(err));
	worker_conn_drop(async->key);
	wd_error_clear(err);
	WD_TRY(worker_conn_get(async, &pg, err));
	return async->work(pg, async->context, err);
}

static void async_done(struct secrets *secrets, void *context, int rc, struct wd_error *err)
{
	struct db_async *async = context;

	async->done(secrets, async, rc, err);
}

int db_conn_run_async(struct db_state *state, const char *name, const json_t *config,
	struct db_async *async, struct wd_error *err)
{
	char key[256];
	int rc;

	pthread_once(&worker_conns_once, worker_conns_init);
	if (worker_conns_ready != 0)
		return wd_error_set(err, WD_EUNSUPPORTED, "no thread-local connections");
	if (json_object_get(config, "pending_root_password"))
		return wd_error_set(err, WD_EUNSUPPORTED, "a root rotation to settle first");

	snprintf(key, sizeof(key), "%s/%s", state->prefix, name);
	async->key = wd_strdup(key);
	async->config = json_deep_copy(config);
	async->epoch = db_conn_epoch();
	if (!async->key || !async->config) {
		db_async_clear(async);
		return wd_error_set(err, WD_ENOMEM, "out of memory for a database job");
	}
	rc = secrets_offload(state->secrets, async_work, async_done, async, err);
	if (rc < 0)
		db_async_clear(async);
	return rc;
}

void db_async_clear(struct db_async *async)
{
	free(async->key);
	async->key = NULL;
	json_decref(async->config);
	async->config = NULL;
}
