/* Admin routes for registration entries. Deleting an entry revokes the
 * SVIDs issued under it that have not expired. */
#include <stdlib.h>
#include <string.h>

#include "common/time.h"
#include "net/net_json.h"
#include "server/admission.h"
#include "server/server_internal.h"

static int reply_entry(struct net_request *req, int status, const struct registry_entry *entry,
	struct wd_error *err)
{
	json_t *object = NULL;
	int rc;

	WD_TRY(registry_entry_to_json(entry, &object, err));
	rc = net_reply_json(req, status, object);
	json_decref(object);
	return rc;
}

/* Reads an entry from the body; partial for updates. An entry can require
 * signed binaries only when the server trusts a signer, or no SVID could
 * ever be issued for it. */
static int read_entry_input(struct server_ctx *ctx, struct net_request *req, bool partial,
	struct registry_entry_input **ret_input, struct wd_error *err)
{
	const uint8_t *body;
	size_t len = 0;
	json_t *object = NULL;
	int rc;

	body = net_request_body(req, &len);
	if (!body || len == 0)
		return wd_error_set(err, WD_EINVAL, "missing request body: expected an entry as JSON");
	WD_TRY(net_json_parse_object(body, len, 0, &object, err));
	rc = registry_entry_from_json(object, partial, ret_input, err);
	json_decref(object);
	WD_TRY(rc);

	if (((*ret_input)->fields & REGISTRY_FIELD_REQUIRE_SIGNED) && (*ret_input)->require_signed &&
	    !admission_has_trust(ctx->admission)) {
		registry_entry_input_free(*ret_input);
		*ret_input = NULL;
		return wd_error_set(err, WD_EINVAL, "invalid \"require_signed\": the server trusts "
			"no signer; set admission.trusted_keys or admission.trusted_spiffe_ids in its "
			"configuration first");
	}
	return 0;
}

int handle_entry_create(struct net_request *req, void *arg, struct wd_error *err)
{
	struct server_ctx *ctx = arg;
	struct registry_entry_input *input = NULL;
	struct registry_entry *entry = NULL;
	struct caller caller = { 0 };
	int rc;

	WD_GUARD(caller_require_admin(ctx, req, &caller, err));
	WD_GUARD(read_entry_input(ctx, req, false, &input, err));
	WD_GUARD(registry_entry_create(ctx->registry, input, wd_now(), &entry, err));

	server_audit(ctx, caller.actor, "entry.create", entry->spiffe_id, "success", entry->id);
	rc = reply_entry(req, 201, entry, err);
out:
	if (rc < 0 && caller.actor[0])
		server_audit_failure(ctx, caller.actor, "entry.create",
			input && input->spiffe_id ? input->spiffe_id : "", err);
	registry_entry_free(entry);
	registry_entry_input_free(input);
	return rc;
}

int handle_entry_list(struct net_request *req, void *arg, struct wd_error *err)
{
	struct server_ctx *ctx = arg;
	struct registry_entry_list *list = NULL;
	struct registry_entry_filter filter = { 0 };
	struct caller caller;
	const char *limit_text;
	json_t *entries = NULL;
	json_t *reply = NULL;
	int rc;

	WD_GUARD(caller_require_admin(ctx, req, &caller, err));

	filter.spiffe_id = net_request_query(req, "spiffe_id");
	filter.parent_id = net_request_query(req, "parent_id");
	filter.selector = net_request_query(req, "selector");
	filter.page_token = net_request_query(req, "page_token");
	limit_text = net_request_query(req, "limit");
	if (limit_text) {
		char *end = NULL;
		unsigned long limit = strtoul(limit_text, &end, 10);

		if (!limit_text[0] || *end || limit == 0 || limit > REGISTRY_LIST_MAX_LIMIT) {
			rc = wd_error_set(err, WD_EINVAL, "invalid limit '%s': expected 1 to %d",
				limit_text, REGISTRY_LIST_MAX_LIMIT);
			goto out;
		}
		filter.limit = limit;
	}
	WD_GUARD(registry_entry_list(ctx->registry, &filter, &list, err));

	entries = json_array();
	WD_ENSURE(entries, WD_ENOMEM);
	for (size_t i = 0; i < list->count; i++) {
		json_t *entry = NULL;

		WD_GUARD(registry_entry_to_json(list->entries[i], &entry, err));
		WD_ENSURE(json_array_append_new(entries, entry) == 0, WD_ENOMEM);
	}
	reply = json_pack("{s:O, s:s}", "entries", entries, "next_page_token",
		list->next_page_token);
	WD_ENSURE(reply, WD_ENOMEM);
	rc = net_reply_json(req, 200, reply);
out:
	json_decref(reply);
	json_decref(entries);
	registry_entry_list_free(list);
	return rc;
}

