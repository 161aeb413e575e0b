/* Route table: patterns with {name} segments, compiled once and matched
 * segment by segment so 404 and 405 come from one table walk. */
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "common/alloc.h"
#include "net/net_private.h"

struct method_name {
	const char *name;
	enum evhttp_cmd_type type;
};

/* libevent 2.1 gives every request method it does not know this one type
 * and keeps no copy of the name, so a route for Vault's "LIST" verb receives
 * any such method. Listeners without a LIST route reply 405 to them. */
#define EVHTTP_REQ_EXTENSION ((enum evhttp_cmd_type)(1 << 15))

static const struct method_name method_names[] = {
	{ "GET", EVHTTP_REQ_GET },
	{ "HEAD", EVHTTP_REQ_HEAD },
	{ "POST", EVHTTP_REQ_POST },
	{ "PUT", EVHTTP_REQ_PUT },
	{ "DELETE", EVHTTP_REQ_DELETE },
	{ "PATCH", EVHTTP_REQ_PATCH },
	{ "OPTIONS", EVHTTP_REQ_OPTIONS },
	{ "LIST", EVHTTP_REQ_EXTENSION },
};

const char *router_method_name(enum evhttp_cmd_type method)
{
	for (size_t i = 0; i < WD_ARRAY_LEN(method_names); i++) {
		if (method_names[i].type == method)
			return method_names[i].name;
	}
	return "UNKNOWN";
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_unreserved(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

char *router_path_normalize(const char *raw_path)
{
	static const char hex_upper[] = "0123456789ABCDEF";
	size_t len = strlen(raw_path);
	char *out = malloc(len + 1);
	size_t used = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		int high;
		int low;

		if (raw_path[i] != '%' || len - i < 3) {
			out[used++] = raw_path[i];
			continue;
		}
		high = hex_value(raw_path[i + 1]);
		low = hex_value(raw_path[i + 2]);
		if (high < 0 || low < 0) {
			out[used++] = raw_path[i];
			continue;
		}
		if (is_unreserved(high * 16 + low)) {
			out[used++] = (char)(high * 16 + low);
		} else {
			out[used++] = '%';
			out[used++] = hex_upper[high];
			out[used++] = hex_upper[low];
		}
		i += 2;
	}
	out[used] = '\0';
	return out;
}

static int method_parse(const char *name, enum evhttp_cmd_type *ret_type)
{
	for (size_t i = 0; i < WD_ARRAY_LEN(method_names); i++) {
		if (strcmp(method_names[i].name, name) == 0) {
			*ret_type = method_names[i].type;
			return 0;
		}
	}
	return WD_EINVAL;
}

static void route_free_segments(struct compiled_route *route)
{
	for (size_t i = 0; i < route->segment_count; i++) {
		free(route->segments[i].literal);
		free(route->segments[i].param_name);
	}
	free(route->segments);
	route->segments = NULL;
	route->segment_count = 0;
}

static int segment_compile(const char *text, size_t len, struct route_segment *ret_segment)
{
	size_t tail = 1;

	if (len >= 6 && text[0] == '{' && memcmp(text + len - 4, "...}", 4) == 0) {
		ret_segment->rest = true;
		tail = 4;
	}
	if (len >= 2 + tail && text[0] == '{' && text[len - 1] == '}') {
		size_t name_len = len - 1 - tail;

		if (memchr(text + 1, '{', name_len) || memchr(text + 1, '}', name_len) ||
		    memchr(text + 1, '.', name_len))
			return WD_EINVAL;
		ret_segment->param_name = wd_strndup(text + 1, name_len);
		return ret_segment->param_name ? 0 : WD_ENOMEM;
	}
	if (len == 0 || memchr(text, '{', len) || memchr(text, '}', len))
		return WD_EINVAL;
	ret_segment->literal = wd_strndup(text, len);
	return ret_segment->literal ? 0 : WD_ENOMEM;
}

/* Splits "/a/{b}/c" into its segments; "/" alone has none. */
static int pattern_compile(const char *pattern, struct compiled_route *route)
{
	const char *p = pattern + 1;
	int rc = 0;

	route->segments = wd_calloc(ROUTER_MAX_SEGMENTS, sizeof(*route->segments));
	if (!route->segments)
		return WD_ENOMEM;
	if (*p == '\0')
		return 0;

	for (;;) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);

		WD_ENSURE(route->segment_count < ROUTER_MAX_SEGMENTS, WD_ETOOBIG);
		WD_GUARD(segment_compile(p, len, &route->segments[route->segment_count]));
		route->segment_count++;
		if (!slash)
			break;
		/* A {name...} segment swallows the rest of the path, so it must
		 * come last. */
		WD_ENSURE(!route->segments[route->segment_count - 1].rest, WD_EINVAL);
		p = slash + 1;
	}
out:
	return rc;
}

int router_compile(struct router *router, const struct net_route *routes, size_t count,
	struct wd_error *err)
{
	int rc = 0;

	router->routes = NULL;
	router->count = 0;
	if (count == 0)
		return 0;
	router->routes = wd_calloc(count, sizeof(*router->routes));
	if (!router->routes)
		return wd_error_set(err, WD_ENOMEM, "out of memory compiling %zu routes", count);

