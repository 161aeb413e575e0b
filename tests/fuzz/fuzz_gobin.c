/* libFuzzer harness: reads arbitrary bytes as an ELF file with Go build
 * information, as a bare build information blob whose pointers address the
 * input itself, and as module text, then lists the packages of what
 * parsed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "supply/gobin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const uint8_t *data;
	size_t size;
};

static int read_at(void *ctx, uint64_t offset, void *buf, size_t len)
{
	const struct input *input = ctx;

	if (offset > input->size || len > input->size - offset)
		return WD_ETRUNCATED;
	memcpy(buf, input->data + offset, len);
	return 0;
}

/* Invariants: every package has a name, a location and a golang purl. */
static void list_packages(const struct gobin_info *info)
{
	struct sbom_catalog catalog;
	struct wd_error err = { 0 };

	sbom_catalog_init(&catalog, 1000);
	if (gobin_catalog_info(info, "/bin/fuzz", &catalog, &err) < 0 && err.detail[0] == '\0')
		__builtin_trap();
	for (size_t i = 0; i < catalog.count; i++) {
		const struct sbom_package *pkg = &catalog.packages[i];

		if (!pkg->name || !pkg->location || !pkg->purl ||
		    strncmp(pkg->purl, "pkg:golang/", 11) != 0)
			__builtin_trap();
	}
	sbom_catalog_free(&catalog);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input input = { data, size };
	struct gobin_reader reader = { read_at, &input, size };
	struct gobin_memory memory = { read_at, &input };
	struct gobin_info info;
	struct wd_error err = { 0 };
	char *version = NULL, *modinfo = NULL;

	if (gobin_read_elf(&reader, &info, &err) == 0) {
		if (!info.go_version || !info.go_version[0])
			__builtin_trap();
		list_packages(&info);
		gobin_info_free(&info);
	} else if (err.detail[0] == '\0') {
		__builtin_trap();
	}

	if (gobin_blob_decode(data, size, &memory, &version, &modinfo, NULL) == 0) {
		struct gobin_info parsed = { .go_version = version };

		version = NULL;
		if (gobin_modinfo_parse(modinfo, strlen(modinfo), &parsed, NULL) == 0)
			list_packages(&parsed);
		gobin_info_free(&parsed);
	}
	free(version);
	free(modinfo);

	struct gobin_info text = { .go_version = (char *)"go1.22.1" };
	if (gobin_modinfo_parse((const char *)data, size, &text, NULL) == 0)
		list_packages(&text);
	text.go_version = NULL;
	gobin_info_free(&text);
	return 0;
}
