/* Unit tests for base64, base64url and hex, with the RFC 4648 section 10
 * test vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/encoding.h"
#include "common/error.h"

static const struct {
	const char *data;
	const char *base64;
	const char *hex;
} rfc4648_vectors[] = {
	{ "", "", "" },
	{ "f", "Zg==", "66" },
	{ "fo", "Zm8=", "666f" },
	{ "foo", "Zm9v", "666f6f" },
	{ "foob", "Zm9vYg==", "666f6f62" },
	{ "fooba", "Zm9vYmE=", "666f6f6261" },
	{ "foobar", "Zm9vYmFy", "666f6f626172" },
};

static void base64_rfc4648_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rfc4648_vectors) / sizeof(rfc4648_vectors[0]); i++) {
		const char *data = rfc4648_vectors[i].data;
		const char *text = rfc4648_vectors[i].base64;
		char *encoded = NULL;
		uint8_t *decoded = NULL;
		size_t len = 0;

		assert_int_equal(wd_base64_encode((const uint8_t *)data, strlen(data), &encoded), 0);
		assert_string_equal(encoded, text);
		assert_int_equal(wd_base64_decode(text, strlen(text), &decoded, &len), 0);
		assert_int_equal(len, strlen(data));
		assert_memory_equal(decoded, data, len);
		assert_int_equal(decoded[len], '\0');
		free(encoded);
		free(decoded);
	}
}

static void base64url_unpadded_vectors(void **state)
{
	static const struct {
		const char *text;
		size_t len;
		const char *encoded;
	} cases[] = {
		{ "f", 1, "Zg" },
		{ "fo", 2, "Zm8" },
		{ "foobar", 6, "Zm9vYmFy" },
		{ "\xfb\xff\xbf", 3, "-_-_" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *encoded = NULL;
		uint8_t *decoded = NULL;
		size_t len = 0;

		assert_int_equal(wd_base64url_encode((const uint8_t *)cases[i].text, cases[i].len,
			&encoded), 0);
		assert_string_equal(encoded, cases[i].encoded);
		assert_int_equal(wd_base64url_decode(encoded, strlen(encoded), &decoded, &len), 0);
		assert_int_equal(len, cases[i].len);
		assert_memory_equal(decoded, cases[i].text, len);
		free(encoded);
		free(decoded);
	}
}

static void base64_decode_rejects_hostile(void **state)
{
	static const char *const bad[] = {
		"Zg=",       /* not a multiple of 4 */
		"Zg",        /* padding missing */
		"Zh==",      /* non-zero trailing bits (RFC 4648 section 3.5) */
		"Zm9=",      /* non-zero trailing bits */
		"Z===",      /* three padding characters */
		"====",      /* padding only */
		"Zg==Zg==",  /* padding in the middle */
		"Zm9v\n",    /* newline */
		" Zm9v",     /* leading space */
		"Zm 9v",     /* inner space */
		"Zm9-",      /* base64url character */
		"Zm9_",      /* base64url character */
		"Zm\x80v",   /* non-ASCII byte */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t *decoded = (uint8_t *)1;
		size_t len = 9;

		assert_int_equal(wd_base64_decode(bad[i], strlen(bad[i]), &decoded, &len), WD_EINVAL);
		assert_null(decoded);
		assert_int_equal(len, 0);
	}
}

static void base64url_decode_rejects_hostile(void **state)
{
	static const char *const bad[] = {
		"Zg==",  /* padding is not used */
		"Z",     /* one character cannot hold a byte */
		"Zh",    /* non-zero trailing bits */
		"Zm+v",  /* standard alphabet */
		"Zm/v",  /* standard alphabet */
		"Zm9vY",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t *decoded = NULL;
		size_t len = 0;

		assert_int_equal(wd_base64url_decode(bad[i], strlen(bad[i]), &decoded, &len),
			WD_EINVAL);
		assert_null(decoded);
	}
}

static void base64_decode_embedded_nul(void **state)
{
	uint8_t *decoded = NULL;
	size_t len = 0;

	(void)state;
	/* len counts past the NUL, which is not in the alphabet. */
	assert_int_equal(wd_base64_decode("Zm9v\0AAA", 8, &decoded, &len), WD_EINVAL);
	assert_int_equal(wd_base64_decode(NULL, 4, &decoded, &len), WD_EINVAL);
	assert_int_equal(wd_base64_decode(NULL, 0, &decoded, &len), 0);
	assert_int_equal(len, 0);
	free(decoded);
}

static void hex_vectors_and_case(void **state)
{
	uint8_t *decoded = NULL;
	size_t len = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(rfc4648_vectors) / sizeof(rfc4648_vectors[0]); i++) {
		const char *data = rfc4648_vectors[i].data;
		char *encoded = NULL;

		assert_int_equal(wd_hex_encode((const uint8_t *)data, strlen(data), &encoded), 0);
		assert_string_equal(encoded, rfc4648_vectors[i].hex);
		free(encoded);
	}

	assert_int_equal(wd_hex_decode("00ff7FaB", 8, &decoded, &len), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(decoded, "\x00\xff\x7f\xab", 4);
	free(decoded);
}

static void hex_decode_rejects_hostile(void **state)
{
	static const char *const bad[] = { "0", "abc", "0g", "zz", " 00", "00 ", "0x00", "-1" };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t *decoded = NULL;
		size_t len = 0;

		assert_int_equal(wd_hex_decode(bad[i], strlen(bad[i]), &decoded, &len), WD_EINVAL);
		assert_null(decoded);
		assert_int_equal(len, 0);
	}
}

static void encode_all_byte_values(void **state)
{
	uint8_t bytes[256];
	char *text = NULL;
	uint8_t *back = NULL;
	size_t len = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (uint8_t)i;

	assert_int_equal(wd_base64_encode(bytes, sizeof(bytes), &text), 0);
	assert_int_equal(strlen(text), 344);
	assert_int_equal(wd_base64_decode(text, strlen(text), &back, &len), 0);
	assert_int_equal(len, 256);
	assert_memory_equal(back, bytes, 256);
	free(text);
	free(back);

	assert_int_equal(wd_hex_encode(bytes, sizeof(bytes), &text), 0);
	assert_int_equal(strlen(text), 512);
	assert_int_equal(wd_hex_decode(text, strlen(text), &back, &len), 0);
	assert_memory_equal(back, bytes, 256);
	free(text);
	free(back);

	assert_int_equal(wd_base64_encode(NULL, 5, &text), WD_EINVAL);
	assert_null(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(base64_rfc4648_vectors),
		cmocka_unit_test(base64url_unpadded_vectors),
		cmocka_unit_test(base64_decode_rejects_hostile),
		cmocka_unit_test(base64url_decode_rejects_hostile),
		cmocka_unit_test(base64_decode_embedded_nul),
		cmocka_unit_test(hex_vectors_and_case),
		cmocka_unit_test(hex_decode_rejects_hostile),
		cmocka_unit_test(encode_all_byte_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
