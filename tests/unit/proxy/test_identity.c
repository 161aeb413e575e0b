/* Unit tests for the proxy identity: snapshots from files, real TLS
 * handshakes between snapshots over a socketpair, refused peers with their
 * exact reasons, CRLs, session resumption and reloading on file change. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/file.h"
#include "common/time.h"
#include "crypto/key.h"
#include "crypto/x509.h"
#include "identity/crl.h"
#include "identity/x509svid.h"
#include "proxy/identity.h"

#define SVID_TTL 3600

struct ca {
	EVP_PKEY *key;
	X509 *cert;
};

struct fixture {
	char dir[64];
	int64_t now;
	struct ca example;   /* the trust domain example.org */
	struct ca other;     /* other.org, in the bundle of the other.org client only */
	struct ca impostor;  /* a second "example.org" CA outside every bundle */
};

/* --- certificates and files --- */

static void ca_create(struct ca *ca, const char *trust_domain, int64_t now)
{
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC_P256, &ca->key, NULL), 0);
	assert_int_equal(x509svid_ca_create(ca->key, trust_domain, now, 86400, 86400, &ca->cert,
		NULL), 0);
}

static void ca_free(struct ca *ca)
{
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
}

static void issue(const struct ca *ca, const char *spiffe_id, int64_t now, X509 **ret_cert,
	EVP_PKEY **ret_key)
{
	struct spiffe_id id;
	struct x509svid_request request = { .id = &id, .now = now, .ttl_seconds = SVID_TTL };

	assert_int_equal(spiffe_id_parse(spiffe_id, strlen(spiffe_id), &id, NULL), 0);
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC_P256, ret_key, NULL), 0);
	request.public_key = *ret_key;
	assert_int_equal(x509svid_issue(ca->cert, ca->key, &request, ret_cert, NULL), 0);
}

static void path_in(const struct fixture *f, const char *name, char *out, size_t len)
{
	assert_true(snprintf(out, len, "%s/%s", f->dir, name) < (int)len);
}

static void write_text(const char *path, const char *text)
{
	assert_int_equal(wd_file_write_atomic(path, text, strlen(text), 0600, NULL), 0);
}

static void write_cert(const char *path, X509 *cert)
{
	char *pem = NULL;

	assert_int_equal(crypto_x509_to_pem(cert, &pem), 0);
	write_text(path, pem);
	free(pem);
}

static void write_key(const char *path, EVP_PKEY *key)
{
	char *pem = NULL;

	assert_int_equal(crypto_key_to_pem(key, &pem, NULL), 0);
	write_text(path, pem);
	free(pem);
}

static void write_bundle(const char *path, X509 *const *cas, size_t count)
{
	char *pem = NULL;

	assert_int_equal(crypto_x509_chain_to_pem(cas, count, &pem), 0);
	write_text(path, pem);
	free(pem);
}

/* One identity's files: name.pem, name.key, name-bundle.pem. */
struct files {
	char cert[128];
	char key[128];
	char bundle[128];
	char crl[128];
	struct proxy_identity_config config;
};

static void files_init(const struct fixture *f, const char *name, struct files *files)
{
	char leaf[64];

	snprintf(leaf, sizeof(leaf), "%s.pem", name);
	path_in(f, leaf, files->cert, sizeof(files->cert));
	snprintf(leaf, sizeof(leaf), "%s.key", name);
	path_in(f, leaf, files->key, sizeof(files->key));
	snprintf(leaf, sizeof(leaf), "%s-bundle.pem", name);
	path_in(f, leaf, files->bundle, sizeof(files->bundle));
	snprintf(leaf, sizeof(leaf), "%s.crl", name);
	path_in(f, leaf, files->crl, sizeof(files->crl));
	memset(&files->config, 0, sizeof(files->config));
	files->config.cert_path = files->cert;
	files->config.key_path = files->key;
	files->config.bundle_path = files->bundle;
}

/* Issues an SVID from ca and writes it with a bundle of bundle_cas. */
static void write_identity(const struct fixture *f, const char *name, const struct ca *ca,
	const char *spiffe_id, int64_t issued_at, X509 *const *bundle_cas, size_t bundle_count,
	struct files *files, X509 **ret_cert)
{
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;

	files_init(f, name, files);
	issue(ca, spiffe_id, issued_at, &cert, &key);
	write_cert(files->cert, cert);
	write_key(files->key, key);
	write_bundle(files->bundle, bundle_cas, bundle_count);
	EVP_PKEY_free(key);
	if (ret_cert)
		*ret_cert = cert;
	else
		X509_free(cert);
}

