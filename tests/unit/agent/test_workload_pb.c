/* Unit tests for the Workload API messages: every response packed and read
 * back with the generated decoder, every request packed with the generated
 * encoder and decoded with the checked decoders, and hostile inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/workload_pb.h"
#include "common/error.h"

static const uint8_t chain[] = { 0x30, 0x82, 0x01, 0x00, 0xaa, 0xbb };
static const uint8_t key[] = { 0x30, 0x81, 0x87, 0x02, 0x01, 0x00, 0x00, 0x11 };
static const uint8_t bundle[] = { 0x30, 0x03, 0x01, 0x02, 0x03 };
static const uint8_t crl_one[] = { 0x30, 0x01, 0xff };
static const uint8_t crl_two[] = { 0x30, 0x02, 0x00, 0x00 };
static const uint8_t foreign_bundle[] = { 0x30, 0x04, 'f', 'o', 'o', 0x00 };
static const uint8_t other_bundle[] = { 0x30, 0x02, 'o', 'b' };

static void assert_binary(ProtobufCBinaryData actual, const uint8_t *expected, size_t len)
{
	assert_int_equal(actual.len, len);
	if (len > 0)
		assert_memory_equal(actual.data, expected, len);
}

static void x509_svid_response_round_trip(void **state)
{
	const struct workload_pb_x509_svid svids[] = {
		{ .spiffe_id = "spiffe://example.org/web", .chain_der = chain,
		  .chain_len = sizeof(chain), .key_der = key, .key_len = sizeof(key),
		  .bundle_der = bundle, .bundle_len = sizeof(bundle), .hint = "internal" },
		{ .spiffe_id = "spiffe://example.org/db", .chain_der = chain, .chain_len = 2,
		  .key_der = key, .key_len = 3, .bundle_der = bundle, .bundle_len = 1,
		  .hint = NULL },
	};
	const struct workload_pb_bytes crls[] = { { crl_one, sizeof(crl_one) },
		{ crl_two, sizeof(crl_two) } };
	const struct workload_pb_bundle_entry federated[] = {
		{ "spiffe://foreign.test", foreign_bundle, sizeof(foreign_bundle) },
		{ "spiffe://other.test", other_bundle, sizeof(other_bundle) },
	};
	const struct workload_pb_x509_svid_response response = {
		.svids = svids, .svid_count = 2, .crls = crls, .crl_count = 2,
		.federated_bundles = federated, .federated_bundle_count = 2,
	};
	X509SVIDResponse *decoded;
	struct wd_error err;
	uint8_t *data = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(workload_pb_pack_x509_svid_response(&response, &data, &len, &err), 0);
	assert_non_null(data);
	assert_true(len > 0);

	decoded = x509_svidresponse__unpack(NULL, len, data);
	assert_non_null(decoded);
	assert_int_equal(decoded->n_svids, 2);
	assert_string_equal(decoded->svids[0]->spiffe_id, "spiffe://example.org/web");
	assert_binary(decoded->svids[0]->x509_svid, chain, sizeof(chain));
	assert_binary(decoded->svids[0]->x509_svid_key, key, sizeof(key));
	assert_binary(decoded->svids[0]->bundle, bundle, sizeof(bundle));
	assert_string_equal(decoded->svids[0]->hint, "internal");
	assert_string_equal(decoded->svids[1]->spiffe_id, "spiffe://example.org/db");
	assert_binary(decoded->svids[1]->x509_svid, chain, 2);
	assert_binary(decoded->svids[1]->x509_svid_key, key, 3);
	assert_binary(decoded->svids[1]->bundle, bundle, 1);
	assert_string_equal(decoded->svids[1]->hint, "");

	assert_int_equal(decoded->n_crl, 2);
	assert_binary(decoded->crl[0], crl_one, sizeof(crl_one));
	assert_binary(decoded->crl[1], crl_two, sizeof(crl_two));

	/* protobuf-c represents map<string, bytes> as repeated key/value entry
	 * messages, kept in the order they were packed. */
	assert_int_equal(decoded->n_federated_bundles, 2);
	assert_string_equal(decoded->federated_bundles[0]->key, "spiffe://foreign.test");
	assert_binary(decoded->federated_bundles[0]->value, foreign_bundle,
		sizeof(foreign_bundle));
	assert_string_equal(decoded->federated_bundles[1]->key, "spiffe://other.test");
	assert_binary(decoded->federated_bundles[1]->value, other_bundle, sizeof(other_bundle));

	x509_svidresponse__free_unpacked(decoded, NULL);
	workload_pb_free_secret(data, len);
	workload_pb_free_secret(NULL, 0);
}

