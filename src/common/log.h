/* Structured logging: one line per event with time, level, component,
 * message and key=value fields, as text or as JSON lines. Callers never pass
 * secrets as field values. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "common/macros.h"

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR,
};

enum log_format {
	LOG_FORMAT_TEXT,
	LOG_FORMAT_JSON,
};

/* Sets where and how lines go; the default is text, info, stderr. */
void log_configure(FILE *out, enum log_format format, enum log_level min_level);

/* Parses "debug", "info", "warn" or "error"; WD_EINVAL otherwise. */
WD_MUST_CHECK int log_level_parse(const char *text, enum log_level *ret_level);

/* Parses "text" or "json"; WD_EINVAL otherwise. */
WD_MUST_CHECK int log_format_parse(const char *text, enum log_format *ret_format);

/* Writes one line. The variadic part is pairs of const char * key and value,
 * ended by NULL: log_write(LOG_LEVEL_INFO, "identity", "svid issued",
 * "spiffe_id", id, "serial", serial, NULL). Text mode quotes values that
 * contain spaces, quotes or control characters; JSON mode escapes them. */
void log_write(enum log_level level, const char *component, const char *message, ...)
	__attribute__((sentinel));

#define log_debug(component, ...) log_write(LOG_LEVEL_DEBUG, component, __VA_ARGS__, NULL)
#define log_info(component, ...) log_write(LOG_LEVEL_INFO, component, __VA_ARGS__, NULL)
#define log_warn(component, ...) log_write(LOG_LEVEL_WARN, component, __VA_ARGS__, NULL)
#define log_error(component, ...) log_write(LOG_LEVEL_ERROR, component, __VA_ARGS__, NULL)
