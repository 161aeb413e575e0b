/* Clocks, RFC 3339 UTC timestamps and durations. */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/time.h"

/* Most characters of a rejected value quoted back in an error detail. */
#define QUOTE_MAX 64

int64_t wd_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

int64_t wd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t wd_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Splits Unix seconds into UTC calendar fields; false outside 0000-9999,
 * the years RFC 3339's four-digit date-fullyear can hold. */
static bool utc_fields(int64_t unix_seconds, struct tm *ret_tm)
{
	time_t t = (time_t)unix_seconds;

	if (!gmtime_r(&t, ret_tm))
		return false;
	return ret_tm->tm_year >= -1900 && ret_tm->tm_year <= 9999 - 1900;
}

/* Writes the fields of tm, whose year utc_fields has checked, with
 * milliseconds unless ms is negative. The unsigned remainders tell the
 * compiler each field's width, so it can prove the text fits. */
static void format_fields(const struct tm *tm, int ms, char text[static WD_TIME_TEXT_MAX])
{
	unsigned year = (unsigned)(tm->tm_year + 1900) % 10000u;
	unsigned month = (unsigned)(tm->tm_mon + 1) % 100u;
	unsigned day = (unsigned)tm->tm_mday % 100u;
	unsigned hour = (unsigned)tm->tm_hour % 100u;
	unsigned minute = (unsigned)tm->tm_min % 100u;
	unsigned second = (unsigned)tm->tm_sec % 100u;

	if (ms < 0)
		snprintf(text, WD_TIME_TEXT_MAX, "%04u-%02u-%02uT%02u:%02u:%02uZ", year, month, day,
			hour, minute, second);
	else
		snprintf(text, WD_TIME_TEXT_MAX, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", year, month,
			day, hour, minute, second, (unsigned)ms % 1000u);
}

int wd_time_format(int64_t unix_seconds, char ret_text[static WD_TIME_TEXT_MAX])
{
	struct tm tm;

	ret_text[0] = '\0';
	if (!utc_fields(unix_seconds, &tm))
		return WD_EINVAL;
	format_fields(&tm, -1, ret_text);
	return 0;
}

int wd_time_format_ms(int64_t unix_ms, char ret_text[static WD_TIME_TEXT_MAX])
{
	/* Floor division, so -1 ms is 23:59:59.999 of the day before. */
	int64_t seconds = unix_ms / 1000 - (unix_ms % 1000 < 0);
	int64_t ms = unix_ms - seconds * 1000;
	struct tm tm;

	ret_text[0] = '\0';
	if (!utc_fields(seconds, &tm))
		return WD_EINVAL;
	format_fields(&tm, (int)ms, ret_text);
	return 0;
}

/* Reads exactly n decimal digits at *p and advances; false if any is not a
 * digit. */
static bool read_digits(const char **p, int n, int *ret_value)
{
	int value = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return false;
		value = value * 10 + (c - '0');
	}
	*p += n;
	*ret_value = value;
	return true;
}

static bool is_leap_year(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int days_in_month(int year, int month)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (month == 2 && is_leap_year(year))
		return 29;
	return days[month - 1];
}

static int time_invalid(struct wd_error *err, const char *text, const char *reason)
{
	return wd_error_set(err, WD_EINVAL, "invalid RFC 3339 time '%.*s': %s", QUOTE_MAX, text,
		reason);
}

int wd_time_parse(const char *text, int64_t *ret_seconds, struct wd_error *err)
{
	const char *p = text;
	int year, month, day, hour, minute, second;
	int offset_sign = 0, offset_hour = 0, offset_minute = 0;
	struct tm tm = { 0 };
	time_t t;

	*ret_seconds = 0;
	if (!text)
		return wd_error_set(err, WD_EINVAL, "missing RFC 3339 time");

	/* date-fullyear "-" date-month "-" date-mday */
	if (!read_digits(&p, 4, &year) || *p++ != '-' || !read_digits(&p, 2, &month) ||
	    *p++ != '-' || !read_digits(&p, 2, &day))
		return time_invalid(err, text, "expected YYYY-MM-DDTHH:MM:SSZ");
	/* RFC 3339 section 5.6 allows a lowercase "t" and "z". */
	if (*p != 'T' && *p != 't')
		return time_invalid(err, text, "expected 'T' between date and time");
	p++;
	if (!read_digits(&p, 2, &hour) || *p++ != ':' || !read_digits(&p, 2, &minute) ||
	    *p++ != ':' || !read_digits(&p, 2, &second))
		return time_invalid(err, text, "expected HH:MM:SS after 'T'");

	/* time-secfrac: at least one digit, dropped because results are whole
	 * seconds. */
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return time_invalid(err, text, "expected digits after '.'");
		while (*p >= '0' && *p <= '9')
			p++;
	}

	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		offset_sign = *p == '+' ? 1 : -1;
		p++;
		if (!read_digits(&p, 2, &offset_hour) || *p++ != ':' ||
		    !read_digits(&p, 2, &offset_minute))
			return time_invalid(err, text, "expected a +HH:MM or -HH:MM offset");
	} else {
		return time_invalid(err, text, "expected 'Z' or a +HH:MM offset");
	}
	if (*p != '\0')
		return time_invalid(err, text, "unexpected characters after the time");

	if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
		return time_invalid(err, text, "no such date");
	if (hour > 23 || minute > 59 || offset_hour > 23 || offset_minute > 59)
		return time_invalid(err, text, "hour or minute out of range");
	if (second > 59)
		return time_invalid(err, text, "second out of range (leap seconds are not supported)");

	tm.tm_year = year - 1900;
	tm.tm_mon = month - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = minute;
	tm.tm_sec = second;
	t = timegm(&tm);

	*ret_seconds = (int64_t)t - offset_sign * (offset_hour * 3600 + offset_minute * 60);
	return 0;
}

