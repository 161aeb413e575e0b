/* sys/mounts and sys/auth: list, enable, disable and tune mounts. */
#include <stdio.h>
#include <string.h>

#include "secrets/secrets_internal.h"

static json_t *mount_info(const struct vault_mount *mount)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:{s:I, s:I, s:b}, s:O, s:b, s:b, s:b}",
		"type", mount->backend->type,
		"description", mount->description ? mount->description : "",
		"accessor", mount->accessor,
		"uuid", mount->uuid,
		"config",
		"default_lease_ttl", (json_int_t)mount->default_lease_ttl,
		"max_lease_ttl", (json_int_t)mount->max_lease_ttl,
		"force_no_cache", 0,
		"options", mount->options,
		"local", 0,
		"seal_wrap", 0,
		"external_entropy_access", 0);
}

static int list_mounts(struct secrets *secrets, bool auth, struct vault_response *resp)
{
	json_t *data = json_object();

	if (!data)
		return WD_ENOMEM;
	for (size_t i = 0; i < secrets->mount_count; i++) {
		const struct vault_mount *mount = secrets->mounts[i];
		bool is_auth = strncmp(mount->path, "auth/", 5) == 0;
		const char *key = is_auth ? mount->path + 5 : mount->path;

		if (is_auth != auth)
			continue;
		if (json_object_set_new(data, key, mount_info(mount)) < 0) {
			json_decref(data);
			return WD_ENOMEM;
		}
	}
	resp->data = data;
	return 0;
}

static struct vault_mount *find_exact(struct secrets *secrets, const char *path)
{
	size_t len = strlen(path);

	for (size_t i = 0; i < secrets->mount_count; i++) {
		const char *mount_path = secrets->mounts[i]->path;

		if (strcmp(mount_path, path) == 0 ||
			(strlen(mount_path) == len + 1 && strncmp(mount_path, path, len) == 0))
			return secrets->mounts[i];
	}
	return NULL;
}

static int tune(struct secrets *secrets, struct vault_request *req, const char *path,
	struct vault_response *resp, struct wd_error *err)
{
	struct vault_mount *mount = find_exact(secrets, path);
	int64_t default_ttl;
	int64_t max_ttl;

	if (!mount)
		return wd_error_set(err, WD_EINVAL, "cannot fetch sysview for path \"%s\"", path);
	if (req->op == VAULT_OP_READ) {
		resp->data = json_pack("{s:I, s:I, s:b, s:s, s:O}",
			"default_lease_ttl", (json_int_t)(mount->default_lease_ttl ?
				mount->default_lease_ttl : SECRETS_DEFAULT_LEASE_TTL),
			"max_lease_ttl", (json_int_t)(mount->max_lease_ttl ?
				mount->max_lease_ttl : SECRETS_MAX_LEASE_TTL),
			"force_no_cache", 0,
			"description", mount->description ? mount->description : "",
			"options", mount->options);
		return resp->data ? 0 : WD_ENOMEM;
	}
	default_ttl = mount->default_lease_ttl;
	max_ttl = mount->max_lease_ttl;
	WD_TRY(vault_json_ttl(req->body, "default_lease_ttl", &default_ttl, err));
	WD_TRY(vault_json_ttl(req->body, "max_lease_ttl", &max_ttl, err));
	if (max_ttl && default_ttl > max_ttl)
		return wd_error_set(err, WD_EINVAL, "default_lease_ttl %lld is above max_lease_ttl "
			"%lld", (long long)default_ttl, (long long)max_ttl);
	mount->default_lease_ttl = default_ttl;
	mount->max_lease_ttl = max_ttl;
	/* The mount was changed in place; store the whole table again. */
	return vault_mount_retune(secrets, err);
}

static int enable(struct secrets *secrets, struct vault_request *req, const char *path,
	bool auth, struct wd_error *err)
{
	const char *type = json_string_value(json_object_get(req->body, "type"));
	const char *description = json_string_value(json_object_get(req->body, "description"));
	const json_t *config = json_object_get(req->body, "config");
	const json_t *options = json_object_get(req->body, "options");
	char full[VAULT_MOUNT_PATH_MAX];
	int64_t default_ttl = 0;
	int64_t max_ttl = 0;

	if (!type || !*type)
		return wd_error_set(err, WD_EINVAL, "missing \"type\"");
	if (options && !json_is_object(options) && !json_is_null(options))
		return wd_error_set(err, WD_EINVAL, "\"options\" must be an object");
	if (json_is_object(config)) {
		WD_TRY(vault_json_ttl(config, "default_lease_ttl", &default_ttl, err));
		WD_TRY(vault_json_ttl(config, "max_lease_ttl", &max_ttl, err));
	}
	if (snprintf(full, sizeof(full), "%s%s", auth ? "auth/" : "", path) >= (int)sizeof(full))
		return wd_error_set(err, WD_EINVAL, "mount path too long");
	return vault_mount_add(secrets, full, type, description,
		json_is_object(options) ? options : NULL, default_ttl, max_ttl, err);
}

int sys_mounts_handle(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err)
{
	bool auth = strncmp(req->rel, "auth", 4) == 0;
	const char *rest = req->rel + (auth ? 4 : 6);
	char path[VAULT_MOUNT_PATH_MAX];
	size_t len;

	if (*rest == '\0' || strcmp(rest, "/") == 0) {
		if (req->op != VAULT_OP_READ)
			return wd_error_set(err, WD_EUNSUPPORTED, "unsupported operation");
		return list_mounts(secrets, auth, resp);
	}
	rest++;
	/* Auth methods live under sys/auth/, which needs sudo; reaching them
	 * through sys/mounts/auth/ would bypass that. */
	if (!auth && (strncmp(rest, "auth/", 5) == 0 || strcmp(rest, "auth") == 0))
		return wd_error_set(err, WD_EINVAL, "auth methods are managed at sys/auth/, not "
			"sys/mounts/auth/");
	len = strlen(rest);
	if (len >= sizeof(path))
		return wd_error_set(err, WD_EINVAL, "mount path too long");
	memcpy(path, rest, len + 1);

	if (len > 5 && strcmp(path + len - 5, "/tune") == 0) {
		char full[VAULT_MOUNT_PATH_MAX + 8];

		path[len - 5] = '\0';
		snprintf(full, sizeof(full), "%s%s", auth ? "auth/" : "", path);
		return tune(secrets, req, full, resp, err);
	}
	switch (req->op) {
	case VAULT_OP_CREATE:
	case VAULT_OP_UPDATE:
		return enable(secrets, req, path, auth, err);
	case VAULT_OP_DELETE: {
		char full[VAULT_MOUNT_PATH_MAX + 8];

		snprintf(full, sizeof(full), "%s%s", auth ? "auth/" : "", path);
		if (!find_exact(secrets, full))
			return 0;
		return vault_mount_remove(secrets, full, err);
	}
	case VAULT_OP_READ: {
		char full[VAULT_MOUNT_PATH_MAX + 8];
		struct vault_mount *mount;

		snprintf(full, sizeof(full), "%s%s", auth ? "auth/" : "", path);
		mount = find_exact(secrets, full);
		if (!mount)
			return wd_error_set(err, WD_EINVAL, "no matching mount at \"%s\"", path);
		resp->data = mount_info(mount);
		return resp->data ? 0 : WD_ENOMEM;
	}
	default:
		return wd_error_set(err, WD_EUNSUPPORTED, "unsupported operation");
	}
}
