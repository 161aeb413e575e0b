/* The TLS contexts of a snapshot and their verification: OpenSSL's chain
 * verification is replaced by proxy_identity_verify_peer, whose result is
 * kept per connection for proxy_identity_peer_id. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "common/time.h"
#include "identity/x509svid.h"
#include "proxy/identity_internal.h"

/* TLS 1.2 suites: forward secrecy and AEAD only. TLS 1.3 keeps OpenSSL's
 * default suites, which all qualify. */
#define TLS12_CIPHERS "ECDHE+AESGCM:ECDHE+CHACHA20"
#define TLS_GROUPS "X25519:P-256"
/* Sessions resume only within the same server context, so the value only
 * has to be present (OpenSSL rejects resumption with client verification
 * and no context). */
#define SESSION_ID_CONTEXT "warden-proxy"

/* The verification outcome of one connection, in the SSL's ex_data. */
struct peer_state {
	char spiffe_id[SPIFFE_ID_MAX_LEN + 1];
	char refusal[PROXY_REFUSAL_MAX];
};

static pthread_once_t index_once = PTHREAD_ONCE_INIT;
static int ctx_trust_index = -1;
static int ssl_peer_index = -1;

static void trust_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int index, long argl,
	void *argp)
{
	(void)parent, (void)ad, (void)index, (void)argl, (void)argp;
	identity_trust_unref(ptr);
}

static void peer_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int index, long argl,
	void *argp)
{
	(void)parent, (void)ad, (void)index, (void)argl, (void)argp;
	free(ptr);
}

static void indexes_init(void)
{
	ctx_trust_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, trust_ex_free);
	ssl_peer_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, peer_ex_free);
}

static bool indexes_ready(void)
{
	return pthread_once(&index_once, indexes_init) == 0 && ctx_trust_index >= 0 &&
		ssl_peer_index >= 0;
}

static struct peer_state *peer_state_get(SSL *ssl)
{
	struct peer_state *state;

	if (!ssl || !indexes_ready())
		return NULL;
	state = SSL_get_ex_data(ssl, ssl_peer_index);
	if (state)
		return state;
	state = calloc(1, sizeof(*state));
	if (state && !SSL_set_ex_data(ssl, ssl_peer_index, state)) {
		free(state);
		return NULL;
	}
	return state;
}

static const struct peer_state *peer_state_find(const SSL *ssl)
{
	if (!ssl || !indexes_ready())
		return NULL;
	return SSL_get_ex_data(ssl, ssl_peer_index);
}

/* Replaces X509_verify_cert for both contexts. arg is the trust object
 * the context holds a reference to. */
static int verify_certificate(X509_STORE_CTX *store, void *arg)
{
	const struct identity_trust *trust = arg;
	SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
	STACK_OF(X509) *untrusted = X509_STORE_CTX_get0_untrusted(store);
	X509 *leaf = X509_STORE_CTX_get0_cert(store);
	struct peer_state *state = peer_state_get(ssl);
	STACK_OF(X509) *chain = sk_X509_new_null();
	int rc;

	if (!state || !chain) {
		sk_X509_free(chain);
		X509_STORE_CTX_set_error(store, X509_V_ERR_OUT_OF_MEM);
		return 0;
	}
	/* The untrusted stack is the peer's whole Certificate message, leaf
	 * included. The chain passed on is the leaf, then the rest in order. */
	if (leaf && !sk_X509_push(chain, leaf))
		goto oom;
	for (int i = 0; untrusted && i < sk_X509_num(untrusted); i++) {
		X509 *cert = sk_X509_value(untrusted, i);

		if (cert != leaf && !sk_X509_push(chain, cert))
			goto oom;
	}

	rc = identity_trust_verify(trust, chain, wd_now(), state->spiffe_id,
		sizeof(state->spiffe_id), state->refusal);
	sk_X509_free(chain);
	switch (rc) {
	case 0:
		X509_STORE_CTX_set_error(store, X509_V_OK);
		return 1;
	case WD_EEXPIRED:
		X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_HAS_EXPIRED);
		return 0;
	case WD_EREVOKED:
		X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REVOKED);
		return 0;
	default:
		X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
		return 0;
	}
