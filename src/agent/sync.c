/* One sync pass and the thread that repeats it. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "agent/rotation.h"
#include "agent/sync.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/time.h"
#include "crypto/x509.h"
#include "identity/bundle.h"

#define SYNC_TIMEOUT_MS 10000u
#define SYNC_MAX_CRLS 16

static void sync_log(struct agent_sync *sync, enum log_level level, const char *message,
	const char *key, const char *value, const char *key2, const char *value2)
{
	struct agent_log_field fields[2] = { { key, value }, { key2, value2 } };
	size_t count = key2 ? 2 : key ? 1 : 0;

	if (sync->log)
		sync->log(level, message, fields, count, sync->log_arg);
}

/* Appends the DER of cert to out (a malloc'd growing buffer). */
static int append_der(X509 *cert, uint8_t **out, size_t *out_len)
{
	int len = i2d_X509(cert, NULL);
	uint8_t *grown;
	uint8_t *p;

	if (len <= 0)
		return WD_ECRYPTO;
	grown = realloc(*out, *out_len + (size_t)len);
	if (!grown)
		return WD_ENOMEM;
	*out = grown;
	p = grown + *out_len;
	if (i2d_X509(cert, &p) != len)
		return WD_ECRYPTO;
	*out_len += (size_t)len;
	return 0;
}

static int connect_node(struct agent_sync *sync, unsigned timeout_ms,
	struct net_client **ret_client, size_t *ret_index, struct wd_error *err)
{
	int rc;

	pthread_mutex_lock(&sync->node_mutex);
	rc = agent_node_connect(sync->node, sync->servers, timeout_ms, ret_client, ret_index,
		err);
	pthread_mutex_unlock(&sync->node_mutex);
	return rc;
}

static int mint_one(struct agent_sync *sync, struct net_client *client, const char *entry_id,
	struct wd_error *err);
static int renew_revoked(struct agent_sync *sync, struct net_client *client,
	const struct agent_revoked_list *revoked, struct wd_error *err);

/* ---- Bundle ---- */

static int parse_crls(const char *pem, uint8_t **ders, size_t *lens, size_t *ret_count)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509_CRL *crl;
	size_t count = 0;
	int rc = 0;

	*ret_count = 0;
	if (!bio)
		return WD_ENOMEM;
	while (count < SYNC_MAX_CRLS && (crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL))) {
		uint8_t *der = NULL;
		int len = i2d_X509_CRL(crl, &der);

		X509_CRL_free(crl);
		if (len <= 0) {
			rc = WD_ECRYPTO;
			break;
		}
		ders[count] = der;
		lens[count++] = (size_t)len;
	}
	ERR_clear_error();
	BIO_free(bio);
	*ret_count = count;
	return rc;
}

