/* `warden kv get|put|list|delete|undelete|destroy|metadata`: the KV
 * secrets engine from the command line, with the vault CLI's paths
 * ("secret/app" or --mount secret app), engine detection and output. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_args.h"
#include "cli/cmd_kv.h"
#include "cli/commands.h"
#include "common/alloc.h"

/* Room for an API path with an endpoint and a query string. */
#define KV_PATH_MAX (KV_CLI_MOUNT_MAX + KV_CLI_KEY_MAX + 64)

enum kv_option {
	OPT_MOUNT,
	OPT_FORMAT,
	OPT_VERSION,
	OPT_VERSIONS,
	OPT_CAS,
	OPT_MAX_VERSIONS,
	OPT_CAS_REQUIRED,
	OPT_DELETE_AFTER,
	OPT_CUSTOM_METADATA,
	OPT_KV_VERSION,
};

#define KV_COMMON_OPTIONS                                                          \
	{ "mount", "PATH", OPT_MOUNT,                                              \
	  "KV mount; PATH is then the key below it\n"                              \
	  "(default: the mount PATH starts with)" },                               \
	{ "format", "FORMAT", OPT_FORMAT, "table (default) or json" },            \
	{ "kv-version", "1|2", OPT_KV_VERSION,                                     \
	  "the mount's KV version, instead of reading\n"                          \
	  "it from sys/mounts" },                                                  \
	CLI_VAULT_OPTIONS

static const struct cli_option get_options[] = {
	KV_COMMON_OPTIONS,
	{ "version", "N", OPT_VERSION, "version to read (KV v2; default: the latest)" },
};

static const struct cli_option put_options[] = {
	KV_COMMON_OPTIONS,
	{ "cas", "N", OPT_CAS, "write only if the current version is N\n"
		"(0: only if the key does not exist; KV v2)" },
};

static const struct cli_option list_options[] = {
	KV_COMMON_OPTIONS,
};

static const struct cli_option delete_options[] = {
	KV_COMMON_OPTIONS,
	{ "versions", "N,...", OPT_VERSIONS, "versions to delete (KV v2; default: the latest)" },
};

static const struct cli_option versions_options[] = {
	KV_COMMON_OPTIONS,
	{ "versions", "N,...", OPT_VERSIONS, "versions to act on (required)" },
};

static const struct cli_option metadata_put_options[] = {
	KV_COMMON_OPTIONS,
	{ "max-versions", "N", OPT_MAX_VERSIONS, "versions to keep (0: the engine's setting)" },
	{ "cas-required", "BOOL", OPT_CAS_REQUIRED, "true: every write needs --cas" },
	{ "delete-version-after", "DURATION", OPT_DELETE_AFTER,
		"soft-delete each version this long after\nits write (\"1h30m\"; 0s: never)" },
	{ "custom-metadata", "KEY=VALUE", OPT_CUSTOM_METADATA,
		"metadata entry, repeatable; replaces them all" },
};

#define KV_SPEC(spec_name, cmd, operands, text, table, min, max)                 \
	static const struct cli_spec spec_name = {                                 \
		.name = cmd,                                                       \
		.synopsis = "[OPTIONS] " operands,                                 \
		.description = text,                                               \
		.options = table,                                                  \
		.option_count = WD_ARRAY_LEN(table),                               \
		.common = CLI_COMMON_JSON,                                         \
		.min_operands = min,                                               \
		.max_operands = max,                                               \
		.operand_name = "PATH",                                            \
	}

KV_SPEC(get_spec, "kv get", "PATH",
	"Prints a secret: its data and, on KV v2, the version's metadata.\n",
	get_options, 1, 1);
KV_SPEC(put_spec, "kv put", "PATH KEY=VALUE|KEY=@FILE|KEY=-|@FILE|-...",
	"Writes a secret, replacing all its data (a new version on KV v2).\n"
	"A value may come from a file (@FILE) or standard input (-); @FILE\n"
	"and - alone read a JSON object.\n",
	put_options, 1, SIZE_MAX);
