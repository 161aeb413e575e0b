/* Unix workload attestation: the peer's credentials from SO_PEERCRED, and
 * the groups, executable and cgroups of the process from /proc, read between
 * two checks of the process start time. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/attest_unix.h"
#include "agent/cgroup.h"
#include "agent/exe_hash.h"
#include "agent/proc.h"
#include "common/alloc.h"

/* Ceiling on the scratch buffer of getpwuid_r and getgrgid_r. A group with
 * thousands of members can need more than sysconf's suggestion. */
#define NAME_LOOKUP_BUFFER_MAX (1024u * 1024u)

enum name_kind { NAME_USER, NAME_GROUP };

/* Looks up the user or group name of id. Stores a malloc'd name in ret_name,
 * or NULL when the id has no entry in the database (not an error: the name
 * selector is left out, as SPIRE does). */
static int lookup_name(enum name_kind kind, unsigned int id, char **ret_name,
	struct wd_error *err)
{
	size_t size = 1024;
	char *buffer = NULL;
	int rc = 0;

	*ret_name = NULL;
	for (;;) {
		const char *name = NULL;
		struct passwd pw;
		struct group gr;
		int lookup_rc;
		char *grown;

		grown = realloc(buffer, size);
		WD_ENSURE(grown, wd_error_set(err, WD_ENOMEM, "out of memory looking up id %u", id));
		buffer = grown;

		if (kind == NAME_USER) {
			struct passwd *result = NULL;

			lookup_rc = getpwuid_r((uid_t)id, &pw, buffer, size, &result);
			if (lookup_rc == 0 && result)
				name = result->pw_name;
		} else {
			struct group *result = NULL;

			lookup_rc = getgrgid_r((gid_t)id, &gr, buffer, size, &result);
			if (lookup_rc == 0 && result)
				name = result->gr_name;
		}

		if (lookup_rc == ERANGE && size < NAME_LOOKUP_BUFFER_MAX) {
			size *= 2;
			continue;
		}
		if (lookup_rc != 0 && lookup_rc != ENOENT && lookup_rc != ESRCH) {
			rc = wd_error_set(err, WD_EIO, "cannot look up the %s name of id %u: %s",
				kind == NAME_USER ? "user" : "group", id, strerror(lookup_rc));
			goto out;
		}
		if (name) {
			*ret_name = wd_strdup(name);
			WD_ENSURE(*ret_name,
				wd_error_set(err, WD_ENOMEM, "out of memory looking up id %u", id));
		}
		break;
	}
out:
	free(buffer);
	return rc;
}

/* Adds "unix:<key>:<id>" and, when the id has a name, "unix:<name_key>:<name>". */
static int add_id_selectors(struct agent_selector_set *set, enum name_kind kind,
	const char *key, const char *name_key, unsigned int id, struct wd_error *err)
{
	char value[AGENT_SELECTOR_MAX_LEN];
	char *name = NULL;
	int rc = 0;

	snprintf(value, sizeof(value), "%s:%u", key, id);
	WD_GUARD(agent_selector_set_add_pair(set, ATTEST_SELECTOR_TYPE_UNIX, value, err));

	WD_GUARD(lookup_name(kind, id, &name, err));
	if (name) {
		int len = snprintf(value, sizeof(value), "%s:%s", name_key, name);

		/* A name that cannot form a valid selector is left out like a
		 * missing one, because leaving a selector out can only make the
		 * workload match fewer entries. */
		if (len > 0 && (size_t)len < sizeof(value)) {
			rc = agent_selector_set_add_pair(set, ATTEST_SELECTOR_TYPE_UNIX, value, err);
			if (rc == WD_EINVAL) {
				wd_error_clear(err);
				rc = 0;
			}
		}
	}
out:
	free(name);
	return rc;
}

/* Adds a selector whose value comes from a path (the executable or the
 * cgroup). A value that is not printable ASCII or is too long is left out. */
static int add_path_selector(struct agent_selector_set *set, const char *type,
	const char *prefix, const char *path, struct wd_error *err)
{
	char selector[AGENT_SELECTOR_MAX_LEN + 1];
	int len = snprintf(selector, sizeof(selector), "%s:%s%s", type, prefix, path);
	int rc;

	if (len < 0 || (size_t)len >= sizeof(selector))
		return 0;
	rc = agent_selector_set_add(set, selector, err);
	if (rc == WD_EINVAL) {
		wd_error_clear(err);
		return 0;
	}
	return rc;
}

static int add_group_selectors(int dir_fd, pid_t pid, struct agent_selector_set *set,
	size_t max_groups, struct wd_error *err)
{
	char *status = NULL;
	size_t status_len;
	gid_t *gids = NULL;
	size_t gid_count = 0;
	int rc = 0;

	WD_GUARD(attest_proc_read(dir_fd, pid, "status", ATTEST_PROC_STATUS_MAX, &status,
		&status_len, err));
	rc = attest_proc_parse_groups(status, status_len, max_groups, &gids, &gid_count);
	if (rc == WD_ETOOBIG) {
		rc = wd_error_set(err, rc, "process %d has more than %zu supplementary groups",
			(int)pid, max_groups);
		goto out;
	}
	if (rc < 0) {
		rc = wd_error_set(err, rc, "invalid /proc/%d/status: missing or malformed Groups line",
			(int)pid);
		goto out;
	}

	for (size_t i = 0; i < gid_count; i++)
		WD_GUARD(add_id_selectors(set, NAME_GROUP, "supplementary_gid", "supplementary_group",
			(unsigned int)gids[i], err));
out:
	free(gids);
	free(status);
	return rc;
}

