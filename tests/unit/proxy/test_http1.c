/* HTTP/1.1 framing of the proxy: request and response heads, the framing
 * rules that stop request smuggling, body walking, head rewriting, the
 * X-Forwarded-Client-Cert value and the proxy's own error responses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/http1.h"

/* A byte string that may hold NUL. */
struct bytes {
	const char *data;
	size_t len;
};

#define BYTES(literal) { literal, sizeof(literal) - 1 }

struct parse_case {
	struct bytes input;
	int expected; /* an error code, or ACCEPTED for the input's length */
};

#define ACCEPTED INT32_MAX

static struct http1_head head;

static int parse_request(const char *text, struct wd_error *err)
{
	return http1_parse_request(text, strlen(text), NULL, &head, err);
}

static int parse_response(const char *text, const char *method, struct wd_error *err)
{
	struct http1_slice request_method = { method, strlen(method) };

	return http1_parse_response(text, strlen(text), request_method, NULL, &head, err);
}

static void assert_slice(struct http1_slice slice, const char *expected)
{
	char *copy = malloc(slice.len + 1);

	assert_non_null(copy);
	if (slice.len > 0)
		memcpy(copy, slice.ptr, slice.len);
	copy[slice.len] = '\0';
	assert_string_equal(copy, expected);
	free(copy);
}

static void request_fields_parsed(void **state)
{
	const char *text = "GET /a/b?x=1&y=2 HTTP/1.1\r\n"
			   "Host: example.com\r\n"
			   "User-Agent: \t curl/8.0 \t\r\n"
			   "X-Empty:\r\n"
			   "\r\n";
	struct wd_error err;

	(void)state;
	assert_int_equal(parse_request(text, &err), (int)strlen(text));
	assert_slice(head.method, "GET");
	assert_slice(head.target, "/a/b?x=1&y=2");
	assert_slice(head.path, "/a/b");
	assert_slice(head.query, "x=1&y=2");
	assert_int_equal(head.version_minor, 1);
	assert_int_equal(head.status, 0);
	assert_int_equal(head.header_count, 3);
	assert_slice(head.headers[0].name, "Host");
	assert_slice(head.headers[0].value, "example.com");
	assert_slice(head.headers[1].name, "User-Agent");
	assert_slice(head.headers[1].value, "curl/8.0");
	assert_slice(head.headers[2].name, "X-Empty");
	assert_slice(head.headers[2].value, "");
	assert_int_equal(head.framing, HTTP1_BODY_NONE);
	assert_int_equal(head.content_length, 0);
	assert_true(head.keep_alive);
	assert_false(head.expect_continue);
	assert_false(head.upgrade);
	assert_int_equal(head.head_len, strlen(text));
}

static void request_target_forms(void **state)
{
	struct wd_error err;

	(void)state;
	assert_true(parse_request("GET / HTTP/1.1\r\nHost: a\r\n\r\n", &err) > 0);
	assert_slice(head.path, "/");
	assert_slice(head.query, "");

	assert_true(parse_request("GET /p? HTTP/1.1\r\nHost: a\r\n\r\n", &err) > 0);
	assert_slice(head.path, "/p");
	assert_slice(head.query, "");

	assert_true(parse_request("GET /p?a?b=/c HTTP/1.1\r\nHost: a\r\n\r\n", &err) > 0);
	assert_slice(head.path, "/p");
	assert_slice(head.query, "a?b=/c");

	assert_true(parse_request("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", &err) > 0);
	assert_slice(head.method, "OPTIONS");
	assert_slice(head.target, "*");
	assert_slice(head.path, "*");
	assert_slice(head.query, "");
}

static void request_framing_headers(void **state)
{
	struct wd_error err;

	(void)state;
	assert_true(parse_request("POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n",
		&err) > 0);
	assert_int_equal(head.framing, HTTP1_BODY_LENGTH);
	assert_int_equal(head.content_length, 12);

	/* Identical values, in a list or in several fields, are one value. */
	assert_true(parse_request("POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 7, 7\r\n"
		"content-length: 007\r\n\r\n", &err) > 0);
	assert_int_equal(head.framing, HTTP1_BODY_LENGTH);
	assert_int_equal(head.content_length, 7);

	assert_true(parse_request("POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
		&err) > 0);
	assert_int_equal(head.framing, HTTP1_BODY_LENGTH);
	assert_int_equal(head.content_length, 0);

	assert_true(parse_request("POST /u HTTP/1.1\r\nHost: a\r\n"
		"Content-Length: 18446744073709551615\r\n\r\n", &err) > 0);
	assert_int_equal(head.content_length, UINT64_MAX);

	assert_true(parse_request("POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
		"\r\n", &err) > 0);
	assert_int_equal(head.framing, HTTP1_BODY_CHUNKED);
	assert_int_equal(head.content_length, 0);

	/* Case and OWS around the value do not matter. */
	assert_true(parse_request("POST /u HTTP/1.1\r\nHost: a\r\ntransfer-encoding:\t CHUNKED "
		"\r\n\r\n", &err) > 0);
	assert_int_equal(head.framing, HTTP1_BODY_CHUNKED);
	assert_true(parse_request("POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:chunked\r\n"
		"\r\n", &err) > 0);
	assert_int_equal(head.framing, HTTP1_BODY_CHUNKED);
}

