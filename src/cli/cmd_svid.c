/* `warden svid mint|revoke`: X.509-SVIDs minted by the server for
 * workloads outside any registration entry, and revocation onto the CRL.
 * The Workload API clients (fetch, fetch-jwt, validate-jwt, watch) are in
 * cmd_svid_fetch.c. */
#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli/admin_client.h"
#include "cli/cli_args.h"
#include "cli/cli_format.h"
#include "cli/commands.h"
#include "common/alloc.h"
#include "common/file.h"
#include "crypto/key.h"

enum svid_option {
	OPT_SPIFFE_ID,
	OPT_OUT,
	OPT_TTL,
	OPT_DNS_NAME,
	OPT_KEY_TYPE,
	OPT_PRINT_KEY,
	OPT_SERIAL,
};

static const struct cli_option mint_options[] = {
	{ "spiffe-id", "ID", OPT_SPIFFE_ID, "SPIFFE ID of the SVID (required)" },
	{ "out", "DIR", OPT_OUT,
		"write svid.pem, svid.key (0600) and bundle.pem\n"
		"to DIR, created 0700 if missing" },
	{ "ttl", "DURATION", OPT_TTL,
		"lifetime of the SVID, e.g. 30m (default: the\n"
		"server's X.509-SVID TTL; at most 30d, and never\n"
		"past the CA's expiry)" },
	{ "dns-name", "NAME", OPT_DNS_NAME, "DNS name added as a SAN; repeat for more" },
	{ "key-type", "TYPE", OPT_KEY_TYPE, "ec-p256 (default), ec-p384 or rsa-2048" },
	{ "print-key", NULL, OPT_PRINT_KEY,
		"also print the private key on stdout (without\n"
		"--out, or with --json)" },
};

static const struct cli_option revoke_options[] = {
	{ "serial", "HEX", OPT_SERIAL,
		"serial number of the SVID in hex, as\n"
		"openssl x509 -serial prints it" },
	{ "spiffe-id", "ID", OPT_SPIFFE_ID, "revoke every unexpired SVID of this SPIFFE ID" },
};

static const struct cli_spec mint_spec = {
	.name = "svid mint",
	.synopsis = "--spiffe-id ID [--out DIR] [OPTIONS]",
	.description = "Has the server generate a key and sign an X.509-SVID for it, like\n"
		       "spire-server x509 mint. Without --out, prints the certificate chain and\n"
		       "the bundle on stdout, and the key only with --print-key.\n",
	.options = mint_options,
	.option_count = WD_ARRAY_LEN(mint_options),
	.common = CLI_COMMON_ADMIN_SOCKET | CLI_COMMON_JSON,
};

static const struct cli_spec revoke_spec = {
	.name = "svid revoke",
	.synopsis = "(--serial HEX | --spiffe-id ID)",
	.description = "Puts X.509-SVIDs on the issuing CA's CRL: one serial, or every\n"
		       "unexpired SVID issued to a SPIFFE ID.\n",
	.options = revoke_options,
	.option_count = WD_ARRAY_LEN(revoke_options),
	.common = CLI_COMMON_ADMIN_SOCKET | CLI_COMMON_JSON,
};

struct mint_args {
	const char *spiffe_id;
	const char *out_dir;
	const char *key_type;
	struct cli_strings dns_names;
	bool has_ttl;
	int64_t ttl;  /* seconds */
	bool print_key;
};

static int mint_option(void *ctx, int id, const char *value)
{
	struct mint_args *args = ctx;
	enum crypto_key_type type;
	struct wd_error err = { 0 };

	switch ((enum svid_option)id) {
	case OPT_SPIFFE_ID:
		args->spiffe_id = value;
		break;
	case OPT_OUT:
		args->out_dir = value;
		break;
	case OPT_TTL:
		args->has_ttl = true;
		return cli_parse_duration("--ttl", value, &args->ttl);
	case OPT_DNS_NAME:
		return cli_strings_append(&args->dns_names, value);
	case OPT_KEY_TYPE:
		if (crypto_key_type_parse(value, &type, &err) < 0) {
			fprintf(stderr, "warden: invalid --key-type '%s': expected ec-p256, ec-p384 or "
				"rsa-2048\n", value);
			return CLI_EXIT_USAGE;
		}
		args->key_type = value;
		break;
	case OPT_PRINT_KEY:
		args->print_key = true;
		break;
	case OPT_SERIAL:
		break;
	}
	return CLI_CONTINUE;
}

