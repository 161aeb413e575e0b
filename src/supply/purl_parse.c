/* Package URL parsing, following the steps of the purl specification
 * ("How to parse a purl string in its components"): subpath, qualifiers,
 * scheme, type, version, name and namespace, each split off from the
 * remaining text in that order, then percent-decoded. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "supply/purl.h"
#include "supply/utf8.h"

#define PURL_MAX_TEXT (64u * 1024)
#define PURL_MAX_QUALIFIERS 64

/* Types whose namespace or name is case-insensitive in their purl type
 * definition, and so lowercased. */
static const char *const lowercase_namespace_types[] = {
	"alpm", "apk", "bitbucket", "brew", "composer", "deb", "github", "hex", "luarocks",
	"qpkg", "rpm", "vscode-extension", "yocto",
};

static const char *const lowercase_name_types[] = {
	"alpm", "apk", "bitbucket", "bitnami", "brew", "chrome-extension", "composer", "deb",
	"github", "hex", "luarocks", "oci", "otp", "pypi", "vscode-extension",
};

static bool in_list(const char *type, const char *const *list, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (!strcmp(type, list[i]))
			return true;
	}
	return false;
}

void purl_free(struct purl *purl)
{
	if (!purl)
		return;
	free(purl->type);
	free(purl->namespace);
	free(purl->name);
	free(purl->version);
	for (size_t i = 0; i < purl->qualifier_count; i++) {
		free(purl->qualifiers[i].key);
		free(purl->qualifiers[i].value);
	}
	free(purl->qualifiers);
	free(purl->subpath);
	*purl = (struct purl){ 0 };
}

const char *purl_qualifier(const struct purl *purl, const char *key)
{
	for (size_t i = 0; i < purl->qualifier_count; i++) {
		if (!strcmp(purl->qualifiers[i].key, key))
			return purl->qualifiers[i].value;
	}
	return NULL;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes len bytes of text into a malloc'd string. */
static int decode(const char *text, size_t len, const char *what, char **ret,
	struct wd_error *err)
{
	char *out = malloc(len + 1);
	size_t n = 0;

	*ret = NULL;
	if (!out)
		return wd_error_set(err, WD_ENOMEM, "out of memory parsing a purl");
	for (size_t i = 0; i < len; i++) {
		int high, low;

		if (text[i] != '%') {
			out[n++] = text[i];
			continue;
		}
		if (len - i < 3) {
			free(out);
			return wd_error_set(err, WD_EINVAL, "invalid percent-encoding in purl %s", what);
		}
		high = hex_digit(text[i + 1]);
		low = hex_digit(text[i + 2]);
		if (high < 0 || low < 0) {
			free(out);
			return wd_error_set(err, WD_EINVAL, "invalid percent-encoding in purl %s", what);
		}
		out[n++] = (char)(high * 16 + low);
		i += 2;
	}
	out[n] = '\0';
	if (!supply_utf8_valid(out, n)) {
		free(out);
		return wd_error_set(err, WD_EINVAL, "purl %s is not valid UTF-8 or contains NUL",
			what);
	}
	*ret = out;
	return 0;
}

/* Decodes the '/'-separated segments of text[0, len), dropping empty ones
 * (and "." and ".." for a subpath), and joins them with '/'. Stores NULL
 * when nothing is left. */
static int decode_segments(const char *text, size_t len, bool subpath, const char *what,
	char **ret, struct wd_error *err)
{
	char *out = malloc(len + 1);
	size_t n = 0;
	size_t i = 0;

	*ret = NULL;
	if (!out)
		return wd_error_set(err, WD_ENOMEM, "out of memory parsing a purl");
	while (i < len) {
		const char *segment = text + i;
		const char *slash = memchr(segment, '/', len - i);
		size_t seg_len = slash ? (size_t)(slash - segment) : len - i;
		char *decoded;
		int rc;

		i += seg_len + (slash ? 1 : 0);
		if (seg_len == 0)
			continue;
		rc = decode(segment, seg_len, what, &decoded, err);
		if (rc < 0) {
			free(out);
			return rc;
		}
		/* A segment is between '/'s, so one that decodes to a '/'
		 * ("%2F") is invalid: it would read back as two segments. */
		if (strchr(decoded, '/')) {
			free(decoded);
			free(out);
			return wd_error_set(err, WD_EINVAL, "purl %s segment contains an encoded '/'",
				what);
		}
		if (subpath && (!strcmp(decoded, ".") || !strcmp(decoded, ".."))) {
			free(decoded);
			continue;
		}
		if (n)
			out[n++] = '/';
		memcpy(out + n, decoded, strlen(decoded));
		n += strlen(decoded);
		free(decoded);
	}
	out[n] = '\0';
	if (n == 0)
		free(out);
	else
		*ret = out;
	return 0;
}

static void lowercase(char *text)
{
	for (char *p = text; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
}

/* A type or qualifier key: a letter, then letters, digits and extra. */
static bool is_valid_key(const char *text, size_t len, const char *extra)
{
	if (len == 0 || !isalpha((unsigned char)text[0]))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!isalnum((unsigned char)text[i]) && !strchr(extra, text[i]))
			return false;
	}
	return true;
}