static struct proxy_identity *load(const struct files *files)
{
	struct proxy_identity *identity = NULL;
	struct wd_error err = { 0 };
	int rc = proxy_identity_load_files(&files->config, &identity, &err);

	if (rc != 0)
		print_error("load failed: %s\n", wd_error_text(&err));
	assert_int_equal(rc, 0);
	assert_non_null(identity);
	return identity;
}

/* An example.org identity trusting only example.org. */
static struct proxy_identity *example_identity(const struct fixture *f, const char *name,
	const char *spiffe_id)
{
	struct files files;

	write_identity(f, name, &f->example, spiffe_id, f->now, &f->example.cert, 1, &files, NULL);
	return load(&files);
}

/* --- handshakes over a socketpair --- */

struct connection {
	SSL *server;
	SSL *client;
	int server_rc; /* 1: handshake done, 0: failed */
	int client_rc;
};

/* Closes with close_notify first: OpenSSL marks the session of a
 * connection freed without it as not resumable. */
static void connection_free(struct connection *c)
{
	if (c->server_rc == 1 && c->client_rc == 1) {
		(void)SSL_shutdown(c->client);
		(void)SSL_shutdown(c->server);
	}
	ERR_clear_error();
	SSL_free(c->server);
	SSL_free(c->client);
}

/* Runs a handshake between a server and a client SSL until both sides
 * finished or one failed and the other cannot progress. */
static void handshake(SSL_CTX *server_ctx, SSL_CTX *client_ctx, SSL_SESSION *session,
	struct connection *c)
{
	int fds[2];
	bool server_done = false;
	bool client_done = false;

	memset(c, 0, sizeof(*c));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	assert_int_equal(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(fcntl(fds[1], F_SETFL, O_NONBLOCK), 0);
	c->server = SSL_new(server_ctx);
	c->client = SSL_new(client_ctx);
	assert_non_null(c->server);
	assert_non_null(c->client);
	/* The SSLs close the descriptors when they are freed. */
	assert_int_equal(SSL_set_fd(c->server, fds[0]), 1);
	assert_int_equal(SSL_set_fd(c->client, fds[1]), 1);
	BIO_set_close(SSL_get_rbio(c->server), BIO_CLOSE);
	BIO_set_close(SSL_get_rbio(c->client), BIO_CLOSE);
	if (session)
		assert_int_equal(SSL_set_session(c->client, session), 1);
	SSL_set_accept_state(c->server);
	SSL_set_connect_state(c->client);

	for (int round = 0; round < 200 && !(server_done && client_done); round++) {
		if (!client_done) {
			int rc = SSL_do_handshake(c->client);
			int error = SSL_get_error(c->client, rc);

			if (rc == 1 || (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE)) {
				client_done = true;
				c->client_rc = rc == 1;
			}
		}
		if (!server_done) {
			int rc = SSL_do_handshake(c->server);
			int error = SSL_get_error(c->server, rc);

			if (rc == 1 || (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE)) {
				server_done = true;
				c->server_rc = rc == 1;
			}
		}
		/* A client that finished TLS 1.3 learns of a rejected
		 * certificate only by reading the server's alert. */
		if (client_done && c->client_rc == 1 && server_done && c->server_rc == 0) {
			char byte;

			(void)SSL_read(c->client, &byte, 1);
		}
	}
	ERR_clear_error();
}

/* Sends a byte each way, which also delivers TLS 1.3 session tickets. */
static void exchange(struct connection *c)
{
	char byte = 0;
	int got = -1;

	assert_int_equal(SSL_write(c->server, "s", 1), 1);
	for (int i = 0; i < 100 && got != 1; i++)
		got = SSL_read(c->client, &byte, 1);
	assert_int_equal(got, 1);
	assert_int_equal(byte, 's');
}

/* A client context that presents cert (or nothing) and verifies nothing,
 * as a hostile or misconfigured peer would. */
static SSL_CTX *plain_client_ctx(X509 *cert, EVP_PKEY *key, int max_version)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	assert_non_null(ctx);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (max_version)
		assert_int_equal(SSL_CTX_set_max_proto_version(ctx, max_version), 1);
	if (cert) {
		assert_int_equal(SSL_CTX_use_certificate(ctx, cert), 1);
		assert_int_equal(SSL_CTX_use_PrivateKey(ctx, key), 1);
	}
	return ctx;
}

/* --- fixture --- */

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/wd-identity-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->now = wd_now();
	ca_create(&f->example, "example.org", f->now);
	ca_create(&f->other, "other.org", f->now);
	ca_create(&f->impostor, "example.org", f->now);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char command[128];

	ca_free(&f->example);
	ca_free(&f->other);
	ca_free(&f->impostor);
	snprintf(command, sizeof(command), "rm -rf '%s'", f->dir);
	if (system(command) != 0)
		fprintf(stderr, "cannot remove %s\n", f->dir);
	free(f);
	return 0;
}

