/* Times as Go formats them: the {{expiration}} of statements and the
 * layouts of the timestamp template function, always in UTC. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "secrets/db_template.h"

void db_format_expiration(int64_t unix_seconds, char out[static DB_EXPIRATION_TEXT_MAX])
{
	time_t seconds = (time_t)unix_seconds;
	struct tm tm;

	/* Go's "2006-01-02 15:04:05-0700" prints UTC's offset as +0000. */
	gmtime_r(&seconds, &tm);
	if (strftime(out, DB_EXPIRATION_TEXT_MAX, "%Y-%m-%d %H:%M:%S+0000", &tm) == 0)
		out[0] = '\0';
}

static const char *const month_names[] = {
	"January", "February", "March", "April", "May", "June", "July", "August", "September",
	"October", "November", "December",
};

static const char *const day_names[] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
};

static bool layout_has(const char *layout, const char *element)
{
	return !strncmp(layout, element, strlen(element));
}

/* Appends the fraction of a second of a ".000" or ".999" element with
 * `digits` digits; the '9' form drops trailing zeros, as Go does. */
static int append_fraction(struct wd_buf *out, char separator, char digit, size_t digits,
	int64_t millis)
{
	char nanos[16];
	size_t len = digits > 9 ? 9 : digits;

	snprintf(nanos, sizeof(nanos), "%09" PRId64, millis * 1000000);
	if (digit == '9') {
		while (len > 0 && nanos[len - 1] == '0')
			len--;
		if (len == 0)
			return 0;
	}
	WD_TRY(wd_buf_append_byte(out, (uint8_t)separator));
	return wd_buf_append(out, nanos, len);
}

int db_format_go_time(const char *layout, int64_t now_ms, struct wd_buf *out)
{
	time_t seconds = (time_t)(now_ms / 1000);
	int64_t millis = now_ms % 1000;
	struct tm tm;
	const char *p = layout;

	gmtime_r(&seconds, &tm);
	while (*p) {
		int hour12 = tm.tm_hour % 12 == 0 ? 12 : tm.tm_hour % 12;

		/* Longer elements first where one is the prefix of another. */
		if (layout_has(p, "January")) {
			WD_TRY(wd_buf_append_str(out, month_names[tm.tm_mon]));
			p += 7;
		} else if (layout_has(p, "Jan")) {
			WD_TRY(wd_buf_append(out, month_names[tm.tm_mon], 3));
			p += 3;
		} else if (layout_has(p, "Monday")) {
			WD_TRY(wd_buf_append_str(out, day_names[tm.tm_wday]));
			p += 6;
		} else if (layout_has(p, "Mon")) {
			WD_TRY(wd_buf_append(out, day_names[tm.tm_wday], 3));
			p += 3;
		} else if (layout_has(p, "MST")) {
			WD_TRY(wd_buf_append_str(out, "UTC"));
			p += 3;
		} else if (layout_has(p, "2006")) {
			WD_TRY(wd_buf_appendf(out, "%04d", tm.tm_year + 1900));
			p += 4;
		} else if (layout_has(p, "002")) {
			WD_TRY(wd_buf_appendf(out, "%03d", tm.tm_yday + 1));
			p += 3;
		} else if (layout_has(p, "01")) {
			WD_TRY(wd_buf_appendf(out, "%02d", tm.tm_mon + 1));
			p += 2;
		} else if (layout_has(p, "02")) {
			WD_TRY(wd_buf_appendf(out, "%02d", tm.tm_mday));
			p += 2;
		} else if (layout_has(p, "03")) {
			WD_TRY(wd_buf_appendf(out, "%02d", hour12));
			p += 2;
		} else if (layout_has(p, "04")) {
			WD_TRY(wd_buf_appendf(out, "%02d", tm.tm_min));
			p += 2;
		} else if (layout_has(p, "05")) {
			WD_TRY(wd_buf_appendf(out, "%02d", tm.tm_sec));
			p += 2;
		} else if (layout_has(p, "06")) {
			WD_TRY(wd_buf_appendf(out, "%02d", tm.tm_year % 100));
			p += 2;
		} else if (layout_has(p, "15")) {
			WD_TRY(wd_buf_appendf(out, "%02d", tm.tm_hour));
			p += 2;
		} else if (layout_has(p, "_2")) {
			WD_TRY(wd_buf_appendf(out, "%2d", tm.tm_mday));
			p += 2;
		} else if (*p == '1') {
			WD_TRY(wd_buf_appendf(out, "%d", tm.tm_mon + 1));
			p++;
		} else if (*p == '2') {
			WD_TRY(wd_buf_appendf(out, "%d", tm.tm_mday));
			p++;
		} else if (*p == '3') {
			WD_TRY(wd_buf_appendf(out, "%d", hour12));
			p++;
		} else if (*p == '4') {
			WD_TRY(wd_buf_appendf(out, "%d", tm.tm_min));
			p++;
		} else if (*p == '5') {
			WD_TRY(wd_buf_appendf(out, "%d", tm.tm_sec));
			p++;
		} else if (layout_has(p, "PM") || layout_has(p, "pm")) {
			bool afternoon = tm.tm_hour >= 12;
			const char *half;

			if (*p == 'P')
				half = afternoon ? "PM" : "AM";
			else
				half = afternoon ? "pm" : "am";
			WD_TRY(wd_buf_append_str(out, half));
			p += 2;
		} else if (layout_has(p, "Z07:00") || layout_has(p, "Z0700") || layout_has(p, "Z07")) {
			/* Z-forms print "Z" for UTC. */
			WD_TRY(wd_buf_append_byte(out, 'Z'));
			p += layout_has(p, "Z07:00") ? 6 : layout_has(p, "Z0700") ? 5 : 3;
		} else if (layout_has(p, "-07:00")) {
			WD_TRY(wd_buf_append_str(out, "+00:00"));
			p += 6;
		} else if (layout_has(p, "-0700")) {
			WD_TRY(wd_buf_append_str(out, "+0000"));
			p += 5;
		} else if (layout_has(p, "-07")) {
			WD_TRY(wd_buf_append_str(out, "+00"));
			p += 3;
		} else if ((*p == '.' || *p == ',') && (p[1] == '0' || p[1] == '9')) {
			size_t digits = 1;

			while (p[1 + digits] == p[1])
				digits++;
			if (p[1 + digits] >= '0' && p[1 + digits] <= '9') {
				/* Not a fraction element: Go copies such text as it is. */
				WD_TRY(wd_buf_append_byte(out, (uint8_t)*p));
				p++;
				continue;
			}
			WD_TRY(append_fraction(out, *p, p[1], digits, millis));
			p += 1 + digits;
		} else {
			WD_TRY(wd_buf_append_byte(out, (uint8_t)*p));
			p++;
		}
	}
	return 0;
}
