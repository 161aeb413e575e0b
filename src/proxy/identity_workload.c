/* Workload API mode: a thread that keeps the agent's FetchX509SVID stream
 * open and builds a snapshot from every X509SVIDResponse, reconnecting
 * with backoff when the stream ends. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "common/log.h"
#include "net/grpc.h"
#include "proxy/identity_internal.h"
#include "workload.pb-c.h"

#define FETCH_METHOD "/SpiffeWorkloadAPI/FetchX509SVID"
#define CONNECT_TIMEOUT_MS 10000u
/* Reconnect backoff after a failed or ended stream, in ms. */
#define BACKOFF_MIN_MS 1000u
#define BACKOFF_MAX_MS 30000u

/* The Workload API standard requires this header on every call. */
static const struct grpc_metadata security_header[] = {
	{ "workload.spiffe.io", "true" },
};

struct stream_context {
	struct proxy_identity_source *source;
	unsigned delivered;
};

/* Wipes every private key the message carries. */
static void wipe_keys(X509SVIDResponse *response)
{
	for (size_t i = 0; i < response->n_svids; i++) {
		ProtobufCBinaryData *key = &response->svids[i]->x509_svid_key;

		if (key->data)
			OPENSSL_cleanse(key->data, key->len);
	}
}

static const X509SVID *choose_svid(const X509SVIDResponse *response, const char *wanted,
	struct wd_error *err)
{
	if (response->n_svids == 0) {
		wd_error_set(err, WD_EINVAL, "the agent sent no X.509-SVID");
		return NULL;
	}
	if (!wanted)
		return response->svids[0];
	for (size_t i = 0; i < response->n_svids; i++) {
		if (strcmp(response->svids[i]->spiffe_id, wanted) == 0)
			return response->svids[i];
	}
	wd_error_set(err, WD_ENOTFOUND, "the agent sent no X.509-SVID for %s", wanted);
	return NULL;
}

static int decode_key(const ProtobufCBinaryData *der, EVP_PKEY **ret_key, struct wd_error *err)
{
	const unsigned char *cursor = der->data;

	*ret_key = NULL;
	if (!der->data || der->len == 0 || der->len > LONG_MAX)
		return wd_error_set(err, WD_EINVAL, "the X.509-SVID has no private key");
	*ret_key = d2i_AutoPrivateKey(NULL, &cursor, (long)der->len);
	ERR_clear_error();
	if (!*ret_key)
		return wd_error_set(err, WD_EINVAL, "the X.509-SVID private key is not PKCS#8 DER");
	return 0;
}

/* Inputs decoded from one message, freed by response_inputs_clear. */
struct response_inputs {
	STACK_OF(X509) *chain;
	EVP_PKEY *key;
	struct identity_bundle_input *bundles;
	size_t bundle_count;
	STACK_OF(X509_CRL) *crls;
	char own_domain[SPIFFE_TRUST_DOMAIN_MAX_LEN + 1];
};

static void response_inputs_clear(struct response_inputs *inputs)
{
	for (size_t i = 0; i < inputs->bundle_count; i++)
		sk_X509_pop_free(inputs->bundles[i].authorities, X509_free);
	free(inputs->bundles);
	sk_X509_pop_free(inputs->chain, X509_free);
	sk_X509_CRL_pop_free(inputs->crls, X509_CRL_free);
	EVP_PKEY_free(inputs->key);
	memset(inputs, 0, sizeof(*inputs));
}

static int decode_bundles(const X509SVIDResponse *response, const X509SVID *svid,
	struct response_inputs *inputs, struct wd_error *err)
{
	size_t count = 1 + response->n_federated_bundles;
	struct spiffe_id own;
	int rc;

	if (count > IDENTITY_MAX_TRUST_DOMAINS)
		return wd_error_set(err, WD_ETOOBIG, "the agent sent %zu bundles, at most %d are "
			"allowed", count, IDENTITY_MAX_TRUST_DOMAINS);
	WD_TRY(spiffe_id_parse(svid->spiffe_id, strlen(svid->spiffe_id), &own, err));
	snprintf(inputs->own_domain, sizeof(inputs->own_domain), "%s", own.trust_domain);
	inputs->bundles = calloc(count, sizeof(*inputs->bundles));
	if (!inputs->bundles)
		return wd_error_set(err, WD_ENOMEM, "out of memory decoding the bundles");

	inputs->bundles[0].trust_domain = inputs->own_domain;
	rc = identity_der_certs(svid->bundle.data, svid->bundle.len, IDENTITY_MAX_AUTHORITIES,
		"the bundle of the X.509-SVID", &inputs->bundles[0].authorities, err);
	if (rc < 0)
		return rc;
	inputs->bundle_count = 1;

	for (size_t i = 0; i < response->n_federated_bundles; i++) {
		const X509SVIDResponse__FederatedBundlesEntry *entry =
			response->federated_bundles[i];
		struct identity_bundle_input *bundle = &inputs->bundles[inputs->bundle_count];
		char what[64 + SPIFFE_TRUST_DOMAIN_MAX_LEN];

		snprintf(what, sizeof(what), "the federated bundle of %.*s",
			SPIFFE_TRUST_DOMAIN_MAX_LEN, entry->key);
		bundle->trust_domain = entry->key;
		rc = identity_der_certs(entry->value.data, entry->value.len,
			IDENTITY_MAX_AUTHORITIES, what, &bundle->authorities, err);
		if (rc < 0)
			return rc;
		inputs->bundle_count++;
	}
	return 0;
}

