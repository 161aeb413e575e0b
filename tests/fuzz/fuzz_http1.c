/* libFuzzer harness for the proxy's HTTP/1.1 framing. The first byte picks
 * request or response, the request method and the limits. Each parsed head
 * is rewritten and the result parsed again, and each body is walked in steps
 * of pseudo-random size. The chunked walker also runs on the raw input in one
 * piece and byte by byte, and both runs must agree. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/http1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_MESSAGES 8

static const char *const methods[] = { "GET", "HEAD", "POST", "OPTIONS", "" };
static const char *const drop_names[] = { "X-Forwarded-Client-Cert" };
static const char *const extra_lines[] = {
	"X-Forwarded-Client-Cert: By=spiffe://a/b;Hash=00;URI=spiffe://a/c",
};

/* xorshift32, seeded from the input so that runs repeat. */
static uint32_t next_random(uint32_t *seed)
{
	uint32_t x = *seed;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*seed = x;
	return x;
}

static bool slice_inside(struct http1_slice slice, const char *data, size_t len)
{
	if (slice.len == 0)
		return true;
	return slice.ptr >= data && slice.len <= len &&
	       (size_t)(slice.ptr - data) <= len - slice.len;
}

static void check_head(const struct http1_head *head, const char *data, size_t head_len,
	size_t max_headers)
{
	if (head->head_len != head_len || head->header_count > max_headers)
		abort();
	for (size_t i = 0; i < head->header_count; i++) {
		if (!slice_inside(head->headers[i].name, data, head_len) ||
		    !slice_inside(head->headers[i].value, data, head_len) ||
		    head->headers[i].name.len == 0)
			abort();
	}
	if (!slice_inside(head->method, data, head_len) ||
	    !slice_inside(head->target, data, head_len) || !slice_inside(head->path, data, head_len) ||
	    !slice_inside(head->query, data, head_len) || !slice_inside(head->reason, data, head_len))
		abort();
	if (head->framing != HTTP1_BODY_LENGTH && head->content_length != 0)
		abort();
	if (head->framing == HTTP1_BODY_UNTIL_CLOSE && head->keep_alive)
		abort();
}

/* Writes head without XFCC and with one added, then parses the output: it
 * must parse to the same framing, since the next hop reads it. */
static void check_rewrite(const struct http1_head *head, struct http1_slice method)
{
	static uint8_t out[1 << 17];
	static struct http1_head again;
	struct http1_limits limits = { .max_head_bytes = sizeof(out),
		.max_headers = HTTP1_HEADERS_CAP };
	struct wd_error err;
	size_t len;
	int rc;

	rc = http1_head_write(head, drop_names, WD_ARRAY_LEN(drop_names), extra_lines,
		WD_ARRAY_LEN(extra_lines), out, sizeof(out), &len);
	if (rc != 0)
		abort();
	if (head->header_count >= HTTP1_HEADERS_CAP)
		return;

	if (head->method.len > 0)
		rc = http1_parse_request((const char *)out, len, &limits, &again, &err);
	else
		rc = http1_parse_response((const char *)out, len, method, &limits, &again, &err);
	if (rc != (int)len || again.framing != head->framing ||
	    again.content_length != head->content_length || again.status != head->status ||
	    again.version_minor != head->version_minor || again.upgrade != head->upgrade ||
	    again.keep_alive != head->keep_alive ||
	    again.expect_continue != head->expect_continue)
		abort();
	if (!http1_head_find(&again, "x-forwarded-client-cert"))
		abort();
}

/* Walks a body in steps of random size and returns the bytes it consumed.
 * Returns SIZE_MAX after an error, or when the data ends before the body. */
static size_t walk_body(const struct http1_head *head, const uint8_t *data, size_t len,
	uint32_t *seed)
{
	struct http1_body body;
	struct wd_error err;
	size_t pos = 0;

	http1_body_init(&body, head);
	while (!body.done && pos < len) {
		size_t step = 1 + next_random(seed) % 64;
		size_t n = step < len - pos ? step : len - pos;
		size_t consumed = SIZE_MAX;

		if (http1_body_advance(&body, data + pos, n, &consumed, &err) < 0) {
			if (consumed != 0 || err.code >= 0)
				abort();
			return SIZE_MAX;
		}
		if (consumed > n || (!body.done && consumed != n))
			abort();
		pos += consumed;
	}
	return body.done ? pos : SIZE_MAX;
}

