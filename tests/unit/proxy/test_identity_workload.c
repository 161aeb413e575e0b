/* Unit tests for the proxy identity's Workload API mode against a fake
 * agent: a gRPC server on its own event loop thread that streams
 * X509SVIDResponse messages the test builds. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <openssl/x509.h>

#include "common/time.h"
#include "crypto/key.h"
#include "crypto/x509.h"
#include "identity/crl.h"
#include "identity/x509svid.h"
#include "net/grpc.h"
#include "proxy/identity.h"
#include "workload.pb-c.h"

struct ca {
	EVP_PKEY *key;
	X509 *cert;
};

/* The fake agent. Commands go to its loop through a pipe because
 * grpc_call_* functions must run on the loop thread. */
static struct {
	char dir[64];
	char path[128];
	struct event_base *base;
	struct event *command_event;
	int command_pipe[2];
	struct grpc_server *server;
	struct grpc_call *held;
	pthread_t thread;
	pthread_mutex_t lock;
	uint8_t *message;     /* the next message to send, guarded by lock */
	size_t message_len;
	atomic_int calls;
	atomic_int insecure_calls;
	int64_t now;
	struct ca example;
	struct ca other;
} agent;

static void send_current(struct grpc_call *call)
{
	pthread_mutex_lock(&agent.lock);
	if (agent.message)
		assert_int_equal(grpc_call_send_message(call, agent.message, agent.message_len), 0);
	pthread_mutex_unlock(&agent.lock);
}

static int handle_fetch(struct grpc_call *call, void *arg, struct wd_error *err)
{
	const char *value = NULL;

	(void)arg;
	if (grpc_call_metadata(call, "workload.spiffe.io", &value) != 1 || !value ||
		strcmp(value, "true") != 0) {
		atomic_fetch_add(&agent.insecure_calls, 1);
		return wd_error_set(err, WD_EINVAL, "missing security header");
	}
	atomic_fetch_add(&agent.calls, 1);
	grpc_call_unref(agent.held);
	agent.held = grpc_call_ref(call);
	send_current(call);
	return 0;
}

static const struct grpc_method methods[] = {
	{ "/SpiffeWorkloadAPI/FetchX509SVID", GRPC_SERVER_STREAMING, handle_fetch, NULL },
};

static void on_command(evutil_socket_t fd, short what, void *arg)
{
	char command = 0;

	(void)what, (void)arg;
	if (read(fd, &command, 1) != 1)
		return;
	switch (command) {
	case 'u': /* send the current message on the open stream */
		if (agent.held && grpc_call_is_open(agent.held))
			send_current(agent.held);
		break;
	case 'f': /* end the stream with OK */
		if (agent.held && grpc_call_is_open(agent.held))
			assert_int_equal(grpc_call_finish(agent.held, GRPC_STATUS_OK, NULL), 0);
		grpc_call_unref(agent.held);
		agent.held = NULL;
		break;
	case 'q':
		grpc_call_unref(agent.held);
		agent.held = NULL;
		grpc_server_free(agent.server);
		agent.server = NULL;
		event_base_loopbreak(agent.base);
		break;
	}
}

static void agent_command(char command)
{
	assert_int_equal(write(agent.command_pipe[1], &command, 1), 1);
}

static void *agent_loop(void *arg)
{
	(void)arg;
	event_base_loop(agent.base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

/* --- messages --- */

struct der {
	uint8_t *data;
	size_t len;
};

static void der_append_cert(struct der *der, X509 *cert)
{
	unsigned char *bytes = NULL;
	int len = i2d_X509(cert, &bytes);

	assert_true(len > 0);
	der->data = realloc(der->data, der->len + (size_t)len);
	assert_non_null(der->data);
	memcpy(der->data + der->len, bytes, (size_t)len);
	der->len += (size_t)len;
	OPENSSL_free(bytes);
}

static void ca_create(struct ca *ca, const char *trust_domain)
{
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC_P256, &ca->key, NULL), 0);
	assert_int_equal(x509svid_ca_create(ca->key, trust_domain, agent.now, 86400, 60, &ca->cert,
		NULL), 0);
}

static void issue(const struct ca *ca, const char *spiffe_id, X509 **ret_cert,
	EVP_PKEY **ret_key)
{
	struct spiffe_id id;
	struct x509svid_request request = { .id = &id, .now = agent.now, .ttl_seconds = 3600 };

	assert_int_equal(spiffe_id_parse(spiffe_id, strlen(spiffe_id), &id, NULL), 0);
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC_P256, ret_key, NULL), 0);
	request.public_key = *ret_key;
	assert_int_equal(x509svid_issue(ca->cert, ca->key, &request, ret_cert, NULL), 0);
}

/* Makes the fake agent's next message: an SVID for spiffe_id, the
 * example.org bundle, other.org as a federated bundle, and a CRL of
 * example.org revoking `revoked` when it is not NULL. */
