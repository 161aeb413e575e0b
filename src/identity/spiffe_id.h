/* SPIFFE IDs and trust domains, parsed exactly per the SPIFFE ID standard
 * (SPIFFE-ID.md section 2): scheme "spiffe", a lowercase trust domain of
 * [a-z0-9.-_] up to 255 bytes, path segments of [a-zA-Z0-9.-_], no empty, "."
 * or ".." segments, no trailing "/", no percent-encoding, query, fragment,
 * userinfo or port, and at most 2048 bytes in all. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "common/macros.h"

#define SPIFFE_ID_MAX_LEN 2048
#define SPIFFE_TRUST_DOMAIN_MAX_LEN 255

struct spiffe_id {
	char trust_domain[SPIFFE_TRUST_DOMAIN_MAX_LEN + 1];
	char path[SPIFFE_ID_MAX_LEN + 1];  /* "" or "/seg/seg" */
};

/* Parses len bytes of text (no NUL needed) into ret_id. On failure returns
 * WD_EINVAL with a detail that quotes the ID and names the rule it breaks. */
WD_MUST_CHECK int spiffe_id_parse(const char *text, size_t len, struct spiffe_id *ret_id,
	struct wd_error *err);

/* Validates a NUL-terminated trust domain name ("example.org"). */
WD_MUST_CHECK int spiffe_trust_domain_validate(const char *name, struct wd_error *err);

/* Writes "spiffe://td/path" to out; WD_ETOOBIG when it does not fit. */
WD_MUST_CHECK int spiffe_id_format(const struct spiffe_id *id, char *out, size_t out_len);

/* True when id belongs to trust_domain. */
bool spiffe_id_member_of(const struct spiffe_id *id, const char *trust_domain);
