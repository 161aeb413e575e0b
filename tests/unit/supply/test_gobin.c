/* Unit tests of the Go build information reader: the blob in both formats,
 * the module text, ELF files synthesized here (so no Go toolchain is
 * needed), hostile headers, and the packages a Go binary adds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gobin_fixture.h"
#include "supply/gobin.h"

struct memory_reader {
	const uint8_t *data;
	size_t len;
};

static int memory_read_at(void *ctx, uint64_t offset, void *buf, size_t len)
{
	const struct memory_reader *reader = ctx;

	if (offset > reader->len || len > reader->len - offset)
		return WD_ETRUNCATED;
	memcpy(buf, reader->data + offset, len);
	return 0;
}

static void check_info(const struct gobin_info *info, const char *version)
{
	assert_string_equal(info->go_version, version);
	assert_string_equal(info->path, "example.com/hello/cmd/hello");
	assert_string_equal(info->main.path, "example.com/hello");
	assert_string_equal(info->main.version, "(devel)");
	assert_null(info->main.sum);
	assert_int_equal(info->dep_count, 3);
	assert_string_equal(info->deps[0].module.path, "github.com/google/uuid");
	assert_string_equal(info->deps[0].module.version, "v1.6.0");
	assert_string_equal(info->deps[0].module.sum,
		"h1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=");
	assert_null(info->deps[0].replace.path);
	assert_string_equal(info->deps[1].module.version, "v0.3.7");
	assert_string_equal(info->deps[1].replace.path, "golang.org/x/text");
	assert_string_equal(info->deps[1].replace.version, "v0.3.8");
	assert_string_equal(info->deps[2].replace.path, "../fork");
	assert_string_equal(info->deps[2].replace.version, "");
	assert_null(info->deps[2].replace.sum);
	assert_string_equal(info->goarch, "arm64");
	assert_string_equal(info->vcs_revision, "0123456789abcdef0123456789abcdef01234567");
	assert_string_equal(info->vcs_time, "2024-03-05T06:07:08Z");
}

static void blob_inline_decodes(void **state)
{
	uint8_t blob[4096];
	size_t len = inline_blob(blob, "go1.22.1");
	char *version = NULL, *modinfo = NULL;
	struct wd_error err = { 0 };

	(void)state;
	assert_int_equal(gobin_blob_decode(blob, len, NULL, &version, &modinfo, &err), 0);
	assert_string_equal(version, "go1.22.1");
	assert_string_equal(modinfo, modinfo_text);
	free(version);
	free(modinfo);
}

static void blob_without_sentinels_is_empty(void **state)
{
	uint8_t blob[128] = { 0 };
	char *version = NULL, *modinfo = NULL;
	struct wd_error err = { 0 };

	(void)state;
	memcpy(blob, GOBIN_MAGIC, GOBIN_MAGIC_LEN);
	blob[14] = 8;
	blob[15] = 2;
	blob[32] = 6;
	memcpy(blob + 33, "go1.20", 6);
	blob[39] = 4;
	memcpy(blob + 40, "mod\t", 4);
	assert_int_equal(gobin_blob_decode(blob, 44, NULL, &version, &modinfo, &err), 0);
	assert_string_equal(version, "go1.20");
	assert_string_equal(modinfo, "");
	free(version);
	free(modinfo);
}

static void blob_rejects_bad_input(void **state)
{
	uint8_t blob[64] = { 0 };
	char *version = NULL, *modinfo = NULL;
	struct wd_error err = { 0 };

	(void)state;
	memcpy(blob, GOBIN_MAGIC, GOBIN_MAGIC_LEN);
	blob[14] = 8;
	blob[15] = 2;

	/* A version length past the end of the blob. */
	blob[32] = 0x7f;
	assert_int_equal(gobin_blob_decode(blob, 40, NULL, &version, &modinfo, &err), WD_EINVAL);
	assert_string_equal(err.detail, "Go version of 127 bytes runs past the blob");
	assert_null(version);

	/* A varint longer than 64 bits. */
	memset(blob + 32, 0xff, 11);
	assert_int_equal(gobin_blob_decode(blob, 64, NULL, &version, &modinfo, &err), WD_EINVAL);
	assert_string_equal(err.detail, "invalid length of the Go version");

	/* An empty version means no Go binary, as in Go's debug/buildinfo. */
	blob[32] = 0;
	blob[33] = 0;
	assert_int_equal(gobin_blob_decode(blob, 64, NULL, &version, &modinfo, &err),
		WD_ENOTFOUND);

	/* The pointer format with an impossible pointer size. */
	blob[14] = 3;
	blob[15] = 0;
	assert_int_equal(gobin_blob_decode(blob, 64, NULL, &version, &modinfo, &err), WD_EINVAL);
	assert_string_equal(err.detail, "invalid pointer size 3 in the build information");

	assert_int_equal(gobin_blob_decode(blob, 31, NULL, &version, &modinfo, &err), WD_EINVAL);
	assert_string_equal(err.detail, "build information header is missing");
}