static void set_message(const char *spiffe_id, X509 *revoked)
{
	X509SVIDResponse response = X509_SVIDRESPONSE__INIT;
	X509SVID svid = X509_SVID__INIT;
	X509SVID *svids[] = { &svid };
	X509SVIDResponse__FederatedBundlesEntry entry =
		X509_SVIDRESPONSE__FEDERATED_BUNDLES_ENTRY__INIT;
	X509SVIDResponse__FederatedBundlesEntry *entries[] = { &entry };
	ProtobufCBinaryData crl_data = { 0 };
	struct der chain = { 0 };
	struct der bundle = { 0 };
	struct der federated = { 0 };
	unsigned char *key_der = NULL;
	unsigned char *crl_der = NULL;
	X509_CRL *crl = NULL;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	int key_len;
	uint8_t *packed;
	size_t packed_len;

	issue(&agent.example, spiffe_id, &cert, &key);
	der_append_cert(&chain, cert);
	der_append_cert(&bundle, agent.example.cert);
	der_append_cert(&federated, agent.other.cert);
	{
		PKCS8_PRIV_KEY_INFO *info = EVP_PKEY2PKCS8(key);

		assert_non_null(info);
		key_len = i2d_PKCS8_PRIV_KEY_INFO(info, &key_der);
		PKCS8_PRIV_KEY_INFO_free(info);
	}
	assert_true(key_len > 0);

	svid.spiffe_id = (char *)spiffe_id;
	svid.x509_svid = (ProtobufCBinaryData){ chain.len, chain.data };
	svid.x509_svid_key = (ProtobufCBinaryData){ (size_t)key_len, key_der };
	svid.bundle = (ProtobufCBinaryData){ bundle.len, bundle.data };
	entry.key = "spiffe://other.org";
	entry.value = (ProtobufCBinaryData){ federated.len, federated.data };
	response.n_svids = 1;
	response.svids = svids;
	response.n_federated_bundles = 1;
	response.federated_bundles = entries;
	if (revoked) {
		char serial[64];
		struct crl_revoked entry_revoked = { serial, agent.now - 10 };
		int len;

		assert_int_equal(crypto_x509_serial_hex(revoked, serial, sizeof(serial)), 0);
		assert_int_equal(crl_build(agent.example.cert, agent.example.key, &entry_revoked, 1,
			1, agent.now, 3600, &crl, NULL), 0);
		len = i2d_X509_CRL(crl, &crl_der);
		assert_true(len > 0);
		crl_data = (ProtobufCBinaryData){ (size_t)len, crl_der };
		response.n_crl = 1;
		response.crl = &crl_data;
	}

	packed_len = x509_svidresponse__get_packed_size(&response);
	packed = malloc(packed_len);
	assert_non_null(packed);
	assert_int_equal(x509_svidresponse__pack(&response, packed), packed_len);
	pthread_mutex_lock(&agent.lock);
	free(agent.message);
	agent.message = packed;
	agent.message_len = packed_len;
	pthread_mutex_unlock(&agent.lock);

	OPENSSL_clear_free(key_der, (size_t)key_len);
	OPENSSL_free(crl_der);
	X509_CRL_free(crl);
	free(chain.data);
	free(bundle.data);
	free(federated.data);
	X509_free(cert);
	EVP_PKEY_free(key);
}

/* --- fixture --- */

