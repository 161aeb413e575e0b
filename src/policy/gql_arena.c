/* GraphQL documents: the arena that stores one document's tree, node lists,
 * error records and Go-style quoting for parser messages. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "policy/gql.h"

struct gql_chunk {
	struct gql_chunk *next;
	size_t used;
	size_t cap;
	max_align_t data[];
};

#define CHUNK_BYTES (16u * 1024u)

void *gql_alloc(struct gql_arena *arena, size_t len)
{
	struct gql_chunk *chunk = arena->head;
	size_t need = (len + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	void *p;

	if (arena->failed || need < len)
		return NULL;

	if (!chunk || chunk->cap - chunk->used < need) {
		size_t cap = need > CHUNK_BYTES ? need : CHUNK_BYTES;

		if (cap > GQL_MAX_ARENA || arena->used + cap + sizeof(*chunk) > GQL_MAX_ARENA) {
			arena->failed = true;
			return NULL;
		}
		chunk = malloc(sizeof(*chunk) + cap);
		if (!chunk) {
			arena->failed = true;
			return NULL;
		}
		chunk->next = arena->head;
		chunk->used = 0;
		chunk->cap = cap;
		arena->head = chunk;
		arena->used += cap + sizeof(*chunk);
	}

	p = (char *)chunk->data + chunk->used;
	chunk->used += need;
	memset(p, 0, len);
	return p;
}

char *gql_strndup(struct gql_arena *arena, const char *s, size_t len)
{
	char *out;

	if (len == SIZE_MAX)
		return NULL;
	out = gql_alloc(arena, len + 1);
	if (!out)
		return NULL;
	if (len)
		memcpy(out, s, len);
	out[len] = '\0';
	return out;
}

void gql_arena_free(struct gql_arena *arena)
{
	struct gql_chunk *chunk;

	if (!arena)
		return;
	chunk = arena->head;
	while (chunk) {
		struct gql_chunk *next = chunk->next;

		free(chunk);
		chunk = next;
	}
	arena->head = NULL;
	arena->used = 0;
}

int gql_list_push(struct gql_arena *arena, struct gql_list *list, void *item)
{
	if (list->len == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 4;
		void **items;

		if (cap > SIZE_MAX / sizeof(void *))
			return WD_ENOMEM;
		items = gql_alloc(arena, cap * sizeof(void *));
		if (!items)
			return WD_ENOMEM;
		if (list->len)
			memcpy(items, list->items, list->len * sizeof(void *));
		list->items = items;
		list->cap = cap;
	}
	list->items[list->len++] = item;
	return 0;
}

void gql_error_set(struct gql_error *err, const struct gql_pos *pos, const char *fmt, ...)
{
	va_list ap;

	err->has_pos = pos && pos->line > 0;
	err->prelude = pos && pos->prelude;
	err->line = pos ? pos->line : 0;
	err->col = pos ? pos->col : 0;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

/* Decodes one UTF-8 sequence; returns its length, or 0 when invalid. */
static size_t utf8_decode(const unsigned char *s, size_t left, uint32_t *ret_cp)
{
	uint32_t cp;
	size_t n;

	if (s[0] < 0x80) {
		*ret_cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		cp = s[0] & 0x1f;
		n = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		cp = s[0] & 0x0f;
		n = 3;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		cp = s[0] & 0x07;
		n = 4;
	} else {
		return 0;
	}
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*ret_cp = cp;
	return n;
}

/* Go's unicode.IsPrint, approximated: control, format and separator code
 * points other than the ASCII space are escaped. */
static bool go_is_print(uint32_t cp)
{
	if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0xad)
		return false;
	if (cp == 0x2028 || cp == 0x2029 || cp == 0xfeff || (cp >= 0x200b && cp <= 0x200f) ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x206f))
		return false;
	if ((cp >= 0xfff9 && cp <= 0xfffb) || cp == 0xfffe || cp == 0xffff)
		return false;
	if (cp >= 0xe000 && cp <= 0xf8ff)
		return false;
	return true;
}

int gql_quote(struct wd_buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s);

	WD_TRY(wd_buf_append_byte(out, '"'));
	while (left) {
		uint32_t cp;
		size_t n = utf8_decode(p, left, &cp);

		if (n == 0) {
			WD_TRY(wd_buf_appendf(out, "\\x%02x", p[0]));
			p++;
			left--;
			continue;
		}
		switch (cp) {
		case '"': WD_TRY(wd_buf_append_str(out, "\\\"")); break;
		case '\\': WD_TRY(wd_buf_append_str(out, "\\\\")); break;
		case '\a': WD_TRY(wd_buf_append_str(out, "\\a")); break;
		case '\b': WD_TRY(wd_buf_append_str(out, "\\b")); break;
		case '\f': WD_TRY(wd_buf_append_str(out, "\\f")); break;
		case '\n': WD_TRY(wd_buf_append_str(out, "\\n")); break;
		case '\r': WD_TRY(wd_buf_append_str(out, "\\r")); break;
		case '\t': WD_TRY(wd_buf_append_str(out, "\\t")); break;
		case '\v': WD_TRY(wd_buf_append_str(out, "\\v")); break;
		default:
			if (go_is_print(cp))
				WD_TRY(wd_buf_append(out, p, n));
			else if (cp < 0x80)
				WD_TRY(wd_buf_appendf(out, "\\x%02x", cp));
			else if (cp < 0x10000)
				WD_TRY(wd_buf_appendf(out, "\\u%04x", cp));
			else
				WD_TRY(wd_buf_appendf(out, "\\U%08x", cp));
		}
		p += n;
		left -= n;
	}
	return wd_buf_append_byte(out, '"');
}
