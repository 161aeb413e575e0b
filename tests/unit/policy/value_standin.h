/* A minimal stand-in for value.c, for the parser tests until the real
 * values land: strings, numbers kept as text, booleans and null. */
#pragma once

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "policy/value.h"

static struct rv standin_null = { .refs = RV_REFS_FROZEN, .kind = RV_NULL };
static struct rv standin_true = { .refs = RV_REFS_FROZEN, .kind = RV_BOOL, .u.boolean = true };
static struct rv standin_false = { .refs = RV_REFS_FROZEN, .kind = RV_BOOL };

struct rv *rv_null(void)
{
	return &standin_null;
}

struct rv *rv_bool(bool b)
{
	return b ? &standin_true : &standin_false;
}

static struct rv *standin_text(enum rv_kind kind, const char *s, size_t len)
{
	struct rv *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->refs = 1;
	v->kind = (uint8_t)kind;
	v->u.str.data = malloc(len + 1);
	if (!v->u.str.data) {
		free(v);
		return NULL;
	}
	memcpy(v->u.str.data, s, len);
	v->u.str.data[len] = '\0';
	v->u.str.len = len;
	return v;
}

struct rv *rv_string(const char *s, size_t len)
{
	return standin_text(RV_STRING, s, len);
}

struct rv *rv_number_parse(const char *s, size_t len)
{
	return standin_text(RV_NUMBER, s, len);
}

void rv_freeze(struct rv *v)
{
	v->refs = RV_REFS_FROZEN;
}

void rv_free_frozen(struct rv *v)
{
	if (!v || v->kind == RV_NULL || v->kind == RV_BOOL)
		return;
	free(v->u.str.data);
	free(v);
}

void rv_unref(struct rv *v)
{
	if (v && v->refs != RV_REFS_FROZEN && --v->refs == 0)
		rv_free_frozen(v);
}

int rv_write_rego(const struct rv *v, struct wd_buf *out)
{
	switch (v->kind) {
	case RV_NULL:
		return wd_buf_append_str(out, "null");
	case RV_BOOL:
		return wd_buf_append_str(out, v->u.boolean ? "true" : "false");
	case RV_NUMBER:
		return wd_buf_append(out, v->u.str.data, v->u.str.len);
	default:
		break;
	}
	if (wd_buf_append_byte(out, '"') < 0)
		return -1;
	for (size_t i = 0; i < v->u.str.len; i++) {
		unsigned char c = (unsigned char)v->u.str.data[i];
		int rc;

		if (c == '"' || c == '\\')
			rc = wd_buf_appendf(out, "\\%c", c);
		else if (c == '\n')
			rc = wd_buf_append_str(out, "\\n");
		else if (c == '\t')
			rc = wd_buf_append_str(out, "\\t");
		else if (c < 0x20)
			rc = wd_buf_appendf(out, "\\u%04x", c);
		else
			rc = wd_buf_append_byte(out, c);
		if (rc < 0)
			return rc;
	}
	return wd_buf_append_byte(out, '"');
}

/* Referenced by the builtin registry, which the parser consults. */
const char *rv_type_name(const struct rv *v)
{
	(void)v;
	return "value";
}

bool rv_number_to_i64(const struct rv *n, int64_t *ret)
{
	(void)n;
	*ret = 0;
	return false;
}
