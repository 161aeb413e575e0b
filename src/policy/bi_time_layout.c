/* Go time layouts ("2006-01-02T15:04:05Z07:00"): formatting and parsing with
 * the rules and error messages of Go's time package, which OPA's time.format
 * and time.parse_ns expose. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/error.h"
#include "policy/bi_time.h"

enum std {
	STD_NONE = 0,
	STD_LONG_MONTH, STD_MONTH, STD_NUM_MONTH, STD_ZERO_MONTH,
	STD_LONG_WEEKDAY, STD_WEEKDAY,
	STD_DAY, STD_UNDER_DAY, STD_ZERO_DAY, STD_UNDER_YEARDAY, STD_ZERO_YEARDAY,
	STD_HOUR, STD_HOUR12, STD_ZERO_HOUR12,
	STD_MINUTE, STD_ZERO_MINUTE, STD_SECOND, STD_ZERO_SECOND,
	STD_LONG_YEAR, STD_YEAR, STD_PM, STD_pm, STD_TZ,
	STD_ISO_TZ, STD_ISO_SECONDS_TZ, STD_ISO_SHORT_TZ, STD_ISO_COLON_TZ,
	STD_ISO_COLON_SECONDS_TZ,
	STD_NUM_TZ, STD_NUM_SECONDS_TZ, STD_NUM_SHORT_TZ, STD_NUM_COLON_TZ,
	STD_NUM_COLON_SECONDS_TZ,
	STD_FRAC0, STD_FRAC9,
};

/* One layout element: its code, and for fractions the digit count and the
 * separator ('.' or ','). */
struct chunk {
	size_t prefix_len;   /* literal text before the element */
	enum std std;
	size_t std_len;      /* length of the element in the layout */
	int digits;
	char sep;
};

static const char *const long_months[] = {
	"January", "February", "March", "April", "May", "June", "July", "August",
	"September", "October", "November", "December",
};
static const char *const long_days[] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
};

static const struct {
	const char *name, *layout;
} named_layouts[] = {
	{ "ANSIC", "Mon Jan _2 15:04:05 2006" },
	{ "UnixDate", "Mon Jan _2 15:04:05 MST 2006" },
	{ "RubyDate", "Mon Jan 02 15:04:05 -0700 2006" },
	{ "RFC822", "02 Jan 06 15:04 MST" },
	{ "RFC822Z", "02 Jan 06 15:04 -0700" },
	{ "RFC850", "Monday, 02-Jan-06 15:04:05 MST" },
	{ "RFC1123", "Mon, 02 Jan 2006 15:04:05 MST" },
	{ "RFC1123Z", "Mon, 02 Jan 2006 15:04:05 -0700" },
	{ "RFC3339", "2006-01-02T15:04:05Z07:00" },
	{ "RFC3339Nano", "2006-01-02T15:04:05.999999999Z07:00" },
};

const char *time_layout_named(const char *layout)
{
	for (size_t i = 0; i < WD_ARRAY_LEN(named_layouts); i++)
		if (strcmp(layout, named_layouts[i].name) == 0)
			return named_layouts[i].layout;
	return layout;
}

static bool starts(const char *s, size_t len, const char *word)
{
	size_t n = strlen(word);

	return len >= n && memcmp(s, word, n) == 0;
}

static bool is_digit_at(const char *s, size_t len, size_t i)
{
	return i < len && s[i] >= '0' && s[i] <= '9';
}

/* Finds the next element of the layout, as Go's nextStdChunk. */
static struct chunk next_chunk(const char *l, size_t len)
{
	static const struct {
		const char *text;
		enum std std;
	} tz_words[] = {
		{ "-070000", STD_NUM_SECONDS_TZ }, { "-07:00:00", STD_NUM_COLON_SECONDS_TZ },
		{ "-0700", STD_NUM_TZ }, { "-07:00", STD_NUM_COLON_TZ }, { "-07", STD_NUM_SHORT_TZ },
		{ "Z070000", STD_ISO_SECONDS_TZ }, { "Z07:00:00", STD_ISO_COLON_SECONDS_TZ },
		{ "Z0700", STD_ISO_TZ }, { "Z07:00", STD_ISO_COLON_TZ }, { "Z07", STD_ISO_SHORT_TZ },
	};
	static const enum std zero_x[] = {
		STD_ZERO_MONTH, STD_ZERO_DAY, STD_ZERO_HOUR12, STD_ZERO_MINUTE, STD_ZERO_SECOND,
		STD_YEAR,
	};
	struct chunk c = { 0 };

