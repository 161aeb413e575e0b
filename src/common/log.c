/* Structured log lines, as logfmt-style text or JSON lines. Each line is
 * built in memory and written with one fwrite under a mutex, so lines from
 * different threads never interleave. */
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/log.h"
#include "common/time.h"

/* Ceiling on one line in bytes. Fields that would pass it are dropped and
 * the line ends with log_truncated=true. */
#define LOG_LINE_MAX 16384u

/* Room kept free past LOG_LINE_MAX for the truncation marker and newline. */
#define LOG_TAIL_ROOM 64u

struct log_state {
	pthread_mutex_t lock;
	FILE *out; /* NULL means stderr */
	enum log_format format;
	enum log_level min_level;
};

static struct log_state log_state = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.out = NULL,
	.format = LOG_FORMAT_TEXT,
	.min_level = LOG_LEVEL_INFO,
};

static const struct {
	const char *lower;
	const char *upper;
} level_names[] = {
	[LOG_LEVEL_DEBUG] = { "debug", "DEBUG" },
	[LOG_LEVEL_INFO] = { "info", "INFO" },
	[LOG_LEVEL_WARN] = { "warn", "WARN" },
	[LOG_LEVEL_ERROR] = { "error", "ERROR" },
};

void log_configure(FILE *out, enum log_format format, enum log_level min_level)
{
	pthread_mutex_lock(&log_state.lock);
	log_state.out = out;
	log_state.format = format;
	log_state.min_level = min_level;
	pthread_mutex_unlock(&log_state.lock);
}

int log_level_parse(const char *text, enum log_level *ret_level)
{
	*ret_level = LOG_LEVEL_INFO;
	if (!text)
		return WD_EINVAL;
	for (size_t i = 0; i < WD_ARRAY_LEN(level_names); i++) {
		if (strcmp(text, level_names[i].lower) == 0) {
			*ret_level = (enum log_level)i;
			return 0;
		}
	}
	return WD_EINVAL;
}

int log_format_parse(const char *text, enum log_format *ret_format)
{
	*ret_format = LOG_FORMAT_TEXT;
	if (!text)
		return WD_EINVAL;
	if (strcmp(text, "text") == 0)
		return 0;
	if (strcmp(text, "json") == 0) {
		*ret_format = LOG_FORMAT_JSON;
		return 0;
	}
	return WD_EINVAL;
}

/* Returns the length of the valid UTF-8 sequence at s (RFC 3629 section 4:
 * no overlong forms, no surrogates, nothing above U+10FFFF), or 0 when the
 * bytes there are not one. Stores the code point in *ret_cp. */
static size_t utf8_sequence(const uint8_t *s, size_t len, uint32_t *ret_cp)
{
	uint32_t cp, min;
	size_t n;

	if (s[0] < 0x80) {
		*ret_cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2, cp = s[0] & 0x1fu, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3, cp = s[0] & 0x0fu, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4, cp = s[0] & 0x07u, min = 0x10000;
	} else {
		return 0;
	}
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*ret_cp = cp;
	return n;
}

/* Code points that some terminals and log viewers treat as line breaks or
 * controls: C0, DEL, C1 (NEL is U+0085), and the Unicode line and paragraph
 * separators. */
static bool is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029;
}

/* Decides whether a text-mode value needs quotes. Message text may contain
 * spaces, since it sits before the first field; values may not. */
static bool text_needs_quotes(const char *s, bool allow_space)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t len = strlen(s);

	if (len == 0)
		return !allow_space;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_sequence(p + i, len - i, &cp);

		if (n == 0 || is_control(cp) || cp == '"' || cp == '=' || cp == '\\')
			return true;
		if (cp == ' ' && !allow_space)
			return true;
		i += n;
	}
	return false;
}

/* Appends s in double quotes. Quotes and backslashes are escaped, controls
 * become \n, \r, \t or \uXXXX, and bytes that are not UTF-8 become \xHH, so
 * no value can end the line or start a field of its own. */
