/* Writing HTTP/1.1 text: a parsed head again with headers removed and
 * added, the X-Forwarded-Client-Cert value, and the proxy's own error
 * responses. */
#include <stdio.h>
#include <string.h>

#include "proxy/http1_private.h"

/* Appends to a fixed buffer; once something does not fit, only counts. A
 * NULL out counts the length without writing. */
struct writer {
	uint8_t *out;
	size_t cap;
	size_t len;
	bool overflow;
};

static void put(struct writer *w, const void *data, size_t len)
{
	if (w->overflow || len > w->cap - w->len) {
		w->overflow = true;
		return;
	}
	if (w->out && len > 0)
		memcpy(w->out + w->len, data, len);
	w->len += len;
}

static void put_str(struct writer *w, const char *text)
{
	put(w, text, strlen(text));
}

static void put_slice(struct writer *w, struct http1_slice slice)
{
	put(w, slice.ptr, slice.len);
}

static void put_uint(struct writer *w, unsigned long long value)
{
	char digits[24];
	int n = snprintf(digits, sizeof(digits), "%llu", value);

	put(w, digits, (size_t)n);
}

const char *http1_reason_phrase(int status)
{
	/* RFC 9110 section 15. */
	switch (status) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 417: return "Expectation Failed";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "";
	}
}

static bool name_dropped(struct http1_slice name, const char *const *drop_names,
	size_t drop_count)
{
	for (size_t i = 0; i < drop_count; i++) {
		if (strlen(drop_names[i]) == name.len &&
		    http1_equal_nocase(name.ptr, drop_names[i], name.len))
			return true;
	}
	return false;
}

/* An extra line must stay one header line: no CR, LF or NUL can sneak in
 * another header or end the head. */
static bool extra_line_valid(const char *line)
{
	return line[strcspn(line, "\r\n")] == '\0' && strchr(line, ':') != NULL;
}

int http1_head_write(const struct http1_head *head, const char *const *drop_names,
	size_t drop_count, const char *const *extra_lines, size_t extra_count, uint8_t *out,
	size_t cap, size_t *ret_len)
{
	struct writer w = { .out = out, .cap = cap };
	char version[] = "HTTP/1.1";

	*ret_len = 0;
	for (size_t i = 0; i < extra_count; i++) {
		if (!extra_line_valid(extra_lines[i]))
			return WD_EINVAL;
	}
	version[7] = head->version_minor == 0 ? '0' : '1';

	/* The start line and fields are written from the parsed slices, so the
	 * next hop receives one SP between parts and no whitespace around values
	 * whatever the client sent. */
	if (head->method.len > 0) {
		put_slice(&w, head->method);
		put(&w, " ", 1);
		put_slice(&w, head->target);
		put(&w, " ", 1);
		put_str(&w, version);
	} else {
		put_str(&w, version);
		put(&w, " ", 1);
		put_uint(&w, (unsigned long long)head->status);
		put(&w, " ", 1);
		put_slice(&w, head->reason);
	}
	put(&w, "\r\n", 2);

	for (size_t i = 0; i < head->header_count; i++) {
		const struct http1_header *header = &head->headers[i];

		if (name_dropped(header->name, drop_names, drop_count))
			continue;
		put_slice(&w, header->name);
		put(&w, ": ", 2);
		put_slice(&w, header->value);
		put(&w, "\r\n", 2);
	}
	for (size_t i = 0; i < extra_count; i++) {
		put_str(&w, extra_lines[i]);
		put(&w, "\r\n", 2);
	}
	put(&w, "\r\n", 2);

	if (w.overflow)
		return WD_ETOOBIG;
	*ret_len = w.len;
	return 0;
}

/* A SPIFFE ID in an XFCC element is written unquoted, so it must not hold a
 * byte that the element grammar gives a meaning (',' ';' '=' '"') or that
 * would break the header line. */
static bool xfcc_id_valid(const char *id)
{
	if (id[0] == '\0')
		return false;
	for (const char *p = id; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= 0x20 || c >= 0x7F || c == ',' || c == ';' || c == '=' || c == '"' ||
		    c == '\\')
			return false;
	}
	return true;
}

