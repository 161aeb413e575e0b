/* providers.aws.sign_req: signs an http.send request object with AWS
 * Signature Version 4 (HMAC-SHA256), computed locally as OPA 1.20 does. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "common/error.h"
#include "policy/bi_aws.h"
#include "policy/bi_str_util.h"

/* The request keys http.send accepts (OPA 1.20); sign_req checks against the
 * same list. */
static const char *const request_keys[] = {
	"method", "url", "body", "enable_redirect", "force_json_decode", "force_yaml_decode",
	"headers", "raw_body", "tls_use_system_certs", "tls_ca_cert", "tls_ca_cert_file",
	"tls_ca_cert_env_variable", "tls_client_cert", "tls_client_cert_file",
	"tls_client_cert_env_variable", "tls_client_key", "tls_client_key_file",
	"tls_client_key_env_variable", "tls_insecure_skip_verify", "tls_server_name", "timeout",
	"cache", "force_cache", "force_cache_duration_seconds", "raise_error", "caching_mode",
	"max_retry_attempts", "cache_ignored_headers",
};

static const char *const config_keys[] = {
	"aws_access_key", "aws_region", "aws_secret_access_key", "aws_service",
};

/* Headers a proxy may change on the way, left out of the signature as the
 * AWS SDK for Go does. */
static const char *const ignored_headers[] = { "authorization", "user-agent", "x-amzn-trace-id" };

/* Ceiling on the number of request headers signed. */
#define AWS_MAX_HEADERS 4096

struct header {
	char *name;        /* lowercased */
	const char *value; /* borrowed */
	size_t value_len;
};

static const char *string_or_empty(const struct rv *v, size_t *ret_len)
{
	if (v && rv_is(v, RV_STRING)) {
		*ret_len = rv_str_len(v);
		return rv_str(v);
	}
	*ret_len = 0;
	return "";
}

static bool name_in(const char *name, size_t len, const char *const *list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (strlen(list[i]) == len && memcmp(list[i], name, len) == 0)
			return true;
	return false;
}

/* Records "operand N MESSAGE: {set}" with the set written as Rego does. */
static int set_error(struct rego_bctx *ctx, const char *prefix, struct rv *set)
{
	struct wd_buf text;
	int rc;

	wd_buf_init(&text, 64, 4096);
	rc = rv_write_rego(set, &text);
	if (rc == 0)
		rc = rego_bi_error(ctx, "%s: %s", prefix, wd_buf_str(&text));
	else
		rc = bi_fail(ctx, rc);
	wd_buf_free(&text);
	return rc;
}

/* OPA's validateAWSAuthParameters: the four keys must be present, as strings.
 * Messages name the keys only, never their values. */
static int check_config(struct rego_bctx *ctx, const struct rv *config)
{
	struct rv *missing = rv_set_new(4), *invalid = rv_set_new(4);
	int rc = WD_ENOMEM;

	if (!missing || !invalid)
		goto out_oom;
	for (size_t i = 0; i < WD_ARRAY_LEN(config_keys); i++) {
		struct rv *value = rv_object_get_str(config, config_keys[i]);

		if (!value && rv_set_add(missing, rv_cstring(config_keys[i])) < 0)
			goto out_oom;
		if (value && !rv_is(value, RV_STRING) &&
		    rv_set_add(invalid, rv_cstring(config_keys[i])) < 0)
			goto out_oom;
	}
	if (rv_len(missing))
		rc = set_error(ctx, "operand 2 missing required AWS config parameters(s)", missing);
	else if (rv_len(invalid))
		rc = set_error(ctx, "operand 2 invalid values for required AWS config parameters(s)",
			       invalid);
	else
		rc = 0;
	goto out;
out_oom:
	rc = bi_fail(ctx, WD_ENOMEM);
out:
	rv_unref(missing);
	rv_unref(invalid);
	return rc;
}

/* OPA's validateHTTPRequestOperand: only http.send's keys, and method and
 * url present. */
