/* The audit chain verifier: reads the log line by line under a length
 * ceiling and names the first record that breaks the chain or its anchor. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "audit/anchor.h"
#include "audit/audit.h"
#include "audit/record.h"

/* Chain position after the records read so far, and the anchor to meet. */
struct chain_state {
	uint64_t last_seq; /* 0 before the first record */
	char last_hash[AUDIT_HASH_HEX_LEN + 1];
	bool anchor_found;
	struct audit_anchor anchor;
};

static void file_closep(FILE **f)
{
	if (*f)
		fclose(*f);
	*f = NULL;
}

/* Reads one line without its "\n" into buf (AUDIT_LINE_MAX bytes). Returns
 * 1 for a line, 0 at the end of the file, WD_ETOOBIG for a line over
 * AUDIT_LINE_MAX bytes with its newline, WD_ETRUNCATED for a last line
 * without a newline (its bytes are in buf), WD_EIO on a read error. */
static int read_line(FILE *f, char *buf, size_t *ret_len)
{
	size_t len = 0;
	int c;

	*ret_len = 0;
	while ((c = getc_unlocked(f)) != EOF) {
		if (c == '\n') {
			*ret_len = len;
			return 1;
		}
		if (len == AUDIT_LINE_MAX - 1)
			return WD_ETOOBIG;
		buf[len++] = (char)c;
	}
	if (ferror(f))
		return WD_EIO;
	*ret_len = len;
	return len == 0 ? 0 : WD_ETRUNCATED;
}

/* Checks one parsed record against its own hash, the chain so far and the
 * anchor. Writes the reason and returns WD_ECORRUPT on the first failure. */
static int check_linkage(const struct chain_state *state, const struct audit_record *rec,
	char *reason, size_t reason_size)
{
	uint64_t expected = state->last_seq + 1;
	char hash[AUDIT_HASH_HEX_LEN + 1];

	/* The hash comes first so an edited seq or prev reads as an edit. */
	if (audit_record_hash(rec, hash) < 0) {
		snprintf(reason, reason_size, "hashing the record failed");
		return WD_ECORRUPT;
	}
	if (strcmp(hash, rec->hash) != 0) {
		snprintf(reason, reason_size,
			"stored hash does not match the record's content (the record or its hash "
			"was edited)");
		return WD_ECORRUPT;
	}

	if (rec->seq != expected && expected == 1) {
		snprintf(reason, reason_size,
			"the chain starts at seq %llu instead of 1: earlier records are missing",
			(unsigned long long)rec->seq);
		return WD_ECORRUPT;
	}
	if (rec->seq != expected) {
		snprintf(reason, reason_size,
			"expected seq %llu after seq %llu, found seq %llu: a record was dropped, "
			"inserted or moved",
			(unsigned long long)expected, (unsigned long long)state->last_seq,
			(unsigned long long)rec->seq);
		return WD_ECORRUPT;
	}

	if (strcmp(rec->prev, state->last_hash) != 0) {
		if (expected == 1)
			snprintf(reason, reason_size, "prev of the first record is not 64 zeros");
		else
			snprintf(reason, reason_size,
				"prev does not match the hash of record %llu: a record was replaced",
				(unsigned long long)state->last_seq);
		return WD_ECORRUPT;
	}

	if (state->anchor_found && rec->seq == state->anchor.seq &&
	    strcmp(rec->hash, state->anchor.hash) != 0) {
		snprintf(reason, reason_size,
			"hash differs from the head anchor: the chain was rewritten at or before "
			"this record");
		return WD_ECORRUPT;
	}
	return 0;
}

/* Checks one line. On failure, *ret_bad_seq is the seq that names the
 * record. */
