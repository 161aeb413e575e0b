/* Random text for credentials: base62 for usernames (Vault's "random"
 * template function) and the passwords of dynamic users and root
 * rotation, drawn from OpenSSL's DRBG. */
#include <stdbool.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/random.h"
#include "secrets/db_internal.h"

/* Tries before db_password_generate gives up: each try has all four
 * character classes with a chance of about 28 %, so 1000 failures in a
 * row would take a broken DRBG. */
#define PASSWORD_TRIES 1000

/* Fills out with len characters of alphabet (size letters), each equally
 * likely: bytes at or above the largest multiple of size are rejected. */
static int random_from(const char *alphabet, unsigned size, char *out, size_t len)
{
	unsigned limit = 256 - 256 % size;
	size_t filled = 0;

	while (filled < len) {
		unsigned char bytes[64];

		if (wd_random_bytes(bytes, sizeof(bytes)) < 0)
			return WD_ECRYPTO;
		for (size_t i = 0; i < sizeof(bytes) && filled < len; i++) {
			if (bytes[i] < limit)
				out[filled++] = alphabet[bytes[i] % size];
		}
		OPENSSL_cleanse(bytes, sizeof(bytes));
	}
	out[len] = '\0';
	return 0;
}

int db_random_base62(char *out, size_t len)
{
	static const char alphabet[] =
		"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

	return random_from(alphabet, 62, out, len);
}

static bool has_every_class(const char *password)
{
	bool upper = false, lower = false, digit = false, dash = false;

	for (const char *p = password; *p; p++) {
		upper |= *p >= 'A' && *p <= 'Z';
		lower |= *p >= 'a' && *p <= 'z';
		digit |= *p >= '0' && *p <= '9';
		dash |= *p == '-';
	}
	return upper && lower && digit && dash;
}

int db_password_generate(char ret_password[static DB_PASSWORD_LEN + 1])
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-";

	/* Drawing again until every class is present keeps all passwords that
	 * meet the rule equally likely, as Vault's generator does. */
	for (int attempt = 0; attempt < PASSWORD_TRIES; attempt++) {
		WD_TRY(random_from(alphabet, 63, ret_password, DB_PASSWORD_LEN));
		if (has_every_class(ret_password))
			return 0;
	}
	OPENSSL_cleanse(ret_password, DB_PASSWORD_LEN + 1);
	return WD_ECRYPTO;
}
