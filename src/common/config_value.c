/* Typed setting values: conversion from YAML scalars, bounds, and the
 * ownership of strings and lists in a configuration struct. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/alloc.h"
#include "common/config_value.h"
#include "common/error.h"
#include "common/time.h"

static const struct size_unit {
	const char *symbol;
	uint64_t bytes;
} size_units[] = {
	{ "B", 1 },
	{ "KB", 1000ull },
	{ "MB", 1000ull * 1000 },
	{ "GB", 1000ull * 1000 * 1000 },
	{ "TB", 1000ull * 1000 * 1000 * 1000 },
	{ "KiB", 1ull << 10 },
	{ "MiB", 1ull << 20 },
	{ "GiB", 1ull << 30 },
	{ "TiB", 1ull << 40 },
};

int config_size_parse(const char *text, uint64_t *ret_bytes)
{
	const char *p = text;
	uint64_t number = 0;

	*ret_bytes = 0;
	if (!text || *text < '0' || *text > '9')
		return WD_EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (__builtin_mul_overflow(number, 10u, &number) ||
		    __builtin_add_overflow(number, (uint64_t)(*p - '0'), &number))
			return WD_ETOOBIG;
	}
	if (*p == '\0') {
		*ret_bytes = number;
		return 0;
	}

	for (size_t i = 0; i < WD_ARRAY_LEN(size_units); i++) {
		if (strcmp(p, size_units[i].symbol) != 0)
			continue;
		if (__builtin_mul_overflow(number, size_units[i].bytes, &number))
			return WD_ETOOBIG;
		*ret_bytes = number;
		return 0;
	}
	return WD_EINVAL;
}

bool config_value_is_null(const char *text)
{
	return !*text || strcmp(text, "~") == 0 || strcmp(text, "null") == 0 ||
		strcmp(text, "Null") == 0 || strcmp(text, "NULL") == 0;
}

static bool has_bounds(const struct config_field *field)
{
	return field->min < field->max;
}

/* Parses a decimal int64_t. Leading zeros are rejected because YAML 1.1
 * readers take "0644" as octal, and a silent difference in meaning is worse
 * than an error. */
static bool parse_int64(const char *text, int64_t *ret_value)
{
	const char *p = text;
	bool negative = *p == '-';
	int64_t value = 0;

	if (negative)
		p++;
	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] != '\0'))
		return false;
	for (; *p; p++) {
		int digit;

		if (*p < '0' || *p > '9')
			return false;
		digit = *p - '0';
		/* Accumulate negatively, so INT64_MIN is reachable. */
		if (__builtin_mul_overflow(value, 10, &value) ||
		    __builtin_sub_overflow(value, digit, &value))
			return false;
	}
	if (!negative) {
		if (value == INT64_MIN)
			return false;
		value = -value;
	}
	*ret_value = value;
	return true;
}

static int parse_int(const struct config_field *field, const char *text, int64_t *ret_value,
	char *reason, size_t reason_size)
{
	int64_t value;

	if (!parse_int64(text, &value) ||
	    (has_bounds(field) && (value < field->min || value > field->max))) {
		if (has_bounds(field))
			snprintf(reason, reason_size, "expected an integer from %" PRId64 " to %" PRId64,
				field->min, field->max);
		else
			snprintf(reason, reason_size, "expected a decimal integer without leading zeros");
		return WD_EINVAL;
	}
	*ret_value = value;
	return 0;
}

static int parse_bool(const char *text, bool *ret_value, char *reason, size_t reason_size)
{
	static const char *const yes[] = { "true", "True", "TRUE" };
	static const char *const no[] = { "false", "False", "FALSE" };

	for (size_t i = 0; i < WD_ARRAY_LEN(yes); i++) {
		if (strcmp(text, yes[i]) == 0) {
			*ret_value = true;
			return 0;
		}
		if (strcmp(text, no[i]) == 0) {
			*ret_value = false;
			return 0;
		}
	}
	snprintf(reason, reason_size, "expected true or false");
	return WD_EINVAL;
}

