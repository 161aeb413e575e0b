/* Unit tests of image unpacking: entry path normalization, whiteout names,
 * symlink targets kept inside the tree, and layers applied to a real work
 * directory from tar streams that libarchive writes in memory. */
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

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>

#include "supply/image_internal.h"

static void normalize_cases(void **state)
{
	static const struct {
		const char *name;
		bool clamp;
		enum image_path_status status;
		const char *expected;
	} cases[] = {
		{ "etc/passwd", false, IMAGE_PATH_OK, "etc/passwd" },
		{ "./etc/passwd", false, IMAGE_PATH_OK, "etc/passwd" },
		{ "etc//x/", false, IMAGE_PATH_OK, "etc/x" },
		{ "a/./b/../c", false, IMAGE_PATH_OK, "a/c" },
		{ "a/b/..", false, IMAGE_PATH_OK, "a" },
		{ "./", false, IMAGE_PATH_ROOT, "" },
		{ ".", false, IMAGE_PATH_ROOT, "" },
		{ "a/..", false, IMAGE_PATH_ROOT, "" },
		{ "", false, IMAGE_PATH_EMPTY, "" },
		{ "/etc/passwd", false, IMAGE_PATH_ABSOLUTE, "" },
		{ "../x", false, IMAGE_PATH_ESCAPES, "" },
		{ "a/../../x", false, IMAGE_PATH_ESCAPES, "" },
		{ "./..", false, IMAGE_PATH_ESCAPES, "" },
		{ "/etc/passwd", true, IMAGE_PATH_OK, "etc/passwd" },
		{ "/../../x", true, IMAGE_PATH_OK, "x" },
		{ "a/../../b", true, IMAGE_PATH_OK, "b" },
		{ "...", false, IMAGE_PATH_OK, "..." },
		{ "..a/b..", false, IMAGE_PATH_OK, "..a/b.." },
	};
	char out[64];

	(void)state;
	for (size_t i = 0; i < WD_ARRAY_LEN(cases); i++) {
		enum image_path_status status = image_path_normalize(cases[i].name, cases[i].clamp,
			sizeof(out) - 1, out, sizeof(out));

		assert_int_equal(status, cases[i].status);
		assert_string_equal(out, cases[i].expected);
	}
}

static void normalize_lengths(void **state)
{
	char component[300], out[600];

	(void)state;
	memset(component, 'c', 255);
	component[255] = '\0';
	assert_int_equal(image_path_normalize(component, false, 300, out, sizeof(out)),
		IMAGE_PATH_OK);
	assert_int_equal(strlen(out), 255);

	component[255] = 'c';
	component[256] = '\0';
	assert_int_equal(image_path_normalize(component, false, 300, out, sizeof(out)),
		IMAGE_PATH_COMPONENT_TOO_LONG);
	assert_string_equal(out, "");

	/* "aaaa/bbbb" is 9 bytes: it fits a limit of 9, not of 8. */
	assert_int_equal(image_path_normalize("aaaa/bbbb", false, 9, out, sizeof(out)),
		IMAGE_PATH_OK);
	assert_int_equal(image_path_normalize("aaaa/bbbb", false, 8, out, sizeof(out)),
		IMAGE_PATH_TOO_LONG);
	/* The buffer bounds the result too. */
	assert_int_equal(image_path_normalize("aaaa/bbbb", false, 100, out, 9),
		IMAGE_PATH_TOO_LONG);
}

static void whiteout_names(void **state)
{
	const char *target;

	(void)state;
	assert_int_equal(image_whiteout_classify("status", &target), IMAGE_WHITEOUT_NONE);
	assert_null(target);
	assert_int_equal(image_whiteout_classify(".wh.status", &target), IMAGE_WHITEOUT_FILE);
	assert_string_equal(target, "status");
	assert_int_equal(image_whiteout_classify(".wh..wh..opq", &target),
		IMAGE_WHITEOUT_OPAQUE);
	assert_int_equal(image_whiteout_classify(".wh..wh.plnk", &target), IMAGE_WHITEOUT_META);
	assert_int_equal(image_whiteout_classify(".wh.", &target), IMAGE_WHITEOUT_INVALID);
	assert_int_equal(image_whiteout_classify(".wh..", &target), IMAGE_WHITEOUT_INVALID);
	assert_int_equal(image_whiteout_classify(".wh...", &target), IMAGE_WHITEOUT_INVALID);
	assert_int_equal(image_whiteout_classify(".wh.x", &target), IMAGE_WHITEOUT_FILE);
	assert_string_equal(target, "x");
	assert_int_equal(image_whiteout_classify(".wh", &target), IMAGE_WHITEOUT_NONE);
}

