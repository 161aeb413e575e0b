/* Admin routes for the signatures that admit binaries of entries with
 * require_signed: register (verified against the admission trust before it
 * is stored), list and delete. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/time.h"
#include "net/net_json.h"
#include "server/admission.h"
#include "server/server_internal.h"

static int reply_signature(struct net_request *req, int status,
	const struct admission_signature *signature, struct wd_error *err)
{
	json_t *object = NULL;
	int rc;

	if (admission_signature_to_json(signature, &object) < 0)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	rc = net_reply_json(req, status, object);
	json_decref(object);
	return rc;
}

/* Reads "bundle": the bundle or envelope as JSON text, or as the JSON
 * object itself, which is stored as compact text. *ret_owned is set when
 * the text had to be encoded. */
static int read_content(json_t *body, const char **ret_text, size_t *ret_len, char **ret_owned,
	struct wd_error *err)
{
	json_t *value = json_object_get(body, "bundle");

	*ret_text = NULL;
	*ret_len = 0;
	*ret_owned = NULL;
	if (json_is_string(value)) {
		*ret_text = json_string_value(value);
		*ret_len = json_string_length(value);
		return 0;
	}
	if (json_is_object(value)) {
		*ret_owned = json_dumps(value, JSON_COMPACT);
		if (!*ret_owned)
			return wd_error_set(err, WD_ENOMEM, "out of memory");
		*ret_text = *ret_owned;
		*ret_len = strlen(*ret_owned);
		return 0;
	}
	if (!value)
		return wd_error_set(err, WD_EINVAL, "missing \"bundle\": expected a Sigstore bundle "
			"or DSSE envelope");
	return wd_error_set(err, WD_EINVAL, "invalid \"bundle\": expected a JSON object or its "
		"text");
}

int handle_signature_add(struct net_request *req, void *arg, struct wd_error *err)
{
	static const char *const fields[] = { "digest", "bundle" };
	struct server_ctx *ctx = arg;
	struct admission_signature *signature = NULL;
	struct admission_verdict verdict;
	struct caller caller = { 0 };
	struct wd_error reason;
	uint8_t digest[SUPPLY_DIGEST_LEN];
	const char *digest_text = NULL;
	const char *content = NULL;
	char *owned = NULL;
	size_t len = 0;
	json_t *body = NULL;
	char detail[ADMISSION_SIGNER_MAX + 128];
	int rc;

	WD_GUARD(caller_require_admin(ctx, req, &caller, err));
	WD_GUARD(server_parse_body(req, fields, WD_ARRAY_LEN(fields), &body, err));
	WD_GUARD(net_json_get_string(body, "digest", true, 80, &digest_text, err));
	WD_GUARD(admission_digest_parse("digest", digest_text, digest, err));
	WD_GUARD(read_content(body, &content, &len, &owned, err));
	if (len > ADMISSION_MAX_CONTENT_BYTES) {
		rc = wd_error_set(err, WD_ETOOBIG, "invalid \"bundle\": %zu bytes, more than the "
			"maximum %u", len, ADMISSION_MAX_CONTENT_BYTES);
		goto out;
	}

	wd_error_clear(&reason);
	rc = admission_verify(ctx->admission, ctx->authority, digest, content, len, wd_now(),
		&verdict, &reason);
	if (rc < 0) {
		rc = wd_error_set(err, rc, "signature rejected: %s", wd_error_text(&reason));
		goto out;
	}
	WD_GUARD(admission_signature_add(ctx->admission, digest, content, len, &verdict, wd_now(),
		&signature, err));

	snprintf(detail, sizeof(detail), "id=%s kind=%s signer=%s", signature->id,
		signature->kind, signature->signer);
	server_audit(ctx, caller.actor, "signature.add", digest_text, "success", detail);
	log_info("server", "signature registered", "id", signature->id, "digest", digest_text,
		"signer", signature->signer, "actor", caller.actor);
	rc = reply_signature(req, 201, signature, err);
out:
	if (rc < 0 && caller.actor[0])
		server_audit_failure(ctx, caller.actor, "signature.add",
			digest_text ? digest_text : "", err);
	admission_signature_free(signature);
	free(owned);
	json_decref(body);
	return rc;
}

int handle_signature_list(struct net_request *req, void *arg, struct wd_error *err)
{
	struct server_ctx *ctx = arg;
	struct admission_signature_list *list = NULL;
	struct caller caller;
	const char *digest_text;
	uint8_t digest[SUPPLY_DIGEST_LEN];
	json_t *items = NULL;
	json_t *reply = NULL;
	int rc;

	WD_GUARD(caller_require_admin(ctx, req, &caller, err));
	digest_text = net_request_query(req, "digest");
	if (digest_text)
		WD_GUARD(admission_digest_parse("digest", digest_text, digest, err));
	/* TODO: page the list as GET /v1/entries does; without a digest it returns
	 * every registered signature in one reply. */
	WD_GUARD(admission_signature_list(ctx->admission, digest_text ? digest : NULL, false, &list,
		err));

	items = json_array();
	WD_ENSURE(items, WD_ENOMEM);
	for (size_t i = 0; i < list->count; i++) {
		json_t *item = NULL;

		WD_ENSURE(admission_signature_to_json(list->items[i], &item) == 0, WD_ENOMEM);
		WD_ENSURE(json_array_append_new(items, item) == 0, WD_ENOMEM);
	}
	reply = json_pack("{s:O}", "signatures", items);
	WD_ENSURE(reply, WD_ENOMEM);
	rc = net_reply_json(req, 200, reply);
out:
	json_decref(reply);
	json_decref(items);
	admission_signature_list_free(list);
	return rc;
}

/* Deleting a signature withdraws it at once: the next issuance of an entry
 * whose binary it admitted needs another. SVIDs already issued stay valid
 * until they expire or are revoked. */
int handle_signature_delete(struct net_request *req, void *arg, struct wd_error *err)
{
	struct server_ctx *ctx = arg;
	struct admission_signature *signature = NULL;
	struct caller caller = { 0 };
	const char *id = net_request_param(req, "id");
	char object[sizeof("sha256:") + 2 * SUPPLY_DIGEST_LEN];
	int rc;

	WD_GUARD(caller_require_admin(ctx, req, &caller, err));
	WD_GUARD(admission_signature_delete(ctx->admission, id, &signature, err));

	snprintf(object, sizeof(object), "sha256:%s", signature->digest_hex);
	server_audit(ctx, caller.actor, "signature.delete", object, "success", signature->id);
	log_info("server", "signature deleted", "id", signature->id, "digest", object, "actor",
		caller.actor);
	rc = reply_signature(req, 200, signature, err);
out:
	if (rc < 0 && caller.actor[0])
		server_audit_failure(ctx, caller.actor, "signature.delete", id ? id : "", err);
	admission_signature_free(signature);
	return rc;
}
