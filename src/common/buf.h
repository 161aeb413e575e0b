/* Byte buffers: a growable writer with a size ceiling fixed at creation, and
 * a bounded read cursor for untrusted bytes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macros.h"

/* A growable byte buffer. The contents are always followed by a NUL byte that
 * is not counted in len, so text can be read with wd_buf_str(). Read the
 * members through the accessors below. */
struct wd_buf {
	uint8_t *data;
	size_t len;      /* content bytes */
	size_t cap;      /* allocated bytes, including the NUL terminator */
	size_t initial;  /* first allocation, in content bytes */
	size_t max;      /* ceiling on len, in bytes */
	bool secret;     /* wipe on growth, reset, truncate and free */
};

/* Sets buf up empty with a ceiling of max content bytes; the first append
 * allocates `initial` bytes (clamped to max). Allocates nothing itself. */
void wd_buf_init(struct wd_buf *buf, size_t initial, size_t max);

/* Like wd_buf_init, for key material: every copy the buffer leaves behind
 * (on growth, reset, truncate and free) is wiped with OPENSSL_cleanse. */
void wd_buf_init_secret(struct wd_buf *buf, size_t initial, size_t max);

/* Appends len bytes. WD_ETOOBIG past the ceiling, WD_ENOMEM, WD_EINVAL for
 * NULL data with a nonzero len; on failure the buffer is unchanged. */
WD_MUST_CHECK int wd_buf_append(struct wd_buf *buf, const void *data, size_t len);

/* Appends the bytes of a NUL-terminated string, without its NUL. */
WD_MUST_CHECK int wd_buf_append_str(struct wd_buf *buf, const char *text);

/* Appends one byte. */
WD_MUST_CHECK int wd_buf_append_byte(struct wd_buf *buf, uint8_t byte);

/* Appends printf-formatted text; the errors of wd_buf_append, and WD_EINVAL
 * for a format that vsnprintf rejects. On failure the buffer is unchanged. */
WD_MUST_CHECK int wd_buf_appendf(struct wd_buf *buf, const char *fmt, ...) WD_PRINTF(2, 3);

/* Empties the buffer and keeps its memory for reuse. */
void wd_buf_reset(struct wd_buf *buf);

/* Shortens the contents to len bytes; a larger len changes nothing. */
void wd_buf_truncate(struct wd_buf *buf, size_t len);

/* Hands the NUL-terminated contents over to the caller, who frees them, and
 * leaves the buffer empty with the same ceiling. Stores the length in ret_len
 * when it is not NULL. Returns NULL only when memory runs out. */
WD_MUST_CHECK void *wd_buf_take(struct wd_buf *buf, size_t *ret_len);

/* Frees the memory (wiping it for a secret buffer) and leaves the buffer
 * empty with the same ceiling; accepts NULL. */
void wd_buf_free(struct wd_buf *buf);

/* Wipes the whole allocation with OPENSSL_cleanse, then frees it, whatever
 * the buffer was created with; accepts NULL. */
void wd_buf_free_secret(struct wd_buf *buf);

/* Returns the contents; NULL until something has been appended. */
static inline const uint8_t *wd_buf_data(const struct wd_buf *buf)
{
	return buf->data;
}

/* Returns the number of content bytes. */
static inline size_t wd_buf_len(const struct wd_buf *buf)
{
	return buf->len;
}

/* Returns the contents as a NUL-terminated string; "" when empty. */
static inline const char *wd_buf_str(const struct wd_buf *buf)
{
	return buf->data ? (const char *)buf->data : "";
}

/* A read position over bytes the caller owns and keeps alive. Every read is
 * checked against the end: past it, the read fails with WD_ETRUNCATED, the
 * position stays where it was and no output is written. */
struct wd_cursor {
	const uint8_t *data;
	size_t len;
	size_t pos;
};

/* Points cursor at len bytes of data, positioned at the start. */
void wd_cursor_init(struct wd_cursor *cursor, const void *data, size_t len);

/* Returns the number of bytes not read yet. */
size_t wd_cursor_remaining(const struct wd_cursor *cursor);

/* Reads one byte. */
WD_MUST_CHECK int wd_cursor_read_u8(struct wd_cursor *cursor, uint8_t *ret_value);

/* Reads a big-endian (network order) 16-bit integer. */
WD_MUST_CHECK int wd_cursor_read_u16be(struct wd_cursor *cursor, uint16_t *ret_value);

/* Reads a big-endian (network order) 32-bit integer. */
WD_MUST_CHECK int wd_cursor_read_u32be(struct wd_cursor *cursor, uint32_t *ret_value);

/* Copies the next len bytes to out, which must have room for len bytes.
 * out is zeroed on entry, so a failed read leaves no stale bytes there. */
WD_MUST_CHECK int wd_cursor_read_bytes(struct wd_cursor *cursor, void *out, size_t len);

/* Points ret_data at the next len bytes inside the cursor's data, without
 * copying, and moves past them. */
WD_MUST_CHECK int wd_cursor_read_view(struct wd_cursor *cursor, size_t len,
	const uint8_t **ret_data);

/* Moves past the next len bytes. */
WD_MUST_CHECK int wd_cursor_skip(struct wd_cursor *cursor, size_t len);
