/* Unit tests of the file index walk, the executable digests (with Go
 * modules), a single-file target, and how the documents show packages
 * without a purl or version. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "gobin_fixture.h"
#include "supply/catalog_lang.h"
#include "supply/sbom_files.h"

struct fixture {
	char root[64];
	char self_sha256[65];
	char go_sha256[65];
	char script_sha256[65];
	const char *self_arch;
};

static void sha256_hex(const void *data, size_t len, char hex[65])
{
	unsigned char digest[32];
	unsigned int digest_len = 0;

	assert_true(EVP_Digest(data, len, digest, &digest_len, EVP_sha256(), NULL));
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
}

static void write_bytes(const char *root, const char *path, const void *data, size_t len,
	mode_t mode)
{
	char full[512];
	int fd;

	snprintf(full, sizeof(full), "%s%s", root, path);
	fd = open(full, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static void run(const char *format, ...)
{
	char command[1024];
	va_list args;

	va_start(args, format);
	vsnprintf(command, sizeof(command), format, args);
	va_end(args);
	assert_int_equal(system(command), 0);
}

/* Reads this test's own executable, a real ELF file of the host. */
static uint8_t *read_self(size_t *ret_len)
{
	static uint8_t data[64 << 20];
	size_t len = 0;
	ssize_t n;
	int fd = open("/proc/self/exe", O_RDONLY);

	assert_true(fd >= 0);
	while ((n = read(fd, data + len, sizeof(data) - len)) > 0)
		len += (size_t)n;
	close(fd);
	*ret_len = len;
	return data;
}

static int setup(void **state)
{
	static struct bytes go_elf;
	struct fixture *f = calloc(1, sizeof(*f));
	struct elf_header header;
	size_t self_len;
	uint8_t *self = read_self(&self_len);
	static const char script[] = "#!/bin/sh\necho hello\n";
	uint8_t *core;

	assert_non_null(f);
	snprintf(f->root, sizeof(f->root), "/tmp/wd-binaries-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	run("mkdir -p '%s/usr/bin' '%s/usr/lib' '%s/opt/app' '%s/proc'", f->root, f->root, f->root,
		f->root);

	write_bytes(f->root, "/usr/bin/tool", self, self_len, 0755);
	write_bytes(f->root, "/usr/lib/libdata.so", self, self_len, 0644);  /* no execute bit */
	write_bytes(f->root, "/usr/bin/script.sh", script, strlen(script), 0755);
	write_bytes(f->root, "/proc/tool", self, self_len, 0700);  /* only "/" skips proc */
	run("ln '%s/usr/bin/tool' '%s/usr/bin/tool-link'", f->root, f->root);
	run("ln -s tool '%s/usr/bin/tool-symlink'", f->root);

	core = malloc(self_len);
	assert_non_null(core);
	memcpy(core, self, self_len);
	core[16] = 4;  /* ET_CORE: an ELF file that is no program */
	write_bytes(f->root, "/opt/app/core", core, self_len, 0755);
	free(core);

	build_elf64_with_section(&go_elf);
	write_bytes(f->root, "/opt/app/hello", go_elf.data, go_elf.len, 0755);

	sha256_hex(self, self_len, f->self_sha256);
	sha256_hex(go_elf.data, go_elf.len, f->go_sha256);
	sha256_hex(script, strlen(script), f->script_sha256);
	assert_int_equal(elf_header_parse(self, self_len, &header, NULL), 0);
	f->self_arch = elf_arch_name(&header);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	run("rm -rf '%s'", f->root);
	free(f);
	return 0;
}

