/* Runs a rule's actions on the process of an alert and audits each one. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "sensor/response/response_priv.h"

struct response_runner {
	bool dry_run;
	char *hostname;
	char cgroup_root[1024];
	char self_cgroup[4096];
	char cgroup_error[512];       /* why quarantine cannot work, or "" */
	response_revoke_fn revoke;
	void *revoke_ctx;
	response_audit_fn audit;
	void *audit_ctx;
	struct response_notifier *notifier;
	/* Serializes audit records of the event loop and the notify worker. */
	pthread_mutex_t audit_lock;
};

static void audit(struct response_runner *runner, const char *rule, enum response_action action,
	uint32_t pid, const char *target, const char *result, const char *error)
{
	char *record = response_audit_record(runner->hostname, rule, response_action_name(action),
		pid, target, result, error);

	pthread_mutex_lock(&runner->audit_lock);
	if (record) {
		runner->audit(record, runner->audit_ctx);
	} else {
		/* The record could not be built (memory, or text that is not
		 * UTF-8): still leave a trace that a response ran. */
		char fallback[200];

		snprintf(fallback, sizeof(fallback), "{\"type\":\"response\",\"action\":\"%s\","
			"\"pid\":%u,\"result\":\"%s\",\"error\":\"cannot build the audit record\"}",
			response_action_name(action), pid, result);
		runner->audit(fallback, runner->audit_ctx);
	}
	pthread_mutex_unlock(&runner->audit_lock);
	free(record);
}

static const char *result_name(const struct response_runner *runner, int rc)
{
	if (rc < 0)
		return "failure";
	return runner->dry_run ? "dry-run" : "success";
}

static void notify_done(void *ctx, const char *rule, uint32_t pid, const char *result,
	const char *error)
{
	struct response_runner *runner = ctx;

	audit(runner, rule, RESPONSE_NOTIFY, pid, response_notifier_target(runner->notifier),
		result, error);
}

static void run_kill(struct response_runner *runner, const struct response_target *t)
{
	struct wd_error err = { 0 };
	char target[32];
	int pidfd = -1;
	int rc;

	snprintf(target, sizeof(target), "pid:%u", t->pid);
	/* Killing init would panic the kernel or end the container. */
	if (t->pid == 1)
		rc = wd_error_set(&err, WD_EPERM, "refusing to kill pid 1: it is init");
	else
		rc = response_pidfd_open(t->pid, t->event_ns, &pidfd, &err);
	if (rc == 0 && !runner->dry_run)
		rc = response_pidfd_kill(pidfd, t->pid, &err);
	if (pidfd >= 0)
		close(pidfd);
	audit(runner, t->rule, RESPONSE_KILL, t->pid, target,
		result_name(runner, rc), rc < 0 ? wd_error_text(&err) : NULL);
}

static void run_quarantine(struct response_runner *runner, const struct response_target *t)
{
	struct wd_error err = { 0 };
	char pid_dir[32];
	char path[4096] = "";
	int pidfd = -1;
	int rc;

	snprintf(pid_dir, sizeof(pid_dir), "/proc/%u", t->pid);
	if (runner->cgroup_error[0]) {
		audit(runner, t->rule, RESPONSE_QUARANTINE, t->pid, "", "failure",
			runner->cgroup_error);
		return;
	}
	rc = response_pidfd_open(t->pid, t->event_ns, &pidfd, &err);
	if (rc == 0)
		rc = response_cgroup_of(pid_dir, path, sizeof(path), &err);
	/* The path read above is the pidfd's process's only if it still lives. */
	if (rc == 0)
		rc = response_pidfd_alive(pidfd, t->pid, &err);
	if (rc == 0)
		rc = response_cgroup_check(path, runner->self_cgroup, &err);
	if (rc == 0 && !runner->dry_run)
		rc = response_cgroup_freeze(runner->cgroup_root, path, &err);
	if (pidfd >= 0)
		close(pidfd);
	audit(runner, t->rule, RESPONSE_QUARANTINE, t->pid, path,
		result_name(runner, rc), rc < 0 ? wd_error_text(&err) : NULL);
}

static void run_revoke(struct response_runner *runner, const struct response_target *t)
{
	struct wd_error err = { 0 };
	char target[32];
	int rc = 0;

	snprintf(target, sizeof(target), "pid:%u", t->pid);
	if (!runner->revoke)
		rc = wd_error_set(&err, WD_EUNSUPPORTED, "no revoke handler is configured");
	else if (!runner->dry_run)
		rc = runner->revoke(t, runner->revoke_ctx, &err);
	audit(runner, t->rule, RESPONSE_REVOKE, t->pid, target,
		result_name(runner, rc), rc < 0 ? wd_error_text(&err) : NULL);
}

