/* Base64 (RFC 4648 section 4), base64url without padding (section 5) and hex.
 * The alphabet mappings are computed with masks instead of table lookups or
 * branches on the data, so decoding a key does not leak it through cache or
 * branch timing. Only the final valid or invalid verdict branches. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/encoding.h"
#include "common/error.h"

/* Returns all ones when lo <= c <= hi and zero otherwise, for c, lo and hi
 * below 2^31. Out of range, c - lo or hi - c wraps and sets the top bit. */
static uint32_t ct_in_range(uint32_t c, uint32_t lo, uint32_t hi)
{
	return ((((c - lo) | (hi - c)) >> 31) & 1u) - 1u;
}

/* Maps a 6-bit value to its base64 character; c62 and c63 are the last two
 * characters of the alphabet ("+/" or "-_"). */
static char base64_char(uint32_t v, uint32_t c62, uint32_t c63)
{
	uint32_t c = (ct_in_range(v, 0, 25) & (v + 'A')) |
		(ct_in_range(v, 26, 51) & (v - 26 + 'a')) |
		(ct_in_range(v, 52, 61) & (v - 52 + '0')) |
		(ct_in_range(v, 62, 62) & c62) |
		(ct_in_range(v, 63, 63) & c63);

	return (char)c;
}

/* Maps a base64 character to its 6-bit value; sets *bad to all ones when c is
 * outside the alphabet. */
static uint32_t base64_value(uint8_t byte, uint32_t c62, uint32_t c63, uint32_t *bad)
{
	uint32_t c = byte;
	uint32_t upper = ct_in_range(c, 'A', 'Z');
	uint32_t lower = ct_in_range(c, 'a', 'z');
	uint32_t digit = ct_in_range(c, '0', '9');
	uint32_t is62 = ct_in_range(c, c62, c62);
	uint32_t is63 = ct_in_range(c, c63, c63);

	*bad |= ~(upper | lower | digit | is62 | is63);
	return (upper & (c - 'A')) | (lower & (c - 'a' + 26)) | (digit & (c - '0' + 52)) |
		(is62 & 62u) | (is63 & 63u);
}

static int base64_encode(const uint8_t *data, size_t len, bool url, char **ret_text)
{
	uint32_t c62 = url ? '-' : '+';
	uint32_t c63 = url ? '_' : '/';
	size_t groups, out_len, i, o = 0;
	char *out;

	*ret_text = NULL;
	if (!data && len)
		return WD_EINVAL;

	/* 4 characters per started group of 3 bytes, plus the terminator. */
	groups = len / 3 + (len % 3 != 0);
	if (__builtin_mul_overflow(groups, (size_t)4, &out_len) ||
	    __builtin_add_overflow(out_len, (size_t)1, &out_len))
		return WD_ETOOBIG;
	out = malloc(out_len);
	if (!out)
		return WD_ENOMEM;

	for (i = 0; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];

		out[o++] = base64_char(v >> 18, c62, c63);
		out[o++] = base64_char((v >> 12) & 63u, c62, c63);
		out[o++] = base64_char((v >> 6) & 63u, c62, c63);
		out[o++] = base64_char(v & 63u, c62, c63);
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)data[i] << 16;

		out[o++] = base64_char(v >> 18, c62, c63);
		out[o++] = base64_char((v >> 12) & 63u, c62, c63);
		if (!url) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8;

		out[o++] = base64_char(v >> 18, c62, c63);
		out[o++] = base64_char((v >> 12) & 63u, c62, c63);
		out[o++] = base64_char((v >> 6) & 63u, c62, c63);
		if (!url)
			out[o++] = '=';
	}
	out[o] = '\0';

	*ret_text = out;
	return 0;
}

int wd_base64_encode(const uint8_t *data, size_t len, char **ret_text)
{
	return base64_encode(data, len, false, ret_text);
}

int wd_base64url_encode(const uint8_t *data, size_t len, char **ret_text)
{
	return base64_encode(data, len, true, ret_text);
}

/* Decodes base64 strictly. Padded input must be a whole number of 4-character
 * groups with at most two '=' at the end; unpadded input must not contain
 * '='. The unused low bits of the last character must be zero (RFC 4648
 * section 3.5), so each byte string has exactly one accepted encoding. */
