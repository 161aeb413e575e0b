/* SHA-256 digests of image blobs in the "sha256:<hex>" form of the OCI
 * image specification ("Digests"). */
#include <string.h>

#include "supply/image_internal.h"

int image_digest_init(struct image_digest *digest, struct wd_error *err)
{
	digest->ctx = EVP_MD_CTX_new();
	if (!digest->ctx)
		return wd_error_set(err, WD_ENOMEM, "out of memory for a SHA-256 context");
	if (!EVP_DigestInit_ex(digest->ctx, EVP_sha256(), NULL)) {
		image_digest_free(digest);
		return wd_error_set(err, WD_EINTERNAL, "SHA-256 initialization failed");
	}
	return 0;
}

int image_digest_update(struct image_digest *digest, const void *data, size_t len,
	struct wd_error *err)
{
	if (len > 0 && !EVP_DigestUpdate(digest->ctx, data, len))
		return wd_error_set(err, WD_EINTERNAL, "SHA-256 update failed");
	return 0;
}

int image_digest_final(struct image_digest *digest, char ret[static 72], struct wd_error *err)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	int ok = EVP_DigestFinal_ex(digest->ctx, md, &md_len) && md_len == 32;

	image_digest_free(digest);
	ret[0] = '\0';
	if (!ok)
		return wd_error_set(err, WD_EINTERNAL, "SHA-256 finalization failed");
	memcpy(ret, "sha256:", 7);
	for (unsigned int i = 0; i < md_len; i++) {
		ret[7 + 2 * i] = hex[md[i] >> 4];
		ret[7 + 2 * i + 1] = hex[md[i] & 0xf];
	}
	ret[71] = '\0';
	return 0;
}

void image_digest_free(struct image_digest *digest)
{
	if (!digest)
		return;
	EVP_MD_CTX_free(digest->ctx);
	digest->ctx = NULL;
}

int image_digest_check(const char *text, const char *what, struct wd_error *err)
{
	const char *colon = text ? strchr(text, ':') : NULL;
	char quoted[96];

	image_quote(text ? text : "", quoted, sizeof(quoted));
	if (!colon)
		return wd_error_set(err, WD_EINVAL, "%s: invalid digest \"%s\": expected "
				"sha256:<64 hex digits>", what, quoted);
	if ((size_t)(colon - text) != 6 || strncmp(text, "sha256", 6) != 0)
		return wd_error_set(err, WD_EUNSUPPORTED, "%s: unsupported digest algorithm in "
				"\"%s\": only sha256 is supported", what, quoted);
	if (strlen(colon + 1) != 64 || strspn(colon + 1, "0123456789abcdef") != 64)
		return wd_error_set(err, WD_EINVAL, "%s: invalid digest \"%s\": expected "
				"sha256:<64 lowercase hex digits>", what, quoted);
	return 0;
}
