/* `warden svid fetch|fetch-jwt|validate-jwt|watch`: clients of the SPIFFE
 * Workload API that a workload runs to obtain its own SVIDs from the node
 * agent, in the way spire-agent api and spiffe-helper do. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "agent/config.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "common/file.h"
#include "common/log.h"
#include "common/time.h"
#include "net/grpc.h"
#include "workload.pb-c.h"

/* Time limit to connect and for a unary call, in ms. */
#define FETCH_TIMEOUT_MS 10000u
/* Reconnect backoff of watch, in seconds. */
#define WATCH_BACKOFF_MIN 1u
#define WATCH_BACKOFF_MAX 30u
/* Nesting limit when printing JWT claims. */
#define CLAIMS_MAX_DEPTH 32
/* Returned by a stream callback to stop after the message it wanted. */
#define STREAM_STOP WD_ETRUNCATED

enum fetch_option {
	OPT_SOCKET_PATH,
	OPT_WRITE,
	OPT_AUDIENCE,
	OPT_SPIFFE_ID,
	OPT_TOKEN,
	OPT_EXEC,
	OPT_SIGNAL,
};

#define SOCKET_OPTION                                                          \
	{ "socket-path", "PATH", OPT_SOCKET_PATH,                              \
		"Workload API socket (default: $SPIFFE_ENDPOINT_SOCKET,\n"     \
		"else " AGENT_DEFAULT_SOCKET_PATH ")" }

static const struct cli_option fetch_options[] = {
	SOCKET_OPTION,
	{ "write", "DIR", OPT_WRITE,
		"write svid.pem, svid.key (0600) and bundle.pem of\n"
		"the default SVID to DIR, created 0700 if missing" },
};

static const struct cli_option fetch_jwt_options[] = {
	SOCKET_OPTION,
	{ "audience", "AUD", OPT_AUDIENCE, "audience of the token (required); repeat for more" },
	{ "spiffe-id", "ID", OPT_SPIFFE_ID,
		"only this identity of the caller (default: all)" },
};

static const struct cli_option validate_options[] = {
	SOCKET_OPTION,
	{ "audience", "AUD", OPT_AUDIENCE, "audience the token must name (required)" },
	{ "token", "JWT", OPT_TOKEN, "the JWT-SVID to validate (required)" },
};

static const struct cli_option watch_options[] = {
	SOCKET_OPTION,
	{ "write", "DIR", OPT_WRITE,
		"write svid.pem, svid.key (0600) and bundle.pem to\n"
		"DIR on every update (required)" },
	{ "exec", "CMD", OPT_EXEC, "run CMD with /bin/sh -c after each update" },
	{ "signal", "PID:SIG", OPT_SIGNAL,
		"send signal SIG (HUP, USR1, ... or a number) to\nprocess PID after each update" },
};

static const struct cli_spec fetch_spec = {
	.name = "svid fetch",
	.synopsis = "[--socket-path PATH] [--write DIR] [--json]",
	.description = "Fetches the calling process's X.509-SVIDs from the node agent's Workload\n"
		       "API and prints their SPIFFE IDs, serials and expiry times.\n",
	.options = fetch_options,
	.option_count = WD_ARRAY_LEN(fetch_options),
	.common = CLI_COMMON_JSON,
};

static const struct cli_spec fetch_jwt_spec = {
	.name = "svid fetch-jwt",
	.synopsis = "--audience AUD... [--spiffe-id ID] [--socket-path PATH] [--json]",
	.description = "Fetches JWT-SVIDs for the calling process from the node agent's Workload\n"
		       "API and prints them.\n",
	.options = fetch_jwt_options,
	.option_count = WD_ARRAY_LEN(fetch_jwt_options),
	.common = CLI_COMMON_JSON,
};

