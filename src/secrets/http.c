/* One HTTP request through the secrets service: decode, check the seal,
 * authenticate, authorize, audit, dispatch, audit the response and reply
 * in Vault's shapes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "secrets/acl.h"
#include "secrets/barrier.h"
#include "secrets/secrets_internal.h"
#include "secrets/token.h"

/* Bytes of a redacted request or response kept in its audit record; a
 * larger one is cut, since the chain caps each field. */
#define AUDIT_DETAIL_MAX (AUDIT_FIELD_MAX - 64)

/* Paths that need sudo besides their capability, as Vault's root-protected
 * paths. */
static bool needs_sudo(const char *path)
{
	static const char *const exact[] = {
		"sys/seal", "sys/leases", "sys/leases/",
	};
	static const char *const prefixes[] = {
		"sys/auth/", "sys/leases/revoke-prefix/", "sys/leases/revoke-force/",
		"sys/leases/lookup/", "sys/revoke-prefix/", "sys/revoke-force/",
	};

	for (size_t i = 0; i < WD_ARRAY_LEN(exact); i++) {
		if (strcmp(path, exact[i]) == 0)
			return true;
	}
	for (size_t i = 0; i < WD_ARRAY_LEN(prefixes); i++) {
		if (strncmp(path, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	}
	return false;
}

static int reply_errors(struct net_request *net, int status, const char *message)
{
	json_t *body = json_pack("{s:[]}", "errors");
	char *text;
	int rc;

	if (body && message && *message)
		json_array_append_new(json_object_get(body, "errors"), json_string(message));
	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!text)
		return net_reply_text(net, 500, "application/json", "{\"errors\":[]}", 13);
	rc = net_reply_text(net, status, "application/json", text, strlen(text));
	free(text);
	return rc;
}

static json_t *envelope(const struct vault_request *req, const struct vault_response *resp)
{
	return json_pack("{s:s, s:s, s:b, s:I, s:O?, s:n, s:O?, s:O?}",
		"request_id", req->request_id,
		"lease_id", resp->lease_id,
		"renewable", resp->renewable,
		"lease_duration", (json_int_t)resp->lease_duration,
		"data", resp->data,
		"wrap_info",
		"warnings", resp->warnings,
		"auth", resp->auth);
}

static int reply(struct net_request *net, const struct vault_request *req,
	const struct vault_response *resp)
{
	json_t *body;
	int status = resp->status;
	int rc;

	if (resp->raw) {
		if (req->op == VAULT_OP_HEAD)
			return net_reply_text(net, status ? status : 200, "application/json", "", 0);
		return net_reply_json(net, status ? status : 200, resp->raw);
	}
	if (!status)
		status = resp->data || resp->auth || resp->warnings ? 200 : 204;
	/* An accepted job (async revoke) has no body; tidy's carries a warning. */
	if (status == 204 || (status == 202 && !resp->data && !resp->warnings))
		return net_reply_text(net, status, "application/json", "", 0);
	body = envelope(req, resp);
	if (!body)
		return reply_errors(net, 500, "out of memory writing the response");
	rc = net_reply_json(net, status, body);
	json_decref(body);
	return rc;
}

static const char *actor_of(const struct vault_request *req)
{
	if (req->token && req->token->display_name)
		return req->token->display_name;
	return req->remote_address[0] ? req->remote_address : "anonymous";
}

/* Appends one record; a request whose record cannot be written fails, as
 * Vault refuses to serve what it cannot audit. */
static int audit_record(struct secrets *secrets, const struct vault_request *req,
	const char *action, const char *outcome, json_t *detail, struct wd_error *err)
{
	struct audit_event event = {
		.actor = actor_of(req),
		.action = action,
		.object = req->path && req->path[0] ? req->path : "-",
		.outcome = outcome,
	};
	char *text = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);
	int rc;

	if (!secrets->audit) {
		free(text);
		return 0;
	}
	if (!text)
		return wd_error_set(err, WD_ENOMEM, "out of memory writing the audit record");
	if (strlen(text) > AUDIT_DETAIL_MAX)
		memcpy(text + AUDIT_DETAIL_MAX - 3, "...", 4);
	event.detail = text;
	/* Deferred: the server flushes once a second, so a request costs no
	 * fdatasync, and a crash of the process loses no record. */
	rc = audit_append_deferred(secrets->audit, &event, err);
	free(text);
	if (rc < 0) {
		log_error("secrets", "audit record not written; refusing the request", "path",
			event.object, "error", wd_error_text(err));
		return wd_error_set(err, WD_EINTERNAL, "failed to audit the request");
	}
	return 0;
}

