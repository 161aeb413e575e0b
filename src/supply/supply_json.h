/* Field readers for the JSON documents of the signing formats (Sigstore
 * bundles, DSSE envelopes, in-toto Statements). Errors name the document and
 * the field path, and quote the start of a bad value. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/error.h"
#include "common/macros.h"

/* Parses len bytes as one JSON object, rejecting duplicate keys. what names
 * the document in errors ("bundle"). The caller owns *ret_object. */
WD_MUST_CHECK int supply_json_load(const char *text, size_t len, const char *what,
	json_t **ret_object, struct wd_error *err);

/* Fails with WD_EINVAL naming what.path and the first key of object that is
 * not one of the allowed names, as protobuf's JSON parsers reject unknown
 * fields. */
WD_MUST_CHECK int supply_json_check_keys(json_t *object, const char *what, const char *path,
	const char *const *allowed, size_t allowed_count, struct wd_error *err);

/* Looks up member name of object (path is the object's own path for errors,
 * "" at the top). The getters return 1 when the member is present and
 * stored, 0 when it is absent (or null) and not required, and WD_EINVAL
 * naming the field when it is required but absent or has the wrong type. */
WD_MUST_CHECK int supply_json_object(json_t *object, const char *what, const char *path,
	const char *name, bool required, json_t **ret_value, struct wd_error *err);
WD_MUST_CHECK int supply_json_array(json_t *object, const char *what, const char *path,
	const char *name, bool required, json_t **ret_value, struct wd_error *err);
WD_MUST_CHECK int supply_json_string(json_t *object, const char *what, const char *path,
	const char *name, bool required, const char **ret_value, struct wd_error *err);

/* Reads a base64 string member into malloc'd bytes, as protobuf's JSON
 * mapping encodes bytes fields: the standard or the URL-safe alphabet, with
 * or without padding. Fails with WD_EINVAL quoting the value when it is not
 * base64, and WD_ETOOBIG past max decoded bytes. */
WD_MUST_CHECK int supply_json_bytes(json_t *object, const char *what, const char *path,
	const char *name, bool required, size_t max, uint8_t **ret_data, size_t *ret_len,
	struct wd_error *err);

/* Decodes base64 text as supply_json_bytes does; WD_EINVAL when invalid. */
WD_MUST_CHECK int supply_base64_decode_any(const char *text, size_t len, uint8_t **ret_data,
	size_t *ret_len);
