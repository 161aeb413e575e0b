/* The JSON shapes of tokens that Vault clients read: the "auth" block of a
 * login, create or renew response, and the data of a lookup. */
#include <stdio.h>

#include "secrets/token_internal.h"

/* Bytes of an RFC 3339 time as vault_format_time writes it. */
#define TIME_TEXT_MAX 40

/* The TTL granted by the last creation or renewal. */
static int64_t granted_ttl(const struct vault_token *token)
{
	int64_t start = token->last_renewal_time ? token->last_renewal_time : token->creation_time;

	if (token->expire_time == 0)
		return 0;
	return token->expire_time > start ? token->expire_time - start : 0;
}

/* The configured use count; an exhausted token shows 0 left. */
static int64_t shown_uses(const struct vault_token *token)
{
	return token->num_uses < 0 ? 0 : token->num_uses;
}

/* Vault shows metadata as null when a token has none. */
static json_t *meta_or_null(const struct vault_token *token)
{
	if (token->meta && json_object_size(token->meta) > 0)
		return json_deep_copy(token->meta);
	return json_null();
}

int token_auth_block(const struct vault_token *token, const char *id, json_t **ret_auth)
{
	json_t *auth;

	*ret_auth = NULL;
	auth = json_pack("{s:s, s:s, s:O, s:O, s:o, s:I, s:b, s:s, s:s, s:b, s:n, s:I}",
		"client_token", id,
		"accessor", token->accessor,
		"policies", token->policies,
		"token_policies", token->policies,
		"metadata", meta_or_null(token),
		"lease_duration", (json_int_t)granted_ttl(token),
		"renewable", token->renewable,
		"entity_id", "",
		"token_type", "service",
		"orphan", token->orphan,
		"mfa_requirement",
		"num_uses", (json_int_t)shown_uses(token));
	if (!auth)
		return WD_ENOMEM;
	*ret_auth = auth;
	return 0;
}

/* RFC 3339 text of a time in unix seconds, or JSON null for 0. */
static json_t *time_or_null(int64_t seconds)
{
	char text[TIME_TEXT_MAX];

	if (seconds == 0)
		return json_null();
	vault_format_time(seconds * 1000000000, text, sizeof(text));
	return json_string(text);
}

int token_lookup_data(const struct vault_token *token, const char *id, int64_t now,
	json_t **ret_data)
{
	int64_t ttl = token->expire_time > now ? token->expire_time - now : 0;
	json_t *data;
	int rc = 0;

	*ret_data = NULL;
	data = json_pack("{s:s, s:I, s:I, s:s, s:s, s:o, s:I, s:s, s:[], s:o, s:o, s:I, s:b, "
			 "s:s, s:O, s:b, s:I, s:s}",
		"accessor", token->accessor,
		"creation_time", (json_int_t)token->creation_time,
		"creation_ttl", (json_int_t)token->creation_ttl,
		"display_name", token->display_name,
		"entity_id", "",
		"expire_time", time_or_null(token->expire_time),
		"explicit_max_ttl", (json_int_t)token->explicit_max_ttl,
		"id", id,
		"identity_policies",
		"issue_time", time_or_null(token->creation_time),
		"meta", meta_or_null(token),
		"num_uses", (json_int_t)shown_uses(token),
		"orphan", token->orphan,
		"path", token->path,
		"policies", token->policies,
		"renewable", token->renewable,
		"ttl", (json_int_t)ttl,
		"type", "service");
	if (!data)
		return WD_ENOMEM;

	if (token->period > 0)
		rc = json_object_set_new(data, "period", json_integer(token->period));
	if (rc == 0 && token->last_renewal_time > 0) {
		rc = json_object_set_new(data, "last_renewal_time",
			json_integer(token->last_renewal_time));
		if (rc == 0)
			rc = json_object_set_new(data, "last_renewal",
				time_or_null(token->last_renewal_time));
	}
	if (rc != 0) {
		json_decref(data);
		return WD_ENOMEM;
	}
	*ret_data = data;
	return 0;
}
