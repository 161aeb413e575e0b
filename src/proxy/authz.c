/* The proxy's authorization: one compiled Rego engine in force at a time,
 * swapped whole when a reload thread finds new policy files or new modules
 * on the server, and a decision per HTTP request. Decisions take a
 * reference to the engine under a mutex held for a pointer copy, so a swap
 * never waits for an evaluation and an evaluation never sees a half-built
 * engine. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/random.h"
#include "common/time.h"
#include "proxy/authz_internal.h"

#define DEFAULT_DECISION "data.proxy.allow"
#define DEFAULT_RELOAD_MS 2000u

/* "data" followed by ".name" segments: the decision is pasted into a query,
 * so nothing else may pass. */
static bool decision_valid(const char *ref)
{
	const char *p = ref;

	if (strncmp(p, "data", 4) != 0)
		return false;
	p += 4;
	while (*p) {
		if (*p++ != '.')
			return false;
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_'))
			return false;
		while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		       (*p >= '0' && *p <= '9') || *p == '_')
			p++;
	}
	return strlen(ref) < 200;
}

struct rego_engine *authz_engine_current(struct proxy_authz *authz)
{
	struct rego_engine *engine;

	pthread_mutex_lock(&authz->engine_lock);
	engine = rego_engine_ref(authz->engine);
	pthread_mutex_unlock(&authz->engine_lock);
	return engine;
}

static void engine_swap(struct proxy_authz *authz, struct rego_engine *engine)
{
	struct rego_engine *old;

	pthread_mutex_lock(&authz->engine_lock);
	old = authz->engine;
	authz->engine = engine;
	pthread_mutex_unlock(&authz->engine_lock);
	rego_engine_unref(old);
	atomic_fetch_add(&authz->generation, 1);
}

static int load_files(struct proxy_authz *authz, struct wd_error *err)
{
	struct rego_engine *engine = NULL;
	uint64_t fingerprint = 0;

	WD_TRY(authz_files_compile(authz->path, &authz->limits, &engine, &fingerprint, err));
	authz->source_fingerprint = fingerprint;
	engine_swap(authz, engine);
	return 0;
}

static void reload_files(struct proxy_authz *authz)
{
	struct wd_error err = { 0 };
	uint64_t fingerprint;

	if (authz_files_fingerprint(authz->path, &fingerprint, &err) < 0) {
		log_warn("proxy", "policy files cannot be listed; the loaded policy stays in force",
			"path", authz->path, "error", wd_error_text(&err));
		return;
	}
	if (fingerprint == authz->source_fingerprint)
		return;
	if (load_files(authz, &err) < 0) {
		/* Remembered, so the same broken files are reported once. */
		authz->source_fingerprint = fingerprint;
		log_warn("proxy", "policy reload failed; the previous policy stays in force", "path",
			authz->path, "error", wd_error_text(&err));
		return;
	}
	log_info("proxy", "policy reloaded", "path", authz->path);
}

static void reload_server(struct proxy_authz *authz, bool *failing)
{
	struct wd_error err = { 0 };
	struct rego_engine *engine = NULL;

	if (authz_server_poll(authz, &engine, &err) < 0) {
		/* A server that stays down is reported when it goes down, not at
		 * every poll. */
		if (!*failing)
			log_warn("proxy", "policy fetch failed; the previous policy stays in force",
				"server", authz->server_url, "error", wd_error_text(&err));
		*failing = true;
		return;
	}
	if (*failing)
		log_info("proxy", "policy server reachable again", "server", authz->server_url);
	*failing = false;
	if (engine) {
		engine_swap(authz, engine);
		log_info("proxy", "policy reloaded", "server", authz->server_url);
	}
}

static void *reload_main(void *arg)
{
	struct proxy_authz *authz = arg;
	bool failing = false;
	struct timespec deadline;

	pthread_mutex_lock(&authz->stop_lock);
	while (!authz->stopping) {
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += authz->reload_interval_ms / 1000;
		deadline.tv_nsec += (long)(authz->reload_interval_ms % 1000) * 1000000L;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
		while (!authz->stopping &&
		       pthread_cond_timedwait(&authz->stop_cond, &authz->stop_lock, &deadline) != ETIMEDOUT)
			;
		if (authz->stopping)
			break;
		pthread_mutex_unlock(&authz->stop_lock);
		if (authz->server_url)
			reload_server(authz, &failing);
		else
			reload_files(authz);
		pthread_mutex_lock(&authz->stop_lock);
	}
	pthread_mutex_unlock(&authz->stop_lock);
	return NULL;
}