static void walk_indexes_files(void **state)
{
	static const struct {
		const char *path;
		enum sbom_file_kind kind;
	} expected[] = {
		{ "/opt/app/core", SBOM_FILE_EXECUTABLE },
		{ "/opt/app/hello", SBOM_FILE_EXECUTABLE },
		{ "/proc/tool", SBOM_FILE_EXECUTABLE },
		{ "/usr/bin/script.sh", SBOM_FILE_EXECUTABLE },
		{ "/usr/bin/tool", SBOM_FILE_EXECUTABLE },
		{ "/usr/bin/tool-link", SBOM_FILE_EXECUTABLE },
	};
	struct fixture *f = *state;
	struct sbom_files *files = NULL;
	struct wd_error err = { 0 };

	assert_int_equal(sbom_files_walk(f->root, NULL, &files, &err), 0);
	assert_int_equal(files->count, sizeof(expected) / sizeof(expected[0]));
	for (size_t i = 0; i < files->count; i++) {
		assert_string_equal(files->items[i].path, expected[i].path);
		assert_int_equal(files->items[i].kind, expected[i].kind);
	}
	assert_int_equal(files->items[4].ino, files->items[5].ino);
	assert_int_equal(files->unreadable_dirs, 0);
	sbom_files_free(files);

	assert_int_equal(sbom_files_walk("/nonexistent-wd-root", NULL, &files, &err),
		WD_ENOTFOUND);
	assert_string_equal(err.detail, "/nonexistent-wd-root: no such directory");
	assert_null(files);
}

static void walk_skips_deep_directories(void **state)
{
	struct fixture *f = *state;
	struct sbom_catalog catalog;
	struct wd_error err = { 0 };
	const struct sbom_files *files;
	char path[1024];
	size_t len;

	/* 130 levels below /deep: the 129th and what is below it are skipped. */
	len = (size_t)snprintf(path, sizeof(path), "%s/deep", f->root);
	for (int i = 0; i < 130; i++) {
		assert_int_equal(mkdir(path, 0755), 0);
		len += (size_t)snprintf(path + len, sizeof(path) - len, "/d");
	}
	snprintf(path + len - 2, sizeof(path) - len + 2, "/x.egg-info");
	write_bytes("", path, "Name: x\nVersion: 1\n", 20, 0644);

	sbom_catalog_init(&catalog, 100);
	assert_int_equal(sbom_catalog_files(f->root, &catalog, &files, &err), 0);
	for (size_t i = 0; i < files->count; i++)
		assert_null(strstr(files->items[i].path, "x.egg-info"));
	assert_int_equal(files->too_deep_dirs, 1);
	assert_int_equal(catalog.warning_count, 1);
	assert_string_equal(catalog.warnings[0],
		"1 directory deeper than 128 levels or 4096 bytes");
	sbom_catalog_free(&catalog);
	run("rm -rf '%s/deep'", f->root);
}

static const struct sbom_package *find(const struct sbom_catalog *catalog, const char *name,
	const char *location)
{
	for (size_t i = 0; i < catalog->count; i++) {
		if (strcmp(catalog->packages[i].name, name) == 0 &&
		    strcmp(catalog->packages[i].location, location) == 0)
			return &catalog->packages[i];
	}
	fail_msg("package %s at %s not found", name, location);
	return NULL;
}

static void binaries_hash_elf_executables(void **state)
{
	struct fixture *f = *state;
	struct sbom_catalog catalog;
	struct wd_error err = { 0 };
	const struct sbom_package *pkg;

	sbom_catalog_init(&catalog, 100);
	assert_int_equal(binaries_catalog_root(f->root, &catalog, &err), 0);

	/* tool, its hard link, /proc/tool, hello and hello's five modules. */
	assert_int_equal(catalog.count, 9);
	pkg = find(&catalog, "tool", "/usr/bin/tool");
	assert_int_equal(pkg->type, SBOM_TYPE_BINARY);
	assert_string_equal(pkg->sha256, f->self_sha256);
	assert_null(pkg->version);
	assert_null(pkg->purl);
	assert_null(pkg->cpe);
	if (f->self_arch)
		assert_string_equal(pkg->arch, f->self_arch);
	pkg = find(&catalog, "tool-link", "/usr/bin/tool-link");
	assert_string_equal(pkg->sha256, f->self_sha256);
	find(&catalog, "tool", "/proc/tool");

	pkg = find(&catalog, "hello", "/opt/app/hello");
	assert_string_equal(pkg->sha256, f->go_sha256);
	assert_string_equal(pkg->arch, "amd64");
	pkg = find(&catalog, "golang.org/x/text", "/opt/app/hello");
	assert_int_equal(pkg->type, SBOM_TYPE_GO_MODULE);
	assert_string_equal(pkg->purl, "pkg:golang/golang.org/x/text@v0.3.8");
	pkg = find(&catalog, "stdlib", "/opt/app/hello");
	assert_string_equal(pkg->version, "go1.22.1");
	assert_int_equal(catalog.warning_count, 0);
	sbom_catalog_free(&catalog);
}