static void x509_svid_response_map_wire_format(void **state)
{
	/* One map entry must be field 3, length-delimited, holding key (field
	 * 1) and value (field 2), as the proto3 map encoding specifies. */
	static const uint8_t value[] = { 0xde, 0xad };
	const struct workload_pb_bundle_entry federated[] = { { "k", value, sizeof(value) } };
	const struct workload_pb_x509_svid_response response = {
		.federated_bundles = federated, .federated_bundle_count = 1,
	};
	static const uint8_t expected[] = { 0x1a, 0x07, 0x0a, 0x01, 'k', 0x12, 0x02, 0xde, 0xad };
	uint8_t *data = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(workload_pb_pack_x509_svid_response(&response, &data, &len, NULL), 0);
	assert_int_equal(len, sizeof(expected));
	assert_memory_equal(data, expected, sizeof(expected));
	workload_pb_free_secret(data, len);
}

static void x509_svid_response_rejects_bad_input(void **state)
{
	const struct workload_pb_x509_svid no_id[] = { { .spiffe_id = NULL } };
	const struct workload_pb_x509_svid no_key[] = { { .spiffe_id = "spiffe://a/b",
		.key_der = NULL, .key_len = 4 } };
	const struct workload_pb_bundle_entry duplicate[] = {
		{ "spiffe://a", bundle, 1 }, { "spiffe://b", bundle, 1 }, { "spiffe://a", bundle, 2 },
	};
	const struct workload_pb_bundle_entry no_key_entry[] = { { NULL, bundle, 1 } };
	struct workload_pb_x509_svid_response response = { 0 };
	struct wd_error err;
	uint8_t *data = (uint8_t *)1;
	size_t len = 9;

	(void)state;
	response.svids = no_id;
	response.svid_count = 1;
	assert_int_equal(workload_pb_pack_x509_svid_response(&response, &data, &len, &err),
		WD_EINVAL);
	assert_null(data);
	assert_int_equal(len, 0);
	assert_string_equal(err.detail, "missing SPIFFE ID in X.509-SVID 0");

	response.svids = no_key;
	assert_int_equal(workload_pb_pack_x509_svid_response(&response, &data, &len, &err),
		WD_EINVAL);
	assert_string_equal(err.detail, "missing data for X.509-SVID key 0 (length 4)");

	response.svid_count = 0;
	response.federated_bundles = duplicate;
	response.federated_bundle_count = 3;
	assert_int_equal(workload_pb_pack_x509_svid_response(&response, &data, &len, &err),
		WD_EINVAL);
	assert_string_equal(err.detail,
		"duplicate trust domain ID \"spiffe://a\" in \"federated_bundles\"");

	response.federated_bundles = no_key_entry;
	response.federated_bundle_count = 1;
	assert_int_equal(workload_pb_pack_x509_svid_response(&response, &data, &len, &err),
		WD_EINVAL);
	assert_string_equal(err.detail, "missing trust domain ID in \"federated_bundles\" entry 0");

	assert_int_equal(workload_pb_pack_x509_svid_response(NULL, &data, &len, &err), WD_EINVAL);
}