static int parse_duration(const struct config_field *field, const char *text, int64_t *ret_value,
	char *reason, size_t reason_size)
{
	char low[WD_DURATION_TEXT_MAX], high[WD_DURATION_TEXT_MAX];
	int64_t value;

	if (wd_duration_parse(text, &value, NULL) == 0 &&
	    (!has_bounds(field) || (value >= field->min && value <= field->max))) {
		*ret_value = value;
		return 0;
	}
	if (has_bounds(field) && wd_duration_format(field->min, low) == 0 &&
	    wd_duration_format(field->max, high) == 0)
		snprintf(reason, reason_size, "expected a duration from %s to %s", low, high);
	else
		snprintf(reason, reason_size, "expected a duration like 90s, 5m, 1h30m or 7d");
	return WD_EINVAL;
}

static int parse_size(const struct config_field *field, const char *text, uint64_t *ret_value,
	char *reason, size_t reason_size)
{
	uint64_t value;

	/* Negative bounds make no sense for sizes and count as 0. */
	uint64_t min = field->min > 0 ? (uint64_t)field->min : 0;
	uint64_t max = field->max > 0 ? (uint64_t)field->max : 0;

	if (config_size_parse(text, &value) == 0 &&
	    (!has_bounds(field) || (value >= min && value <= max))) {
		*ret_value = value;
		return 0;
	}
	if (has_bounds(field))
		snprintf(reason, reason_size, "expected a size from %" PRIu64 " to %" PRIu64 " bytes",
			min, max);
	else
		snprintf(reason, reason_size, "expected a size like 1MiB, 64KiB or 1048576");
	return WD_EINVAL;
}

static int parse_enum(const struct config_field *field, const char *text, int *ret_value,
	char *reason, size_t reason_size)
{
	size_t used;

	for (int i = 0; field->choices[i]; i++) {
		if (strcmp(text, field->choices[i]) == 0) {
			*ret_value = i;
			return 0;
		}
	}

	used = (size_t)snprintf(reason, reason_size, "expected one of:");
	for (size_t i = 0; field->choices[i] && used < reason_size; i++)
		used += (size_t)snprintf(reason + used, reason_size - used, "%s %s", i ? "," : "",
			field->choices[i]);
	return WD_EINVAL;
}

int config_value_parse(const struct config_field *field, const char *text, size_t len,
	union config_value *ret_value, char *reason, size_t reason_size)
{
	memset(ret_value, 0, sizeof(*ret_value));
	reason[0] = '\0';

	/* A double-quoted "\0" escape puts a NUL inside a scalar, which no C
	 * string can carry. */
	if (strlen(text) != len) {
		snprintf(reason, reason_size, "the value contains a NUL character");
		return WD_EINVAL;
	}

	switch (field->type) {
	case CONFIG_STRING:
	case CONFIG_STRING_LIST:
		ret_value->string = wd_strndup(text, len);
		return ret_value->string ? 0 : WD_ENOMEM;
	case CONFIG_INT:
		return parse_int(field, text, &ret_value->integer, reason, reason_size);
	case CONFIG_BOOL:
		return parse_bool(text, &ret_value->boolean, reason, reason_size);
	case CONFIG_DURATION:
		return parse_duration(field, text, &ret_value->integer, reason, reason_size);
	case CONFIG_SIZE:
		return parse_size(field, text, &ret_value->size, reason, reason_size);
	case CONFIG_ENUM:
		return parse_enum(field, text, &ret_value->choice, reason, reason_size);
	case CONFIG_SECTION:
		break;
	}
	snprintf(reason, reason_size, "expected a mapping");
	return WD_EINVAL;
}

static void free_string(const struct config_field *field, char *s)
{
	if (field->flags & CONFIG_SECRET)
		wd_free_secret_str(s);
	else
		free(s);
}