/* --- loading --- */

static void load_files_reads_svid(void **state)
{
	struct fixture *f = *state;
	struct proxy_identity *identity;
	struct files files;
	X509 *cert = NULL;
	int64_t not_after = 0;
	uint8_t *file_pem = NULL;
	size_t file_len = 0;
	size_t chain_len = 0;
	size_t count = 99;

	write_identity(f, "svc", &f->example, "spiffe://example.org/svc", f->now,
		&f->example.cert, 1, &files, &cert);
	identity = load(&files);

	assert_string_equal(proxy_identity_spiffe_id(identity), "spiffe://example.org/svc");
	assert_int_equal(crypto_x509_not_after(cert, &not_after), 0);
	assert_int_equal(proxy_identity_not_after(identity), not_after);
	assert_int_equal(proxy_identity_not_after(identity), f->now + SVID_TTL);
	assert_true(proxy_identity_generation(identity) > 0);

	assert_int_equal(wd_file_read(files.cert, 1 << 20, &file_pem, &file_len, NULL), 0);
	assert_string_equal(proxy_identity_chain_pem(identity, &chain_len), (char *)file_pem);
	assert_int_equal(chain_len, file_len);
	assert_int_equal(X509_check_private_key(cert, proxy_identity_key(identity)), 1);

	assert_non_null(proxy_identity_authorities(identity, "example.org", &count));
	assert_int_equal(count, 1);
	assert_null(proxy_identity_authorities(identity, "other.org", &count));
	assert_int_equal(count, 0);
	assert_non_null(proxy_identity_server_ctx(identity));
	assert_non_null(proxy_identity_client_ctx(identity));

	free(file_pem);
	X509_free(cert);
	proxy_identity_unref(identity);
}

static void load_files_generations_grow(void **state)
{
	struct fixture *f = *state;
	struct proxy_identity *first = example_identity(f, "a", "spiffe://example.org/a");
	struct proxy_identity *second = example_identity(f, "b", "spiffe://example.org/b");

	assert_true(proxy_identity_generation(second) > proxy_identity_generation(first));
	proxy_identity_unref(first);
	proxy_identity_unref(second);
}

static void load_files_key_mismatch(void **state)
{
	struct fixture *f = *state;
	struct proxy_identity *identity = NULL;
	struct wd_error err = { 0 };
	struct files files;
	EVP_PKEY *stranger = NULL;

	write_identity(f, "mismatch", &f->example, "spiffe://example.org/m", f->now,
		&f->example.cert, 1, &files, NULL);
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC_P256, &stranger, NULL), 0);
	write_key(files.key, stranger);

	assert_int_equal(proxy_identity_load_files(&files.config, &identity, &err), WD_EINVAL);
	assert_null(identity);
	assert_non_null(strstr(err.detail, "does not match the SVID of spiffe://example.org/m"));
	assert_non_null(strstr(err.detail, files.cert));
	EVP_PKEY_free(stranger);
}