static void x509_bundles_response_round_trip(void **state)
{
	const struct workload_pb_bytes crls[] = { { crl_two, sizeof(crl_two) } };
	const struct workload_pb_bundle_entry bundles[] = {
		{ "spiffe://example.org", bundle, sizeof(bundle) },
		{ "spiffe://foreign.test", foreign_bundle, sizeof(foreign_bundle) },
	};
	const struct workload_pb_x509_bundles_response response = {
		.crls = crls, .crl_count = 1, .bundles = bundles, .bundle_count = 2,
	};
	X509BundlesResponse *decoded;
	uint8_t *data = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(workload_pb_pack_x509_bundles_response(&response, &data, &len, NULL), 0);
	decoded = x509_bundles_response__unpack(NULL, len, data);
	assert_non_null(decoded);
	assert_int_equal(decoded->n_crl, 1);
	assert_binary(decoded->crl[0], crl_two, sizeof(crl_two));
	assert_int_equal(decoded->n_bundles, 2);
	assert_string_equal(decoded->bundles[0]->key, "spiffe://example.org");
	assert_binary(decoded->bundles[0]->value, bundle, sizeof(bundle));
	assert_string_equal(decoded->bundles[1]->key, "spiffe://foreign.test");
	assert_binary(decoded->bundles[1]->value, foreign_bundle, sizeof(foreign_bundle));
	x509_bundles_response__free_unpacked(decoded, NULL);
	free(data);

	/* crl is field 1 here, not field 2 as in X509SVIDResponse. */
	{
		const struct workload_pb_x509_bundles_response only_crl = { .crls = crls,
			.crl_count = 1 };

		assert_int_equal(workload_pb_pack_x509_bundles_response(&only_crl, &data, &len, NULL),
			0);
		assert_int_equal(data[0], 0x0a);
		free(data);
	}
}

static void jwt_svid_response_round_trip(void **state)
{
	const struct workload_pb_jwt_svid svids[] = {
		{ "spiffe://example.org/web", "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", "external" },
		{ "spiffe://example.org/db", "a.b.c", NULL },
	};
	const struct workload_pb_jwt_svid no_token[] = { { "spiffe://example.org/web", "", NULL } };
	JWTSVIDResponse *decoded;
	struct wd_error err;
	uint8_t *data = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(workload_pb_pack_jwt_svid_response(svids, 2, &data, &len, &err), 0);
	decoded = jwtsvidresponse__unpack(NULL, len, data);
	assert_non_null(decoded);
	assert_int_equal(decoded->n_svids, 2);
	assert_string_equal(decoded->svids[0]->spiffe_id, "spiffe://example.org/web");
	assert_string_equal(decoded->svids[0]->svid,
		"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln");
	assert_string_equal(decoded->svids[0]->hint, "external");
	assert_string_equal(decoded->svids[1]->spiffe_id, "spiffe://example.org/db");
	assert_string_equal(decoded->svids[1]->svid, "a.b.c");
	assert_string_equal(decoded->svids[1]->hint, "");
	jwtsvidresponse__free_unpacked(decoded, NULL);
	workload_pb_free_secret(data, len);

	assert_int_equal(workload_pb_pack_jwt_svid_response(no_token, 1, &data, &len, &err),
		WD_EINVAL);
	assert_string_equal(err.detail, "missing token in JWT-SVID 0");

	/* An empty response is valid: the workload has no identity. */
	assert_int_equal(workload_pb_pack_jwt_svid_response(NULL, 0, &data, &len, &err), 0);
	assert_int_equal(len, 0);
	free(data);
}

static void jwt_bundles_response_round_trip(void **state)
{
	static const char jwks[] = "{\"keys\":[{\"kty\":\"EC\",\"use\":\"jwt-svid\",\"kid\":\"k1\"}]}";
	static const char empty_jwks[] = "{\"keys\":[]}";
	const struct workload_pb_bundle_entry bundles[] = {
		{ "spiffe://example.org", (const uint8_t *)jwks, strlen(jwks) },
		{ "spiffe://foreign.test", (const uint8_t *)empty_jwks, strlen(empty_jwks) },
	};
	JWTBundlesResponse *decoded;
	uint8_t *data = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(workload_pb_pack_jwt_bundles_response(bundles, 2, &data, &len, NULL), 0);
	decoded = jwtbundles_response__unpack(NULL, len, data);
	assert_non_null(decoded);
	assert_int_equal(decoded->n_bundles, 2);
	assert_string_equal(decoded->bundles[0]->key, "spiffe://example.org");
	assert_binary(decoded->bundles[0]->value, (const uint8_t *)jwks, strlen(jwks));
	assert_string_equal(decoded->bundles[1]->key, "spiffe://foreign.test");
	assert_binary(decoded->bundles[1]->value, (const uint8_t *)empty_jwks, strlen(empty_jwks));
	jwtbundles_response__free_unpacked(decoded, NULL);
	free(data);
}