	for (size_t i = 0; i < len; i++) {
		const char *s = l + i;
		size_t rest = len - i;

		c.prefix_len = i;
		switch (l[i]) {
		case 'J':
			if (starts(s, rest, "January")) {
				c.std = STD_LONG_MONTH, c.std_len = 7;
				return c;
			}
			if (starts(s, rest, "Jan") && !(rest > 3 && s[3] >= 'a' && s[3] <= 'z')) {
				c.std = STD_MONTH, c.std_len = 3;
				return c;
			}
			break;
		case 'M':
			if (starts(s, rest, "Monday")) {
				c.std = STD_LONG_WEEKDAY, c.std_len = 6;
				return c;
			}
			if (starts(s, rest, "Mon") && !(rest > 3 && s[3] >= 'a' && s[3] <= 'z')) {
				c.std = STD_WEEKDAY, c.std_len = 3;
				return c;
			}
			if (starts(s, rest, "MST")) {
				c.std = STD_TZ, c.std_len = 3;
				return c;
			}
			break;
		case '0':
			if (rest >= 2 && s[1] >= '1' && s[1] <= '6') {
				c.std = zero_x[s[1] - '1'], c.std_len = 2;
				return c;
			}
			if (starts(s, rest, "002")) {
				c.std = STD_ZERO_YEARDAY, c.std_len = 3;
				return c;
			}
			break;
		case '1':
			if (rest >= 2 && s[1] == '5') {
				c.std = STD_HOUR, c.std_len = 2;
				return c;
			}
			c.std = STD_NUM_MONTH, c.std_len = 1;
			return c;
		case '2':
			if (starts(s, rest, "2006")) {
				c.std = STD_LONG_YEAR, c.std_len = 4;
				return c;
			}
			c.std = STD_DAY, c.std_len = 1;
			return c;
		case '_':
			if (rest >= 2 && s[1] == '2') {
				/* "_2006" is a literal "_" and then the year. */
				if (starts(s + 1, rest - 1, "2006")) {
					c.prefix_len = i + 1;
					c.std = STD_LONG_YEAR, c.std_len = 4;
					return c;
				}
				c.std = STD_UNDER_DAY, c.std_len = 2;
				return c;
			}
			if (starts(s, rest, "__2")) {
				c.std = STD_UNDER_YEARDAY, c.std_len = 3;
				return c;
			}
			break;
		case '3':
		case '4':
		case '5':
			if (l[i] == '3')
				c.std = STD_HOUR12;
			else if (l[i] == '4')
				c.std = STD_MINUTE;
			else
				c.std = STD_SECOND;
			c.std_len = 1;
			return c;
		case 'P':
			if (rest >= 2 && s[1] == 'M') {
				c.std = STD_PM, c.std_len = 2;
				return c;
			}
			break;
		case 'p':
			if (rest >= 2 && s[1] == 'm') {
				c.std = STD_pm, c.std_len = 2;
				return c;
			}
			break;
		case '-':
		case 'Z':
			for (size_t k = 0; k < WD_ARRAY_LEN(tz_words); k++) {
				if (tz_words[k].text[0] == l[i] && starts(s, rest, tz_words[k].text)) {
					c.std = tz_words[k].std;
					c.std_len = strlen(tz_words[k].text);
					return c;
				}
			}
			break;
		case '.':
		case ',':
			if (rest >= 2 && (s[1] == '0' || s[1] == '9')) {
				size_t j = 1;

				while (j < rest && s[j] == s[1])
					j++;
				/* Only a run of digits that ends the number is a
				 * fraction. */
				if (!is_digit_at(s, rest, j)) {
					c.std = s[1] == '0' ? STD_FRAC0 : STD_FRAC9;
					c.std_len = j;
					c.digits = (int)(j - 1);
					c.sep = s[0];
					return c;
				}
			}
			break;
		default:
			break;
		}
	}
	c.prefix_len = len;
	c.std = STD_NONE;
	return c;
}

