/* Who is calling: a local operator on the admin socket, or a TLS client
 * whose X.509-SVID the handshake verified. */
#include <stdio.h>
#include <string.h>

#include "crypto/x509.h"
#include "identity/x509svid.h"
#include "server/server_internal.h"
#include "common/log.h"
#include "common/time.h"

static bool is_agent_id(const struct spiffe_id *id)
{
	return !strncmp(id->path, REGISTRY_AGENT_PATH_PREFIX, strlen(REGISTRY_AGENT_PATH_PREFIX));
}

/* Identifies the caller. A revoked SVID gets past the TLS handshake only
 * when it names an agent (see server_verify_client_chain); it is refused
 * here unless allow_revoked_agent, which caller_require_agent sets so that
 * it can tell the agent whether it was evicted or banned. */
static int identify(struct server_ctx *ctx, struct net_request *req, bool allow_revoked_agent,
	struct caller *ret_caller, struct wd_error *err)
{
	struct caller caller = { 0 };
	STACK_OF(X509) *chain;
	struct spiffe_id id;
	uid_t uid;
	gid_t gid;
	pid_t pid;

	memset(ret_caller, 0, sizeof(*ret_caller));

	if (net_request_peer_cred(req, &uid, &gid, &pid) == 0) {
		caller.kind = CALLER_ADMIN_SOCKET;
		caller.uid = uid;
		caller.pid = pid;
		caller.is_admin = true;
		snprintf(caller.actor, sizeof(caller.actor), "uid:%u", (unsigned)uid);
		*ret_caller = caller;
		return 0;
	}

	chain = net_request_peer_chain(req);
	if (!chain || sk_X509_num(chain) < 1)
		return wd_error_set(err, WD_EAUTH,
			"this endpoint requires a client X.509-SVID of trust domain %s",
			ctx->config->trust_domain);

	/* The handshake already verified the chain, its SPIFFE rules and the CRL
	 * (server_verify_client_chain); here the ID and serial are read out. */
	WD_TRY(x509svid_spiffe_id(sk_X509_value(chain, 0), &id, err));
	WD_TRY(spiffe_id_format(&id, caller.spiffe_id, sizeof(caller.spiffe_id)));
	WD_TRY(crypto_x509_serial_hex(sk_X509_value(chain, 0), caller.serial, sizeof(caller.serial)));

	caller.kind = CALLER_SVID;
	caller.is_agent = is_agent_id(&id);
	WD_TRY(server_serial_revoked(ctx, caller.serial, &caller.revoked, err));
	if (caller.revoked && !(caller.is_agent && allow_revoked_agent))
		return wd_error_set(err, WD_EREVOKED, "X.509-SVID serial %s of %s is revoked",
			caller.serial, caller.spiffe_id);
	caller.is_admin = !caller.is_agent && registry_admin_check(ctx->registry, caller.spiffe_id);
	snprintf(caller.actor, sizeof(caller.actor), "%s", caller.spiffe_id);
	*ret_caller = caller;
	return 0;
}

int caller_identify(struct server_ctx *ctx, struct net_request *req, struct caller *ret_caller,
	struct wd_error *err)
{
	return identify(ctx, req, false, ret_caller, err);
}

int caller_require_admin(struct server_ctx *ctx, struct net_request *req,
	struct caller *ret_caller, struct wd_error *err)
{
	WD_TRY(caller_identify(ctx, req, ret_caller, err));
	if (!ret_caller->is_admin)
		return wd_error_set(err, WD_EPERM,
			"%s is not an admin: only the admin socket or an SVID of an entry with admin=true may call this endpoint",
			ret_caller->actor);
	return 0;
}

/* sensor.spiffe_ids is compared in canonical form, as the caller's ID is. */
static bool is_sensor_id(const struct server_ctx *ctx, const char *spiffe_id)
{
	const struct config_strings *ids = &ctx->config->sensor.spiffe_ids;

	for (size_t i = 0; i < ids->count; i++) {
		char canonical[SPIFFE_ID_MAX_LEN + 1];
		struct spiffe_id id;

		if (spiffe_id_parse(ids->items[i], strlen(ids->items[i]), &id, NULL) == 0 &&
		    spiffe_id_format(&id, canonical, sizeof(canonical)) == 0 &&
		    strcmp(canonical, spiffe_id) == 0)
			return true;
	}
	return false;
}