static int add_workload_path_selectors(int dir_fd, pid_t pid, uint64_t max_exe_size,
	struct attest_cache *cache, struct agent_selector_set *set, struct wd_error *err)
{
	char hex[ATTEST_SHA256_HEX_LEN + 1];
	char *path = NULL;
	int rc = 0;

	WD_GUARD(attest_proc_read_exe_path(dir_fd, pid, &path, err));
	WD_GUARD(add_path_selector(set, ATTEST_SELECTOR_TYPE_UNIX, "path:", path, err));

	WD_GUARD(attest_exe_hash(dir_fd, pid, max_exe_size, cache, hex, err));
	WD_GUARD(add_path_selector(set, ATTEST_SELECTOR_TYPE_UNIX, "sha256:", hex, err));
out:
	free(path);
	return rc;
}

static int add_cgroup_selectors(int dir_fd, pid_t pid, struct agent_selector_set *set,
	struct wd_error *err)
{
	struct attest_cgroup_info info = { 0 };
	char *text = NULL;
	size_t len;
	int rc = 0;

	WD_GUARD(attest_proc_read(dir_fd, pid, "cgroup", ATTEST_PROC_CGROUP_MAX, &text, &len, err));
	WD_GUARD(attest_cgroup_parse(text, len, &info, err));

	if (info.unified_path)
		WD_GUARD(add_path_selector(set, ATTEST_SELECTOR_TYPE_CGROUP, "", info.unified_path,
			err));
	if (info.container_id[0] != '\0')
		WD_GUARD(add_path_selector(set, ATTEST_SELECTOR_TYPE_CGROUP, "container_id:",
			info.container_id, err));
out:
	attest_cgroup_info_clear(&info);
	free(text);
	return rc;
}

int attest_unix_workload(const struct attest_peer *peer, const struct attest_options *opts,
	struct attest_cache *cache, struct agent_selector_set **ret_set, struct wd_error *err)
{
	static const struct attest_options defaults = { 0 };
	_wd_cleanup_(wd_closep) int dir_fd = -1;
	struct agent_selector_set *set = NULL;
	uint64_t max_exe_size;
	size_t max_selectors;
	uint64_t start_before;
	uint64_t start_after;
	pid_t pid;
	int rc = 0;

	*ret_set = NULL;
	if (!peer)
		return wd_error_set(err, WD_EINVAL, "missing peer credentials");
	if (!opts)
		opts = &defaults;
	pid = peer->pid;
	max_exe_size = opts->max_exe_size ? opts->max_exe_size : ATTEST_DEFAULT_MAX_EXE_SIZE;
	max_selectors = opts->max_selectors ? opts->max_selectors : AGENT_SELECTOR_SET_DEFAULT_MAX;

	/* NOTE: the pid could be reused between SO_PEERCRED and this open; a
	 * pidfd from SO_PEERPIDFD (Linux 6.5) would close that window. */
	WD_GUARD(attest_proc_open(opts->proc_root, pid, &dir_fd, err));
	rc = attest_proc_read_start_time(dir_fd, pid, &start_before, err);
	if (rc == WD_ENOTFOUND)
		rc = wd_error_set(err, rc, "process %d not found", (int)pid);
	WD_GUARD(rc);

	set = agent_selector_set_new(max_selectors);
	WD_ENSURE(set, wd_error_set(err, WD_ENOMEM, "out of memory attesting process %d", (int)pid));

	WD_GUARD(add_id_selectors(set, NAME_USER, "uid", "user", (unsigned int)peer->uid, err));
	WD_GUARD(add_id_selectors(set, NAME_GROUP, "gid", "group", (unsigned int)peer->gid, err));
	/* Each supplementary group yields up to two selectors. */
	WD_GUARD(add_group_selectors(dir_fd, pid, set, max_selectors / 2, err));
	if (!opts->skip_workload_path)
		WD_GUARD(add_workload_path_selectors(dir_fd, pid, max_exe_size, cache, set, err));
	WD_GUARD(add_cgroup_selectors(dir_fd, pid, set, err));

	if (opts->before_recheck)
		opts->before_recheck(opts->before_recheck_arg);

	/* The directory fd already pins the original process: once it exits,
	 * reads through the fd fail even if the pid is reused. The start time
	 * check also catches a replaced entry in a proc tree that is not the
	 * kernel's. */
	rc = attest_proc_read_start_time(dir_fd, pid, &start_after, err);
	if (rc == WD_ENOTFOUND)
		rc = wd_error_set(err, rc, "process %d exited during attestation", (int)pid);
	WD_GUARD(rc);
	WD_ENSURE(start_after == start_before,
		wd_error_set(err, WD_ECONFLICT,
			"process %d was replaced during attestation (start time %llu, then %llu)",
			(int)pid, (unsigned long long)start_before,
			(unsigned long long)start_after));

	*ret_set = WD_TAKE_PTR(set);
out:
	agent_selector_set_free(set);
	return rc;
}