/* ---- formatting ---- */

static int append_int(struct wd_buf *out, int64_t value, int width)
{
	if (value < 0)
		return wd_buf_appendf(out, "-%0*lld", width, (long long)-value);
	return wd_buf_appendf(out, "%0*lld", width, (long long)value);
}

static int append_zone(struct wd_buf *out, enum std std, int32_t offset)
{
	bool iso = std >= STD_ISO_TZ && std <= STD_ISO_COLON_SECONDS_TZ;
	bool colon = std == STD_ISO_COLON_TZ || std == STD_NUM_COLON_TZ ||
		     std == STD_ISO_COLON_SECONDS_TZ || std == STD_NUM_COLON_SECONDS_TZ;
	bool shrt = std == STD_NUM_SHORT_TZ || std == STD_ISO_SHORT_TZ;
	bool secs = std == STD_ISO_SECONDS_TZ || std == STD_NUM_SECONDS_TZ ||
		    std == STD_NUM_COLON_SECONDS_TZ || std == STD_ISO_COLON_SECONDS_TZ;
	int32_t zone = offset / 60, abs_offset = offset;

	if (offset == 0 && iso)
		return wd_buf_append_byte(out, 'Z');
	if (zone < 0) {
		WD_TRY(wd_buf_append_byte(out, '-'));
		zone = -zone;
		abs_offset = -abs_offset;
	} else {
		WD_TRY(wd_buf_append_byte(out, '+'));
	}
	WD_TRY(append_int(out, zone / 60, 2));
	if (colon)
		WD_TRY(wd_buf_append_byte(out, ':'));
	if (!shrt)
		WD_TRY(append_int(out, zone % 60, 2));
	if (secs) {
		if (std == STD_NUM_COLON_SECONDS_TZ || std == STD_ISO_COLON_SECONDS_TZ)
			WD_TRY(wd_buf_append_byte(out, ':'));
		WD_TRY(append_int(out, abs_offset % 60, 2));
	}
	return 0;
}

static int append_nano(struct wd_buf *out, const struct chunk *c, int32_t nsec)
{
	char digits[16];
	size_t n = (size_t)c->digits;

	if (c->std == STD_FRAC9 && (n == 0 || nsec == 0))
		return 0;
	snprintf(digits, sizeof(digits), "%09d", (int)nsec);
	if (n > 9)
		n = 9;
	if (c->std == STD_FRAC9)
		while (n > 0 && digits[n - 1] == '0')
			n--;
	if (n == 0)
		return 0;
	WD_TRY(wd_buf_append_byte(out, (uint8_t)c->sep));
	return wd_buf_append(out, digits, n);
}

static int format_chunk(const struct tm_go *t, const struct chunk *c, struct wd_buf *out)
{
	int hr12 = t->hour % 12 == 0 ? 12 : t->hour % 12;

	switch (c->std) {
	case STD_YEAR:
		return append_int(out, t->year % 100 < 0 ? -(t->year % 100) : t->year % 100, 2);
	case STD_LONG_YEAR:
		return append_int(out, t->year, 4);
	case STD_MONTH:
		return wd_buf_append(out, long_months[t->month - 1], 3);
	case STD_LONG_MONTH:
		return wd_buf_append_str(out, long_months[t->month - 1]);
	case STD_NUM_MONTH:
		return append_int(out, t->month, 0);
	case STD_ZERO_MONTH:
		return append_int(out, t->month, 2);
	case STD_WEEKDAY:
		return wd_buf_append(out, long_days[t->wday], 3);
	case STD_LONG_WEEKDAY:
		return wd_buf_append_str(out, long_days[t->wday]);
	case STD_DAY:
		return append_int(out, t->day, 0);
	case STD_UNDER_DAY:
		if (t->day < 10)
			WD_TRY(wd_buf_append_byte(out, ' '));
		return append_int(out, t->day, 0);
	case STD_ZERO_DAY:
		return append_int(out, t->day, 2);
	case STD_UNDER_YEARDAY:
		return wd_buf_appendf(out, "%3d", t->yday);
	case STD_ZERO_YEARDAY:
		return append_int(out, t->yday, 3);
	case STD_HOUR:
		return append_int(out, t->hour, 2);
	case STD_HOUR12:
		return append_int(out, hr12, 0);
	case STD_ZERO_HOUR12:
		return append_int(out, hr12, 2);
	case STD_MINUTE:
		return append_int(out, t->min, 0);
	case STD_ZERO_MINUTE:
		return append_int(out, t->min, 2);
	case STD_SECOND:
		return append_int(out, t->sec, 0);
	case STD_ZERO_SECOND:
		return append_int(out, t->sec, 2);
	case STD_PM:
		return wd_buf_append_str(out, t->hour >= 12 ? "PM" : "AM");
	case STD_pm:
		return wd_buf_append_str(out, t->hour >= 12 ? "pm" : "am");
	case STD_TZ:
		if (t->abbr && t->abbr[0])
			return wd_buf_append_str(out, t->abbr);
		/* No abbreviation known: the -0700 form. */
		return append_zone(out, STD_NUM_TZ, t->offset);
	case STD_FRAC0:
	case STD_FRAC9:
		return append_nano(out, c, t->nsec);
	case STD_NONE:
		return 0;
	default:
		return append_zone(out, c->std, t->offset);
	}
}