static void modinfo_parses_fields(void **state)
{
	struct gobin_info info = { 0 };
	struct wd_error err = { 0 };

	(void)state;
	info.go_version = strdup("go1.22.1");
	assert_int_equal(gobin_modinfo_parse(modinfo_text, strlen(modinfo_text), &info, &err), 0);
	check_info(&info, "go1.22.1");
	gobin_info_free(&info);
	assert_null(info.deps);
}

static void modinfo_rejects_malformed(void **state)
{
	static const struct {
		const char *text;
		const char *detail;
	} cases[] = {
		{ "=>\tx\tv1\t\n", "line 1: replacement without a module on the line before" },
		{ "dep\ta\tv1\n=>\tb\tv2\n", "line 2: expected 3 columns, found 2" },
		{ "dep\ta\n", "line 1: expected 2 or 3 columns, found 1" },
		{ "dep\ta\tv1\th1\textra\n", "line 1: expected 2 or 3 columns, found 4" },
		{ "dep\t\tv1\n", "line 1: empty module path" },
		{ "build\tGOARCH\n", "line 1: build setting without '='" },
		{ "build\t=amd64\n", "line 1: build setting without a key" },
		{ "mod\ta\tv1\nmod\tb\tv2\n", "line 2: duplicate mod line" },
		{ "path\ta\npath\tb\n", "line 2: duplicate path line" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gobin_info info = { 0 };
		struct wd_error err = { 0 };

		assert_int_equal(gobin_modinfo_parse(cases[i].text, strlen(cases[i].text), &info,
			&err), WD_EINVAL);
		assert_string_equal(err.detail, cases[i].detail);
		gobin_info_free(&info);
	}
}

static int read_elf(const struct bytes *b, struct gobin_info *info, struct wd_error *err)
{
	struct memory_reader memory = { b->data, b->len };
	struct gobin_reader reader = { memory_read_at, &memory, b->len };

	return gobin_read_elf(&reader, info, err);
}

static void elf64_section_reads(void **state)
{
	static struct bytes b;
	struct gobin_info info;
	struct wd_error err = { 0 };

	(void)state;
	build_elf64_with_section(&b);
	assert_int_equal(read_elf(&b, &info, &err), 0);
	check_info(&info, "go1.22.1");
	assert_string_equal(info.elf_arch, "amd64");
	gobin_info_free(&info);
}

/* An ELF32 big-endian file without section headers whose writable segment
 * contains a pointer-format blob (Go before 1.18). */
static void build_elf32_pointers(struct bytes *b)
{
	uint8_t framed[2048];
	size_t framed_len = framed_modinfo(framed);
	const uint32_t vaddr = 0x10000;
	const size_t blob = 0x80, headers = 0xa0, strings = 0xc0;

	memset(b, 0, sizeof(*b));
	b->big_endian = true;
	put_bytes(b, 0, "\x7f" "ELF\x01\x02\x01", 7);
	put(b, 16, 2, 2);       /* ET_EXEC */
	put(b, 18, 8, 2);       /* EM_MIPS */
	put(b, 28, 52, 4);      /* e_phoff */
	put(b, 42, 32, 2);      /* e_phentsize */
	put(b, 44, 2, 2);       /* e_phnum */

	/* A text segment first, which the search must pass over. */
	put(b, 52, 1, 4);
	put(b, 52 + 4, 0, 4);
	put(b, 52 + 8, 0x20000, 4);
	put(b, 52 + 16, 0x40, 4);
	put(b, 52 + 24, 5, 4);  /* R+X */
	/* The data segment: the whole file at vaddr. */
	put(b, 84, 1, 4);
	put(b, 84 + 4, 0, 4);
	put(b, 84 + 8, vaddr, 4);
	put(b, 84 + 16, strings + 8 + framed_len, 4);
	put(b, 84 + 24, 6, 4);  /* R+W */

	put_bytes(b, blob, GOBIN_MAGIC, GOBIN_MAGIC_LEN);
	b->data[blob + 14] = 4;
	b->data[blob + 15] = 1;  /* big-endian pointers */
	put(b, blob + 16, vaddr + headers, 4);
	put(b, blob + 20, vaddr + headers + 8, 4);
	put(b, blob + 24, 0, 8);
	put(b, headers, vaddr + strings, 4);
	put(b, headers + 4, 8, 4);
	put(b, headers + 8, vaddr + strings + 8, 4);
	put(b, headers + 12, framed_len, 4);
	put_bytes(b, strings, "go1.16.5", 8);
	put_bytes(b, strings + 8, framed, framed_len);
}

static void elf32_pointer_format_reads(void **state)
{
	static struct bytes b;
	struct gobin_info info;
	struct wd_error err = { 0 };

	(void)state;
	build_elf32_pointers(&b);
	assert_int_equal(read_elf(&b, &info, &err), 0);
	check_info(&info, "go1.16.5");
	assert_string_equal(info.elf_arch, "mips");
	gobin_info_free(&info);
}

static void elf_rejects_hostile_headers(void **state)
{
	static struct bytes b;
	struct gobin_info info;
	struct wd_error err = { 0 };

	(void)state;

	/* Section headers past the end of the file. */
	build_elf64_with_section(&b);
	put(&b, 40, 0x7fffffff0000ull, 8);
	assert_int_equal(read_elf(&b, &info, &err), WD_EINVAL);
	assert_string_equal(err.detail,
		"section header table (3 entries at offset 140737488289792) is outside the file");

	/* A name table index past the section count. */
	build_elf64_with_section(&b);
	put(&b, 62, 7, 2);
	assert_int_equal(read_elf(&b, &info, &err), WD_EINVAL);
	assert_string_equal(err.detail, "section name table index 7 is past 3 sections");

	/* A section header size too small for the class. */
	build_elf64_with_section(&b);
	put(&b, 58, 10, 2);
	assert_int_equal(read_elf(&b, &info, &err), WD_EINVAL);
	assert_string_equal(err.detail, "invalid section header size 10");

	/* A .go.buildinfo section whose blob points outside the file. */
	size_t shoff = build_elf64_with_section(&b);
	put(&b, shoff + 64 + 24, 0xffffffffull, 8);
	assert_int_equal(read_elf(&b, &info, &err), WD_EINVAL);
	assert_string_equal(err.detail, "build information offset 4294967295 is past the end");

	/* Pointers of the old format that no segment maps. */
	build_elf32_pointers(&b);
	put(&b, 0x80 + 16, 0x90000000u, 4);
	assert_int_equal(read_elf(&b, &info, &err), WD_EINVAL);
	assert_string_equal(err.detail, "Go version header at 0x90000000 is outside the file");

	/* A truncated header and an unknown class. */
	build_elf64_with_section(&b);
	b.len = 40;
	assert_int_equal(read_elf(&b, &info, &err), WD_EINVAL);
	assert_string_equal(err.detail, "truncated ELF header (40 bytes)");
	build_elf64_with_section(&b);
	b.data[4] = 9;
	assert_int_equal(read_elf(&b, &info, &err), WD_EINVAL);
	assert_string_equal(err.detail, "unknown ELF class 9");
}

static void elf_without_go_is_not_found(void **state)
{
	static struct bytes b;
	struct gobin_info info;
	struct wd_error err = { 0 };

	(void)state;

	/* Rename the section: a C program has section headers but no
	 * .go.buildinfo, and its data segment is not searched. */
	build_elf64_with_section(&b);
	for (size_t i = 0; i + 13 < b.len; i++) {
		if (memcmp(b.data + i, ".go.buildinfo", 13) == 0)
			b.data[i + 1] = 'x';
	}
	assert_int_equal(read_elf(&b, &info, &err), WD_ENOTFOUND);
	assert_string_equal(err.detail, "no Go build information");

	memcpy(b.data, "#!/bin/sh\n", 10);
	assert_int_equal(read_elf(&b, &info, &err), WD_ENOTFOUND);
	assert_string_equal(err.detail, "not an ELF file");
}

static const struct sbom_package *find(const struct sbom_catalog *catalog, const char *name)
{
	for (size_t i = 0; i < catalog->count; i++) {
		if (strcmp(catalog->packages[i].name, name) == 0)
			return &catalog->packages[i];
	}
	fail_msg("package %s not found", name);
	return NULL;
}

static void catalog_lists_modules(void **state)
{
	struct gobin_info info = { 0 };
	struct sbom_catalog catalog;
	struct wd_error err = { 0 };
	const struct sbom_package *pkg;

	(void)state;
	info.go_version = strdup("go1.22.1");
	info.elf_arch = "amd64";
	assert_int_equal(gobin_modinfo_parse(modinfo_text, strlen(modinfo_text), &info, &err), 0);
	sbom_catalog_init(&catalog, 100);
	assert_int_equal(gobin_catalog_info(&info, "/usr/bin/hello", &catalog, &err), 0);
	assert_int_equal(catalog.count, 5);

	pkg = find(&catalog, "github.com/google/uuid");
	assert_int_equal(pkg->type, SBOM_TYPE_GO_MODULE);
	assert_string_equal(pkg->version, "v1.6.0");
	assert_string_equal(pkg->purl, "pkg:golang/github.com/google/uuid@v1.6.0");
	assert_string_equal(pkg->arch, "arm64");
	assert_string_equal(pkg->location, "/usr/bin/hello");
	assert_null(pkg->cpe);

	/* A replaced module is listed as its replacement. */
	pkg = find(&catalog, "golang.org/x/text");
	assert_string_equal(pkg->version, "v0.3.8");
	assert_string_equal(pkg->purl, "pkg:golang/golang.org/x/text@v0.3.8");

	/* A replacement by a directory keeps the module path and case. */
	pkg = find(&catalog, "github.com/Local/Fork");
	assert_string_equal(pkg->version, "(devel)");
	assert_string_equal(pkg->purl, "pkg:golang/github.com/Local/Fork@%28devel%29");

	/* A (devel) main module with VCS stamps gets a pseudo-version. */
	pkg = find(&catalog, "example.com/hello");
	assert_string_equal(pkg->version, "v0.0.0-20240305060708-0123456789ab");
	assert_string_equal(pkg->purl,
		"pkg:golang/example.com/hello@v0.0.0-20240305060708-0123456789ab");

	pkg = find(&catalog, "stdlib");
	assert_string_equal(pkg->version, "go1.22.1");
	assert_string_equal(pkg->purl, "pkg:golang/stdlib@1.22.1");
	assert_string_equal(pkg->cpe, "cpe:2.3:a:golang:go:1.22.1:-:*:*:*:*:*:*");
	assert_string_equal(pkg->license, "BSD-3-Clause");
	sbom_catalog_free(&catalog);
	gobin_info_free(&info);
}

static void catalog_stdlib_versions(void **state)
{
	static const struct {
		const char *go_version;
		const char *cpe;  /* NULL: no stdlib package */
	} cases[] = {
		{ "go1.21rc2", "cpe:2.3:a:golang:go:1.21:rc2:*:*:*:*:*:*" },
		{ "go1.20.5 X:boringcrypto", "cpe:2.3:a:golang:go:1.20.5:-:*:*:*:*:*:*" },
		{ "go1.22.0+auto", "cpe:2.3:a:golang:go:1.22.0:-:*:*:*:*:*:*" },
		{ "go1.19", "cpe:2.3:a:golang:go:1.19:-:*:*:*:*:*:*" },
		{ "devel", NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gobin_info info = { .go_version = (char *)cases[i].go_version };
		struct sbom_catalog catalog;
		struct wd_error err = { 0 };

		sbom_catalog_init(&catalog, 10);
		assert_int_equal(gobin_catalog_info(&info, "/x", &catalog, &err), 0);
		if (!cases[i].cpe) {
			assert_int_equal(catalog.count, 0);
		} else {
			assert_int_equal(catalog.count, 1);
			assert_string_equal(catalog.packages[0].cpe, cases[i].cpe);
		}
		sbom_catalog_free(&catalog);
	}
}

static void catalog_main_versions(void **state)
{
	struct gobin_info info = { .go_version = (char *)"go1.22.1" };
	struct sbom_catalog catalog;
	struct wd_error err = { 0 };

	(void)state;

	/* A revision without a commit time is the version itself. */
	info.main.path = (char *)"example.com/a";
	info.main.version = (char *)"(devel)";
	info.vcs_revision = (char *)"abc123";
	sbom_catalog_init(&catalog, 10);
	assert_int_equal(gobin_catalog_info(&info, "/a", &catalog, &err), 0);
	assert_string_equal(find(&catalog, "example.com/a")->version, "abc123");
	sbom_catalog_free(&catalog);

	/* An unreadable commit time counts as Go's zero time. */
	info.vcs_time = (char *)"yesterday";
	sbom_catalog_init(&catalog, 10);
	assert_int_equal(gobin_catalog_info(&info, "/a", &catalog, &err), 0);
	assert_string_equal(find(&catalog, "example.com/a")->version,
		"v0.0.0-00010101000000-abc123");
	sbom_catalog_free(&catalog);

	/* Without a mod line, the package path stands for the main module. */
	info = (struct gobin_info){ .go_version = (char *)"go1.22.1",
		.path = (char *)"command-line-arguments" };
	sbom_catalog_init(&catalog, 10);
	assert_int_equal(gobin_catalog_info(&info, "/a", &catalog, &err), 0);
	assert_string_equal(find(&catalog, "command-line-arguments")->version, "(devel)");
	assert_string_equal(find(&catalog, "command-line-arguments")->purl,
		"pkg:golang/command-line-arguments@%28devel%29");
	sbom_catalog_free(&catalog);
}

static void module_purl_splits_path(void **state)
{
	char *purl = NULL;
	struct wd_error err = { 0 };

	(void)state;
	assert_int_equal(gobin_module_purl("google.golang.org/genproto/googleapis/api", "v0.1.0",
		&purl, &err), 0);
	assert_string_equal(purl, "pkg:golang/google.golang.org/genproto/googleapis/api@v0.1.0");
	free(purl);
	assert_int_equal(gobin_module_purl("stdlib", NULL, &purl, &err), 0);
	assert_string_equal(purl, "pkg:golang/stdlib");
	free(purl);
	assert_int_equal(gobin_module_purl("example.com/", "v1", &purl, &err), WD_EINVAL);
	assert_string_equal(err.detail, "invalid Go module path \"example.com/\"");
	assert_null(purl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(blob_inline_decodes),
		cmocka_unit_test(blob_without_sentinels_is_empty),
		cmocka_unit_test(blob_rejects_bad_input),
		cmocka_unit_test(modinfo_parses_fields),
		cmocka_unit_test(modinfo_rejects_malformed),
		cmocka_unit_test(elf64_section_reads),
		cmocka_unit_test(elf32_pointer_format_reads),
		cmocka_unit_test(elf_rejects_hostile_headers),
		cmocka_unit_test(elf_without_go_is_not_found),
		cmocka_unit_test(catalog_lists_modules),
		cmocka_unit_test(catalog_stdlib_versions),
		cmocka_unit_test(catalog_main_versions),
		cmocka_unit_test(module_purl_splits_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
