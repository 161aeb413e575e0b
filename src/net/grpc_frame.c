/* Incremental parser of gRPC length-prefixed messages: a flag byte (0 for
 * uncompressed, 1 for compressed), a 4-byte big-endian length, the bytes. */
#include <string.h>

#include "net/grpc_private.h"

/* The buffer starts small so a peer that announces a large message must
 * send it before memory for it is used. */
#define FRAME_INITIAL_BYTES 256u

void grpc_frame_parser_init(struct grpc_frame_parser *parser, size_t max_message_bytes)
{
	memset(parser, 0, sizeof(*parser));
	parser->max_message_bytes = max_message_bytes;
	wd_buf_init(&parser->message, FRAME_INITIAL_BYTES, max_message_bytes);
}

void grpc_frame_parser_free(struct grpc_frame_parser *parser)
{
	if (!parser)
		return;
	wd_buf_free(&parser->message);
	parser->header_len = 0;
}

/* Checks a complete header and records the message length. */
static int parse_header(struct grpc_frame_parser *parser)
{
	struct wd_cursor cursor;
	uint8_t flag = 0;
	uint32_t len = 0;
	int rc = 0;

	wd_cursor_init(&cursor, parser->header, sizeof(parser->header));
	WD_GUARD(wd_cursor_read_u8(&cursor, &flag));
	WD_GUARD(wd_cursor_read_u32be(&cursor, &len));
	WD_ENSURE(flag <= 1, WD_EINVAL);
	WD_ENSURE(flag == 0, WD_EUNSUPPORTED);
	WD_ENSURE(len <= parser->max_message_bytes, WD_ETOOBIG);
	parser->message_len = len;
out:
	return rc;
}

/* Delivers the current message and resets for the next one. */
static int deliver(struct grpc_frame_parser *parser, grpc_frame_message_fn on_message, void *arg)
{
	int rc = on_message(wd_buf_data(&parser->message), parser->message_len, arg);

	parser->header_len = 0;
	parser->message_len = 0;
	wd_buf_reset(&parser->message);
	return rc;
}

int grpc_frame_parser_feed(struct grpc_frame_parser *parser, const uint8_t *data, size_t len,
	grpc_frame_message_fn on_message, void *arg)
{
	struct wd_cursor cursor;
	int rc = parser->failed;

	if (rc < 0)
		return rc;
	wd_cursor_init(&cursor, data, len);
	while (wd_cursor_remaining(&cursor) > 0) {
		const uint8_t *chunk = NULL;
		size_t take;

		if (parser->header_len < GRPC_FRAME_HEADER_LEN) {
			take = GRPC_FRAME_HEADER_LEN - parser->header_len;
			if (take > wd_cursor_remaining(&cursor))
				take = wd_cursor_remaining(&cursor);
			WD_GUARD(wd_cursor_read_view(&cursor, take, &chunk));
			memcpy(parser->header + parser->header_len, chunk, take);
			parser->header_len += take;
			if (parser->header_len < GRPC_FRAME_HEADER_LEN)
				break;
			WD_GUARD(parse_header(parser));
			if (parser->message_len == 0)
				WD_GUARD(deliver(parser, on_message, arg));
			continue;
		}

		take = parser->message_len - wd_buf_len(&parser->message);
		if (take > wd_cursor_remaining(&cursor))
			take = wd_cursor_remaining(&cursor);
		WD_GUARD(wd_cursor_read_view(&cursor, take, &chunk));
		WD_GUARD(wd_buf_append(&parser->message, chunk, take));
		if (wd_buf_len(&parser->message) == parser->message_len)
			WD_GUARD(deliver(parser, on_message, arg));
	}
out:
	if (rc < 0)
		parser->failed = rc;
	return rc;
}

int grpc_frame_parser_finish(const struct grpc_frame_parser *parser)
{
	if (parser->failed < 0)
		return parser->failed;
	if (parser->header_len > 0)
		return WD_ETRUNCATED;
	return 0;
}

int grpc_frame_write_header(uint8_t out[static GRPC_FRAME_HEADER_LEN], size_t len)
{
	if (len > UINT32_MAX)
		return WD_ETOOBIG;
	out[0] = 0;
	out[1] = (uint8_t)(len >> 24);
	out[2] = (uint8_t)(len >> 16);
	out[3] = (uint8_t)(len >> 8);
	out[4] = (uint8_t)len;
	return 0;
}
