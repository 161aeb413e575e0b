/* Types shared by the username template interpreter (db_template.c) and
 * its functions (db_template_funcs.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/macros.h"
#include "secrets/db_internal.h"

/* Arguments of one function call, the piped value included. */
#define TEMPLATE_ARGS_MAX 8

/* A value of a pipeline: Go's string or int. */
struct template_value {
	bool is_int;
	int64_t number;
	char *text;       /* owned and NUL-terminated when !is_int */
	size_t len;
};

/* Position in the template being rendered, its data and where errors go. */
struct template_parser {
	const char *pos;
	const char *end;
	const struct db_template_data *data;
	struct wd_error *err;
	unsigned depth;
};

/* A function callable from a template: name, argument counts (the piped
 * value counts as the last argument) and the implementation. */
struct template_function {
	const char *name;
	size_t min_args;
	size_t max_args;
	int (*call)(struct template_parser *parser, struct template_value *args, size_t count,
		struct template_value *ret);
};

/* Returns the function called name (len bytes), or NULL. */
const struct template_function *template_function_find(const char *name, size_t len);

void template_value_clear(struct template_value *value);

/* Stores a copy of text in ret; WD_ETOOBIG past DB_TEMPLATE_MAX. */
WD_MUST_CHECK int template_value_set_text(struct template_parser *parser,
	struct template_value *ret, const char *text, size_t len);

/* Appends now_ms formatted with a Go time layout ("2006-01-02T15:04:05Z07:00")
 * in UTC to out (db_time.c). Supports the layout elements for year, month,
 * day, weekday, hour, minute, second, fractions, AM/PM, zone name and
 * offsets; other text is copied. */
WD_MUST_CHECK int db_format_go_time(const char *layout, int64_t now_ms, struct wd_buf *out);