oom:
	sk_X509_free(chain);
	snprintf(state->refusal, sizeof(state->refusal), "out of memory verifying the peer");
	X509_STORE_CTX_set_error(store, X509_V_ERR_OUT_OF_MEM);
	return 0;
}

/* OpenSSL fails a server handshake without a client certificate before
 * any verify callback runs, so the refusal is recorded from the fatal
 * alert the server sends while reading the client's Certificate:
 * certificate_required (116) in TLS 1.3, handshake_failure (40) in 1.2. */
static void record_alert(const SSL *ssl, int where, int value)
{
	struct peer_state *state;
	int description = value & 0xff;

	if (!(where & SSL_CB_WRITE_ALERT) || (value >> 8) != SSL3_AL_FATAL || !SSL_is_server(ssl))
		return;
	if (description != TLS13_AD_CERTIFICATE_REQUIRED && description != SSL_AD_HANDSHAKE_FAILURE)
		return;
	if (SSL_get_state(ssl) != TLS_ST_SR_CERT || SSL_get0_peer_certificate(ssl))
		return;
	/* The callback receives a const SSL, but the connection's ex_data is
	 * exactly the per-connection state it exists to fill. */
	state = peer_state_get((SSL *)ssl);
	if (state && state->refusal[0] == '\0' && state->spiffe_id[0] == '\0')
		snprintf(state->refusal, sizeof(state->refusal), "no client certificate");
}

/* Decides on a decrypted session ticket: the peer's leaf is checked again
 * (trust domain still trusted, not expired, not revoked) because a resumed
 * handshake skips the verify callback. A ticket that fails gets a full
 * handshake instead. */
static SSL_TICKET_RETURN ticket_decrypted(SSL *ssl, SSL_SESSION *session,
	const unsigned char *key_name, size_t key_name_len, SSL_TICKET_STATUS status, void *arg)
{
	const struct identity_trust *trust = arg;

	(void)ssl, (void)key_name, (void)key_name_len;
	switch (status) {
	case SSL_TICKET_SUCCESS:
	case SSL_TICKET_SUCCESS_RENEW:
		if (!identity_trust_leaf_current(trust, SSL_SESSION_get0_peer(session), wd_now()))
			return SSL_TICKET_RETURN_IGNORE_RENEW;
		return status == SSL_TICKET_SUCCESS ? SSL_TICKET_RETURN_USE :
			SSL_TICKET_RETURN_USE_RENEW;
	default:
		return SSL_TICKET_RETURN_IGNORE_RENEW;
	}
}

static int set_credentials(SSL_CTX *ctx, const struct proxy_identity *identity,
	struct wd_error *err)
{
	if (SSL_CTX_use_certificate(ctx, sk_X509_value(identity->chain, 0)) != 1)
		return wd_error_set(err, WD_ECRYPTO, "TLS context rejected the SVID of %s",
			identity->spiffe_id);
	for (int i = 1; i < sk_X509_num(identity->chain); i++) {
		if (SSL_CTX_add1_chain_cert(ctx, sk_X509_value(identity->chain, i)) != 1)
			return wd_error_set(err, WD_ECRYPTO,
				"TLS context rejected certificate %d of the chain of %s", i,
				identity->spiffe_id);
	}
	if (SSL_CTX_use_PrivateKey(ctx, identity->key) != 1 || SSL_CTX_check_private_key(ctx) != 1)
		return wd_error_set(err, WD_ECRYPTO, "TLS context rejected the key of %s",
			identity->spiffe_id);
	return 0;
}