static int check_line(struct chain_state *state, const char *line, size_t len, int read_rc,
	uint64_t *ret_bad_seq, char *reason, size_t reason_size)
{
	_wd_cleanup_(audit_json_decrefp) json_t *root = NULL;
	struct audit_record rec;
	int rc;

	*ret_bad_seq = state->last_seq + 1;
	if (read_rc == WD_ETOOBIG) {
		snprintf(reason, reason_size, "line exceeds %d bytes", AUDIT_LINE_MAX);
		return WD_ECORRUPT;
	}

	rc = audit_record_parse(line, len, &root, &rec, reason, reason_size);
	if (rec.seq > 0)
		*ret_bad_seq = rec.seq;
	if (read_rc == WD_ETRUNCATED) {
		snprintf(reason, reason_size,
			"the last line is truncated (no newline at the end)");
		return WD_ECORRUPT;
	}
	if (rc < 0)
		return WD_ECORRUPT;

	WD_TRY(check_linkage(state, &rec, reason, reason_size));

	state->last_seq = rec.seq;
	memcpy(state->last_hash, rec.hash, sizeof(state->last_hash));
	return 0;
}

/* Reports a log that ends before the seq its anchor records. */
static int check_tail(const struct chain_state *state, struct audit_verify_result *result)
{
	if (!state->anchor_found || state->last_seq >= state->anchor.seq)
		return 0;

	result->first_bad = state->last_seq + 1;
	result->line = result->records + 1;
	snprintf(result->reason, sizeof(result->reason),
		"the log ends at seq %llu but the head anchor records seq %llu: records %llu to "
		"%llu were cut off",
		(unsigned long long)state->last_seq, (unsigned long long)state->anchor.seq,
		(unsigned long long)state->last_seq + 1, (unsigned long long)state->anchor.seq);
	return WD_ECORRUPT;
}

static int verify_stream(FILE *f, struct chain_state *state, struct audit_verify_result *result)
{
	_wd_cleanup_(wd_freep) char *buf = malloc(AUDIT_LINE_MAX);
	size_t len;
	int read_rc;

	if (!buf)
		return WD_ENOMEM;

	while ((read_rc = read_line(f, buf, &len)) != 0) {
		uint64_t bad_seq;

		if (read_rc == WD_EIO)
			return WD_EIO;
		result->records++;
		if (check_line(state, buf, len, read_rc, &bad_seq, result->reason,
			    sizeof(result->reason)) < 0) {
			result->first_bad = bad_seq;
			result->line = result->records;
			return WD_ECORRUPT;
		}
	}
	return check_tail(state, result);
}

int audit_verify_file(const char *path, struct audit_verify_result *ret_result,
	struct wd_error *err)
{
	_wd_cleanup_(file_closep) FILE *f = NULL;
	struct chain_state state = { 0 };
	struct wd_error anchor_err;
	int anchor_rc;
	int rc;

	memset(ret_result, 0, sizeof(*ret_result));
	if (!path || !*path)
		return wd_error_set(err, WD_EINVAL, "audit log path is empty");

	f = fopen(path, "re");
	if (!f && errno == ENOENT)
		return wd_error_set(err, WD_ENOTFOUND, "audit log %s not found", path);
	if (!f)
		return wd_error_set(err, WD_EIO, "opening audit log %s failed: %s", path,
			strerror(errno));

	/* An invalid anchor is reported only when every record is valid, so
	 * a bad record is always named first. */
	memcpy(state.last_hash, audit_zero_hash, sizeof(state.last_hash));
	anchor_rc = audit_anchor_read(path, &state.anchor_found, &state.anchor, &anchor_err);

	rc = verify_stream(f, &state, ret_result);
	if (rc == WD_EIO)
		return wd_error_set(err, WD_EIO, "reading audit log %s failed: %s", path,
			strerror(errno));
	if (rc == WD_ENOMEM)
		return wd_error_set(err, WD_ENOMEM, "allocating the line buffer failed");
	if (rc == WD_ECORRUPT)
		return wd_error_set(err, WD_ECORRUPT, "audit chain %s is broken at record %llu "
			"(line %llu): %s", path, (unsigned long long)ret_result->first_bad,
			(unsigned long long)ret_result->line, ret_result->reason);

	if (anchor_rc < 0) {
		snprintf(ret_result->reason, sizeof(ret_result->reason), "%s",
			wd_error_text(&anchor_err));
		return wd_error_set(err, anchor_rc, "%s", wd_error_text(&anchor_err));
	}

	memcpy(ret_result->head, state.last_hash, sizeof(ret_result->head));
	return 0;
}
