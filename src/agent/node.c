/* Node attestation, persistence and renewal of the node SVID. */
#include <arpa/inet.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <openssl/x509.h>

#include "agent/node.h"
#include "common/alloc.h"
#include "common/error.h"
#include "common/file.h"
#include "common/time.h"
#include "crypto/key.h"
#include "crypto/x509.h"
#include "identity/x509svid.h"

#define NODE_FILE_MAX (256u * 1024u)
#define NODE_PATH_MAX 4096
#define NODE_TIMEOUT_MS 10000u

void agent_node_free(struct agent_node *node)
{
	if (!node)
		return;
	free(node->spiffe_id);
	free(node->chain_pem);
	EVP_PKEY_free(node->key);
	sk_X509_pop_free(node->authorities, X509_free);
	free(node);
}

static int join_path(char out[static NODE_PATH_MAX], const char *dir, const char *name,
	struct wd_error *err)
{
	int n = snprintf(out, NODE_PATH_MAX, "%s/%s", dir, name);

	if (n < 0 || n >= NODE_PATH_MAX)
		return wd_error_set(err, WD_EINVAL, "path %.200s/%s is too long", dir, name);
	return 0;
}

/* Fills spiffe_id and validity from the leaf of chain_pem, checked against
 * the node's authorities at now. */
static int node_inspect(struct agent_node *node, int64_t now, struct wd_error *err)
{
	STACK_OF(X509) *chain = NULL;
	X509 *anchors[AGENT_NODE_MAX_AUTHORITIES];
	size_t anchor_count = 0;
	struct spiffe_id id;
	char text[SPIFFE_ID_MAX_LEN + 1];
	int rc;

	WD_GUARD(crypto_x509_chain_from_pem(node->chain_pem, strlen(node->chain_pem), 8, &chain,
		err));
	for (int i = 0; i < sk_X509_num(node->authorities) && anchor_count < WD_ARRAY_LEN(anchors);
	     i++)
		anchors[anchor_count++] = sk_X509_value(node->authorities, i);
	rc = x509svid_verify(chain, anchors, anchor_count, now, &id, err);
	if (rc == WD_EEXPIRED || rc == WD_ECRYPTO) {
		int64_t not_after = 0;

		if (crypto_x509_not_after(sk_X509_value(chain, 0), &not_after) == 0 &&
		    not_after <= now)
			rc = wd_error_set(err, WD_EEXPIRED, "node SVID expired at %lld",
				(long long)not_after);
	}
	if (rc < 0)
		goto out;
	WD_GUARD(crypto_x509_not_before(sk_X509_value(chain, 0), &node->not_before));
	WD_GUARD(crypto_x509_not_after(sk_X509_value(chain, 0), &node->not_after));
	node->received_at = now > node->not_before ? now : node->not_before;
	WD_GUARD(spiffe_id_format(&id, text, sizeof(text)));
	free(node->spiffe_id);
	node->spiffe_id = wd_strdup(text);
	WD_ENSURE(node->spiffe_id, WD_ENOMEM);
	if (X509_check_private_key(sk_X509_value(chain, 0), node->key) != 1) {
		rc = wd_error_set(err, WD_EINVAL, "node key does not match the node SVID");
		goto out;
	}
out:
	ERR_clear_error();
	sk_X509_pop_free(chain, X509_free);
	return rc;
}

int agent_node_load(const char *data_dir, int64_t now, struct agent_node **ret_node,
	struct wd_error *err)
{
	char path[NODE_PATH_MAX];
	struct agent_node *node = NULL;
	uint8_t *data = NULL;
	size_t len = 0;
	int rc;

	*ret_node = NULL;
	node = wd_calloc(1, sizeof(*node));
	if (!node)
		return wd_error_set(err, WD_ENOMEM, "out of memory");

	WD_GUARD(join_path(path, data_dir, AGENT_NODE_CHAIN_FILE, err));
	WD_GUARD(wd_file_read(path, NODE_FILE_MAX, &data, &len, err));
	node->chain_pem = (char *)WD_TAKE_PTR(data);

