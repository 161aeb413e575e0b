/* Helpers shared by the JSON and SARIF reports of `warden scan`. */
#pragma once

#include <stdbool.h>

#include <jansson.h>

#include "supply/scan.h"

/* Builds a JSON tree without a check after every call: a failed step sets
 * failed, and the caller checks it once at the end. */
struct scan_json {
	bool failed;
};

/* Returns a new string, JSON null for NULL text, or NULL on failure. Text
 * that is not UTF-8 (old Latin-1 package fields) gets '?' for every byte
 * outside ASCII. */
json_t *scan_json_string(struct scan_json *b, const char *text);

/* Sets key of object to value, taking value over; a NULL object or value
 * marks the build failed. */
void scan_json_set(struct scan_json *b, json_t *object, const char *key, json_t *value);

/* Appends value to array, taking value over. */
void scan_json_append(struct scan_json *b, json_t *array, json_t *value);

/* Serializes root (indented by two, keys sorted, numbers with at most four
 * significant digits, ending in a newline) into ret_text and releases
 * root. */
WD_MUST_CHECK int scan_json_finish(json_t *root, char **ret_text, struct wd_error *err);

/* Returns the CVSS score of a severity as a number (9.8), or JSON null. */
json_t *scan_json_score(struct scan_json *b, const struct osv_severity *severity);
