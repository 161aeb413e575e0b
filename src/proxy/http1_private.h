/* Internals shared by the HTTP/1.1 framing files: character classes (RFC
 * 9110 section 5), ASCII case-insensitive comparison, printable quoting of
 * hostile bytes for error messages, and the framing step of head parsing. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy/http1.h"

enum {
	HTTP1_CHAR_TOKEN = 1 << 0,  /* tchar (RFC 9110 section 5.6.2) */
	HTTP1_CHAR_VALUE = 1 << 1,  /* field-vchar, SP or HTAB (RFC 9110 section 5.5) */
	HTTP1_CHAR_TARGET = 1 << 2, /* VCHAR other than '#': a request-target byte */
	HTTP1_CHAR_HOST = 1 << 3,   /* reg-name, IP literal and port bytes (RFC 3986) */
};

extern const uint8_t http1_char_class[256];

static inline bool http1_char_is(unsigned char c, uint8_t class_mask)
{
	return (http1_char_class[c] & class_mask) != 0;
}

static inline bool http1_is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* Returns true when the len bytes at a and b are equal, ignoring ASCII
 * case. */
bool http1_equal_nocase(const char *a, const char *b, size_t len);

/* Returns true when slice equals the lowercase ASCII text lower, ignoring
 * the case of slice (field names and tokens are case-insensitive). */
bool http1_slice_equal_nocase(struct http1_slice slice, const char *lower);

/* Room for a quoted value: 48 input bytes, each at most 4 output bytes
 * ("\xNN"), "..." and the NUL. */
#define HTTP1_QUOTE_SIZE 200

/* Writes bytes as printable ASCII for an error message: bytes outside
 * 0x20..0x7E and the backslash become "\xNN", and input past 48 bytes is cut
 * and marked with "...". Returns out. */
const char *http1_quote(const char *bytes, size_t len, char out[static HTTP1_QUOTE_SIZE]);

/* Splits the next element off a comma-separated list (RFC 9110 section
 * 5.6.1). Start with *list as the whole field value; each call moves it past
 * the element's comma, and a NULL ptr marks the end. Returns false at the
 * end. The element has no surrounding whitespace and may be empty: an empty
 * value, ", a" and "a," all contain an empty element. */
bool http1_list_next(struct http1_slice *list, struct http1_slice *ret_element);

/* Sets head's framing, content_length, keep_alive, expect_continue and
 * upgrade from its headers and start line (RFC 9112 section 6.3).
 * request_method is NULL for a request, else the method of the request
 * that the response replies to. Returns WD_EINVAL or WD_EUNSUPPORTED as
 * the parse functions do. */
WD_MUST_CHECK int http1_framing_resolve(struct http1_head *head,
	const struct http1_slice *request_method, struct wd_error *err);
