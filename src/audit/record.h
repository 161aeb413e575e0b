/* One audit record inside the audit module: the canonical hash, the JSON
 * line the writer emits, and the strict parser the verifier and the writer's
 * tail check share. The format is documented in audit.h. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "audit/audit.h"
#include "common/error.h"
#include "common/macros.h"

/* Length of "YYYY-MM-DDTHH:MM:SS.sssZ". */
#define AUDIT_TIME_LEN 24

/* The largest seq, because JSON integers are read as signed 64-bit. */
#define AUDIT_SEQ_MAX ((uint64_t)INT64_MAX)

/* A record's fields. The strings are borrowed from an audit_event or from
 * the json_t a line was parsed into, and must outlive the record. */
struct audit_record {
	uint64_t seq;
	const char *time;
	const char *actor;
	const char *action;
	const char *object;
	const char *outcome;
	const char *detail; /* NULL when absent */
	char prev[AUDIT_HASH_HEX_LEN + 1];
	char hash[AUDIT_HASH_HEX_LEN + 1];
};

/* 64 zeros: the prev of the first record. */
extern const char audit_zero_hash[AUDIT_HASH_HEX_LEN + 1];

/* Computes the canonical hash of rec (every field but rec->hash) into
 * ret_hash as lowercase hex. WD_EINVAL when rec->prev is not 64 lowercase
 * hex digits, WD_ECRYPTO when OpenSSL fails. */
WD_MUST_CHECK int audit_record_hash(const struct audit_record *rec,
	char ret_hash[static AUDIT_HASH_HEX_LEN + 1]);

/* Serializes rec, hash included, as one compact JSON line ended by "\n".
 * Returns the malloc'd line in ret_line and its length in ret_len.
 * WD_EINVAL when a string is not valid UTF-8, WD_ETOOBIG when the line
 * would exceed AUDIT_LINE_MAX, WD_ENOMEM. */
WD_MUST_CHECK int audit_record_format(const struct audit_record *rec, char **ret_line,
	size_t *ret_len, struct wd_error *err);

/* Parses one line (without its "\n") into ret_root, which owns the strings
 * ret_rec points to, and checks every field's presence, type, length and
 * syntax, but not the hash. On failure returns WD_EINVAL, writes the reason
 * to reason, and still sets ret_rec->seq when the seq field was valid (0
 * otherwise) so the caller can name the record. */
WD_MUST_CHECK int audit_record_parse(const char *line, size_t len, json_t **ret_root,
	struct audit_record *ret_rec, char *reason, size_t reason_size);

/* Writes the current UTC time as RFC 3339 with milliseconds. */
WD_MUST_CHECK int audit_time_now(char ret_time[static AUDIT_TIME_LEN + 1]);

/* Returns true when text is 64 lowercase hex digits. */
bool audit_hash_hex_valid(const char *text);

/* Frees a json_t through a cleanup attribute. */
static inline void audit_json_decrefp(json_t **p)
{
	if (*p)
		json_decref(*p);
	*p = NULL;
}
