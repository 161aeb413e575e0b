/* `warden entry create|list|show|update|delete`: registration entries
 * through the admin API. */
#include <string.h>

#include "cli/admin_client.h"
#include "cli/cli_args.h"
#include "cli/cli_format.h"
#include "cli/cli_request.h"
#include "cli/commands.h"
#include "identity/registry.h"

enum entry_option {
	OPT_SPIFFE_ID,
	OPT_PARENT_ID,
	OPT_SELECTOR,
	OPT_X509_SVID_TTL,
	OPT_JWT_SVID_TTL,
	OPT_DNS_NAME,
	OPT_ADMIN,
	OPT_REQUIRE_SIGNED,
	OPT_NO_ADMIN,
	OPT_NO_REQUIRE_SIGNED,
};

/* Rows of write_options that only update takes, at its end. */
#define UPDATE_ONLY_OPTIONS 2

/* The options of create and update. --no-admin and --no-require-signed come
 * last because only update takes them: create's table is this one without
 * the last UPDATE_ONLY_OPTIONS rows. */
static const struct cli_option write_options[] = {
	{ "spiffe-id", "ID", OPT_SPIFFE_ID, "SPIFFE ID that matching workloads receive" },
	{ "parent-id", "ID", OPT_PARENT_ID,
		"SPIFFE ID of the agent (or entry) that may issue it" },
	{ "selector", "TYPE:VALUE", OPT_SELECTOR,
		"selector a workload must show, e.g. unix:uid:1000;\n"
		"repeat for more (a workload must show all)" },
	{ "x509-svid-ttl", "DURATION", OPT_X509_SVID_TTL,
		"lifetime of its X.509-SVIDs, e.g. 1h\n(0: the server default)" },
	{ "jwt-svid-ttl", "DURATION", OPT_JWT_SVID_TTL,
		"lifetime of its JWT-SVIDs, e.g. 5m\n(0: the server default)" },
	{ "dns-name", "NAME", OPT_DNS_NAME,
		"DNS name SAN of its X.509-SVIDs; repeat for more" },
	{ "admin", NULL, OPT_ADMIN, "let its SVIDs call the admin API" },
	{ "require-signed", NULL, OPT_REQUIRE_SIGNED,
		"issue SVIDs only while each unix:sha256 selector names\n"
		"a binary with a registered, verified signature\n"
		"(see `warden signature add`)" },
	{ "no-admin", NULL, OPT_NO_ADMIN, "take admin rights away" },
	{ "no-require-signed", NULL, OPT_NO_REQUIRE_SIGNED,
		"issue SVIDs again without a signature check" },
};

static const struct cli_option list_options[] = {
	{ "spiffe-id", "ID", OPT_SPIFFE_ID, "only entries with this SPIFFE ID" },
	{ "parent-id", "ID", OPT_PARENT_ID, "only entries with this parent ID" },
	{ "selector", "TYPE:VALUE", OPT_SELECTOR, "only entries with this selector" },
};

static const struct cli_spec create_spec = {
	.name = "entry create",
	.synopsis = "--spiffe-id ID --parent-id ID --selector TYPE:VALUE... [OPTIONS]",
	.description = "Registers a workload: which SPIFFE ID it gets, from which parent, and\n"
		       "the selectors it must show. Prints the new entry.\n",
	.options = write_options,
	.option_count = WD_ARRAY_LEN(write_options) - UPDATE_ONLY_OPTIONS,
	.common = CLI_COMMON_ADMIN_SOCKET | CLI_COMMON_JSON,
};

static const struct cli_spec update_spec = {
	.name = "entry update",
	.synopsis = "ID [OPTIONS]",
	.description = "Changes only the fields given; --selector and --dns-name replace the\n"
		       "whole list. Prints the updated entry.\n",
	.options = write_options,
	.option_count = WD_ARRAY_LEN(write_options),
	.common = CLI_COMMON_ADMIN_SOCKET | CLI_COMMON_JSON,
	.min_operands = 1,
	.max_operands = 1,
	.operand_name = "entry ID",
};

static const struct cli_spec list_spec = {
	.name = "entry list",
	.synopsis = "[--spiffe-id ID] [--parent-id ID] [--selector TYPE:VALUE]",
	.description = "Prints the registration entries that match every filter given.\n",
	.options = list_options,
	.option_count = WD_ARRAY_LEN(list_options),
	.common = CLI_COMMON_ADMIN_SOCKET | CLI_COMMON_JSON,
};

static const struct cli_spec show_spec = {
	.name = "entry show",
	.synopsis = "ID",
	.description = "Prints one registration entry.\n",
	.common = CLI_COMMON_ADMIN_SOCKET | CLI_COMMON_JSON,
	.min_operands = 1,
	.max_operands = 1,
	.operand_name = "entry ID",
};

static const struct cli_spec delete_spec = {
	.name = "entry delete",
	.synopsis = "ID",
	.description = "Deletes a registration entry and revokes the unexpired X.509-SVIDs\n"
		       "issued under it.\n",
	.common = CLI_COMMON_ADMIN_SOCKET | CLI_COMMON_JSON,
	.min_operands = 1,
	.max_operands = 1,
	.operand_name = "entry ID",
};

