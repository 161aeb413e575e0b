/* Workload API message packing and request decoding. Responses are built as
 * generated protobuf-c structs that point into the caller's data (nothing is
 * copied), packed once, and their scaffolding freed. */
#include <stdbool.h>
#include <string.h>

#include <openssl/crypto.h>

#include "agent/workload_pb.h"
#include "common/alloc.h"

void workload_pb_free_secret(uint8_t *data, size_t len)
{
	if (!data)
		return;
	OPENSSL_cleanse(data, len);
	free(data);
}

static ProtobufCBinaryData binary(const uint8_t *data, size_t len)
{
	return (ProtobufCBinaryData){ .len = len, .data = (uint8_t *)data };
}

/* protobuf-c never writes through the strings it packs, so dropping const
 * here is safe. */
static char *string_or_empty(const char *text)
{
	return (char *)(text ? text : "");
}

static int check_bytes(const uint8_t *data, size_t len, const char *what, size_t index,
	struct wd_error *err)
{
	if (!data && len > 0)
		return wd_error_set(err, WD_EINVAL, "missing data for %s %zu (length %zu)", what,
			index, len);
	return 0;
}

/* Checks the entries of a map<string, bytes>: each needs a key and data, and
 * keys must be unique, because bundles of different trust domains must never
 * be merged and a decoder would keep only one of two equal keys. */
static int check_bundle_entries(const struct workload_pb_bundle_entry *entries, size_t count,
	const char *field, struct wd_error *err)
{
	if (count > 0 && !entries)
		return wd_error_set(err, WD_EINVAL, "missing entries for \"%s\"", field);
	for (size_t i = 0; i < count; i++) {
		if (!entries[i].trust_domain_id || entries[i].trust_domain_id[0] == '\0')
			return wd_error_set(err, WD_EINVAL, "missing trust domain ID in \"%s\" entry %zu",
				field, i);
		WD_TRY(check_bytes(entries[i].data, entries[i].len, field, i, err));
		for (size_t j = 0; j < i; j++) {
			if (strcmp(entries[i].trust_domain_id, entries[j].trust_domain_id) == 0)
				return wd_error_set(err, WD_EINVAL,
					"duplicate trust domain ID \"%.200s\" in \"%s\"",
					entries[i].trust_domain_id, field);
		}
	}
	return 0;
}

static int check_crls(const struct workload_pb_bytes *crls, size_t count, struct wd_error *err)
{
	if (count > 0 && !crls)
		return wd_error_set(err, WD_EINVAL, "missing CRL list");
	for (size_t i = 0; i < count; i++)
		WD_TRY(check_bytes(crls[i].data, crls[i].len, "CRL", i, err));
	return 0;
}

static ProtobufCBinaryData *build_crls(const struct workload_pb_bytes *crls, size_t count)
{
	ProtobufCBinaryData *out = wd_calloc(count, sizeof(*out));

	if (!out)
		return NULL;
	for (size_t i = 0; i < count; i++)
		out[i] = binary(crls[i].data, crls[i].len);
	return out;
}

/* Packs message into a new malloc'd buffer. */
static int pack_message(const ProtobufCMessage *message, uint8_t **ret_data, size_t *ret_len,
	struct wd_error *err)
{
	size_t size = protobuf_c_message_get_packed_size(message);
	uint8_t *data = malloc(size ? size : 1);
	size_t written;

	if (!data)
		return wd_error_set(err, WD_ENOMEM, "out of memory packing %s (%zu bytes)",
			message->descriptor->name, size);
	written = protobuf_c_message_pack(message, data);
	if (written != size) {
		/* The buffer may already hold key material. */
		workload_pb_free_secret(data, size);
		return wd_error_set(err, WD_EINTERNAL, "packing %s wrote %zu bytes, expected %zu",
			message->descriptor->name, written, size);
	}
	*ret_data = data;
	*ret_len = size;
	return 0;
}

/* Map entries of the three responses share one layout: base, key, value. */
#define BUILD_MAP(entry_type, entry_init, entries, count, ret_items, ret_ptrs)            \
	do {                                                                          \
		ret_items = wd_calloc((count), sizeof(entry_type));                   \
		ret_ptrs = wd_calloc((count), sizeof(entry_type *));                  \
		WD_ENSURE(ret_items && ret_ptrs,                                      \
			wd_error_set(err, WD_ENOMEM, "out of memory building a map")); \
		for (size_t i_ = 0; i_ < (count); i_++) {                             \
			entry_type init_ = entry_init;                                \
			ret_items[i_] = init_;                                        \
			ret_items[i_].key = (char *)(entries)[i_].trust_domain_id;    \
			ret_items[i_].value = binary((entries)[i_].data, (entries)[i_].len); \
			ret_ptrs[i_] = &ret_items[i_];                                \
		}                                                                     \
	} while (0)

