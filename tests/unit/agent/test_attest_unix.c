/* Unit tests for unix workload attestation: the test process itself, a
 * child under other credentials, fake /proc trees for start-time changes
 * and the hash cache, and the /proc field parsers. Runs as root so that the
 * child can change its credentials. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "agent/attest_unix.h"
#include "agent/cgroup.h"
#include "agent/proc.h"
#include "common/error.h"

#define FAKE_PID 4242
#define FAKE_START "123456"
#define CONTAINER_ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* Returns the lowercase hex SHA-256 of the file at path, read in full. */
static void sha256_file(const char *path, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char digest[32];
	unsigned char chunk[8192];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	assert_non_null(ctx);
	assert_true(fd >= 0);
	assert_int_equal(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL), 1);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		assert_int_equal(EVP_DigestUpdate(ctx, chunk, (size_t)n), 1);
	assert_int_equal(n, 0);
	assert_int_equal(EVP_DigestFinal_ex(ctx, digest, NULL), 1);
	for (size_t i = 0; i < 32; i++) {
		hex[2 * i] = digits[digest[i] >> 4];
		hex[2 * i + 1] = digits[digest[i] & 0x0f];
	}
	hex[64] = '\0';
	EVP_MD_CTX_free(ctx);
	close(fd);
}

static void own_exe_path(char path[PATH_MAX])
{
	ssize_t n = readlink("/proc/self/exe", path, PATH_MAX - 1);

	assert_true(n > 0);
	path[n] = '\0';
}

/* Returns the path of the "0::" line of /proc/self/cgroup, or "" on a host
 * without cgroup v2. */
static void own_unified_cgroup(char path[PATH_MAX])
{
	char line[PATH_MAX];
	FILE *file = fopen("/proc/self/cgroup", "r");

	assert_non_null(file);
	path[0] = '\0';
	while (fgets(line, sizeof(line), file)) {
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(path, PATH_MAX, "%s", line + 3);
		}
	}
	fclose(file);
}

static void assert_has(const struct agent_selector_set *set, const char *selector)
{
	if (!agent_selector_set_contains(set, selector)) {
		for (size_t i = 0; i < agent_selector_set_count(set); i++)
			print_message("  have %s\n", agent_selector_set_get(set, i));
		fail_msg("selector \"%s\" missing", selector);
	}
}

static void attest_self_process(void **state)
{
	struct attest_peer peer = { getpid(), getuid(), getgid() };
	struct agent_selector_set *set = NULL;
	struct attest_cache *cache = attest_cache_new(0);
	char exe[PATH_MAX];
	char hex[65];
	char cgroup[PATH_MAX];
	char selector[PATH_MAX + 64];
	struct passwd *pw = getpwuid(getuid());
	struct group *gr = getgrgid(getgid());
	struct wd_error err;

	(void)state;
	assert_non_null(cache);
	own_exe_path(exe);
	sha256_file(exe, hex);
	own_unified_cgroup(cgroup);

	if (attest_unix_workload(&peer, NULL, cache, &set, &err) != 0)
		fail_msg("attestation failed: %s", err.detail);

	snprintf(selector, sizeof(selector), "unix:uid:%u", (unsigned int)getuid());
	assert_has(set, selector);
	snprintf(selector, sizeof(selector), "unix:gid:%u", (unsigned int)getgid());
	assert_has(set, selector);
	if (pw) {
		snprintf(selector, sizeof(selector), "unix:user:%s", pw->pw_name);
		assert_has(set, selector);
	}
	if (gr) {
		snprintf(selector, sizeof(selector), "unix:group:%s", gr->gr_name);
		assert_has(set, selector);
	}
	snprintf(selector, sizeof(selector), "unix:path:%s", exe);
	assert_has(set, selector);
	snprintf(selector, sizeof(selector), "unix:sha256:%s", hex);
	assert_has(set, selector);
	if (cgroup[0] != '\0') {
		snprintf(selector, sizeof(selector), "cgroup:%s", cgroup);
		assert_has(set, selector);
	}
	assert_int_equal(attest_cache_hash_count(cache), 1);

	agent_selector_set_free(set);
	attest_cache_free(cache);
}