static int write_option(void *ctx, int id, const char *value)
{
	struct cli_entry_options *options = ctx;

	switch ((enum entry_option)id) {
	case OPT_SPIFFE_ID:
		options->spiffe_id = value;
		break;
	case OPT_PARENT_ID:
		options->parent_id = value;
		break;
	case OPT_SELECTOR:
		return cli_strings_append(&options->selectors, value);
	case OPT_DNS_NAME:
		return cli_strings_append(&options->dns_names, value);
	case OPT_X509_SVID_TTL:
		options->has_x509_svid_ttl = true;
		return cli_parse_duration("--x509-svid-ttl", value, &options->x509_svid_ttl);
	case OPT_JWT_SVID_TTL:
		options->has_jwt_svid_ttl = true;
		return cli_parse_duration("--jwt-svid-ttl", value, &options->jwt_svid_ttl);
	case OPT_ADMIN:
	case OPT_NO_ADMIN:
		options->has_admin = true;
		options->admin = id == OPT_ADMIN;
		break;
	case OPT_REQUIRE_SIGNED:
	case OPT_NO_REQUIRE_SIGNED:
		options->has_require_signed = true;
		options->require_signed = id == OPT_REQUIRE_SIGNED;
		break;
	}
	return CLI_CONTINUE;
}

/* Prints the entry of a create, show or update reply. */
static int print_entry_reply(const struct cli_common *common, const struct admin_reply *reply)
{
	if (common->json)
		return admin_reply_print(reply, stdout);
	cli_print_entry(stdout, reply->json);
	return CLI_EXIT_OK;
}

/* Sends the entry options as the body of method on path and prints the
 * resulting entry. */
static int send_entry(const struct cli_common *common, const struct cli_entry_options *options,
	const char *method, const char *path)
{
	struct admin_reply reply = { 0 };
	json_t *body = NULL;
	int rc;

	if (cli_entry_request(options, &body) < 0) {
		fprintf(stderr, "warden: out of memory\n");
		return CLI_EXIT_FAILURE;
	}
	rc = admin_call(admin_socket_resolve(common->admin_socket), method, path, body, &reply);
	if (rc == CLI_EXIT_OK)
		rc = print_entry_reply(common, &reply);
	admin_reply_clear(&reply);
	json_decref(body);
	return rc;
}

/* Builds "/v1/entries/<id>" in url; prints and returns 1 on failure. */
static int entry_url(struct wd_buf *url, const char *id)
{
	if (cli_url_init(url, "/v1/entries") < 0 || cli_url_append_segment(url, id) < 0) {
		fprintf(stderr, "warden: entry ID '%.100s' is too long\n", id);
		return CLI_EXIT_FAILURE;
	}
	return CLI_CONTINUE;
}

static int entry_create(int argc, char **argv)
{
	struct cli_entry_options options = { 0 };
	struct cli_common common;
	char **operands;
	size_t count;
	int rc;

	rc = cli_parse(&create_spec, argc, argv, write_option, &options, &common, &operands,
		&count);
	if (rc != CLI_CONTINUE)
		goto out;
	if (!options.spiffe_id)
		rc = cli_usage_error(&create_spec, "missing --spiffe-id");
	else if (!options.parent_id)
		rc = cli_usage_error(&create_spec, "missing --parent-id");
	else if (options.selectors.count == 0)
		rc = cli_usage_error(&create_spec, "missing --selector: give at least one");
	else
		rc = send_entry(&common, &options, "POST", "/v1/entries");
out:
	cli_strings_free(&options.selectors);
	cli_strings_free(&options.dns_names);
	return rc;
}

static int entry_update(int argc, char **argv)
{
	struct cli_entry_options options = { 0 };
	struct cli_common common;
	struct wd_buf url;
	char **operands;
	size_t count;
	int rc;

	wd_buf_init(&url, 0, 0);
	rc = cli_parse(&update_spec, argc, argv, write_option, &options, &common, &operands,
		&count);
	if (rc != CLI_CONTINUE)
		goto out;
	if (!cli_entry_options_any(&options)) {
		rc = cli_usage_error(&update_spec, "nothing to update: give at least one option");
		goto out;
	}
	rc = entry_url(&url, operands[0]);
	if (rc == CLI_CONTINUE)
		rc = send_entry(&common, &options, "PUT", wd_buf_str(&url));
out:
	wd_buf_free(&url);
	cli_strings_free(&options.selectors);
	cli_strings_free(&options.dns_names);
	return rc;
}

/* Runs method on /v1/entries/<ID> for show and delete, leaving the reply to
 * the caller. */
/* call_entry's result when it printed --help and sent nothing. */
#define ENTRY_HELP_SHOWN (-2)

static int call_entry(const struct cli_spec *spec, int argc, char **argv, const char *method,
	struct cli_common *ret_common, const char **ret_id, struct admin_reply *ret_reply)
{
	struct wd_buf url;
	char **operands;
	size_t count;
	int rc;

