/* Built-in functions: units, semver, uuid, rand, opa.runtime and the network builtins that always fail here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/rand.h>

#include "common/error.h"
#include "policy/bi_aws.h"
#include "policy/bi_str_util.h"

/* ---- semver (OPA's vendored coreos/go-semver) ---- */

struct semver {
	int64_t part[3];
	const char *pre;
	size_t pre_len;
};

/* ^[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*$, or empty. */
static bool semver_identifier_ok(const char *s, size_t len)
{
	bool empty_part = true;

	if (len == 0)
		return true;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			if (empty_part)
				return false;
			empty_part = true;
		} else if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   c == '-') {
			empty_part = false;
		} else {
			return false;
		}
	}
	return !empty_part;
}

/* strconv.ParseInt(s, 10, 64) on a string without '+' or '-' in it. */
static bool parse_i64(const char *s, size_t len, int64_t *ret)
{
	int64_t v = 0;

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (v > (INT64_MAX - (s[i] - '0')) / 10)
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return true;
}

static bool semver_parse(const char *s, size_t len, struct semver *v)
{
	const char *plus = memchr(s, '+', len), *dash;
	size_t core_len = plus ? (size_t)(plus - s) : len, start = 0, part = 0;

	if (plus && !semver_identifier_ok(plus + 1, len - core_len - 1))
		return false;
	dash = memchr(s, '-', core_len);
	v->pre = dash ? dash + 1 : "";
	v->pre_len = dash ? core_len - (size_t)(dash - s) - 1 : 0;
	if (dash)
		core_len = (size_t)(dash - s);
	if (!semver_identifier_ok(v->pre, v->pre_len))
		return false;

	/* Exactly three dot-separated parts (SplitN(..., 3) then ParseInt). */
	for (size_t i = 0; i <= core_len; i++) {
		if (i == core_len || (s[i] == '.' && part < 2)) {
			if (part > 2 || !parse_i64(s + start, i - start, &v->part[part]))
				return false;
			part++;
			start = i + 1;
		}
	}
	return part == 3;
}

static bool is_all_digits(const char *s, size_t len, int64_t *ret)
{
	/* strconv.Atoi also accepts a sign. */
	size_t i = 0;
	bool neg = false;

	if (len > 0 && (s[0] == '+' || s[0] == '-')) {
		neg = s[0] == '-';
		i = 1;
	}
	if (!parse_i64(s + i, len - i, ret))
		return false;
	if (neg)
		*ret = -*ret;
	return true;
}

static int compare_prerelease(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t ai = 0, bi = 0;

	if (alen == 0 && blen > 0)
		return 1;
	if (blen == 0 && alen > 0)
		return -1;

	for (;;) {
		const char *ae, *be;
		size_t an, bn;
		int64_t av = 0, bv = 0;
		bool aint, bint;
		int c;

		if (ai > alen)
			return bi > blen ? 0 : -1;
		if (bi > blen)
			return 1;
		ae = memchr(a + ai, '.', alen - ai);
		be = memchr(b + bi, '.', blen - bi);
		an = ae ? (size_t)(ae - (a + ai)) : alen - ai;
		bn = be ? (size_t)(be - (b + bi)) : blen - bi;

		aint = is_all_digits(a + ai, an, &av);
		bint = is_all_digits(b + bi, bn, &bv);
		if (aint && !bint)
			return -1;
		if (!aint && bint)
			return 1;
		if (aint && bint && av != bv)
			return av > bv ? 1 : -1;
		c = memcmp(a + ai, b + bi, an < bn ? an : bn);
		if (c == 0 && an != bn)
			c = an < bn ? -1 : 1;
		if (c != 0)
			return c > 0 ? 1 : -1;
		ai += an + 1;
		bi += bn + 1;
	}
}

/* Appends s as a Go-quoted string, as OPA prints an ast.String. */
static void quote_into(char *out, size_t cap, const char *s, size_t len)
{
	size_t n = 0;

	if (cap < 3)
		return;
	out[n++] = '"';
	for (size_t i = 0; i < len && n + 3 < cap; i++) {
		if (s[i] == '"' || s[i] == '\\')
			out[n++] = '\\';
		out[n++] = s[i];
	}
	out[n++] = '"';
	out[n] = '\0';
}

