/* The agent object: node identity first, then the sync thread, and the
 * state the daemon serves by. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "agent/agent.h"
#include "agent/node.h"
#include "agent/sync.h"
#include "common/alloc.h"
#include "common/time.h"

struct agent {
	const struct agent_config *config;
	struct event_base *base;
	struct agent_cache *cache;
	struct agent_servers servers;
	struct agent_sync sync;
	bool sync_ready;

	pthread_mutex_t mutex;          /* guards status */
	struct agent_status status;

	agent_log_fn log;
	void *log_arg;
	agent_state_fn state_fn;
	void *state_arg;
	struct event *state_event;      /* runs state_fn on the loop thread */
};

static const char *const state_names[] = {
	[AGENT_STATE_STARTING] = "starting",
	[AGENT_STATE_ATTESTED] = "attested",
	[AGENT_STATE_EVICTED] = "evicted",
	[AGENT_STATE_BANNED] = "banned",
	[AGENT_STATE_REVOKED] = "revoked",
	[AGENT_STATE_STOPPED] = "stopped",
};

const char *agent_state_name(enum agent_state state)
{
	if ((size_t)state < WD_ARRAY_LEN(state_names) && state_names[state])
		return state_names[state];
	return "unknown";
}

void agent_log_write(enum log_level level, const char *message,
	const struct agent_log_field *fields, size_t field_count, void *arg)
{
	const char *k[3] = { NULL, NULL, NULL };
	const char *v[3] = { NULL, NULL, NULL };

	(void)arg;
	for (size_t i = 0; i < field_count && i < 3; i++) {
		k[i] = fields[i].key;
		v[i] = fields[i].value ? fields[i].value : "";
	}
	/* log_write takes a NULL-ended list, so unused pairs end it early. */
	log_write(level, "agent", message, k[0], v[0], k[1], v[1], k[2], v[2], NULL);
}

static void agent_log(struct agent *agent, enum log_level level, const char *message,
	const char *key, const char *value)
{
	struct agent_log_field field = { key, value };

	if (agent->log)
		agent->log(level, message, &field, key ? 1 : 0, agent->log_arg);
}

static void set_state(struct agent *agent, enum agent_state state, const char *reason)
{
	pthread_mutex_lock(&agent->mutex);
	agent->status.state = state;
	snprintf(agent->status.reason, sizeof(agent->status.reason), "%s", reason ? reason : "");
	pthread_mutex_unlock(&agent->mutex);
}

static void on_state_event(evutil_socket_t fd, short what, void *arg)
{
	struct agent *agent = arg;
	struct agent_status status;

	(void)fd;
	(void)what;
	agent_status(agent, &status);
	if (agent->state_fn)
		agent->state_fn(&status, agent->state_arg);
}

/* Runs on the sync thread when the server turned the agent away. */
static void on_refused(enum agent_state state, const char *reason, void *arg)
{
	struct agent *agent = arg;

	set_state(agent, state, reason);
	agent_log(agent, LOG_LEVEL_ERROR, "server refused the agent, stopped serving", "reason",
		reason);
	if (agent->state_event)
		event_active(agent->state_event, EV_WRITE, 0);
}

int agent_new(const struct agent_config *config, struct event_base *base,
	struct agent **ret_agent, struct wd_error *err)
{
	struct agent *agent;
	int rc = 0;

	*ret_agent = NULL;
	if (evthread_use_pthreads() < 0)
		return wd_error_set(err, WD_EINTERNAL, "cannot enable libevent thread support");
	agent = wd_calloc(1, sizeof(*agent));
	if (!agent)
		return wd_error_set(err, WD_ENOMEM, "out of memory creating the agent");
	agent->config = config;
	agent->base = base;
	agent_servers_init(&agent->servers, config);
	if (pthread_mutex_init(&agent->mutex, NULL) != 0) {
		free(agent);
		return wd_error_set(err, WD_EINTERNAL, "cannot create the agent lock");
	}
	agent->status.state = AGENT_STATE_STARTING;
	WD_GUARD(agent_cache_new(config->trust_domain, base, NULL, NULL, &agent->cache, err));
	if (base) {
		agent->state_event = event_new(base, -1, 0, on_state_event, agent);
		WD_ENSURE(agent->state_event, WD_ENOMEM);
	}
	*ret_agent = WD_TAKE_PTR(agent);
out:
	agent_free(agent);
	return rc;
}

void agent_set_log(struct agent *agent, agent_log_fn fn, void *arg)
{
	agent->log = fn;
	agent->log_arg = arg;
	agent->servers.log = fn;
	agent->servers.log_arg = arg;
}

void agent_set_state_cb(struct agent *agent, agent_state_fn fn, void *arg)
{
	agent->state_fn = fn;
	agent->state_arg = arg;
}

