/* YAML configuration loader on libyaml's event parser. Aliases are never
 * expanded (they are rejected, as are anchors), nesting and list lengths are
 * capped, and all issues are collected before anything is stored, so a file
 * either applies whole or not at all. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <yaml.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/config.h"
#include "common/config_value.h"
#include "common/error.h"
#include "common/file.h"

/* Characters of a value or key quoted back in an issue; longer text is cut
 * and ends with "...". */
#define QUOTE_MAX 64

/* Keys longer than this get no "did you mean" suggestion, which bounds the
 * edit-distance work per unknown key. */
#define SUGGEST_KEY_MAX 64

/* A value converted and checked, stored once the whole file is valid. */
struct pending {
	const struct config_field *field;
	void *dest;
	union config_value value;
};

struct loader {
	yaml_parser_t parser;
	const char *name;
	struct config_report *report;
	struct pending *pending;
	size_t pending_count;
	size_t pending_cap;
	bool stop; /* a syntax error, the depth limit or out of memory */
	int error; /* WD_ENOMEM once an allocation has failed */
};

void config_report_free(struct config_report *report)
{
	if (!report)
		return;
	for (size_t i = 0; i < report->count; i++) {
		free(report->issues[i].key);
		free(report->issues[i].text);
	}
	free(report->issues);
	*report = (struct config_report){ 0 };
}

/* Appends text for a message: bytes outside printable ASCII become \xHH and
 * quotes and backslashes are escaped, so a value cannot break the message
 * or the log line it ends up in. */
static int append_display(struct wd_buf *out, const char *text)
{
	size_t len = strlen(text);
	size_t shown = len > QUOTE_MAX ? QUOTE_MAX : len;

	for (size_t i = 0; i < shown; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c < 0x20 || c >= 0x7f)
			WD_TRY(wd_buf_appendf(out, "\\x%02x", c));
		else if (c == '\'' || c == '\\')
			WD_TRY(wd_buf_appendf(out, "\\%c", c));
		else
			WD_TRY(wd_buf_append_byte(out, c));
	}
	if (shown < len)
		WD_TRY(wd_buf_append_str(out, "..."));
	return 0;
}

/* Adds one issue. The message takes three conversions: %k for text escaped
 * for display, %s for trusted text and %u for an unsigned number. */
static void add_issue(struct loader *l, size_t line, const char *key, const char *fmt, ...)
{
	struct config_report *report = l->report;
	struct config_issue *issue;
	struct wd_buf text;
	va_list ap;
	int rc = 0;

	if (report->count >= CONFIG_MAX_ISSUES) {
		report->dropped++;
		return;
	}
	/* The issue array is allocated once, at its ceiling. */
	if (!report->issues) {
		report->issues = wd_calloc(CONFIG_MAX_ISSUES, sizeof(*report->issues));
		if (!report->issues) {
			l->error = WD_ENOMEM;
			l->stop = true;
			return;
		}
	}

	wd_buf_init(&text, 128, 4096);
	if (line > 0)
		rc = wd_buf_appendf(&text, "%s:%zu: ", l->name, line);
	else
		rc = wd_buf_appendf(&text, "%s: ", l->name);

	va_start(ap, fmt);
	for (const char *p = fmt; *p && rc == 0; p++) {
		if (p[0] == '%' && p[1] == 'k') {
			rc = append_display(&text, va_arg(ap, const char *));
			p++;
		} else if (p[0] == '%' && p[1] == 's') {
			rc = wd_buf_append_str(&text, va_arg(ap, const char *));
			p++;
		} else if (p[0] == '%' && p[1] == 'u') {
			rc = wd_buf_appendf(&text, "%u", va_arg(ap, unsigned));
			p++;
		} else {
			rc = wd_buf_append_byte(&text, (uint8_t)*p);
		}
	}
	va_end(ap);

	issue = &report->issues[report->count];
	issue->line = line > UINT32_MAX ? UINT32_MAX : (unsigned)line;
	issue->key = key ? wd_strdup(key) : NULL;
	issue->text = rc == 0 ? wd_buf_take(&text, NULL) : NULL;
	wd_buf_free(&text);
	if (!issue->text || (key && !issue->key)) {
		free(issue->key);
		free(issue->text);
		*issue = (struct config_issue){ 0 };
		l->error = WD_ENOMEM;
		l->stop = true;
		return;
	}
	report->count++;
}

static size_t event_line(const yaml_event_t *event)
{
	return event->start_mark.line + 1;
}

