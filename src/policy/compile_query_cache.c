/* Compiled queries kept per engine: a server evaluates the same few queries for
 * every decision, so parsing and compiling each one once saves about half
 * of a small decision's time. Entries are shared read-only between threads. */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "policy/compile.h"

static uint64_t text_hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

static void entry_free(struct compiled_query *cq)
{
	if (!cq)
		return;
	free(cq->vars.items);
	rego_arena_free(cq->arena);
	free(cq->text);
	free(cq);
}

/* Parses and compiles a query into a new entry holding one reference. */
static struct compiled_query *entry_new(struct rego_engine *e, const char *text, size_t len,
					uint64_t hash, struct rego_errors *errs, int *ret_rc)
{
	struct compiled_query *cq = calloc(1, sizeof(*cq));
	struct rego_error perrs[REGO_MAX_ERRORS];
	size_t nperrs = 0;
	int rc;

	*ret_rc = WD_ENOMEM;
	if (!cq)
		return NULL;
	cq->text = wd_strndup(text, len);
	cq->arena = rego_arena_new();
	if (!cq->text || !cq->arena)
		goto fail;
	cq->len = len;
	cq->hash = hash;
	cq->refs = 1;
	cq->body = rego_parse_query(cq->arena, text, len, perrs, REGO_MAX_ERRORS, &nperrs);
	if (!cq->body) {
		for (size_t i = 0; errs && i < nperrs && errs->len < REGO_MAX_ERRORS; i++)
			errs->items[errs->len++] = perrs[i];
		*ret_rc = WD_EINVAL;
		goto fail;
	}
	{
		struct resolve_env env = { .engine = e, .arena = cq->arena, .errs = errs };

		rc = compile_query_body(&env, cq->body, &cq->nslots, &cq->vars);
	}
	if (rc < 0) {
		*ret_rc = rc == WD_ENOMEM ? rc : WD_EINVAL;
		goto fail;
	}
	*ret_rc = 0;
	return cq;
fail:
	entry_free(cq);
	return NULL;
}

static void entry_unref_locked(struct compiled_query *cq)
{
	if (cq && --cq->refs == 0)
		entry_free(cq);
}

struct compiled_query *query_cache_acquire(struct rego_engine *e, const char *text, size_t len,
					   struct rego_errors *errs, int *ret_rc)
{
	uint64_t hash = text_hash(text, len);
	size_t slot = (size_t)(hash % QUERY_CACHE_SLOTS);
	struct compiled_query *cq, *old;

	pthread_mutex_lock(&e->qlock);
	cq = e->qcache[slot];
	if (cq && cq->hash == hash && cq->len == len && memcmp(cq->text, text, len) == 0) {
		cq->refs++;
		pthread_mutex_unlock(&e->qlock);
		*ret_rc = 0;
		return cq;
	}
	pthread_mutex_unlock(&e->qlock);

	/* Compiled outside the lock; the engine is read-only meanwhile. */
	cq = entry_new(e, text, len, hash, errs, ret_rc);
	if (!cq)
		return NULL;

	pthread_mutex_lock(&e->qlock);
	old = e->qcache[slot];
	e->qcache[slot] = cq;
	cq->refs++;
	entry_unref_locked(old);
	pthread_mutex_unlock(&e->qlock);
	return cq;
}

void query_cache_release(struct rego_engine *e, struct compiled_query *cq)
{
	if (!cq)
		return;
	pthread_mutex_lock(&e->qlock);
	entry_unref_locked(cq);
	pthread_mutex_unlock(&e->qlock);
}

void query_cache_free(struct rego_engine *e)
{
	for (size_t i = 0; i < QUERY_CACHE_SLOTS; i++) {
		entry_unref_locked(e->qcache[i]);
		e->qcache[i] = NULL;
	}
}
