/* The SPIFFE Workload API service (SpiffeWorkloadAPI) on a gRPC server:
 * attests each caller from its socket's peer credentials, matches the
 * agent's SVID cache and streams X.509-SVIDs, bundles and JWT material. */
#pragma once

#include <stddef.h>

#include "agent/agent.h"
#include "agent/attest_unix.h"
#include "agent/cache.h"
#include "common/error.h"
#include "common/macros.h"
#include "net/grpc.h"

struct event_base;
struct workload_api;

/* Default ceiling on open streams (FetchX509SVID, FetchX509Bundles and
 * FetchJWTBundles together). Each is re-attested and rebuilt on every cache
 * change, so the ceiling bounds the work one change costs. */
#define WORKLOAD_API_DEFAULT_MAX_STREAMS 4096u

/* Default ceiling on FetchJWTSVID calls waiting for the server at once;
 * each runs on its own thread. */
#define WORKLOAD_API_DEFAULT_MAX_JWT_JOBS 64u

struct workload_api_options {
	/* Passed to attest_unix_workload for every caller; NULL gives the
	 * defaults. Its strings must outlive the service. */
	const struct attest_options *attest;
	size_t max_streams;   /* 0: WORKLOAD_API_DEFAULT_MAX_STREAMS */
	size_t max_jwt_jobs;  /* 0: WORKLOAD_API_DEFAULT_MAX_JWT_JOBS */
};

/* Creates the service over cache, whose change callback it takes over
 * (agent_cache_set_change_cb) so that open streams follow every change.
 * base is the loop the gRPC server runs on; it must have been created after
 * evthread_use_pthreads(), since FetchJWTSVID finishes on the loop from a
 * worker thread. cache must outlive the service. opts may be NULL.
 * WD_ENOMEM. */
WD_MUST_CHECK int workload_api_new(struct event_base *base, struct agent_cache *cache,
	const struct workload_api_options *opts, struct workload_api **ret_api,
	struct wd_error *err);

/* Sets where log lines go (component "workload_api"); without it the
 * service logs nothing. */
void workload_api_set_log(struct workload_api *api, agent_log_fn fn, void *arg);

/* Adds the five SpiffeWorkloadAPI methods to server. Errors of
 * grpc_server_add_methods. */
WD_MUST_CHECK int workload_api_register(struct workload_api *api, struct grpc_server *server,
	struct wd_error *err);

/* Returns the number of open streams. */
size_t workload_api_stream_count(const struct workload_api *api);

/* Ends every open stream with UNAVAILABLE and the given message (NULL:
 * "workload API is shutting down"), for example when the agent is evicted
 * and stops serving. Runs on the loop thread. */
void workload_api_close_streams(struct workload_api *api, const char *message);

/* Detaches from the cache, waits for running FetchJWTSVID threads, drops
 * the remaining streams and frees the service; accepts NULL. Free the gRPC
 * server first, or call workload_api_close_streams, so no call is left
 * open. Runs on the loop thread or with the loop stopped. */
void workload_api_free(struct workload_api *api);