KV_SPEC(list_spec, "kv list", "[PATH]",
	"Lists the keys and folders (ending in /) below a path.\n",
	list_options, 0, 1);
KV_SPEC(delete_spec, "kv delete", "PATH",
	"Deletes a secret. On KV v2 this is a soft delete of the latest\n"
	"version (or of --versions) that kv undelete reverts.\n",
	delete_options, 1, 1);
KV_SPEC(undelete_spec, "kv undelete", "PATH",
	"Restores soft-deleted versions of a KV v2 secret.\n",
	versions_options, 1, 1);
KV_SPEC(destroy_spec, "kv destroy", "PATH",
	"Removes the data of versions of a KV v2 secret for good.\n",
	versions_options, 1, 1);
KV_SPEC(metadata_get_spec, "kv metadata get", "PATH",
	"Prints the metadata of a KV v2 key and of each of its versions.\n",
	list_options, 1, 1);
KV_SPEC(metadata_put_spec, "kv metadata put", "PATH",
	"Sets the settings and custom metadata of a KV v2 key.\n",
	metadata_put_options, 1, 1);
KV_SPEC(metadata_delete_spec, "kv metadata delete", "PATH",
	"Deletes a KV v2 key with its metadata and every version.\n",
	list_options, 1, 1);

/* The options of one invocation. */
struct kv_args {
	const struct cli_spec *spec;
	struct kv_cli cli;
	const char *mount;
	int kv_version;                /* 0: read it from sys/mounts */
	bool json;
	bool has_version;
	int64_t version;
	const char *versions;
	bool has_cas;
	int64_t cas;
	bool has_max_versions;
	int64_t max_versions;
	int cas_required;              /* -1 unset, 0 false, 1 true */
	const char *delete_after;
	struct cli_strings custom_metadata;
};

/* Parses a whole non-negative decimal integer. */
static bool parse_count(const char *text, int64_t *ret_value)
{
	char *end = NULL;
	long long value;

	if (!*text || *text == '-' || *text == '+')
		return false;
	errno = 0;
	value = strtoll(text, &end, 10);
	if (errno || *end)
		return false;
	*ret_value = value;
	return true;
}

static int kv_option(void *ctx, int id, const char *value)
{
	struct kv_args *args = ctx;

	if (cli_vault_option(&args->cli.vault, id, value))
		return CLI_CONTINUE;
	switch (id) {
	case OPT_MOUNT:
		args->mount = value;
		return CLI_CONTINUE;
	case OPT_KV_VERSION:
		if (strcmp(value, "1") != 0 && strcmp(value, "2") != 0)
			return cli_usage_error(args->spec, "invalid --kv-version '%s': expected 1 "
				"or 2", value);
		args->kv_version = value[0] - '0';
		return CLI_CONTINUE;
	case OPT_FORMAT:
		if (strcmp(value, "table") != 0 && strcmp(value, "json") != 0)
			return cli_usage_error(args->spec, "invalid --format '%s': expected table "
				"or json", value);
		args->json = !strcmp(value, "json");
		return CLI_CONTINUE;
	case OPT_VERSION:
		args->has_version = parse_count(value, &args->version);
		if (!args->has_version)
			return cli_usage_error(args->spec, "invalid --version '%s': expected a "
				"version number", value);
		return CLI_CONTINUE;
	case OPT_VERSIONS:
		args->versions = value;
		return CLI_CONTINUE;
	case OPT_CAS:
		args->has_cas = parse_count(value, &args->cas);
		if (!args->has_cas)
			return cli_usage_error(args->spec, "invalid --cas '%s': expected a version "
				"number", value);
		return CLI_CONTINUE;
	case OPT_MAX_VERSIONS:
		args->has_max_versions = parse_count(value, &args->max_versions);
		if (!args->has_max_versions)
			return cli_usage_error(args->spec, "invalid --max-versions '%s': expected "
				"a count", value);
		return CLI_CONTINUE;
	case OPT_CAS_REQUIRED:
		if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0)
			return cli_usage_error(args->spec, "invalid --cas-required '%s': expected "
				"true or false", value);
		args->cas_required = !strcmp(value, "true");
		return CLI_CONTINUE;
	case OPT_DELETE_AFTER:
		args->delete_after = value;
		return CLI_CONTINUE;
	case OPT_CUSTOM_METADATA:
		if (!strchr(value, '=') || value[0] == '=')
			return cli_usage_error(args->spec, "invalid --custom-metadata '%s': "
				"expected KEY=VALUE", value);
		return cli_strings_append(&args->custom_metadata, value);
	default:
		return CLI_CONTINUE;
	}
}