	WD_GUARD(join_path(path, data_dir, AGENT_NODE_KEY_FILE, err));
	WD_GUARD(crypto_key_load(path, &node->key, err));

	WD_GUARD(join_path(path, data_dir, AGENT_NODE_BUNDLE_FILE, err));
	WD_GUARD(wd_file_read(path, NODE_FILE_MAX, &data, &len, err));
	WD_GUARD(crypto_x509_chain_from_pem((const char *)data, len, AGENT_NODE_MAX_AUTHORITIES,
		&node->authorities, err));

	WD_GUARD(node_inspect(node, now, err));
	*ret_node = WD_TAKE_PTR(node);
out:
	free(data);
	agent_node_free(node);
	return rc;
}

int agent_node_save(const struct agent_node *node, const char *data_dir, struct wd_error *err)
{
	char path[NODE_PATH_MAX];
	X509 *anchors[AGENT_NODE_MAX_AUTHORITIES];
	size_t count = 0;
	char *bundle_pem = NULL;
	int rc;

	WD_GUARD(wd_mkdir_p(data_dir, 0700, err));
	/* The key goes first: a chain without its key would fail to load, while
	 * a key without the new chain is replaced by the next save. */
	WD_GUARD(join_path(path, data_dir, AGENT_NODE_KEY_FILE, err));
	WD_GUARD(crypto_key_save(node->key, path, err));
	WD_GUARD(join_path(path, data_dir, AGENT_NODE_CHAIN_FILE, err));
	WD_GUARD(wd_file_write_atomic(path, node->chain_pem, strlen(node->chain_pem), 0644, err));

	for (int i = 0; i < sk_X509_num(node->authorities) && count < WD_ARRAY_LEN(anchors); i++)
		anchors[count++] = sk_X509_value(node->authorities, i);
	WD_GUARD(crypto_x509_chain_to_pem(anchors, count, &bundle_pem));
	WD_GUARD(join_path(path, data_dir, AGENT_NODE_BUNDLE_FILE, err));
	WD_GUARD(wd_file_write_atomic(path, bundle_pem, strlen(bundle_pem), 0644, err));
out:
	if (rc < 0 && err && err->code == WD_OK)
		wd_error_set(err, rc, "cannot save the node identity in %.300s", data_dir);
	free(bundle_pem);
	return rc;
}

int agent_node_key_and_csr(EVP_PKEY **ret_key, char **ret_csr_pem, struct wd_error *err)
{
	EVP_PKEY *key = NULL;
	X509_REQ *req = NULL;
	BIO *bio = NULL;
	BUF_MEM *mem = NULL;
	int rc = 0;

	*ret_key = NULL;
	*ret_csr_pem = NULL;
	WD_GUARD(crypto_key_generate(CRYPTO_KEY_EC_P256, &key, err));
	req = X509_REQ_new();
	bio = BIO_new(BIO_s_mem());
	WD_ENSURE(req && bio, WD_ENOMEM);
	/* The server takes only the public key from the CSR and names the SVID
	 * itself, so the subject stays empty. */
	if (X509_REQ_set_version(req, 0) != 1 || X509_REQ_set_pubkey(req, key) != 1 ||
	    X509_REQ_sign(req, key, EVP_sha256()) <= 0 || PEM_write_bio_X509_REQ(bio, req) != 1) {
		rc = wd_error_set(err, WD_ECRYPTO, "cannot create a certificate signing request");
		goto out;
	}
	BIO_get_mem_ptr(bio, &mem);
	*ret_csr_pem = wd_strndup(mem->data, mem->length);
	WD_ENSURE(*ret_csr_pem, WD_ENOMEM);
	*ret_key = WD_TAKE_PTR(key);
out:
	ERR_clear_error();
	BIO_free(bio);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
	return rc;
}