static int setup(void **state)
{
	struct wd_error err = { 0 };

	(void)state;
	agent.now = wd_now();
	pthread_mutex_init(&agent.lock, NULL);
	ca_create(&agent.example, "example.org");
	ca_create(&agent.other, "other.org");
	snprintf(agent.dir, sizeof(agent.dir), "/tmp/wd-workload-XXXXXX");
	assert_non_null(mkdtemp(agent.dir));
	snprintf(agent.path, sizeof(agent.path), "%s/agent.sock", agent.dir);

	agent.base = event_base_new();
	assert_non_null(agent.base);
	assert_int_equal(pipe(agent.command_pipe), 0);
	agent.command_event = event_new(agent.base, agent.command_pipe[0], EV_READ | EV_PERSIST,
		on_command, NULL);
	assert_non_null(agent.command_event);
	assert_int_equal(event_add(agent.command_event, NULL), 0);
	assert_int_equal(grpc_server_new(agent.base, NULL, &agent.server, &err), 0);
	assert_int_equal(grpc_server_add_methods(agent.server, methods, 1, &err), 0);
	assert_int_equal(grpc_server_listen_unix(agent.server, agent.path, 0600, &err), 0);
	assert_int_equal(pthread_create(&agent.thread, NULL, agent_loop, NULL), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	agent_command('q');
	pthread_join(agent.thread, NULL);
	event_free(agent.command_event);
	event_base_free(agent.base);
	close(agent.command_pipe[0]);
	close(agent.command_pipe[1]);
	free(agent.message);
	X509_free(agent.example.cert);
	EVP_PKEY_free(agent.example.key);
	X509_free(agent.other.cert);
	EVP_PKEY_free(agent.other.key);
	rmdir(agent.dir);
	pthread_mutex_destroy(&agent.lock);
	return 0;
}

/* --- tests --- */

static atomic_int changes;

static void count_change(struct proxy_identity *identity, void *arg)
{
	(void)arg;
	assert_non_null(identity);
	atomic_fetch_add(&changes, 1);
}

static struct proxy_identity *wait_for_id(struct proxy_identity_source *source,
	const char *spiffe_id)
{
	/* Up to 5 s: a reconnect waits 1 s of backoff first. */
	for (int i = 0; i < 500; i++) {
		struct proxy_identity *identity = proxy_identity_source_current(source);

		if (strcmp(proxy_identity_spiffe_id(identity), spiffe_id) == 0)
			return identity;
		proxy_identity_unref(identity);
		usleep(10000);
	}
	fail_msg("no snapshot for %s within 5 s", spiffe_id);
	return NULL;
}

static int verify(const struct proxy_identity *identity, X509 *leaf, char *peer,
	char reason[static PROXY_REFUSAL_MAX])
{
	STACK_OF(X509) *chain = sk_X509_new_null();
	int rc;

	assert_non_null(chain);
	assert_int_equal(sk_X509_push(chain, leaf), 1);
	rc = proxy_identity_verify_peer(identity, chain, wd_now(), peer, 2049, reason);
	sk_X509_free(chain);
	return rc;
}

static void workload_stream_updates(void **state)
{
	struct proxy_identity_config config = { 0 };
	struct proxy_identity_source *source = NULL;
	struct proxy_identity *first;
	struct proxy_identity *second;
	struct proxy_identity *third;
	struct wd_error err = { 0 };
	char reason[PROXY_REFUSAL_MAX];
	char expected[PROXY_REFUSAL_MAX];
	char serial[64];
	char peer[2049];
	EVP_PKEY *peer_key = NULL;
	EVP_PKEY *foreign_key = NULL;
	X509 *peer_cert = NULL;
	X509 *foreign_cert = NULL;
	size_t count = 0;

	(void)state;
	issue(&agent.example, "spiffe://example.org/peer", &peer_cert, &peer_key);
	issue(&agent.other, "spiffe://other.org/partner", &foreign_cert, &foreign_key);
	set_message("spiffe://example.org/one", NULL);

	config.workload_api_socket = agent.path;
	config.start_timeout_ms = 5000;
	atomic_store(&changes, 0);
	assert_int_equal(proxy_identity_source_start(&config, count_change, NULL, &source, &err),
		0);
	first = proxy_identity_source_current(source);
	assert_string_equal(proxy_identity_spiffe_id(first), "spiffe://example.org/one");
	assert_int_equal(atomic_load(&agent.calls), 1);
	assert_int_equal(atomic_load(&agent.insecure_calls), 0);
	assert_non_null(proxy_identity_authorities(first, "other.org", &count));
	assert_int_equal(count, 1);
	assert_non_null(proxy_identity_authorities(first, "example.org", &count));
	assert_int_equal(count, 1);

	/* The federated bundle admits other.org peers. */
	assert_int_equal(verify(first, foreign_cert, peer, reason), 0);
	assert_string_equal(peer, "spiffe://other.org/partner");
	assert_int_equal(verify(first, peer_cert, peer, reason), 0);

	/* An update on the open stream carries a new SVID and a CRL. */
	set_message("spiffe://example.org/two", peer_cert);
	agent_command('u');
	second = wait_for_id(source, "spiffe://example.org/two");
	assert_true(proxy_identity_generation(second) > proxy_identity_generation(first));
	assert_int_equal(atomic_load(&changes), 1);
	assert_int_equal(crypto_x509_serial_hex(peer_cert, serial, sizeof(serial)), 0);
	snprintf(expected, sizeof(expected),
		"certificate serial %s of spiffe://example.org/peer is revoked", serial);
	assert_int_equal(verify(second, peer_cert, peer, reason), WD_EREVOKED);
	assert_string_equal(reason, expected);
	/* The older snapshot does not know the CRL. */
	assert_int_equal(verify(first, peer_cert, peer, reason), 0);

	/* A stream that ends is reopened after the backoff. */
	set_message("spiffe://example.org/three", NULL);
	agent_command('f');
	third = wait_for_id(source, "spiffe://example.org/three");
	assert_int_equal(atomic_load(&agent.calls), 2);
	assert_int_equal(atomic_load(&changes), 2);

	/* A message the proxy cannot use keeps the current snapshot. */
	pthread_mutex_lock(&agent.lock);
	memcpy(agent.message, "\x0a\x05garbage", 9 < agent.message_len ? 9 : 0);
	pthread_mutex_unlock(&agent.lock);
	agent_command('u');
	usleep(200000);
	proxy_identity_unref(third);
	third = proxy_identity_source_current(source);
	assert_string_equal(proxy_identity_spiffe_id(third), "spiffe://example.org/three");
	assert_int_equal(atomic_load(&changes), 2);

	proxy_identity_source_free(source);
	assert_string_equal(proxy_identity_spiffe_id(third), "spiffe://example.org/three");
	proxy_identity_unref(first);
	proxy_identity_unref(second);
	proxy_identity_unref(third);
	X509_free(peer_cert);
	X509_free(foreign_cert);
	EVP_PKEY_free(peer_key);
	EVP_PKEY_free(foreign_key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(workload_stream_updates),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
