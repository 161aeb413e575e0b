/* Message framing and connection semantics from a parsed head: where the
 * body ends (RFC 9112 section 6.3), keep-alive (section 9.3), Expect and
 * Upgrade. Anything that two parsers could read differently is rejected. */
#include <string.h>

#include "proxy/http1_private.h"

/* Facts the framing step collects from the header fields. */
struct framing_fields {
	bool has_length;
	uint64_t length;
	size_t transfer_encoding_count;
	struct http1_slice transfer_encoding; /* the first field, for messages */
	size_t host_count;
	bool connection_close;
	bool connection_keep_alive;
	bool connection_upgrade;
	bool has_upgrade;
	bool expect_continue;
};

/* Content-Length = 1*DIGIT (RFC 9110 section 8.6). A list of identical
 * values, in one field or several, means that value. Differing values are
 * rejected because each side of a proxy could pick another one. */
static int content_length_add(struct framing_fields *fields, struct http1_slice value,
	struct wd_error *err)
{
	char shown[HTTP1_QUOTE_SIZE];
	struct http1_slice list = value;
	struct http1_slice element;

	while (http1_list_next(&list, &element)) {
		uint64_t length = 0;

		if (element.len == 0)
			return wd_error_set(err, WD_EINVAL, "invalid Content-Length %s: empty "
				"value", http1_quote(value.ptr, value.len, shown));
		for (size_t i = 0; i < element.len; i++) {
			char c = element.ptr[i];

			if (c < '0' || c > '9')
				return wd_error_set(err, WD_EINVAL, "invalid Content-Length %s: "
					"not a decimal number", http1_quote(value.ptr, value.len,
					shown));
			if (__builtin_mul_overflow(length, 10, &length) ||
			    __builtin_add_overflow(length, (uint64_t)(c - '0'), &length))
				return wd_error_set(err, WD_EINVAL, "invalid Content-Length %s: "
					"too large", http1_quote(value.ptr, value.len, shown));
		}
		if (fields->has_length && fields->length != length)
			return wd_error_set(err, WD_EINVAL, "conflicting Content-Length values "
				"%llu and %llu", (unsigned long long)fields->length,
				(unsigned long long)length);
		fields->has_length = true;
		fields->length = length;
	}
	return 0;
}

static void connection_add(struct framing_fields *fields, struct http1_slice value)
{
	struct http1_slice list = value;
	struct http1_slice option;

	while (http1_list_next(&list, &option)) {
		if (http1_slice_equal_nocase(option, "close"))
			fields->connection_close = true;
		else if (http1_slice_equal_nocase(option, "keep-alive"))
			fields->connection_keep_alive = true;
		else if (http1_slice_equal_nocase(option, "upgrade"))
			fields->connection_upgrade = true;
	}
}

/* Host must be present once in an HTTP/1.1 request and hold only
 * uri-host [ ":" port ] bytes (RFC 9112 section 3.2), so that policy
 * matching on Host reads the same value as the application. */
static int host_check(struct http1_slice value, struct wd_error *err)
{
	char shown[HTTP1_QUOTE_SIZE];

	for (size_t i = 0; i < value.len; i++) {
		if (!http1_char_is((unsigned char)value.ptr[i], HTTP1_CHAR_HOST))
			return wd_error_set(err, WD_EINVAL, "invalid Host %s",
				http1_quote(value.ptr, value.len, shown));
	}
	return 0;
}

static int fields_collect(const struct http1_head *head, bool is_request,
	struct framing_fields *fields, struct wd_error *err)
{
	for (size_t i = 0; i < head->header_count; i++) {
		const struct http1_header *header = &head->headers[i];

		switch (header->name.len) {
		case 4:
			if (is_request && http1_slice_equal_nocase(header->name, "host")) {
				fields->host_count++;
				WD_TRY(host_check(header->value, err));
			}
			break;
		case 6:
			if (http1_slice_equal_nocase(header->name, "expect") &&
			    http1_slice_equal_nocase(header->value, "100-continue"))
				fields->expect_continue = true;
			break;
		case 7:
			if (http1_slice_equal_nocase(header->name, "upgrade"))
				fields->has_upgrade = true;
			break;
		case 10:
			if (http1_slice_equal_nocase(header->name, "connection"))
				connection_add(fields, header->value);
			break;
		case 14:
			if (http1_slice_equal_nocase(header->name, "content-length"))
				WD_TRY(content_length_add(fields, header->value, err));
			break;
		case 17:
			if (http1_slice_equal_nocase(header->name, "transfer-encoding")) {
				if (fields->transfer_encoding_count == 0)
					fields->transfer_encoding = header->value;
				fields->transfer_encoding_count++;
			}
			break;
		default:
			break;
		}
	}
	return 0;
}

