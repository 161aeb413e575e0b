/* rpm header blobs, the form in which the rpmdb stores each installed
 * package (rpm's lib/header.c). A blob is a preamble of two big-endian
 * 32-bit counts, il index entries and dl data bytes, then il entries of
 * {tag, type, offset, count} and the data store. The checks follow rpm's
 * hdrblobInit, hdrblobVerifyRegion and hdrblobVerifyInfo, so a blob rpm
 * rejects is rejected here too. Every offset and length is checked against
 * the blob before a byte is read. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supply/catalog_os.h"

#define PREAMBLE_BYTES 8u
#define ENTRY_BYTES 16u

/* Data types (rpmtag.h, rpmTagType). */
enum rpm_type {
	RPM_NULL_TYPE = 0,
	RPM_CHAR_TYPE = 1,
	RPM_INT8_TYPE = 2,
	RPM_INT16_TYPE = 3,
	RPM_INT32_TYPE = 4,
	RPM_INT64_TYPE = 5,
	RPM_STRING_TYPE = 6,
	RPM_BIN_TYPE = 7,
	RPM_STRING_ARRAY_TYPE = 8,
	RPM_I18NSTRING_TYPE = 9,
};

/* The tags the catalog reads (rpmtag.h). Tags below HEADERI18NTABLE only
 * appear as the region tag in entry 0. */
enum rpm_tag {
	RPMTAG_HEADERIMAGE = 61,
	RPMTAG_HEADERSIGNATURES = 62,
	RPMTAG_HEADERIMMUTABLE = 63,
	RPMTAG_HEADERI18NTABLE = 100,
	RPMTAG_NAME = 1000,
	RPMTAG_VERSION = 1001,
	RPMTAG_RELEASE = 1002,
	RPMTAG_EPOCH = 1003,
	RPMTAG_SIZE = 1009,
	RPMTAG_VENDOR = 1011,
	RPMTAG_LICENSE = 1014,
	RPMTAG_ARCH = 1022,
	RPMTAG_SOURCERPM = 1044,
	RPMTAG_LONGSIZE = 5009,
};

struct index_entry {
	int32_t tag;
	uint32_t type;
	int32_t offset;  /* into the data store */
	uint32_t count;
};

struct header {
	const uint8_t *index;  /* il entries of ENTRY_BYTES */
	const uint8_t *data;   /* the data store of dl bytes */
	uint32_t il;
	uint32_t dl;
	bool has_region;
	uint32_t region_end;   /* end of the region trailer in the data store */
};

enum field {
	FIELD_NAME,
	FIELD_VERSION,
	FIELD_RELEASE,
	FIELD_EPOCH,
	FIELD_ARCH,
	FIELD_LICENSE,
	FIELD_VENDOR,
	FIELD_SOURCERPM,
	FIELD_SIZE,
	FIELD_LONGSIZE,
	FIELD_COUNT,
};

/* A kept tag, its name for messages, and the type rpm's tag table gives it:
 * STRING stands for any string type, as rpm's hdrchkTagType lets string
 * tags disagree on the exact one. */
static const struct {
	int32_t tag;
	const char *name;
	uint32_t type;
} kept_tags[FIELD_COUNT] = {
	[FIELD_NAME] = { RPMTAG_NAME, "NAME", RPM_STRING_TYPE },
	[FIELD_VERSION] = { RPMTAG_VERSION, "VERSION", RPM_STRING_TYPE },
	[FIELD_RELEASE] = { RPMTAG_RELEASE, "RELEASE", RPM_STRING_TYPE },
	[FIELD_EPOCH] = { RPMTAG_EPOCH, "EPOCH", RPM_INT32_TYPE },
	[FIELD_ARCH] = { RPMTAG_ARCH, "ARCH", RPM_STRING_TYPE },
	[FIELD_LICENSE] = { RPMTAG_LICENSE, "LICENSE", RPM_STRING_TYPE },
	[FIELD_VENDOR] = { RPMTAG_VENDOR, "VENDOR", RPM_STRING_TYPE },
	[FIELD_SOURCERPM] = { RPMTAG_SOURCERPM, "SOURCERPM", RPM_STRING_TYPE },
	[FIELD_SIZE] = { RPMTAG_SIZE, "SIZE", RPM_INT32_TYPE },
	[FIELD_LONGSIZE] = { RPMTAG_LONGSIZE, "LONGSIZE", RPM_INT64_TYPE },
};

