/* The per-scheme comparisons behind supply_version_compare. Each validates
 * both versions, stores -1, 0 or 1 in *ret_order, and returns 0 or
 * WD_EINVAL naming the invalid version. */
#pragma once

#include <stddef.h>

#include "common/error.h"
#include "common/macros.h"

/* The maximum length of a version in any scheme, in bytes. It bounds the
 * work and stack of one comparison. */
#define SUPPLY_VERSION_MAX 256

int version_dpkg_compare(const char *a, const char *b, int *ret_order,
	struct wd_error *err) WD_MUST_CHECK;
int version_rpm_compare(const char *a, const char *b, int *ret_order,
	struct wd_error *err) WD_MUST_CHECK;
int version_apk_compare(const char *a, const char *b, int *ret_order,
	struct wd_error *err) WD_MUST_CHECK;
int version_semver_compare(const char *a, const char *b, int *ret_order,
	struct wd_error *err) WD_MUST_CHECK;
int version_pep440_compare(const char *a, const char *b, int *ret_order,
	struct wd_error *err) WD_MUST_CHECK;
int version_go_compare(const char *a, const char *b, int *ret_order,
	struct wd_error *err) WD_MUST_CHECK;

/* Compares two runs of decimal digits by value, whatever their length or
 * leading zeros. Returns -1, 0 or 1. */
int version_digits_compare(const char *a, size_t a_len, const char *b, size_t b_len);

/* Returns -1, 0 or 1 by the sign of value. */
static inline int version_sign(long value)
{
	return (value > 0) - (value < 0);
}
