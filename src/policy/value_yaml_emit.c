/* Values to YAML as OPA's yaml.marshal writes them: the value goes through
 * JSON, then go-yaml v2 reads that JSON and emits it with sorted keys. */
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "common/alloc.h"
#include "common/error.h"
#include "policy/value.h"
#include "policy/value_yaml_priv.h"

/* Nesting limit of the value written; deeper values are rejected. */
#define YAML_EMIT_MAX_DEPTH 1000

/* ---- go-yaml v2's key order (sorter.go) ---- */

/* Decodes one UTF-8 code point at *p (within end), advancing *p; a bad byte
 * reads as itself. */
static uint32_t next_rune(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *s = *p;
	uint32_t c = s[0];
	size_t n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;

	if (c < 0x80 || (size_t)(end - s) < n) {
		*p = s + 1;
		return c;
	}
	c &= 0xffu >> (n + 1);
	for (size_t i = 1; i < n; i++)
		c = (c << 6) | (s[i] & 0x3fu);
	*p = s + n;
	return c;
}

struct runes {
	uint32_t *items;
	size_t len;
};

static int to_runes(const struct rv *s, struct runes *ret)
{
	const uint8_t *p = (const uint8_t *)rv_str(s);
	const uint8_t *end = p + rv_str_len(s);

	ret->len = 0;
	ret->items = wd_calloc(rv_str_len(s) + 1, sizeof(uint32_t));
	if (!ret->items)
		return WD_ENOMEM;
	while (p < end)
		ret->items[ret->len++] = next_rune(&p, end);
	return 0;
}

static bool rune_is_digit(uint32_t c)
{
	return c >= '0' && c <= '9';
}

/* NOTE: Go's unicode.IsLetter is approximated by ASCII letters plus every
 * code point above Latin-1's symbols, which covers the letters of common
 * scripts but also counts non-ASCII punctuation as letters. */
static bool rune_is_letter(uint32_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0xc0;
}

/* go-yaml v2's string key order: runs of digits compare as numbers, and
 * other characters sort before letters except right after a digit. */
static bool key_less(const struct runes *a, const struct runes *b)
{
	bool digits = false;

	for (size_t i = 0; i < a->len && i < b->len; i++) {
		uint32_t ar = a->items[i], br = b->items[i];
		bool al, bl;
		uint64_t an = 0, bn = 0;
		size_t ai, bi;

		if (ar == br) {
			digits = rune_is_digit(ar);
			continue;
		}
		al = rune_is_letter(ar);
		bl = rune_is_letter(br);
		if (al && bl)
			return ar < br;
		if (al || bl)
			return digits ? al : bl;

		if (ar == '0' || br == '0') {
			for (size_t j = i; j-- > 0 && rune_is_digit(a->items[j]);) {
				if (a->items[j] != '0') {
					an = 1;
					bn = 1;
					break;
				}
			}
		}
		for (ai = i; ai < a->len && rune_is_digit(a->items[ai]); ai++)
			an = an * 10 + (a->items[ai] - '0');
		for (bi = i; bi < b->len && rune_is_digit(b->items[bi]); bi++)
			bn = bn * 10 + (b->items[bi] - '0');
		if (an != bn)
			return (int64_t)an < (int64_t)bn;
		if (ai != bi)
			return ai < bi;
		return ar < br;
	}
	return a->len < b->len;
}

struct sort_entry {
	struct rv *key;         /* string */
	struct rv *value;
	struct runes runes;
};

static int compare_entries(const void *x, const void *y)
{
	const struct sort_entry *a = x, *b = y;

	if (key_less(&a->runes, &b->runes))
		return -1;
	return key_less(&b->runes, &a->runes) ? 1 : 0;
}

/* ---- emitting ---- */

struct emitter {
	yaml_emitter_t emitter;
	struct wd_buf *out;
	int write_rc;
};