static void load_files_hostile_input(void **state)
{
	struct fixture *f = *state;
	struct proxy_identity *identity = NULL;
	struct wd_error err = { 0 };
	char expected[256];
	struct files files;

	write_identity(f, "hostile", &f->example, "spiffe://example.org/h", f->now,
		&f->example.cert, 1, &files, NULL);

	write_text(files.bundle, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
	assert_int_equal(proxy_identity_load_files(&files.config, &identity, &err), WD_EINVAL);
	assert_null(identity);
	assert_non_null(strstr(err.detail, files.bundle));

	write_text(files.cert, "not a certificate\n");
	assert_int_equal(proxy_identity_load_files(&files.config, &identity, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, files.cert));

	unlink(files.key);
	write_cert(files.cert, f->example.cert);
	assert_int_equal(proxy_identity_load_files(&files.config, &identity, &err), WD_EIO);
	assert_non_null(strstr(err.detail, files.key));

	files.config.crl_path = files.crl;
	write_identity(f, "hostile", &f->example, "spiffe://example.org/h", f->now,
		&f->example.cert, 1, &files, NULL);
	files.config.crl_path = files.crl;
	write_text(files.crl, "\x30\x82\x7f\xff garbage");
	assert_int_equal(proxy_identity_load_files(&files.config, &identity, &err), WD_EINVAL);
	snprintf(expected, sizeof(expected), "%s: CRL 1 is not valid DER", files.crl);
	assert_string_equal(err.detail, expected);
	assert_null(identity);
}

/* --- handshakes --- */

static void handshake_mutual(void **state)
{
	struct fixture *f = *state;
	struct proxy_identity *server = example_identity(f, "server", "spiffe://example.org/server");
	struct proxy_identity *client = example_identity(f, "client", "spiffe://example.org/client");
	struct connection c;

	handshake(proxy_identity_server_ctx(server), proxy_identity_client_ctx(client), NULL, &c);
	assert_int_equal(c.server_rc, 1);
	assert_int_equal(c.client_rc, 1);
	assert_string_equal(proxy_identity_peer_id(c.server), "spiffe://example.org/client");
	assert_string_equal(proxy_identity_peer_id(c.client), "spiffe://example.org/server");
	assert_null(proxy_identity_refusal(c.server));
	assert_null(proxy_identity_refusal(c.client));
	assert_int_equal(SSL_version(c.server), TLS1_3_VERSION);

	/* The contexts hold what verification needs, so connections outlive
	 * the snapshots they came from. */
	proxy_identity_unref(server);
	proxy_identity_unref(client);
	exchange(&c);
	assert_string_equal(proxy_identity_peer_id(c.server), "spiffe://example.org/client");
	connection_free(&c);
}

static void handshake_tls12(void **state)
{
	struct fixture *f = *state;
	struct proxy_identity *server = example_identity(f, "server", "spiffe://example.org/server");
	struct proxy_identity *client = example_identity(f, "client", "spiffe://example.org/client");
	SSL_CTX *old_client = proxy_identity_client_ctx(client);
	struct connection c;

	assert_int_equal(SSL_CTX_set_max_proto_version(old_client, TLS1_2_VERSION), 1);
	handshake(proxy_identity_server_ctx(server), old_client, NULL, &c);
	assert_int_equal(c.server_rc, 1);
	assert_int_equal(c.client_rc, 1);
	assert_int_equal(SSL_version(c.server), TLS1_2_VERSION);
	assert_string_equal(proxy_identity_peer_id(c.server), "spiffe://example.org/client");
	assert_string_equal(proxy_identity_peer_id(c.client), "spiffe://example.org/server");
	connection_free(&c);
	proxy_identity_unref(server);
	proxy_identity_unref(client);
}

static void handshake_rejects_tls11(void **state)
{
	struct fixture *f = *state;
	struct proxy_identity *server = example_identity(f, "server", "spiffe://example.org/server");
	SSL_CTX *ancient = plain_client_ctx(NULL, NULL, TLS1_1_VERSION);
	struct connection c;

	handshake(proxy_identity_server_ctx(server), ancient, NULL, &c);
	assert_int_equal(c.server_rc, 0);
	assert_int_equal(c.client_rc, 0);
	assert_null(proxy_identity_peer_id(c.server));
	connection_free(&c);
	SSL_CTX_free(ancient);
	proxy_identity_unref(server);
}

static void session_resumes_with_peer_id(void **state)
{
	struct fixture *f = *state;
	struct proxy_identity *server = example_identity(f, "server", "spiffe://example.org/server");
	struct proxy_identity *client = example_identity(f, "client", "spiffe://example.org/client");
	struct proxy_identity *rotated = example_identity(f, "server2",
		"spiffe://example.org/server");
	SSL_SESSION *session;
	struct connection c;

	handshake(proxy_identity_server_ctx(server), proxy_identity_client_ctx(client), NULL, &c);
	assert_int_equal(c.server_rc, 1);
	exchange(&c);
	session = SSL_get1_session(c.client);
	assert_non_null(session);
	assert_int_equal(SSL_SESSION_is_resumable(session), 1);
	connection_free(&c);

	handshake(proxy_identity_server_ctx(server), proxy_identity_client_ctx(client), session,
		&c);
	assert_int_equal(c.server_rc, 1);
	assert_int_equal(c.client_rc, 1);
	assert_int_equal(SSL_session_reused(c.server), 1);
	assert_string_equal(proxy_identity_peer_id(c.server), "spiffe://example.org/client");
	connection_free(&c);

	/* A new snapshot has new ticket keys: the old ticket gets a full
	 * handshake. */
	handshake(proxy_identity_server_ctx(rotated), proxy_identity_client_ctx(client), session,
		&c);
	assert_int_equal(c.server_rc, 1);
	assert_int_equal(SSL_session_reused(c.server), 0);
	assert_string_equal(proxy_identity_peer_id(c.server), "spiffe://example.org/client");
	connection_free(&c);

	SSL_SESSION_free(session);
	proxy_identity_unref(server);
	proxy_identity_unref(client);
	proxy_identity_unref(rotated);
}

/* --- refused peers --- */

static void refuses_other_trust_domain(void **state)
{
	struct fixture *f = *state;
	struct proxy_identity *server = example_identity(f, "server", "spiffe://example.org/server");
	struct proxy_identity *client;
	X509 *both[] = { f->example.cert, f->other.cert };
	struct connection c;
	struct files files;
	size_t count = 0;

	/* The client trusts example.org too, so only the server refuses. */
	write_identity(f, "foreign", &f->other, "spiffe://other.org/x", f->now, both, 2, &files,
		NULL);
	client = load(&files);
	assert_non_null(proxy_identity_authorities(client, "other.org", &count));
	assert_int_equal(count, 1);
	assert_non_null(proxy_identity_authorities(client, "example.org", &count));
	assert_int_equal(count, 1);

	handshake(proxy_identity_server_ctx(server), proxy_identity_client_ctx(client), NULL, &c);
	assert_int_equal(c.server_rc, 0);
	assert_null(proxy_identity_peer_id(c.server));
	assert_string_equal(proxy_identity_refusal(c.server),
		"peer spiffe://other.org/x: no trust bundle for trust domain other.org");
	connection_free(&c);

	/* The other way round the client refuses the server. */
	handshake(proxy_identity_server_ctx(client), proxy_identity_client_ctx(server), NULL, &c);
	assert_int_equal(c.client_rc, 0);
	assert_string_equal(proxy_identity_refusal(c.client),
		"peer spiffe://other.org/x: no trust bundle for trust domain other.org");
	connection_free(&c);

	proxy_identity_unref(server);
	proxy_identity_unref(client);
}

static void refuses_expired_certificate(void **state)
{
	struct fixture *f = *state;
	struct proxy_identity *server = example_identity(f, "server", "spiffe://example.org/server");
	struct proxy_identity *client;
	int64_t issued_at = f->now - 2 * SVID_TTL;
	char expected[PROXY_REFUSAL_MAX];
	char when[WD_TIME_TEXT_MAX];
	struct connection c;
	struct files files;

	write_identity(f, "old", &f->example, "spiffe://example.org/old", issued_at,
		&f->example.cert, 1, &files, NULL);
	client = load(&files);
	assert_int_equal(wd_time_format(issued_at + SVID_TTL, when), 0);
	snprintf(expected, sizeof(expected), "certificate of spiffe://example.org/old expired at %s",
		when);

	handshake(proxy_identity_server_ctx(server), proxy_identity_client_ctx(client), NULL, &c);
	assert_int_equal(c.server_rc, 0);
	assert_string_equal(proxy_identity_refusal(c.server), expected);
	assert_null(proxy_identity_peer_id(c.server));
	connection_free(&c);
	proxy_identity_unref(server);
	proxy_identity_unref(client);
}

/* Writes a CRL of ca revoking cert as PEM or DER. */
static void write_crl(const char *path, const struct ca *ca, X509 *cert, int64_t now, bool der)
{
	char serial[64];
	struct crl_revoked revoked = { serial, now - 60 };
	X509_CRL *crl = NULL;
	unsigned char *bytes = NULL;
	char *pem = NULL;
	int len;

	assert_int_equal(crypto_x509_serial_hex(cert, serial, sizeof(serial)), 0);
	assert_int_equal(crl_build(ca->cert, ca->key, &revoked, 1, 1, now, 3600, &crl, NULL), 0);
	if (der) {
		len = i2d_X509_CRL(crl, &bytes);
		assert_true(len > 0);
		assert_int_equal(wd_file_write_atomic(path, bytes, (size_t)len, 0600, NULL), 0);
		OPENSSL_free(bytes);
	} else {
		assert_int_equal(crl_to_pem(crl, &pem), 0);
		write_text(path, pem);
		free(pem);
	}
	X509_CRL_free(crl);
}

static void refuses_revoked_serial(void **state)
{
	struct fixture *f = *state;
	struct proxy_identity *client;
	struct files server_files;
	struct files client_files;
	char expected[PROXY_REFUSAL_MAX];
	char serial[64];
	X509 *client_cert = NULL;

	write_identity(f, "client", &f->example, "spiffe://example.org/client", f->now,
		&f->example.cert, 1, &client_files, &client_cert);
	client = load(&client_files);
	write_identity(f, "server", &f->example, "spiffe://example.org/server", f->now,
		&f->example.cert, 1, &server_files, NULL);
	server_files.config.crl_path = server_files.crl;
	assert_int_equal(crypto_x509_serial_hex(client_cert, serial, sizeof(serial)), 0);
	snprintf(expected, sizeof(expected),
		"certificate serial %s of spiffe://example.org/client is revoked", serial);

	for (int der = 0; der <= 1; der++) {
		struct proxy_identity *server;
		struct connection c;

		write_crl(server_files.crl, &f->example, client_cert, f->now, der);
		server = load(&server_files);
		handshake(proxy_identity_server_ctx(server), proxy_identity_client_ctx(client),
			NULL, &c);
		assert_int_equal(c.server_rc, 0);
		assert_string_equal(proxy_identity_refusal(c.server), expected);
		assert_null(proxy_identity_peer_id(c.server));
		connection_free(&c);
		proxy_identity_unref(server);
	}
	X509_free(client_cert);
	proxy_identity_unref(client);
}

static void ignores_crl_of_foreign_ca(void **state)
{
	struct fixture *f = *state;
	struct proxy_identity *client;
	struct proxy_identity *server;
	struct files server_files;
	struct files client_files;
	X509 *client_cert = NULL;
	struct connection c;

	write_identity(f, "client", &f->example, "spiffe://example.org/client", f->now,
		&f->example.cert, 1, &client_files, &client_cert);
	client = load(&client_files);
	write_identity(f, "server", &f->example, "spiffe://example.org/server", f->now,
		&f->example.cert, 1, &server_files, NULL);
	server_files.config.crl_path = server_files.crl;
	/* Same issuer name as the real CA, but another key. */
	assert_int_equal(X509_NAME_cmp(X509_get_subject_name(f->impostor.cert),
		X509_get_subject_name(f->example.cert)), 0);
	write_crl(server_files.crl, &f->impostor, client_cert, f->now, false);
	server = load(&server_files);

	handshake(proxy_identity_server_ctx(server), proxy_identity_client_ctx(client), NULL, &c);
	assert_int_equal(c.server_rc, 1);
	assert_string_equal(proxy_identity_peer_id(c.server), "spiffe://example.org/client");
	connection_free(&c);
	X509_free(client_cert);
	proxy_identity_unref(server);
	proxy_identity_unref(client);
}

/* Signs an SVID-shaped leaf with two URI SANs, which no issuer of ours
 * produces. */
static X509 *two_uri_leaf(const struct ca *ca, EVP_PKEY *key, int64_t now)
{
	X509 *cert = X509_new();
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	static const char *const extensions[][2] = {
		{ "basicConstraints", "critical,CA:FALSE" },
		{ "keyUsage", "critical,digitalSignature" },
		{ "extendedKeyUsage", "serverAuth,clientAuth" },
		{ "subjectAltName", "URI:spiffe://example.org/a,URI:spiffe://example.org/b" },
	};

	assert_non_null(cert);
	assert_int_equal(X509_set_version(cert, X509_VERSION_3), 1);
	assert_int_equal(crypto_x509_set_random_serial(cert), 0);
	assert_int_equal(X509_set_issuer_name(cert, X509_get_subject_name(ca->cert)), 1);
	assert_non_null(X509_time_adj_ex(X509_getm_notBefore(cert), 0, -60, (time_t *)&now));
	assert_non_null(X509_time_adj_ex(X509_getm_notAfter(cert), 0, 3600, (time_t *)&now));
	assert_int_equal(X509_set_pubkey(cert, key), 1);
	X509V3_set_ctx(&ctx, ca->cert, cert, NULL, NULL, 0);
	for (size_t i = 0; i < sizeof(extensions) / sizeof(extensions[0]); i++) {
		ext = X509V3_EXT_conf(NULL, &ctx, extensions[i][0], extensions[i][1]);
		assert_non_null(ext);
		assert_int_equal(X509_add_ext(cert, ext, -1), 1);
		X509_EXTENSION_free(ext);
	}
	assert_true(X509_sign(cert, ca->key, EVP_sha256()) > 0);
	return cert;
}

static void refuses_two_uri_sans(void **state)
{
	struct fixture *f = *state;
	struct proxy_identity *server = example_identity(f, "server", "spiffe://example.org/server");
	EVP_PKEY *key = NULL;
	X509 *leaf;
	SSL_CTX *hostile;
	struct connection c;

	assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC_P256, &key, NULL), 0);
	leaf = two_uri_leaf(&f->example, key, f->now);
	hostile = plain_client_ctx(leaf, key, 0);

	handshake(proxy_identity_server_ctx(server), hostile, NULL, &c);
	assert_int_equal(c.server_rc, 0);
	assert_string_equal(proxy_identity_refusal(c.server),
		"certificate has 2 URI SANs, an X.509-SVID must have exactly one");
	assert_null(proxy_identity_peer_id(c.server));
	connection_free(&c);

	SSL_CTX_free(hostile);
	X509_free(leaf);
	EVP_PKEY_free(key);
	proxy_identity_unref(server);
}

