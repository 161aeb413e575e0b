/* Package URL building as the purl specification defines it: the type and
 * qualifier keys lowercased, qualifiers sorted by key, and every component
 * percent-encoded except unreserved characters and ':'. */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "supply/purl.h"

#define PURL_MAX_BYTES (64u * 1024)

/* RFC 3986 unreserved characters, plus ':' which the purl specification
 * leaves unencoded in every component ("pkg:deb/debian/attr@1:2.4.47"). */
static bool is_plain(unsigned char c)
{
	return isalnum(c) || c == '.' || c == '-' || c == '_' || c == '~' || c == ':';
}

static int append_encoded_n(struct wd_buf *out, const char *text, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (is_plain(c)) {
			WD_TRY(wd_buf_append_byte(out, c));
		} else {
			char triple[3] = { '%', hex[c >> 4], hex[c & 0xf] };

			WD_TRY(wd_buf_append(out, triple, sizeof(triple)));
		}
	}
	return 0;
}

static int append_encoded(struct wd_buf *out, const char *text)
{
	return append_encoded_n(out, text, strlen(text));
}

static bool is_dot_segment(const char *segment, size_t len)
{
	return (len == 1 && segment[0] == '.') || (len == 2 && !memcmp(segment, "..", 2));
}

/* Appends the '/'-separated segments of text, each encoded, without empty
 * segments; a subpath also loses its "." and ".." segments, as the
 * specification requires. */
static int append_segments(struct wd_buf *out, const char *text, bool subpath)
{
	bool first = true;
	const char *p = text;

	while (*p) {
		size_t len = strcspn(p, "/");
		const char *segment = p;

		p += len;
		if (*p == '/')
			p++;
		if (len == 0 || (subpath && is_dot_segment(segment, len)))
			continue;
		if (!first)
			WD_TRY(wd_buf_append_byte(out, '/'));
		WD_TRY(append_encoded_n(out, segment, len));
		first = false;
	}
	return 0;
}

/* A type or qualifier key: a letter, then letters, digits, '.', '-', '_'
 * (keys) or '+' (types). Never percent-encoded. */
static bool is_valid_key(const char *text, const char *extra)
{
	if (!isalpha((unsigned char)text[0]))
		return false;
	for (const char *p = text; *p; p++) {
		if (!isalnum((unsigned char)*p) && !strchr(extra, *p))
			return false;
	}
	return true;
}

static int append_lower(struct wd_buf *out, const char *text)
{
	for (const char *p = text; *p; p++)
		WD_TRY(wd_buf_append_byte(out, (uint8_t)tolower((unsigned char)*p)));
	return 0;
}

static int compare_keys(const void *a, const void *b)
{
	const struct purl_qualifier *left = *(const struct purl_qualifier *const *)a;
	const struct purl_qualifier *right = *(const struct purl_qualifier *const *)b;

	return strcasecmp(left->key, right->key);
}

static bool is_set(const char *text)
{
	return text && text[0];
}

static int append_qualifiers(struct wd_buf *out, const struct purl_parts *parts,
	struct wd_error *err)
{
	const struct purl_qualifier **sorted;
	size_t count = 0;
	int rc = 0;

	sorted = calloc(parts->qualifier_count ? parts->qualifier_count : 1, sizeof(*sorted));
	if (!sorted)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	for (size_t i = 0; i < parts->qualifier_count; i++) {
		const struct purl_qualifier *q = &parts->qualifiers[i];

		WD_ENSURE(q->key && is_valid_key(q->key, ".-_"), wd_error_set(err, WD_EINVAL,
			"invalid purl qualifier key \"%.64s\"", q->key ? q->key : ""));
		if (is_set(q->value))
			sorted[count++] = q;
	}
	qsort(sorted, count, sizeof(*sorted), compare_keys);

	for (size_t i = 0; i < count; i++) {
		WD_ENSURE(i == 0 || strcasecmp(sorted[i - 1]->key, sorted[i]->key) != 0,
			wd_error_set(err, WD_EINVAL, "duplicate purl qualifier \"%.64s\"",
				sorted[i]->key));
		WD_GUARD(wd_buf_append_byte(out, i == 0 ? '?' : '&'));
		WD_GUARD(append_lower(out, sorted[i]->key));
		WD_GUARD(wd_buf_append_byte(out, '='));
		WD_GUARD(append_encoded(out, sorted[i]->value));
	}
out:
	free(sorted);
	return rc;
}

int purl_build(const struct purl_parts *parts, char **ret_purl, struct wd_error *err)
{
	struct wd_buf out;
	int rc = 0;

	*ret_purl = NULL;
	if (!is_set(parts->type) || !is_valid_key(parts->type, ".+-"))
		return wd_error_set(err, WD_EINVAL, "invalid purl type \"%.64s\"",
			parts->type ? parts->type : "");
	if (!is_set(parts->name))
		return wd_error_set(err, WD_EINVAL, "purl of type %s without a name", parts->type);

	wd_buf_init(&out, 128, PURL_MAX_BYTES);
	WD_GUARD(wd_buf_append_str(&out, "pkg:"));
	WD_GUARD(append_lower(&out, parts->type));
	WD_GUARD(wd_buf_append_byte(&out, '/'));
	if (is_set(parts->namespace)) {
		size_t before = wd_buf_len(&out);

		WD_GUARD(append_segments(&out, parts->namespace, false));
		if (wd_buf_len(&out) > before)
			WD_GUARD(wd_buf_append_byte(&out, '/'));
	}
	WD_GUARD(append_encoded(&out, parts->name));
	if (is_set(parts->version)) {
		WD_GUARD(wd_buf_append_byte(&out, '@'));
		WD_GUARD(append_encoded(&out, parts->version));
	}
	WD_GUARD(append_qualifiers(&out, parts, err));
	if (is_set(parts->subpath)) {
		size_t before = wd_buf_len(&out);

		WD_GUARD(wd_buf_append_byte(&out, '#'));
		WD_GUARD(append_segments(&out, parts->subpath, true));
		if (wd_buf_len(&out) == before + 1)
			wd_buf_truncate(&out, before);
	}

	*ret_purl = wd_buf_take(&out, NULL);
	WD_ENSURE(*ret_purl, WD_ENOMEM);
out:
	wd_buf_free(&out);
	if (rc < 0 && err && err->code == 0)
		wd_error_set(err, rc, "purl of %.64s not built", parts->name);
	return rc;
}
