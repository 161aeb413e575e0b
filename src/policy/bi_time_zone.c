/* IANA time zones for the time.* builtins, read from the system's TZif files
 * (RFC 8536) and cached, with the POSIX TZ rule of the file's footer for
 * times after its last transition. No setenv/tzset: the engine runs on many
 * threads. Also the civil-calendar arithmetic the builtins share. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "policy/bi_time.h"

#define ZONEINFO_DIR "/usr/share/zoneinfo/"
#define LOCALTIME_FILE "/etc/localtime"

/* Ceilings: a TZif file is a few KiB; 600 zones exist. */
#define TZIF_MAX_BYTES (256 * 1024)
#define TZ_CACHE_MAX 1024
#define TZ_NAME_MAX 128

/* ---- civil calendar ---- */

bool civil_is_leap(int64_t year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int civil_days_in(int month, int64_t year)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (month == 2 && civil_is_leap(year))
		return 29;
	return days[month - 1];
}

/* Days from 1970-01-01 to year-month-day, for a valid month (Howard
 * Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = floor_div(y, 400);
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

int64_t civil_to_days(int64_t year, int64_t month, int64_t day)
{
	year += floor_div(month - 1, 12);
	month = floor_mod(month - 1, 12) + 1;
	return days_from_civil(year, month, 1) + day - 1;
}

void civil_from_days(int64_t days, int64_t *ret_year, int *ret_month, int *ret_day)
{
	int64_t z = days + 719468;
	int64_t era = floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;

	*ret_year = yoe + era * 400 + (m <= 2);
	*ret_month = (int)m;
	*ret_day = (int)d;
}

/* ---- zones ---- */

enum rule_kind { RULE_JULIAN, RULE_DOY, RULE_MWD };

/* A POSIX TZ transition rule: "Jn", "n" or "Mm.w.d", with its local time. */
struct tz_rule {
	enum rule_kind kind;
	int day, week, mon;
	int64_t time;
};

struct tz_type {
	int32_t offset;
	bool isdst;
	char abbr[16];
};

struct tz_zone {
	char name[TZ_NAME_MAX];
	int64_t *trans;            /* transition times, ascending */
	uint8_t *trans_type;       /* type index of each transition */
	size_t trans_count;
	struct tz_type *types;
	size_t type_count;
	/* Footer rule for times after the last transition. */
	bool has_rule, rule_has_dst;
	struct tz_type rule_std, rule_dst;
	struct tz_rule rule_start, rule_end;
};

static const struct tz_type utc_type = { 0, false, "UTC" };
static struct tz_type utc_types[1] = { { 0, false, "UTC" } };
static const struct tz_zone utc_zone = {
	.name = "UTC", .types = utc_types, .type_count = 1,
};

const struct tz_zone *tz_utc(void)
{
	return &utc_zone;
}

static void zone_free(struct tz_zone *zone)
{
	if (!zone)
		return;
	free(zone->trans);
	free(zone->trans_type);
	free(zone->types);
	free(zone);
}

/* ---- TZif reading ---- */

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzif_counts {
	uint32_t isut, isstd, leap, time, type, chars;
};

static bool read_header(const uint8_t *data, size_t len, size_t pos, struct tzif_counts *c,
			uint8_t *ret_version)
{
	if (len - pos < 44 || memcmp(data + pos, "TZif", 4) != 0)
		return false;
	*ret_version = data[pos + 4];
	c->isut = be32(data + pos + 20);
	c->isstd = be32(data + pos + 24);
	c->leap = be32(data + pos + 28);
	c->time = be32(data + pos + 32);
	c->type = be32(data + pos + 36);
	c->chars = be32(data + pos + 40);
	return c->type > 0 && c->type <= 256 && c->time <= 100000 && c->chars <= 4096 &&
	       c->leap <= 1000 && c->isut <= 256 && c->isstd <= 256;
}

static size_t block_size(const struct tzif_counts *c, size_t time_size)
{
	return (size_t)c->time * time_size + c->time + (size_t)c->type * 6 + c->chars +
	       (size_t)c->leap * (time_size + 4) + c->isstd + c->isut;
}