int caller_require_sensor(struct server_ctx *ctx, struct net_request *req,
	struct caller *ret_caller, struct wd_error *err)
{
	WD_TRY(caller_identify(ctx, req, ret_caller, err));
	if (ret_caller->kind == CALLER_ADMIN_SOCKET)
		return 0;
	if (ret_caller->is_agent || !is_sensor_id(ctx, ret_caller->spiffe_id))
		return wd_error_set(err, WD_EPERM,
			"%s is not a sensor: only the admin socket or an SVID whose SPIFFE ID "
			"sensor.spiffe_ids lists may call this endpoint", ret_caller->actor);
	return 0;
}

int caller_require_agent(struct server_ctx *ctx, struct net_request *req,
	struct caller *ret_caller, struct wd_error *err)
{
	WD_TRY(identify(ctx, req, true, ret_caller, err));
	if (!ret_caller->is_agent)
		return wd_error_set(err, WD_EPERM, "%s is not a node agent", ret_caller->actor);

	/* The registry says why an agent lost its node SVID: evicted (not
	 * attested) or banned. A revoked SVID of an agent still on record was
	 * revoked by serial, and is refused as such. */
	WD_TRY(server_agent_check(ctx, ret_caller->spiffe_id, ret_caller->serial, wd_now(), err));
	if (ret_caller->revoked)
		return wd_error_set(err, WD_EREVOKED, "node SVID serial %s of %s is revoked",
			ret_caller->serial, ret_caller->spiffe_id);
	return 0;
}

int server_verify_client_chain(STACK_OF(X509) *chain, void *arg)
{
	struct server_ctx *ctx = arg;
	STACK_OF(X509) *authorities = NULL;
	X509 *anchors[AUTHORITY_MAX_SLOTS];
	size_t anchor_count = 0;
	struct spiffe_id id;
	struct wd_error err;
	char serial[AUTHORITY_SERIAL_HEX_SIZE];
	bool revoked = false;
	int rc;

	wd_error_clear(&err);
	WD_GUARD(authority_x509_authorities(ctx->authority, &authorities, &err));
	for (int i = 0; i < sk_X509_num(authorities) && anchor_count < AUTHORITY_MAX_SLOTS; i++)
		anchors[anchor_count++] = sk_X509_value(authorities, i);

	WD_GUARD(x509svid_verify(chain, anchors, anchor_count, wd_now(), &id, &err));

	WD_GUARD(crypto_x509_serial_hex(sk_X509_value(chain, 0), serial, sizeof(serial)));
	rc = server_serial_revoked(ctx, serial, &revoked, &err);
	/* An agent's node SVID whose revocation record cannot be read, because
	 * the datastore is unreachable, completes the handshake as well. The
	 * node route reads the record again and returns 503 EUNAVAILABLE, which
	 * the agent handles as an outage. A failed handshake would count as a
	 * refusal, and three of them make the agent stop as revoked. */
	if (rc == WD_EUNAVAILABLE && is_agent_id(&id)) {
		rc = 0;
		goto out;
	}
	if (rc < 0)
		goto out;
	/* An agent's revoked node SVID completes the handshake so that the node
	 * routes can tell the agent it was evicted or banned; every route
	 * refuses it in caller.c. Any other revoked SVID stops here. */
	if (revoked && !is_agent_id(&id)) {
		rc = wd_error_set(&err, WD_EREVOKED, "X.509-SVID serial %s is revoked", serial);
		goto out;
	}
	rc = 0;
out:
	if (rc < 0) {
		char peer[SPIFFE_ID_MAX_LEN + 1] = "unknown";
		struct spiffe_id peer_id;

		if (sk_X509_num(chain) > 0 &&
			x509svid_spiffe_id(sk_X509_value(chain, 0), &peer_id, NULL) == 0 &&
			spiffe_id_format(&peer_id, peer, sizeof(peer)) < 0)
			snprintf(peer, sizeof(peer), "unknown");
		server_refusal_log(ctx, peer, wd_error_text(&err));
	}
	sk_X509_pop_free(authorities, X509_free);
	return rc;
}
