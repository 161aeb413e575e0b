/* Request and response helpers shared by the handlers. */
#include <stdlib.h>

#include "net/net_json.h"
#include "server/server_internal.h"

int server_parse_body(struct net_request *req, const char *const *allowed, size_t allowed_count,
	json_t **ret_body, struct wd_error *err)
{
	const uint8_t *body;
	size_t len = 0;
	json_t *object = NULL;
	int rc;

	*ret_body = NULL;
	body = net_request_body(req, &len);
	if (!body || len == 0)
		return wd_error_set(err, WD_EINVAL, "missing request body: expected a JSON object");

	WD_GUARD(net_json_parse_object(body, len, 0, &object, err));
	WD_GUARD(net_json_check_fields(object, allowed, allowed_count, err));
	*ret_body = object;
	object = NULL;
	rc = 0;
out:
	json_decref(object);
	return rc;
}

int server_bundle_pem(struct server_ctx *ctx, char **ret_pem, struct wd_error *err)
{
	return authority_bundle_pem(ctx->authority, ret_pem, err);
}
