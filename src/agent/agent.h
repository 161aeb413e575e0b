/* The node agent: node attestation or its persisted state, the sync thread
 * that keeps the SVID cache current, and the state the daemon serves by.
 * The daemon owns the event loop and the Workload API. After agent_start,
 * server calls run on the sync thread, except agent_cache_jwt (cache.h). */
#pragma once

#include <stdint.h>

#include "agent/cache.h"
#include "agent/config.h"
#include "common/error.h"
#include "common/log.h"
#include "common/macros.h"

struct event_base;
struct agent;

enum agent_state {
	AGENT_STATE_STARTING, /* not attested yet */
	AGENT_STATE_ATTESTED, /* has a node SVID and serves */
	AGENT_STATE_EVICTED,  /* the server deleted the agent record: attest again */
	AGENT_STATE_BANNED,   /* the server banned this agent ID */
	AGENT_STATE_REVOKED,  /* the node SVID was revoked or expired */
	AGENT_STATE_STOPPED,  /* agent_stop ran */
};

/* The state and, outside ATTESTED, the reason in plain words. */
struct agent_status {
	enum agent_state state;
	char spiffe_id[2048];          /* the agent ID, "" before attestation */
	int64_t node_svid_expires_at;  /* Unix seconds, 0 before attestation */
	uint64_t entry_count;
	int64_t last_sync_at;          /* Unix seconds of the last good sync, 0 never */
	uint64_t revoked_svid_count;   /* cached X.509-SVIDs dropped as on a CRL */
	char reason[512];
};

/* One key=value field of a log line. */
struct agent_log_field {
	const char *key;
	const char *value;
};

/* Receives the agent's log lines (message lowercase, fields with ids); it
 * runs on the sync thread or the caller's thread, never with a lock held. */
typedef void (*agent_log_fn)(enum log_level level, const char *message,
	const struct agent_log_field *fields, size_t field_count, void *arg);

/* Runs on the loop thread when the state leaves ATTESTED (eviction, ban,
 * revocation): the daemon stops serving and exits with status->reason. */
typedef void (*agent_state_fn)(const struct agent_status *status, void *arg);

/* Returns the name of state ("attested", "evicted", ...). */
const char *agent_state_name(enum agent_state state);

/* Creates an agent. config must have passed agent_config_validate and
 * outlive the agent; base is the daemon's loop, created after
 * evthread_use_pthreads() (agent_new makes that call too, which only helps
 * bases created later). Nothing is read or contacted yet. WD_ENOMEM. */
WD_MUST_CHECK int agent_new(const struct agent_config *config, struct event_base *base,
	struct agent **ret_agent, struct wd_error *err);

/* Sets where log lines go; without it the agent logs nothing. Call before
 * agent_start. */
void agent_set_log(struct agent *agent, agent_log_fn fn, void *arg);

/* Sets the function called on a state change; call before agent_start. */
void agent_set_state_cb(struct agent *agent, agent_state_fn fn, void *arg);

/* Forwards a line to the common logger (component "agent"): an
 * agent_log_fn the daemon can pass to agent_set_log. */
void agent_log_write(enum log_level level, const char *message,
	const struct agent_log_field *fields, size_t field_count, void *arg);

/* Loads the node identity from the data directory or, without one, attests
 * with the join token (blocking, on the caller's thread, before the loop
 * runs), then syncs the bundle and entries once and starts the sync thread.
 * WD_ECONFIG without state, token or bootstrap trust; WD_EPERM for a key
 * file readable by others; WD_EBANNED, WD_EREVOKED or WD_EAUTH when the
 * server turned the agent away; WD_EIO, WD_ECRYPTO, WD_ETIMEOUT for a
 * server that cannot be reached or verified. */
WD_MUST_CHECK int agent_start(struct agent *agent, struct wd_error *err);

/* Stops and joins the sync thread; safe to call twice and before start. */
void agent_stop(struct agent *agent);

/* Stops the agent and frees it; accepts NULL. */
void agent_free(struct agent *agent);

/* Returns the agent's cache (borrowed, valid until agent_free). */
struct agent_cache *agent_cache(struct agent *agent);

/* Copies the current state into ret_status (any thread). */
void agent_status(struct agent *agent, struct agent_status *ret_status);

/* Returns the current state (any thread). */
enum agent_state agent_state(struct agent *agent);