/* Whether name is a long option of spec or a common one. */
static bool long_option(const struct cli_spec *spec, const char *name, size_t len)
{
	if ((len == 4 && !strncmp(name, "json", 4)) || (len == 4 && !strncmp(name, "help", 4)))
		return true;
	for (size_t i = 0; i < spec->option_count; i++) {
		if (strlen(spec->options[i].name) == len && !strncmp(spec->options[i].name, name, len))
			return true;
	}
	return false;
}

/* Copies argv, turning the vault CLI's single-dash long options
 * ("-mount=secret", "-format=json") into "--" ones for getopt_long. The
 * caller frees the strings it allocated (those in ret_owned). */
static int normalize_args(const struct cli_spec *spec, int argc, char **argv, char ***ret_argv,
	char ***ret_owned)
{
	char **copy = wd_calloc((size_t)argc + 1, sizeof(*copy));
	char **owned = wd_calloc((size_t)argc + 1, sizeof(*owned));
	size_t owned_count = 0;

	if (!copy || !owned) {
		free(copy);
		free(owned);
		return CLI_EXIT_FAILURE;
	}
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		size_t name_len = strcspn(arg + 1, "=");

		copy[i] = argv[i];
		if (!strcmp(arg, "--")) {
			for (int j = i + 1; j < argc; j++)
				copy[j] = argv[j];
			break;
		}
		if (i == 0 || arg[0] != '-' || arg[1] == '-' || name_len < 2 ||
		    !long_option(spec, arg + 1, name_len))
			continue;
		if (asprintf(&owned[owned_count], "-%s", arg) < 0) {
			owned[owned_count] = NULL;
			continue;
		}
		copy[i] = owned[owned_count++];
	}
	*ret_argv = copy;
	*ret_owned = owned;
	return CLI_CONTINUE;
}

static void free_owned(char **copy, char **owned)
{
	for (size_t i = 0; owned && owned[i]; i++)
		free(owned[i]);
	free(owned);
	free(copy);
}

/* Parses argv for spec into args and the operands. */
static int kv_parse(const struct cli_spec *spec, int argc, char **argv, struct kv_args *args,
	char ***ret_operands, size_t *ret_count, char ***ret_copy, char ***ret_owned)
{
	struct cli_common common;
	int rc;

	*args = (struct kv_args){ .spec = spec, .cas_required = -1 };
	args->cli.command = spec->name;
	rc = normalize_args(spec, argc, argv, ret_copy, ret_owned);
	if (rc != CLI_CONTINUE)
		return rc;
	rc = cli_parse(spec, argc, *ret_copy, kv_option, args, &common, ret_operands, ret_count);
	if (rc != CLI_CONTINUE)
		return rc;
	if (common.json)
		args->json = true;
	return CLI_CONTINUE;
}

/* Resolves the one PATH operand (or "" with --mount for a list). */
static int kv_target_of(struct kv_args *args, char **operands, size_t count,
	struct kv_target *target)
{
	const char *path = count > 0 ? operands[0] : "";

	if (count == 0 && !args->mount)
		return cli_usage_error(args->spec, "missing PATH");
	return kv_resolve(&args->cli, args->mount, path, args->kv_version, target);
}

