/* Built-in functions: base64, hex, urlquery, uri, json.* and yaml.*.
 * Decoders report the errors of the Go packages OPA uses (encoding/base64,
 * encoding/hex, net/url) with the same offsets and wording. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "policy/bi_enc.h"
#include "policy/bi_str_util.h"
#include "policy/bi_uri.h"

/* ---- base64 ---- */

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int b64_encode(const char *alphabet, bool pad, const uint8_t *in, size_t len,
		      struct wd_buf *out)
{
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		size_t n = len - i < 3 ? len - i : 3;
		char q[4];

		if (n > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (n > 2)
			v |= in[i + 2];
		q[0] = alphabet[(v >> 18) & 63];
		q[1] = alphabet[(v >> 12) & 63];
		q[2] = n > 1 ? alphabet[(v >> 6) & 63] : '=';
		q[3] = n > 2 ? alphabet[v & 63] : '=';
		WD_TRY(wd_buf_append(out, q, pad ? 4 : n + 1));
	}
	return 0;
}

static int b64_value(const char *alphabet, char c)
{
	const char *p = c ? strchr(alphabet, c) : NULL;

	return p ? (int)(p - alphabet) : -1;
}

/* encoding/base64's DecodeString for a padded encoding: newlines are
 * skipped, padding must be complete, and the error names the offset of the
 * first bad byte. Returns the offset in *ret_bad, or SIZE_MAX when valid. */
static int b64_decode(const char *alphabet, const char *s, size_t len, struct wd_buf *out,
		      size_t *ret_bad)
{
	size_t si = 0;

	*ret_bad = SIZE_MAX;
	for (;;) {
		int d[4] = { 0 };
		size_t j = 0, dlen = 4;
		bool end = false;

		while (j < 4) {
			char c;
			int v;

			if (si == len) {
				if (j == 0)
					return 0;
				*ret_bad = si - j;
				return 0;
			}
			c = s[si++];
			if (c == '\n' || c == '\r')
				continue;
			v = b64_value(alphabet, c);
			if (v >= 0) {
				d[j++] = v;
				continue;
			}
			if (c != '=' || j < 2) {
				*ret_bad = si - 1;
				return 0;
			}
			if (j == 2) {
				while (si < len && (s[si] == '\n' || s[si] == '\r'))
					si++;
				if (si == len) {
					*ret_bad = len;
					return 0;
				}
				if (s[si] != '=') {
					*ret_bad = si - 1;
					return 0;
				}
				si++;
			}
			while (si < len && (s[si] == '\n' || s[si] == '\r'))
				si++;
			if (si < len)
				*ret_bad = si;
			dlen = j;
			end = true;
			break;
		}

		{
			uint32_t v = (uint32_t)d[0] << 18 | (uint32_t)d[1] << 12 | (uint32_t)d[2] << 6 |
				     (uint32_t)d[3];
			uint8_t b[3] = { (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

			WD_TRY(wd_buf_append(out, b, dlen - 1));
		}
		if (end)
			return 0;
	}
}

static int encode_common(struct rego_bctx *ctx, struct rv *const *args, const char *alphabet,
			 bool pad, struct rv **ret)
{
	const char *s;
	size_t len;
	struct wd_buf out;
	int rc;

	WD_TRY(rego_bi_string(ctx, args, 1, &s, &len));
	wd_buf_init(&out, len / 3 * 4 + 8, BI_STR_MAX);
	rc = b64_encode(alphabet, pad, (const uint8_t *)s, len, &out);
	if (rc < 0) {
		wd_buf_free(&out);
		return bi_fail(ctx, rc);
	}
	return bi_buf_to_string(ctx, &out, ret);
}

static int bi_base64_encode(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			    struct rv **ret)
{
	(void)nargs;
	return encode_common(ctx, args, b64_std, true, ret);
}

static int bi_base64url_encode(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			       struct rv **ret)
{
	(void)nargs;
	return encode_common(ctx, args, b64_url, true, ret);
}

static int bi_base64url_encode_no_pad(struct rego_bctx *ctx, struct rv *const *args,
				      size_t nargs, struct rv **ret)
{
	(void)nargs;
	return encode_common(ctx, args, b64_url, false, ret);
}

static int decode_common(struct rego_bctx *ctx, const char *alphabet, const char *s, size_t len,
			 struct rv **ret)
{
	struct wd_buf out;
	size_t bad;
	int rc;

	wd_buf_init(&out, len, BI_STR_MAX);
	rc = b64_decode(alphabet, s, len, &out, &bad);
	if (rc < 0) {
		wd_buf_free(&out);
		return bi_fail(ctx, rc);
	}
	if (bad != SIZE_MAX) {
		wd_buf_free(&out);
		return rego_bi_error(ctx, "illegal base64 data at input byte %zu", bad);
	}
	return bi_buf_to_string(ctx, &out, ret);
}

static int bi_base64_decode(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			    struct rv **ret)
{
	const char *s;
	size_t len;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &s, &len));
	return decode_common(ctx, b64_std, s, len, ret);
}

