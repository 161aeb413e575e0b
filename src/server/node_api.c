/* The routes node agents call: attestation with a join token, node SVID
 * renewal, the entries a node is authorized for, and workload SVIDs. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/time.h"
#include "identity/csr.h"
#include "net/net_json.h"
#include "server/server_internal.h"

/* Most audiences one JWT-SVID request may name. */
#define MAX_JWT_AUDIENCES 32
#define MAX_AUDIENCE_LEN 1024

/* The subject key of a CSR, decoded and as its SubjectPublicKeyInfo DER,
 * which the issuer copies instead of encoding the key again. */
struct csr_key {
	EVP_PKEY *key;
	uint8_t *spki;
	size_t spki_len;
};

static void csr_key_clear(struct csr_key *csr)
{
	EVP_PKEY_free(csr->key);
	free(csr->spki);
	memset(csr, 0, sizeof(*csr));
}

/* Reads the "csr" field (PEM) and checks its self-signature. */
static int read_csr(json_t *body, struct csr_key *ret_csr, struct wd_error *err)
{
	const char *csr_pem = NULL;

	memset(ret_csr, 0, sizeof(*ret_csr));
	WD_TRY(net_json_get_string(body, "csr", true, CSR_MAX_BYTES, &csr_pem, err));
	return csr_parse_and_verify_spki(csr_pem, strlen(csr_pem), &ret_csr->key, &ret_csr->spki,
		&ret_csr->spki_len, err);
}

/* Signs an SVID for spiffe_id with the node's or entry's settings and
 * replies with {"spiffe_id","svid","serial","expires_at",...}. */
static int sign_and_build(struct server_ctx *ctx, const char *spiffe_id_text,
	const struct csr_key *csr, const char *const *dns_names, size_t dns_count, int64_t ttl,
	const char *entry_id, struct authority_x509_svid *ret_svid, struct wd_error *err)
{
	struct spiffe_id id;
	struct authority_x509_request request = {
		.spiffe_id = &id,
		.public_key = csr->key,
		.public_key_spki = csr->spki,
		.public_key_spki_len = csr->spki_len,
		.dns_names = dns_names,
		.dns_name_count = dns_count,
		.ttl_seconds = ttl,
		.entry_id = entry_id,
	};

	WD_TRY(spiffe_id_parse(spiffe_id_text, strlen(spiffe_id_text), &id, err));
	return authority_sign_x509(ctx->authority, &request, wd_now(), ret_svid, err);
}

static int reply_node_svid(struct server_ctx *ctx, struct net_request *req, const char *agent_id,
	const struct authority_x509_svid *svid, struct wd_error *err)
{
	char *bundle_pem = NULL;
	json_t *reply = NULL;
	int rc;

	WD_GUARD(server_bundle_pem(ctx, &bundle_pem, err));
	reply = json_pack("{s:s, s:s, s:s, s:s, s:I}", "spiffe_id", agent_id, "svid",
		svid->chain_pem, "bundle", bundle_pem, "serial", svid->serial_hex, "expires_at",
		(json_int_t)svid->not_after);
	WD_ENSURE(reply, WD_ENOMEM);
	rc = net_reply_json(req, 200, reply);
out:
	json_decref(reply);
	free(bundle_pem);
	return rc;
}

/* Applies the per-address attestation rate (SPIRE limits AttestAgent per
 * client IP the same way). Over it, the request fails with WD_ERATELIMIT
 * and a Retry-After header; only the first refusal per address and second
 * is logged and audited, so a flood cannot grow the audit log. */
static int attest_rate_check(struct server_ctx *ctx, struct net_request *req,
	struct wd_error *err)
{
	struct net_ratelimit_verdict verdict;
	char address[INET6_ADDRSTRLEN];
	char retry[24];
	uint64_t retry_seconds;

	if (net_request_peer_address(req, address, sizeof(address)) < 0)
		return 0;
	if (net_ratelimit_take(ctx->attest_limit, address, (uint64_t)wd_monotonic_ms(),
		&verdict) < 0 || verdict.allowed)
		return 0;

	retry_seconds = (verdict.retry_after_ms + 999) / 1000;
	snprintf(retry, sizeof(retry), "%llu", (unsigned long long)retry_seconds);
	/* Retry-After in seconds, RFC 9110 section 10.2.3. */
	if (net_reply_add_header(req, "Retry-After", retry) < 0)
		log_warn("server", "Retry-After header not added", "value", retry);
	wd_error_set(err, WD_ERATELIMIT, "too many attestation attempts from %s; retry in %s s",
		address, retry);
	if (verdict.first_refusal) {
		log_warn("server", "node attestation rate limit reached", "client", address,
			"retry_after_seconds", retry);
		server_audit_failure(ctx, "unauthenticated", "node.attest", address, err);
	}
	return WD_ERATELIMIT;
}

