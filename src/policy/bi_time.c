/* Built-in functions: time.* with IANA zones, with the results and error
 * messages of OPA's topdown/time.go (which wraps Go's time package). */
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "policy/bi_time.h"
#include "policy/builtin.h"

#define TZ_ARG_WANT "either number (ns) or [number (ns), string (tz)]"

static int bi_now_ns(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		     struct rv **ret)
{
	(void)args;
	(void)nargs;
	*ret = rv_int(ctx->now_ns);
	return *ret ? 0 : WD_ENOMEM;
}

/* Returns the nanoseconds as a number, or "time outside of valid range"
 * when they do not fit in int64 (OPA's toSafeUnixNano). */
static int safe_unix_nano(struct rego_bctx *ctx, int64_t sec, int32_t nsec, struct rv **ret)
{
	__int128 ns = (__int128)sec * 1000000000 + nsec;

	if (ns < INT64_MIN || ns > INT64_MAX)
		return rego_bi_error(ctx, "time outside of valid range");
	*ret = rv_int((int64_t)ns);
	return *ret ? 0 : WD_ENOMEM;
}

static int bi_parse_ns(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		       struct rv **ret)
{
	const char *layout, *value;
	size_t layout_len, value_len;
	int64_t sec;
	int32_t nsec;
	char err[1024];
	int rc;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &layout, &layout_len));
	WD_TRY(rego_bi_string(ctx, args, 2, &value, &value_len));
	/* A layout holding a NUL byte is never one of the named ones. */
	if (strlen(layout) == layout_len) {
		layout = time_layout_named(layout);
		layout_len = strlen(layout);
	}
	rc = time_parse(layout, layout_len, value, value_len, &sec, &nsec, err, sizeof(err));
	if (rc == WD_EINVAL)
		return rego_bi_error(ctx, "%s", err);
	WD_TRY(rc);
	return safe_unix_nano(ctx, sec, nsec, ret);
}

static int bi_parse_rfc3339_ns(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			       struct rv **ret)
{
	const char *layout = time_layout_named("RFC3339");
	const char *value;
	size_t value_len;
	int64_t sec;
	int32_t nsec;
	char err[1024];
	int rc;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &value, &value_len));
	rc = time_parse(layout, strlen(layout), value, value_len, &sec, &nsec, err, sizeof(err));
	if (rc == WD_EINVAL)
		return rego_bi_error(ctx, "%s", err);
	WD_TRY(rc);
	return safe_unix_nano(ctx, sec, nsec, ret);
}

/* ---- durations (Go's time.ParseDuration) ---- */

static int duration_error(struct rego_bctx *ctx, const char *what, const char *unit,
			  size_t unit_len, const char *orig, size_t orig_len)
{
	struct wd_buf msg;
	int rc;

	wd_buf_init(&msg, 64, 1024);
	rc = wd_buf_append_str(&msg, what);
	if (rc == 0 && unit) {
		rc = time_quote(&msg, unit, unit_len);
		if (rc == 0)
			rc = wd_buf_append_str(&msg, " in duration ");
	}
	if (rc == 0)
		rc = time_quote(&msg, orig, orig_len);
	rc = rc < 0 ? rc : rego_bi_error(ctx, "%s", wd_buf_str(&msg));
	wd_buf_free(&msg);
	return rc;
}

static uint64_t unit_ns(const char *u, size_t len)
{
	static const struct {
		const char *name;
		uint64_t ns;
	} units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 }, { "\xce\xbcs", 1000 },
		{ "ms", 1000000 }, { "s", 1000000000 }, { "m", 60000000000ull },
		{ "h", 3600000000000ull },
	};

	for (size_t i = 0; i < WD_ARRAY_LEN(units); i++)
		if (strlen(units[i].name) == len && memcmp(units[i].name, u, len) == 0)
			return units[i].ns;
	return 0;
}

