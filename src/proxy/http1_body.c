/* Message body walking without copying: Content-Length counting and the
 * chunked transfer coding (RFC 9112 section 7.1), resumable at any byte. */
#include <string.h>

#include "proxy/http1_private.h"

/* Largest chunk size accepted; the header states 2^62. */
#define MAX_CHUNK_SIZE (UINT64_C(1) << 62)
/* Maximum length of a chunk-size line (with extensions) or a trailer line,
 * CRLF excluded. */
#define MAX_LINE_BYTES 4096u

/* The trailer field name the proxy sets itself in heads. A body is
 * forwarded unchanged, so a client's copy in the trailer section cannot be
 * removed and is rejected instead. */
static const char xfcc_lower[] = "x-forwarded-client-cert";
#define XFCC_NO_MATCH UINT64_MAX

enum chunked_state {
	CHUNK_SIZE_FIRST,  /* first hex digit of chunk-size */
	CHUNK_SIZE,        /* further hex digits */
	CHUNK_SIZE_WS,     /* BWS between chunk-size and ';' */
	CHUNK_EXT,         /* chunk-ext bytes up to CR */
	CHUNK_SIZE_LF,     /* LF after the chunk-size line */
	CHUNK_DATA,        /* remaining bytes of chunk-data */
	CHUNK_DATA_CR,     /* CR after chunk-data */
	CHUNK_DATA_LF,     /* LF after chunk-data */
	CHUNK_TRAILER,     /* start of a trailer line, or the final CRLF */
	CHUNK_TRAILER_NAME,
	CHUNK_TRAILER_VALUE,
	CHUNK_TRAILER_LF,
	CHUNK_FINAL_LF,
	CHUNK_FAILED,      /* an error was returned; the body is unusable */
};

void http1_body_init(struct http1_body *body, const struct http1_head *head)
{
	*body = (struct http1_body){ .framing = head->framing };
	switch (head->framing) {
	case HTTP1_BODY_NONE:
		body->done = true;
		break;
	case HTTP1_BODY_LENGTH:
		body->remaining = head->content_length;
		body->done = head->content_length == 0;
		break;
	case HTTP1_BODY_CHUNKED:
		body->state = CHUNK_SIZE_FIRST;
		break;
	case HTTP1_BODY_UNTIL_CLOSE:
		break;
	}
}

static int hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int chunked_fail(struct http1_body *body, const char *what, uint8_t c,
	struct wd_error *err)
{
	body->state = CHUNK_FAILED;
	return wd_error_set(err, WD_EINVAL, "invalid chunked body: %s (byte 0x%02x)", what, c);
}

/* Counts one byte of a chunk-size or trailer line against its limit. */
static int line_byte(struct http1_body *body, uint8_t c, struct wd_error *err)
{
	if (++body->line_len > MAX_LINE_BYTES) {
		body->state = CHUNK_FAILED;
		return wd_error_set(err, WD_ETOOBIG, "chunk-size or trailer line over %u bytes "
			"(at byte 0x%02x)", MAX_LINE_BYTES, c);
	}
	return 0;
}

/* Tracks in body->remaining how much of a trailer name matches the XFCC
 * name. */
static void trailer_name_byte(struct http1_body *body, uint8_t c)
{
	uint8_t lower = c >= 'A' && c <= 'Z' ? (uint8_t)(c - 'A' + 'a') : c;

	if (body->remaining < sizeof(xfcc_lower) - 1 &&
	    (uint8_t)xfcc_lower[body->remaining] == lower)
		body->remaining++;
	else
		body->remaining = XFCC_NO_MATCH;
}

/* Moves the chunked parser by one framing byte (any byte outside
 * chunk-data). */