/* Reads the next event; on a syntax error reports it and stops the load. */
static bool next_event(struct loader *l, yaml_event_t *event)
{
	if (l->stop)
		return false;
	if (yaml_parser_parse(&l->parser, event))
		return true;

	add_issue(l, l->parser.problem_mark.line + 1, NULL, "invalid YAML: %s",
		l->parser.problem ? l->parser.problem : "syntax error");
	l->stop = true;
	return false;
}

/* Reports an anchor or alias at event, which this loader never expands. */
static void check_anchor(struct loader *l, const yaml_event_t *event)
{
	const yaml_char_t *anchor = NULL;

	if (event->type == YAML_SCALAR_EVENT)
		anchor = event->data.scalar.anchor;
	else if (event->type == YAML_SEQUENCE_START_EVENT)
		anchor = event->data.sequence_start.anchor;
	else if (event->type == YAML_MAPPING_START_EVENT)
		anchor = event->data.mapping_start.anchor;
	else if (event->type == YAML_ALIAS_EVENT)
		anchor = event->data.alias.anchor;
	if (!anchor)
		return;

	add_issue(l, event_line(event), NULL,
		event->type == YAML_ALIAS_EVENT ?
			"alias '*%k' is not supported: write the value out" :
			"anchor '&%k' is not supported: write the value out",
		(const char *)anchor);
}

/* Checks the depth of a collection that starts at depth. */
static bool enter_collection(struct loader *l, const yaml_event_t *event, int depth)
{
	if (depth <= CONFIG_MAX_DEPTH)
		return true;
	add_issue(l, event_line(event), NULL, "nesting is deeper than the limit of %u levels",
		(unsigned)CONFIG_MAX_DEPTH);
	l->stop = true;
	return false;
}

/* Consumes the rest of the node that begins with event, reporting anchors,
 * aliases and excess depth inside it. The caller has checked event itself
 * for an anchor. */
static void skip_node(struct loader *l, yaml_event_t *event, int depth)
{
	int open = 0;

	for (bool first = true;; first = false) {
		if (!first)
			check_anchor(l, event);
		if (event->type == YAML_SEQUENCE_START_EVENT || event->type == YAML_MAPPING_START_EVENT) {
			open++;
			if (!enter_collection(l, event, depth + open - 1))
				return;
		} else if (event->type == YAML_SEQUENCE_END_EVENT ||
			   event->type == YAML_MAPPING_END_EVENT) {
			open--;
		}
		if (open == 0)
			return;

		yaml_event_delete(event);
		if (!next_event(l, event))
			return;
	}
}

static const char *scalar_text(const yaml_event_t *event)
{
	return (const char *)event->data.scalar.value;
}

static bool scalar_is_null(const yaml_event_t *event)
{
	return event->type == YAML_SCALAR_EVENT &&
		event->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		config_value_is_null(scalar_text(event));
}

/* Builds "prefix.key" for messages and the report. */
static char *join_key(const char *prefix, const char *key)
{
	struct wd_buf joined;

	wd_buf_init(&joined, 64, CONFIG_MAX_BYTES);
	if ((prefix && *prefix && (wd_buf_append_str(&joined, prefix) < 0 ||
				   wd_buf_append_byte(&joined, '.') < 0)) ||
	    wd_buf_append_str(&joined, key) < 0) {
		wd_buf_free(&joined);
		return NULL;
	}
	return wd_buf_take(&joined, NULL);
}

static int add_pending(struct loader *l, const struct config_field *field, void *dest,
	union config_value *value)
{
	if (l->pending_count == l->pending_cap) {
		size_t cap = l->pending_cap ? l->pending_cap * 2 : 16;
		struct pending *grown = wd_reallocarray(l->pending, cap, sizeof(*grown));

		if (!grown) {
			config_value_release(field, value);
			l->error = WD_ENOMEM;
			l->stop = true;
			return WD_ENOMEM;
		}
		l->pending = grown;
		l->pending_cap = cap;
	}
	l->pending[l->pending_count++] = (struct pending){ field, dest, *value };
	memset(value, 0, sizeof(*value));
	return 0;
}

/* Reports an invalid value; a secret's value is left out of the message. */
static void report_invalid(struct loader *l, const struct config_field *field,
	const yaml_event_t *event, const char *key, const char *reason)
{
	if (field->flags & CONFIG_SECRET || event->type != YAML_SCALAR_EVENT)
		add_issue(l, event_line(event), key, "invalid value for '%k': %s", key, reason);
	else
		add_issue(l, event_line(event), key, "invalid value '%k' for '%k': %s",
			scalar_text(event), key, reason);
}

