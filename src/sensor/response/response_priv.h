/* Helpers shared by the files of the response module. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "sensor/response/response.h"
#include "sensor/response/responder.h"

/* Returns the scalar text of node, or NULL for another node type. */
const char *response_yaml_scalar(const yaml_node_t *node);

/* Returns the value of key in mapping map of doc, or NULL. */
yaml_node_t *response_yaml_get(yaml_document_t *doc, const yaml_node_t *map, const char *key);

/* Reads a sequence of action names (node, in doc of file) into *ret as
 * RESPONSE_BIT()s; repeats are allowed. WD_EINVAL with err "file:line:
 * reason" naming an unknown action or a node that is not a sequence of
 * strings. */
WD_MUST_CHECK int response_actions_read(yaml_document_t *doc, const yaml_node_t *node,
	const char *file, unsigned *ret, struct wd_error *err);

/* --- the process and cgroup of a target --- */

/* Opens a pidfd of pid and checks that it is still the event's process:
 * alive, and started no later than event_ns (CLOCK_MONOTONIC; 0 skips the
 * check), so that a reused pid is never hit. WD_ENOTFOUND when the
 * process has exited, WD_ECONFLICT when the pid was reused, WD_EIO. */
WD_MUST_CHECK int response_pidfd_open(uint32_t pid, uint64_t event_ns, int *ret_fd,
	struct wd_error *err);

/* Checks that the process of pidfd is still alive, so that what was read
 * from /proc/PID since the pidfd was opened described it. WD_ENOTFOUND. */
WD_MUST_CHECK int response_pidfd_alive(int pidfd, uint32_t pid, struct wd_error *err);

/* Sends SIGKILL through pidfd. WD_ENOTFOUND when the process has exited. */
WD_MUST_CHECK int response_pidfd_kill(int pidfd, uint32_t pid, struct wd_error *err);

/* Reads the cgroup v2 path ("0::/path") of pid from /proc into buf.
 * WD_ENOTFOUND when the process has exited or has no cgroup v2 entry. */
WD_MUST_CHECK int response_cgroup_of(const char *pid_dir, char *buf, size_t size,
	struct wd_error *err);

/* Checks that path may be frozen: it is not the root cgroup, the sensor's
 * own cgroup (self) or one of its ancestors. WD_EPERM naming the reason. */
WD_MUST_CHECK int response_cgroup_check(const char *path, const char *self,
	struct wd_error *err);

/* Finds the mount point of cgroup v2 in mountinfo text. WD_ENOTFOUND. */
WD_MUST_CHECK int response_cgroup_mount(const char *mountinfo, char *buf, size_t size,
	struct wd_error *err);

/* Writes "1" to ROOT/PATH/cgroup.freeze. WD_EIO naming the file. */
WD_MUST_CHECK int response_cgroup_freeze(const char *root, const char *path,
	struct wd_error *err);

/* Reads a small /proc or /sys file into buf (NUL-terminated). WD_ENOTFOUND,
 * WD_EIO, WD_ETOOBIG when it does not fit. */
WD_MUST_CHECK int response_read_small(const char *path, char *buf, size_t size,
	struct wd_error *err);

/* --- the webhook --- */

struct response_notifier;

/* Called by the worker after each request: result is "success" or
 * "failure", error NULL or the reason. */
typedef void (*response_notify_done_fn)(void *ctx, const char *rule, uint32_t pid,
	const char *result, const char *error);

/* Parses the URL, loads the trust anchors (https) and starts the worker.
 * WD_EINVAL, WD_EIO, WD_ENOMEM. */
WD_MUST_CHECK int response_notifier_new(const struct response_notify_config *config,
	response_notify_done_fn done, void *done_ctx, struct response_notifier **ret,
	struct wd_error *err);

/* Queues body for the worker. WD_ETOOBIG when the queue is full (the alert
 * is dropped and counted), WD_ENOMEM. */
WD_MUST_CHECK int response_notifier_push(struct response_notifier *notifier, const char *rule,
	uint32_t pid, const char *body, struct wd_error *err);

/* Returns the URL without user information or query, safe to log. */
const char *response_notifier_target(const struct response_notifier *notifier);

struct response_notify_stats response_notifier_stats(struct response_notifier *notifier);

/* Stops the worker after the request in flight and counts the alerts still
 * queued as dropped; accepts NULL and a stopped notifier. */
void response_notifier_stop(struct response_notifier *notifier);

/* Stops the worker and frees; accepts NULL. */
void response_notifier_free(struct response_notifier *notifier);

/* --- audit records --- */

/* Builds one audit record: time (now, RFC 3339), type "response", rule,
 * action, pid, target, result, error (only when not NULL) and hostname.
 * Returns compact JSON the caller frees, or NULL when memory runs out. */
char *response_audit_record(const char *hostname, const char *rule, const char *action,
	uint32_t pid, const char *target, const char *result, const char *error);
