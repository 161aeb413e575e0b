/* Rate-limited warnings for refused client certificates. */
#include <stdio.h>

#include "common/log.h"
#include "server/server_internal.h"

void server_refusal_log(struct server_ctx *ctx, const char *peer, const char *reason)
{
	struct server_refusal_log *log = &ctx->refusal_log;

	if (log->window_open) {
		log->suppressed++;
		snprintf(log->last_peer, sizeof(log->last_peer), "%s", peer);
		snprintf(log->last_reason, sizeof(log->last_reason), "%s", reason);
		return;
	}
	log_warn("server", "client certificate refused", "peer", peer, "reason", reason);
	log->window_open = true;
}

void server_refusal_log_flush(struct server_ctx *ctx)
{
	struct server_refusal_log *log = &ctx->refusal_log;
	char count[24];

	if (log->suppressed == 0) {
		log->window_open = false;
		return;
	}
	snprintf(count, sizeof(count), "%llu", (unsigned long long)log->suppressed);
	log_warn("server", "client certificate refused", "peer", log->last_peer, "reason",
		log->last_reason, "refused_in_last_second", count);
	log->suppressed = 0;
}