/* Accepts exactly one Transfer-Encoding field whose value is "chunked"
 * (RFC 9112 section 6.1). The proxy passes bodies through without decoding
 * them, so other codings before chunked are unsupported. A list that does
 * not end in chunked leaves the length undetermined and is invalid. */
static int transfer_encoding_check(const struct framing_fields *fields, struct wd_error *err)
{
	char shown[HTTP1_QUOTE_SIZE];
	struct http1_slice value = fields->transfer_encoding;
	struct http1_slice list = value;
	struct http1_slice coding = { 0 };
	size_t count = 0;
	bool chunked_seen = false;

	if (fields->transfer_encoding_count > 1)
		return wd_error_set(err, WD_EINVAL, "Transfer-Encoding appears %zu times",
			fields->transfer_encoding_count);

	while (http1_list_next(&list, &coding)) {
		bool chunked = http1_slice_equal_nocase(coding, "chunked");

		if (coding.len == 0 || chunked_seen)
			return wd_error_set(err, WD_EINVAL, "invalid Transfer-Encoding %s: "
				"chunked must be the last coding, once",
				http1_quote(value.ptr, value.len, shown));
		chunked_seen = chunked;
		count++;
	}
	if (!chunked_seen)
		return wd_error_set(err, WD_EINVAL, "invalid Transfer-Encoding %s: the last "
			"coding must be chunked", http1_quote(value.ptr, value.len, shown));
	if (count > 1)
		return wd_error_set(err, WD_EUNSUPPORTED, "Transfer-Encoding %s is not "
			"supported: only chunked is", http1_quote(value.ptr, value.len, shown));
	return 0;
}

/* Sets head->framing from the fields, before the exceptions of responses. */
static int body_framing(struct http1_head *head, const struct framing_fields *fields,
	struct wd_error *err)
{
	if (fields->transfer_encoding_count > 0) {
		/* RFC 9112 section 6.1: Transfer-Encoding in an HTTP/1.0 message
		 * means faulty framing, and with Content-Length it is a smuggling
		 * attempt (section 6.3, item 3). */
		if (head->version_minor == 0)
			return wd_error_set(err, WD_EINVAL, "Transfer-Encoding is not allowed "
				"in an HTTP/1.0 message");
		if (fields->has_length)
			return wd_error_set(err, WD_EINVAL, "message has both Transfer-Encoding "
				"and Content-Length");
		WD_TRY(transfer_encoding_check(fields, err));
		head->framing = HTTP1_BODY_CHUNKED;
		return 0;
	}
	if (fields->has_length) {
		head->framing = HTTP1_BODY_LENGTH;
		head->content_length = fields->length;
		return 0;
	}
	head->framing = HTTP1_BODY_NONE;
	return 0;
}

static bool keep_alive_of(const struct http1_head *head, const struct framing_fields *fields)
{
	if (fields->connection_close)
		return false;
	return head->version_minor == 1 || fields->connection_keep_alive;
}

static int request_resolve(struct http1_head *head, const struct framing_fields *fields,
	struct wd_error *err)
{
	if (fields->host_count > 1)
		return wd_error_set(err, WD_EINVAL, "Host appears %zu times", fields->host_count);
	if (fields->host_count == 0 && head->version_minor == 1)
		return wd_error_set(err, WD_EINVAL, "HTTP/1.1 request without Host");

	WD_TRY(body_framing(head, fields, err));
	head->keep_alive = keep_alive_of(head, fields);
	/* RFC 9110 section 10.1.1: an HTTP/1.0 request's expectation is
	 * ignored. */
	head->expect_continue = fields->expect_continue && head->version_minor == 1;
	head->upgrade = fields->has_upgrade && fields->connection_upgrade;
	return 0;
}

static int response_resolve(struct http1_head *head, struct http1_slice request_method,
	const struct framing_fields *fields, struct wd_error *err)
{
	bool head_request = request_method.len == 4 && memcmp(request_method.ptr, "HEAD", 4) == 0;

	/* Framing fields are checked even where they do not frame a body,
	 * so that a malformed one never reaches the client. */
	WD_TRY(body_framing(head, fields, err));
	head->keep_alive = keep_alive_of(head, fields);
	head->upgrade = head->status == 101;

	/* RFC 9112 section 6.3, items 1 and 2. */
	if (head_request || head->status < 200 || head->status == 204 || head->status == 304) {
		head->framing = HTTP1_BODY_NONE;
		head->content_length = 0;
		return 0;
	}
	if (head->framing == HTTP1_BODY_NONE) {
		head->framing = HTTP1_BODY_UNTIL_CLOSE;
		head->keep_alive = false;
	}
	return 0;
}

int http1_framing_resolve(struct http1_head *head, const struct http1_slice *request_method,
	struct wd_error *err)
{
	struct framing_fields fields = { 0 };

	WD_TRY(fields_collect(head, !request_method, &fields, err));
	if (!request_method)
		return request_resolve(head, &fields, err);
	return response_resolve(head, *request_method, &fields, err);
}