static const gid_t child_groups[] = { 100, 4242, 65534 };

/* Forks a child that takes uid and gid 65534 with child_groups as its
 * supplementary groups, then waits for a byte on the returned pipe. */
static pid_t spawn_nobody_child(int *ret_release_fd)
{
	int ready[2];
	int release[2];
	pid_t pid;
	char byte;

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(release), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(ready[0]);
		close(release[1]);
		if (setgroups(WD_ARRAY_LEN(child_groups), child_groups) != 0 || setgid(65534) != 0 ||
		    setuid(65534) != 0)
			_exit(2);
		/* A credential change clears the dumpable flag, which would hide
		 * /proc/PID/exe from a parent without CAP_SYS_PTRACE. */
		prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
		if (write(ready[1], "r", 1) != 1)
			_exit(3);
		if (read(release[0], &byte, 1) < 0)
			_exit(4);
		_exit(0);
	}
	close(ready[1]);
	close(release[0]);
	assert_int_equal(read(ready[0], &byte, 1), 1);
	close(ready[0]);
	*ret_release_fd = release[1];
	return pid;
}

static void attest_child_exact_selectors(void **state)
{
	struct agent_selector_set *set = NULL;
	struct agent_selector_set *expected = agent_selector_set_new(0);
	char exe[PATH_MAX];
	char hex[65];
	char cgroup[PATH_MAX];
	char selector[PATH_MAX + 64];
	struct wd_error err;
	int release_fd;
	int status;
	pid_t pid;

	(void)state;
	if (getuid() != 0)
		skip();
	own_exe_path(exe);
	sha256_file(exe, hex);
	own_unified_cgroup(cgroup);

	/* Expected: ids and their names, each supplementary group with its name
	 * where the group database has one, the executable and the cgroup. */
	assert_int_equal(agent_selector_set_add(expected, "unix:uid:65534", NULL), 0);
	assert_int_equal(agent_selector_set_add(expected, "unix:gid:65534", NULL), 0);
	if (getpwuid(65534)) {
		snprintf(selector, sizeof(selector), "unix:user:%s", getpwuid(65534)->pw_name);
		assert_int_equal(agent_selector_set_add(expected, selector, NULL), 0);
	}
	if (getgrgid(65534)) {
		snprintf(selector, sizeof(selector), "unix:group:%s", getgrgid(65534)->gr_name);
		assert_int_equal(agent_selector_set_add(expected, selector, NULL), 0);
	}
	for (size_t i = 0; i < WD_ARRAY_LEN(child_groups); i++) {
		struct group *gr = getgrgid(child_groups[i]);

		snprintf(selector, sizeof(selector), "unix:supplementary_gid:%u",
			(unsigned int)child_groups[i]);
		assert_int_equal(agent_selector_set_add(expected, selector, NULL), 0);
		if (gr) {
			snprintf(selector, sizeof(selector), "unix:supplementary_group:%s",
				gr->gr_name);
			assert_int_equal(agent_selector_set_add(expected, selector, NULL), 0);
		}
	}
	snprintf(selector, sizeof(selector), "unix:path:%s", exe);
	assert_int_equal(agent_selector_set_add(expected, selector, NULL), 0);
	snprintf(selector, sizeof(selector), "unix:sha256:%s", hex);
	assert_int_equal(agent_selector_set_add(expected, selector, NULL), 0);
	if (cgroup[0] != '\0') {
		snprintf(selector, sizeof(selector), "cgroup:%s", cgroup);
		assert_int_equal(agent_selector_set_add(expected, selector, NULL), 0);
	}

	pid = spawn_nobody_child(&release_fd);
	{
		struct attest_peer peer = { pid, 65534, 65534 };
		int rc = attest_unix_workload(&peer, NULL, NULL, &set, &err);

		assert_int_equal(write(release_fd, "x", 1), 1);
		close(release_fd);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
		if (rc != 0)
			fail_msg("attestation failed: %s", err.detail);
	}

	/* A container id only appears when the test itself runs in one. */
	for (size_t i = 0; i < agent_selector_set_count(set); i++) {
		const char *have = agent_selector_set_get(set, i);

		if (strncmp(have, "cgroup:container_id:", 20) == 0)
			assert_int_equal(agent_selector_set_add(expected, have, NULL), 0);
	}
	assert_int_equal(agent_selector_set_count(set), agent_selector_set_count(expected));
	for (size_t i = 0; i < agent_selector_set_count(expected); i++)
		assert_string_equal(agent_selector_set_get(set, i),
			agent_selector_set_get(expected, i));
	agent_selector_set_free(set);
	agent_selector_set_free(expected);
}

