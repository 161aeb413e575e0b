/* HTTP/1.1 head parsing in place (RFC 9112 sections 2 to 5): the request
 * line or status line, then header field lines, each ended by CRLF. */
#include <string.h>

#include "proxy/http1_private.h"

#define DEFAULT_MAX_HEAD_BYTES (16u * 1024u)
#define DEFAULT_MAX_HEADERS 100u

/* Result of next_line when the data ends before the line does. */
#define LINE_INCOMPLETE 0
#define LINE_COMPLETE 1

struct head_parser {
	const char *data;
	size_t scan_len; /* bytes that may belong to the head: min(len, limit) */
	size_t pos;
	size_t max_headers;
};

/* Clears the fields of head that describe a message. The headers array is
 * left as it is because header_count = 0 makes it unused, and clearing 8 KiB
 * on every call would cost more than the parse of a small head. */
static void head_clear(struct http1_head *head)
{
	head->method = (struct http1_slice){ 0 };
	head->target = (struct http1_slice){ 0 };
	head->path = (struct http1_slice){ 0 };
	head->query = (struct http1_slice){ 0 };
	head->reason = (struct http1_slice){ 0 };
	head->status = 0;
	head->version_minor = 0;
	head->header_count = 0;
	head->framing = HTTP1_BODY_NONE;
	head->content_length = 0;
	head->keep_alive = false;
	head->expect_continue = false;
	head->upgrade = false;
	head->head_len = 0;
}

/* Reads the line at parser->pos. Every byte must be a field-value byte
 * (HTAB, SP, VCHAR or obs-text) up to CRLF, so NUL, bare CR, bare LF and
 * the other controls end the parse here. Returns LINE_COMPLETE with the
 * line (without CRLF) and moves past it, LINE_INCOMPLETE when the scanned
 * bytes end first, or WD_EINVAL. */
static int next_line(struct head_parser *parser, struct http1_slice *ret_line,
	struct wd_error *err)
{
	const char *line = parser->data + parser->pos;
	size_t avail = parser->scan_len - parser->pos;
	char shown[HTTP1_QUOTE_SIZE];
	size_t i = 0;

	while (i < avail && http1_char_is((unsigned char)line[i], HTTP1_CHAR_VALUE))
		i++;
	if (i == avail)
		return LINE_INCOMPLETE;
	if (line[i] == '\r') {
		if (i + 1 == avail)
			return LINE_INCOMPLETE;
		if (line[i + 1] == '\n') {
			ret_line->ptr = line;
			ret_line->len = i;
			parser->pos += i + 2;
			return LINE_COMPLETE;
		}
	}
	if (line[i] == '\n')
		return wd_error_set(err, WD_EINVAL, "line ends in LF without CR: %s",
			http1_quote(line, i, shown));
	return wd_error_set(err, WD_EINVAL, "invalid byte 0x%02x in line %s",
		(unsigned char)line[i], http1_quote(line, i, shown));
}

static size_t token_len(const char *p, size_t len)
{
	size_t i = 0;

	while (i < len && http1_char_is((unsigned char)p[i], HTTP1_CHAR_TOKEN))
		i++;
	return i;
}

/* Parses "HTTP/1.0" or "HTTP/1.1" (RFC 9112 section 2.3: case-sensitive).
 * WD_EUNSUPPORTED for another well-formed version, WD_EINVAL otherwise. */
static int version_parse(const char *p, size_t len, int *ret_minor, struct wd_error *err)
{
	char shown[HTTP1_QUOTE_SIZE];

	if (len == 8 && memcmp(p, "HTTP/1.", 7) == 0 && (p[7] == '0' || p[7] == '1')) {
		*ret_minor = p[7] - '0';
		return 0;
	}
	if (len == 8 && memcmp(p, "HTTP/", 5) == 0 && p[5] >= '0' && p[5] <= '9' &&
	    p[6] == '.' && p[7] >= '0' && p[7] <= '9')
		return wd_error_set(err, WD_EUNSUPPORTED, "HTTP version %s is not supported",
			http1_quote(p, len, shown));
	return wd_error_set(err, WD_EINVAL, "invalid HTTP version %s", http1_quote(p, len, shown));
}

static bool looks_absolute(struct http1_slice target)
{
	size_t i = 0;

	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then "://". */
	while (i < target.len) {
		char c = target.ptr[i];
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');

		if (!alpha && (i == 0 || !((c >= '0' && c <= '9') || c == '+' || c == '-' ||
					   c == '.')))
			break;
		i++;
	}
	return i > 0 && target.len - i >= 3 && memcmp(target.ptr + i, "://", 3) == 0;
}

