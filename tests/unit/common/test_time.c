/* Unit tests for clocks, RFC 3339 timestamps and durations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/time.h"

static void time_now_is_sane(void **state)
{
	int64_t seconds = wd_now();
	int64_t ms = wd_now_ms();

	(void)state;
	/* After 2024-01-01 and before 2200-01-01. */
	assert_true(seconds > 1704067200);
	assert_true(seconds < 7258118400);
	assert_true(ms / 1000 - seconds <= 1);
	assert_true(wd_monotonic_ms() >= 0);
}

static void time_format_known_values(void **state)
{
	char text[WD_TIME_TEXT_MAX];

	(void)state;
	assert_int_equal(wd_time_format(0, text), 0);
	assert_string_equal(text, "1970-01-01T00:00:00Z");
	assert_int_equal(wd_time_format(1796416430, text), 0);
	assert_string_equal(text, "2026-12-04T20:33:50Z");
	assert_int_equal(wd_time_format_ms(1796416430123, text), 0);
	assert_string_equal(text, "2026-12-04T20:33:50.123Z");
	assert_int_equal(wd_time_format_ms(-1, text), 0);
	assert_string_equal(text, "1969-12-31T23:59:59.999Z");
	assert_int_equal(wd_time_format(253402300799, text), 0);
	assert_string_equal(text, "9999-12-31T23:59:59Z");
	assert_int_equal(wd_time_format(253402300800, text), WD_EINVAL);
	assert_string_equal(text, "");
	assert_int_equal(wd_time_format(INT64_MAX, text), WD_EINVAL);
	assert_int_equal(wd_time_format(INT64_MIN, text), WD_EINVAL);
}

static void time_parse_valid(void **state)
{
	int64_t t = -1;

	(void)state;
	assert_int_equal(wd_time_parse("2026-12-04T20:33:50Z", &t, NULL), 0);
	assert_int_equal(t, 1796416430);
	assert_int_equal(wd_time_parse("2026-12-04t20:33:50.999z", &t, NULL), 0);
	assert_int_equal(t, 1796416430);
	assert_int_equal(wd_time_parse("2026-12-04T21:33:50+01:00", &t, NULL), 0);
	assert_int_equal(t, 1796416430);
	assert_int_equal(wd_time_parse("2026-12-04T15:03:50-05:30", &t, NULL), 0);
	assert_int_equal(t, 1796416430);
	assert_int_equal(wd_time_parse("2024-02-29T00:00:00Z", &t, NULL), 0);
	assert_int_equal(t, 1709164800);
	assert_int_equal(wd_time_parse("1970-01-01T00:00:00Z", &t, NULL), 0);
	assert_int_equal(t, 0);
}

static void time_parse_rejects_hostile(void **state)
{
	static const char *const bad[] = {
		"", "2026-12-04", "2026-12-04 20:33:50Z", "2026-12-04T20:33:50",
		"2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2025-02-29T00:00:00Z",
		"2026-04-31T00:00:00Z", "2026-12-04T24:00:00Z", "2026-12-04T23:60:00Z",
		"2026-12-31T23:59:60Z", "2026-12-04T20:33:50.Z", "2026-12-04T20:33:50Z ",
		"2026-12-04T20:33:50+01", "2026-12-04T20:33:50+24:00", "+2026-12-04T20:33:50Z",
		"2026-1-04T20:33:50Z", "2026-12-04T20:33:50ZZ",
	};
	struct wd_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t t = 5;

		assert_int_equal(wd_time_parse(bad[i], &t, &err), WD_EINVAL);
		assert_int_equal(t, 0);
		assert_non_null(strstr(err.detail, bad[i]));
	}
}

static void duration_parse_valid(void **state)
{
	static const struct {
		const char *text;
		int64_t seconds;
	} cases[] = {
		{ "90s", 90 }, { "5m", 300 }, { "1h", 3600 }, { "24h", 86400 }, { "1h30m", 5400 },
		{ "7d", 604800 }, { "3600", 3600 }, { "0", 0 }, { "0s", 0 }, { "1d2h3m4s", 93784 },
		{ "90m", 5400 }, { "9223372036854775807", INT64_MAX },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t seconds = -1;

		assert_int_equal(wd_duration_parse(cases[i].text, &seconds, NULL), 0);
		assert_int_equal(seconds, cases[i].seconds);
	}
}

static void duration_parse_rejects_hostile(void **state)
{
	static const struct {
		const char *text;
		int code;
		const char *detail;
	} cases[] = {
		{ "", WD_EINVAL, "missing duration" },
		{ "-5s", WD_EINVAL, "invalid duration '-5s': must not be negative" },
		{ "5x", WD_EINVAL, "invalid duration '5x': unknown unit 'x' (use d, h, m or s)" },
		{ "5ms", WD_EINVAL, "unknown unit 'ms'" },
		{ "1h30", WD_EINVAL, "missing unit after the last number" },
		{ "30m1h", WD_EINVAL, "in the order d, h, m, s" },
		{ "1h1h", WD_EINVAL, "in the order d, h, m, s" },
		{ " 5s", WD_EINVAL, "expected a number" },
		{ "5 s", WD_EINVAL, "unknown unit ' s'" },
		{ "+5s", WD_EINVAL, "expected a number" },
		{ "h", WD_EINVAL, "expected a number" },
		{ "1.5h", WD_EINVAL, "unknown unit '.'" },
		{ "9223372036854775808", WD_ETOOBIG, "too large" },
		{ "106751991167301d", WD_ETOOBIG, "too large" },
		{ "106751991167300d15h30m8s", WD_ETOOBIG, "too large" },
	};
	struct wd_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t seconds = 5;

		assert_int_equal(wd_duration_parse(cases[i].text, &seconds, &err), cases[i].code);
		assert_int_equal(seconds, 0);
		assert_non_null(strstr(err.detail, cases[i].detail));
	}
}

static void duration_format_round_trips(void **state)
{
	static const struct {
		int64_t seconds;
		const char *text;
	} cases[] = {
		{ 0, "0s" }, { 90, "1m30s" }, { 5400, "1h30m" }, { 604800, "7d" }, { 86401, "1d1s" },
		{ INT64_MAX, "106751991167300d15h30m7s" },
	};
	char text[WD_DURATION_TEXT_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t back = -1;

		assert_int_equal(wd_duration_format(cases[i].seconds, text), 0);
		assert_string_equal(text, cases[i].text);
		assert_int_equal(wd_duration_parse(text, &back, NULL), 0);
		assert_int_equal(back, cases[i].seconds);
	}
	assert_int_equal(wd_duration_format(-1, text), WD_EINVAL);
	assert_string_equal(text, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(time_now_is_sane),
		cmocka_unit_test(time_format_known_values),
		cmocka_unit_test(time_parse_valid),
		cmocka_unit_test(time_parse_rejects_hostile),
		cmocka_unit_test(duration_parse_valid),
		cmocka_unit_test(duration_parse_rejects_hostile),
		cmocka_unit_test(duration_format_round_trips),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
