/* Shared between workload_api.c (calls, streams, attestation) and the
 * handlers in x509_handlers.c and jwt_handlers.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/sha.h>

#include "agent/workload_api.h"

/* SPIRE's messages, so clients written against SPIRE read the same text. */
#define WAPI_MSG_NO_HEADER "security header missing from request"
#define WAPI_MSG_NO_IDENTITY "no identity issued"
#define WAPI_MSG_EXE_CHANGED "the calling process changed its executable since it connected; reconnect"

struct wapi_stream;
struct wapi_job;

struct workload_api {
	struct event_base *base;
	struct agent_cache *cache;
	struct attest_options attest;
	bool has_attest;
	struct attest_cache *attest_cache;
	agent_log_fn log_fn;
	void *log_arg;
	size_t max_streams;
	size_t max_jwt_jobs;
	struct wapi_stream *streams;   /* doubly linked, loop thread only */
	size_t stream_count;
	struct wapi_job *jobs;         /* FetchJWTSVID threads, loop thread only */
	size_t job_count;
};

/* One reply built for a caller: a packed message, or the status that ends
 * the call. */
struct wapi_reply {
	int status;          /* GRPC_STATUS_OK, or the status that ends the call */
	char message[512];   /* grpc-message when status is not OK */
	uint8_t *data;       /* packed message when status is OK */
	size_t len;
	bool secret;         /* data contains private keys or tokens: wipe it */
};

/* Builds the current reply of a streaming method for a caller with
 * selectors. Always fills reply (an error becomes a status). */
typedef void (*wapi_build_fn)(struct workload_api *api,
	const struct agent_selector_set *selectors, struct wapi_reply *reply);

/* Sets reply to end the call with status and a printf-style message. */
void wapi_reply_fail(struct wapi_reply *reply, int status, const char *fmt, ...)
	WD_PRINTF(3, 4);

/* Releases reply->data (wiping it when secret) and clears the reply. */
void wapi_reply_clear(struct wapi_reply *reply);

/* Sets reply from a negative WD_E* code and its detail. */
void wapi_reply_from_error(struct wapi_reply *reply, int code, const struct wd_error *err);

/* Returns true when the call carries exactly one workload.spiffe.io
 * header equal to "true"; false after setting reply to INVALID_ARGUMENT. */
bool wapi_check_header(const struct grpc_call *call, struct wapi_reply *reply);

/* Checks the security header and attests the caller. Returns true with the
 * caller's selectors in ret_selectors (freed by the caller) and its
 * credentials in ret_peer; false after setting reply to the status that
 * ends the call. */
bool wapi_attest_call(struct workload_api *api, const struct grpc_call *call,
	struct attest_peer *ret_peer, struct agent_selector_set **ret_selectors,
	struct wapi_reply *reply);

/* Attests peer again, as every stream message needs: the executable
 * behind a pid can change while its connection stays open. process is the
 * identity the server recorded at accept (NULL when it has none). The
 * process must still have that start time and executable, before and after
 * attestation: otherwise reply gets UNAVAILABLE "process ... not found" or
 * PERMISSION_DENIED WAPI_MSG_EXE_CHANGED. Returns true with new selectors;
 * false after setting reply. */
bool wapi_reattest(struct workload_api *api, const struct attest_peer *peer,
	const struct grpc_peer_process *process, struct agent_selector_set **ret_selectors,
	struct wapi_reply *reply);

/* Matches the cache for selectors. Returns the list (freed with
 * agent_svid_list_free) when the caller has at least one identity; NULL
 * after setting reply to PERMISSION_DENIED "no identity issued" or
 * INTERNAL. */
struct agent_svid_list *wapi_match(struct workload_api *api,
	const struct agent_selector_set *selectors, struct wapi_reply *reply);

/* Copies the cached bundle; NULL after setting reply to UNAVAILABLE (no
 * bundle yet) or INTERNAL. */
struct agent_bundle *wapi_bundle(struct workload_api *api, struct wapi_reply *reply);

/* Formats "spiffe://<trust domain>" into out. */
void wapi_trust_domain_id(const struct agent_bundle *bundle, char *out, size_t out_len);

/* Ends call with status and message, ignoring a client that already left. */
void wapi_finish(struct grpc_call *call, int status, const char *message);

/* Ends call with reply's status and message, or sends reply's message and
 * ends it with OK (unary calls). Logs failures. Returns 0. */
int wapi_finish_unary(struct workload_api *api, struct grpc_call *call,
	const struct wapi_reply *reply);

/* Runs a streaming method: attests the caller, builds and sends the first
 * reply at once, then keeps the call open and sends a new reply after each
 * cache change that alters it. Returns 0 (the call is always taken). */
int wapi_stream_start(struct workload_api *api, struct grpc_call *call, const char *method,
	wapi_build_fn build);

/* Logs one line with up to six key/value string pairs, ended by NULL. */
void wapi_log(struct workload_api *api, enum log_level level, const char *message, ...)
	__attribute__((sentinel));

/* Handlers, one per method. */
int wapi_fetch_x509_svid(struct grpc_call *call, void *arg, struct wd_error *err);
int wapi_fetch_x509_bundles(struct grpc_call *call, void *arg, struct wd_error *err);
int wapi_fetch_jwt_svid(struct grpc_call *call, void *arg, struct wd_error *err);
int wapi_fetch_jwt_bundles(struct grpc_call *call, void *arg, struct wd_error *err);
int wapi_validate_jwt_svid(struct grpc_call *call, void *arg, struct wd_error *err);

/* Waits for and frees every FetchJWTSVID job (jwt_handlers.c). */
void wapi_jobs_free(struct workload_api *api);
