/* What the parts of the secrets service share: the decoded request and its
 * response, the mount table, the backends each mount type provides and the
 * service context. Not part of the public interface.
 *
 * Flow of one request (http.c). The HTTP verb and path become a
 * vault_request. A sealed barrier returns 503 except on the seal paths. The
 * token is looked up (token.c) unless the backend marks the path
 * unauthenticated, then the ACL (acl.c) and the optional Rego hook decide.
 * The request is audited, the backend of the longest matching mount fills a
 * vault_response, and the response is audited and written as Vault's
 * envelope or error body. Every handler runs on the server's event loop
 * thread. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "audit/audit.h"
#include "common/error.h"
#include "common/macros.h"
#include "net/net.h"
#include "secrets/secrets.h"
#include "store/store.h"

struct barrier;
struct acl_store;
struct expiration;
struct token_store;
struct vault_token;

/* Longest path (after "/v1/") and mount path accepted, in bytes. */
#define VAULT_PATH_MAX 1024
#define VAULT_MOUNT_PATH_MAX 128
/* Bytes of a lease id: "<path>/<24 base62>". */
#define VAULT_LEASE_ID_MAX (VAULT_PATH_MAX + 32)
/* Random part of lease ids and token ids (Vault's TokenLength). */
#define VAULT_RANDOM_ID_LEN 24

/* Operations as Vault's ACL names them. POST and PUT are VAULT_OP_UPDATE
 * until the existence check turns a write to a missing path into
 * VAULT_OP_CREATE. */
enum vault_op {
	VAULT_OP_READ,
	VAULT_OP_LIST,
	VAULT_OP_CREATE,
	VAULT_OP_UPDATE,
	VAULT_OP_DELETE,
	VAULT_OP_PATCH,
	VAULT_OP_HEAD,
};

/* Returns "read", "list", "create", ... */
const char *vault_op_name(enum vault_op op);

struct vault_mount;

/* One decoded request. Strings are owned by the request. */
struct vault_request {
	enum vault_op op;
	char *path;              /* after "/v1/", no leading '/'; a list path ends in '/' */
	json_t *body;            /* a JSON object, empty when the request had no body */
	struct net_request *net; /* query parameters, headers, peer chain; NULL in tests */
	char *client_token;      /* from X-Vault-Token or Authorization: Bearer, or NULL */
	char remote_address[64];

	/* Set by the core before the backend runs. */
	struct vault_mount *mount;
	const char *rel;         /* path below the mount: "data/app" under "secret/" */
	struct vault_token *token; /* the caller's token; NULL on unauthenticated paths */
	char request_id[37];     /* UUID of the request, also in the response */
	struct vault_call *call; /* the request in flight; NULL in tests */
};

/* What a backend's handle returns after vault_request_defer: the response
 * comes later, from vault_call_finish. */
#define VAULT_PENDING 1

/* Keeps the request open after the backend's handle returns, for a job
 * whose completion finishes it. Returns NULL when it cannot (no HTTP
 * request behind req, out of memory); the backend then works in place. */
struct vault_call *vault_request_defer(struct vault_request *req);

/* The request and response of a deferred call. */
struct vault_request *vault_call_request(struct vault_call *call);
struct vault_response *vault_call_response(struct vault_call *call);

/* Audits the response of a deferred call, replies (with err's message
 * when rc is negative) and frees the call. */
void vault_call_finish(struct vault_call *call, int rc, const struct wd_error *err);

/* The response a backend fills in. status 0 means 200 when data or auth is set and
 * 204 otherwise. A backend that sets raw replies with that object as the
 * whole body (sys/init, sys/seal-status). */
struct vault_response {
	int status;
	json_t *data;       /* owned */
	json_t *auth;       /* owned; see token_auth_block */
	json_t *warnings;   /* owned array of strings, or NULL */
	json_t *raw;        /* owned */
	char lease_id[VAULT_LEASE_ID_MAX];
	bool renewable;
	int64_t lease_duration;
};

/* Frees the owned members and clears the response. */
void vault_response_clear(struct vault_response *resp);

/* Appends a warning; WD_ENOMEM on failure. */
WD_MUST_CHECK int vault_response_warn(struct vault_response *resp, const char *fmt, ...)
	WD_PRINTF(2, 3);