int handle_node_attest(struct net_request *req, void *arg, struct wd_error *err)
{
	static const char *const fields[] = { "join_token", "csr" };
	struct server_ctx *ctx = arg;
	struct authority_x509_svid svid = { 0 };
	struct registry_node *node = NULL;
	json_t *body = NULL;
	struct csr_key csr = { 0 };
	const char *token = NULL;
	char *agent_id = NULL;
	int rc;

	/* Before the body is parsed, so a refused attempt costs no parsing and
	 * adds no audit record beyond the throttled one. */
	WD_TRY(attest_rate_check(ctx, req, err));
	WD_GUARD(server_parse_body(req, fields, WD_ARRAY_LEN(fields), &body, err));
	WD_GUARD(net_json_get_string(body, "join_token", true, 256, &token, err));
	WD_GUARD(read_csr(body, &csr, err));

	/* The token is spent first, so a failure after this point still burns
	 * it: a join token is good for one attempt, as in SPIRE. */
	WD_GUARD(registry_token_consume(ctx->registry, token, wd_now(), &agent_id, err));

	if (registry_node_get(ctx->registry, agent_id, &node, NULL) == 0 && node->banned) {
		rc = wd_error_set(err, WD_EBANNED, "agent %s is banned", agent_id);
		goto out;
	}

	WD_GUARD(sign_and_build(ctx, agent_id, &csr, NULL, 0, 0, NULL, &svid, err));
	WD_GUARD(registry_node_attest(ctx->registry, agent_id, svid.serial_hex, svid.not_after,
		wd_now(), err));
	/* Attesting again retires the agent's earlier serials. */
	server_caller_cache_forget_agent(ctx, agent_id);

	log_info("server", "agent attested", "agent_id", agent_id, "serial", svid.serial_hex);
	server_audit(ctx, agent_id, "node.attest", agent_id, "success", svid.serial_hex);
	server_audit(ctx, agent_id, "token.use", agent_id, "success", NULL);
	rc = reply_node_svid(ctx, req, agent_id, &svid, err);
out:
	if (rc < 0)
		server_audit_failure(ctx, agent_id ? agent_id : "unauthenticated", "node.attest",
			agent_id ? agent_id : "join_token", err);
	registry_node_free(node);
	authority_x509_svid_clear(&svid);
	csr_key_clear(&csr);
	free(agent_id);
	json_decref(body);
	return rc;
}

int handle_node_renew(struct net_request *req, void *arg, struct wd_error *err)
{
	static const char *const fields[] = { "csr" };
	struct server_ctx *ctx = arg;
	struct authority_x509_svid svid = { 0 };
	struct caller caller;
	json_t *body = NULL;
	struct csr_key csr = { 0 };
	int rc;

	WD_GUARD(caller_require_agent(ctx, req, &caller, err));
	WD_GUARD(server_parse_body(req, fields, WD_ARRAY_LEN(fields), &body, err));
	WD_GUARD(read_csr(body, &csr, err));
	WD_GUARD(sign_and_build(ctx, caller.spiffe_id, &csr, NULL, 0, 0, NULL, &svid, err));
	WD_GUARD(registry_node_renew(ctx->registry, caller.spiffe_id, svid.serial_hex, svid.not_after,
		wd_now(), err));
	/* The serial before the previous one stops being accepted. */
	server_caller_cache_forget_agent(ctx, caller.spiffe_id);

	server_audit(ctx, caller.actor, "node.renew", caller.spiffe_id, "success", svid.serial_hex);
	rc = reply_node_svid(ctx, req, caller.spiffe_id, &svid, err);
out:
	if (rc < 0)
		server_audit_failure(ctx, caller.actor[0] ? caller.actor : "unauthenticated",
			"node.renew", caller.spiffe_id, err);
	authority_x509_svid_clear(&svid);
	csr_key_clear(&csr);
	json_decref(body);
	return rc;
}

/* Reads the optional "since" query parameter: a decimal revision from an
 * earlier reply. ret_present is false without it. */
static int read_since(struct net_request *req, bool *ret_present, int64_t *ret_since,
	struct wd_error *err)
{
	const char *text = net_request_query(req, "since");
	int64_t since = 0;

