/* Admin routes for join tokens, agents, minted SVIDs and revocation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/time.h"
#include "crypto/key.h"
#include "net/net_json.h"
#include "server/server_internal.h"

#define MAX_DNS_NAMES 32
#define MAX_AUDIENCES 32
#define MAX_NAME_LEN 1024
/* Ceiling of the TTL of a minted SVID or join token, in seconds (30 days);
 * the CA cuts SVIDs to its own notAfter anyway. */
#define MAX_MINT_TTL (30 * 86400)

/* Minted SVIDs may not take the identities warden keeps for itself, or an
 * admin could hand out the server's or an agent's identity. */
static int check_mintable(const struct spiffe_id *id, const char *text, struct wd_error *err)
{
	if (registry_path_reserved(id->path))
		return wd_error_set(err, WD_EINVAL,
			"invalid \"spiffe_id\" \"%.300s\": paths under %s are reserved for warden's own identities",
			text, REGISTRY_RESERVED_PATH);
	return 0;
}

int handle_token_create(struct net_request *req, void *arg, struct wd_error *err)
{
	static const char *const fields[] = { "ttl" };
	struct server_ctx *ctx = arg;
	struct caller caller = { 0 };
	char token[REGISTRY_TOKEN_BUF_LEN] = "";
	char *agent_id = NULL;
	int64_t ttl = 0;
	int64_t expires_at = 0;
	size_t body_len = 0;
	json_t *body = NULL;
	json_t *reply = NULL;
	int rc;

	WD_GUARD(caller_require_admin(ctx, req, &caller, err));
	/* The body is optional: an empty one takes the default TTL. */
	(void)net_request_body(req, &body_len);
	if (body_len > 0) {
		WD_GUARD(server_parse_body(req, fields, WD_ARRAY_LEN(fields), &body, err));
		WD_GUARD(net_json_get_int(body, "ttl", false, 1, REGISTRY_TOKEN_MAX_TTL, &ttl, err));
	}
	WD_GUARD(registry_token_create(ctx->registry, ttl, wd_now(), token, &agent_id, &expires_at,
		err));

	/* The audit record names the agent ID the token leads to, never the
	 * token. */
	server_audit(ctx, caller.actor, "token.create", agent_id, "success", NULL);
	reply = json_pack("{s:s, s:s, s:I}", "token", token, "agent_id", agent_id, "expires_at",
		(json_int_t)expires_at);
	WD_ENSURE(reply, WD_ENOMEM);
	rc = net_reply_json(req, 201, reply);
out:
	if (rc < 0 && caller.actor[0])
		server_audit_failure(ctx, caller.actor, "token.create", "", err);
	OPENSSL_cleanse(token, sizeof(token));
	json_decref(reply);
	json_decref(body);
	free(agent_id);
	return rc;
}

static json_t *node_to_json(const struct registry_node *node)
{
	return json_pack("{s:s, s:s, s:I, s:I, s:b}", "spiffe_id", node->agent_id, "serial",
		node->serial, "expires_at", (json_int_t)node->not_after, "attested_at",
		(json_int_t)node->attested_at, "banned", node->banned);
}

int handle_agent_list(struct net_request *req, void *arg, struct wd_error *err)
{
	struct server_ctx *ctx = arg;
	struct registry_node_list *list = NULL;
	struct caller caller;
	json_t *agents = NULL;
	json_t *reply = NULL;
	int rc;

	WD_GUARD(caller_require_admin(ctx, req, &caller, err));
	WD_GUARD(registry_node_list(ctx->registry, net_request_query(req, "page_token"), 0, &list,
		err));

	agents = json_array();
	WD_ENSURE(agents, WD_ENOMEM);
	for (size_t i = 0; i < list->count; i++)
		WD_ENSURE(json_array_append_new(agents, node_to_json(list->nodes[i])) == 0, WD_ENOMEM);

	reply = json_pack("{s:O, s:s?}", "agents", agents, "next_page_token",
		list->next_page_token);
	WD_ENSURE(reply, WD_ENOMEM);
	rc = net_reply_json(req, 200, reply);
out:
	json_decref(reply);
	json_decref(agents);
	registry_node_list_free(list);
	return rc;
}