static int compare_qualifiers(const void *a, const void *b)
{
	const struct purl_owned_qualifier *left = a, *right = b;

	return strcmp(left->key, right->key);
}

static int parse_qualifiers(const char *text, size_t len, struct purl *purl,
	struct wd_error *err)
{
	size_t i = 0;

	purl->qualifiers = wd_calloc(PURL_MAX_QUALIFIERS, sizeof(*purl->qualifiers));
	if (!purl->qualifiers)
		return wd_error_set(err, WD_ENOMEM, "out of memory parsing a purl");
	while (i < len) {
		const char *pair = text + i;
		const char *amp = memchr(pair, '&', len - i);
		size_t pair_len = amp ? (size_t)(amp - pair) : len - i;
		const char *equals = memchr(pair, '=', pair_len);
		size_t key_len;
		struct purl_owned_qualifier *q;
		char *value;

		i += pair_len + (amp ? 1 : 0);
		if (pair_len == 0)
			continue;
		key_len = equals ? (size_t)(equals - pair) : pair_len;
		if (!equals || !is_valid_key(pair, key_len, ".-_"))
			return wd_error_set(err, WD_EINVAL, "invalid purl qualifier \"%.*s\"",
				(int)(pair_len < 64 ? pair_len : 64), pair);
		/* The specification's required parse cases reject keys that are
		 * not lowercase ("Arch="), though builders lowercase them. */
		for (size_t k = 0; k < key_len; k++) {
			if (isupper((unsigned char)pair[k]))
				return wd_error_set(err, WD_EINVAL, "purl qualifier key \"%.*s\" is "
								    "not lowercase", (int)key_len, pair);
		}
		WD_TRY(decode(equals + 1, pair_len - key_len - 1, "qualifier value", &value, err));
		if (!value[0]) {
			free(value);
			continue;
		}
		if (purl->qualifier_count == PURL_MAX_QUALIFIERS) {
			free(value);
			return wd_error_set(err, WD_EINVAL, "more than %d purl qualifiers",
				PURL_MAX_QUALIFIERS);
		}
		q = &purl->qualifiers[purl->qualifier_count];
		q->key = wd_strndup(pair, key_len);
		if (!q->key) {
			free(value);
			return wd_error_set(err, WD_ENOMEM, "out of memory parsing a purl");
		}
		q->value = value;
		purl->qualifier_count++;
	}
	qsort(purl->qualifiers, purl->qualifier_count, sizeof(*purl->qualifiers),
		compare_qualifiers);
	for (size_t k = 1; k < purl->qualifier_count; k++) {
		if (!strcmp(purl->qualifiers[k - 1].key, purl->qualifiers[k].key))
			return wd_error_set(err, WD_EINVAL, "duplicate purl qualifier \"%.64s\"",
				purl->qualifiers[k].key);
	}
	return 0;
}

