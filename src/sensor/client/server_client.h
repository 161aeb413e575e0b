/* The runtime sensor's client of `warden server`. It sends alerts to the
 * audit chain (POST /v1/sensor/alerts) and requests the revocation of the
 * identity of a process it caught (POST /v1/sensor/revoke), over mutual
 * TLS with the sensor's own X.509-SVID. The SVID comes from the agent's
 * Workload API (rotated in the background) or from PEM files.
 *
 * Thread safety: every call takes the current SVID snapshot and opens its
 * own connection, so one client may be used from several threads at once.
 * A call blocks for up to timeout_ms per connect, send and receive. The
 * process must ignore SIGPIPE, because OpenSSL writes with write(2). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "common/error.h"
#include "common/macros.h"

struct sensor_server;

/* Set url and either workload_api_socket or cert_path, key_path and
 * bundle_path. Strings are copied by sensor_server_open. */
struct sensor_server_config {
	const char *url;                 /* "https://host:port" of the identity API */
	const char *workload_api_socket; /* the agent's socket; the sensor's SVID */
	const char *spiffe_id;           /* which SVID of the Workload API; NULL: the first */
	const char *cert_path;           /* or: PEM chain, leaf first */
	const char *key_path;            /* PEM private key */
	const char *bundle_path;         /* PEM CA certificates of the trust domain */
	const char *server_spiffe_id;    /* NULL: spiffe://<own trust domain>/warden/server */
	unsigned timeout_ms;             /* 0: 10000 */
	unsigned start_timeout_ms;       /* wait for the first SVID; 0: 30000 */
};

/* Opens a client: checks the URL and obtains the first SVID (which may wait
 * for the agent up to start_timeout_ms). It connects to the server only
 * when a call is made. WD_ECONFIG naming the bad URL or a missing source,
 * and the errors of the identity source (WD_ETIMEOUT, WD_EIO, WD_EINVAL). */
WD_MUST_CHECK int sensor_server_open(const struct sensor_server_config *config,
	struct sensor_server **ret_client, struct wd_error *err);

/* Stops the SVID source and frees the client; accepts NULL. */
void sensor_server_free(struct sensor_server *client);

/* The SPIFFE ID of the SVID the client presents now, into out. */
WD_MUST_CHECK int sensor_server_spiffe_id(struct sensor_server *client, char *out, size_t len);

/* Sends one Falco JSON alert (rule, priority, output, output_fields, time,
 * hostname, tags, source, and optionally "responses": an array of
 * {"action", "outcome", "detail", "pid", "cgroup", "time"} records of what
 * the sensor did). The server appends one "sensor.alert" record to its
 * audit chain. WD_EPERM when the server does not list the sensor's SPIFFE
 * ID in sensor.spiffe_ids, WD_EINVAL naming the field it refused, WD_EIO
 * or WD_ECRYPTO when the connection fails. */
WD_MUST_CHECK int sensor_server_alert(struct sensor_server *client, const json_t *alert,
	struct wd_error *err);

/* Sends one response record of the sensor, the object that the responder
 * audits. "action" is required. "rule", "pid", "target", "result",
 * "error", "time", "type", "hostname", "cgroup", "detail", "outcome" and
 * "dry_run" are optional. Each value is a string of at most 1024 bytes, a
 * number or a boolean. The server appends one "sensor.response" record.
 * Errors as sensor_server_alert. */
WD_MUST_CHECK int sensor_server_response(struct sensor_server *client, const json_t *response,
	struct wd_error *err);

/* Requests that the server revoke the identities of process pid on the sensor's
 * node: the X.509-SVIDs of the entries its selectors (as attest_unix
 * computes them, "unix:uid:1000" and so on) match, and the secrets tokens
 * and leases that came from logins with them. rule and reason may be
 * NULL. ret_reply (may be NULL) gets the server's reply: {"agent_id",
 * "pid", "entries", "shared_entries", "revoked_serials", "revoked_tokens",
 * "revoked_leases", "changed"[, "secrets_error"]}. Errors as
 * sensor_server_alert. */
WD_MUST_CHECK int sensor_server_revoke(struct sensor_server *client, pid_t pid,
	const char *const *selectors, size_t selector_count, const char *rule, const char *reason,
	json_t **ret_reply, struct wd_error *err);

/* Computes the selectors of pid with the agent's unix attestor (uid and gid
 * from /proc/PID/status, effective ids as SO_PEERCRED reports them) and
 * calls sensor_server_revoke. Call it before the process is killed: a
 * process that is gone has no selectors (WD_ENOTFOUND naming the pid). */
WD_MUST_CHECK int sensor_server_revoke_pid(struct sensor_server *client, pid_t pid,
	const char *rule, const char *reason, json_t **ret_reply, struct wd_error *err);

/* Writes the selectors of pid as the agent's unix attestor computes them
 * to ret_selectors (a JSON array of strings the caller owns). proc_root
 * NULL means "/proc". */
WD_MUST_CHECK int sensor_selectors_of_pid(pid_t pid, const char *proc_root,
	json_t **ret_selectors, struct wd_error *err);
