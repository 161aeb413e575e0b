/* Server TLS contexts: TLS 1.2 and 1.3 only, ECDHE with AEAD ciphers on
 * TLS 1.2, client certificates verified against the listener's anchors. */
#include <limits.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "net/net_private.h"

/* Mozilla's "intermediate" TLS 1.2 list: forward secrecy and AEAD only.
 * TLS 1.3 suites are all AEAD and keep OpenSSL's defaults. */
static const char tls12_ciphers[] =
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

/* Maximum certificates in a configured chain and intermediates accepted
 * below a trust anchor in a client chain. */
#define TLS_MAX_CHAIN 10
#define TLS_VERIFY_DEPTH 8

/* Index of the per-SSL connection record (struct tls_conn) in ex_data. */
static int tls_conn_index = -1;
static pthread_once_t tls_index_once = PTHREAD_ONCE_INIT;

/* Per-connection record: the listener whose TLS counter it holds and
 * whether it was accepted past max_connections. */
struct tls_conn {
	struct net_listener *listener;
	bool over_limit;
};

/* Runs inside SSL_free, so the listener's count drops exactly when
 * libevent frees the connection's bufferevent. */
static void tls_conn_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
	void *argp)
{
	struct tls_conn *conn = ptr;

	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (!conn)
		return;
	if (conn->listener && !conn->over_limit && conn->listener->tls_connections > 0)
		conn->listener->tls_connections--;
	free(conn);
}

static void tls_index_init(void)
{
	tls_conn_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, tls_conn_free);
}

/* Aborts the handshake of a connection over the listener's limit at its
 * ClientHello, before any certificate work. */
static int client_hello_cb(SSL *ssl, int *alert, void *arg)
{
	struct tls_conn *conn = SSL_get_ex_data(ssl, tls_conn_index);

	(void)arg;
	if (conn && conn->over_limit) {
		*alert = SSL_AD_INTERNAL_ERROR;
		return SSL_CLIENT_HELLO_ERROR;
	}
	return SSL_CLIENT_HELLO_SUCCESS;
}

struct verify_hook {
	net_verify_fn fn;
	void *arg;
};

static int verify_hook_index = -1;
static pthread_once_t verify_index_once = PTHREAD_ONCE_INIT;

static void verify_hook_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
	long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	free(ptr);
}

static void verify_index_init(void)
{
	verify_hook_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, verify_hook_free);
}

/* Runs OpenSSL's chain verification (RFC 5280 path validation against the
 * anchors), then the listener's hook on the verified chain. */
static int cert_verify_cb(X509_STORE_CTX *store_ctx, void *arg)
{
	struct verify_hook *hook = arg;
	STACK_OF(X509) *chain;

	if (X509_verify_cert(store_ctx) <= 0)
		return 0;
	if (!hook || !hook->fn)
		return 1;

	chain = X509_STORE_CTX_get0_chain(store_ctx);
	if (!chain || hook->fn(chain, hook->arg) < 0) {
		X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	return 1;
}

int tls_parse_chain(const char *pem, size_t len, STACK_OF(X509) **ret_chain,
	struct wd_error *err)
{
	BIO *bio = NULL;
	STACK_OF(X509) *chain = NULL;
	int rc = 0;

	*ret_chain = NULL;
	if (!pem || len == 0 || len > INT_MAX)
		return wd_error_set(err, WD_EINVAL, "certificate chain PEM is empty");

	bio = BIO_new_mem_buf(pem, (int)len);
	chain = sk_X509_new_null();
	WD_ENSURE(bio && chain, WD_ENOMEM);
	for (;;) {
		X509 *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);

		if (!cert)
			break;
		if (sk_X509_num(chain) >= TLS_MAX_CHAIN || !sk_X509_push(chain, cert)) {
			X509_free(cert);
			rc = wd_error_set(err, WD_ETOOBIG, "certificate chain has more than %d "
				"certificates", TLS_MAX_CHAIN);
			goto out;
		}
	}
	ERR_clear_error();
	if (sk_X509_num(chain) == 0) {
		rc = wd_error_set(err, WD_EINVAL, "certificate chain PEM contains no "
			"certificate");
		goto out;
	}
	*ret_chain = WD_TAKE_PTR(chain);
out:
	BIO_free(bio);
	sk_X509_pop_free(chain, X509_free);
	return rc;
}

static int ctx_set_certificate(SSL_CTX *ctx, const struct net_tls_config *tls,
	struct wd_error *err)
{
	STACK_OF(X509) *chain = NULL;
	X509 *leaf;
	int rc = 0;

	if (!tls->key)
		return wd_error_set(err, WD_EINVAL, "TLS listener needs a private key");
	WD_GUARD(tls_parse_chain(tls->cert_chain_pem, tls->cert_chain_len, &chain, err));

	leaf = sk_X509_shift(chain);
	/* override=1 replaces the chain on this fresh context; the call checks
	 * that the key matches the leaf. */
	if (SSL_CTX_use_cert_and_key(ctx, leaf, tls->key, chain, 1) != 1) {
		rc = wd_error_set(err, WD_ECRYPTO, "server private key does not match "
			"the first certificate of the chain");
	}
	X509_free(leaf);
out:
	sk_X509_pop_free(chain, X509_free);
	ERR_clear_error();
	return rc;
}

