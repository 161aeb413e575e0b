/* Per-query memoization of user function results by function and
 * arguments, as OPA caches function calls within one evaluation. */
#include <stdlib.h>

#include "common/alloc.h"
#include "common/error.h"
#include "policy/eval_internal.h"

/* Entries per cache; past it, results are computed without being kept. */
#define FMEMO_MAX_ENTRIES 65536

struct fmemo_entry {
	uint32_t node;
	struct rv *args;              /* array of the arguments; NULL: empty slot */
	struct rv *result;            /* NULL: undefined */
	uint64_t hash;
};

struct fmemo {
	struct fmemo_entry *slots;
	size_t cap;                   /* power of two */
	size_t len;
};

void eval_fmemo_free(struct fmemo *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->cap; i++) {
		rv_unref(m->slots[i].args);
		rv_unref(m->slots[i].result);
	}
	free(m->slots);
	free(m);
}

static uint64_t key_hash(uint32_t node, struct rv *args)
{
	return rv_hash(args) ^ ((uint64_t)node * 0x9e3779b97f4a7c15ull);
}

static struct fmemo_entry *find(struct fmemo *m, uint32_t node, struct rv *args, uint64_t h)
{
	size_t mask = m->cap - 1;
	size_t i = (size_t)h & mask;

	while (m->slots[i].args) {
		struct fmemo_entry *en = &m->slots[i];

		if (en->hash == h && en->node == node && rv_equal(en->args, args))
			return en;
		i = (i + 1) & mask;
	}
	return &m->slots[i];
}

static int grow(struct fmemo *m)
{
	size_t cap = m->cap ? m->cap * 2 : 64;
	struct fmemo_entry *old = m->slots;
	size_t old_cap = m->cap;

	m->slots = wd_calloc(cap, sizeof(*m->slots));
	if (!m->slots) {
		m->slots = old;
		return WD_ENOMEM;
	}
	m->cap = cap;
	for (size_t i = 0; i < old_cap; i++) {
		if (!old[i].args)
			continue;
		*find(m, old[i].node, old[i].args, old[i].hash) = old[i];
	}
	free(old);
	return 0;
}

struct rv *eval_memo_args(struct rv *const *args, size_t nargs)
{
	struct rv *a = rv_array_new(nargs);

	for (size_t i = 0; a && i < nargs; i++)
		if (rv_array_push(a, rv_ref(args[i])) < 0)
			return NULL;
	return a;
}

bool eval_memo_get(struct q *q, uint32_t node, struct rv *args, struct rv **ret)
{
	struct fmemo *m = q->cache->fmemo;
	struct fmemo_entry *en;

	if (!m || !m->cap)
		return false;
	en = find(m, node, args, key_hash(node, args));
	if (!en->args)
		return false;
	*ret = rv_ref(en->result);
	return true;
}

void eval_memo_put(struct q *q, uint32_t node, struct rv *args, struct rv *result)
{
	struct fmemo *m = q->cache->fmemo;
	struct fmemo_entry *en;
	uint64_t h;

	if (!m) {
		m = calloc(1, sizeof(*m));
		if (!m)
			return;
		q->cache->fmemo = m;
	}
	if (m->len >= FMEMO_MAX_ENTRIES)
		return;
	if ((m->len + 1) * 2 > m->cap && grow(m) < 0)
		return;
	h = key_hash(node, args);
	en = find(m, node, args, h);
	if (en->args)
		return;
	*en = (struct fmemo_entry){ node, rv_ref(args), rv_ref(result), h };
	m->len++;
}