int workload_pb_pack_x509_svid_response(const struct workload_pb_x509_svid_response *response,
	uint8_t **ret_data, size_t *ret_len, struct wd_error *err)
{
	X509SVIDResponse message = X509_SVIDRESPONSE__INIT;
	X509SVID *svids = NULL;
	X509SVID **svid_ptrs = NULL;
	X509SVIDResponse__FederatedBundlesEntry *entries = NULL;
	X509SVIDResponse__FederatedBundlesEntry **entry_ptrs = NULL;
	int rc = 0;

	*ret_data = NULL;
	*ret_len = 0;
	if (!response)
		return wd_error_set(err, WD_EINVAL, "missing X509SVIDResponse");
	if (response->svid_count > 0 && !response->svids)
		return wd_error_set(err, WD_EINVAL, "missing X.509-SVID list");
	for (size_t i = 0; i < response->svid_count; i++) {
		const struct workload_pb_x509_svid *svid = &response->svids[i];

		if (!svid->spiffe_id || svid->spiffe_id[0] == '\0')
			return wd_error_set(err, WD_EINVAL, "missing SPIFFE ID in X.509-SVID %zu", i);
		WD_TRY(check_bytes(svid->chain_der, svid->chain_len, "X.509-SVID chain", i, err));
		WD_TRY(check_bytes(svid->key_der, svid->key_len, "X.509-SVID key", i, err));
		WD_TRY(check_bytes(svid->bundle_der, svid->bundle_len, "X.509-SVID bundle", i, err));
	}
	WD_TRY(check_crls(response->crls, response->crl_count, err));
	WD_TRY(check_bundle_entries(response->federated_bundles,
		response->federated_bundle_count, "federated_bundles", err));

	svids = wd_calloc(response->svid_count, sizeof(*svids));
	svid_ptrs = wd_calloc(response->svid_count, sizeof(*svid_ptrs));
	WD_ENSURE(svids && svid_ptrs,
		wd_error_set(err, WD_ENOMEM, "out of memory building X509SVIDResponse"));
	for (size_t i = 0; i < response->svid_count; i++) {
		const struct workload_pb_x509_svid *svid = &response->svids[i];
		X509SVID init = X509_SVID__INIT;

		svids[i] = init;
		svids[i].spiffe_id = string_or_empty(svid->spiffe_id);
		svids[i].x509_svid = binary(svid->chain_der, svid->chain_len);
		svids[i].x509_svid_key = binary(svid->key_der, svid->key_len);
		svids[i].bundle = binary(svid->bundle_der, svid->bundle_len);
		svids[i].hint = string_or_empty(svid->hint);
		svid_ptrs[i] = &svids[i];
	}
	message.n_svids = response->svid_count;
	message.svids = svid_ptrs;

	message.crl = build_crls(response->crls, response->crl_count);
	WD_ENSURE(message.crl, wd_error_set(err, WD_ENOMEM, "out of memory building CRLs"));
	message.n_crl = response->crl_count;

	BUILD_MAP(X509SVIDResponse__FederatedBundlesEntry,
		X509_SVIDRESPONSE__FEDERATED_BUNDLES_ENTRY__INIT, response->federated_bundles,
		response->federated_bundle_count, entries, entry_ptrs);
	message.n_federated_bundles = response->federated_bundle_count;
	message.federated_bundles = entry_ptrs;

	rc = pack_message(&message.base, ret_data, ret_len, err);
out:
	free(message.crl);
	free(entry_ptrs);
	free(entries);
	free(svid_ptrs);
	free(svids);
	return rc;
}