/* Evicts or bans the agent named in the body and revokes its live node
 * SVIDs, so a stolen node certificate stops working at once. */
static int agent_remove(struct net_request *req, struct server_ctx *ctx, bool ban,
	struct wd_error *err)
{
	static const char *const fields[] = { "spiffe_id" };
	const char *action = ban ? "agent.ban" : "agent.evict";
	struct authority_serial_list revoked = { 0 };
	struct caller caller = { 0 };
	struct spiffe_id id;
	const char *agent_id = NULL;
	json_t *body = NULL;
	json_t *reply = NULL;
	int rc;

	WD_GUARD(caller_require_admin(ctx, req, &caller, err));
	WD_GUARD(server_parse_body(req, fields, WD_ARRAY_LEN(fields), &body, err));
	WD_GUARD(net_json_get_string(body, "spiffe_id", true, SPIFFE_ID_MAX_LEN, &agent_id, err));
	WD_GUARD(spiffe_id_parse(agent_id, strlen(agent_id), &id, err));

	if (ban)
		WD_GUARD(registry_node_ban(ctx->registry, agent_id, wd_now(), err));
	else
		WD_GUARD(registry_node_evict(ctx->registry, agent_id, err));
	server_caller_cache_forget_agent(ctx, agent_id);
	server_audit(ctx, caller.actor, action, agent_id, "success", NULL);

	WD_GUARD(authority_revoke_spiffe_id(ctx->authority, &id, action, wd_now(), &revoked, err));
	server_changes_announce(ctx, "revocation");
	for (size_t i = 0; i < revoked.count; i++)
		server_audit(ctx, caller.actor, "svid.revoke", agent_id, "success", revoked.serials[i]);
	log_info("server", ban ? "agent banned" : "agent evicted", "agent_id", agent_id, "actor",
		caller.actor);

	reply = json_pack("{s:s}", ban ? "banned" : "evicted", agent_id);
	WD_ENSURE(reply, WD_ENOMEM);
	rc = net_reply_json(req, 200, reply);
out:
	if (rc < 0 && caller.actor[0])
		server_audit_failure(ctx, caller.actor, action, agent_id ? agent_id : "", err);
	authority_serial_list_clear(&revoked);
	json_decref(reply);
	json_decref(body);
	return rc;
}

int handle_agent_evict(struct net_request *req, void *arg, struct wd_error *err)
{
	return agent_remove(req, arg, false, err);
}

int handle_agent_ban(struct net_request *req, void *arg, struct wd_error *err)
{
	return agent_remove(req, arg, true, err);
}

