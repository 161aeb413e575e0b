/* The sync thread: polls the server every sync interval for the bundle and
 * the entry changes, mints and rotates X.509-SVIDs into the cache, renews
 * the node SVID, and backs off while the server fails. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent/agent.h"
#include "agent/cache.h"
#include "agent/config.h"
#include "agent/node.h"
#include "common/error.h"
#include "common/macros.h"

/* Upper bound of the retry delay after failures, in seconds. */
#define AGENT_SYNC_MAX_BACKOFF_SECONDS 60
/* Consecutive passes whose connection failed before the server answered
 * (handshake failure or connection closed at once), after which the node
 * SVID counts as revoked: the server rejects revoked client certificates. */
#define AGENT_SYNC_MAX_HANDSHAKE_FAILURES 3

/* Tells the agent that the server turned it away for good. */
typedef void (*agent_sync_refused_fn)(enum agent_state state, const char *reason, void *arg);

struct agent_sync {
	const struct agent_config *config;
	struct agent_servers *servers;  /* borrowed; which server to talk to */
	struct agent_cache *cache;
	struct agent_node *node;        /* owned; node_mutex guards it */
	pthread_mutex_t node_mutex;
	int64_t revision;               /* the server's entry revision last applied */
	int64_t last_sync_at;           /* Unix seconds; node_mutex guards it */
	uint64_t revoked_svid_count;    /* SVIDs dropped as on a CRL; node_mutex guards it */
	int handshake_failures;

	agent_log_fn log;
	void *log_arg;
	agent_sync_refused_fn refused;
	void *refused_arg;

	pthread_t thread;
	bool running;
	bool stopping;                  /* wake_mutex guards it */
	pthread_mutex_t wake_mutex;
	pthread_cond_t wake;
};

/* Sets sync up around node (taken over), servers and cache (borrowed), and
 * installs the JWT-SVID fetch function in cache. */
WD_MUST_CHECK int agent_sync_init(struct agent_sync *sync, const struct agent_config *config,
	struct agent_servers *servers, struct agent_cache *cache, struct agent_node *node,
	struct wd_error *err);

/* Runs one pass on the caller's thread: node renewal when due, bundle,
 * entry changes, minting. A server fault (agent_servers_fault) moves to the
 * next server of the list and runs the pass again there, once per server.
 * Returns the server's refusal code (WD_EBANNED, WD_ENOTFOUND for an
 * evicted agent, ...) or the last transport error. */
WD_MUST_CHECK int agent_sync_once(struct agent_sync *sync, struct wd_error *err);

/* Starts the thread that runs agent_sync_once every interval. */
WD_MUST_CHECK int agent_sync_start(struct agent_sync *sync, struct wd_error *err);

/* Stops and joins the thread; safe when it never started. */
void agent_sync_stop(struct agent_sync *sync);

/* Stops the thread and frees the node; the cache is left alone. */
void agent_sync_destroy(struct agent_sync *sync);
