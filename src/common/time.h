/* Wall-clock time, RFC 3339 timestamps in UTC, and durations such as "90s",
 * "1h30m" and "7d". All times are Unix seconds or milliseconds as int64_t. */
#pragma once

#include <stdint.h>

#include "common/error.h"
#include "common/macros.h"

/* Buffer size for a formatted timestamp: "2026-12-04T20:43:50.123Z" and NUL. */
#define WD_TIME_TEXT_MAX 32

/* Buffer size for a formatted duration: the longest is
 * "106751991167300d15h30m7s" for INT64_MAX seconds, and NUL. */
#define WD_DURATION_TEXT_MAX 32

/* Returns the current Unix time in seconds (CLOCK_REALTIME). */
int64_t wd_now(void);

/* Returns the current Unix time in milliseconds (CLOCK_REALTIME). */
int64_t wd_now_ms(void);

/* Returns milliseconds on CLOCK_MONOTONIC, for measuring intervals. */
int64_t wd_monotonic_ms(void);

/* Formats Unix seconds as RFC 3339 UTC, "2026-12-04T20:43:50Z". WD_EINVAL
 * when the year falls outside 0000-9999; ret_text is then "". */
WD_MUST_CHECK int wd_time_format(int64_t unix_seconds, char ret_text[static WD_TIME_TEXT_MAX]);

/* Formats Unix milliseconds as RFC 3339 UTC with milliseconds,
 * "2026-12-04T20:43:50.123Z". WD_EINVAL outside years 0000-9999. */
WD_MUST_CHECK int wd_time_format_ms(int64_t unix_ms, char ret_text[static WD_TIME_TEXT_MAX]);

/* Parses an RFC 3339 date-time (section 5.6) with a "Z" or numeric offset
 * into Unix seconds; fractional seconds are dropped. WD_EINVAL, with the
 * text and the reason in err (which may be NULL), for anything else,
 * including a leap second (:60), which Unix time cannot represent. */
WD_MUST_CHECK int wd_time_parse(const char *text, int64_t *ret_seconds, struct wd_error *err);

/* Parses a duration into seconds: plain seconds ("3600") or number-unit
 * pairs with the units d, h, m, s in that order, each at most once ("7d",
 * "1h30m", "90s"). Signs, spaces, unknown or repeated units and empty text
 * fail with WD_EINVAL, and a total past INT64_MAX with WD_ETOOBIG. */
WD_MUST_CHECK int wd_duration_parse(const char *text, int64_t *ret_seconds, struct wd_error *err);

/* Formats seconds as the shortest duration wd_duration_parse reads back
 * ("1h30m", "7d", "0s"). WD_EINVAL for a negative value. */
WD_MUST_CHECK int wd_duration_format(int64_t seconds, char ret_text[static WD_DURATION_TEXT_MAX]);
