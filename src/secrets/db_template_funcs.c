/* The functions a username template can call, as Vault defines them
 * (sdk/helper/template/funcs.go): random, truncate, truncate_sha256,
 * uppercase, lowercase, replace, sha256, base64, unix_time,
 * unix_time_millis, timestamp and uuid, plus Go's printf. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/encoding.h"
#include "common/random.h"
#include "secrets/db_template.h"

/* Hex digits of SHA-256 that truncate_sha256 keeps. */
#define TRUNCATE_HASH_LEN 8

static int value_set_int_text(struct template_parser *parser, struct template_value *ret,
	int64_t number)
{
	char digits[24];
	int len = snprintf(digits, sizeof(digits), "%" PRId64, number);

	return template_value_set_text(parser, ret, digits, (size_t)len);
}

static int expect_int(struct template_parser *parser, const struct template_value *args,
	size_t index, const char *function, int64_t *ret_number)
{
	if (!args[index].is_int)
		return wd_error_set(parser->err, WD_EINVAL,
			"username_template: %s: argument %zu must be an integer", function, index + 1);
	*ret_number = args[index].number;
	return 0;
}

static int expect_text(struct template_parser *parser, const struct template_value *args,
	size_t index, const char *function)
{
	if (args[index].is_int)
		return wd_error_set(parser->err, WD_EINVAL,
			"username_template: %s: argument %zu must be a string", function, index + 1);
	return 0;
}

static int call_random(struct template_parser *parser, struct template_value *args,
	size_t count, struct template_value *ret)
{
	int64_t length = 0;
	char *text;
	int rc;

	(void)count;
	WD_TRY(expect_int(parser, args, 0, "random", &length));
	if (length < 0 || length > DB_TEMPLATE_MAX)
		return wd_error_set(parser->err, WD_EINVAL,
			"username_template: random: length %" PRId64 " is outside 0..%d", length,
			DB_TEMPLATE_MAX);
	text = malloc((size_t)length + 1);
	if (!text)
		return WD_ENOMEM;
	rc = db_random_base62(text, (size_t)length);
	if (rc < 0) {
		free(text);
		return wd_error_set(parser->err, rc, "username_template: random: no randomness");
	}
	*ret = (struct template_value){ .text = text, .len = (size_t)length };
	return 0;
}

static int call_truncate(struct template_parser *parser, struct template_value *args,
	size_t count, struct template_value *ret)
{
	int64_t max_len = 0;

	(void)count;
	WD_TRY(expect_int(parser, args, 0, "truncate", &max_len));
	WD_TRY(expect_text(parser, args, 1, "truncate"));
	if (max_len <= 0)
		return wd_error_set(parser->err, WD_EINVAL,
			"username_template: truncate: max length must be > 0 but was %" PRId64, max_len);

	/* Go slices bytes, so a multi-byte character may be cut; the username
	 * check rejects the result then. */
	return template_value_set_text(parser, ret, args[1].text,
		args[1].len > (size_t)max_len ? (size_t)max_len : args[1].len);
}

static void sha256_hex(const char *text, size_t len,
	char out[static 2 * SHA256_DIGEST_LENGTH + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char digest[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)text, len, digest);
	for (size_t i = 0; i < sizeof(digest); i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 0x0f];
	}
	out[2 * SHA256_DIGEST_LENGTH] = '\0';
}

static int call_truncate_sha256(struct template_parser *parser, struct template_value *args,
	size_t count, struct template_value *ret)
{
	char digest[2 * SHA256_DIGEST_LENGTH + 1];
	int64_t max_len = 0;
	size_t keep;
	char *text;

	(void)count;
	WD_TRY(expect_int(parser, args, 0, "truncate_sha256", &max_len));
	WD_TRY(expect_text(parser, args, 1, "truncate_sha256"));
	if (max_len <= TRUNCATE_HASH_LEN)
		return wd_error_set(parser->err, WD_EINVAL,
			"username_template: truncate_sha256: max length must be > %d but was %" PRId64,
			TRUNCATE_HASH_LEN, max_len);
	if (args[1].len <= (size_t)max_len)
		return template_value_set_text(parser, ret, args[1].text, args[1].len);

	/* The cut-off tail is replaced by the first 8 hex digits of its hash. */
	keep = (size_t)max_len - TRUNCATE_HASH_LEN;
	sha256_hex(args[1].text + keep, args[1].len - keep, digest);
	text = malloc((size_t)max_len + 1);
	if (!text)
		return WD_ENOMEM;
	memcpy(text, args[1].text, keep);
	memcpy(text + keep, digest, TRUNCATE_HASH_LEN);
	text[max_len] = '\0';
	*ret = (struct template_value){ .text = text, .len = (size_t)max_len };
	return 0;
}

