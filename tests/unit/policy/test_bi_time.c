/* Unit tests of the time.* builtins: Go layouts both ways, durations, IANA
 * zones (including the rule past a zone file's last transition), calendar
 * arithmetic and the error messages OPA gives. The zone tests need the
 * system tzdata under /usr/share/zoneinfo. */
#include "test_bi_crypto_support.h"

#define BIE "eval_builtin_error"
#define TYE "eval_type_error"

static void now_ns_is_query_time(void **state)
{
	(void)state;
	tb_expect("time.now_ns", "[]", "1709208000000000000");
	assert_true(rego_builtin_find("time.now_ns")->flags & REGO_BI_NONDET);
}

static void parse_ns_layouts(void **state)
{
	(void)state;
	tb_expect("time.parse_ns", "[\"2006-01-02 15:04:05.000 MST\", \"2024-02-29 12:30:45.123 UTC\"]",
		  "1709209845123000000");
	tb_expect("time.parse_ns", "[\"Jan _2 2006 3:04PM\", \"Feb  9 2024 1:05AM\"]",
		  "1707440700000000000");
	tb_expect("time.parse_ns", "[\"Monday, January 2, 2006\", \"thursday, february 29, 2024\"]",
		  "1709164800000000000");
	/* Seconds take a fraction the layout does not name. */
	tb_expect("time.parse_ns", "[\"2006-01-02T15:04:05\", \"2024-02-29T12:30:45.999999999999\"]",
		  "1709209845999999999");
	tb_expect("time.parse_ns", "[\"2006-01-02 15:04 -07:00:00\", \"2024-02-29 12:30 +01:30:15\"]",
		  "1709204385000000000");
	tb_expect("time.parse_ns", "[\"2006-002\", \"2024-060\"]", "1709164800000000000");
	tb_expect("time.parse_ns", "[\"2006-01-02 MST\", \"2024-02-29 GMT+3\"]",
		  "1709154000000000000");
	tb_expect("time.parse_ns", "[\"RFC1123Z\", \"Thu, 29 Feb 2024 13:00:00 +0100\"]",
		  "1709208000000000000");
	tb_expect("time.parse_ns", "[\"RFC3339\", \"1970-01-01T00:00:00.5Z\"]", "500000000");
}

static void parse_ns_errors(void **state)
{
	(void)state;
	tb_expect_error("time.parse_ns",
			"[\"2006-01-02 15:04:05.000 MST\", \"2024-02-29 12:30:45.12 UTC\"]", BIE,
			"time.parse_ns: parsing time \"2024-02-29 12:30:45.12 UTC\" as "
			"\"2006-01-02 15:04:05.000 MST\": cannot parse \".12 UTC\" as \".000\"");
	tb_expect_error("time.parse_ns", "[\"2006-01-02\", \"2023-02-29\"]", BIE,
			"time.parse_ns: parsing time \"2023-02-29\": day out of range");
	tb_expect_error("time.parse_ns", "[\"2006-01-02\", \"2024-13-01\"]", BIE,
			"time.parse_ns: parsing time \"2024-13-01\": month out of range");
	tb_expect_error("time.parse_ns", "[\"2006-01-02\", \"2024-01-01x\"]", BIE,
			"time.parse_ns: parsing time \"2024-01-01x\": extra text: \"x\"");
	tb_expect_error("time.parse_ns", "[\"2006\", \"\\u00e9\"]", BIE,
			"time.parse_ns: parsing time \"\\xc3\\xa9\" as \"2006\": cannot parse "
			"\"\\xc3\\xa9\" as \"2006\"");
	/* One nanosecond past what int64 nanoseconds can hold, both ways. */
	tb_expect_error("time.parse_ns", "[\"RFC3339\", \"2262-04-11T23:47:16.854775808Z\"]", BIE,
			"time.parse_ns: time outside of valid range");
	tb_expect_error("time.parse_ns", "[\"RFC3339\", \"1677-09-21T00:12:43.145224191Z\"]", BIE,
			"time.parse_ns: time outside of valid range");
	tb_expect("time.parse_ns", "[\"RFC3339\", \"1677-09-21T00:12:43.145224192Z\"]",
		  "-9223372036854775808");
	tb_expect_error("time.parse_ns", "[1, \"x\"]", TYE,
			"time.parse_ns: operand 1 must be string but got number");
}

