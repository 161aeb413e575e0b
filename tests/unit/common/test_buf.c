/* Unit tests for the growable buffer and the bounded read cursor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/error.h"

static void buf_append_grows(void **state)
{
	struct wd_buf buf;
	char big[1000];

	(void)state;
	wd_buf_init(&buf, 4, 4096);
	assert_null(wd_buf_data(&buf));
	assert_string_equal(wd_buf_str(&buf), "");
	assert_int_equal(wd_buf_append_str(&buf, "hello"), 0);
	assert_int_equal(wd_buf_append_byte(&buf, ' '), 0);
	assert_int_equal(wd_buf_appendf(&buf, "%s=%d", "n", 42), 0);
	assert_string_equal(wd_buf_str(&buf), "hello n=42");
	assert_int_equal(wd_buf_len(&buf), 10);

	memset(big, 'x', sizeof(big));
	assert_int_equal(wd_buf_append(&buf, big, sizeof(big)), 0);
	assert_int_equal(wd_buf_len(&buf), 1010);
	assert_int_equal(wd_buf_data(&buf)[1010], '\0');
	wd_buf_free(&buf);
	assert_null(wd_buf_data(&buf));
	assert_int_equal(buf.max, 4096);
}

static void buf_ceiling_leaves_unchanged(void **state)
{
	struct wd_buf buf;

	(void)state;
	wd_buf_init(&buf, 0, 8);
	assert_int_equal(wd_buf_append_str(&buf, "12345678"), 0);
	assert_int_equal(wd_buf_append_byte(&buf, '9'), WD_ETOOBIG);
	assert_int_equal(wd_buf_appendf(&buf, "%d", 1), WD_ETOOBIG);
	assert_string_equal(wd_buf_str(&buf), "12345678");
	assert_int_equal(wd_buf_len(&buf), 8);
	/* The allocation never passes the ceiling plus the terminator. */
	assert_int_equal(buf.cap, 9);

	wd_buf_reset(&buf);
	assert_int_equal(wd_buf_len(&buf), 0);
	assert_int_equal(wd_buf_append_str(&buf, "abcdefghi"), WD_ETOOBIG);
	assert_string_equal(wd_buf_str(&buf), "");
	wd_buf_free(&buf);
}

static void buf_append_overflow_rejected(void **state)
{
	struct wd_buf buf;

	(void)state;
	wd_buf_init(&buf, 0, SIZE_MAX);
	assert_int_equal(wd_buf_append_str(&buf, "ab"), 0);
	/* len + SIZE_MAX wraps; the check must catch it before any copy. */
	assert_int_equal(wd_buf_append(&buf, "x", SIZE_MAX), WD_ETOOBIG);
	assert_int_equal(wd_buf_append(&buf, NULL, 3), WD_EINVAL);
	assert_int_equal(wd_buf_append(&buf, NULL, 0), 0);
	assert_string_equal(wd_buf_str(&buf), "ab");
	wd_buf_free(&buf);
}

static void buf_take_hands_over(void **state)
{
	struct wd_buf buf;
	size_t len = 99;
	char *text;

	(void)state;
	wd_buf_init(&buf, 0, 100);
	text = wd_buf_take(&buf, &len);
	assert_non_null(text);
	assert_string_equal(text, "");
	assert_int_equal(len, 0);
	free(text);

	assert_int_equal(wd_buf_append_str(&buf, "owned"), 0);
	text = wd_buf_take(&buf, &len);
	assert_string_equal(text, "owned");
	assert_int_equal(len, 5);
	assert_null(wd_buf_data(&buf));
	assert_int_equal(wd_buf_len(&buf), 0);
	free(text);

	assert_int_equal(wd_buf_append_str(&buf, "again"), 0);
	assert_string_equal(wd_buf_str(&buf), "again");
	wd_buf_free(&buf);
	wd_buf_free(NULL);
}

static void buf_truncate_and_secret(void **state)
{
	struct wd_buf buf;

	(void)state;
	wd_buf_init_secret(&buf, 2, 1024);
	assert_int_equal(wd_buf_append_str(&buf, "secret-key-material"), 0);
	assert_true(buf.secret);
	wd_buf_truncate(&buf, 6);
	assert_string_equal(wd_buf_str(&buf), "secret");
	/* The bytes cut off were wiped, not just hidden by the terminator. */
	for (size_t i = 7; i < 19; i++)
		assert_int_equal(buf.data[i], 0);
	wd_buf_truncate(&buf, 100);
	assert_int_equal(wd_buf_len(&buf), 6);
	wd_buf_free_secret(&buf);
	assert_null(wd_buf_data(&buf));
	wd_buf_free_secret(NULL);
}