struct reap_arg {
	pid_t pid;
	int release_fd;
};

/* Ends and reaps the child in the middle of attestation. */
static void reap_child(void *arg)
{
	struct reap_arg *reap = arg;
	int status;

	kill(reap->pid, SIGKILL);
	close(reap->release_fd);
	assert_int_equal(waitpid(reap->pid, &status, 0), reap->pid);
}

static void attest_child_exits_midway(void **state)
{
	struct reap_arg reap;
	struct attest_options opts = { .before_recheck = reap_child, .before_recheck_arg = &reap };
	struct agent_selector_set *set = (struct agent_selector_set *)1;
	struct attest_peer peer;
	struct wd_error err;
	char expected[128];

	(void)state;
	if (getuid() != 0)
		skip();
	reap.pid = spawn_nobody_child(&reap.release_fd);
	peer = (struct attest_peer){ reap.pid, 65534, 65534 };
	assert_int_equal(attest_unix_workload(&peer, &opts, NULL, &set, &err), WD_ENOTFOUND);
	assert_null(set);
	snprintf(expected, sizeof(expected), "process %d exited during attestation", (int)reap.pid);
	assert_string_equal(err.detail, expected);
}

static void attest_missing_process(void **state)
{
	struct agent_selector_set *set = NULL;
	struct attest_peer peer = { 0, 0, 0 };
	struct wd_error err;
	char expected[128];
	int status;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, &status, 0), pid);

	peer.pid = pid;
	assert_int_equal(attest_unix_workload(&peer, NULL, NULL, &set, &err), WD_ENOTFOUND);
	assert_null(set);
	snprintf(expected, sizeof(expected), "process %d not found", (int)pid);
	assert_non_null(strstr(err.detail, expected));

	peer.pid = 0;
	assert_int_equal(attest_unix_workload(&peer, NULL, NULL, &set, &err), WD_EINVAL);
	assert_string_equal(err.detail, "invalid pid 0: must be positive");
	peer.pid = -5;
	assert_int_equal(attest_unix_workload(&peer, NULL, NULL, &set, &err), WD_EINVAL);
	assert_int_equal(attest_unix_workload(NULL, NULL, NULL, &set, &err), WD_EINVAL);
}

/* A fake /proc tree in a temporary directory: root/4242/{stat,status,
 * cgroup} and an exe symlink to root/binary. */
struct fake_proc {
	char root[64];
	char pid_dir[96];
	char binary[96];
};

static void write_text(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *file;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	file = fopen(path, "w");
	assert_non_null(file);
	assert_int_equal(fputs(text, file) >= 0, 1);
	assert_int_equal(fclose(file), 0);
}

static void write_stat(const struct fake_proc *fake, const char *start_time)
{
	char stat[512];

	/* comm contains spaces and parentheses, as a process may choose. */
	snprintf(stat, sizeof(stat),
		"%d (a) (b c)) S 1 %d %d 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 %s 1000 200 "
		"18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 3 0 0 0 0 0\n",
		FAKE_PID, FAKE_PID, FAKE_PID, start_time);
	write_text(fake->pid_dir, "stat", stat);
}

