/* Parses /proc/PID/cgroup: the unified (cgroup v2) path and the id of the
 * container the process runs in, from the cgroup names that docker,
 * containerd, cri-o and podman create. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "common/macros.h"

/* A container id is 64 lowercase hex digits. */
#define ATTEST_CONTAINER_ID_LEN 64

struct attest_cgroup_info {
	/* Path of the "0::" line, NULL on a host with cgroup v1 only. */
	char *unified_path;
	/* "" when no container id was found. */
	char container_id[ATTEST_CONTAINER_ID_LEN + 1];
};

/* Finds the container id in one cgroup path, storing it in ret_id and
 * returning true. When several path components name a container (nested
 * containers), the innermost one wins. Recognised components:
 *   docker:     /docker/<id>, docker-<id>.scope
 *   containerd: /kubepods/.../<id>, cri-containerd-<id>.scope,
 *               ...slice:cri-containerd:<id>
 *   cri-o:      crio-<id>.scope, ...slice:crio:<id>
 *   podman:     libpod-<id>.scope
 * Components below a systemd user manager (user@UID.service) are ignored,
 * because an unprivileged user may create cgroups with any name there. */
bool attest_cgroup_container_id(const char *path, size_t len,
	char ret_id[static ATTEST_CONTAINER_ID_LEN + 1]);

/* Parses the text of /proc/PID/cgroup ("hierarchy-id:controllers:path"
 * lines). The container id comes from the unified line when it names one,
 * and otherwise from the first cgroup v1 line that does. WD_EINVAL names a
 * malformed line; WD_ENOMEM. Free ret_info's contents with
 * attest_cgroup_info_clear. */
WD_MUST_CHECK int attest_cgroup_parse(const char *text, size_t len,
	struct attest_cgroup_info *ret_info, struct wd_error *err);

/* Frees the contents of info and zeroes it; accepts NULL. */
void attest_cgroup_info_clear(struct attest_cgroup_info *info);
