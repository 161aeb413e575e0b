/* Shamir's secret sharing over GF(2^8): round trips over every subset of
 * shares, hand-computed shares, and the inputs that must be rejected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/error.h"
#include "secrets/barrier.h"

#define SECRET_LEN 32
#define MAX_TEST_SHARES 6

static const uint8_t secret[SECRET_LEN] = {
	0x00, 0x01, 0x02, 0x03, 0x10, 0x20, 0x40, 0x80, 0xff, 0xfe, 0x53, 0xca, 0x57, 0x83, 0xc1, 0x1b,
	0xde, 0xad, 0xbe, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x7f, 0x80, 0x00, 0xaa,
};

struct share_set {
	uint8_t bytes[BARRIER_MAX_SHARES][SECRET_LEN + 1];
	uint8_t *pointers[BARRIER_MAX_SHARES];
};

static void share_set_prepare(struct share_set *set)
{
	memset(set->bytes, 0, sizeof(set->bytes));
	for (size_t i = 0; i < BARRIER_MAX_SHARES; i++)
		set->pointers[i] = set->bytes[i];
}

/* Combines the shares whose bits are set in mask. */
static int combine_mask(const struct share_set *set, unsigned mask, uint8_t *out)
{
	const uint8_t *chosen[MAX_TEST_SHARES];
	size_t count = 0;

	for (unsigned i = 0; i < MAX_TEST_SHARES; i++) {
		if (mask & (1u << i))
			chosen[count++] = set->bytes[i];
	}
	return shamir_combine(chosen, count, SECRET_LEN + 1, out);
}

/* For every n up to 6 and every threshold 2..n, every subset of at least
 * t shares gives the secret back and every subset of t - 1 does not. */
static void test_split_combine_every_subset(void **state)
{
	struct share_set set;

	(void)state;
	for (unsigned n = 2; n <= MAX_TEST_SHARES; n++) {
		for (unsigned t = 2; t <= n; t++) {
			share_set_prepare(&set);
			assert_int_equal(shamir_split(secret, SECRET_LEN, n, t, set.pointers), 0);

			for (unsigned mask = 1; mask < (1u << n); mask++) {
				uint8_t out[SECRET_LEN];
				unsigned count = (unsigned)__builtin_popcount(mask);

				if (count < 2)
					continue;
				memset(out, 0, sizeof(out));
				assert_int_equal(combine_mask(&set, mask, out), 0);
				if (count >= t)
					assert_memory_equal(out, secret, SECRET_LEN);
				else
					assert_memory_not_equal(out, secret, SECRET_LEN);
			}
		}
	}
}

static void test_split_share_layout(void **state)
{
	struct share_set set;
	bool seen[256] = { false };

	(void)state;
	share_set_prepare(&set);
	assert_int_equal(shamir_split(secret, SECRET_LEN, BARRIER_MAX_SHARES, 3, set.pointers), 0);

	/* The x-coordinate is the last byte: non-zero and distinct, so all 255
	 * values from 1 to 255 appear once. */
	for (size_t i = 0; i < BARRIER_MAX_SHARES; i++) {
		uint8_t x = set.bytes[i][SECRET_LEN];

		assert_int_not_equal(x, 0);
		assert_false(seen[x]);
		seen[x] = true;
	}

	/* No share carries the secret in the clear. */
	for (size_t i = 0; i < BARRIER_MAX_SHARES; i++)
		assert_memory_not_equal(set.bytes[i], secret, SECRET_LEN);
}

static void test_split_all_shares_combine(void **state)
{
	struct share_set set;
	uint8_t out[SECRET_LEN];

	(void)state;
	share_set_prepare(&set);
	assert_int_equal(shamir_split(secret, SECRET_LEN, BARRIER_MAX_SHARES, BARRIER_MAX_SHARES,
		set.pointers), 0);
	assert_int_equal(shamir_combine((const uint8_t *const *)set.pointers, BARRIER_MAX_SHARES,
		SECRET_LEN + 1, out), 0);
	assert_memory_equal(out, secret, SECRET_LEN);
}

/* Shares computed by hand for p(x) = s + 0x57 x in the AES field, where
 * 0x57 * 0x83 = 0xc1 (the multiplication example of FIPS-197 section
 * 4.2): combining them must give s, so the field is Vault's. */
static void test_combine_hand_computed(void **state)
{
	const uint8_t share_one[2] = { 0x42 ^ 0x57, 0x01 };
	const uint8_t share_two[2] = { 0x42 ^ 0xc1, 0x83 };
	const uint8_t *shares[2] = { share_one, share_two };
	uint8_t out = 0;

	(void)state;
	assert_int_equal(shamir_combine(shares, 2, 2, &out), 0);
	assert_int_equal(out, 0x42);

	/* Order does not matter. */
	shares[0] = share_two;
	shares[1] = share_one;
	out = 0;
	assert_int_equal(shamir_combine(shares, 2, 2, &out), 0);
	assert_int_equal(out, 0x42);
}