static int jwks_of(json_t *bundle, char **ret_json)
{
	json_t *keys = json_array();
	json_t *jwks = NULL;
	json_t *key;
	size_t i;

	*ret_json = NULL;
	if (!keys)
		return WD_ENOMEM;
	json_array_foreach(json_object_get(bundle, "keys"), i, key) {
		const char *use = json_string_value(json_object_get(key, "use"));

		if (use && strcmp(use, "jwt-svid") == 0)
			json_array_append(keys, key);
	}
	jwks = json_pack("{s:o}", "keys", keys);
	if (!jwks)
		return WD_ENOMEM;
	*ret_json = json_dumps(jwks, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(jwks);
	return *ret_json ? 0 : WD_ENOMEM;
}

static int sync_bundle(struct agent_sync *sync, struct net_client *client, struct wd_error *err)
{
	json_t *reply = NULL;
	char *bundle_text = NULL;
	char *jwks = NULL;
	struct bundle_parsed *parsed = NULL;
	uint8_t *ders = NULL;
	size_t ders_len = 0;
	uint8_t *crls[SYNC_MAX_CRLS] = { 0 };
	size_t crl_lens[SYNC_MAX_CRLS] = { 0 };
	size_t crl_count = 0;
	STACK_OF(X509) *authorities = NULL;
	struct agent_revoked_list *revoked = NULL;
	int rc;

	WD_GUARD(agent_node_request(client, "GET", "/v1/node/bundle", NULL, &reply, err));
	json_t *bundle = json_object_get(reply, "bundle");
	const char *crl = json_string_value(json_object_get(reply, "crl"));
	json_int_t sequence = json_integer_value(json_object_get(reply, "sequence"));

	bundle_text = json_dumps(bundle, JSON_COMPACT);
	WD_ENSURE(bundle_text, WD_EINVAL);
	WD_GUARD(bundle_from_spiffe_json(bundle_text, strlen(bundle_text), &parsed, err));
	WD_ENSURE(sk_X509_num(parsed->x509_authorities) > 0, WD_EINVAL);
	for (int i = 0; i < sk_X509_num(parsed->x509_authorities); i++)
		WD_GUARD(append_der(sk_X509_value(parsed->x509_authorities, i), &ders, &ders_len));
	WD_GUARD(jwks_of(bundle, &jwks));
	if (crl)
		WD_GUARD(parse_crls(crl, crls, crl_lens, &crl_count));
	WD_GUARD(agent_cache_set_bundle(sync->cache, ders, ders_len, jwks,
		(const uint8_t *const *)crls, crl_lens, crl_count, (uint64_t)sequence, &revoked,
		err));

	/* Trust every published CA from now on, so the server's next SVID
	 * verifies after a CA rotation, and keep them for a restart. */
	authorities = X509_chain_up_ref(parsed->x509_authorities);
	WD_ENSURE(authorities, WD_ENOMEM);
	pthread_mutex_lock(&sync->node_mutex);
	sk_X509_pop_free(sync->node->authorities, X509_free);
	sync->node->authorities = WD_TAKE_PTR(authorities);
	rc = agent_node_save(sync->node, sync->config->data_dir, err);
	pthread_mutex_unlock(&sync->node_mutex);
	if (rc == 0)
		rc = renew_revoked(sync, client, revoked, err);
out:
	/* The cache leaves announcing dropped SVIDs to its caller, which must
	 * happen even when renewing them never started. */
	if (rc < 0 && revoked && revoked->count)
		agent_cache_notify(sync->cache);
	if (rc < 0 && err && err->code == WD_OK)
		wd_error_set(err, rc, "invalid bundle from the server");
	for (size_t i = 0; i < crl_count; i++)
		OPENSSL_free(crls[i]);
	agent_revoked_list_free(revoked);
	sk_X509_pop_free(authorities, X509_free);
	free(ders);
	free(jwks);
	free(bundle_text);
	bundle_parsed_free(parsed);
	json_decref(reply);
	return rc;
}

/* ---- Entries ---- */

static int put_entry(struct agent_sync *sync, json_t *object, struct wd_error *err)
{
	const char *selectors[AGENT_CACHE_MAX_SELECTORS];
	json_t *list = json_object_get(object, "selectors");
	size_t count = json_array_size(list);
	struct agent_entry_view view = {
		.id = json_string_value(json_object_get(object, "id")),
		.spiffe_id = json_string_value(json_object_get(object, "spiffe_id")),
		.hint = json_string_value(json_object_get(object, "hint")),
		.selectors = selectors,
		.selector_count = count,
		.revision = json_integer_value(json_object_get(object, "revision")),
		.x509_svid_ttl = json_integer_value(json_object_get(object, "x509_svid_ttl")),
		.jwt_svid_ttl = json_integer_value(json_object_get(object, "jwt_svid_ttl")),
	};

	if (count > AGENT_CACHE_MAX_SELECTORS)
		return wd_error_set(err, WD_ETOOBIG, "entry %.64s has too many selectors",
			view.id ? view.id : "?");
	for (size_t i = 0; i < count; i++) {
		selectors[i] = json_string_value(json_array_get(list, i));
		if (!selectors[i])
			return wd_error_set(err, WD_EINVAL, "entry selector %zu is not a string", i);
	}
	return agent_cache_put_entry(sync->cache, &view, err);
}

/* Applies one reply of GET /v1/node/entries?since=N. Sets *ret_missing when
 * entry_ids names an entry the cache lacks, which needs a sync from 0. */
static int apply_entries(struct agent_sync *sync, json_t *reply, bool *ret_missing,
	struct wd_error *err)
{
	json_t *changed = json_object_get(reply, "changed");
	json_t *ids = json_object_get(reply, "entry_ids");
	const char **id_list = NULL;
	size_t id_count = json_array_size(ids);
	size_t dropped = 0;
	json_t *item;
	size_t i;
	int rc = 0;

	*ret_missing = false;
	if (!json_is_array(changed) || !json_is_array(ids) ||
	    !json_is_integer(json_object_get(reply, "revision")))
		return wd_error_set(err, WD_EINVAL, "entries reply lacks changed, entry_ids or "
			"revision");
	json_array_foreach(changed, i, item)
		WD_TRY(put_entry(sync, item, err));

	if (id_count) {
		id_list = wd_calloc(id_count, sizeof(*id_list));
		if (!id_list)
			return wd_error_set(err, WD_ENOMEM, "out of memory");
	}
	json_array_foreach(ids, i, item) {
		id_list[i] = json_string_value(item);
		if (!id_list[i]) {
			free(id_list);
			return wd_error_set(err, WD_EINVAL, "entry_ids holds a non-string");
		}
	}
	rc = agent_cache_retain(sync->cache, id_list, id_count, &dropped);
	free(id_list);
	if (rc < 0)
		return wd_error_set(err, rc, "out of memory");
	if (dropped) {
		char text[24];

		snprintf(text, sizeof(text), "%zu", dropped);
		sync_log(sync, LOG_LEVEL_INFO, "entries dropped", "count", text, NULL, NULL);
	}
	*ret_missing = agent_cache_entry_count(sync->cache) < id_count;
	sync->revision = json_integer_value(json_object_get(reply, "revision"));
	return 0;
}

static int sync_entries(struct agent_sync *sync, struct net_client *client, uint64_t *ret_sequence,
	struct wd_error *err)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		char path[64];
		json_t *reply = NULL;
		bool missing = false;
		int rc;

		/* With a revision in hand the server may reply "unchanged"
		 * without reading any entry, the common case of an idle sync. */
		snprintf(path, sizeof(path), "/v1/node/entries?since=%" PRId64 "%s", sync->revision,
			sync->revision > 0 ? "&unchanged=ok" : "");
		WD_TRY(agent_node_request(client, "GET", path, NULL, &reply, err));
		*ret_sequence = (uint64_t)json_integer_value(json_object_get(reply,
			"bundle_sequence"));
		if (json_is_true(json_object_get(reply, "unchanged")) &&
		    json_integer_value(json_object_get(reply, "revision")) == sync->revision) {
			json_decref(reply);
			return 0;
		}
		rc = apply_entries(sync, reply, &missing, err);
		json_decref(reply);
		WD_TRY(rc);
		if (!missing)
			return 0;
		/* An entry came into reach without changing itself (its parent
		 * changed), so its change_seq is old: fetch everything once. */
		sync->revision = 0;
	}
	return 0;
}