	for (size_t i = 0; i < count; i++) {
		struct compiled_route *route = &router->routes[i];
		const struct net_route *src = &routes[i];

		router->count = i + 1;
		if (!src->method || !src->pattern || !src->handler || src->pattern[0] != '/') {
			rc = wd_error_set(err, WD_EINVAL, "route %zu needs a method, a pattern "
				"starting with \"/\" and a handler", i);
			goto out;
		}
		if (method_parse(src->method, &route->method) < 0) {
			rc = wd_error_set(err, WD_EINVAL, "route %s: unsupported method \"%s\"",
				src->pattern, src->method);
			goto out;
		}
		rc = pattern_compile(src->pattern, route);
		if (rc < 0) {
			rc = wd_error_set(err, rc, "route pattern \"%s\" is invalid: segments "
				"must be non-empty literals, {name} or a final {name...}, at most %u", src->pattern,
				ROUTER_MAX_SEGMENTS);
			goto out;
		}
		route->route = *src;
	}
out:
	if (rc < 0)
		router_clear(router);
	return rc;
}

void router_clear(struct router *router)
{
	for (size_t i = 0; i < router->count; i++)
		route_free_segments(&router->routes[i]);
	free(router->routes);
	router->routes = NULL;
	router->count = 0;
}

/* The raw (still percent-encoded) segments of a request path. */
struct path_segments {
	const char *start[ROUTER_MAX_SEGMENTS];
	size_t len[ROUTER_MAX_SEGMENTS];
	size_t count;
};

static int path_split(const char *path, struct path_segments *ret_segments)
{
	const char *p;

	ret_segments->count = 0;
	if (path[0] != '/')
		return WD_ENOTFOUND;
	p = path + 1;
	if (*p == '\0')
		return 0;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);

		if (ret_segments->count == ROUTER_MAX_SEGMENTS)
			return WD_ENOTFOUND;
		ret_segments->start[ret_segments->count] = p;
		ret_segments->len[ret_segments->count] = len;
		ret_segments->count++;
		if (!slash)
			return 0;
		p = slash + 1;
	}
}

static bool route_has_rest(const struct compiled_route *route)
{
	return route->segment_count > 0 && route->segments[route->segment_count - 1].rest;
}

static bool route_matches_path(const struct compiled_route *route,
	const struct path_segments *segments)
{
	bool rest = route_has_rest(route);

	if (rest ? segments->count < route->segment_count
		 : route->segment_count != segments->count)
		return false;
	for (size_t i = 0; i < segments->count; i++) {
		if (i >= route->segment_count) {
			/* Segments under a {name...} parameter may be empty only
			 * where the route allows it (Vault's folder paths:
			 * "LIST /v1/secret/metadata/"). */
			if (segments->len[i] == 0 && !route->route.rest_empty_segments)
				return false;
			continue;
		}
		const struct route_segment *seg = &route->segments[i];

		if (seg->literal) {
			if (strlen(seg->literal) != segments->len[i] ||
			    memcmp(seg->literal, segments->start[i], segments->len[i]) != 0)
				return false;
		} else if (segments->len[i] == 0) {
			return false;
		}
	}
	return true;
}

/* Decodes the parameter segments of the matched route into req->params.
 * A value that decodes to a NUL byte is invalid. */
static int params_decode(const struct compiled_route *route,
	const struct path_segments *segments, struct net_request *req)
{
	for (size_t i = 0; i < segments->count; i++) {
		const struct route_segment *seg = &route->segments[i];
		char *raw;
		char *value;
		size_t value_len = 0;

		if (seg->literal)
			continue;
		if (seg->rest) {
			const char *end = segments->start[segments->count - 1] +
					  segments->len[segments->count - 1];

			raw = wd_strndup(segments->start[i], (size_t)(end - segments->start[i]));
			i = segments->count;
		} else {
			raw = wd_strndup(segments->start[i], segments->len[i]);
		}
		if (!raw)
			return WD_ENOMEM;
		value = evhttp_uridecode(raw, 0, &value_len);
		free(raw);
		if (!value)
			return WD_ENOMEM;
		if (strlen(value) != value_len) {
			free(value);
			return WD_EINVAL;
		}
		req->params[req->param_count].name = seg->param_name;
		req->params[req->param_count].value = value;
		req->param_count++;
	}
	return 0;
}

static void allow_append(char *allow, size_t allow_len, enum evhttp_cmd_type method)
{
	const char *name = router_method_name(method);
	size_t used = strlen(allow);

	if (strstr(allow, name))
		return;
	if (used + strlen(name) + 3 > allow_len)
		return;
	if (used > 0) {
		memcpy(allow + used, ", ", 2);
		used += 2;
	}
	memcpy(allow + used, name, strlen(name) + 1);
}

int router_match(const struct router *router, enum evhttp_cmd_type method, const char *path,
	struct net_request *req, const struct compiled_route **ret_route, char *allow,
	size_t allow_len)
{
	struct path_segments segments;
	bool path_known = false;

	*ret_route = NULL;
	if (allow_len > 0)
		allow[0] = '\0';
	if (path_split(path, &segments) < 0)
		return WD_ENOTFOUND;

	for (size_t i = 0; i < router->count; i++) {
		const struct compiled_route *route = &router->routes[i];
		int rc;

		if (!route_matches_path(route, &segments))
			continue;
		path_known = true;
		if (route->method != method) {
			allow_append(allow, allow_len, route->method);
			continue;
		}
		rc = params_decode(route, &segments, req);
		if (rc < 0)
			return rc;
		*ret_route = route;
		return 0;
	}
	return path_known ? WD_EPERM : WD_ENOTFOUND;
}
