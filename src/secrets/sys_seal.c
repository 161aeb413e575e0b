/* sys/init, sys/unseal, sys/seal and sys/seal-status as Vault serves them
 * (raw JSON bodies, no envelope). These run while the barrier is sealed,
 * except sys/seal, which the core authorizes first (root or sudo). */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/alloc.h"
#include "common/encoding.h"
#include "common/log.h"
#include "net/net_json.h"
#include "secrets/barrier.h"
#include "secrets/sys_seal_private.h"
#include "secrets/token.h"

/* Maximum length of the unseal key text: hex of a share is 66 characters. */
#define UNSEAL_KEY_TEXT_MAX 256
/* Shortest and longest decoded key Vault tries as hex before base64. */
#define UNSEAL_KEY_MIN_BYTES 16
#define UNSEAL_KEY_MAX_BYTES BARRIER_SHARE_LEN

static bool is_initialized(const struct barrier *barrier)
{
	struct barrier_status status;

	barrier_status(barrier, &status);
	return status.initialized;
}

static bool is_write(enum vault_op op)
{
	return op == VAULT_OP_UPDATE || op == VAULT_OP_CREATE;
}

static int unsupported_op(const char *rel, enum vault_op op, struct wd_error *err)
{
	return wd_error_set(err, WD_EUNSUPPORTED, "sys/%s does not support the %s operation", rel,
		vault_op_name(op));
}

static int reply_status(struct secrets *secrets, struct vault_response *resp,
	struct wd_error *err)
{
	json_t *status = NULL;

	WD_TRY(sys_seal_status_json(secrets, &status, err));
	resp->raw = status;
	return 0;
}

/* Rejects a field that requests a feature warden does not have: a
 * non-empty array or string, or a positive number, by the field's type. */
static int reject_used(const json_t *body, const char *name, json_type type, const char *reason,
	struct wd_error *err)
{
	const json_t *value = json_object_get(body, name);
	bool used;

	if (!value || json_is_null(value))
		return 0;
	if (json_typeof(value) != type) {
		const char *expected = "an integer";

		if (type == JSON_ARRAY)
			expected = "an array";
		else if (type == JSON_STRING)
			expected = "a string";
		return wd_error_set(err, WD_EINVAL, "%s must be %s", name, expected);
	}
	if (type == JSON_ARRAY)
		used = json_array_size(value) > 0;
	else if (type == JSON_STRING)
		used = json_string_length(value) > 0;
	else
		used = json_integer_value(value) > 0;
	if (used)
		return wd_error_set(err, WD_EINVAL, "%s is not supported: %s", name, reason);
	return 0;
}

static int init_body_parse(const json_t *body, unsigned *ret_shares, unsigned *ret_threshold,
	struct wd_error *err)
{
	int64_t shares = 0;
	int64_t threshold = 0;

	/* Absent counts read as 0, which barrier_init rejects naming them. */
	WD_TRY(net_json_get_int(body, "secret_shares", false, 0, 65535, &shares, err));
	WD_TRY(net_json_get_int(body, "secret_threshold", false, 0, 65535, &threshold, err));
	WD_TRY(reject_used(body, "pgp_keys", JSON_ARRAY,
		"warden returns the unseal keys unencrypted", err));
	WD_TRY(reject_used(body, "root_token_pgp_key", JSON_STRING,
		"warden returns the root token unencrypted", err));
	WD_TRY(reject_used(body, "stored_shares", JSON_INTEGER, "the shamir seal stores no shares",
		err));
	WD_TRY(reject_used(body, "recovery_shares", JSON_INTEGER,
		"recovery keys exist only with auto-unseal", err));
	WD_TRY(reject_used(body, "recovery_threshold", JSON_INTEGER,
		"recovery keys exist only with auto-unseal", err));
	WD_TRY(reject_used(body, "recovery_pgp_keys", JSON_ARRAY,
		"recovery keys exist only with auto-unseal", err));
	*ret_shares = (unsigned)shares;
	*ret_threshold = (unsigned)threshold;
	return 0;
}

/* Builds {"keys":[hex...],"keys_base64":[...],"root_token":id}. The
 * encoded copies are wiped; jansson's own copies cannot be. */