static int audit_request(struct secrets *secrets, const struct vault_request *req,
	struct wd_error *err)
{
	json_t *detail = json_pack("{s:s, s:s, s:s, s:o}",
		"request_id", req->request_id,
		"operation", vault_op_name(req->op),
		"remote_address", req->remote_address,
		"data", vault_audit_redact(secrets, req->body));
	int rc;

	if (!detail)
		return wd_error_set(err, WD_ENOMEM, "out of memory writing the audit record");
	if (req->token) {
		char hashed[96];

		vault_audit_hash(secrets, req->token->accessor, hashed, sizeof(hashed));
		json_object_set_new(detail, "client_token_accessor", json_string(hashed));
		json_object_set(detail, "policies", req->token->policies);
	}
	rc = audit_record(secrets, req, "vault.request", "received", detail, err);
	json_decref(detail);
	return rc;
}

static int audit_response(struct secrets *secrets, const struct vault_request *req,
	const struct vault_response *resp, int status, const char *error_text,
	struct wd_error *err)
{
	json_t *detail = json_pack("{s:s, s:i}", "request_id", req->request_id, "status", status);
	int rc;

	if (!detail)
		return wd_error_set(err, WD_ENOMEM, "out of memory writing the audit record");
	if (error_text)
		json_object_set_new(detail, "error", json_string(error_text));
	if (resp->lease_id[0])
		json_object_set_new(detail, "lease_id", json_string(resp->lease_id));
	if (resp->data)
		json_object_set_new(detail, "data", vault_audit_redact(secrets, resp->data));
	if (resp->auth)
		json_object_set_new(detail, "auth", vault_audit_redact(secrets, resp->auth));
	if (resp->raw)
		json_object_set_new(detail, "raw", vault_audit_redact(secrets, resp->raw));
	rc = audit_record(secrets, req, "vault.response", status < 400 ? "success" :
		status == 403 ? "denied" : "error", detail, err);
	json_decref(detail);
	return rc;
}

static int read_token(struct net_request *net, struct vault_request *req)
{
	const char *token = net_request_header(net, "X-Vault-Token");
	const char *authorization;

	if (!token || !*token) {
		authorization = net_request_header(net, "Authorization");
		if (authorization && strncmp(authorization, "Bearer ", 7) == 0)
			token = authorization + 7;
	}
	if (!token || !*token)
		return 0;
	req->client_token = strdup(token);
	return req->client_token ? 0 : WD_ENOMEM;
}

/* Authenticates and authorizes req; on success req->token is set unless
 * the path needs no token. */
static int authorize(struct secrets *secrets, struct vault_request *req, struct wd_error *err)
{
	const struct vault_backend *backend = req->mount ? req->mount->backend : NULL;
	bool open_path = backend && backend->unauthenticated &&
		backend->unauthenticated(req->rel, req->op);

	if (open_path)
		return 0;
	if (!req->client_token)
		return wd_error_set(err, WD_EPERM, "permission denied");
	WD_TRY(token_lookup(secrets, req->client_token, &req->token, err));

	if ((req->op == VAULT_OP_UPDATE) && backend && backend->exists) {
		bool exists = true;

		WD_TRY(backend->exists(secrets, req, &exists, err));
		if (!exists)
			req->op = VAULT_OP_CREATE;
	}
	WD_TRY(acl_check_request(secrets, req, needs_sudo(req->path), err));
	if (secrets->rego)
		WD_TRY(acl_rego_check(secrets, req, err));
	return 0;
}

static bool is_merge_patch(const char *content_type)
{
	static const char expected[] = "application/merge-patch+json";

	return content_type && strncasecmp(content_type, expected, sizeof(expected) - 1) == 0 &&
		(content_type[sizeof(expected) - 1] == '\0' ||
		 content_type[sizeof(expected) - 1] == ';');
}

