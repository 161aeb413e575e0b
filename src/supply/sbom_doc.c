/* Identifiers, timestamps and serialization shared by the SPDX and
 * CycloneDX writers. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "supply/sbom_internal.h"

int sbom_format_time(long long seconds, char ret_text[static 32], struct wd_error *err)
{
	time_t when = (time_t)seconds;
	struct tm tm;

	ret_text[0] = '\0';
	if (seconds < 0 || (long long)when != seconds || !gmtime_r(&when, &tm) ||
	    strftime(ret_text, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return wd_error_set(err, WD_EINVAL, "invalid creation time %lld", seconds);
	return 0;
}

int sbom_document_uuid(const struct sbom_catalog *catalog, const struct sbom_subject *subject,
	char ret_uuid[static 37], struct wd_error *err)
{
	/* The URL namespace of RFC 9562 appendix A. */
	static const unsigned char url_namespace[16] = {
		0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
		0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8,
	};
	char hash[65];
	char name[80];
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;
	EVP_MD_CTX *ctx;
	int ok;

	ret_uuid[0] = '\0';
	WD_TRY(sbom_content_hash(catalog, subject, hash, err));
	snprintf(name, sizeof(name), "warden-sbom:%s", hash);

	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return wd_error_set(err, WD_ENOMEM, "out of memory for a SHA-1 context");
	ok = EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) &&
	     EVP_DigestUpdate(ctx, url_namespace, sizeof(url_namespace)) &&
	     EVP_DigestUpdate(ctx, name, strlen(name)) &&
	     EVP_DigestFinal_ex(ctx, digest, &digest_len) && digest_len >= 16;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return wd_error_set(err, WD_EINTERNAL, "SHA-1 of the document name failed");

	digest[6] = (unsigned char)((digest[6] & 0x0f) | 0x50);  /* version 5 */
	digest[8] = (unsigned char)((digest[8] & 0x3f) | 0x80);  /* RFC 9562 variant */
	snprintf(ret_uuid, 37,
		"%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6],
		digest[7], digest[8], digest[9], digest[10], digest[11], digest[12], digest[13],
		digest[14], digest[15]);
	return 0;
}

/* True for the types whose packages come from one database per root, where
 * the purl alone distinguishes packages. */
static bool is_os_package(const struct sbom_package *pkg)
{
	return pkg->type == SBOM_TYPE_DEB || pkg->type == SBOM_TYPE_APK ||
	       pkg->type == SBOM_TYPE_RPM;
}

/* Feeds text and a NUL separator to ctx. */
static int digest_text(EVP_MD_CTX *ctx, const char *text)
{
	const char *value = text ? text : "";

	return EVP_DigestUpdate(ctx, value, strlen(value) + 1) ? 0 : -1;
}

int sbom_package_id(const struct sbom_package *pkg, const char *kind, char *ret_id, size_t size,
	struct wd_error *err)
{
	const char *purl = pkg->purl ? pkg->purl : "";
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;
	EVP_MD_CTX *ctx;
	int written, ok;

	/* Language packages and binaries repeat across files (one module in
	 * many Go binaries), so their location and file digest join the
	 * purl; OS packages keep the digest of the purl alone. */
	ctx = EVP_MD_CTX_new();
	ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
	     EVP_DigestUpdate(ctx, purl, strlen(purl)) &&
	     (is_os_package(pkg) ||
	      (digest_text(ctx, "") == 0 && digest_text(ctx, pkg->location) == 0 &&
	       digest_text(ctx, pkg->sha256) == 0)) &&
	     EVP_DigestFinal_ex(ctx, digest, &digest_len) && digest_len >= 8;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return wd_error_set(err, WD_EINTERNAL, "SHA-256 of purl %.64s failed", purl);

	written = snprintf(ret_id, size, "%s-%s-%02x%02x%02x%02x%02x%02x%02x%02x", kind,
		pkg->name, digest[0], digest[1], digest[2], digest[3], digest[4], digest[5],
		digest[6], digest[7]);
	if (written < 0 || (size_t)written >= size)
		return wd_error_set(err, WD_ETOOBIG, "package name too long: %.64s", pkg->name);

	for (char *p = ret_id + strlen(kind) + 1; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
			*p = '-';
	}
	return 0;
}

int sbom_json_finish(json_t *root, char **ret_text, struct wd_error *err)
{
	char *text;

	*ret_text = NULL;
	size_t len;
	char *with_newline;

	text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(root);
	if (!text)
		return wd_error_set(err, WD_ENOMEM, "out of memory for the SBOM document");

	/* A text file ends with a newline, which json_dumps leaves out. */
	len = strlen(text);
	with_newline = realloc(text, len + 2);
	if (!with_newline) {
		free(text);
		return wd_error_set(err, WD_ENOMEM, "out of memory for the SBOM document");
	}
	with_newline[len] = '\n';
	with_newline[len + 1] = '\0';
	*ret_text = with_newline;
	return 0;
}

int sbom_json_set_string(json_t *object, const char *key, const char *value)
{
	json_t *string = json_string(value);

	/* JSON strings are UTF-8; a database in another encoding (old Latin-1
	 * maintainer names) gets '?' for every byte outside ASCII. */
	if (!string && value) {
		char *ascii = strdup(value);

		if (!ascii)
			return -1;
		for (char *p = ascii; *p; p++) {
			if ((unsigned char)*p >= 0x80)
				*p = '?';
		}
		string = json_string(ascii);
		free(ascii);
	}
	return json_object_set_new(object, key, string);
}