static void refuses_missing_client_certificate(void **state)
{
	struct fixture *f = *state;
	struct proxy_identity *server = example_identity(f, "server", "spiffe://example.org/server");
	const int versions[] = { 0, TLS1_2_VERSION };

	for (size_t i = 0; i < 2; i++) {
		SSL_CTX *anonymous = plain_client_ctx(NULL, NULL, versions[i]);
		struct connection c;

		handshake(proxy_identity_server_ctx(server), anonymous, NULL, &c);
		assert_int_equal(c.server_rc, 0);
		assert_string_equal(proxy_identity_refusal(c.server), "no client certificate");
		assert_null(proxy_identity_peer_id(c.server));
		connection_free(&c);
		SSL_CTX_free(anonymous);
	}
	proxy_identity_unref(server);
}

static void verify_peer_codes(void **state)
{
	struct fixture *f = *state;
	struct proxy_identity *identity = example_identity(f, "v", "spiffe://example.org/v");
	STACK_OF(X509) *chain = sk_X509_new_null();
	char reason[PROXY_REFUSAL_MAX];
	char peer[2049];
	EVP_PKEY *key = NULL;
	X509 *leaf = NULL;

	assert_int_equal(proxy_identity_verify_peer(identity, chain, f->now, peer, sizeof(peer),
		reason), WD_ECRYPTO);
	assert_string_equal(reason, "peer sent no certificate");
	assert_string_equal(peer, "");

	issue(&f->example, "spiffe://example.org/peer", f->now, &leaf, &key);
	assert_int_equal(sk_X509_push(chain, leaf), 1);
	assert_int_equal(proxy_identity_verify_peer(identity, chain, f->now, peer, sizeof(peer),
		reason), 0);
	assert_string_equal(peer, "spiffe://example.org/peer");
	assert_string_equal(reason, "");

	/* One second after notAfter. */
	assert_int_equal(proxy_identity_verify_peer(identity, chain, f->now + SVID_TTL + 1, peer,
		sizeof(peer), reason), WD_EEXPIRED);
	assert_string_equal(peer, "");
	assert_non_null(strstr(reason, "certificate of spiffe://example.org/peer expired at "));

	/* A buffer too small for the ID is a refusal, not a cut ID. */
	assert_int_equal(proxy_identity_verify_peer(identity, chain, f->now, peer, 10, reason),
		WD_ECRYPTO);
	assert_string_equal(peer, "");

	sk_X509_pop_free(chain, X509_free);
	EVP_PKEY_free(key);

	/* A leaf signed by the impostor CA fails path validation. */
	chain = sk_X509_new_null();
	issue(&f->impostor, "spiffe://example.org/fake", f->now, &leaf, &key);
	assert_int_equal(sk_X509_push(chain, leaf), 1);
	assert_int_equal(proxy_identity_verify_peer(identity, chain, f->now, peer, sizeof(peer),
		reason), WD_ECRYPTO);
	assert_non_null(strstr(reason, "peer spiffe://example.org/fake: X.509-SVID chain "
		"verification failed"));
	sk_X509_pop_free(chain, X509_free);
	EVP_PKEY_free(key);
	proxy_identity_unref(identity);
}

