/* The audit chain: an append-only JSON-lines file in which every record
 * carries the SHA-256 of its predecessor, and a verifier that names the
 * first record that was edited, dropped, inserted or reordered.
 *
 * Record format. One JSON object per line, ended by "\n", written in this
 * order (readers accept any order and any JSON whitespace inside the line):
 *
 *   {"seq":1,"time":"2025-01-02T03:04:05.678Z","actor":"uid:0",
 *    "action":"entry.create","object":"spiffe://example.org/web",
 *    "outcome":"success","detail":"...","prev":"000...000","hash":"9f2c..."}
 *
 *   seq      integer, 1 for the first record, then each record's seq + 1
 *   time     UTC, RFC 3339 with milliseconds: YYYY-MM-DDTHH:MM:SS.sssZ
 *   actor, action, object, outcome
 *            non-empty strings of at most AUDIT_FIELD_MAX bytes of UTF-8
 *   detail   optional string of at most AUDIT_FIELD_MAX bytes; absent and
 *            "" hash differently
 *   prev     the previous record's hash; 64 zeros in the first record
 *   hash     64 lowercase hex digits, defined below
 *
 * No other field is allowed, because the hash would not cover it.
 *
 * Record hash. hash is the lowercase hex SHA-256 of a canonical byte string
 * built from the decoded field values, never from the JSON text, so
 * re-formatting a line cannot change it. With str(x) = x's byte length as a
 * 4-byte big-endian integer followed by x's UTF-8 bytes, the string is
 *
 *   str("warden.audit.v1") || seq as an 8-byte big-endian integer
 *   || str(time) || str(actor) || str(action) || str(object) || str(outcome)
 *   || (0x00 when detail is absent, else 0x01 || str(detail))
 *   || prev decoded to its 32 raw bytes
 *
 * Every variable-length field carries its length, so no bytes can move
 * across a field boundary without changing the hash.
 *
 * Head anchor. A hash chain cannot show that its last records were cut off,
 * so after each append the writer replaces "<path>.head" (mode 0600,
 * written to "<path>.head.tmp" and renamed) with {"seq":N,"hash":"..."} of
 * the last record. The verifier reports a log that ends before the
 * anchor's seq as a cut tail, and an anchored record whose hash differs
 * from the anchor as rewritten. A crash between the append and the rename
 * leaves the anchor behind the log, which the verifier accepts.
 *
 * NOTE: the chain is unkeyed. Someone who can write both the log and the
 * anchor can rewrite the whole chain consistently, or delete the anchor to
 * disable the tail check. Publish audit_head() values outside the host
 * when that threat matters. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/macros.h"

/* Maximum bytes in one field value (before JSON escaping). */
#define AUDIT_FIELD_MAX 4096

/* Maximum bytes in one line, newline included. Five fields of
 * AUDIT_FIELD_MAX bytes escaped as \u00XX (6 bytes per byte) plus the
 * fixed fields stay below it, so every record the writer accepts fits. */
#define AUDIT_LINE_MAX (128 * 1024)

/* Hex digits in a record hash, without the terminating NUL. */
#define AUDIT_HASH_HEX_LEN 64

struct audit_log;

/* One event. Every field is a UTF-8 string of at most AUDIT_FIELD_MAX
 * bytes, and actor and object are usually SPIFFE IDs, entry ids or "uid:0".
 * Never pass a secret. */
struct audit_event {
	const char *actor;   /* who acted */
	const char *action;  /* what was done: "entry.create", "svid.issue" */
	const char *object;  /* what it was done to */
	const char *outcome; /* "success", "denied", "error" */
	const char *detail;  /* optional free text, may be NULL */
};

/* Opens (creating with mode 0600) the chain at path for appending and holds
 * an exclusive flock on it until audit_close. The last record's own hash is
 * checked so that new records continue its chain. A damaged last record, or
 * a log that ends before its head anchor, fails with WD_ECORRUPT naming the
 * record. WD_ECONFLICT when another writer holds the log, WD_EIO on file
 * errors. */
WD_MUST_CHECK int audit_open(const char *path, struct audit_log **ret_log,
	struct wd_error *err);

/* Closes the log and releases its lock. Accepts NULL. */
void audit_close(struct audit_log *log);

/* Appends one record with a single write(), fdatasync()s it and updates the
 * head anchor. Safe to call from several threads. WD_EINVAL for a missing,
 * empty (detail excepted) or non-UTF-8 field, WD_ETOOBIG for a field over
 * AUDIT_FIELD_MAX bytes; both leave the file unchanged. WD_EIO when the
 * write fails (the partial line is truncated away) or when fdatasync fails,
 * after which every later append also fails. WD_EIO also when only the
 * anchor update failed: err's detail then states that the record was stored,
 * so it must not be appended again. */
WD_MUST_CHECK int audit_append(struct audit_log *log, const struct audit_event *event,
	struct wd_error *err);

/* Appends one record with a single write() but defers the fdatasync and
 * the head anchor to the next audit_flush or synchronous append. A process
 * crash loses nothing, because the bytes are in the page cache, but a power
 * loss may lose the records since the last flush. For high-rate records
 * (every secrets API request) with a flush once a second. Errors as
 * audit_append's. */
WD_MUST_CHECK int audit_append_deferred(struct audit_log *log, const struct audit_event *event,
	struct wd_error *err);

/* fdatasync()s deferred records and updates the head anchor; does nothing
 * when none are pending. Accepts NULL. */
WD_MUST_CHECK int audit_flush(struct audit_log *log, struct wd_error *err);

/* Copies the last record's seq (0 for an empty log) and hash (64 zeros for
 * an empty log) into ret_seq and ret_hash. */
void audit_head(struct audit_log *log, uint64_t *ret_seq,
	char ret_hash[static AUDIT_HASH_HEX_LEN + 1]);

/* Outcome of a verification. */
struct audit_verify_result {
	uint64_t records;        /* lines read, up to and including the first
	                            bad one */
	uint64_t first_bad;      /* seq of the first bad record, 0 when all are
	                            valid: the seq the record carries when that
	                            field is a valid positive integer, else the
	                            seq expected at its position; for a cut
	                            tail, the first missing seq */
	uint64_t line;           /* 1-based line of the first bad record; for
	                            a cut tail, the line the first missing
	                            record would occupy */
	char head[AUDIT_HASH_HEX_LEN + 1]; /* last record's hash when intact */
	char reason[256];        /* why first_bad is bad */
};

/* Verifies the whole chain at path and, when "<path>.head" exists, its end
 * against that anchor. Returns 0 when intact. Returns WD_ECORRUPT when a
 * record is bad (ret_result names it) or when the anchor itself is invalid
 * (then first_bad is 0, and reason and err give the cause). Returns
 * WD_ENOTFOUND when path does not exist, WD_EIO when a file cannot be read.
 * NOTE: run against a live log, the verifier may read a record that is
 * still being written and report it as a truncated last line. */
WD_MUST_CHECK int audit_verify_file(const char *path, struct audit_verify_result *ret_result,
	struct wd_error *err);