int handle_svid_mint(struct net_request *req, void *arg, struct wd_error *err)
{
	static const char *const fields[] = { "spiffe_id", "ttl", "dns_names", "key_type" };
	struct server_ctx *ctx = arg;
	struct authority_x509_svid svid = { 0 };
	struct caller caller = { 0 };
	struct spiffe_id id;
	enum crypto_key_type key_type = CRYPTO_KEY_EC_P256;
	const char *spiffe_id = NULL;
	const char *key_type_name = NULL;
	const char **dns_names = NULL;
	size_t dns_count = 0;
	int64_t ttl = 0;
	EVP_PKEY *key = NULL;
	char *key_pem = NULL;
	char *bundle_pem = NULL;
	json_t *body = NULL;
	json_t *reply = NULL;
	int rc;

	WD_GUARD(caller_require_admin(ctx, req, &caller, err));
	WD_GUARD(server_parse_body(req, fields, WD_ARRAY_LEN(fields), &body, err));
	WD_GUARD(net_json_get_string(body, "spiffe_id", true, SPIFFE_ID_MAX_LEN, &spiffe_id, err));
	WD_GUARD(net_json_get_int(body, "ttl", false, 1, MAX_MINT_TTL, &ttl, err));
	WD_GUARD(net_json_get_string_array(body, "dns_names", false, MAX_DNS_NAMES, 253, &dns_names,
		&dns_count, err));
	WD_GUARD(net_json_get_string(body, "key_type", false, 32, &key_type_name, err));
	if (key_type_name)
		WD_GUARD(crypto_key_type_parse(key_type_name, &key_type, err));
	for (size_t i = 0; i < dns_count; i++)
		WD_GUARD(registry_dns_name_validate(dns_names[i], err));
	WD_GUARD(spiffe_id_parse(spiffe_id, strlen(spiffe_id), &id, err));
	WD_GUARD(check_mintable(&id, spiffe_id, err));

	WD_GUARD(crypto_key_generate(key_type, &key, err));
	{
		struct authority_x509_request request = {
			.spiffe_id = &id,
			.public_key = key,
			.dns_names = dns_names,
			.dns_name_count = dns_count,
			.ttl_seconds = ttl,
		};

		WD_GUARD(authority_sign_x509(ctx->authority, &request, wd_now(), &svid, err));
	}
	server_audit(ctx, caller.actor, "svid.mint", spiffe_id, "success", svid.serial_hex);

	WD_GUARD(crypto_key_to_pem(key, &key_pem, err));
	WD_GUARD(server_bundle_pem(ctx, &bundle_pem, err));
	reply = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "spiffe_id", spiffe_id, "svid",
		svid.chain_pem, "private_key", key_pem, "bundle", bundle_pem, "serial",
		svid.serial_hex, "expires_at", (json_int_t)svid.not_after);
	WD_ENSURE(reply, WD_ENOMEM);
	rc = net_reply_json(req, 200, reply);
out:
	if (rc < 0 && caller.actor[0])
		server_audit_failure(ctx, caller.actor, "svid.mint", spiffe_id ? spiffe_id : "", err);
	json_decref(reply);
	wd_free_secret_str(key_pem);
	free(bundle_pem);
	EVP_PKEY_free(key);
	authority_x509_svid_clear(&svid);
	free(dns_names);
	json_decref(body);
	return rc;
}

int handle_jwt_mint(struct net_request *req, void *arg, struct wd_error *err)
{
	static const char *const fields[] = { "spiffe_id", "audience", "ttl" };
	struct server_ctx *ctx = arg;
	struct caller caller = { 0 };
	struct spiffe_id id;
	const char *spiffe_id = NULL;
	const char **audience = NULL;
	size_t audience_count = 0;
	int64_t ttl = 0;
	int64_t expires_at = 0;
	char *token = NULL;
	json_t *body = NULL;
	json_t *reply = NULL;
	int rc;

	WD_GUARD(caller_require_admin(ctx, req, &caller, err));
	WD_GUARD(server_parse_body(req, fields, WD_ARRAY_LEN(fields), &body, err));
	WD_GUARD(net_json_get_string(body, "spiffe_id", true, SPIFFE_ID_MAX_LEN, &spiffe_id, err));
	WD_GUARD(net_json_get_string_array(body, "audience", true, MAX_AUDIENCES, MAX_NAME_LEN,
		&audience, &audience_count, err));
	if (audience_count == 0) {
		rc = wd_error_set(err, WD_EINVAL, "invalid \"audience\": expected at least one value");
		goto out;
	}
	WD_GUARD(net_json_get_int(body, "ttl", false, 1, MAX_MINT_TTL, &ttl, err));
	WD_GUARD(spiffe_id_parse(spiffe_id, strlen(spiffe_id), &id, err));
	WD_GUARD(check_mintable(&id, spiffe_id, err));
	WD_GUARD(authority_sign_jwt(ctx->authority, &id, audience, audience_count, ttl, wd_now(),
		&token, &expires_at, err));

	server_audit(ctx, caller.actor, "jwt.mint", spiffe_id, "success", audience[0]);
	reply = json_pack("{s:s, s:s, s:I}", "spiffe_id", spiffe_id, "token", token, "expires_at",
		(json_int_t)expires_at);
	WD_ENSURE(reply, WD_ENOMEM);
	rc = net_reply_json(req, 200, reply);
out:
	if (rc < 0 && caller.actor[0])
		server_audit_failure(ctx, caller.actor, "jwt.mint", spiffe_id ? spiffe_id : "", err);
	json_decref(reply);
	wd_free_secret_str(token);
	free(audience);
	json_decref(body);
	return rc;
}

