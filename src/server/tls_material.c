/* The identity listener's own certificate and trust anchors, rebuilt when
 * the serving SVID reaches half life or the bundle changes. While the CA
 * keys are sealed, the certificate saved at the last mint is served. */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "crypto/x509.h"
#include "server/server_internal.h"

static int append_ca_pem(const char *leaf_pem, X509 *ca, char **ret_chain, struct wd_error *err)
{
	char *ca_pem = NULL;
	char *chain = NULL;
	size_t leaf_len = strlen(leaf_pem);
	size_t ca_len;
	int rc;

	*ret_chain = NULL;
	WD_ENSURE(ca, WD_EINTERNAL);
	WD_GUARD(crypto_x509_to_pem(ca, &ca_pem));
	ca_len = strlen(ca_pem);
	chain = malloc(leaf_len + ca_len + 1);
	WD_ENSURE(chain, WD_ENOMEM);
	memcpy(chain, leaf_pem, leaf_len);
	memcpy(chain + leaf_len, ca_pem, ca_len + 1);
	*ret_chain = chain;
	chain = NULL;
	rc = 0;
out:
	if (rc < 0)
		wd_error_set(err, rc, "cannot build the serving certificate chain");
	free(chain);
	free(ca_pem);
	return rc;
}

/* Mints the serving SVID and saves it with its key for a sealed restart. */
static int mint_chain(struct server_ctx *ctx, int64_t now, X509 *active_ca,
	struct server_tls_material *material, struct wd_error *err)
{
	struct authority_x509_svid svid = { 0 };
	const struct config_strings *dns = &ctx->config->identity.dns_names;
	struct wd_error save_err;
	struct spiffe_id id;
	int rc;

	snprintf(id.trust_domain, sizeof(id.trust_domain), "%s", ctx->config->trust_domain);
	snprintf(id.path, sizeof(id.path), "%s", SERVER_SPIFFE_PATH);
	{
		struct authority_x509_request request = {
			.spiffe_id = &id,
			.public_key = ctx->server_key,
			.dns_names = (const char *const *)dns->items,
			.dns_name_count = dns->count,
		};

		WD_GUARD(authority_sign_x509(ctx->authority, &request, now, &svid, err));
	}
	material->renew_at = now + (svid.not_after - now) / 2;

	/* The active CA (first in the list) follows the leaf, so that an agent
	 * bootstrapping with only a pinned CA fingerprint can find the CA in
	 * the handshake. Peers that already trust it ignore the extra copy. */
	WD_GUARD(append_ca_pem(svid.chain_pem, active_ca, &material->chain_pem, err));

	/* Dev mode never seals the CA keys, so it never reads the file. */
	wd_error_clear(&save_err);
	if (!ctx->config->secrets.dev &&
		server_serving_save(ctx, material->chain_pem, &save_err) < 0)
		log_warn("server", "serving certificate not saved; a restart with sealed CA keys "
			"cannot serve it", "error", wd_error_text(&save_err));
	rc = 0;
out:
	authority_x509_svid_clear(&svid);
	return rc;
}

/* With sealed CA keys: the saved chain, or else a placeholder that no
 * client trusts, so that the listeners still open. */
static int sealed_chain(struct server_ctx *ctx, int64_t now,
	struct server_tls_material *material, struct wd_error *err)
{
	struct wd_error load_err;
	int64_t not_after = 0;
	char expires[24];
	char hint[PATH_MAX + 64];

	material->from_file = true;
	/* Renewal waits for the unseal; the tick does not refresh before. */
	material->renew_at = INT64_MAX;
	wd_error_clear(&load_err);
	if (server_serving_load(ctx, now, &material->chain_pem, &not_after, &load_err) == 0) {
		snprintf(expires, sizeof(expires), "%" PRId64, not_after);
		log_warn("server", "CA keys sealed: serving the saved certificate until the secrets "
			"barrier is unsealed", "file", "serving.pem", "not_after", expires);
		return 0;
	}
	snprintf(hint, sizeof(hint), "VAULT_ADDR=unix://%s warden operator unseal",
		ctx->config->admin.socket);
	log_error("server", "CA keys sealed and no valid saved serving certificate: TLS clients "
		"cannot verify this server until the secrets barrier is unsealed over the admin "
		"socket", "error", wd_error_text(&load_err), "hint", hint);
	return server_serving_placeholder(ctx, now, &material->chain_pem, err);
}

int server_tls_material_build(struct server_ctx *ctx, int64_t now,
	struct server_tls_material *ret_material, struct wd_error *err)
{
	struct server_tls_material material = { 0 };
	int rc;

	memset(ret_material, 0, sizeof(*ret_material));

	WD_GUARD(authority_x509_authorities(ctx->authority, &material.authorities, err));
	if (authority_keys_sealed(ctx->authority))
		WD_GUARD(sealed_chain(ctx, now, &material, err));
	else
		WD_GUARD(mint_chain(ctx, now, sk_X509_value(material.authorities, 0), &material,
			err));
	for (int i = 0; i < sk_X509_num(material.authorities) && i < AUTHORITY_MAX_SLOTS; i++)
		material.anchors[i] = sk_X509_value(material.authorities, i);

	material.config = (struct net_tls_config){
		.cert_chain_pem = material.chain_pem,
		.cert_chain_len = strlen(material.chain_pem),
		.key = ctx->server_key,
		.trust_anchors = material.anchors,
		.trust_anchor_count = (size_t)sk_X509_num(material.authorities),
		/* Optional at the TLS layer so that node attestation, which has no
		 * certificate yet, can reach its route; every other route demands a
		 * verified client SVID. */
		.client_cert = NET_CLIENT_CERT_OPTIONAL,
		.verify = server_verify_client_chain,
		.verify_arg = ctx,
	};
	*ret_material = material;
	/* The anchors array lives inside the struct, so the copy must point at
	 * its own. */
	ret_material->config.trust_anchors = ret_material->anchors;
	memset(&material, 0, sizeof(material));
	rc = 0;
out:
	server_tls_material_clear(&material);
	return rc;
}

void server_tls_material_clear(struct server_tls_material *material)
{
	if (!material)
		return;
	free(material->chain_pem);
	sk_X509_pop_free(material->authorities, X509_free);
	memset(material, 0, sizeof(*material));
}

int server_refresh_tls(struct server_ctx *ctx, int64_t now, struct wd_error *err)
{
	struct server_tls_material material;
	int rc;

	WD_TRY(server_tls_material_build(ctx, now, &material, err));
	rc = net_listener_update_tls(ctx->tls_listener, &material.config, err);
	if (rc == 0 && ctx->policy_listener) {
		struct net_tls_config policy_tls = material.config;

		policy_tls.client_cert = NET_CLIENT_CERT_REQUIRED;
		rc = net_listener_update_tls(ctx->policy_listener, &policy_tls, err);
	}
	if (rc == 0 && ctx->secrets_listener)
		rc = net_listener_update_tls(ctx->secrets_listener, &material.config, err);
	if (rc == 0) {
		ctx->server_svid_renew_at = material.renew_at;
		ctx->serving_from_file = material.from_file;
		ctx->listener_sequence = authority_bundle_sequence(ctx->authority);
	}
	server_tls_material_clear(&material);
	return rc;
}
