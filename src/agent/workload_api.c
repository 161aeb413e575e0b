/* The SpiffeWorkloadAPI service: the security header, caller attestation,
 * and the open streams that follow cache changes. The handlers of the
 * methods are in x509_handlers.c and jwt_handlers.c. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "agent/selectors.h"
#include "agent/workload_api_internal.h"
#include "agent/workload_pb.h"
#include "common/alloc.h"

/* A streaming call and the digest of the last reply sent on it. */
struct wapi_stream {
	struct workload_api *api;
	struct grpc_call *call;        /* our reference */
	const char *method;
	wapi_build_fn build;
	struct attest_peer peer;
	bool has_process;
	struct grpc_peer_process process; /* recorded at accept, valid with has_process */
	uint8_t digest[SHA256_DIGEST_LENGTH];
	struct wapi_stream *prev;
	struct wapi_stream *next;
};

#define WAPI_LOG_MAX_FIELDS 6

void wapi_log(struct workload_api *api, enum log_level level, const char *message, ...)
{
	struct agent_log_field fields[WAPI_LOG_MAX_FIELDS];
	size_t count = 0;
	va_list ap;

	if (!api->log_fn)
		return;
	va_start(ap, message);
	while (count < WAPI_LOG_MAX_FIELDS) {
		const char *key = va_arg(ap, const char *);

		if (!key)
			break;
		fields[count].key = key;
		fields[count].value = va_arg(ap, const char *);
		count++;
	}
	va_end(ap);
	api->log_fn(level, message, fields, count, api->log_arg);
}

void wapi_reply_fail(struct wapi_reply *reply, int status, const char *fmt, ...)
{
	va_list ap;

	reply->status = status;
	va_start(ap, fmt);
	vsnprintf(reply->message, sizeof(reply->message), fmt, ap);
	va_end(ap);
}

void wapi_reply_clear(struct wapi_reply *reply)
{
	if (reply->secret)
		workload_pb_free_secret(reply->data, reply->len);
	else
		free(reply->data);
	memset(reply, 0, sizeof(*reply));
}

void wapi_finish(struct grpc_call *call, int status, const char *message)
{
	/* WD_EIO only means the client already left, which needs no reply. */
	if (grpc_call_finish(call, status, message) < 0)
		return;
}

/* Maps an error to the status the Workload API standard gives it: retry
 * with backoff for a server or process that may come back, do not retry
 * for bad input. */
static int status_of(int code)
{
	switch (code) {
	case WD_EIO:
	case WD_ETIMEOUT:
	case WD_EUNAVAILABLE:
		return GRPC_STATUS_UNAVAILABLE;
	case WD_ENOTFOUND:
	case WD_EPERM:
	case WD_EAUTH:
		return GRPC_STATUS_PERMISSION_DENIED;
	default:
		return grpc_status_from_error(code);
	}
}

void wapi_reply_from_error(struct wapi_reply *reply, int code, const struct wd_error *err)
{
	wapi_reply_fail(reply, status_of(code), "%s", wd_error_text(err));
}

static void log_call_failure(struct workload_api *api, const struct attest_peer *peer,
	const char *method, const struct wapi_reply *reply)
{
	char pid[24], uid[24];
	enum log_level level = LOG_LEVEL_WARN;

	snprintf(pid, sizeof(pid), "%ld", (long)peer->pid);
	snprintf(uid, sizeof(uid), "%lu", (unsigned long)peer->uid);
	/* A caller without an identity is routine for a 0666 socket; keep it
	 * out of the default log level. */
	if (reply->status == GRPC_STATUS_PERMISSION_DENIED ||
		reply->status == GRPC_STATUS_INVALID_ARGUMENT)
		level = LOG_LEVEL_DEBUG;
	wapi_log(api, level, "workload api call failed", "method", method,
		"status", grpc_status_name(reply->status), "error", reply->message, "pid", pid,
		"uid", uid, NULL);
}

bool wapi_check_header(const struct grpc_call *call, struct wapi_reply *reply)
{
	const char *value = NULL;

	/* The Workload API standard requires exactly one workload.spiffe.io
	 * value "true" (case sensitive), against SSRF through a proxy. */
	if (grpc_call_metadata(call, "workload.spiffe.io", &value) != 1 || !value ||
		strcmp(value, "true") != 0) {
		wapi_reply_fail(reply, GRPC_STATUS_INVALID_ARGUMENT, WAPI_MSG_NO_HEADER);
		return false;
	}
	return true;
}

bool wapi_attest_call(struct workload_api *api, const struct grpc_call *call,
	struct attest_peer *ret_peer, struct agent_selector_set **ret_selectors,
	struct wapi_reply *reply)
{
	struct attest_peer peer = { 0 };
	struct grpc_peer_process process;

