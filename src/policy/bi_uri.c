/* uri.parse and uri.is_valid: Go's url.Parse as OPA calls it, with the
 * parts OPA reports as strings. */
#include <string.h>

#include "common/error.h"
#include "policy/bi_aws.h"
#include "policy/bi_str_util.h"
#include "policy/bi_uri.h"

/* Go's validOptionalPort: empty, or ':' followed by digits. */
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

/* url.URL.Hostname and Port: the port after the last ':' when it is one,
 * and the host without IPv6 brackets. */
static void host_split(const char *host, const char **ret_name, size_t *ret_name_len,
		       const char **ret_port, size_t *ret_port_len)
{
	size_t len = strlen(host);
	const char *colon = strrchr(host, ':');

	*ret_port = "";
	*ret_port_len = 0;
	if (colon && valid_optional_port(colon, len - (size_t)(colon - host))) {
		*ret_port = colon + 1;
		*ret_port_len = len - (size_t)(colon - host) - 1;
		len = (size_t)(colon - host);
	}
	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		host++;
		len -= 2;
	}
	*ret_name = host;
	*ret_name_len = len;
}

static int put_part(struct rv *obj, const char *key, const char *text, size_t len)
{
	if (len == 0)
		return 0;
	return rv_object_put(obj, rv_cstring(key), rv_string(text, len));
}

int bi_uri_parse(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	struct aws_url url = { 0 };
	struct wd_buf err;
	const char *text;
	size_t len;
	const char *name, *port;
	size_t name_len, port_len;
	struct rv *obj = NULL;
	int rc;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &text, &len));

	wd_buf_init(&err, 128, 4096);
	rc = aws_url_parse(text, len, &url, &err);
	if (rc == WD_EINVAL) {
		rc = rego_bi_error(ctx, "%s", wd_buf_str(&err));
		goto out;
	}
	if (rc < 0)
		goto out;

	obj = rv_object_new(8);
	WD_ENSURE(obj, WD_ENOMEM);
	host_split(url.host, &name, &name_len, &port, &port_len);
	WD_GUARD(put_part(obj, "scheme", url.scheme, strlen(url.scheme)));
	WD_GUARD(put_part(obj, "hostname", name, name_len));
	WD_GUARD(put_part(obj, "port", port, port_len));
	if (url.path[0]) {
		/* raw_path is there whenever path is, for callers that
		 * normalise paths themselves. */
		WD_GUARD(put_part(obj, "path", url.path, strlen(url.path)));
		WD_GUARD(put_part(obj, "raw_path", url.raw_path[0] ? url.raw_path : url.path,
				  strlen(url.raw_path[0] ? url.raw_path : url.path)));
	}
	WD_GUARD(put_part(obj, "raw_query", url.raw_query, strlen(url.raw_query)));
	WD_GUARD(put_part(obj, "fragment", url.fragment, strlen(url.fragment)));
	*ret = WD_TAKE_PTR(obj);
out:
	rv_unref(obj);
	aws_url_free(&url);
	wd_buf_free(&err);
	return rc;
}

int bi_uri_is_valid(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		    struct rv **ret)
{
	struct aws_url url = { 0 };
	struct wd_buf err;
	int rc;

	(void)ctx;
	(void)nargs;
	/* A non-string is simply not a valid URI, and the empty string is
	 * refused although RFC 3986 allows it as a relative reference. */
	if (!rv_is(args[0], RV_STRING) || rv_str_len(args[0]) == 0) {
		*ret = rv_bool(false);
		return 0;
	}
	wd_buf_init(&err, 128, 4096);
	rc = aws_url_parse(rv_str(args[0]), rv_str_len(args[0]), &url, &err);
	aws_url_free(&url);
	wd_buf_free(&err);
	if (rc < 0 && rc != WD_EINVAL)
		return rc;
	*ret = rv_bool(rc == 0);
	return 0;
}
