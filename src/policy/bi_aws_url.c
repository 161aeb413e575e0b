/* The subset of Go's net/url.Parse that AWS SigV4 signing and the uri
 * builtins read: scheme, host, path, raw query and fragment, with Go's
 * checks and error texts. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "policy/bi_aws.h"
#include "policy/bi_str_util.h"
#include "policy/gql.h"

enum url_mode { MODE_PATH, MODE_HOST, MODE_USERINFO, MODE_FRAGMENT };

static bool is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static unsigned hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return c - 'A' + 10;
}

/* Go's shouldEscape for the modes used here (RFC 3986 section 2). */
static bool should_escape(unsigned char c, enum url_mode mode)
{
	if (is_alnum(c))
		return false;
	if (mode == MODE_HOST && strchr("!$&'()*+,;=:[]<>\"", c) && c != '\0')
		return false;
	if (c == '-' || c == '_' || c == '.' || c == '~')
		return false;
	if (c != '\0' && strchr("$&+,/:;=?@", c)) {
		if (mode == MODE_PATH)
			return c == '?';
		if (mode == MODE_USERINFO)
			return c == '@' || c == '/' || c == '?' || c == ':';
		if (mode == MODE_FRAGMENT)
			return false;
		return true;
	}
	if (mode == MODE_FRAGMENT && c != '\0' && strchr("!()*", c))
		return false;
	return true;
}

/* Appends a parse failure as Go's url.Error prints it. */
static int url_error(struct wd_buf *err, const char *text, size_t len, const char *reason)
{
	char *copy = strndup(text, len);
	int rc;

	if (!copy)
		return WD_ENOMEM;
	rc = wd_buf_append_str(err, "parse ");
	if (rc == 0)
		rc = gql_quote(err, copy);
	if (rc == 0)
		rc = wd_buf_appendf(err, ": %s", reason);
	free(copy);
	return rc < 0 ? rc : WD_EINVAL;
}

/* Go's unescape: decodes %XX; a bad escape yields `invalid URL escape "%.."`
 * in reason. The host mode also rejects ASCII that must not appear in a
 * host and %-escapes of ASCII other than %25. */
static int url_unescape(const char *s, size_t len, enum url_mode mode, struct wd_buf *out,
			char *reason, size_t reason_cap)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			if (i + 2 >= len || !is_hex((unsigned char)s[i + 1]) ||
			    !is_hex((unsigned char)s[i + 2])) {
				size_t n = len - i < 3 ? len - i : 3;

				snprintf(reason, reason_cap, "invalid URL escape \"%.*s\"", (int)n, s + i);
				return WD_EINVAL;
			}
			if (mode == MODE_HOST && hex_value((unsigned char)s[i + 1]) < 8 &&
			    memcmp(s + i, "%25", 3) != 0) {
				snprintf(reason, reason_cap, "invalid URL escape \"%.3s\"", s + i);
				return WD_EINVAL;
			}
			WD_TRY(wd_buf_append_byte(out, (uint8_t)(hex_value((unsigned char)s[i + 1]) << 4 |
							  hex_value((unsigned char)s[i + 2]))));
			i += 2;
			continue;
		}
		if (mode == MODE_HOST && c < 0x80 && should_escape(c, MODE_HOST)) {
			snprintf(reason, reason_cap, "invalid character \"%c\" in host name", c);
			return WD_EINVAL;
		}
		WD_TRY(wd_buf_append_byte(out, c));
	}
	return 0;
}

static int url_escape_path(const char *s, size_t len, struct wd_buf *out)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (should_escape(c, MODE_PATH)) {
			char esc[3] = { '%', hex[c >> 4], hex[c & 15] };

			WD_TRY(wd_buf_append(out, esc, 3));
		} else {
			WD_TRY(wd_buf_append_byte(out, c));
		}
	}
	return 0;
}

/* Go's validEncoded for paths: only characters a path may hold unescaped. */
static bool valid_encoded_path(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c != '\0' && strchr("!$&'()*+,;=:@[]%", c))
			continue;
		if (should_escape(c, MODE_PATH))
			return false;
	}
	return true;
}

static bool valid_optional_port(const char *s, size_t len)
{
	if (len == 0)
		return true;
	if (s[0] != ':')
		return false;
	for (size_t i = 1; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static bool valid_userinfo(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!is_alnum(c) && !strchr("-._:~!$&'()*+,;=%@", c))
			return false;
	}
	return true;
}

static const char *last_byte(const char *s, size_t len, char c)
{
	for (size_t i = len; i > 0; i--)
		if (s[i - 1] == c)
			return s + i - 1;
	return NULL;
}

