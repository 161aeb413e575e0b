/* The entry revision in memory, for agent syncs with ?since=REV&unchanged=ok
 * that find nothing changed. This server's own entry writes show in
 * registry_entry_write_count; other servers' arrive as "entry:SEQ"
 * notifications. Without a connected listener the datastore is read. */
#include <stdlib.h>
#include <string.h>

#include "server/server_internal.h"

bool server_caches_trusted(const struct server_ctx *ctx)
{
	return !ctx->singleton.shared || ctx->listen_event != NULL;
}

int server_entry_revision(struct server_ctx *ctx, int64_t *ret_revision, struct wd_error *err)
{
	struct server_entry_revision *cached = &ctx->entry_revision;
	uint64_t write_count;
	int64_t value = 0;

	*ret_revision = 0;
	server_changes_poll(ctx);
	write_count = registry_entry_write_count(ctx->registry);
	if (cached->known && cached->write_count == write_count && server_caches_trusted(ctx)) {
		cached->hits++;
		*ret_revision = cached->value;
		return 0;
	}

	cached->misses++;
	WD_TRY(registry_entry_revision(ctx->registry, &value, err));
	cached->known = server_caches_trusted(ctx);
	cached->value = value;
	cached->write_count = write_count;
	*ret_revision = value;
	return 0;
}

/* Entry writes commit in the order of their change counter, which each
 * one's UPDATE of the counter row locks until commit, and PostgreSQL
 * delivers notifications in commit order. So "entry:SEQ" means that every
 * revision up to SEQ has committed. */
void server_entry_revision_notified(struct server_ctx *ctx, const char *payload)
{
	struct server_entry_revision *cached = &ctx->entry_revision;
	const char *digits = strncmp(payload, "entry:", 6) == 0 ? payload + 6 : "";
	char *end = NULL;
	long long seq;

	seq = *digits ? strtoll(digits, &end, 10) : 0;
	if (!end || *end != '\0' || seq <= 0) {
		cached->known = false;
		return;
	}
	if (cached->known && seq > cached->value)
		cached->value = seq;
}

void server_entry_revision_forget(struct server_ctx *ctx)
{
	ctx->entry_revision.known = false;
}
