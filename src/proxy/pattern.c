// SPIFFE ID patterns of the proxy's allow-lists: "*" inside one path
// segment, a final "/**" for any number of further segments, and the
// pattern "*" alone for any ID. Matching works segment by segment, so a "*"
// never crosses a "/".
#include <string.h>

#include "identity/spiffe_id.h"
#include "proxy/authz.h"

#define SCHEME "spiffe://"
#define SCHEME_LEN (sizeof(SCHEME) - 1)

// A pattern is at most as long as a SPIFFE ID plus its "/**" suffix.
#define PATTERN_MAX_LEN (SPIFFE_ID_MAX_LEN + 3)

static bool ends_with_any_segments(const char *pattern, size_t len)
{
	return len >= 3 && memcmp(pattern + len - 3, "/**", 3) == 0;
}

int proxy_pattern_validate(const char *pattern, struct wd_error *err)
{
	struct spiffe_id parsed;
	struct wd_error id_err = { 0 };
	char copy[PATTERN_MAX_LEN + 1];
	size_t len, path_start;
	int rc;

	if (!pattern || pattern[0] == '\0')
		return wd_error_set(err, WD_EINVAL, "SPIFFE ID pattern is empty");
	if (strcmp(pattern, "*") == 0)
		return 0;

	len = strlen(pattern);
	if (len > PATTERN_MAX_LEN)
		return wd_error_set(err, WD_EINVAL,
			"SPIFFE ID pattern is %zu bytes; the limit is %d", len, PATTERN_MAX_LEN);
	if (len < SCHEME_LEN || memcmp(pattern, SCHEME, SCHEME_LEN) != 0)
		return wd_error_set(err, WD_EINVAL,
			"SPIFFE ID pattern \"%.256s\" does not start with spiffe://", pattern);

	/* The trust domain always matches literally. */
	path_start = SCHEME_LEN + strcspn(pattern + SCHEME_LEN, "/");
	if (memchr(pattern + SCHEME_LEN, '*', path_start - SCHEME_LEN))
		return wd_error_set(err, WD_EINVAL,
			"SPIFFE ID pattern \"%.256s\" has \"*\" in the trust domain; only path segments take wildcards",
			pattern);

	/* "**" is allowed only as the whole final segment. */
	if (ends_with_any_segments(pattern, len))
		len -= 3;
	for (size_t i = path_start; i + 1 < len; i++) {
		if (pattern[i] == '*' && pattern[i + 1] == '*')
			return wd_error_set(err, WD_EINVAL,
				"SPIFFE ID pattern \"%.256s\" has \"**\" before the end; it is allowed only as a final \"/**\"",
				pattern);
	}
	/* With every "*" standing for one letter, the rest must form a valid
	 * SPIFFE ID, so a pattern can match nothing that an ID cannot be. */
	memcpy(copy, pattern, len);
	copy[len] = '\0';
	for (size_t i = path_start; i < len; i++) {
		if (copy[i] == '*')
			copy[i] = 'x';
	}
	rc = spiffe_id_parse(copy, len, &parsed, &id_err);
	if (rc < 0)
		return wd_error_set(err, WD_EINVAL, "SPIFFE ID pattern \"%.256s\" is invalid: %s",
			pattern, wd_error_text(&id_err));
	return 0;
}

/* Matches one path segment against a pattern segment in which "*" stands
 * for any run of bytes. Greedy with one backtrack point, so the cost is at
 * most the product of the two lengths. */
static bool segment_match(const char *pattern, size_t pattern_len, const char *text,
	size_t text_len)
{
	size_t p = 0, t = 0;
	size_t star = SIZE_MAX, star_text = 0;

	while (t < text_len) {
		if (p < pattern_len && pattern[p] == '*') {
			star = p++;
			star_text = t;
		} else if (p < pattern_len && pattern[p] == text[t]) {
			p++;
			t++;
		} else if (star != SIZE_MAX) {
			p = star + 1;
			t = ++star_text;
		} else {
			return false;
		}
	}
	while (p < pattern_len && pattern[p] == '*')
		p++;
	return p == pattern_len;
}

/* Length of the segment at text (up to the next '/' or the end). */
static size_t segment_len(const char *text, size_t len)
{
	const char *slash = memchr(text, '/', len);

	return slash ? (size_t)(slash - text) : len;
}

bool proxy_pattern_match(const char *pattern, const char *spiffe_id)
{
	size_t pattern_len, id_len, p, s;
	bool any_rest;

	if (!pattern || !spiffe_id)
		return false;
	if (strcmp(pattern, "*") == 0)
		return spiffe_id[0] != '\0';

	pattern_len = strlen(pattern);
	id_len = strlen(spiffe_id);
	if (pattern_len > PATTERN_MAX_LEN || pattern_len < SCHEME_LEN ||
	    memcmp(pattern, SCHEME, SCHEME_LEN) != 0)
		return false;
	any_rest = ends_with_any_segments(pattern, pattern_len);
	if (any_rest)
		pattern_len -= 3;

	/* The trust domain compares literally, then each "/segment" in turn. */
	if (id_len < SCHEME_LEN || memcmp(spiffe_id, SCHEME, SCHEME_LEN) != 0)
		return false;
	p = SCHEME_LEN + segment_len(pattern + SCHEME_LEN, pattern_len - SCHEME_LEN);
	s = SCHEME_LEN + segment_len(spiffe_id + SCHEME_LEN, id_len - SCHEME_LEN);
	if (p == SCHEME_LEN || p != s || memcmp(pattern, spiffe_id, p) != 0)
		return false;

	while (p < pattern_len) {
		size_t pl, sl;

		/* Both stand at a '/' here, or the ID has ended. */
		if (s >= id_len)
			return false;
		p++;
		s++;
		pl = segment_len(pattern + p, pattern_len - p);
		sl = segment_len(spiffe_id + s, id_len - s);
		if (pl >= 2 && memmem(pattern + p, pl, "**", 2))
			return false;
		if (!segment_match(pattern + p, pl, spiffe_id + s, sl))
			return false;
		p += pl;
		s += sl;
	}

	// The pattern is used up: the ID must end too, unless "/**" follows.
	return s == id_len || (any_rest && spiffe_id[s] == '/');
}

bool proxy_allow_list_match(const char *const *patterns, size_t count, const char *spiffe_id)
{
	if (!patterns || !spiffe_id)
		return false;
	for (size_t i = 0; i < count; i++) {
		if (proxy_pattern_match(patterns[i], spiffe_id))
			return true;
	}
	return false;
}
