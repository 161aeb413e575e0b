/* /proc/PID/cgroup parsing (see cgroups(7), "/proc/[pid]/cgroup"): each line
 * is "hierarchy-id:controller-list:cgroup-path", and the cgroup v2 line is
 * "0::path". */
#include <stdio.h>
#include <string.h>

#include "agent/cgroup.h"
#include "common/alloc.h"

static bool is_lower_hex(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = text[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

static bool has_prefix(const char *text, size_t len, const char *prefix)
{
	size_t prefix_len = strlen(prefix);

	return len >= prefix_len && memcmp(text, prefix, prefix_len) == 0;
}

static bool has_suffix(const char *text, size_t len, const char *suffix)
{
	size_t suffix_len = strlen(suffix);

	return len >= suffix_len && memcmp(text + len - suffix_len, suffix, suffix_len) == 0;
}

/* Returns a pointer to the id inside one path component, or NULL. */
static const char *component_container_id(const char *name, size_t len)
{
	/* systemd scope units that runtimes create with the systemd cgroup driver. */
	static const char *const scope_prefixes[] = { "docker-", "cri-containerd-", "crio-",
		"libpod-" };
	/* containerd and cri-o under the systemd driver in cgroup v2 name the
	 * container "<pod slice>:<runtime>:<id>". */
	static const char *const runtime_markers[] = { ":cri-containerd:", ":crio:", ":docker:" };

	/* cgroupfs driver: the bare id, as in /docker/<id> or
	 * /kubepods/besteffort/pod<uid>/<id>. */
	if (len == ATTEST_CONTAINER_ID_LEN && is_lower_hex(name, len))
		return name;

	for (size_t i = 0; i < WD_ARRAY_LEN(scope_prefixes); i++) {
		size_t prefix_len = strlen(scope_prefixes[i]);

		if (len == prefix_len + ATTEST_CONTAINER_ID_LEN + strlen(".scope") &&
		    has_prefix(name, len, scope_prefixes[i]) && has_suffix(name, len, ".scope") &&
		    is_lower_hex(name + prefix_len, ATTEST_CONTAINER_ID_LEN))
			return name + prefix_len;
	}

	if (len > ATTEST_CONTAINER_ID_LEN) {
		const char *id = name + len - ATTEST_CONTAINER_ID_LEN;

		for (size_t i = 0; i < WD_ARRAY_LEN(runtime_markers); i++) {
			size_t marker_len = strlen(runtime_markers[i]);

			if (len >= ATTEST_CONTAINER_ID_LEN + marker_len &&
			    memcmp(id - marker_len, runtime_markers[i], marker_len) == 0 &&
			    is_lower_hex(id, ATTEST_CONTAINER_ID_LEN))
				return id;
		}
	}
	return NULL;
}

/* A systemd user manager's unit, below which its user may create cgroups. */
static bool is_user_manager(const char *name, size_t len)
{
	return has_prefix(name, len, "user@") && has_suffix(name, len, ".service");
}

bool attest_cgroup_container_id(const char *path, size_t len,
	char ret_id[static ATTEST_CONTAINER_ID_LEN + 1])
{
	const char *end = path + len;
	const char *found = NULL;
	const char *p = path;

	ret_id[0] = '\0';
	while (p < end) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		const char *name_end = slash ? slash : end;
		size_t name_len = (size_t)(name_end - p);
		const char *id;

		if (is_user_manager(p, name_len))
			break;
		id = component_container_id(p, name_len);
		if (id)
			found = id;
		p = slash ? slash + 1 : end;
	}

	if (!found)
		return false;
	memcpy(ret_id, found, ATTEST_CONTAINER_ID_LEN);
	ret_id[ATTEST_CONTAINER_ID_LEN] = '\0';
	return true;
}

void attest_cgroup_info_clear(struct attest_cgroup_info *info)
{
	if (!info)
		return;
	free(info->unified_path);
	*info = (struct attest_cgroup_info){ 0 };
}

int attest_cgroup_parse(const char *text, size_t len, struct attest_cgroup_info *ret_info,
	struct wd_error *err)
{
	struct attest_cgroup_info info = { 0 };
	char v1_id[ATTEST_CONTAINER_ID_LEN + 1] = "";
	const char *end = text + len;
	const char *line = text;
	size_t line_number = 0;
	int rc = 0;

	*ret_info = (struct attest_cgroup_info){ 0 };

	while (line < end) {
		const char *newline = memchr(line, '\n', (size_t)(end - line));
		const char *line_end = newline ? newline : end;
		const char *first = memchr(line, ':', (size_t)(line_end - line));
		const char *second = first ? memchr(first + 1, ':', (size_t)(line_end - first - 1))
					   : NULL;
		const char *path;
		size_t path_len;
		char id[ATTEST_CONTAINER_ID_LEN + 1];

		line_number++;
		if (line_end == line) {
			line = newline ? newline + 1 : end;
			continue;
		}
		if (!second || first == line || second + 1 >= line_end || second[1] != '/') {
			size_t line_len = (size_t)(line_end - line);

			rc = wd_error_set(err, WD_EINVAL,
				"invalid cgroup line %zu \"%.*s\": expected id:controllers:/path",
				line_number, (int)(line_len > 200 ? 200 : line_len), line);
			goto out;
		}
		for (const char *p = line; p < first; p++)
			WD_ENSURE(*p >= '0' && *p <= '9',
				wd_error_set(err, WD_EINVAL,
					"invalid cgroup line %zu: hierarchy id is not a number",
					line_number));

		path = second + 1;
		path_len = (size_t)(line_end - path);
		if (first - line == 1 && line[0] == '0' && second == first + 1) {
			WD_ENSURE(!info.unified_path,
				wd_error_set(err, WD_EINVAL,
					"invalid cgroup file: more than one \"0::\" line"));
			info.unified_path = wd_strndup(path, path_len);
			WD_ENSURE(info.unified_path,
				wd_error_set(err, WD_ENOMEM, "out of memory parsing cgroups"));
			if (attest_cgroup_container_id(path, path_len, id))
				memcpy(info.container_id, id, sizeof(id));
		} else if (v1_id[0] == '\0' && attest_cgroup_container_id(path, path_len, id)) {
			memcpy(v1_id, id, sizeof(id));
		}
		line = newline ? newline + 1 : end;
	}

	if (info.container_id[0] == '\0')
		memcpy(info.container_id, v1_id, sizeof(v1_id));
	*ret_info = info;
	info = (struct attest_cgroup_info){ 0 };
out:
	attest_cgroup_info_clear(&info);
	return rc;
}
