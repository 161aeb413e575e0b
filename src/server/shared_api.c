/* Routes any authenticated caller may use: the bundle, the CRLs, health,
 * and (for admins) the CA status. */
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "server/server_internal.h"

int handle_bundle(struct net_request *req, void *arg, struct wd_error *err)
{
	struct server_ctx *ctx = arg;
	const char *format = net_request_query(req, "format");
	struct caller caller;
	char *text = NULL;
	int rc;

	WD_GUARD(caller_identify(ctx, req, &caller, err));

	if (!format || !strcmp(format, "spiffe")) {
		WD_GUARD(authority_bundle_json(ctx->authority, &text, err));
		rc = net_reply_text(req, 200, "application/json", text, strlen(text));
	} else if (!strcmp(format, "pem")) {
		WD_GUARD(authority_bundle_pem(ctx->authority, &text, err));
		rc = net_reply_text(req, 200, "application/x-pem-file", text, strlen(text));
	} else {
		rc = wd_error_set(err, WD_EINVAL, "invalid format '%s': expected pem or spiffe", format);
	}
out:
	free(text);
	return rc;
}

int handle_crl(struct net_request *req, void *arg, struct wd_error *err)
{
	struct server_ctx *ctx = arg;
	const char *format = net_request_query(req, "format");
	struct caller caller;
	char *pem = NULL;
	uint8_t *der = NULL;
	size_t der_len = 0;
	int rc;

	WD_GUARD(caller_identify(ctx, req, &caller, err));

	if (!format || !strcmp(format, "pem")) {
		WD_GUARD(authority_crl_pem(ctx->authority, &pem, err));
		rc = net_reply_text(req, 200, "application/x-pem-file", pem, strlen(pem));
	} else if (!strcmp(format, "der")) {
		WD_GUARD(authority_crl_der_active(ctx->authority, &der, &der_len, err));
		rc = net_reply_text(req, 200, "application/pkix-crl", der, der_len);
	} else {
		rc = wd_error_set(err, WD_EINVAL, "invalid format '%s': expected pem or der", format);
	}
out:
	free(pem);
	free(der);
	return rc;
}

int handle_health(struct net_request *req, void *arg, struct wd_error *err)
{
	struct server_ctx *ctx = arg;
	struct caller caller;
	json_t *reply;
	char *text;
	int rc;

	WD_TRY(caller_identify(ctx, req, &caller, err));
	reply = json_pack("{s:s, s:s, s:I, s:I}", "status", "ok", "trust_domain",
		ctx->config->trust_domain, "bundle_sequence",
		(json_int_t)authority_bundle_sequence(ctx->authority), "datastore_statements",
		(json_int_t)store_statement_count());
	if (!reply)
		return WD_ENOMEM;
	if (server_singleton_json(ctx, reply) < 0) {
		json_decref(reply);
		return WD_ENOMEM;
	}
	/* 15 significant digits print the latencies, which are whole
	 * microseconds in milliseconds, without a binary rounding tail
	 * (jansson's default of 17 prints 0.324 as 0.32400000000000001). */
	text = json_dumps(reply, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
	json_decref(reply);
	if (!text)
		return WD_ENOMEM;
	rc = net_reply_text(req, 200, "application/json", text, strlen(text));
	free(text);
	return rc;
}

int handle_ca(struct net_request *req, void *arg, struct wd_error *err)
{
	struct server_ctx *ctx = arg;
	struct caller caller;
	json_t *status = NULL;
	int rc;

	WD_TRY(caller_require_admin(ctx, req, &caller, err));
	WD_TRY(authority_status_json(ctx->authority, &status, err));
	rc = net_reply_json(req, 200, status);
	json_decref(status);
	return rc;
}
