/* Unit tests of the progress line: what it draws, how often, and that it
 * draws nothing when disabled. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "supply/progress.h"

/* Reads what the progress line wrote into the pipe so far. */
static size_t drain(int fd, char *out, size_t size)
{
	size_t len = 0;
	ssize_t n;

	while (len + 1 < size && (n = read(fd, out + len, size - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	return len;
}

static void open_pipe(int fds[2])
{
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
}

static void progress_draws_bar(void **state)
{
	struct progress p;
	char out[1024];
	int fds[2];

	(void)state;
	open_pipe(fds);
	progress_init_fd(&p, fds[1]);
	progress_start(&p, "hashing executables", PROGRESS_BYTES, 4ull << 30);
	drain(fds[0], out, sizeof(out));
	assert_string_equal(out, "\r\033[Khashing executables [------------------------------]   0%"
				 "  0 B / 4.0 GiB");

	/* Within the interval nothing more is drawn. */
	progress_add(&p, 1ull << 30);
	assert_int_equal(drain(fds[0], out, sizeof(out)), 0);

	struct timespec pause = { 0, (PROGRESS_INTERVAL_MS + 20) * 1000000L };
	nanosleep(&pause, NULL);
	progress_add(&p, 0);
	drain(fds[0], out, sizeof(out));
	assert_string_equal(out, "\r\033[Khashing executables [#######-----------------------]  25%"
				 "  1.0 GiB / 4.0 GiB");

	progress_finish(&p);
	drain(fds[0], out, sizeof(out));
	assert_string_equal(out, "\r\033[K");
	close(fds[0]);
	close(fds[1]);
}

static void progress_counts_without_total(void **state)
{
	struct progress p;
	char out[1024];
	int fds[2];

	(void)state;
	open_pipe(fds);
	progress_init_fd(&p, fds[1]);
	progress_start(&p, "scanning files", PROGRESS_ITEMS, 0);
	drain(fds[0], out, sizeof(out));
	assert_string_equal(out, "\r\033[Kscanning files  0");

	/* Ten thousand updates in a burst draw at most once more. */
	for (int i = 0; i < 10000; i++)
		progress_add(&p, 1);
	drain(fds[0], out, sizeof(out));
	int redraws = 0;
	for (const char *c = out; *c; c++)
		redraws += *c == '\r';
	assert_in_range(redraws, 0, 1);

	struct timespec pause = { 0, (PROGRESS_INTERVAL_MS + 20) * 1000000L };
	nanosleep(&pause, NULL);
	progress_set(&p, 123456);
	drain(fds[0], out, sizeof(out));
	assert_string_equal(out, "\r\033[Kscanning files  123456");
	progress_finish(&p);
	close(fds[0]);
	close(fds[1]);
}

static void progress_disabled_draws_nothing(void **state)
{
	struct progress p;
	char out[64];
	int fds[2];

	(void)state;
	open_pipe(fds);
	progress_init_fd(&p, -1);
	progress_start(&p, "scanning files", PROGRESS_ITEMS, 10);
	progress_add(&p, 5);
	progress_finish(&p);
	assert_int_equal(drain(fds[0], out, sizeof(out)), 0);

	/* Every call accepts NULL, so catalogers call them unconditionally. */
	progress_start(NULL, "x", PROGRESS_ITEMS, 1);
	progress_add(NULL, 1);
	progress_set(NULL, 1);
	progress_finish(NULL);
	close(fds[0]);
	close(fds[1]);
}

static void progress_finish_without_draw_is_silent(void **state)
{
	struct progress p;
	char out[64];
	int fds[2];

	(void)state;
	open_pipe(fds);
	progress_init_fd(&p, fds[1]);
	progress_finish(&p);
	assert_int_equal(drain(fds[0], out, sizeof(out)), 0);
	close(fds[0]);
	close(fds[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(progress_draws_bar),
		cmocka_unit_test(progress_counts_without_total),
		cmocka_unit_test(progress_disabled_draws_nothing),
		cmocka_unit_test(progress_finish_without_draw_is_silent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