/* The value of a kept tag: its first string, or its first number. */
struct field_value {
	bool present;
	uint32_t entry;    /* index entry, for messages */
	const char *text;  /* NUL-terminated inside the data store */
	uint64_t number;
};

static const char *const type_names[] = {
	"NULL", "CHAR", "INT8", "INT16", "INT32", "INT64", "STRING", "BIN", "STRING_ARRAY",
	"I18NSTRING",
};

static uint32_t read_u32be(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t read_u64be(const uint8_t *p)
{
	return (uint64_t)read_u32be(p) << 32 | read_u32be(p + 4);
}

static struct index_entry read_entry(const uint8_t *p)
{
	return (struct index_entry){
		.tag = (int32_t)read_u32be(p),
		.type = read_u32be(p + 4),
		.offset = (int32_t)read_u32be(p + 8),
		.count = read_u32be(p + 12),
	};
}

/* Sets err to "header byte N (entry i, tag T): <message>", N being where
 * the entry starts in the blob. */
WD_PRINTF(4, 5)
static int entry_error(struct wd_error *err, uint32_t i, const struct index_entry *entry,
	const char *fmt, ...)
{
	char message[256];
	va_list args;

	va_start(args, fmt);
	vsnprintf(message, sizeof(message), fmt, args);
	va_end(args);
	return wd_error_set(err, WD_EINVAL, "header byte %zu (entry %" PRIu32 ", tag %" PRId32
		"): %s", PREAMBLE_BYTES + (size_t)i * ENTRY_BYTES, i, entry->tag, message);
}

static bool is_string_type(uint32_t type)
{
	return type == RPM_STRING_TYPE || type == RPM_STRING_ARRAY_TYPE ||
	       type == RPM_I18NSTRING_TYPE;
}

/* The size of one element of a fixed-size type, its alignment too; 0 for
 * the string types. */
static size_t element_size(uint32_t type)
{
	switch (type) {
	case RPM_CHAR_TYPE:
	case RPM_INT8_TYPE:
	case RPM_BIN_TYPE:
		return 1;
	case RPM_INT16_TYPE:
		return 2;
	case RPM_INT32_TYPE:
		return 4;
	case RPM_INT64_TYPE:
		return 8;
	default:
		return 0;
	}
}

/* Stores in ret_len the bytes the entry's data takes from its offset:
 * count elements, or count NUL-terminated strings, all inside the store. */
static int entry_data_length(const struct header *header, uint32_t i,
	const struct index_entry *entry, size_t *ret_len, struct wd_error *err)
{
	size_t start = (size_t)entry->offset, size = element_size(entry->type), len;

	if (entry->count == 0)
		return entry_error(err, i, entry, "count is 0");
	if (size > 0) {
		if (__builtin_mul_overflow(size, (size_t)entry->count, &len) ||
		    len > header->dl - start)
			return entry_error(err, i, entry, "%" PRIu32 " %s values at data offset %zu "
				"run past the %" PRIu32 "-byte data store", entry->count,
				type_names[entry->type], start, header->dl);
		*ret_len = len;
		return 0;
	}

	if (entry->type == RPM_STRING_TYPE && entry->count != 1)
		return entry_error(err, i, entry, "STRING with count %" PRIu32 ", expected 1",
			entry->count);
	len = 0;
	for (uint32_t n = 0; n < entry->count; n++) {
		size_t at = start + len;
		const uint8_t *nul = at < header->dl ?
			memchr(header->data + at, '\0', header->dl - at) : NULL;

		if (!nul)
			return entry_error(err, i, entry, "string %" PRIu32 " at data offset %zu has "
				"no NUL before the end of the %" PRIu32 "-byte data store", n, at,
				header->dl);
		len = (size_t)(nul - header->data) + 1 - start;
	}
	*ret_len = len;
	return 0;
}

/* Checks the region tag of entry 0 and its trailer, as rpm's
 * hdrblobVerifyRegion does: a BIN entry of 16 bytes whose offset names a
 * trailer entry of the same tag, with minus the region's index size as its
 * offset. A header without a region tag is a legacy header. */
static int check_region(struct header *header, struct wd_error *err)
{
	struct index_entry region = read_entry(header->index), trailer;
	int64_t region_bytes;

	if (region.tag != RPMTAG_HEADERIMMUTABLE && region.tag != RPMTAG_HEADERIMAGE &&
	    region.tag != RPMTAG_HEADERSIGNATURES)
		return 0;
	if (region.type != RPM_BIN_TYPE || region.count != ENTRY_BYTES)
		return entry_error(err, 0, &region, "region tag has type %" PRIu32 " and count %"
			PRIu32 ", expected BIN and 16", region.type, region.count);
	if (region.offset < 0 || (uint64_t)region.offset + ENTRY_BYTES > header->dl)
		return entry_error(err, 0, &region, "region trailer at data offset %" PRId32
			" is outside the %" PRIu32 "-byte data store", region.offset, header->dl);

	trailer = read_entry(header->data + region.offset);
	if (trailer.tag != region.tag || trailer.type != RPM_BIN_TYPE ||
	    trailer.count != ENTRY_BYTES)
		return entry_error(err, 0, &region, "invalid region trailer at data offset %" PRId32,
			region.offset);
	/* The trailer's offset is negative: minus the bytes of the region's
	 * index entries, which must be whole entries within the index. */
	region_bytes = -(int64_t)trailer.offset;
	if (region_bytes < 0 || region_bytes % ENTRY_BYTES != 0 ||
	    region_bytes / ENTRY_BYTES > header->il)
		return entry_error(err, 0, &region, "region trailer gives %" PRId64 " index bytes "
			"for a header of %" PRIu32 " entries", region_bytes, header->il);

	header->has_region = true;
	header->region_end = (uint32_t)region.offset + ENTRY_BYTES;
	return 0;
}

/* Checks one index entry as rpm's hdrblobVerifyInfo does, and stores in
 * ret_end where its data ends. prev_end is where the previous entry's data
 * ended, and data must not overlap it. Data must not overlap the region
 * trailer either, a check rpm's hdrblobVerifyInfo does not make. */
static int check_entry(const struct header *header, uint32_t i, const struct index_entry *entry,
	size_t prev_end, size_t *ret_end, struct wd_error *err)
{
	size_t size, len = 0, start, end;

	if (entry->tag < RPMTAG_HEADERI18NTABLE)
		return entry_error(err, i, entry, "invalid tag");
	if (entry->type == RPM_NULL_TYPE || entry->type > RPM_I18NSTRING_TYPE)
		return entry_error(err, i, entry, "invalid type %" PRIu32, entry->type);
	if (entry->offset < 0 || (uint32_t)entry->offset > header->dl)
		return entry_error(err, i, entry, "data offset %" PRId32 " is outside the %" PRIu32
			"-byte data store", entry->offset, header->dl);
	start = (size_t)entry->offset;
	size = element_size(entry->type);
	if (size > 1 && start % size != 0)
		return entry_error(err, i, entry, "%s data offset %zu is not a multiple of %zu",
			type_names[entry->type], start, size);
	if (start < prev_end)
		return entry_error(err, i, entry, "data offset %zu overlaps the previous entry's "
			"data, which ends at %zu", start, prev_end);

	WD_TRY(entry_data_length(header, i, entry, &len, err));
	end = start + len;
	if (header->has_region && end > header->region_end - ENTRY_BYTES &&
	    start < header->region_end)
		return entry_error(err, i, entry, "data at offset %zu overlaps the region trailer",
			start);
	*ret_end = end;
	return 0;
}

/* Keeps the entry's value when its tag is one the catalog reads. A later
 * entry of the same tag replaces an earlier one, as rpm lets the entries
 * after the region replace those inside it. */
static int keep_value(const struct header *header, uint32_t i, const struct index_entry *entry,
	struct field_value values[static FIELD_COUNT], struct wd_error *err)
{
	for (size_t f = 0; f < FIELD_COUNT; f++) {
		const uint8_t *at = header->data + entry->offset;
		struct field_value *value = &values[f];

		if (kept_tags[f].tag != entry->tag)
			continue;
		if (kept_tags[f].type == RPM_STRING_TYPE ? !is_string_type(entry->type) :
							   kept_tags[f].type != entry->type)
			return entry_error(err, i, entry, "%s has type %s, expected %s",
				kept_tags[f].name, type_names[entry->type],
				type_names[kept_tags[f].type]);

		*value = (struct field_value){ .present = true, .entry = i };
		if (entry->type == RPM_INT32_TYPE)
			value->number = read_u32be(at);
		else if (entry->type == RPM_INT64_TYPE)
			value->number = read_u64be(at);
		else
			value->text = (const char *)at;
		if (value->text && strlen(value->text) > SBOM_MAX_FIELD_BYTES)
			return wd_error_set(err, WD_ETOOBIG, "header byte %zu (entry %" PRIu32
				"): %s is longer than %u bytes", PREAMBLE_BYTES + (size_t)i * ENTRY_BYTES,
				i, kept_tags[f].name, SBOM_MAX_FIELD_BYTES);
		return 0;
	}
	return 0;
}

/* Returns a copy of an optional string tag, or NULL (with rc 0) when it is
 * absent, empty or "(none)", the text rpm prints for a missing value. */
static int copy_optional(const struct field_value *value, char **ret_text, struct wd_error *err)
{
	*ret_text = NULL;
	if (!value->present || !value->text[0] || strcmp(value->text, "(none)") == 0)
		return 0;
	*ret_text = strdup(value->text);
	if (!*ret_text)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	return 0;
}

/* Checks that a required string tag is present and not empty, and, for
 * VERSION and RELEASE, free of ':', which rpmbuild never lets into them
 * (ALLOWED_CHARS_VERREL). The purl takes the epoch from before the first
 * ':' of the version. */
static int check_required(const struct header *header,
	const struct field_value values[static FIELD_COUNT], enum field field,
	struct wd_error *err)
{
	const struct field_value *value = &values[field];
	struct index_entry entry;

	if (!value->present || !value->text[0])
		return wd_error_set(err, WD_EINVAL, "header has no %s (tag %" PRId32 ")",
			kept_tags[field].name, kept_tags[field].tag);
	if (field != FIELD_NAME && strchr(value->text, ':')) {
		entry = read_entry(header->index + (size_t)value->entry * ENTRY_BYTES);
		return entry_error(err, value->entry, &entry, "%s \"%.64s\" contains ':'",
			kept_tags[field].name, value->text);
	}
	return 0;
}

static int build_package(const struct header *header,
	const struct field_value values[static FIELD_COUNT], struct sbom_package *pkg,
	struct wd_error *err)
{
	const struct field_value *size = values[FIELD_LONGSIZE].present ?
		&values[FIELD_LONGSIZE] : &values[FIELD_SIZE];
	int len;

	WD_TRY(check_required(header, values, FIELD_NAME, err));
	WD_TRY(check_required(header, values, FIELD_VERSION, err));
	WD_TRY(check_required(header, values, FIELD_RELEASE, err));

	pkg->type = SBOM_TYPE_RPM;
	pkg->name = strdup(values[FIELD_NAME].text);
	/* The version as Syft writes it: the epoch only when the tag exists,
	 * even when it is 0. */
	if (values[FIELD_EPOCH].present)
		len = asprintf(&pkg->version, "%" PRIu64 ":%s-%s", values[FIELD_EPOCH].number,
			values[FIELD_VERSION].text, values[FIELD_RELEASE].text);
	else
		len = asprintf(&pkg->version, "%s-%s", values[FIELD_VERSION].text,
			values[FIELD_RELEASE].text);
	if (len < 0)
		pkg->version = NULL;
	if (size->present && asprintf(&pkg->installed_size, "%" PRIu64, size->number) < 0)
		pkg->installed_size = NULL;
	if (!pkg->name || !pkg->version || (size->present && !pkg->installed_size))
		return wd_error_set(err, WD_ENOMEM, "out of memory");

	WD_TRY(copy_optional(&values[FIELD_ARCH], &pkg->arch, err));
	WD_TRY(copy_optional(&values[FIELD_LICENSE], &pkg->license, err));
	WD_TRY(copy_optional(&values[FIELD_VENDOR], &pkg->maintainer, err));
	WD_TRY(copy_optional(&values[FIELD_SOURCERPM], &pkg->source, err));
	return 0;
}

int rpm_header_parse(const uint8_t *blob, size_t len, struct sbom_package *ret_pkg,
	struct wd_error *err)
{
	struct field_value values[FIELD_COUNT] = { 0 };
	struct sbom_package pkg = { 0 };
	struct header header = { 0 };
	size_t expected, prev_end = 0;
	int rc = 0;

	*ret_pkg = (struct sbom_package){ 0 };
	if (len < PREAMBLE_BYTES)
		return wd_error_set(err, WD_EINVAL, "header is %zu bytes, shorter than its "
			"%u-byte preamble", len, PREAMBLE_BYTES);
	header.il = read_u32be(blob);
	header.dl = read_u32be(blob + 4);
	if (header.il == 0)
		return wd_error_set(err, WD_EINVAL, "header byte 0: no index entries");
	if (header.il > RPM_HEADER_MAX_ENTRIES)
		return wd_error_set(err, WD_ETOOBIG, "header byte 0: %" PRIu32 " index entries, "
			"more than %u", header.il, RPM_HEADER_MAX_ENTRIES);
	if (header.dl > RPM_HEADER_MAX_DATA_BYTES)
		return wd_error_set(err, WD_ETOOBIG, "header byte 4: data store of %" PRIu32
			" bytes, more than %u", header.dl, RPM_HEADER_MAX_DATA_BYTES);
	expected = PREAMBLE_BYTES + (size_t)header.il * ENTRY_BYTES + header.dl;
	if (expected >= RPM_HEADER_MAX_BYTES)
		return wd_error_set(err, WD_ETOOBIG, "header byte 0: preamble gives a %zu-byte "
			"header, more than %u", expected, RPM_HEADER_MAX_BYTES - 1);
	if (len != expected)
		return wd_error_set(err, WD_EINVAL, "header is %zu bytes, but its preamble gives "
			"%zu (%" PRIu32 " index entries and %" PRIu32 " data bytes)", len, expected,
			header.il, header.dl);
	header.index = blob + PREAMBLE_BYTES;
	header.data = header.index + (size_t)header.il * ENTRY_BYTES;

	WD_GUARD(check_region(&header, err));
	for (uint32_t i = header.has_region ? 1 : 0; i < header.il; i++) {
		struct index_entry entry = read_entry(header.index + (size_t)i * ENTRY_BYTES);

		WD_GUARD(check_entry(&header, i, &entry, prev_end, &prev_end, err));
		WD_GUARD(keep_value(&header, i, &entry, values, err));
	}

	WD_GUARD(build_package(&header, values, &pkg, err));
	*ret_pkg = pkg;
	pkg = (struct sbom_package){ 0 };
out:
	sbom_package_free(&pkg);
	return rc;
}