/* Work run on a worker thread. It may touch only what its context owns:
 * never the barrier, the store or the mount table. */
typedef int (*secrets_work_fn)(void *context, struct wd_error *err);

/* Completion of a job, on the event loop thread, with what work returned. */
typedef void (*secrets_done_fn)(struct secrets *secrets, void *context, int rc,
	struct wd_error *err);

/* A mount type. Paths a backend serves are relative to its mount. */
struct vault_backend {
	const char *type;      /* "kv", "database", "system", "token", "cert", "jwt" */
	bool is_auth;          /* mounted under "auth/" (sys/auth) */

	/* Creates the backend's state for a new or loaded mount; may be NULL. */
	int (*mount_open)(struct secrets *secrets, struct vault_mount *mount,
		struct wd_error *err);
	void (*mount_close)(struct vault_mount *mount);

	/* Serves a request. A negative WD_E* return becomes an error reply
	 * (see vault_error_status) with err's detail as the message. */
	int (*handle)(struct secrets *secrets, struct vault_request *req,
		struct vault_response *resp, struct wd_error *err);

	/* Whether the path of a POST/PUT already exists, so the ACL checks
	 * "update" rather than "create". NULL: always "update". */
	int (*exists)(struct secrets *secrets, const struct vault_request *req, bool *ret_exists,
		struct wd_error *err);

	/* Whether a path needs no token (login paths). NULL: every path does. */
	bool (*unauthenticated)(const char *rel, enum vault_op op);

	/* Undo and renew what a lease of this mount stands for, from the
	 * internal data the backend gave expire_register. NULL for mounts
	 * that make no leases. renew returns the granted TTL in ret_ttl. */
	int (*lease_revoke)(struct secrets *secrets, struct vault_mount *mount,
		const json_t *internal, struct wd_error *err);
	int (*lease_renew)(struct secrets *secrets, struct vault_mount *mount,
		const json_t *internal, int64_t issue_time, int64_t increment, int64_t *ret_ttl,
		struct wd_error *err);
	/* Starts lease_revoke's work on a worker thread; done then runs on the
	 * event loop with its outcome, never before this call returns.
	 * WD_EUNSUPPORTED when lease_revoke must run instead. Optional. */
	int (*lease_revoke_start)(struct secrets *secrets, struct vault_mount *mount,
		const json_t *internal, secrets_done_fn done, void *context, struct wd_error *err);
};

/* The backends (one per part) and the lookup by type. */
extern const struct vault_backend vault_backend_system;
extern const struct vault_backend vault_backend_kv;
extern const struct vault_backend vault_backend_database;
extern const struct vault_backend vault_backend_token;
extern const struct vault_backend vault_backend_cert;
extern const struct vault_backend vault_backend_jwt;
const struct vault_backend *vault_backend_find(const char *type, bool is_auth);

/* One entry of the mount table, persisted in the barrier at core/mounts. */
struct vault_mount {
	char path[VAULT_MOUNT_PATH_MAX];  /* "secret/", "auth/cert/", "sys/" */
	char accessor[40];                /* "kv_1a2b3c4d" */
	char uuid[37];
	const struct vault_backend *backend;
	char *description;
	json_t *options;                  /* {"version":"2"} for KV v2; owned */
	int64_t default_lease_ttl;        /* 0: the system default */
	int64_t max_lease_ttl;            /* 0: the system maximum */
	bool builtin;                     /* sys/, auth/token/: cannot be unmounted */
	void *state;                      /* the backend's, from mount_open */
};

/* The service. */
struct secrets {
	struct secrets_config config;
	struct store *store;
	struct audit_log *audit;
	struct event_base *base;
	struct authority *authority;

	struct barrier *barrier;
	struct token_store *tokens;
	struct acl_store *acl;
	struct expiration *expiration;
	struct policy_hook *rego;          /* NULL when no Rego hook is set */
	struct offload *offload;           /* worker threads; NULL until the first job */

	struct vault_mount **mounts;       /* sorted by path, longest first for lookup */
	size_t mount_count;