static int append_quoted(struct wd_buf *line, const char *s)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t len = strlen(s);

	WD_TRY(wd_buf_append_byte(line, '"'));
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_sequence(p + i, len - i, &cp);

		if (n == 0) {
			WD_TRY(wd_buf_appendf(line, "\\x%02x", p[i]));
			i++;
			continue;
		}
		if (cp == '"' || cp == '\\')
			WD_TRY(wd_buf_appendf(line, "\\%c", (char)cp));
		else if (cp == '\n')
			WD_TRY(wd_buf_append_str(line, "\\n"));
		else if (cp == '\r')
			WD_TRY(wd_buf_append_str(line, "\\r"));
		else if (cp == '\t')
			WD_TRY(wd_buf_append_str(line, "\\t"));
		else if (is_control(cp))
			WD_TRY(wd_buf_appendf(line, "\\u%04x", (unsigned)cp));
		else
			WD_TRY(wd_buf_append(line, p + i, n));
		i += n;
	}
	return wd_buf_append_byte(line, '"');
}

static int append_text(struct wd_buf *line, const char *s, bool allow_space)
{
	if (text_needs_quotes(s, allow_space))
		return append_quoted(line, s);
	return wd_buf_append_str(line, s);
}

/* Appends a field key. Keys come from code, but any byte outside
 * [A-Za-z0-9_.-] becomes '_' so a key can never carry '=' or a space. */
static int append_key(struct wd_buf *line, const char *key)
{
	if (!*key)
		return wd_buf_append_byte(line, '_');
	for (const char *k = key; *k; k++) {
		char c = *k;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';

		WD_TRY(wd_buf_append_byte(line, ok ? (uint8_t)c : '_'));
	}
	return 0;
}

/* Appends " key=value", or nothing when the line would pass its ceiling. */
static int append_text_field(struct wd_buf *line, const char *key, const char *value)
{
	size_t saved = wd_buf_len(line);
	int rc;

	rc = wd_buf_append_byte(line, ' ');
	if (rc == 0)
		rc = append_key(line, key);
	if (rc == 0)
		rc = wd_buf_append_byte(line, '=');
	if (rc == 0)
		rc = append_text(line, value ? value : "", false);
	if (rc == 0 && wd_buf_len(line) > LOG_LINE_MAX)
		rc = WD_ETOOBIG;
	if (rc < 0)
		wd_buf_truncate(line, saved);
	return rc;
}

static int format_text(struct wd_buf *line, const char *time_text, enum log_level level,
	const char *component, const char *message, va_list ap)
{
	const char *key;
	int rc = 0;

	WD_TRY(wd_buf_appendf(line, "%s %s ", time_text, level_names[level].upper));
	WD_TRY(append_text(line, component, false));
	WD_TRY(wd_buf_append_byte(line, ' '));
	WD_TRY(append_text(line, message, true));

	while ((key = va_arg(ap, const char *))) {
		const char *value = va_arg(ap, const char *);

		if (rc == 0)
			rc = append_text_field(line, key, value);
	}
	if (rc == WD_ETOOBIG || wd_buf_len(line) > LOG_LINE_MAX)
		WD_TRY(wd_buf_append_str(line, " log_truncated=true"));
	else if (rc < 0)
		return rc;
	return wd_buf_append_byte(line, '\n');
}

/* Returns a JSON string for s; bytes that are not UTF-8, which jansson
 * rejects, are replaced by U+FFFD. */
static json_t *json_text(const char *s)
{
	struct wd_buf clean;
	const uint8_t *p = (const uint8_t *)s;
	size_t len = strlen(s);
	json_t *value;

	value = json_stringn(s, len);
	if (value)
		return value;

	wd_buf_init(&clean, len + 16, LOG_LINE_MAX * 3);
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_sequence(p + i, len - i, &cp);
		int rc = n ? wd_buf_append(&clean, p + i, n) :
			wd_buf_append_str(&clean, "\xef\xbf\xbd");

		if (rc < 0)
			break;
		i += n ? n : 1;
	}
	value = json_stringn(wd_buf_str(&clean), wd_buf_len(&clean));
	wd_buf_free(&clean);
	return value;
}

/* Adds a field under its key, cleaned as in text mode. A key that is taken
 * (by time, level, component, msg or an earlier field) becomes
 * "field.<key>", so a field can never overwrite the record's own members. */