static void run_notify(struct response_runner *runner, const struct response_target *t)
{
	struct wd_error err = { 0 };
	int rc = 0;

	if (!runner->notifier)
		rc = wd_error_set(&err, WD_EUNSUPPORTED, "no notify url is configured");
	else if (!runner->dry_run)
		rc = response_notifier_push(runner->notifier, t->rule, t->pid, t->alert_json, &err);
	/* The worker audits a queued alert once the webhook has responded. */
	if (rc < 0 || runner->dry_run)
		audit(runner, t->rule, RESPONSE_NOTIFY, t->pid,
			runner->notifier ? response_notifier_target(runner->notifier) : "",
			rc < 0 ? "failure" : "dry-run", rc < 0 ? wd_error_text(&err) : NULL);
}

void response_runner_run(struct response_runner *runner, unsigned actions,
	const struct response_target *target)
{
	static void (*const run[RESPONSE_ACTION_COUNT])(struct response_runner *,
		const struct response_target *) = {
		[RESPONSE_QUARANTINE] = run_quarantine,
		[RESPONSE_KILL] = run_kill,
		[RESPONSE_REVOKE] = run_revoke,
		[RESPONSE_NOTIFY] = run_notify,
	};

	for (unsigned i = 0; i < RESPONSE_ACTION_COUNT; i++) {
		if (actions & RESPONSE_BIT(i))
			run[i](runner, target);
	}
}

static int find_cgroups(struct response_runner *runner, const char *cgroup_root,
	struct wd_error *err)
{
	char mountinfo[65536];

	if (cgroup_root) {
		if (strlen(cgroup_root) >= sizeof(runner->cgroup_root))
			return wd_error_set(err, WD_ETOOBIG, "cgroup root %s is too long", cgroup_root);
		snprintf(runner->cgroup_root, sizeof(runner->cgroup_root), "%s", cgroup_root);
	} else {
		WD_TRY(response_read_small("/proc/self/mountinfo", mountinfo, sizeof(mountinfo), err));
		WD_TRY(response_cgroup_mount(mountinfo, runner->cgroup_root,
			sizeof(runner->cgroup_root), err));
	}
	/* NOTE: paths in /proc/PID/cgroup are relative to the sensor's cgroup
	 * namespace, so the sensor must run in the namespace whose root the
	 * mount shows (the host's, for a host sensor). */
	return response_cgroup_of("/proc/self", runner->self_cgroup, sizeof(runner->self_cgroup),
		err);
}

int response_runner_new(const struct response_runner_config *config,
	struct response_runner **ret_runner, struct wd_error *err)
{
	struct response_runner *runner = NULL;
	struct wd_error cgroup_err = { 0 };
	int rc = 0;

	*ret_runner = NULL;
	runner = calloc(1, sizeof(*runner));
	if (!runner)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	pthread_mutex_init(&runner->audit_lock, NULL);
	runner->dry_run = config->dry_run;
	runner->revoke = config->revoke;
	runner->revoke_ctx = config->revoke_ctx;
	runner->audit = config->audit;
	runner->audit_ctx = config->audit_ctx;
	runner->hostname = wd_strdup(config->hostname ? config->hostname : "");
	if (!runner->hostname) {
		rc = wd_error_set(err, WD_ENOMEM, "out of memory");
		goto out;
	}
	/* Without cgroup v2 the other actions still work; quarantine then
	 * reports why it cannot. */
	if (find_cgroups(runner, config->cgroup_root, &cgroup_err) < 0)
		snprintf(runner->cgroup_error, sizeof(runner->cgroup_error), "%s",
			wd_error_text(&cgroup_err));
	if (config->notify && config->notify->url)
		WD_GUARD(response_notifier_new(config->notify, notify_done, runner,
			&runner->notifier, err));
	*ret_runner = WD_TAKE_PTR(runner);
out:
	response_runner_free(runner);
	return rc;
}

struct response_notify_stats response_runner_notify_stats(struct response_runner *runner)
{
	struct response_notify_stats none = { 0 };

	return runner->notifier ? response_notifier_stats(runner->notifier) : none;
}

void response_runner_stop(struct response_runner *runner)
{
	if (runner)
		response_notifier_stop(runner->notifier);
}

void response_runner_free(struct response_runner *runner)
{
	if (!runner)
		return;
	response_notifier_free(runner->notifier);
	pthread_mutex_destroy(&runner->audit_lock);
	free(runner->hostname);
	free(runner);
}
