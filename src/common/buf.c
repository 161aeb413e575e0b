/* Growable byte buffer with a size ceiling fixed at creation. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/buf.h"
#include "common/error.h"

/* First allocation when the caller gave no size hint. */
#define BUF_DEFAULT_INITIAL 64u

void wd_buf_init(struct wd_buf *buf, size_t initial, size_t max)
{
	/* The NUL terminator needs one byte beyond the ceiling. */
	if (max == SIZE_MAX)
		max = SIZE_MAX - 1;
	*buf = (struct wd_buf){
		.initial = initial < max ? initial : max,
		.max = max,
	};
}

void wd_buf_init_secret(struct wd_buf *buf, size_t initial, size_t max)
{
	wd_buf_init(buf, initial, max);
	buf->secret = true;
}

/* Moves the contents to a block of cap bytes. A secret buffer copies by hand
 * and wipes the old block, because realloc may leave a copy behind. */
static int buf_move_to(struct wd_buf *buf, size_t cap)
{
	uint8_t *data;

	if (!buf->secret) {
		data = realloc(buf->data, cap);
		if (!data)
			return WD_ENOMEM;
		buf->data = data;
		buf->cap = cap;
		return 0;
	}

	data = malloc(cap);
	if (!data)
		return WD_ENOMEM;
	if (buf->data) {
		memcpy(data, buf->data, buf->len + 1);
		OPENSSL_cleanse(buf->data, buf->cap);
		free(buf->data);
	}
	buf->data = data;
	buf->cap = cap;
	return 0;
}

/* Makes room for `need` content bytes plus the terminator. */
static int buf_reserve(struct wd_buf *buf, size_t need)
{
	size_t cap;

	if (need > buf->max)
		return WD_ETOOBIG;
	if (buf->data && need < buf->cap)
		return 0;

	cap = buf->cap ? buf->cap : (buf->initial ? buf->initial : BUF_DEFAULT_INITIAL) + 1;
	while (cap <= need) {
		if (cap > SIZE_MAX / 2) {
			cap = need + 1;
			break;
		}
		cap *= 2;
	}
	/* max <= SIZE_MAX - 1, so max + 1 cannot wrap. */
	if (cap > buf->max + 1)
		cap = buf->max + 1;

	return buf_move_to(buf, cap);
}

int wd_buf_append(struct wd_buf *buf, const void *data, size_t len)
{
	size_t need;
	int rc;

	if (len == 0)
		return 0;
	if (!data)
		return WD_EINVAL;
	if (__builtin_add_overflow(buf->len, len, &need))
		return WD_ETOOBIG;

	rc = buf_reserve(buf, need);
	if (rc < 0)
		return rc;
	memcpy(buf->data + buf->len, data, len);
	buf->len = need;
	buf->data[buf->len] = '\0';
	return 0;
}

int wd_buf_append_str(struct wd_buf *buf, const char *text)
{
	if (!text)
		return WD_EINVAL;
	return wd_buf_append(buf, text, strlen(text));
}

int wd_buf_append_byte(struct wd_buf *buf, uint8_t byte)
{
	return wd_buf_append(buf, &byte, 1);
}

int wd_buf_appendf(struct wd_buf *buf, const char *fmt, ...)
{
	va_list ap;
	int n;
	size_t need;
	int rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return WD_EINVAL;
	if (__builtin_add_overflow(buf->len, (size_t)n, &need))
		return WD_ETOOBIG;

	rc = buf_reserve(buf, need);
	if (rc < 0)
		return rc;
	va_start(ap, fmt);
	n = vsnprintf((char *)buf->data + buf->len, buf->cap - buf->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		buf->data[buf->len] = '\0';
		return WD_EINVAL;
	}
	buf->len = need;
	return 0;
}

void wd_buf_reset(struct wd_buf *buf)
{
	wd_buf_truncate(buf, 0);
}

void wd_buf_truncate(struct wd_buf *buf, size_t len)
{
	if (!buf->data || len >= buf->len)
		return;
	if (buf->secret)
		OPENSSL_cleanse(buf->data + len, buf->len - len);
	buf->len = len;
	buf->data[len] = '\0';
}

void *wd_buf_take(struct wd_buf *buf, size_t *ret_len)
{
	uint8_t *data;

	if (ret_len)
		*ret_len = 0;
	if (!buf->data) {
		/* Nothing appended yet: hand over an empty string, not NULL. */
		data = calloc(1, 1);
		if (!data)
			return NULL;
		return data;
	}

	data = buf->data;
	if (ret_len)
		*ret_len = buf->len;
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
	return data;
}

void wd_buf_free(struct wd_buf *buf)
{
	if (!buf)
		return;
	if (buf->secret && buf->data)
		OPENSSL_cleanse(buf->data, buf->cap);
	free(buf->data);
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
}

void wd_buf_free_secret(struct wd_buf *buf)
{
	if (!buf)
		return;
	buf->secret = true;
	wd_buf_free(buf);
}
