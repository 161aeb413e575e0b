/* UTF-8 validation for the text that supply parsers take from files and
 * pass on to JSON writers, which accept only valid UTF-8. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Returns the length of the valid UTF-8 sequence that starts at p, before
 * end, or 0 (Unicode 15, table 3-7: no overlong forms, surrogates or code
 * points past U+10FFFF). p[0] must be a byte at or above 0x80. */
size_t supply_utf8_sequence(const unsigned char *p, const unsigned char *end);

/* Returns whether len bytes of text are valid UTF-8 without a NUL. */
bool supply_utf8_valid(const char *text, size_t len);
