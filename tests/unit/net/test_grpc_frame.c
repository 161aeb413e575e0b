/* Tests of the gRPC length-prefixed message parser with split, oversized,
 * compressed and truncated input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/grpc_private.h"

#define MAX_MESSAGES 8

struct collected {
	size_t count;
	size_t lens[MAX_MESSAGES];
	uint8_t data[MAX_MESSAGES][64];
	int stop_after; /* return an error after this many messages; 0: never */
};

static int collect(const uint8_t *message, size_t len, void *arg)
{
	struct collected *c = arg;

	assert_true(c->count < MAX_MESSAGES);
	assert_true(len <= sizeof(c->data[0]));
	if (len > 0)
		memcpy(c->data[c->count], message, len);
	c->lens[c->count++] = len;
	if (c->stop_after && c->count == (size_t)c->stop_after)
		return WD_ECONFLICT;
	return 0;
}

/* Two messages, "abc" and an empty one, then "hello". */
static const uint8_t stream_bytes[] = {
	0, 0, 0, 0, 3, 'a', 'b', 'c',
	0, 0, 0, 0, 0,
	0, 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o',
};

static void check_stream_messages(const struct collected *c)
{
	assert_int_equal(c->count, 3);
	assert_int_equal(c->lens[0], 3);
	assert_memory_equal(c->data[0], "abc", 3);
	assert_int_equal(c->lens[1], 0);
	assert_int_equal(c->lens[2], 5);
	assert_memory_equal(c->data[2], "hello", 5);
}

static void test_frame_whole_input(void **state)
{
	struct grpc_frame_parser parser;
	struct collected c = { 0 };

	(void)state;
	grpc_frame_parser_init(&parser, 64);
	assert_int_equal(grpc_frame_parser_feed(&parser, stream_bytes, sizeof(stream_bytes),
		collect, &c), 0);
	assert_int_equal(grpc_frame_parser_finish(&parser), 0);
	check_stream_messages(&c);
	grpc_frame_parser_free(&parser);
}

static void test_frame_split_every_offset(void **state)
{
	(void)state;
	for (size_t split = 0; split <= sizeof(stream_bytes); split++) {
		struct grpc_frame_parser parser;
		struct collected c = { 0 };

		grpc_frame_parser_init(&parser, 64);
		assert_int_equal(grpc_frame_parser_feed(&parser, stream_bytes, split, collect, &c),
			0);
		assert_int_equal(grpc_frame_parser_feed(&parser, stream_bytes + split,
			sizeof(stream_bytes) - split, collect, &c), 0);
		assert_int_equal(grpc_frame_parser_finish(&parser), 0);
		check_stream_messages(&c);
		grpc_frame_parser_free(&parser);
	}
}

static void test_frame_byte_at_a_time(void **state)
{
	struct grpc_frame_parser parser;
	struct collected c = { 0 };

	(void)state;
	grpc_frame_parser_init(&parser, 64);
	for (size_t i = 0; i < sizeof(stream_bytes); i++)
		assert_int_equal(grpc_frame_parser_feed(&parser, stream_bytes + i, 1, collect, &c),
			0);
	assert_int_equal(grpc_frame_parser_finish(&parser), 0);
	check_stream_messages(&c);
	grpc_frame_parser_free(&parser);
}

static void test_frame_oversize_from_prefix(void **state)
{
	/* Only the prefix arrives: the length alone must trigger the error. */
	static const uint8_t prefix[] = { 0, 0, 0, 0, 65 };
	static const uint8_t huge[] = { 0, 0xff, 0xff, 0xff, 0xff };
	struct grpc_frame_parser parser;
	struct collected c = { 0 };

	(void)state;
	grpc_frame_parser_init(&parser, 64);
	assert_int_equal(grpc_frame_parser_feed(&parser, prefix, sizeof(prefix), collect, &c),
		WD_ETOOBIG);
	assert_int_equal(c.count, 0);
	/* The parser stays failed. */
	assert_int_equal(grpc_frame_parser_feed(&parser, stream_bytes, sizeof(stream_bytes),
		collect, &c), WD_ETOOBIG);
	assert_int_equal(grpc_frame_parser_finish(&parser), WD_ETOOBIG);
	assert_int_equal(c.count, 0);
	grpc_frame_parser_free(&parser);

	grpc_frame_parser_init(&parser, 64);
	assert_int_equal(grpc_frame_parser_feed(&parser, huge, sizeof(huge), collect, &c),
		WD_ETOOBIG);
	grpc_frame_parser_free(&parser);
}

static void test_frame_limit_exactly(void **state)
{
	uint8_t input[5 + 64];
	struct grpc_frame_parser parser;
	struct collected c = { 0 };

	(void)state;
	assert_int_equal(grpc_frame_write_header(input, 64), 0);
	memset(input + 5, 'x', 64);
	grpc_frame_parser_init(&parser, 64);
	assert_int_equal(grpc_frame_parser_feed(&parser, input, sizeof(input), collect, &c), 0);
	assert_int_equal(c.count, 1);
	assert_int_equal(c.lens[0], 64);
	grpc_frame_parser_free(&parser);
}

