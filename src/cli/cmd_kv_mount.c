/* The server side of `warden kv`: requests with percent-encoded paths,
 * and the KV mount and engine version behind a path, read from
 * sys/mounts as the vault CLI's preflight request does. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli_args.h"
#include "cli/cmd_kv.h"
#include "common/alloc.h"

/* Ceiling of an encoded request path: every byte of a key may become
 * three. */
#define KV_URL_MAX (3 * (KV_CLI_MOUNT_MAX + KV_CLI_KEY_MAX) + 128)

int kv_target_path(const struct kv_target *target, const char *endpoint, char *out, size_t len)
{
	int n;

	if (target->version == 2)
		n = snprintf(out, len, "%s%s/%s", target->mount, endpoint, target->key);
	else
		n = snprintf(out, len, "%s%s", target->mount, target->key);
	if (n < 0 || (size_t)n >= len)
		return WD_ETOOBIG;
	return 0;
}

/* Whether c may appear in a path segment unencoded (RFC 3986 section
 * 2.3's unreserved characters). */
static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

/* Percent-encodes path up to its '?', keeping the '/' separators and the
 * query as given. */
static int encode_path(const char *path, char *out, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t used = 0;
	const char *c;

	for (c = path; *c && *c != '?'; c++) {
		unsigned char byte = (unsigned char)*c;

		if (used + 4 > len)
			return WD_ETOOBIG;
		if (unreserved(byte) || byte == '/') {
			out[used++] = (char)byte;
		} else {
			out[used++] = '%';
			out[used++] = hex[byte >> 4];
			out[used++] = hex[byte & 0xf];
		}
	}
	if (used + strlen(c) + 1 > len)
		return WD_ETOOBIG;
	memcpy(out + used, c, strlen(c) + 1);
	return 0;
}

int kv_call(const struct kv_cli *cli, const char *method, const char *path, const json_t *body,
	struct kv_reply *ret_reply)
{
	char url[KV_URL_MAX];
	struct wd_error err;

	*ret_reply = (struct kv_reply){ 0 };
	if (encode_path(path, url, sizeof(url)) < 0) {
		fprintf(stderr, "warden %s: the request path is longer than %d bytes\n",
			cli->command, KV_URL_MAX);
		return CLI_EXIT_FAILURE;
	}
	if (cli_vault_request(&cli->vault, method, url, body, &ret_reply->status,
		    &ret_reply->json, &err) < 0) {
		fprintf(stderr, "warden %s: %s\n", cli->command, wd_error_text(&err));
		return CLI_EXIT_FAILURE;
	}
	return CLI_EXIT_OK;
}

void kv_reply_clear(struct kv_reply *reply)
{
	json_decref(reply->json);
	*reply = (struct kv_reply){ 0 };
}

/* Reads the engine version from a mount's options ("2" is KV v2). */
static int mount_version(const json_t *mount)
{
	const json_t *version = json_object_get(json_object_get(mount, "options"), "version");

	if (json_is_string(version) && !strcmp(json_string_value(version), "2"))
		return 2;
	if (json_is_integer(version) && json_integer_value(version) == 2)
		return 2;
	return 1;
}

/* Finds in mounts (path -> {type, options}) the mount named exactly
 * `name` ("secret/"), or else the longest mount that path lies under.
 * Stores its path and returns the mount object, or NULL. */
static const json_t *mount_find(const json_t *mounts, const char *name, const char *path,
	const char **ret_mount_path)
{
	const json_t *best = NULL;
	size_t best_len = 0;
	const char *mount_path;
	json_t *mount;

	*ret_mount_path = NULL;
	json_object_foreach((json_t *)mounts, mount_path, mount) {
		size_t len = strlen(mount_path);

		if (!json_is_object(mount) || len == 0 || mount_path[len - 1] != '/')
			continue;
		if (name) {
			if (strcmp(mount_path, name) != 0)
				continue;
		} else if (strncmp(path, mount_path, len) != 0 &&
			   !(strncmp(path, mount_path, len - 1) == 0 && path[len - 1] == '\0')) {
			continue;
		}
		if (len > best_len) {
			best = mount;
			best_len = len;
			*ret_mount_path = mount_path;
		}
	}
	return best;
}