/* ---- Minting ---- */

static int key_to_pkcs8(EVP_PKEY *key, uint8_t **ret_der, size_t *ret_len)
{
	PKCS8_PRIV_KEY_INFO *info = EVP_PKEY2PKCS8(key);
	uint8_t *der = NULL;
	int len;

	*ret_der = NULL;
	*ret_len = 0;
	if (!info)
		return WD_ECRYPTO;
	len = i2d_PKCS8_PRIV_KEY_INFO(info, &der);
	PKCS8_PRIV_KEY_INFO_free(info);
	if (len <= 0)
		return WD_ECRYPTO;
	*ret_der = der;
	*ret_len = (size_t)len;
	return 0;
}

static int mint_one(struct agent_sync *sync, struct net_client *client, const char *entry_id,
	struct wd_error *err)
{
	EVP_PKEY *key = NULL;
	char *csr = NULL;
	json_t *body = NULL;
	json_t *reply = NULL;
	STACK_OF(X509) *chain = NULL;
	uint8_t *chain_der = NULL;
	size_t chain_len = 0;
	uint8_t *key_der = NULL;
	size_t key_len = 0;
	int64_t not_before = 0;
	int64_t not_after = 0;
	int rc;

	WD_GUARD(agent_node_key_and_csr(&key, &csr, err));
	body = json_pack("{s:s, s:s}", "entry_id", entry_id, "csr", csr);
	WD_ENSURE(body, WD_ENOMEM);
	WD_GUARD(agent_node_request(client, "POST", "/v1/svid/x509", body, &reply, err));
	const char *svid = json_string_value(json_object_get(reply, "svid"));
	WD_ENSURE(svid, WD_EINVAL);
	WD_GUARD(crypto_x509_chain_from_pem(svid, strlen(svid), 8, &chain, err));
	for (int i = 0; i < sk_X509_num(chain); i++)
		WD_GUARD(append_der(sk_X509_value(chain, i), &chain_der, &chain_len));
	WD_GUARD(crypto_x509_not_before(sk_X509_value(chain, 0), &not_before));
	WD_GUARD(crypto_x509_not_after(sk_X509_value(chain, 0), &not_after));
	WD_GUARD(key_to_pkcs8(key, &key_der, &key_len));
	/* The server backdates notBefore for clock skew, so the half life is
	 * counted from when the SVID arrived; counting from notBefore rotated a
	 * 10 s SVID at once, in a loop. */
	rc = agent_cache_set_svid(sync->cache, entry_id, chain_der, chain_len, key_der, key_len,
		not_before, not_after,
		agent_rotation_time(not_before > wd_now() ? not_before : wd_now(), not_after));
	/* The entry may have been dropped meanwhile. */
	if (rc == WD_ENOTFOUND)
		rc = 0;
	if (rc == 0)
		sync_log(sync, LOG_LEVEL_DEBUG, "svid minted", "entry_id", entry_id,
			"spiffe_id", json_string_value(json_object_get(reply, "spiffe_id")));
out:
	if (rc < 0 && err && err->code == WD_OK)
		wd_error_set(err, rc, "cannot mint an X.509-SVID for entry %s", entry_id);
	if (key_der) {
		OPENSSL_cleanse(key_der, key_len);
		OPENSSL_free(key_der);
	}
	free(chain_der);
	sk_X509_pop_free(chain, X509_free);
	json_decref(reply);
	json_decref(body);
	free(csr);
	EVP_PKEY_free(key);
	return rc;
}