int workload_pb_pack_x509_bundles_response(
	const struct workload_pb_x509_bundles_response *response, uint8_t **ret_data,
	size_t *ret_len, struct wd_error *err)
{
	X509BundlesResponse message = X509_BUNDLES_RESPONSE__INIT;
	X509BundlesResponse__BundlesEntry *entries = NULL;
	X509BundlesResponse__BundlesEntry **entry_ptrs = NULL;
	int rc = 0;

	*ret_data = NULL;
	*ret_len = 0;
	if (!response)
		return wd_error_set(err, WD_EINVAL, "missing X509BundlesResponse");
	WD_TRY(check_crls(response->crls, response->crl_count, err));
	WD_TRY(check_bundle_entries(response->bundles, response->bundle_count, "bundles", err));

	message.crl = build_crls(response->crls, response->crl_count);
	WD_ENSURE(message.crl, wd_error_set(err, WD_ENOMEM, "out of memory building CRLs"));
	message.n_crl = response->crl_count;

	BUILD_MAP(X509BundlesResponse__BundlesEntry, X509_BUNDLES_RESPONSE__BUNDLES_ENTRY__INIT,
		response->bundles, response->bundle_count, entries, entry_ptrs);
	message.n_bundles = response->bundle_count;
	message.bundles = entry_ptrs;

	rc = pack_message(&message.base, ret_data, ret_len, err);
out:
	free(message.crl);
	free(entry_ptrs);
	free(entries);
	return rc;
}

int workload_pb_pack_jwt_svid_response(const struct workload_pb_jwt_svid *svids, size_t count,
	uint8_t **ret_data, size_t *ret_len, struct wd_error *err)
{
	JWTSVIDResponse message = JWTSVIDRESPONSE__INIT;
	JWTSVID *items = NULL;
	JWTSVID **item_ptrs = NULL;
	int rc = 0;

	*ret_data = NULL;
	*ret_len = 0;
	if (count > 0 && !svids)
		return wd_error_set(err, WD_EINVAL, "missing JWT-SVID list");
	for (size_t i = 0; i < count; i++) {
		if (!svids[i].spiffe_id || svids[i].spiffe_id[0] == '\0')
			return wd_error_set(err, WD_EINVAL, "missing SPIFFE ID in JWT-SVID %zu", i);
		if (!svids[i].token || svids[i].token[0] == '\0')
			return wd_error_set(err, WD_EINVAL, "missing token in JWT-SVID %zu", i);
	}

	items = wd_calloc(count, sizeof(*items));
	item_ptrs = wd_calloc(count, sizeof(*item_ptrs));
	WD_ENSURE(items && item_ptrs,
		wd_error_set(err, WD_ENOMEM, "out of memory building JWTSVIDResponse"));
	for (size_t i = 0; i < count; i++) {
		JWTSVID init = JWTSVID__INIT;

		items[i] = init;
		items[i].spiffe_id = string_or_empty(svids[i].spiffe_id);
		items[i].svid = string_or_empty(svids[i].token);
		items[i].hint = string_or_empty(svids[i].hint);
		item_ptrs[i] = &items[i];
	}
	message.n_svids = count;
	message.svids = item_ptrs;

	rc = pack_message(&message.base, ret_data, ret_len, err);
out:
	free(item_ptrs);
	free(items);
	return rc;
}

int workload_pb_pack_jwt_bundles_response(const struct workload_pb_bundle_entry *bundles,
	size_t count, uint8_t **ret_data, size_t *ret_len, struct wd_error *err)
{
	JWTBundlesResponse message = JWTBUNDLES_RESPONSE__INIT;
	JWTBundlesResponse__BundlesEntry *entries = NULL;
	JWTBundlesResponse__BundlesEntry **entry_ptrs = NULL;
	int rc = 0;

	*ret_data = NULL;
	*ret_len = 0;
	WD_TRY(check_bundle_entries(bundles, count, "bundles", err));

	BUILD_MAP(JWTBundlesResponse__BundlesEntry, JWTBUNDLES_RESPONSE__BUNDLES_ENTRY__INIT,
		bundles, count, entries, entry_ptrs);
	message.n_bundles = count;
	message.bundles = entry_ptrs;

	rc = pack_message(&message.base, ret_data, ret_len, err);
out:
	free(entry_ptrs);
	free(entries);
	return rc;
}

/* google.protobuf.Struct from JSON. The tree points at jansson's strings and
 * owns only its nodes and arrays, which struct_tree_free releases. */

static void struct_tree_free(Google__Protobuf__Struct *object);

static void value_tree_free(Google__Protobuf__Value *value)
{
	if (!value)
		return;
	if (value->kind_case == GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE) {
		struct_tree_free(value->struct_value);
	} else if (value->kind_case == GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE &&
		   value->list_value) {
		for (size_t i = 0; i < value->list_value->n_values; i++)
			value_tree_free(value->list_value->values[i]);
		free(value->list_value->values);
		free(value->list_value);
	}
	free(value);
}

