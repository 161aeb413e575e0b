/* UTF-8 validation (Unicode 15, section 3.9, table 3-7). */
#include "supply/utf8.h"

size_t supply_utf8_sequence(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0];
	unsigned char low = 0x80, high = 0xbf;
	size_t len;

	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			low = 0xa0;  /* overlong below U+0800 */
		else if (c == 0xed)
			high = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			low = 0x90;  /* overlong below U+10000 */
		else if (c == 0xf4)
			high = 0x8f; /* past U+10FFFF */
	} else {
		return 0;
	}
	if ((size_t)(end - p) < len || p[1] < low || p[1] > high)
		return 0;
	for (size_t i = 2; i < len; i++) {
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	}
	return len;
}

bool supply_utf8_valid(const char *text, size_t len)
{
	const unsigned char *p = (const unsigned char *)text;
	const unsigned char *end = p + len;

	while (p < end) {
		size_t n;

		if (*p == 0)
			return false;
		if (*p < 0x80) {
			p++;
			continue;
		}
		n = supply_utf8_sequence(p, end);
		if (n == 0)
			return false;
		p += n;
	}
	return true;
}