static int write_handler(void *data, unsigned char *buffer, size_t size)
{
	struct emitter *e = data;

	e->write_rc = wd_buf_append(e->out, buffer, size);
	return e->write_rc == 0;
}

static int emit(struct emitter *e, yaml_event_t *event)
{
	if (yaml_emitter_emit(&e->emitter, event))
		return 0;
	if (e->write_rc < 0)
		return e->write_rc;
	return e->emitter.error == YAML_MEMORY_ERROR ? WD_ENOMEM : WD_EINVAL;
}

static int emit_scalar(struct emitter *e, const char *text, size_t len, yaml_scalar_style_t style)
{
	yaml_event_t event;

	if (len > INT32_MAX)
		return WD_ETOOBIG;
	if (!yaml_scalar_event_initialize(&event, NULL, NULL, (yaml_char_t *)text, (int)len, 1, 1,
					  style))
		return WD_ENOMEM;
	return emit(e, &event);
}

/* go-yaml's isBase60Float: [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?,
 * text that YAML 1.1 would read as a sexagesimal number. */
static bool is_base60_float(const char *s)
{
	size_t i = 0;
	bool groups = false;

	if (s[i] == '+' || s[i] == '-')
		i++;
	if (!rune_is_digit((uint8_t)s[i]))
		return false;
	while (rune_is_digit((uint8_t)s[i]) || s[i] == '_')
		i++;
	while (s[i] == ':') {
		i++;
		if (s[i] >= '0' && s[i] <= '5' && rune_is_digit((uint8_t)s[i + 1]))
			i += 2;
		else if (rune_is_digit((uint8_t)s[i]))
			i++;
		else
			return false;
		groups = true;
	}
	if (!groups)
		return false;
	if (s[i] == '.') {
		i++;
		while (rune_is_digit((uint8_t)s[i]) || s[i] == '_')
			i++;
	}
	return s[i] == '\0';
}

/* Length of the valid UTF-8 sequence at s (1 to 4 bytes), or 0 when the
 * bytes there are not one: overlong forms, surrogates and code points past
 * U+10FFFF are invalid, as in Go's utf8 package. */
static size_t utf8_sequence(const uint8_t *s, size_t left)
{
	uint32_t c = s[0], min;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, min = 0x10000;
	else
		return 0;
	if (left < n)
		return 0;
	c &= 0x3fu >> (n - 1);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3fu);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return n;
}

/* Copies text with each byte that is not valid UTF-8 replaced by U+FFFD,
 * as encoding/json does before go-yaml sees the string. */
static int valid_utf8(const char *text, size_t len, struct wd_buf *out)
{
	const uint8_t *p = (const uint8_t *)text;
	size_t i = 0;

	while (i < len) {
		size_t n = utf8_sequence(p + i, len - i);

		if (n == 0) {
			WD_TRY(wd_buf_append(out, "\xef\xbf\xbd", 3));
			i++;
			continue;
		}
		WD_TRY(wd_buf_append(out, p + i, n));
		i += n;
	}
	return 0;
}

/* A string is written plain when it would read back as a string, literal
 * when it spans lines, and double-quoted otherwise; the emitter itself
 * falls back to quoting where plain text is not allowed. */
static int emit_string(struct emitter *e, const struct rv *s)
{
	const char *text = rv_str(s);
	size_t len = rv_str_len(s);
	struct yaml_scalar_info sc = { .kind = YAML_SC_STRING };
	yaml_scalar_style_t style;
	struct wd_buf clean;
	int rc = 0;

	wd_buf_init(&clean, len + 1, SIZE_MAX / 4);
	for (size_t i = 0; i < len;) {
		size_t n = utf8_sequence((const uint8_t *)text + i, len - i);

		if (n == 0) {
			WD_GUARD(valid_utf8(text, len, &clean));
			text = wd_buf_str(&clean);
			len = wd_buf_len(&clean);
			break;
		}
		i += n;
	}

	if (memchr(text, '\n', len)) {
		style = YAML_LITERAL_SCALAR_STYLE;
	} else {
		if (strlen(text) == len)
			WD_GUARD(rv_yaml_resolve_plain(text, &sc));
		if (sc.kind == YAML_SC_STRING && !is_base60_float(text) && strcmp(text, "<<") != 0)
			style = YAML_PLAIN_SCALAR_STYLE;
		else
			style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	}
	rc = emit_scalar(e, text, len, style);
out:
	wd_buf_free(&clean);
	return rc;
}