	*ret_selectors = NULL;
	memset(ret_peer, 0, sizeof(*ret_peer));
	if (!wapi_check_header(call, reply))
		return false;

	if (grpc_call_peer_cred(call, &peer.uid, &peer.gid, &peer.pid) < 0) {
		wapi_reply_fail(reply, GRPC_STATUS_PERMISSION_DENIED,
			"caller has no peer credentials");
		return false;
	}
	*ret_peer = peer;
	if (grpc_call_peer_process(call, &process) < 0)
		return wapi_reattest(api, &peer, NULL, ret_selectors, reply);
	return wapi_reattest(api, &peer, &process, ret_selectors, reply);
}

/* Checks that peer->pid is still the process that connected and runs the
 * same executable. A process may connect, fork, and have the parent
 * execve() a program that entries name by unix:path or unix:sha256 while
 * the child calls on the inherited socket; attesting the pid alone would
 * then give the child that program's SVIDs.
 * NOTE: the executable is noted when the agent accepts the connection, so
 * a parent that execs before the accept is not caught. */
static bool peer_unchanged(const struct attest_peer *peer,
	const struct grpc_peer_process *process, struct wapi_reply *reply)
{
	struct grpc_peer_process now;
	int rc;

	if (!process) {
		wapi_reply_fail(reply, GRPC_STATUS_UNAVAILABLE, "workload attestation failed: "
			"process %d not found", (int)peer->pid);
		return false;
	}
	rc = grpc_peer_process_read(peer->pid, &now);
	if (rc == WD_ENOTFOUND || (rc == 0 && now.start_time != process->start_time)) {
		wapi_reply_fail(reply, GRPC_STATUS_UNAVAILABLE, "workload attestation failed: "
			"process %d not found", (int)peer->pid);
		return false;
	}
	if (rc < 0) {
		wapi_reply_fail(reply, GRPC_STATUS_UNAVAILABLE, "workload attestation failed: "
			"cannot read /proc/%d/stat: %s", (int)peer->pid, wd_strerror(rc));
		return false;
	}
	if (now.has_exe != process->has_exe ||
		(now.has_exe && (now.exe_dev != process->exe_dev || now.exe_ino != process->exe_ino))) {
		wapi_reply_fail(reply, GRPC_STATUS_PERMISSION_DENIED, WAPI_MSG_EXE_CHANGED);
		return false;
	}
	return true;
}

bool wapi_reattest(struct workload_api *api, const struct attest_peer *peer,
	const struct grpc_peer_process *process, struct agent_selector_set **ret_selectors,
	struct wapi_reply *reply)
{
	struct wd_error err = { 0 };
	int rc;

	*ret_selectors = NULL;
	if (!peer_unchanged(peer, process, reply))
		return false;
	rc = attest_unix_workload(peer, api->has_attest ? &api->attest : NULL, api->attest_cache,
		ret_selectors, &err);
	/* Checked again after attestation, so an execve() while it ran does not
	 * slip through either. */
	if (rc == 0 && !peer_unchanged(peer, process, reply)) {
		agent_selector_set_free(*ret_selectors);
		*ret_selectors = NULL;
		return false;
	}
	if (rc == 0)
		return true;

	/* A process that exited or changed under us may come back as itself:
	 * UNAVAILABLE makes the client retry. */
	if (rc == WD_ENOTFOUND || rc == WD_ECONFLICT)
		wapi_reply_fail(reply, GRPC_STATUS_UNAVAILABLE, "workload attestation failed: %s",
			wd_error_text(&err));
	else
		wapi_reply_fail(reply, grpc_status_from_error(rc),
			"workload attestation failed: %s", wd_error_text(&err));
	return false;
}

struct agent_svid_list *wapi_match(struct workload_api *api,
	const struct agent_selector_set *selectors, struct wapi_reply *reply)
{
	struct agent_svid_list *list = NULL;

	if (agent_cache_match(api->cache, selectors, &list) < 0) {
		wapi_reply_fail(reply, GRPC_STATUS_INTERNAL, "out of memory");
		return NULL;
	}
	if (list->count == 0) {
		agent_svid_list_free(list);
		wapi_reply_fail(reply, GRPC_STATUS_PERMISSION_DENIED, WAPI_MSG_NO_IDENTITY);
		return NULL;
	}
	return list;
}

struct agent_bundle *wapi_bundle(struct workload_api *api, struct wapi_reply *reply)
{
	struct agent_bundle *bundle = NULL;
	int rc = agent_cache_bundle(api->cache, &bundle);

	if (rc == WD_ENOTFOUND) {
		wapi_reply_fail(reply, GRPC_STATUS_UNAVAILABLE, "no trust bundle received yet");
		return NULL;
	}
	if (rc < 0) {
		wapi_reply_fail(reply, GRPC_STATUS_INTERNAL, "out of memory");
		return NULL;
	}
	return bundle;
}