static void request_connection_semantics(void **state)
{
	struct wd_error err;

	(void)state;
	assert_true(parse_request("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Close"
		"\r\n\r\n", &err) > 0);
	assert_false(head.keep_alive);

	assert_true(parse_request("GET / HTTP/1.1\r\nHost: a\r\nConnection: x\r\n"
		"Connection: close\r\n\r\n", &err) > 0);
	assert_false(head.keep_alive);

	assert_true(parse_request("GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n",
		&err) > 0);
	assert_true(head.keep_alive);

	assert_true(parse_request("GET / HTTP/1.0\r\n\r\n", &err) > 0);
	assert_int_equal(head.version_minor, 0);
	assert_false(head.keep_alive);

	assert_true(parse_request("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &err) > 0);
	assert_true(head.keep_alive);

	assert_true(parse_request("PUT /f HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\n"
		"Content-Length: 3\r\n\r\n", &err) > 0);
	assert_true(head.expect_continue);

	/* RFC 9110 section 10.1.1: ignored in HTTP/1.0. */
	assert_true(parse_request("PUT /f HTTP/1.0\r\nExpect: 100-continue\r\n"
		"Content-Length: 3\r\n\r\n", &err) > 0);
	assert_false(head.expect_continue);

	assert_true(parse_request("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
		"Connection: Upgrade\r\n\r\n", &err) > 0);
	assert_true(head.upgrade);

	assert_true(parse_request("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n",
		&err) > 0);
	assert_false(head.upgrade);
}

static void request_leading_empty_lines(void **state)
{
	const char *text = "\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n";
	struct wd_error err;

	(void)state;
	assert_int_equal(parse_request(text, &err), (int)strlen(text));
	assert_slice(head.method, "GET");
	assert_slice(head.path, "/x");

	assert_int_equal(parse_request("\r\n", &err), 0);
	assert_int_equal(parse_request("\r", &err), 0);
	assert_int_equal(parse_request("\n", &err), WD_EINVAL);
}

static void run_cases(const struct parse_case *cases, size_t count, const char *method)
{
	for (size_t i = 0; i < count; i++) {
		struct http1_slice request_method = { method, method ? strlen(method) : 0 };
		struct wd_error err;
		int expected;
		int rc;

		wd_error_clear(&err);
		if (method)
			rc = http1_parse_response(cases[i].input.data, cases[i].input.len,
				request_method, NULL, &head, &err);
		else
			rc = http1_parse_request(cases[i].input.data, cases[i].input.len, NULL,
				&head, &err);
		expected = cases[i].expected == ACCEPTED ? (int)cases[i].input.len
							 : cases[i].expected;
		if (rc != expected)
			fail_msg("case %zu: got %d, expected %d (%s)", i, rc, expected,
				wd_error_text(&err));
		if (rc < 0) {
			assert_int_equal(err.code, rc);
			assert_int_equal(head.header_count, 0);
			assert_int_equal(head.head_len, 0);
		}
	}
}

static void request_smuggling_rejected(void **state)
{
	static const struct parse_case cases[] = {
		{ BYTES("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
			"Transfer-Encoding: chunked\r\n\r\n"), WD_EINVAL },
		{ BYTES("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
			"Content-Length: 5\r\n\r\n"), WD_EINVAL },
		{ BYTES("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
			"Content-Length: 6\r\n\r\n"), WD_EINVAL },
		{ BYTES("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n"), WD_EINVAL },
		{ BYTES("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,\r\n\r\n"), WD_EINVAL },
		{ BYTES("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n"), WD_EINVAL },
		{ BYTES("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"), WD_EINVAL },
		{ BYTES("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n"), WD_EINVAL },
		{ BYTES("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n"), WD_EINVAL },
		{ BYTES("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 5\r\n\r\n"), WD_EINVAL },
		{ BYTES("POST / HTTP/1.1\r\nHost: a\r\n"
			"Content-Length: 18446744073709551616\r\n\r\n"), WD_EINVAL },
		{ BYTES("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), WD_EINVAL },
		{ BYTES("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n"),
			WD_EINVAL },
		{ BYTES("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunkedx\r\n\r\n"),
			WD_EINVAL },
		{ BYTES("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"),
			WD_EINVAL },
		{ BYTES("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n"
			"\r\n"), WD_EINVAL },
		{ BYTES("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
			"Transfer-Encoding: chunked\r\n\r\n"), WD_EINVAL },
		{ BYTES("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n"),
			WD_EINVAL },
		{ BYTES("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n"),
			WD_EINVAL },
		{ BYTES("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\n\r\n"), WD_EINVAL },
		{ BYTES("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , chunked\r\n\r\n"),
			WD_EINVAL },
		{ BYTES("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,\r\n\r\n"),
			WD_EINVAL },
		{ BYTES("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n"),
			WD_EINVAL },
		{ BYTES("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \x0b" "chunked\r\n\r\n"),
			WD_EINVAL },
		{ BYTES("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n"),
			WD_EINVAL },
		{ BYTES("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding\t: chunked\r\n\r\n"),
			WD_EINVAL },
		{ BYTES("POST / HTTP/1.1\r\n Transfer-Encoding: chunked\r\nHost: a\r\n\r\n"),
			WD_EINVAL },
		{ BYTES("POST / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n Transfer-Encoding: chunked\r\n"
			"\r\n"), WD_EINVAL },
		{ BYTES("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n"),
			WD_EINVAL },
		{ BYTES("POST / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\tc\r\n\r\n"), WD_EINVAL },
		{ BYTES("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
			WD_EUNSUPPORTED },
		{ BYTES("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n"
			"Transfer-Encoding: chunked\r\n\r\n"), WD_EINVAL },
		/* A bare CR or LF could end a line for another parser. */
		{ BYTES("POST / HTTP/1.1\r\nHost: a\r\nX-A: b\rTransfer-Encoding: chunked\r\n"
			"\r\n"), WD_EINVAL },
		{ BYTES("POST / HTTP/1.1\r\nHost: a\r\nX-A: b\nTransfer-Encoding: chunked\r\n"
			"\r\n"), WD_EINVAL },
		{ BYTES("GET / HTTP/1.1\nHost: a\n\n"), WD_EINVAL },
		{ BYTES("GET / HTTP/1.1\r\nHost: a\r\n\n"), WD_EINVAL },
		{ BYTES("GET / HTTP/1.1\r\nHost: a\r\n\r\r\n"), WD_EINVAL },
	};

	(void)state;
	run_cases(cases, WD_ARRAY_LEN(cases), NULL);
}

static void request_syntax_rejected(void **state)
{
	static const struct parse_case cases[] = {
		{ BYTES("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), WD_EINVAL },
		{ BYTES("GET /  HTTP/1.1\r\nHost: a\r\n\r\n"), WD_EINVAL },
		{ BYTES("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), WD_EINVAL },
		{ BYTES(" GET / HTTP/1.1\r\nHost: a\r\n\r\n"), WD_EINVAL },
		{ BYTES("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n"), WD_EINVAL },
		{ BYTES("GET /\r\nHost: a\r\n\r\n"), WD_EINVAL },
		{ BYTES("GET / \r\nHost: a\r\n\r\n"), WD_EINVAL },
		{ BYTES("GET / http/1.1\r\nHost: a\r\n\r\n"), WD_EINVAL },
		{ BYTES("GET / HTTP/1.10\r\nHost: a\r\n\r\n"), WD_EINVAL },
		{ BYTES("GET / HTTP/1\r\nHost: a\r\n\r\n"), WD_EINVAL },
		{ BYTES("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), WD_EUNSUPPORTED },
		{ BYTES("GET / HTTP/0.9\r\nHost: a\r\n\r\n"), WD_EUNSUPPORTED },
		{ BYTES("G(T / HTTP/1.1\r\nHost: a\r\n\r\n"), WD_EINVAL },
		{ BYTES("GET http://a.example/b HTTP/1.1\r\nHost: a\r\n\r\n"), WD_EUNSUPPORTED },
		{ BYTES("GET HTTPS://a.example HTTP/1.1\r\nHost: a\r\n\r\n"), WD_EUNSUPPORTED },
		{ BYTES("CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n"),
			WD_EUNSUPPORTED },
		{ BYTES("GET a.example:443 HTTP/1.1\r\nHost: a\r\n\r\n"), WD_EINVAL },
		{ BYTES("GET * HTTP/1.1\r\nHost: a\r\n\r\n"), WD_EINVAL },
		{ BYTES("OPTIONS *x HTTP/1.1\r\nHost: a\r\n\r\n"), WD_EINVAL },
		{ BYTES("GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n"), WD_EINVAL },
		{ BYTES("GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n"), WD_EINVAL },
		{ BYTES("GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n"), WD_EINVAL },
		{ BYTES("GET / HTTP/1.1\r\nHost: a\r\nX(A): b\r\n\r\n"), WD_EINVAL },
		{ BYTES("GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n"), WD_EINVAL },
		{ BYTES("GET / HTTP/1.1\r\nHost: a\r\nXA b\r\n\r\n"), WD_EINVAL },
		{ BYTES("GET / HTTP/1.1\r\nHost: a\r\nX-A: a\0b\r\n\r\n"), WD_EINVAL },
		{ BYTES("GET / HTTP/1.1\r\nHost: a\r\nX-A: a\x7f\r\n\r\n"), WD_EINVAL },
		{ BYTES("GET / HTTP/1.1\r\nHost: a\r\nX-A: a\x01\r\n\r\n"), WD_EINVAL },
		{ BYTES("GET / HTTP/1.1\r\nHost: a\r\nX\xc3\xa9: a\r\n\r\n"), WD_EINVAL },
		/* Host: required once in HTTP/1.1, and only host and port bytes. */
		{ BYTES("GET / HTTP/1.1\r\n\r\n"), WD_EINVAL },
		{ BYTES("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), WD_EINVAL },
		{ BYTES("GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n"), WD_EINVAL },
		{ BYTES("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), WD_EINVAL },
		{ BYTES("GET / HTTP/1.1\r\nHost: user@a\r\n\r\n"), WD_EINVAL },
		{ BYTES("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), WD_EINVAL },
	};

	(void)state;
	run_cases(cases, WD_ARRAY_LEN(cases), NULL);
}

static void request_accepted_values(void **state)
{
	static const struct parse_case cases[] = {
		{ BYTES("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"), ACCEPTED },
		{ BYTES("GET / HTTP/1.1\r\nHost: my_host.example:80\r\n\r\n"), ACCEPTED },
		{ BYTES("GET / HTTP/1.0\r\n\r\n"), ACCEPTED },
		{ BYTES("GET / HTTP/1.1\r\nHost:\r\n\r\n"), ACCEPTED },
		{ BYTES("GET / HTTP/1.1\r\nHost: a\r\nX-Utf8: caf\xc3\xa9\r\n\r\n"), ACCEPTED },
		{ BYTES("M-SEARCH /x|{y}^ HTTP/1.1\r\nHost: a\r\n\r\n"), ACCEPTED },
	};

	(void)state;
	run_cases(cases, WD_ARRAY_LEN(cases), NULL);
}

static void rejection_names_value(void **state)
{
	struct wd_error err;
	char text[400];

	(void)state;
	assert_int_equal(parse_request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
		"Content-Length: 6\r\n\r\n", &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "5 and 6"));

	assert_int_equal(parse_request("POST / HTTP/1.1\r\nHost: a\r\n"
		"Transfer-Encoding: xchunked\r\n\r\n", &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "xchunked"));

	assert_int_equal(parse_request("GET http://a.example/b HTTP/1.1\r\n\r\n", &err),
		WD_EUNSUPPORTED);
	assert_non_null(strstr(err.detail, "http://a.example/b"));

	/* Control bytes are shown escaped, and long values are cut. */
	assert_int_equal(parse_request("GET / HTTP/1.1\r\nHost: a\r\nX-A: a\x01\r\n\r\n", &err),
		WD_EINVAL);
	assert_non_null(strstr(err.detail, "0x01"));
	snprintf(text, sizeof(text), "GET /%0200d HTTP/1.1\r\nHost: a/b\r\n\r\n", 0);
	assert_int_equal(parse_request(text, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "Host a/b"));
	snprintf(text, sizeof(text), "GET /%0200d\x01 HTTP/1.1\r\n\r\n", 0);
	assert_int_equal(parse_request(text, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "..."));
	assert_true(strlen(err.detail) < 150);
}

static void head_split_every_offset(void **state)
{
	const char *text = "POST /upload?id=3 HTTP/1.1\r\n"
			   "Host: app.internal\r\n"
			   "Content-Length: 4\r\n"
			   "X-Forwarded-Client-Cert: spoofed\r\n"
			   "\r\n"
			   "body";
	size_t head_len = strlen(text) - 4;
	struct wd_error err;

	(void)state;
	for (size_t n = 0; n < head_len; n++) {
		if (http1_parse_request(text, n, NULL, &head, &err) != 0)
			fail_msg("prefix of %zu bytes did not return 0", n);
		assert_int_equal(head.header_count, 0);
	}
	for (size_t n = head_len; n <= strlen(text); n++) {
		assert_int_equal(http1_parse_request(text, n, NULL, &head, &err), (int)head_len);
		assert_int_equal(head.content_length, 4);
	}
}

static void response_split_every_offset(void **state)
{
	const char *text = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	size_t head_len = strlen(text) - 2;
	struct http1_slice get = { "GET", 3 };
	struct wd_error err;

	(void)state;
	for (size_t n = 0; n < head_len; n++)
		assert_int_equal(http1_parse_response(text, n, get, NULL, &head, &err), 0);
	assert_int_equal(http1_parse_response(text, head_len, get, NULL, &head, &err),
		(int)head_len);
}

static void pipelined_requests_split(void **state)
{
	const char buffer[] = "GET /one HTTP/1.1\r\nHost: a\r\n\r\n"
			      "POST /two HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
			      "POST /three HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
			      "3\r\nabc\r\n0\r\n\r\n"
			      "GET /four HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
	static const char *const paths[] = { "/one", "/two", "/three", "/four" };
	static const size_t body_lengths[] = { 0, 5, 13, 0 };
	size_t len = sizeof(buffer) - 1;
	size_t pos = 0;
	struct wd_error err;

	(void)state;
	for (size_t i = 0; i < WD_ARRAY_LEN(paths); i++) {
		struct http1_body body;
		size_t consumed = 99;
		int rc = http1_parse_request(buffer + pos, len - pos, NULL, &head, &err);

		assert_true(rc > 0);
		assert_slice(head.path, paths[i]);
		pos += (size_t)rc;

		http1_body_init(&body, &head);
		assert_int_equal(http1_body_advance(&body, (const uint8_t *)buffer + pos, len - pos,
			&consumed, &err), 0);
		assert_int_equal(consumed, body_lengths[i]);
		assert_true(body.done);
		pos += consumed;
	}
	assert_int_equal(pos, len);
	assert_false(head.keep_alive);
}

static void limits_enforced(void **state)
{
	struct http1_limits limits = { .max_head_bytes = 40, .max_headers = 2 };
	/* 40 bytes exactly. */
	const char *fits = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: 1234\r\n\r\n";
	const char *over = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: 12345\r\n\r\n";
	const char *three = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n";
	struct wd_error err;

	(void)state;
	assert_int_equal(strlen(fits), 40);
	assert_int_equal(http1_parse_request(fits, strlen(fits), &limits, &head, &err), 40);
	assert_int_equal(http1_parse_request(over, strlen(over), &limits, &head, &err),
		WD_ETOOBIG);
	/* Incomplete: 0 under the limit, WD_ETOOBIG once the limit is reached. */
	assert_int_equal(http1_parse_request(over, 39, &limits, &head, &err), 0);
	assert_int_equal(http1_parse_request(over, 40, &limits, &head, &err), WD_ETOOBIG);

	limits.max_head_bytes = 0;
	assert_int_equal(http1_parse_request(three, strlen(three), &limits, &head, &err),
		WD_ETOOBIG);
	assert_int_equal(err.code, WD_ETOOBIG);
	limits.max_headers = 3;
	assert_int_equal(http1_parse_request(three, strlen(three), &limits, &head, &err),
		(int)strlen(three));
}

/* Builds a request with count "X: 1" headers after Host. */
static char *many_headers(size_t count, size_t *ret_len)
{
	size_t cap = 64 + count * 6;
	char *text = malloc(cap);
	size_t len;

	assert_non_null(text);
	len = (size_t)snprintf(text, cap, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (size_t i = 0; i < count; i++) {
		memcpy(text + len, "X: 1\r\n", 6);
		len += 6;
	}
	memcpy(text + len, "\r\n", 2);
	*ret_len = len + 2;
	return text;
}

static void header_count_defaults(void **state)
{
	struct http1_limits big = { .max_head_bytes = 1 << 20, .max_headers = 100000 };
	struct wd_error err;
	size_t len;
	char *text;

	(void)state;
	/* The default is 100 fields, Host included. */
	text = many_headers(99, &len);
	assert_int_equal(http1_parse_request(text, len, NULL, &head, &err), (int)len);
	free(text);
	text = many_headers(100, &len);
	assert_int_equal(http1_parse_request(text, len, NULL, &head, &err), WD_ETOOBIG);
	free(text);

	/* Any configured limit stops at HTTP1_HEADERS_CAP. */
	text = many_headers(HTTP1_HEADERS_CAP - 1, &len);
	assert_int_equal(http1_parse_request(text, len, &big, &head, &err), (int)len);
	assert_int_equal(head.header_count, HTTP1_HEADERS_CAP);
	free(text);
	text = many_headers(HTTP1_HEADERS_CAP, &len);
	assert_int_equal(http1_parse_request(text, len, &big, &head, &err), WD_ETOOBIG);
	free(text);
}

static void head_bytes_default(void **state)
{
	size_t cap = 17 * 1024;
	char *text = malloc(cap);
	struct wd_error err;
	size_t len;

	(void)state;
	assert_non_null(text);
	len = (size_t)snprintf(text, cap, "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ");
	memset(text + len, 'p', cap - len);
	/* 16 KiB with no end of head. */
	assert_int_equal(http1_parse_request(text, 16 * 1024 - 1, NULL, &head, &err), 0);
	assert_int_equal(http1_parse_request(text, 16 * 1024, NULL, &head, &err), WD_ETOOBIG);
	memcpy(text + 16 * 1024 - 4, "\r\n\r\n", 4);
	assert_int_equal(http1_parse_request(text, cap, NULL, &head, &err), 16 * 1024);
	free(text);
}

static void response_fields_parsed(void **state)
{
	struct wd_error err;
	const char *text = "HTTP/1.1 404 Not Found Here\r\nContent-Length: 3\r\n"
			   "Content-Type: text/plain\r\n\r\nabc";

	(void)state;
	assert_int_equal(parse_response(text, "GET", &err), (int)strlen(text) - 3);
	assert_int_equal(head.status, 404);
	assert_slice(head.reason, "Not Found Here");
	assert_int_equal(head.version_minor, 1);
	assert_int_equal(head.method.len, 0);
	assert_int_equal(head.header_count, 2);
	assert_int_equal(head.framing, HTTP1_BODY_LENGTH);
	assert_int_equal(head.content_length, 3);
	assert_true(head.keep_alive);
	assert_false(head.upgrade);

	assert_true(parse_response("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", "GET", &err) > 0);
	assert_int_equal(head.status, 200);
	assert_slice(head.reason, "");
	assert_true(parse_response("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", "GET", &err) >
		0);
	assert_slice(head.reason, "");

	assert_true(parse_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "GET",
		&err) > 0);
	assert_int_equal(head.framing, HTTP1_BODY_CHUNKED);
}

static void response_body_rules(void **state)
{
	struct wd_error err;

	(void)state;
	/* No framing header: the body runs to the end of the connection. */
	assert_true(parse_response("HTTP/1.1 200 OK\r\n\r\n", "GET", &err) > 0);
	assert_int_equal(head.framing, HTTP1_BODY_UNTIL_CLOSE);
	assert_false(head.keep_alive);

	assert_true(parse_response("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", "HEAD",
		&err) > 0);
	assert_int_equal(head.framing, HTTP1_BODY_NONE);
	assert_int_equal(head.content_length, 0);
	assert_true(head.keep_alive);

	assert_true(parse_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
		"HEAD", &err) > 0);
	assert_int_equal(head.framing, HTTP1_BODY_NONE);

	assert_true(parse_response("HTTP/1.1 204 No Content\r\n\r\n", "DELETE", &err) > 0);
	assert_int_equal(head.framing, HTTP1_BODY_NONE);
	assert_true(head.keep_alive);

	assert_true(parse_response("HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n",
		"GET", &err) > 0);
	assert_int_equal(head.framing, HTTP1_BODY_NONE);

	assert_true(parse_response("HTTP/1.1 100 Continue\r\n\r\n", "PUT", &err) > 0);
	assert_int_equal(head.framing, HTTP1_BODY_NONE);
	assert_false(head.upgrade);

	assert_true(parse_response("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		"Connection: Upgrade\r\n\r\n", "GET", &err) > 0);
	assert_int_equal(head.framing, HTTP1_BODY_NONE);
	assert_true(head.upgrade);

	assert_true(parse_response("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", "GET", &err) >
		0);
	assert_int_equal(head.version_minor, 0);
	assert_false(head.keep_alive);
	assert_true(parse_response("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n"
		"Connection: keep-alive\r\n\r\n", "GET", &err) > 0);
	assert_true(head.keep_alive);

	assert_true(parse_response("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
		"Connection: close\r\n\r\n", "GET", &err) > 0);
	assert_false(head.keep_alive);

	/* A response needs no Host. */
	assert_true(parse_response("HTTP/1.1 200 OK\r\nHost: a/b\r\nHost: c\r\n"
		"Content-Length: 0\r\n\r\n", "GET", &err) > 0);
}

static void response_rejections(void **state)
{
	static const struct parse_case cases[] = {
		{ BYTES("HTTP/1.1 99 Low\r\n\r\n"), WD_EINVAL },
		{ BYTES("HTTP/1.1 099 Low\r\n\r\n"), WD_EINVAL },
		{ BYTES("HTTP/1.1 0200 OK\r\n\r\n"), WD_EINVAL },
		{ BYTES("HTTP/1.1 200OK\r\n\r\n"), WD_EINVAL },
		{ BYTES("HTTP/1.1  200 OK\r\n\r\n"), WD_EINVAL },
		{ BYTES("HTTP/1.1 2x0 OK\r\n\r\n"), WD_EINVAL },
		{ BYTES("http/1.1 200 OK\r\n\r\n"), WD_EINVAL },
		{ BYTES("HTTP/2.0 200 OK\r\n\r\n"), WD_EUNSUPPORTED },
		{ BYTES("HTTP/1.1 200 O\x01K\r\n\r\n"), WD_EINVAL },
		{ BYTES("\r\nHTTP/1.1 200 OK\r\n\r\n"), WD_EINVAL },
		{ BYTES("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n"
			"\r\n"), WD_EINVAL },
		{ BYTES("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), WD_EINVAL },
		{ BYTES("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
			WD_EINVAL },
		{ BYTES("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"), WD_EINVAL },
		{ BYTES("HTTP/1.1 200 OK\r\nTransfer-Encoding: br, chunked\r\n\r\n"),
			WD_EUNSUPPORTED },
		{ BYTES("HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n"), WD_EINVAL },
		{ BYTES("HTTP/1.1 200 OK\r\nX : a\r\n\r\n"), WD_EINVAL },
		/* Checked even where no body follows. */
		{ BYTES("HTTP/1.1 204 No Content\r\nContent-Length: x\r\n\r\n"), WD_EINVAL },
		{ BYTES("HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n"), ACCEPTED },
	};

	(void)state;
	run_cases(cases, WD_ARRAY_LEN(cases), "GET");
}

static void head_find_by_name(void **state)
{
	struct wd_error err;
	const struct http1_header *found;

	(void)state;
	assert_true(parse_request("GET / HTTP/1.1\r\nHost: a\r\nX-Twice: one\r\n"
		"x-twice: two\r\n\r\n", &err) > 0);
	found = http1_head_find(&head, "X-TWICE");
	assert_non_null(found);
	assert_slice(found->value, "one");
	found = http1_head_find(&head, "host");
	assert_non_null(found);
	assert_slice(found->value, "a");
	assert_null(http1_head_find(&head, "X-Twic"));
	assert_null(http1_head_find(&head, "X-Twice-"));
}

/* Feeds data to a new body with the given framing in steps of step bytes;
 * returns the bytes consumed in total, or the error code. */
static long long walk(enum http1_framing framing, uint64_t length, const char *data,
	size_t len, size_t step, struct http1_body *body, struct wd_error *err)
{
	struct http1_head body_head = { .framing = framing, .content_length = length };
	size_t total = 0;

	http1_body_init(body, &body_head);
	for (size_t pos = 0; pos < len; pos += step) {
		size_t n = len - pos < step ? len - pos : step;
		size_t consumed = 7;
		int rc = http1_body_advance(body, (const uint8_t *)data + pos, n, &consumed, err);

		if (rc < 0) {
			assert_int_equal(consumed, 0);
			return rc;
		}
		total += consumed;
		/* Nothing is left over before the end of the message. */
		if (!body->done)
			assert_int_equal(consumed, n);
	}
	return (long long)total;
}

static void chunked_byte_by_byte(void **state)
{
	const char body_text[] = "4\r\nWiki\r\n"
				 "5;name=value;quoted=\"a b\"\r\npedia\r\n"
				 "E ; ext\r\n in\r\n\r\nchunks.\r\n"
				 "0000\r\n"
				 "Expires: never\r\n"
				 "X-Trailer-Empty:\r\n"
				 "\r\n";
	const char next[] = "GET /next HTTP/1.1\r\n";
	char buffer[sizeof(body_text) + sizeof(next)];
	size_t body_len = sizeof(body_text) - 1;
	struct http1_body body;
	struct wd_error err;

	(void)state;
	memcpy(buffer, body_text, body_len);
	memcpy(buffer + body_len, next, sizeof(next));
	for (size_t step = 1; step <= sizeof(buffer); step++) {
		long long total = walk(HTTP1_BODY_CHUNKED, 0, buffer, sizeof(buffer) - 1, step,
			&body, &err);

		if (total != (long long)body_len)
			fail_msg("step %zu: consumed %lld, expected %zu (%s)", step, total,
				body_len, wd_error_text(&err));
		assert_true(body.done);
	}
}

static void chunked_every_split(void **state)
{
	const char text[] = "a\r\n0123456789\r\n1\r\nx\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n";
	size_t body_len = 26;
	struct wd_error err;

	(void)state;
	for (size_t split = 0; split <= sizeof(text) - 1; split++) {
		struct http1_head chunked_head = { .framing = HTTP1_BODY_CHUNKED };
		struct http1_body body;
		size_t first = 0;
		size_t second = 0;

		http1_body_init(&body, &chunked_head);
		assert_int_equal(http1_body_advance(&body, (const uint8_t *)text, split, &first,
			&err), 0);
		assert_int_equal(http1_body_advance(&body, (const uint8_t *)text + first,
			sizeof(text) - 1 - first, &second, &err), 0);
		assert_int_equal(first + second, body_len);
		assert_true(body.done);
	}
}

static void chunked_framing_rejected(void **state)
{
	static const struct parse_case cases[] = {
		{ BYTES("5\r\nhelloX\r\n0\r\n\r\n"), WD_EINVAL },
		{ BYTES("5\r\nhell\r\n0\r\n\r\n"), WD_EINVAL },
		{ BYTES("G\r\n"), WD_EINVAL },
		{ BYTES("\r\n"), WD_EINVAL },
		{ BYTES(";ext\r\n"), WD_EINVAL },
		{ BYTES("-5\r\n"), WD_EINVAL },
		{ BYTES("0x5\r\n"), WD_EINVAL },
		{ BYTES("5 \r\nhello\r\n"), WD_EINVAL },
		{ BYTES("5\nhello\r\n"), WD_EINVAL },
		{ BYTES("5\r\rhello\r\n"), WD_EINVAL },
		{ BYTES("5\r\nhello\n0\r\n\r\n"), WD_EINVAL },
		{ BYTES("5\r\nhello\r\r"), WD_EINVAL },
		{ BYTES("5;a\nb\r\nhello\r\n"), WD_EINVAL },
		{ BYTES("5;a\0b\r\nhello\r\n"), WD_EINVAL },
		{ BYTES("5;a\rb\r\nhello\r\n"), WD_EINVAL },
		{ BYTES("0\r\nX: y\n\r\n"), WD_EINVAL },
		{ BYTES("0\r\n X: y\r\n\r\n"), WD_EINVAL },
		{ BYTES("0\r\nX : y\r\n\r\n"), WD_EINVAL },
		{ BYTES("0\r\nX\r\n\r\n"), WD_EINVAL },
		{ BYTES("0\r\nX: a\x01\r\n\r\n"), WD_EINVAL },
		{ BYTES("0\r\n\r\r"), WD_EINVAL },
		{ BYTES("0\r\nX-Forwarded-Client-Cert: By=a\r\n\r\n"), WD_EINVAL },
		{ BYTES("0\r\nx-forwarded-CLIENT-cert:By=a\r\n\r\n"), WD_EINVAL },
		{ BYTES("4000000000000001\r\n"), WD_ETOOBIG },
		{ BYTES("10000000000000000\r\n"), WD_ETOOBIG },
		{ BYTES("fffffffffffffffffffffffff\r\n"), WD_ETOOBIG },
	};

	(void)state;
	for (size_t i = 0; i < WD_ARRAY_LEN(cases); i++) {
		for (size_t step = 1; step <= cases[i].input.len; step *= 2) {
			struct http1_body body;
			struct wd_error err;
			long long rc = walk(HTTP1_BODY_CHUNKED, 0, cases[i].input.data,
				cases[i].input.len, step, &body, &err);

			if (rc != cases[i].expected)
				fail_msg("case %zu, step %zu: got %lld, expected %d", i, step, rc,
					cases[i].expected);
			assert_int_equal(err.code, cases[i].expected);
		}
	}
}

static void chunked_accepted_edges(void **state)
{
	static const struct bytes accepted[] = {
		BYTES("0\r\n\r\n"),
		BYTES("00000005\r\nhello\r\n0\r\n\r\n"),
		BYTES("5\t;a=1\r\nhello\r\n0;last\r\n\r\n"),
		BYTES("A\r\n0123456789\r\n0\r\n\r\n"),
		BYTES("0\r\nX-Forwarded-Client-Certs: a\r\nX-Forwarded-Client: b\r\n\r\n"),
		BYTES("0\r\nX: caf\xc3\xa9\r\n\r\n"),
	};

	(void)state;
	for (size_t i = 0; i < WD_ARRAY_LEN(accepted); i++) {
		struct http1_body body;
		struct wd_error err;
		long long rc = walk(HTTP1_BODY_CHUNKED, 0, accepted[i].data, accepted[i].len, 1,
			&body, &err);

		if (rc != (long long)accepted[i].len)
			fail_msg("case %zu: got %lld (%s)", i, rc, wd_error_text(&err));
		assert_true(body.done);
	}
}

static void chunked_limits(void **state)
{
	size_t cap = 5000 + 32;
	char *text = malloc(cap);
	struct http1_body body;
	struct http1_head chunked_head = { .framing = HTTP1_BODY_CHUNKED };
	struct wd_error err;
	size_t consumed;

	(void)state;
	assert_non_null(text);

	/* 2^62 itself is accepted; the data is not there yet. */
	http1_body_init(&body, &chunked_head);
	assert_int_equal(http1_body_advance(&body, (const uint8_t *)"4000000000000000\r\n", 18,
		&consumed, &err), 0);
	assert_int_equal(consumed, 18);
	assert_int_equal(body.remaining, UINT64_C(1) << 62);
	assert_false(body.done);

	/* A chunk-size line of 4096 bytes passes, one byte more fails. */
	memset(text, 'a', cap);
	memcpy(text, "1;", 2);
	memcpy(text + 4096, "\r\nx\r\n0\r\n\r\n", 10);
	assert_int_equal(walk(HTTP1_BODY_CHUNKED, 0, text, 4106, 100, &body, &err), 4106);
	text[4096] = 'a';
	memcpy(text + 4097, "\r\nx\r\n0\r\n\r\n", 10);
	assert_int_equal(walk(HTTP1_BODY_CHUNKED, 0, text, 4107, 100, &body, &err), WD_ETOOBIG);

	/* The same limit holds for one trailer line. */
	memset(text, 'a', cap);
	memcpy(text, "0\r\nX:", 5);
	memcpy(text + 3 + 4097, "\r\n\r\n", 4);
	assert_int_equal(walk(HTTP1_BODY_CHUNKED, 0, text, 3 + 4097 + 4, 7, &body, &err),
		WD_ETOOBIG);
	memcpy(text + 3 + 4096, "\r\n\r\n", 4);
	assert_int_equal(walk(HTTP1_BODY_CHUNKED, 0, text, 3 + 4096 + 4, 7, &body, &err),
		3 + 4096 + 4);
	free(text);
}

static void chunked_unusable_after_error(void **state)
{
	struct http1_head chunked_head = { .framing = HTTP1_BODY_CHUNKED };
	struct http1_body body;
	struct wd_error err;
	size_t consumed;

	(void)state;
	http1_body_init(&body, &chunked_head);
	assert_int_equal(http1_body_advance(&body, (const uint8_t *)"z", 1, &consumed, &err),
		WD_EINVAL);
	assert_int_equal(http1_body_advance(&body, (const uint8_t *)"0\r\n\r\n", 5, &consumed,
		&err), WD_EINVAL);
	assert_int_equal(consumed, 0);
	assert_false(body.done);
}

static void length_and_close_bodies(void **state)
{
	struct http1_head length_head = { .framing = HTTP1_BODY_LENGTH, .content_length = 10 };
	struct http1_head close_head = { .framing = HTTP1_BODY_UNTIL_CLOSE };
	struct http1_head none_head = { .framing = HTTP1_BODY_NONE };
	struct http1_body body;
	struct wd_error err;
	size_t consumed;

	(void)state;
	http1_body_init(&body, &length_head);
	assert_false(body.done);
	assert_int_equal(http1_body_advance(&body, (const uint8_t *)"0123456", 7, &consumed,
		&err), 0);
	assert_int_equal(consumed, 7);
	assert_int_equal(body.remaining, 3);
	assert_false(body.done);
	assert_int_equal(http1_body_advance(&body, (const uint8_t *)"789GET", 6, &consumed,
		&err), 0);
	assert_int_equal(consumed, 3);
	assert_true(body.done);
	assert_int_equal(http1_body_advance(&body, (const uint8_t *)"GET", 3, &consumed, &err),
		0);
	assert_int_equal(consumed, 0);

	length_head.content_length = 0;
	http1_body_init(&body, &length_head);
	assert_true(body.done);

	http1_body_init(&body, &close_head);
	assert_int_equal(http1_body_advance(&body, (const uint8_t *)"anything", 8, &consumed,
		&err), 0);
	assert_int_equal(consumed, 8);
	assert_false(body.done);

	http1_body_init(&body, &none_head);
	assert_true(body.done);
	assert_int_equal(http1_body_advance(&body, (const uint8_t *)"GET", 3, &consumed, &err),
		0);
	assert_int_equal(consumed, 0);
}

static const char *const drop_xfcc[] = { "X-Forwarded-Client-Cert" };

static void head_write_request(void **state)
{
	const char *text = "POST   /p?q=1 HTTP/1.1\r\n"
			   "Host:   app  \r\n"
			   "x-forwarded-client-cert: By=evil\r\n"
			   "Content-Length: 2\r\n"
			   "X-FORWARDED-CLIENT-CERT: again\r\n"
			   "X-Forwarded-Client-Cert-Other: kept\r\n"
			   "\r\n";
	const char *request = "POST /p?q=1 HTTP/1.1\r\n"
			      "Host:   app  \r\n"
			      "x-forwarded-client-cert: By=evil\r\n"
			      "Content-Length: 2\r\n"
			      "X-FORWARDED-CLIENT-CERT: again\r\n"
			      "X-Forwarded-Client-Cert-Other: kept\r\n"
			      "\r\n";
	const char *const extra[] = { "X-Forwarded-Client-Cert: By=spiffe://a/b", "X-Extra: 1" };
	const char *expected = "POST /p?q=1 HTTP/1.1\r\n"
			       "Host: app\r\n"
			       "Content-Length: 2\r\n"
			       "X-Forwarded-Client-Cert-Other: kept\r\n"
			       "X-Forwarded-Client-Cert: By=spiffe://a/b\r\n"
			       "X-Extra: 1\r\n"
			       "\r\n";
	uint8_t out[512];
	struct wd_error err;
	size_t len = 99;

	(void)state;
	/* The start line with several spaces is invalid. */
	assert_int_equal(parse_request(text, &err), WD_EINVAL);
	assert_true(parse_request(request, &err) > 0);
	assert_int_equal(http1_head_write(&head, drop_xfcc, 1, extra, 2, out, sizeof(out), &len),
		0);
	assert_int_equal(len, strlen(expected));
	assert_memory_equal(out, expected, len);

	/* Every cap below the length fails; the exact length fits. */
	for (size_t cap = 0; cap < strlen(expected); cap++) {
		len = 99;
		assert_int_equal(http1_head_write(&head, drop_xfcc, 1, extra, 2, out, cap, &len),
			WD_ETOOBIG);
		assert_int_equal(len, 0);
	}
	assert_int_equal(http1_head_write(&head, drop_xfcc, 1, extra, 2, out, strlen(expected),
		&len), 0);
	assert_memory_equal(out, expected, len);
}

static void head_write_response(void **state)
{
	const char *expected = "HTTP/1.0 503 Service Down\r\nContent-Length: 0\r\n\r\n";
	uint8_t out[256];
	struct wd_error err;
	size_t len;

	(void)state;
	assert_true(parse_response("HTTP/1.0 503 Service Down\r\nContent-Length:0\r\n"
		"X-Forwarded-Client-Cert: x\r\n\r\n", "GET", &err) > 0);
	assert_int_equal(http1_head_write(&head, drop_xfcc, 1, NULL, 0, out, sizeof(out), &len),
		0);
	assert_int_equal(len, strlen(expected));
	assert_memory_equal(out, expected, len);

	assert_true(parse_response("HTTP/1.1 204\r\n\r\n", "GET", &err) > 0);
	assert_int_equal(http1_head_write(&head, NULL, 0, NULL, 0, out, sizeof(out), &len), 0);
	assert_int_equal(len, 17);
	assert_memory_equal(out, "HTTP/1.1 204 \r\n\r\n", len);
}

static void head_write_rejects_injection(void **state)
{
	const char *const crlf[] = { "X-A: 1\r\nX-Forwarded-Client-Cert: evil" };
	const char *const lf[] = { "X-A: 1\nTransfer-Encoding: chunked" };
	const char *const cr[] = { "X-A: 1\r" };
	const char *const no_colon[] = { "X-A 1" };
	uint8_t out[256];
	struct wd_error err;
	size_t len = 5;

	(void)state;
	assert_true(parse_request("GET / HTTP/1.1\r\nHost: a\r\n\r\n", &err) > 0);
	assert_int_equal(http1_head_write(&head, NULL, 0, crlf, 1, out, sizeof(out), &len),
		WD_EINVAL);
	assert_int_equal(len, 0);
	assert_int_equal(http1_head_write(&head, NULL, 0, lf, 1, out, sizeof(out), &len),
		WD_EINVAL);
	assert_int_equal(http1_head_write(&head, NULL, 0, cr, 1, out, sizeof(out), &len),
		WD_EINVAL);
	assert_int_equal(http1_head_write(&head, NULL, 0, no_colon, 1, out, sizeof(out), &len),
		WD_EINVAL);
}

static void xfcc_value_format(void **state)
{
	uint8_t hash[32];
	const char *expected = "By=spiffe://example.org/ns/web;"
			       "Hash=000102030405060708090a0b0c0d0e0f"
			       "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff;"
			       "URI=spiffe://example.org/ns/client";
	char out[256];

	(void)state;
	for (size_t i = 0; i < 16; i++) {
		hash[i] = (uint8_t)i;
		hash[16 + i] = (uint8_t)(0xF0 + i);
	}
	assert_int_equal(http1_xfcc_format("spiffe://example.org/ns/web", hash,
		"spiffe://example.org/ns/client", out, sizeof(out)), 0);
	assert_string_equal(out, expected);

	assert_int_equal(http1_xfcc_format("spiffe://example.org/ns/web", hash,
		"spiffe://example.org/ns/client", out, strlen(expected) + 1), 0);
	assert_string_equal(out, expected);
	assert_int_equal(http1_xfcc_format("spiffe://example.org/ns/web", hash,
		"spiffe://example.org/ns/client", out, strlen(expected)), WD_ETOOBIG);
	assert_string_equal(out, "");
}

static void xfcc_rejects_unquotable_ids(void **state)
{
	static const char *const bad[] = {
		"", "spiffe://a/b,By=x", "spiffe://a/b;URI=x", "spiffe://a/b=", "spiffe://a/\"b",
		"spiffe://a/ b", "spiffe://a/b\r\nX: y", "spiffe://a/\xc3\xa9", "spiffe://a/\\b",
	};
	uint8_t hash[32] = { 0 };
	char out[256];

	(void)state;
	for (size_t i = 0; i < WD_ARRAY_LEN(bad); i++) {
		if (http1_xfcc_format("spiffe://a/own", hash, bad[i], out, sizeof(out)) !=
		    WD_EINVAL)
			fail_msg("peer id %zu accepted", i);
		if (http1_xfcc_format(bad[i], hash, "spiffe://a/peer", out, sizeof(out)) !=
		    WD_EINVAL)
			fail_msg("own id %zu accepted", i);
	}
}

static void error_response_exact(void **state)
{
	const char *forbidden = "HTTP/1.1 403 Forbidden\r\n"
				"Content-Type: application/json\r\n"
				"Content-Length: 52\r\n"
				"Connection: close\r\n"
				"\r\n"
				"{\"code\":\"denied\",\"message\":\"policy authz.allow: no\"}";
	const char *bad = "HTTP/1.1 400 Bad Request\r\n"
			  "Content-Type: application/json\r\n"
			  "Content-Length: 34\r\n"
			  "\r\n"
			  "{\"code\":\"bad\",\"message\":\"a\\\"b\\\\c\"}";
	uint8_t out[512];
	size_t len;

	(void)state;
	assert_int_equal(http1_error_response(403, "denied", "policy authz.allow: no", true, out,
		sizeof(out), &len), 0);
	assert_int_equal(len, strlen(forbidden));
	assert_memory_equal(out, forbidden, len);

	assert_int_equal(http1_error_response(400, "bad", "a\"b\\c", false, out, sizeof(out),
		&len), 0);
	assert_int_equal(len, strlen(bad));
	assert_memory_equal(out, bad, len);

	for (size_t cap = 0; cap < strlen(bad); cap++) {
		len = 7;
		assert_int_equal(http1_error_response(400, "bad", "a\"b\\c", false, out, cap, &len),
			WD_ETOOBIG);
		assert_int_equal(len, 0);
	}
	assert_int_equal(http1_error_response(400, "bad", "a\"b\\c", false, out, strlen(bad),
		&len), 0);

	assert_int_equal(http1_error_response(99, "x", "y", false, out, sizeof(out), &len),
		WD_EINVAL);
	assert_int_equal(http1_error_response(1000, "x", "y", false, out, sizeof(out), &len),
		WD_EINVAL);
}

/* Returns the JSON body of an error response written to out. */
static const char *error_body(const char *message, char *out, size_t size)
{
	size_t len;
	const char *body;

	assert_int_equal(http1_error_response(502, "upstream", message, true, (uint8_t *)out,
		size - 1, &len), 0);
	out[len] = '\0';
	body = strstr(out, "\r\n\r\n");
	assert_non_null(body);
	return body + 4;
}

static void error_response_escapes(void **state)
{
	char out[512];
	const char *body;
	char length[48];

	(void)state;
	body = error_body("line\nbreak\ttab\x01\x1f end", out, sizeof(out));
	assert_string_equal(body, "{\"code\":\"upstream\",\"message\":"
		"\"line\\u000abreak\\u0009tab\\u0001\\u001f end\"}");
	snprintf(length, sizeof(length), "Content-Length: %zu\r\n", strlen(body));
	assert_non_null(strstr(out, length));
	assert_non_null(strstr(out, "HTTP/1.1 502 Bad Gateway\r\n"));

	/* Valid UTF-8 stays, other bytes become U+FFFD. */
	body = error_body("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", out, sizeof(out));
	assert_string_equal(body, "{\"code\":\"upstream\",\"message\":"
		"\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}");
	body = error_body("a\xff" "b\xc3" "c\xc0\xaf" "d\xed\xa0\x80" "e\xf4\x90\x80\x80" "f\xe2\x82",
		out, sizeof(out));
	assert_string_equal(body, "{\"code\":\"upstream\",\"message\":"
		"\"a\\ufffdb\\ufffdc\\ufffd\\ufffdd\\ufffd\\ufffd\\ufffde\\ufffd\\ufffd\\ufffd"
		"\\ufffdf\\ufffd\\ufffd\"}");
}

static void reason_phrases(void **state)
{
	static const struct {
		int status;
		const char *reason;
	} phrases[] = {
		{ 400, "Bad Request" }, { 403, "Forbidden" }, { 404, "Not Found" },
		{ 408, "Request Timeout" }, { 413, "Content Too Large" },
		{ 431, "Request Header Fields Too Large" }, { 500, "Internal Server Error" },
		{ 501, "Not Implemented" }, { 502, "Bad Gateway" }, { 503, "Service Unavailable" },
		{ 504, "Gateway Timeout" }, { 418, "" }, { 0, "" },
	};
	uint8_t out[256];
	size_t len;

	(void)state;
	for (size_t i = 0; i < WD_ARRAY_LEN(phrases); i++)
		assert_string_equal(http1_reason_phrase(phrases[i].status), phrases[i].reason);

	assert_int_equal(http1_error_response(418, "x", "y", false, out, sizeof(out), &len), 0);
	assert_memory_equal(out, "HTTP/1.1 418 \r\n", 15);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(request_fields_parsed),
		cmocka_unit_test(request_target_forms),
		cmocka_unit_test(request_framing_headers),
		cmocka_unit_test(request_connection_semantics),
		cmocka_unit_test(request_leading_empty_lines),
		cmocka_unit_test(request_smuggling_rejected),
		cmocka_unit_test(request_syntax_rejected),
		cmocka_unit_test(request_accepted_values),
		cmocka_unit_test(rejection_names_value),
		cmocka_unit_test(head_split_every_offset),
		cmocka_unit_test(response_split_every_offset),
		cmocka_unit_test(pipelined_requests_split),
		cmocka_unit_test(limits_enforced),
		cmocka_unit_test(header_count_defaults),
		cmocka_unit_test(head_bytes_default),
		cmocka_unit_test(response_fields_parsed),
		cmocka_unit_test(response_body_rules),
		cmocka_unit_test(response_rejections),
		cmocka_unit_test(head_find_by_name),
		cmocka_unit_test(chunked_byte_by_byte),
		cmocka_unit_test(chunked_every_split),
		cmocka_unit_test(chunked_framing_rejected),
		cmocka_unit_test(chunked_accepted_edges),
		cmocka_unit_test(chunked_limits),
		cmocka_unit_test(chunked_unusable_after_error),
		cmocka_unit_test(length_and_close_bodies),
		cmocka_unit_test(head_write_request),
		cmocka_unit_test(head_write_response),
		cmocka_unit_test(head_write_rejects_injection),
		cmocka_unit_test(xfcc_value_format),
		cmocka_unit_test(xfcc_rejects_unquotable_ids),
		cmocka_unit_test(error_response_exact),
		cmocka_unit_test(error_response_escapes),
		cmocka_unit_test(reason_phrases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