	/* HMAC key of audit records, kept in the barrier at core/audit-salt,
	 * and whether it is loaded: while sealed there is none, and strings
	 * are then left out of records rather than hashed under a known key. */
	uint8_t audit_salt[32];
	bool audit_salt_loaded;
};

/* --- Worker threads (offload.c) --- */

/* Queues work for a worker thread; done runs later from the event loop,
 * never before this call returns. WD_EUNSUPPORTED without an event loop,
 * so the caller can do the work itself. */
WD_MUST_CHECK int secrets_offload(struct secrets *secrets, secrets_work_fn work,
	secrets_done_fn done, void *context, struct wd_error *err);

/* Waits for every queued job, runs the completions and stops the workers.
 * The next secrets_offload starts them again. */
void secrets_offload_drain(struct secrets *secrets);

/* --- Mount table (mounts.c) --- */

/* Returns the mount whose path is the longest prefix of path, or NULL. */
struct vault_mount *vault_mount_lookup(struct secrets *secrets, const char *path);

/* Adds a mount of type at path ("database/"; a missing trailing '/' is
 * added), persists the table and opens the backend. WD_EEXIST when path
 * overlaps a mount, WD_EINVAL for an unknown type. */
WD_MUST_CHECK int vault_mount_add(struct secrets *secrets, const char *path, const char *type,
	const char *description, const json_t *options, int64_t default_ttl, int64_t max_ttl,
	struct wd_error *err);

/* Removes the mount at path after revoking its leases and deleting its
 * barrier data. WD_ENOTFOUND, or WD_EPERM for a built-in mount. */
WD_MUST_CHECK int vault_mount_remove(struct secrets *secrets, const char *path,
	struct wd_error *err);

/* Loads the table from the barrier after an unseal, mounting sys/,
 * auth/token/ and (on a new barrier) secret/ as KV v2. */
WD_MUST_CHECK int vault_mounts_load(struct secrets *secrets, struct wd_error *err);

/* Stores the table again after a mount's TTLs changed in place. */
WD_MUST_CHECK int vault_mount_retune(struct secrets *secrets, struct wd_error *err);

/* Closes every mount; run when sealing. */
void vault_mounts_unload(struct secrets *secrets);

/* Writes the barrier prefix of a mount's data, "logical/<uuid>/", into out
 * (room for 64 bytes). Backends store under it so unmounting can delete
 * everything. */
void vault_mount_storage_prefix(const struct vault_mount *mount, char *out, size_t len);

/* --- Shared helpers (util.c) --- */

/* HTTP status of an error code: EINVAL 400, EAUTH/EPERM 403, ENOTFOUND
 * 404, EUNSUPPORTED 405, EUNAVAILABLE 503 (sealed), ETOOBIG 413, others 500. */
int vault_error_status(int code);

/* Longest TTL any field accepts: 100 years, far above any lease maximum,
 * and small enough that adding it to a Unix time cannot overflow. */
#define VAULT_TTL_MAX (INT64_C(100) * 365 * 86400)

/* Parses a TTL field: a JSON integer of seconds, a decimal string or a Go
 * duration ("1h30m", "90s", "768h"). Absent or null leaves *ret_seconds
 * unchanged and returns 0; returns 1 when set. WD_EINVAL naming field,
 * also for a value above VAULT_TTL_MAX. */
WD_MUST_CHECK int vault_json_ttl(const json_t *obj, const char *field, int64_t *ret_seconds,
	struct wd_error *err);

/* Parses a Go-style duration string into seconds; WD_EINVAL otherwise. */
WD_MUST_CHECK int vault_parse_duration(const char *text, int64_t *ret_seconds);

/* Formats seconds as Go prints a duration ("1h0m0s", "768h0m0s"). */
void vault_format_duration(int64_t seconds, char *out, size_t len);

/* Reads a list field given as a JSON array of strings or one
 * comma-separated string; the caller owns *ret_list (a JSON array).
 * Absent or null stores an empty array. */
WD_MUST_CHECK int vault_json_string_list(const json_t *obj, const char *field, json_t **ret_list,
	struct wd_error *err);

/* Fills out with len random characters of [0-9A-Za-z] and a NUL. */
WD_MUST_CHECK int vault_random_base62(char *out, size_t len);