static void read_scalar(struct loader *l, const struct config_field *field, const char *key,
	void *dest, yaml_event_t *event, int depth)
{
	union config_value value;
	char reason[256];
	int rc;

	if (event->type != YAML_SCALAR_EVENT) {
		report_invalid(l, field, event, key, "expected a single value, not a list or mapping");
		skip_node(l, event, depth);
		return;
	}
	if (scalar_is_null(event)) {
		add_issue(l, event_line(event), key, "missing value for '%k'", key);
		return;
	}

	rc = config_value_parse(field, scalar_text(event), event->data.scalar.length, &value,
		reason, sizeof(reason));
	if (rc == WD_EINVAL) {
		report_invalid(l, field, event, key, reason);
		return;
	}
	if (rc < 0) {
		l->error = rc;
		l->stop = true;
		return;
	}
	(void)add_pending(l, field, dest, &value);
}

/* Reads a sequence of scalars into a list; the sequence start is consumed. */
static void read_list(struct loader *l, const struct config_field *field, const char *key,
	void *dest, yaml_event_t *event, int depth)
{
	union config_value value = { 0 };
	struct config_strings *list = &value.list;
	bool valid = true, over_limit = false;

	if (scalar_is_null(event)) {
		(void)add_pending(l, field, dest, &value);
		return;
	}
	if (event->type != YAML_SEQUENCE_START_EVENT) {
		report_invalid(l, field, event, key, "expected a list of strings");
		skip_node(l, event, depth);
		return;
	}
	if (!enter_collection(l, event, depth))
		return;

	for (;;) {
		union config_value item;
		char reason[256];
		int rc;

		yaml_event_delete(event);
		if (!next_event(l, event))
			break;
		check_anchor(l, event);
		if (event->type == YAML_SEQUENCE_END_EVENT) {
			if (valid && add_pending(l, field, dest, &value) == 0)
				return;
			break;
		}
		if (event->type != YAML_SCALAR_EVENT || scalar_is_null(event)) {
			add_issue(l, event_line(event), key, "invalid item in '%k': expected a string",
				key);
			valid = false;
			skip_node(l, event, depth + 1);
			continue;
		}
		if (list->count >= CONFIG_MAX_LIST) {
			if (!over_limit)
				add_issue(l, event_line(event), key,
					"'%k' has more than the limit of %u items", key,
					(unsigned)CONFIG_MAX_LIST);
			over_limit = true;
			valid = false;
			continue;
		}

		rc = config_value_parse(field, scalar_text(event), event->data.scalar.length, &item,
			reason, sizeof(reason));
		if (rc == WD_EINVAL) {
			report_invalid(l, field, event, key, reason);
			valid = false;
			continue;
		}
		if (rc < 0 || !valid) {
			config_value_release(&(struct config_field){ .type = CONFIG_STRING }, &item);
			if (rc < 0) {
				l->error = rc;
				l->stop = true;
				break;
			}
			continue;
		}
		if (list->count % 16 == 0) {
			char **grown = wd_reallocarray(list->items, list->count + 16,
				sizeof(*grown));

			if (!grown) {
				free(item.string);
				l->error = WD_ENOMEM;
				l->stop = true;
				break;
			}
			list->items = grown;
		}
		list->items[list->count++] = item.string;
	}
	config_value_release(field, &value);
}

/* Returns the edit distance between a and b (Levenshtein: insertions,
 * deletions and substitutions), for keys of at most SUGGEST_KEY_MAX bytes. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[SUGGEST_KEY_MAX + 1];

	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diagonal = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t above = row[j];
			size_t best = diagonal + (a[i - 1] != b[j - 1]);

			if (above + 1 < best)
				best = above + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diagonal = above;
		}
	}
	return row[lb];
}

/* Returns the sibling key within two edits of key, for a "did you mean"
 * hint, or NULL. */
static const char *suggest_key(const struct config_field *fields, const char *key)
{
	const char *best = NULL;
	size_t best_distance = 3;

	if (strlen(key) > SUGGEST_KEY_MAX)
		return NULL;
	for (const struct config_field *field = fields; field->key; field++) {
		size_t distance;

		if (strlen(field->key) > SUGGEST_KEY_MAX)
			continue;
		distance = edit_distance(key, field->key);
		if (distance < best_distance) {
			best = field->key;
			best_distance = distance;
		}
	}
	return best;
}

