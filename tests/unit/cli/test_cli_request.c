/* Unit tests for entry request bodies built from options and for the
 * percent-encoded URLs of the admin API. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli_request.h"
#include "common/error.h"

/* Returns the body as compact JSON with sorted keys; the caller frees it. */
static char *body_text(const struct cli_entry_options *options)
{
	json_t *body = NULL;
	char *text;

	assert_int_equal(cli_entry_request(options, &body), 0);
	text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(body);
	assert_non_null(text);
	return text;
}

static void entry_request_all_fields(void **state)
{
	const char *selectors[] = { "unix:uid:1000", "unix:gid:50" };
	const char *dns_names[] = { "web.example.org" };
	struct cli_entry_options options = {
		.spiffe_id = "spiffe://example.org/web",
		.parent_id = "spiffe://example.org/agent",
		.selectors = { selectors, 2 },
		.dns_names = { dns_names, 1 },
		.has_x509_svid_ttl = true,
		.x509_svid_ttl = 3600,
		.has_jwt_svid_ttl = true,
		.jwt_svid_ttl = 0,
		.has_admin = true,
		.admin = true,
		.has_require_signed = true,
		.require_signed = true,
	};
	char *text;

	(void)state;
	text = body_text(&options);
	assert_string_equal(text,
		"{\"admin\":true,\"dns_names\":[\"web.example.org\"],\"jwt_svid_ttl\":0,"
		"\"parent_id\":\"spiffe://example.org/agent\",\"require_signed\":true,"
		"\"selectors\":[\"unix:uid:1000\",\"unix:gid:50\"],"
		"\"spiffe_id\":\"spiffe://example.org/web\",\"x509_svid_ttl\":3600}");
	free(text);
}

static void entry_request_only_given_fields(void **state)
{
	const char *selectors[] = { "k8s:ns:prod" };
	struct cli_entry_options none = { 0 };
	struct cli_entry_options partial = {
		.selectors = { selectors, 1 },
		.has_admin = true,
		.admin = false,
	};
	struct cli_entry_options flag_only = {
		.has_require_signed = true,
		.require_signed = false,
	};
	char *text;

	(void)state;
	assert_false(cli_entry_options_any(&none));
	text = body_text(&none);
	assert_string_equal(text, "{}");
	free(text);

	assert_true(cli_entry_options_any(&partial));
	text = body_text(&partial);
	assert_string_equal(text, "{\"admin\":false,\"selectors\":[\"k8s:ns:prod\"]}");
	free(text);

	assert_true(cli_entry_options_any(&flag_only));
	text = body_text(&flag_only);
	assert_string_equal(text, "{\"require_signed\":false}");
	free(text);
}

static void url_segment_encoding(void **state)
{
	struct wd_buf url;

	(void)state;
	assert_int_equal(cli_url_init(&url, "/v1/entries"), 0);
	assert_int_equal(cli_url_append_segment(&url, "a b/c?d%e"), 0);
	assert_string_equal(wd_buf_str(&url), "/v1/entries/a%20b%2Fc%3Fd%25e");
	wd_buf_free(&url);

	assert_int_equal(cli_url_init(&url, "/v1/entries"), 0);
	assert_int_equal(cli_url_append_segment(&url, "6f1c-AZaz09._~"), 0);
	assert_string_equal(wd_buf_str(&url), "/v1/entries/6f1c-AZaz09._~");
	wd_buf_free(&url);
}

static void url_query_encoding(void **state)
{
	struct wd_buf url;

	(void)state;
	assert_int_equal(cli_url_init(&url, "/v1/entries"), 0);
	assert_int_equal(cli_url_append_query(&url, "spiffe_id", "spiffe://example.org/web"), 0);
	assert_int_equal(cli_url_append_query(&url, "selector", "unix:uid:1000 +&="), 0);
	assert_string_equal(wd_buf_str(&url),
		"/v1/entries?spiffe_id=spiffe%3A%2F%2Fexample.org%2Fweb"
		"&selector=unix%3Auid%3A1000%20%2B%26%3D");
	wd_buf_free(&url);

	/* Bytes outside ASCII are encoded one by one. */
	assert_int_equal(cli_url_init(&url, "/x"), 0);
	assert_int_equal(cli_url_append_query(&url, "v", "\xc3\xa9"), 0);
	assert_string_equal(wd_buf_str(&url), "/x?v=%C3%A9");
	wd_buf_free(&url);
}

static void url_ceiling(void **state)
{
	struct wd_buf url;
	char *long_value = malloc(CLI_URL_MAX);

	(void)state;
	assert_non_null(long_value);
	memset(long_value, 'a', CLI_URL_MAX - 1);
	long_value[CLI_URL_MAX - 1] = '\0';
	assert_int_equal(cli_url_init(&url, "/v1/entries"), 0);
	assert_int_equal(cli_url_append_query(&url, "spiffe_id", long_value), WD_ETOOBIG);
	wd_buf_free(&url);
	free(long_value);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(entry_request_all_fields),
		cmocka_unit_test(entry_request_only_given_fields),
		cmocka_unit_test(url_segment_encoding),
		cmocka_unit_test(url_query_encoding),
		cmocka_unit_test(url_ceiling),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
