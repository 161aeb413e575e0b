/* Values as text: compact and indented JSON in OPA's order with Go's
 * escaping, and Rego literal syntax for sprintf's %v and messages. */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "policy/value.h"
#include "policy/value_impl.h"

static const char hex_digits[] = "0123456789abcdef";

/* ---- JSON strings ---- */

/* Escapes as Go's encoding/json does with HTML escaping on (OPA marshals
 * with it): <, > and & as \u003c..., U+2028 and U+2029 escaped, invalid
 * UTF-8 replaced by U+FFFD. */
static int write_json_string(const char *data, size_t len, struct wd_buf *out)
{
	const unsigned char *s = (const unsigned char *)data;
	size_t start = 0, i = 0;
	int rc = 0;

	WD_GUARD(wd_buf_append_byte(out, '"'));
	while (i < len) {
		unsigned char c = s[i];
		char esc[8];
		size_t esc_len = 0, size = 1;

		if (c < 0x80) {
			if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&') {
				i++;
				continue;
			}
			esc[0] = '\\';
			switch (c) {
			case '"': esc[1] = '"'; esc_len = 2; break;
			case '\\': esc[1] = '\\'; esc_len = 2; break;
			case '\n': esc[1] = 'n'; esc_len = 2; break;
			case '\r': esc[1] = 'r'; esc_len = 2; break;
			case '\t': esc[1] = 't'; esc_len = 2; break;
			case '\b': esc[1] = 'b'; esc_len = 2; break;
			case '\f': esc[1] = 'f'; esc_len = 2; break;
			default:
				memcpy(esc, "\\u00", 4);
				esc[4] = hex_digits[c >> 4];
				esc[5] = hex_digits[c & 0xf];
				esc_len = 6;
				break;
			}
		} else {
			uint32_t cp = rv_utf8_decode(s + i, len - i, &size);

			if (cp == 0xfffd && size == 1) {
				memcpy(esc, "\\ufffd", 6);
				esc_len = 6;
			} else if (cp == 0x2028 || cp == 0x2029) {
				memcpy(esc, cp == 0x2028 ? "\\u2028" : "\\u2029", 6);
				esc_len = 6;
			} else {
				i += size;
				continue;
			}
		}
		WD_GUARD(wd_buf_append(out, s + start, i - start));
		WD_GUARD(wd_buf_append(out, esc, esc_len));
		i += size;
		start = i;
	}
	WD_GUARD(wd_buf_append(out, s + start, len - start));
	WD_GUARD(wd_buf_append_byte(out, '"'));
out:
	return rc;
}

/* ---- objects with keys as text ---- */

struct text_entry {
	char *key;
	size_t key_len;
	size_t rank;            /* position in rv_compare order */
	struct rv *value;
};

static int text_entry_cmp(const void *pa, const void *pb)
{
	const struct text_entry *a = pa, *b = pb;
	size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
	int c = n ? memcmp(a->key, b->key, n) : 0;

	if (c)
		return c;
	if (a->key_len != b->key_len)
		return a->key_len < b->key_len ? -1 : 1;
	return a->rank < b->rank ? -1 : a->rank > b->rank;
}

static bool all_keys_strings(const struct rv *obj)
{
	for (size_t i = 0; i < rv_len(obj); i++) {
		struct rv *key;

		rv_map_at(obj, i, &key, NULL);
		if (key->kind != RV_STRING)
			return false;
	}
	return true;
}

static void text_entries_free(struct text_entry *e, size_t n)
{
	if (!e)
		return;
	for (size_t i = 0; i < n; i++)
		free(e[i].key);
	free(e);
}

/* OPA turns each key into a string (non-strings as their JSON text), then
 * Go's encoder sorts those strings. Where two keys give the same text, the
 * one later in OPA's order wins. */
static int text_entries(const struct rv *obj, struct text_entry **ret, size_t *ret_n)
{
	size_t n = rv_len(obj), kept = 0;
	struct text_entry *e = calloc(n ? n : 1, sizeof(*e));
	int rc = 0;

	*ret = NULL;
	*ret_n = 0;
	if (!e)
		return WD_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct rv *key, *value;
		struct wd_buf buf;

		rv_map_sorted_at(obj, i, &key, &value);
		wd_buf_init(&buf, 32, SIZE_MAX / 2);
		if (key->kind == RV_STRING)
			rc = wd_buf_append(&buf, key->u.str.data, key->u.str.len);
		else
			rc = rv_write_json(key, &buf);
		if (rc == 0 && wd_buf_len(&buf) == 0)
			rc = wd_buf_append_byte(&buf, 0) < 0 ? WD_ENOMEM : 0;
		if (rc < 0) {
			wd_buf_free(&buf);
			text_entries_free(e, i);
			return rc;
		}
		e[i].key_len = key->kind == RV_STRING ? key->u.str.len : wd_buf_len(&buf);
		e[i].key = wd_buf_take(&buf, NULL);
		wd_buf_free(&buf);
		if (!e[i].key) {
			text_entries_free(e, i);
			return WD_ENOMEM;
		}
		e[i].rank = i;
		e[i].value = value;
	}
	qsort(e, n, sizeof(*e), text_entry_cmp);

	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n && e[i].key_len == e[i + 1].key_len &&
		    memcmp(e[i].key, e[i + 1].key, e[i].key_len) == 0) {
			free(e[i].key);
			continue;
		}
		e[kept++] = e[i];
	}
	*ret = e;
	*ret_n = kept;
	return rc;
}