int time_format(const struct tm_go *t, const char *layout, size_t layout_len,
		struct wd_buf *out)
{
	while (layout_len > 0) {
		struct chunk c = next_chunk(layout, layout_len);

		WD_TRY(wd_buf_append(out, layout, c.prefix_len));
		if (c.std == STD_NONE)
			break;
		WD_TRY(format_chunk(t, &c, out));
		layout += c.prefix_len + c.std_len;
		layout_len -= c.prefix_len + c.std_len;
	}
	return 0;
}

/* ---- parsing ---- */

int time_quote(struct wd_buf *out, const char *s, size_t len)
{
	WD_TRY(wd_buf_append_byte(out, '"'));
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)s[i];

		if (c >= 0x80 || c < 0x20) {
			WD_TRY(wd_buf_appendf(out, "\\x%02x", c));
			continue;
		}
		if (c == '"' || c == '\\')
			WD_TRY(wd_buf_append_byte(out, '\\'));
		WD_TRY(wd_buf_append_byte(out, c));
	}
	return wd_buf_append_byte(out, '"');
}

/* The input of a parse and the slices an error message names. */
struct parse_state {
	const char *layout, *value;
	size_t layout_len, value_len;
	char *err;
	size_t err_cap;
};

/* "parsing time "V" as "L": cannot parse "VE" as "LE"", or with message
 * "parsing time "V"MESSAGE". */
static int parse_error(const struct parse_state *ps, const char *layout_elem,
		       size_t layout_elem_len, const char *value_elem, size_t value_elem_len,
		       const char *message)
{
	struct wd_buf text;

	wd_buf_init(&text, 128, 1024);
	if (wd_buf_append_str(&text, "parsing time ") == 0 &&
	    time_quote(&text, ps->value, ps->value_len) == 0) {
		if (message) {
			(void)!wd_buf_append_str(&text, message);
		} else if (wd_buf_append_str(&text, " as ") == 0 &&
			   time_quote(&text, ps->layout, ps->layout_len) == 0 &&
			   wd_buf_append_str(&text, ": cannot parse ") == 0 &&
			   time_quote(&text, value_elem, value_elem_len) == 0 &&
			   wd_buf_append_str(&text, " as ") == 0) {
			(void)!time_quote(&text, layout_elem, layout_elem_len);
		}
	}
	snprintf(ps->err, ps->err_cap, "%s", wd_buf_str(&text));
	wd_buf_free(&text);
	return WD_EINVAL;
}

/* Matches the literal prefix: a space in the layout matches one or more
 * spaces in the value (Go's skip). */
static bool skip_literal(const char **v, size_t *vlen, const char *p, size_t plen)
{
	while (plen > 0) {
		if (*p == ' ') {
			if (*vlen > 0 && **v != ' ')
				return false;
			while (plen > 0 && *p == ' ')
				p++, plen--;
			while (*vlen > 0 && **v == ' ')
				(*v)++, (*vlen)--;
			continue;
		}
		if (*vlen == 0 || **v != *p)
			return false;
		(*v)++, (*vlen)--;
		p++, plen--;
	}
	return true;
}