static bool is_seal_path(const char *path)
{
	return strncmp(path, "sys/", 4) == 0 && sys_seal_unauthenticated(path + 4);
}

/* A request in flight, on the heap so that a backend can finish it from
 * the completion of a job (vault_request_defer). */
struct vault_call {
	struct secrets *secrets;
	struct net_request *net;
	struct vault_request req;
	struct vault_response resp;
	struct wd_error err;
	bool deferred;
};

/* Audits the response, replies and frees the call. */
static int call_answer(struct vault_call *call, int rc)
{
	struct vault_request *req = &call->req;
	struct vault_response *resp = &call->resp;
	struct net_request *net = call->net;
	bool deferred = call->deferred;
	int status = rc < 0 ? vault_error_status(rc) : resp->status ? resp->status :
		(resp->data || resp->auth || resp->raw || resp->warnings) ? 200 : 204;
	/* A refusal returns only "permission denied", whatever the cause, and
	 * a missing key returns an empty error list, as in Vault. */
	const char *message = NULL;
	struct wd_error audit_err;

	if (rc < 0)
		message = status == 403 ? "permission denied" : call->err.public_detail ?
			call->err.public_detail : call->err.detail[0] ? call->err.detail :
			status == 404 ? "" : wd_strerror(rc);
	wd_error_clear(&audit_err);
	/* The audit record keeps the reason for a refusal (a Rego rule, an
	 * expired token), which the reply leaves out. */
	if (audit_response(call->secrets, req, resp, status,
		rc < 0 && status == 403 && call->err.detail[0] ? call->err.detail : message,
		&audit_err) < 0 && rc == 0) {
		rc = audit_err.code;
		status = 500;
		message = "failed to audit the response";
	}
	rc = rc < 0 ? reply_errors(net, status, message) : reply(net, req, resp);
	token_free(req->token);
	vault_response_clear(resp);
	vault_request_clear(req);
	free(call);
	if (deferred)
		net_request_finish(net);
	return rc;
}

struct vault_call *vault_request_defer(struct vault_request *req)
{
	struct vault_call *call = req->call;
	struct net_request *kept;

	if (!call || call->deferred)
		return NULL;
	kept = net_request_defer(call->net);
	if (!kept)
		return NULL;
	call->net = kept;
	req->net = kept;
	call->deferred = true;
	return call;
}

struct vault_request *vault_call_request(struct vault_call *call)
{
	return &call->req;
}

struct vault_response *vault_call_response(struct vault_call *call)
{
	return &call->resp;
}

void vault_call_finish(struct vault_call *call, int rc, const struct wd_error *err)
{
	if (rc < 0 && err)
		call->err = *err;
	(void)call_answer(call, rc);
}