/* POSIX TZ: a name of three or more letters, or <...>. */
static const char *tz_name(const char *s, char *out, size_t cap)
{
	size_t n = 0;

	if (*s == '<') {
		s++;
		while (*s && *s != '>' && n + 1 < cap)
			out[n++] = *s++;
		if (*s != '>')
			return NULL;
		s++;
	} else {
		while (((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')) && n + 1 < cap)
			out[n++] = *s++;
	}
	out[n] = '\0';
	return n >= 3 ? s : NULL;
}

/* [+-]hh[:mm[:ss]] in seconds. */
static const char *tz_clock(const char *s, int64_t *ret)
{
	int64_t sign = 1, value = 0;

	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	for (int part = 0; part < 3; part++) {
		int64_t n = 0;
		int digits = 0;

		if (part > 0) {
			if (*s != ':')
				break;
			s++;
		}
		while (*s >= '0' && *s <= '9' && digits < 3) {
			n = n * 10 + (*s++ - '0');
			digits++;
		}
		if (digits == 0)
			return NULL;
		static const int64_t unit[] = { 3600, 60, 1 };

		value += n * unit[part];
	}
	*ret = sign * value;
	return s;
}

static const char *tz_rule_parse(const char *s, struct tz_rule *rule)
{
	char *end;

	if (*s == 'J') {
		rule->kind = RULE_JULIAN;
		rule->day = (int)strtol(s + 1, &end, 10);
		if (end == s + 1 || rule->day < 1 || rule->day > 365)
			return NULL;
	} else if (*s == 'M') {
		rule->kind = RULE_MWD;
		rule->mon = (int)strtol(s + 1, &end, 10);
		if (*end != '.')
			return NULL;
		rule->week = (int)strtol(end + 1, &end, 10);
		if (*end != '.')
			return NULL;
		rule->day = (int)strtol(end + 1, &end, 10);
		if (rule->mon < 1 || rule->mon > 12 || rule->week < 1 || rule->week > 5 ||
		    rule->day < 0 || rule->day > 6)
			return NULL;
	} else if (*s >= '0' && *s <= '9') {
		rule->kind = RULE_DOY;
		rule->day = (int)strtol(s, &end, 10);
		if (rule->day > 365)
			return NULL;
	} else {
		return NULL;
	}
	s = end;
	rule->time = 2 * 3600;
	if (*s == '/')
		s = tz_clock(s + 1, &rule->time);
	return s;
}

/* Parses the footer "STD offset [DST [offset] [,start,end]]". */
static void parse_footer(struct tz_zone *zone, const char *s)
{
	int64_t std_off, dst_off;

	s = tz_name(s, zone->rule_std.abbr, sizeof(zone->rule_std.abbr));
	if (!s || !(s = tz_clock(s, &std_off)))
		return;
	zone->rule_std.offset = (int32_t)-std_off;
	zone->has_rule = true;
	if (*s == '\0')
		return;

	s = tz_name(s, zone->rule_dst.abbr, sizeof(zone->rule_dst.abbr));
	if (!s)
		goto fail;
	dst_off = std_off - 3600;
	if (*s && *s != ',' && !(s = tz_clock(s, &dst_off)))
		goto fail;
	zone->rule_dst.offset = (int32_t)-dst_off;
	zone->rule_dst.isdst = true;

	/* Without a rule POSIX implies the US rules of 2007: M3.2.0,M11.1.0. */
	if (*s == '\0') {
		zone->rule_start = (struct tz_rule){ RULE_MWD, 0, 2, 3, 7200 };
		zone->rule_end = (struct tz_rule){ RULE_MWD, 0, 1, 11, 7200 };
		zone->rule_has_dst = true;
		return;
	}
	if (*s != ',' || !(s = tz_rule_parse(s + 1, &zone->rule_start)) || *s != ',' ||
	    !(s = tz_rule_parse(s + 1, &zone->rule_end)) || *s != '\0')
		goto fail;
	zone->rule_has_dst = true;
	return;
fail:
	zone->has_rule = false;
}

static int parse_tzif(const uint8_t *data, size_t len, struct tz_zone *zone)
{
	struct tzif_counts c;
	uint8_t version;
	size_t pos = 0, time_size = 4;
	const uint8_t *types, *chars;

	if (!read_header(data, len, 0, &c, &version))
		return WD_EINVAL;
	pos = 44;
	if (version >= '2') {
		if (len - pos < block_size(&c, 4))
			return WD_EINVAL;
		pos += block_size(&c, 4);
		if (!read_header(data, len, pos, &c, &version))
			return WD_EINVAL;
		pos += 44;
		time_size = 8;
	}
	if (len - pos < block_size(&c, time_size))
		return WD_EINVAL;

	zone->trans = wd_calloc(c.time ? c.time : 1, sizeof(*zone->trans));
	zone->trans_type = wd_calloc(c.time ? c.time : 1, 1);
	zone->types = wd_calloc(c.type, sizeof(*zone->types));
	if (!zone->trans || !zone->trans_type || !zone->types)
		return WD_ENOMEM;
	zone->trans_count = c.time;
	zone->type_count = c.type;

	for (size_t i = 0; i < c.time; i++)
		zone->trans[i] = time_size == 8 ? be64(data + pos + i * 8)
						: (int32_t)be32(data + pos + i * 4);
	pos += (size_t)c.time * time_size;
	for (size_t i = 0; i < c.time; i++) {
		zone->trans_type[i] = data[pos + i];
		if (zone->trans_type[i] >= c.type)
			return WD_EINVAL;
	}
	pos += c.time;
	types = data + pos;
	chars = types + (size_t)c.type * 6;
	for (size_t i = 0; i < c.type; i++) {
		const uint8_t *t = types + i * 6;
		size_t idx = t[5];

		zone->types[i].offset = (int32_t)be32(t);
		zone->types[i].isdst = t[4] != 0;
		if (idx < c.chars) {
			size_t n = strnlen((const char *)chars + idx, c.chars - idx);

			if (n >= sizeof(zone->types[i].abbr))
				n = sizeof(zone->types[i].abbr) - 1;
			memcpy(zone->types[i].abbr, chars + idx, n);
		}
	}
	pos += block_size(&c, time_size) - (size_t)c.time * (time_size + 1);

	/* The footer: "\nTZ\n" after the version 2+ data. */
	if (version >= '2' && pos < len && data[pos] == '\n') {
		const uint8_t *end = memchr(data + pos + 1, '\n', len - pos - 1);
		char footer[128];
		size_t n = end ? (size_t)(end - (data + pos + 1)) : 0;

		if (end && n > 0 && n < sizeof(footer)) {
			memcpy(footer, data + pos + 1, n);
			footer[n] = '\0';
			parse_footer(zone, footer);
		}
	}
	return 0;
}

static int read_file(const char *path, uint8_t **ret_data, size_t *ret_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t *data = NULL;
	size_t got = 0;
	int rc;

	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? WD_ENOTFOUND : WD_EIO;
	WD_ENSURE(fstat(fd, &st) == 0 && S_ISREG(st.st_mode), WD_ENOTFOUND);
	WD_ENSURE(st.st_size > 0 && st.st_size <= TZIF_MAX_BYTES, WD_EINVAL);
	data = malloc((size_t)st.st_size);
	WD_ENSURE(data, WD_ENOMEM);
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		WD_ENSURE(n > 0, WD_EIO);
		got += (size_t)n;
	}
	*ret_data = WD_TAKE_PTR(data);
	*ret_len = got;
	rc = 0;
out:
	free(data);
	close(fd);
	return rc;
}

/* IANA names are letters, digits and "/_+-"; ".." and absolute paths are
 * rejected as Go's LoadLocation does. */
static bool name_valid(const char *name, size_t len)
{
	if (len == 0 || len >= TZ_NAME_MAX || name[0] == '/')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '/' || c == '_' || c == '+' || c == '-' || c == '.'))
			return false;
		if (c == '.' && i + 1 < len && name[i + 1] == '.')
			return false;
	}
	return true;
}