	*ret_present = false;
	*ret_since = 0;
	if (!text)
		return 0;
	if (!*text || strlen(text) > 18)
		return wd_error_set(err, WD_EINVAL, "invalid \"since\": expected a revision of 1 "
			"to 18 digits");
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9')
			return wd_error_set(err, WD_EINVAL, "invalid \"since\": \"%.32s\" is not "
				"a decimal revision", text);
		since = since * 10 + (*p - '0');
	}
	*ret_present = true;
	*ret_since = since;
	return 0;
}

/* Returns the entries the agent is authorized for. With ?since=REV only
 * the entries changed after REV come, as "changed"; without it every entry
 * comes as "entries", as before delta sync. Both carry "revision" (the next
 * since) and "entry_ids", all authorized ids, by which the agent drops
 * deleted entries and entries that left its reach. An agent that also
 * sends unchanged=ok gets {"unchanged": true} when REV is still the entry
 * revision: no entry changed anywhere, so neither did its reach, and the
 * lists are not read, whatever the number of entries the agent has. */
int handle_node_entries(struct net_request *req, void *arg, struct wd_error *err)
{
	struct server_ctx *ctx = arg;
	struct registry_entry_changes *changes = NULL;
	struct caller caller;
	json_t *entries = NULL;
	json_t *ids = NULL;
	json_t *reply = NULL;
	bool delta = false;
	int64_t since = 0;
	int rc;

	WD_GUARD(caller_require_agent(ctx, req, &caller, err));
	WD_GUARD(read_since(req, &delta, &since, err));
	if (delta && since > 0 && net_request_query(req, "unchanged") &&
	    strcmp(net_request_query(req, "unchanged"), "ok") == 0) {
		int64_t revision = 0;

		WD_GUARD(server_entry_revision(ctx, &revision, err));
		if (revision == since) {
			reply = json_pack("{s:b, s:I, s:I}", "unchanged", 1, "revision",
				(json_int_t)revision, "bundle_sequence",
				(json_int_t)authority_bundle_sequence(ctx->authority));
			WD_ENSURE(reply, WD_ENOMEM);
			rc = net_reply_json(req, 200, reply);
			ctx->metrics.entry_syncs++;
			ctx->metrics.entry_syncs_unchanged++;
			goto out;
		}
	}
	WD_GUARD(registry_authorized_changes(ctx->registry, caller.spiffe_id, since, &changes,
		err));

	entries = json_array();
	ids = json_array();
	WD_ENSURE(entries && ids, WD_ENOMEM);
	for (size_t i = 0; i < changes->changed_count; i++) {
		json_t *entry = NULL;

		WD_GUARD(registry_entry_to_json(changes->changed[i], &entry, err));
		WD_ENSURE(json_array_append_new(entries, entry) == 0, WD_ENOMEM);
	}
	for (size_t i = 0; i < changes->id_count; i++)
		WD_ENSURE(json_array_append_new(ids, json_string(changes->ids[i])) == 0,
			WD_ENOMEM);

	reply = json_pack("{s:O, s:O, s:I, s:I}", delta ? "changed" : "entries", entries,
		"entry_ids", ids, "revision", (json_int_t)changes->revision, "bundle_sequence",
		(json_int_t)authority_bundle_sequence(ctx->authority));
	WD_ENSURE(reply, WD_ENOMEM);
	rc = net_reply_json(req, 200, reply);
	ctx->metrics.entry_syncs++;
out:
	json_decref(reply);
	json_decref(ids);
	json_decref(entries);
	registry_entry_changes_free(changes);
	return rc;
}

int handle_svid_x509(struct net_request *req, void *arg, struct wd_error *err)
{
	static const char *const fields[] = { "entry_id", "csr" };
	struct server_ctx *ctx = arg;
	struct authority_x509_svid svid = { 0 };
	struct registry_entry *entry = NULL;
	struct caller caller = { 0 };
	const char *entry_id = NULL;
	json_t *body = NULL;
	json_t *reply = NULL;
	struct csr_key csr = { 0 };
	int rc;

	WD_GUARD(caller_require_agent(ctx, req, &caller, err));
	WD_GUARD(server_parse_body(req, fields, WD_ARRAY_LEN(fields), &body, err));
	WD_GUARD(net_json_get_string(body, "entry_id", true, 64, &entry_id, err));
	WD_GUARD(registry_entry_authorized(ctx->registry, caller.spiffe_id, entry_id, &entry, err));
	WD_GUARD(server_admit_entry(ctx, &caller, entry, err));
	WD_GUARD(read_csr(body, &csr, err));
	WD_GUARD(sign_and_build(ctx, entry->spiffe_id, &csr, (const char *const *)entry->dns_names,
		entry->dns_name_count, entry->x509_svid_ttl, entry->id, &svid, err));

	server_audit(ctx, caller.actor, "svid.issue", entry->spiffe_id, "success", svid.serial_hex);

	reply = json_pack("{s:s, s:s, s:s, s:s, s:I}", "entry_id", entry->id, "spiffe_id",
		entry->spiffe_id, "svid", svid.chain_pem, "serial", svid.serial_hex, "expires_at",
		(json_int_t)svid.not_after);
	WD_ENSURE(reply, WD_ENOMEM);
	rc = net_reply_json(req, 200, reply);
out:
	if (rc < 0)
		server_audit_failure(ctx, caller.actor[0] ? caller.actor : "unauthenticated",
			"svid.issue", entry ? entry->spiffe_id : entry_id, err);
	json_decref(reply);
	authority_x509_svid_clear(&svid);
	csr_key_clear(&csr);
	registry_entry_free(entry);
	json_decref(body);
	return rc;
}

