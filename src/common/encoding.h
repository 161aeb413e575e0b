/* Base64 (RFC 4648 section 4), base64url without padding (section 5, as JOSE
 * uses it) and lowercase hex. Decoders are strict: any character outside the
 * alphabet, bad padding or a stray trailing bit fails with WD_EINVAL. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/macros.h"

/* Encoders return a NUL-terminated malloc'd string in ret_text. */
WD_MUST_CHECK int wd_base64_encode(const uint8_t *data, size_t len, char **ret_text);
WD_MUST_CHECK int wd_base64url_encode(const uint8_t *data, size_t len, char **ret_text);
WD_MUST_CHECK int wd_hex_encode(const uint8_t *data, size_t len, char **ret_text);

/* Decoders return malloc'd bytes in ret_data (NUL-terminated for
 * convenience, not counted in ret_len). */
WD_MUST_CHECK int wd_base64_decode(const char *text, size_t len, uint8_t **ret_data,
	size_t *ret_len);
WD_MUST_CHECK int wd_base64url_decode(const char *text, size_t len, uint8_t **ret_data,
	size_t *ret_len);
WD_MUST_CHECK int wd_hex_decode(const char *text, size_t len, uint8_t **ret_data,
	size_t *ret_len);
