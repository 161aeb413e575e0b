/* Unit tests of net_https_origin_parse: the accepted forms of a server URL
 * and the exact error of each rejected one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "net/net_client.h"

static void expect_origin(const char *url, const char *host, uint16_t port)
{
	struct wd_error err;
	char parsed[64] = "";
	uint16_t parsed_port = 0;

	wd_error_clear(&err);
	assert_int_equal(net_https_origin_parse(url, "server URL", parsed, sizeof(parsed),
		&parsed_port, &err), 0);
	assert_string_equal(parsed, host);
	assert_int_equal(parsed_port, port);
}

static void expect_rejected(const char *url, const char *message)
{
	struct wd_error err;
	char host[16] = "untouched";
	uint16_t port = 7;

	wd_error_clear(&err);
	assert_int_equal(net_https_origin_parse(url, "server URL", host, sizeof(host), &port,
		&err), WD_ECONFIG);
	assert_string_equal(wd_error_text(&err), message);
	assert_string_equal(host, "untouched");
	assert_int_equal(port, 7);
}

static void test_origin_accepted(void **state)
{
	(void)state;
	expect_origin("https://127.0.0.1:8081", "127.0.0.1", 8081);
	expect_origin("https://server.example:8081/", "server.example", 8081);
	expect_origin("https://server.example", "server.example", 443);
	expect_origin("https://[::1]:9000", "::1", 9000);
	expect_origin("https://[fe80::1]", "fe80::1", 443);
}

static void test_origin_rejected(void **state)
{
	(void)state;
	expect_rejected("http://127.0.0.1:1",
		"server URL \"http://127.0.0.1:1\" does not start with https://");
	expect_rejected(NULL, "server URL \"\" does not start with https://");
	expect_rejected("https://[::1:9000", "server URL \"https://[::1:9000\" has no closing ]");
	expect_rejected("https://:8081", "server URL \"https://:8081\" has an invalid host");
	expect_rejected("https://a-host-name-too-long.example:1",
		"server URL \"https://a-host-name-too-long.example:1\" has an invalid host");
	expect_rejected("https://h:0", "server URL \"https://h:0\" has an invalid port");
	expect_rejected("https://h:65536", "server URL \"https://h:65536\" has an invalid port");
	expect_rejected("https://h:", "server URL \"https://h:\" has an invalid port");
	expect_rejected("https://h:8081/v1/x",
		"server URL \"https://h:8081/v1/x\" has a path; give only https://host:port");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_origin_accepted),
		cmocka_unit_test(test_origin_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
