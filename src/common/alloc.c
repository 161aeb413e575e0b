/* String duplication and secret-wiping release. */
#include <string.h>

#include <openssl/crypto.h>

#include "common/alloc.h"

char *wd_strdup(const char *s)
{
	if (!s)
		return NULL;
	return strdup(s);
}

char *wd_strndup(const char *s, size_t len)
{
	char *copy;

	if (!s || len == SIZE_MAX)
		return NULL;
	copy = malloc(len + 1);
	if (!copy)
		return NULL;
	memcpy(copy, s, len);
	copy[len] = '\0';
	return copy;
}

void wd_free_secret(void *p, size_t len)
{
	if (!p)
		return;
	OPENSSL_cleanse(p, len);
	free(p);
}

void wd_free_secret_str(char *s)
{
	if (!s)
		return;
	wd_free_secret(s, strlen(s));
}
