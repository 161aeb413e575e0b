/* SPIFFE ID parsing and formatting per SPIFFE-ID.md section 2. Like
 * go-spiffe, it requires the literal lowercase prefix "spiffe://" and a
 * lowercase trust domain, although the standard calls both case-insensitive. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "identity/spiffe_id.h"

#define SCHEME_PREFIX "spiffe://"
#define SCHEME_PREFIX_LEN (sizeof(SCHEME_PREFIX) - 1)

/* Maximum input bytes quoted in a detail, after which "..." follows. Even
 * escaped, they fit in wd_error.detail next to the rule text. */
#define QUOTE_MAX_INPUT 80

static bool is_trust_domain_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
	       c == '_';
}

static bool is_path_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '_';
}

/* Writes text as a C-style quoted string body into out: printable ASCII as
 * is, '"' and '\\' escaped, every other byte (NUL included) as \xNN, and a
 * "..." suffix when more than QUOTE_MAX_INPUT bytes were given. */
static void quote_bytes(const char *text, size_t len, char *out, size_t out_len)
{
	static const char hex[] = "0123456789abcdef";
	size_t shown = len > QUOTE_MAX_INPUT ? QUOTE_MAX_INPUT : len;
	size_t pos = 0;

	for (size_t i = 0; i < shown; i++) {
		unsigned char c = (unsigned char)text[i];

		if (pos + 8 >= out_len)
			break;
		if (c == '"' || c == '\\') {
			out[pos++] = '\\';
			out[pos++] = (char)c;
		} else if (c >= 0x20 && c < 0x7f) {
			out[pos++] = (char)c;
		} else {
			out[pos++] = '\\';
			out[pos++] = 'x';
			out[pos++] = hex[c >> 4];
			out[pos++] = hex[c & 0xf];
		}
	}
	if (shown < len && pos + 4 <= out_len) {
		memcpy(out + pos, "...", 3);
		pos += 3;
	}
	out[pos] = '\0';
}

static int reject_id(struct wd_error *err, const char *text, size_t len, const char *rule)
{
	char quoted[4 * QUOTE_MAX_INPUT + 8];

	quote_bytes(text, len, quoted, sizeof(quoted));
	return wd_error_set(err, WD_EINVAL, "invalid SPIFFE ID \"%s\": %s", quoted, rule);
}

/* Names the rule a byte outside the allowed set breaks, so the caller learns
 * which URI component is not allowed rather than only "bad character". */
static const char *reason_for_byte(char c, bool in_trust_domain)
{
	switch (c) {
	case '%':
		return "percent-encoding is not allowed";
	case '?':
		return "a query is not allowed";
	case '#':
		return "a fragment is not allowed";
	default:
		break;
	}
	if (in_trust_domain) {
		if (c == '@')
			return "userinfo is not allowed in the trust domain";
		if (c == ':')
			return "a port is not allowed in the trust domain";
		return "trust domain characters must be lowercase letters, digits, '.', '-' or '_'";
	}
	return "path segment characters must be letters, digits, '.', '-' or '_'";
}

/* Checks the trust domain bytes [td, td + len); returns the rule broken or
 * NULL when they are valid. */
static const char *check_trust_domain(const char *td, size_t len)
{
	if (len == 0)
		return "the trust domain is missing";
	/* IPv6 literals are bracketed in URIs, and SPIFFE-ID.md section 2.1
	 * allows only names and IPv4 addresses. */
	if (td[0] == '[')
		return "an IPv6 address is not allowed as the trust domain";
	for (size_t i = 0; i < len; i++) {
		if (!is_trust_domain_char(td[i]))
			return reason_for_byte(td[i], true);
	}
	if (len > SPIFFE_TRUST_DOMAIN_MAX_LEN)
		return "the trust domain is longer than 255 bytes";
	return NULL;
}

/* Checks the path bytes [path, path + len), which start with '/'; returns
 * the rule broken or NULL when they are valid. */