/* Numbers go through their JSON text and go-yaml's reading of it: integers
 * that fit 64 bits stay exact, everything else becomes a float64. */
static int emit_number(struct emitter *e, const struct rv *n)
{
	struct wd_buf text, formatted;
	struct yaml_scalar_info sc;
	int rc;

	wd_buf_init(&text, 32, 4096);
	wd_buf_init(&formatted, 32, 64);
	WD_GUARD(rv_number_format(n, &text));
	WD_GUARD(rv_yaml_resolve_plain(wd_buf_str(&text), &sc));
	switch (sc.kind) {
	case YAML_SC_INT:
		WD_GUARD(wd_buf_appendf(&formatted, "%lld", (long long)sc.i));
		break;
	case YAML_SC_UINT:
		WD_GUARD(wd_buf_appendf(&formatted, "%llu", (unsigned long long)sc.u));
		break;
	case YAML_SC_FLOAT:
		WD_GUARD(rv_yaml_format_float(sc.d, YAML_FLOAT_G64, &formatted));
		break;
	default:
		WD_GUARD(wd_buf_append_str(&formatted, wd_buf_str(&text)));
		break;
	}
	rc = emit_scalar(e, wd_buf_str(&formatted), wd_buf_len(&formatted),
		YAML_PLAIN_SCALAR_STYLE);
out:
	wd_buf_free(&text);
	wd_buf_free(&formatted);
	return rc;
}

static int emit_value(struct emitter *e, const struct rv *v, size_t depth);

static int emit_sequence_start(struct emitter *e)
{
	yaml_event_t event;

	if (!yaml_sequence_start_event_initialize(&event, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE))
		return WD_ENOMEM;
	return emit(e, &event);
}

static int emit_end(struct emitter *e, bool mapping)
{
	yaml_event_t event;
	int ok = mapping ? yaml_mapping_end_event_initialize(&event) :
			   yaml_sequence_end_event_initialize(&event);

	if (!ok)
		return WD_ENOMEM;
	return emit(e, &event);
}

/* Arrays in order; sets in OPA's sorted order, as JSON arrays. */
static int emit_sequence(struct emitter *e, const struct rv *v, size_t depth)
{
	WD_TRY(emit_sequence_start(e));
	if (rv_is(v, RV_ARRAY)) {
		for (size_t i = 0; i < rv_array_len(v); i++)
			WD_TRY(emit_value(e, rv_array_at(v, i), depth + 1));
	} else {
		for (size_t i = 0; i < rv_len(v); i++) {
			struct rv *member, *unused;

			rv_map_sorted_at(v, i, &member, &unused);
			WD_TRY(emit_value(e, member, depth + 1));
		}
	}
	return emit_end(e, false);
}

static void free_entries(struct sort_entry *entries, size_t n)
{
	for (size_t i = 0; entries && i < n; i++) {
		rv_unref(entries[i].key);
		free(entries[i].runes.items);
	}
	free(entries);
}

/* Object keys that are not strings are written as their JSON text, as OPA
 * converts them before marshalling. */
static struct rv *key_text(struct rv *key)
{
	struct wd_buf text;
	struct rv *s = NULL;

	if (rv_is(key, RV_STRING))
		return rv_ref(key);
	wd_buf_init(&text, 64, SIZE_MAX / 2);
	if (rv_write_json(key, &text) == 0)
		s = rv_string(wd_buf_str(&text), wd_buf_len(&text));
	wd_buf_free(&text);
	return s;
}