static const Google__Protobuf__Value *struct_field(const Google__Protobuf__Struct *object,
	const char *name)
{
	for (size_t i = 0; i < object->n_fields; i++) {
		if (strcmp(object->fields[i]->key, name) == 0)
			return object->fields[i]->value;
	}
	fail_msg("field \"%s\" missing from Struct", name);
	return NULL;
}

static void validate_jwt_svid_response_claims(void **state)
{
	static const char claims_json[] =
		"{\"sub\":\"spiffe://example.org/web\",\"aud\":[\"a\",\"b\"],"
		"\"exp\":1767225600,\"ratio\":0.5,\"admin\":true,\"revoked\":false,\"nbf\":null,"
		"\"ctx\":{\"team\":\"blue\",\"levels\":[1,[2,{\"deep\":\"yes\"}]],\"empty\":{}}}";
	json_t *claims = json_loads(claims_json, 0, NULL);
	ValidateJWTSVIDResponse *decoded;
	const Google__Protobuf__Value *value;
	const Google__Protobuf__Value *ctx;
	const Google__Protobuf__ListValue *levels;
	const Google__Protobuf__ListValue *inner;
	uint8_t *data = NULL;
	size_t len = 0;

	(void)state;
	assert_non_null(claims);
	assert_int_equal(workload_pb_pack_validate_jwt_svid_response("spiffe://example.org/web",
		claims, &data, &len, NULL), 0);
	decoded = validate_jwtsvidresponse__unpack(NULL, len, data);
	assert_non_null(decoded);
	assert_string_equal(decoded->spiffe_id, "spiffe://example.org/web");
	assert_non_null(decoded->claims);
	assert_int_equal(decoded->claims->n_fields, 8);

	value = struct_field(decoded->claims, "sub");
	assert_int_equal(value->kind_case, GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE);
	assert_string_equal(value->string_value, "spiffe://example.org/web");

	value = struct_field(decoded->claims, "aud");
	assert_int_equal(value->kind_case, GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE);
	assert_int_equal(value->list_value->n_values, 2);
	assert_string_equal(value->list_value->values[0]->string_value, "a");
	assert_string_equal(value->list_value->values[1]->string_value, "b");

	value = struct_field(decoded->claims, "exp");
	assert_int_equal(value->kind_case, GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE);
	assert_true(value->number_value == 1767225600.0);
	value = struct_field(decoded->claims, "ratio");
	assert_true(value->number_value == 0.5);

	value = struct_field(decoded->claims, "admin");
	assert_int_equal(value->kind_case, GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE);
	assert_true(value->bool_value);
	value = struct_field(decoded->claims, "revoked");
	assert_int_equal(value->kind_case, GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE);
	assert_false(value->bool_value);

	value = struct_field(decoded->claims, "nbf");
	assert_int_equal(value->kind_case, GOOGLE__PROTOBUF__VALUE__KIND_NULL_VALUE);

	ctx = struct_field(decoded->claims, "ctx");
	assert_int_equal(ctx->kind_case, GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE);
	assert_int_equal(ctx->struct_value->n_fields, 3);
	assert_string_equal(struct_field(ctx->struct_value, "team")->string_value, "blue");
	value = struct_field(ctx->struct_value, "empty");
	assert_int_equal(value->kind_case, GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE);
	assert_int_equal(value->struct_value->n_fields, 0);

	levels = struct_field(ctx->struct_value, "levels")->list_value;
	assert_int_equal(levels->n_values, 2);
	assert_true(levels->values[0]->number_value == 1.0);
	assert_int_equal(levels->values[1]->kind_case, GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE);
	inner = levels->values[1]->list_value;
	assert_int_equal(inner->n_values, 2);
	assert_true(inner->values[0]->number_value == 2.0);
	assert_int_equal(inner->values[1]->kind_case, GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE);
	assert_string_equal(struct_field(inner->values[1]->struct_value, "deep")->string_value,
		"yes");

	validate_jwtsvidresponse__free_unpacked(decoded, NULL);
	free(data);
	json_decref(claims);
}

