/* The file index of a root filesystem: one walk that finds the files the
 * language and binary catalogers read, and safe reads of those files
 * beneath the root. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "supply/sbom.h"

/* Ceilings on the walk: directory depth below the root, directory entries
 * visited, and files kept in the index. */
#define SBOM_MAX_WALK_DEPTH 128
#define SBOM_MAX_WALK_ENTRIES 50000000u
#define SBOM_MAX_INDEX_FILES 1000000u

enum sbom_file_kind {
	SBOM_FILE_PYTHON_METADATA,  /* *.dist-info/METADATA, *.egg-info/PKG-INFO,
				     * EGG-INFO/PKG-INFO or a *.egg-info file */
	SBOM_FILE_NPM_LOCK,         /* package-lock.json or npm-shrinkwrap.json
				     * outside node_modules */
	SBOM_FILE_NPM_PACKAGE,      /* node_modules/<name>/package.json or
				     * node_modules/@scope/<name>/package.json */
	SBOM_FILE_EXECUTABLE,       /* a regular file with an execute bit */
};

struct sbom_file {
	char *path;  /* relative to the root, starting with '/' */
	enum sbom_file_kind kind;
	uint64_t size;  /* bytes, for executables */
	uint64_t dev;
	uint64_t ino;
};

struct sbom_files {
	char *root;
	int root_fd;  /* an open descriptor of the root directory */
	struct sbom_file *items;
	size_t count;
	size_t cap;
	size_t unreadable_dirs;  /* directories skipped because open(2) failed */
	size_t too_deep_dirs;    /* directories skipped past SBOM_MAX_WALK_DEPTH or
				  * a 4096-byte path */
};

/* Walks root without following symbolic links and returns the index of the
 * files the catalogers read in ret_files, in path order. When root is "/",
 * /proc, /sys and /dev are skipped. progress (which may be NULL) counts
 * entries. WD_ENOTFOUND or WD_EIO for a root that cannot be opened,
 * WD_ETOOBIG past the walk ceilings, WD_ENOMEM. */
WD_MUST_CHECK int sbom_files_walk(const char *root, struct progress *progress,
	struct sbom_files **ret_files, struct wd_error *err);

/* Frees files and closes its root descriptor. Accepts NULL. */
void sbom_files_free(struct sbom_files *files);

/* Returns in ret_files the index of root kept in catalog, walking root on
 * the first call, which also adds a warning for the directories the walk
 * skipped. The index stays owned by the catalog. */
WD_MUST_CHECK int sbom_catalog_files(const char *root, struct sbom_catalog *catalog,
	const struct sbom_files **ret_files, struct wd_error *err);

/* Opens path (relative to the directory root_fd, with or without a leading
 * '/') for reading without following any symbolic link and without leaving
 * the root, and checks that it is a regular file. Returns the descriptor,
 * or WD_ENOTFOUND, WD_EPERM, WD_EINVAL (a symbolic link or not a regular
 * file) or WD_EIO with err naming path. */
WD_MUST_CHECK int sbom_open_beneath(int root_fd, const char *path, struct wd_error *err);

/* Reads the regular file at path beneath root_fd into malloc'd bytes,
 * NUL-terminated (the NUL is not counted in ret_len). WD_ETOOBIG past max
 * bytes, and the errors of sbom_open_beneath. */
WD_MUST_CHECK int sbom_read_beneath(int root_fd, const char *path, size_t max, uint8_t **ret_data,
	size_t *ret_len, struct wd_error *err);

/* Frees the warnings and the file index of catalog. */
void sbom_catalog_free_extras(struct sbom_catalog *catalog);
