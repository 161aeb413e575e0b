/* Character classes and small text helpers of the HTTP/1.1 parser. */
#include <stdio.h>
#include <string.h>

#include "proxy/http1_private.h"

#define IS_ALNUM(c)                                                            \
	(((c) >= '0' && (c) <= '9') || ((c) >= 'A' && (c) <= 'Z') ||            \
		((c) >= 'a' && (c) <= 'z'))
#define IS_TCHAR(c)                                                            \
	(IS_ALNUM(c) || (c) == '!' || (c) == '#' || (c) == '$' || (c) == '%' ||  \
		(c) == '&' || (c) == '\'' || (c) == '*' || (c) == '+' ||         \
		(c) == '-' || (c) == '.' || (c) == '^' || (c) == '_' ||          \
		(c) == '`' || (c) == '|' || (c) == '~')
/* obs-text (0x80-0xFF) stays allowed in values, as RFC 9110 section 5.5
 * requires recipients to accept it; DEL and the other controls do not. */
#define IS_VALUE(c) ((c) == '\t' || ((c) >= 0x20 && (c) != 0x7F))
#define IS_TARGET(c) ((c) > 0x20 && (c) < 0x7F && (c) != '#')
#define IS_HOST(c)                                                             \
	(IS_ALNUM(c) || (c) == '-' || (c) == '.' || (c) == '_' || (c) == '~' ||  \
		(c) == '%' || (c) == '!' || (c) == '$' || (c) == '&' ||          \
		(c) == '\'' || (c) == '(' || (c) == ')' || (c) == '*' ||         \
		(c) == '+' || (c) == ',' || (c) == ';' || (c) == '=' ||          \
		(c) == ':' || (c) == '[' || (c) == ']')

#define CLASS_OF(c)                                                            \
	(uint8_t)((IS_TCHAR(c) ? HTTP1_CHAR_TOKEN : 0) |                       \
		(IS_VALUE(c) ? HTTP1_CHAR_VALUE : 0) |                           \
		(IS_TARGET(c) ? HTTP1_CHAR_TARGET : 0) |                         \
		(IS_HOST(c) ? HTTP1_CHAR_HOST : 0))
#define ROW(b)                                                                 \
	CLASS_OF((b) + 0), CLASS_OF((b) + 1), CLASS_OF((b) + 2),                 \
		CLASS_OF((b) + 3), CLASS_OF((b) + 4), CLASS_OF((b) + 5),         \
		CLASS_OF((b) + 6), CLASS_OF((b) + 7), CLASS_OF((b) + 8),         \
		CLASS_OF((b) + 9), CLASS_OF((b) + 10), CLASS_OF((b) + 11),       \
		CLASS_OF((b) + 12), CLASS_OF((b) + 13), CLASS_OF((b) + 14),      \
		CLASS_OF((b) + 15)

const uint8_t http1_char_class[256] = {
	ROW(0x00), ROW(0x10), ROW(0x20), ROW(0x30), ROW(0x40), ROW(0x50), ROW(0x60), ROW(0x70),
	ROW(0x80), ROW(0x90), ROW(0xA0), ROW(0xB0), ROW(0xC0), ROW(0xD0), ROW(0xE0), ROW(0xF0),
};

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

bool http1_equal_nocase(const char *a, const char *b, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (ascii_lower(a[i]) != ascii_lower(b[i]))
			return false;
	}
	return true;
}

bool http1_slice_equal_nocase(struct http1_slice slice, const char *lower)
{
	size_t i;

	for (i = 0; i < slice.len; i++) {
		if (lower[i] == '\0' || ascii_lower(slice.ptr[i]) != lower[i])
			return false;
	}
	return lower[i] == '\0';
}

const char *http1_quote(const char *bytes, size_t len, char out[static HTTP1_QUOTE_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	size_t shown = len > 48 ? 48 : len;
	size_t o = 0;

	for (size_t i = 0; i < shown; i++) {
		unsigned char c = (unsigned char)bytes[i];

		if (c >= 0x20 && c < 0x7F && c != '\\') {
			out[o++] = (char)c;
			continue;
		}
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 0x0F];
	}
	if (shown < len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

bool http1_list_next(struct http1_slice *list, struct http1_slice *ret_element)
{
	const char *start = list->ptr;
	const char *end;
	const char *comma;

	if (!list->ptr)
		return false;
	end = list->ptr + list->len;
	comma = list->len > 0 ? memchr(start, ',', list->len) : NULL;
	if (comma) {
		/* A trailing comma leaves a non-NULL empty rest, which yields one
		 * more, empty, element. */
		list->ptr = comma + 1;
		list->len = (size_t)(end - list->ptr);
		end = comma;
	} else {
		list->ptr = NULL;
		list->len = 0;
	}

	while (start < end && http1_is_ows(*start))
		start++;
	while (end > start && http1_is_ows(end[-1]))
		end--;
	ret_element->ptr = start;
	ret_element->len = (size_t)(end - start);
	return true;
}