/* Fills target from the mount found and the path below it. */
static int target_fill(const struct kv_cli *cli, const json_t *mount, const char *mount_path,
	const char *key, struct kv_target *target)
{
	const char *type = json_string_value(json_object_get(mount, "type"));

	if (!type || strcmp(type, "kv") != 0) {
		fprintf(stderr, "warden %s: %s is a %s mount, not a KV mount\n", cli->command,
			mount_path, type ? type : "(untyped)");
		return CLI_EXIT_FAILURE;
	}
	if (strlen(mount_path) > KV_CLI_MOUNT_MAX || strlen(key) > KV_CLI_KEY_MAX) {
		fprintf(stderr, "warden %s: the path is longer than %d bytes\n", cli->command,
			KV_CLI_MOUNT_MAX + KV_CLI_KEY_MAX);
		return CLI_EXIT_FAILURE;
	}
	snprintf(target->mount, sizeof(target->mount), "%s", mount_path);
	snprintf(target->key, sizeof(target->key), "%s", key);
	target->version = mount_version(mount);
	return CLI_CONTINUE;
}

/* Fills target without asking the server: the mount is mount_flag or the
 * first segment of path, and version is the caller's. */
static int target_given(const struct kv_cli *cli, const char *name, const char *path,
	int version, struct kv_target *target)
{
	size_t len = strcspn(path, "/");
	const char *key = path;

	if (!name[0]) {
		if (len == 0 || len > KV_CLI_MOUNT_MAX) {
			fprintf(stderr, "warden %s: PATH must start with a mount name\n",
				cli->command);
			return CLI_EXIT_USAGE;
		}
		memcpy(target->mount, path, len);
		memcpy(target->mount + len, "/", 2);
		key = path[len] ? path + len + 1 : path + len;
	} else {
		snprintf(target->mount, sizeof(target->mount), "%s", name);
	}
	if (strlen(key) > KV_CLI_KEY_MAX) {
		fprintf(stderr, "warden %s: the key is longer than %d bytes\n", cli->command,
			KV_CLI_KEY_MAX);
		return CLI_EXIT_FAILURE;
	}
	snprintf(target->key, sizeof(target->key), "%s", key);
	target->version = version;
	return CLI_CONTINUE;
}

int kv_resolve(const struct kv_cli *cli, const char *mount_flag, const char *path,
	int version, struct kv_target *ret_target)
{
	char name[KV_CLI_MOUNT_MAX + 2] = "";
	const char *mount_path = NULL;
	const json_t *mounts, *mount;
	struct kv_reply reply;
	int rc;

	*ret_target = (struct kv_target){ 0 };
	while (*path == '/')
		path++;
	if (mount_flag) {
		size_t len;

		while (*mount_flag == '/')
			mount_flag++;
		len = strlen(mount_flag);
		while (len > 0 && mount_flag[len - 1] == '/')
			len--;
		if (len == 0 || len > KV_CLI_MOUNT_MAX) {
			fprintf(stderr, "warden %s: invalid --mount \"%s\"\n", cli->command,
				mount_flag);
			return CLI_EXIT_USAGE;
		}
		memcpy(name, mount_flag, len);
		memcpy(name + len, "/", 2);
	}

	if (version != 0)
		return target_given(cli, name, path, version, ret_target);

	rc = kv_call(cli, "GET", "sys/mounts", NULL, &reply);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (reply.status != 200) {
		rc = cli_vault_print_error(cli->command, reply.status, reply.json);
		kv_reply_clear(&reply);
		return rc;
	}

	/* Vault returns the sys/mounts table both at the top level and under
	 * "data", so read "data" when there is one. */
	mounts = json_object_get(reply.json, "data");
	if (!json_is_object(mounts))
		mounts = reply.json;
	mount = mount_find(mounts, mount_flag ? name : NULL, path, &mount_path);
	if (!mount) {
		fprintf(stderr, "warden %s: no mount at %s\n", cli->command,
			mount_flag ? name : path);
		kv_reply_clear(&reply);
		return CLI_EXIT_FAILURE;
	}
	rc = target_fill(cli, mount, mount_path,
		mount_flag ? path : path + strnlen(path, strlen(mount_path)), ret_target);
	kv_reply_clear(&reply);
	return rc;
}