static int handle(struct net_request *net, void *arg, struct wd_error *unused)
{
	struct secrets *secrets = arg;
	struct vault_call *call;
	struct vault_request *req;
	const uint8_t *body;
	size_t body_len = 0;
	int rc;

	(void)unused;
	call = calloc(1, sizeof(*call));
	if (!call)
		return reply_errors(net, 500, "out of memory");
	call->secrets = secrets;
	call->net = net;
	req = &call->req;
	wd_error_clear(&call->err);
	body = net_request_body(net, &body_len);
	rc = vault_request_decode(net_request_method(net), net_request_path(net),
		net_request_query(net, "list"), body, body_len,
		net_request_header(net, "Content-Type"), req, &call->err);
	if (rc < 0) {
		rc = reply_errors(net, vault_error_status(rc), wd_error_text(&call->err));
		free(call);
		return rc;
	}
	req->net = net;
	req->call = call;
	if (net_request_peer_address(net, req->remote_address, sizeof(req->remote_address)) < 0)
		snprintf(req->remote_address, sizeof(req->remote_address), "local");
	if (vault_random_uuid(req->request_id) < 0 || read_token(net, req) < 0) {
		vault_request_clear(req);
		free(call);
		return reply_errors(net, 500, "out of memory");
	}

	/* Refused rather than ignored: a client that asked for a wrapped
	 * response must not get the secret in clear. */
	rc = 0;
	if (net_request_header(net, "X-Vault-Wrap-TTL"))
		rc = reply_errors(net, 400, "response wrapping is not supported");
	else if (req->op == VAULT_OP_PATCH &&
		 !is_merge_patch(net_request_header(net, "Content-Type")))
		rc = reply_errors(net, 415, "PATCH requires Content-Type: "
			"application/merge-patch+json");
	else if (barrier_sealed(secrets->barrier) && !is_seal_path(req->path))
		rc = reply_errors(net, 503, "Vault is sealed");
	else
		rc = 1;
	if (rc != 1) {
		vault_request_clear(req);
		free(call);
		return rc;
	}

	/* Sealed: only the seal paths are served, and they need no mount table. */
	if (barrier_sealed(secrets->barrier)) {
		req->rel = req->path + 4;
		rc = audit_request(secrets, req, &call->err);
		if (rc == 0)
			rc = sys_seal_handle(secrets, req, &call->resp, &call->err);
		return call_answer(call, rc);
	}

	req->mount = vault_mount_lookup(secrets, req->path);
	req->rel = req->mount ? req->path + (strlen(req->mount->path) <= strlen(req->path) ?
		strlen(req->mount->path) : strlen(req->path)) : req->path;
	rc = authorize(secrets, req, &call->err);
	if (rc == 0 && !req->mount)
		rc = wd_error_set(&call->err, WD_ENOTFOUND, "no handler for route \"%.128s\". route "
			"entry not found.", req->path);
	/* Refused requests get their request record too, with the token's
	 * accessor when it was found, so the chain shows who was refused. */
	{
		struct wd_error audit_err;

		wd_error_clear(&audit_err);
		if (audit_request(secrets, req, &audit_err) < 0 && rc == 0) {
			rc = audit_err.code;
			call->err = audit_err;
		}
	}
	if (rc == 0)
		rc = req->mount->backend->handle ?
			req->mount->backend->handle(secrets, req, &call->resp, &call->err) :
			wd_error_set(&call->err, WD_EUNSUPPORTED, "unsupported path");

	/* The backend finishes a deferred call itself, with vault_call_finish. */
	if (rc == VAULT_PENDING && call->deferred)
		return 0;
	if (rc == VAULT_PENDING)
		rc = wd_error_set(&call->err, WD_EINTERNAL, "backend left the request pending");
	if (call->deferred) {
		vault_call_finish(call, rc, &call->err);
		return 0;
	}
	return call_answer(call, rc);
}

size_t secrets_build_routes(struct secrets *secrets,
	struct net_route routes[static SECRETS_MAX_ROUTES])
{
	static const char *const methods[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH",
		"LIST" };
	size_t count = 0;

	for (size_t i = 0; i < WD_ARRAY_LEN(methods) && count < SECRETS_MAX_ROUTES; i++) {
		routes[count++] = (struct net_route){
			.method = methods[i],
			.pattern = "/v1/{path...}",
			.handler = handle,
			.arg = secrets,
			.auth = NET_AUTH_NONE,
			.rest_empty_segments = true,
		};
	}
	return count;
}

size_t secrets_build_seal_routes(struct secrets *secrets,
	struct net_route routes[static SECRETS_MAX_SEAL_ROUTES])
{
	/* hvac and warden operator unseal send PUT; Vault also takes POST. */
	static const struct {
		const char *method;
		const char *pattern;
	} seal_routes[SECRETS_MAX_SEAL_ROUTES] = {
		{ "PUT", "/v1/sys/unseal" },
		{ "POST", "/v1/sys/unseal" },
		{ "GET", "/v1/sys/seal-status" },
	};

	for (size_t i = 0; i < SECRETS_MAX_SEAL_ROUTES; i++) {
		routes[i] = (struct net_route){
			.method = seal_routes[i].method,
			.pattern = seal_routes[i].pattern,
			.handler = handle,
			.arg = secrets,
			.auth = NET_AUTH_NONE,
		};
	}
	return SECRETS_MAX_SEAL_ROUTES;
}
