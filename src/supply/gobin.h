/* The build information that the Go linker embeds in executables: the
 * toolchain version and the module list that `go version -m` prints. It is
 * read from ELF files, which may be hostile, so every offset, count and
 * length is checked before use. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "supply/sbom.h"

/* Ceilings on what a file can make the reader allocate or read. */
#define GOBIN_MAX_SECTION_HEADERS 65536
#define GOBIN_MAX_SHSTRTAB_BYTES (1u * 1024 * 1024)
#define GOBIN_MAX_BLOB_BYTES (8u * 1024 * 1024)     /* .go.buildinfo read at once */
#define GOBIN_MAX_STRING_BYTES (4u * 1024 * 1024)   /* the version or module text */
#define GOBIN_MAX_DEPS 100000

/* The 14 bytes that start the build information blob. */
#define GOBIN_MAGIC "\xff Go buildinf:"
#define GOBIN_MAGIC_LEN 14
#define GOBIN_HEADER_LEN 32  /* magic, pointer size, flags, two pointers */

/* The fields of an ELF header (the System V ABI's Elf32_Ehdr/Elf64_Ehdr)
 * that the catalogers use. */
struct elf_header {
	bool is64;
	bool big_endian;
	uint16_t type;      /* ET_EXEC (2), ET_DYN (3), ... */
	uint16_t machine;   /* EM_X86_64 (62), EM_AARCH64 (183), ... */
	uint64_t phoff;
	uint64_t shoff;
	uint16_t phentsize;
	uint16_t phnum;
	uint16_t shentsize;
	uint16_t shnum;
	uint16_t shstrndx;
};

/* Parses the ELF header at the start of bytes. WD_ENOTFOUND when bytes do
 * not start with the ELF magic, WD_EINVAL (err names the field) for an
 * unknown class or byte order or a truncated header. */
WD_MUST_CHECK int elf_header_parse(const uint8_t *bytes, size_t len, struct elf_header *ret_header,
	struct wd_error *err);

/* Returns the GOARCH name of the header's machine ("amd64", "arm64", ...), or
 * NULL for a machine Go does not build for. */
const char *elf_arch_name(const struct elf_header *header);

struct gobin_module {
	char *path;
	char *version;  /* NULL or "" for a replacement by a local directory */
	char *sum;      /* the go.sum hash, NULL when absent */
};

struct gobin_dep {
	struct gobin_module module;
	struct gobin_module replace;  /* replace.path is NULL when not replaced */
};

struct gobin_info {
	char *go_version;          /* "go1.21.5" */
	char *path;                /* the main package ("path" line) */
	struct gobin_module main;  /* the "mod" line; main.path is NULL without one */
	struct gobin_dep *deps;
	size_t dep_count;
	size_t dep_cap;
	char *goarch;              /* the "build GOARCH=" setting */
	char *vcs_revision;        /* the "build vcs.revision=" setting */
	char *vcs_time;            /* the "build vcs.time=" setting, RFC 3339 */
	const char *elf_arch;      /* elf_arch_name of the file, a static string */
};

/* Random access to the bytes of a file. read_at fills len bytes from
 * offset and returns 0, or WD_ETRUNCATED past the end, or WD_EIO. */
struct gobin_reader {
	int (*read_at)(void *ctx, uint64_t offset, void *buf, size_t len);
	void *ctx;
	uint64_t size;
};

/* Reads from the program's virtual address space, for the build
 * information of Go before 1.18, which points at its strings. read_addr
 * returns 0, or WD_EINVAL for an address no loaded segment contains. */
struct gobin_memory {
	int (*read_addr)(void *ctx, uint64_t addr, void *buf, size_t len);
	void *ctx;
};

/* Reads the build information of the ELF file behind reader into ret_info
 * (cleared first). WD_ENOTFOUND when the file is no ELF file or has no Go
 * build information, WD_EINVAL (err names the problem) when the headers or
 * the build information are malformed, WD_ETOOBIG, WD_EIO, WD_ENOMEM. */
WD_MUST_CHECK int gobin_read_elf(const struct gobin_reader *reader, struct gobin_info *ret_info,
	struct wd_error *err);

/* Decodes the build information blob that starts with GOBIN_MAGIC at blob:
 * the Go 1.18+ form with the strings inline (flag bit 2), or the older form
 * with pointers read through memory (which may be NULL when there is none).
 * Stores the Go version and the module text with its sentinels removed
 * (empty when there is none) in malloc'd strings. WD_ENOTFOUND when the
 * version is empty, WD_EINVAL for a malformed blob. */
WD_MUST_CHECK int gobin_blob_decode(const uint8_t *blob, size_t len,
	const struct gobin_memory *memory, char **ret_version, char **ret_modinfo,
	struct wd_error *err);

/* Parses the module text ("path", "mod", "dep", "=>" and "build" lines
 * separated by tabs, as runtime/debug.ParseBuildInfo reads them) into info,
 * whose go_version it leaves alone. Unknown lines are ignored. WD_EINVAL
 * (err names the line) for a malformed line, WD_ETOOBIG past
 * GOBIN_MAX_DEPS. */
WD_MUST_CHECK int gobin_modinfo_parse(const char *text, size_t len, struct gobin_info *info,
	struct wd_error *err);

/* Frees the strings of info and clears it. Accepts NULL. */
void gobin_info_free(struct gobin_info *info);

/* Adds the packages of a Go binary at location: the main module, every
 * dependency (its replacement when replaced), and the toolchain as
 * "stdlib", all of type go-module. */
WD_MUST_CHECK int gobin_catalog_info(const struct gobin_info *info, const char *location,
	struct sbom_catalog *catalog, struct wd_error *err);

/* Builds pkg:golang/<module path>@<version>, the path's last segment as the
 * name and the segments before it as the namespace. version may be NULL. */
WD_MUST_CHECK int gobin_module_purl(const char *path, const char *version, char **ret_purl,
	struct wd_error *err);
