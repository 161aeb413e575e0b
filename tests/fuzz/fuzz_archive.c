/* libFuzzer harness: feeds arbitrary bytes to the image reader twice, as
 * one layer (tar, possibly compressed) applied to a fresh work directory,
 * and as a whole image archive (docker-archive or OCI layout). After each
 * run the work directory must be gone and nothing may appear next to it. */
#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supply/image_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* <base>/tmp is TMPDIR; an entry escaping the work directory by one or
 * two levels would show up in tmp or in base. */
static char base[64];
static char tmpdir[80];
static char input_path[96];

static void remove_base(void)
{
	unlink(input_path);
	rmdir(tmpdir);
	rmdir(base);
}

static void setup(void)
{
	snprintf(base, sizeof(base), "/tmp/wd-fuzz-archive-XXXXXX");
	if (!mkdtemp(base))
		abort();
	snprintf(tmpdir, sizeof(tmpdir), "%s/tmp", base);
	snprintf(input_path, sizeof(input_path), "%s/input", base);
	if (mkdir(tmpdir, 0700) < 0 || setenv("TMPDIR", tmpdir, 1) < 0)
		abort();
	atexit(remove_base);
}

/* Traps unless dir contains exactly the names in allowed (NULL-terminated). */
static void check_only(const char *dir, const char *const *allowed)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		__builtin_trap();
	while ((de = readdir(d)) != NULL) {
		bool ok = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;

		for (size_t i = 0; allowed[i] && !ok; i++)
			ok = strcmp(de->d_name, allowed[i]) == 0;
		if (!ok)
			__builtin_trap();
	}
	closedir(d);
}

struct memory_reader {
	const uint8_t *data;
	size_t size;
	size_t offset;
};

static ssize_t read_memory(void *ctx, void *buf, size_t len, struct wd_error *err)
{
	struct memory_reader *r = ctx;
	size_t n = r->size - r->offset < len ? r->size - r->offset : len;

	(void)err;
	memcpy(buf, r->data + r->offset, n);
	r->offset += n;
	return (ssize_t)n;
}

static void small_limits(struct image_options *options)
{
	memset(options, 0, sizeof(*options));
	options->limits.max_extract_bytes = 4u << 20;
	options->limits.max_entry_bytes = 1u << 20;
	options->limits.max_entries = 2000;
}

static void fuzz_layer(const uint8_t *data, size_t size)
{
	static const char *const none[] = { NULL };
	struct memory_reader reader = { data, size, 0 };
	struct image_layer_ref ref = { .name = "fuzz", .size = -1 };
	struct image_options options;
	struct image_tree tree;
	struct wd_error err = { 0 };
	int rc;

	small_limits(&options);
	if (image_tree_create(&tree, &options, &err) < 0)
		abort();
	tree.layer = 1;
	rc = image_layer_apply(&tree, &ref, read_memory, &reader, &err);
	if (rc < 0 && err.detail[0] == '\0')
		__builtin_trap();
	if (tree.extracted > options.limits.max_extract_bytes)
		__builtin_trap();
	if (image_tree_destroy(&tree) < 0)
		__builtin_trap();
	check_only(tmpdir, none);
}

static void fuzz_image(const uint8_t *data, size_t size)
{
	static const char *const none[] = { NULL };
	struct image_options options;
	struct image *image = NULL;
	struct wd_error err = { 0 };
	int fd = open(input_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, data, size) != (ssize_t)size || close(fd) < 0)
		abort();
	small_limits(&options);
	if (image_unpack(input_path, &options, &image, &err) < 0) {
		if (err.detail[0] == '\0' || image)
			__builtin_trap();
	} else if (!image->name || !image->config_digest || !image->root) {
		__builtin_trap();
	}
	image_free(image);
	check_only(tmpdir, none);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const base_names[] = { "tmp", "input", NULL };

	if (!base[0])
		setup();
	fuzz_layer(data, size);
	fuzz_image(data, size);
	check_only(base, base_names);
	return 0;
}