static int zone_load(const char *name, size_t len, struct tz_zone **ret_zone)
{
	char path[sizeof(ZONEINFO_DIR) + TZ_NAME_MAX];
	struct tz_zone *zone = NULL;
	uint8_t *data = NULL;
	size_t data_len = 0;
	int rc;

	if (len == 5 && memcmp(name, "Local", 5) == 0)
		snprintf(path, sizeof(path), "%s", LOCALTIME_FILE);
	else
		snprintf(path, sizeof(path), "%s%.*s", ZONEINFO_DIR, (int)len, name);

	WD_GUARD(read_file(path, &data, &data_len));
	zone = wd_calloc(1, sizeof(*zone));
	WD_ENSURE(zone, WD_ENOMEM);
	snprintf(zone->name, sizeof(zone->name), "%.*s", (int)len, name);
	WD_GUARD(parse_tzif(data, data_len, zone));
	*ret_zone = WD_TAKE_PTR(zone);
	rc = 0;
out:
	zone_free(zone);
	free(data);
	return rc;
}

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tz_zone *cache[TZ_CACHE_MAX];
static size_t cache_count;

int tz_zone_find(const char *name, size_t len, const struct tz_zone **ret_zone, char *err,
		 size_t err_cap)
{
	struct tz_zone *zone = NULL;
	int rc = 0;

	if (len == 0 || (len == 3 && memcmp(name, "UTC", 3) == 0)) {
		*ret_zone = &utc_zone;
		return 0;
	}
	if (!name_valid(name, len) && !(len == 5 && memcmp(name, "Local", 5) == 0)) {
		if (len > 0 && (name[0] == '/' || memmem(name, len, "..", 2)))
			snprintf(err, err_cap, "time: invalid location name");
		else
			snprintf(err, err_cap, "unknown time zone %.*s", (int)(len > 200 ? 200 : len),
				 name);
		return WD_EINVAL;
	}

	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < cache_count; i++) {
		if (strlen(cache[i]->name) == len && memcmp(cache[i]->name, name, len) == 0) {
			*ret_zone = cache[i];
			goto out;
		}
	}
	rc = zone_load(name, len, &zone);
	if (rc == WD_ENOTFOUND || rc == WD_EINVAL || rc == WD_EIO) {
		/* Local falls back to UTC when the system names no zone. */
		if (len == 5 && memcmp(name, "Local", 5) == 0) {
			*ret_zone = &utc_zone;
			rc = 0;
			goto out;
		}
		snprintf(err, err_cap, "unknown time zone %.*s", (int)len, name);
		rc = WD_EINVAL;
		goto out;
	}
	if (rc < 0)
		goto out;
	if (cache_count == TZ_CACHE_MAX) {
		snprintf(err, err_cap, "too many time zones in use (at most %d)", TZ_CACHE_MAX);
		zone_free(zone);
		rc = WD_EINVAL;
		goto out;
	}
	/* Zones stay loaded for the life of the process, shared read-only. */
	cache[cache_count++] = zone;
	*ret_zone = zone;