/* Checks that the server presents spiffe://<td>/warden/server. */
static int verify_server(STACK_OF(X509) *chain, void *arg, struct wd_error *err)
{
	const char *trust_domain = arg;
	struct spiffe_id id;
	char expected[SPIFFE_ID_MAX_LEN + 1];
	char actual[SPIFFE_ID_MAX_LEN + 1];

	WD_TRY(x509svid_spiffe_id(sk_X509_value(chain, 0), &id, err));
	snprintf(expected, sizeof(expected), "spiffe://%s/warden/server", trust_domain);
	if (spiffe_id_format(&id, actual, sizeof(actual)) < 0 || strcmp(actual, expected) != 0)
		return wd_error_set(err, WD_ECRYPTO, "server presented %.300s, expected %s",
			actual, expected);
	return 0;
}

void agent_servers_init(struct agent_servers *servers, const struct agent_config *config)
{
	servers->config = config;
	atomic_init(&servers->current, 0);
	servers->log = NULL;
	servers->log_arg = NULL;
}

bool agent_servers_fault(int code)
{
	switch (code) {
	case WD_EIO:
	case WD_ETIMEOUT:
	case WD_ECRYPTO:
	case WD_EUNAVAILABLE:
	case WD_EINTERNAL:
	case WD_ESTORE:
	case WD_ERATELIMIT:
		return true;
	default:
		return false;
	}
}

static void log_switch(struct agent_servers *servers, size_t from, size_t to, const char *reason)
{
	struct agent_log_field fields[3] = {
		{ "from", servers->config->servers[from].text },
		{ "to", servers->config->servers[to].text },
		{ "reason", reason },
	};

	if (servers->log)
		servers->log(LOG_LEVEL_WARN, "switched server", fields, 3, servers->log_arg);
}

void agent_servers_advance(struct agent_servers *servers, size_t index, const char *reason)
{
	size_t count = servers->config->server_count;
	size_t expected = index;

	if (count < 2)
		return;
	if (atomic_compare_exchange_strong(&servers->current, &expected, (index + 1) % count))
		log_switch(servers, index, (index + 1) % count, reason);
}

/* Tries each server once, from the current one on; the first that connects
 * becomes current. Returns the last error when none does. */
static int connect_with(struct agent_servers *servers, STACK_OF(X509) *anchors,
	const char *chain_pem, EVP_PKEY *key, unsigned timeout_ms, struct net_client **ret_client,
	size_t *ret_index, struct wd_error *err)
{
	const struct agent_config *config = servers->config;
	X509 *list[AGENT_NODE_MAX_AUTHORITIES];
	size_t count = 0;
	size_t start = atomic_load(&servers->current);
	int rc = WD_EIO;

	for (int i = 0; i < sk_X509_num(anchors) && count < WD_ARRAY_LEN(list); i++)
		list[count++] = sk_X509_value(anchors, i);
	if (start >= config->server_count)
		start = 0;
	for (size_t n = 0; n < config->server_count; n++) {
		size_t index = (start + n) % config->server_count;
		struct net_client_config client_config = {
			.host = config->servers[index].host,
			.port = config->servers[index].port,
			.trust_anchors = list,
			.trust_anchor_count = count,
			.cert_chain_pem = chain_pem,
			.cert_chain_len = chain_pem ? strlen(chain_pem) : 0,
			.key = key,
			.verify = verify_server,
			.verify_arg = config->trust_domain,
			.timeout_ms = timeout_ms,
		};

		if (n > 0)
			wd_error_clear(err);
		rc = net_client_connect(&client_config, ret_client, err);
		if (rc == 0) {
			size_t expected = start;

			if (index != start &&
			    atomic_compare_exchange_strong(&servers->current, &expected, index))
				log_switch(servers, start, index, "cannot connect");
			if (ret_index)
				*ret_index = index;
			return 0;
		}
		if (!agent_servers_fault(rc))
			return rc;
	}
	return rc;
}