static int check_request_keys(struct rego_bctx *ctx, const struct rv *req)
{
	struct rv *invalid = rv_set_new(4), *missing = rv_set_new(2);
	int rc;

	if (!invalid || !missing)
		goto out_oom;
	for (size_t i = 0; i < rv_len(req); i++) {
		struct rv *key, *value;

		rv_map_at(req, i, &key, &value);
		if (rv_is(key, RV_STRING) &&
		    name_in(rv_str(key), rv_str_len(key), request_keys, WD_ARRAY_LEN(request_keys)))
			continue;
		if (rv_set_add(invalid, rv_ref(key)) < 0)
			goto out_oom;
	}
	if (!rv_object_get_str(req, "method") && rv_set_add(missing, rv_cstring("method")) < 0)
		goto out_oom;
	if (!rv_object_get_str(req, "url") && rv_set_add(missing, rv_cstring("url")) < 0)
		goto out_oom;

	if (rv_len(invalid))
		rc = set_error(ctx, "operand 1 invalid request parameters(s)", invalid);
	else if (rv_len(missing))
		rc = set_error(ctx, "operand 1 missing required request parameters(s)", missing);
	else
		rc = 0;
	goto out;
out_oom:
	rc = bi_fail(ctx, WD_ENOMEM);
out:
	rv_unref(invalid);
	rv_unref(missing);
	return rc;
}

/* The payload: raw_body as given (a non-string counts as empty), else body as
 * compact JSON, else nothing. */
static int request_body(const struct rv *req, struct wd_buf *out)
{
	struct rv *raw = rv_object_get_str(req, "raw_body");
	struct rv *body = rv_object_get_str(req, "body");

	if (raw) {
		size_t len;
		const char *s = string_or_empty(raw, &len);

		return wd_buf_append(out, s, len);
	}
	if (body)
		return rv_write_json(body, out);
	return 0;
}

static void hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char digest[SHA256_DIGEST_LENGTH];

	SHA256(data, len, digest);
	hex_encode(digest, sizeof(digest), out);
}

static int hmac_sha256(const void *key, size_t key_len, const char *msg, size_t msg_len,
		       unsigned char out[SHA256_DIGEST_LENGTH])
{
	unsigned int out_len = 0;

	if (!HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg, msg_len, out,
		  &out_len))
		return WD_ECRYPTO;
	return 0;
}

static int compare_headers(const void *a, const void *b)
{
	return strcmp(((const struct header *)a)->name, ((const struct header *)b)->name);
}

static void free_headers(struct header *list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(list[i].name);
	free(list);
}

/* Adds or replaces a header to sign, taking over the lowercased name. */
static void put_header(struct header *list, size_t *count, char *name, const char *value,
		       size_t value_len)
{
	for (size_t i = 0; i < *count; i++) {
		if (strcmp(list[i].name, name) == 0) {
			free(list[i].name);
			list[i] = (struct header){ name, value, value_len };
			return;
		}
	}
	list[(*count)++] = (struct header){ name, value, value_len };
}

/* The values SigV4 needs besides the request itself. */
struct signing {
	const char *access_key, *secret_key, *region, *service, *token;
	size_t secret_len;
	char date[16];      /* 20060102 */
	char timestamp[24]; /* 20060102T150405Z */
	char content_sha[72];
	struct aws_url url;
	const char *method;
};

/* Builds the canonical request, the string to sign and the Authorization
 * header (AWS General Reference, "Create a signed AWS API request"). The
 * signed headers are the AWS ones overridden by the request's own, lowercased,
 * less the ignored ones. */