static void struct_tree_free(Google__Protobuf__Struct *object)
{
	if (!object)
		return;
	for (size_t i = 0; i < object->n_fields; i++) {
		if (!object->fields[i])
			continue;
		value_tree_free(object->fields[i]->value);
		free(object->fields[i]);
	}
	free(object->fields);
	free(object);
}

static int struct_from_json(const json_t *json, const char *path, unsigned int depth,
	Google__Protobuf__Struct **ret_object, struct wd_error *err);

static int value_from_json(const json_t *json, const char *path, unsigned int depth,
	Google__Protobuf__Value **ret_value, struct wd_error *err)
{
	Google__Protobuf__Value init = GOOGLE__PROTOBUF__VALUE__INIT;
	Google__Protobuf__Value *value = malloc(sizeof(*value));
	int rc = 0;

	*ret_value = NULL;
	if (!value)
		return wd_error_set(err, WD_ENOMEM, "out of memory converting claims");
	*value = init;

	switch (json_typeof(json)) {
	case JSON_NULL:
		value->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NULL_VALUE;
		value->null_value = GOOGLE__PROTOBUF__NULL_VALUE__NULL_VALUE;
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		value->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE;
		value->bool_value = json_is_true(json);
		break;
	case JSON_INTEGER:
	case JSON_REAL:
		value->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE;
		value->number_value = json_number_value(json);
		break;
	case JSON_STRING:
		value->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE;
		value->string_value = (char *)json_string_value(json);
		break;
	case JSON_OBJECT:
		value->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE;
		WD_GUARD(struct_from_json(json, path, depth, &value->struct_value, err));
		break;
	case JSON_ARRAY: {
		Google__Protobuf__ListValue list_init = GOOGLE__PROTOBUF__LIST_VALUE__INIT;
		size_t count = json_array_size(json);

		WD_ENSURE(depth < WORKLOAD_PB_MAX_CLAIMS_DEPTH,
			wd_error_set(err, WD_EINVAL, "claim \"%.200s\" is nested more than %d deep",
				path, WORKLOAD_PB_MAX_CLAIMS_DEPTH));
		value->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE;
		value->list_value = malloc(sizeof(*value->list_value));
		WD_ENSURE(value->list_value,
			wd_error_set(err, WD_ENOMEM, "out of memory converting claims"));
		*value->list_value = list_init;
		value->list_value->values = wd_calloc(count, sizeof(*value->list_value->values));
		WD_ENSURE(value->list_value->values,
			wd_error_set(err, WD_ENOMEM, "out of memory converting claims"));
		for (size_t i = 0; i < count; i++) {
			WD_GUARD(value_from_json(json_array_get(json, i), path, depth + 1,
				&value->list_value->values[i], err));
			value->list_value->n_values++;
		}
		break;
	}
	default:
		rc = wd_error_set(err, WD_EINVAL, "claim \"%.200s\" has an unsupported JSON type",
			path);
		goto out;
	}

	*ret_value = WD_TAKE_PTR(value);
out:
	value_tree_free(value);
	return rc;
}

/* path names the claim being converted, for errors: the top-level key under
 * which the failing value sits. */
static int struct_from_json(const json_t *json, const char *path, unsigned int depth,
	Google__Protobuf__Struct **ret_object, struct wd_error *err)
{
	Google__Protobuf__Struct init = GOOGLE__PROTOBUF__STRUCT__INIT;
	Google__Protobuf__Struct *object = NULL;
	size_t count = json_object_size(json);
	const char *key;
	json_t *member;
	int rc = 0;

	*ret_object = NULL;
	if (depth >= WORKLOAD_PB_MAX_CLAIMS_DEPTH)
		return wd_error_set(err, WD_EINVAL, "claim \"%.200s\" is nested more than %d deep",
			path, WORKLOAD_PB_MAX_CLAIMS_DEPTH);

	object = malloc(sizeof(*object));
	WD_ENSURE(object, wd_error_set(err, WD_ENOMEM, "out of memory converting claims"));
	*object = init;
	object->fields = wd_calloc(count, sizeof(*object->fields));
	WD_ENSURE(object->fields, wd_error_set(err, WD_ENOMEM, "out of memory converting claims"));

	/* json_object_foreach walks keys in insertion order (jansson >= 2.8). */
	json_object_foreach((json_t *)json, key, member) {
		Google__Protobuf__Struct__FieldsEntry entry_init =
			GOOGLE__PROTOBUF__STRUCT__FIELDS_ENTRY__INIT;
		Google__Protobuf__Struct__FieldsEntry *entry;

		WD_ENSURE(object->n_fields < count,
			wd_error_set(err, WD_EINTERNAL, "claims object changed while converting"));
		entry = malloc(sizeof(*entry));
		WD_ENSURE(entry, wd_error_set(err, WD_ENOMEM, "out of memory converting claims"));
		*entry = entry_init;
		entry->key = (char *)key;
		object->fields[object->n_fields++] = entry;
		WD_GUARD(value_from_json(member, depth == 0 ? key : path, depth + 1, &entry->value,
			err));
	}

	*ret_object = WD_TAKE_PTR(object);
out:
	struct_tree_free(object);
	return rc;
}