int handle_svid_jwt(struct net_request *req, void *arg, struct wd_error *err)
{
	static const char *const fields[] = { "entry_id", "audience" };
	struct server_ctx *ctx = arg;
	struct registry_entry *entry = NULL;
	struct caller caller = { 0 };
	struct spiffe_id id;
	const char *entry_id = NULL;
	const char **audience = NULL;
	size_t audience_count = 0;
	char *token = NULL;
	int64_t expires_at = 0;
	json_t *body = NULL;
	json_t *reply = NULL;
	int rc;

	WD_GUARD(caller_require_agent(ctx, req, &caller, err));
	WD_GUARD(server_parse_body(req, fields, WD_ARRAY_LEN(fields), &body, err));
	WD_GUARD(net_json_get_string(body, "entry_id", true, 64, &entry_id, err));
	WD_GUARD(net_json_get_string_array(body, "audience", true, MAX_JWT_AUDIENCES,
		MAX_AUDIENCE_LEN, &audience, &audience_count, err));
	if (audience_count == 0) {
		rc = wd_error_set(err, WD_EINVAL, "invalid \"audience\": expected at least one value");
		goto out;
	}
	WD_GUARD(registry_entry_authorized(ctx->registry, caller.spiffe_id, entry_id, &entry, err));
	WD_GUARD(server_admit_entry(ctx, &caller, entry, err));
	WD_GUARD(spiffe_id_parse(entry->spiffe_id, strlen(entry->spiffe_id), &id, err));
	WD_GUARD(authority_sign_jwt(ctx->authority, &id, audience, audience_count,
		entry->jwt_svid_ttl, wd_now(), &token, &expires_at, err));

	server_audit(ctx, caller.actor, "jwt.issue", entry->spiffe_id, "success", audience[0]);

	reply = json_pack("{s:s, s:s, s:I}", "spiffe_id", entry->spiffe_id, "token", token,
		"expires_at", (json_int_t)expires_at);
	WD_ENSURE(reply, WD_ENOMEM);
	rc = net_reply_json(req, 200, reply);
out:
	if (rc < 0)
		server_audit_failure(ctx, caller.actor[0] ? caller.actor : "unauthenticated",
			"jwt.issue", entry ? entry->spiffe_id : entry_id, err);
	json_decref(reply);
	wd_free_secret_str(token);
	free(audience);
	registry_entry_free(entry);
	json_decref(body);
	return rc;
}

int handle_node_bundle(struct net_request *req, void *arg, struct wd_error *err)
{
	struct server_ctx *ctx = arg;
	struct caller caller;
	char *bundle = NULL;
	char *crl = NULL;
	json_t *bundle_json = NULL;
	json_t *reply = NULL;
	uint64_t sequence;
	int rc;

	WD_GUARD(caller_require_agent(ctx, req, &caller, err));

	/* The sequence is read before the documents, so a change that lands in
	 * between shows up as a newer sequence at the next poll. */
	sequence = authority_bundle_sequence(ctx->authority);
	WD_GUARD(authority_bundle_json(ctx->authority, &bundle, err));
	WD_GUARD(authority_crl_pem(ctx->authority, &crl, err));
	bundle_json = json_loads(bundle, JSON_REJECT_DUPLICATES, NULL);
	WD_ENSURE(bundle_json, WD_EINTERNAL);

	reply = json_pack("{s:I, s:O, s:s}", "sequence", (json_int_t)sequence, "bundle", bundle_json,
		"crl", crl);
	WD_ENSURE(reply, WD_ENOMEM);
	rc = net_reply_json(req, 200, reply);
out:
	json_decref(reply);
	json_decref(bundle_json);
	free(crl);
	free(bundle);
	return rc;
}