static void cursor_reads_big_endian(void **state)
{
	static const uint8_t bytes[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0xff, 0xee };
	struct wd_cursor cursor;
	const uint8_t *view;
	uint8_t u8, out[2];
	uint16_t u16;
	uint32_t u32;

	(void)state;
	wd_cursor_init(&cursor, bytes, sizeof(bytes));
	assert_int_equal(wd_cursor_read_u8(&cursor, &u8), 0);
	assert_int_equal(u8, 0x01);
	assert_int_equal(wd_cursor_read_u16be(&cursor, &u16), 0);
	assert_int_equal(u16, 0x0203);
	assert_int_equal(wd_cursor_read_u32be(&cursor, &u32), 0);
	assert_int_equal(u32, 0x04050607);
	assert_int_equal(wd_cursor_remaining(&cursor), 2);
	assert_int_equal(wd_cursor_read_view(&cursor, 1, &view), 0);
	assert_int_equal(view[0], 0xff);
	assert_int_equal(wd_cursor_read_bytes(&cursor, out, 1), 0);
	assert_int_equal(out[0], 0xee);
	assert_int_equal(wd_cursor_remaining(&cursor), 0);
}

static void cursor_past_end_truncated(void **state)
{
	static const uint8_t bytes[] = { 0xaa, 0xbb, 0xcc };
	struct wd_cursor cursor;
	const uint8_t *view = bytes;
	uint8_t out[4] = { 9, 9, 9, 9 };
	uint16_t u16 = 7;
	uint32_t u32 = 7;

	(void)state;
	wd_cursor_init(&cursor, bytes, sizeof(bytes));
	assert_int_equal(wd_cursor_read_u32be(&cursor, &u32), WD_ETRUNCATED);
	assert_int_equal(u32, 0);
	assert_int_equal(wd_cursor_remaining(&cursor), 3);
	assert_int_equal(wd_cursor_read_bytes(&cursor, out, 4), WD_ETRUNCATED);
	assert_int_equal(out[0], 0);
	assert_int_equal(out[3], 0);
	assert_int_equal(wd_cursor_skip(&cursor, SIZE_MAX), WD_ETRUNCATED);
	assert_int_equal(wd_cursor_read_view(&cursor, 4, &view), WD_ETRUNCATED);
	assert_null(view);
	assert_int_equal(wd_cursor_skip(&cursor, 2), 0);
	assert_int_equal(wd_cursor_read_u16be(&cursor, &u16), WD_ETRUNCATED);
	assert_int_equal(u16, 0);
	assert_int_equal(wd_cursor_remaining(&cursor), 1);
	assert_int_equal(wd_cursor_skip(&cursor, 1), 0);
	assert_int_equal(wd_cursor_skip(&cursor, 1), WD_ETRUNCATED);
}

static void cursor_empty_input(void **state)
{
	struct wd_cursor cursor;
	const uint8_t *view = NULL;
	uint8_t u8 = 5;

	(void)state;
	wd_cursor_init(&cursor, NULL, 10);
	assert_int_equal(wd_cursor_remaining(&cursor), 0);
	assert_int_equal(wd_cursor_read_u8(&cursor, &u8), WD_ETRUNCATED);
	assert_int_equal(u8, 0);
	assert_int_equal(wd_cursor_skip(&cursor, 0), 0);
	assert_int_equal(wd_cursor_read_view(&cursor, 0, &view), 0);
	assert_non_null(view);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(buf_append_grows),
		cmocka_unit_test(buf_ceiling_leaves_unchanged),
		cmocka_unit_test(buf_append_overflow_rejected),
		cmocka_unit_test(buf_take_hands_over),
		cmocka_unit_test(buf_truncate_and_secret),
		cmocka_unit_test(cursor_reads_big_endian),
		cmocka_unit_test(cursor_past_end_truncated),
		cmocka_unit_test(cursor_empty_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