static void report_unknown(struct loader *l, const struct config_field *fields,
	const yaml_event_t *key_event, const char *full_key)
{
	const char *hint = suggest_key(fields, scalar_text(key_event));

	if (hint)
		add_issue(l, event_line(key_event), full_key,
			"unknown key '%k' (did you mean '%k'?)", full_key, hint);
	else
		add_issue(l, event_line(key_event), full_key, "unknown key '%k'", full_key);
}

/* Reports each required key under fields that the file left out, including
 * those inside sections that are absent altogether. */
static void report_missing(struct loader *l, const struct config_field *fields, const bool *seen,
	const char *prefix, size_t line)
{
	size_t i = 0;

	for (const struct config_field *field = fields; field->key; field++, i++) {
		char *full_key;

		if (seen && seen[i])
			continue;
		if (!(field->flags & CONFIG_REQUIRED) && field->type != CONFIG_SECTION)
			continue;
		full_key = join_key(prefix, field->key);
		if (!full_key) {
			l->error = WD_ENOMEM;
			l->stop = true;
			return;
		}
		if (field->flags & CONFIG_REQUIRED)
			add_issue(l, line, full_key, "missing required key '%k'", full_key);
		else
			report_missing(l, field->fields, NULL, full_key, line);
		free(full_key);
	}
}

static void read_mapping(struct loader *l, const struct config_field *fields, const char *prefix,
	void *base, yaml_event_t *event, int depth);

/* Reads the value node of a known key, whose first event is in event. */
static void read_value(struct loader *l, const struct config_field *field, const char *full_key,
	void *base, yaml_event_t *event, int depth)
{
	void *dest = (char *)base + field->offset;

	check_anchor(l, event);
	if (event->type == YAML_ALIAS_EVENT)
		return;
	switch (field->type) {
	case CONFIG_SECTION:
		if (event->type == YAML_MAPPING_START_EVENT) {
			read_mapping(l, field->fields, full_key, dest, event, depth + 1);
		} else if (scalar_is_null(event)) {
			report_missing(l, field->fields, NULL, full_key, event_line(event));
		} else {
			add_issue(l, event_line(event), full_key,
				"invalid value for '%k': expected a mapping of settings", full_key);
			skip_node(l, event, depth + 1);
		}
		break;
	case CONFIG_STRING_LIST:
		read_list(l, field, full_key, dest, event, depth + 1);
		break;
	default:
		read_scalar(l, field, full_key, dest, event, depth + 1);
		break;
	}
}

/* Reads a mapping whose start event is in event, at depth (the top-level
 * mapping is depth 1). */
static void read_mapping(struct loader *l, const struct config_field *fields, const char *prefix,
	void *base, yaml_event_t *event, int depth)
{
	size_t count = 0, start_line = event_line(event);
	bool *seen;

	if (!enter_collection(l, event, depth))
		return;
	while (fields[count].key)
		count++;
	seen = wd_calloc(count, sizeof(*seen));
	if (!seen) {
		l->error = WD_ENOMEM;
		l->stop = true;
		return;
	}

	for (;;) {
		const struct config_field *field = NULL;
		yaml_event_t value_event;
		char *full_key = NULL;
		size_t key_line, index = 0;

		yaml_event_delete(event);
		if (!next_event(l, event))
			break;
		if (event->type == YAML_MAPPING_END_EVENT) {
			report_missing(l, fields, seen, prefix, start_line);
			break;
		}

		check_anchor(l, event);
		key_line = event_line(event);
		if (event->type != YAML_SCALAR_EVENT ||
		    strlen(scalar_text(event)) != event->data.scalar.length) {
			add_issue(l, key_line, NULL, "invalid key: keys must be plain strings");
			skip_node(l, event, depth + 1);
		} else {
			full_key = join_key(prefix, scalar_text(event));
			if (!full_key) {
				l->error = WD_ENOMEM;
				l->stop = true;
				break;
			}
			for (index = 0; index < count; index++) {
				if (strcmp(fields[index].key, scalar_text(event)) == 0) {
					field = &fields[index];
					break;
				}
			}
			if (!field)
				report_unknown(l, fields, event, full_key);
			else if (seen[index])
				add_issue(l, key_line, full_key, "duplicate key '%k'", full_key);
		}

		if (!next_event(l, &value_event)) {
			free(full_key);
			break;
		}
		if (field && !seen[index]) {
			seen[index] = true;
			read_value(l, field, full_key, base, &value_event, depth);
		} else {
			check_anchor(l, &value_event);
			skip_node(l, &value_event, depth + 1);
		}
		yaml_event_delete(&value_event);
		free(full_key);
	}
	free(seen);
}