/* Prints the warnings of a response on stderr as the vault CLI does. */
static void print_warnings(const json_t *response)
{
	const json_t *warnings = json_object_get(response, "warnings");
	size_t i;
	json_t *item;

	if (json_array_size(warnings) == 0)
		return;
	fprintf(stderr, "WARNING! The following warnings were returned from Vault:\n\n");
	json_array_foreach(warnings, i, item)
		fprintf(stderr, "  * %s\n\n", json_is_string(item) ? json_string_value(item) : "");
}

/* Prints "title" and a key/value table of map when it is a non-empty
 * object. */
static int print_section(const char *title, const json_t *map)
{
	if (!json_is_object(map) || json_object_size(map) == 0)
		return 0;
	kv_print_map_header(stdout, title, map);
	return kv_print_table(stdout, map);
}

/* Reports an unexpected response and returns the exit code. */
static int reply_error(const struct kv_args *args, const struct kv_reply *reply)
{
	return cli_vault_print_error(args->spec->name, reply->status, reply->json);
}

static int not_found(const struct kv_args *args, const char *path)
{
	fprintf(stderr, "warden %s: no value found at %s\n", args->spec->name, path);
	return CLI_EXIT_FAILURE;
}

static int get_print(const struct kv_args *args, const struct kv_target *target,
	const char *path, const json_t *response)
{
	const json_t *data = json_object_get(response, "data");

	if (args->json)
		return kv_print_secret_json(stdout, response) < 0 ? CLI_EXIT_FAILURE : CLI_EXIT_OK;

	print_warnings(response);
	if (target->version == 2) {
		const json_t *metadata = json_object_get(data, "metadata");

		kv_print_path(stdout, "Secret Path", path);
		if (json_is_object(metadata)) {
			kv_print_map_header(stdout, "Metadata", metadata);
			if (kv_print_table(stdout, metadata) < 0)
				return CLI_EXIT_FAILURE;
			fputc('\n', stdout);
		}
		data = json_object_get(data, "data");
	}
	/* A deleted or destroyed version has no data: only its metadata
	 * prints, and the command succeeds, as vault kv get does. */
	if (print_section("Data", data) < 0)
		return CLI_EXIT_FAILURE;
	return CLI_EXIT_OK;
}

static int cmd_kv_get(int argc, char **argv)
{
	char path[KV_PATH_MAX], request[KV_PATH_MAX + 32];
	char **operands = NULL, **copy = NULL, **owned = NULL;
	struct kv_target target;
	struct kv_reply reply = { 0 };
	struct kv_args args;
	size_t count = 0;
	const json_t *data;
	int rc;

	rc = kv_parse(&get_spec, argc, argv, &args, &operands, &count, &copy, &owned);
	if (rc == CLI_CONTINUE)
		rc = kv_target_of(&args, operands, count, &target);
	if (rc != CLI_CONTINUE)
		goto out;
	if (kv_target_path(&target, "data", path, sizeof(path)) < 0) {
		rc = cli_usage_error(&get_spec, "PATH is too long");
		goto out;
	}
	snprintf(request, sizeof(request), "%s", path);
	if (args.has_version && args.version > 0 && target.version == 2)
		snprintf(request, sizeof(request), "%s?version=%" PRId64, path, args.version);

	rc = kv_call(&args.cli, "GET", request, NULL, &reply);
	if (rc != CLI_EXIT_OK)
		goto out;
	data = json_object_get(reply.json, "data");
	if (reply.status == 200 || (reply.status == 404 && json_is_object(data)))
		rc = get_print(&args, &target, path, reply.json);
	else if (reply.status == 404)
		rc = not_found(&args, path);
	else
		rc = reply_error(&args, &reply);
out:
	kv_reply_clear(&reply);
	free_owned(copy, owned);
	return rc;
}