static int call_change_case(struct template_parser *parser, struct template_value *args,
	bool upper, struct template_value *ret)
{
	WD_TRY(expect_text(parser, args, 0, upper ? "uppercase" : "lowercase"));
	WD_TRY(template_value_set_text(parser, ret, args[0].text, args[0].len));

	/* NOTE: only ASCII letters change case; Go's strings.ToUpper also maps
	 * other Unicode letters. */
	for (size_t i = 0; i < ret->len; i++) {
		unsigned char c = (unsigned char)ret->text[i];

		ret->text[i] = (char)(upper ? toupper(c) : tolower(c));
	}
	return 0;
}

static int call_uppercase(struct template_parser *parser, struct template_value *args,
	size_t count, struct template_value *ret)
{
	(void)count;
	return call_change_case(parser, args, true, ret);
}

static int call_lowercase(struct template_parser *parser, struct template_value *args,
	size_t count, struct template_value *ret)
{
	(void)count;
	return call_change_case(parser, args, false, ret);
}

/* Length of the UTF-8 sequence that starts with byte c (1 for bytes that
 * start none, so scanning always advances). */
static size_t utf8_sequence_length(unsigned char c)
{
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	if (c >= 0xe0)
		return 3;
	if (c >= 0xc2 && c < 0xe0)
		return 2;
	return 1;
}

static int call_replace(struct template_parser *parser, struct template_value *args,
	size_t count, struct template_value *ret)
{
	const struct template_value *find = &args[0];
	const struct template_value *replacement = &args[1];
	const struct template_value *subject = &args[2];
	struct wd_buf out;
	size_t i = 0;
	int rc = 0;

	(void)count;
	WD_TRY(expect_text(parser, args, 0, "replace"));
	WD_TRY(expect_text(parser, args, 1, "replace"));
	WD_TRY(expect_text(parser, args, 2, "replace"));
	wd_buf_init(&out, 64, DB_TEMPLATE_MAX);

	/* strings.ReplaceAll: an empty `find` matches before every character
	 * and at the end. */
	while (i < subject->len) {
		if (find->len == 0) {
			size_t step = utf8_sequence_length((unsigned char)subject->text[i]);

			if (step > subject->len - i)
				step = subject->len - i;
			WD_GUARD(wd_buf_append(&out, replacement->text, replacement->len));
			WD_GUARD(wd_buf_append(&out, subject->text + i, step));
			i += step;
		} else if (subject->len - i >= find->len &&
			!memcmp(subject->text + i, find->text, find->len)) {
			WD_GUARD(wd_buf_append(&out, replacement->text, replacement->len));
			i += find->len;
		} else {
			WD_GUARD(wd_buf_append_byte(&out, (uint8_t)subject->text[i]));
			i++;
		}
	}
	if (find->len == 0)
		WD_GUARD(wd_buf_append(&out, replacement->text, replacement->len));
	WD_GUARD(template_value_set_text(parser, ret, wd_buf_str(&out), wd_buf_len(&out)));
out:
	wd_buf_free(&out);
	if (rc == WD_ETOOBIG)
		return wd_error_set(parser->err, rc,
			"username_template: replace: result is longer than %d bytes", DB_TEMPLATE_MAX);
	return rc;
}

static int call_sha256(struct template_parser *parser, struct template_value *args,
	size_t count, struct template_value *ret)
{
	char digest[2 * SHA256_DIGEST_LENGTH + 1];

	(void)count;
	WD_TRY(expect_text(parser, args, 0, "sha256"));
	sha256_hex(args[0].text, args[0].len, digest);
	return template_value_set_text(parser, ret, digest, strlen(digest));
}

static int call_base64(struct template_parser *parser, struct template_value *args,
	size_t count, struct template_value *ret)
{
	char *encoded = NULL;
	int rc;

	(void)count;
	WD_TRY(expect_text(parser, args, 0, "base64"));
	WD_TRY(wd_base64_encode((const uint8_t *)args[0].text, args[0].len, &encoded));
	rc = template_value_set_text(parser, ret, encoded, strlen(encoded));
	free(encoded);
	return rc;
}

static int call_unix_time(struct template_parser *parser, struct template_value *args,
	size_t count, struct template_value *ret)
{
	(void)args;
	(void)count;
	return value_set_int_text(parser, ret, parser->data->now_ms / 1000);
}

static int call_unix_time_millis(struct template_parser *parser, struct template_value *args,
	size_t count, struct template_value *ret)
{
	(void)args;
	(void)count;
	return value_set_int_text(parser, ret, parser->data->now_ms);
}

