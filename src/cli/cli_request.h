/* Admin API requests built from command-line options: entry bodies with
 * only the fields given, and URLs with percent-encoded parts. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "cli/cli_args.h"
#include "common/buf.h"
#include "common/macros.h"

/* Ceiling of a request path with its query string, in bytes. */
#define CLI_URL_MAX 8192

/* The options of `entry create` and `entry update`; an option not given
 * leaves its field out of the request. */
struct cli_entry_options {
	const char *spiffe_id;
	const char *parent_id;
	struct cli_strings selectors;  /* replaces the whole list when given */
	struct cli_strings dns_names;  /* replaces the whole list when given */
	bool has_x509_svid_ttl;
	int64_t x509_svid_ttl;         /* seconds; 0 is the server default */
	bool has_jwt_svid_ttl;
	int64_t jwt_svid_ttl;          /* seconds; 0 is the server default */
	bool has_admin;
	bool admin;
	bool has_require_signed;
	bool require_signed;
};

/* Builds the JSON body for POST or PUT /v1/entries from the options given;
 * the caller owns the object. WD_ENOMEM on failure. */
WD_MUST_CHECK int cli_entry_request(const struct cli_entry_options *options,
	json_t **ret_body);

/* Returns whether any option of the entry was given (an update needs one). */
bool cli_entry_options_any(const struct cli_entry_options *options);

/* Creates url with the CLI_URL_MAX ceiling, holding path. */
WD_MUST_CHECK int cli_url_init(struct wd_buf *url, const char *path);

/* Appends "/" and segment, percent-encoding every byte outside RFC 3986's
 * unreserved set. WD_ETOOBIG past the ceiling, WD_ENOMEM. */
WD_MUST_CHECK int cli_url_append_segment(struct wd_buf *url, const char *segment);

/* Appends "?name=value" or "&name=value", percent-encoding value the same
 * way, since the server decodes '+' in a query as a space. */
WD_MUST_CHECK int cli_url_append_query(struct wd_buf *url, const char *name, const char *value);
