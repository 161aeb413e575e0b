/* The secrets side of a sensor's revocation: the tokens that workloads of
 * the matched entries got by logging in with their SVIDs, and the leases
 * of those tokens. A token records the SPIFFE ID of its login, not the
 * node, so the match is narrowed to the sensor's node where the login
 * shows it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>

#include "common/alloc.h"
#include "server/sensor_internal.h"

struct token_match {
	struct server_ctx *ctx;
	const struct sensor_revocation *revocation;
	/* Per entry of revocation->own: every entry with its SPIFFE ID hangs
	 * from the node, so a login by that ID came from this node. */
	bool *node_bound;
};

/* Returns whether every entry with spiffe_id has the node as its parent.
 * A failed lookup, or more entries than one page, returns false. */
static bool id_bound_to_node(struct server_ctx *ctx, const char *spiffe_id,
	const char *agent_id)
{
	struct registry_entry_filter filter = {
		.spiffe_id = spiffe_id,
		.limit = REGISTRY_LIST_MAX_LIMIT,
	};
	struct registry_entry_list *list = NULL;
	bool bound;

	if (registry_entry_list(ctx->registry, &filter, &list, NULL) < 0)
		return false;
	bound = list->count > 0 && list->next_page_token[0] == '\0';
	for (size_t i = 0; bound && i < list->count; i++)
		bound = strcmp(list->entries[i]->parent_id, agent_id) == 0;
	registry_entry_list_free(list);
	return bound;
}

/* The entry the login certificate was issued under, from the decimal
 * serial cert login keeps in the token's metadata; NULL when unknown. */
static char *login_entry(struct server_ctx *ctx, const char *serial_decimal)
{
	BIGNUM *serial = NULL;
	char *hex = NULL;
	char *entry_id = NULL;

	if (strlen(serial_decimal) > 64 || BN_dec2bn(&serial, serial_decimal) == 0)
		goto out;
	hex = BN_bn2hex(serial);
	if (!hex || authority_serial_entry(ctx->authority, hex, &entry_id, NULL) < 0)
		entry_id = NULL;
out:
	OPENSSL_free(hex);
	BN_free(serial);
	return entry_id;
}

/* A cert login is revoked when its certificate was issued under a matched
 * entry. A JWT-SVID names only its SPIFFE ID, so its login is revoked when
 * that ID belongs to this node alone. */
static bool token_matches(void *arg, const char *path, const json_t *meta)
{
	struct token_match *match = arg;
	const struct sensor_revocation *revocation = match->revocation;
	const char *spiffe_id = json_string_value(json_object_get(meta, "spiffe_id"));
	const char *serial = json_string_value(json_object_get(meta, "serial_number"));
	char *entry_id = NULL;
	bool found = false;

	(void)path;
	if (!spiffe_id)
		return false;
	if (serial)
		entry_id = login_entry(match->ctx, serial);
	for (size_t i = 0; !found && i < revocation->own_count; i++) {
		const struct registry_entry *entry = revocation->own[i];

		if (strcmp(entry->spiffe_id, spiffe_id) != 0)
			continue;
		found = serial ? entry_id && strcmp(entry_id, entry->id) == 0 : match->node_bound[i];
	}
	free(entry_id);
	return found;
}

static void audit_tokens(struct server_ctx *ctx, const struct sensor_revocation *revocation,
	size_t first_token, size_t first_lease)
{
	char detail[AUDIT_FIELD_MAX];
	size_t index;
	json_t *token;
	json_t *lease;

	json_array_foreach(revocation->accessors, index, token) {
		if (index < first_token)
			continue;
		snprintf(detail, sizeof(detail), "accessor=%s path=%s node=%s pid=%" PRId64,
			json_string_value(json_object_get(token, "accessor_hmac")),
			json_string_value(json_object_get(token, "path")), revocation->agent_id,
			revocation->request->pid);
		server_audit(ctx, revocation->actor, "secrets.token.revoke",
			json_string_value(json_object_get(token, "spiffe_id")), "success", detail);
	}
	json_array_foreach(revocation->leases, index, lease) {
		if (index < first_lease)
			continue;
		snprintf(detail, sizeof(detail), "node=%s pid=%" PRId64, revocation->agent_id,
			revocation->request->pid);
		server_audit(ctx, revocation->actor, "secrets.lease.revoke", json_string_value(lease),
			"success", detail);
	}
}

int sensor_revoke_tokens(struct server_ctx *ctx, struct sensor_revocation *revocation,
	struct wd_error *err)
{
	struct token_match match = { .ctx = ctx, .revocation = revocation };
	size_t first_token = json_array_size(revocation->accessors);
	size_t first_lease = json_array_size(revocation->leases);
	int rc;

	if (revocation->own_count == 0)
		return 0;
	if (!ctx->secrets || !secrets_unsealed(ctx->secrets))
		return wd_error_set(err, WD_EUNAVAILABLE, "the secrets service is sealed: tokens of "
			"the matched workloads were not revoked");

	match.node_bound = wd_calloc(revocation->own_count, sizeof(*match.node_bound));
	if (!match.node_bound)
		return wd_error_set(err, WD_ENOMEM, "out of memory matching tokens");
	for (size_t i = 0; i < revocation->own_count; i++)
		match.node_bound[i] = id_bound_to_node(ctx, revocation->own[i]->spiffe_id,
			revocation->agent_id);

	rc = secrets_revoke_tokens_matching(ctx->secrets, token_matches, &match,
		revocation->accessors, revocation->leases, err);
	/* Audit what was revoked even when the walk stopped part way. */
	audit_tokens(ctx, revocation, first_token, first_lease);
	free(match.node_bound);
	return rc;
}
