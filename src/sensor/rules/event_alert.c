/* The alert line of a matching rule, in Falco's JSON output format. */
#include <inttypes.h>
#include <stdint.h>
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

enum out_kind { OUT_UNSET, OUT_STRING, OUT_NUMBER, OUT_BOOL };

/* One %field of an output, with the transformers around it. */
struct out_field {
	char key[256];                    /* "proc.aname[2]", "toupper(user.name)" */
	char name[256];
	char arg[128];
	bool has_arg;
	enum cond_xform xforms[COND_MAX_XFORMS];  /* outermost first */
	size_t nxforms;
};

/* Writes the value of name[arg] into text (a list joined by commas) and
 * sets *kind, *num and *count (the values of a list, SIZE_MAX for another
 * value). Returns 0 or a negative error. */
static int field_text(struct event_fields *f, const struct out_field *of, struct wd_buf *text,
	enum out_kind *kind, int64_t *num, size_t *count)
{
	struct cond_fvalue v = { .kind = COND_V_UNSET };
	const struct cond_field *def = cond_field_find(of->name);
	char digits[32];

	*kind = OUT_UNSET;
	*count = SIZE_MAX;
	if (def && !def->absent)
		event_fields_get(f, of->name, of->has_arg ? of->arg : NULL, &v);
	switch (v.kind) {
	case COND_V_UNSET:
		break;
	case COND_V_STRING:
		*kind = OUT_STRING;
		WD_TRY(wd_buf_append_str(text, v.str));
		break;
	case COND_V_NUMBER:
		*num = v.num;
		*kind = def && def->type == COND_FT_BOOL ? OUT_BOOL : OUT_NUMBER;
		if (*kind == OUT_BOOL)
			snprintf(digits, sizeof(digits), "%s", v.num ? "true" : "false");
		else
			snprintf(digits, sizeof(digits), "%" PRId64, v.num);
		WD_TRY(wd_buf_append_str(text, digits));
		break;
	case COND_V_LIST:
		*kind = OUT_STRING;
		*count = v.count;
		for (size_t i = 0; i < v.count; i++) {
			if (i)
				WD_TRY(wd_buf_append_byte(text, ','));
			WD_TRY(wd_buf_append_str(text, v.items[i]));
		}
		break;
	}
	return 0;
}

/* Applies of's transformers, innermost first, to the value in text. */
static int apply_xforms(const struct out_field *of, struct wd_buf *text, enum out_kind *kind,
	int64_t *num, size_t count)
{
	for (size_t i = of->nxforms; i-- > 0 && *kind != OUT_UNSET;) {
		size_t len = 0;
		char *out;

		if (of->xforms[i] == COND_X_LEN) {
			char digits[32];

			*num = (int64_t)(count != SIZE_MAX ? count : text->len);
			*kind = OUT_NUMBER;
			/* A transformer around len() works on its digits. */
			snprintf(digits, sizeof(digits), "%" PRId64, *num);
			text->len = 0;
			WD_TRY(wd_buf_append_str(text, digits));
			count = SIZE_MAX;
			continue;
		}
		out = cond_xform_apply(of->xforms[i], text->data ? (const char *)text->data : "",
			text->len, &len);
		if (!out) {
			*kind = OUT_UNSET;
			break;
		}
		text->len = 0;
		WD_TRY(wd_buf_append(text, out, len));
		free(out);
		*kind = OUT_STRING;
		count = SIZE_MAX;
	}
	return 0;
}

/* Appends the value of of as output text and sets it in fields_obj
 * (numbers as numbers, unset as null). Returns 0 or a negative error. */
static int render_field(struct event_fields *f, const struct out_field *of,
	struct wd_buf *out, json_t *fields_obj)
{
	struct wd_buf text;
	enum out_kind kind;
	int64_t num = 0;
	size_t count;
	json_t *jv = NULL;
	char digits[32];
	int rc;

	wd_buf_init(&text, 64, OUTPUT_MAX);
	rc = field_text(f, of, &text, &kind, &num, &count);
	if (rc == 0)
		rc = apply_xforms(of, &text, &kind, &num, count);
	if (rc == 0) {
		switch (kind) {
		case OUT_UNSET:
			rc = wd_buf_append_str(out, "<NA>");
			jv = json_null();
			break;
		case OUT_STRING:
			rc = wd_buf_append(out, text.data ? text.data : (const uint8_t *)"", text.len);
			jv = safe_string(text.data ? (const char *)text.data : "", text.len);
			break;
		case OUT_NUMBER:
			snprintf(digits, sizeof(digits), "%" PRId64, num);
			rc = wd_buf_append_str(out, digits);
			jv = json_integer(num);
			break;
		case OUT_BOOL:
			rc = wd_buf_append_str(out, num ? "true" : "false");
			jv = json_boolean(num);
			break;
		}
	}
	wd_buf_free(&text);
	if (rc < 0) {
		json_decref(jv);
		return rc;
	}
	return json_object_set_new(fields_obj, of->key, jv) ? WD_ENOMEM : 0;
}

/* Parses the %field at p (after the '%'): transformers such as
 * "toupper(" around a field name, an optional "[arg]", and the closing
 * parentheses. Returns the end of the token, or NULL when p contains none. */
static const char *parse_field(const char *p, struct out_field *of)
{
	const char *start = p, *name;

	memset(of, 0, sizeof(*of));
	for (;;) {
		const char *word = p;
		enum cond_xform x;

		while (field_char(*p))
			p++;
		if (*p != '(' || !cond_xform_lookup(word, (size_t)(p - word), &x))
			break;
		if (of->nxforms == COND_MAX_XFORMS)
			return NULL;
		of->xforms[of->nxforms++] = x;
		p++;
		if (!field_char(*p))
			return NULL;
	}
	/* p is past the field name. A trailing dot ends the sentence. */
	name = p;
	while (name > start && field_char(name[-1]))
		name--;
	while (p > name && p[-1] == '.')
		p--;
	if (p == name)
		return NULL;
	snprintf(of->name, sizeof(of->name), "%.*s", (int)(p - name), name);
	if (*p == '[') {
		const char *close = strchr(p, ']');

		if (close) {
			snprintf(of->arg, sizeof(of->arg), "%.*s", (int)(close - p - 1), p + 1);
			of->has_arg = true;
			p = close + 1;
		}
	}
	for (size_t i = 0; i < of->nxforms; i++) {
		if (*p != ')')
			return NULL;
		p++;
	}
	snprintf(of->key, sizeof(of->key), "%.*s", (int)(p - start), start);
	return p;
}

/* Renders format into out, replacing %field, %field[arg] and
 * %transformer(field). */
static int render_output(struct event_fields *f, const char *format, struct wd_buf *out,
	json_t *fields_obj)
{
	for (const char *p = format; *p;) {
		struct out_field of;
		const char *end;

		if (*p != '%' || !field_char(p[1])) {
			WD_TRY(wd_buf_append_byte(out, (uint8_t)*p++));
			continue;
		}
		end = parse_field(p + 1, &of);
		if (!end) {
			WD_TRY(wd_buf_append_byte(out, (uint8_t)*p++));
			continue;
		}
		WD_TRY(render_field(f, &of, out, fields_obj));
		p = end;
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
