/* Request decoding of the secrets API: verbs to operations, list queries,
 * path cleaning and body parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "secrets/secrets_internal.h"

static int decode(const char *method, const char *path, const char *list, const char *body,
	struct vault_request *req, struct wd_error *err)
{
	wd_error_clear(err);
	return vault_request_decode(method, path, list, body, body ? strlen(body) : 0,
		"application/json", req, err);
}

static void test_verbs(void **state)
{
	struct vault_request req;
	struct wd_error err;

	(void)state;
	assert_int_equal(decode("GET", "/v1/secret/data/a", NULL, NULL, &req, &err), 0);
	assert_int_equal(req.op, VAULT_OP_READ);
	assert_string_equal(req.path, "secret/data/a");
	assert_int_equal(json_object_size(req.body), 0);
	vault_request_clear(&req);

	assert_int_equal(decode("PUT", "/v1/secret/data/a", NULL, "{\"data\":{\"k\":\"v\"}}", &req,
		&err), 0);
	assert_int_equal(req.op, VAULT_OP_UPDATE);
	assert_string_equal(json_string_value(json_object_get(json_object_get(req.body, "data"),
		"k")), "v");
	vault_request_clear(&req);

	assert_int_equal(decode("LIST", "/v1/secret/metadata", NULL, NULL, &req, &err), 0);
	assert_int_equal(req.op, VAULT_OP_LIST);
	assert_string_equal(req.path, "secret/metadata/");
	vault_request_clear(&req);

	/* hvac's legacy list sends ?list=True, which Go's ParseBool accepts. */
	assert_int_equal(decode("GET", "/v1/secret/metadata/", "True", NULL, &req, &err), 0);
	assert_int_equal(req.op, VAULT_OP_LIST);
	assert_string_equal(req.path, "secret/metadata/");
	vault_request_clear(&req);

	assert_int_equal(decode("DELETE", "/v1/secret/data/a", "false", NULL, &req, &err), 0);
	assert_int_equal(req.op, VAULT_OP_DELETE);
	vault_request_clear(&req);
}

static void test_refusals(void **state)
{
	struct vault_request req;
	struct wd_error err;

	(void)state;
	assert_int_equal(decode("GET", "/v1/secret/../sys/seal", NULL, NULL, &req, &err), WD_EINVAL);
	assert_string_equal(err.detail, "invalid path segment \"..\"");
	assert_int_equal(decode("GET", "/v2/secret", NULL, NULL, &req, &err), WD_ENOTFOUND);
	assert_int_equal(decode("GET", "/v1/a", "maybe", NULL, &req, &err), WD_EINVAL);
	assert_string_equal(err.detail, "invalid value for \"list\": \"maybe\"");
	assert_int_equal(decode("BREW", "/v1/a", NULL, NULL, &req, &err), WD_EUNSUPPORTED);
	assert_int_equal(decode("POST", "/v1/a", NULL, "{\"a\":", &req, &err), WD_EINVAL);
	assert_int_equal(strncmp(err.detail, "failed to parse JSON input: invalid JSON at line 1",
		50), 0);
	assert_null(strstr(err.detail + 10, "failed to parse"));
	assert_int_equal(decode("POST", "/v1/a", NULL, "[1]", &req, &err), WD_EINVAL);
	assert_int_equal(decode("POST", "/v1/a", NULL, "{\"a\":1,\"a\":2}", &req, &err), WD_EINVAL);
}

static void test_path_cleaning(void **state)
{
	struct vault_request req;
	struct wd_error err;

	(void)state;
	/* hvac collapses "//" itself; a client that does not gets the same path. */
	assert_int_equal(decode("GET", "/v1//secret//data/a", NULL, NULL, &req, &err), 0);
	assert_string_equal(req.path, "secret/data/a");
	vault_request_clear(&req);
	assert_int_equal(decode("GET", "/v1/secret/data/a/", NULL, NULL, &req, &err), 0);
	assert_string_equal(req.path, "secret/data/a/");
	vault_request_clear(&req);
	assert_int_equal(decode("GET", "/v1/a\x01" "b", NULL, NULL, &req, &err), WD_EINVAL);
}