static void validate_jwt_svid_response_limits(void **state)
{
	json_t *claims = json_object();
	json_t *node = claims;
	json_t *array = json_array();
	struct wd_error err;
	uint8_t *data = NULL;
	size_t len = 0;

	(void)state;
	/* Nest objects one deeper than the ceiling under the claim "deep". */
	for (int i = 0; i < WORKLOAD_PB_MAX_CLAIMS_DEPTH; i++) {
		json_t *child = json_object();

		json_object_set_new(node, i == 0 ? "deep" : "x", child);
		node = child;
	}
	assert_int_equal(workload_pb_pack_validate_jwt_svid_response("spiffe://a/b", claims, &data,
		&len, &err), WD_EINVAL);
	assert_null(data);
	assert_non_null(strstr(err.detail, "claim \"deep\" is nested more than 32 deep"));
	json_decref(claims);

	/* Exactly at the ceiling is accepted. */
	claims = json_object();
	node = claims;
	for (int i = 0; i < WORKLOAD_PB_MAX_CLAIMS_DEPTH - 1; i++) {
		json_t *child = json_object();

		json_object_set_new(node, "x", child);
		node = child;
	}
	assert_int_equal(workload_pb_pack_validate_jwt_svid_response("spiffe://a/b", claims, &data,
		&len, &err), 0);
	free(data);
	json_decref(claims);

	assert_int_equal(workload_pb_pack_validate_jwt_svid_response("spiffe://a/b", array, &data,
		&len, &err), WD_EINVAL);
	assert_string_equal(err.detail, "claims must be a JSON object");
	json_decref(array);

	assert_int_equal(workload_pb_pack_validate_jwt_svid_response("", NULL, &data, &len, &err),
		WD_EINVAL);

	/* No claims: the Struct is absent. */
	assert_int_equal(workload_pb_pack_validate_jwt_svid_response("spiffe://a/b", NULL, &data,
		&len, &err), 0);
	{
		ValidateJWTSVIDResponse *decoded = validate_jwtsvidresponse__unpack(NULL, len, data);

		assert_non_null(decoded);
		assert_null(decoded->claims);
		validate_jwtsvidresponse__free_unpacked(decoded, NULL);
	}
	free(data);
}

/* Packs a generated message into a malloc'd buffer for the decoder tests. */
static uint8_t *pack_generated(const ProtobufCMessage *message, size_t *ret_len)
{
	size_t len = protobuf_c_message_get_packed_size(message);
	uint8_t *data = malloc(len ? len : 1);

	assert_non_null(data);
	assert_int_equal(protobuf_c_message_pack(message, data), len);
	*ret_len = len;
	return data;
}

static void empty_requests_decode(void **state)
{
	X509SVIDRequest *x509 = NULL;
	X509BundlesRequest *x509_bundles = NULL;
	JWTBundlesRequest *jwt_bundles = NULL;
	/* An unknown field (number 9, varint 1) must be tolerated, as proto3
	 * requires for forward compatibility. */
	static const uint8_t unknown_field[] = { 0x48, 0x01 };

	(void)state;
	assert_int_equal(workload_pb_unpack_x509_svid_request(NULL, 0, 0, &x509, NULL), 0);
	assert_non_null(x509);
	x509_svidrequest__free_unpacked(x509, NULL);
	assert_int_equal(workload_pb_unpack_x509_svid_request(unknown_field, sizeof(unknown_field),
		0, &x509, NULL), 0);
	x509_svidrequest__free_unpacked(x509, NULL);

	assert_int_equal(workload_pb_unpack_x509_bundles_request(NULL, 0, 0, &x509_bundles, NULL),
		0);
	assert_non_null(x509_bundles);
	x509_bundles_request__free_unpacked(x509_bundles, NULL);

	assert_int_equal(workload_pb_unpack_jwt_bundles_request(unknown_field,
		sizeof(unknown_field), 0, &jwt_bundles, NULL), 0);
	assert_non_null(jwt_bundles);
	jwtbundles_request__free_unpacked(jwt_bundles, NULL);
}