static int init_reply(uint8_t **shares, unsigned count, const char *root_token,
	json_t **ret_body)
{
	json_t *keys = json_array();
	json_t *keys_base64 = json_array();
	json_t *body = NULL;
	int rc = 0;

	*ret_body = NULL;
	WD_ENSURE(keys && keys_base64, WD_ENOMEM);
	for (unsigned i = 0; i < count; i++) {
		char *hex = NULL;
		char *base64 = NULL;

		rc = wd_hex_encode(shares[i], BARRIER_SHARE_LEN, &hex);
		if (rc == 0)
			rc = wd_base64_encode(shares[i], BARRIER_SHARE_LEN, &base64);
		if (rc == 0 && (json_array_append_new(keys, json_string(hex)) < 0 ||
			json_array_append_new(keys_base64, json_string(base64)) < 0))
			rc = WD_ENOMEM;
		wd_free_secret_str(hex);
		wd_free_secret_str(base64);
		WD_GUARD(rc);
	}
	body = json_pack("{s:O, s:O, s:s}", "keys", keys, "keys_base64", keys_base64, "root_token",
		root_token);
	WD_ENSURE(body, WD_ENOMEM);
	*ret_body = body;

out:
	json_decref(keys);
	json_decref(keys_base64);
	return rc;
}

/* Unseals with the new shares, loads the service and makes the root token,
 * which needs the token store behind the barrier. */
static int init_root_token(struct secrets *secrets, uint8_t **shares, unsigned threshold,
	char root_token[static TOKEN_ID_MAX], struct wd_error *err)
{
	struct sys_cluster cluster;
	bool unsealed = false;

	for (unsigned i = 0; i < threshold && !unsealed; i++)
		WD_TRY(barrier_unseal(secrets->barrier, shares[i], BARRIER_SHARE_LEN, false, &unsealed,
			err));
	if (!unsealed)
		return wd_error_set(err, WD_EINTERNAL, "the new shares did not unseal the barrier");
	WD_TRY(secrets_after_unseal(secrets, err));
	WD_TRY(sys_cluster_identity(secrets, &cluster, err));
	return token_create(secrets, &(struct token_params){
		.root = true,
		.display_name = "root",
		.path = "auth/token/root",
	}, root_token, NULL, err);
}

/* Tells other servers on the datastore that this one's seal state changed
 * ("seal:sealed", "seal:unsealed", "seal:initialized"). The state is this
 * process's, not a stored row, so there is no transaction to join; a lost
 * notification costs only a log line elsewhere. */
static void announce_seal(struct secrets *secrets, const char *payload)
{
	struct wd_error err;

	wd_error_clear(&err);
	if (store_notify(secrets->store, payload, &err) < 0)
		log_warn("secrets", "cannot notify other servers", "change", payload, "error",
			wd_error_text(&err));
}

static int handle_init(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err)
{
	struct barrier_status status;
	uint8_t **shares = NULL;
	char root_token[TOKEN_ID_MAX] = "";
	unsigned count = 0;
	unsigned threshold = 0;
	char counts[32];
	int rc = 0;

	barrier_status(secrets->barrier, &status);
	if (req->op == VAULT_OP_READ) {
		resp->raw = json_pack("{s:b}", "initialized", status.initialized);
		return resp->raw ? 0 : wd_error_set(err, WD_ENOMEM, "encoding the reply failed");
	}
	if (!is_write(req->op))
		return unsupported_op(req->rel, req->op, err);

	WD_TRY(init_body_parse(req->body, &count, &threshold, err));
	WD_TRY(barrier_init(secrets->barrier, count, threshold, &shares, err));

	/* From here a failure undoes the init, so that it can be retried. */
	rc = init_root_token(secrets, shares, threshold, root_token, err);
	if (!barrier_sealed(secrets->barrier)) {
		secrets_before_seal(secrets);
		barrier_seal(secrets->barrier);
	}
	if (rc == 0) {
		rc = init_reply(shares, count, root_token, &resp->raw);
		if (rc < 0)
			wd_error_set(err, rc, "encoding the unseal keys failed");
	}
	if (rc < 0) {
		struct wd_error reset_err;

		log_error("secrets", "init failed; resetting the barrier", "error", wd_error_text(err));
		if (barrier_reset(secrets->barrier, &reset_err) < 0)
			log_error("secrets", "barrier reset failed", "error", wd_error_text(&reset_err));
	} else {
		snprintf(counts, sizeof(counts), "%u of %u", threshold, count);
		log_info("secrets", "barrier initialized", "shares_needed", counts);
		announce_seal(secrets, "seal:initialized");
	}

	OPENSSL_cleanse(root_token, sizeof(root_token));
	barrier_shares_free(shares, count);
	return rc;
}

/* Decodes a share given as hex or base64, trying hex first as Vault does:
 * text that decodes as hex to 16..33 bytes is hex. */
static int unseal_key_decode(const char *text, uint8_t **ret_key, size_t *ret_len,
	struct wd_error *err)
{
	uint8_t *key = NULL;
	size_t len = 0;

