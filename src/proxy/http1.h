/* HTTP/1.1 message framing for the L7 proxy (RFC 9112): parses request and
 * response heads in place, walks bodies without copying them (Content-Length
 * or chunked, passed through unchanged), and writes a head again with
 * headers removed and added. Parsing is strict where leniency lets two
 * parties disagree on where a message ends (request smuggling): a message
 * with both Content-Length and Transfer-Encoding, differing Content-Length
 * values, a Transfer-Encoding other than a final "chunked", obsolete line
 * folding, whitespace before a colon and bare CR are all refused. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/macros.h"

/* Upper bound on headers in one head, whatever the configured limit. */
#define HTTP1_HEADERS_CAP 256

struct http1_limits {
	size_t max_head_bytes; /* request or status line plus headers; 0: 16 KiB */
	size_t max_headers;    /* header fields; 0: 100, at most HTTP1_HEADERS_CAP */
};

/* A slice of the caller's bytes. */
struct http1_slice {
	const char *ptr;
	size_t len;
};

struct http1_header {
	struct http1_slice name;
	struct http1_slice value; /* without leading and trailing whitespace */
};

enum http1_framing {
	HTTP1_BODY_NONE,        /* no body */
	HTTP1_BODY_LENGTH,      /* content_length bytes */
	HTTP1_BODY_CHUNKED,     /* chunked transfer coding */
	HTTP1_BODY_UNTIL_CLOSE, /* responses only: until the server closes */
};

/* A parsed head. Slices point into the parsed bytes, which must stay in
 * place while the head is used. */
struct http1_head {
	struct http1_slice method;  /* requests */
	struct http1_slice target;  /* requests: as sent */
	struct http1_slice path;    /* requests: target up to '?' */
	struct http1_slice query;   /* requests: after '?', without it; may be empty */
	int status;                 /* responses */
	struct http1_slice reason;  /* responses: reason phrase; may be empty */
	int version_minor;          /* 0 or 1 (HTTP/1.0 or HTTP/1.1) */
	struct http1_header headers[HTTP1_HEADERS_CAP];
	size_t header_count;
	enum http1_framing framing;
	uint64_t content_length;    /* with HTTP1_BODY_LENGTH */
	bool keep_alive;            /* the connection may carry another message */
	bool expect_continue;       /* requests: "Expect: 100-continue" */
	bool upgrade;               /* an Upgrade request, or a 101 response */
	size_t head_len;            /* bytes of the head, final CRLF included */
};

/* Parses a request head at the start of data. Returns the head's length
 * (> 0) and fills ret_head; 0 when data holds no complete head yet and is
 * still under the limit; WD_EINVAL (answer 400) naming the bad line or
 * header, WD_ETOOBIG (answer 431) when the head passes a limit, or
 * WD_EUNSUPPORTED (answer 501) for a transfer coding other than chunked, an
 * HTTP version other than 1.0 and 1.1, CONNECT or an absolute-form target.
 * Only origin-form and asterisk-form (OPTIONS) targets are accepted. Lines
 * end in CRLF only. Empty lines before the request line are skipped and
 * counted in the length. An HTTP/1.1 request must carry exactly one Host
 * field, and a Host value with bytes outside uri-host and port is invalid.
 * ret_head is cleared on entry and filled on success only. */
WD_MUST_CHECK int http1_parse_request(const char *data, size_t len,
	const struct http1_limits *limits, struct http1_head *ret_head, struct wd_error *err);

/* Parses a response head, as http1_parse_request. request_method is the
 * method of the request it answers: a response to HEAD, a 1xx, 204 and 304
 * have no body. After a 1xx other than 101 the final response to the same
 * request follows; after a 101 the connection carries another protocol. A
 * response without Content-Length or Transfer-Encoding that may have a body
 * is HTTP1_BODY_UNTIL_CLOSE with keep_alive false. */
WD_MUST_CHECK int http1_parse_response(const char *data, size_t len,
	struct http1_slice request_method, const struct http1_limits *limits,
	struct http1_head *ret_head, struct wd_error *err);

/* Returns the first header named name (case-insensitive), or NULL. */
const struct http1_header *http1_head_find(const struct http1_head *head, const char *name);

/* Walks one message body. */
struct http1_body {
	enum http1_framing framing;
	uint64_t remaining;  /* bytes left in the body or the current chunk */
	int state;           /* chunked parser state, private */
	size_t line_len;     /* bytes of the current chunk-size or trailer line */
	bool done;
};

void http1_body_init(struct http1_body *body, const struct http1_head *head);

/* Consumes the bytes at data that belong to the message body (chunk sizes,
 * extensions and trailers included, to be forwarded unchanged) and writes
 * their count to ret_consumed; bytes after the end of the message are left
 * for the next one. Sets body->done at the end of the message. An
 * HTTP1_BODY_UNTIL_CLOSE body consumes everything and is never done.
 * WD_EINVAL for malformed chunked framing or an X-Forwarded-Client-Cert
 * trailer field (which the proxy could not remove), WD_ETOOBIG for a chunk
 * size over 2^62 or a chunk-size or trailer line over 4 KiB. After an error
 * the body only returns WD_EINVAL. */
WD_MUST_CHECK int http1_body_advance(struct http1_body *body, const uint8_t *data, size_t len,
	size_t *ret_consumed, struct wd_error *err);

/* Writes head again into out: the start line and every header as received,
 * except those whose name matches one of drop_names (case-insensitive),
 * then each of extra_lines ("Name: value", without CRLF), then the empty
 * line. Parts are written from the parsed slices, so whitespace is
 * normalized: one SP in the start line, "Name: value" in fields. Writes the
 * length to ret_len; WD_ETOOBIG when cap is too small, WD_EINVAL for an
 * extra line without ':' or with CR or LF. */
WD_MUST_CHECK int http1_head_write(const struct http1_head *head, const char *const *drop_names,
	size_t drop_count, const char *const *extra_lines, size_t extra_count, uint8_t *out,
	size_t cap, size_t *ret_len);

/* Envoy's X-Forwarded-Client-Cert element for a verified peer:
 * By=<own SPIFFE ID>;Hash=<hex SHA-256 of the peer's DER leaf>;URI=<peer
 * SPIFFE ID>. Writes a NUL-terminated value to out; WD_ETOOBIG when it
 * does not fit. SPIFFE IDs hold no characters that need quoting, so an
 * empty ID or one with a control, space, non-ASCII, ',', ';', '=', '"' or
 * backslash byte is WD_EINVAL. */
WD_MUST_CHECK int http1_xfcc_format(const char *own_id, const uint8_t peer_sha256[static 32],
	const char *peer_id, char *out, size_t size);

/* Writes a complete response with a JSON body {"code": code, "message":
 * message} and "Connection: close" when close is true, for answers the
 * proxy makes itself (400, 403, 431, 502, 503, 504). code and message are
 * escaped, and bytes that are not UTF-8 become U+FFFD. Writes the length
 * to ret_len; WD_ETOOBIG when cap is too small, WD_EINVAL for a status
 * outside 100-999. */
WD_MUST_CHECK int http1_error_response(int status, const char *code, const char *message,
	bool close, uint8_t *out, size_t cap, size_t *ret_len);

/* Returns the RFC 9110 reason phrase of status, or "" for a status this
 * module does not name. */
const char *http1_reason_phrase(int status);