int agent_node_connect(const struct agent_node *node, struct agent_servers *servers,
	unsigned timeout_ms, struct net_client **ret_client, size_t *ret_index,
	struct wd_error *err)
{
	return connect_with(servers, node->authorities, node->chain_pem, node->key, timeout_ms,
		ret_client, ret_index, err);
}

int agent_node_request(struct net_client *client, const char *method, const char *path,
	const json_t *body, json_t **ret_reply, struct wd_error *err)
{
	struct net_response *response = NULL;
	json_t *reply = NULL;
	int rc;

	*ret_reply = NULL;
	WD_GUARD(net_client_request_json(client, method, path, body, &response, err));
	WD_GUARD(net_response_json(response, &reply, err));
	if (response->status != 200) {
		const char *code = json_string_value(json_object_get(json_object_get(reply,
			"error"), "code"));
		const char *message = json_string_value(json_object_get(json_object_get(reply,
			"error"), "message"));
		int mapped = WD_EIO;

		for (int c = WD_ERROR_MIN; c < 0; c++)
			if (code && strcmp(wd_error_name(c), code) == 0)
				mapped = c;
		rc = wd_error_set(err, mapped, "%s %s: HTTP %d %s: %.300s", method, path,
			response->status, code ? code : "", message ? message : "");
		goto out;
	}
	*ret_reply = WD_TAKE_PTR(reply);
out:
	json_decref(reply);
	net_response_free(response);
	return rc;
}

/* Stores chain, key and bundle from an attest or renew reply into node. */
static int node_take_reply(struct agent_node *node, json_t *reply, EVP_PKEY **key,
	struct wd_error *err)
{
	const char *svid = json_string_value(json_object_get(reply, "svid"));
	const char *bundle = json_string_value(json_object_get(reply, "bundle"));
	STACK_OF(X509) *authorities = NULL;
	char *chain = NULL;

	if (!svid || !bundle)
		return wd_error_set(err, WD_EINVAL, "server reply lacks \"svid\" or \"bundle\"");
	WD_TRY(crypto_x509_chain_from_pem(bundle, strlen(bundle), AGENT_NODE_MAX_AUTHORITIES,
		&authorities, err));
	chain = wd_strdup(svid);
	if (!chain) {
		sk_X509_pop_free(authorities, X509_free);
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	}
	free(node->chain_pem);
	sk_X509_pop_free(node->authorities, X509_free);
	EVP_PKEY_free(node->key);
	node->chain_pem = chain;
	node->authorities = authorities;
	node->key = WD_TAKE_PTR(*key);
	return 0;
}

int agent_node_attest(struct agent_servers *servers, STACK_OF(X509) *anchors,
	struct agent_node **ret_node, struct wd_error *err)
{
	const struct agent_config *config = servers->config;
	size_t index = 0;
	struct agent_node *node = NULL;
	struct net_client *client = NULL;
	EVP_PKEY *key = NULL;
	char *csr = NULL;
	json_t *body = NULL;
	json_t *reply = NULL;
	int rc;