static int fake_proc_setup(void **state)
{
	struct fake_proc *fake = calloc(1, sizeof(*fake));
	char exe_link[160];

	assert_non_null(fake);
	snprintf(fake->root, sizeof(fake->root), "/tmp/wd-fake-proc-XXXXXX");
	assert_non_null(mkdtemp(fake->root));
	snprintf(fake->pid_dir, sizeof(fake->pid_dir), "%s/%d", fake->root, FAKE_PID);
	assert_int_equal(mkdir(fake->pid_dir, 0700), 0);
	snprintf(fake->binary, sizeof(fake->binary), "%s/binary", fake->root);
	write_text(fake->root, "binary", "#!/bin/sh\necho first version\n");
	snprintf(exe_link, sizeof(exe_link), "%s/exe", fake->pid_dir);
	assert_int_equal(symlink(fake->binary, exe_link), 0);

	write_stat(fake, FAKE_START);
	write_text(fake->pid_dir, "status",
		"Name:\tfake\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\n"
		"Uid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\nFDSize:\t64\n"
		"Groups:\t4 24 \nNStgid:\t4242\n");
	write_text(fake->pid_dir, "cgroup",
		"0::/kubepods.slice/kubepods-burstable.slice/cri-containerd-" CONTAINER_ID
		".scope\n");
	*state = fake;
	return 0;
}

static int fake_proc_teardown(void **state)
{
	struct fake_proc *fake = *state;
	static const char *const names[] = { "stat", "status", "cgroup", "exe" };
	char path[256];

	for (size_t i = 0; i < WD_ARRAY_LEN(names); i++) {
		snprintf(path, sizeof(path), "%s/%s", fake->pid_dir, names[i]);
		unlink(path);
	}
	rmdir(fake->pid_dir);
	unlink(fake->binary);
	rmdir(fake->root);
	free(fake);
	return 0;
}

static void fake_tree_selectors(void **state)
{
	struct fake_proc *fake = *state;
	struct attest_options opts = { .proc_root = fake->root };
	struct attest_peer peer = { FAKE_PID, 1000, 1000 };
	struct agent_selector_set *set = NULL;
	char selector[256];
	char hex[65];
	struct wd_error err;

	(void)state;
	sha256_file(fake->binary, hex);
	if (attest_unix_workload(&peer, &opts, NULL, &set, &err) != 0)
		fail_msg("attestation failed: %s", err.detail);

	assert_has(set, "unix:uid:1000");
	assert_has(set, "unix:gid:1000");
	assert_has(set, "unix:supplementary_gid:4");
	assert_has(set, "unix:supplementary_gid:24");
	snprintf(selector, sizeof(selector), "unix:path:%s", fake->binary);
	assert_has(set, selector);
	snprintf(selector, sizeof(selector), "unix:sha256:%s", hex);
	assert_has(set, selector);
	assert_has(set, "cgroup:/kubepods.slice/kubepods-burstable.slice/cri-containerd-"
		CONTAINER_ID ".scope");
	assert_has(set, "cgroup:container_id:" CONTAINER_ID);
	agent_selector_set_free(set);

	/* Without the workload path, neither path nor hash is read. */
	opts.skip_workload_path = true;
	assert_int_equal(attest_unix_workload(&peer, &opts, NULL, &set, &err), 0);
	for (size_t i = 0; i < agent_selector_set_count(set); i++)
		assert_null(strstr(agent_selector_set_get(set, i), "unix:path:"));
	snprintf(selector, sizeof(selector), "unix:sha256:%s", hex);
	assert_false(agent_selector_set_contains(set, selector));
	agent_selector_set_free(set);
}

struct restat_arg {
	const struct fake_proc *fake;
};

/* Stands in for a pid reused by a new process between the two reads. */
static void replace_start_time(void *arg)
{
	struct restat_arg *restat = arg;

	write_stat(restat->fake, "123999");
}

static void fake_tree_start_time_change(void **state)
{
	struct fake_proc *fake = *state;
	struct restat_arg restat = { fake };
	struct attest_options opts = { .proc_root = fake->root,
		.before_recheck = replace_start_time, .before_recheck_arg = &restat };
	struct attest_peer peer = { FAKE_PID, 1000, 1000 };
	struct agent_selector_set *set = (struct agent_selector_set *)1;
	struct wd_error err;

	assert_int_equal(attest_unix_workload(&peer, &opts, NULL, &set, &err), WD_ECONFLICT);
	assert_null(set);
	assert_string_equal(err.detail,
		"process 4242 was replaced during attestation (start time 123456, then 123999)");
}

