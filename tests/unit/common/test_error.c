/* Unit tests for the error vocabulary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "common/error.h"

static void error_messages_known(void **state)
{
	(void)state;
	assert_string_equal(wd_strerror(WD_EINVAL), "invalid input");
	assert_string_equal(wd_error_name(WD_ENOTFOUND), "ENOTFOUND");
	assert_int_equal(wd_error_http_status(WD_EAUTH), 401);
	assert_int_equal(wd_error_http_status(WD_EPERM), 403);
	assert_int_equal(wd_error_http_status(WD_ETOOBIG), 413);
}

static void error_rate_limit_is_429(void **state)
{
	(void)state;
	assert_string_equal(wd_error_name(WD_ERATELIMIT), "ERATELIMIT");
	assert_int_equal(wd_error_http_status(WD_ERATELIMIT), 429);
	assert_int_equal(WD_ERROR_MIN, WD_ERATELIMIT);
}

static void error_unknown_code_is_internal(void **state)
{
	(void)state;
	assert_string_equal(wd_error_name(-9999), "EINTERNAL");
	assert_string_equal(wd_error_name(5), "EINTERNAL");
	assert_int_equal(wd_error_http_status(-9999), 500);
}

static void error_every_code_named(void **state)
{
	(void)state;
	for (int code = WD_ERROR_MIN; code < 0; code++) {
		assert_non_null(wd_strerror(code));
		assert_string_not_equal(wd_error_name(code), "OK");
		assert_true(wd_error_http_status(code) >= 400);
	}
}

static void error_set_records_detail(void **state)
{
	struct wd_error err;

	(void)state;
	wd_error_clear(&err);
	assert_string_equal(wd_error_text(&err), "success");

	assert_int_equal(wd_error_set(&err, WD_EINVAL, "invalid SPIFFE ID \"%s\"", "x"), WD_EINVAL);
	assert_int_equal(err.code, WD_EINVAL);
	assert_string_equal(wd_error_text(&err), "invalid SPIFFE ID \"x\"");

	assert_int_equal(wd_error_set(NULL, WD_EIO, "ignored"), WD_EIO);
}

static void error_detail_truncates(void **state)
{
	struct wd_error err;
	char big[2000];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	wd_error_set(&err, WD_EINVAL, "%s", big);
	assert_int_equal(strlen(err.detail), sizeof(err.detail) - 1);
}

static void error_public_text_hides_detail(void **state)
{
	struct wd_error err;

	(void)state;
	wd_error_set(&err, WD_EUNAVAILABLE, "cannot connect to database \"app\" at \"db1:5432\"");
	assert_string_equal(wd_error_public_text(&err), wd_error_text(&err));

	wd_error_set_public(&err, "datastore unavailable");
	assert_string_equal(wd_error_public_text(&err), "datastore unavailable");
	assert_string_equal(wd_error_text(&err), "cannot connect to database \"app\" at \"db1:5432\"");

	/* A new detail is public again. */
	wd_error_set(&err, WD_EINVAL, "invalid limit \"x\"");
	assert_string_equal(wd_error_public_text(&err), "invalid limit \"x\"");

	wd_error_set_public(&err, "datastore unavailable");
	wd_error_clear(&err);
	assert_string_equal(wd_error_public_text(&err), "success");

	wd_error_set_public(NULL, "ignored");
	assert_string_equal(wd_error_public_text(NULL), wd_strerror(WD_EINTERNAL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(error_messages_known),
		cmocka_unit_test(error_rate_limit_is_429),
		cmocka_unit_test(error_unknown_code_is_internal),
		cmocka_unit_test(error_every_code_named),
		cmocka_unit_test(error_set_records_detail),
		cmocka_unit_test(error_detail_truncates),
		cmocka_unit_test(error_public_text_hides_detail),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