static int bi_semver_compare(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			     struct rv **ret)
{
	struct semver a, b;
	const char *sa, *sb;
	size_t la, lb;
	char quoted[256];
	int c = 0;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &sa, &la));
	WD_TRY(rego_bi_string(ctx, args, 2, &sb, &lb));
	if (!semver_parse(sa, la, &a)) {
		quote_into(quoted, sizeof(quoted), sa, la);
		return rego_bi_error(ctx, "operand 1: string %s is not a valid SemVer", quoted);
	}
	if (!semver_parse(sb, lb, &b)) {
		quote_into(quoted, sizeof(quoted), sb, lb);
		return rego_bi_error(ctx, "operand 2: string %s is not a valid SemVer", quoted);
	}

	for (int i = 0; i < 3 && c == 0; i++)
		if (a.part[i] != b.part[i])
			c = a.part[i] > b.part[i] ? 1 : -1;
	if (c == 0)
		c = compare_prerelease(a.pre, a.pre_len, b.pre, b.pre_len);
	return bi_ret(ctx, rv_int(c), ret);
}

static int bi_semver_is_valid(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			      struct rv **ret)
{
	struct semver v;

	(void)ctx;
	(void)nargs;
	*ret = rv_bool(rv_is(args[0], RV_STRING) &&
		       semver_parse(rv_str(args[0]), rv_str_len(args[0]), &v));
	return 0;
}

/* ---- uuid ---- */