static void fake_tree_hash_cache(void **state)
{
	struct fake_proc *fake = *state;
	struct attest_options opts = { .proc_root = fake->root };
	struct attest_peer peer = { FAKE_PID, 1000, 1000 };
	struct attest_cache *cache = attest_cache_new(4);
	struct agent_selector_set *set = NULL;
	struct timespec times[2];
	char selector[256];
	char first_hex[65];
	char second_hex[65];

	assert_non_null(cache);
	sha256_file(fake->binary, first_hex);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(attest_unix_workload(&peer, &opts, cache, &set, NULL), 0);
		snprintf(selector, sizeof(selector), "unix:sha256:%s", first_hex);
		assert_has(set, selector);
		agent_selector_set_free(set);
	}
	assert_int_equal(attest_cache_hash_count(cache), 1);

	/* A new mtime alone forces a new hash, with the same result. */
	times[0].tv_sec = 1000000000;
	times[0].tv_nsec = 0;
	times[1] = times[0];
	assert_int_equal(utimensat(AT_FDCWD, fake->binary, times, 0), 0);
	assert_int_equal(attest_unix_workload(&peer, &opts, cache, &set, NULL), 0);
	assert_has(set, selector);
	agent_selector_set_free(set);
	assert_int_equal(attest_cache_hash_count(cache), 2);

	/* New contents of the same size, with the mtime set back: the ctime
	 * still changes, so the stale hash is not served. */
	write_text(fake->root, "binary", "#!/bin/sh\necho other version\n");
	assert_int_equal(utimensat(AT_FDCWD, fake->binary, times, 0), 0);
	sha256_file(fake->binary, second_hex);
	assert_string_not_equal(first_hex, second_hex);
	assert_int_equal(attest_unix_workload(&peer, &opts, cache, &set, NULL), 0);
	snprintf(selector, sizeof(selector), "unix:sha256:%s", second_hex);
	assert_has(set, selector);
	agent_selector_set_free(set);
	assert_int_equal(attest_cache_hash_count(cache), 3);

	attest_cache_free(cache);
	attest_cache_free(NULL);
	assert_int_equal(attest_cache_hash_count(NULL), 0);
}

static void fake_tree_exe_too_big(void **state)
{
	struct fake_proc *fake = *state;
	struct attest_options opts = { .proc_root = fake->root, .max_exe_size = 8 };
	struct attest_peer peer = { FAKE_PID, 1000, 1000 };
	struct agent_selector_set *set = NULL;
	struct wd_error err;

	assert_int_equal(attest_unix_workload(&peer, &opts, NULL, &set, &err), WD_ETOOBIG);
	assert_null(set);
	assert_non_null(strstr(err.detail, "executable of process 4242 is 29 bytes"));
	assert_non_null(strstr(err.detail, "more than the maximum 8"));
}

static void fake_tree_missing_pid(void **state)
{
	struct fake_proc *fake = *state;
	struct attest_options opts = { .proc_root = fake->root };
	struct attest_peer peer = { 99999, 0, 0 };
	struct agent_selector_set *set = NULL;
	struct wd_error err;

	assert_int_equal(attest_unix_workload(&peer, &opts, NULL, &set, &err), WD_ENOTFOUND);
	assert_non_null(strstr(err.detail, "process 99999 not found"));
}

static void fake_tree_bad_status(void **state)
{
	struct fake_proc *fake = *state;
	struct attest_options opts = { .proc_root = fake->root, .max_selectors = 6 };
	struct attest_peer peer = { FAKE_PID, 1000, 1000 };
	struct agent_selector_set *set = NULL;
	struct wd_error err;

	/* Three groups, each worth two selectors, exceed a ceiling of 6 / 2. */
	write_text(fake->pid_dir, "status", "Name:\tfake\nGroups:\t1 2 3 4\n");
	assert_int_equal(attest_unix_workload(&peer, &opts, NULL, &set, &err), WD_ETOOBIG);
	assert_string_equal(err.detail, "process 4242 has more than 3 supplementary groups");

	write_text(fake->pid_dir, "status", "Name:\tfake\n");
	opts.max_selectors = 0;
	assert_int_equal(attest_unix_workload(&peer, &opts, NULL, &set, &err), WD_EINVAL);
	assert_string_equal(err.detail,
		"invalid /proc/4242/status: missing or malformed Groups line");

	write_stat(fake, "x");
	assert_int_equal(attest_unix_workload(&peer, &opts, NULL, &set, &err), WD_EINVAL);
	assert_string_equal(err.detail, "invalid /proc/4242/stat: no start time in field 22");
}

