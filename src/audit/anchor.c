/* Reading and atomically replacing the head anchor "<log>.head". */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "audit/anchor.h"
#include "audit/record.h"

/* An anchor is about 90 bytes, so anything past this ceiling is not one. */
#define ANCHOR_MAX 256

/* Returns log_path with suffix appended in a malloc'd string. */
static char *path_with_suffix(const char *log_path, const char *suffix)
{
	size_t len = strlen(log_path);
	size_t suffix_len = strlen(suffix);
	char *path;

	if (len > SIZE_MAX - suffix_len - 1)
		return NULL;
	path = malloc(len + suffix_len + 1);
	if (!path)
		return NULL;
	memcpy(path, log_path, len);
	memcpy(path + len, suffix, suffix_len + 1);
	return path;
}

/* Reads up to cap bytes of fd into buf and stores the count in *ret_len. */
static int read_bounded(int fd, char *buf, size_t cap, size_t *ret_len)
{
	size_t len = 0;

	*ret_len = 0;
	while (len < cap) {
		ssize_t n = read(fd, buf + len, cap - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return WD_EIO;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*ret_len = len;
	return 0;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return WD_EIO;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static int anchor_parse(const char *text, size_t len, struct audit_anchor *ret_anchor)
{
	_wd_cleanup_(audit_json_decrefp) json_t *root = NULL;
	json_t *seq;
	json_t *hash;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	if (!root || !json_is_object(root) || json_object_size(root) != 2)
		return WD_ECORRUPT;

	seq = json_object_get(root, "seq");
	hash = json_object_get(root, "hash");
	if (!json_is_integer(seq) || json_integer_value(seq) < 1 || !json_is_string(hash) ||
	    !audit_hash_hex_valid(json_string_value(hash)))
		return WD_ECORRUPT;

	ret_anchor->seq = (uint64_t)json_integer_value(seq);
	memcpy(ret_anchor->hash, json_string_value(hash), AUDIT_HASH_HEX_LEN + 1);
	return 0;
}

int audit_anchor_read(const char *log_path, bool *ret_found, struct audit_anchor *ret_anchor,
	struct wd_error *err)
{
	_wd_cleanup_(wd_freep) char *path = NULL;
	_wd_cleanup_(wd_closep) int fd = -1;
	char text[ANCHOR_MAX + 1];
	size_t len;

	*ret_found = false;
	memset(ret_anchor, 0, sizeof(*ret_anchor));

	path = path_with_suffix(log_path, ".head");
	if (!path)
		return wd_error_set(err, WD_ENOMEM, "building the anchor path failed");

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return wd_error_set(err, WD_EIO, "opening head anchor %s failed: %s", path,
			strerror(errno));

	if (read_bounded(fd, text, sizeof(text), &len) < 0)
		return wd_error_set(err, WD_EIO, "reading head anchor %s failed: %s", path,
			strerror(errno));
	if (len > ANCHOR_MAX)
		return wd_error_set(err, WD_ECORRUPT, "head anchor %s exceeds %d bytes", path,
			ANCHOR_MAX);
	if (anchor_parse(text, len, ret_anchor) < 0)
		return wd_error_set(err, WD_ECORRUPT,
			"head anchor %s is invalid: expected {\"seq\":N,\"hash\":\"<64 hex>\"}",
			path);

	*ret_found = true;
	return 0;
}

int audit_anchor_write(const char *log_path, uint64_t seq, const char *hash,
	struct wd_error *err)
{
	_wd_cleanup_(wd_freep) char *path = NULL;
	_wd_cleanup_(wd_freep) char *tmp_path = NULL;
	_wd_cleanup_(wd_closep) int fd = -1;
	char text[ANCHOR_MAX];
	int len;
	int rc;

	path = path_with_suffix(log_path, ".head");
	tmp_path = path_with_suffix(log_path, ".head.tmp");
	if (!path || !tmp_path)
		return wd_error_set(err, WD_ENOMEM, "building the anchor path failed");

	len = snprintf(text, sizeof(text), "{\"seq\":%llu,\"hash\":\"%s\"}\n",
		(unsigned long long)seq, hash);
	if (len < 0 || (size_t)len >= sizeof(text))
		return wd_error_set(err, WD_EINTERNAL, "formatting head anchor failed");

	/* O_EXCL with O_NOFOLLOW after removing a leftover from a crash, so a
	 * planted symlink cannot redirect the write. */
	if (unlink(tmp_path) < 0 && errno != ENOENT)
		return wd_error_set(err, WD_EIO, "removing %s failed: %s", tmp_path,
			strerror(errno));
	fd = open(tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return wd_error_set(err, WD_EIO, "creating %s failed: %s", tmp_path,
			strerror(errno));

	/* The data must be on disk before the rename, or a crash could leave
	 * an empty anchor. The directory is not fsync()ed: if the rename is
	 * lost, the old anchor lags the log, which the verifier accepts. */
	rc = write_all(fd, text, (size_t)len);
	if (rc == 0 && fdatasync(fd) < 0)
		rc = WD_EIO;
	if (rc == 0 && rename(tmp_path, path) < 0)
		rc = WD_EIO;
	if (rc < 0) {
		int saved = errno;

		(void)unlink(tmp_path);
		return wd_error_set(err, rc, "writing head anchor %s failed: %s", path,
			strerror(saved));
	}
	return 0;
}