static void parse_rfc3339_ns_cases(void **state)
{
	(void)state;
	tb_expect("time.parse_rfc3339_ns", "[\"2024-02-29T13:00:00+01:00\"]", "1709208000000000000");
	tb_expect_error("time.parse_rfc3339_ns", "[\"2024-02-29 12:00:00Z\"]", BIE,
			"time.parse_rfc3339_ns: parsing time \"2024-02-29 12:00:00Z\" as "
			"\"2006-01-02T15:04:05Z07:00\": cannot parse \" 12:00:00Z\" as \"T\"");
	tb_expect_error("time.parse_rfc3339_ns", "[\"2024-02-29T25:00:00Z\"]", BIE,
			"time.parse_rfc3339_ns: parsing time \"2024-02-29T25:00:00Z\": hour out of "
			"range");
}

static void parse_duration_ns_cases(void **state)
{
	static const char *const ok[][2] = {
		{ "\"1h2m3.5s\"", "3723500000000" }, { "\"300ms\"", "300000000" },
		{ "\"-1.5h\"", "-5400000000000" }, { "\"1\\u00b5s\"", "1000" },
		{ "\"1\\u03bcs\"", "1000" }, { "\"1us\"", "1000" }, { "\"2ns\"", "2" },
		{ "\"0\"", "0" }, { "\"+5m\"", "300000000000" },
		{ "\"9223372036854775807ns\"", "9223372036854775807" },
		{ "\"-9223372036854775808ns\"", "-9223372036854775808" },
		{ "\"1.0000000001s\"", "1000000000" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char args[64];

		snprintf(args, sizeof(args), "[%s]", ok[i][0]);
		tb_expect("time.parse_duration_ns", args, ok[i][1]);
	}
	tb_expect_error("time.parse_duration_ns", "[\"\"]", BIE,
			"time.parse_duration_ns: time: invalid duration \"\"");
	tb_expect_error("time.parse_duration_ns", "[\"5\"]", BIE,
			"time.parse_duration_ns: time: missing unit in duration \"5\"");
	tb_expect_error("time.parse_duration_ns", "[\"5x\"]", BIE,
			"time.parse_duration_ns: time: unknown unit \"x\" in duration \"5x\"");
	tb_expect_error("time.parse_duration_ns", "[\".s\"]", BIE,
			"time.parse_duration_ns: time: invalid duration \".s\"");
	tb_expect_error("time.parse_duration_ns", "[\"9223372036854775808ns\"]", BIE,
			"time.parse_duration_ns: time: invalid duration \"9223372036854775808ns\"");
	tb_expect_error("time.parse_duration_ns", "[\"3000000h\"]", BIE,
			"time.parse_duration_ns: time: invalid duration \"3000000h\"");
}

static void format_layouts_and_zones(void **state)
{
	(void)state;
	tb_expect("time.format", "[1709208000123000000]", "\"2024-02-29T12:00:00.123Z\"");
	tb_expect("time.format", "[[1709208000000000000, \"UTC\", \"RFC3339Nano\"]]",
		  "\"2024-02-29T12:00:00Z\"");
	tb_expect("time.format",
		  "[[1709208000123000000, \"America/New_York\", "
		  "\"Mon, 02 Jan 2006 15:04:05.000 MST\"]]",
		  "\"Thu, 29 Feb 2024 07:00:00.123 EST\"");
	tb_expect("time.format",
		  "[[1709208000123000000, \"Europe/Berlin\", "
		  "\"2006-01-02T15:04:05.999Z07:00 (MST) 3PM __2 002 Z07 -07\"]]",
		  "\"2024-02-29T13:00:00.123+01:00 (CET) 1PM  60 060 +01 +01\"");
	tb_expect("time.format", "[[1709208000000000000, \"Asia/Kolkata\", \"Kitchen\"]]",
		  "\"Kitchen\"");
	tb_expect("time.format", "[[1709208000000000000, \"Asia/Kolkata\", \"ANSIC\"]]",
		  "\"Thu Feb 29 17:30:00 2024\"");
	/* Past 2037 the zone file's POSIX rule decides: summer and winter. */
	tb_expect("time.format",
		  "[[2540246400000000000, \"America/Los_Angeles\", \"2006-01-02 15:04 MST\"]]",
		  "\"2050-06-30 17:00 PDT\"");
	tb_expect("time.format",
		  "[[2524608000000000000, \"America/Los_Angeles\", \"2006-01-02 15:04 MST\"]]",
		  "\"2049-12-31 16:00 PST\"");
	tb_expect("time.format",
		  "[[2540246400000000000, \"Australia/Sydney\", \"2006-01-02 15:04 MST\"]]",
		  "\"2050-07-01 10:00 AEST\"");
}

static void format_errors(void **state)
{
	(void)state;
	tb_expect_error("time.format", "[[1709208000000000000, \"Nowhere/City\"]]", BIE,
			"time.format: unknown time zone Nowhere/City");
	tb_expect_error("time.format", "[[1709208000000000000, \"../etc/passwd\"]]", BIE,
			"time.format: time: invalid location name");
	tb_expect_error("time.format", "[[1709208000000000000, \"/etc/passwd\"]]", BIE,
			"time.format: time: invalid location name");
	tb_expect_error("time.format", "[1e19]", BIE, "time.format: timestamp too big");
	tb_expect_error("time.format", "[\"now\"]", TYE,
			"time.format: operand 1 must be either number (ns) or [number (ns), "
			"string (tz)] but got string");
}

static void date_clock_weekday(void **state)
{
	(void)state;
	tb_expect("time.date", "[1709208000000000000]", "[2024,2,29]");
	tb_expect("time.date", "[[1709208000000000000, \"Pacific/Kiritimati\"]]", "[2024,3,1]");
	tb_expect("time.date", "[[1709208000000000000, \"\"]]", "[2024,2,29]");
	tb_expect("time.date", "[-1]", "[1969,12,31]");
	tb_expect("time.clock", "[[1709208000000000000, \"Asia/Kolkata\"]]", "[17,30,0]");
	tb_expect("time.weekday", "[1709208000000000000]", "\"Thursday\"");
	tb_expect("time.weekday", "[-1]", "\"Wednesday\"");
	tb_expect("time.weekday", "[1.5e9]", "\"Thursday\"");
	tb_expect_error("time.clock", "[1.5]", BIE, "time.clock: timestamp too big");
	tb_expect_error("time.clock", "[[]]", TYE,
			"time.clock: operand 1 must be either number (ns) or [number (ns), string "
			"(tz)] but got array");
	tb_expect_error("time.clock", "[[\"x\"]]", TYE,
			"time.clock: operand 1 must be number but got string");
	tb_expect_error("time.clock", "[[1, 2]]", TYE,
			"time.clock: operand 1 must be string but got number");
}

static void add_date_cases(void **state)
{
	(void)state;
	tb_expect("time.add_date", "[1709208000000000000, 0, 1, 0]", "1711713600000000000");
	/* 2025-02-29 does not exist and becomes 2025-03-01, as in Go. */
	tb_expect("time.add_date", "[1709208000000000000, 1, 0, 0]", "1740830400000000000");
	tb_expect("time.add_date", "[1709208000000000000, -1, -1, -1]", "1674907200000000000");
	tb_expect_error("time.add_date", "[1709208000000000000, 300, 0, 0]", BIE,
			"time.add_date: time outside of valid range");
	tb_expect_error("time.add_date", "[1709208000000000000, 0, 0, 1.5]", TYE,
			"time.add_date: operand 4 must be integer number but got floating-point "
			"number");
}

static void diff_cases(void **state)
{
	(void)state;
	tb_expect("time.diff", "[1709208000000000000, 1709208000000000000]", "[0,0,0,0,0,0]");
	tb_expect("time.diff", "[[1709208000000000000, \"Asia/Tokyo\"], 1706659200000000000]",
		  "[0,0,29,12,0,0]");
	tb_expect("time.diff", "[1709208000000000000, 1740830461000000000]", "[1,0,1,0,1,1]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(now_ns_is_query_time),
		cmocka_unit_test(parse_ns_layouts),
		cmocka_unit_test(parse_ns_errors),
		cmocka_unit_test(parse_rfc3339_ns_cases),
		cmocka_unit_test(parse_duration_ns_cases),
		cmocka_unit_test(format_layouts_and_zones),
		cmocka_unit_test(format_errors),
		cmocka_unit_test(date_clock_weekday),
		cmocka_unit_test(add_date_cases),
		cmocka_unit_test(diff_cases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
