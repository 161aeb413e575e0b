/* The audit chain writer: one locked, append-only file per process that
 * continues the chain from its last record. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/anchor.h"
#include "audit/audit.h"
#include "audit/record.h"
#include "common/alloc.h"

struct audit_log {
	pthread_mutex_t lock; /* serializes appends and reads of the head */
	int fd;
	char *path;
	off_t size;   /* bytes of complete records, to cut a partial write */
	uint64_t seq; /* seq of the last record, 0 for an empty log */
	char hash[AUDIT_HASH_HEX_LEN + 1];
	bool failed;  /* a write or fdatasync failed: the file state is unknown */
	bool unsynced; /* deferred records not yet flushed or anchored */
};

/* Reads all len bytes at offset. WD_EIO on error or a short file. */
static int pread_all(int fd, char *buf, size_t len, off_t offset)
{
	while (len > 0) {
		ssize_t n = pread(fd, buf, len, offset);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return WD_EIO;
		buf += n;
		len -= (size_t)n;
		offset += n;
	}
	return 0;
}

/* Finds the last line in the tail buf of n bytes, which ends the file.
 * whole is true when buf starts at offset 0. Sets *ret_line and *ret_len
 * (without "\n"), or writes a reason and returns WD_ECORRUPT. */
static int tail_last_line(const char *buf, size_t n, bool whole, const char **ret_line,
	size_t *ret_len, char *reason, size_t reason_size)
{
	const char *newline;

	if (buf[n - 1] != '\n') {
		snprintf(reason, reason_size, "the last line is truncated (no newline at the end)");
		return WD_ECORRUPT;
	}

	newline = memrchr(buf, '\n', n - 1);
	if (!newline && !whole) {
		snprintf(reason, reason_size, "the last line exceeds %d bytes", AUDIT_LINE_MAX);
		return WD_ECORRUPT;
	}

	*ret_line = newline ? newline + 1 : buf;
	*ret_len = (size_t)(buf + n - 1 - *ret_line);
	return 0;
}

/* Parses the last record of the log, checks its own hash and stores its
 * seq and hash in log. The rest of the chain is audit_verify_file's job. */
static int load_tail(struct audit_log *log, struct wd_error *err)
{
	_wd_cleanup_(wd_freep) char *buf = NULL;
	_wd_cleanup_(audit_json_decrefp) json_t *root = NULL;
	struct audit_record rec;
	char reason[256] = "";
	char hash[AUDIT_HASH_HEX_LEN + 1];
	const char *line = NULL;
	size_t line_len = 0;
	size_t n;
	int rc;

	log->seq = 0;
	memcpy(log->hash, audit_zero_hash, sizeof(log->hash));
	if (log->size == 0)
		return 0;

	/* The last line and the newline before it fit in AUDIT_LINE_MAX + 1. */
	n = (uint64_t)log->size < AUDIT_LINE_MAX + 1 ? (size_t)log->size : AUDIT_LINE_MAX + 1;
	buf = malloc(n);
	if (!buf)
		return wd_error_set(err, WD_ENOMEM, "reading the tail of %s failed", log->path);
	if (pread_all(log->fd, buf, n, log->size - (off_t)n) < 0)
		return wd_error_set(err, WD_EIO, "reading the tail of %s failed: %s", log->path,
			strerror(errno));

	rc = tail_last_line(buf, n, (off_t)n == log->size, &line, &line_len, reason,
		sizeof(reason));
	if (rc == 0)
		rc = audit_record_parse(line, line_len, &root, &rec, reason, sizeof(reason));
	if (rc == 0 && audit_record_hash(&rec, hash) < 0)
		rc = WD_ECRYPTO;
	if (rc == 0 && strcmp(hash, rec.hash) != 0) {
		snprintf(reason, sizeof(reason), "its stored hash does not match its content");
		rc = WD_ECORRUPT;
	}
	if (rc == WD_ECRYPTO)
		return wd_error_set(err, rc, "hashing the last record of %s failed", log->path);
	if (rc < 0)
		return wd_error_set(err, WD_ECORRUPT,
			"audit log %s is damaged at its last record: %s; run 'warden audit verify %s'",
			log->path, reason, log->path);

	log->seq = rec.seq;
	memcpy(log->hash, rec.hash, sizeof(log->hash));
	return 0;
}

/* Rejects continuing a log that ends before its head anchor, because new
 * records would reuse the cut-off seqs and the next anchor would hide the
 * cut. An anchor behind the log is a crash before the anchor update. */