static void jwt_svid_request_round_trip(void **state)
{
	JWTSVIDRequest message = JWTSVIDREQUEST__INIT;
	char *audiences[] = { "spiffe://example.org/api", "other" };
	JWTSVIDRequest *decoded = NULL;
	struct wd_error err;
	uint8_t *data;
	size_t len;

	(void)state;
	message.n_audience = 2;
	message.audience = audiences;
	message.spiffe_id = "spiffe://example.org/web";
	data = pack_generated(&message.base, &len);
	assert_int_equal(workload_pb_unpack_jwt_svid_request(data, len, 0, &decoded, &err), 0);
	assert_int_equal(decoded->n_audience, 2);
	assert_string_equal(decoded->audience[0], "spiffe://example.org/api");
	assert_string_equal(decoded->audience[1], "other");
	assert_string_equal(decoded->spiffe_id, "spiffe://example.org/web");
	jwtsvidrequest__free_unpacked(decoded, NULL);
	free(data);

	/* spiffe_id is optional. */
	message.n_audience = 1;
	message.spiffe_id = "";
	data = pack_generated(&message.base, &len);
	assert_int_equal(workload_pb_unpack_jwt_svid_request(data, len, 0, &decoded, &err), 0);
	assert_string_equal(decoded->spiffe_id, "");
	jwtsvidrequest__free_unpacked(decoded, NULL);
	free(data);
}

static void requests_reject_nul_in_strings(void **state)
{
	/* JWTSVIDRequest{audience: "a\0b"} and ValidateJWTSVIDRequest{audience:
	 * "a", svid: "x\0y"}, written by hand because protobuf-c cannot pack a
	 * NUL inside a string. */
	static const uint8_t jwt_request[] = { 0x0a, 0x03, 'a', 0x00, 'b' };
	static const uint8_t validate_request[] = { 0x0a, 0x01, 'a', 0x12, 0x03, 'x', 0x00, 'y' };
	JWTSVIDRequest *jwt = (JWTSVIDRequest *)1;
	ValidateJWTSVIDRequest *validate = (ValidateJWTSVIDRequest *)1;
	struct wd_error err;

	(void)state;
	assert_int_equal(workload_pb_unpack_jwt_svid_request(jwt_request, sizeof(jwt_request), 0,
		&jwt, &err), WD_EINVAL);
	assert_null(jwt);
	assert_string_equal(err.detail, "invalid JWTSVIDRequest: field 1 contains a NUL byte");

	assert_int_equal(workload_pb_unpack_validate_jwt_svid_request(validate_request,
		sizeof(validate_request), 0, &validate, &err), WD_EINVAL);
	assert_null(validate);
	assert_string_equal(err.detail,
		"invalid ValidateJWTSVIDRequest: field 2 contains a NUL byte");
}

static void jwt_svid_request_rejects(void **state)
{
	JWTSVIDRequest message = JWTSVIDREQUEST__INIT;
	char *audiences[WORKLOAD_PB_MAX_AUDIENCES + 1];
	char *empty_audience[] = { "a", "" };
	JWTSVIDRequest *decoded = (JWTSVIDRequest *)1;
	struct wd_error err;
	uint8_t *data;
	size_t len;

	(void)state;
	data = pack_generated(&message.base, &len);
	assert_int_equal(workload_pb_unpack_jwt_svid_request(data, len, 0, &decoded, &err),
		WD_EINVAL);
	assert_null(decoded);
	assert_string_equal(err.detail, "invalid JWTSVIDRequest: missing audience");
	free(data);

	message.n_audience = 2;
	message.audience = empty_audience;
	data = pack_generated(&message.base, &len);
	assert_int_equal(workload_pb_unpack_jwt_svid_request(data, len, 0, &decoded, &err),
		WD_EINVAL);
	assert_string_equal(err.detail, "invalid JWTSVIDRequest: audience 1 is empty");
	free(data);

	for (size_t i = 0; i < WD_ARRAY_LEN(audiences); i++)
		audiences[i] = "aud";
	message.n_audience = WD_ARRAY_LEN(audiences);
	message.audience = audiences;
	data = pack_generated(&message.base, &len);
	assert_int_equal(workload_pb_unpack_jwt_svid_request(data, len, 0, &decoded, &err),
		WD_EINVAL);
	assert_string_equal(err.detail,
		"invalid JWTSVIDRequest: 65 audiences, more than the maximum 64");

	/* The size ceiling is checked before any parsing. */
	assert_int_equal(workload_pb_unpack_jwt_svid_request(data, len, len - 1, &decoded, &err),
		WD_ETOOBIG);
	assert_non_null(strstr(err.detail, "JWTSVIDRequest of"));
	assert_non_null(strstr(err.detail, "is larger than the maximum"));
	free(data);
}