static int bi_base64_is_valid(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			      struct rv **ret)
{
	struct wd_buf out;
	size_t bad = SIZE_MAX;
	int rc;

	(void)nargs;
	WD_TRY(rego_bi_want(ctx, args, 1, RK_STRING));
	wd_buf_init(&out, rv_str_len(args[0]), BI_STR_MAX);
	rc = b64_decode(b64_std, rv_str(args[0]), rv_str_len(args[0]), &out, &bad);
	wd_buf_free(&out);
	if (rc < 0)
		return bi_fail(ctx, rc);
	*ret = rv_bool(bad == SIZE_MAX);
	return 0;
}

/* base64url.decode pads unpadded input first (RFC 7515 appendix C). */
static int bi_base64url_decode(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			       struct rv **ret)
{
	_wd_cleanup_(wd_freep) char *padded = NULL;
	const char *s;
	size_t len;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &s, &len));
	if (len == 0 || s[len - 1] != '=') {
		size_t extra;

		switch (len % 4) {
		case 0: extra = 0; break;
		case 2: extra = 2; break;
		case 3: extra = 1; break;
		default:
			return rego_bi_error(ctx, "illegal base64url string: %.*s", (int)len, s);
		}
		if (extra) {
			padded = malloc(len + extra + 1);
			if (!padded)
				return bi_fail(ctx, WD_ENOMEM);
			memcpy(padded, s, len);
			memset(padded + len, '=', extra);
			s = padded;
			len += extra;
		}
	}
	return decode_common(ctx, b64_url, s, len, ret);
}

/* ---- hex ---- */

static int bi_hex_encode(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			 struct rv **ret)
{
	static const char digits[] = "0123456789abcdef";
	const char *s;
	size_t len;
	struct wd_buf out;
	int rc = 0;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &s, &len));
	wd_buf_init(&out, len * 2 + 1, BI_STR_MAX);
	for (size_t i = 0; i < len && rc == 0; i++) {
		char pair[2] = { digits[(uint8_t)s[i] >> 4], digits[(uint8_t)s[i] & 15] };

		rc = wd_buf_append(&out, pair, 2);
	}
	if (rc < 0) {
		wd_buf_free(&out);
		return bi_fail(ctx, rc);
	}
	return bi_buf_to_string(ctx, &out, ret);
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* encoding/hex's "invalid byte: %#U": the byte read as a code point. */
static int hex_invalid(struct rego_bctx *ctx, uint8_t b)
{
	char glyph[8] = "";

	if (b >= 0x20 && b != 0x7F && !(b >= 0x80 && b <= 0xA0) && b != 0xAD) {
		char enc[4];
		size_t n = bi_utf8_put(b, enc);

		snprintf(glyph, sizeof(glyph), " '%.*s'", (int)n, enc);
	}
	return rego_bi_error(ctx, "encoding/hex: invalid byte: U+%04X%s", b, glyph);
}