/* Duration units in the only order they may appear. */
static const struct duration_unit {
	char symbol;
	int64_t seconds;
} duration_units[] = {
	{ 'd', 86400 },
	{ 'h', 3600 },
	{ 'm', 60 },
	{ 's', 1 },
};

/* Returns the index of the unit that is the single letter at p, or the table
 * length when p does not start with exactly one known unit letter. */
static size_t duration_unit_find(const char *p)
{
	bool followed_by_letter = (p[1] >= 'a' && p[1] <= 'z') || (p[1] >= 'A' && p[1] <= 'Z');

	if (followed_by_letter)
		return WD_ARRAY_LEN(duration_units);
	for (size_t unit = 0; unit < WD_ARRAY_LEN(duration_units); unit++) {
		if (duration_units[unit].symbol == *p)
			return unit;
	}
	return WD_ARRAY_LEN(duration_units);
}

int wd_duration_parse(const char *text, int64_t *ret_seconds, struct wd_error *err)
{
	const char *p = text;
	size_t next_unit = 0;
	int64_t total = 0;

	*ret_seconds = 0;
	if (!text || !*text)
		return wd_error_set(err, WD_EINVAL, "missing duration: expected a value like 90s, 5m, 1h30m or 7d");
	if (*text == '-')
		return wd_error_set(err, WD_EINVAL, "invalid duration '%.*s': must not be negative",
			QUOTE_MAX, text);

	while (*p) {
		int64_t number = 0;
		const char *start = p;
		size_t unit;

		while (*p >= '0' && *p <= '9') {
			if (__builtin_mul_overflow(number, 10, &number) ||
			    __builtin_add_overflow(number, *p - '0', &number))
				return wd_error_set(err, WD_ETOOBIG, "duration '%.*s' is too large",
					QUOTE_MAX, text);
			p++;
		}
		if (p == start)
			return wd_error_set(err, WD_EINVAL,
				"invalid duration '%.*s': expected a number at '%.*s'", QUOTE_MAX, text,
				QUOTE_MAX, start);

		/* A bare number is seconds, but only as the whole value. */
		if (*p == '\0' && start == text) {
			*ret_seconds = number;
			return 0;
		}

		if (*p == '\0')
			return wd_error_set(err, WD_EINVAL,
				"invalid duration '%.*s': missing unit after the last number (use d, h, m or s)",
				QUOTE_MAX, text);
		unit = duration_unit_find(p);
		if (unit == WD_ARRAY_LEN(duration_units)) {
			int run = 0;

			/* Quote the whole word, so "5ms" names "ms" and not "m". */
			while (run < QUOTE_MAX && p[run] && !(p[run] >= '0' && p[run] <= '9'))
				run++;
			return wd_error_set(err, WD_EINVAL,
				"invalid duration '%.*s': unknown unit '%.*s' (use d, h, m or s)",
				QUOTE_MAX, text, run, p);
		}
		if (unit < next_unit)
			return wd_error_set(err, WD_EINVAL,
				"invalid duration '%.*s': units must appear once each, in the order d, h, m, s",
				QUOTE_MAX, text);
		next_unit = unit + 1;
		p++;

		if (__builtin_mul_overflow(number, duration_units[unit].seconds, &number) ||
		    __builtin_add_overflow(total, number, &total))
			return wd_error_set(err, WD_ETOOBIG, "duration '%.*s' is too large", QUOTE_MAX,
				text);
	}

	*ret_seconds = total;
	return 0;
}

int wd_duration_format(int64_t seconds, char ret_text[static WD_DURATION_TEXT_MAX])
{
	size_t o = 0;

	ret_text[0] = '\0';
	if (seconds < 0)
		return WD_EINVAL;
	if (seconds == 0) {
		snprintf(ret_text, WD_DURATION_TEXT_MAX, "0s");
		return 0;
	}

	for (size_t i = 0; i < WD_ARRAY_LEN(duration_units); i++) {
		int64_t count = seconds / duration_units[i].seconds;
		int n;

		if (count == 0)
			continue;
		seconds -= count * duration_units[i].seconds;
		n = snprintf(ret_text + o, WD_DURATION_TEXT_MAX - o, "%lld%c", (long long)count,
			duration_units[i].symbol);
		o += (size_t)n;
	}
	return 0;
}
