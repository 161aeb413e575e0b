/* json.marshal, json.marshal_with_options, json.unmarshal, json.is_valid and
 * the yaml builtins. Marshalling writes what Go's encoding/json writes for
 * OPA's values: sorted keys, sets as arrays, HTML characters escaped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "policy/bi_enc.h"
#include "policy/bi_str_util.h"

/* Nesting accepted when parsing JSON or YAML text. */
#define JSON_MAX_DEPTH 512

struct json_style {
	const char *prefix;
	const char *indent;
	bool pretty;
};

/* encoding/json's string encoder with HTML escaping. */
static int write_string(struct wd_buf *out, const char *s, size_t len)
{
	static const char hexd[] = "0123456789abcdef";

	WD_TRY(wd_buf_append_byte(out, '"'));
	for (size_t pos = 0; pos < len;) {
		size_t start = pos;
		uint32_t r = bi_utf8_next(s, len, &pos);

		if (r < 0x80) {
			const char *esc = NULL;

			switch (r) {
			case '"': esc = "\\\""; break;
			case '\\': esc = "\\\\"; break;
			case '\b': esc = "\\b"; break;
			case '\f': esc = "\\f"; break;
			case '\n': esc = "\\n"; break;
			case '\r': esc = "\\r"; break;
			case '\t': esc = "\\t"; break;
			default: break;
			}
			if (esc) {
				WD_TRY(wd_buf_append_str(out, esc));
			} else if (r < 0x20 || r == '<' || r == '>' || r == '&') {
				char u[6] = { '\\', 'u', '0', '0', hexd[r >> 4], hexd[r & 15] };

				WD_TRY(wd_buf_append(out, u, 6));
			} else {
				WD_TRY(wd_buf_append_byte(out, (uint8_t)r));
			}
			continue;
		}
		if (r == BI_RUNE_ERROR && pos - start == 1) {
			WD_TRY(wd_buf_append_str(out, "\\ufffd"));
			continue;
		}
		if (r == 0x2028 || r == 0x2029) {
			WD_TRY(wd_buf_appendf(out, "\\u%04x", r));
			continue;
		}
		WD_TRY(wd_buf_append(out, s + start, pos - start));
	}
	return wd_buf_append_byte(out, '"');
}

static int write_value(struct wd_buf *out, const struct rv *v, const struct json_style *st,
		       int depth);

static int newline(struct wd_buf *out, const struct json_style *st, int depth)
{
	if (!st->pretty)
		return 0;
	WD_TRY(wd_buf_append_byte(out, '\n'));
	WD_TRY(wd_buf_append_str(out, st->prefix));
	for (int i = 0; i < depth; i++)
		WD_TRY(wd_buf_append_str(out, st->indent));
	return 0;
}

struct key_entry {
	char *text;
	size_t len;
	const struct rv *value;
};

