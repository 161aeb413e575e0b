/* Identity sources: the current snapshot behind a mutex, the thread that
 * replaces it, and the choice between file mode and Workload API mode. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/log.h"
#include "proxy/identity_internal.h"

#define DEFAULT_RELOAD_INTERVAL_MS 1000u
#define DEFAULT_START_TIMEOUT_MS 30000u
/* How long proxy_identity_source_free waits for the thread before leaving
 * it to exit on its own. The thread is woken at once, so this is only
 * reached when it is stuck in a call that ignores the stop. */
#define STOP_JOIN_MS 5000

static void timespec_after(clockid_t clock, unsigned ms, struct timespec *ret_time)
{
	clock_gettime(clock, ret_time);
	ret_time->tv_sec += ms / 1000;
	ret_time->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ret_time->tv_nsec >= 1000000000L) {
		ret_time->tv_sec++;
		ret_time->tv_nsec -= 1000000000L;
	}
}

void identity_source_unref(struct proxy_identity_source *source)
{
	if (!source || atomic_fetch_sub_explicit(&source->refs, 1, memory_order_acq_rel) != 1)
		return;
	proxy_identity_unref(source->current);
	pthread_cond_destroy(&source->cond);
	pthread_mutex_destroy(&source->lock);
	pthread_mutex_destroy(&source->callback_lock);
	if (source->stop_fd >= 0)
		close(source->stop_fd);
	free(source->workload_api_socket);
	free(source->cert_path);
	free(source->key_path);
	free(source->bundle_path);
	free(source->crl_path);
	free(source->spiffe_id);
	free(source);
}

void identity_source_publish(struct proxy_identity_source *source,
	struct proxy_identity *identity)
{
	struct proxy_identity *old;
	bool first;

	pthread_mutex_lock(&source->lock);
	old = source->current;
	first = !old;
	source->current = identity;
	source->last_error[0] = '\0';
	pthread_cond_broadcast(&source->cond);
	pthread_mutex_unlock(&source->lock);
	proxy_identity_unref(old);
	if (first)
		return;

	/* The identity stays alive during the callback: only this thread
	 * replaces current, and the thread holds a reference to the source. */
	pthread_mutex_lock(&source->callback_lock);
	if (source->on_change && !atomic_load(&source->stopping))
		source->on_change(identity, source->arg);
	pthread_mutex_unlock(&source->callback_lock);
}

void identity_source_set_error(struct proxy_identity_source *source, const char *text)
{
	pthread_mutex_lock(&source->lock);
	snprintf(source->last_error, sizeof(source->last_error), "%s", text);
	pthread_mutex_unlock(&source->lock);
}

bool identity_source_wait(struct proxy_identity_source *source, unsigned ms)
{
	struct timespec deadline;
	bool stopping;

	timespec_after(CLOCK_MONOTONIC, ms, &deadline);
	pthread_mutex_lock(&source->lock);
	while (!atomic_load(&source->stopping)) {
		if (pthread_cond_timedwait(&source->cond, &source->lock, &deadline) == ETIMEDOUT)
			break;
	}
	stopping = atomic_load(&source->stopping);
	pthread_mutex_unlock(&source->lock);
	return stopping;
}

int identity_source_spawn(struct proxy_identity_source *source, void *(*body)(void *),
	struct wd_error *err)
{
	int rc;

	atomic_fetch_add(&source->refs, 1);
	rc = pthread_create(&source->thread, NULL, body, source);
	if (rc != 0) {
		atomic_fetch_sub(&source->refs, 1);
		return wd_error_set(err, WD_EINTERNAL, "cannot start the identity thread: %s",
			strerror(rc));
	}
	source->thread_started = true;
	return 0;
}

/* Waits until the thread has published a snapshot or timeout_ms passed. */
static int wait_first(struct proxy_identity_source *source, struct wd_error *err)
{
	struct timespec deadline;
	int rc = 0;

	timespec_after(CLOCK_MONOTONIC, source->start_timeout_ms, &deadline);
	pthread_mutex_lock(&source->lock);
	while (!source->current) {
		if (pthread_cond_timedwait(&source->cond, &source->lock, &deadline) == ETIMEDOUT)
			break;
	}
	if (!source->current)
		rc = wd_error_set(err, WD_ETIMEOUT,
			"no X.509-SVID from the Workload API at %s within %u ms%s%s",
			source->workload_api_socket, source->start_timeout_ms,
			source->last_error[0] ? ": " : "", source->last_error);
	pthread_mutex_unlock(&source->lock);
	return rc;
}

static int check_config(const struct proxy_identity_config *config, struct wd_error *err)
{
	bool workload = config->workload_api_socket && config->workload_api_socket[0];
	bool files = config->cert_path || config->key_path || config->bundle_path ||
		config->crl_path;

	if (workload && files)
		return wd_error_set(err, WD_ECONFIG,
			"set either the Workload API socket (%s) or the certificate files (%s), "
			"not both", config->workload_api_socket,
			config->cert_path ? config->cert_path : "key or bundle path");
	if (workload)
		return 0;
	if (!config->cert_path || !config->key_path || !config->bundle_path)
		return wd_error_set(err, WD_ECONFIG,
			"set the Workload API socket, or the certificate, key and bundle paths "
			"(missing: %s%s%s)", config->cert_path ? "" : "certificate ",
			config->key_path ? "" : "key ", config->bundle_path ? "" : "bundle");
	return 0;
}