out:
	pthread_mutex_unlock(&cache_lock);
	return rc;
}

/* ---- lookup ---- */

/* Seconds from the start of the year to the rule's moment, in UTC given
 * the offset in force before it (Go's tzruleTime). */
static int64_t rule_time(int64_t year, const struct tz_rule *r, int32_t offset)
{
	int64_t day = 0;

	switch (r->kind) {
	case RULE_JULIAN:
		day = r->day - 1 + (civil_is_leap(year) && r->day >= 60 ? 1 : 0);
		break;
	case RULE_DOY:
		day = r->day;
		break;
	case RULE_MWD: {
		int64_t first = civil_to_days(year, r->mon, 1);
		int dow = (int)floor_mod(first + 4, 7);
		int d = r->day - dow;

		if (d < 0)
			d += 7;
		for (int i = 1; i < r->week; i++) {
			if (d + 7 >= civil_days_in(r->mon, year))
				break;
			d += 7;
		}
		day = first - civil_to_days(year, 1, 1) + d;
		break;
	}
	}
	return day * 86400 + r->time - offset;
}

static const struct tz_type *rule_lookup(const struct tz_zone *zone, int64_t sec)
{
	int64_t year, ysec, start, end;
	int month, day;

	if (!zone->rule_has_dst)
		return &zone->rule_std;

	civil_from_days(floor_div(sec, 86400), &year, &month, &day);
	ysec = sec - civil_to_days(year, 1, 1) * 86400;
	start = rule_time(year, &zone->rule_start, zone->rule_std.offset);
	end = rule_time(year, &zone->rule_end, zone->rule_dst.offset);

	/* Southern hemisphere rules end before they start. */
	if (end < start)
		return ysec >= end && ysec < start ? &zone->rule_std : &zone->rule_dst;
	return ysec >= start && ysec < end ? &zone->rule_dst : &zone->rule_std;
}