static int compare_keys(const void *a, const void *b)
{
	const struct key_entry *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->text, y->text, n);

	if (c != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* Objects: keys become strings (non-string keys as their compact JSON) and
 * are sorted bytewise, as encoding/json sorts map keys. */
static int write_object(struct wd_buf *out, const struct rv *v, const struct json_style *st,
			int depth)
{
	size_t n = rv_len(v);
	struct key_entry *keys;
	struct json_style compact = { "", "", false };
	int rc = 0;

	if (n == 0)
		return wd_buf_append_str(out, "{}");
	keys = calloc(n, sizeof(*keys));
	if (!keys)
		return WD_ENOMEM;

	for (size_t i = 0; i < n && rc == 0; i++) {
		struct rv *key, *value;

		rv_map_at(v, i, &key, &value);
		keys[i].value = value;
		if (rv_is(key, RV_STRING)) {
			keys[i].text = malloc(rv_str_len(key) + 1);
			if (!keys[i].text) {
				rc = WD_ENOMEM;
				break;
			}
			memcpy(keys[i].text, rv_str(key), rv_str_len(key));
			keys[i].len = rv_str_len(key);
		} else {
			struct wd_buf kb;

			wd_buf_init(&kb, 16, BI_STR_MAX);
			rc = write_value(&kb, key, &compact, 0);
			if (rc == 0) {
				keys[i].text = wd_buf_take(&kb, &keys[i].len);
				if (!keys[i].text)
					rc = WD_ENOMEM;
			}
			wd_buf_free(&kb);
		}
	}
	if (rc == 0) {
		qsort(keys, n, sizeof(*keys), compare_keys);
		rc = wd_buf_append_byte(out, '{');
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (i > 0)
			rc = wd_buf_append_byte(out, ',');
		if (rc == 0)
			rc = newline(out, st, depth + 1);
		if (rc == 0)
			rc = write_string(out, keys[i].text, keys[i].len);
		if (rc == 0)
			rc = wd_buf_append_str(out, st->pretty ? ": " : ":");
		if (rc == 0)
			rc = write_value(out, keys[i].value, st, depth + 1);
	}
	if (rc == 0)
		rc = newline(out, st, depth);
	if (rc == 0)
		rc = wd_buf_append_byte(out, '}');

	for (size_t i = 0; i < n; i++)
		free(keys[i].text);
	free(keys);
	return rc;
}

static int write_value(struct wd_buf *out, const struct rv *v, const struct json_style *st,
		       int depth)
{
	size_t n;

	switch (rv_kind_of(v)) {
	case RV_NULL:
		return wd_buf_append_str(out, "null");
	case RV_BOOL:
		return wd_buf_append_str(out, v->u.boolean ? "true" : "false");
	case RV_NUMBER:
		return rv_number_format(v, out);
	case RV_STRING:
		return write_string(out, rv_str(v), rv_str_len(v));
	case RV_ARRAY:
	case RV_SET:
		n = bi_members(v);
		if (n == 0)
			return wd_buf_append_str(out, "[]");
		WD_TRY(wd_buf_append_byte(out, '['));
		for (size_t i = 0; i < n; i++) {
			if (i > 0)
				WD_TRY(wd_buf_append_byte(out, ','));
			WD_TRY(newline(out, st, depth + 1));
			WD_TRY(write_value(out, bi_member_at(v, i), st, depth + 1));
		}
		WD_TRY(newline(out, st, depth));
		return wd_buf_append_byte(out, ']');
	case RV_OBJECT:
		return write_object(out, v, st, depth);
	}
	return WD_EINVAL;
}

static int marshal(struct rego_bctx *ctx, const struct rv *v, const struct json_style *st,
		   struct rv **ret)
{
	struct wd_buf out;
	int rc;

	wd_buf_init(&out, 64, BI_STR_MAX);
	rc = st->pretty ? wd_buf_append_str(&out, st->prefix) : 0;
	if (rc == 0)
		rc = write_value(&out, v, st, 0);
	if (rc < 0) {
		wd_buf_free(&out);
		return bi_fail(ctx, rc);
	}
	return bi_buf_to_string(ctx, &out, ret);
}

int bi_json_marshal(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	static const struct json_style compact = { "", "", false };

	(void)nargs;
	return marshal(ctx, args[0], &compact, ret);
}

/* Options: "pretty" (boolean), "indent" and "prefix" (strings). Pretty
 * printing is on when asked for, or when an indent or prefix is given and
 * "pretty" is absent; the indent defaults to a tab. */
int bi_json_marshal_with_options(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
				 struct rv **ret)
{
	struct json_style st = { "", "\t", false };
	const struct rv *opts = args[1];
	bool pretty_set = false, other_set = false;

	(void)nargs;
	WD_TRY(rego_bi_want(ctx, args, 2, RK_OBJECT));
	for (size_t i = 0; i < rv_len(opts); i++) {
		struct rv *key, *value;
		const char *k;

		rv_map_sorted_at(opts, i, &key, &value);
		k = rv_is(key, RV_STRING) ? rv_str(key) : "";
		if (strcmp(k, "pretty") == 0) {
			if (!rv_is(value, RV_BOOL))
				return rego_bi_error_code(ctx, "eval_type_error",
					"operand 2 must be boolean for key \"pretty\" but got %s",
					rv_type_name(value));
			st.pretty = value->u.boolean;
			pretty_set = true;
		} else if (strcmp(k, "indent") == 0 || strcmp(k, "prefix") == 0) {
			if (!rv_is(value, RV_STRING))
				return rego_bi_error_code(ctx, "eval_type_error",
					"operand 2 must be string for key \"%s\" but got %s", k,
					rv_type_name(value));
			if (k[0] == 'i')
				st.indent = rv_str(value);
			else
				st.prefix = rv_str(value);
			other_set = true;
		} else {
			struct wd_buf name;

			wd_buf_init(&name, 32, 256);
			if (rv_write_json(key, &name) < 0)
				wd_buf_reset(&name);
			rego_bi_error_code(ctx, "eval_type_error",
					   "object contained unknown key %s", wd_buf_str(&name));
			wd_buf_free(&name);
			return WD_EINVAL;
		}
	}
	if (!pretty_set)
		st.pretty = other_set;
	if (!st.pretty) {
		st.prefix = "";
		st.indent = "";
	}
	return marshal(ctx, args[0], &st, ret);
}

int bi_json_unmarshal(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		      struct rv **ret)
{
	struct wd_buf err;
	struct rv *v;
	const char *s;
	size_t len;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &s, &len));
	wd_buf_init(&err, 128, 1024);
	v = rv_parse_json(s, len, JSON_MAX_DEPTH, &err);
	if (!v) {
		rego_bi_error(ctx, "%s", wd_buf_len(&err) ? wd_buf_str(&err) : "invalid JSON");
		wd_buf_free(&err);
		return WD_EINVAL;
	}
	wd_buf_free(&err);
	*ret = v;
	return 0;
}

int bi_json_is_valid(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		     struct rv **ret)
{
	struct rv *v = NULL;

	(void)ctx;
	(void)nargs;
	if (rv_is(args[0], RV_STRING))
		v = rv_parse_json(rv_str(args[0]), rv_str_len(args[0]), JSON_MAX_DEPTH, NULL);
	*ret = rv_bool(v != NULL);
	rv_unref(v);
	return 0;
}

int bi_yaml_marshal(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	struct wd_buf out;
	int rc;

	(void)nargs;
	wd_buf_init(&out, 64, BI_STR_MAX);
	rc = rv_write_yaml(args[0], &out);
	if (rc < 0) {
		wd_buf_free(&out);
		return bi_fail(ctx, rc);
	}
	return bi_buf_to_string(ctx, &out, ret);
}

int bi_yaml_unmarshal(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		      struct rv **ret)
{
	struct wd_buf err;
	struct rv *v;
	const char *s;
	size_t len;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &s, &len));
	wd_buf_init(&err, 128, 1024);
	v = rv_parse_yaml(s, len, &err);
	if (!v) {
		rego_bi_error(ctx, "%s", wd_buf_len(&err) ? wd_buf_str(&err) : "invalid YAML");
		wd_buf_free(&err);
		return WD_EINVAL;
	}
	wd_buf_free(&err);
	*ret = v;
	return 0;
}

int bi_yaml_is_valid(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		     struct rv **ret)
{
	struct rv *v = NULL;

	(void)ctx;
	(void)nargs;
	if (rv_is(args[0], RV_STRING))
		v = rv_parse_yaml(rv_str(args[0]), rv_str_len(args[0]), NULL);
	*ret = rv_bool(v != NULL);
	rv_unref(v);
	return 0;
}
