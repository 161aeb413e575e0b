/* The package list of an SBOM: growth under a ceiling, the canonical order,
 * and the content hash that the document identifiers derive from. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "supply/sbom.h"
#include "supply/sbom_files.h"

const char *sbom_package_type_name(enum sbom_package_type type)
{
	switch (type) {
	case SBOM_TYPE_DEB:
		return "deb";
	case SBOM_TYPE_APK:
		return "apk";
	case SBOM_TYPE_RPM:
		return "rpm";
	case SBOM_TYPE_PYTHON:
		return "python";
	case SBOM_TYPE_NPM:
		return "npm";
	case SBOM_TYPE_GO_MODULE:
		return "go-module";
	case SBOM_TYPE_BINARY:
		return "binary";
	}
	return "unknown";
}

void sbom_catalog_init(struct sbom_catalog *catalog, size_t max)
{
	*catalog = (struct sbom_catalog){ .max = max };
}

void sbom_package_free(struct sbom_package *pkg)
{
	if (!pkg)
		return;
	free(pkg->name);
	free(pkg->version);
	free(pkg->arch);
	free(pkg->source);
	free(pkg->source_version);
	free(pkg->maintainer);
	free(pkg->installed_size);
	free(pkg->license);
	free(pkg->location);
	free(pkg->sha256);
	free(pkg->purl);
	free(pkg->cpe);
	*pkg = (struct sbom_package){ 0 };
}

void sbom_catalog_free(struct sbom_catalog *catalog)
{
	if (!catalog)
		return;
	for (size_t i = 0; i < catalog->count; i++)
		sbom_package_free(&catalog->packages[i]);
	free(catalog->packages);
	catalog->packages = NULL;
	catalog->count = 0;
	catalog->cap = 0;
	sbom_catalog_free_extras(catalog);
}

int sbom_catalog_add(struct sbom_catalog *catalog, struct sbom_package *pkg,
	struct wd_error *err)
{
	if (catalog->count >= catalog->max)
		return wd_error_set(err, WD_ETOOBIG, "more than %zu packages", catalog->max);

	if (catalog->count == catalog->cap) {
		size_t cap = catalog->cap ? catalog->cap * 2 : 64;
		size_t bytes;
		struct sbom_package *grown;

		if (cap > catalog->max)
			cap = catalog->max;
		if (__builtin_mul_overflow(cap, sizeof(*grown), &bytes))
			return wd_error_set(err, WD_ETOOBIG, "more than %zu packages", catalog->max);
		grown = realloc(catalog->packages, bytes);
		if (!grown)
			return wd_error_set(err, WD_ENOMEM, "out of memory for %zu packages", cap);
		catalog->packages = grown;
		catalog->cap = cap;
	}

	catalog->packages[catalog->count++] = *pkg;
	*pkg = (struct sbom_package){ 0 };
	return 0;
}

int sbom_catalog_set_location(struct sbom_catalog *catalog, size_t from, const char *location,
	struct wd_error *err)
{
	for (size_t i = from; i < catalog->count; i++) {
		if (catalog->packages[i].location)
			continue;
		catalog->packages[i].location = strdup(location);
		if (!catalog->packages[i].location)
			return wd_error_set(err, WD_ENOMEM, "out of memory for location %.64s",
				location);
	}
	return 0;
}

static int compare_text(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static int compare_packages(const void *left, const void *right)
{
	const struct sbom_package *a = left, *b = right;
	int c = compare_text(a->name, b->name);

	if (c == 0)
		c = compare_text(a->version, b->version);
	if (c == 0)
		c = (int)a->type - (int)b->type;
	if (c == 0)
		c = compare_text(a->arch, b->arch);
	if (c == 0)
		c = compare_text(a->location, b->location);
	return c;
}

void sbom_catalog_sort(struct sbom_catalog *catalog)
{
	if (catalog->count > 1)
		qsort(catalog->packages, catalog->count, sizeof(*catalog->packages),
			compare_packages);
}

/* Feeds text and a NUL separator, so ("ab","c") and ("a","bc") differ. */
static int digest_field(EVP_MD_CTX *ctx, const char *text)
{
	const char *value = text ? text : "";

	if (!EVP_DigestUpdate(ctx, value, strlen(value)) || !EVP_DigestUpdate(ctx, "", 1))
		return -1;
	return 0;
}

int sbom_content_hash(const struct sbom_catalog *catalog, const struct sbom_subject *subject,
	char ret_hex[static 65], struct wd_error *err)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;
	EVP_MD_CTX *ctx;
	int rc = WD_EINTERNAL;

	ret_hex[0] = '\0';
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return wd_error_set(err, WD_ENOMEM, "out of memory for a SHA-256 context");
	if (!EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) || digest_field(ctx, subject->name) < 0)
		goto out;
	/* Only an image adds its digest, so directory documents keep their
	 * identifiers. */
	if (subject->image_digest && digest_field(ctx, subject->image_digest) < 0)
		goto out;
	for (size_t i = 0; i < catalog->count; i++) {
		const struct sbom_package *pkg = &catalog->packages[i];

		if (digest_field(ctx, sbom_package_type_name(pkg->type)) < 0 ||
		    digest_field(ctx, pkg->name) < 0 || digest_field(ctx, pkg->version) < 0 ||
		    digest_field(ctx, pkg->arch) < 0 || digest_field(ctx, pkg->purl) < 0 ||
		    digest_field(ctx, pkg->location) < 0 || digest_field(ctx, pkg->sha256) < 0)
			goto out;
	}
	if (!EVP_DigestFinal_ex(ctx, digest, &digest_len) || digest_len != 32)
		goto out;

	for (unsigned int i = 0; i < digest_len; i++) {
		ret_hex[2 * i] = hex[digest[i] >> 4];
		ret_hex[2 * i + 1] = hex[digest[i] & 0xf];
	}
	ret_hex[64] = '\0';
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	if (rc < 0)
		wd_error_set(err, rc, "SHA-256 of the package list failed");
	return rc;
}