	memset(ret_reply, 0, sizeof(*ret_reply));
	*ret_id = NULL;
	wd_buf_init(&url, 0, 0);
	rc = cli_parse(spec, argc, argv, NULL, NULL, ret_common, &operands, &count);
	if (rc == CLI_EXIT_OK)
		rc = ENTRY_HELP_SHOWN;
	if (rc == CLI_CONTINUE) {
		*ret_id = operands[0];
		rc = entry_url(&url, operands[0]);
	}
	if (rc == CLI_CONTINUE)
		rc = admin_call(admin_socket_resolve(ret_common->admin_socket), method,
			wd_buf_str(&url), NULL, ret_reply);
	wd_buf_free(&url);
	return rc;
}

static int entry_show(int argc, char **argv)
{
	struct cli_common common;
	struct admin_reply reply;
	const char *id;
	int rc;

	rc = call_entry(&show_spec, argc, argv, "GET", &common, &id, &reply);
	if (rc == ENTRY_HELP_SHOWN)
		rc = CLI_EXIT_OK;
	else if (rc == CLI_EXIT_OK)
		rc = print_entry_reply(&common, &reply);
	admin_reply_clear(&reply);
	return rc;
}

static int entry_delete(int argc, char **argv)
{
	struct cli_common common;
	struct admin_reply reply;
	const char *id;
	const char *deleted_id;
	size_t revoked;
	int rc;

	rc = call_entry(&delete_spec, argc, argv, "DELETE", &common, &id, &reply);
	if (rc == ENTRY_HELP_SHOWN) {
		rc = CLI_EXIT_OK;
		goto out;
	}
	if (rc != CLI_EXIT_OK)
		goto out;
	if (common.json) {
		rc = admin_reply_print(&reply, stdout);
		goto out;
	}

	deleted_id = json_string_value(json_object_get(json_object_get(reply.json, "deleted"), "id"));
	revoked = json_array_size(json_object_get(reply.json, "revoked_serials"));
	printf("Deleted entry %s\n", deleted_id ? deleted_id : id);
	if (revoked > 0)
		printf("Revoked %zu SVID%s\n", revoked, revoked == 1 ? "" : "s");
out:
	admin_reply_clear(&reply);
	return rc;
}

/* Filters of entry list; list_option rejects a repeated one. */
struct list_filters {
	const char *values[3]; /* indexed by OPT_SPIFFE_ID, OPT_PARENT_ID, OPT_SELECTOR */
};

static const char *const filter_query_names[] = { "spiffe_id", "parent_id", "selector" };

static int list_option(void *ctx, int id, const char *value)
{
	struct list_filters *filters = ctx;

	if (filters->values[id])
		return cli_usage_error(&list_spec, "--%s may be given only once",
			list_options[id].name);
	filters->values[id] = value;
	return CLI_CONTINUE;
}

/* Builds the URL of the first page of entries, with the filters. */
static int list_url(const struct list_filters *filters, struct wd_buf *url)
{
	char limit[16];

	snprintf(limit, sizeof(limit), "%d", REGISTRY_LIST_MAX_LIMIT);
	WD_TRY(cli_url_init(url, "/v1/entries"));
	for (size_t i = 0; i < WD_ARRAY_LEN(filter_query_names); i++) {
		if (filters->values[i])
			WD_TRY(cli_url_append_query(url, filter_query_names[i], filters->values[i]));
	}
	return cli_url_append_query(url, "limit", limit);
}

static int entry_list(int argc, char **argv)
{
	struct list_filters filters = { 0 };
	struct cli_common common;
	struct wd_buf url;
	char **operands;
	size_t count;
	json_t *all = NULL;
	int rc;

	rc = cli_parse(&list_spec, argc, argv, list_option, &filters, &common, &operands, &count);
	if (rc != CLI_CONTINUE)
		return rc;

	wd_buf_init(&url, 0, 0);
	all = json_array();
	if (!all) {
		fprintf(stderr, "warden: out of memory\n");
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	if (list_url(&filters, &url) < 0) {
		fprintf(stderr, "warden: the entry list filters are too long\n");
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	rc = admin_call_pages(admin_socket_resolve(common.admin_socket), wd_buf_str(&url),
		"entries", all);
	if (rc == CLI_EXIT_OK && common.json) {
		rc = cli_print_list_json(stdout, "entries", all);
	} else if (rc == CLI_EXIT_OK) {
		cli_print_entry_list(stdout, all);
	}
out:
	wd_buf_free(&url);
	json_decref(all);
	return rc;
}

static const struct cli_command entry_commands[] = {
	{ "create", "register a workload's SPIFFE ID and selectors", entry_create },
	{ "list", "list registration entries", entry_list },
	{ "show", "print one registration entry", entry_show },
	{ "update", "change fields of a registration entry", entry_update },
	{ "delete", "delete a registration entry and revoke its SVIDs", entry_delete },
};

int cmd_entry(int argc, char **argv)
{
	return cli_dispatch("entry", entry_commands, WD_ARRAY_LEN(entry_commands), argc, argv);
}