void wapi_trust_domain_id(const struct agent_bundle *bundle, char *out, size_t out_len)
{
	snprintf(out, out_len, "spiffe://%s", bundle->trust_domain);
}

int wapi_finish_unary(struct workload_api *api, struct grpc_call *call,
	const struct wapi_reply *reply)
{
	int rc;

	if (reply->status != GRPC_STATUS_OK) {
		rc = grpc_call_finish(call, reply->status, reply->message);
	} else {
		rc = grpc_call_send_message(call, reply->data, reply->len);
		if (rc == 0)
			rc = grpc_call_finish(call, GRPC_STATUS_OK, NULL);
		else
			wapi_finish(call, GRPC_STATUS_RESOURCE_EXHAUSTED,
				"reply is larger than the message size limit");
	}
	if (rc < 0)
		wapi_log(api, LOG_LEVEL_DEBUG, "workload api reply not sent: the client left",
			"method", grpc_call_path(call), NULL);
	return 0;
}

/* --- Streams --- */

static void stream_unlink(struct wapi_stream *stream)
{
	struct workload_api *api = stream->api;

	if (stream->prev)
		stream->prev->next = stream->next;
	else
		api->streams = stream->next;
	if (stream->next)
		stream->next->prev = stream->prev;
	stream->prev = stream->next = NULL;
	api->stream_count--;
}

static void stream_free(struct wapi_stream *stream)
{
	grpc_call_set_close_cb(stream->call, NULL, NULL);
	grpc_call_unref(stream->call);
	free(stream);
}

/* Ends the stream with status and drops it. */
static void stream_end(struct wapi_stream *stream, int status, const char *message)
{
	wapi_finish(stream->call, status, message);
	stream_unlink(stream);
	stream_free(stream);
}

static void on_stream_close(struct grpc_call *call WD_UNUSED, bool cancelled WD_UNUSED,
	void *arg)
{
	struct wapi_stream *stream = arg;

	stream_unlink(stream);
	stream_free(stream);
}

static int digest_of(const struct wapi_reply *reply, uint8_t out[SHA256_DIGEST_LENGTH])
{
	unsigned int len = 0;

	if (!EVP_Digest(reply->data, reply->len, out, &len, EVP_sha256(), NULL))
		return WD_ECRYPTO;
	return 0;
}

/* Sends reply on the stream unless it equals the last one sent. Returns
 * false when the stream had to end. */
static bool stream_send(struct wapi_stream *stream, const struct wapi_reply *reply,
	bool first)
{
	uint8_t digest[SHA256_DIGEST_LENGTH];
	int rc;

	if (digest_of(reply, digest) < 0) {
		stream_end(stream, GRPC_STATUS_INTERNAL, "digest of the reply failed");
		return false;
	}
	if (!first && CRYPTO_memcmp(digest, stream->digest, sizeof(digest)) == 0)
		return true;

	rc = grpc_call_send_message(stream->call, reply->data, reply->len);
	if (rc == WD_ETOOBIG) {
		stream_end(stream, GRPC_STATUS_RESOURCE_EXHAUSTED,
			"client does not read its replies, or the reply is over the size limit");
		return false;
	}
	if (rc < 0) {
		stream_end(stream, GRPC_STATUS_UNAVAILABLE, "stream closed");
		return false;
	}
	memcpy(stream->digest, digest, sizeof(digest));
	return true;
}

/* Re-attests the caller and sends its new reply when it changed; ends the
 * stream when the caller lost its identity or attestation failed. */
static void stream_refresh(struct wapi_stream *stream)
{
	struct workload_api *api = stream->api;
	struct agent_selector_set *selectors = NULL;
	struct wapi_reply reply = { 0 };

	if (!grpc_call_is_open(stream->call)) {
		stream_unlink(stream);
		stream_free(stream);
		return;
	}
	if (wapi_reattest(api, &stream->peer, stream->has_process ? &stream->process : NULL,
		    &selectors, &reply))
		stream->build(api, selectors, &reply);
	agent_selector_set_free(selectors);

	if (reply.status != GRPC_STATUS_OK) {
		log_call_failure(api, &stream->peer, stream->method, &reply);
		stream_end(stream, reply.status, reply.message);
	} else {
		(void)stream_send(stream, &reply, false);
	}
	wapi_reply_clear(&reply);
}

static void on_cache_change(struct agent_cache *cache WD_UNUSED, void *arg)
{
	struct workload_api *api = arg;
	struct wapi_stream *stream = api->streams;

	while (stream) {
		struct wapi_stream *next = stream->next;

		stream_refresh(stream);
		stream = next;
	}
}

