/* POST /v1/sensor/revoke: a runtime sensor requests that the server take
 * away the identity of a process it caught. The server finds the entries of the
 * sensor's own node that the process's selectors match, revokes the
 * X.509-SVIDs issued under them and the secrets tokens their workloads got
 * by logging in with them, and audits each revocation. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/time.h"
#include "net/net_json.h"
#include "server/sensor_internal.h"

static const char *const revoke_fields[] = {
	"pid", "selectors", "rule", "reason", "agent_id",
};

/* The node a sensor runs on: the parent of the registration entry its own
 * X.509-SVID was issued under, which must be a node agent. The entry is
 * looked up by the SVID's serial, so a sensor ID registered on several
 * nodes (one entry per node) still names one node per SVID. */
static int sensor_node(struct server_ctx *ctx, const struct caller *caller,
	char ret_agent_id[static SPIFFE_ID_MAX_LEN + 1], struct wd_error *err)
{
	struct registry_entry *entry = NULL;
	char *entry_id = NULL;
	int rc;

	ret_agent_id[0] = '\0';
	rc = authority_serial_entry(ctx->authority, caller->serial, &entry_id, err);
	if (rc == WD_ENOTFOUND)
		return wd_error_set(err, WD_EPERM, "X.509-SVID serial %s of %s was not issued "
			"through an agent, so it names no node", caller->serial, caller->spiffe_id);
	WD_TRY(rc);
	if (!entry_id)
		return wd_error_set(err, WD_EPERM, "X.509-SVID serial %s of %s was minted without "
			"a registration entry, so it names no node", caller->serial,
			caller->spiffe_id);

	rc = registry_entry_get(ctx->registry, entry_id, &entry, err);
	if (rc == WD_ENOTFOUND)
		rc = wd_error_set(err, WD_EPERM, "the registration entry %s of sensor %s no longer "
			"exists", entry_id, caller->spiffe_id);
	WD_GUARD(rc);
	if (!sensor_is_agent_id(ctx, entry->parent_id)) {
		rc = wd_error_set(err, WD_EPERM, "the registration entry %s of sensor %s has parent "
			"%.300s, not a node agent, so it names no single node", entry->id,
			caller->spiffe_id, entry->parent_id);
		goto out;
	}
	snprintf(ret_agent_id, SPIFFE_ID_MAX_LEN + 1, "%s", entry->parent_id);
	rc = 0;
out:
	registry_entry_free(entry);
	free(entry_id);
	return rc;
}

/* The admin socket names the node itself ("agent_id"); a sensor may name
 * only its own. */
static int resolve_node(struct server_ctx *ctx, const struct caller *caller,
	const char *requested, char ret_agent_id[static SPIFFE_ID_MAX_LEN + 1],
	struct wd_error *err)
{
	struct spiffe_id id;
	char canonical[SPIFFE_ID_MAX_LEN + 1] = "";

	if (requested) {
		WD_TRY(spiffe_id_parse(requested, strlen(requested), &id, err));
		if (!spiffe_id_member_of(&id, ctx->config->trust_domain) ||
		    strncmp(id.path, REGISTRY_AGENT_PATH_PREFIX, strlen(REGISTRY_AGENT_PATH_PREFIX)))
			return wd_error_set(err, WD_EINVAL, "invalid \"agent_id\" \"%.300s\": not a node "
				"agent of trust domain %s", requested, ctx->config->trust_domain);
		WD_TRY(spiffe_id_format(&id, canonical, sizeof(canonical)));
	}
	if (caller->kind == CALLER_ADMIN_SOCKET) {
		if (!canonical[0])
			return wd_error_set(err, WD_EINVAL, "missing \"agent_id\": the admin socket "
				"names the node whose workloads it revokes");
		snprintf(ret_agent_id, SPIFFE_ID_MAX_LEN + 1, "%s", canonical);
		return 0;
	}
	WD_TRY(sensor_node(ctx, caller, ret_agent_id, err));
	if (canonical[0] && strcmp(canonical, ret_agent_id) != 0)
		return wd_error_set(err, WD_EPERM, "sensor %s runs on node %s and may not revoke "
			"workloads of %s", caller->spiffe_id, ret_agent_id, canonical);
	return 0;
}

