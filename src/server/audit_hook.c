/* Writes the server's decisions and changes to the audit chain. */
#include "common/log.h"
#include "server/server_internal.h"

void server_audit(struct server_ctx *ctx, const char *actor, const char *action,
	const char *object, const char *outcome, const char *detail)
{
	struct audit_event event = {
		.actor = actor ? actor : "server",
		.action = action,
		/* The audit chain requires every field; a request refused before its
		 * target was known is recorded against "-". */
		.object = object && object[0] ? object : "-",
		.outcome = outcome,
		.detail = detail,
	};
	struct wd_error err;

	wd_error_clear(&err);
	if (audit_append(ctx->audit, &event, &err) < 0)
		log_error("audit", "audit record not written", "action", action, "object",
			event.object, "error", wd_error_text(&err));
}

void server_audit_failure(struct server_ctx *ctx, const char *actor, const char *action,
	const char *object, const struct wd_error *err)
{
	const char *outcome = "error";

	switch (err->code) {
	case WD_EAUTH:
	case WD_EPERM:
	case WD_EBANNED:
	case WD_EREVOKED:
	case WD_EEXPIRED:
		outcome = "denied";
		break;
	default:
		break;
	}
	server_audit(ctx, actor, action, object, outcome, wd_error_text(err));
}