static int chunked_byte(struct http1_body *body, uint8_t c, struct wd_error *err)
{
	int digit;

	switch ((enum chunked_state)body->state) {
	case CHUNK_SIZE_FIRST:
	case CHUNK_SIZE:
		if (c != '\r')
			WD_TRY(line_byte(body, c, err));
		digit = hex_value(c);
		if (digit >= 0) {
			if (body->remaining > (MAX_CHUNK_SIZE - (uint64_t)digit) / 16) {
				body->state = CHUNK_FAILED;
				return wd_error_set(err, WD_ETOOBIG, "chunk size over 2^62 bytes");
			}
			body->remaining = body->remaining * 16 + (uint64_t)digit;
			body->state = CHUNK_SIZE;
			return 0;
		}
		if (body->state == CHUNK_SIZE_FIRST)
			return chunked_fail(body, "chunk size is not hexadecimal", c, err);
		if (c == '\r')
			body->state = CHUNK_SIZE_LF;
		else if (c == ';')
			body->state = CHUNK_EXT;
		else if (c == ' ' || c == '\t')
			body->state = CHUNK_SIZE_WS;
		else
			return chunked_fail(body, "unexpected byte after chunk size", c, err);
		return 0;

	case CHUNK_SIZE_WS:
		/* BWS is allowed only before a chunk-ext (RFC 9112 section
		 * 7.1.1), never at the end of the line. */
		WD_TRY(line_byte(body, c, err));
		if (c == ';')
			body->state = CHUNK_EXT;
		else if (c != ' ' && c != '\t')
			return chunked_fail(body, "whitespace after chunk size", c, err);
		return 0;

	case CHUNK_EXT:
		if (c == '\r') {
			body->state = CHUNK_SIZE_LF;
			return 0;
		}
		WD_TRY(line_byte(body, c, err));
		if (!http1_char_is(c, HTTP1_CHAR_VALUE))
			return chunked_fail(body, "invalid byte in chunk extension", c, err);
		return 0;

	case CHUNK_SIZE_LF:
		if (c != '\n')
			return chunked_fail(body, "chunk-size line without CRLF", c, err);
		body->line_len = 0;
		body->state = body->remaining == 0 ? CHUNK_TRAILER : CHUNK_DATA;
		return 0;

	case CHUNK_DATA_CR:
		if (c != '\r')
			return chunked_fail(body, "chunk data longer than its size", c, err);
		body->state = CHUNK_DATA_LF;
		return 0;

	case CHUNK_DATA_LF:
		if (c != '\n')
			return chunked_fail(body, "chunk data without CRLF", c, err);
		body->state = CHUNK_SIZE_FIRST;
		return 0;

	case CHUNK_TRAILER:
		if (c == '\r') {
			body->state = CHUNK_FINAL_LF;
			return 0;
		}
		if (!http1_char_is(c, HTTP1_CHAR_TOKEN))
			return chunked_fail(body, "invalid trailer field name", c, err);
		WD_TRY(line_byte(body, c, err));
		body->remaining = 0;
		trailer_name_byte(body, c);
		body->state = CHUNK_TRAILER_NAME;
		return 0;

	case CHUNK_TRAILER_NAME:
		WD_TRY(line_byte(body, c, err));
		if (c == ':') {
			if (body->remaining == sizeof(xfcc_lower) - 1)
				return chunked_fail(body, "X-Forwarded-Client-Cert is not "
					"allowed as a trailer field", c, err);
			body->state = CHUNK_TRAILER_VALUE;
		} else if (http1_char_is(c, HTTP1_CHAR_TOKEN)) {
			trailer_name_byte(body, c);
		} else {
			return chunked_fail(body, "invalid trailer field name", c, err);
		}
		return 0;

	case CHUNK_TRAILER_VALUE:
		if (c == '\r') {
			body->state = CHUNK_TRAILER_LF;
			return 0;
		}
		WD_TRY(line_byte(body, c, err));
		if (!http1_char_is(c, HTTP1_CHAR_VALUE))
			return chunked_fail(body, "invalid byte in trailer field", c, err);
		return 0;

	case CHUNK_TRAILER_LF:
		if (c != '\n')
			return chunked_fail(body, "trailer line without CRLF", c, err);
		body->line_len = 0;
		body->remaining = 0;
		body->state = CHUNK_TRAILER;
		return 0;

	case CHUNK_FINAL_LF:
		if (c != '\n')
			return chunked_fail(body, "final line without CRLF", c, err);
		body->remaining = 0;
		body->done = true;
		return 0;

	case CHUNK_DATA:
	case CHUNK_FAILED:
		break;
	}
	body->state = CHUNK_FAILED;
	return wd_error_set(err, WD_EINVAL, "chunked body used after an error");
}

static int chunked_advance(struct http1_body *body, const uint8_t *data, size_t len,
	size_t *ret_consumed, struct wd_error *err)
{
	size_t pos = 0;

	while (pos < len && !body->done) {
		if (body->state == CHUNK_DATA) {
			size_t avail = len - pos;
			size_t take = body->remaining < avail ? (size_t)body->remaining : avail;

			pos += take;
			body->remaining -= take;
			if (body->remaining == 0)
				body->state = CHUNK_DATA_CR;
			continue;
		}
		WD_TRY(chunked_byte(body, data[pos], err));
		pos++;
	}
	*ret_consumed = pos;
	return 0;
}

int http1_body_advance(struct http1_body *body, const uint8_t *data, size_t len,
	size_t *ret_consumed, struct wd_error *err)
{
	size_t take;

	*ret_consumed = 0;
	if (body->done)
		return 0;

	switch (body->framing) {
	case HTTP1_BODY_LENGTH:
		take = body->remaining < len ? (size_t)body->remaining : len;
		body->remaining -= take;
		body->done = body->remaining == 0;
		*ret_consumed = take;
		return 0;
	case HTTP1_BODY_CHUNKED:
		return chunked_advance(body, data, len, ret_consumed, err);
	case HTTP1_BODY_UNTIL_CLOSE:
		*ret_consumed = len;
		return 0;
	case HTTP1_BODY_NONE:
		break;
	}
	body->done = true;
	return 0;
}