/* Go's getnum: one or two digits (exactly two when fixed). */
static bool get_num(const char **v, size_t *vlen, bool fixed, int *ret)
{
	if (!is_digit_at(*v, *vlen, 0))
		return false;
	if (!is_digit_at(*v, *vlen, 1)) {
		if (fixed)
			return false;
		*ret = (*v)[0] - '0';
		(*v)++, (*vlen)--;
		return true;
	}
	*ret = ((*v)[0] - '0') * 10 + (*v)[1] - '0';
	*v += 2, *vlen -= 2;
	return true;
}

static bool get_num3(const char **v, size_t *vlen, bool fixed, int *ret)
{
	int n = 0;
	size_t i = 0;

	for (; i < 3 && is_digit_at(*v, *vlen, i); i++)
		n = n * 10 + (*v)[i] - '0';
	if (i == 0 || (fixed && i != 3))
		return false;
	*ret = n;
	*v += i, *vlen -= i;
	return true;
}

static int lookup_name(const char **v, size_t *vlen, const char *const *names, size_t count,
		       size_t prefix)
{
	for (size_t i = 0; i < count; i++) {
		size_t n = prefix ? prefix : strlen(names[i]);

		if (*vlen >= n && strncasecmp(*v, names[i], n) == 0) {
			*v += n, *vlen -= n;
			return (int)i;
		}
	}
	return -1;
}

/* Go's parseNanoseconds: a separator and then nbytes-1 digits. */
static bool parse_nanos(const char *v, size_t nbytes, int32_t *ret, const char **range_err)
{
	int64_t ns = 0;

	if (v[0] != '.' && v[0] != ',')
		return false;
	if (nbytes > 10)
		nbytes = 10;
	for (size_t i = 1; i < nbytes; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		ns = ns * 10 + (v[i] - '0');
	}
	for (size_t i = nbytes; i < 10; i++)
		ns *= 10;
	(void)range_err;
	*ret = (int32_t)ns;
	return true;
}

/* Go's parseTimeZone, for the MST element: the length of a zone
 * abbreviation at the start of v, or 0. */
static size_t zone_name_len(const char *v, size_t len)
{
	size_t n = 0;

	if (len < 3)
		return 0;
	if (len >= 4 && (memcmp(v, "ChST", 4) == 0 || memcmp(v, "MeST", 4) == 0))
		return 4;
	if (memcmp(v, "GMT", 3) == 0) {
		/* GMT, or GMT followed by a signed hour offset. */
		size_t i = 3;

		if (i < len && (v[i] == '+' || v[i] == '-')) {
			size_t start = ++i;

			while (i < len && v[i] >= '0' && v[i] <= '9')
				i++;
			if (i == start || i - start > 2)
				return 3;
			return i;
		}
		return 3;
	}
	if (v[0] == '+' || v[0] == '-') {
		size_t i = 1;

		while (i < len && v[i] >= '0' && v[i] <= '9')
			i++;
		return i == 3 || i == 5 ? i : 0;
	}
	while (n < len && v[n] >= 'A' && v[n] <= 'Z')
		n++;
	switch (n) {
	case 3:
		return 3;
	case 4:
		return v[3] == 'T' || memcmp(v, "WITA", 4) == 0 ? 4 : 0;
	case 5:
		return v[4] == 'T' ? 5 : 0;
	default:
		return 0;
	}
}