static int json_add_field(json_t *record, const char *key, const char *value)
{
	json_t *json_value = value ? json_text(value) : json_null();
	struct wd_buf name;
	int rc;

	if (!json_value)
		return WD_ENOMEM;

	wd_buf_init(&name, 0, LOG_LINE_MAX);
	rc = append_key(&name, key);
	if (rc == 0 && json_object_get(record, wd_buf_str(&name))) {
		wd_buf_reset(&name);
		rc = wd_buf_append_str(&name, "field.");
		if (rc == 0)
			rc = append_key(&name, key);
		if (rc == 0 && json_object_get(record, wd_buf_str(&name)))
			rc = WD_EEXIST;
	}
	if (rc == 0) {
		/* set_new takes the reference even when it fails. */
		rc = json_object_set_new(record, wd_buf_str(&name), json_value) == 0 ? 0 : WD_ENOMEM;
		json_value = NULL;
	}
	json_decref(json_value);
	wd_buf_free(&name);

	/* A field whose renamed key is taken too is dropped. */
	return rc == WD_EEXIST ? 0 : rc;
}

static json_t *json_record(const char *time_text, enum log_level level, const char *component,
	const char *message)
{
	json_t *record = json_object();

	if (!record)
		return NULL;
	if (json_object_set_new(record, "time", json_string(time_text)) < 0 ||
	    json_object_set_new(record, "level", json_string(level_names[level].lower)) < 0 ||
	    json_object_set_new(record, "component", json_text(component)) < 0 ||
	    json_object_set_new(record, "msg", json_text(message)) < 0) {
		json_decref(record);
		return NULL;
	}
	return record;
}

static int format_json(struct wd_buf *line, const char *time_text, enum log_level level,
	const char *component, const char *message, va_list ap)
{
	json_t *record = json_record(time_text, level, component, message);
	const char *key;
	char *text = NULL;
	int rc = 0;

	if (!record)
		return WD_ENOMEM;
	while ((key = va_arg(ap, const char *))) {
		const char *value = va_arg(ap, const char *);

		if (rc == 0)
			rc = json_add_field(record, key, value);
	}
	if (rc == 0)
		text = json_dumps(record, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(record);

	/* Too long: keep the record's own members and mark it truncated. */
	if (text && strlen(text) > LOG_LINE_MAX) {
		free(text);
		text = NULL;
		record = json_record(time_text, level, component, message);
		if (record && json_object_set_new(record, "log_truncated", json_true()) == 0)
			text = json_dumps(record, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(record);
	}
	if (!text)
		return rc < 0 ? rc : WD_ENOMEM;

	rc = wd_buf_append_str(line, text);
	if (rc == 0)
		rc = wd_buf_append_byte(line, '\n');
	free(text);
	return rc;
}

void log_write(enum log_level level, const char *component, const char *message, ...)
{
	char time_text[WD_TIME_TEXT_MAX];
	enum log_format format;
	struct wd_buf line;
	va_list ap;
	bool enabled;
	int rc;

	if ((unsigned)level >= WD_ARRAY_LEN(level_names))
		level = LOG_LEVEL_ERROR;
	if (!component)
		component = "-";
	if (!message)
		message = "";

	pthread_mutex_lock(&log_state.lock);
	enabled = level >= log_state.min_level;
	format = log_state.format;
	pthread_mutex_unlock(&log_state.lock);
	if (!enabled)
		return;

	if (wd_time_format_ms(wd_now_ms(), time_text) < 0)
		snprintf(time_text, sizeof(time_text), "-");

	/* JSON escapes can triple the size of the fields jansson returns. */
	wd_buf_init(&line, 256, LOG_LINE_MAX * 3 + LOG_TAIL_ROOM);
	va_start(ap, message);
	if (format == LOG_FORMAT_JSON)
		rc = format_json(&line, time_text, level, component, message, ap);
	else
		rc = format_text(&line, time_text, level, component, message, ap);
	va_end(ap);

	pthread_mutex_lock(&log_state.lock);
	FILE *out = log_state.out ? log_state.out : stderr;
	if (rc == 0) {
		fwrite(wd_buf_data(&line), 1, wd_buf_len(&line), out);
	} else {
		/* The line could not be built (out of memory), so write a short
		 * notice without its fields. */
		fprintf(out, "%s %s log line dropped: %s\n", time_text, level_names[level].upper,
			wd_strerror(rc));
	}
	fflush(out);
	pthread_mutex_unlock(&log_state.lock);

	wd_buf_free(&line);
}