static void fuzz_messages(const uint8_t *data, size_t size)
{
	static struct http1_head head;
	uint8_t mode = data[0];
	bool response = mode & 1;
	const char *method_text = methods[(mode >> 1) % WD_ARRAY_LEN(methods)];
	struct http1_slice method = { method_text, strlen(method_text) };
	struct http1_limits limits = { 0 };
	uint32_t seed = 0x9E3779B9u ^ (uint32_t)size;
	size_t pos = 1;

	if (mode & 0x80) {
		limits.max_head_bytes = 64u + (size_t)(mode & 0x30) * 8u;
		limits.max_headers = 1u + (size_t)(mode & 0x0F);
	}
	for (size_t i = 0; i < size && i < 16; i++)
		seed = seed * 31 + data[i];
	if (seed == 0)
		seed = 1;

	for (int messages = 0; messages < MAX_MESSAGES && pos < size; messages++) {
		const char *text = (const char *)data + pos;
		size_t len = size - pos;
		size_t max_headers = limits.max_headers ? limits.max_headers : 100;
		struct wd_error err;
		size_t body_len;
		int rc;

		if (response)
			rc = http1_parse_response(text, len, method, &limits, &head, &err);
		else
			rc = http1_parse_request(text, len, &limits, &head, &err);
		if (rc < 0 && err.code != rc)
			abort();
		if (rc <= 0) {
			if (head.header_count != 0 || head.head_len != 0)
				abort();
			return;
		}
		if ((size_t)rc > len)
			abort();
		check_head(&head, text, (size_t)rc, max_headers);
		check_rewrite(&head, method);
		pos += (size_t)rc;

		body_len = walk_body(&head, data + pos, size - pos, &seed);
		if (body_len == SIZE_MAX)
			return;
		pos += body_len;
		/* After a 1xx the final response follows; after close, nothing. */
		if (!head.keep_alive && !(response && head.status < 200 && head.status != 101))
			return;
	}
}

/* The chunked walker must reach the same end and error fed whole or byte
 * by byte. */
static void fuzz_chunked(const uint8_t *data, size_t size)
{
	struct http1_head head = { .framing = HTTP1_BODY_CHUNKED };
	struct http1_body whole;
	struct http1_body bytes;
	struct wd_error err;
	size_t whole_consumed = 0;
	size_t bytes_consumed = 0;
	int whole_rc;
	int bytes_rc = 0;

	http1_body_init(&whole, &head);
	whole_rc = http1_body_advance(&whole, data, size, &whole_consumed, &err);

	http1_body_init(&bytes, &head);
	for (size_t i = 0; i < size && !bytes.done; i++) {
		size_t consumed = 0;

		bytes_rc = http1_body_advance(&bytes, data + i, 1, &consumed, &err);
		if (bytes_rc < 0)
			break;
		bytes_consumed += consumed;
	}
	if (whole_rc != bytes_rc || whole.done != bytes.done)
		abort();
	if (whole_rc == 0 && whole_consumed != bytes_consumed)
		abort();
	if (whole_rc == 0 && !whole.done && whole_consumed != size)
		abort();
}

static void fuzz_error_response(const uint8_t *data, size_t size)
{
	static uint8_t out[8192];
	char message[1024];
	size_t n = size < sizeof(message) - 1 ? size : sizeof(message) - 1;
	size_t len;

	memcpy(message, data, n);
	message[n] = '\0';
	if (http1_error_response(400, "invalid_request", message, true, out, sizeof(out), &len) !=
	    0)
		abort();
	/* Every byte of the escaped body is printable ASCII or UTF-8. */
	for (size_t i = 0; i < len; i++) {
		if (out[i] < 0x20 && out[i] != '\r' && out[i] != '\n')
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	fuzz_messages(data, size);
	fuzz_chunked(data + 1, size - 1);
	fuzz_error_response(data + 1, size - 1);
	return 0;
}