static int emit_mapping(struct emitter *e, const struct rv *v, size_t depth)
{
	size_t n = rv_len(v);
	struct sort_entry *entries = wd_calloc(n + 1, sizeof(*entries));
	yaml_event_t event;
	int rc = 0;

	if (!entries)
		return WD_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct rv *key;

		/* go-yaml's order is not total for every set of keys, so the
		 * sort starts from OPA's order to make the result repeatable. */
		rv_map_sorted_at(v, i, &key, &entries[i].value);
		entries[i].key = key_text(key);
		if (!entries[i].key)
			WD_GUARD(WD_ENOMEM);
		WD_GUARD(to_runes(entries[i].key, &entries[i].runes));
	}
	qsort(entries, n, sizeof(*entries), compare_entries);

	if (!yaml_mapping_start_event_initialize(&event, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE))
		WD_GUARD(WD_ENOMEM);
	WD_GUARD(emit(e, &event));
	for (size_t i = 0; i < n; i++) {
		WD_GUARD(emit_string(e, entries[i].key));
		WD_GUARD(emit_value(e, entries[i].value, depth + 1));
	}
	rc = emit_end(e, true);
out:
	free_entries(entries, n);
	return rc;
}

static int emit_value(struct emitter *e, const struct rv *v, size_t depth)
{
	if (depth > YAML_EMIT_MAX_DEPTH)
		return WD_ETOOBIG;
	switch (rv_kind_of(v)) {
	case RV_NULL:
		return emit_scalar(e, "null", 4, YAML_PLAIN_SCALAR_STYLE);
	case RV_BOOL:
		return rv_is_true(v) ? emit_scalar(e, "true", 4, YAML_PLAIN_SCALAR_STYLE) :
				       emit_scalar(e, "false", 5, YAML_PLAIN_SCALAR_STYLE);
	case RV_NUMBER:
		return emit_number(e, v);
	case RV_STRING:
		return emit_string(e, v);
	case RV_ARRAY:
	case RV_SET:
		return emit_sequence(e, v, depth);
	case RV_OBJECT:
		return emit_mapping(e, v, depth);
	}
	return WD_EINVAL;
}

static int emit_document(struct emitter *e, const struct rv *v)
{
	yaml_event_t event;

	if (!yaml_stream_start_event_initialize(&event, YAML_UTF8_ENCODING))
		return WD_ENOMEM;
	WD_TRY(emit(e, &event));
	if (!yaml_document_start_event_initialize(&event, NULL, NULL, NULL, 1))
		return WD_ENOMEM;
	WD_TRY(emit(e, &event));
	WD_TRY(emit_value(e, v, 0));
	if (!yaml_document_end_event_initialize(&event, 1))
		return WD_ENOMEM;
	WD_TRY(emit(e, &event));
	if (!yaml_stream_end_event_initialize(&event))
		return WD_ENOMEM;
	return emit(e, &event);
}

int rv_write_yaml(const struct rv *v, struct wd_buf *out)
{
	struct emitter *e = calloc(1, sizeof(*e));
	size_t start = wd_buf_len(out);
	int rc;

	if (!e)
		return WD_ENOMEM;
	if (!yaml_emitter_initialize(&e->emitter)) {
		free(e);
		return WD_ENOMEM;
	}
	e->out = out;
	yaml_emitter_set_output(&e->emitter, write_handler, e);
	yaml_emitter_set_unicode(&e->emitter, 1);

	rc = emit_document(e, v);
	if (rc == 0 && !yaml_emitter_flush(&e->emitter))
		rc = e->write_rc < 0 ? e->write_rc : WD_ENOMEM;
	yaml_emitter_delete(&e->emitter);
	free(e);
	if (rc < 0)
		wd_buf_truncate(out, start);
	return rc;
}