static int copy_config(struct proxy_authz *authz, const struct proxy_policy_config *policy,
	struct wd_error *err)
{
	const char *decision = policy->decision ? policy->decision : DEFAULT_DECISION;

	if (!policy->path == !policy->server_url)
		return wd_error_set(err, WD_ECONFIG, "set exactly one of the policy path and server URL");
	if (!decision_valid(decision))
		return wd_error_set(err, WD_ECONFIG,
			"policy decision \"%.200s\" is not a rule path such as data.proxy.allow", decision);

	authz->decision = wd_strdup(decision);
	if (policy->path)
		authz->path = wd_strdup(policy->path);
	if (policy->server_url)
		authz->server_url = wd_strdup(policy->server_url);
	if (policy->server_id)
		authz->server_id = wd_strdup(policy->server_id);
	if (!authz->decision || (policy->path && !authz->path) ||
	    (policy->server_url && !authz->server_url) || (policy->server_id && !authz->server_id))
		return WD_ENOMEM;

	authz->reload_interval_ms = policy->reload_interval_ms ? policy->reload_interval_ms
							       : DEFAULT_RELOAD_MS;
	authz->limits.max_steps = policy->max_steps;
	authz->limits.max_memory = AUTHZ_MAX_QUERY_MEMORY;
	authz->limits.max_module_bytes = AUTHZ_MAX_MODULE_BYTES;
	snprintf(authz->reason_allowed, sizeof(authz->reason_allowed), "allowed by %s", decision);
	snprintf(authz->reason_denied, sizeof(authz->reason_denied), "denied by %s", decision);
	snprintf(authz->reason_undefined, sizeof(authz->reason_undefined), "policy %s is undefined",
		decision);
	return 0;
}

/* The reload thread waits on CLOCK_MONOTONIC, so a change of the wall
 * clock neither stalls nor hurries reloads. */
static void cond_init_monotonic(pthread_cond_t *cond)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
}

static int load_first(struct proxy_authz *authz, struct wd_error *err)
{
	struct rego_engine *engine = NULL;

	if (authz->path)
		return load_files(authz, err);
	WD_TRY(authz_server_poll(authz, &engine, err));
	if (engine)
		engine_swap(authz, engine);
	return 0;
}

int proxy_authz_new(const struct proxy_policy_config *policy, const struct proxy_jwt_config *jwt,
	struct proxy_identity_source *identity_source, struct proxy_authz **ret_authz,
	struct wd_error *err)
{
	struct proxy_authz *authz = NULL;
	int rc;

	*ret_authz = NULL;
	if (!policy)
		return wd_error_set(err, WD_ECONFIG, "policy configuration is missing");
	authz = calloc(1, sizeof(*authz));
	if (!authz)
		return WD_ENOMEM;
	pthread_mutex_init(&authz->engine_lock, NULL);
	pthread_mutex_init(&authz->stop_lock, NULL);
	cond_init_monotonic(&authz->stop_cond);
	atomic_init(&authz->generation, 0);
	authz->identity_source = identity_source;

	WD_GUARD(copy_config(authz, policy, err));
	if (jwt)
		WD_GUARD(proxy_jwt_verifier_new(jwt, &authz->jwt, err));
	WD_GUARD(load_first(authz, err));

	if (pthread_create(&authz->thread, NULL, reload_main, authz) != 0) {
		rc = wd_error_set(err, WD_EINTERNAL, "policy reload thread cannot start");
		goto out;
	}
	authz->thread_started = true;
	*ret_authz = WD_TAKE_PTR(authz);
	rc = 0;
out:
	proxy_authz_free(authz);
	return rc;
}

void proxy_authz_free(struct proxy_authz *authz)
{
	if (!authz)
		return;
	if (authz->thread_started) {
		pthread_mutex_lock(&authz->stop_lock);
		authz->stopping = true;
		pthread_cond_signal(&authz->stop_cond);
		pthread_mutex_unlock(&authz->stop_lock);
		pthread_join(authz->thread, NULL);
	}
	authz_server_free(authz->server);
	rego_engine_unref(authz->engine);
	proxy_jwt_verifier_free(authz->jwt);
	pthread_cond_destroy(&authz->stop_cond);
	pthread_mutex_destroy(&authz->stop_lock);
	pthread_mutex_destroy(&authz->engine_lock);
	free(authz->decision);
	free(authz->path);
	free(authz->server_url);
	free(authz->server_id);
	free(authz);
}

uint64_t proxy_authz_policy_generation(const struct proxy_authz *authz)
{
	return authz ? atomic_load(&authz->generation) : 0;
}
