/* Shamir's secret sharing over GF(2^8), byte for byte, in the layout of
 * Vault's sdk/helper/shamir: each share is the secret's length plus one
 * byte, the x-coordinate, appended last. Field arithmetic uses the AES
 * polynomial x^8 + x^4 + x^3 + x + 1 and runs without tables or
 * data-dependent branches, so timing does not depend on share bytes. */
#include <string.h>

#include <openssl/crypto.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/random.h"
#include "secrets/barrier.h"

/* Multiplies in GF(2^8): eight rounds of shift-and-add, with masks in
 * place of branches. */
static uint8_t gf_mul(uint8_t a, uint8_t b)
{
	uint8_t product = 0;

	for (int i = 0; i < 8; i++) {
		product ^= (uint8_t)(-(b & 1) & a);
		b >>= 1;
		a = (uint8_t)((a << 1) ^ (-(a >> 7) & 0x1b));
	}
	return product;
}

/* Returns the multiplicative inverse, a^254 (Fermat: a^255 = 1); the
 * inverse of 0 comes out as 0, which callers never ask for. */
static uint8_t gf_inverse(uint8_t a)
{
	uint8_t result = 1;
	uint8_t power = a;

	/* 254 = 0b11111110: multiply in a^2, a^4, ..., a^128. */
	for (int bit = 1; bit < 8; bit++) {
		power = gf_mul(power, power);
		result = gf_mul(result, power);
	}
	return result;
}

/* Returns a uniform random index in [0, bound) by rejection sampling, so
 * the shuffle below has no modulo bias. bound is at most 255. */
static int random_below(unsigned bound, unsigned *ret_index)
{
	unsigned limit = 256 - 256 % bound;
	uint8_t byte;

	do {
		WD_TRY(wd_random_bytes(&byte, 1));
	} while (byte >= limit);
	*ret_index = byte % bound;
	return 0;
}

/* Writes `count` distinct random x-coordinates in [1, 255]: the first
 * entries of a Fisher-Yates shuffle of all 255. */
static int random_x_coordinates(uint8_t *xs, unsigned count)
{
	uint8_t all[255];

	for (unsigned i = 0; i < 255; i++)
		all[i] = (uint8_t)(i + 1);
	for (unsigned i = 254; i > 0; i--) {
		unsigned j;
		uint8_t swap;

		WD_TRY(random_below(i + 1, &j));
		swap = all[i];
		all[i] = all[j];
		all[j] = swap;
	}
	memcpy(xs, all, count);
	return 0;
}

int shamir_split(const uint8_t *secret, size_t len, unsigned shares, unsigned threshold,
	uint8_t **ret_shares)
{
	uint8_t xs[BARRIER_MAX_SHARES];
	uint8_t *coefficients = NULL;
	int rc = 0;

	/* Vault's Split: 2 <= threshold <= shares <= 255. One share of a
	 * threshold of 1 would be the secret itself, so callers keep it whole. */
	if (!secret || len == 0 || len == SIZE_MAX || !ret_shares)
		return WD_EINVAL;
	if (threshold < 2 || threshold > shares || shares > BARRIER_MAX_SHARES)
		return WD_EINVAL;

	/* The threshold - 1 random coefficients of each byte's polynomial; the
	 * constant term is the secret byte. */
	coefficients = wd_calloc(len, threshold - 1);
	WD_ENSURE(coefficients, WD_ENOMEM);
	WD_GUARD(wd_random_bytes(coefficients, len * (threshold - 1)));
	WD_GUARD(random_x_coordinates(xs, shares));

	for (unsigned s = 0; s < shares; s++) {
		uint8_t x = xs[s];

		for (size_t b = 0; b < len; b++) {
			const uint8_t *c = coefficients + b * (threshold - 1);
			uint8_t y = 0;

			/* Horner's rule from the highest coefficient down. */
			for (unsigned k = threshold - 1; k > 0; k--)
				y = gf_mul(y, x) ^ c[k - 1];
			ret_shares[s][b] = gf_mul(y, x) ^ secret[b];
		}
		ret_shares[s][len] = x;
	}

out:
	if (coefficients)
		wd_free_secret(coefficients, len * (threshold - 1));
	OPENSSL_cleanse(xs, sizeof(xs));
	return rc;
}

int shamir_combine(const uint8_t *const *shares, size_t count, size_t len, uint8_t *ret_secret)
{
	uint8_t basis[BARRIER_MAX_SHARES];
	size_t secret_len;

	if (!shares || !ret_secret || len < 2)
		return WD_EINVAL;
	if (count < 2 || count > BARRIER_MAX_SHARES)
		return WD_EINVAL;
	secret_len = len - 1;

	/* Repeated x-coordinates make the interpolation divide by zero, and
	 * split never writes x = 0. */
	for (size_t i = 0; i < count; i++) {
		if (!shares[i] || shares[i][secret_len] == 0)
			return WD_EINVAL;
		for (size_t j = 0; j < i; j++) {
			if (shares[i][secret_len] == shares[j][secret_len])
				return WD_EINVAL;
		}
	}

	/* Lagrange basis at x = 0: l_i(0) = prod over j != i of
	 * x_j / (x_i - x_j), where subtraction in GF(2^8) is XOR. The basis
	 * depends only on the x-coordinates, so it is computed once. */
	for (size_t i = 0; i < count; i++) {
		uint8_t xi = shares[i][secret_len];
		uint8_t numerator = 1;
		uint8_t denominator = 1;

		for (size_t j = 0; j < count; j++) {
			uint8_t xj = shares[j][secret_len];

			if (j == i)
				continue;
			numerator = gf_mul(numerator, xj);
			denominator = gf_mul(denominator, xi ^ xj);
		}
		basis[i] = gf_mul(numerator, gf_inverse(denominator));
	}

	for (size_t b = 0; b < secret_len; b++) {
		uint8_t value = 0;

		for (size_t i = 0; i < count; i++)
			value ^= gf_mul(shares[i][b], basis[i]);
		ret_secret[b] = value;
	}

	OPENSSL_cleanse(basis, sizeof(basis));
	return 0;
}