static int bi_parse_duration_ns(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
				struct rv **ret)
{
	const uint64_t limit = (uint64_t)1 << 63;
	const char *orig, *s;
	size_t orig_len, len;
	uint64_t d = 0;
	bool neg = false;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &orig, &orig_len));
	s = orig;
	len = orig_len;
	if (len > 0 && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		s++, len--;
	}
	if (len == 1 && s[0] == '0') {
		*ret = rv_int(0);
		return *ret ? 0 : WD_ENOMEM;
	}
	if (len == 0)
		return duration_error(ctx, "time: invalid duration ", NULL, 0, orig, orig_len);

	while (len > 0) {
		uint64_t v = 0, f = 0, unit;
		double scale = 1;
		bool pre = false, post = false, overflow = false;
		size_t i = 0;

		if (!(s[0] == '.' || (s[0] >= '0' && s[0] <= '9')))
			return duration_error(ctx, "time: invalid duration ", NULL, 0, orig, orig_len);
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
			if (v > limit / 10)
				return duration_error(ctx, "time: invalid duration ", NULL, 0, orig,
						      orig_len);
			v = v * 10 + (uint64_t)(s[i] - '0');
			if (v > limit)
				return duration_error(ctx, "time: invalid duration ", NULL, 0, orig,
						      orig_len);
		}
		pre = i > 0;
		s += i, len -= i;

		if (len > 0 && s[0] == '.') {
			s++, len--;
			for (i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
				if (overflow)
					continue;
				if (f > (limit - 1) / 10) {
					overflow = true;
					continue;
				}
				f = f * 10 + (uint64_t)(s[i] - '0');
				scale *= 10;
			}
			post = i > 0;
			s += i, len -= i;
		}
		if (!pre && !post)
			return duration_error(ctx, "time: invalid duration ", NULL, 0, orig, orig_len);

		for (i = 0; i < len && s[i] != '.' && !(s[i] >= '0' && s[i] <= '9'); i++)
			;
		if (i == 0)
			return duration_error(ctx, "time: missing unit in duration ", NULL, 0, orig,
					      orig_len);
		unit = unit_ns(s, i);
		if (unit == 0)
			return duration_error(ctx, "time: unknown unit ", s, i, orig, orig_len);
		s += i, len -= i;

		if (v > limit / unit)
			return duration_error(ctx, "time: invalid duration ", NULL, 0, orig, orig_len);
		v *= unit;
		if (f > 0) {
			/* Go adds the fraction through float64, which is exact to
			 * the nanosecond for fractions of an hour. */
			v += (uint64_t)((double)f * ((double)unit / scale));
			if (v > limit)
				return duration_error(ctx, "time: invalid duration ", NULL, 0, orig,
						      orig_len);
		}
		d += v;
		if (d > limit)
			return duration_error(ctx, "time: invalid duration ", NULL, 0, orig, orig_len);
	}
	if (!neg && d > limit - 1)
		return duration_error(ctx, "time: invalid duration ", NULL, 0, orig, orig_len);
	*ret = rv_int(neg ? (int64_t)(0 - d) : (int64_t)d);
	return *ret ? 0 : WD_ENOMEM;
}

/* ---- [ns, tz, layout] arguments ---- */

/* Reads OPA's time argument: ns, [ns, tz] or [ns, tz, layout]. The layout
 * is "" when absent. */
static int tz_time(struct rego_bctx *ctx, const struct rv *arg, struct tm_go *t,
		   const char **ret_layout, size_t *ret_layout_len)
{
	const struct rv *ns = arg;
	const struct tz_zone *zone = tz_utc();
	int64_t value;
	char err[256];

	*ret_layout = "";
	*ret_layout_len = 0;
	if (rv_is(arg, RV_ARRAY)) {
		if (rv_array_len(arg) == 0)
			return rego_bi_type_error(ctx, 1, TZ_ARG_WANT, arg);
		ns = rv_array_at(arg, 0);
		if (!rv_is(ns, RV_NUMBER))
			return rego_bi_type_error(ctx, 1, "number", ns);
		if (rv_array_len(arg) > 1) {
			const struct rv *tz = rv_array_at(arg, 1);
			int rc;

			if (!rv_is(tz, RV_STRING))
				return rego_bi_type_error(ctx, 1, "string", tz);
			rc = tz_zone_find(rv_str(tz), rv_str_len(tz), &zone, err, sizeof(err));
			if (rc == WD_EINVAL)
				return rego_bi_error(ctx, "%s", err);
			WD_TRY(rc);
		}
		if (rv_array_len(arg) > 2) {
			const struct rv *layout = rv_array_at(arg, 2);

			if (!rv_is(layout, RV_STRING))
				return rego_bi_type_error(ctx, 1, "string", layout);
			*ret_layout = rv_str(layout);
			*ret_layout_len = rv_str_len(layout);
		}
	} else if (!rv_is(arg, RV_NUMBER)) {
		return rego_bi_type_error(ctx, 1, TZ_ARG_WANT, arg);
	}

	/* Fractions and values beyond int64 are "too big" for OPA. */
	if (!rv_number_to_i64(ns, &value))
		return rego_bi_error(ctx, "timestamp too big");

	memset(t, 0, sizeof(*t));
	t->unix_sec = floor_div(value, 1000000000);
	t->nsec = (int32_t)floor_mod(value, 1000000000);
	t->zone = zone;
	tm_go_fill(t);
	return 0;
}