static int sign(struct signing *s, struct header *hdrs, size_t count, struct wd_buf *auth)
{
	unsigned char key[SHA256_DIGEST_LENGTH], sig[SHA256_DIGEST_LENGTH];
	struct wd_buf canon, to_sign, secret;
	char canon_hash[65], sig_hex[65];
	int rc;

	wd_buf_init(&canon, 256, BI_STR_MAX);
	wd_buf_init(&to_sign, 256, 4096 + BI_STR_MAX);
	wd_buf_init_secret(&secret, 64, BI_STR_MAX);

	qsort(hdrs, count, sizeof(*hdrs), compare_headers);
	WD_GUARD(wd_buf_appendf(&canon, "%s\n%s\n%s\n", s->method, s->url.escaped_path,
				s->url.raw_query));
	for (size_t i = 0; i < count; i++) {
		WD_GUARD(wd_buf_appendf(&canon, "%s:", hdrs[i].name));
		WD_GUARD(wd_buf_append(&canon, hdrs[i].value, hdrs[i].value_len));
		WD_GUARD(wd_buf_append_byte(&canon, '\n'));
	}
	WD_GUARD(wd_buf_append_byte(&canon, '\n'));
	for (size_t i = 0; i < count; i++)
		WD_GUARD(wd_buf_appendf(&canon, "%s%s", i ? ";" : "", hdrs[i].name));
	WD_GUARD(wd_buf_appendf(&canon, "\n%s", s->content_sha));
	sha256_hex(wd_buf_data(&canon), wd_buf_len(&canon), canon_hash);

	WD_GUARD(wd_buf_appendf(&to_sign, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s",
				s->timestamp, s->date, s->region, s->service, canon_hash));

	/* The signing key chains HMACs over date, region, service and the
	 * terminator, starting from "AWS4" + secret. */
	WD_GUARD(wd_buf_append_str(&secret, "AWS4"));
	WD_GUARD(wd_buf_append(&secret, s->secret_key, s->secret_len));
	WD_GUARD(hmac_sha256(wd_buf_data(&secret), wd_buf_len(&secret), s->date, strlen(s->date),
			     key));
	WD_GUARD(hmac_sha256(key, sizeof(key), s->region, strlen(s->region), key));
	WD_GUARD(hmac_sha256(key, sizeof(key), s->service, strlen(s->service), key));
	WD_GUARD(hmac_sha256(key, sizeof(key), "aws4_request", 12, key));
	WD_GUARD(hmac_sha256(key, sizeof(key), (const char *)wd_buf_str(&to_sign),
			     wd_buf_len(&to_sign), sig));
	hex_encode(sig, sizeof(sig), sig_hex);

	WD_GUARD(wd_buf_appendf(auth, "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request,",
				s->access_key, s->date, s->region, s->service));
	WD_GUARD(wd_buf_append_str(auth, "SignedHeaders="));
	for (size_t i = 0; i < count; i++)
		WD_GUARD(wd_buf_appendf(auth, "%s%s", i ? ";" : "", hdrs[i].name));
	WD_GUARD(wd_buf_appendf(auth, ",Signature=%s", sig_hex));
out:
	OPENSSL_cleanse(key, sizeof(key));
	wd_buf_free(&canon);
	wd_buf_free(&to_sign);
	wd_buf_free_secret(&secret);
	return rc;
}

static char *lowercase(const char *s, size_t len)
{
	char *out = malloc(len + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++)
		out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) : s[i];
	out[len] = '\0';
	return out;
}

/* Collects the headers to sign: the AWS ones, then the request's own. */
static int collect_headers(struct signing *s, const struct rv *headers, bool amz_sha,
			   struct header **ret_list, size_t *ret_count)
{
	size_t n = headers ? rv_len(headers) : 0, count = 0;
	struct header *list;
	const char *fixed[4][2] = {
		{ "host", s->url.host },
		{ "x-amz-date", s->timestamp },
		{ "x-amz-content-sha256", amz_sha ? s->content_sha : NULL },
		{ "x-amz-security-token", s->token[0] ? s->token : NULL },
	};

	*ret_list = NULL;
	*ret_count = 0;
	if (n > AWS_MAX_HEADERS)
		return WD_ETOOBIG;
	list = calloc(n + 4, sizeof(*list));
	if (!list)
		return WD_ENOMEM;
	for (size_t i = 0; i < 4; i++) {
		char *name;

		if (!fixed[i][1])
			continue;
		name = strdup(fixed[i][0]);
		if (!name)
			goto oom;
		put_header(list, &count, name, fixed[i][1], strlen(fixed[i][1]));
	}
	for (size_t i = 0; i < n; i++) {
		struct rv *key, *value;
		size_t key_len, value_len;
		const char *key_s, *value_s;
		char *name;

		rv_map_sorted_at(headers, i, &key, &value);
		key_s = string_or_empty(key, &key_len);
		value_s = string_or_empty(value, &value_len);
		name = lowercase(key_s, key_len);
		if (!name)
			goto oom;
		if (name_in(name, key_len, ignored_headers, WD_ARRAY_LEN(ignored_headers))) {
			free(name);
			continue;
		}
		put_header(list, &count, name, value_s, value_len);
	}
	*ret_list = list;
	*ret_count = count;
	return 0;
oom:
	free_headers(list, count);
	return WD_ENOMEM;
}

