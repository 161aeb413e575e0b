/* Unit tests for /proc/PID/cgroup parsing: container ids from the cgroup
 * names of docker, containerd, cri-o and podman, with the cgroupfs and
 * systemd drivers, on cgroup v2, v1 and hybrid hosts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/cgroup.h"
#include "common/error.h"

#define ID_A "3f8a1b2c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8"
#define ID_B "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define POD "pod8d4e5f6a-1b2c-4d3e-9f80-a1b2c3d4e5f6"
#define POD_SLICE "pod8d4e5f6a_1b2c_4d3e_9f80_a1b2c3d4e5f6"

static void container_id_from_paths(void **state)
{
	static const struct {
		const char *path;
		const char *id;  /* "" for none */
	} cases[] = {
		/* docker, cgroupfs driver and systemd driver */
		{ "/docker/" ID_A, ID_A },
		{ "/system.slice/docker-" ID_A ".scope", ID_A },
		/* docker in docker: the innermost container wins */
		{ "/docker/" ID_B "/docker/" ID_A, ID_A },
		/* kubernetes + containerd, cgroupfs driver */
		{ "/kubepods/besteffort/" POD "/" ID_A, ID_A },
		{ "/kubepods/burstable/" POD "/" ID_B, ID_B },
		/* kubernetes + containerd, systemd driver */
		{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-" POD_SLICE
		  ".slice/cri-containerd-" ID_A ".scope",
			ID_A },
		/* containerd's "slice:runtime:id" naming under the systemd driver */
		{ "/system.slice/containerd.service/kubepods-burstable-" POD_SLICE
		  ".slice:cri-containerd:" ID_B,
			ID_B },
		/* kubernetes + cri-o */
		{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-" POD_SLICE
		  ".slice/crio-" ID_A ".scope",
			ID_A },
		{ "/kubepods-burstable-" POD_SLICE ".slice:crio:" ID_B, ID_B },
		/* cri-o's monitor process is not the container */
		{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-" POD_SLICE
		  ".slice/crio-conmon-" ID_A ".scope",
			"" },
		/* podman */
		{ "/machine.slice/libpod-" ID_B ".scope", ID_B },
		{ "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID_B ".scope",
			"" },
		/* a child cgroup inside the container's scope */
		{ "/system.slice/docker-" ID_A ".scope/init.scope", ID_A },
		/* systemd services and sessions: no container */
		{ "/system.slice/nginx.service", "" },
		{ "/user.slice/user-1000.slice/session-3.scope", "" },
		{ "/", "" },
		{ "/init.scope", "" },
		/* a user's delegated subtree can name cgroups anything */
		{ "/user.slice/user-1000.slice/user@1000.service/app.slice/docker-" ID_A ".scope",
			"" },
		{ "/user.slice/user-1000.slice/user@1000.service/" ID_A, "" },
		/* near misses */
		{ "/docker/" ID_A "0", "" },
		{ "/docker/3F8A1B2C4D5E6F708192A3B4C5D6E7F8091A2B3C4D5E6F708192A3B4C5D6E7F8", "" },
		{ "/system.slice/docker-" ID_A ".service", "" },
		{ "/system.slice/docker-abc.scope", "" },
		{ "/kubepods/besteffort/" POD "/g" ID_A, "" },
		{ "/x.slice:unknown:" ID_A, "" },
	};

	(void)state;
	for (size_t i = 0; i < WD_ARRAY_LEN(cases); i++) {
		char id[ATTEST_CONTAINER_ID_LEN + 1];
		bool found = attest_cgroup_container_id(cases[i].path, strlen(cases[i].path), id);

		if (cases[i].id[0] == '\0') {
			if (found)
				fail_msg("case %zu: \"%s\" gave %s, expected none", i, cases[i].path, id);
			assert_string_equal(id, "");
		} else {
			if (!found)
				fail_msg("case %zu: \"%s\" gave no id", i, cases[i].path);
			assert_string_equal(id, cases[i].id);
		}
	}
}

