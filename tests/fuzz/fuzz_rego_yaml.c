/* libFuzzer harness: reads arbitrary bytes as a YAML document into a value.
 * A value that reads must marshal to YAML that reads back and marshals to
 * the same text, so quoting and number forms survive a round trip. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "policy/value.h"

/* Inputs above this size only slow the fuzzer down. */
#define FUZZ_MAX_INPUT (256u * 1024u)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wd_buf err, out, again;
	struct rv *value, *back;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	wd_buf_init(&err, 64, 4096);
	wd_buf_init(&out, 1024, 64u * 1024u * 1024u);
	wd_buf_init(&again, 1024, 64u * 1024u * 1024u);

	value = rv_parse_yaml((const char *)data, size, &err);

	/* Invariant: a failure always comes with a message. */
	if (!value && wd_buf_len(&err) == 0)
		__builtin_trap();

	if (value && rv_write_yaml(value, &out) == 0) {
		back = rv_parse_yaml(wd_buf_str(&out), wd_buf_len(&out), NULL);
		if (!back || rv_write_yaml(back, &again) != 0)
			__builtin_trap();
		if (wd_buf_len(&again) != wd_buf_len(&out) ||
		    memcmp(wd_buf_str(&again), wd_buf_str(&out), wd_buf_len(&out)) != 0)
			__builtin_trap();
		rv_unref(back);
	}

	rv_unref(value);
	wd_buf_free(&err);
	wd_buf_free(&out);
	wd_buf_free(&again);
	return 0;
}