static int build_ctx(struct proxy_identity *identity, bool server, SSL_CTX **ret_ctx,
	struct wd_error *err)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	uint64_t options = SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION;
	int rc;

	*ret_ctx = NULL;
	WD_ENSURE(ctx, wd_error_set(err, WD_ENOMEM, "out of memory creating a TLS context"));
	WD_ENSURE(indexes_ready(), wd_error_set(err, WD_EINTERNAL, "no OpenSSL ex_data index"));
	WD_ENSURE(SSL_CTX_set_ex_data(ctx, ctx_trust_index, identity->trust),
		wd_error_set(err, WD_ENOMEM, "out of memory creating a TLS context"));
	identity_trust_ref(identity->trust);

	WD_ENSURE(SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1 &&
			SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) == 1 &&
			SSL_CTX_set1_groups_list(ctx, TLS_GROUPS) == 1,
		wd_error_set(err, WD_ECRYPTO, "cannot set the TLS protocol parameters"));
#ifdef SSL_OP_ENABLE_KTLS
	/* Kernel TLS where the kernel and cipher allow it; OpenSSL falls back
	 * to user-space records otherwise. */
	options |= SSL_OP_ENABLE_KTLS;
#endif
	SSL_CTX_set_options(ctx, options);
	/* The event loop does non-blocking I/O from buffers it may move. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	WD_GUARD(set_credentials(ctx, identity, err));
	SSL_CTX_set_cert_verify_callback(ctx, verify_certificate, identity->trust);

	if (server) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
		WD_ENSURE(SSL_CTX_set_session_id_context(ctx, (const unsigned char *)SESSION_ID_CONTEXT,
				sizeof(SESSION_ID_CONTEXT) - 1) == 1,
			wd_error_set(err, WD_ECRYPTO, "cannot set the TLS session ID context"));
		/* Resumption only through tickets, whose keys SSL_CTX_new draws
		 * at random for each context, so a new snapshot (a rotated SVID
		 * or a changed CRL) invalidates every earlier ticket. The
		 * stateful cache is off because TLS 1.2 session-ID resumption
		 * would skip ticket_decrypted. */
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
		WD_ENSURE(SSL_CTX_set_session_ticket_cb(ctx, NULL, ticket_decrypted,
				identity->trust) == 1,
			wd_error_set(err, WD_ECRYPTO, "cannot set the TLS ticket callback"));
		SSL_CTX_set_info_callback(ctx, record_alert);
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}

	*ret_ctx = WD_TAKE_PTR(ctx);
	rc = 0;
out:
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

int identity_tls_build(struct proxy_identity *identity, struct wd_error *err)
{
	int rc;

	WD_GUARD(build_ctx(identity, true, &identity->server_ctx, err));
	WD_GUARD(build_ctx(identity, false, &identity->client_ctx, err));
	rc = 0;
out:
	return rc;
}

const char *proxy_identity_peer_id(const SSL *ssl)
{
	const struct peer_state *found = peer_state_find(ssl);
	struct peer_state *state;
	struct spiffe_id id;
	X509 *peer;

	if (found && found->spiffe_id[0])
		return found->spiffe_id;
	/* A resumed handshake runs no verify callback. The session's peer
	 * certificate was verified when the session was made, and the server
	 * checked it again in ticket_decrypted. */
	if (!ssl || !SSL_session_reused(ssl))
		return NULL;
	peer = SSL_get0_peer_certificate(ssl);
	if (!peer || x509svid_spiffe_id(peer, &id, NULL) < 0)
		return NULL;
	state = peer_state_get((SSL *)ssl);
	if (!state || spiffe_id_format(&id, state->spiffe_id, sizeof(state->spiffe_id)) < 0)
		return NULL;
	return state->spiffe_id;
}

const char *proxy_identity_refusal(const SSL *ssl)
{
	const struct peer_state *state = peer_state_find(ssl);

	return state && state->refusal[0] ? state->refusal : NULL;
}
