/* Unit tests for bounded reads, atomic writes, mkdir -p and the private-file
 * check, in a scratch directory under /tmp. */
#include <dirent.h>
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

#include "common/file.h"

struct scratch {
	char dir[64];
};

static int scratch_setup(void **state)
{
	struct scratch *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	snprintf(s->dir, sizeof(s->dir), "/tmp/wd-test-file-XXXXXX");
	if (!mkdtemp(s->dir))
		return -1;
	*state = s;
	return 0;
}

static int scratch_teardown(void **state)
{
	struct scratch *s = *state;
	char command[128];

	snprintf(command, sizeof(command), "rm -rf '%s'", s->dir);
	if (system(command) != 0)
		return -1;
	free(s);
	return 0;
}

static void path_in(const struct scratch *s, const char *name, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", s->dir, name);
}

/* Counts the entries of dir other than "." and "..". */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *entry;
	int count = 0;

	assert_non_null(d);
	while ((entry = readdir(d))) {
		if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0)
			count++;
	}
	closedir(d);
	return count;
}

static void file_write_then_read(void **state)
{
	struct scratch *s = *state;
	char path[128];
	struct stat st;
	struct wd_error err;
	uint8_t *data = NULL;
	size_t len = 0;

	path_in(s, "state.json", path, sizeof(path));
	assert_int_equal(wd_file_write_atomic(path, "{\"a\":1}", 7, 0640, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(wd_file_read(path, 1024, &data, &len, &err), 0);
	assert_int_equal(len, 7);
	assert_string_equal((char *)data, "{\"a\":1}");
	free(data);

	/* Replacing keeps no temporary file behind. */
	assert_int_equal(wd_file_write_atomic(path, "", 0, 0600, &err), 0);
	assert_int_equal(wd_file_read(path, 1024, &data, &len, &err), 0);
	assert_int_equal(len, 0);
	assert_string_equal((char *)data, "");
	free(data);
	assert_int_equal(count_entries(s->dir), 1);
}

static void file_read_ceiling(void **state)
{
	struct scratch *s = *state;
	char path[128], expected[256];
	struct wd_error err;
	uint8_t *data = (uint8_t *)1;
	size_t len = 3;

	path_in(s, "big", path, sizeof(path));
	assert_int_equal(wd_file_write_atomic(path, "0123456789", 10, 0600, &err), 0);
	assert_int_equal(wd_file_read(path, 9, &data, &len, &err), WD_ETOOBIG);
	assert_null(data);
	assert_int_equal(len, 0);
	snprintf(expected, sizeof(expected), "'%s' is larger than the limit of 9 bytes", path);
	assert_string_equal(err.detail, expected);

	assert_int_equal(wd_file_read(path, 10, &data, &len, &err), 0);
	assert_int_equal(len, 10);
	free(data);
}

static void file_read_errors_named(void **state)
{
	struct scratch *s = *state;
	char path[128];
	struct wd_error err;
	uint8_t *data = NULL;
	size_t len = 0;

	path_in(s, "absent", path, sizeof(path));
	assert_int_equal(wd_file_read(path, 10, &data, &len, &err), WD_ENOTFOUND);
	assert_non_null(strstr(err.detail, path));
	assert_non_null(strstr(err.detail, "No such file"));

	assert_int_equal(wd_file_read(s->dir, 10, &data, &len, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "not a regular file"));

	path_in(s, "fifo", path, sizeof(path));
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(wd_file_read(path, 10, &data, &len, &err), WD_EINVAL);
	assert_null(data);
}

static void file_write_rejects_bad_paths(void **state)
{
	struct scratch *s = *state;
	char path[128];
	struct wd_error err;

	path_in(s, "missing-dir/file", path, sizeof(path));
	assert_int_equal(wd_file_write_atomic(path, "x", 1, 0600, &err), WD_ENOTFOUND);
	path_in(s, "dir/", path, sizeof(path));
	assert_int_equal(wd_file_write_atomic(path, "x", 1, 0600, &err), WD_EINVAL);
	assert_int_equal(wd_file_write_atomic("", "x", 1, 0600, &err), WD_EINVAL);
}

static void mkdir_p_creates_parents(void **state)
{
	struct scratch *s = *state;
	char path[128];
	struct stat st;
	struct wd_error err;

	path_in(s, "a/b//c/", path, sizeof(path));
	assert_int_equal(wd_mkdir_p(path, 0700, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(wd_mkdir_p(path, 0700, &err), 0);

	path_in(s, "a/file", path, sizeof(path));
	assert_int_equal(wd_file_write_atomic(path, "x", 1, 0600, &err), 0);
	path_in(s, "a/file/sub", path, sizeof(path));
	assert_int_equal(wd_mkdir_p(path, 0700, &err), WD_EEXIST);
	assert_non_null(strstr(err.detail, "a file is in the way"));
	assert_int_equal(wd_mkdir_p("", 0700, &err), WD_EINVAL);
}

static void check_private_modes(void **state)
{
	struct scratch *s = *state;
	char path[128];
	struct wd_error err;

	path_in(s, "key.pem", path, sizeof(path));
	assert_int_equal(wd_file_write_atomic(path, "k", 1, 0600, &err), 0);
	assert_int_equal(wd_file_check_private(path, &err), 0);
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(wd_file_check_private(path, &err), 0);

	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(wd_file_check_private(path, &err), WD_EPERM);
	assert_non_null(strstr(err.detail, "has mode 0640"));
	assert_int_equal(chmod(path, 0604), 0);
	assert_int_equal(wd_file_check_private(path, &err), WD_EPERM);
	assert_int_equal(chmod(path, 0610), 0);
	assert_int_equal(wd_file_check_private(path, &err), WD_EPERM);

	assert_int_equal(wd_file_check_private(s->dir, &err), WD_EPERM);
	path_in(s, "absent.pem", path, sizeof(path));
	assert_int_equal(wd_file_check_private(path, &err), WD_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(file_write_then_read, scratch_setup, scratch_teardown),
		cmocka_unit_test_setup_teardown(file_read_ceiling, scratch_setup, scratch_teardown),
		cmocka_unit_test_setup_teardown(file_read_errors_named, scratch_setup, scratch_teardown),
		cmocka_unit_test_setup_teardown(file_write_rejects_bad_paths, scratch_setup,
			scratch_teardown),
		cmocka_unit_test_setup_teardown(mkdir_p_creates_parents, scratch_setup, scratch_teardown),
		cmocka_unit_test_setup_teardown(check_private_modes, scratch_setup, scratch_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