static const char *find_last(const char *text, size_t len, char c)
{
	for (size_t i = len; i > 0; i--) {
		if (text[i - 1] == c)
			return text + i - 1;
	}
	return NULL;
}

/* Applies the normalizations of the type definitions. */
static void normalize(struct purl *purl)
{
	if (in_list(purl->type, lowercase_namespace_types, WD_ARRAY_LEN(lowercase_namespace_types)))
		lowercase(purl->namespace);
	if (in_list(purl->type, lowercase_name_types, WD_ARRAY_LEN(lowercase_name_types)))
		lowercase(purl->name);
	if (!strcmp(purl->type, "pypi")) {
		for (char *p = purl->name; *p; p++) {
			if (*p == '_')
				*p = '-';
		}
	}
}

static int parse(const char *text, struct purl *purl, struct wd_error *err)
{
	size_t len = strlen(text);
	const char *p, *mark, *slash;

	if (len > PURL_MAX_TEXT)
		return wd_error_set(err, WD_EINVAL, "purl longer than %u bytes", PURL_MAX_TEXT);

	mark = find_last(text, len, '#');
	if (mark) {
		WD_TRY(decode_segments(mark + 1, len - (size_t)(mark + 1 - text), true, "subpath",
			&purl->subpath, err));
		len = (size_t)(mark - text);
	}
	mark = find_last(text, len, '?');
	if (mark) {
		WD_TRY(parse_qualifiers(mark + 1, len - (size_t)(mark + 1 - text), purl, err));
		len = (size_t)(mark - text);
	}

	if (len < 4 || strncasecmp(text, "pkg:", 4))
		return wd_error_set(err, WD_EINVAL, "invalid purl \"%.64s\": missing pkg: scheme",
			text);
	p = text + 4;
	len -= 4;
	/* "pkg://type/..." is read as "pkg:type/...". */
	while (len > 0 && *p == '/') {
		p++;
		len--;
	}
	while (len > 0 && p[len - 1] == '/')
		len--;

	slash = memchr(p, '/', len);
	if (!slash || !is_valid_key(p, (size_t)(slash - p), ".+-"))
		return wd_error_set(err, WD_EINVAL, "invalid purl \"%.64s\": missing or invalid type",
			text);
	purl->type = wd_strndup(p, (size_t)(slash - p));
	if (!purl->type)
		return wd_error_set(err, WD_ENOMEM, "out of memory parsing a purl");
	lowercase(purl->type);
	len -= (size_t)(slash + 1 - p);
	p = slash + 1;

	/* The version follows the last '@' of the last segment: an '@' that
	 * starts a segment is an npm scope ("pkg:npm/@babel/core"). */
	slash = find_last(p, len, '/');
	mark = find_last(p, len, '@');
	if (mark && slash && mark < slash)
		mark = NULL;
	if (mark) {
		WD_TRY(decode(mark + 1, len - (size_t)(mark + 1 - p), "version", &purl->version, err));
		len = (size_t)(mark - p);
		if (!purl->version[0]) {
			free(purl->version);
			purl->version = NULL;
		}
	}

	mark = find_last(p, len, '/');
	{
		const char *name = mark ? mark + 1 : p;
		size_t name_len = len - (size_t)(name - p);

		if (name_len == 0)
			return wd_error_set(err, WD_EINVAL, "invalid purl \"%.64s\": missing name", text);
		WD_TRY(decode(name, name_len, "name", &purl->name, err));
	}
	if (mark)
		WD_TRY(decode_segments(p, (size_t)(mark - p), false, "namespace", &purl->namespace,
			err));
	normalize(purl);
	return 0;
}

int purl_parse(const char *text, struct purl *ret, struct wd_error *err)
{
	struct purl purl = { 0 };
	int rc;

	*ret = (struct purl){ 0 };
	rc = parse(text, &purl, err);
	if (rc < 0) {
		purl_free(&purl);
		return rc;
	}
	*ret = purl;
	return 0;
}
