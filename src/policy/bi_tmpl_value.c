/* Values of strings.render_template: conversion from Rego values, Go's truth
 * rule, and printing as Go's fmt package prints them. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "policy/bi_str_util.h"
#include "policy/bi_tmpl_value.h"

char *tv_pool_keep(struct tv_pool *pool, const char *s, size_t len)
{
	char *copy;

	if (pool->n == pool->cap) {
		size_t cap = pool->cap ? pool->cap * 2 : 16;
		char **grown = realloc(pool->strs, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		pool->strs = grown;
		pool->cap = cap;
	}
	copy = malloc(len + 1);
	if (!copy)
		return NULL;
	if (len)
		memcpy(copy, s, len);
	copy[len] = '\0';
	pool->strs[pool->n++] = copy;
	return copy;
}

void tv_pool_free(struct tv_pool *pool)
{
	for (size_t i = 0; i < pool->n; i++)
		free(pool->strs[i]);
	free(pool->strs);
	memset(pool, 0, sizeof(*pool));
}

int tv_from_rv(struct tv_pool *pool, struct rv *v, struct tv *ret)
{
	struct wd_buf text;
	int rc;

	memset(ret, 0, sizeof(*ret));
	switch (rv_kind_of(v)) {
	case RV_NULL:
		ret->kind = TV_NIL;
		return 0;
	case RV_BOOL:
		ret->kind = TV_BOOL;
		ret->b = v->u.boolean;
		return 0;
	case RV_NUMBER:
		/* OPA decodes numbers as json.Number: their JSON text. */
		wd_buf_init(&text, 32, BI_STR_MAX);
		rc = rv_number_format(v, &text);
		if (rc == 0) {
			ret->s = tv_pool_keep(pool, wd_buf_str(&text), wd_buf_len(&text));
			ret->len = wd_buf_len(&text);
			rc = ret->s ? 0 : WD_ENOMEM;
		}
		wd_buf_free(&text);
		ret->kind = TV_JNUM;
		return rc;
	case RV_STRING:
		ret->kind = TV_STRING;
		ret->s = rv_str(v);
		ret->len = rv_str_len(v);
		return 0;
	case RV_ARRAY:
		ret->kind = TV_ARRAY;
		ret->rv = v;
		return 0;
	case RV_OBJECT:
		ret->kind = TV_MAP;
		ret->rv = v;
		return 0;
	case RV_SET:
		break;
	}
	return WD_EINVAL; /* tv_check_data rejects sets first */
}

bool tv_truth(struct tv v)
{
	switch (v.kind) {
	case TV_BOOL:
		return v.b;
	case TV_INT:
		return v.i != 0;
	case TV_FLOAT:
		return v.f != 0;
	case TV_STRING:
	case TV_JNUM:
		return v.len > 0;
	case TV_ARRAY:
		return rv_array_len(v.rv) > 0;
	case TV_MAP:
		return rv_len(v.rv) > 0;
	case TV_INVALID:
	case TV_NIL:
		break;
	}
	return false;
}

const char *tv_type_name(struct tv v)
{
	static const char *const names[] = {
		[TV_INVALID] = "<nil>", [TV_NIL] = "interface {}", [TV_BOOL] = "bool",
		[TV_INT] = "int", [TV_FLOAT] = "float64", [TV_STRING] = "string",
		[TV_JNUM] = "json.Number", [TV_ARRAY] = "[]interface {}",
		[TV_MAP] = "map[string]interface {}",
	};

	return names[v.kind];
}

/* Appends a float64 as fmt's %v: the shortest digits that read back, in %e
 * form when the exponent is below -4 or at least 6 (Go's strconv 'g' with
 * shortest precision), else in %f form. */