/* Writes a random RFC 4122 version 4 UUID (36 characters and a NUL). */
WD_MUST_CHECK int vault_random_uuid(char out[static 37]);

/* Writes t as RFC 3339 with nanoseconds in UTC, as Vault prints times:
 * "2026-12-05T10:20:30.123456789Z". out has room for 40 bytes. */
void vault_format_time(int64_t unix_nanos, char *out, size_t len);

/* Current time in nanoseconds since the epoch. */
int64_t vault_now_nanos(void);

/* Computes a lease TTL with Vault's arithmetic (CalculateTTL). increment
 * and backend_ttl 0 mean unset. The effective maximum is the smallest
 * non-zero of backend_max, the mount's max and the system max. The result
 * is capped so that the lease ends by issue_time + maximum. ret_warning
 * (may be NULL, room for 256 bytes) receives Vault's capping warning or "".
 * WD_EINVAL "past the max TTL, cannot renew" when now is already past the
 * end. */
WD_MUST_CHECK int vault_calculate_ttl(struct secrets *secrets, const struct vault_mount *mount,
	int64_t now, int64_t issue_time, int64_t increment, int64_t backend_ttl,
	int64_t backend_max, int64_t *ret_ttl, char *ret_warning, struct wd_error *err);

/* --- Audit (audit_vault.c) --- */

/* Writes "hmac-sha256:<hex>" of text under the audit salt into out (room
 * for 80 bytes), or "redacted" while the salt is not loaded (sealed). */
void vault_audit_hash(const struct secrets *secrets, const char *text, char *out, size_t len);

/* Returns a deep copy of value with every string replaced by its
 * vault_audit_hash, keys kept; numbers, bools and null kept. */
json_t *vault_audit_redact(const struct secrets *secrets, const json_t *value);

/* --- Seal life cycle (core.c) --- */

/* After the barrier opens: loads the audit salt, the mount table, the token
 * store's state and every lease. On failure the barrier is sealed again. */
WD_MUST_CHECK int secrets_after_unseal(struct secrets *secrets, struct wd_error *err);

/* Before sealing: calls config.on_seal, unloads leases and mounts and wipes
 * the salt. */
void secrets_before_seal(struct secrets *secrets);

/* After an operator's unseal (identity_kek.c): hands config.on_unseal the
 * identity CA's key-encryption key, creating it on the first call, and logs
 * a failure. Not called for the unseal inside sys/init: a failed init wipes
 * the barrier, and with it a key that CA key files may already be encrypted
 * under. */
void secrets_unlock_identity(struct secrets *secrets);

/* --- The system backend's parts (sys.c dispatches to them) --- */

/* sys/init, sys/unseal, sys/seal, sys/seal-status, sys/health (sys_seal.c).
 * These run while sealed. */
WD_MUST_CHECK int sys_seal_handle(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err);
/* Whether rel (below "sys/") is a seal path that works while sealed and
 * without a token (init, unseal, seal-status, health). */
bool sys_seal_unauthenticated(const char *rel);

/* sys/mounts[/path], sys/auth[/path] (mounts.c). */
WD_MUST_CHECK int sys_mounts_handle(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err);

/* --- Request decoding (request.c) --- */

/* Nesting accepted in request bodies. */
#define VAULT_BODY_MAX_DEPTH 32

/* Decodes an HTTP request into req. method is "GET", "LIST" and so on, and
 * NULL also means LIST (the router names every method libevent does not
 * know "LIST"). path is the decoded path and must start with "/v1/".
 * list_query is the value of the "list" query parameter, or NULL. The path
 * is cleaned: no empty, "." or ".." segments and no control bytes. WD_EINVAL naming the bad part; WD_ENOTFOUND for a path
 * outside /v1/; WD_EUNSUPPORTED for a verb Vault does not serve. */
WD_MUST_CHECK int vault_request_decode(const char *method, const char *path,
	const char *list_query, const void *body, size_t body_len, const char *content_type,
	struct vault_request *req, struct wd_error *err);

/* Frees what vault_request_decode allocated and clears req. */
void vault_request_clear(struct vault_request *req);