/* Walks the stream: one document whose top level is a mapping, or none. */
static void read_stream(struct loader *l, const struct config_field *schema, void *target)
{
	yaml_event_t event;
	bool document_seen = false;

	if (!next_event(l, &event))
		return;
	/* STREAM-START */
	for (;;) {
		yaml_event_delete(&event);
		if (!next_event(l, &event))
			return;
		if (event.type == YAML_STREAM_END_EVENT)
			break;
		if (event.type != YAML_DOCUMENT_START_EVENT)
			continue;
		if (document_seen) {
			add_issue(l, event_line(&event), NULL,
				"more than one YAML document: a configuration file holds one");
			break;
		}
		document_seen = true;

		yaml_event_delete(&event);
		if (!next_event(l, &event))
			return;
		check_anchor(l, &event);
		if (event.type == YAML_MAPPING_START_EVENT) {
			read_mapping(l, schema, "", target, &event, 1);
		} else if (scalar_is_null(&event)) {
			report_missing(l, schema, NULL, "", 0);
		} else {
			add_issue(l, event_line(&event), NULL,
				"the top level must be a mapping of settings");
			skip_node(l, &event, 1);
		}
		if (l->stop)
			break;
		/* DOCUMENT-END follows. */
		yaml_event_delete(&event);
		if (!next_event(l, &event))
			return;
	}
	yaml_event_delete(&event);

	if (!document_seen)
		report_missing(l, schema, NULL, "", 0);
}

int config_load_buffer(const char *text, size_t len, const char *name,
	const struct config_field *schema, void *target, struct config_report *report)
{
	struct config_report local_report = { 0 };
	struct loader l = { .name = name ? name : "<config>" };
	int rc;

	if (!report)
		report = &local_report;
	*report = (struct config_report){ 0 };
	l.report = report;

	if (!target || !config_schema_valid(schema, 0)) {
		add_issue(&l, 0, NULL, "internal error: invalid configuration schema");
		rc = WD_EINTERNAL;
		goto out;
	}
	rc = config_value_own_defaults(schema, target);
	if (rc < 0)
		goto out;

	if (!text && len) {
		add_issue(&l, 0, NULL, "missing configuration text");
		rc = WD_EINVAL;
		goto out;
	}
	if (len > CONFIG_MAX_BYTES) {
		add_issue(&l, 0, NULL, "the file is larger than the limit of %u bytes",
			(unsigned)CONFIG_MAX_BYTES);
		rc = WD_ETOOBIG;
		goto out;
	}

	if (!yaml_parser_initialize(&l.parser)) {
		rc = WD_ENOMEM;
		goto out;
	}
	yaml_parser_set_input_string(&l.parser, (const unsigned char *)(text ? text : ""), len);
	read_stream(&l, schema, target);
	yaml_parser_delete(&l.parser);

	if (l.error < 0)
		rc = l.error;
	else if (report->count > 0 || report->dropped > 0)
		rc = WD_ECONFIG;
	if (rc < 0)
		goto out;

	for (size_t i = 0; i < l.pending_count; i++)
		config_value_store(l.pending[i].field, l.pending[i].dest, &l.pending[i].value);
	l.pending_count = 0;
	rc = 0;
out:
	for (size_t i = 0; i < l.pending_count; i++)
		config_value_release(l.pending[i].field, &l.pending[i].value);
	free(l.pending);
	config_report_free(&local_report);
	return rc;
}

int config_load_file(const char *path, const struct config_field *schema, void *target,
	struct config_report *report)
{
	struct config_report local_report = { 0 };
	struct loader l = { .name = path ? path : "<config>" };
	struct wd_error err;
	uint8_t *data = NULL;
	size_t len = 0;
	int rc;

	if (!report)
		report = &local_report;
	*report = (struct config_report){ 0 };
	l.report = report;

	rc = path ? wd_file_read(path, CONFIG_MAX_BYTES, &data, &len, &err) : WD_EINVAL;
	if (rc < 0) {
		/* Own the defaults anyway, so config_free stays valid. */
		if (config_schema_valid(schema, 0) && target &&
		    config_value_own_defaults(schema, target) < 0)
			add_issue(&l, 0, NULL, "out of memory while copying the defaults");
		add_issue(&l, 0, NULL, "%s", path ? wd_error_text(&err) : "missing file path");
		config_report_free(&local_report);
		return rc;
	}

	rc = config_load_buffer((const char *)data, len, path, schema, target, report);
	free(data);
	return rc;
}