/* Reads a numeric zone offset element into *ret_offset (seconds east). */
static bool parse_offset(const char **v, size_t *vlen, enum std std, int32_t *ret_offset,
			 const char **range_err)
{
	const char *s = *v;
	int hr = 0, mm = 0, ss = 0;
	size_t used;
	const char *h, *m, *sec;

	if (std == STD_ISO_COLON_TZ || std == STD_NUM_COLON_TZ) {
		if (*vlen < 6 || s[3] != ':')
			return false;
		h = s + 1, m = s + 4, sec = "00", used = 6;
	} else if (std == STD_NUM_SHORT_TZ || std == STD_ISO_SHORT_TZ) {
		if (*vlen < 3)
			return false;
		h = s + 1, m = "00", sec = "00", used = 3;
	} else if (std == STD_ISO_COLON_SECONDS_TZ || std == STD_NUM_COLON_SECONDS_TZ) {
		if (*vlen < 9 || s[3] != ':' || s[6] != ':')
			return false;
		h = s + 1, m = s + 4, sec = s + 7, used = 9;
	} else if (std == STD_ISO_SECONDS_TZ || std == STD_NUM_SECONDS_TZ) {
		if (*vlen < 7)
			return false;
		h = s + 1, m = s + 3, sec = s + 5, used = 7;
	} else {
		if (*vlen < 5)
			return false;
		h = s + 1, m = s + 3, sec = "00", used = 5;
	}

	size_t two = 2;
	const char *p;

	p = h, two = 2;
	if (!get_num(&p, &two, true, &hr))
		return false;
	p = m, two = 2;
	if (!get_num(&p, &two, true, &mm))
		return false;
	p = sec, two = 2;
	if (!get_num(&p, &two, true, &ss))
		return false;

	/* Go allows 24 hours and 60 minutes or seconds. */
	if (hr > 24)
		*range_err = "time zone offset hour";
	if (mm > 60)
		*range_err = "time zone offset minute";
	if (ss > 60)
		*range_err = "time zone offset second";

	*ret_offset = (hr * 60 + mm) * 60 + ss;
	if (s[0] == '-')
		*ret_offset = -*ret_offset;
	else if (s[0] != '+')
		return false;
	*v += used, *vlen -= used;
	return true;
}

/* The fields a parse fills, initialized as Go's time.Parse. */
struct fields {
	int64_t year;
	int month, day, yday, hour, min, sec;
	int32_t nsec;
	bool pm_set, am_set, utc;
	int32_t zone_offset;
	bool has_offset;
	const char *zone_name;
	size_t zone_name_len;
};