static void symlink_targets(void **state)
{
	static const struct {
		const char *link;
		const char *target;
		const char *expected;
	} cases[] = {
		{ "usr/bin/python", "python3", "python3" },
		{ "usr/bin/x", "../lib/x", "../lib/x" },
		{ "usr/bin/x", "../bin/x", "x" },
		{ "lib", "usr/lib", "usr/lib" },
		{ "etc/localtime", "/usr/share/zoneinfo/UTC", "../usr/share/zoneinfo/UTC" },
		{ "a/b/link", "../../../../etc/passwd", "../../etc/passwd" },
		{ "a/b/link", "/", "../.." },
		{ "link", "/", "." },
		{ "link", "..", "." },
		{ "a/b/c", "/a/b", "." },
		{ "a/link", "s/../../..", ".." },
		{ "a/link", "./x/./y/", "x/y" },
		{ "var/run", "/run", "../run" },
	};
	char out[256];

	(void)state;
	for (size_t i = 0; i < WD_ARRAY_LEN(cases); i++) {
		assert_int_equal(image_symlink_rewrite(cases[i].link, cases[i].target, out,
			sizeof(out)), IMAGE_PATH_OK);
		assert_string_equal(out, cases[i].expected);
	}
	assert_int_equal(image_symlink_rewrite("x", "", out, sizeof(out)), IMAGE_PATH_EMPTY);
	assert_int_equal(image_symlink_rewrite("a/b/c/d", "/x", out, 6), IMAGE_PATH_TOO_LONG);
	assert_string_equal(out, "");
}

static void quote_names(void **state)
{
	char out[16];

	(void)state;
	image_quote("plain", out, sizeof(out));
	assert_string_equal(out, "plain");
	image_quote("\x1b[2J\"", out, sizeof(out));
	assert_string_equal(out, "\\x1b[2J\\x22");
	image_quote("abcdefghijklmnopqrstuvwxyz", out, sizeof(out));
	assert_string_equal(out, "abcdefghi...");
}

static void inode_set(void **state)
{
	struct image_inode_set set;
	struct wd_error err = { 0 };

	(void)state;
	image_inode_set_init(&set, 5000);
	for (uint64_t ino = 0; ino < 5000; ino++)
		assert_int_equal(image_inode_set_add(&set, ino * 7919, &err), 0);
	assert_int_equal(set.count, 5000);
	for (uint64_t ino = 0; ino < 5000; ino++)
		assert_true(image_inode_set_contains(&set, ino * 7919));
	assert_false(image_inode_set_contains(&set, 1));
	/* Adding a member again costs nothing; a new one is past the ceiling. */
	assert_int_equal(image_inode_set_add(&set, 7919, &err), 0);
	assert_int_equal(image_inode_set_add(&set, 1, &err), WD_ETOOBIG);
	image_inode_set_clear(&set);
	assert_false(image_inode_set_contains(&set, 7919));
	assert_false(image_inode_set_contains(&set, 0));
	image_inode_set_free(&set);
}

static void digest_texts(void **state)
{
	struct wd_error err = { 0 };
	char good[72], expected[160];

	(void)state;
	snprintf(good, sizeof(good), "sha256:%064d", 0);
	assert_int_equal(image_digest_check(good, "test", &err), 0);
	assert_int_equal(image_digest_check("sha512:00", "test", &err), WD_EUNSUPPORTED);
	assert_int_equal(image_digest_check("sha256:ABC", "test", &err), WD_EINVAL);
	assert_int_equal(image_digest_check(NULL, "test", &err), WD_EINVAL);
	good[10] = 'G';
	assert_int_equal(image_digest_check(good, "test", &err), WD_EINVAL);
	snprintf(expected, sizeof(expected), "test: invalid digest \"%s\": expected "
		"sha256:<64 lowercase hex digits>", good);
	assert_string_equal(err.detail, expected);
}