static int bi_hex_decode(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			 struct rv **ret)
{
	const char *s;
	size_t len, j;
	struct wd_buf out;
	int rc = 0;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &s, &len));
	wd_buf_init(&out, len / 2 + 1, BI_STR_MAX);
	for (j = 1; j < len; j += 2) {
		int hi = hex_value(s[j - 1]), lo = hex_value(s[j]);

		if (hi < 0 || lo < 0) {
			wd_buf_free(&out);
			return hex_invalid(ctx, (uint8_t)(hi < 0 ? s[j - 1] : s[j]));
		}
		rc = wd_buf_append_byte(&out, (uint8_t)(hi << 4 | lo));
		if (rc < 0) {
			wd_buf_free(&out);
			return bi_fail(ctx, rc);
		}
	}
	if (len % 2 == 1) {
		wd_buf_free(&out);
		if (hex_value(s[j - 1]) < 0)
			return hex_invalid(ctx, (uint8_t)s[j - 1]);
		return rego_bi_error(ctx, "encoding/hex: odd length hex string");
	}
	return bi_buf_to_string(ctx, &out, ret);
}

/* ---- urlquery ---- */

/* net/url's QueryEscape: unreserved bytes stay, space becomes '+'. */
static int query_escape(struct wd_buf *out, const char *s, size_t len)
{
	static const char hexd[] = "0123456789ABCDEF";

	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			WD_TRY(wd_buf_append_byte(out, c));
		} else if (c == ' ') {
			WD_TRY(wd_buf_append_byte(out, '+'));
		} else {
			char esc[3] = { '%', hexd[c >> 4], hexd[c & 15] };

			WD_TRY(wd_buf_append(out, esc, 3));
		}
	}
	return 0;
}

/* net/url's QueryUnescape; *ret_bad points at a bad escape (3 bytes or
 * what is left) when it returns WD_EINVAL. */
static int query_unescape(struct wd_buf *out, const char *s, size_t len, size_t *ret_bad)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '%') {
			if (i + 2 >= len || hex_value(s[i + 1]) < 0 || hex_value(s[i + 2]) < 0) {
				*ret_bad = i;
				return WD_EINVAL;
			}
			WD_TRY(wd_buf_append_byte(out, (uint8_t)(hex_value(s[i + 1]) << 4 |
								  hex_value(s[i + 2]))));
			i += 2;
		} else {
			WD_TRY(wd_buf_append_byte(out, c == '+' ? ' ' : (uint8_t)c));
		}
	}
	return 0;
}

static int escape_error(struct rego_bctx *ctx, const char *s, size_t len, size_t bad)
{
	size_t n = len - bad < 3 ? len - bad : 3;

	return rego_bi_error(ctx, "invalid URL escape \"%.*s\"", (int)n, s + bad);
}

static int bi_urlquery_encode(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			      struct rv **ret)
{
	const char *s;
	size_t len;
	struct wd_buf out;
	int rc;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &s, &len));
	wd_buf_init(&out, len + 8, BI_STR_MAX);
	rc = query_escape(&out, s, len);
	if (rc < 0) {
		wd_buf_free(&out);
		return bi_fail(ctx, rc);
	}
	return bi_buf_to_string(ctx, &out, ret);
}

static int bi_urlquery_decode(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			      struct rv **ret)
{
	const char *s;
	size_t len, bad = 0;
	struct wd_buf out;
	int rc;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &s, &len));
	wd_buf_init(&out, len + 1, BI_STR_MAX);
	rc = query_unescape(&out, s, len, &bad);
	if (rc < 0) {
		wd_buf_free(&out);
		return rc == WD_EINVAL ? escape_error(ctx, s, len, bad) : bi_fail(ctx, rc);
	}
	return bi_buf_to_string(ctx, &out, ret);
}

static int append_pair(struct wd_buf *out, const struct rv *key, const struct rv *value)
{
	if (wd_buf_len(out) > 0)
		WD_TRY(wd_buf_append_byte(out, '&'));
	WD_TRY(query_escape(out, rv_str(key), rv_str_len(key)));
	WD_TRY(wd_buf_append_byte(out, '='));
	return query_escape(out, rv_str(value), rv_str_len(value));
}

/* url.Values.Encode: keys sorted, each value of a list in order. */
static int bi_urlquery_encode_object(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
				     struct rv **ret)
{
	const struct rv *obj = args[0];
	struct wd_buf out;
	int rc = 0;