/* Go's parseHost: a bracketed IP literal or a name, then an optional :port. */
static int parse_host(const char *s, size_t len, struct wd_buf *out, char *reason,
		      size_t reason_cap)
{
	const char *colon;

	if (len > 0 && s[0] == '[') {
		const char *close = last_byte(s, len, ']');
		size_t tail;

		if (!close) {
			snprintf(reason, reason_cap, "missing ']' in host");
			return WD_EINVAL;
		}
		tail = len - (size_t)(close + 1 - s);
		if (!valid_optional_port(close + 1, tail)) {
			snprintf(reason, reason_cap, "invalid port \"%.*s\" after host", (int)tail,
				 close + 1);
			return WD_EINVAL;
		}
	} else if ((colon = last_byte(s, len, ':')) != NULL) {
		size_t tail = len - (size_t)(colon - s);

		if (!valid_optional_port(colon, tail)) {
			snprintf(reason, reason_cap, "invalid port \"%.*s\" after host", (int)tail,
				 colon);
			return WD_EINVAL;
		}
	}
	return url_unescape(s, len, MODE_HOST, out, reason, reason_cap);
}

static int parse_authority(const char *s, size_t len, struct wd_buf *host, char *reason,
			   size_t reason_cap)
{
	const char *at = last_byte(s, len, '@');
	size_t user_len = at ? (size_t)(at - s) : 0;
	struct wd_buf scratch;
	int rc;

	if (!at)
		return parse_host(s, len, host, reason, reason_cap);
	WD_TRY(parse_host(at + 1, len - user_len - 1, host, reason, reason_cap));
	if (!valid_userinfo(s, user_len)) {
		snprintf(reason, reason_cap, "net/url: invalid userinfo");
		return WD_EINVAL;
	}

	/* The user name and password are decoded only to check their escapes. */
	wd_buf_init_secret(&scratch, 64, BI_STR_MAX);
	rc = url_unescape(s, user_len, MODE_USERINFO, &scratch, reason, reason_cap);
	wd_buf_free(&scratch);
	return rc;
}

/* Go's getScheme: letters, then letters, digits, '+', '-' or '.', then ':'. */
static int split_scheme(const char *s, size_t len, size_t *ret_scheme_len)
{
	*ret_scheme_len = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			continue;
		if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.') {
			if (i == 0)
				return 0;
			continue;
		}
		if (c == ':') {
			if (i == 0)
				return WD_EINVAL;
			*ret_scheme_len = i;
		}
		return 0;
	}
	return 0;
}

static int set_path(struct aws_url *url, const char *s, size_t len, char *reason,
		    size_t reason_cap)
{
	struct wd_buf path, escaped;
	bool path_is_star;
	int rc;

	wd_buf_init(&path, 64, BI_STR_MAX);
	wd_buf_init(&escaped, 64, BI_STR_MAX);
	rc = url_unescape(s, len, MODE_PATH, &path, reason, reason_cap);
	if (rc == 0)
		rc = url_escape_path((const char *)wd_buf_str(&path), wd_buf_len(&path), &escaped);
	if (rc < 0)
		goto out;

	/* EscapedPath: the path as written when it differs from the default
	 * escaping and is a valid encoding, "*" as is, else the default. */
	path_is_star = wd_buf_len(&path) == 1 && wd_buf_str(&path)[0] == '*';
	if (wd_buf_len(&escaped) != len || memcmp(wd_buf_str(&escaped), s, len) != 0) {
		if (valid_encoded_path(s, len)) {
			url->escaped_path = strndup(s, len);
			url->raw_path = strndup(s, len);
		} else {
			url->escaped_path = strdup(path_is_star ? "*" : wd_buf_str(&escaped));
		}
	} else {
		url->escaped_path = strdup(path_is_star ? "*" : wd_buf_str(&escaped));
	}
	url->path = strdup(wd_buf_str(&path));
	rc = url->escaped_path && url->path ? 0 : WD_ENOMEM;
out:
	wd_buf_free(&path);
	wd_buf_free(&escaped);
	return rc;
}