int workload_pb_pack_validate_jwt_svid_response(const char *spiffe_id, const json_t *claims,
	uint8_t **ret_data, size_t *ret_len, struct wd_error *err)
{
	ValidateJWTSVIDResponse message = VALIDATE_JWTSVIDRESPONSE__INIT;
	int rc = 0;

	*ret_data = NULL;
	*ret_len = 0;
	if (!spiffe_id || spiffe_id[0] == '\0')
		return wd_error_set(err, WD_EINVAL, "missing SPIFFE ID in ValidateJWTSVIDResponse");
	if (claims && !json_is_object(claims))
		return wd_error_set(err, WD_EINVAL, "claims must be a JSON object");

	message.spiffe_id = (char *)spiffe_id;
	if (claims)
		WD_GUARD(struct_from_json(claims, "", 0, &message.claims, err));

	rc = pack_message(&message.base, ret_data, ret_len, err);
out:
	struct_tree_free(message.claims);
	return rc;
}

/* Reads a base-128 varint at *pos; false past the end or over 10 bytes. */
static bool read_varint(const uint8_t *data, size_t len, size_t *pos, uint64_t *ret_value)
{
	uint64_t value = 0;

	for (unsigned shift = 0; shift < 70 && *pos < len; shift += 7) {
		uint8_t byte = data[(*pos)++];

		value |= (uint64_t)(byte & 0x7f) << shift;
		if (!(byte & 0x80)) {
			*ret_value = value;
			return true;
		}
	}
	return false;
}

/* Fails when a length-delimited field of the message holds a NUL byte.
 * Every length-delimited field of the Workload API requests is a string,
 * and protobuf-c hands strings over as C strings, so "a\0b" would arrive
 * as "a": an audience would be silently cut short. */
static int reject_nul_in_strings(const ProtobufCMessageDescriptor *descriptor,
	const uint8_t *data, size_t len, struct wd_error *err)
{
	size_t pos = 0;

	while (pos < len) {
		uint64_t key;
		uint64_t value;

		if (!read_varint(data, len, &pos, &key))
			return 0;
		switch (key & 7) {
		case 0:
			if (!read_varint(data, len, &pos, &value))
				return 0;
			break;
		case 1:
			pos += 8;
			break;
		case 5:
			pos += 4;
			break;
		case 2:
			if (!read_varint(data, len, &pos, &value) || value > len - pos)
				return 0;
			if (memchr(data + pos, 0, (size_t)value))
				return wd_error_set(err, WD_EINVAL,
					"invalid %s: field %llu contains a NUL byte", descriptor->name,
					(unsigned long long)(key >> 3));
			pos += (size_t)value;
			break;
		default:
			/* Groups: protobuf-c judged the message already. */
			return 0;
		}
	}
	return 0;
}

/* Unpacks len bytes as descriptor's message after the size check, and
 * rejects strings with NUL bytes (see reject_nul_in_strings).
 * NOTE: protobuf-c 1.4 does not check that strings are UTF-8. */
