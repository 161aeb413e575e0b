/* CPE 2.3 names of packages in the formatted string binding (NISTIR 7695,
 * section 6.2): the candidate cpe:2.3:a:<name>:<name>:<version> that
 * vulnerability databases keyed by CPE match when no vendor is known. */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "supply/sbom.h"

#define CPE_MAX_BYTES (4 * SBOM_MAX_FIELD_BYTES)

/* Appends value lowercased, with every character other than a letter, a
 * digit, '.', '_' or '-' quoted by a backslash, as the binding requires. An
 * empty value becomes '*' (ANY). */
static int append_component(struct wd_buf *out, const char *value)
{
	if (!value || !value[0])
		return wd_buf_append_str(out, ":*");
	WD_TRY(wd_buf_append_str(out, ":"));
	for (const char *p = value; *p; p++) {
		char c = *p;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-') {
			WD_TRY(wd_buf_append(out, &c, 1));
		} else if (c > 0x20 && c < 0x7f) {
			WD_TRY(wd_buf_append(out, "\\", 1));
			WD_TRY(wd_buf_append(out, &c, 1));
		} else {
			/* Control and non-ASCII bytes have no quoted form. */
			WD_TRY(wd_buf_append(out, "_", 1));
		}
	}
	return 0;
}

/* The product name: the package name, without the scope of a scoped npm
 * package ("@babel/core" is core). */
static const char *product_name(const struct sbom_package *pkg)
{
	const char *slash = strchr(pkg->name, '/');

	if (pkg->type == SBOM_TYPE_NPM && pkg->name[0] == '@' && slash && slash[1])
		return slash + 1;
	return pkg->name;
}

static int package_cpe(struct sbom_package *pkg, struct wd_error *err)
{
	const char *product = product_name(pkg);
	struct wd_buf out;
	int rc = 0;

	wd_buf_init(&out, 128, CPE_MAX_BYTES);
	WD_GUARD(wd_buf_append_str(&out, "cpe:2.3:a"));
	WD_GUARD(append_component(&out, product));
	WD_GUARD(append_component(&out, product));
	WD_GUARD(append_component(&out, pkg->version));
	WD_GUARD(wd_buf_append_str(&out, ":*:*:*:*:*:*:*"));
	pkg->cpe = wd_buf_take(&out, NULL);
	WD_ENSURE(pkg->cpe, WD_ENOMEM);
out:
	wd_buf_free(&out);
	if (rc < 0)
		wd_error_set(err, rc, "CPE of package %.64s not built", pkg->name);
	return rc;
}

int sbom_catalog_set_cpes(struct sbom_catalog *catalog, struct wd_error *err)
{
	for (size_t i = 0; i < catalog->count; i++) {
		const struct sbom_package *pkg = &catalog->packages[i];

		/* A file name or a Go module path is no CPE product name: the
		 * guess would only match the wrong vulnerabilities. */
		if (pkg->cpe || pkg->type == SBOM_TYPE_BINARY || pkg->type == SBOM_TYPE_GO_MODULE)
			continue;
		WD_TRY(package_cpe(&catalog->packages[i], err));
	}
	return 0;
}