static int cmd_kv_put(int argc, char **argv)
{
	char path[KV_PATH_MAX];
	char **operands = NULL, **copy = NULL, **owned = NULL;
	struct kv_target target;
	struct kv_reply reply = { 0 };
	struct kv_args args;
	struct wd_error err;
	json_t *data = NULL, *body = NULL;
	size_t count = 0;
	int rc;

	rc = kv_parse(&put_spec, argc, argv, &args, &operands, &count, &copy, &owned);
	if (rc != CLI_CONTINUE)
		goto out;
	if (count < 2) {
		rc = cli_usage_error(&put_spec, "missing data: give KEY=VALUE, KEY=@FILE, @FILE "
			"or - after PATH");
		goto out;
	}
	if (kv_parse_data(operands + 1, count - 1, stdin, &data, &err) < 0) {
		rc = cli_usage_error(&put_spec, "%s", wd_error_text(&err));
		goto out;
	}
	rc = kv_target_of(&args, operands, 1, &target);
	if (rc != CLI_CONTINUE)
		goto out;
	if (kv_target_path(&target, "data", path, sizeof(path)) < 0) {
		rc = cli_usage_error(&put_spec, "PATH is too long");
		goto out;
	}

	/* KV v2 wraps the data with options, which hvac and the vault CLI
	 * always send, {} when there is no check-and-set. */
	if (target.version == 2)
		body = json_pack("{s:O, s:o}", "data", data, "options",
			args.has_cas ? json_pack("{s:I}", "cas", (json_int_t)args.cas) : json_object());
	else
		body = json_incref(data);
	if (!body) {
		fprintf(stderr, "warden kv put: out of memory\n");
		rc = CLI_EXIT_FAILURE;
		goto out;
	}

	rc = kv_call(&args.cli, "POST", path, body, &reply);
	if (rc != CLI_EXIT_OK)
		goto out;
	if (reply.status == 204) {
		if (!args.json)
			printf("Success! Data written to: %s\n", path);
	} else if (reply.status == 200 && args.json) {
		rc = kv_print_secret_json(stdout, reply.json) < 0 ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
	} else if (reply.status == 200) {
		const json_t *written = json_object_get(reply.json, "data");

		print_warnings(reply.json);
		kv_print_path(stdout, "Secret Path", path);
		kv_print_map_header(stdout, "Metadata", written);
		rc = kv_print_table(stdout, written) < 0 ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
	} else {
		rc = reply_error(&args, &reply);
	}
out:
	json_decref(body);
	json_decref(data);
	kv_reply_clear(&reply);
	free_owned(copy, owned);
	return rc;
}

static int cmd_kv_list(int argc, char **argv)
{
	char path[KV_PATH_MAX], request[KV_PATH_MAX];
	char **operands = NULL, **copy = NULL, **owned = NULL;
	struct kv_target target;
	struct kv_reply reply = { 0 };
	struct kv_args args;
	size_t count = 0, len;
	int rc;

	rc = kv_parse(&list_spec, argc, argv, &args, &operands, &count, &copy, &owned);
	if (rc == CLI_CONTINUE)
		rc = kv_target_of(&args, operands, count, &target);
	if (rc != CLI_CONTINUE)
		goto out;
	if (kv_target_path(&target, "metadata", path, sizeof(path) - 1) < 0) {
		rc = cli_usage_error(&list_spec, "PATH is too long");
		goto out;
	}
	len = strlen(path);
	if (path[len - 1] != '/')
		memcpy(path + len, "/", 2);

	/* The request leaves the folder's slash out: the server adds it to a
	 * list, and its router takes no path that ends in '/'. */
	snprintf(request, sizeof(request), "%.*s", (int)(strlen(path) - 1), path);
	rc = kv_call(&args.cli, "LIST", request, NULL, &reply);
	if (rc != CLI_EXIT_OK)
		goto out;
	if (reply.status == 200) {
		const json_t *keys = json_object_get(json_object_get(reply.json, "data"), "keys");

		if (!json_is_array(keys))
			rc = reply_error(&args, &reply);
		else if (args.json)
			rc = kv_print_json(stdout, keys) < 0 ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
		else
			rc = kv_print_keys(stdout, keys) < 0 ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
	} else if (reply.status == 404) {
		/* The vault CLI prints an empty object in JSON mode. */
		if (args.json)
			printf("{}\n");
		rc = not_found(&args, path);
	} else {
		rc = reply_error(&args, &reply);
	}
out:
	kv_reply_clear(&reply);
	free_owned(copy, owned);
	return rc;
}