	*ret_node = NULL;
	if (!config->join_token)
		return wd_error_set(err, WD_ECONFIG, "no node identity in %.300s and no join_token "
			"to attest with", config->data_dir);
	node = wd_calloc(1, sizeof(*node));
	WD_ENSURE(node, WD_ENOMEM);
	WD_GUARD(agent_node_key_and_csr(&key, &csr, err));
	body = json_pack("{s:s, s:s}", "join_token", config->join_token, "csr", csr);
	WD_ENSURE(body, WD_ENOMEM);
	/* A server that fails after the connection (datastore down, say) hands
	 * the attempt to the next one. A server that marked the token used
	 * before failing makes that retry fail with ECONFLICT, which ends the
	 * loop: the operator then issues a new token. */
	for (size_t attempt = 0; attempt < config->server_count; attempt++) {
		if (attempt > 0)
			wd_error_clear(err);
		WD_GUARD(connect_with(servers, anchors, NULL, NULL, NODE_TIMEOUT_MS, &client,
			&index, err));
		rc = agent_node_request(client, "POST", "/v1/node/attest", body, &reply, err);
		net_client_free(client);
		client = NULL;
		if (rc == 0 || !agent_servers_fault(rc))
			break;
		agent_servers_advance(servers, index, wd_error_text(err));
	}
	WD_GUARD(rc);
	WD_GUARD(node_take_reply(node, reply, &key, err));
	WD_GUARD(node_inspect(node, wd_now(), err));
	*ret_node = WD_TAKE_PTR(node);
out:
	if (body) {
		/* The request body held the join token. */
		json_object_del(body, "join_token");
		json_decref(body);
	}
	json_decref(reply);
	net_client_free(client);
	EVP_PKEY_free(key);
	free(csr);
	agent_node_free(node);
	if (rc == WD_ENOMEM && err && err->code == WD_OK)
		wd_error_set(err, rc, "out of memory attesting");
	return rc;
}

int agent_node_renew(struct agent_node *node, struct net_client *client, struct wd_error *err)
{
	struct agent_node *fresh = NULL;
	EVP_PKEY *key = NULL;
	char *csr = NULL;
	json_t *body = NULL;
	json_t *reply = NULL;
	int rc;

	fresh = wd_calloc(1, sizeof(*fresh));
	WD_ENSURE(fresh, WD_ENOMEM);
	WD_GUARD(agent_node_key_and_csr(&key, &csr, err));
	body = json_pack("{s:s}", "csr", csr);
	WD_ENSURE(body, WD_ENOMEM);
	WD_GUARD(agent_node_request(client, "POST", "/v1/node/renew", body, &reply, err));
	WD_GUARD(node_take_reply(fresh, reply, &key, err));
	WD_GUARD(node_inspect(fresh, wd_now(), err));

	/* Swap the contents so the caller's pointer stays valid. */
	struct agent_node swap = *node;
	*node = *fresh;
	*fresh = swap;
out:
	json_decref(body);
	json_decref(reply);
	EVP_PKEY_free(key);
	free(csr);
	agent_node_free(fresh);
	return rc;
}

/* Opens a TCP connection and a TLS handshake without verification, only to
 * read the certificates the server sends. No secret is sent on it. */
static int probe_server_chain(const struct agent_server_address *server,
	STACK_OF(X509) **ret_certs, struct wd_error *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	struct addrinfo *list = NULL;
	struct timeval timeout = { NODE_TIMEOUT_MS / 1000, 0 };
	char port[8];
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	int fd = -1;
	int rc = 0;

	*ret_certs = NULL;
	snprintf(port, sizeof(port), "%u", server->port);
	if (getaddrinfo(server->host, port, &hints, &list) != 0 || !list)
		return wd_error_set(err, WD_EIO, "cannot resolve %.255s", server->host);
	fd = socket(list->ai_family, list->ai_socktype, list->ai_protocol);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout)) != 0 ||
	    connect(fd, list->ai_addr, list->ai_addrlen) != 0) {
		rc = wd_error_set(err, WD_EIO, "cannot connect to %.300s", server->text);
		goto out;
	}
	ctx = SSL_CTX_new(TLS_client_method());
	ssl = ctx ? SSL_new(ctx) : NULL;
	WD_ENSURE(ssl, WD_ENOMEM);
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* Verification comes after the handshake, against the pin. */
	SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
	if (SSL_set_fd(ssl, fd) != 1 || SSL_connect(ssl) != 1) {
		rc = wd_error_set(err, WD_ECRYPTO, "TLS handshake with %.300s failed",
			server->text);
		goto out;
	}
	STACK_OF(X509) *sent = SSL_get_peer_cert_chain(ssl);
	STACK_OF(X509) *copy = sent ? X509_chain_up_ref(sent) : NULL;
	WD_ENSURE(copy, WD_ECRYPTO);
	*ret_certs = copy;
