/* SPIFFE Workload API messages: packs the responses from plain C structs
 * and decodes the requests with a size ceiling, on top of the protobuf-c
 * code generated from proto/workload.proto. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/error.h"
#include "common/macros.h"
#include "workload.pb-c.h"

/* Default ceiling on an encoded request, in bytes. Requests carry at most
 * audiences and one JWT, so 64 KiB leaves room for large tokens. */
#define WORKLOAD_PB_DEFAULT_MAX_REQUEST (64u * 1024u)

/* Ceiling on the number of audiences in a JWTSVIDRequest. */
#define WORKLOAD_PB_MAX_AUDIENCES 64

/* Ceiling on the nesting depth of the claims in a ValidateJWTSVIDResponse,
 * counting each object and array. */
#define WORKLOAD_PB_MAX_CLAIMS_DEPTH 32

/* A byte string the caller owns, for example a DER CRL. */
struct workload_pb_bytes {
	const uint8_t *data;
	size_t len;
};

/* One entry of a map<string, bytes>: a trust domain's SPIFFE ID
 * ("spiffe://example.org") and its bundle (concatenated DER certificates for
 * X.509, a JWK Set as JSON for JWT). */
struct workload_pb_bundle_entry {
	const char *trust_domain_id;
	const uint8_t *data;
	size_t len;
};

/* One X.509-SVID of an X509SVIDResponse. */
struct workload_pb_x509_svid {
	const char *spiffe_id;
	const uint8_t *chain_der;   /* certificates, DER, leaf first, end to end */
	size_t chain_len;
	const uint8_t *key_der;     /* unencrypted PKCS#8 private key, DER */
	size_t key_len;
	const uint8_t *bundle_der;  /* own trust domain's CA certificates, DER */
	size_t bundle_len;
	const char *hint;           /* NULL or "": no hint */
};

struct workload_pb_x509_svid_response {
	const struct workload_pb_x509_svid *svids;  /* the first is the default */
	size_t svid_count;
	const struct workload_pb_bytes *crls;
	size_t crl_count;
	const struct workload_pb_bundle_entry *federated_bundles;
	size_t federated_bundle_count;
};

struct workload_pb_x509_bundles_response {
	const struct workload_pb_bytes *crls;
	size_t crl_count;
	const struct workload_pb_bundle_entry *bundles;
	size_t bundle_count;
};

/* One JWT-SVID of a JWTSVIDResponse. */
struct workload_pb_jwt_svid {
	const char *spiffe_id;
	const char *token;  /* JWS compact serialization */
	const char *hint;   /* NULL or "": no hint */
};

/* Packs an X509SVIDResponse. The output holds private keys: release it with
 * workload_pb_free_secret. ret_data gets malloc'd bytes and ret_len their
 * count. WD_EINVAL names a missing field (a NULL spiffe_id or trust domain
 * ID, NULL data with a nonzero length), WD_ENOMEM otherwise. */
WD_MUST_CHECK int workload_pb_pack_x509_svid_response(
	const struct workload_pb_x509_svid_response *response, uint8_t **ret_data,
	size_t *ret_len, struct wd_error *err);

/* Packs an X509BundlesResponse; the output is not secret (free() it).
 * Errors as workload_pb_pack_x509_svid_response. */
WD_MUST_CHECK int workload_pb_pack_x509_bundles_response(
	const struct workload_pb_x509_bundles_response *response, uint8_t **ret_data,
	size_t *ret_len, struct wd_error *err);

/* Packs a JWTSVIDResponse of count SVIDs. The tokens are bearer
 * credentials: release the output with workload_pb_free_secret. */
WD_MUST_CHECK int workload_pb_pack_jwt_svid_response(const struct workload_pb_jwt_svid *svids,
	size_t count, uint8_t **ret_data, size_t *ret_len, struct wd_error *err);

/* Packs a JWTBundlesResponse whose map contains count JWK Sets; free() the
 * output. */
WD_MUST_CHECK int workload_pb_pack_jwt_bundles_response(
	const struct workload_pb_bundle_entry *bundles, size_t count, uint8_t **ret_data,
	size_t *ret_len, struct wd_error *err);

/* Packs a ValidateJWTSVIDResponse. claims must be a JSON object, or NULL
 * for none. It becomes a google.protobuf.Struct of strings, numbers,
 * booleans, null, arrays (ListValue) and nested objects, at most
 * WORKLOAD_PB_MAX_CLAIMS_DEPTH deep. Numbers become doubles, so integers
 * above 2^53 lose precision, as in any protobuf Struct. WD_EINVAL names a
 * claim that is too deep. free() the output. */
WD_MUST_CHECK int workload_pb_pack_validate_jwt_svid_response(const char *spiffe_id,
	const json_t *claims, uint8_t **ret_data, size_t *ret_len, struct wd_error *err);

/* Wipes len bytes at data with OPENSSL_cleanse and frees them; accepts NULL. */
void workload_pb_free_secret(uint8_t *data, size_t len);

/* Decoders: each unpacks len bytes of a request (at most max_len bytes, 0:
 * WORKLOAD_PB_DEFAULT_MAX_REQUEST) into a new message in ret_request, which
 * the caller frees with the generated <message>__free_unpacked(msg, NULL).
 * WD_ETOOBIG names the size and the ceiling; WD_EINVAL names the message
 * (malformed protobuf) or the missing field. data may be NULL when len is 0. */

WD_MUST_CHECK int workload_pb_unpack_x509_svid_request(const uint8_t *data, size_t len,
	size_t max_len, X509SVIDRequest **ret_request, struct wd_error *err);

WD_MUST_CHECK int workload_pb_unpack_x509_bundles_request(const uint8_t *data, size_t len,
	size_t max_len, X509BundlesRequest **ret_request, struct wd_error *err);

/* Requires at least one audience, none of them empty, and at most
 * WORKLOAD_PB_MAX_AUDIENCES. spiffe_id is "" when the caller wants every
 * identity it is entitled to. */
WD_MUST_CHECK int workload_pb_unpack_jwt_svid_request(const uint8_t *data, size_t len,
	size_t max_len, JWTSVIDRequest **ret_request, struct wd_error *err);

WD_MUST_CHECK int workload_pb_unpack_jwt_bundles_request(const uint8_t *data, size_t len,
	size_t max_len, JWTBundlesRequest **ret_request, struct wd_error *err);

/* Requires a non-empty audience and svid. */
WD_MUST_CHECK int workload_pb_unpack_validate_jwt_svid_request(const uint8_t *data, size_t len,
	size_t max_len, ValidateJWTSVIDRequest **ret_request, struct wd_error *err);
