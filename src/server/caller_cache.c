/* The outcome of the caller checks that every agent request repeats: the
 * SVID serial is not revoked, and the node record accepts that serial. A
 * slot keyed by the serial keeps them until a revocation, a change of that
 * agent's node record (this server's write or another server's
 * notification) or a lost change listener drops it. */
#include <stdlib.h>
#include <string.h>

#include "server/server_internal.h"

/* FNV-1a, 64 bits, which spreads serials over the slots and distinguishes
 * agent IDs. Never 0, which marks a slot without an agent. */
static uint64_t fnv1a(const char *text)
{
	uint64_t hash = 0xcbf29ce484222325ULL;

	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		hash ^= *p;
		hash *= 0x100000001b3ULL;
	}
	return hash ? hash : 1;
}

/* The canonical form of agent_id, as caller.c formats a caller's ID, or
 * false when agent_id is no SPIFFE ID. */
static bool canonical_id(const char *agent_id, char canonical[static SPIFFE_ID_MAX_LEN + 1])
{
	struct spiffe_id id;

	return agent_id && spiffe_id_parse(agent_id, strlen(agent_id), &id, NULL) == 0 &&
		spiffe_id_format(&id, canonical, SPIFFE_ID_MAX_LEN + 1) == 0;
}

int server_caller_cache_init(struct server_ctx *ctx, struct wd_error *err)
{
	struct server_caller_cache *cache = &ctx->caller_cache;

	cache->slots = calloc(SERVER_CALLER_CACHE_SLOTS, sizeof(*cache->slots));
	if (!cache->slots)
		return wd_error_set(err, WD_ENOMEM, "out of memory for the caller cache");
	cache->generation = 1;
	return 0;
}

void server_caller_cache_free(struct server_ctx *ctx)
{
	free(ctx->caller_cache.slots);
	ctx->caller_cache.slots = NULL;
}

void server_caller_cache_clear(struct server_ctx *ctx)
{
	ctx->caller_cache.generation++;
}

void server_caller_cache_forget_agent(struct server_ctx *ctx, const char *agent_id)
{
	struct server_caller_cache *cache = &ctx->caller_cache;
	char canonical[SPIFFE_ID_MAX_LEN + 1];
	uint64_t agent_hash;

	if (!cache->slots)
		return;
	if (!canonical_id(agent_id, canonical)) {
		server_caller_cache_clear(ctx);
		return;
	}
	agent_hash = fnv1a(canonical);
	for (size_t i = 0; i < SERVER_CALLER_CACHE_SLOTS; i++) {
		if (cache->slots[i].agent_hash == agent_hash)
			cache->slots[i].generation = 0;
	}
}

/* Returns the valid slot of serial, or NULL. Drops every slot first when
 * the bundle sequence moved, which each revocation through an unsealed
 * authority does, in case its notification has not arrived yet. */
static struct server_caller_slot *find(struct server_ctx *ctx, const char *serial)
{
	struct server_caller_cache *cache = &ctx->caller_cache;
	uint64_t sequence = authority_bundle_sequence(ctx->authority);
	size_t start;

	server_changes_poll(ctx);
	if (!cache->slots || !server_caches_trusted(ctx))
		return NULL;
	if (sequence != cache->bundle_sequence) {
		cache->bundle_sequence = sequence;
		server_caller_cache_clear(ctx);
		return NULL;
	}
	start = (size_t)(fnv1a(serial) % SERVER_CALLER_CACHE_SLOTS);
	for (size_t i = 0; i < SERVER_CALLER_CACHE_PROBES; i++) {
		struct server_caller_slot *slot =
			&cache->slots[(start + i) % SERVER_CALLER_CACHE_SLOTS];

		if (slot->generation == cache->generation && strcmp(slot->serial, serial) == 0)
			return slot;
	}
	return NULL;
}

/* Takes a free slot among serial's probes, or the first one. */
static struct server_caller_slot *claim(struct server_ctx *ctx, const char *serial)
{
	struct server_caller_cache *cache = &ctx->caller_cache;
	size_t start = (size_t)(fnv1a(serial) % SERVER_CALLER_CACHE_SLOTS);
	struct server_caller_slot *slot = &cache->slots[start];

	for (size_t i = 0; i < SERVER_CALLER_CACHE_PROBES; i++) {
		struct server_caller_slot *candidate =
			&cache->slots[(start + i) % SERVER_CALLER_CACHE_SLOTS];

		if (candidate->generation != cache->generation) {
			slot = candidate;
			break;
		}
	}
	memset(slot, 0, sizeof(*slot));
	slot->generation = cache->generation;
	memcpy(slot->serial, serial, strnlen(serial, AUTHORITY_SERIAL_HEX_SIZE - 1));
	return slot;
}

int server_serial_revoked(struct server_ctx *ctx, const char *serial, bool *ret_revoked,
	struct wd_error *err)
{
	bool revoked = false;

	*ret_revoked = false;
	if (find(ctx, serial)) {
		ctx->caller_cache.hits++;
		return 0;
	}
	ctx->caller_cache.misses++;
	WD_TRY(authority_is_revoked(ctx->authority, serial, &revoked, err));
	/* A revocation that commits after this read drops the slot when its
	 * notification is handled, which is after this function returns. */
	if (!revoked && ctx->caller_cache.slots && server_caches_trusted(ctx))
		claim(ctx, serial);
	*ret_revoked = revoked;
	return 0;
}

int server_agent_check(struct server_ctx *ctx, const char *agent_id, const char *serial,
	int64_t now, struct wd_error *err)
{
	struct server_caller_slot *slot = find(ctx, serial);
	uint64_t agent_hash = fnv1a(agent_id);
	int64_t not_after = 0;

	if (slot && slot->node_checked && slot->agent_hash == agent_hash &&
	    now < slot->node_not_after) {
		ctx->caller_cache.hits++;
		return 0;
	}
	ctx->caller_cache.misses++;
	WD_TRY(registry_node_check_until(ctx->registry, agent_id, serial, now, &not_after, err));
	/* Only a serial already found not revoked gets its node check kept. */
	slot = find(ctx, serial);
	if (slot) {
		slot->agent_hash = agent_hash;
		slot->node_checked = true;
		slot->node_not_after = not_after;
	}
	return 0;
}