static const char *check_path(const char *path, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t start = ++i;  /* skip the '/' */

		while (i < len && path[i] != '/') {
			if (!is_path_char(path[i]))
				return reason_for_byte(path[i], false);
			i++;
		}

		size_t seg_len = i - start;

		if (seg_len == 0)
			return i == len ? "the path must not end with '/'"
					: "the path must not contain empty segments";
		if ((seg_len == 1 && path[start] == '.') ||
		    (seg_len == 2 && path[start] == '.' && path[start + 1] == '.'))
			return "the path must not contain '.' or '..' segments";
	}
	return NULL;
}

/* Names what is wrong with a prefix that is not the literal "spiffe://". */
static const char *check_scheme(const char *text, size_t len)
{
	if (len >= SCHEME_PREFIX_LEN && memcmp(text, SCHEME_PREFIX, SCHEME_PREFIX_LEN) == 0)
		return NULL;
	if (len >= SCHEME_PREFIX_LEN && strncasecmp(text, SCHEME_PREFIX, SCHEME_PREFIX_LEN) == 0)
		return "the scheme must be the lowercase prefix \"spiffe://\"";
	if (memchr(text, ':', len))
		return "the scheme must be \"spiffe\" followed by \"://\"";
	return "the scheme \"spiffe://\" is missing";
}

int spiffe_id_parse(const char *text, size_t len, struct spiffe_id *ret_id,
	struct wd_error *err)
{
	const char *rule;
	const char *td;
	const char *slash;
	size_t td_len;
	size_t path_len;

	if (ret_id)
		memset(ret_id, 0, sizeof(*ret_id));
	if (!ret_id || (!text && len > 0))
		return wd_error_set(err, WD_EINVAL, "invalid SPIFFE ID: missing argument");
	if (len == 0)
		return reject_id(err, "", 0, "the ID is empty");
	if (len > SPIFFE_ID_MAX_LEN)
		return reject_id(err, text, len, "the ID is longer than 2048 bytes");

	rule = check_scheme(text, len);
	if (rule)
		return reject_id(err, text, len, rule);

	td = text + SCHEME_PREFIX_LEN;
	slash = memchr(td, '/', len - SCHEME_PREFIX_LEN);
	td_len = slash ? (size_t)(slash - td) : len - SCHEME_PREFIX_LEN;
	path_len = len - SCHEME_PREFIX_LEN - td_len;

	rule = check_trust_domain(td, td_len);
	if (!rule)
		rule = check_path(td + td_len, path_len);
	if (rule)
		return reject_id(err, text, len, rule);

	/* Both lengths were bounded above: td_len <= 255 and path_len < 2048. */
	memcpy(ret_id->trust_domain, td, td_len);
	ret_id->trust_domain[td_len] = '\0';
	memcpy(ret_id->path, td + td_len, path_len);
	ret_id->path[path_len] = '\0';
	return 0;
}

int spiffe_trust_domain_validate(const char *name, struct wd_error *err)
{
	char quoted[4 * QUOTE_MAX_INPUT + 8];
	const char *rule;
	size_t len;

	if (!name)
		return wd_error_set(err, WD_EINVAL, "invalid trust domain: missing argument");

	/* Bound the scan so a huge unterminated-looking string costs little. */
	len = strnlen(name, SPIFFE_TRUST_DOMAIN_MAX_LEN + 1);
	rule = check_trust_domain(name, len);
	if (!rule)
		return 0;

	quote_bytes(name, len, quoted, sizeof(quoted));
	return wd_error_set(err, WD_EINVAL, "invalid trust domain \"%s\": %s", quoted, rule);
}

int spiffe_id_format(const struct spiffe_id *id, char *out, size_t out_len)
{
	int n;

	if (!id || !out)
		return WD_EINVAL;
	if (out_len == 0)
		return WD_ETOOBIG;

	n = snprintf(out, out_len, SCHEME_PREFIX "%s%s", id->trust_domain, id->path);
	if (n < 0)
		return WD_EINTERNAL;
	if ((size_t)n >= out_len) {
		out[0] = '\0';
		return WD_ETOOBIG;
	}
	return 0;
}

bool spiffe_id_member_of(const struct spiffe_id *id, const char *trust_domain)
{
	if (!id || !trust_domain)
		return false;
	return strcmp(id->trust_domain, trust_domain) == 0;
}