bool sensor_is_agent_id(const struct server_ctx *ctx, const char *text)
{
	struct spiffe_id id;

	return text && spiffe_id_parse(text, strlen(text), &id, NULL) == 0 &&
		spiffe_id_member_of(&id, ctx->config->trust_domain) &&
		!strncmp(id.path, REGISTRY_AGENT_PATH_PREFIX, strlen(REGISTRY_AGENT_PATH_PREFIX));
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* SPIRE's rule, as the agent applies it (agent_selectors_subset_strings).
 * An entry matches when every one of its selectors is in the workload's
 * set, and an entry without selectors matches nothing. sorted is in strcmp
 * order. */
bool sensor_selectors_subset(char *const *entry_selectors, size_t entry_count,
	const char *const *sorted, size_t count)
{
	if (entry_count == 0 || count == 0)
		return false;
	for (size_t i = 0; i < entry_count; i++) {
		const char *key = entry_selectors[i];

		if (!bsearch(&key, sorted, count, sizeof(*sorted), compare_strings))
			return false;
	}
	return true;
}

static int parse_request(const json_t *body, struct sensor_revoke_request *ret_request,
	struct wd_error *err)
{
	struct sensor_revoke_request request = { 0 };
	int64_t pid = 0;
	int rc;

	WD_GUARD(net_json_get_int(body, "pid", true, 1, INT32_MAX, &pid, err));
	request.pid = pid;
	WD_GUARD(net_json_get_string_array(body, "selectors", true, SENSOR_MAX_SELECTORS,
		REGISTRY_SELECTOR_MAX_LEN, &request.selectors, &request.selector_count, err));
	WD_ENSURE(request.selector_count > 0,
		wd_error_set(err, WD_EINVAL, "invalid \"selectors\": empty"));
	for (size_t i = 0; i < request.selector_count; i++) {
		struct wd_error detail;

		wd_error_clear(&detail);
		WD_ENSURE(registry_selector_validate(request.selectors[i], &detail) == 0,
			wd_error_set(err, WD_EINVAL, "invalid \"selectors\"[%zu]: %s", i,
				wd_error_text(&detail)));
	}
	qsort(request.selectors, request.selector_count, sizeof(*request.selectors),
		compare_strings);
	WD_GUARD(net_json_get_string(body, "rule", false, SENSOR_RULE_MAX, &request.rule, err));
	WD_GUARD(net_json_get_string(body, "reason", false, AUTHORITY_REASON_MAX_LEN,
		&request.reason, err));
	WD_GUARD(net_json_get_string(body, "agent_id", false, SPIFFE_ID_MAX_LEN,
		&request.agent_id, err));
	*ret_request = request;
	return 0;
out:
	free(request.selectors);
	return rc;
}

static int entry_json(const struct registry_entry *entry, json_t *array)
{
	json_t *item = json_pack("{s:s, s:s, s:s}", "id", entry->id, "spiffe_id",
		entry->spiffe_id, "parent_id", entry->parent_id);

	if (!item || json_array_append_new(array, item) != 0)
		return WD_ENOMEM;
	return 0;
}

/* Sorts the matching entries of the node into two groups. Entries whose
 * parent is the node itself are the sensor's to revoke. Entries reached
 * through another entry may be shared with other nodes, so they are left
 * to an operator. */
static int match_entries(struct server_ctx *ctx, struct sensor_revocation *revocation,
	struct wd_error *err)
{
	const struct sensor_revoke_request *request = revocation->request;
	struct registry_entry_list *list = NULL;
	int rc;

	WD_TRY(registry_authorized_entries(ctx->registry, revocation->agent_id, &list, err));
	for (size_t i = 0; i < list->count; i++) {
		struct registry_entry *entry = list->entries[i];
		bool own = strcmp(entry->parent_id, revocation->agent_id) == 0;

		if (!sensor_selectors_subset(entry->selectors, entry->selector_count,
			request->selectors, request->selector_count))
			continue;
		WD_GUARD(entry_json(entry, own ? revocation->entries : revocation->shared));
		if (own) {
			WD_ENSURE(revocation->own_count < SENSOR_MAX_MATCHED,
				wd_error_set(err, WD_ETOOBIG, "more than %d entries of node %s match "
					"the selectors", SENSOR_MAX_MATCHED, revocation->agent_id));
			revocation->own[revocation->own_count++] = list->entries[i];
			list->entries[i] = NULL;
		}
	}
	rc = 0;
out:
	if (rc == WD_ENOMEM)
		rc = wd_error_set(err, rc, "out of memory matching entries");
	registry_entry_list_free(list);
	return rc;
}

static void audit_detail(const struct sensor_revocation *revocation, const char *what,
	char *out, size_t len)
{
	const struct sensor_revoke_request *request = revocation->request;

	snprintf(out, len, "%s node=%s pid=%" PRId64 " rule=%.1024s reason=%.1024s", what,
		revocation->agent_id, request->pid, request->rule ? request->rule : "-",
		request->reason ? request->reason : "-");
}

static int revoke_svids(struct server_ctx *ctx, struct sensor_revocation *revocation,
	struct wd_error *err)
{
	const char *reason = revocation->request->reason;
	char detail[AUDIT_FIELD_MAX];
	int rc = 0;

	for (size_t i = 0; i < revocation->own_count; i++) {
		const struct registry_entry *entry = revocation->own[i];
		struct authority_serial_list serials = { 0 };
		char what[64 + REGISTRY_ENTRY_ID_LEN + AUTHORITY_SERIAL_HEX_SIZE];

		WD_TRY(authority_revoke_entry(ctx->authority, entry->id,
			reason ? reason : "revoked by the runtime sensor", wd_now(), &serials, err));
		server_changes_announce(ctx, "revocation");
		for (size_t j = 0; rc == 0 && j < serials.count; j++) {
			snprintf(what, sizeof(what), "serial=%s entry=%s", serials.serials[j], entry->id);
			audit_detail(revocation, what, detail, sizeof(detail));
			server_audit(ctx, revocation->actor, "svid.revoke", entry->spiffe_id, "success",
				detail);
			if (json_array_append_new(revocation->serials,
				json_string(serials.serials[j])) != 0)
				rc = wd_error_set(err, WD_ENOMEM, "out of memory listing serials");
		}
		authority_serial_list_clear(&serials);
		WD_TRY(rc);
	}
	return 0;
}

static void revocation_clear(struct sensor_revocation *revocation)
{
	for (size_t i = 0; i < revocation->own_count; i++)
		registry_entry_free(revocation->own[i]);
	free(revocation->own);
	json_decref(revocation->entries);
	json_decref(revocation->shared);
	json_decref(revocation->serials);
	json_decref(revocation->accessors);
	json_decref(revocation->leases);
}

static int build_reply(const struct sensor_revocation *revocation, const char *secrets_error,
	json_t **ret_reply)
{
	size_t changed = json_array_size(revocation->serials) +
		json_array_size(revocation->accessors) + json_array_size(revocation->leases);
	json_t *reply = json_pack("{s:s, s:I, s:O, s:O, s:O, s:I, s:O, s:b}",
		"agent_id", revocation->agent_id,
		"pid", (json_int_t)revocation->request->pid,
		"entries", revocation->entries,
		"shared_entries", revocation->shared,
		"revoked_serials", revocation->serials,
		"revoked_tokens", (json_int_t)json_array_size(revocation->accessors),
		"revoked_leases", revocation->leases,
		"changed", changed > 0);

	*ret_reply = NULL;
	if (!reply)
		return WD_ENOMEM;
	if (secrets_error && json_object_set_new(reply, "secrets_error",
		json_string(secrets_error)) != 0) {
		json_decref(reply);
		return WD_ENOMEM;
	}
	*ret_reply = reply;
	return 0;
}

int handle_sensor_revoke(struct net_request *req, void *arg, struct wd_error *err)
{
	struct server_ctx *ctx = arg;
	struct sensor_revoke_request request = { 0 };
	struct sensor_revocation revocation = { .request = &request };
	struct caller caller = { 0 };
	struct wd_error secrets_err;
	char object[64] = "-";
	char detail[AUDIT_FIELD_MAX];
	bool truncated;
	json_t *body = NULL;
	json_t *reply = NULL;
	int rc;

	wd_error_clear(&secrets_err);
	WD_GUARD(caller_require_sensor(ctx, req, &caller, err));
	revocation.actor = caller.actor;
	WD_GUARD(server_parse_body(req, revoke_fields, WD_ARRAY_LEN(revoke_fields), &body, err));
	WD_GUARD(parse_request(body, &request, err));
	snprintf(object, sizeof(object), "pid:%" PRId64, request.pid);
	WD_GUARD(resolve_node(ctx, &caller, request.agent_id, revocation.agent_id, err));

	revocation.own = wd_calloc(SENSOR_MAX_MATCHED, sizeof(*revocation.own));
	revocation.entries = json_array();
	revocation.shared = json_array();
	revocation.serials = json_array();
	revocation.accessors = json_array();
	revocation.leases = json_array();
	WD_ENSURE(revocation.own && revocation.entries && revocation.shared &&
		revocation.serials && revocation.accessors && revocation.leases,
		wd_error_set(err, WD_ENOMEM, "out of memory revoking"));

	WD_GUARD(match_entries(ctx, &revocation, err));
	WD_GUARD(revoke_svids(ctx, &revocation, err));
	/* A sealed secrets service cannot revoke its tokens until it is
	 * unsealed. The SVIDs are revoked all the same, and the reply names
	 * what was left. */
	if (sensor_revoke_tokens(ctx, &revocation, &secrets_err) < 0)
		log_warn("server", "sensor revocation left secrets tokens", "node",
			revocation.agent_id, "error", wd_error_text(&secrets_err));

	/* The bounded precisions keep the detail within one audit record; a
	 * longer one is cut, which the audit log accepts. */
	truncated = snprintf(detail, sizeof(detail), "node=%s entries=%zu shared_entries=%zu serials=%zu "
		"tokens=%zu leases=%zu rule=%.1024s reason=%.1024s%s%.512s", revocation.agent_id,
		json_array_size(revocation.entries), json_array_size(revocation.shared),
		json_array_size(revocation.serials), json_array_size(revocation.accessors),
		json_array_size(revocation.leases), request.rule ? request.rule : "-",
		request.reason ? request.reason : "-",
		secrets_err.code ? " secrets_error=" : "", wd_error_text(&secrets_err)) >=
		(int)sizeof(detail);
	if (truncated)
		log_debug("server", "sensor revocation detail cut to fit the audit record");
	server_audit(ctx, caller.actor, "sensor.revoke", object, "success", detail);
	log_info("server", "sensor revocation", "actor", caller.actor, "node",
		revocation.agent_id, "pid", object);

	WD_ENSURE(build_reply(&revocation, secrets_err.code ? wd_error_text(&secrets_err) : NULL,
		&reply) == 0, wd_error_set(err, WD_ENOMEM, "out of memory replying"));
	rc = net_reply_json(req, 200, reply);
out:
	if (rc < 0 && caller.actor[0])
		server_audit_failure(ctx, caller.actor, "sensor.revoke", object, err);
	json_decref(reply);
	revocation_clear(&revocation);
	free(request.selectors);
	json_decref(body);
	return rc;
}
