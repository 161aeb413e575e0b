/* The audit chain: an append-only JSON-lines file in which every record
 * carries the SHA-256 of its predecessor, and a verifier that names the
 * first record that was edited, dropped, inserted or reordered. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/macros.h"

struct audit_log;

/* One event. Every field is a short printable string; actor and object are
 * usually SPIFFE IDs, entry ids or "uid:0". Never pass a secret. */
struct audit_event {
	const char *actor;   /* who acted */
	const char *action;  /* what was done: "entry.create", "svid.issue" */
	const char *object;  /* what it was done to */
	const char *outcome; /* "success", "denied", "error" */
	const char *detail;  /* optional free text, may be NULL */
};

/* Opens (creating with mode 0600) the chain at path for appending. An
 * existing file is checked at its tail so new records continue its chain;
 * a damaged tail fails with WD_ECORRUPT naming the record. */
WD_MUST_CHECK int audit_open(const char *path, struct audit_log **ret_log,
	struct wd_error *err);

/* Closes the log; accepts NULL. */
void audit_close(struct audit_log *log);

/* Appends one record and flushes it to the file before returning. */
WD_MUST_CHECK int audit_append(struct audit_log *log, const struct audit_event *event,
	struct wd_error *err);

/* Outcome of a verification. */
struct audit_verify_result {
	uint64_t records;        /* records read, valid or not */
	uint64_t first_bad;      /* sequence number (1-based line) of the first
	                            bad record, 0 when all are valid */
	char reason[256];        /* why first_bad is bad */
};

/* Verifies the whole chain at path. Returns 0 when intact, WD_ECORRUPT when
 * a record is bad (ret_result names it), or another error when the file
 * cannot be read. */
WD_MUST_CHECK int audit_verify_file(const char *path, struct audit_verify_result *ret_result,
	struct wd_error *err);