int http1_xfcc_format(const char *own_id, const uint8_t peer_sha256[static 32],
	const char *peer_id, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	char hash[65];
	int n;

	if (size > 0)
		out[0] = '\0';
	if (!xfcc_id_valid(own_id) || !xfcc_id_valid(peer_id))
		return WD_EINVAL;
	for (size_t i = 0; i < 32; i++) {
		hash[2 * i] = hex[peer_sha256[i] >> 4];
		hash[2 * i + 1] = hex[peer_sha256[i] & 0x0F];
	}
	hash[64] = '\0';

	n = snprintf(out, size, "By=%s;Hash=%s;URI=%s", own_id, hash, peer_id);
	if (n < 0 || (size_t)n >= size) {
		if (size > 0)
			out[0] = '\0';
		return WD_ETOOBIG;
	}
	return 0;
}

/* Returns the length of the valid UTF-8 sequence at p (at most len bytes),
 * or 0 when it is not one (RFC 3629 section 4: no overlong forms,
 * surrogates or values past U+10FFFF). */
static size_t utf8_sequence_len(const unsigned char *p, size_t len)
{
	size_t need;
	unsigned char lo = 0x80;
	unsigned char hi = 0xBF;

	if (p[0] >= 0xC2 && p[0] <= 0xDF) {
		need = 2;
	} else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
		need = 3;
		if (p[0] == 0xE0)
			lo = 0xA0;
		else if (p[0] == 0xED)
			hi = 0x9F;
	} else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
		need = 4;
		if (p[0] == 0xF0)
			lo = 0x90;
		else if (p[0] == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (len < need || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < need; i++) {
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	}
	return need;
}

/* Writes text as a JSON string (RFC 8259 section 7) with its quotes. Bytes
 * that are not valid UTF-8 become U+FFFD, so the body stays valid JSON
 * whatever bytes a message quotes. */
static void put_json_string(struct writer *w, const char *text)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)text;
	size_t len = strlen(text);
	size_t i = 0;

	put(w, "\"", 1);
	while (i < len) {
		unsigned char c = p[i];
		char escape[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 0x0F] };
		size_t n;

		if (c == '"' || c == '\\') {
			put(w, "\\", 1);
			put(w, &p[i], 1);
			i++;
		} else if (c < 0x20) {
			put(w, escape, sizeof(escape));
			i++;
		} else if (c < 0x80) {
			put(w, &p[i], 1);
			i++;
		} else if ((n = utf8_sequence_len(p + i, len - i)) > 0) {
			put(w, &p[i], n);
			i += n;
		} else {
			put_str(w, "\\ufffd");
			i++;
		}
	}
	put(w, "\"", 1);
}

static void put_error_body(struct writer *w, const char *code, const char *message)
{
	put_str(w, "{\"code\":");
	put_json_string(w, code);
	put_str(w, ",\"message\":");
	put_json_string(w, message);
	put_str(w, "}");
}

int http1_error_response(int status, const char *code, const char *message, bool close,
	uint8_t *out, size_t cap, size_t *ret_len)
{
	struct writer counter = { .out = NULL, .cap = SIZE_MAX };
	struct writer w = { .out = out, .cap = cap };

	*ret_len = 0;
	if (status < 100 || status > 999)
		return WD_EINVAL;
	put_error_body(&counter, code, message);

	put_str(&w, "HTTP/1.1 ");
	put_uint(&w, (unsigned long long)status);
	put(&w, " ", 1);
	put_str(&w, http1_reason_phrase(status));
	put_str(&w, "\r\nContent-Type: application/json\r\nContent-Length: ");
	put_uint(&w, (unsigned long long)counter.len);
	put(&w, "\r\n", 2);
	if (close)
		put_str(&w, "Connection: close\r\n");
	put(&w, "\r\n", 2);
	put_error_body(&w, code, message);

	if (w.overflow)
		return WD_ETOOBIG;
	*ret_len = w.len;
	return 0;
}