out:
	ERR_clear_error();
	if (ssl)
		SSL_shutdown(ssl);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	if (fd >= 0)
		close(fd);
	freeaddrinfo(list);
	return rc;
}

/* Probes the servers from the current one on until one sends its chain. */
static int probe_servers(struct agent_servers *servers, STACK_OF(X509) **ret_certs,
	struct wd_error *err)
{
	const struct agent_config *config = servers->config;
	size_t start = atomic_load(&servers->current) % config->server_count;
	int rc = WD_EIO;

	for (size_t n = 0; n < config->server_count; n++) {
		size_t index = (start + n) % config->server_count;

		if (n > 0)
			wd_error_clear(err);
		rc = probe_server_chain(&config->servers[index], ret_certs, err);
		if (rc == 0) {
			size_t expected = start;

			if (index != start &&
			    atomic_compare_exchange_strong(&servers->current, &expected, index))
				log_switch(servers, start, index, "cannot connect");
			return 0;
		}
	}
	return rc;
}

int agent_node_bootstrap_anchors(struct agent_servers *servers, STACK_OF(X509) **ret_anchors,
	struct wd_error *err)
{
	const struct agent_config *config = servers->config;
	STACK_OF(X509) *sent = NULL;
	STACK_OF(X509) *anchors = NULL;
	uint8_t *data = NULL;
	size_t len = 0;
	int rc = 0;

	*ret_anchors = NULL;
	if (config->trust_bundle_path) {
		WD_GUARD(wd_file_read(config->trust_bundle_path, NODE_FILE_MAX, &data, &len, err));
		WD_GUARD(crypto_x509_chain_from_pem((const char *)data, len,
			AGENT_NODE_MAX_AUTHORITIES, &anchors, err));
		*ret_anchors = WD_TAKE_PTR(anchors);
		goto out;
	}
	if (!config->trust_bundle_fingerprint) {
		rc = wd_error_set(err, WD_ECONFIG, "set trust_bundle_path or "
			"trust_bundle_fingerprint for the first contact with the server");
		goto out;
	}

	WD_GUARD(probe_servers(servers, &sent, err));
	for (int i = 0; i < sk_X509_num(sent); i++) {
		X509 *cert = sk_X509_value(sent, i);
		char fingerprint[65];

		if (crypto_x509_fingerprint(cert, fingerprint, sizeof(fingerprint)) < 0 ||
		    strcasecmp(fingerprint, config->trust_bundle_fingerprint) != 0 ||
		    X509_check_ca(cert) < 1)
			continue;
		anchors = sk_X509_new_null();
		WD_ENSURE(anchors && X509_up_ref(cert) == 1, WD_ENOMEM);
		if (!sk_X509_push(anchors, cert)) {
			X509_free(cert);
			rc = WD_ENOMEM;
			goto out;
		}
		*ret_anchors = WD_TAKE_PTR(anchors);
		goto out;
	}
	/* warden server sends its active CA after the leaf, so a pin of that CA
	 * matches; a pin of an older CA does not. */
	rc = wd_error_set(err, WD_ECRYPTO, "no CA certificate in the TLS chain of %.300s matches "
		"trust_bundle_fingerprint; use trust_bundle_path",
		config->servers[atomic_load(&servers->current) % config->server_count].text);
out:
	free(data);
	sk_X509_pop_free(sent, X509_free);
	sk_X509_pop_free(anchors, X509_free);
	return rc;
}

enum agent_state agent_node_refusal_state(int code, const char *detail)
{
	switch (code) {
	case WD_EBANNED:
		return AGENT_STATE_BANNED;
	case WD_EREVOKED:
	case WD_EEXPIRED:
		return AGENT_STATE_REVOKED;
	case WD_ENOTFOUND:
		return detail && strstr(detail, "not attested") ? AGENT_STATE_EVICTED :
			AGENT_STATE_ATTESTED;
	default:
		return AGENT_STATE_ATTESTED;
	}
}