	(void)nargs;
	WD_TRY(rego_bi_want(ctx, args, 1, RK_OBJECT));
	wd_buf_init(&out, 64, BI_STR_MAX);
	for (size_t i = 0; i < rv_len(obj) && rc == 0; i++) {
		struct rv *key, *value;

		rv_map_sorted_at(obj, i, &key, &value);
		if (!rv_is(key, RV_STRING)) {
			wd_buf_free(&out);
			return rego_bi_type_error(ctx, 1, "object", obj);
		}
		if (rv_is(value, RV_STRING)) {
			rc = append_pair(&out, key, value);
			continue;
		}
		if (!rv_is(value, RV_ARRAY) && !rv_is(value, RV_SET)) {
			wd_buf_free(&out);
			return rego_bi_type_error(ctx, 1,
				"one of {object[string]string, object[string]array[string], object[string]set[string]}",
				obj);
		}
		for (size_t k = 0; k < bi_members(value) && rc == 0; k++) {
			const struct rv *item = bi_member_at(value, k);

			if (!rv_is(item, RV_STRING)) {
				wd_buf_free(&out);
				return rego_bi_type_error(ctx, 1, "object[string]array[string]", obj);
			}
			rc = append_pair(&out, key, item);
		}
	}
	if (rc < 0) {
		wd_buf_free(&out);
		return bi_fail(ctx, rc);
	}
	return bi_buf_to_string(ctx, &out, ret);
}

/* url.ParseQuery: '&'-separated pairs, a ';' is an error, values collect
 * per key in order. */
static int bi_urlquery_decode_object(struct rego_bctx *ctx, struct rv *const *args,
				     size_t nargs, struct rv **ret)
{
	struct rv *obj = NULL, *key = NULL, *value = NULL;
	const char *s;
	size_t len, pos = 0, bad = 0;
	struct wd_buf kb, vb;
	int rc = 0;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &s, &len));
	obj = rv_object_new(8);
	if (!obj)
		return bi_fail(ctx, WD_ENOMEM);
	wd_buf_init(&kb, 32, BI_STR_MAX);
	wd_buf_init(&vb, 32, BI_STR_MAX);

	while (pos < len) {
		const char *amp = memchr(s + pos, '&', len - pos);
		size_t end = amp ? (size_t)(amp - s) : len, eq;
		const char *e;
		struct rv *list;

		if (end == pos) {
			pos = end + 1;
			continue;
		}
		if (memchr(s + pos, ';', end - pos)) {
			rc = rego_bi_error(ctx, "invalid semicolon separator in query");
			goto out;
		}
		e = memchr(s + pos, '=', end - pos);
		eq = e ? (size_t)(e - s) : end;

		wd_buf_reset(&kb);
		wd_buf_reset(&vb);
		rc = query_unescape(&kb, s + pos, eq - pos, &bad);
		if (rc == WD_EINVAL) {
			rc = escape_error(ctx, s + pos, eq - pos, bad);
			goto out;
		}
		WD_GUARD(rc);
		if (e) {
			rc = query_unescape(&vb, s + eq + 1, end - eq - 1, &bad);
			if (rc == WD_EINVAL) {
				rc = escape_error(ctx, s + eq + 1, end - eq - 1, bad);
				goto out;
			}
			WD_GUARD(rc);
		}

		key = rv_string(wd_buf_str(&kb), wd_buf_len(&kb));
		value = rv_string(wd_buf_str(&vb), wd_buf_len(&vb));
		WD_ENSURE(key && value, WD_ENOMEM);
		list = rv_object_get(obj, key);
		if (list) {
			/* Values are only appended to lists this call built. */
			WD_GUARD(rv_array_push(list, WD_TAKE_PTR(value)));
			rv_unref(WD_TAKE_PTR(key));
		} else {
			list = rv_array_new(1);
			WD_ENSURE(list, WD_ENOMEM);
			rc = rv_array_push(list, WD_TAKE_PTR(value));
			if (rc < 0) {
				rv_unref(list);
				goto out;
			}
			WD_GUARD(rv_object_put(obj, WD_TAKE_PTR(key), list));
		}
		pos = end + 1;
	}
	wd_buf_free(&kb);
	wd_buf_free(&vb);
	*ret = obj;
	return 0;