static json_t *mint_request(const struct mint_args *args)
{
	json_t *body = json_pack("{s:s}", "spiffe_id", args->spiffe_id);
	json_t *names = json_array();
	int failed = !body || !names;

	for (size_t i = 0; !failed && i < args->dns_names.count; i++)
		failed |= json_array_append_new(names, json_string(args->dns_names.items[i]));
	if (!failed && args->dns_names.count > 0)
		failed |= json_object_set(body, "dns_names", names);
	if (!failed && args->has_ttl)
		failed |= json_object_set_new(body, "ttl", json_integer(args->ttl));
	if (!failed && args->key_type)
		failed |= json_object_set_new(body, "key_type", json_string(args->key_type));
	json_decref(names);
	if (failed) {
		json_decref(body);
		return NULL;
	}
	return body;
}

static const char *member(const json_t *reply, const char *key)
{
	const char *value = json_string_value(json_object_get(reply, key));

	return value ? value : "";
}

/* Writes one file of the SVID into dir; prints and returns 1 on failure. */
static int write_one(const char *dir, const char *name, const char *text, mode_t mode)
{
	char path[PATH_MAX];
	struct wd_error err = { 0 };
	int n = snprintf(path, sizeof(path), "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= sizeof(path)) {
		fprintf(stderr, "warden: output path '%s/%s' is too long\n", dir, name);
		return CLI_EXIT_FAILURE;
	}
	if (wd_file_write_atomic(path, text, strlen(text), mode, &err) < 0) {
		fprintf(stderr, "warden: cannot write %s: %s\n", path, wd_error_text(&err));
		return CLI_EXIT_FAILURE;
	}
	return CLI_EXIT_OK;
}

/* Writes svid.key, svid.pem and bundle.pem into dir, creating it 0700. The
 * key goes first, so a directory with a new certificate never pairs it with
 * an older key. */
static int write_files(const char *dir, const json_t *reply)
{
	struct wd_error err = { 0 };
	int rc;

	if (wd_mkdir_p(dir, 0700, &err) < 0) {
		fprintf(stderr, "warden: cannot create %s: %s\n", dir, wd_error_text(&err));
		return CLI_EXIT_FAILURE;
	}
	rc = write_one(dir, "svid.key", member(reply, "private_key"), 0600);
	if (rc == CLI_EXIT_OK)
		rc = write_one(dir, "svid.pem", member(reply, "svid"), 0644);
	if (rc == CLI_EXIT_OK)
		rc = write_one(dir, "bundle.pem", member(reply, "bundle"), 0644);
	return rc;
}

/* Prints the reply as JSON, without the private key unless print_key. */
static int print_mint_json(struct admin_reply *reply, bool print_key)
{
	json_t *key = json_object_get(reply->json, "private_key");

	if (print_key)
		return admin_reply_print(reply, stdout);
	if (json_is_string(key))
		OPENSSL_cleanse((char *)json_string_value(key), json_string_length(key));
	json_object_del(reply->json, "private_key");
	if (json_dumpf(reply->json, stdout, JSON_COMPACT) < 0 || putchar('\n') == EOF)
		return CLI_EXIT_FAILURE;
	return CLI_EXIT_OK;
}

static void print_summary(const json_t *reply, const char *dir)
{
	char expires[WD_TIME_TEXT_MAX];

	cli_format_time(json_object_get(reply, "expires_at"), expires);
	printf("Wrote X.509-SVID for %s (serial %s, expires %s) to %s/svid.pem, svid.key and "
	       "bundle.pem\n", member(reply, "spiffe_id"), member(reply, "serial"), expires, dir);
}

/* Without --out: the chain, the key when asked for, then the bundle. */
static void print_pems(const json_t *reply, bool print_key)
{
	fputs(member(reply, "svid"), stdout);
	if (print_key)
		fputs(member(reply, "private_key"), stdout);
	else
		fprintf(stderr, "warden: the private key was not printed: use --out DIR to write "
			"it to svid.key, or --print-key\n");
	fputs(member(reply, "bundle"), stdout);
}