static void test_frame_compressed_flag(void **state)
{
	static const uint8_t compressed[] = { 1, 0, 0, 0, 1, 'x' };
	static const uint8_t bad_flag[] = { 2, 0, 0, 0, 1, 'x' };
	struct grpc_frame_parser parser;
	struct collected c = { 0 };

	(void)state;
	grpc_frame_parser_init(&parser, 64);
	assert_int_equal(grpc_frame_parser_feed(&parser, compressed, sizeof(compressed), collect,
		&c), WD_EUNSUPPORTED);
	grpc_frame_parser_free(&parser);

	grpc_frame_parser_init(&parser, 64);
	assert_int_equal(grpc_frame_parser_feed(&parser, bad_flag, sizeof(bad_flag), collect,
		&c), WD_EINVAL);
	assert_int_equal(c.count, 0);
	grpc_frame_parser_free(&parser);
}

static void test_frame_truncated(void **state)
{
	struct grpc_frame_parser parser;
	struct collected c = { 0 };

	(void)state;
	/* Ends inside the prefix of the second message. */
	grpc_frame_parser_init(&parser, 64);
	assert_int_equal(grpc_frame_parser_feed(&parser, stream_bytes, 10, collect, &c), 0);
	assert_int_equal(c.count, 1);
	assert_int_equal(grpc_frame_parser_finish(&parser), WD_ETRUNCATED);
	grpc_frame_parser_free(&parser);

	/* Ends inside a message body. */
	memset(&c, 0, sizeof(c));
	grpc_frame_parser_init(&parser, 64);
	assert_int_equal(grpc_frame_parser_feed(&parser, stream_bytes, 6, collect, &c), 0);
	assert_int_equal(c.count, 0);
	assert_int_equal(grpc_frame_parser_finish(&parser), WD_ETRUNCATED);
	grpc_frame_parser_free(&parser);
}

static void test_frame_callback_error_stops(void **state)
{
	struct grpc_frame_parser parser;
	struct collected c = { .stop_after = 1 };

	(void)state;
	grpc_frame_parser_init(&parser, 64);
	assert_int_equal(grpc_frame_parser_feed(&parser, stream_bytes, sizeof(stream_bytes),
		collect, &c), WD_ECONFLICT);
	assert_int_equal(c.count, 1);
	grpc_frame_parser_free(&parser);
}

static void test_frame_write_header(void **state)
{
	uint8_t out[GRPC_FRAME_HEADER_LEN];
	static const uint8_t expected[] = { 0, 0x01, 0x02, 0x03, 0x04 };

	(void)state;
	assert_int_equal(grpc_frame_write_header(out, 0x01020304u), 0);
	assert_memory_equal(out, expected, sizeof(expected));
#if SIZE_MAX > UINT32_MAX
	assert_int_equal(grpc_frame_write_header(out, (size_t)UINT32_MAX + 1), WD_ETOOBIG);
#endif
}

static void test_status_message_encoding(void **state)
{
	struct wd_buf buf;
	char decoded[64];

	(void)state;
	wd_buf_init(&buf, 16, 256);
	assert_int_equal(grpc_message_encode("50% done\n\xc3\xa9", 100, &buf), 0);
	assert_string_equal(wd_buf_str(&buf), "50%25 done%0A%C3%A9");
	grpc_message_decode(wd_buf_str(&buf), wd_buf_len(&buf), decoded, sizeof(decoded));
	assert_string_equal(decoded, "50% done\n\xc3\xa9");
	/* A malformed escape is kept as received. */
	grpc_message_decode("bad %zz %4", 10, decoded, sizeof(decoded));
	assert_string_equal(decoded, "bad %zz %4");
	/* Output is cut to fit. */
	grpc_message_decode("abcdef", 6, decoded, 4);
	assert_string_equal(decoded, "abc");
	wd_buf_free(&buf);
}

static void test_status_from_error(void **state)
{
	(void)state;
	assert_int_equal(grpc_status_from_error(0), GRPC_STATUS_OK);
	assert_int_equal(grpc_status_from_error(WD_EINVAL), GRPC_STATUS_INVALID_ARGUMENT);
	assert_int_equal(grpc_status_from_error(WD_EPERM), GRPC_STATUS_PERMISSION_DENIED);
	assert_int_equal(grpc_status_from_error(WD_ETOOBIG), GRPC_STATUS_RESOURCE_EXHAUSTED);
	assert_int_equal(grpc_status_from_error(WD_EINTERNAL), GRPC_STATUS_INTERNAL);
	assert_string_equal(grpc_status_name(GRPC_STATUS_UNIMPLEMENTED), "UNIMPLEMENTED");
	assert_string_equal(grpc_status_name(99), "UNKNOWN");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_whole_input),
		cmocka_unit_test(test_frame_split_every_offset),
		cmocka_unit_test(test_frame_byte_at_a_time),
		cmocka_unit_test(test_frame_oversize_from_prefix),
		cmocka_unit_test(test_frame_limit_exactly),
		cmocka_unit_test(test_frame_compressed_flag),
		cmocka_unit_test(test_frame_truncated),
		cmocka_unit_test(test_frame_callback_error_stops),
		cmocka_unit_test(test_frame_write_header),
		cmocka_unit_test(test_status_message_encoding),
		cmocka_unit_test(test_status_from_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
