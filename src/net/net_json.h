/* Decoding of JSON request bodies with errors that name the field. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/error.h"
#include "common/macros.h"

/* Makes jansson wipe every block it frees, so secrets parsed from request
 * and response bodies (KV values, passwords, tokens) do not linger in freed
 * heap memory. Call once at process start, before any JSON exists. */
void net_json_wipe_on_free(void);

/* Nesting ceiling of request bodies when the caller passes 0. */
#define NET_JSON_DEFAULT_MAX_DEPTH 32u

/* Parses body as one JSON object, rejecting duplicate keys, NUL bytes in
 * strings and nesting deeper than max_depth (0: the default). WD_EINVAL with
 * "invalid JSON at line L column C: <reason>" or a message naming the limit.
 * The caller owns *ret_obj. */
WD_MUST_CHECK int net_json_parse_object(const void *body, size_t len, size_t max_depth,
	json_t **ret_obj, struct wd_error *err);

/* Fails with WD_EINVAL `unknown field "<name>"` for the first key of obj
 * that is not one of the allowed names. */
WD_MUST_CHECK int net_json_check_fields(const json_t *obj, const char *const *allowed,
	size_t allowed_count, struct wd_error *err);

/* The getters below return 1 when the field is present and stored, 0 when
 * it is absent and not required (the output stays cleared), and WD_EINVAL
 * naming the field when it is missing but required, has the wrong type or
 * breaks a bound. A JSON null counts as absent. */

/* Stores a borrowed pointer to a string of at most max_len bytes. */
WD_MUST_CHECK int net_json_get_string(const json_t *obj, const char *name, bool required,
	size_t max_len, const char **ret_value, struct wd_error *err);

/* Stores an integer in [min, max]. Reals such as 1.0 are rejected. */
WD_MUST_CHECK int net_json_get_int(const json_t *obj, const char *name, bool required,
	int64_t min, int64_t max, int64_t *ret_value, struct wd_error *err);

WD_MUST_CHECK int net_json_get_bool(const json_t *obj, const char *name, bool required,
	bool *ret_value, struct wd_error *err);

/* Stores a malloc'd array of borrowed item pointers (the caller frees the
 * array only) of at most max_count strings of at most max_item_len bytes.
 * An empty array stores NULL and a count of 0. */
WD_MUST_CHECK int net_json_get_string_array(const json_t *obj, const char *name,
	bool required, size_t max_count, size_t max_item_len, const char ***ret_items,
	size_t *ret_count, struct wd_error *err);
