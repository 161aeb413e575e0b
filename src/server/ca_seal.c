/* The CA keys follow the secrets barrier: an unseal hands the authority its
 * key-encryption key, and a seal drops the private keys again. */
#include "common/log.h"
#include "common/time.h"
#include "server/server_internal.h"

_Static_assert(SECRETS_IDENTITY_KEK_LEN == AUTHORITY_KEK_LEN,
	"the barrier keeps a key of the length the authority expects");

void server_on_secrets_unseal(void *arg, const uint8_t kek[SECRETS_IDENTITY_KEK_LEN])
{
	struct server_ctx *ctx = arg;
	bool was_sealed = authority_keys_sealed(ctx->authority);
	struct wd_error err;

	wd_error_clear(&err);
	if (authority_keys_unlock(ctx->authority, kek, wd_now(), &err) < 0) {
		log_error("server", "CA keys not unlocked", "error", wd_error_text(&err));
		server_audit_failure(ctx, NULL, "ca.unlock", ctx->config->trust_domain, &err);
		return;
	}
	/* The tick mints a serving certificate at once when one is needed. */
	log_info("server", was_sealed ? "CA keys unsealed" : "CA key files encrypted under the "
		"secrets barrier");
	server_audit(ctx, NULL, "ca.unlock", ctx->config->trust_domain, "success", NULL);
}

void server_on_secrets_seal(void *arg)
{
	struct server_ctx *ctx = arg;

	if (authority_keys_sealed(ctx->authority))
		return;
	authority_keys_lock(ctx->authority);
	/* Keys that live in plaintext files stay loaded. */
	if (ctx->stopping || !authority_keys_sealed(ctx->authority))
		return;
	log_info("server", "CA keys sealed: SVID signing, CRL reissue and CA rotation wait for the "
		"next unseal");
	server_audit(ctx, NULL, "ca.lock", ctx->config->trust_domain, "success", NULL);
}

int server_check_ca_keys(struct server_ctx *ctx, struct wd_error *err)
{
	if (!authority_keys_sealed(ctx->authority))
		return 0;
	/* Dev mode wipes the barrier at start, and with it the only copy of the
	 * key-encryption key. */
	if (ctx->config->secrets.dev)
		return wd_error_set(err, WD_ECONFIG,
			"data directory %s holds CA keys encrypted under the secrets barrier, which "
			"--dev wipes at start: start without --dev", ctx->config->data_dir);
	log_warn("server", "CA keys sealed: SVID signing, CRL reissue and CA rotation wait for "
		"the secrets barrier to be unsealed", "hint", "warden operator unseal");
	return 0;
}
