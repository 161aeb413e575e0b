/* Unit tests for random bytes and version 4 UUIDs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/random.h"

static void random_bytes_filled(void **state)
{
	uint8_t a[64] = { 0 }, b[64] = { 0 }, zero[64] = { 0 };

	(void)state;
	assert_int_equal(wd_random_bytes(a, sizeof(a)), 0);
	assert_int_equal(wd_random_bytes(b, sizeof(b)), 0);
	/* 2^-512 odds of a false failure. */
	assert_memory_not_equal(a, zero, sizeof(a));
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(wd_random_bytes(a, 0), 0);
}

static void random_uuid_format(void **state)
{
	char first[37], second[37];

	(void)state;
	for (int round = 0; round < 64; round++) {
		assert_int_equal(wd_random_uuid(first), 0);
		assert_int_equal(strlen(first), 36);
		for (size_t i = 0; i < 36; i++) {
			if (i == 8 || i == 13 || i == 18 || i == 23) {
				assert_int_equal(first[i], '-');
				continue;
			}
			assert_non_null(strchr("0123456789abcdef", first[i]));
		}
		/* Version 4, variant 10xx (RFC 4122 section 4.4). */
		assert_int_equal(first[14], '4');
		assert_non_null(strchr("89ab", first[19]));
	}
	assert_int_equal(wd_random_uuid(second), 0);
	assert_string_not_equal(first, second);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(random_bytes_filled),
		cmocka_unit_test(random_uuid_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