static void validate_jwt_svid_request_round_trip(void **state)
{
	ValidateJWTSVIDRequest message = VALIDATE_JWTSVIDREQUEST__INIT;
	ValidateJWTSVIDRequest *decoded = NULL;
	struct wd_error err;
	uint8_t *data;
	size_t len;

	(void)state;
	message.audience = "spiffe://example.org/api";
	message.svid = "h.p.s";
	data = pack_generated(&message.base, &len);
	assert_int_equal(workload_pb_unpack_validate_jwt_svid_request(data, len, 0, &decoded, &err),
		0);
	assert_string_equal(decoded->audience, "spiffe://example.org/api");
	assert_string_equal(decoded->svid, "h.p.s");
	validate_jwtsvidrequest__free_unpacked(decoded, NULL);
	free(data);

	message.svid = "";
	data = pack_generated(&message.base, &len);
	assert_int_equal(workload_pb_unpack_validate_jwt_svid_request(data, len, 0, &decoded, &err),
		WD_EINVAL);
	assert_string_equal(err.detail, "invalid ValidateJWTSVIDRequest: missing svid");
	free(data);

	message.svid = "h.p.s";
	message.audience = "";
	data = pack_generated(&message.base, &len);
	assert_int_equal(workload_pb_unpack_validate_jwt_svid_request(data, len, 0, &decoded, &err),
		WD_EINVAL);
	assert_string_equal(err.detail, "invalid ValidateJWTSVIDRequest: missing audience");
	free(data);
}

static void requests_reject_malformed_bytes(void **state)
{
	/* A length-delimited field 1 claiming 16 bytes with only 2 present. */
	static const uint8_t truncated[] = { 0x0a, 0x10, 'a', 'b' };
	/* Wire type 7 does not exist. */
	static const uint8_t bad_wire_type[] = { 0x0f };
	/* A varint that never ends. */
	static const uint8_t endless_varint[] = { 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff };
	JWTSVIDRequest *jwt = NULL;
	ValidateJWTSVIDRequest *validate = NULL;
	X509SVIDRequest *x509 = NULL;
	uint8_t big[WORKLOAD_PB_DEFAULT_MAX_REQUEST + 1];
	struct wd_error err;

	(void)state;
	assert_int_equal(workload_pb_unpack_jwt_svid_request(truncated, sizeof(truncated), 0, &jwt,
		&err), WD_EINVAL);
	assert_string_equal(err.detail, "invalid JWTSVIDRequest: malformed protobuf (4 bytes)");
	assert_int_equal(workload_pb_unpack_validate_jwt_svid_request(bad_wire_type,
		sizeof(bad_wire_type), 0, &validate, &err), WD_EINVAL);
	assert_string_equal(err.detail,
		"invalid ValidateJWTSVIDRequest: malformed protobuf (1 bytes)");
	assert_int_equal(workload_pb_unpack_x509_svid_request(endless_varint,
		sizeof(endless_varint), 0, &x509, &err), WD_EINVAL);
	assert_null(x509);

	memset(big, 0, sizeof(big));
	assert_int_equal(workload_pb_unpack_x509_svid_request(big, sizeof(big), 0, &x509, &err),
		WD_ETOOBIG);
	assert_string_equal(err.detail,
		"X509SVIDRequest of 65537 bytes is larger than the maximum 65536");
	assert_int_equal(workload_pb_unpack_x509_svid_request(NULL, 3, 0, &x509, &err), WD_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(x509_svid_response_round_trip),
		cmocka_unit_test(x509_svid_response_map_wire_format),
		cmocka_unit_test(x509_svid_response_rejects_bad_input),
		cmocka_unit_test(x509_bundles_response_round_trip),
		cmocka_unit_test(jwt_svid_response_round_trip),
		cmocka_unit_test(jwt_bundles_response_round_trip),
		cmocka_unit_test(validate_jwt_svid_response_claims),
		cmocka_unit_test(validate_jwt_svid_response_limits),
		cmocka_unit_test(empty_requests_decode),
		cmocka_unit_test(jwt_svid_request_round_trip),
		cmocka_unit_test(jwt_svid_request_rejects),
		cmocka_unit_test(requests_reject_nul_in_strings),
		cmocka_unit_test(validate_jwt_svid_request_round_trip),
		cmocka_unit_test(requests_reject_malformed_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
