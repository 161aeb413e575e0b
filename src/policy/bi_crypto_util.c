/* Base64 and PEM decoding for the crypto and JWT builtins, failing at the
 * same byte offsets as Go's encoding/base64 and encoding/pem, whose messages
 * OPA passes on to policies. */
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "policy/bi_crypto_util.h"

static int8_t b64_value(uint8_t c, bool url)
{
	if (c >= 'A' && c <= 'Z')
		return (int8_t)(c - 'A');
	if (c >= 'a' && c <= 'z')
		return (int8_t)(c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (int8_t)(c - '0' + 52);
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

static int corrupt(char *err, size_t err_cap, size_t offset)
{
	if (err && err_cap)
		snprintf(err, err_cap, "illegal base64 data at input byte %zu", offset);
	return WD_EINVAL;
}

static bool is_newline(uint8_t c)
{
	return c == '\n' || c == '\r';
}

/* Decodes one group of four characters starting at *pos, as Go's
 * decodeQuantum: returns 0 with *ret_done set after padding or the end of
 * input, or a corrupt-input error naming the offending offset. */
static int decode_quantum(const uint8_t *src, size_t len, size_t *pos, bool url,
			  struct wd_buf *out, bool *ret_done, char *err, size_t err_cap)
{
	uint8_t dbuf[4] = { 0 };
	size_t dlen = 4;
	size_t si = *pos;
	int rc = 0;

	for (size_t j = 0; j < 4; j++) {
		if (si == len) {
			/* A padded encoding needs whole quanta: a short one is
			 * reported at its first character. */
			if (j == 0) {
				*pos = si;
				*ret_done = true;
				return 0;
			}
			return corrupt(err, err_cap, si - j);
		}

		uint8_t in = src[si++];
		int8_t value = b64_value(in, url);

		if (value >= 0) {
			dbuf[j] = (uint8_t)value;
			continue;
		}
		if (is_newline(in)) {
			j--;
			continue;
		}
		if (in != '=')
			return corrupt(err, err_cap, si - 1);

		/* Padding: "=" may only follow two or three characters, and
		 * "==" after two. */
		if (j < 2)
			return corrupt(err, err_cap, si - 1);
		if (j == 2) {
			while (si < len && is_newline(src[si]))
				si++;
			if (si == len)
				return corrupt(err, err_cap, len);
			if (src[si] != '=')
				return corrupt(err, err_cap, si - 1);
			si++;
		}
		while (si < len && is_newline(src[si]))
			si++;
		if (si < len)
			rc = corrupt(err, err_cap, si);
		dlen = j;
		*ret_done = true;
		break;
	}

	uint32_t val = (uint32_t)dbuf[0] << 18 | (uint32_t)dbuf[1] << 12 |
		       (uint32_t)dbuf[2] << 6 | dbuf[3];
	uint8_t bytes[3] = { (uint8_t)(val >> 16), (uint8_t)(val >> 8), (uint8_t)val };

	if (wd_buf_append(out, bytes, dlen - 1) < 0) {
		if (err && err_cap)
			snprintf(err, err_cap, "decoded data is larger than %u bytes", BI_DECODE_MAX);
		return WD_EINVAL;
	}
	*pos = si;
	return rc;
}

int bi_b64_decode_go(const char *text, size_t len, bool url, struct wd_buf *out, char *err,
		     size_t err_cap)
{
	const uint8_t *src = (const uint8_t *)text;
	size_t pos = 0;

	while (pos < len) {
		bool done = false;

		WD_TRY(decode_quantum(src, len, &pos, url, out, &done, err, err_cap));
		if (done)
			break;
	}
	return 0;
}

int bi_b64url_decode_opa(const char *text, size_t len, struct wd_buf *out, char *err,
			 size_t err_cap)
{
	struct wd_buf padded;
	int rc;

	if (len > 0 && text[len - 1] == '=')
		return bi_b64_decode_go(text, len, true, out, err, err_cap);

	switch (len % 4) {
	case 0:
		return bi_b64_decode_go(text, len, true, out, err, err_cap);
	case 1:
		if (err && err_cap)
			snprintf(err, err_cap, "illegal base64url string: %.*s",
				 (int)(len > 200 ? 200 : len), text);
		return WD_EINVAL;
	default:
		break;
	}

	wd_buf_init(&padded, len + 2, BI_DECODE_MAX);
	rc = wd_buf_append(&padded, text, len);
	if (rc == 0)
		rc = wd_buf_append_str(&padded, len % 4 == 2 ? "==" : "=");
	if (rc == 0)
		rc = bi_b64_decode_go(wd_buf_str(&padded), wd_buf_len(&padded), true, out, err,
				      err_cap);
	wd_buf_free(&padded);
	return rc;
}

/* Go's pem getLine: the line without its CR LF and trailing blanks, and the
 * offset of the next line. */
static void get_line(const char *data, size_t len, size_t *ret_line_len, size_t *ret_next)
{
	const char *nl = memchr(data, '\n', len);
	size_t i = nl ? (size_t)(nl - data) : len;
	size_t j = nl ? i + 1 : len;

	if (nl && i > 0 && data[i - 1] == '\r')
		i--;
	while (i > 0 && (data[i - 1] == ' ' || data[i - 1] == '\t'))
		i--;
	*ret_line_len = i;
	*ret_next = j;
}

static const char *find(const char *hay, size_t hay_len, const char *needle)
{
	size_t n = strlen(needle);

	if (n > hay_len)
		return NULL;
	for (size_t i = 0; i + n <= hay_len; i++)
		if (memcmp(hay + i, needle, n) == 0)
			return hay + i;
	return NULL;
}

bool bi_has_prefix(const char *text, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(text, prefix, n) == 0;
}

/* Skips the header lines ("Key: value") after a BEGIN line; returns the
 * offset of the body and whether any header was seen. */
static size_t skip_headers(const char *data, size_t pos, size_t len, bool *ret_had_headers,
			   bool *ret_truncated)
{
	*ret_had_headers = false;
	*ret_truncated = false;
	for (;;) {
		size_t line_len, next;

		if (pos == len) {
			*ret_truncated = true;
			return pos;
		}
		get_line(data + pos, len - pos, &line_len, &next);
		if (!memchr(data + pos, ':', line_len))
			return pos;
		*ret_had_headers = true;
		pos += next;
	}
}

/* Decodes a PEM body: spaces and tabs removed, then standard base64. */
static int decode_body(const char *body, size_t len, struct wd_buf *der)
{
	struct wd_buf clean;
	int rc = 0;

	wd_buf_init(&clean, len, BI_DECODE_MAX);
	for (size_t i = 0; i < len && rc == 0; i++)
		if (body[i] != ' ' && body[i] != '\t')
			rc = wd_buf_append_byte(&clean, (uint8_t)body[i]);
	wd_buf_reset(der);
	if (rc == 0)
		rc = bi_b64_decode_go(wd_buf_str(&clean), wd_buf_len(&clean), false, der, NULL, 0);
	wd_buf_free(&clean);
	return rc;
}

int bi_pem_decode(const char *data, size_t len, struct bi_pem_block *block, size_t *ret_end)
{
	static const char begin[] = "\n-----BEGIN ";
	static const char end[] = "\n-----END ";
	size_t pos = 0;

	for (;;) {
		size_t line_len, next, type_len, body, end_index, trailer;
		bool had_headers, truncated;
		const char *hit;

		/* The BEGIN line starts the data or follows a newline. */
		if (bi_has_prefix(data + pos, len - pos, begin + 1)) {
			pos += sizeof(begin) - 2;
		} else {
			hit = find(data + pos, len - pos, begin);
			if (!hit)
				return 0;
			pos = (size_t)(hit - data) + sizeof(begin) - 1;
		}

		get_line(data + pos, len - pos, &line_len, &next);
		if (line_len < 5 || memcmp(data + pos + line_len - 5, "-----", 5) != 0) {
			pos += next;
			continue;
		}
		type_len = line_len - 5;
		if (type_len >= sizeof(block->type)) {
			pos += next;
			continue;
		}
		memcpy(block->type, data + pos, type_len);
		block->type[type_len] = '\0';
		pos += next;

		body = skip_headers(data, pos, len, &had_headers, &truncated);
		if (truncated)
			return 0;
		pos = body;

		if (!had_headers && bi_has_prefix(data + pos, len - pos, end + 1)) {
			end_index = pos;
			trailer = pos + sizeof(end) - 2;
		} else {
			hit = find(data + pos, len - pos, end);
			if (!hit)
				continue;
			end_index = (size_t)(hit - data);
			trailer = end_index + sizeof(end) - 1;
		}

		/* "-----END TYPE-----" and nothing but blanks after it. */
		if (len - trailer < type_len + 5 ||
		    memcmp(data + trailer, block->type, type_len) != 0 ||
		    memcmp(data + trailer + type_len, "-----", 5) != 0)
			continue;
		get_line(data + trailer + type_len + 5, len - trailer - type_len - 5, &line_len,
			 &next);
		if (line_len != 0)
			continue;

		int rc = decode_body(data + body, end_index - body, &block->der);

		if (rc == WD_EINVAL)
			continue;
		if (rc < 0)
			return rc;
		*ret_end = trailer + type_len + 5 + next;
		return 1;
	}
}

int bi_hex_append(struct wd_buf *out, const uint8_t *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		char pair[2] = { digits[data[i] >> 4], digits[data[i] & 15] };

		WD_TRY(wd_buf_append(out, pair, 2));
	}
	return 0;
}