static int unpack_checked(const ProtobufCMessageDescriptor *descriptor, const uint8_t *data,
	size_t len, size_t max_len, ProtobufCMessage **ret_message, struct wd_error *err)
{
	static const uint8_t empty[1];
	ProtobufCMessage *message;

	*ret_message = NULL;
	if (max_len == 0)
		max_len = WORKLOAD_PB_DEFAULT_MAX_REQUEST;
	if (len > max_len)
		return wd_error_set(err, WD_ETOOBIG, "%s of %zu bytes is larger than the maximum %zu",
			descriptor->name, len, max_len);
	if (!data && len > 0)
		return wd_error_set(err, WD_EINVAL, "missing data for %s of %zu bytes",
			descriptor->name, len);

	message = protobuf_c_message_unpack(descriptor, NULL, len, data ? data : empty);
	if (!message)
		return wd_error_set(err, WD_EINVAL, "invalid %s: malformed protobuf (%zu bytes)",
			descriptor->name, len);
	if (data && reject_nul_in_strings(descriptor, data, len, err) < 0) {
		protobuf_c_message_free_unpacked(message, NULL);
		return WD_EINVAL;
	}
	*ret_message = message;
	return 0;
}

int workload_pb_unpack_x509_svid_request(const uint8_t *data, size_t len, size_t max_len,
	X509SVIDRequest **ret_request, struct wd_error *err)
{
	ProtobufCMessage *message;

	*ret_request = NULL;
	WD_TRY(unpack_checked(&x509_svidrequest__descriptor, data, len, max_len, &message, err));
	*ret_request = (X509SVIDRequest *)message;
	return 0;
}

int workload_pb_unpack_x509_bundles_request(const uint8_t *data, size_t len, size_t max_len,
	X509BundlesRequest **ret_request, struct wd_error *err)
{
	ProtobufCMessage *message;

	*ret_request = NULL;
	WD_TRY(unpack_checked(&x509_bundles_request__descriptor, data, len, max_len, &message,
		err));
	*ret_request = (X509BundlesRequest *)message;
	return 0;
}

int workload_pb_unpack_jwt_bundles_request(const uint8_t *data, size_t len, size_t max_len,
	JWTBundlesRequest **ret_request, struct wd_error *err)
{
	ProtobufCMessage *message;

	*ret_request = NULL;
	WD_TRY(unpack_checked(&jwtbundles_request__descriptor, data, len, max_len, &message, err));
	*ret_request = (JWTBundlesRequest *)message;
	return 0;
}

int workload_pb_unpack_jwt_svid_request(const uint8_t *data, size_t len, size_t max_len,
	JWTSVIDRequest **ret_request, struct wd_error *err)
{
	ProtobufCMessage *message;
	JWTSVIDRequest *request;
	int rc = 0;

	*ret_request = NULL;
	WD_TRY(unpack_checked(&jwtsvidrequest__descriptor, data, len, max_len, &message, err));
	request = (JWTSVIDRequest *)message;

	WD_ENSURE(request->n_audience > 0,
		wd_error_set(err, WD_EINVAL, "invalid JWTSVIDRequest: missing audience"));
	WD_ENSURE(request->n_audience <= WORKLOAD_PB_MAX_AUDIENCES,
		wd_error_set(err, WD_EINVAL,
			"invalid JWTSVIDRequest: %zu audiences, more than the maximum %d",
			request->n_audience, WORKLOAD_PB_MAX_AUDIENCES));
	for (size_t i = 0; i < request->n_audience; i++)
		WD_ENSURE(request->audience[i] && request->audience[i][0] != '\0',
			wd_error_set(err, WD_EINVAL, "invalid JWTSVIDRequest: audience %zu is empty",
				i));

	*ret_request = WD_TAKE_PTR(request);
out:
	if (request)
		jwtsvidrequest__free_unpacked(request, NULL);
	return rc;
}

int workload_pb_unpack_validate_jwt_svid_request(const uint8_t *data, size_t len,
	size_t max_len, ValidateJWTSVIDRequest **ret_request, struct wd_error *err)
{
	ProtobufCMessage *message;
	ValidateJWTSVIDRequest *request;
	int rc = 0;

	*ret_request = NULL;
	WD_TRY(unpack_checked(&validate_jwtsvidrequest__descriptor, data, len, max_len, &message,
		err));
	request = (ValidateJWTSVIDRequest *)message;

	WD_ENSURE(request->audience && request->audience[0] != '\0',
		wd_error_set(err, WD_EINVAL, "invalid ValidateJWTSVIDRequest: missing audience"));
	WD_ENSURE(request->svid && request->svid[0] != '\0',
		wd_error_set(err, WD_EINVAL, "invalid ValidateJWTSVIDRequest: missing svid"));

	*ret_request = WD_TAKE_PTR(request);
out:
	if (request)
		validate_jwtsvidrequest__free_unpacked(request, NULL);
	return rc;
}