	*ret_key = NULL;
	*ret_len = 0;
	if (wd_hex_decode(text, strlen(text), &key, &len) == 0) {
		if (len >= UNSEAL_KEY_MIN_BYTES && len <= UNSEAL_KEY_MAX_BYTES) {
			*ret_key = key;
			*ret_len = len;
			return 0;
		}
		wd_free_secret(key, len + 1);
		key = NULL;
	}
	if (wd_base64_decode(text, strlen(text), &key, &len) < 0)
		return wd_error_set(err, WD_EINVAL, "'key' must be a valid hex or base64 string");
	*ret_key = key;
	*ret_len = len;
	return 0;
}

static int handle_unseal(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err)
{
	const char *text = NULL;
	bool reset = false;
	bool migrate = false;
	bool unsealed = false;
	uint8_t *key = NULL;
	size_t len = 0;
	int rc;

	if (!is_write(req->op))
		return unsupported_op(req->rel, req->op, err);
	WD_TRY(net_json_get_string(req->body, "key", false, UNSEAL_KEY_TEXT_MAX, &text, err));
	WD_TRY(net_json_get_bool(req->body, "reset", false, &reset, err));
	WD_TRY(net_json_get_bool(req->body, "migrate", false, &migrate, err));
	if (migrate)
		return wd_error_set(err, WD_EINVAL,
			"migrate is not supported: warden has only the shamir seal");

	/* As Vault's reset, this succeeds on an uninitialized barrier too. */
	if (reset) {
		if (is_initialized(secrets->barrier))
			WD_TRY(barrier_unseal(secrets->barrier, NULL, 0, true, &unsealed, err));
		return reply_status(secrets, resp, err);
	}
	if (!text || !text[0])
		return wd_error_set(err, WD_EINVAL,
			"'key' must be specified in request body as JSON, or 'reset' set to true");
	if (!barrier_sealed(secrets->barrier))
		return reply_status(secrets, resp, err);

	WD_TRY(unseal_key_decode(text, &key, &len, err));
	rc = barrier_unseal(secrets->barrier, key, len, false, &unsealed, err);
	wd_free_secret(key, len + 1);
	if (rc == WD_ECRYPTO) {
		/* A wrong key is the caller's mistake: 400, as in Vault. */
		log_warn("secrets", "unseal failed: invalid key", "remote", req->remote_address);
		err->code = WD_EINVAL;
		return WD_EINVAL;
	}
	WD_TRY(rc);

	if (unsealed) {
		WD_TRY(secrets_after_unseal(secrets, err));
		log_info("secrets", "barrier unsealed", "remote", req->remote_address);
		secrets_unlock_identity(secrets);
		announce_seal(secrets, "seal:unsealed");
	}
	return reply_status(secrets, resp, err);
}

static int handle_seal(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err)
{
	if (!is_write(req->op))
		return unsupported_op(req->rel, req->op, err);
	if (barrier_sealed(secrets->barrier))
		return wd_error_set(err, WD_EUNAVAILABLE, "Vault is sealed");

	secrets_before_seal(secrets);
	barrier_seal(secrets->barrier);
	log_info("secrets", "barrier sealed", "actor",
		req->token && req->token->display_name ? req->token->display_name : "unknown",
		"remote", req->remote_address);
	announce_seal(secrets, "seal:sealed");
	resp->status = 204;
	return 0;
}

static int handle_seal_status(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err)
{
	if (req->op != VAULT_OP_READ)
		return unsupported_op(req->rel, req->op, err);
	return reply_status(secrets, resp, err);
}

static const struct seal_route {
	const char *name;
	bool unauthenticated;
	int (*handle)(struct secrets *secrets, struct vault_request *req,
		struct vault_response *resp, struct wd_error *err);
} seal_routes[] = {
	{ "init", true, handle_init },
	{ "unseal", true, handle_unseal },
	{ "seal", false, handle_seal },
	{ "seal-status", true, handle_seal_status },
	{ "health", true, sys_health_handle },
};

static const struct seal_route *seal_route_find(const char *rel)
{
	for (size_t i = 0; i < WD_ARRAY_LEN(seal_routes); i++) {
		if (strcmp(rel, seal_routes[i].name) == 0)
			return &seal_routes[i];
	}
	return NULL;
}

int sys_seal_handle(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err)
{
	const struct seal_route *route = seal_route_find(req->rel);

	if (!route)
		return wd_error_set(err, WD_ENOTFOUND,
			"no handler for route \"sys/%.128s\". route entry not found.", req->rel);
	return route->handle(secrets, req, resp, err);
}

bool sys_seal_unauthenticated(const char *rel)
{
	const struct seal_route *route = seal_route_find(rel);

	return route && route->unauthenticated;
}