static const struct cli_spec validate_spec = {
	.name = "svid validate-jwt",
	.synopsis = "--audience AUD --token JWT [--socket-path PATH] [--json]",
	.description = "Has the node agent validate a JWT-SVID for an audience and prints its\n"
		       "SPIFFE ID and claims. Exits 1 when the token is invalid.\n",
	.options = validate_options,
	.option_count = WD_ARRAY_LEN(validate_options),
	.common = CLI_COMMON_JSON,
};

static const struct cli_spec watch_spec = {
	.name = "svid watch",
	.synopsis = "--write DIR [--exec CMD] [--signal PID:SIG] [--socket-path PATH]",
	.description = "Keeps the Workload API stream open and rewrites the X.509-SVID files\n"
		       "atomically on every update, then runs CMD or signals a process, as\n"
		       "spiffe-helper does. Reconnects with backoff when the stream ends.\n",
	.options = watch_options,
	.option_count = WD_ARRAY_LEN(watch_options),
};

struct fetch_args {
	const char *socket_path;
	const char *write_dir;
	struct cli_strings audiences;
	const char *spiffe_id;
	const char *token;
	const char *exec;
	const char *signal_spec;
};

static int fetch_option(void *ctx, int id, const char *value)
{
	struct fetch_args *args = ctx;

	switch ((enum fetch_option)id) {
	case OPT_SOCKET_PATH:
		args->socket_path = value;
		break;
	case OPT_WRITE:
		args->write_dir = value;
		break;
	case OPT_AUDIENCE:
		return cli_strings_append(&args->audiences, value);
	case OPT_SPIFFE_ID:
		args->spiffe_id = value;
		break;
	case OPT_TOKEN:
		args->token = value;
		break;
	case OPT_EXEC:
		args->exec = value;
		break;
	case OPT_SIGNAL:
		args->signal_spec = value;
		break;
	}
	return CLI_CONTINUE;
}

/* --- Endpoint and calls --- */

/* Resolves the socket path: the flag, else SPIFFE_ENDPOINT_SOCKET (a
 * unix:/// URI as the Workload Endpoint standard defines it), else the
 * agent's default. Prints why and returns NULL for an unusable URI. */
static const char *socket_resolve(const char *flag)
{
	const char *uri = getenv("SPIFFE_ENDPOINT_SOCKET");

	if (flag)
		return flag;
	if (!uri || !uri[0])
		return AGENT_DEFAULT_SOCKET_PATH;
	if (strncmp(uri, "unix://", 7) == 0 && uri[7] == '/')
		return uri + 7;
	if (strncmp(uri, "unix:/", 6) == 0 && uri[6] != '/')
		return uri + 5;
	fprintf(stderr, "warden: invalid SPIFFE_ENDPOINT_SOCKET '%s': expected "
		"unix:///absolute/path (tcp: endpoints are not supported)\n", uri);
	return NULL;
}

static const struct grpc_metadata security_header[] = {
	{ "workload.spiffe.io", "true" },
};

static struct grpc_client *connect_agent(const char *path)
{
	struct grpc_client *client = NULL;
	struct wd_error err = { 0 };

	if (grpc_client_connect_unix(path, NULL, FETCH_TIMEOUT_MS, &client, &err) < 0) {
		fprintf(stderr, "warden: cannot connect to the Workload API at %s: %s\n", path,
			wd_error_text(&err));
		return NULL;
	}
	return client;
}

/* Prints a failed call; returns CLI_EXIT_FAILURE. */
static int print_call_failure(const char *method, int rc, const struct wd_error *err,
	const struct grpc_call_status *status)
{
	if (rc < 0)
		fprintf(stderr, "warden: %s failed: %s\n", method, wd_error_text(err));
	else
		fprintf(stderr, "warden: %s failed: %s: %s\n", method,
			grpc_status_name(status->code), status->message);
	return CLI_EXIT_FAILURE;
}