static int copy_config(struct proxy_identity_source *source,
	const struct proxy_identity_config *config)
{
	const char *const from[] = { config->workload_api_socket, config->cert_path,
		config->key_path, config->bundle_path, config->crl_path, config->spiffe_id };
	char **const to[] = { &source->workload_api_socket, &source->cert_path,
		&source->key_path, &source->bundle_path, &source->crl_path, &source->spiffe_id };

	for (size_t i = 0; i < WD_ARRAY_LEN(from); i++) {
		if (!from[i] || !from[i][0])
			continue;
		*to[i] = wd_strdup(from[i]);
		if (!*to[i])
			return WD_ENOMEM;
	}
	source->reload_interval_ms = config->reload_interval_ms ? config->reload_interval_ms :
		DEFAULT_RELOAD_INTERVAL_MS;
	source->start_timeout_ms = config->start_timeout_ms ? config->start_timeout_ms :
		DEFAULT_START_TIMEOUT_MS;
	return 0;
}

static int source_new(const struct proxy_identity_config *config,
	proxy_identity_change_fn on_change, void *arg, struct proxy_identity_source **ret_source,
	struct wd_error *err)
{
	struct proxy_identity_source *source = calloc(1, sizeof(*source));
	pthread_condattr_t cond_attr;
	int rc;

	*ret_source = NULL;
	if (!source)
		return wd_error_set(err, WD_ENOMEM, "out of memory starting the identity source");
	atomic_init(&source->refs, 1);
	atomic_init(&source->stopping, false);
	source->stop_fd = -1;
	source->on_change = on_change;
	source->arg = arg;
	pthread_mutex_init(&source->lock, NULL);
	pthread_mutex_init(&source->callback_lock, NULL);
	pthread_condattr_init(&cond_attr);
	pthread_condattr_setclock(&cond_attr, CLOCK_MONOTONIC);
	pthread_cond_init(&source->cond, &cond_attr);
	pthread_condattr_destroy(&cond_attr);

	rc = copy_config(source, config);
	if (rc < 0) {
		identity_source_unref(source);
		return wd_error_set(err, rc, "out of memory starting the identity source");
	}
	source->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (source->stop_fd < 0) {
		rc = wd_error_set(err, WD_EINTERNAL, "cannot create the identity stop event: %s",
			strerror(errno));
		identity_source_unref(source);
		return rc;
	}
	*ret_source = source;
	return 0;
}

int proxy_identity_source_start(const struct proxy_identity_config *config,
	proxy_identity_change_fn on_change, void *arg, struct proxy_identity_source **ret_source,
	struct wd_error *err)
{
	struct proxy_identity_source *source = NULL;
	int rc;

	*ret_source = NULL;
	WD_ENSURE(config, wd_error_set(err, WD_ECONFIG, "no identity configuration"));
	WD_GUARD(check_config(config, err));
	WD_GUARD(source_new(config, on_change, arg, &source, err));

	if (source->workload_api_socket) {
		WD_GUARD(identity_workload_start(source, err));
		WD_GUARD(wait_first(source, err));
	} else {
		WD_GUARD(identity_files_start(source, err));
	}

	*ret_source = WD_TAKE_PTR(source);
	rc = 0;
out:
	proxy_identity_source_free(source);
	return rc;
}

struct proxy_identity *proxy_identity_source_current(struct proxy_identity_source *source)
{
	struct proxy_identity *identity;

	pthread_mutex_lock(&source->lock);
	identity = proxy_identity_ref(source->current);
	pthread_mutex_unlock(&source->lock);
	return identity;
}

void proxy_identity_source_free(struct proxy_identity_source *source)
{
	struct timespec deadline;

	if (!source)
		return;
	/* Taking callback_lock waits for a running on_change, and no later
	 * one starts once stopping is set. */
	pthread_mutex_lock(&source->callback_lock);
	atomic_store(&source->stopping, true);
	pthread_mutex_unlock(&source->callback_lock);
	pthread_mutex_lock(&source->lock);
	pthread_cond_broadcast(&source->cond);
	pthread_mutex_unlock(&source->lock);
	/* Wakes a Workload API thread blocked on an idle stream. */
	if (eventfd_write(source->stop_fd, 1) < 0)
		log_warn("proxy", "failed to wake the identity thread", "error", strerror(errno));

	if (source->thread_started) {
		timespec_after(CLOCK_REALTIME, STOP_JOIN_MS, &deadline);
		if (pthread_timedjoin_np(source->thread, NULL, &deadline) != 0)
			pthread_detach(source->thread);
	}
	identity_source_unref(source);
}
