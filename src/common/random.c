/* Secure random bytes and version 4 UUIDs from OpenSSL's DRBG. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/rand.h>

#include "common/error.h"
#include "common/random.h"

int wd_random_bytes(void *buf, size_t len)
{
	uint8_t *p = buf;

	/* RAND_bytes takes an int length, so large requests go in chunks. */
	while (len > 0) {
		size_t chunk = len > INT_MAX ? INT_MAX : len;

		if (RAND_bytes(p, (int)chunk) != 1)
			return WD_EINTERNAL;
		p += chunk;
		len -= chunk;
	}
	return 0;
}

int wd_random_uuid(char ret_text[static 37])
{
	static const char digits[] = "0123456789abcdef";
	uint8_t b[16];
	size_t o = 0;
	int rc;

	ret_text[0] = '\0';
	rc = wd_random_bytes(b, sizeof(b));
	if (rc < 0)
		return rc;

	/* RFC 4122 section 4.4: version 4 in the high nibble of byte 6, and the
	 * variant bits 10 in the two high bits of byte 8. */
	b[6] = (uint8_t)((b[6] & 0x0fu) | 0x40u);
	b[8] = (uint8_t)((b[8] & 0x3fu) | 0x80u);

	for (size_t i = 0; i < sizeof(b); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			ret_text[o++] = '-';
		ret_text[o++] = digits[b[i] >> 4];
		ret_text[o++] = digits[b[i] & 15u];
	}
	ret_text[o] = '\0';
	return 0;
}