int handle_entry_show(struct net_request *req, void *arg, struct wd_error *err)
{
	struct server_ctx *ctx = arg;
	struct registry_entry *entry = NULL;
	struct caller caller;
	int rc;

	WD_TRY(caller_require_admin(ctx, req, &caller, err));
	WD_TRY(registry_entry_get(ctx->registry, net_request_param(req, "id"), &entry, err));
	rc = reply_entry(req, 200, entry, err);
	registry_entry_free(entry);
	return rc;
}

int handle_entry_update(struct net_request *req, void *arg, struct wd_error *err)
{
	struct server_ctx *ctx = arg;
	struct registry_entry_input *input = NULL;
	struct registry_entry *entry = NULL;
	struct caller caller = { 0 };
	const char *id = net_request_param(req, "id");
	int rc;

	WD_GUARD(caller_require_admin(ctx, req, &caller, err));
	WD_GUARD(read_entry_input(ctx, req, true, &input, err));
	WD_GUARD(registry_entry_update(ctx->registry, id, input, wd_now(), &entry, err));

	server_audit(ctx, caller.actor, "entry.update", entry->spiffe_id, "success", entry->id);
	rc = reply_entry(req, 200, entry, err);
out:
	if (rc < 0 && caller.actor[0])
		server_audit_failure(ctx, caller.actor, "entry.update", id, err);
	registry_entry_free(entry);
	registry_entry_input_free(input);
	return rc;
}

int handle_entry_delete(struct net_request *req, void *arg, struct wd_error *err)
{
	struct server_ctx *ctx = arg;
	struct registry_entry *entry = NULL;
	struct authority_serial_list revoked = { 0 };
	struct caller caller = { 0 };
	const char *id = net_request_param(req, "id");
	json_t *deleted = NULL;
	json_t *serials = NULL;
	json_t *reply = NULL;
	int rc;

	WD_GUARD(caller_require_admin(ctx, req, &caller, err));
	WD_GUARD(registry_entry_delete(ctx->registry, id, &entry, err));
	server_audit(ctx, caller.actor, "entry.delete", entry->spiffe_id, "success", entry->id);

	WD_GUARD(authority_revoke_entry(ctx->authority, entry->id, "entry deleted", wd_now(), &revoked,
		err));
	server_changes_announce(ctx, "revocation");
	serials = json_array();
	WD_ENSURE(serials, WD_ENOMEM);
	for (size_t i = 0; i < revoked.count; i++) {
		server_audit(ctx, caller.actor, "svid.revoke", entry->spiffe_id, "success",
			revoked.serials[i]);
		WD_ENSURE(json_array_append_new(serials, json_string(revoked.serials[i])) == 0,
			WD_ENOMEM);
	}

	WD_GUARD(registry_entry_to_json(entry, &deleted, err));
	reply = json_pack("{s:O, s:O}", "deleted", deleted, "revoked_serials", serials);
	WD_ENSURE(reply, WD_ENOMEM);
	rc = net_reply_json(req, 200, reply);
out:
	if (rc < 0 && caller.actor[0])
		server_audit_failure(ctx, caller.actor, "entry.delete", id, err);
	json_decref(reply);
	json_decref(serials);
	json_decref(deleted);
	authority_serial_list_clear(&revoked);
	registry_entry_free(entry);
	return rc;
}
