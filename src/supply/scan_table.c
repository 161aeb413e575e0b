/* The table `warden scan` prints for people: NAME INSTALLED FIXED-IN TYPE
 * VULNERABILITY SEVERITY, one match per row, columns separated by at
 * least two spaces. Ignored matches are left out. */
#include <string.h>

#include "common/buf.h"
#include "supply/scan.h"

#define TABLE_MAX_BYTES (256u * 1024 * 1024)
#define COLUMNS 6

static void row_cells(const struct scan_match *match, const char *cells[COLUMNS])
{
	cells[0] = match->package->name;
	cells[1] = match->package->version;
	cells[2] = match->fixed ? match->fixed : "";
	cells[3] = sbom_package_type_name(match->package->type);
	cells[4] = match->record->id;
	cells[5] = osv_rating_name(match->severity.rating);
}

/* Appends text padded to width. Control characters, which a record or a
 * package database could use to rewrite the terminal, become '?'. */
static int append_cell(struct wd_buf *out, const char *text, size_t width)
{
	size_t len = 0;

	for (const unsigned char *p = (const unsigned char *)text; *p; p++, len++)
		WD_TRY(wd_buf_append_byte(out, *p < 0x20 || *p == 0x7f ? '?' : *p));
	for (; len < width; len++)
		WD_TRY(wd_buf_append_byte(out, ' '));
	return 0;
}

static int append_row(struct wd_buf *out, const char *const cells[COLUMNS],
	const size_t widths[COLUMNS])
{
	for (int i = 0; i < COLUMNS - 1; i++) {
		WD_TRY(append_cell(out, cells[i], widths[i]));
		WD_TRY(wd_buf_append_str(out, "  "));
	}
	WD_TRY(append_cell(out, cells[COLUMNS - 1], 0));
	return wd_buf_append_byte(out, '\n');
}

int scan_table_write(const struct scan_result *result, char **ret_text, struct wd_error *err)
{
	static const char *const header[COLUMNS] = {
		"NAME", "INSTALLED", "FIXED-IN", "TYPE", "VULNERABILITY", "SEVERITY",
	};
	size_t widths[COLUMNS];
	size_t shown = 0;
	struct wd_buf out;
	int rc = 0;

	*ret_text = NULL;
	for (int i = 0; i < COLUMNS; i++)
		widths[i] = strlen(header[i]);
	for (size_t m = 0; m < result->count; m++) {
		const char *cells[COLUMNS];

		if (result->matches[m].ignored_by)
			continue;
		shown++;
		row_cells(&result->matches[m], cells);
		for (int i = 0; i < COLUMNS; i++) {
			size_t len = strlen(cells[i]);

			widths[i] = len > widths[i] ? len : widths[i];
		}
	}

	wd_buf_init(&out, 4096, TABLE_MAX_BYTES);
	if (shown == 0) {
		WD_GUARD(wd_buf_append_str(&out, "No vulnerabilities found\n"));
	} else {
		WD_GUARD(append_row(&out, header, widths));
		for (size_t m = 0; m < result->count; m++) {
			const char *cells[COLUMNS];

			if (result->matches[m].ignored_by)
				continue;
			row_cells(&result->matches[m], cells);
			WD_GUARD(append_row(&out, cells, widths));
		}
	}
	*ret_text = wd_buf_take(&out, NULL);
	WD_ENSURE(*ret_text, WD_ENOMEM);
out:
	wd_buf_free(&out);
	if (rc < 0)
		wd_error_set(err, rc, "vulnerability table not written");
	return rc;
}