void tz_lookup(const struct tz_zone *zone, int64_t unix_sec, int32_t *ret_offset,
	       const char **ret_abbr)
{
	const struct tz_type *type = &zone->types[0];

	if (zone == &utc_zone) {
		type = &utc_type;
	} else if (zone->trans_count == 0 || unix_sec < zone->trans[0]) {
		/* Before the first transition: the first standard-time type. */
		for (size_t i = 0; i < zone->type_count; i++) {
			if (!zone->types[i].isdst) {
				type = &zone->types[i];
				break;
			}
		}
		if (zone->trans_count == 0 && zone->has_rule)
			type = rule_lookup(zone, unix_sec);
	} else if (unix_sec >= zone->trans[zone->trans_count - 1] && zone->has_rule) {
		type = rule_lookup(zone, unix_sec);
	} else {
		size_t lo = 0, hi = zone->trans_count;

		while (hi - lo > 1) {
			size_t mid = lo + (hi - lo) / 2;

			if (zone->trans[mid] <= unix_sec)
				lo = mid;
			else
				hi = mid;
		}
		type = &zone->types[zone->trans_type[lo]];
	}
	*ret_offset = type->offset;
	*ret_abbr = type->abbr;
}

/* ---- broken-down times ---- */

void tm_go_fill(struct tm_go *t)
{
	int64_t local, days, secs;

	if (t->zone) {
		tz_lookup(t->zone, t->unix_sec, &t->offset, &t->abbr);
	} else {
		t->offset = t->fixed_offset;
		t->abbr = t->fixed_abbr ? t->fixed_abbr : "";
	}
	local = t->unix_sec + t->offset;
	days = floor_div(local, 86400);
	secs = local - days * 86400;
	civil_from_days(days, &t->year, &t->month, &t->day);
	t->hour = (int)(secs / 3600);
	t->min = (int)(secs / 60 % 60);
	t->sec = (int)(secs % 60);
	t->wday = (int)floor_mod(days + 4, 7);
	t->yday = (int)(days - civil_to_days(t->year, 1, 1)) + 1;
}

void tm_go_from_civil(struct tm_go *t, int64_t year, int64_t month, int64_t day, int64_t hour,
		      int64_t min, int64_t sec, int64_t nsec, const struct tz_zone *zone)
{
	int64_t local;
	int32_t offset;
	const char *abbr;

	/* Carry overflowing fields upward, as Go's time.Date. */
	sec += floor_div(nsec, 1000000000);
	nsec = floor_mod(nsec, 1000000000);
	min += floor_div(sec, 60);
	sec = floor_mod(sec, 60);
	hour += floor_div(min, 60);
	min = floor_mod(min, 60);
	day += floor_div(hour, 24);
	hour = floor_mod(hour, 24);

	local = civil_to_days(year, month, day) * 86400 + hour * 3600 + min * 60 + sec;

	/* Take the offset in force at the UTC instant the local time maps to
	 * with the offset first guessed. */
	tz_lookup(zone, local, &offset, &abbr);
	if (offset != 0)
		tz_lookup(zone, local - offset, &offset, &abbr);

	memset(t, 0, sizeof(*t));
	t->unix_sec = local - offset;
	t->nsec = (int32_t)nsec;
	t->zone = zone;
	tm_go_fill(t);
}
