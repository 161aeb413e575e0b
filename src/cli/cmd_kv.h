/* Declarations shared by the files of `warden kv`: the secret's mount and
 * key, the vault-CLI-style output, and the key=value arguments of `kv put`. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "cli/cli_vault.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/macros.h"

/* Maximum lengths of a mount path and a key, in bytes (the server's
 * VAULT_MOUNT_PATH_MAX and VAULT_PATH_MAX). */
#define KV_CLI_MOUNT_MAX 128
#define KV_CLI_KEY_MAX 1024
/* Largest value read from a file or standard input for `kv put`: Vault's
 * default request size limit of 32 MiB. */
#define KV_CLI_VALUE_MAX ((size_t)32 << 20)

/* The target of a command: a KV mount, its engine version and a key. */
struct kv_target {
	char mount[KV_CLI_MOUNT_MAX + 2];  /* "secret/", always ends in '/' */
	int version;                       /* 1 or 2 */
	char key[KV_CLI_KEY_MAX + 1];      /* "app/db"; "" lists the mount */
};

/* Writes the API path (after "/v1/") of target: "<mount><endpoint>/<key>"
 * for KV v2 ("secret/data/app"), "<mount><key>" for KV v1. A trailing
 * '/' of the key is kept (lists). WD_ETOOBIG when it does not fit. */
WD_MUST_CHECK int kv_target_path(const struct kv_target *target, const char *endpoint,
	char *out, size_t len);

/* --- Requests and mounts (cmd_kv_mount.c) --- */

/* The server connection of one command and the name its messages carry. */
struct kv_cli {
	const char *command;               /* "kv get", for messages */
	struct cli_vault_options vault;
};

/* One response: the HTTP status and the JSON body, NULL when empty. */
struct kv_reply {
	int status;
	json_t *json;
};

/* Sends method to /v1/<path>, percent-encoding the path up to a '?'.
 * Returns CLI_EXIT_OK with the response in ret_reply whatever its status,
 * or CLI_EXIT_FAILURE after printing why the server was not reached. */
int kv_call(const struct kv_cli *cli, const char *method, const char *path, const json_t *body,
	struct kv_reply *ret_reply);

void kv_reply_clear(struct kv_reply *reply);

/* Finds the KV mount of path in GET sys/mounts: the mount named by
 * mount_flag ("secret", with path the key below it), or else the longest
 * mount path lies under. A version of 1 or 2 skips the request, which
 * needs read access to sys/mounts: the mount is then mount_flag or the
 * first segment of path. Returns CLI_CONTINUE with ret_target filled, or
 * an exit code after printing why. */
int kv_resolve(const struct kv_cli *cli, const char *mount_flag, const char *path, int version,
	struct kv_target *ret_target);

/* --- Output in the layout of the vault CLI (cmd_kv_output.c) --- */

/* Appends value as Go's fmt %v prints a decoded JSON value: strings bare,
 * null as <nil>, objects as map[k:v ...] with sorted keys, arrays as
 * [a b]. */
WD_MUST_CHECK int kv_format_value(const json_t *value, struct wd_buf *out);

/* Prints "<= padding> Title <= padding>" sized for a path, the path and a
 * blank line ("=== Secret Path ===" above "secret/data/cli/app"). */
void kv_print_path(FILE *out, const char *title, const char *path);

/* Prints the "=== Title ===" line above a key/value table of map, its
 * width set by the longest key as the vault CLI does. */
void kv_print_map_header(FILE *out, const char *title, const json_t *map);

/* Prints map as a "Key/Value" table: keys sorted, columns padded with
 * four spaces, empty values as "n/a" and durations in seconds under keys
 * such as "ttl" as "1h". Prints nothing for an empty map. WD_ENOMEM. */
WD_MUST_CHECK int kv_print_table(FILE *out, const json_t *map);

/* Prints a list response's keys sorted under "Keys" and "----". */
WD_MUST_CHECK int kv_print_keys(FILE *out, const json_t *keys);

/* Prints value as Go's json.MarshalIndent with two spaces does (sorted
 * keys, <>& escaped) and a newline. */
WD_MUST_CHECK int kv_print_json(FILE *out, const json_t *value);

/* Prints a whole response as the vault CLI's -format=json: request_id,
 * lease_id, lease_duration, renewable, data, warnings, then mount_type
 * when the server sent one. */
WD_MUST_CHECK int kv_print_secret_json(FILE *out, const json_t *response);

/* --- Arguments of `kv put` (cmd_kv_args.c) --- */

/* Builds the secret's data from args: "key=value", "key=@file" (the
 * file's contents), "key=-" (standard input), "@file.json" or "-" (a JSON
 * object merged in). A key given twice is WD_EINVAL. in is standard input.
 * The caller owns *ret_data. Errors name the argument, never a value. */
WD_MUST_CHECK int kv_parse_data(char *const *args, size_t count, FILE *in, json_t **ret_data,
	struct wd_error *err);