/* The result: the request with its headers replaced by the original ones
 * (non-string keys and values as ""), Authorization and the AWS headers. */
static struct rv *signed_request(const struct rv *req, const struct rv *headers,
				 struct signing *s, bool amz_sha, const char *auth)
{
	struct rv *out = rv_object_new(rv_len(req) + 1);
	struct rv *hdr = rv_object_new((headers ? rv_len(headers) : 0) + 5);
	bool ok = out && hdr;

	for (size_t i = 0; ok && i < rv_len(req); i++) {
		struct rv *key, *value;

		rv_map_at(req, i, &key, &value);
		ok = rv_object_put(out, rv_ref(key), rv_ref(value)) == 0;
	}
	for (size_t i = 0; ok && headers && i < rv_len(headers); i++) {
		struct rv *key, *value;
		size_t key_len, value_len;
		const char *key_s, *value_s;

		rv_map_sorted_at(headers, i, &key, &value);
		key_s = string_or_empty(key, &key_len);
		value_s = string_or_empty(value, &value_len);
		ok = rv_object_put(hdr, rv_string(key_s, key_len), rv_string(value_s, value_len)) == 0;
	}
	ok = ok && rv_object_put(hdr, rv_cstring("Authorization"), rv_cstring(auth)) == 0;
	ok = ok && rv_object_put(hdr, rv_cstring("host"), rv_cstring(s->url.host)) == 0;
	ok = ok && rv_object_put(hdr, rv_cstring("x-amz-date"), rv_cstring(s->timestamp)) == 0;
	if (amz_sha)
		ok = ok && rv_object_put(hdr, rv_cstring("x-amz-content-sha256"),
					 rv_cstring(s->content_sha)) == 0;
	if (s->token[0])
		ok = ok && rv_object_put(hdr, rv_cstring("x-amz-security-token"),
					 rv_cstring(s->token)) == 0;
	if (!ok) {
		rv_unref(out);
		rv_unref(hdr);
		return NULL;
	}
	if (rv_object_put(out, rv_cstring("headers"), hdr) < 0) {
		rv_unref(out);
		return NULL;
	}
	return out;
}

/* Formats time_ns (UTC) as SigV4's date and timestamp. */
static void format_time(int64_t ns, struct signing *s)
{
	int64_t secs = ns / 1000000000;
	time_t t;
	struct tm tm;

	if (ns % 1000000000 < 0)
		secs--;
	t = (time_t)secs;
	gmtime_r(&t, &tm);
	strftime(s->date, sizeof(s->date), "%Y%m%d", &tm);
	strftime(s->timestamp, sizeof(s->timestamp), "%Y%m%dT%H%M%SZ", &tm);
}

/* Reads the string fields of the config; check_config made sure the four
 * required ones are strings. */
static void read_config(const struct rv *config, struct signing *s)
{
	size_t len;

	s->access_key = rv_str(rv_object_get_str(config, "aws_access_key"));
	s->region = rv_str(rv_object_get_str(config, "aws_region"));
	s->service = rv_str(rv_object_get_str(config, "aws_service"));
	s->secret_key = string_or_empty(rv_object_get_str(config, "aws_secret_access_key"),
					&s->secret_len);
	s->token = string_or_empty(rv_object_get_str(config, "aws_session_token"), &len);
}

/* Checks the request's fields in OPA's order; fills s->url and s->method. */
static int read_request(struct rego_bctx *ctx, const struct rv *req, struct signing *s,
			struct rv **ret_headers)
{
	struct rv *url = rv_object_get_str(req, "url");
	struct rv *method = rv_object_get_str(req, "method");
	struct rv *headers = rv_object_get_str(req, "headers");
	struct wd_buf err;
	int rc;

