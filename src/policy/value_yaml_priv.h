/* Helpers shared by the YAML reader and writer of values: go-yaml v2's
 * scalar resolution and Go's float formatting. Private to value_yaml*.c. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/macros.h"

/* A plain scalar after go-yaml v2's resolve step. */
struct yaml_scalar_info {
	enum {
		YAML_SC_NULL,
		YAML_SC_BOOL,
		YAML_SC_INT,     /* fits int64: i */
		YAML_SC_UINT,    /* above INT64_MAX: u */
		YAML_SC_FLOAT,   /* d, may be NaN or infinite */
		YAML_SC_STRING,
	} kind;
	bool boolean;
	int64_t i;
	uint64_t u;
	double d;
};

/* Resolves an untagged plain scalar (NUL-terminated) by YAML 1.1 rules as
 * go-yaml v2 does: yes/no/on/off are booleans, 0x/0o/0b/0 prefixes and
 * underscores in integers. 0, or WD_ENOMEM. */
WD_MUST_CHECK int rv_yaml_resolve_plain(const char *s, struct yaml_scalar_info *ret);

enum yaml_float_style {
	YAML_FLOAT_JSON,  /* Go's encoding/json: fixed below 1e21, "1e-7" */
	YAML_FLOAT_G64,   /* strconv.FormatFloat(d, 'g', -1, 64) */
	YAML_FLOAT_G32,   /* strconv.FormatFloat(d, 'g', -1, 32) */
};

/* Appends d with Go's shortest round-trip digits in the given style;
 * NaN and infinities as YAML's .nan, .inf and -.inf. */
WD_MUST_CHECK int rv_yaml_format_float(double d, enum yaml_float_style style,
				       struct wd_buf *out);