static void test_ttl_and_durations(void **state)
{
	int64_t seconds = -1;
	char text[32];

	(void)state;
	assert_int_equal(vault_parse_duration("1h30m", &seconds), 0);
	assert_int_equal(seconds, 5400);
	assert_int_equal(vault_parse_duration("768h", &seconds), 0);
	assert_int_equal(seconds, 2764800);
	assert_int_equal(vault_parse_duration("90", &seconds), 0);
	assert_int_equal(seconds, 90);
	assert_int_equal(vault_parse_duration("1.5m", &seconds), 0);
	assert_int_equal(seconds, 90);
	assert_int_equal(vault_parse_duration("10x", &seconds), WD_EINVAL);
	assert_int_equal(vault_parse_duration("-5s", &seconds), WD_EINVAL);
	assert_int_equal(vault_parse_duration("", &seconds), WD_EINVAL);
	{
		json_t *body = json_pack("{s:I, s:s, s:I}", "huge", (json_int_t)INT64_MAX,
			"century", "876000h", "negative", (json_int_t)-1);
		struct wd_error err;

		wd_error_clear(&err);
		assert_int_equal(vault_json_ttl(body, "huge", &seconds, &err), WD_EINVAL);
		assert_string_equal(err.detail, "huge: duration of 9223372036854775807 seconds is "
			"above the limit of 3153600000");
		assert_int_equal(vault_json_ttl(body, "century", &seconds, &err), 1);
		assert_int_equal(seconds, 3153600000);
		assert_int_equal(vault_json_ttl(body, "negative", &seconds, &err), WD_EINVAL);
		assert_int_equal(vault_json_ttl(body, "absent", &seconds, &err), 0);
		json_decref(body);
	}
	vault_format_duration(2764800, text, sizeof(text));
	assert_string_equal(text, "768h0m0s");
	vault_format_duration(61, text, sizeof(text));
	assert_string_equal(text, "1m1s");
}

static void test_calculate_ttl(void **state)
{
	struct secrets secrets = { 0 };
	struct vault_mount mount = { 0 };
	struct wd_error err;
	char warning[256];
	int64_t ttl = 0;

	(void)state;
	wd_error_clear(&err);
	/* No TTL anywhere: the system default of 768 hours. */
	assert_int_equal(vault_calculate_ttl(&secrets, &mount, 1000, 1000, 0, 0, 0, &ttl, warning,
		&err), 0);
	assert_int_equal(ttl, 2764800);
	assert_string_equal(warning, "");

	/* The role's max caps an increment, counted from the issue time. */
	assert_int_equal(vault_calculate_ttl(&secrets, &mount, 1100, 1000, 500, 60, 300, &ttl,
		warning, &err), 0);
	assert_int_equal(ttl, 200);
	assert_string_equal(warning, "TTL of \"8m20s\" exceeded the effective max_ttl of "
		"\"3m20s\"; TTL value is capped accordingly");

	/* The mount's max is below the role's. */
	mount.max_lease_ttl = 100;
	assert_int_equal(vault_calculate_ttl(&secrets, &mount, 1000, 1000, 0, 60, 300, &ttl, NULL,
		&err), 0);
	assert_int_equal(ttl, 60);
	assert_int_equal(vault_calculate_ttl(&secrets, &mount, 1000, 1000, 150, 60, 300, &ttl, NULL,
		&err), 0);
	assert_int_equal(ttl, 100);

	assert_int_equal(vault_calculate_ttl(&secrets, &mount, 1100, 1000, 10, 0, 0, &ttl, NULL,
		&err), WD_EINVAL);
	assert_string_equal(err.detail, "past the max TTL, cannot renew");
}

static void test_random_ids(void **state)
{
	char a[25];
	char b[25];
	char uuid[37];

	(void)state;
	assert_int_equal(vault_random_base62(a, 24), 0);
	assert_int_equal(vault_random_base62(b, 24), 0);
	assert_int_equal(strlen(a), 24);
	assert_int_equal(strspn(a, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"),
		24);
	assert_string_not_equal(a, b);
	assert_int_equal(vault_random_uuid(uuid), 0);
	assert_int_equal(strlen(uuid), 36);
	assert_int_equal(uuid[14], '4');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verbs),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_path_cleaning),
		cmocka_unit_test(test_ttl_and_durations),
		cmocka_unit_test(test_calculate_ttl),
		cmocka_unit_test(test_random_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