/* Accepts origin-form ("/path?query") and, for OPTIONS, asterisk-form
 * (RFC 9112 section 3.2). The proxy serves one application, so the
 * absolute-form that clients send to forward proxies and CONNECT's
 * authority-form are rejected as unsupported. */
static int target_parse(struct http1_head *head, struct wd_error *err)
{
	struct http1_slice target = head->target;
	char shown[HTTP1_QUOTE_SIZE];
	const char *question;

	if (head->method.len == 7 && memcmp(head->method.ptr, "CONNECT", 7) == 0)
		return wd_error_set(err, WD_EUNSUPPORTED, "CONNECT requests (target %s) are not "
			"supported", http1_quote(target.ptr, target.len, shown));

	if (target.ptr[0] == '/') {
		question = memchr(target.ptr, '?', target.len);
		head->path.ptr = target.ptr;
		head->path.len = question ? (size_t)(question - target.ptr) : target.len;
		head->query.ptr = question ? question + 1 : target.ptr + target.len;
		head->query.len = target.len - head->path.len - (question ? 1 : 0);
		return 0;
	}
	if (target.len == 1 && target.ptr[0] == '*') {
		if (head->method.len != 7 || memcmp(head->method.ptr, "OPTIONS", 7) != 0)
			return wd_error_set(err, WD_EINVAL, "target * is only valid with OPTIONS, "
				"not %s", http1_quote(head->method.ptr, head->method.len, shown));
		head->path = target;
		head->query = (struct http1_slice){ target.ptr + 1, 0 };
		return 0;
	}
	if (looks_absolute(target))
		return wd_error_set(err, WD_EUNSUPPORTED, "absolute-form target %s is not "
			"supported: send the path only", http1_quote(target.ptr, target.len, shown));
	return wd_error_set(err, WD_EINVAL, "invalid request target %s: expected a path "
		"starting with /", http1_quote(target.ptr, target.len, shown));
}

/* request-line = method SP request-target SP HTTP-version (RFC 9112 section
 * 3), with exactly one SP between the parts. */
static int request_line_parse(struct http1_slice line, struct http1_head *head,
	struct wd_error *err)
{
	char shown[HTTP1_QUOTE_SIZE];
	const char *p = line.ptr;
	size_t rest = line.len;
	size_t n;

	n = token_len(p, rest);
	if (n == 0 || n == rest || p[n] != ' ')
		return wd_error_set(err, WD_EINVAL, "invalid request line %s: expected "
			"METHOD SP target SP version", http1_quote(line.ptr, line.len, shown));
	head->method = (struct http1_slice){ p, n };
	p += n + 1;
	rest -= n + 1;

	n = 0;
	while (n < rest && http1_char_is((unsigned char)p[n], HTTP1_CHAR_TARGET))
		n++;
	if (n == 0 || n == rest || p[n] != ' ')
		return wd_error_set(err, WD_EINVAL, "invalid request target in request line %s",
			http1_quote(line.ptr, line.len, shown));
	head->target = (struct http1_slice){ p, n };
	p += n + 1;
	rest -= n + 1;

	WD_TRY(version_parse(p, rest, &head->version_minor, err));
	return target_parse(head, err);
}

/* status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112
 * section 4). A missing SP before an empty reason is accepted, since the
 * response comes from the local application and some servers omit it. */
static int status_line_parse(struct http1_slice line, struct http1_head *head,
	struct wd_error *err)
{
	char shown[HTTP1_QUOTE_SIZE];
	const char *p = line.ptr;

	if (line.len < 12 || p[8] != ' ' || p[9] < '1' || p[9] > '9' || p[10] < '0' ||
	    p[10] > '9' || p[11] < '0' || p[11] > '9' || (line.len > 12 && p[12] != ' '))
		return wd_error_set(err, WD_EINVAL, "invalid status line %s",
			http1_quote(line.ptr, line.len, shown));
	WD_TRY(version_parse(p, 8, &head->version_minor, err));

	head->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (line.len > 12)
		head->reason = (struct http1_slice){ p + 13, line.len - 13 };
	else
		head->reason = (struct http1_slice){ p + 12, 0 };
	return 0;
}

/* field-line = field-name ":" OWS field-value OWS (RFC 9112 section 5). */
static int field_parse(struct http1_slice line, struct http1_header *ret_header,
	struct wd_error *err)
{
	char shown[HTTP1_QUOTE_SIZE];
	const char *value;
	const char *end = line.ptr + line.len;
	size_t n;