/* Builds {"versions": [n, ...]} from "1,2,3"; NULL after printing why. */
static json_t *versions_body(const struct kv_args *args)
{
	json_t *versions = json_array();
	const char *start = args->versions;

	while (versions && start && *start) {
		size_t len = strcspn(start, ",");
		char item[24];
		int64_t number;

		if (len == 0 || len >= sizeof(item)) {
			json_decref(versions);
			cli_usage_error(args->spec, "invalid --versions '%s': expected numbers like "
				"1,2", args->versions);
			return NULL;
		}
		memcpy(item, start, len);
		item[len] = '\0';
		if (!parse_count(item, &number) || number == 0 ||
		    json_array_append_new(versions, json_integer(number)) < 0) {
			json_decref(versions);
			cli_usage_error(args->spec, "invalid --versions '%s': expected numbers like "
				"1,2", args->versions);
			return NULL;
		}
		start += len + (start[len] == ',');
	}
	return versions ? json_pack("{s:o}", "versions", versions) : NULL;
}

/* The endpoint and success message of delete, undelete or destroy. */
struct versions_action {
	const char *endpoint;       /* "delete", "undelete", "destroy" */
	bool required;              /* --versions is required */
	const char *success;        /* "Success! ..." before the path */
};

static int kv_versions_command(const struct cli_spec *spec, const struct versions_action *action,
	int argc, char **argv)
{
	char path[KV_PATH_MAX], shown[KV_PATH_MAX];
	char **operands = NULL, **copy = NULL, **owned = NULL;
	struct kv_target target;
	struct kv_reply reply = { 0 };
	struct kv_args args;
	json_t *body = NULL;
	size_t count = 0;
	int rc;

	rc = kv_parse(spec, argc, argv, &args, &operands, &count, &copy, &owned);
	if (rc == CLI_CONTINUE && action->required && !args.versions)
		rc = cli_usage_error(spec, "missing --versions: name the versions to %s",
			action->endpoint);
	if (rc == CLI_CONTINUE)
		rc = kv_target_of(&args, operands, count, &target);
	if (rc != CLI_CONTINUE)
		goto out;
	if (target.version != 2 && (action->required || args.versions)) {
		fprintf(stderr, "warden %s: %s is a KV v1 mount, which keeps no versions\n",
			spec->name, target.mount);
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	if (args.versions) {
		body = versions_body(&args);
		if (!body) {
			rc = CLI_EXIT_USAGE;
			goto out;
		}
	}

	/* vault kv delete names the data path in its message whichever
	 * endpoint it calls. */
	if (kv_target_path(&target, args.versions ? action->endpoint : "data", path,
		    sizeof(path)) < 0 ||
	    kv_target_path(&target, action->required ? action->endpoint : "data", shown,
		    sizeof(shown)) < 0) {
		rc = cli_usage_error(spec, "PATH is too long");
		goto out;
	}
	rc = kv_call(&args.cli, body ? "POST" : "DELETE", path, body, &reply);
	if (rc != CLI_EXIT_OK)
		goto out;
	if (reply.status == 204 || reply.status == 200) {
		print_warnings(reply.json);
		printf("%s%s\n", action->success, shown);
	} else {
		rc = reply_error(&args, &reply);
	}
out:
	json_decref(body);
	kv_reply_clear(&reply);
	free_owned(copy, owned);
	return rc;
}

static int cmd_kv_delete(int argc, char **argv)
{
	static const struct versions_action action = {
		"delete", false, "Success! Data deleted (if it existed) at: ",
	};

	return kv_versions_command(&delete_spec, &action, argc, argv);
}

static int cmd_kv_undelete(int argc, char **argv)
{
	static const struct versions_action action = {
		"undelete", true, "Success! Data written to: ",
	};

	return kv_versions_command(&undelete_spec, &action, argc, argv);
}

static int cmd_kv_destroy(int argc, char **argv)
{
	static const struct versions_action action = {
		"destroy", true, "Success! Data written to: ",
	};

	return kv_versions_command(&destroy_spec, &action, argc, argv);
}

/* Parses a metadata command and resolves its KV v2 metadata path. */
static int metadata_target(const struct cli_spec *spec, int argc, char **argv,
	struct kv_args *args, char *path, size_t len, char ***ret_copy, char ***ret_owned)
{
	struct kv_target target;
	char **operands = NULL;
	size_t count = 0;
	int rc;

	rc = kv_parse(spec, argc, argv, args, &operands, &count, ret_copy, ret_owned);
	if (rc == CLI_CONTINUE)
		rc = kv_target_of(args, operands, count, &target);
	if (rc != CLI_CONTINUE)
		return rc;
	if (target.version != 2) {
		fprintf(stderr, "warden %s: %s is a KV v1 mount, which keeps no metadata\n",
			spec->name, target.mount);
		return CLI_EXIT_FAILURE;
	}
	if (kv_target_path(&target, "metadata", path, len) < 0)
		return cli_usage_error(spec, "PATH is too long");
	return CLI_CONTINUE;
}

/* Prints metadata as vault kv metadata get does: the key's settings,
 * then one table per version in ascending order. */
static int metadata_print(const char *path, const json_t *data)
{
	const json_t *versions = json_object_get(data, "versions");
	json_t *settings = json_deep_copy(data);
	uint64_t previous = 0;
	int rc = 0;

	if (!settings)
		return CLI_EXIT_FAILURE;
	json_object_del(settings, "versions");
	kv_print_path(stdout, "Metadata Path", path);
	kv_print_map_header(stdout, "Metadata", settings);
	rc = kv_print_table(stdout, settings);
	json_decref(settings);

	/* Print in numeric order: pick the next larger number each round. */
	for (;;) {
		const char *name, *next_name = NULL;
		uint64_t next = 0;
		json_t *version;
		char title[40];

		json_object_foreach((json_t *)versions, name, version) {
			uint64_t number = strtoull(name, NULL, 10);

			if (number > previous && (!next_name || number < next)) {
				next = number;
				next_name = name;
			}
		}
		if (!next_name || rc < 0)
			break;
		snprintf(title, sizeof(title), "Version %" PRIu64, next);
		fputc('\n', stdout);
		kv_print_map_header(stdout, title, json_object_get(versions, next_name));
		rc = kv_print_table(stdout, json_object_get(versions, next_name));
		previous = next;
	}
	return rc < 0 ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
}

static int cmd_kv_metadata_get(int argc, char **argv)
{
	char path[KV_PATH_MAX];
	char **copy = NULL, **owned = NULL;
	struct kv_reply reply = { 0 };
	struct kv_args args;
	int rc;

	rc = metadata_target(&metadata_get_spec, argc, argv, &args, path, sizeof(path), &copy,
		&owned);
	if (rc != CLI_CONTINUE)
		goto out;
	rc = kv_call(&args.cli, "GET", path, NULL, &reply);
	if (rc != CLI_EXIT_OK)
		goto out;
	if (reply.status == 200 && args.json)
		rc = kv_print_secret_json(stdout, reply.json) < 0 ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
	else if (reply.status == 200)
		rc = metadata_print(path, json_object_get(reply.json, "data"));
	else if (reply.status == 404)
		rc = not_found(&args, path);
	else
		rc = reply_error(&args, &reply);
out:
	kv_reply_clear(&reply);
	free_owned(copy, owned);
	return rc;
}

/* Builds the body of kv metadata put from the options given. */
static json_t *metadata_body(const struct kv_args *args)
{
	json_t *body = json_object();
	json_t *custom;

	if (!body)
		return NULL;
	if (args->has_max_versions)
		json_object_set_new(body, "max_versions", json_integer(args->max_versions));
	if (args->cas_required >= 0)
		json_object_set_new(body, "cas_required", json_boolean(args->cas_required));
	if (args->delete_after)
		json_object_set_new(body, "delete_version_after", json_string(args->delete_after));
	if (args->custom_metadata.count == 0)
		return body;

	custom = json_object();
	for (size_t i = 0; custom && i < args->custom_metadata.count; i++) {
		const char *entry = args->custom_metadata.items[i];
		const char *equals = strchr(entry, '=');
		char *key = wd_strndup(entry, (size_t)(equals - entry));

		if (!key || json_object_set_new(custom, key, json_string(equals + 1)) < 0) {
			free(key);
			json_decref(custom);
			json_decref(body);
			return NULL;
		}
		free(key);
	}
	if (!custom || json_object_set_new(body, "custom_metadata", custom) < 0) {
		json_decref(body);
		return NULL;
	}
	return body;
}

static int cmd_kv_metadata_put(int argc, char **argv)
{
	char path[KV_PATH_MAX];
	char **copy = NULL, **owned = NULL;
	struct kv_reply reply = { 0 };
	struct kv_args args;
	json_t *body = NULL;
	int rc;

	rc = metadata_target(&metadata_put_spec, argc, argv, &args, path, sizeof(path), &copy,
		&owned);
	if (rc != CLI_CONTINUE)
		goto out;
	body = metadata_body(&args);
	if (!body) {
		fprintf(stderr, "warden kv metadata put: out of memory\n");
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	rc = kv_call(&args.cli, "POST", path, body, &reply);
	if (rc != CLI_EXIT_OK)
		goto out;
	if (reply.status == 204 || reply.status == 200) {
		print_warnings(reply.json);
		if (!args.json)
			printf("Success! Data written to: %s\n", path);
	} else {
		rc = reply_error(&args, &reply);
	}
out:
	json_decref(body);
	kv_reply_clear(&reply);
	cli_strings_free(&args.custom_metadata);
	free_owned(copy, owned);
	return rc;
}

static int cmd_kv_metadata_delete(int argc, char **argv)
{
	char path[KV_PATH_MAX];
	char **copy = NULL, **owned = NULL;
	struct kv_reply reply = { 0 };
	struct kv_args args;
	int rc;

	rc = metadata_target(&metadata_delete_spec, argc, argv, &args, path, sizeof(path), &copy,
		&owned);
	if (rc != CLI_CONTINUE)
		goto out;
	rc = kv_call(&args.cli, "DELETE", path, NULL, &reply);
	if (rc != CLI_EXIT_OK)
		goto out;
	if (reply.status == 204 || reply.status == 200)
		printf("Success! Data deleted (if it existed) at: %s\n", path);
	else
		rc = reply_error(&args, &reply);
out:
	kv_reply_clear(&reply);
	free_owned(copy, owned);
	return rc;
}

static int cmd_kv_metadata(int argc, char **argv)
{
	static const struct cli_command metadata_commands[] = {
		{ "get", "print a key's settings and versions", cmd_kv_metadata_get },
		{ "put", "set a key's settings and custom metadata", cmd_kv_metadata_put },
		{ "delete", "delete a key with every version", cmd_kv_metadata_delete },
	};

	return cli_dispatch("kv metadata", metadata_commands, WD_ARRAY_LEN(metadata_commands),
		argc, argv);
}

int cmd_kv(int argc, char **argv)
{
	static const struct cli_command kv_commands[] = {
		{ "get", "print a secret", cmd_kv_get },
		{ "put", "write a secret", cmd_kv_put },
		{ "list", "list the keys below a path", cmd_kv_list },
		{ "delete", "delete a secret (soft on KV v2)", cmd_kv_delete },
		{ "undelete", "restore soft-deleted versions (KV v2)", cmd_kv_undelete },
		{ "destroy", "remove versions for good (KV v2)", cmd_kv_destroy },
		{ "metadata", "read, set and delete key metadata (KV v2)", cmd_kv_metadata },
	};

	return cli_dispatch("kv", kv_commands, WD_ARRAY_LEN(kv_commands), argc, argv);
}
