/* The decompression filters image archives and layers may use. libarchive
 * falls back to an external program (gzip, zstd, ...) for a filter it was
 * built without. warden never registers such a filter, so nothing from an
 * image is handed to another program. */
#include <archive.h>

#include "supply/image_internal.h"

typedef int (*support_fn)(struct archive *);

static const struct {
	const char *name;
	support_fn support;
} filters[] = {
	{ "gzip", archive_read_support_filter_gzip },
	{ "bzip2", archive_read_support_filter_bzip2 },
	{ "xz", archive_read_support_filter_xz },
	{ "zstd", archive_read_support_filter_zstd },
};

/* True when libarchive runs the filter in process: registering it on a
 * throwaway reader returns ARCHIVE_OK, not ARCHIVE_WARN ("using external
 * program"). */
static bool in_process(support_fn support)
{
	struct archive *probe = archive_read_new();
	int rc;

	if (!probe)
		return false;
	rc = support(probe);
	archive_read_free(probe);
	return rc == ARCHIVE_OK;
}

int image_filters_register(struct archive *archive, struct wd_error *err)
{
	for (size_t i = 0; i < WD_ARRAY_LEN(filters); i++) {
		if (!in_process(filters[i].support))
			continue;
		if (filters[i].support(archive) != ARCHIVE_OK)
			return wd_error_set(err, WD_EINTERNAL, "registering the %s filter failed: %s",
				filters[i].name, archive_error_string(archive));
	}
	return 0;
}

bool image_filters_have_zstd(void)
{
	return in_process(archive_read_support_filter_zstd);
}