/* Parses one layout element; returns false on a mismatch. */
static bool parse_element(const struct chunk *c, const char *rest_layout, size_t rest_len,
			  const char **v, size_t *vlen, struct fields *f, const char **range_err)
{
	int n = 0;

	switch (c->std) {
	case STD_YEAR:
		if (*vlen < 2 || !is_digit_at(*v, *vlen, 0) || !is_digit_at(*v, *vlen, 1))
			return false;
		n = ((*v)[0] - '0') * 10 + (*v)[1] - '0';
		f->year = n >= 69 ? n + 1900 : n + 2000;
		*v += 2, *vlen -= 2;
		return true;
	case STD_LONG_YEAR:
		if (*vlen < 4 || !is_digit_at(*v, *vlen, 0))
			return false;
		for (int i = 0; i < 4; i++) {
			if (!is_digit_at(*v, *vlen, (size_t)i))
				return false;
			n = n * 10 + (*v)[i] - '0';
		}
		f->year = n;
		*v += 4, *vlen -= 4;
		return true;
	case STD_MONTH:
		n = lookup_name(v, vlen, long_months, 12, 3);
		f->month = n + 1;
		return n >= 0;
	case STD_LONG_MONTH:
		n = lookup_name(v, vlen, long_months, 12, 0);
		f->month = n + 1;
		return n >= 0;
	case STD_NUM_MONTH:
	case STD_ZERO_MONTH:
		if (!get_num(v, vlen, c->std == STD_ZERO_MONTH, &f->month))
			return false;
		if (f->month <= 0 || f->month > 12)
			*range_err = "month";
		return true;
	case STD_WEEKDAY:
		return lookup_name(v, vlen, long_days, 7, 3) >= 0;
	case STD_LONG_WEEKDAY:
		return lookup_name(v, vlen, long_days, 7, 0) >= 0;
	case STD_DAY:
	case STD_UNDER_DAY:
	case STD_ZERO_DAY:
		if (c->std == STD_UNDER_DAY && *vlen > 0 && **v == ' ')
			(*v)++, (*vlen)--;
		/* Any one or two digits: the date is checked at the end. */
		return get_num(v, vlen, c->std == STD_ZERO_DAY, &f->day);
	case STD_UNDER_YEARDAY:
	case STD_ZERO_YEARDAY:
		for (int i = 0; i < 2 && c->std == STD_UNDER_YEARDAY && *vlen > 0 && **v == ' '; i++)
			(*v)++, (*vlen)--;
		if (!get_num3(v, vlen, c->std == STD_ZERO_YEARDAY, &f->yday))
			return false;
		return true;
	case STD_HOUR:
		if (!get_num(v, vlen, false, &f->hour))
			return false;
		if (f->hour < 0 || f->hour >= 24)
			*range_err = "hour";
		return true;
	case STD_HOUR12:
	case STD_ZERO_HOUR12:
		if (!get_num(v, vlen, c->std == STD_ZERO_HOUR12, &f->hour))
			return false;
		if (f->hour < 0 || f->hour > 12)
			*range_err = "hour";
		return true;
	case STD_MINUTE:
	case STD_ZERO_MINUTE:
		if (!get_num(v, vlen, c->std == STD_ZERO_MINUTE, &f->min))
			return false;
		if (f->min < 0 || f->min >= 60)
			*range_err = "minute";
		return true;
	case STD_SECOND:
	case STD_ZERO_SECOND: {
		if (!get_num(v, vlen, c->std == STD_ZERO_SECOND, &f->sec))
			return false;
		if (f->sec < 0 || f->sec >= 60) {
			*range_err = "second";
			return true;
		}
		/* A fraction in the value that the layout does not name is
		 * still read, unless a fraction element comes next. */
		if (*vlen >= 2 && ((*v)[0] == '.' || (*v)[0] == ',') && is_digit_at(*v, *vlen, 1)) {
			struct chunk next = next_chunk(rest_layout, rest_len);
			size_t k = 2;

			if (next.std == STD_FRAC0 || next.std == STD_FRAC9)
				return true;
			while (is_digit_at(*v, *vlen, k))
				k++;
			if (!parse_nanos(*v, k, &f->nsec, range_err))
				return false;
			*v += k, *vlen -= k;
		}
		return true;
	}
	case STD_PM:
	case STD_pm: {
		const char *pm = c->std == STD_PM ? "PM" : "pm", *am = c->std == STD_PM ? "AM" : "am";

		if (*vlen < 2)
			return false;
		if (memcmp(*v, pm, 2) == 0)
			f->pm_set = true;
		else if (memcmp(*v, am, 2) == 0)
			f->am_set = true;
		else
			return false;
		*v += 2, *vlen -= 2;
		return true;
	}
	case STD_ISO_TZ:
	case STD_ISO_SHORT_TZ:
	case STD_ISO_COLON_TZ:
	case STD_ISO_SECONDS_TZ:
	case STD_ISO_COLON_SECONDS_TZ:
		if (*vlen >= 1 && **v == 'Z') {
			(*v)++, (*vlen)--;
			f->utc = true;
			return true;
		}
		/* fall through */
	case STD_NUM_TZ:
	case STD_NUM_SHORT_TZ:
	case STD_NUM_COLON_TZ:
	case STD_NUM_SECONDS_TZ:
	case STD_NUM_COLON_SECONDS_TZ:
		if (!parse_offset(v, vlen, c->std, &f->zone_offset, range_err))
			return false;
		f->has_offset = true;
		return true;
	case STD_TZ: {
		size_t len;

		if (*vlen >= 3 && memcmp(*v, "UTC", 3) == 0) {
			f->utc = true;
			*v += 3, *vlen -= 3;
			return true;
		}
		len = zone_name_len(*v, *vlen);
		if (len == 0)
			return false;
		f->zone_name = *v;
		f->zone_name_len = len;
		*v += len, *vlen -= len;
		return true;
	}
	case STD_FRAC0: {
		size_t ndigit = 1 + (size_t)c->digits;

		if (*vlen < ndigit || !parse_nanos(*v, ndigit, &f->nsec, range_err))
			return false;
		*v += ndigit, *vlen -= ndigit;
		return true;
	}
	case STD_FRAC9: {
		size_t i = 0;

		if (*vlen < 2 || ((*v)[0] != '.' && (*v)[0] != ',') || !is_digit_at(*v, *vlen, 1))
			return true;
		while (is_digit_at(*v, *vlen, i + 1))
			i++;
		if (!parse_nanos(*v, 1 + i, &f->nsec, range_err))
			return false;
		*v += 1 + i, *vlen -= 1 + i;
		return true;
	}
	case STD_NONE:
		return true;
	}
	return false;
}

