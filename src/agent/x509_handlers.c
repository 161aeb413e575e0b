/* FetchX509SVID and FetchX509Bundles: the X.509 profile of the Workload
 * API, both streams of the caller's complete current state. */
#include <string.h>

#include "agent/selectors.h"
#include "agent/workload_api_internal.h"
#include "agent/workload_pb.h"
#include "common/alloc.h"

/* Fills the CRL list of a response from the bundle; crls has room for
 * bundle->crl_count entries. */
static void crls_of(const struct agent_bundle *bundle, struct workload_pb_bytes *crls)
{
	for (size_t i = 0; i < bundle->crl_count; i++) {
		crls[i].data = bundle->crl_der[i];
		crls[i].len = bundle->crl_der_len[i];
	}
}

/* X509SVIDResponse: every SVID the caller is entitled to, the first being
 * the default identity (the cache orders them by entry id), with the
 * trust domain's CA certificates and its CRLs in DER. */
static void build_x509_svid(struct workload_api *api,
	const struct agent_selector_set *selectors, struct wapi_reply *reply)
{
	struct workload_pb_x509_svid_response response = { 0 };
	struct workload_pb_x509_svid *svids = NULL;
	struct workload_pb_bytes *crls = NULL;
	struct agent_svid_list *list = NULL;
	struct agent_bundle *bundle = NULL;
	struct wd_error err = { 0 };
	int rc;

	list = wapi_match(api, selectors, reply);
	if (!list)
		goto out;
	bundle = wapi_bundle(api, reply);
	if (!bundle)
		goto out;

	svids = wd_calloc(list->count, sizeof(*svids));
	crls = wd_calloc(bundle->crl_count ? bundle->crl_count : 1, sizeof(*crls));
	if (!svids || !crls) {
		wapi_reply_fail(reply, GRPC_STATUS_INTERNAL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < list->count; i++) {
		const struct agent_svid *svid = &list->items[i];

		svids[i].spiffe_id = svid->spiffe_id;
		svids[i].chain_der = svid->chain_der;
		svids[i].chain_len = svid->chain_der_len;
		svids[i].key_der = svid->key_der;
		svids[i].key_len = svid->key_der_len;
		svids[i].bundle_der = bundle->x509_authorities_der;
		svids[i].bundle_len = bundle->x509_authorities_der_len;
		svids[i].hint = svid->hint;
	}
	crls_of(bundle, crls);
	response.svids = svids;
	response.svid_count = list->count;
	response.crls = crls;
	response.crl_count = bundle->crl_count;

	rc = workload_pb_pack_x509_svid_response(&response, &reply->data, &reply->len, &err);
	if (rc < 0) {
		wapi_reply_from_error(reply, rc, &err);
		goto out;
	}
	reply->secret = true;
	reply->status = GRPC_STATUS_OK;
out:
	free(svids);
	free(crls);
	agent_bundle_free(bundle);
	agent_svid_list_free(list);
}

/* X509BundlesResponse: the trust domain's CA certificates under
 * "spiffe://<td>", and its CRLs. */
static void build_x509_bundles(struct workload_api *api,
	const struct agent_selector_set *selectors, struct wapi_reply *reply)
{
	struct workload_pb_x509_bundles_response response = { 0 };
	struct workload_pb_bundle_entry entry = { 0 };
	struct workload_pb_bytes *crls = NULL;
	struct agent_svid_list *list = NULL;
	struct agent_bundle *bundle = NULL;
	struct wd_error err = { 0 };
	char td_id[320];
	int rc;

	/* As in SPIRE, only a caller with an identity gets bundles. */
	list = wapi_match(api, selectors, reply);
	if (!list)
		goto out;
	bundle = wapi_bundle(api, reply);
	if (!bundle)
		goto out;

	crls = wd_calloc(bundle->crl_count ? bundle->crl_count : 1, sizeof(*crls));
	if (!crls) {
		wapi_reply_fail(reply, GRPC_STATUS_INTERNAL, "out of memory");
		goto out;
	}
	crls_of(bundle, crls);
	wapi_trust_domain_id(bundle, td_id, sizeof(td_id));
	entry.trust_domain_id = td_id;
	entry.data = bundle->x509_authorities_der;
	entry.len = bundle->x509_authorities_der_len;
	response.bundles = &entry;
	response.bundle_count = 1;
	response.crls = crls;
	response.crl_count = bundle->crl_count;

	rc = workload_pb_pack_x509_bundles_response(&response, &reply->data, &reply->len, &err);
	if (rc < 0) {
		wapi_reply_from_error(reply, rc, &err);
		goto out;
	}
	reply->status = GRPC_STATUS_OK;
out:
	free(crls);
	agent_bundle_free(bundle);
	agent_svid_list_free(list);
}

/* Decodes the (empty) request so that a malformed one is rejected. */
static bool request_ok(struct grpc_call *call, bool bundles)
{
	X509SVIDRequest *svid_request = NULL;
	X509BundlesRequest *bundles_request = NULL;
	struct wd_error err = { 0 };
	const uint8_t *data;
	size_t len;
	int rc;

	struct wapi_reply reply = { 0 };

	if (!wapi_check_header(call, &reply)) {
		wapi_finish(call, reply.status, reply.message);
		return false;
	}
	data = grpc_call_request(call, &len);
	if (bundles) {
		rc = workload_pb_unpack_x509_bundles_request(data, len, 0, &bundles_request, &err);
		if (rc == 0)
			x509_bundles_request__free_unpacked(bundles_request, NULL);
	} else {
		rc = workload_pb_unpack_x509_svid_request(data, len, 0, &svid_request, &err);
		if (rc == 0)
			x509_svidrequest__free_unpacked(svid_request, NULL);
	}
	if (rc < 0) {
		wapi_finish(call, grpc_status_from_error(rc), wd_error_text(&err));
		return false;
	}
	return true;
}

int wapi_fetch_x509_svid(struct grpc_call *call, void *arg, struct wd_error *err WD_UNUSED)
{
	if (!request_ok(call, false))
		return 0;
	return wapi_stream_start(arg, call, "FetchX509SVID", build_x509_svid);
}

int wapi_fetch_x509_bundles(struct grpc_call *call, void *arg, struct wd_error *err WD_UNUSED)
{
	if (!request_ok(call, true))
		return 0;
	return wapi_stream_start(arg, call, "FetchX509Bundles", build_x509_bundles);
}
