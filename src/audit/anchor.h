/* The head anchor "<log>.head": the seq and hash of the last record
 * appended, so the verifier can tell a log whose tail was cut off. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "audit/audit.h"
#include "common/error.h"
#include "common/macros.h"

struct audit_anchor {
	uint64_t seq;
	char hash[AUDIT_HASH_HEX_LEN + 1];
};

/* Reads the anchor of the log at log_path into ret_anchor. Sets *ret_found
 * to false, and returns 0, when the anchor does not exist. WD_ECORRUPT when
 * it is not {"seq":N,"hash":"<64 hex>"} with N >= 1, WD_EIO when it cannot
 * be read. err names the anchor's path. */
WD_MUST_CHECK int audit_anchor_read(const char *log_path, bool *ret_found,
	struct audit_anchor *ret_anchor, struct wd_error *err);

/* Replaces the anchor of the log at log_path with seq and hash: writes
 * "<log>.head.tmp" (mode 0600), fdatasync()s it and renames it over
 * "<log>.head". The caller must hold the log's lock, because the temporary
 * name is fixed. WD_EIO on failure, leaving the old anchor in place. */
WD_MUST_CHECK int audit_anchor_write(const char *log_path, uint64_t seq,
	const char *hash, struct wd_error *err);