static int check_anchor(struct audit_log *log, struct wd_error *err)
{
	struct audit_anchor anchor;
	bool found;

	WD_TRY(audit_anchor_read(log->path, &found, &anchor, err));
	if (!found)
		return 0;

	if (anchor.seq > log->seq)
		return wd_error_set(err, WD_ECORRUPT,
			"audit log %s ends at seq %llu but its head anchor records seq %llu: "
			"records %llu to %llu were cut off",
			log->path, (unsigned long long)log->seq, (unsigned long long)anchor.seq,
			(unsigned long long)log->seq + 1, (unsigned long long)anchor.seq);
	if (anchor.seq == log->seq && strcmp(anchor.hash, log->hash) != 0)
		return wd_error_set(err, WD_ECORRUPT,
			"audit log %s: the hash of record %llu differs from its head anchor",
			log->path, (unsigned long long)log->seq);
	return 0;
}

static int lock_file(struct audit_log *log, struct wd_error *err)
{
	struct stat st;

	while (flock(log->fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK)
			return wd_error_set(err, WD_ECONFLICT,
				"audit log %s is already open for writing by another writer",
				log->path);
		return wd_error_set(err, WD_EIO, "locking audit log %s failed: %s", log->path,
			strerror(errno));
	}

	if (fstat(log->fd, &st) < 0)
		return wd_error_set(err, WD_EIO, "reading the status of %s failed: %s",
			log->path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return wd_error_set(err, WD_EINVAL, "audit log %s is not a regular file",
			log->path);
	log->size = st.st_size;
	return 0;
}

static int flush_locked(struct audit_log *log, struct wd_error *err);

void audit_close(struct audit_log *log)
{
	struct wd_error ignored;

	/* Deferred records become durable before the log goes. */
	if (log && !log->failed && log->unsynced)
		(void)flush_locked(log, &ignored);
	if (!log)
		return;
	/* Closing the descriptor releases the flock. */
	if (log->fd >= 0)
		close(log->fd);
	pthread_mutex_destroy(&log->lock);
	free(log->path);
	free(log);
}

int audit_open(const char *path, struct audit_log **ret_log, struct wd_error *err)
{
	struct audit_log *log = NULL;
	int rc;

	*ret_log = NULL;
	if (!path || !*path)
		return wd_error_set(err, WD_EINVAL, "audit log path is empty");

	log = wd_calloc(1, sizeof(*log));
	if (!log)
		return wd_error_set(err, WD_ENOMEM, "allocating the audit log failed");
	log->fd = -1;
	if (pthread_mutex_init(&log->lock, NULL) != 0) {
		free(log);
		return wd_error_set(err, WD_EINTERNAL, "initializing the audit log lock failed");
	}

	log->path = wd_strdup(path);
	WD_ENSURE(log->path, wd_error_set(err, WD_ENOMEM, "allocating the audit log failed"));

	/* O_RDWR because the tail is read back, and O_APPEND so every write
	 * lands at the end even if the offset is stale. */
	log->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	WD_ENSURE(log->fd >= 0, wd_error_set(err, WD_EIO, "opening audit log %s failed: %s",
		path, strerror(errno)));

	WD_GUARD(lock_file(log, err));
	WD_GUARD(load_tail(log, err));
	WD_GUARD(check_anchor(log, err));

	*ret_log = WD_TAKE_PTR(log);
	rc = 0;
out:
	audit_close(log);
	return rc;
}

/* Checks the fields the caller supplied before anything is written. */
static int event_check(const struct audit_event *event, struct wd_error *err)
{
	const char *names[] = { "actor", "action", "object", "outcome", "detail" };
	const char *values[] = { event->actor, event->action, event->object, event->outcome,
		event->detail };

	for (size_t i = 0; i < WD_ARRAY_LEN(values); i++) {
		bool optional = i == WD_ARRAY_LEN(values) - 1;

		if (!values[i] && optional)
			continue;
		if (!values[i] || (!optional && !values[i][0]))
			return wd_error_set(err, WD_EINVAL, "audit field \"%s\" is missing or empty",
				names[i]);
		if (strnlen(values[i], AUDIT_FIELD_MAX + 1) > AUDIT_FIELD_MAX)
			return wd_error_set(err, WD_ETOOBIG, "audit field \"%s\" exceeds %d bytes",
				names[i], AUDIT_FIELD_MAX);
	}
	return 0;
}

/* Writes line with one write(). After a short write it cuts the file back
 * to its last complete record so the chain stays readable. */
static int write_line(struct audit_log *log, const char *line, size_t len, uint64_t seq,
	struct wd_error *err)
{
	ssize_t n;
	int saved;

	do {
		n = write(log->fd, line, len);
	} while (n < 0 && errno == EINTR);
	if (n == (ssize_t)len)
		return 0;

	saved = n < 0 ? errno : ENOSPC;
	if (ftruncate(log->fd, log->size) < 0)
		log->failed = true;
	return wd_error_set(err, WD_EIO, "writing record %llu to audit log %s failed: %s",
		(unsigned long long)seq, log->path, strerror(saved));
}

/* Makes every record written so far durable and points the head anchor at
 * the last one. */
static int flush_locked(struct audit_log *log, struct wd_error *err)
{
	struct wd_error anchor_err;

	if (fdatasync(log->fd) < 0) {
		/* After a failed fdatasync the kernel may have dropped the dirty
		 * pages, so nothing later can be trusted to follow this record. */
		log->failed = true;
		return wd_error_set(err, WD_EIO, "flushing record %llu of audit log %s failed: %s",
			(unsigned long long)log->seq, log->path, strerror(errno));
	}
	log->unsynced = false;
	if (audit_anchor_write(log->path, log->seq, log->hash, &anchor_err) < 0)
		return wd_error_set(err, WD_EIO,
			"record %llu was stored in %s, but the head anchor was not updated: %s",
			(unsigned long long)log->seq, log->path, wd_error_text(&anchor_err));
	return 0;
}

static int append_locked(struct audit_log *log, const struct audit_event *event, bool sync,
	struct wd_error *err)
{
	_wd_cleanup_(wd_freep) char *line = NULL;
	struct audit_record rec = { 0 };
	char timestamp[AUDIT_TIME_LEN + 1];
	size_t len;

	if (log->failed)
		return wd_error_set(err, WD_EIO,
			"audit log %s failed earlier and its state is unknown; reopen it", log->path);
	if (log->seq >= AUDIT_SEQ_MAX)
		return wd_error_set(err, WD_ETOOBIG, "audit log %s reached the maximum seq",
			log->path);
	if (audit_time_now(timestamp) < 0)
		return wd_error_set(err, WD_EINTERNAL, "reading the clock failed");

	rec.seq = log->seq + 1;
	rec.time = timestamp;
	rec.actor = event->actor;
	rec.action = event->action;
	rec.object = event->object;
	rec.outcome = event->outcome;
	rec.detail = event->detail;
	memcpy(rec.prev, log->hash, sizeof(rec.prev));
	if (audit_record_hash(&rec, rec.hash) < 0)
		return wd_error_set(err, WD_ECRYPTO, "hashing audit record %llu failed",
			(unsigned long long)rec.seq);
	WD_TRY(audit_record_format(&rec, &line, &len, err));

	WD_TRY(write_line(log, line, len, rec.seq, err));
	log->size += (off_t)len;
	log->seq = rec.seq;
	memcpy(log->hash, rec.hash, sizeof(log->hash));
	if (!sync) {
		log->unsynced = true;
		return 0;
	}
	return flush_locked(log, err);
}

static int append(struct audit_log *log, const struct audit_event *event, bool sync,
	struct wd_error *err)
{
	int rc;

	if (!log || !event)
		return wd_error_set(err, WD_EINVAL, "audit log or event is missing");
	WD_TRY(event_check(event, err));

	pthread_mutex_lock(&log->lock);
	rc = append_locked(log, event, sync, err);
	pthread_mutex_unlock(&log->lock);
	return rc;
}

int audit_append(struct audit_log *log, const struct audit_event *event, struct wd_error *err)
{
	return append(log, event, true, err);
}

int audit_append_deferred(struct audit_log *log, const struct audit_event *event,
	struct wd_error *err)
{
	return append(log, event, false, err);
}

int audit_flush(struct audit_log *log, struct wd_error *err)
{
	int rc = 0;

	if (!log)
		return 0;
	pthread_mutex_lock(&log->lock);
	if (log->failed)
		rc = wd_error_set(err, WD_EIO,
			"audit log %s failed earlier and its state is unknown; reopen it", log->path);
	else if (log->unsynced)
		rc = flush_locked(log, err);
	pthread_mutex_unlock(&log->lock);
	return rc;
}

void audit_head(struct audit_log *log, uint64_t *ret_seq,
	char ret_hash[static AUDIT_HASH_HEX_LEN + 1])
{
	pthread_mutex_lock(&log->lock);
	*ret_seq = log->seq;
	memcpy(ret_hash, log->hash, AUDIT_HASH_HEX_LEN + 1);
	pthread_mutex_unlock(&log->lock);
}