static void test_split_rejects_counts(void **state)
{
	struct share_set set;

	(void)state;
	share_set_prepare(&set);
	assert_int_equal(shamir_split(secret, SECRET_LEN, 2, 3, set.pointers), WD_EINVAL);
	assert_int_equal(shamir_split(secret, SECRET_LEN, 3, 1, set.pointers), WD_EINVAL);
	assert_int_equal(shamir_split(secret, SECRET_LEN, 3, 0, set.pointers), WD_EINVAL);
	assert_int_equal(shamir_split(secret, SECRET_LEN, 256, 3, set.pointers), WD_EINVAL);
	assert_int_equal(shamir_split(secret, 0, 3, 2, set.pointers), WD_EINVAL);
	assert_int_equal(shamir_split(NULL, SECRET_LEN, 3, 2, set.pointers), WD_EINVAL);
	assert_int_equal(shamir_split(secret, SECRET_LEN, 3, 2, NULL), WD_EINVAL);
}

/* A 1-of-1 configuration keeps the key whole; split refuses it, as
 * Vault's Split does. */
static void test_split_rejects_one_of_one(void **state)
{
	struct share_set set;

	(void)state;
	share_set_prepare(&set);
	assert_int_equal(shamir_split(secret, SECRET_LEN, 1, 1, set.pointers), WD_EINVAL);
	for (size_t i = 0; i < SECRET_LEN + 1; i++)
		assert_int_equal(set.bytes[0][i], 0);
}

static void test_combine_rejects_wrong_count(void **state)
{
	struct share_set set;
	uint8_t out[SECRET_LEN];

	(void)state;
	share_set_prepare(&set);
	assert_int_equal(shamir_split(secret, SECRET_LEN, 3, 2, set.pointers), 0);
	assert_int_equal(shamir_combine((const uint8_t *const *)set.pointers, 1, SECRET_LEN + 1,
		out), WD_EINVAL);
	assert_int_equal(shamir_combine((const uint8_t *const *)set.pointers, 0, SECRET_LEN + 1,
		out), WD_EINVAL);
	assert_int_equal(shamir_combine((const uint8_t *const *)set.pointers, 256, SECRET_LEN + 1,
		out), WD_EINVAL);
	assert_int_equal(shamir_combine((const uint8_t *const *)set.pointers, 2, 1, out),
		WD_EINVAL);
}

static void test_combine_rejects_duplicate_x(void **state)
{
	struct share_set set;
	const uint8_t *shares[3];
	uint8_t out[SECRET_LEN];

	(void)state;
	share_set_prepare(&set);
	assert_int_equal(shamir_split(secret, SECRET_LEN, 3, 2, set.pointers), 0);

	/* The same share twice. */
	shares[0] = set.bytes[0];
	shares[1] = set.bytes[0];
	assert_int_equal(shamir_combine(shares, 2, SECRET_LEN + 1, out), WD_EINVAL);

	/* Different bytes under one x-coordinate. */
	set.bytes[2][SECRET_LEN] = set.bytes[1][SECRET_LEN];
	shares[0] = set.bytes[0];
	shares[1] = set.bytes[1];
	shares[2] = set.bytes[2];
	assert_int_equal(shamir_combine(shares, 3, SECRET_LEN + 1, out), WD_EINVAL);
}

static void test_combine_rejects_zero_x(void **state)
{
	struct share_set set;
	uint8_t out[SECRET_LEN];

	(void)state;
	share_set_prepare(&set);
	assert_int_equal(shamir_split(secret, SECRET_LEN, 2, 2, set.pointers), 0);
	set.bytes[1][SECRET_LEN] = 0;
	assert_int_equal(shamir_combine((const uint8_t *const *)set.pointers, 2, SECRET_LEN + 1,
		out), WD_EINVAL);
}

/* A changed share byte changes the same byte of the result and no other:
 * the scheme works byte by byte. */
static void test_combine_changed_byte(void **state)
{
	struct share_set set;
	uint8_t out[SECRET_LEN];

	(void)state;
	share_set_prepare(&set);
	assert_int_equal(shamir_split(secret, SECRET_LEN, 2, 2, set.pointers), 0);
	set.bytes[0][5] ^= 0x01;
	assert_int_equal(shamir_combine((const uint8_t *const *)set.pointers, 2, SECRET_LEN + 1,
		out), 0);
	assert_int_not_equal(out[5], secret[5]);
	assert_memory_equal(out, secret, 5);
	assert_memory_equal(out + 6, secret + 6, SECRET_LEN - 6);
}

/* Two splits of one secret use fresh coefficients and x-coordinates. */
static void test_split_is_random(void **state)
{
	struct share_set first;
	struct share_set second;

	(void)state;
	share_set_prepare(&first);
	share_set_prepare(&second);
	assert_int_equal(shamir_split(secret, SECRET_LEN, 5, 3, first.pointers), 0);
	assert_int_equal(shamir_split(secret, SECRET_LEN, 5, 3, second.pointers), 0);
	assert_memory_not_equal(first.bytes, second.bytes, 5 * (SECRET_LEN + 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_combine_every_subset),
		cmocka_unit_test(test_split_share_layout),
		cmocka_unit_test(test_split_all_shares_combine),
		cmocka_unit_test(test_combine_hand_computed),
		cmocka_unit_test(test_split_rejects_counts),
		cmocka_unit_test(test_split_rejects_one_of_one),
		cmocka_unit_test(test_combine_rejects_wrong_count),
		cmocka_unit_test(test_combine_rejects_duplicate_x),
		cmocka_unit_test(test_combine_rejects_zero_x),
		cmocka_unit_test(test_combine_changed_byte),
		cmocka_unit_test(test_split_is_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
