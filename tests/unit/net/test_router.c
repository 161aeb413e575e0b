/* Route matching: literal and {name} segments, and the trailing {name...}
 * parameter that OPA-style APIs use for document paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/net_private.h"

static int dummy_handler(struct net_request *req, void *arg, struct wd_error *err)
{
	(void)req;
	(void)arg;
	(void)err;
	return 0;
}

static const struct net_route test_routes[] = {
	{ "GET", "/v1/data", dummy_handler, NULL, NET_AUTH_NONE, false },
	{ "GET", "/v1/data/{path...}", dummy_handler, NULL, NET_AUTH_NONE, false },
	{ "PUT", "/v1/policies/{id...}", dummy_handler, NULL, NET_AUTH_NONE, false },
	{ "GET", "/v1/entries/{id}", dummy_handler, NULL, NET_AUTH_NONE, false },
};

static void request_clear(struct net_request *req)
{
	for (size_t i = 0; i < req->param_count; i++)
		free(req->params[i].value);
	memset(req, 0, sizeof(*req));
}

/* Matches path with GET and returns the index of the route, or -1. */
static int match(struct router *router, enum evhttp_cmd_type method, const char *path,
	struct net_request *req, int *ret_rc)
{
	const struct compiled_route *route = NULL;
	char allow[64];

	*ret_rc = router_match(router, method, path, req, &route, allow, sizeof(allow));
	return route ? (int)(route - router->routes) : -1;
}

static void rest_parameter_takes_the_remaining_path(void **state)
{
	struct router router;
	struct net_request req;
	int rc;

	(void)state;
	memset(&req, 0, sizeof(req));
	assert_int_equal(router_compile(&router, test_routes, 4, NULL), 0);

	assert_int_equal(match(&router, EVHTTP_REQ_GET, "/v1/data/a/b/c", &req, &rc), 1);
	assert_int_equal(rc, 0);
	assert_int_equal(req.param_count, 1);
	assert_string_equal(req.params[0].name, "path");
	assert_string_equal(req.params[0].value, "a/b/c");
	request_clear(&req);

	assert_int_equal(match(&router, EVHTTP_REQ_GET, "/v1/data/single", &req, &rc), 1);
	assert_string_equal(req.params[0].value, "single");
	request_clear(&req);

	/* The bare prefix goes to its own literal route, not the rest one. */
	assert_int_equal(match(&router, EVHTTP_REQ_GET, "/v1/data", &req, &rc), 0);
	assert_int_equal(req.param_count, 0);
	request_clear(&req);

	assert_int_equal(match(&router, EVHTTP_REQ_PUT, "/v1/policies/example/authz%20x", &req,
		&rc), 2);
	assert_string_equal(req.params[0].value, "example/authz x");
	request_clear(&req);

	router_clear(&router);
}

static void rest_parameter_refuses_empty_segments(void **state)
{
	struct router router;
	struct net_request req;
	int rc;

	(void)state;
	memset(&req, 0, sizeof(req));
	assert_int_equal(router_compile(&router, test_routes, 4, NULL), 0);

	assert_int_equal(match(&router, EVHTTP_REQ_GET, "/v1/data/a//b", &req, &rc), -1);
	assert_int_equal(rc, WD_ENOTFOUND);
	assert_int_equal(match(&router, EVHTTP_REQ_GET, "/v1/data/a/", &req, &rc), -1);
	assert_int_equal(rc, WD_ENOTFOUND);
	/* A route that allows it takes empty segments under its rest
	 * parameter: a trailing slash and "//". */
	router_clear(&router);
	{
		struct net_route vault_routes[] = { test_routes[1] };

		vault_routes[0].rest_empty_segments = true;
		assert_int_equal(router_compile(&router, vault_routes, 1, NULL), 0);
		assert_int_equal(match(&router, EVHTTP_REQ_GET, "/v1/data/a/", &req, &rc), 0);
		assert_string_equal(req.params[0].value, "a/");
		request_clear(&req);
		assert_int_equal(match(&router, EVHTTP_REQ_GET, "/v1/data/a//b", &req, &rc), 0);
		assert_string_equal(req.params[0].value, "a//b");
		request_clear(&req);
		router_clear(&router);
		assert_int_equal(router_compile(&router, test_routes, 4, NULL), 0);
	}
	/* A plain {name} still matches exactly one segment. */
	assert_int_equal(match(&router, EVHTTP_REQ_GET, "/v1/entries/a/b", &req, &rc), -1);
	assert_int_equal(rc, WD_ENOTFOUND);
	request_clear(&req);

	router_clear(&router);
}

static void rest_parameter_must_be_last(void **state)
{
	static const struct net_route bad[] = {
		{ "GET", "/v1/{path...}/tail", dummy_handler, NULL, NET_AUTH_NONE, false },
	};
	struct router router;
	struct wd_error err = { 0 };

	(void)state;
	assert_int_equal(router_compile(&router, bad, 1, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "a final {name...}"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rest_parameter_takes_the_remaining_path),
		cmocka_unit_test(rest_parameter_refuses_empty_segments),
		cmocka_unit_test(rest_parameter_must_be_last),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
