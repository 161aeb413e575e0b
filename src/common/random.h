/* Secure random bytes from OpenSSL's DRBG. */
#pragma once

#include <stddef.h>

#include "common/macros.h"

/* Fills buf with len random bytes; WD_EINTERNAL when the DRBG fails. */
WD_MUST_CHECK int wd_random_bytes(void *buf, size_t len);

/* Writes a random RFC 4122 version 4 UUID ("8-4-4-4-12" lowercase hex) to
 * ret_text, which must hold 37 bytes. */
WD_MUST_CHECK int wd_random_uuid(char ret_text[static 37]);