static void parse_files(void **state)
{
	static const struct {
		const char *text;
		const char *unified;  /* NULL: no 0:: line */
		const char *id;
	} cases[] = {
		/* cgroup v2 only */
		{ "0::/system.slice/foo.service\n", "/system.slice/foo.service", "" },
		{ "0::/system.slice/docker-" ID_A ".scope\n", "/system.slice/docker-" ID_A ".scope",
			ID_A },
		/* no trailing newline */
		{ "0::/kubepods/besteffort/" POD "/" ID_B, "/kubepods/besteffort/" POD "/" ID_B, ID_B },
		/* cgroup v1 only (docker on an older host) */
		{ "12:memory:/docker/" ID_A "\n"
		  "11:cpu,cpuacct:/docker/" ID_A "\n"
		  "3:devices:/docker/" ID_A "\n"
		  "1:name=systemd:/docker/" ID_A "\n",
			NULL, ID_A },
		/* hybrid: v1 controllers plus the unified line */
		{ "12:pids:/system.slice/containerd.service\n"
		  "5:cpuset:/kubepods/burstable/" POD "/" ID_B "\n"
		  "1:name=systemd:/kubepods/burstable/" POD "/" ID_B "\n"
		  "0::/kubepods/burstable/" POD "/" ID_B "\n",
			"/kubepods/burstable/" POD "/" ID_B, ID_B },
		/* hybrid where only a v1 line names the container */
		{ "4:memory:/docker/" ID_A "\n"
		  "1:name=systemd:/system.slice/docker.service\n"
		  "0::/system.slice/docker.service\n",
			"/system.slice/docker.service", ID_A },
		/* v1 host process in a systemd service */
		{ "10:memory:/system.slice/sshd.service\n1:name=systemd:/system.slice/sshd.service\n",
			NULL, "" },
		/* the root of a cgroup namespace */
		{ "0::/\n", "/", "" },
		/* paths outside the cgroup namespace root */
		{ "0::/../../system.slice/foo.service\n", "/../../system.slice/foo.service", "" },
		/* empty lines are skipped */
		{ "\n0::/a\n\n", "/a", "" },
		{ "", NULL, "" },
	};

	(void)state;
	for (size_t i = 0; i < WD_ARRAY_LEN(cases); i++) {
		struct attest_cgroup_info info;
		struct wd_error err;
		int rc = attest_cgroup_parse(cases[i].text, strlen(cases[i].text), &info, &err);

		if (rc != 0)
			fail_msg("case %zu failed: %s", i, err.detail);
		if (cases[i].unified)
			assert_string_equal(info.unified_path, cases[i].unified);
		else
			assert_null(info.unified_path);
		assert_string_equal(info.container_id, cases[i].id);
		attest_cgroup_info_clear(&info);
	}
}

static void parse_rejects_malformed(void **state)
{
	static const struct {
		const char *text;
		const char *detail;
	} cases[] = {
		{ "garbage\n", "invalid cgroup line 1 \"garbage\"" },
		{ "0::/a\nno colons here\n", "invalid cgroup line 2" },
		{ "0:/a\n", "invalid cgroup line 1" },
		{ "0::relative\n", "invalid cgroup line 1" },
		{ "0::", "invalid cgroup line 1" },
		{ ":cpu:/a\n", "invalid cgroup line 1" },
		{ "x:cpu:/a\n", "hierarchy id is not a number" },
		{ "0::/a\n0::/b\n", "more than one \"0::\" line" },
	};

	(void)state;
	for (size_t i = 0; i < WD_ARRAY_LEN(cases); i++) {
		struct attest_cgroup_info info;
		struct wd_error err;

		wd_error_clear(&err);
		assert_int_equal(attest_cgroup_parse(cases[i].text, strlen(cases[i].text), &info, &err),
			WD_EINVAL);
		if (!strstr(err.detail, cases[i].detail))
			fail_msg("case %zu: detail \"%s\" lacks \"%s\"", i, err.detail, cases[i].detail);
		assert_null(info.unified_path);
		assert_string_equal(info.container_id, "");
	}
	attest_cgroup_info_clear(NULL);
}

static void parse_reads_only_len_bytes(void **state)
{
	/* The length ends the text before the second line. */
	static const char text[] = "0::/a\n4:memory:/docker/" ID_A "\n";
	struct attest_cgroup_info info;

	(void)state;
	assert_int_equal(attest_cgroup_parse(text, 6, &info, NULL), 0);
	assert_string_equal(info.unified_path, "/a");
	assert_string_equal(info.container_id, "");
	attest_cgroup_info_clear(&info);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(container_id_from_paths),
		cmocka_unit_test(parse_files),
		cmocka_unit_test(parse_rejects_malformed),
		cmocka_unit_test(parse_reads_only_len_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