static void binaries_warn_on_bad_go_info(void **state)
{
	static struct bytes broken;
	struct fixture *f = *state;
	struct sbom_catalog catalog;
	struct wd_error err = { 0 };
	char path[128];

	/* A Go version length running past the section: the digest stays. */
	build_elf64_with_section(&broken);
	broken.data[0x100 + 32] = 0xff;
	broken.data[0x100 + 33] = 0xff;
	broken.data[0x100 + 34] = 0x7f;
	write_bytes(f->root, "/opt/app/broken", broken.data, broken.len, 0755);

	sbom_catalog_init(&catalog, 100);
	assert_int_equal(binaries_catalog_root(f->root, &catalog, &err), 0);
	find(&catalog, "broken", "/opt/app/broken");
	assert_int_equal(catalog.warning_count, 1);
	assert_string_equal(catalog.warnings[0], "/opt/app/broken: Go build information not "
		"read: Go version of 2097151 bytes runs past the blob");
	sbom_catalog_free(&catalog);

	snprintf(path, sizeof(path), "%s/opt/app/broken", f->root);
	assert_int_equal(unlink(path), 0);
}

static void single_file_lists_digest(void **state)
{
	struct fixture *f = *state;
	struct sbom_catalog catalog;
	struct wd_error err = { 0 };
	char path[128];

	snprintf(path, sizeof(path), "%s/usr/bin/script.sh", f->root);
	sbom_catalog_init(&catalog, 100);
	assert_int_equal(binaries_catalog_file(path, &catalog, &err), 0);
	assert_int_equal(catalog.count, 1);
	assert_string_equal(catalog.packages[0].name, "script.sh");
	assert_string_equal(catalog.packages[0].location, "/script.sh");
	assert_string_equal(catalog.packages[0].sha256, f->script_sha256);
	assert_null(catalog.packages[0].arch);
	sbom_catalog_free(&catalog);

	snprintf(path, sizeof(path), "%s/opt/app/hello", f->root);
	sbom_catalog_init(&catalog, 100);
	assert_int_equal(binaries_catalog_file(path, &catalog, &err), 0);
	assert_int_equal(catalog.count, 6);
	find(&catalog, "hello", "/hello");
	find(&catalog, "example.com/hello", "/hello");
	sbom_catalog_free(&catalog);

	snprintf(path, sizeof(path), "%s/usr", f->root);
	sbom_catalog_init(&catalog, 100);
	assert_int_equal(binaries_catalog_file(path, &catalog, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "/usr: not a regular file"));
	sbom_catalog_free(&catalog);
}

static void open_beneath_rejects_links(void **state)
{
	struct fixture *f = *state;
	struct wd_error err = { 0 };
	int root_fd = open(f->root, O_RDONLY | O_DIRECTORY);
	int fd;

	assert_true(root_fd >= 0);
	fd = sbom_open_beneath(root_fd, "/usr/bin/tool", &err);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(sbom_open_beneath(root_fd, "/usr/bin/tool-symlink", &err), WD_EINVAL);
	assert_string_equal(err.detail, "/usr/bin/tool-symlink: reached through a symbolic link");
	assert_int_equal(sbom_open_beneath(root_fd, "/../etc/passwd", &err), WD_EINVAL);
	assert_int_equal(sbom_open_beneath(root_fd, "/usr/bin", &err), WD_EINVAL);
	assert_string_equal(err.detail, "/usr/bin: not a regular file");
	assert_int_equal(sbom_open_beneath(root_fd, "/missing", &err), WD_ENOTFOUND);
	assert_string_equal(err.detail, "/missing: no such file");
	close(root_fd);
}