static int mint_due(struct agent_sync *sync, struct net_client *client, struct wd_error *err)
{
	char **ids = NULL;
	size_t count = 0;
	int rc;

	WD_TRY(agent_cache_due(sync->cache, wd_now(), &ids, &count));
	rc = 0;
	for (size_t i = 0; i < count && rc == 0; i++) {
		rc = mint_one(sync, client, ids[i], err);
		/* A refusal of one entry (deleted meanwhile) is not the agent's. */
		if (rc == WD_EPERM || rc == WD_EINVAL) {
			sync_log(sync, LOG_LEVEL_WARN, "svid mint failed", "entry_id", ids[i],
				"error", wd_error_text(err));
			rc = 0;
		}
	}
	agent_cache_ids_free(ids, count);
	return rc;
}

/* Logs each X.509-SVID that the new CRLs revoked and mints its replacement
 * at once, as rotation does, then announces the change to the Workload API
 * streams. An entry whose mint fails keeps no X.509-SVID, so workloads get
 * none for it rather than the revoked one, and mint_due retries it. */
static int renew_revoked(struct agent_sync *sync, struct net_client *client,
	const struct agent_revoked_list *revoked, struct wd_error *err)
{
	int rc = 0;

	if (revoked->count == 0)
		return 0;
	pthread_mutex_lock(&sync->node_mutex);
	sync->revoked_svid_count += revoked->count;
	pthread_mutex_unlock(&sync->node_mutex);

	for (size_t i = 0; i < revoked->count && rc == 0; i++) {
		const struct agent_revoked_svid *svid = &revoked->items[i];
		struct agent_log_field fields[] = {
			{ "entry_id", svid->entry_id },
			{ "spiffe_id", svid->spiffe_id },
			{ "serial", svid->serial },
		};

		if (sync->log)
			sync->log(LOG_LEVEL_WARN, "svid revoked on the crl, renewing", fields,
				WD_ARRAY_LEN(fields), sync->log_arg);
		rc = mint_one(sync, client, svid->entry_id, err);
		if (rc < 0)
			sync_log(sync, LOG_LEVEL_WARN, "revoked svid not renewed", "entry_id",
				svid->entry_id, "error", wd_error_text(err));
		/* As in mint_due, a refusal of one entry does not stop the others. */
		if (rc == WD_EPERM || rc == WD_EINVAL) {
			wd_error_clear(err);
			rc = 0;
		}
	}
	agent_cache_notify(sync->cache);
	return rc;
}

/* ---- JWT-SVIDs for the cache ---- */