int wapi_stream_start(struct workload_api *api, struct grpc_call *call, const char *method,
	wapi_build_fn build)
{
	struct agent_selector_set *selectors = NULL;
	struct wapi_stream *stream = NULL;
	struct wapi_reply reply = { 0 };
	struct attest_peer peer;

	if (!wapi_attest_call(api, call, &peer, &selectors, &reply))
		goto fail;
	if (api->stream_count >= api->max_streams) {
		wapi_reply_fail(&reply, GRPC_STATUS_RESOURCE_EXHAUSTED,
			"too many open Workload API streams (limit %zu)", api->max_streams);
		goto fail;
	}
	build(api, selectors, &reply);
	if (reply.status != GRPC_STATUS_OK)
		goto fail;

	stream = wd_calloc(1, sizeof(*stream));
	if (!stream) {
		wapi_reply_clear(&reply);
		wapi_reply_fail(&reply, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
		goto fail;
	}
	stream->api = api;
	stream->call = grpc_call_ref(call);
	stream->method = method;
	stream->build = build;
	stream->peer = peer;
	stream->has_process = grpc_call_peer_process(call, &stream->process) == 0;
	stream->next = api->streams;
	if (api->streams)
		api->streams->prev = stream;
	api->streams = stream;
	api->stream_count++;
	grpc_call_set_close_cb(call, on_stream_close, stream);

	/* The first message goes out without delay, as the standard requires. */
	(void)stream_send(stream, &reply, true);
	wapi_reply_clear(&reply);
	agent_selector_set_free(selectors);
	return 0;

fail:
	log_call_failure(api, &peer, method, &reply);
	wapi_finish(call, reply.status, reply.message);
	wapi_reply_clear(&reply);
	agent_selector_set_free(selectors);
	return 0;
}

/* --- The service --- */

int workload_api_new(struct event_base *base, struct agent_cache *cache,
	const struct workload_api_options *opts, struct workload_api **ret_api,
	struct wd_error *err)
{
	struct workload_api *api;

	*ret_api = NULL;
	api = wd_calloc(1, sizeof(*api));
	if (!api)
		return wd_error_set(err, WD_ENOMEM, "out of memory creating the workload API");
	api->attest_cache = attest_cache_new(0);
	if (!api->attest_cache) {
		free(api);
		return wd_error_set(err, WD_ENOMEM, "out of memory creating the workload API");
	}
	api->base = base;
	api->cache = cache;
	api->max_streams = WORKLOAD_API_DEFAULT_MAX_STREAMS;
	api->max_jwt_jobs = WORKLOAD_API_DEFAULT_MAX_JWT_JOBS;
	if (opts && opts->attest) {
		api->attest = *opts->attest;
		api->has_attest = true;
	}
	if (opts && opts->max_streams)
		api->max_streams = opts->max_streams;
	if (opts && opts->max_jwt_jobs)
		api->max_jwt_jobs = opts->max_jwt_jobs;

	agent_cache_set_change_cb(cache, on_cache_change, api);
	*ret_api = api;
	return 0;
}

void workload_api_set_log(struct workload_api *api, agent_log_fn fn, void *arg)
{
	api->log_fn = fn;
	api->log_arg = arg;
}

int workload_api_register(struct workload_api *api, struct grpc_server *server,
	struct wd_error *err)
{
	const struct grpc_method methods[] = {
		{ "/SpiffeWorkloadAPI/FetchX509SVID", GRPC_SERVER_STREAMING, wapi_fetch_x509_svid,
			api },
		{ "/SpiffeWorkloadAPI/FetchX509Bundles", GRPC_SERVER_STREAMING,
			wapi_fetch_x509_bundles, api },
		{ "/SpiffeWorkloadAPI/FetchJWTSVID", GRPC_UNARY, wapi_fetch_jwt_svid, api },
		{ "/SpiffeWorkloadAPI/FetchJWTBundles", GRPC_SERVER_STREAMING,
			wapi_fetch_jwt_bundles, api },
		{ "/SpiffeWorkloadAPI/ValidateJWTSVID", GRPC_UNARY, wapi_validate_jwt_svid, api },
	};

	return grpc_server_add_methods(server, methods, WD_ARRAY_LEN(methods), err);
}

size_t workload_api_stream_count(const struct workload_api *api)
{
	return api->stream_count;
}

void workload_api_close_streams(struct workload_api *api, const char *message)
{
	while (api->streams)
		stream_end(api->streams, GRPC_STATUS_UNAVAILABLE,
			message ? message : "workload API is shutting down");
}

void workload_api_free(struct workload_api *api)
{
	if (!api)
		return;
	agent_cache_set_change_cb(api->cache, NULL, NULL);
	wapi_jobs_free(api);
	while (api->streams) {
		struct wapi_stream *stream = api->streams;

		stream_unlink(stream);
		stream_free(stream);
	}
	attest_cache_free(api->attest_cache);
	free(api);
}
