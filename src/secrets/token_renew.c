/* Renewing tokens with Vault's lease arithmetic (ExpirationManager
 * RenewToken and CalculateTTL). */
#include <stdio.h>
#include <string.h>

#include "secrets/token_internal.h"

/* A periodic token gets its period again (capped by the mount and system
 * maximum), and never beyond creation time + explicit_max_ttl. */
static int periodic_ttl(struct secrets *secrets, const struct vault_mount *mount,
	const struct vault_token *token, int64_t now, int64_t *ret_ttl, char *ret_warning,
	struct wd_error *err)
{
	int64_t ttl = 0, remaining;

	WD_TRY(vault_calculate_ttl(secrets, mount, now, now, token->period, 0, token->max_ttl,
		&ttl, ret_warning, err));
	if (token->explicit_max_ttl > 0) {
		remaining = token->creation_time + token->explicit_max_ttl - now;
		if (remaining <= 0)
			return wd_error_set(err, WD_EINVAL, "past the max TTL, cannot renew");
		if (remaining < ttl)
			ttl = remaining;
	}
	*ret_ttl = ttl;
	return 0;
}

int token_renew_at(struct secrets *secrets, struct vault_token *token, int64_t increment,
	int64_t now, char *ret_warning, struct wd_error *err)
{
	const struct vault_mount *mount;
	int64_t ttl = 0;
	struct vault_token updated;

	if (ret_warning)
		ret_warning[0] = '\0';
	if (increment < 0)
		return wd_error_set(err, WD_EINVAL, "increment must be positive");
	if (!token->renewable || token->expire_time == 0)
		return wd_error_set(err, WD_EINVAL, "lease is not renewable");
	if (now >= token->expire_time)
		return wd_error_set(err, WD_EINVAL, "lease expired");

	/* Leases of tokens are counted from their creation, and capped by the
	 * mount of the path that made them. */
	mount = vault_mount_lookup(secrets, token->path);
	if (token->period > 0)
		WD_TRY(periodic_ttl(secrets, mount, token, now, &ttl, ret_warning, err));
	else
		WD_TRY(vault_calculate_ttl(secrets, mount, now, token->creation_time, increment,
			token->creation_ttl, token_min_nonzero(token->max_ttl, token->explicit_max_ttl), &ttl,
			ret_warning, err));

	updated = *token;
	updated.expire_time = now + ttl;
	updated.last_renewal_time = now;
	WD_TRY(token_record_save(secrets, &updated, err));
	token->expire_time = updated.expire_time;
	token->last_renewal_time = updated.last_renewal_time;
	return 0;
}