/* A tar stream built in memory. */
struct tar_builder {
	struct archive *archive;
	unsigned char *data;
	size_t size;
	size_t used;
};

static void tar_begin(struct tar_builder *b)
{
	b->size = 1 << 20;
	b->data = malloc(b->size);
	assert_non_null(b->data);
	b->archive = archive_write_new();
	assert_int_equal(archive_write_set_format_pax_restricted(b->archive), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(b->archive, b->data, b->size, &b->used),
		ARCHIVE_OK);
}

static void tar_add(struct tar_builder *b, const char *name, mode_t type, mode_t perm,
	const char *data, const char *link)
{
	struct archive_entry *entry = archive_entry_new();

	archive_entry_set_pathname(entry, name);
	archive_entry_set_filetype(entry, type);
	archive_entry_set_perm(entry, perm);
	archive_entry_set_size(entry, data ? (la_int64_t)strlen(data) : 0);
	if (type == AE_IFLNK)
		archive_entry_set_symlink(entry, link);
	else if (link)
		archive_entry_set_hardlink(entry, link);
	assert_int_equal(archive_write_header(b->archive, entry), ARCHIVE_OK);
	if (data && data[0])
		assert_int_equal(archive_write_data(b->archive, data, strlen(data)),
			(la_ssize_t)strlen(data));
	archive_entry_free(entry);
}

static void tar_end(struct tar_builder *b)
{
	assert_int_equal(archive_write_close(b->archive), ARCHIVE_OK);
	archive_write_free(b->archive);
	b->archive = NULL;
}

struct memory_reader {
	const unsigned char *data;
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

/* Applies a finished tar stream as layer number layer. */
static int apply(struct image_tree *tree, struct tar_builder *b, size_t layer,
	struct wd_error *err)
{
	struct memory_reader reader = { b->data, b->used, 0 };
	struct image_layer_ref ref = { .name = "test", .size = -1 };
	int rc;

	tree->layer = layer;
	rc = image_layer_apply(tree, &ref, read_memory, &reader, err);
	free(b->data);
	b->data = NULL;
	return rc;
}

struct warnings {
	size_t count;
	char last[256];
};

static void record_warning(void *ctx, size_t layer, const char *entry, const char *reason)
{
	struct warnings *w = ctx;

	w->count++;
	snprintf(w->last, sizeof(w->last), "%zu %s: %s", layer, entry, reason);
}

struct fixture {
	char tmpdir[64];
	struct image_tree tree;
	struct warnings warnings;
};

static int fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct image_options options = { 0 };
	struct wd_error err = { 0 };

	assert_non_null(f);
	snprintf(f->tmpdir, sizeof(f->tmpdir), "/tmp/wd-test-image-XXXXXX");
	assert_non_null(mkdtemp(f->tmpdir));
	setenv("TMPDIR", f->tmpdir, 1);
	image_limits_default(&options.limits);
	options.warn = record_warning;
	options.warn_ctx = &f->warnings;
	assert_int_equal(image_tree_create(&f->tree, &options, &err), 0);
	*state = f;
	return 0;
}

static int fixture_teardown(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(image_tree_destroy(&f->tree), 0);
	assert_int_equal(rmdir(f->tmpdir), 0);  /* fails unless the work directory is gone */
	free(f);
	return 0;
}

