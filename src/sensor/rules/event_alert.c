/* The alert line of a matching rule, in Falco's JSON output format. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "sensor/rules/event_source.h"

/* Bytes of one rendered output; a longer one is cut. */
#define OUTPUT_MAX (64u * 1024u)

void event_time_rfc3339(int64_t ns, char *buf, size_t size)
{
	time_t secs = (time_t)(ns / 1000000000);
	long frac = (long)(ns % 1000000000);
	struct tm tm;

	if (frac < 0) {
		frac += 1000000000;
		secs--;
	}
	gmtime_r(&secs, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
		tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

void event_time_clock(int64_t ns, char *buf, size_t size)
{
	time_t secs = (time_t)(ns / 1000000000);
	long frac = (long)(ns % 1000000000);
	struct tm tm;

	if (frac < 0) {
		frac += 1000000000;
		secs--;
	}
	localtime_r(&secs, &tm);
	snprintf(buf, size, "%02d:%02d:%02d.%09ld", tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

/* A JSON string of len bytes at text; when they are not UTF-8, a copy with
 * every non-ASCII byte replaced by '?'. NULL when memory runs out. */
static json_t *safe_string(const char *text, size_t len)
{
	json_t *value = json_stringn(text, len);
	char *copy;

	if (value || !(copy = malloc(len + 1)))
		return value;
	for (size_t i = 0; i < len; i++)
		copy[i] = (unsigned char)text[i] < 0x80 ? text[i] : '?';
	value = json_stringn(copy, len);
	free(copy);
	return value;
}

static bool field_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '.' || c == '_';
}

/* Appends the value of name[arg] as output text and sets it in fields_obj
 * (numbers as numbers, unset as null). Returns 0 or a negative error. */
static int render_field(struct event_fields *f, const char *key, const char *name,
	const char *arg, struct wd_buf *out, json_t *fields_obj)
{
	struct cond_fvalue v = { .kind = COND_V_UNSET };
	const struct cond_field *def = cond_field_find(name);
	json_t *jv = NULL;
	char num[32];

	if (def && !def->absent)
		event_fields_get(f, name, arg, &v);
	switch (v.kind) {
	case COND_V_UNSET:
		WD_TRY(wd_buf_append_str(out, "<NA>"));
		jv = json_null();
		break;
	case COND_V_STRING:
		WD_TRY(wd_buf_append_str(out, v.str));
		jv = safe_string(v.str, strlen(v.str));
		break;
	case COND_V_NUMBER:
		if (def && def->type == COND_FT_BOOL) {
			WD_TRY(wd_buf_append_str(out, v.num ? "true" : "false"));
			jv = json_boolean(v.num);
		} else {
			snprintf(num, sizeof(num), "%" PRId64, v.num);
			WD_TRY(wd_buf_append_str(out, num));
			jv = json_integer(v.num);
		}
		break;
	case COND_V_LIST: {
		size_t start = out->len;

		for (size_t i = 0; i < v.count; i++) {
			if (i)
				WD_TRY(wd_buf_append_byte(out, ','));
			WD_TRY(wd_buf_append_str(out, v.items[i]));
		}
		jv = safe_string((const char *)out->data + start, out->len - start);
		break;
	}
	}
	return json_object_set_new(fields_obj, key, jv) ? WD_ENOMEM : 0;
}

/* Renders format into out, replacing %field and %field[arg]. */
static int render_output(struct event_fields *f, const char *format, struct wd_buf *out,
	json_t *fields_obj)
{
	for (const char *p = format; *p;) {
		const char *start, *end;
		char key[256], name[256], arg[128] = "";
		bool has_arg = false;

		if (*p != '%' || !field_char(p[1])) {
			WD_TRY(wd_buf_append_byte(out, (uint8_t)*p++));
			continue;
		}
		start = ++p;
		while (field_char(*p))
			p++;
		/* A trailing dot ends the sentence, not the field name. */
		while (p > start && p[-1] == '.')
			p--;
		if (p == start) {
			WD_TRY(wd_buf_append_byte(out, '%'));
			continue;
		}
		end = p;
		snprintf(name, sizeof(name), "%.*s", (int)(end - start), start);
		if (*p == '[') {
			const char *close = strchr(p, ']');

			if (close) {
				snprintf(arg, sizeof(arg), "%.*s", (int)(close - p - 1), p + 1);
				has_arg = true;
				p = close + 1;
			}
		}
		snprintf(key, sizeof(key), "%.*s", (int)(p - start), start);
		WD_TRY(render_field(f, key, name, has_arg ? arg : NULL, out, fields_obj));
	}
	return 0;
}

json_t *event_alert_json(const struct rules_rule *rule, struct event_fields *fields,
	const char *hostname)
{
	json_t *alert = json_object(), *fields_obj = json_object(), *tags = json_array();
	struct wd_buf out;
	char when[40];
	bool ok;

	wd_buf_init(&out, 256, OUTPUT_MAX);
	/* Falco's formatter puts "%evt.time: PRIORITY " before the rule's output
	 * (falco.yaml's default time_format_iso_8601: false), so evt.time is one
	 * of the output fields too. */
	event_time_clock(fields->time_ns, when, sizeof(when));
	ok = alert && fields_obj && tags &&
		wd_buf_append_str(&out, when) == 0 && wd_buf_append_str(&out, ": ") == 0 &&
		wd_buf_append_str(&out, rules_priority_name(rule->priority)) == 0 &&
		wd_buf_append_byte(&out, ' ') == 0 &&
		!json_object_set_new(fields_obj, "evt.time", json_integer(fields->time_ns)) &&
		render_output(fields, rule->output ? rule->output : "", &out, fields_obj) == 0;
	for (size_t i = 0; ok && i < rule->ntags; i++)
		ok = !json_array_append_new(tags, json_string(rule->tags[i]));
	event_time_rfc3339(fields->time_ns, when, sizeof(when));
	ok = ok && !json_object_set_new(alert, "time", json_string(when)) &&
		!json_object_set_new(alert, "rule", json_string(rule->name)) &&
		!json_object_set_new(alert, "priority",
			json_string(rules_priority_name(rule->priority))) &&
		!json_object_set_new(alert, "output",
			safe_string(out.data ? (const char *)out.data : "", out.len)) &&
		!json_object_set(alert, "output_fields", fields_obj) &&
		!json_object_set_new(alert, "source", json_string("syscall")) &&
		!json_object_set(alert, "tags", tags) &&
		!json_object_set_new(alert, "hostname", json_string(hostname));
	json_decref(fields_obj);
	json_decref(tags);
	wd_buf_free(&out);
	if (!ok) {
		json_decref(alert);
		return NULL;
	}
	return alert;
}
