/* FetchJWTSVID, FetchJWTBundles and ValidateJWTSVID: the JWT profile of
 * the Workload API. FetchJWTSVID may wait for the server, so it runs on a
 * worker thread and finishes the call on the loop. */
#include <pthread.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "agent/selectors.h"
#include "agent/workload_api_internal.h"
#include "agent/workload_pb.h"
#include "common/alloc.h"
#include "common/encoding.h"
#include "common/time.h"
#include "crypto/jwk.h"
#include "identity/jwtsvid.h"
#include "identity/spiffe_id.h"

/* One FetchJWTSVID call waiting for agent_cache_jwt on its own thread. The
 * thread writes only reply, then activates done; everything else belongs
 * to the loop thread. */
struct wapi_job {
	struct workload_api *api;
	struct grpc_call *call;        /* our reference */
	pthread_t thread;
	struct event *done;
	struct agent_selector_set *selectors;
	char *spiffe_id;               /* NULL: every identity of the caller */
	char **audiences;
	size_t audience_count;
	struct attest_peer peer;
	struct wapi_reply reply;
	struct wapi_job *prev;
	struct wapi_job *next;
};

/* --- FetchJWTBundles --- */

static void build_jwt_bundles(struct workload_api *api,
	const struct agent_selector_set *selectors, struct wapi_reply *reply)
{
	struct workload_pb_bundle_entry entry = { 0 };
	struct agent_svid_list *list = NULL;
	struct agent_bundle *bundle = NULL;
	struct wd_error err = { 0 };
	char td_id[320];
	int rc;

	list = wapi_match(api, selectors, reply);
	if (!list)
		goto out;
	bundle = wapi_bundle(api, reply);
	if (!bundle)
		goto out;

	wapi_trust_domain_id(bundle, td_id, sizeof(td_id));
	entry.trust_domain_id = td_id;
	entry.data = (const uint8_t *)bundle->jwks_json;
	entry.len = strlen(bundle->jwks_json);
	rc = workload_pb_pack_jwt_bundles_response(&entry, 1, &reply->data, &reply->len, &err);
	if (rc < 0) {
		wapi_reply_from_error(reply, rc, &err);
		goto out;
	}
	reply->status = GRPC_STATUS_OK;
out:
	agent_bundle_free(bundle);
	agent_svid_list_free(list);
}

int wapi_fetch_jwt_bundles(struct grpc_call *call, void *arg, struct wd_error *err WD_UNUSED)
{
	struct wapi_reply reply = { 0 };
	JWTBundlesRequest *request = NULL;
	struct wd_error decode_err = { 0 };
	const uint8_t *data;
	size_t len;
	int rc;

	if (!wapi_check_header(call, &reply))
		return wapi_finish_unary(arg, call, &reply);
	data = grpc_call_request(call, &len);
	rc = workload_pb_unpack_jwt_bundles_request(data, len, 0, &request, &decode_err);
	if (rc < 0) {
		wapi_reply_fail(&reply, grpc_status_from_error(rc), "%s",
			wd_error_text(&decode_err));
		return wapi_finish_unary(arg, call, &reply);
	}
	jwtbundles_request__free_unpacked(request, NULL);
	return wapi_stream_start(arg, call, "FetchJWTBundles", build_jwt_bundles);
}

/* --- FetchJWTSVID --- */

static void job_free(struct wapi_job *job)
{
	if (!job)
		return;
	if (job->done)
		event_free(job->done);
	grpc_call_unref(job->call);
	agent_selector_set_free(job->selectors);
	free(job->spiffe_id);
	for (size_t i = 0; i < job->audience_count; i++)
		free(job->audiences[i]);
	free(job->audiences);
	wapi_reply_clear(&job->reply);
	free(job);
}

static void job_unlink(struct wapi_job *job)
{
	struct workload_api *api = job->api;

	if (job->prev)
		job->prev->next = job->next;
	else
		api->jobs = job->next;
	if (job->next)
		job->next->prev = job->prev;
	api->job_count--;
}