static int base64_decode(const char *text, size_t len, bool url, uint8_t **ret_data,
	size_t *ret_len)
{
	uint32_t c62 = url ? '-' : '+';
	uint32_t c63 = url ? '_' : '/';
	const uint8_t *in = (const uint8_t *)text;
	uint32_t bad = 0;
	size_t chars = len, rem, out_len, i, o = 0;
	uint8_t *out;

	*ret_data = NULL;
	*ret_len = 0;
	if (!text && len)
		return WD_EINVAL;

	if (!url) {
		if (len % 4 != 0)
			return WD_EINVAL;
		if (chars > 0 && in[chars - 1] == '=')
			chars--;
		if (chars > 0 && in[chars - 1] == '=')
			chars--;
	}
	rem = chars % 4;
	if (rem == 1)
		return WD_EINVAL;
	/* A last group of 2 characters carries 1 byte, and one of 3 carries 2. */
	out_len = chars / 4 * 3;
	if (rem > 0)
		out_len += rem - 1;

	out = malloc(out_len + 1);
	if (!out)
		return WD_ENOMEM;

	for (i = 0; i + 4 <= chars; i += 4) {
		uint32_t v = base64_value(in[i], c62, c63, &bad) << 18 |
			base64_value(in[i + 1], c62, c63, &bad) << 12 |
			base64_value(in[i + 2], c62, c63, &bad) << 6 |
			base64_value(in[i + 3], c62, c63, &bad);

		out[o++] = (uint8_t)(v >> 16);
		out[o++] = (uint8_t)(v >> 8);
		out[o++] = (uint8_t)v;
	}
	if (rem == 2) {
		uint32_t v = base64_value(in[i], c62, c63, &bad) << 18 |
			base64_value(in[i + 1], c62, c63, &bad) << 12;

		bad |= ct_in_range(v & 0xffffu, 1, 0xffff);
		out[o++] = (uint8_t)(v >> 16);
	} else if (rem == 3) {
		uint32_t v = base64_value(in[i], c62, c63, &bad) << 18 |
			base64_value(in[i + 1], c62, c63, &bad) << 12 |
			base64_value(in[i + 2], c62, c63, &bad) << 6;

		bad |= ct_in_range(v & 0xffu, 1, 0xff);
		out[o++] = (uint8_t)(v >> 16);
		out[o++] = (uint8_t)(v >> 8);
	}
	out[o] = '\0';

	if (bad) {
		/* The partial output may be key material. */
		OPENSSL_cleanse(out, out_len + 1);
		free(out);
		return WD_EINVAL;
	}
	*ret_data = out;
	*ret_len = out_len;
	return 0;
}

int wd_base64_decode(const char *text, size_t len, uint8_t **ret_data, size_t *ret_len)
{
	return base64_decode(text, len, false, ret_data, ret_len);
}

int wd_base64url_decode(const char *text, size_t len, uint8_t **ret_data, size_t *ret_len)
{
	return base64_decode(text, len, true, ret_data, ret_len);
}

int wd_hex_encode(const uint8_t *data, size_t len, char **ret_text)
{
	size_t out_len;
	char *out;

	*ret_text = NULL;
	if (!data && len)
		return WD_EINVAL;
	if (__builtin_mul_overflow(len, (size_t)2, &out_len) ||
	    __builtin_add_overflow(out_len, (size_t)1, &out_len))
		return WD_ETOOBIG;
	out = malloc(out_len);
	if (!out)
		return WD_ENOMEM;

	for (size_t i = 0; i < len; i++) {
		uint32_t hi = data[i] >> 4, lo = data[i] & 15u;

		out[2 * i] = (char)((ct_in_range(hi, 0, 9) & (hi + '0')) |
			(ct_in_range(hi, 10, 15) & (hi - 10 + 'a')));
		out[2 * i + 1] = (char)((ct_in_range(lo, 0, 9) & (lo + '0')) |
			(ct_in_range(lo, 10, 15) & (lo - 10 + 'a')));
	}
	out[2 * len] = '\0';

	*ret_text = out;
	return 0;
}

/* Maps a hex digit of either case to its value; sets *bad to all ones for any
 * other character. */
static uint32_t hex_value(uint8_t byte, uint32_t *bad)
{
	uint32_t c = byte;
	uint32_t digit = ct_in_range(c, '0', '9');
	uint32_t lower = ct_in_range(c, 'a', 'f');
	uint32_t upper = ct_in_range(c, 'A', 'F');

	*bad |= ~(digit | lower | upper);
	return (digit & (c - '0')) | (lower & (c - 'a' + 10)) | (upper & (c - 'A' + 10));
}

int wd_hex_decode(const char *text, size_t len, uint8_t **ret_data, size_t *ret_len)
{
	const uint8_t *in = (const uint8_t *)text;
	uint32_t bad = 0;
	size_t out_len = len / 2;
	uint8_t *out;

	*ret_data = NULL;
	*ret_len = 0;
	if ((!text && len) || len % 2 != 0)
		return WD_EINVAL;
	out = malloc(out_len + 1);
	if (!out)
		return WD_ENOMEM;

	for (size_t i = 0; i < out_len; i++)
		out[i] = (uint8_t)(hex_value(in[2 * i], &bad) << 4 | hex_value(in[2 * i + 1], &bad));
	out[out_len] = '\0';

	if (bad) {
		OPENSSL_cleanse(out, out_len + 1);
		free(out);
		return WD_EINVAL;
	}
	*ret_data = out;
	*ret_len = out_len;
	return 0;
}