static bool has_ctl_byte(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

/* Go's parse(rawURL, viaRequest=false) on the text before '#'. */
static int parse_main(struct aws_url *url, const char *s, size_t len, char *reason,
		      size_t reason_cap)
{
	const char *rest, *query;
	size_t scheme_len = 0, rest_len;
	struct wd_buf host;
	int rc;

	if (has_ctl_byte(s, len)) {
		snprintf(reason, reason_cap, "net/url: invalid control character in URL");
		return WD_EINVAL;
	}
	if (len == 1 && s[0] == '*')
		return set_path(url, s, len, reason, reason_cap);

	if (split_scheme(s, len, &scheme_len) < 0) {
		snprintf(reason, reason_cap, "missing protocol scheme");
		return WD_EINVAL;
	}
	rest = scheme_len ? s + scheme_len + 1 : s;
	rest_len = scheme_len ? len - scheme_len - 1 : len;
	url->scheme = strndup(s, scheme_len);
	if (!url->scheme)
		return WD_ENOMEM;
	for (char *p = url->scheme; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');

	/* A lone trailing '?' forces an empty query; otherwise the query is
	 * everything after the first '?'. */
	query = memchr(rest, '?', rest_len);
	if (query) {
		url->raw_query = strndup(query + 1, rest_len - (size_t)(query + 1 - rest));
		if (!url->raw_query)
			return WD_ENOMEM;
		rest_len = (size_t)(query - rest);
	}

	if (rest_len == 0 || rest[0] != '/') {
		const char *slash = memchr(rest, '/', rest_len);
		size_t segment = slash ? (size_t)(slash - rest) : rest_len;

		/* An opaque URL such as "mailto:x" has no host and no path. */
		if (scheme_len)
			return 0;
		if (memchr(rest, ':', segment)) {
			snprintf(reason, reason_cap,
				 "first path segment in URL cannot contain colon");
			return WD_EINVAL;
		}
	}

	if ((scheme_len || rest_len < 3 || memcmp(rest, "///", 3) != 0) && rest_len >= 2 &&
	    rest[0] == '/' && rest[1] == '/') {
		const char *authority = rest + 2;
		const char *slash = memchr(authority, '/', rest_len - 2);
		size_t auth_len = slash ? (size_t)(slash - authority) : rest_len - 2;

		wd_buf_init(&host, 64, BI_STR_MAX);
		rc = parse_authority(authority, auth_len, &host, reason, reason_cap);
		if (rc == 0) {
			url->host = strdup(wd_buf_str(&host));
			rc = url->host ? 0 : WD_ENOMEM;
		}
		wd_buf_free(&host);
		WD_TRY(rc);
		rest_len -= 2 + auth_len;
		rest = authority + auth_len;
	}
	return set_path(url, rest, rest_len, reason, reason_cap);
}

void aws_url_free(struct aws_url *url)
{
	if (!url)
		return;
	free(url->host);
	free(url->escaped_path);
	free(url->raw_query);
	free(url->scheme);
	free(url->path);
	free(url->raw_path);
	free(url->fragment);
	memset(url, 0, sizeof(*url));
}

int aws_url_parse(const char *text, size_t len, struct aws_url *ret_url, struct wd_buf *err)
{
	const char *hash = memchr(text, '#', len);
	size_t main_len = hash ? (size_t)(hash - text) : len;
	struct aws_url url = { 0 };
	char reason[160] = "";
	int rc;

	memset(ret_url, 0, sizeof(*ret_url));
	rc = parse_main(&url, text, main_len, reason, sizeof(reason));
	if (rc == WD_EINVAL) {
		rc = url_error(err, text, main_len, reason);
		goto out;
	}
	if (rc < 0)
		goto out;

	/* The fragment is not signed, but Go still rejects a bad escape in it. */
	if (hash) {
		struct wd_buf frag;

		wd_buf_init(&frag, 64, BI_STR_MAX);
		rc = url_unescape(hash + 1, len - main_len - 1, MODE_FRAGMENT, &frag, reason,
				  sizeof(reason));
		if (rc == 0) {
			url.fragment = strdup(wd_buf_str(&frag));
			rc = url.fragment ? 0 : WD_ENOMEM;
		}
		wd_buf_free(&frag);
		if (rc == WD_EINVAL)
			rc = url_error(err, text, len, reason);
		if (rc < 0)
			goto out;
	}

	if ((!url.host && !(url.host = strdup(""))) ||
	    (!url.escaped_path && !(url.escaped_path = strdup(""))) ||
	    (!url.raw_query && !(url.raw_query = strdup(""))) ||
	    (!url.scheme && !(url.scheme = strdup(""))) ||
	    (!url.path && !(url.path = strdup(""))) ||
	    (!url.raw_path && !(url.raw_path = strdup(""))) ||
	    (!url.fragment && !(url.fragment = strdup("")))) {
		rc = WD_ENOMEM;
		goto out;
	}
	*ret_url = url;
	return 0;
out:
	aws_url_free(&url);
	return rc;
}