/* Worker thread: mints or reuses the JWT-SVIDs and packs the reply. */
static void *job_run(void *arg)
{
	struct wapi_job *job = arg;
	struct agent_jwt_svid_list *list = NULL;
	struct workload_pb_jwt_svid *svids = NULL;
	struct wd_error err = { 0 };
	int rc;

	rc = agent_cache_jwt(job->api->cache, job->selectors, job->spiffe_id,
		(const char *const *)job->audiences, job->audience_count, &list, &err);
	if (rc == WD_ENOTFOUND) {
		wapi_reply_fail(&job->reply, GRPC_STATUS_PERMISSION_DENIED, WAPI_MSG_NO_IDENTITY);
		goto out;
	}
	if (rc < 0) {
		wapi_reply_from_error(&job->reply, rc, &err);
		goto out;
	}

	svids = wd_calloc(list->count ? list->count : 1, sizeof(*svids));
	if (!svids) {
		wapi_reply_fail(&job->reply, GRPC_STATUS_INTERNAL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < list->count; i++) {
		svids[i].spiffe_id = list->items[i].spiffe_id;
		svids[i].token = list->items[i].token;
		svids[i].hint = list->items[i].hint;
	}
	rc = workload_pb_pack_jwt_svid_response(svids, list->count, &job->reply.data,
		&job->reply.len, &err);
	if (rc < 0) {
		wapi_reply_from_error(&job->reply, rc, &err);
		goto out;
	}
	job->reply.secret = true;
	job->reply.status = GRPC_STATUS_OK;
out:
	free(svids);
	agent_jwt_svid_list_free(list);
	event_active(job->done, 0, 0);
	return NULL;
}

/* Loop thread: the worker is done, so reply to the caller if it is still there. */
static void job_done(evutil_socket_t fd WD_UNUSED, short what WD_UNUSED, void *arg)
{
	struct wapi_job *job = arg;
	struct workload_api *api = job->api;

	(void)pthread_join(job->thread, NULL);
	job_unlink(job);
	if (job->reply.status != GRPC_STATUS_OK) {
		char pid[24];

		snprintf(pid, sizeof(pid), "%ld", (long)job->peer.pid);
		wapi_log(api, job->reply.status == GRPC_STATUS_PERMISSION_DENIED ? LOG_LEVEL_DEBUG :
			LOG_LEVEL_WARN, "jwt-svid request failed", "status",
			grpc_status_name(job->reply.status), "error", job->reply.message, "pid", pid,
			NULL);
	}
	if (grpc_call_is_open(job->call))
		(void)wapi_finish_unary(api, job->call, &job->reply);
	job_free(job);
}

static bool caller_has_id(const struct agent_svid_list *list, const char *spiffe_id)
{
	for (size_t i = 0; i < list->count; i++) {
		if (strcmp(list->items[i].spiffe_id, spiffe_id) == 0)
			return true;
	}
	return false;
}

/* Copies the request into a new job; NULL after setting reply. */
static struct wapi_job *job_new(struct workload_api *api, struct grpc_call *call,
	const JWTSVIDRequest *request, struct wapi_reply *reply)
{
	struct wapi_job *job = wd_calloc(1, sizeof(*job));

	if (!job)
		goto oom;
	job->api = api;
	job->call = grpc_call_ref(call);
	job->done = event_new(api->base, -1, 0, job_done, job);
	job->audiences = wd_calloc(request->n_audience, sizeof(*job->audiences));
	if (!job->done || !job->audiences)
		goto oom;
	for (size_t i = 0; i < request->n_audience; i++) {
		job->audiences[i] = wd_strdup(request->audience[i]);
		if (!job->audiences[i])
			goto oom;
		job->audience_count++;
	}
	if (request->spiffe_id && request->spiffe_id[0]) {
		job->spiffe_id = wd_strdup(request->spiffe_id);
		if (!job->spiffe_id)
			goto oom;
	}
	return job;
oom:
	job_free(job);
	wapi_reply_fail(reply, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
	return NULL;
}

int wapi_fetch_jwt_svid(struct grpc_call *call, void *arg, struct wd_error *err WD_UNUSED)
{
	struct workload_api *api = arg;
	struct agent_selector_set *selectors = NULL;
	struct agent_svid_list *list = NULL;
	struct wapi_reply reply = { 0 };
	JWTSVIDRequest *request = NULL;
	struct wapi_job *job = NULL;
	struct wd_error decode_err = { 0 };
	struct attest_peer peer = { 0 };
	const uint8_t *data;
	size_t len;
	int rc;

	if (!wapi_attest_call(api, call, &peer, &selectors, &reply))
		goto out;
	data = grpc_call_request(call, &len);
	rc = workload_pb_unpack_jwt_svid_request(data, len, 0, &request, &decode_err);
	if (rc == WD_EINVAL && strstr(wd_error_text(&decode_err), "missing audience")) {
		/* SPIRE's wording, which clients may match on. */
		wapi_reply_fail(&reply, GRPC_STATUS_INVALID_ARGUMENT, "audience must be specified");
		goto out;
	}
	if (rc < 0) {
		wapi_reply_fail(&reply, grpc_status_from_error(rc), "%s", wd_error_text(&decode_err));
		goto out;
	}

	list = wapi_match(api, selectors, &reply);
	if (!list)
		goto out;
	if (request->spiffe_id && request->spiffe_id[0] && !caller_has_id(list, request->spiffe_id)) {
		wapi_reply_fail(&reply, GRPC_STATUS_PERMISSION_DENIED, WAPI_MSG_NO_IDENTITY);
		goto out;
	}
	if (api->job_count >= api->max_jwt_jobs) {
		wapi_reply_fail(&reply, GRPC_STATUS_UNAVAILABLE,
			"too many JWT-SVID requests in progress (limit %zu); retry", api->max_jwt_jobs);
		goto out;
	}

	job = job_new(api, call, request, &reply);
	if (!job)
		goto out;
	job->selectors = WD_TAKE_PTR(selectors);
	job->peer = peer;
	if (pthread_create(&job->thread, NULL, job_run, job) != 0) {
		job_free(job);
		wapi_reply_fail(&reply, GRPC_STATUS_UNAVAILABLE, "cannot start a worker thread");
		goto out;
	}
	job->next = api->jobs;
	if (api->jobs)
		api->jobs->prev = job;
	api->jobs = job;
	api->job_count++;
	reply.status = -1;  /* the job answers */
out:
	if (request)
		jwtsvidrequest__free_unpacked(request, NULL);
	agent_svid_list_free(list);
	agent_selector_set_free(selectors);
	if (reply.status >= 0)
		(void)wapi_finish_unary(api, call, &reply);
	wapi_reply_clear(&reply);
	return 0;
}

void wapi_jobs_free(struct workload_api *api)
{
	while (api->jobs) {
		struct wapi_job *job = api->jobs;

		(void)pthread_join(job->thread, NULL);
		job_unlink(job);
		job_free(job);
	}
}

/* --- ValidateJWTSVID --- */

/* The JWT authorities of a JWK Set, with kids pointing into jwks. */
struct authority_set {
	json_t *jwks;
	struct jwt_authority *items;
	size_t count;
};

static void authority_set_clear(struct authority_set *set)
{
	for (size_t i = 0; i < set->count; i++)
		EVP_PKEY_free(set->items[i].key);
	free(set->items);
	json_decref(set->jwks);
	memset(set, 0, sizeof(*set));
}

/* Parses the cached JWK Set; keys without a kid or of an unsupported type
 * are skipped, as a SPIFFE bundle consumer must. */
static int authority_set_load(const char *jwks_json, struct authority_set *set,
	struct wd_error *err)
{
	json_error_t jerr;
	json_t *keys;
	json_t *jwk;
	size_t i;

	memset(set, 0, sizeof(*set));
	set->jwks = json_loads(jwks_json, JSON_REJECT_DUPLICATES, &jerr);
	keys = json_object_get(set->jwks, "keys");
	if (!json_is_array(keys))
		return wd_error_set(err, WD_EINTERNAL, "cached JWT bundle is not a JWK Set");
	set->items = wd_calloc(json_array_size(keys) ? json_array_size(keys) : 1,
		sizeof(*set->items));
	if (!set->items)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	json_array_foreach(keys, i, jwk) {
		const char *kid = json_string_value(json_object_get(jwk, "kid"));
		EVP_PKEY *key = NULL;

		if (!kid || crypto_jwk_to_key(jwk, &key, NULL) < 0)
			continue;
		set->items[set->count].kid = kid;
		set->items[set->count].key = key;
		set->count++;
	}
	return 0;
}

/* Decodes the claims of a token whose signature was verified. */
static int claims_of(const char *token, json_t **ret_claims, struct wd_error *err)
{
	const char *first = strchr(token, '.');
	const char *second = first ? strchr(first + 1, '.') : NULL;
	uint8_t *payload = NULL;
	size_t len = 0;
	json_error_t jerr;
	json_t *claims;

	*ret_claims = NULL;
	if (!second || wd_base64url_decode(first + 1, (size_t)(second - first - 1), &payload,
		&len) < 0)
		return wd_error_set(err, WD_EINVAL, "token payload is not base64url");
	claims = json_loadb((const char *)payload, len, JSON_REJECT_DUPLICATES, &jerr);
	free(payload);
	if (!json_is_object(claims)) {
		json_decref(claims);
		return wd_error_set(err, WD_EINVAL, "token payload is not a JSON object");
	}
	*ret_claims = claims;
	return 0;
}

/* Verifies the request's token for its audience; fills reply. */
static void validate(struct workload_api *api, const ValidateJWTSVIDRequest *request,
	struct wapi_reply *reply)
{
	struct authority_set authorities = { 0 };
	struct jwtsvid_verified verified;
	struct agent_bundle *bundle = NULL;
	struct wd_error err = { 0 };
	char spiffe_id[SPIFFE_ID_MAX_LEN + 1];
	json_t *claims = NULL;
	int rc;

	bundle = wapi_bundle(api, reply);
	if (!bundle)
		goto out;
	rc = authority_set_load(bundle->jwks_json, &authorities, &err);
	if (rc < 0) {
		wapi_reply_from_error(reply, rc, &err);
		goto out;
	}

	rc = jwtsvid_verify(request->svid, strlen(request->svid), authorities.items,
		authorities.count, request->audience, wd_now(), &verified, &err);
	if (rc < 0) {
		wapi_reply_fail(reply, GRPC_STATUS_INVALID_ARGUMENT, "%s", wd_error_text(&err));
		goto out;
	}
	if (spiffe_id_format(&verified.subject, spiffe_id, sizeof(spiffe_id)) < 0 ||
		claims_of(request->svid, &claims, &err) < 0) {
		wapi_reply_fail(reply, GRPC_STATUS_INVALID_ARGUMENT, "%s", wd_error_text(&err));
		goto out;
	}

	rc = workload_pb_pack_validate_jwt_svid_response(spiffe_id, claims, &reply->data,
		&reply->len, &err);
	if (rc < 0) {
		wapi_reply_fail(reply, GRPC_STATUS_INVALID_ARGUMENT, "%s", wd_error_text(&err));
		goto out;
	}
	reply->status = GRPC_STATUS_OK;
out:
	json_decref(claims);
	authority_set_clear(&authorities);
	agent_bundle_free(bundle);
}

int wapi_validate_jwt_svid(struct grpc_call *call, void *arg, struct wd_error *err WD_UNUSED)
{
	struct workload_api *api = arg;
	struct agent_selector_set *selectors = NULL;
	struct agent_svid_list *list = NULL;
	struct wapi_reply reply = { 0 };
	ValidateJWTSVIDRequest *request = NULL;
	struct wd_error decode_err = { 0 };
	struct attest_peer peer = { 0 };
	const uint8_t *data;
	size_t len;
	int rc;

	if (!wapi_attest_call(api, call, &peer, &selectors, &reply))
		goto out;
	data = grpc_call_request(call, &len);
	rc = workload_pb_unpack_validate_jwt_svid_request(data, len, 0, &request, &decode_err);
	if (rc < 0) {
		wapi_reply_fail(&reply, grpc_status_from_error(rc), "%s", wd_error_text(&decode_err));
		goto out;
	}
	/* As in SPIRE, only a caller with an identity may validate tokens. */
	list = wapi_match(api, selectors, &reply);
	if (!list)
		goto out;
	validate(api, request, &reply);
out:
	if (reply.status != GRPC_STATUS_OK) {
		char pid[24];

		snprintf(pid, sizeof(pid), "%ld", (long)peer.pid);
		wapi_log(api, LOG_LEVEL_DEBUG, "jwt-svid validation failed", "status",
			grpc_status_name(reply.status), "error", reply.message, "pid", pid, NULL);
	}
	(void)wapi_finish_unary(api, call, &reply);
	if (request)
		validate_jwtsvidrequest__free_unpacked(request, NULL);
	agent_svid_list_free(list);
	agent_selector_set_free(selectors);
	wapi_reply_clear(&reply);
	return 0;
}