/* --- sources --- */

static void source_config_errors(void **state)
{
	struct fixture *f = *state;
	struct proxy_identity_source *source = NULL;
	struct proxy_identity_config config = { 0 };
	struct wd_error err = { 0 };
	char socket_path[128];

	assert_int_equal(proxy_identity_source_start(&config, NULL, NULL, &source, &err),
		WD_ECONFIG);
	assert_null(source);

	config.workload_api_socket = "/run/agent.sock";
	config.cert_path = "/etc/svid.pem";
	assert_int_equal(proxy_identity_source_start(&config, NULL, NULL, &source, &err),
		WD_ECONFIG);
	assert_non_null(strstr(err.detail, "/run/agent.sock"));

	config.workload_api_socket = NULL;
	assert_int_equal(proxy_identity_source_start(&config, NULL, NULL, &source, &err),
		WD_ECONFIG);
	assert_non_null(strstr(err.detail, "key"));

	/* No agent listens: start gives up after start_timeout_ms. */
	path_in(f, "missing.sock", socket_path, sizeof(socket_path));
	memset(&config, 0, sizeof(config));
	config.workload_api_socket = socket_path;
	config.start_timeout_ms = 300;
	assert_int_equal(proxy_identity_source_start(&config, NULL, NULL, &source, &err),
		WD_ETIMEOUT);
	assert_null(source);
	assert_non_null(strstr(err.detail, socket_path));
	assert_non_null(strstr(err.detail, "within 300 ms"));
}