static int ctx_set_client_verify(SSL_CTX *ctx, const struct net_tls_config *tls,
	struct wd_error *err)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	STACK_OF(X509_NAME) *ca_names = NULL;
	struct verify_hook *hook = NULL;
	int mode;

	if (tls->client_cert == NET_CLIENT_CERT_NONE) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		return 0;
	}
	if (tls->client_cert != NET_CLIENT_CERT_OPTIONAL &&
	    tls->client_cert != NET_CLIENT_CERT_REQUIRED)
		return wd_error_set(err, WD_EINVAL, "client certificate policy %d is invalid",
			(int)tls->client_cert);
	if (tls->trust_anchor_count == 0 || !tls->trust_anchors)
		return wd_error_set(err, WD_EINVAL, "client certificates need at least one "
			"trust anchor");

	ca_names = sk_X509_NAME_new_null();
	if (!ca_names)
		return WD_ENOMEM;
	for (size_t i = 0; i < tls->trust_anchor_count; i++) {
		X509_NAME *name = X509_NAME_dup(X509_get_subject_name(tls->trust_anchors[i]));

		if (X509_STORE_add_cert(store, tls->trust_anchors[i]) != 1 || !name ||
		    !sk_X509_NAME_push(ca_names, name)) {
			X509_NAME_free(name);
			sk_X509_NAME_pop_free(ca_names, X509_NAME_free);
			ERR_clear_error();
			return wd_error_set(err, WD_ECRYPTO, "cannot add trust anchor %zu", i);
		}
	}
	/* The CertificateRequest lists the anchors so clients pick a matching
	 * certificate (RFC 8446 section 4.2.4). */
	SSL_CTX_set_client_CA_list(ctx, ca_names);

	hook = calloc(1, sizeof(*hook));
	if (!hook)
		return WD_ENOMEM;
	hook->fn = tls->verify;
	hook->arg = tls->verify_arg;
	if (!SSL_CTX_set_ex_data(ctx, verify_hook_index, hook)) {
		free(hook);
		return WD_ENOMEM;
	}
	SSL_CTX_set_cert_verify_callback(ctx, cert_verify_cb, hook);

	mode = SSL_VERIFY_PEER;
	if (tls->client_cert == NET_CLIENT_CERT_REQUIRED)
		mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	SSL_CTX_set_verify(ctx, mode, NULL);
	SSL_CTX_set_verify_depth(ctx, TLS_VERIFY_DEPTH);
	return 0;
}

int tls_server_ctx_new(const struct net_tls_config *tls, SSL_CTX **ret_ctx, struct wd_error *err)
{
	SSL_CTX *ctx = NULL;
	int rc = 0;

	*ret_ctx = NULL;
	pthread_once(&tls_index_once, tls_index_init);
	pthread_once(&verify_index_once, verify_index_init);
	if (tls_conn_index < 0 || verify_hook_index < 0)
		return wd_error_set(err, WD_EINTERNAL, "cannot allocate OpenSSL ex_data index");
	if (!tls)
		return wd_error_set(err, WD_EINVAL, "TLS listener needs a TLS config");

	ctx = SSL_CTX_new(TLS_server_method());
	WD_ENSURE(ctx, WD_ENOMEM);
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, tls12_ciphers) != 1) {
		rc = wd_error_set(err, WD_ECRYPTO, "cannot set TLS versions or ciphers");
		goto out;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);

	/* No session resumption: a resumed session has no verified chain to
	 * hand to handlers, and a rotated CA must be checked on every
	 * connection. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_num_tickets(ctx, 0);

	SSL_CTX_set_client_hello_cb(ctx, client_hello_cb, NULL);
	WD_GUARD(ctx_set_certificate(ctx, tls, err));
	WD_GUARD(ctx_set_client_verify(ctx, tls, err));
	*ret_ctx = WD_TAKE_PTR(ctx);
out:
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

SSL *tls_connection_new(struct net_listener *listener)
{
	struct tls_conn *conn;
	SSL *ssl;

	conn = calloc(1, sizeof(*conn));
	if (!conn)
		return NULL;
	conn->listener = listener;

	pthread_mutex_lock(&listener->ctx_lock);
	ssl = SSL_new(listener->ctx);
	pthread_mutex_unlock(&listener->ctx_lock);
	if (!ssl || !SSL_set_ex_data(ssl, tls_conn_index, conn)) {
		SSL_free(ssl);
		free(conn);
		ERR_clear_error();
		return NULL;
	}

	if (listener->tls_connections >= listener->server->limits.max_connections)
		conn->over_limit = true;
	else
		listener->tls_connections++;
	return ssl;
}

void tls_connection_detach(SSL *ssl)
{
	struct tls_conn *conn = ssl && tls_conn_index >= 0 ? SSL_get_ex_data(ssl, tls_conn_index) :
		NULL;

	if (conn)
		conn->listener = NULL;
}
