/* GET and HEAD sys/health: the node's state as a status code that load
 * balancers read, with Vault's query parameters to change the codes. */
#include <string.h>
#include <time.h>

#include "secrets/barrier.h"
#include "secrets/sys_seal_private.h"

/* Parses a status code: decimal digits within 200..599, since codes below
 * 200 are not final replies. */
static int parse_code(const char *name, const char *text, int *ret_code, struct wd_error *err)
{
	int value = 0;
	size_t len = strlen(text);

	if (len == 0 || len > 3)
		goto invalid;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			goto invalid;
		value = value * 10 + (text[i] - '0');
	}
	if (value < 200 || value > 599)
		goto invalid;
	*ret_code = value;
	return 0;

invalid:
	return wd_error_set(err, WD_EINVAL,
		"invalid %s \"%.16s\": expected an HTTP status code from 200 to 599", name, text);
}

/* Parses a boolean as Go's strconv.ParseBool does. */
static int parse_bool(const char *name, const char *text, bool *ret_value, struct wd_error *err)
{
	static const char *const truths[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const falsehoods[] = { "0", "f", "F", "FALSE", "false", "False" };

	for (size_t i = 0; i < WD_ARRAY_LEN(truths); i++) {
		if (strcmp(text, truths[i]) == 0) {
			*ret_value = true;
			return 0;
		}
		if (strcmp(text, falsehoods[i]) == 0) {
			*ret_value = false;
			return 0;
		}
	}
	return wd_error_set(err, WD_EINVAL, "invalid %s \"%.16s\": expected true or false", name,
		text);
}

int sys_health_code(bool initialized, bool sealed, sys_query_fn query, void *context,
	int *ret_code, struct wd_error *err)
{
	/* Vault's defaults; the standby codes never apply to one warden node
	 * but a malformed value is still a bad request, as in Vault. */
	struct {
		const char *name;
		int code;
	} codes[] = {
		{ "activecode", 200 },
		{ "uninitcode", 501 },
		{ "sealedcode", 503 },
		{ "standbycode", 429 },
		{ "drsecondarycode", 472 },
		{ "performancestandbycode", 473 },
	};
	static const char *const flags[] = { "standbyok", "perfstandbyok" };

	*ret_code = 0;
	for (size_t i = 0; i < WD_ARRAY_LEN(codes); i++) {
		const char *text = query ? query(context, codes[i].name) : NULL;

		if (text)
			WD_TRY(parse_code(codes[i].name, text, &codes[i].code, err));
	}
	for (size_t i = 0; i < WD_ARRAY_LEN(flags); i++) {
		const char *text = query ? query(context, flags[i]) : NULL;
		bool ignored;

		if (text)
			WD_TRY(parse_bool(flags[i], text, &ignored, err));
	}

	if (!initialized)
		*ret_code = codes[1].code;
	else if (sealed)
		*ret_code = codes[2].code;
	else
		*ret_code = codes[0].code;
	return 0;
}

static const char *request_query(void *context, const char *name)
{
	struct vault_request *req = context;

	return req->net ? net_request_query(req->net, name) : NULL;
}

int sys_health_handle(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err)
{
	struct barrier_status status;
	struct sys_cluster cluster;
	json_t *body;
	int code;

	if (req->op != VAULT_OP_READ && req->op != VAULT_OP_HEAD)
		return wd_error_set(err, WD_EUNSUPPORTED, "sys/health serves GET and HEAD, not %s",
			vault_op_name(req->op));
	barrier_status(secrets->barrier, &status);
	WD_TRY(sys_health_code(status.initialized, status.sealed, request_query, req, &code, err));

	body = json_pack("{s:b, s:b, s:b, s:b, s:s, s:s, s:I, s:s}",
		"initialized", status.initialized,
		"sealed", status.sealed,
		"standby", 0,
		"performance_standby", 0,
		"replication_performance_mode", "disabled",
		"replication_dr_mode", "disabled",
		"server_time_utc", (json_int_t)time(NULL),
		"version", sys_seal_version());
	if (!body)
		return wd_error_set(err, WD_ENOMEM, "encoding the health status failed");
	if (!status.sealed && sys_cluster_identity(secrets, &cluster, err) == 0) {
		json_object_set_new(body, "cluster_name", json_string(cluster.name));
		json_object_set_new(body, "cluster_id", json_string(cluster.id));
	}
	wd_error_clear(err);

	/* A 204 reply carries no body in HTTP, so a code chosen through the
	 * query parameters drops it. */
	resp->status = code;
	if (code == 204)
		json_decref(body);
	else
		resp->raw = body;
	return 0;
}
