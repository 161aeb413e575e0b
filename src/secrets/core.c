/* The secrets service's front: opening, the seal life cycle, and the path
 * of one HTTP request from decoding through authentication, the ACL, the
 * audit chain and the backend to Vault's response shapes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/encoding.h"
#include "common/log.h"
#include "secrets/acl.h"
#include "secrets/barrier.h"
#include "secrets/expire.h"
#include "secrets/secrets_internal.h"
#include "secrets/token.h"

#define AUDIT_SALT_PATH "core/audit-salt"

static int load_audit_salt(struct secrets *secrets, struct wd_error *err)
{
	uint8_t *value = NULL;
	size_t len = 0;
	int rc;

	rc = barrier_get(secrets->barrier, AUDIT_SALT_PATH, &value, &len, err);
	if (rc == WD_ENOTFOUND) {
		if (RAND_bytes(secrets->audit_salt, sizeof(secrets->audit_salt)) != 1)
			return wd_error_set(err, WD_ECRYPTO, "no randomness for the audit salt");
		rc = barrier_put(secrets->barrier, AUDIT_SALT_PATH, secrets->audit_salt,
			sizeof(secrets->audit_salt), err);
		secrets->audit_salt_loaded = rc == 0;
		return rc;
	}
	WD_TRY(rc);
	if (len != sizeof(secrets->audit_salt)) {
		barrier_value_free(value, len);
		return wd_error_set(err, WD_ECORRUPT, "audit salt has %zu bytes", len);
	}
	memcpy(secrets->audit_salt, value, len);
	barrier_value_free(value, len);
	secrets->audit_salt_loaded = true;
	return 0;
}

int secrets_after_unseal(struct secrets *secrets, struct wd_error *err)
{
	int rc;

	rc = load_audit_salt(secrets, err);
	if (rc == 0)
		rc = vault_mounts_load(secrets, err);
	if (rc == 0)
		rc = expire_restore(secrets, err);
	if (rc < 0) {
		/* A half-loaded service must not serve: seal again, as Vault does
		 * when its lease restore fails. */
		log_error("secrets", "unseal aborted", "error", wd_error_text(err));
		secrets_before_seal(secrets);
		barrier_seal(secrets->barrier);
		return rc;
	}
	log_info("secrets", "unsealed");
	return 0;
}

void secrets_before_seal(struct secrets *secrets)
{
	/* Jobs in flight finish first: their completions use the leases and
	 * mounts unloaded below. */
	secrets_offload_drain(secrets);
	if (secrets->config.on_seal)
		secrets->config.on_seal(secrets->config.callback_arg);
	expire_unload(secrets);
	vault_mounts_unload(secrets);
	OPENSSL_cleanse(secrets->audit_salt, sizeof(secrets->audit_salt));
	secrets->audit_salt_loaded = false;
}

void secrets_drain(struct secrets *secrets)
{
	if (secrets)
		secrets_offload_drain(secrets);
}

bool secrets_unsealed(const struct secrets *secrets)
{
	return secrets && secrets->barrier && !barrier_sealed(secrets->barrier);
}

/* Dev mode: a fresh barrier with one share, unsealed at once, and a loud
 * note that nothing here is protected. */
static int start_dev(struct secrets *secrets, struct wd_error *err)
{
	uint8_t **shares = NULL;
	char root_id[TOKEN_ID_MAX];
	char *key_b64 = NULL;
	struct vault_token *root = NULL;
	bool unsealed = false;
	int rc;

	WD_TRY(barrier_reset(secrets->barrier, err));
	WD_TRY(barrier_init(secrets->barrier, 1, 1, &shares, err));
	rc = barrier_unseal(secrets->barrier, shares[0], BARRIER_SHARE_LEN, false, &unsealed, err);
	if (rc == 0 && !unsealed)
		rc = wd_error_set(err, WD_EINTERNAL, "dev barrier did not unseal");
	if (rc == 0)
		rc = secrets_after_unseal(secrets, err);
	if (rc == 0) {
		struct token_params params = {
			.id = secrets->config.dev_root_token,
			.display_name = "root",
			.path = "auth/token/root",
			.root = true,
		};

		rc = token_create(secrets, &params, root_id, &root, err);
	}
	if (rc == 0 && wd_base64_encode(shares[0], BARRIER_SHARE_LEN, &key_b64) < 0)
		rc = wd_error_set(err, WD_EINTERNAL, "cannot encode the unseal key");
	if (rc == 0) {
		fprintf(stderr,
			"WARNING! dev mode is enabled! The secrets barrier is unsealed with the key\n"
			"printed below, and its state is wiped at the next start. Do not run a dev\n"
			"server in production or put real secrets in it.\n\n"
			"Unseal Key: %s\nRoot Token: %s\n\n", key_b64, root_id);
		log_warn("secrets", "dev mode: barrier unsealed with a printed key; not for "
			"production");
	}
	OPENSSL_cleanse(root_id, sizeof(root_id));
	if (key_b64) {
		OPENSSL_cleanse(key_b64, strlen(key_b64));
		free(key_b64);
	}
	token_free(root);
	barrier_shares_free(shares, 1);
	return rc;
}

int secrets_open(struct store *store, struct audit_log *audit, struct event_base *base,
	struct authority *authority, const struct secrets_config *config,
	struct secrets **ret_secrets, struct wd_error *err)
{
	struct secrets *secrets = calloc(1, sizeof(*secrets));
	int rc;

	*ret_secrets = NULL;
	if (!secrets)
		return wd_error_set(err, WD_ENOMEM, "out of memory opening the secrets service");
	secrets->config = *config;
	secrets->store = store;
	secrets->audit = audit;
	secrets->base = base;
	secrets->authority = authority;

	rc = barrier_open(store, &secrets->barrier, err);
	if (rc == 0)
		rc = token_store_open(secrets, &secrets->tokens, err);
	if (rc == 0)
		rc = acl_store_open(secrets, &secrets->acl, err);
	if (rc == 0)
		rc = expiration_open(secrets, &secrets->expiration, err);
	if (rc == 0 && config->rego_policy_path)
		rc = acl_rego_open(config->rego_policy_path, &secrets->rego, err);
	if (rc == 0 && config->dev)
		rc = start_dev(secrets, err);
	if (rc < 0) {
		secrets_free(secrets);
		return rc;
	}
	*ret_secrets = secrets;
	return 0;
}

void secrets_free(struct secrets *secrets)
{
	if (!secrets)
		return;
	if (secrets->barrier && !barrier_sealed(secrets->barrier))
		secrets_before_seal(secrets);
	expiration_free(secrets->expiration);
	acl_rego_free(secrets->rego);
	acl_store_free(secrets->acl);
	token_store_free(secrets->tokens);
	barrier_free(secrets->barrier);
	OPENSSL_cleanse(secrets, sizeof(*secrets));
	free(secrets);
}

void secrets_leases_rescan(struct secrets *secrets)
{
	struct wd_error err;

	if (!secrets_unsealed(secrets))
		return;
	wd_error_clear(&err);
	if (expire_restore(secrets, &err) < 0)
		log_error("expire", "leases not read again", "error", wd_error_text(&err));
}

void secrets_tick(struct secrets *secrets, int64_t now)
{
	if (secrets_unsealed(secrets)) {
		expire_tick(secrets, now);
		token_tidy(secrets, now);
	}
}