static int svid_mint(int argc, char **argv)
{
	struct mint_args args = { 0 };
	struct admin_reply reply = { 0 };
	struct cli_common common;
	char **operands;
	size_t count;
	json_t *body = NULL;
	int rc;

	rc = cli_parse(&mint_spec, argc, argv, mint_option, &args, &common, &operands, &count);
	if (rc != CLI_CONTINUE)
		goto out;
	if (!args.spiffe_id) {
		rc = cli_usage_error(&mint_spec, "missing --spiffe-id");
		goto out;
	}

	body = mint_request(&args);
	if (!body) {
		fprintf(stderr, "warden: out of memory\n");
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	rc = admin_call(admin_socket_resolve(common.admin_socket), "POST", "/v1/svid/mint", body,
		&reply);
	if (rc != CLI_EXIT_OK)
		goto out;

	if (args.out_dir)
		rc = write_files(args.out_dir, reply.json);
	if (rc == CLI_EXIT_OK && common.json)
		rc = print_mint_json(&reply, args.print_key);
	else if (rc == CLI_EXIT_OK && args.out_dir)
		print_summary(reply.json, args.out_dir);
	else if (rc == CLI_EXIT_OK)
		print_pems(reply.json, args.print_key);
out:
	/* Clearing the reply wipes every copy of the key text it holds. */
	admin_reply_clear(&reply);
	json_decref(body);
	cli_strings_free(&args.dns_names);
	return rc;
}

struct revoke_args {
	const char *serial;
	const char *spiffe_id;
};

static int revoke_option(void *ctx, int id, const char *value)
{
	struct revoke_args *args = ctx;

	if (id == OPT_SERIAL)
		args->serial = value;
	else if (id == OPT_SPIFFE_ID)
		args->spiffe_id = value;
	return CLI_CONTINUE;
}

/* Copies serial without the colons of the "0a:1b:..." form that openssl
 * x509 -text prints; the server checks the hex itself. */
static char *serial_without_colons(const char *serial)
{
	char *copy = wd_strdup(serial);
	size_t o = 0;

	if (!copy)
		return NULL;
	for (size_t i = 0; copy[i]; i++) {
		if (copy[i] != ':')
			copy[o++] = copy[i];
	}
	copy[o] = '\0';
	return copy;
}

static json_t *revoke_request(const struct revoke_args *args)
{
	_wd_cleanup_(wd_freep) char *serial = NULL;

	if (args->spiffe_id)
		return json_pack("{s:s}", "spiffe_id", args->spiffe_id);
	serial = serial_without_colons(args->serial);
	return serial ? json_pack("{s:s}", "serial", serial) : NULL;
}

static void print_revoked(const json_t *reply, const struct revoke_args *args)
{
	const json_t *serials = json_object_get(reply, "revoked_serials");
	const json_t *serial;
	size_t i;

	if (json_array_size(serials) == 0 && args->spiffe_id)
		printf("No live SVIDs for %s\n", args->spiffe_id);
	json_array_foreach(serials, i, serial)
		printf("Revoked serial %s\n", json_string_value(serial) ? json_string_value(serial) :
			"");
}

static int svid_revoke(int argc, char **argv)
{
	struct revoke_args args = { 0 };
	struct admin_reply reply = { 0 };
	struct cli_common common;
	char **operands;
	size_t count;
	json_t *body;
	int rc;

	rc = cli_parse(&revoke_spec, argc, argv, revoke_option, &args, &common, &operands, &count);
	if (rc != CLI_CONTINUE)
		return rc;
	if (!args.serial == !args.spiffe_id)
		return cli_usage_error(&revoke_spec, "give exactly one of --serial and --spiffe-id");

	body = revoke_request(&args);
	if (!body) {
		fprintf(stderr, "warden: out of memory\n");
		return CLI_EXIT_FAILURE;
	}
	rc = admin_call(admin_socket_resolve(common.admin_socket), "POST", "/v1/svid/revoke", body,
		&reply);
	if (rc == CLI_EXIT_OK && common.json)
		rc = admin_reply_print(&reply, stdout);
	else if (rc == CLI_EXIT_OK)
		print_revoked(reply.json, &args);
	admin_reply_clear(&reply);
	json_decref(body);
	return rc;
}

static const struct cli_command svid_commands[] = {
	{ "mint", "issue an X.509-SVID with a new key", svid_mint },
	{ "revoke", "put X.509-SVIDs on the CRL", svid_revoke },
	{ "fetch", "fetch this process's X.509-SVID from the agent", cmd_svid_fetch },
	{ "fetch-jwt", "fetch a JWT-SVID from the agent", cmd_svid_fetch_jwt },
	{ "validate-jwt", "validate a JWT-SVID through the agent", cmd_svid_validate_jwt },
	{ "watch", "keep X.509-SVID files current from the agent", cmd_svid_watch },
};

int cmd_svid(int argc, char **argv)
{
	return cli_dispatch("svid", svid_commands, WD_ARRAY_LEN(svid_commands), argc, argv);
}