/* Makes a unary call; returns the reply bytes or NULL after printing why. */
static uint8_t *call_unary(const char *socket_path, const char *method, const void *request,
	size_t request_len, size_t *ret_len)
{
	struct grpc_call_status status = { 0 };
	struct grpc_client *client;
	struct wd_error err = { 0 };
	uint8_t *reply = NULL;
	int rc;

	*ret_len = 0;
	client = connect_agent(socket_path);
	if (!client)
		return NULL;
	rc = grpc_client_unary(client, method, security_header, WD_ARRAY_LEN(security_header),
		request, request_len, FETCH_TIMEOUT_MS, &reply, ret_len, &status, &err);
	grpc_client_free(client);
	if (rc < 0 || status.code != GRPC_STATUS_OK || !reply) {
		if (reply)
			OPENSSL_cleanse(reply, *ret_len);
		free(reply);
		(void)print_call_failure(method, rc, &err, &status);
		if (rc == 0 && status.code == GRPC_STATUS_OK)
			fprintf(stderr, "warden: the agent sent no reply message\n");
		return NULL;
	}
	return reply;
}

/* --- X.509 output --- */

static void response_free(X509SVIDResponse *response)
{
	if (!response)
		return;
	for (size_t i = 0; i < response->n_svids; i++) {
		X509SVID *svid = response->svids[i];

		if (svid->x509_svid_key.data)
			OPENSSL_cleanse(svid->x509_svid_key.data, svid->x509_svid_key.len);
	}
	x509_svidresponse__free_unpacked(response, NULL);
}

/* Appends each DER certificate of der (end to end) to bio as PEM. Returns
 * the number written, or -1 for malformed DER. */
static int der_certs_to_pem(const ProtobufCBinaryData *der, BIO *bio, X509 **ret_first)
{
	const unsigned char *p = der->data;
	const unsigned char *end = der->data + der->len;
	int count = 0;

	if (ret_first)
		*ret_first = NULL;
	while (p < end) {
		X509 *cert = d2i_X509(NULL, &p, (long)(end - p));

		if (!cert || !PEM_write_bio_X509(bio, cert)) {
			X509_free(cert);
			return -1;
		}
		if (ret_first && !*ret_first)
			*ret_first = cert;
		else
			X509_free(cert);
		count++;
	}
	return count;
}

/* Writes the BIO's bytes to dir/name atomically with mode, then wipes them. */
static int write_bio(const char *dir, const char *name, BIO *bio, mode_t mode)
{
	char path[PATH_MAX];
	struct wd_error err = { 0 };
	char *data = NULL;
	long len = BIO_get_mem_data(bio, &data);
	int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
	int rc;

	if (n < 0 || (size_t)n >= sizeof(path)) {
		fprintf(stderr, "warden: output path '%s/%s' is too long\n", dir, name);
		return CLI_EXIT_FAILURE;
	}
	rc = wd_file_write_atomic(path, data, len > 0 ? (size_t)len : 0, mode, &err);
	if (data && len > 0)
		OPENSSL_cleanse(data, (size_t)len);
	if (rc < 0) {
		fprintf(stderr, "warden: cannot write %s: %s\n", path, wd_error_text(&err));
		return CLI_EXIT_FAILURE;
	}
	return CLI_EXIT_OK;
}

/* Writes svid.key, svid.pem and bundle.pem of svid into dir. The key goes
 * first, so a directory with a new certificate never pairs it with an older
 * key. */
static int write_svid_files(const char *dir, const X509SVID *svid)
{
	const unsigned char *p = svid->x509_svid_key.data;
	PKCS8_PRIV_KEY_INFO *key = NULL;
	BIO *key_bio = BIO_new(BIO_s_mem());
	BIO *chain_bio = BIO_new(BIO_s_mem());
	BIO *bundle_bio = BIO_new(BIO_s_mem());
	struct wd_error err = { 0 };
	int rc = CLI_EXIT_FAILURE;

	if (!key_bio || !chain_bio || !bundle_bio) {
		fprintf(stderr, "warden: out of memory\n");
		goto out;
	}
	key = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)svid->x509_svid_key.len);
	if (!key || !PEM_write_bio_PKCS8_PRIV_KEY_INFO(key_bio, key) ||
		der_certs_to_pem(&svid->x509_svid, chain_bio, NULL) <= 0 ||
		der_certs_to_pem(&svid->bundle, bundle_bio, NULL) <= 0) {
		fprintf(stderr, "warden: the agent sent a malformed SVID for %s\n", svid->spiffe_id);
		goto out;
	}
	if (wd_mkdir_p(dir, 0700, &err) < 0) {
		fprintf(stderr, "warden: cannot create %s: %s\n", dir, wd_error_text(&err));
		goto out;
	}
	rc = write_bio(dir, "svid.key", key_bio, 0600);
	if (rc == CLI_EXIT_OK)
		rc = write_bio(dir, "svid.pem", chain_bio, 0644);
	if (rc == CLI_EXIT_OK)
		rc = write_bio(dir, "bundle.pem", bundle_bio, 0644);