static void free_list(const struct config_field *field, struct config_strings *list)
{
	for (size_t i = 0; list->items && i < list->count; i++)
		free_string(field, list->items[i]);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

void config_value_release(const struct config_field *field, union config_value *value)
{
	if (field->type == CONFIG_STRING)
		free_string(field, value->string);
	else if (field->type == CONFIG_STRING_LIST)
		free_list(field, &value->list);
	memset(value, 0, sizeof(*value));
}

void config_value_store(const struct config_field *field, void *dest, union config_value *value)
{
	switch (field->type) {
	case CONFIG_STRING:
		free_string(field, *(char **)dest);
		*(char **)dest = value->string;
		break;
	case CONFIG_STRING_LIST:
		free_list(field, dest);
		*(struct config_strings *)dest = value->list;
		break;
	case CONFIG_INT:
	case CONFIG_DURATION:
		*(int64_t *)dest = value->integer;
		break;
	case CONFIG_SIZE:
		*(uint64_t *)dest = value->size;
		break;
	case CONFIG_BOOL:
		*(bool *)dest = value->boolean;
		break;
	case CONFIG_ENUM:
		*(int *)dest = value->choice;
		break;
	case CONFIG_SECTION:
		break;
	}
	memset(value, 0, sizeof(*value));
}

/* Replaces a borrowed list with a deep copy; an empty list on failure. */
static int own_list(struct config_strings *list)
{
	struct config_strings copy = { 0 };

	if (!list->items || list->count == 0) {
		*list = (struct config_strings){ 0 };
		return 0;
	}
	copy.items = wd_calloc(list->count, sizeof(*copy.items));
	if (!copy.items) {
		*list = (struct config_strings){ 0 };
		return WD_ENOMEM;
	}
	for (; copy.count < list->count; copy.count++) {
		copy.items[copy.count] = wd_strdup(list->items[copy.count]);
		if (list->items[copy.count] && !copy.items[copy.count])
			break;
	}
	if (copy.count < list->count) {
		for (size_t i = 0; i < copy.count; i++)
			free(copy.items[i]);
		free(copy.items);
		*list = (struct config_strings){ 0 };
		return WD_ENOMEM;
	}
	*list = copy;
	return 0;
}

int config_value_own_defaults(const struct config_field *schema, void *base)
{
	int rc = 0;

	for (const struct config_field *field = schema; field->key; field++) {
		void *dest = (char *)base + field->offset;
		char **string = dest;

		switch (field->type) {
		case CONFIG_STRING:
			if (*string) {
				*string = wd_strdup(*string);
				if (!*string)
					rc = WD_ENOMEM;
			}
			break;
		case CONFIG_STRING_LIST:
			if (own_list(dest) < 0)
				rc = WD_ENOMEM;
			break;
		case CONFIG_SECTION:
			if (config_value_own_defaults(field->fields, dest) < 0)
				rc = WD_ENOMEM;
			break;
		default:
			break;
		}
	}
	return rc;
}

void config_free(const struct config_field *schema, void *target)
{
	if (!schema || !target)
		return;
	for (const struct config_field *field = schema; field->key; field++) {
		void *dest = (char *)target + field->offset;

		if (field->type == CONFIG_STRING) {
			free_string(field, *(char **)dest);
			*(char **)dest = NULL;
		} else if (field->type == CONFIG_STRING_LIST) {
			free_list(field, dest);
		} else if (field->type == CONFIG_SECTION && field->fields) {
			config_free(field->fields, dest);
		}
	}
}

bool config_schema_valid(const struct config_field *schema, int depth)
{
	if (!schema || depth > CONFIG_MAX_DEPTH)
		return false;
	for (const struct config_field *field = schema; field->key; field++) {
		if ((unsigned)field->type > CONFIG_SECTION || !*field->key)
			return false;
		if (field->type == CONFIG_ENUM && (!field->choices || !field->choices[0]))
			return false;
		if (field->type == CONFIG_SECTION && !config_schema_valid(field->fields, depth + 1))
			return false;
		for (const struct config_field *other = schema; other != field; other++) {
			if (strcmp(other->key, field->key) == 0)
				return false;
		}
	}
	return true;
}