static int print_float(double f, struct wd_buf *out)
{
	char digits[40], mant[24];
	int exp = 0, nd;

	if (f == 0)
		return wd_buf_append_str(out, signbit(f) ? "-0" : "0");
	if (isinf(f))
		return wd_buf_append_str(out, f > 0 ? "+Inf" : "-Inf");
	if (isnan(f))
		return wd_buf_append_str(out, "NaN");

	for (int prec = 1; prec <= 17; prec++) {
		snprintf(digits, sizeof(digits), "%.*e", prec - 1, f);
		if (strtod(digits, NULL) == f)
			break;
	}

	/* digits is "[-]d.ddde[+-]xx": split the mantissa digits and exponent. */
	{
		const char *p = digits;
		char *e = strchr(digits, 'e');
		bool neg = *p == '-';

		nd = 0;
		if (neg)
			p++;
		for (; p < e; p++)
			if (*p != '.')
				mant[nd++] = *p;
		while (nd > 1 && mant[nd - 1] == '0')
			nd--;
		mant[nd] = '\0';
		exp = (int)strtol(e + 1, NULL, 10);
		if (neg)
			WD_TRY(wd_buf_append_byte(out, '-'));
	}

	if (exp < -4 || exp >= 6) {
		WD_TRY(wd_buf_append_byte(out, (uint8_t)mant[0]));
		if (nd > 1) {
			WD_TRY(wd_buf_append_byte(out, '.'));
			WD_TRY(wd_buf_append(out, mant + 1, (size_t)nd - 1));
		}
		return wd_buf_appendf(out, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
	}
	if (exp < 0) {
		WD_TRY(wd_buf_append_str(out, "0."));
		for (int i = -1; i > exp; i--)
			WD_TRY(wd_buf_append_byte(out, '0'));
		return wd_buf_append(out, mant, (size_t)nd);
	}
	for (int i = 0; i <= exp; i++)
		WD_TRY(wd_buf_append_byte(out, (uint8_t)(i < nd ? mant[i] : '0')));
	if (nd > exp + 1) {
		WD_TRY(wd_buf_append_byte(out, '.'));
		WD_TRY(wd_buf_append(out, mant + exp + 1, (size_t)(nd - exp - 1)));
	}
	return 0;
}

/* Prints an element of a collection, where a nil is "<nil>". */
static int print_rv(struct rv *v, struct wd_buf *out)
{
	struct tv_pool pool = { 0 };
	struct tv elem;
	int rc = tv_from_rv(&pool, v, &elem);

	if (rc == 0)
		rc = tv_print(elem, out);
	tv_pool_free(&pool);
	return rc;
}

int tv_print(struct tv v, struct wd_buf *out)
{
	switch (v.kind) {
	case TV_INVALID:
		/* OPA 1.20 prints a missing value as "<undefined>" where Go's
		 * default prints "<no value>". */
		return wd_buf_append_str(out, "<undefined>");
	case TV_NIL:
		return wd_buf_append_str(out, "<nil>");
	case TV_BOOL:
		return wd_buf_append_str(out, v.b ? "true" : "false");
	case TV_INT:
		return wd_buf_appendf(out, "%" PRId64, v.i);
	case TV_FLOAT:
		return print_float(v.f, out);
	case TV_STRING:
	case TV_JNUM:
		return wd_buf_append(out, v.s, v.len);
	case TV_ARRAY:
		WD_TRY(wd_buf_append_byte(out, '['));
		for (size_t i = 0; i < rv_array_len(v.rv); i++) {
			if (i)
				WD_TRY(wd_buf_append_byte(out, ' '));
			WD_TRY(print_rv(rv_array_at(v.rv, i), out));
		}
		return wd_buf_append_byte(out, ']');
	case TV_MAP:
		WD_TRY(wd_buf_append_str(out, "map["));
		for (size_t i = 0; i < rv_len(v.rv); i++) {
			struct rv *key, *value;

			rv_map_sorted_at(v.rv, i, &key, &value);
			if (i)
				WD_TRY(wd_buf_append_byte(out, ' '));
			WD_TRY(wd_buf_append(out, rv_str(key), rv_str_len(key)));
			WD_TRY(wd_buf_append_byte(out, ':'));
			WD_TRY(print_rv(value, out));
		}
		return wd_buf_append_byte(out, ']');
	}
	return WD_EINTERNAL;
}

/* The first character of v written as Rego text, as OPA's String() would
 * put it where the JSON decoder expected an object key. */
static char first_char(const struct rv *v)
{
	switch (rv_kind_of(v)) {
	case RV_NULL: return 'n';
	case RV_BOOL: return v->u.boolean ? 't' : 'f';
	case RV_NUMBER: {
		struct wd_buf text;
		char c = '0';

		wd_buf_init(&text, 32, 4096);
		if (rv_number_format(v, &text) == 0)
			c = wd_buf_str(&text)[0];
		wd_buf_free(&text);
		return c;
	}
	case RV_STRING: return '"';
	case RV_ARRAY: return '[';
	case RV_OBJECT: return '{';
	case RV_SET: return rv_len(v) ? '{' : 's';
	}
	return '?';
}

/* OPA hands the variables to the template through their Rego text and
 * encoding/json, so a set or a non-string key fails with the decoder's
 * syntax error at the first such place. */
int tv_check_data(const struct rv *data, struct wd_buf *err)
{
	struct rv *key, *value, *first;

	switch (rv_kind_of(data)) {
	case RV_ARRAY:
		for (size_t i = 0; i < rv_array_len(data); i++)
			WD_TRY(tv_check_data(rv_array_at(data, i), err));
		return 0;
	case RV_OBJECT:
		for (size_t i = 0; i < rv_len(data); i++) {
			rv_map_sorted_at(data, i, &key, &value);
			if (!rv_is(key, RV_STRING))
				goto bad_key;
			WD_TRY(tv_check_data(value, err));
		}
		return 0;
	case RV_SET:
		if (rv_len(data) == 0) {
			WD_TRY(wd_buf_append_str(err, "invalid character 's' looking for beginning "
						 "of value"));
			return WD_EINVAL;
		}
		rv_map_sorted_at(data, 0, &first, &value);
		if (rv_is(first, RV_STRING)) {
			WD_TRY(wd_buf_appendf(err, "invalid character '%c' after object key",
					      rv_len(data) > 1 ? ',' : '}'));
			return WD_EINVAL;
		}
		key = first;
		goto bad_key;
	default:
		return 0;
	}
bad_key:
	WD_TRY(wd_buf_appendf(err, "invalid character '%c' looking for beginning of object key "
			      "string", first_char(key)));
	return WD_EINVAL;
}
