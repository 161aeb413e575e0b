/* Warnings about files that catalogers skipped: kept in the catalog for the
 * command to print, because library code does not print. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "supply/sbom_files.h"

int sbom_catalog_warn(struct sbom_catalog *catalog, const char *fmt, ...)
{
	char **grown;
	char *text;
	va_list args;
	int len;

	if (catalog->warning_count >= SBOM_MAX_WARNINGS) {
		catalog->warnings_dropped++;
		return 0;
	}
	va_start(args, fmt);
	len = vasprintf(&text, fmt, args);
	va_end(args);
	if (len < 0)
		return WD_ENOMEM;

	grown = reallocarray(catalog->warnings, catalog->warning_count + 1, sizeof(*grown));
	if (!grown) {
		free(text);
		return WD_ENOMEM;
	}
	catalog->warnings = grown;
	catalog->warnings[catalog->warning_count++] = text;
	return 0;
}

void sbom_catalog_free_extras(struct sbom_catalog *catalog)
{
	for (size_t i = 0; i < catalog->warning_count; i++)
		free(catalog->warnings[i]);
	free(catalog->warnings);
	catalog->warnings = NULL;
	catalog->warning_count = 0;
	catalog->warnings_dropped = 0;
	sbom_files_free(catalog->files);
	catalog->files = NULL;
}