out:
	PKCS8_PRIV_KEY_INFO_free(key);
	BIO_free(key_bio);
	BIO_free(chain_bio);
	BIO_free(bundle_bio);
	return rc;
}

/* Reads the leaf's serial (uppercase hex, as openssl x509 -serial prints
 * it) and notAfter. */
static int leaf_summary(const X509SVID *svid, char **ret_serial, char expires[WD_TIME_TEXT_MAX])
{
	const unsigned char *p = svid->x509_svid.data;
	X509 *leaf = d2i_X509(NULL, &p, (long)svid->x509_svid.len);
	BIGNUM *serial = NULL;
	struct tm tm;
	int rc = -1;

	*ret_serial = NULL;
	if (!leaf)
		return -1;
	serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), NULL);
	if (serial && ASN1_TIME_to_tm(X509_get0_notAfter(leaf), &tm) == 1 &&
		wd_time_format((int64_t)timegm(&tm), expires) == 0)
		*ret_serial = BN_bn2hex(serial);
	if (*ret_serial)
		rc = 0;
	BN_free(serial);
	X509_free(leaf);
	return rc;
}

static int print_svids(const X509SVIDResponse *response, bool as_json)
{
	json_t *list = json_array();
	int rc = CLI_EXIT_OK;

	for (size_t i = 0; list && i < response->n_svids; i++) {
		const X509SVID *svid = response->svids[i];
		char expires[WD_TIME_TEXT_MAX];
		char *serial = NULL;

		if (leaf_summary(svid, &serial, expires) < 0) {
			fprintf(stderr, "warden: the agent sent a malformed certificate for %s\n",
				svid->spiffe_id);
			rc = CLI_EXIT_FAILURE;
			break;
		}
		if (as_json) {
			json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:s}", "spiffe_id",
				svid->spiffe_id, "serial", serial, "expires_at", expires, "hint",
				svid->hint ? svid->hint : ""));
		} else {
			printf("%sSPIFFE ID : %s\nSerial    : %s\nExpires   : %s\n", i ? "\n" : "",
				svid->spiffe_id, serial, expires);
			if (svid->hint && svid->hint[0])
				printf("Hint      : %s\n", svid->hint);
		}
		OPENSSL_free(serial);
	}
	if (rc == CLI_EXIT_OK && as_json) {
		json_t *doc = json_pack("{s:O,s:I}", "svids", list, "crl_count",
			(json_int_t)response->n_crl);

		if (!doc || json_dumpf(doc, stdout, JSON_COMPACT) < 0 || putchar('\n') == EOF)
			rc = CLI_EXIT_FAILURE;
		json_decref(doc);
	}
	json_decref(list);
	return rc;
}

/* --- fetch --- */

static int keep_first(const uint8_t *bytes, size_t len, void *arg)
{
	X509SVIDResponse **ret_response = arg;

	*ret_response = x509_svidresponse__unpack(NULL, len, bytes);
	return *ret_response ? STREAM_STOP : WD_EINVAL;
}

/* Opens FetchX509SVID and returns its first message, or NULL after
 * printing why (ret_status_code gets the gRPC status, -1 for a transport
 * failure). */