static struct rv *int_array(const int64_t *values, size_t count)
{
	struct rv *arr = rv_array_new(count);

	for (size_t i = 0; arr && i < count; i++) {
		if (rv_array_push(arr, rv_int(values[i])) < 0) {
			rv_unref(arr);
			return NULL;
		}
	}
	return arr;
}

static int bi_format(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		     struct rv **ret)
{
	struct tm_go t;
	const char *layout;
	size_t layout_len;
	struct wd_buf out;
	int rc;

	(void)nargs;
	WD_TRY(tz_time(ctx, args[0], &t, &layout, &layout_len));
	if (layout_len == 0)
		layout = time_layout_named("RFC3339Nano");
	else if (strlen(layout) == layout_len)
		layout = time_layout_named(layout);
	if (strlen(layout) >= layout_len)
		layout_len = strlen(layout);

	wd_buf_init(&out, 64, 64 * 1024);
	rc = time_format(&t, layout, layout_len, &out);
	if (rc == WD_ETOOBIG)
		rc = rego_bi_error(ctx, "formatted time is longer than 64 KiB");
	if (rc == 0) {
		*ret = rv_string(wd_buf_str(&out), wd_buf_len(&out));
		rc = *ret ? 0 : WD_ENOMEM;
	}
	wd_buf_free(&out);
	return rc;
}

static int bi_date(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		   struct rv **ret)
{
	struct tm_go t;
	const char *layout;
	size_t layout_len;

	(void)nargs;
	WD_TRY(tz_time(ctx, args[0], &t, &layout, &layout_len));
	*ret = int_array((int64_t[]){ t.year, t.month, t.day }, 3);
	return *ret ? 0 : WD_ENOMEM;
}

static int bi_clock(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		    struct rv **ret)
{
	struct tm_go t;
	const char *layout;
	size_t layout_len;

	(void)nargs;
	WD_TRY(tz_time(ctx, args[0], &t, &layout, &layout_len));
	*ret = int_array((int64_t[]){ t.hour, t.min, t.sec }, 3);
	return *ret ? 0 : WD_ENOMEM;
}

static int bi_weekday(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		      struct rv **ret)
{
	static const char *const names[] = {
		"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
	};
	struct tm_go t;
	const char *layout;
	size_t layout_len;

	(void)nargs;
	WD_TRY(tz_time(ctx, args[0], &t, &layout, &layout_len));
	*ret = rv_cstring(names[t.wday]);
	return *ret ? 0 : WD_ENOMEM;
}

/* OPA's IntOperand: a number that must be integral. */
static int int_operand(struct rego_bctx *ctx, struct rv *const *args, size_t argno,
		       int64_t *ret)
{
	WD_TRY(rego_bi_want(ctx, args, argno, RK_NUMBER));
	if (!rv_number_to_i64(args[argno - 1], ret))
		return rego_bi_error_code(ctx, "eval_type_error",
					  "operand %zu must be integer number but got floating-point "
					  "number",
					  argno);
	return 0;
}