	*ret_headers = NULL;
	WD_TRY(check_request_keys(ctx, req));
	if (headers && !rv_is(headers, RV_OBJECT))
		return rego_bi_type_error(ctx, 0, "object", headers);

	if (!rv_is(url, RV_STRING) || !rv_is(method, RV_STRING)) {
		struct rv *bad = rv_set_new(2);
		bool ok = bad != NULL;

		if (ok && !rv_is(url, RV_STRING))
			ok = rv_set_add(bad, rv_cstring("url")) == 0;
		if (ok && !rv_is(method, RV_STRING))
			ok = rv_set_add(bad, rv_cstring("method")) == 0;
		rc = ok ? set_error(ctx, "operand 1 invalid values for required request "
				    "parameters(s)", bad) : bi_fail(ctx, WD_ENOMEM);
		rv_unref(bad);
		return rc;
	}

	wd_buf_init(&err, 128, 8192);
	rc = aws_url_parse(rv_str(url), rv_str_len(url), &s->url, &err);
	if (rc == WD_EINVAL)
		rc = rego_bi_error(ctx, "%s", wd_buf_str(&err));
	else if (rc < 0)
		rc = bi_fail(ctx, rc);
	wd_buf_free(&err);
	WD_TRY(rc);

	s->method = rv_str(method);
	*ret_headers = headers;
	return 0;
}

int bi_aws_sign_req(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		    struct rv **ret)
{
	struct signing s = { 0 };
	struct header *hdrs = NULL;
	size_t count = 0;
	struct rv *headers, *flag;
	struct wd_buf body, auth;
	bool unsigned_payload = false, amz_sha;
	int64_t ns;
	int rc;

	(void)nargs;
	wd_buf_init(&body, 256, BI_STR_MAX);
	wd_buf_init(&auth, 256, 8192 + BI_STR_MAX);

	WD_GUARD(rego_bi_want(ctx, args, 1, RK_OBJECT));
	WD_GUARD(rego_bi_want(ctx, args, 2, RK_OBJECT));
	WD_GUARD(check_config(ctx, args[1]));
	read_config(args[1], &s);

	/* OPA converts time_ns with json.Number.Int64: only integer text. */
	WD_GUARD(rego_bi_want(ctx, args, 3, RK_NUMBER));
	if (args[2]->num_repr != RV_NUM_INT) {
		rc = rego_bi_error(ctx, "operand 3 could not convert time_ns value into a unix "
				   "timestamp");
		goto out;
	}
	ns = args[2]->u.num.i;
	format_time(ns, &s);

	WD_GUARD(read_request(ctx, args[0], &s, &headers));
	rc = request_body(args[0], &body);
	if (rc < 0) {
		rc = bi_fail(ctx, rc);
		goto out;
	}

	flag = rv_object_get_str(args[1], "disable_payload_signing");
	if (flag && !rv_is(flag, RV_BOOL)) {
		rc = rego_bi_error(ctx, "operand 2 invalid value for 'disable_payload_signing' "
				   "in AWS config");
		goto out;
	}
	unsigned_payload = flag && rv_is_true(flag);
	if (unsigned_payload)
		memcpy(s.content_sha, "UNSIGNED-PAYLOAD", 17);
	else
		sha256_hex(wd_buf_data(&body), wd_buf_len(&body), s.content_sha);

	/* Only S3 and Glacier take the payload hash as a header. */
	amz_sha = strcmp(s.service, "s3") == 0 || strcmp(s.service, "glacier") == 0;
	rc = collect_headers(&s, headers, amz_sha, &hdrs, &count);
	if (rc == 0)
		rc = sign(&s, hdrs, count, &auth);
	if (rc < 0) {
		rc = bi_fail(ctx, rc);
		goto out;
	}
	rc = bi_ret(ctx, signed_request(args[0], headers, &s, amz_sha, wd_buf_str(&auth)), ret);
out:
	free_headers(hdrs, count);
	aws_url_free(&s.url);
	wd_buf_free(&body);
	wd_buf_free(&auth);
	return rc;
}
