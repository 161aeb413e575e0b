/* Pieces of the time.* builtins: civil-calendar arithmetic, IANA zones read
 * from TZif files, and Go's layout formatting and parsing. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/macros.h"

/* ---- civil calendar (proleptic Gregorian), bi_time_zone.c ---- */

/* Days since 1970-01-01 of year-month-day; month and day may lie outside
 * their ranges and are normalized as Go's time.Date does. */
int64_t civil_to_days(int64_t year, int64_t month, int64_t day);

/* Splits days since 1970-01-01 into year, month (1-12) and day (1-31). */
void civil_from_days(int64_t days, int64_t *ret_year, int *ret_month, int *ret_day);

bool civil_is_leap(int64_t year);
int civil_days_in(int month, int64_t year);

/* Floor division and its non-negative remainder. */
static inline int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

/* From the remainder, so INT64_MIN nanoseconds cannot overflow. */
static inline int64_t floor_mod(int64_t a, int64_t b)
{
	int64_t r = a % b;

	if (r != 0 && ((r < 0) != (b < 0)))
		r += b;
	return r;
}

/* ---- zones, bi_time_zone.c ---- */

struct tz_zone;

/* Finds the zone named name (len bytes): "" and "UTC" are UTC, "Local" is
 * /etc/localtime, anything else is read once from /usr/share/zoneinfo and
 * kept for the life of the process. On failure stores Go's message
 * ("unknown time zone NAME") in err and returns WD_EINVAL. Thread-safe. */
WD_MUST_CHECK int tz_zone_find(const char *name, size_t len, const struct tz_zone **ret_zone,
			       char *err, size_t err_cap);

/* The UTC zone. */
const struct tz_zone *tz_utc(void);

/* The offset east of UTC in seconds and the abbreviation in force at
 * unix_sec. */
void tz_lookup(const struct tz_zone *zone, int64_t unix_sec, int32_t *ret_offset,
	       const char **ret_abbr);

/* ---- broken-down times ---- */

/* A moment in a zone, as Go's time.Time with a location. */
struct tm_go {
	int64_t unix_sec;
	int32_t nsec;
	const struct tz_zone *zone;   /* NULL: fixed offset below */
	int32_t fixed_offset;
	const char *fixed_abbr;
	/* Derived local fields. */
	int64_t year;
	int month, day, hour, min, sec, yday, wday;
	int32_t offset;
	const char *abbr;
};

/* Fills the local fields of t from unix_sec, nsec and the zone. */
void tm_go_fill(struct tm_go *t);

/* Sets t to the local date and time given in zone, normalizing overflowing
 * fields, as Go's time.Date. */
void tm_go_from_civil(struct tm_go *t, int64_t year, int64_t month, int64_t day, int64_t hour,
		      int64_t min, int64_t sec, int64_t nsec, const struct tz_zone *zone);

/* ---- layouts, bi_time_layout.c ---- */

/* Expands OPA's named layouts ("RFC3339", "ANSIC", ...) to Go layouts;
 * returns layout unchanged otherwise. */
const char *time_layout_named(const char *layout);

/* Appends t formatted with a Go layout ("2006-01-02T15:04:05Z07:00"). */
WD_MUST_CHECK int time_format(const struct tm_go *t, const char *layout, size_t layout_len,
			      struct wd_buf *out);

/* Parses value with a Go layout as time.Parse does when the local zone is
 * UTC, and stores seconds and nanoseconds since the epoch. On failure
 * stores Go's message in err and returns WD_EINVAL. */
WD_MUST_CHECK int time_parse(const char *layout, size_t layout_len, const char *value,
			     size_t value_len, int64_t *ret_sec, int32_t *ret_nsec, char *err,
			     size_t err_cap);

/* Appends s quoted as Go's time package quotes text in its errors. */
WD_MUST_CHECK int time_quote(struct wd_buf *out, const char *s, size_t len);