static mode_t mode_of(struct image_tree *tree, const char *path)
{
	struct stat st;

	if (fstatat(tree->rootfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	return st.st_mode;
}

static void work_dir_private(void **state)
{
	struct fixture *f = *state;
	struct stat st;

	assert_int_equal(strncmp(f->tree.path, f->tmpdir, strlen(f->tmpdir)), 0);
	assert_int_equal(stat(f->tree.path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
}

static void layers_with_whiteouts(void **state)
{
	struct fixture *f = *state;
	struct image_tree *tree = &f->tree;
	struct wd_error err = { 0 };
	struct tar_builder b;
	char target[64];
	ssize_t n;

	tar_begin(&b);
	tar_add(&b, "a/", AE_IFDIR, 0755, NULL, NULL);
	tar_add(&b, "a/lower", AE_IFREG, 0644, "lower", NULL);
	tar_add(&b, "a/sub/deep", AE_IFREG, 0644, "deep", NULL);
	tar_add(&b, "etc/localtime", AE_IFLNK, 0777, NULL, "/usr/share/zoneinfo/UTC");
	tar_add(&b, "usr/bin/su", AE_IFREG, 04755, "su", NULL);
	tar_add(&b, "locked/", AE_IFDIR, 0, NULL, NULL);
	tar_add(&b, "keep", AE_IFREG, 0644, "keep", NULL);
	tar_add(&b, "gone", AE_IFREG, 0644, "gone", NULL);
	tar_end(&b);
	assert_int_equal(apply(tree, &b, 1, &err), 0);

	assert_true(S_ISREG(mode_of(tree, "a/lower")));
	assert_true(S_ISDIR(mode_of(tree, "a/sub")));
	/* Implicit parents get 0755; modes lose setuid and gain owner access. */
	assert_int_equal(mode_of(tree, "usr") & 07777, 0755);
	assert_int_equal(mode_of(tree, "usr/bin/su") & 07777, 0755);
	assert_int_equal(mode_of(tree, "locked") & 07777, 0700);
	assert_int_equal(f->warnings.count, 1);
	assert_string_equal(f->warnings.last, "1 usr/bin/su: setuid/setgid bits dropped");
	n = readlinkat(tree->rootfd, "etc/localtime", target, sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, "../usr/share/zoneinfo/UTC");

	/* Layer 2: a new file before the opaque marker survives it; the
	 * lower file and the lower subdirectory do not. A whiteout of a file
	 * made earlier in the same layer leaves it. */
	tar_begin(&b);
	tar_add(&b, "a/new", AE_IFREG, 0644, "new", NULL);
	tar_add(&b, "a/.wh..wh..opq", AE_IFREG, 0644, NULL, NULL);
	tar_add(&b, "fresh", AE_IFREG, 0644, "fresh", NULL);
	tar_add(&b, ".wh.fresh", AE_IFREG, 0644, NULL, NULL);
	tar_add(&b, ".wh.gone", AE_IFREG, 0644, NULL, NULL);
	tar_add(&b, ".wh.etc", AE_IFREG, 0644, NULL, NULL);
	tar_add(&b, ".wh.missing", AE_IFREG, 0644, NULL, NULL);
	tar_add(&b, "nowhere/.wh..wh..opq", AE_IFREG, 0644, NULL, NULL);
	tar_end(&b);
	assert_int_equal(apply(tree, &b, 2, &err), 0);

	assert_true(S_ISREG(mode_of(tree, "a/new")));
	assert_int_equal(mode_of(tree, "a/lower"), 0);
	assert_int_equal(mode_of(tree, "a/sub"), 0);
	assert_true(S_ISREG(mode_of(tree, "fresh")));
	assert_true(S_ISREG(mode_of(tree, "keep")));
	assert_int_equal(mode_of(tree, "gone"), 0);
	assert_int_equal(mode_of(tree, "etc"), 0);
	assert_int_equal(mode_of(tree, ".wh.gone"), 0);
	assert_int_equal(mode_of(tree, "nowhere"), 0);

	/* Layer 3: a hard link shares the inode; a file replaces a directory. */
	tar_begin(&b);
	tar_add(&b, "link", AE_IFREG, 0644, NULL, "a/new");
	tar_add(&b, "a", AE_IFREG, 0644, "now a file", NULL);
	tar_end(&b);
	assert_int_equal(apply(tree, &b, 3, &err), 0);
	assert_true(S_ISREG(mode_of(tree, "a")));
	assert_true(S_ISREG(mode_of(tree, "link")));
}

static void hostile_entries(void **state)
{
	static const struct {
		const char *name;
		mode_t type;
		const char *link;
		int code;
		const char *message;
	} cases[] = {
		{ "../x", AE_IFREG, NULL, WD_EINVAL,
		  "layer 7 entry \"../x\": path escapes the image root through \"..\"" },
		{ "/etc/x", AE_IFREG, NULL, WD_EINVAL, "layer 7 entry \"/etc/x\": absolute path" },
		{ "dir/file/x", AE_IFREG, NULL, WD_EINVAL,
		  "layer 7 entry \"dir/file/x\": \"dir/file\" is not a directory" },
		{ "dir/link/x", AE_IFREG, NULL, WD_EINVAL,
		  "layer 7 entry \"dir/link/x\": \"dir/link\" is a symlink: writing through a "
		  "symlink is rejected" },
		{ "h", AE_IFREG, "nothere", WD_EINVAL,
		  "layer 7 entry \"h\": hard link target \"nothere\" not found in the image" },
		{ "h", AE_IFREG, "dir", WD_EINVAL,
		  "layer 7 entry \"h\": hard link target \"dir\" is not a regular file" },
		{ "dir/.wh.", AE_IFREG, NULL, WD_EINVAL,
		  "layer 7 entry \"dir/.wh.\": whiteout without a valid name" },
	};
	struct fixture *f = *state;
	struct wd_error err = { 0 };
	struct tar_builder b;

	tar_begin(&b);
	tar_add(&b, "dir/file", AE_IFREG, 0644, "data", NULL);
	tar_add(&b, "dir/link", AE_IFLNK, 0777, NULL, "/");
	tar_end(&b);
	assert_int_equal(apply(&f->tree, &b, 1, &err), 0);

	for (size_t i = 0; i < WD_ARRAY_LEN(cases); i++) {
		tar_begin(&b);
		tar_add(&b, cases[i].name, cases[i].type, 0644, NULL, cases[i].link);
		tar_end(&b);
		wd_error_clear(&err);
		assert_int_equal(apply(&f->tree, &b, 7, &err), cases[i].code);
		assert_string_equal(err.detail, cases[i].message);
	}
	/* The symlink was not followed by anything above. */
	assert_true(S_ISLNK(mode_of(&f->tree, "dir/link")));
}

static void limits_stop_layers(void **state)
{
	struct fixture *f = *state;
	struct wd_error err = { 0 };
	struct tar_builder b;
	char data[5000], expected[128];

	memset(data, 'x', sizeof(data) - 1);
	data[sizeof(data) - 1] = '\0';

	f->tree.limits.max_entry_bytes = 4096;
	tar_begin(&b);
	tar_add(&b, "big", AE_IFREG, 0644, data, NULL);
	tar_end(&b);
	assert_int_equal(apply(&f->tree, &b, 1, &err), WD_ETOOBIG);
	assert_string_equal(err.detail, "layer 1 entry \"big\": file of 4999 bytes exceeds "
		"max-entry-bytes (4096 bytes)");

	f->tree.limits.max_entry_bytes = 1 << 20;
	f->tree.limits.max_entries = f->tree.entries + 2;
	tar_begin(&b);
	tar_add(&b, "one", AE_IFREG, 0644, "1", NULL);
	tar_add(&b, "two", AE_IFREG, 0644, "2", NULL);
	tar_add(&b, "three", AE_IFREG, 0644, "3", NULL);
	tar_end(&b);
	snprintf(expected, sizeof(expected), "layer 2 entry \"three\": more entries than "
		"max-entries (%llu)", (unsigned long long)f->tree.limits.max_entries);
	assert_int_equal(apply(&f->tree, &b, 2, &err), WD_ETOOBIG);
	assert_string_equal(err.detail, expected);
}

static void garbage_layer_rejected(void **state)
{
	struct fixture *f = *state;
	struct wd_error err = { 0 };
	struct tar_builder b = { 0 };

	b.data = malloc(600);
	assert_non_null(b.data);
	memset(b.data, 'z', 600);
	b.used = 600;
	assert_int_equal(apply(&f->tree, &b, 4, &err), WD_EINVAL);
	assert_string_equal(err.detail, "layer 4: not a tar stream: Unrecognized archive format");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(normalize_cases),
		cmocka_unit_test(normalize_lengths),
		cmocka_unit_test(whiteout_names),
		cmocka_unit_test(symlink_targets),
		cmocka_unit_test(quote_names),
		cmocka_unit_test(inode_set),
		cmocka_unit_test(digest_texts),
		cmocka_unit_test_setup_teardown(work_dir_private, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(layers_with_whiteouts, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(hostile_entries, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(limits_stop_layers, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(garbage_layer_rejected, fixture_setup,
			fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