static void proc_start_time_parsing(void **state)
{
	static const struct {
		const char *stat;
		int rc;
		uint64_t ticks;
	} cases[] = {
		{ "1 (init) S 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 42 100 5", 0, 42 },
		{ "7 (a) b) c) R 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 777\n", 0, 777 },
		{ "7 ()) S 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 18446744073709551615 1", 0,
			UINT64_MAX },
		{ "7 (x) S 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 18446744073709551616 1",
			WD_EINVAL, 0 },
		{ "7 (x) S 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0", WD_EINVAL, 0 },
		{ "7 (x) S 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 -5", WD_EINVAL, 0 },
		{ "7 (x) S 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 12x", WD_EINVAL, 0 },
		{ "7 (x) S  0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 12", WD_EINVAL, 0 },
		{ "7 (x S 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 12", WD_EINVAL, 0 },
		{ "", WD_EINVAL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < WD_ARRAY_LEN(cases); i++) {
		uint64_t ticks = 99;
		int rc = attest_proc_parse_start_time(cases[i].stat, strlen(cases[i].stat), &ticks);

		if (rc != cases[i].rc)
			fail_msg("case %zu: rc %d, expected %d", i, rc, cases[i].rc);
		assert_int_equal(ticks, cases[i].ticks);
	}
}

static void proc_groups_parsing(void **state)
{
	gid_t *gids = NULL;
	size_t count = 0;
	static const char status[] = "Name:\tx\nGroups:\t4 24 27 65534 \nNgid:\t0\n";
	static const char empty[] = "Name:\tx\nGroups:\t\nNgid:\t0\n";
	static const char bad[] = "Groups:\t4 x\n";
	static const char too_large[] = "Groups:\t4294967296\n";

	(void)state;
	assert_int_equal(attest_proc_parse_groups(status, strlen(status), 16, &gids, &count), 0);
	assert_int_equal(count, 4);
	assert_int_equal(gids[0], 4);
	assert_int_equal(gids[1], 24);
	assert_int_equal(gids[2], 27);
	assert_int_equal(gids[3], 65534);
	free(gids);

	assert_int_equal(attest_proc_parse_groups(empty, strlen(empty), 16, &gids, &count), 0);
	assert_int_equal(count, 0);
	assert_null(gids);

	assert_int_equal(attest_proc_parse_groups(status, strlen(status), 3, &gids, &count),
		WD_ETOOBIG);
	assert_null(gids);
	assert_int_equal(attest_proc_parse_groups(bad, strlen(bad), 16, &gids, &count), WD_EINVAL);
	assert_int_equal(attest_proc_parse_groups(too_large, strlen(too_large), 16, &gids, &count),
		WD_EINVAL);
	assert_int_equal(attest_proc_parse_groups("Name:\tx\n", 8, 16, &gids, &count), WD_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(attest_self_process),
		cmocka_unit_test(attest_child_exact_selectors),
		cmocka_unit_test(attest_child_exits_midway),
		cmocka_unit_test(attest_missing_process),
		cmocka_unit_test_setup_teardown(fake_tree_selectors, fake_proc_setup,
			fake_proc_teardown),
		cmocka_unit_test_setup_teardown(fake_tree_start_time_change, fake_proc_setup,
			fake_proc_teardown),
		cmocka_unit_test_setup_teardown(fake_tree_hash_cache, fake_proc_setup,
			fake_proc_teardown),
		cmocka_unit_test_setup_teardown(fake_tree_exe_too_big, fake_proc_setup,
			fake_proc_teardown),
		cmocka_unit_test_setup_teardown(fake_tree_missing_pid, fake_proc_setup,
			fake_proc_teardown),
		cmocka_unit_test_setup_teardown(fake_tree_bad_status, fake_proc_setup,
			fake_proc_teardown),
		cmocka_unit_test(proc_start_time_parsing),
		cmocka_unit_test(proc_groups_parsing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