static X509SVIDResponse *fetch_first(const char *socket_path, int *ret_status_code)
{
	struct grpc_call_status status = { 0 };
	X509SVIDResponse *response = NULL;
	struct grpc_client *client;
	struct wd_error err = { 0 };
	int rc;

	*ret_status_code = -1;
	client = connect_agent(socket_path);
	if (!client)
		return NULL;
	rc = grpc_client_stream(client, "/SpiffeWorkloadAPI/FetchX509SVID", security_header,
		WD_ARRAY_LEN(security_header), NULL, 0, 0, keep_first, &response, &status, &err);
	grpc_client_free(client);
	if (response && response->n_svids > 0) {
		*ret_status_code = GRPC_STATUS_OK;
		return response;
	}
	if (response)
		fprintf(stderr, "warden: the agent sent no SVID\n");
	else
		(void)print_call_failure("FetchX509SVID", rc, &err, &status);
	if (rc == 0)
		*ret_status_code = status.code;
	response_free(response);
	return NULL;
}

int cmd_svid_fetch(int argc, char **argv)
{
	struct fetch_args args = { 0 };
	X509SVIDResponse *response = NULL;
	struct cli_common common;
	const char *socket_path;
	char **operands;
	size_t count;
	int status_code;
	int rc;

	rc = cli_parse(&fetch_spec, argc, argv, fetch_option, &args, &common, &operands, &count);
	if (rc != CLI_CONTINUE)
		goto out;
	socket_path = socket_resolve(args.socket_path);
	if (!socket_path) {
		rc = CLI_EXIT_USAGE;
		goto out;
	}

	response = fetch_first(socket_path, &status_code);
	if (!response) {
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	rc = CLI_EXIT_OK;
	if (args.write_dir)
		rc = write_svid_files(args.write_dir, response->svids[0]);
	if (rc == CLI_EXIT_OK)
		rc = print_svids(response, common.json);
	if (rc == CLI_EXIT_OK && args.write_dir && !common.json)
		printf("\nWrote svid.pem, svid.key and bundle.pem of %s to %s\n",
			response->svids[0]->spiffe_id, args.write_dir);
out:
	response_free(response);
	cli_strings_free(&args.audiences);
	return rc;
}

/* --- fetch-jwt --- */

int cmd_svid_fetch_jwt(int argc, char **argv)
{
	struct fetch_args args = { 0 };
	JWTSVIDRequest request = JWTSVIDREQUEST__INIT;
	JWTSVIDResponse *response = NULL;
	struct cli_common common;
	const char *socket_path;
	uint8_t *packed = NULL;
	uint8_t *reply = NULL;
	size_t reply_len = 0;
	char **operands;
	size_t count;
	int rc;

	rc = cli_parse(&fetch_jwt_spec, argc, argv, fetch_option, &args, &common, &operands,
		&count);
	if (rc != CLI_CONTINUE)
		goto out;
	if (args.audiences.count == 0) {
		rc = cli_usage_error(&fetch_jwt_spec, "missing --audience");
		goto out;
	}
	socket_path = socket_resolve(args.socket_path);
	if (!socket_path) {
		rc = CLI_EXIT_USAGE;
		goto out;
	}

	request.n_audience = args.audiences.count;
	request.audience = (char **)args.audiences.items;
	request.spiffe_id = (char *)(args.spiffe_id ? args.spiffe_id : "");
	packed = malloc(jwtsvidrequest__get_packed_size(&request) + 1);
	rc = CLI_EXIT_FAILURE;
	if (!packed) {
		fprintf(stderr, "warden: out of memory\n");
		goto out;
	}
	reply = call_unary(socket_path, "/SpiffeWorkloadAPI/FetchJWTSVID", packed,
		jwtsvidrequest__pack(&request, packed), &reply_len);
	if (!reply)
		goto out;
	response = jwtsvidresponse__unpack(NULL, reply_len, reply);
	if (!response || response->n_svids == 0) {
		fprintf(stderr, "warden: the agent sent a malformed FetchJWTSVID reply\n");
		goto out;
	}

	rc = CLI_EXIT_OK;
	for (size_t i = 0; i < response->n_svids; i++) {
		if (common.json) {
			json_t *line = json_pack("{s:s,s:s}", "spiffe_id",
				response->svids[i]->spiffe_id, "svid", response->svids[i]->svid);

			if (!line || json_dumpf(line, stdout, JSON_COMPACT) < 0 || putchar('\n') == EOF)
				rc = CLI_EXIT_FAILURE;
			json_decref(line);
		} else {
			printf("%sSPIFFE ID : %s\nToken     : %s\n", i ? "\n" : "",
				response->svids[i]->spiffe_id, response->svids[i]->svid);
		}
	}
out:
	if (response) {
		for (size_t i = 0; i < response->n_svids; i++)
			OPENSSL_cleanse(response->svids[i]->svid, strlen(response->svids[i]->svid));
		jwtsvidresponse__free_unpacked(response, NULL);
	}
	if (reply)
		OPENSSL_cleanse(reply, reply_len);
	free(reply);
	free(packed);
	cli_strings_free(&args.audiences);
	return rc;
}

/* --- validate-jwt --- */

static json_t *value_to_json(const Google__Protobuf__Value *value, int depth);

static json_t *struct_to_json(const Google__Protobuf__Struct *object, int depth)
{
	json_t *out = json_object();

	for (size_t i = 0; out && object && i < object->n_fields; i++) {
		json_t *member = value_to_json(object->fields[i]->value, depth + 1);

		if (!member || json_object_set_new(out, object->fields[i]->key, member) < 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

static json_t *value_to_json(const Google__Protobuf__Value *value, int depth)
{
	json_t *list;

	if (!value || depth > CLAIMS_MAX_DEPTH)
		return NULL;
	switch (value->kind_case) {
	case GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE:
		/* Struct numbers are doubles; print whole ones (exp, iat) as
		 * integers, exact up to 2^53. */
		if (value->number_value >= -9007199254740992.0 &&
			value->number_value <= 9007199254740992.0 &&
			value->number_value == (double)(json_int_t)value->number_value)
			return json_integer((json_int_t)value->number_value);
		return json_real(value->number_value);
	case GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE:
		return json_string(value->string_value);
	case GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE:
		return json_boolean(value->bool_value);
	case GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE:
		return struct_to_json(value->struct_value, depth);
	case GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE:
		list = json_array();
		for (size_t i = 0; list && value->list_value && i < value->list_value->n_values; i++) {
			json_t *item = value_to_json(value->list_value->values[i], depth + 1);

			if (!item || json_array_append_new(list, item) < 0) {
				json_decref(list);
				return NULL;
			}
		}
		return list;
	default:
		return json_null();
	}
}

int cmd_svid_validate_jwt(int argc, char **argv)
{
	struct fetch_args args = { 0 };
	ValidateJWTSVIDRequest request = VALIDATE_JWTSVIDREQUEST__INIT;
	ValidateJWTSVIDResponse *response = NULL;
	struct cli_common common;
	const char *socket_path;
	json_t *claims = NULL;
	json_t *doc = NULL;
	uint8_t *packed = NULL;
	uint8_t *reply = NULL;
	size_t reply_len = 0;
	char **operands;
	size_t count;
	int rc;

	rc = cli_parse(&validate_spec, argc, argv, fetch_option, &args, &common, &operands,
		&count);
	if (rc != CLI_CONTINUE)
		goto out;
	if (args.audiences.count != 1 || !args.token) {
		rc = cli_usage_error(&validate_spec, "give one --audience and --token");
		goto out;
	}
	socket_path = socket_resolve(args.socket_path);
	if (!socket_path) {
		rc = CLI_EXIT_USAGE;
		goto out;
	}

	request.audience = (char *)args.audiences.items[0];
	request.svid = (char *)args.token;
	packed = malloc(validate_jwtsvidrequest__get_packed_size(&request) + 1);
	rc = CLI_EXIT_FAILURE;
	if (!packed) {
		fprintf(stderr, "warden: out of memory\n");
		goto out;
	}
	reply = call_unary(socket_path, "/SpiffeWorkloadAPI/ValidateJWTSVID", packed,
		validate_jwtsvidrequest__pack(&request, packed), &reply_len);
	if (!reply)
		goto out;
	response = validate_jwtsvidresponse__unpack(NULL, reply_len, reply);
	claims = response ? struct_to_json(response->claims, 0) : NULL;
	if (!claims) {
		fprintf(stderr, "warden: the agent sent a malformed ValidateJWTSVID reply\n");
		goto out;
	}

	if (common.json) {
		doc = json_pack("{s:s,s:O}", "spiffe_id", response->spiffe_id, "claims", claims);
		if (!doc || json_dumpf(doc, stdout, JSON_COMPACT | JSON_SORT_KEYS) < 0 ||
			putchar('\n') == EOF)
			goto out;
	} else {
		printf("Token is valid\nSPIFFE ID : %s\nClaims    : ", response->spiffe_id);
		if (json_dumpf(claims, stdout, JSON_COMPACT | JSON_SORT_KEYS) < 0 ||
			putchar('\n') == EOF)
			goto out;
	}
	rc = CLI_EXIT_OK;
out:
	json_decref(doc);
	json_decref(claims);
	if (response)
		validate_jwtsvidresponse__free_unpacked(response, NULL);
	free(reply);
	if (packed)
		OPENSSL_cleanse(packed, validate_jwtsvidrequest__get_packed_size(&request));
	free(packed);
	cli_strings_free(&args.audiences);
	return rc;
}

/* --- watch --- */

struct watch_ctx {
	const char *dir;
	const char *exec;
	pid_t signal_pid;
	int signal_number;
	unsigned updates;
};

/* Parses "PID:SIG", SIG being a name with or without "SIG" or a number. */
static int parse_signal_spec(const char *spec, pid_t *ret_pid, int *ret_signal)
{
	static const struct { const char *name; int number; } names[] = {
		{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "TERM", SIGTERM },
		{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "KILL", SIGKILL },
	};
	const char *colon = strchr(spec, ':');
	const char *name;
	char *end = NULL;
	long pid, number;

	if (!colon)
		return WD_EINVAL;
	errno = 0;
	pid = strtol(spec, &end, 10);
	if (errno || end != colon || pid <= 0 || pid > INT_MAX)
		return WD_EINVAL;
	*ret_pid = (pid_t)pid;

	name = colon + 1;
	if (strncmp(name, "SIG", 3) == 0)
		name += 3;
	for (size_t i = 0; i < WD_ARRAY_LEN(names); i++) {
		if (strcmp(name, names[i].name) == 0) {
			*ret_signal = names[i].number;
			return 0;
		}
	}
	errno = 0;
	number = strtol(name, &end, 10);
	if (errno || !name[0] || *end || number <= 0 || number >= NSIG)
		return WD_EINVAL;
	*ret_signal = (int)number;
	return 0;
}

/* Runs the --exec command and waits for it. */
static void run_exec(const char *command)
{
	int status = 0;
	pid_t child = fork();

	if (child == 0) {
		execl("/bin/sh", "sh", "-c", command, (char *)NULL);
		_exit(127);
	}
	if (child < 0) {
		log_warn("svid_watch", "cannot run --exec command", "error", strerror(errno));
		return;
	}
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		log_warn("svid_watch", "--exec command failed", "command", command);
}

static int on_update(const uint8_t *bytes, size_t len, void *arg)
{
	struct watch_ctx *ctx = arg;
	X509SVIDResponse *response = x509_svidresponse__unpack(NULL, len, bytes);
	char expires[WD_TIME_TEXT_MAX];
	char *serial = NULL;
	char pid[24];

	if (!response || response->n_svids == 0) {
		response_free(response);
		log_warn("svid_watch", "malformed or empty update, reconnecting");
		return WD_EINVAL;
	}
	if (write_svid_files(ctx->dir, response->svids[0]) != CLI_EXIT_OK) {
		response_free(response);
		return WD_EIO;
	}
	if (leaf_summary(response->svids[0], &serial, expires) == 0)
		log_info("svid_watch", "svid files updated", "spiffe_id",
			response->svids[0]->spiffe_id, "serial", serial, "expires_at", expires,
			"dir", ctx->dir);
	OPENSSL_free(serial);
	response_free(response);
	ctx->updates++;

	if (ctx->exec)
		run_exec(ctx->exec);
	if (ctx->signal_pid > 0 && kill(ctx->signal_pid, ctx->signal_number) < 0) {
		snprintf(pid, sizeof(pid), "%ld", (long)ctx->signal_pid);
		log_warn("svid_watch", "cannot signal process", "pid", pid, "error",
			strerror(errno));
	}
	return 0;
}

/* Runs one stream until it ends. Returns true when retrying makes sense. */
static bool watch_once(const char *socket_path, struct watch_ctx *ctx)
{
	struct grpc_call_status status = { 0 };
	struct grpc_client *client = NULL;
	struct wd_error err = { 0 };
	int rc;

	if (grpc_client_connect_unix(socket_path, NULL, FETCH_TIMEOUT_MS, &client, &err) < 0) {
		log_warn("svid_watch", "cannot connect to the workload api", "socket", socket_path,
			"error", wd_error_text(&err));
		return true;
	}
	rc = grpc_client_stream(client, "/SpiffeWorkloadAPI/FetchX509SVID", security_header,
		WD_ARRAY_LEN(security_header), NULL, 0, 0, on_update, ctx, &status, &err);
	grpc_client_free(client);
	if (rc < 0) {
		log_warn("svid_watch", "stream failed, reconnecting", "error", wd_error_text(&err));
		return true;
	}
	log_warn("svid_watch", "stream ended", "status", grpc_status_name(status.code), "message",
		status.message);
	/* The standard: do not retry INVALID_ARGUMENT or UNIMPLEMENTED. */
	return status.code != GRPC_STATUS_INVALID_ARGUMENT &&
		status.code != GRPC_STATUS_UNIMPLEMENTED;
}

int cmd_svid_watch(int argc, char **argv)
{
	struct fetch_args args = { 0 };
	struct watch_ctx ctx = { 0 };
	struct cli_common common;
	const char *socket_path;
	unsigned backoff = WATCH_BACKOFF_MIN;
	char **operands;
	size_t count;
	int rc;

	rc = cli_parse(&watch_spec, argc, argv, fetch_option, &args, &common, &operands, &count);
	if (rc != CLI_CONTINUE)
		goto out;
	if (!args.write_dir) {
		rc = cli_usage_error(&watch_spec, "missing --write");
		goto out;
	}
	if (args.signal_spec &&
		parse_signal_spec(args.signal_spec, &ctx.signal_pid, &ctx.signal_number) < 0) {
		rc = cli_usage_error(&watch_spec, "invalid --signal '%s': expected PID:SIG, e.g. "
			"1234:HUP", args.signal_spec);
		goto out;
	}
	socket_path = socket_resolve(args.socket_path);
	if (!socket_path) {
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	ctx.dir = args.write_dir;
	ctx.exec = args.exec;
	signal(SIGPIPE, SIG_IGN);

	for (;;) {
		unsigned before = ctx.updates;

		if (!watch_once(socket_path, &ctx)) {
			rc = CLI_EXIT_FAILURE;
			break;
		}
		/* A stream that delivered something was healthy: start over. */
		backoff = ctx.updates > before ? WATCH_BACKOFF_MIN : backoff;
		sleep(backoff);
		backoff = backoff * 2 > WATCH_BACKOFF_MAX ? WATCH_BACKOFF_MAX : backoff * 2;
	}
out:
	cli_strings_free(&args.audiences);
	return rc;
}