static int fetch_jwt(const char *entry_id, const char *const *audiences, size_t audience_count,
	char **ret_token, int64_t *ret_expires_at, void *arg, struct wd_error *err)
{
	struct agent_sync *sync = arg;
	struct net_client *client = NULL;
	json_t *body = NULL;
	json_t *list = json_array();
	json_t *reply = NULL;
	int rc = 0;

	*ret_token = NULL;
	*ret_expires_at = 0;
	WD_ENSURE(list, WD_ENOMEM);
	for (size_t i = 0; i < audience_count; i++)
		WD_ENSURE(json_array_append_new(list, json_string(audiences[i])) == 0, WD_ENOMEM);
	body = json_pack("{s:s, s:O}", "entry_id", entry_id, "audience", list);
	WD_ENSURE(body, WD_ENOMEM);
	WD_GUARD(connect_node(sync, AGENT_CACHE_JWT_TIMEOUT_MS, &client, NULL, err));
	WD_GUARD(agent_node_request(client, "POST", "/v1/svid/jwt", body, &reply, err));
	const char *token = json_string_value(json_object_get(reply, "token"));
	WD_ENSURE(token, WD_EINVAL);
	*ret_token = wd_strdup(token);
	WD_ENSURE(*ret_token, WD_ENOMEM);
	*ret_expires_at = json_integer_value(json_object_get(reply, "expires_at"));
out:
	if (rc < 0 && err && err->code == WD_OK)
		wd_error_set(err, rc, "cannot fetch a JWT-SVID for entry %s", entry_id);
	if (reply) {
		json_t *value = json_object_get(reply, "token");

		if (json_is_string(value))
			OPENSSL_cleanse((void *)json_string_value(value),
				strlen(json_string_value(value)));
	}
	json_decref(reply);
	json_decref(body);
	json_decref(list);
	net_client_free(client);
	return rc;
}

/* ---- One pass ---- */

int agent_sync_init(struct agent_sync *sync, const struct agent_config *config,
	struct agent_servers *servers, struct agent_cache *cache, struct agent_node *node,
	struct wd_error *err)
{
	memset(sync, 0, sizeof(*sync));
	sync->config = config;
	sync->servers = servers;
	sync->cache = cache;
	sync->node = node;
	if (pthread_mutex_init(&sync->node_mutex, NULL) != 0 ||
	    pthread_mutex_init(&sync->wake_mutex, NULL) != 0 ||
	    pthread_cond_init(&sync->wake, NULL) != 0)
		return wd_error_set(err, WD_EINTERNAL, "cannot create the sync thread's locks");
	agent_cache_set_jwt_fetch(cache, fetch_jwt, sync);
	return 0;
}

static int renew_if_due(struct agent_sync *sync, struct net_client *client, struct wd_error *err)
{
	int64_t now = wd_now();
	int rc = 0;

	pthread_mutex_lock(&sync->node_mutex);
	int64_t half = sync->node->received_at +
		(sync->node->not_after - sync->node->received_at) / 2;
	if (now >= half) {
		rc = agent_node_renew(sync->node, client, err);
		if (rc == 0)
			rc = agent_node_save(sync->node, sync->config->data_dir, err);
		if (rc == 0)
			sync_log(sync, LOG_LEVEL_INFO, "node svid renewed", "spiffe_id",
				sync->node->spiffe_id, NULL, NULL);
	}
	pthread_mutex_unlock(&sync->node_mutex);
	return rc;
}

static int sync_pass(struct agent_sync *sync, size_t *ret_index, struct wd_error *err)
{
	struct net_client *client = NULL;
	uint64_t sequence = 0;
	bool connected = false;
	bool answered = false;
	int rc;

	WD_GUARD(connect_node(sync, SYNC_TIMEOUT_MS, &client, ret_index, err));
	connected = true;
	WD_GUARD(renew_if_due(sync, client, err));
	WD_GUARD(sync_entries(sync, client, &sequence, err));
	answered = true;
	sync->handshake_failures = 0;
	if (sequence != agent_cache_bundle_sequence(sync->cache) || sequence == 0)
		WD_GUARD(sync_bundle(sync, client, err));
	WD_GUARD(mint_due(sync, client, err));
	pthread_mutex_lock(&sync->node_mutex);
	sync->last_sync_at = wd_now();
	pthread_mutex_unlock(&sync->node_mutex);
out:
	/* With TLS 1.3 the server checks the client certificate after the
	 * client's handshake has finished, so a revoked node SVID shows as a
	 * failed handshake (WD_ECRYPTO) or as a connection closed on the first
	 * request (WD_EIO). A server that cannot be reached at all (WD_EIO
	 * before a connection exists) is an outage, not a refusal: the agent
	 * keeps serving its cache. */
	if (!answered && (rc == WD_ECRYPTO || (rc == WD_EIO && connected)))
		sync->handshake_failures++;
	net_client_free(client);
	return rc;
}