/* Converts the parsed fields to seconds since the epoch. A zone name other
 * than UTC gets the offset Go gives it when the local zone is UTC. */
static int fields_to_unix(const struct parse_state *ps, struct fields *f, const char *rest,
			  size_t rest_len, int64_t *ret_sec, int32_t *ret_nsec)
{
	struct tm_go t;
	int32_t offset = 0;

	if (f->pm_set && f->hour < 12)
		f->hour += 12;
	else if (f->am_set && f->hour == 12)
		f->hour = 0;

	if (f->yday >= 0) {
		int d, m = 0;

		if (f->yday < 1 || f->yday > 365 + (civil_is_leap(f->year) ? 1 : 0))
			return parse_error(ps, "", 0, rest, rest_len, ": day-of-year out of range");
		d = f->yday;
		while (d > civil_days_in(m + 1, f->year))
			d -= civil_days_in(++m, f->year);
		if (f->month >= 0 && f->month != m + 1)
			return parse_error(ps, "", 0, rest, rest_len,
					   ": day-of-year does not match month");
		if (f->day >= 0 && f->day != d)
			return parse_error(ps, "", 0, rest, rest_len,
					   ": day-of-year does not match day");
		f->month = m + 1;
		f->day = d;
	} else {
		if (f->month < 0)
			f->month = 1;
		if (f->day < 0)
			f->day = 1;
	}
	if (f->day < 1 || f->day > civil_days_in(f->month, f->year))
		return parse_error(ps, "", 0, rest, rest_len, ": day out of range");

	if (!f->utc && f->has_offset) {
		offset = f->zone_offset;
	} else if (!f->utc && f->zone_name && f->zone_name_len > 3 &&
		   memcmp(f->zone_name, "GMT", 3) == 0) {
		int sign = f->zone_name[3] == '-' ? -1 : 1, hours = 0;

		for (size_t i = 4; i < f->zone_name_len; i++)
			hours = hours * 10 + f->zone_name[i] - '0';
		offset = sign * hours * 3600;
	}

	tm_go_from_civil(&t, f->year, f->month, f->day, f->hour, f->min, f->sec, f->nsec,
			 tz_utc());
	*ret_sec = t.unix_sec - offset;
	*ret_nsec = t.nsec;
	return 0;
}

int time_parse(const char *layout, size_t layout_len, const char *value, size_t value_len,
	       int64_t *ret_sec, int32_t *ret_nsec, char *err, size_t err_cap)
{
	struct parse_state ps = { layout, value, layout_len, value_len, err, err_cap };
	struct fields f = { .month = -1, .day = -1, .yday = -1 };
	const char *l = layout, *v = value;
	size_t llen = layout_len, vlen = value_len;

	for (;;) {
		struct chunk c = next_chunk(l, llen);
		const char *std_text = l + c.prefix_len;
		const char *hold;
		const char *range_err = NULL;

		if (!skip_literal(&v, &vlen, l, c.prefix_len))
			return parse_error(&ps, l, c.prefix_len, v, vlen, NULL);
		if (c.std == STD_NONE) {
			if (vlen != 0) {
				struct wd_buf msg;
				int rc;

				wd_buf_init(&msg, 64, 512);
				rc = wd_buf_append_str(&msg, ": extra text: ");
				if (rc == 0)
					rc = time_quote(&msg, v, vlen);
				rc = parse_error(&ps, "", 0, v, vlen, wd_buf_str(&msg));
				wd_buf_free(&msg);
				return rc;
			}
			break;
		}
		l += c.prefix_len + c.std_len;
		llen -= c.prefix_len + c.std_len;

		hold = v;
		size_t hold_len = vlen;

		if (!parse_element(&c, l, llen, &v, &vlen, &f, &range_err)) {
			if (range_err)
				goto range;
			return parse_error(&ps, std_text, c.std_len, hold, hold_len, NULL);
		}
		if (range_err) {
range:;
			char msg[96];

			snprintf(msg, sizeof(msg), ": %s out of range", range_err);
			return parse_error(&ps, std_text, c.std_len, v, vlen, msg);
		}
	}
	return fields_to_unix(&ps, &f, v, vlen, ret_sec, ret_nsec);
}
