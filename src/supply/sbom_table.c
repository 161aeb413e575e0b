/* The NAME VERSION TYPE table that syft prints for people, one package per
 * row in catalog order, columns separated by at least two spaces. */
#include <string.h>

#include "common/buf.h"
#include "supply/sbom.h"

#define TABLE_MAX_BYTES (64u * 1024 * 1024)

static int append_row(struct wd_buf *out, const char *name, const char *version,
	const char *type, int name_width, int version_width)
{
	return wd_buf_appendf(out, "%-*s  %-*s  %s\n", name_width, name, version_width, version,
		type);
}

/* Binaries have no version; their cell stays empty. */
static const char *version_text(const struct sbom_package *pkg)
{
	return pkg->version ? pkg->version : "";
}

int sbom_table_write(const struct sbom_catalog *catalog, char **ret_text, struct wd_error *err)
{
	size_t name_width = strlen("NAME"), version_width = strlen("VERSION");
	struct wd_buf out;
	int rc = 0;

	*ret_text = NULL;
	wd_buf_init(&out, 4096, TABLE_MAX_BYTES);
	for (size_t i = 0; i < catalog->count; i++) {
		size_t name_len = strlen(catalog->packages[i].name);
		size_t version_len = strlen(version_text(&catalog->packages[i]));

		name_width = name_len > name_width ? name_len : name_width;
		version_width = version_len > version_width ? version_len : version_width;
	}

	if (catalog->count == 0) {
		WD_GUARD(wd_buf_append_str(&out, "No packages discovered\n"));
	} else {
		/* Field values are capped at SBOM_MAX_FIELD_BYTES, so the widths
		 * fit in an int. */
		WD_GUARD(append_row(&out, "NAME", "VERSION", "TYPE", (int)name_width,
			(int)version_width));
		for (size_t i = 0; i < catalog->count; i++)
			WD_GUARD(append_row(&out, catalog->packages[i].name,
				version_text(&catalog->packages[i]),
				sbom_package_type_name(catalog->packages[i].type), (int)name_width,
				(int)version_width));
	}

	*ret_text = wd_buf_take(&out, NULL);
	WD_ENSURE(*ret_text, WD_ENOMEM);
out:
	wd_buf_free(&out);
	if (rc < 0)
		wd_error_set(err, rc, "package table not written");
	return rc;
}