	/* RFC 9112 section 5.2: obs-fold is rejected, not unfolded. */
	if (http1_is_ows(line.ptr[0]))
		return wd_error_set(err, WD_EINVAL, "header line %s starts with whitespace "
			"(obsolete line folding)", http1_quote(line.ptr, line.len, shown));

	/* Whitespace between the name and the colon is rejected (RFC 9112
	 * section 5.1) because some servers drop it and others keep it. */
	n = token_len(line.ptr, line.len);
	if (n == 0 || n == line.len || line.ptr[n] != ':')
		return wd_error_set(err, WD_EINVAL, "invalid header name in line %s",
			http1_quote(line.ptr, line.len, shown));

	value = line.ptr + n + 1;
	while (value < end && http1_is_ows(*value))
		value++;
	while (end > value && http1_is_ows(end[-1]))
		end--;
	ret_header->name = (struct http1_slice){ line.ptr, n };
	ret_header->value = (struct http1_slice){ value, (size_t)(end - value) };
	return 0;
}

/* Parses a whole head into head. Returns its length, 0 while incomplete, or
 * a negative error. */
static int head_parse(const char *data, size_t len, const struct http1_limits *limits,
	const struct http1_slice *request_method, struct http1_head *head, struct wd_error *err)
{
	size_t max_bytes = limits && limits->max_head_bytes ? limits->max_head_bytes
							     : DEFAULT_MAX_HEAD_BYTES;
	struct head_parser parser = {
		.data = data,
		.scan_len = len < max_bytes ? len : max_bytes,
		.max_headers = limits && limits->max_headers ? limits->max_headers
							     : DEFAULT_MAX_HEADERS,
	};
	struct http1_slice line;
	int rc;

	if (parser.max_headers > HTTP1_HEADERS_CAP)
		parser.max_headers = HTTP1_HEADERS_CAP;
	/* The return value is an int. */
	if (max_bytes > INT32_MAX)
		max_bytes = INT32_MAX;
	if (parser.scan_len > max_bytes)
		parser.scan_len = max_bytes;

	/* RFC 9112 section 2.2: a server ignores empty lines before a request
	 * line, which some clients send after a body. */
	if (!request_method) {
		while (parser.pos + 1 < parser.scan_len && data[parser.pos] == '\r' &&
		       data[parser.pos + 1] == '\n')
			parser.pos += 2;
	}

	rc = next_line(&parser, &line, err);
	if (rc == LINE_INCOMPLETE)
		goto incomplete;
	if (rc < 0)
		return rc;
	if (request_method)
		WD_TRY(status_line_parse(line, head, err));
	else
		WD_TRY(request_line_parse(line, head, err));

	for (;;) {
		rc = next_line(&parser, &line, err);
		if (rc == LINE_INCOMPLETE)
			goto incomplete;
		if (rc < 0)
			return rc;
		if (line.len == 0)
			break;
		if (head->header_count == parser.max_headers)
			return wd_error_set(err, WD_ETOOBIG, "more than %zu header fields",
				parser.max_headers);
		WD_TRY(field_parse(line, &head->headers[head->header_count], err));
		head->header_count++;
	}

	head->head_len = parser.pos;
	WD_TRY(http1_framing_resolve(head, request_method, err));
	return (int)parser.pos;

incomplete:
	if (len >= max_bytes)
		return wd_error_set(err, WD_ETOOBIG, "head is larger than %zu bytes", max_bytes);
	return 0;
}

int http1_parse_request(const char *data, size_t len, const struct http1_limits *limits,
	struct http1_head *ret_head, struct wd_error *err)
{
	int rc;

	head_clear(ret_head);
	rc = head_parse(data, len, limits, NULL, ret_head, err);
	if (rc <= 0)
		head_clear(ret_head);
	return rc;
}

int http1_parse_response(const char *data, size_t len, struct http1_slice request_method,
	const struct http1_limits *limits, struct http1_head *ret_head, struct wd_error *err)
{
	int rc;

	head_clear(ret_head);
	rc = head_parse(data, len, limits, &request_method, ret_head, err);
	if (rc <= 0)
		head_clear(ret_head);
	return rc;
}

const struct http1_header *http1_head_find(const struct http1_head *head, const char *name)
{
	size_t name_len = strlen(name);

	for (size_t i = 0; i < head->header_count; i++) {
		const struct http1_header *header = &head->headers[i];

		if (header->name.len == name_len &&
		    http1_equal_nocase(header->name.ptr, name, name_len))
			return header;
	}
	return NULL;
}