static int call_uuid(struct template_parser *parser, struct template_value *args,
	size_t count, struct template_value *ret)
{
	char uuid[37];

	(void)args;
	(void)count;
	if (wd_random_uuid(uuid) < 0)
		return wd_error_set(parser->err, WD_ECRYPTO, "username_template: uuid: no randomness");
	return template_value_set_text(parser, ret, uuid, strlen(uuid));
}

static int call_timestamp(struct template_parser *parser, struct template_value *args,
	size_t count, struct template_value *ret)
{
	struct wd_buf out;
	int rc;

	(void)count;
	WD_TRY(expect_text(parser, args, 0, "timestamp"));
	wd_buf_init(&out, 64, DB_TEMPLATE_MAX);
	rc = db_format_go_time(args[0].text, parser->data->now_ms, &out);
	if (rc == 0)
		rc = template_value_set_text(parser, ret, wd_buf_str(&out), wd_buf_len(&out));
	else if (rc == WD_ETOOBIG)
		rc = wd_error_set(parser->err, rc,
			"username_template: timestamp: result is longer than %d bytes", DB_TEMPLATE_MAX);
	wd_buf_free(&out);
	return rc;
}

/* Go's fmt.Sprintf for the verbs %s, %d, %v and %% without flags. */
static int call_printf(struct template_parser *parser, struct template_value *args,
	size_t count, struct template_value *ret)
{
	struct wd_buf out;
	size_t next = 1;
	const char *format;
	int rc = 0;

	WD_TRY(expect_text(parser, args, 0, "printf"));
	format = args[0].text;
	wd_buf_init(&out, 64, DB_TEMPLATE_MAX);

	for (size_t i = 0; i < args[0].len; i++) {
		char verb;
		const struct template_value *arg;

		if (format[i] != '%') {
			WD_GUARD(wd_buf_append_byte(&out, (uint8_t)format[i]));
			continue;
		}
		verb = i + 1 < args[0].len ? format[++i] : '\0';
		if (verb == '%') {
			WD_GUARD(wd_buf_append_byte(&out, '%'));
			continue;
		}
		if (verb != 's' && verb != 'd' && verb != 'v') {
			rc = wd_error_set(parser->err, WD_EINVAL,
				"username_template: printf: unsupported verb \"%%%c\" (use %%s, %%d or %%v)",
				verb ? verb : ' ');
			goto out;
		}
		if (next >= count) {
			rc = wd_error_set(parser->err, WD_EINVAL,
				"username_template: printf: missing argument for \"%%%c\"", verb);
			goto out;
		}
		arg = &args[next++];
		if (verb == 'd' && !arg->is_int) {
			rc = wd_error_set(parser->err, WD_EINVAL,
				"username_template: printf: \"%%d\" needs an integer, got a string");
			goto out;
		}
		if (arg->is_int)
			WD_GUARD(wd_buf_appendf(&out, "%" PRId64, arg->number));
		else
			WD_GUARD(wd_buf_append(&out, arg->text, arg->len));
	}
	if (next < count) {
		rc = wd_error_set(parser->err, WD_EINVAL,
			"username_template: printf: %zu arguments but the format uses %zu", count - 1,
			next - 1);
		goto out;
	}
	WD_GUARD(template_value_set_text(parser, ret, wd_buf_str(&out), wd_buf_len(&out)));
out:
	wd_buf_free(&out);
	if (rc == WD_ETOOBIG)
		return wd_error_set(parser->err, rc,
			"username_template: printf: result is longer than %d bytes", DB_TEMPLATE_MAX);
	return rc;
}


static const struct template_function functions[] = {
	{ "printf", 1, TEMPLATE_ARGS_MAX, call_printf },
	{ "random", 1, 1, call_random },
	{ "truncate", 2, 2, call_truncate },
	{ "truncate_sha256", 2, 2, call_truncate_sha256 },
	{ "uppercase", 1, 1, call_uppercase },
	{ "lowercase", 1, 1, call_lowercase },
	{ "replace", 3, 3, call_replace },
	{ "sha256", 1, 1, call_sha256 },
	{ "base64", 1, 1, call_base64 },
	{ "unix_time", 0, 0, call_unix_time },
	{ "unix_time_millis", 0, 0, call_unix_time_millis },
	{ "timestamp", 1, 1, call_timestamp },
	{ "uuid", 0, 0, call_uuid },
};

const struct template_function *template_function_find(const char *name, size_t len)
{
	for (size_t i = 0; i < WD_ARRAY_LEN(functions); i++) {
		if (strlen(functions[i].name) == len && !memcmp(functions[i].name, name, len))
			return &functions[i];
	}
	return NULL;
}
