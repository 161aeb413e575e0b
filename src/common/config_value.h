/* Conversion of YAML scalars into typed setting values, and the ownership of
 * strings in a configuration struct. Internal to the config loader. */
#pragma once

#include <stddef.h>

#include "common/config.h"

/* A converted value, waiting to be stored once the whole file is valid. */
union config_value {
	char *string;
	int64_t integer; /* CONFIG_INT and CONFIG_DURATION */
	uint64_t size;
	bool boolean;
	int choice;
	struct config_strings list;
};

/* Converts the scalar text (len bytes, NUL-terminated) for field into
 * ret_value. On WD_EINVAL, writes what the field expects ("expected a size
 * like 1MiB") to reason. */
WD_MUST_CHECK int config_value_parse(const struct config_field *field, const char *text,
	size_t len, union config_value *ret_value, char *reason, size_t reason_size);

/* Returns whether a plain YAML scalar is null: "", "~" or null (YAML 1.2
 * core schema, section 10.3.2). */
bool config_value_is_null(const char *text);

/* Moves value into the member at dest, releasing the string or list that
 * was there. */
void config_value_store(const struct config_field *field, void *dest, union config_value *value);

/* Frees a string or list value that was never stored; accepts empty values. */
void config_value_release(const struct config_field *field, union config_value *value);

/* Replaces each borrowed string and list default in base with a malloc'd
 * copy. WD_ENOMEM leaves the members that could not be copied NULL. */
WD_MUST_CHECK int config_value_own_defaults(const struct config_field *schema, void *base);

/* Checks a schema for programming errors (a section without fields, an enum
 * without choices, nesting past CONFIG_MAX_DEPTH). */
bool config_schema_valid(const struct config_field *schema, int depth);