int agent_sync_once(struct agent_sync *sync, struct wd_error *err)
{
	int failures = sync->handshake_failures;
	size_t count = sync->config->server_count;
	int rc = 0;

	for (size_t attempt = 0; attempt < (count ? count : 1); attempt++) {
		size_t index = SIZE_MAX;

		if (attempt > 0)
			wd_error_clear(err);
		rc = sync_pass(sync, &index, err);
		if (rc == 0 || !agent_servers_fault(rc))
			break;
		/* A connection that failed on every server has already walked the
		 * list; a fault after connecting moves to the next server. */
		if (index == SIZE_MAX)
			break;
		agent_servers_advance(sync->servers, index, wd_error_text(err));
	}
	/* One pass counts once toward the revocation guess, however many
	 * servers turned the node SVID away in it. */
	if (rc < 0 && sync->handshake_failures > failures)
		sync->handshake_failures = failures + 1;
	return rc;
}

/* ---- Thread ---- */

/* Waits seconds or until agent_sync_stop; returns true when stopping. */
static bool wait_or_stop(struct agent_sync *sync, int64_t seconds)
{
	struct timespec deadline;
	bool stopping;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += (time_t)seconds;
	pthread_mutex_lock(&sync->wake_mutex);
	while (!sync->stopping) {
		if (pthread_cond_timedwait(&sync->wake, &sync->wake_mutex, &deadline) == ETIMEDOUT)
			break;
	}
	stopping = sync->stopping;
	pthread_mutex_unlock(&sync->wake_mutex);
	return stopping;
}

static void *sync_main(void *arg)
{
	struct agent_sync *sync = arg;
	int64_t interval = sync->config->sync_interval_seconds;
	int64_t delay = interval;
	int64_t backoff = 0;

	while (!wait_or_stop(sync, delay)) {
		struct wd_error err;
		enum agent_state state;
		int rc;

		wd_error_clear(&err);
		rc = agent_sync_once(sync, &err);
		if (rc == 0) {
			backoff = 0;
			delay = interval;
			/* Wake for a rotation due before the next interval. */
			int64_t next = agent_cache_next_rotation(sync->cache) - wd_now();
			if (next < delay)
				delay = next < 1 ? 1 : next;
			continue;
		}

		state = agent_node_refusal_state(rc, err.detail);
		if (state == AGENT_STATE_ATTESTED &&
		    sync->handshake_failures >= AGENT_SYNC_MAX_HANDSHAKE_FAILURES)
			state = AGENT_STATE_REVOKED;
		if (state != AGENT_STATE_ATTESTED) {
			agent_cache_clear(sync->cache);
			if (sync->refused)
				sync->refused(state, wd_error_text(&err), sync->refused_arg);
			break;
		}
		backoff = agent_backoff_next(backoff, interval, AGENT_SYNC_MAX_BACKOFF_SECONDS);
		delay = agent_backoff_jitter(backoff);
		char seconds[24];
		snprintf(seconds, sizeof(seconds), "%" PRId64, delay);
		sync_log(sync, LOG_LEVEL_WARN, "sync failed, serving cached svids", "error",
			wd_error_text(&err), "retry_in_seconds", seconds);
		/* SVIDs may expire while the server is away; streams re-read the
		 * cache, which leaves expired SVIDs out, at every retry.
		 * TODO: wake at the next expiry rather than the next retry, which
		 * backoff spaces up to 60 s apart. */
		agent_cache_notify(sync->cache);
	}
	return NULL;
}

int agent_sync_start(struct agent_sync *sync, struct wd_error *err)
{
	sync->stopping = false;
	if (pthread_create(&sync->thread, NULL, sync_main, sync) != 0)
		return wd_error_set(err, WD_EINTERNAL, "cannot start the sync thread");
	sync->running = true;
	return 0;
}

void agent_sync_stop(struct agent_sync *sync)
{
	if (!sync->running)
		return;
	pthread_mutex_lock(&sync->wake_mutex);
	sync->stopping = true;
	pthread_cond_broadcast(&sync->wake);
	pthread_mutex_unlock(&sync->wake_mutex);
	pthread_join(sync->thread, NULL);
	sync->running = false;
}

void agent_sync_destroy(struct agent_sync *sync)
{
	agent_sync_stop(sync);
	if (sync->cache)
		agent_cache_set_jwt_fetch(sync->cache, NULL, NULL);
	agent_node_free(sync->node);
	sync->node = NULL;
	pthread_mutex_destroy(&sync->node_mutex);
	pthread_mutex_destroy(&sync->wake_mutex);
	pthread_cond_destroy(&sync->wake);
}