/* ---- JSON ---- */

static int write_indent(struct wd_buf *out, int indent, size_t level)
{
	WD_TRY(wd_buf_append_byte(out, '\n'));
	for (size_t i = 0; i < level * (size_t)indent; i++)
		WD_TRY(wd_buf_append_byte(out, ' '));
	return 0;
}

static int write_json(const struct rv *v, struct wd_buf *out, int indent, size_t level);

static int write_json_object(const struct rv *v, struct wd_buf *out, int indent, size_t level)
{
	const char *colon = indent ? ": " : ":";
	struct text_entry *e = NULL;
	size_t n = rv_len(v);
	int rc = 0;

	if (n == 0)
		return wd_buf_append(out, "{}", 2);
	WD_GUARD(wd_buf_append_byte(out, '{'));

	if (all_keys_strings(v)) {
		for (size_t i = 0; i < n; i++) {
			struct rv *key, *value;

			rv_map_sorted_at(v, i, &key, &value);
			if (i)
				WD_GUARD(wd_buf_append_byte(out, ','));
			if (indent)
				WD_GUARD(write_indent(out, indent, level + 1));
			WD_GUARD(write_json_string(key->u.str.data, key->u.str.len, out));
			WD_GUARD(wd_buf_append_str(out, colon));
			WD_GUARD(write_json(value, out, indent, level + 1));
		}
	} else {
		WD_GUARD(text_entries(v, &e, &n));
		for (size_t i = 0; i < n; i++) {
			if (i)
				WD_GUARD(wd_buf_append_byte(out, ','));
			if (indent)
				WD_GUARD(write_indent(out, indent, level + 1));
			WD_GUARD(write_json_string(e[i].key, e[i].key_len, out));
			WD_GUARD(wd_buf_append_str(out, colon));
			WD_GUARD(write_json(e[i].value, out, indent, level + 1));
		}
	}
	if (indent)
		WD_GUARD(write_indent(out, indent, level));
	WD_GUARD(wd_buf_append_byte(out, '}'));
out:
	text_entries_free(e, n);
	return rc;
}

static int write_json(const struct rv *v, struct wd_buf *out, int indent, size_t level)
{
	size_t n;

	if (!v)
		return WD_EINVAL;

	switch (v->kind) {
	case RV_NULL:
		return wd_buf_append(out, "null", 4);
	case RV_BOOL:
		return v->u.boolean ? wd_buf_append(out, "true", 4) : wd_buf_append(out, "false", 5);
	case RV_NUMBER:
		return rv_number_format(v, out);
	case RV_STRING:
		return write_json_string(v->u.str.data, v->u.str.len, out);
	case RV_OBJECT:
		return write_json_object(v, out, indent, level);
	default:
		break;
	}

	/* Arrays, and sets as arrays of their sorted members. */
	n = rv_len(v);
	if (n == 0)
		return wd_buf_append(out, "[]", 2);
	WD_TRY(wd_buf_append_byte(out, '['));
	for (size_t i = 0; i < n; i++) {
		struct rv *item;

		if (v->kind == RV_ARRAY)
			item = v->u.arr.items[i];
		else
			rv_map_sorted_at(v, i, &item, NULL);
		if (i)
			WD_TRY(wd_buf_append_byte(out, ','));
		if (indent)
			WD_TRY(write_indent(out, indent, level + 1));
		WD_TRY(write_json(item, out, indent, level + 1));
	}
	if (indent)
		WD_TRY(write_indent(out, indent, level));
	return wd_buf_append_byte(out, ']');
}

int rv_write_json(const struct rv *v, struct wd_buf *out)
{
	return write_json(v, out, 0, 0);
}

int rv_write_json_pretty(const struct rv *v, struct wd_buf *out)
{
	return write_json(v, out, 2, 0);
}

