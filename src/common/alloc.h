/* Overflow-checked allocation and secret-wiping release. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/macros.h"

/* Allocates n * size zeroed bytes; NULL when the product overflows or memory
 * runs out. */
static inline void *wd_calloc(size_t n, size_t size)
{
	size_t total;

	if (__builtin_mul_overflow(n, size, &total))
		return NULL;
	return calloc(1, total ? total : 1);
}

/* Resizes p to n * size bytes; NULL (p untouched) on overflow or failure. */
static inline void *wd_reallocarray(void *p, size_t n, size_t size)
{
	size_t total;

	if (__builtin_mul_overflow(n, size, &total))
		return NULL;
	return realloc(p, total ? total : 1);
}

/* Duplicates a string; NULL in, NULL out. */
char *wd_strdup(const char *s);

/* Duplicates len bytes of s and terminates them. */
char *wd_strndup(const char *s, size_t len);

/* Wipes len bytes at p with OPENSSL_cleanse, then frees p; accepts NULL. */
void wd_free_secret(void *p, size_t len);

/* Wipes a NUL-terminated secret string and frees it; accepts NULL. */
void wd_free_secret_str(char *s);