int handle_svid_revoke(struct net_request *req, void *arg, struct wd_error *err)
{
	static const char *const fields[] = { "serial", "spiffe_id", "reason" };
	struct server_ctx *ctx = arg;
	struct authority_serial_list revoked = { 0 };
	struct authority_revocation revocation;
	struct caller caller = { 0 };
	const char *serial = NULL;
	const char *spiffe_id = NULL;
	const char *reason = NULL;
	json_t *body = NULL;
	json_t *serials = NULL;
	json_t *reply = NULL;
	int rc;

	WD_GUARD(caller_require_admin(ctx, req, &caller, err));
	WD_GUARD(server_parse_body(req, fields, WD_ARRAY_LEN(fields), &body, err));
	WD_GUARD(net_json_get_string(body, "serial", false, 128, &serial, err));
	WD_GUARD(net_json_get_string(body, "spiffe_id", false, SPIFFE_ID_MAX_LEN, &spiffe_id, err));
	WD_GUARD(net_json_get_string(body, "reason", false, AUTHORITY_REASON_MAX_LEN, &reason, err));
	if ((serial == NULL) == (spiffe_id == NULL)) {
		rc = wd_error_set(err, WD_EINVAL, "expected exactly one of \"serial\" and \"spiffe_id\"");
		goto out;
	}

	serials = json_array();
	WD_ENSURE(serials, WD_ENOMEM);
	if (serial) {
		WD_GUARD(authority_revoke_serial(ctx->authority, serial, reason, wd_now(), &revocation,
			err));
		server_changes_announce(ctx, "revocation");
		if (!revocation.already_revoked)
			server_audit(ctx, caller.actor, "svid.revoke", revocation.serial_hex, "success",
				reason);
		WD_ENSURE(json_array_append_new(serials, json_string(revocation.serial_hex)) == 0,
			WD_ENOMEM);
	} else {
		struct spiffe_id id;

		WD_GUARD(spiffe_id_parse(spiffe_id, strlen(spiffe_id), &id, err));
		WD_GUARD(authority_revoke_spiffe_id(ctx->authority, &id, reason, wd_now(), &revoked,
			err));
		server_changes_announce(ctx, "revocation");
		for (size_t i = 0; i < revoked.count; i++) {
			server_audit(ctx, caller.actor, "svid.revoke", spiffe_id, "success",
				revoked.serials[i]);
			WD_ENSURE(json_array_append_new(serials, json_string(revoked.serials[i])) == 0,
				WD_ENOMEM);
		}
	}
	log_info("server", "svids revoked", "actor", caller.actor, "target",
		serial ? serial : spiffe_id);

	reply = json_pack("{s:O}", "revoked_serials", serials);
	WD_ENSURE(reply, WD_ENOMEM);
	rc = net_reply_json(req, 200, reply);
out:
	if (rc < 0 && caller.actor[0])
		server_audit_failure(ctx, caller.actor, "svid.revoke",
			serial ? serial : (spiffe_id ? spiffe_id : ""), err);
	json_decref(reply);
	json_decref(serials);
	authority_serial_list_clear(&revoked);
	json_decref(body);
	return rc;
}