/* Loads the persisted node identity, or attests when there is none. */
static int obtain_node(struct agent *agent, struct agent_node **ret_node, struct wd_error *err)
{
	STACK_OF(X509) *anchors = NULL;
	int rc;

	rc = agent_node_load(agent->config->data_dir, wd_now(), ret_node, err);
	if (rc == 0) {
		agent_log(agent, LOG_LEVEL_INFO, "node identity loaded", "spiffe_id",
			(*ret_node)->spiffe_id);
		return 0;
	}
	/* A damaged or unsafe key file is the operator's to fix; only a
	 * missing or expired identity leads to attestation. */
	if (rc != WD_ENOTFOUND && rc != WD_EEXPIRED)
		return rc;
	wd_error_clear(err);

	WD_TRY(agent_node_bootstrap_anchors(&agent->servers, &anchors, err));
	rc = agent_node_attest(&agent->servers, anchors, ret_node, err);
	sk_X509_pop_free(anchors, X509_free);
	WD_TRY(rc);
	rc = agent_node_save(*ret_node, agent->config->data_dir, err);
	if (rc < 0) {
		agent_node_free(*ret_node);
		*ret_node = NULL;
		return rc;
	}
	agent_log(agent, LOG_LEVEL_INFO, "node attested", "spiffe_id", (*ret_node)->spiffe_id);
	return 0;
}

int agent_start(struct agent *agent, struct wd_error *err)
{
	struct agent_node *node = NULL;
	int rc;

	if (agent->sync_ready)
		return wd_error_set(err, WD_ECONFLICT, "agent already started");
	/* OpenSSL writes to sockets with write(2); a closed peer must not kill
	 * the daemon. */
	signal(SIGPIPE, SIG_IGN);
	WD_GUARD(obtain_node(agent, &node, err));
	WD_GUARD(agent_sync_init(&agent->sync, agent->config, &agent->servers, agent->cache,
		node, err));
	node = NULL;
	agent->sync_ready = true;
	agent->sync.log = agent->log;
	agent->sync.log_arg = agent->log_arg;
	agent->sync.refused = on_refused;
	agent->sync.refused_arg = agent;

	rc = agent_sync_once(&agent->sync, err);
	if (rc < 0) {
		enum agent_state state = agent_node_refusal_state(rc, err ? err->detail : NULL);

		if (state != AGENT_STATE_ATTESTED) {
			set_state(agent, state, wd_error_text(err));
			goto out;
		}
		/* The server may be down at start: serve nothing yet, retry in
		 * the thread. */
		agent_log(agent, LOG_LEVEL_WARN, "first sync failed, retrying", "error",
			wd_error_text(err));
		wd_error_clear(err);
		rc = 0;
	}

	pthread_mutex_lock(&agent->mutex);
	agent->status.state = AGENT_STATE_ATTESTED;
	snprintf(agent->status.spiffe_id, sizeof(agent->status.spiffe_id), "%s",
		agent->sync.node->spiffe_id);
	pthread_mutex_unlock(&agent->mutex);
	WD_GUARD(agent_sync_start(&agent->sync, err));
out:
	agent_node_free(node);
	return rc;
}

void agent_stop(struct agent *agent)
{
	if (!agent || !agent->sync_ready)
		return;
	agent_sync_stop(&agent->sync);
	pthread_mutex_lock(&agent->mutex);
	if (agent->status.state == AGENT_STATE_ATTESTED)
		agent->status.state = AGENT_STATE_STOPPED;
	pthread_mutex_unlock(&agent->mutex);
}

void agent_free(struct agent *agent)
{
	if (!agent)
		return;
	agent_stop(agent);
	if (agent->sync_ready)
		agent_sync_destroy(&agent->sync);
	if (agent->state_event)
		event_free(agent->state_event);
	agent_cache_free(agent->cache);
	pthread_mutex_destroy(&agent->mutex);
	free(agent);
}

struct agent_cache *agent_cache(struct agent *agent)
{
	return agent->cache;
}

void agent_status(struct agent *agent, struct agent_status *ret_status)
{
	pthread_mutex_lock(&agent->mutex);
	*ret_status = agent->status;
	pthread_mutex_unlock(&agent->mutex);
	ret_status->entry_count = agent_cache_entry_count(agent->cache);
	if (agent->sync_ready) {
		pthread_mutex_lock(&agent->sync.node_mutex);
		ret_status->node_svid_expires_at = agent->sync.node ? agent->sync.node->not_after : 0;
		ret_status->last_sync_at = agent->sync.last_sync_at;
		ret_status->revoked_svid_count = agent->sync.revoked_svid_count;
		pthread_mutex_unlock(&agent->sync.node_mutex);
	}
}

enum agent_state agent_state(struct agent *agent)
{
	enum agent_state state;

	pthread_mutex_lock(&agent->mutex);
	state = agent->status.state;
	pthread_mutex_unlock(&agent->mutex);
	return state;
}