static atomic_int changes;

static void count_change(struct proxy_identity *identity, void *arg)
{
	assert_non_null(identity);
	assert_ptr_equal(arg, &changes);
	atomic_fetch_add(&changes, 1);
}

/* Waits up to 5 s for the source's snapshot to change from generation. */
static struct proxy_identity *wait_for_new(struct proxy_identity_source *source,
	uint64_t generation)
{
	for (int i = 0; i < 500; i++) {
		struct proxy_identity *identity = proxy_identity_source_current(source);

		if (proxy_identity_generation(identity) != generation)
			return identity;
		proxy_identity_unref(identity);
		usleep(10000);
	}
	fail_msg("no new snapshot within 5 s");
	return NULL;
}

static void source_reloads_changed_files(void **state)
{
	struct fixture *f = *state;
	struct proxy_identity_source *source = NULL;
	struct proxy_identity *first;
	struct proxy_identity *second;
	struct proxy_identity *third;
	struct wd_error err = { 0 };
	EVP_PKEY *stranger = NULL;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	struct files files;

	write_identity(f, "watched", &f->example, "spiffe://example.org/one", f->now,
		&f->example.cert, 1, &files, NULL);
	files.config.reload_interval_ms = 20;
	atomic_store(&changes, 0);
	assert_int_equal(proxy_identity_source_start(&files.config, count_change, &changes,
		&source, &err), 0);
	first = proxy_identity_source_current(source);
	assert_string_equal(proxy_identity_spiffe_id(first), "spiffe://example.org/one");
	assert_int_equal(atomic_load(&changes), 0);

	/* Unchanged files give no new snapshot. */
	usleep(100000);
	second = proxy_identity_source_current(source);
	assert_ptr_equal(second, first);
	proxy_identity_unref(second);

	/* A certificate whose key has not arrived yet keeps the old
	 * snapshot, tick after tick. */
	issue(&f->example, "spiffe://example.org/two", f->now, &cert, &key);
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC_P256, &stranger, NULL), 0);
	write_key(files.key, stranger);
	write_cert(files.cert, cert);
	usleep(200000);
	second = proxy_identity_source_current(source);
	assert_ptr_equal(second, first);
	assert_string_equal(proxy_identity_spiffe_id(second), "spiffe://example.org/one");
	proxy_identity_unref(second);
	assert_int_equal(atomic_load(&changes), 0);

	/* The matching key completes the set. */
	write_key(files.key, key);
	second = wait_for_new(source, proxy_identity_generation(first));
	assert_string_equal(proxy_identity_spiffe_id(second), "spiffe://example.org/two");
	assert_true(proxy_identity_generation(second) > proxy_identity_generation(first));
	assert_int_equal(atomic_load(&changes), 1);
	/* The old snapshot stays usable for connections that hold it. */
	assert_string_equal(proxy_identity_spiffe_id(first), "spiffe://example.org/one");

	/* A new CRL alone is a change too. */
	proxy_identity_source_free(source);
	source = NULL;
	files.config.crl_path = files.crl;
	write_crl(files.crl, &f->example, f->example.cert, f->now, false);
	assert_int_equal(proxy_identity_source_start(&files.config, count_change, &changes,
		&source, &err), 0);
	proxy_identity_unref(second);
	second = proxy_identity_source_current(source);
	write_crl(files.crl, &f->example, cert, f->now + 1, false);
	third = wait_for_new(source, proxy_identity_generation(second));
	assert_string_equal(proxy_identity_spiffe_id(third), "spiffe://example.org/two");

	proxy_identity_source_free(source);
	/* Snapshots outlive their source. */
	assert_string_equal(proxy_identity_spiffe_id(third), "spiffe://example.org/two");
	proxy_identity_unref(first);
	proxy_identity_unref(second);
	proxy_identity_unref(third);
	X509_free(cert);
	EVP_PKEY_free(key);
	EVP_PKEY_free(stranger);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(load_files_reads_svid),
		cmocka_unit_test(load_files_generations_grow),
		cmocka_unit_test(load_files_key_mismatch),
		cmocka_unit_test(load_files_hostile_input),
		cmocka_unit_test(handshake_mutual),
		cmocka_unit_test(handshake_tls12),
		cmocka_unit_test(handshake_rejects_tls11),
		cmocka_unit_test(session_resumes_with_peer_id),
		cmocka_unit_test(refuses_other_trust_domain),
		cmocka_unit_test(refuses_expired_certificate),
		cmocka_unit_test(refuses_revoked_serial),
		cmocka_unit_test(ignores_crl_of_foreign_ca),
		cmocka_unit_test(refuses_two_uri_sans),
		cmocka_unit_test(refuses_missing_client_certificate),
		cmocka_unit_test(verify_peer_codes),
		cmocka_unit_test(source_config_errors),
		cmocka_unit_test(source_reloads_changed_files),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
