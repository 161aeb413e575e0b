/* libFuzzer harness: parses the input as a JSON document into Rego values,
 * writes it back in every form and checks that the text reads back equal. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "policy/value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes v as compact JSON, parses that again and aborts unless the two
 * values are equal, hash alike and print alike. */
static void check_roundtrip(struct rv *v)
{
	struct wd_buf first, second;
	struct rv *again;

	wd_buf_init(&first, 256, 64u << 20);
	wd_buf_init(&second, 256, 64u << 20);
	if (rv_write_json(v, &first) < 0)
		abort();
	again = rv_parse_json(wd_buf_str(&first), wd_buf_len(&first), 64, NULL);
	if (!again)
		abort();
	if (rv_compare(v, again) != 0 || rv_compare(again, v) != 0 || rv_hash(v) != rv_hash(again))
		abort();
	if (rv_write_json(again, &second) < 0 || wd_buf_len(&first) != wd_buf_len(&second) ||
	    memcmp(wd_buf_str(&first), wd_buf_str(&second), wd_buf_len(&first)) != 0)
		abort();
	rv_unref(again);
	wd_buf_free(&first);
	wd_buf_free(&second);
}

/* Inputs from 64 KiB on are parsed into arena chunks with shared shapes
 * and numbers; leading spaces take a small input down that path too. */
static void check_large_path(const uint8_t *data, size_t size)
{
	size_t pad = 64 * 1024;
	char *big = malloc(pad + size);
	struct rv *small, *large;

	if (!big)
		return;
	memset(big, ' ', pad);
	memcpy(big + pad, data, size);
	small = rv_parse_json((const char *)data, size, 64, NULL);
	large = rv_parse_json(big, pad + size, 64, NULL);
	if (!small != !large)
		abort();
	if (small && (rv_compare(small, large) != 0 || rv_hash(small) != rv_hash(large)))
		abort();
	if (large) {
		struct rv *copy = rv_parse_json(big, pad + size, 64, NULL);

		/* Growing a parsed value moves its parts out of the arena. */
		if (large->kind == RV_ARRAY && rv_array_push(large, rv_int(1)) < 0)
			abort();
		if (large->kind == RV_OBJECT && rv_object_put(large, rv_cstring("\x01"), rv_null()) < 0)
			abort();
		rv_freeze(copy);
		check_roundtrip(copy);
		rv_free_frozen(copy);
	}
	rv_unref(small);
	rv_unref(large);
	free(big);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wd_buf err, text;
	struct rv *v;
	json_t *json;

	if (size <= 4096)
		check_large_path(data, size);

	wd_buf_init(&err, 64, 4096);
	v = rv_parse_json((const char *)data, size, 64, &err);
	if (!v) {
		/* A failure always says why. */
		if (wd_buf_len(&err) == 0)
			abort();
		wd_buf_free(&err);
		return 0;
	}
	wd_buf_free(&err);

	check_roundtrip(v);

	wd_buf_init(&text, 256, 64u << 20);
	if (rv_write_json_pretty(v, &text) < 0 || rv_write_rego(v, &text) < 0)
		abort();
	wd_buf_free(&text);
	(void)rv_count(v);

	json = rv_to_json(v);
	if (!json)
		abort();
	json_decref(json);

	/* Frozen values answer the same and are freed once. */
	rv_freeze(v);
	check_roundtrip(v);
	rv_free_frozen(v);
	return 0;
}