static int decode_crls(const X509SVIDResponse *response, struct response_inputs *inputs,
	struct wd_error *err)
{
	inputs->crls = sk_X509_CRL_new_null();
	if (!inputs->crls)
		return wd_error_set(err, WD_ENOMEM, "out of memory decoding the CRLs");
	for (size_t i = 0; i < response->n_crl; i++) {
		char what[48];

		snprintf(what, sizeof(what), "CRL %zu from the agent", i + 1);
		WD_TRY(identity_parse_crls(response->crl[i].data, response->crl[i].len, what,
			inputs->crls, err));
	}
	return 0;
}

/* Builds a snapshot from one X509SVIDResponse. */
static int build_from_response(const X509SVIDResponse *response, const char *wanted,
	struct proxy_identity **ret_identity, struct wd_error *err)
{
	struct response_inputs inputs = { 0 };
	struct identity_input input = { 0 };
	const X509SVID *svid;
	int rc;

	*ret_identity = NULL;
	svid = choose_svid(response, wanted, err);
	WD_ENSURE(svid, err ? err->code : WD_EINVAL);
	WD_GUARD(identity_der_certs(svid->x509_svid.data, svid->x509_svid.len, IDENTITY_MAX_CHAIN,
		"the X.509-SVID chain", &inputs.chain, err));
	WD_GUARD(decode_key(&svid->x509_svid_key, &inputs.key, err));
	WD_GUARD(decode_bundles(response, svid, &inputs, err));
	WD_GUARD(decode_crls(response, &inputs, err));

	input.chain = inputs.chain;
	input.key = inputs.key;
	input.bundles = inputs.bundles;
	input.bundle_count = inputs.bundle_count;
	input.crls = inputs.crls;
	WD_GUARD(identity_build(&input, ret_identity, err));
	rc = 0;
out:
	response_inputs_clear(&inputs);
	return rc;
}

static int on_response(const uint8_t *bytes, size_t len, void *arg)
{
	struct stream_context *context = arg;
	struct proxy_identity_source *source = context->source;
	X509SVIDResponse *response;
	struct proxy_identity *identity = NULL;
	struct wd_error err = { 0 };
	int rc;

	/* A stop is seen here at the latest: cancelling ends the stream. */
	if (atomic_load(&source->stopping))
		return WD_ECONFLICT;
	response = x509_svidresponse__unpack(NULL, len, bytes);
	if (!response) {
		log_warn("proxy", "malformed X509SVIDResponse from the agent, keeping the current "
			"SVID", "socket", source->workload_api_socket);
		identity_source_set_error(source, "malformed X509SVIDResponse");
		return 0;
	}
	rc = build_from_response(response, source->spiffe_id, &identity, &err);
	wipe_keys(response);
	x509_svidresponse__free_unpacked(response, NULL);
	if (rc < 0) {
		/* The agent sends its whole state in every message, so the next
		 * one can repair this. */
		log_warn("proxy", "unusable X.509-SVID update from the agent, keeping the current "
			"SVID", "socket", source->workload_api_socket, "error", wd_error_text(&err));
		identity_source_set_error(source, wd_error_text(&err));
		return 0;
	}
	log_info("proxy", "X.509-SVID updated from the Workload API", "spiffe_id",
		proxy_identity_spiffe_id(identity), "socket", source->workload_api_socket);
	identity_source_publish(source, identity);
	context->delivered++;
	return 0;
}

/* Runs one stream until it ends, and stores the reason it ended in err. */
static int run_stream(struct stream_context *context, struct wd_error *err)
{
	struct proxy_identity_source *source = context->source;
	struct grpc_call_status status = { 0 };
	struct grpc_client *client = NULL;
	int rc;

	rc = grpc_client_connect_unix(source->workload_api_socket, NULL, CONNECT_TIMEOUT_MS,
		&client, err);
	if (rc < 0)
		return rc;
	grpc_client_set_cancel_fd(client, source->stop_fd);
	rc = grpc_client_stream(client, FETCH_METHOD, security_header,
		WD_ARRAY_LEN(security_header), NULL, 0, 0, on_response, context, &status, err);
	grpc_client_free(client);
	if (rc < 0)
		return rc;
	return wd_error_set(err, WD_EUNAVAILABLE, "the FetchX509SVID stream ended with %s: %s",
		grpc_status_name(status.code), status.message);
}

static void *watch_workload(void *arg)
{
	struct proxy_identity_source *source = arg;
	unsigned backoff_ms = BACKOFF_MIN_MS;

	while (!atomic_load(&source->stopping)) {
		struct stream_context context = { .source = source };
		struct wd_error err = { 0 };
		char backoff_text[16];

		(void)run_stream(&context, &err);
		if (atomic_load(&source->stopping))
			break;
		/* A stream that delivered an SVID was healthy: start over. */
		if (context.delivered > 0)
			backoff_ms = BACKOFF_MIN_MS;
		snprintf(backoff_text, sizeof(backoff_text), "%u", backoff_ms);
		log_warn("proxy", "Workload API stream failed, reconnecting", "socket",
			source->workload_api_socket, "error", wd_error_text(&err), "backoff_ms",
			backoff_text);
		identity_source_set_error(source, wd_error_text(&err));
		/* The failed stream may leave OpenSSL errors queued on this thread;
		 * they are reported already, and a thread still waiting here when
		 * the process exits would otherwise keep their memory. */
		ERR_clear_error();
		if (identity_source_wait(source, backoff_ms))
			break;
		backoff_ms = backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff_ms * 2;
	}
	identity_source_unref(source);
	return NULL;
}

int identity_workload_start(struct proxy_identity_source *source, struct wd_error *err)
{
	return identity_source_spawn(source, watch_workload, err);
}
