/* Bounded reader over untrusted bytes: every read is checked against the end
 * before anything is copied or the position moves. */
#include <string.h>

#include "common/buf.h"
#include "common/error.h"

void wd_cursor_init(struct wd_cursor *cursor, const void *data, size_t len)
{
	*cursor = (struct wd_cursor){
		.data = data,
		.len = data ? len : 0,
		.pos = 0,
	};
}

size_t wd_cursor_remaining(const struct wd_cursor *cursor)
{
	return cursor->len - cursor->pos;
}

/* Returns a pointer to the next len bytes and moves past them, or NULL when
 * fewer remain. The comparison is against the remainder, so no addition can
 * wrap. */
static const uint8_t *cursor_advance(struct wd_cursor *cursor, size_t len)
{
	const uint8_t *p;

	if (len > wd_cursor_remaining(cursor))
		return NULL;
	/* An empty cursor may have no data pointer, and NULL + 0 is undefined. */
	if (!cursor->data)
		return (const uint8_t *)"";
	p = cursor->data + cursor->pos;
	cursor->pos += len;
	return p;
}

int wd_cursor_read_u8(struct wd_cursor *cursor, uint8_t *ret_value)
{
	const uint8_t *p;

	*ret_value = 0;
	p = cursor_advance(cursor, 1);
	if (!p)
		return WD_ETRUNCATED;
	*ret_value = p[0];
	return 0;
}

int wd_cursor_read_u16be(struct wd_cursor *cursor, uint16_t *ret_value)
{
	const uint8_t *p;

	*ret_value = 0;
	p = cursor_advance(cursor, 2);
	if (!p)
		return WD_ETRUNCATED;
	*ret_value = (uint16_t)((uint16_t)p[0] << 8 | p[1]);
	return 0;
}

int wd_cursor_read_u32be(struct wd_cursor *cursor, uint32_t *ret_value)
{
	const uint8_t *p;

	*ret_value = 0;
	p = cursor_advance(cursor, 4);
	if (!p)
		return WD_ETRUNCATED;
	*ret_value = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return 0;
}

int wd_cursor_read_bytes(struct wd_cursor *cursor, void *out, size_t len)
{
	const uint8_t *p;

	if (len == 0)
		return 0;
	memset(out, 0, len);
	p = cursor_advance(cursor, len);
	if (!p)
		return WD_ETRUNCATED;
	memcpy(out, p, len);
	return 0;
}

int wd_cursor_read_view(struct wd_cursor *cursor, size_t len, const uint8_t **ret_data)
{
	const uint8_t *p;

	*ret_data = NULL;
	p = cursor_advance(cursor, len);
	if (!p)
		return WD_ETRUNCATED;
	*ret_data = p;
	return 0;
}

int wd_cursor_skip(struct wd_cursor *cursor, size_t len)
{
	if (!cursor_advance(cursor, len))
		return WD_ETRUNCATED;
	return 0;
}