out:
	rv_unref(key);
	rv_unref(value);
	rv_unref(obj);
	wd_buf_free(&kb);
	wd_buf_free(&vb);
	return rc == WD_EINVAL && ctx->err_code ? rc : bi_fail(ctx, rc);
}

#define S RK_STRING

const struct rego_builtin rego_builtins_encoding[] = {
	{ .name = "base64.encode", .arity = 1, .arg_types = { S }, .result_type = S,
	  .fn = bi_base64_encode },
	{ .name = "base64.decode", .arity = 1, .arg_types = { S }, .result_type = S,
	  .fn = bi_base64_decode },
	{ .name = "base64.is_valid", .arity = 1, .arg_types = { S }, .result_type = RK_BOOL,
	  .fn = bi_base64_is_valid },
	{ .name = "base64url.encode", .arity = 1, .arg_types = { S }, .result_type = S,
	  .fn = bi_base64url_encode },
	{ .name = "base64url.encode_no_pad", .arity = 1, .arg_types = { S }, .result_type = S,
	  .fn = bi_base64url_encode_no_pad },
	{ .name = "base64url.decode", .arity = 1, .arg_types = { S }, .result_type = S,
	  .fn = bi_base64url_decode },
	{ .name = "hex.encode", .arity = 1, .arg_types = { S }, .result_type = S,
	  .fn = bi_hex_encode },
	{ .name = "hex.decode", .arity = 1, .arg_types = { S }, .result_type = S,
	  .fn = bi_hex_decode },
	{ .name = "urlquery.encode", .arity = 1, .arg_types = { S }, .result_type = S,
	  .fn = bi_urlquery_encode },
	{ .name = "urlquery.decode", .arity = 1, .arg_types = { S }, .result_type = S,
	  .fn = bi_urlquery_decode },
	{ .name = "uri.parse", .arity = 1, .arg_types = { RK_STRING }, .result_type = RK_OBJECT,
	  .fn = bi_uri_parse },
	{ .name = "uri.is_valid", .arity = 1, .arg_types = { RK_ANY }, .result_type = RK_BOOL,
	  .fn = bi_uri_is_valid },
	{ .name = "urlquery.encode_object", .arity = 1, .arg_types = { RK_OBJECT },
	  .result_type = S, .fn = bi_urlquery_encode_object },
	{ .name = "urlquery.decode_object", .arity = 1, .arg_types = { S },
	  .result_type = RK_OBJECT, .fn = bi_urlquery_decode_object },
	{ .name = "json.marshal", .arity = 1, .arg_types = { RK_ANY }, .result_type = S,
	  .fn = bi_json_marshal },
	{ .name = "json.marshal_with_options", .arity = 2, .arg_types = { RK_ANY, RK_OBJECT },
	  .result_type = S, .fn = bi_json_marshal_with_options },
	{ .name = "json.unmarshal", .arity = 1, .arg_types = { S }, .result_type = RK_ANY,
	  .fn = bi_json_unmarshal },
	{ .name = "json.is_valid", .arity = 1, .arg_types = { S }, .result_type = RK_BOOL,
	  .fn = bi_json_is_valid },
	{ .name = "json.filter", .arity = 2, .arg_types = { RK_OBJECT, RK_ARRAY | RK_SET },
	  .result_type = RK_OBJECT, .fn = bi_json_filter },
	{ .name = "json.remove", .arity = 2, .arg_types = { RK_OBJECT, RK_ARRAY | RK_SET },
	  .result_type = RK_OBJECT, .fn = bi_json_remove },
	{ .name = "json.patch", .arity = 2, .arg_types = { RK_ANY, RK_ARRAY },
	  .result_type = RK_ANY, .fn = bi_json_patch },
	{ .name = "yaml.marshal", .arity = 1, .arg_types = { RK_ANY }, .result_type = S,
	  .fn = bi_yaml_marshal },
	{ .name = "yaml.unmarshal", .arity = 1, .arg_types = { S }, .result_type = RK_ANY,
	  .fn = bi_yaml_unmarshal },
	{ .name = "yaml.is_valid", .arity = 1, .arg_types = { S }, .result_type = RK_BOOL,
	  .fn = bi_yaml_is_valid },
	{ .name = NULL },
};