static int bi_uuid_rfc4122(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			   struct rv **ret)
{
	uint8_t b[16];
	char text[40];

	(void)nargs;
	WD_TRY(rego_bi_want(ctx, args, 1, RK_STRING));
	if (RAND_bytes(b, sizeof(b)) != 1)
		return rego_bi_error(ctx, "random number generator failed");
	b[8] = (uint8_t)((b[8] & 0x3F) | 0x80);
	b[6] = (uint8_t)((b[6] & 0x0F) | 0x40);
	snprintf(text, sizeof(text),
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
	return bi_ret(ctx, rv_cstring(text), ret);
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* google/uuid.Parse: 36 characters with dashes, optionally in braces or after
 * "urn:uuid:", or 32 hex digits. */
static bool uuid_parse(const char *s, size_t len, uint8_t out[16])
{
	static const size_t offsets[16] = { 0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34 };

	if (len == 36 + 9) {
		if (strncasecmp(s, "urn:uuid:", 9) != 0)
			return false;
		s += 9;
		len = 36;
	} else if (len == 36 + 2) {
		s += 1;
		len = 36;
	} else if (len == 32) {
		for (size_t i = 0; i < 16; i++) {
			int hi = hex_nibble(s[2 * i]), lo = hex_nibble(s[2 * i + 1]);

			if (hi < 0 || lo < 0)
				return false;
			out[i] = (uint8_t)(hi << 4 | lo);
		}
		return true;
	} else if (len != 36) {
		return false;
	}

	if (s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
		return false;
	for (size_t i = 0; i < 16; i++) {
		int hi = hex_nibble(s[offsets[i]]), lo = hex_nibble(s[offsets[i] + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static int put_str_field(struct rv *obj, const char *key, const char *value)
{
	return rv_object_put(obj, rv_cstring(key), rv_cstring(value));
}

static int bi_uuid_parse(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			 struct rv **ret)
{
	static const char *const domains[] = { "Person", "Group", "Org" };
	struct rv *obj = NULL;
	const char *s;
	size_t len;
	uint8_t u[16];
	int version, rc = 0;
	const char *variant;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &s, &len));
	if (!uuid_parse(s, len, u))
		return REGO_UNDEFINED;

	version = u[6] >> 4;
	if ((u[8] & 0xC0) == 0x80)
		variant = "RFC4122";
	else if ((u[8] & 0xE0) == 0xC0)
		variant = "Microsoft";
	else if ((u[8] & 0xE0) == 0xE0)
		variant = "Future";
	else
		variant = "Reserved";

	obj = rv_object_new(8);
	WD_ENSURE(obj, WD_ENOMEM);
	WD_GUARD(rv_object_put(obj, rv_cstring("version"), rv_int(version)));
	WD_GUARD(put_str_field(obj, "variant", variant));

	if (version == 1 || version == 2) {
		int64_t t100 = (int64_t)((uint64_t)u[0] << 24 | (uint64_t)u[1] << 16 |
					 (uint64_t)u[2] << 8 | u[3]);
		int64_t since, nanos;
		char node[24], domain[24];
		const char *mac;

		t100 |= (int64_t)((uint64_t)u[4] << 8 | u[5]) << 32;
		t100 |= (int64_t)(((uint64_t)u[6] << 8 | u[7]) & 0xFFF) << 48;
		/* 100 ns intervals since 1582-10-15 to Unix nanoseconds. */
		since = t100 - 122192928000000000LL;
		nanos = (since / 10000000) * 1000000000LL + (since % 10000000) * 100;

		snprintf(node, sizeof(node), "%02x-%02x-%02x-%02x-%02x-%02x", u[10], u[11], u[12],
			 u[13], u[14], u[15]);
		if ((u[10] & 3) == 3)
			mac = "local:multicast";
		else if (u[10] & 1)
			mac = "global:multicast";
		else if (u[10] & 2)
			mac = "local:unicast";
		else
			mac = "global:unicast";

		WD_GUARD(rv_object_put(obj, rv_cstring("time"), rv_int(nanos)));
		WD_GUARD(put_str_field(obj, "nodeid", node));
		WD_GUARD(put_str_field(obj, "macvariables", mac));
		WD_GUARD(rv_object_put(obj, rv_cstring("clocksequence"),
				       rv_int(((u[8] << 8) | u[9]) & 0x3FFF)));
		if (version == 2) {
			WD_GUARD(rv_object_put(obj, rv_cstring("id"),
					       rv_int((int64_t)((uint64_t)u[0] << 24 | (uint64_t)u[1] << 16 |
								(uint64_t)u[2] << 8 | u[3]))));
			if (u[9] < 3)
				snprintf(domain, sizeof(domain), "%s", domains[u[9]]);
			else
				snprintf(domain, sizeof(domain), "Domain%d", u[9]);
			WD_GUARD(put_str_field(obj, "domain", domain));
		}
	}
	*ret = obj;
	return 0;
out:
	rv_unref(obj);
	return bi_fail(ctx, rc);
}

/* ---- rand.intn ---- */

static int bi_rand_intn(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			struct rv **ret)
{
	uint64_t n, limit, r;
	int64_t arg;

	(void)nargs;
	WD_TRY(rego_bi_want(ctx, args, 1, RK_STRING));
	WD_TRY(bi_int_operand(ctx, args, 2, &arg));
	if (arg == 0)
		return bi_ret(ctx, rv_int(0), ret);
	n = arg < 0 ? (uint64_t)0 - (uint64_t)arg : (uint64_t)arg;

	/* Rejection sampling keeps the result uniform over [0, n). */
	limit = UINT64_MAX - UINT64_MAX % n;
	do {
		if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
			return rego_bi_error(ctx, "random number generator failed");
	} while (r >= limit);
	return bi_ret(ctx, rv_int((int64_t)(r % n)), ret);
}

/* ---- opa.runtime and network builtins ---- */

static int bi_opa_runtime(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			  struct rv **ret)
{
	(void)args;
	(void)nargs;
	if (ctx->runtime) {
		*ret = rv_ref(ctx->runtime);
		return 0;
	}
	return bi_ret(ctx, rv_object_new(0), ret);
}

static int bi_network_disabled(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			       struct rv **ret);

/* The request keys OPA's http.send accepts, and the ones it requires. */
static const char *const http_send_keys[] = {
	"body", "cache", "cache_ignored_headers", "caching_mode", "enable_redirect",
	"force_cache", "force_cache_duration_seconds", "force_json_decode",
	"force_yaml_decode", "headers", "max_retry_attempts", "method", "raise_error",
	"raw_body", "timeout", "tls_ca_cert", "tls_ca_cert_env_variable", "tls_ca_cert_file",
	"tls_client_cert", "tls_client_cert_env_variable", "tls_client_cert_file",
	"tls_client_key", "tls_client_key_env_variable", "tls_client_key_file",
	"tls_insecure_skip_verify", "tls_server_name", "tls_use_system_certs", "url",
};
static const char *const http_send_required[] = { "method", "url" };

static bool http_send_key_known(const struct rv *key)
{
	if (!rv_is(key, RV_STRING))
		return false;
	for (size_t i = 0; i < WD_ARRAY_LEN(http_send_keys); i++)
		if (strcmp(rv_str(key), http_send_keys[i]) == 0)
			return true;
	return false;
}

/* Writes the names as OPA's set notation, {"a", "b"}. */
static int names_text(struct wd_buf *out, const struct rv *const *names, size_t count)
{
	WD_TRY(wd_buf_append_byte(out, '{'));
	for (size_t i = 0; i < count; i++) {
		if (i)
			WD_TRY(wd_buf_append_str(out, ", "));
		WD_TRY(rv_write_json(names[i], out));
	}
	return wd_buf_append_byte(out, '}');
}

/* http.send checks its request object as OPA does, so a policy with a
 * malformed request gets OPA's type error, and only a well-formed request
 * reaches the refusal below. */
static int bi_http_send(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			struct rv **ret)
{
	const struct rv *req = args[0];
	const struct rv *bad[8];
	struct rv *missing[WD_ARRAY_LEN(http_send_required)] = { 0 };
	size_t bad_count = 0, missing_count = 0;
	struct wd_buf text;
	int rc;

	WD_TRY(rego_bi_want(ctx, args, 1, RK_OBJECT));
	for (size_t i = 0; i < rv_len(req) && bad_count < WD_ARRAY_LEN(bad); i++) {
		struct rv *key;

		rv_map_sorted_at(req, i, &key, NULL);
		if (!http_send_key_known(key))
			bad[bad_count++] = key;
	}
	for (size_t i = 0; i < WD_ARRAY_LEN(http_send_required); i++)
		if (!rv_object_get_str(req, http_send_required[i])) {
			missing[missing_count] = rv_cstring(http_send_required[i]);
			if (!missing[missing_count])
				return WD_ENOMEM;
			missing_count++;
		}
	if (!bad_count && !missing_count)
		return bi_network_disabled(ctx, args, nargs, ret);

	wd_buf_init(&text, 64, 4096);
	rc = bad_count ? names_text(&text, bad, bad_count)
		       : names_text(&text, (const struct rv *const *)missing, missing_count);
	if (rc == 0)
		rc = rego_bi_error_code(ctx, "eval_type_error", "%s request parameters(s): %s",
					bad_count ? "invalid" : "missing required",
					wd_buf_str(&text));
	for (size_t i = 0; i < missing_count; i++)
		rv_unref(missing[i]);
	wd_buf_free(&text);
	return rc;
}

/* http.send and net.lookup_ip_addr: warden evaluates
 * policies without network access, so these fail instead of reaching out. */
static int bi_network_disabled(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			       struct rv **ret)
{
	(void)args;
	(void)nargs;
	(void)ret;
	return rego_bi_error(ctx, "network access is disabled in warden's policy engine");
}

#define S RK_STRING

const struct rego_builtin rego_builtins_misc[] = {
	{ .name = "units.parse", .arity = 1, .arg_types = { S }, .result_type = RK_NUMBER,
	  .fn = bi_units_parse },
	{ .name = "units.parse_bytes", .arity = 1, .arg_types = { S }, .result_type = RK_NUMBER,
	  .fn = bi_units_parse_bytes },
	{ .name = "semver.compare", .arity = 2, .arg_types = { S, S }, .result_type = RK_NUMBER,
	  .fn = bi_semver_compare },
	{ .name = "semver.is_valid", .arity = 1, .arg_types = { RK_ANY }, .result_type = RK_BOOL,
	  .fn = bi_semver_is_valid },
	{ .name = "uuid.rfc4122", .arity = 1, .flags = REGO_BI_NONDET, .arg_types = { S },
	  .result_type = S, .fn = bi_uuid_rfc4122 },
	{ .name = "uuid.parse", .arity = 1, .arg_types = { S }, .result_type = RK_OBJECT,
	  .fn = bi_uuid_parse },
	{ .name = "rand.intn", .arity = 2, .flags = REGO_BI_NONDET, .arg_types = { S, RK_NUMBER },
	  .result_type = RK_NUMBER, .fn = bi_rand_intn },
	{ .name = "opa.runtime", .arity = 0, .flags = REGO_BI_NONDET, .result_type = RK_OBJECT,
	  .fn = bi_opa_runtime },
	{ .name = "http.send", .arity = 1, .flags = REGO_BI_NONDET | REGO_BI_NETWORK,
	  .arg_types = { RK_OBJECT }, .result_type = RK_OBJECT, .fn = bi_http_send },
	{ .name = "net.lookup_ip_addr", .arity = 1, .flags = REGO_BI_NONDET | REGO_BI_NETWORK,
	  .arg_types = { S }, .result_type = RK_SET, .fn = bi_network_disabled },
	{ .name = "providers.aws.sign_req", .arity = 3,
	  .arg_types = { RK_OBJECT, RK_OBJECT, RK_NUMBER }, .result_type = RK_OBJECT,
	  .fn = bi_aws_sign_req },
	{ .name = NULL },
};