/* ---- Rego ---- */

/* Go's unicode.IsPrint, close enough for the code points that occur:
 * controls, format characters, separators other than space, private use
 * and non-characters are not printable. */
static bool rune_printable(uint32_t c)
{
	if (c < 0x20 || (c >= 0x7f && c < 0xa0) || c == 0xad)
		return false;
	if ((c >= 0x200b && c <= 0x200f) || (c >= 0x2028 && c <= 0x202e) ||
	    (c >= 0x2060 && c <= 0x206f) || c == 0xfeff || (c >= 0xfff9 && c <= 0xfffb))
		return false;
	if ((c >= 0xe000 && c <= 0xf8ff) || c >= 0xf0000 || (c & 0xfffe) == 0xfffe)
		return false;
	return true;
}

/* Quotes as Go's strconv.Quote, which OPA's String() uses for strings. */
static int write_rego_string(const char *data, size_t len, struct wd_buf *out)
{
	const unsigned char *s = (const unsigned char *)data;
	size_t i = 0;

	WD_TRY(wd_buf_append_byte(out, '"'));
	while (i < len) {
		unsigned char c = s[i];
		size_t size = 1;
		uint32_t cp;

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			size_t start = i;

			while (i < len && s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\')
				i++;
			WD_TRY(wd_buf_append(out, s + start, i - start));
			continue;
		}
		switch (c) {
		case '"': WD_TRY(wd_buf_append(out, "\\\"", 2)); i++; continue;
		case '\\': WD_TRY(wd_buf_append(out, "\\\\", 2)); i++; continue;
		case '\a': WD_TRY(wd_buf_append(out, "\\a", 2)); i++; continue;
		case '\b': WD_TRY(wd_buf_append(out, "\\b", 2)); i++; continue;
		case '\f': WD_TRY(wd_buf_append(out, "\\f", 2)); i++; continue;
		case '\n': WD_TRY(wd_buf_append(out, "\\n", 2)); i++; continue;
		case '\r': WD_TRY(wd_buf_append(out, "\\r", 2)); i++; continue;
		case '\t': WD_TRY(wd_buf_append(out, "\\t", 2)); i++; continue;
		case '\v': WD_TRY(wd_buf_append(out, "\\v", 2)); i++; continue;
		default: break;
		}
		if (c < 0x80) {
			WD_TRY(wd_buf_appendf(out, "\\x%02x", c));
			i++;
			continue;
		}
		cp = rv_utf8_decode(s + i, len - i, &size);
		if (cp == 0xfffd && size == 1) {
			WD_TRY(wd_buf_appendf(out, "\\x%02x", c));
		} else if (rune_printable(cp)) {
			WD_TRY(wd_buf_append(out, s + i, size));
		} else if (cp < 0x10000) {
			WD_TRY(wd_buf_appendf(out, "\\u%04x", cp));
		} else {
			WD_TRY(wd_buf_appendf(out, "\\U%08x", cp));
		}
		i += size;
	}
	return wd_buf_append_byte(out, '"');
}

int rv_write_rego(const struct rv *v, struct wd_buf *out)
{
	size_t n;

	if (!v)
		return WD_EINVAL;

	switch (v->kind) {
	case RV_NULL:
		return wd_buf_append(out, "null", 4);
	case RV_BOOL:
		return v->u.boolean ? wd_buf_append(out, "true", 4) : wd_buf_append(out, "false", 5);
	case RV_NUMBER:
		return rv_number_format(v, out);
	case RV_STRING:
		return write_rego_string(v->u.str.data, v->u.str.len, out);
	case RV_ARRAY:
		WD_TRY(wd_buf_append_byte(out, '['));
		for (size_t i = 0; i < v->u.arr.len; i++) {
			if (i)
				WD_TRY(wd_buf_append(out, ", ", 2));
			WD_TRY(rv_write_rego(v->u.arr.items[i], out));
		}
		return wd_buf_append_byte(out, ']');
	default:
		break;
	}

	n = rv_len(v);
	if (n == 0)
		return wd_buf_append_str(out, v->kind == RV_SET ? "set()" : "{}");
	WD_TRY(wd_buf_append_byte(out, '{'));
	for (size_t i = 0; i < n; i++) {
		struct rv *key, *value;

		rv_map_sorted_at(v, i, &key, &value);
		if (i)
			WD_TRY(wd_buf_append(out, ", ", 2));
		WD_TRY(rv_write_rego(key, out));
		if (v->kind == RV_OBJECT) {
			WD_TRY(wd_buf_append(out, ": ", 2));
			WD_TRY(rv_write_rego(value, out));
		}
	}
	return wd_buf_append_byte(out, '}');
}