static int bi_add_date(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		       struct rv **ret)
{
	/* Beyond these the result is far outside int64 nanoseconds anyway;
	 * the bound keeps the calendar arithmetic from overflowing. */
	const int64_t bound = (int64_t)1 << 40;
	struct tm_go t, result;
	const char *layout;
	size_t layout_len;
	int64_t years, months, days;

	(void)nargs;
	WD_TRY(tz_time(ctx, args[0], &t, &layout, &layout_len));
	WD_TRY(int_operand(ctx, args, 2, &years));
	WD_TRY(int_operand(ctx, args, 3, &months));
	WD_TRY(int_operand(ctx, args, 4, &days));
	if (years > bound || years < -bound || months > bound || months < -bound ||
	    days > bound || days < -bound)
		return rego_bi_error(ctx, "time outside of valid range");

	tm_go_from_civil(&result, t.year + years, t.month + months, t.day + days, t.hour, t.min,
			 t.sec, t.nsec, t.zone);
	return safe_unix_nano(ctx, result.unix_sec, result.nsec, ret);
}

/* time.diff: years, months, days, hours, minutes and seconds between two
 * moments, read in the first one's zone. */
static int bi_diff(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		   struct rv **ret)
{
	struct tm_go t1, t2;
	const char *layout;
	size_t layout_len;
	int64_t year, month, day, hour, min, sec;

	(void)nargs;
	WD_TRY(tz_time(ctx, args[0], &t1, &layout, &layout_len));
	WD_TRY(tz_time(ctx, args[1], &t2, &layout, &layout_len));
	if (t2.zone != t1.zone) {
		t2.zone = t1.zone;
		tm_go_fill(&t2);
	}
	if (t1.unix_sec > t2.unix_sec || (t1.unix_sec == t2.unix_sec && t1.nsec > t2.nsec)) {
		struct tm_go swap = t1;

		t1 = t2;
		t2 = swap;
	}

	year = t2.year - t1.year;
	month = t2.month - t1.month;
	day = t2.day - t1.day;
	hour = t2.hour - t1.hour;
	min = t2.min - t1.min;
	sec = t2.sec - t1.sec;
	if (sec < 0) {
		sec += 60;
		min--;
	}
	if (min < 0) {
		min += 60;
		hour--;
	}
	if (hour < 0) {
		hour += 24;
		day--;
	}
	if (day < 0) {
		day += civil_days_in(t1.month, t1.year);
		month--;
	}
	if (month < 0) {
		month += 12;
		year--;
	}
	*ret = int_array((int64_t[]){ year, month, day, hour, min, sec }, 6);
	return *ret ? 0 : WD_ENOMEM;
}

#define TIME_ARG (RK_NUMBER | RK_ARRAY)

const struct rego_builtin rego_builtins_time[] = {
	{ .name = "time.add_date", .arity = 4,
	  .arg_types = { RK_NUMBER, RK_NUMBER, RK_NUMBER, RK_NUMBER }, .result_type = RK_NUMBER,
	  .fn = bi_add_date },
	{ .name = "time.clock", .arity = 1, .arg_types = { TIME_ARG }, .result_type = RK_ARRAY,
	  .fn = bi_clock },
	{ .name = "time.date", .arity = 1, .arg_types = { TIME_ARG }, .result_type = RK_ARRAY,
	  .fn = bi_date },
	{ .name = "time.diff", .arity = 2, .arg_types = { TIME_ARG, TIME_ARG },
	  .result_type = RK_ARRAY, .fn = bi_diff },
	{ .name = "time.format", .arity = 1, .arg_types = { TIME_ARG }, .result_type = RK_STRING,
	  .fn = bi_format },
	{ .name = "time.now_ns", .arity = 0, .flags = REGO_BI_NONDET, .result_type = RK_NUMBER,
	  .fn = bi_now_ns },
	{ .name = "time.parse_duration_ns", .arity = 1, .arg_types = { RK_STRING },
	  .result_type = RK_NUMBER, .fn = bi_parse_duration_ns },
	{ .name = "time.parse_ns", .arity = 2, .arg_types = { RK_STRING, RK_STRING },
	  .result_type = RK_NUMBER, .fn = bi_parse_ns },
	{ .name = "time.parse_rfc3339_ns", .arity = 1, .arg_types = { RK_STRING },
	  .result_type = RK_NUMBER, .fn = bi_parse_rfc3339_ns },
	{ .name = "time.weekday", .arity = 1, .arg_types = { TIME_ARG }, .result_type = RK_STRING,
	  .fn = bi_weekday },
	{ .name = NULL },
};