static json_t *spdx_of(const struct sbom_catalog *catalog)
{
	struct sbom_distro distro = { 0 };
	struct sbom_subject subject = { .name = "t", .tool_version = "0", .created = 0 };
	struct wd_error err = { 0 };
	char *text = NULL;
	json_t *doc;

	assert_int_equal(sbom_spdx_write(catalog, &distro, &subject, &text, &err), 0);
	doc = json_loads(text, 0, NULL);
	assert_non_null(doc);
	free(text);
	return doc;
}

static void documents_show_binaries(void **state)
{
	struct fixture *f = *state;
	struct sbom_catalog catalog;
	struct wd_error err = { 0 };
	struct sbom_distro distro = { 0 };
	struct sbom_subject subject = { .name = "t", .tool_version = "0", .created = 0 };
	char *text = NULL;
	json_t *doc, *packages, *cdx, *component;

	sbom_catalog_init(&catalog, 100);
	assert_int_equal(binaries_catalog_root(f->root, &catalog, &err), 0);
	sbom_catalog_sort(&catalog);
	assert_int_equal(sbom_catalog_set_cpes(&catalog, &err), 0);

	doc = spdx_of(&catalog);
	packages = json_object_get(doc, "packages");
	assert_int_equal(json_array_size(packages), catalog.count);
	for (size_t i = 0; i < catalog.count; i++) {
		json_t *pkg = json_array_get(packages, i);
		const char *id = json_string_value(json_object_get(pkg, "SPDXID"));

		/* Every id is unique, even for one module in two binaries. */
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(id, json_string_value(json_object_get(
				json_array_get(packages, j), "SPDXID")));
		if (catalog.packages[i].type != SBOM_TYPE_BINARY)
			continue;
		assert_null(json_object_get(pkg, "versionInfo"));
		assert_null(json_object_get(pkg, "externalRefs"));
		assert_string_equal(json_string_value(json_object_get(pkg, "primaryPackagePurpose")),
			"APPLICATION");
		assert_string_equal(json_string_value(json_object_get(json_array_get(
			json_object_get(pkg, "checksums"), 0), "checksumValue")),
			catalog.packages[i].sha256);
	}
	json_decref(doc);

	assert_int_equal(sbom_cyclonedx_write(&catalog, &distro, &subject, &text, &err), 0);
	cdx = json_loads(text, 0, NULL);
	free(text);
	component = json_array_get(json_object_get(cdx, "components"), 3);
	assert_string_equal(json_string_value(json_object_get(component, "name")), "golang.org/x/text");
	component = json_array_get(json_object_get(cdx, "components"), 4);
	assert_string_equal(json_string_value(json_object_get(component, "name")), "hello");
	assert_string_equal(json_string_value(json_object_get(component, "type")), "application");
	assert_null(json_object_get(component, "version"));
	assert_null(json_object_get(component, "purl"));
	assert_null(json_object_get(component, "cpe"));
	json_decref(cdx);

	/* The version cell of a binary is empty. */
	char row[128];

	snprintf(row, sizeof(row), "\n%-22s  %-34s  binary\n", "hello", "");
	assert_int_equal(sbom_table_write(&catalog, &text, &err), 0);
	assert_non_null(strstr(text, row));
	free(text);
	sbom_catalog_free(&catalog);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(walk_indexes_files),
		cmocka_unit_test(walk_skips_deep_directories),
		cmocka_unit_test(binaries_hash_elf_executables),
		cmocka_unit_test(binaries_warn_on_bad_go_info),
		cmocka_unit_test(single_file_lists_digest),
		cmocka_unit_test(open_beneath_rejects_links),
		cmocka_unit_test(documents_show_binaries),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
