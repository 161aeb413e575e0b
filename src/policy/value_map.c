/* Objects and sets: entries in insertion order in one block, an open
 * addressing index above a few entries, and OPA's sorted order on demand. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "policy/value.h"
#include "policy/value_impl.h"

/* Entry numbers are 32-bit; a ceiling far below that keeps the index sizes
 * in range. */
#define MAP_MAX_ENTRIES (UINT32_MAX / 4)

static size_t map_bytes(uint32_t cap, uint8_t stride)
{
	return sizeof(struct rv_map) + (size_t)cap * stride * sizeof(struct rv *);
}

static size_t slots_bytes(const struct rv_map *m)
{
	return m->mask ? ((size_t)m->mask + 1) * sizeof(uint32_t) : 0;
}

struct rv *rv_map_new(enum rv_kind kind, size_t cap_hint)
{
	uint8_t stride = kind == RV_OBJECT ? 2 : 1;
	struct rv_map *m;
	struct rv *v;

	/* A hint is only a hint: a huge one from a caller must not reserve
	 * memory nobody fills. */
	if (cap_hint > 1u << 16)
		cap_hint = 1u << 16;

	v = rv_alloc_value(kind, 0);
	if (!v)
		return NULL;
	m = rv_mem_alloc(map_bytes((uint32_t)cap_hint, stride));
	if (!m) {
		rv_mem_free(v, sizeof(*v));
		return NULL;
	}
	memset(m, 0, sizeof(*m));
	m->cap = (uint32_t)cap_hint;
	m->stride = stride;
	m->in_order = 1;
	v->u.map = m;
	return v;
}

struct rv *rv_object_new(size_t cap_hint)
{
	return rv_map_new(RV_OBJECT, cap_hint);
}

struct rv *rv_set_new(size_t cap_hint)
{
	return rv_map_new(RV_SET, cap_hint);
}

void rv_map_release(struct rv *v)
{
	struct rv_map *m = v->u.map;

	if (!m)
		return;
	for (size_t i = 0; i < (size_t)m->len * m->stride; i++)
		rv_unref(m->items[i]);
	rv_mem_free(m->slots, slots_bytes(m));
	free(m->order);
	rv_mem_free(m, map_bytes(m->cap, m->stride));
	v->u.map = NULL;
}

/* ---- lookup ---- */

static inline struct rv *entry_key(const struct rv_map *m, uint32_t i)
{
	return m->items[(size_t)i * m->stride];
}

/* Returns the entry number of key, or -1. */
static int64_t find_value(const struct rv_map *m, const struct rv *key, uint64_t h)
{
	if (!m->mask) {
		for (uint32_t i = 0; i < m->len; i++) {
			struct rv *k = entry_key(m, i);

			if (k == key || (k->hash == h && rv_compare(k, key) == 0))
				return i;
		}
		return -1;
	}

	for (uint32_t s = (uint32_t)h & m->mask;; s = (s + 1) & m->mask) {
		uint32_t e = m->slots[s];
		struct rv *k;

		if (!e)
			return -1;
		k = entry_key(m, e - 1);
		if (k == key || (k->hash == h && rv_compare(k, key) == 0))
			return e - 1;
	}
}

static bool key_is_str(const struct rv *k, uint64_t h, const char *s, size_t len)
{
	return k->kind == RV_STRING && k->hash == h && k->u.str.len == len &&
	       memcmp(k->u.str.data, s, len) == 0;
}

static int64_t find_str(const struct rv_map *m, const char *s, size_t len)
{
	uint64_t h = rv_string_hash(s, len);

	if (!m->mask) {
		for (uint32_t i = 0; i < m->len; i++) {
			if (key_is_str(entry_key(m, i), h, s, len))
				return i;
		}
		return -1;
	}

	for (uint32_t slot = (uint32_t)h & m->mask;; slot = (slot + 1) & m->mask) {
		uint32_t e = m->slots[slot];

		if (!e)
			return -1;
		if (key_is_str(entry_key(m, e - 1), h, s, len))
			return e - 1;
	}
}

struct rv *rv_object_get(const struct rv *obj, const struct rv *key)
{
	int64_t i;

	if (!obj || !key || obj->kind != RV_OBJECT)
		return NULL;
	/* The key's hash is cached on it: frozen keys already carry one and
	 * others belong to the calling thread. */
	i = find_value(obj->u.map, key, rv_hash((struct rv *)key));
	return i < 0 ? NULL : obj->u.map->items[2 * i + 1];
}

struct rv *rv_object_get_str(const struct rv *obj, const char *key)
{
	int64_t i;

	if (!obj || !key || obj->kind != RV_OBJECT)
		return NULL;
	i = find_str(obj->u.map, key, strlen(key));
	return i < 0 ? NULL : obj->u.map->items[2 * i + 1];
}

bool rv_set_has(const struct rv *set, const struct rv *item)
{
	if (!set || !item || set->kind != RV_SET)
		return false;
	return find_value(set->u.map, item, rv_hash((struct rv *)item)) >= 0;
}

/* ---- insertion ---- */

static void index_insert(struct rv_map *m, uint32_t entry, uint64_t h)
{
	uint32_t s = (uint32_t)h & m->mask;

	while (m->slots[s])
		s = (s + 1) & m->mask;
	m->slots[s] = entry + 1;
}

/* Builds the index with at least twice as many slots as entries, so probes
 * stay short at a load factor of at most one half. */
static int index_rebuild(struct rv_map *m, uint32_t want_entries)
{
	size_t slots = 16;
	uint32_t *table;

	while (slots < (size_t)want_entries * 2)
		slots *= 2;
	table = rv_mem_alloc(slots * sizeof(uint32_t));
	if (!table)
		return WD_ENOMEM;
	memset(table, 0, slots * sizeof(uint32_t));
	rv_mem_free(m->slots, slots_bytes(m));
	m->slots = table;
	m->mask = (uint32_t)(slots - 1);
	for (uint32_t i = 0; i < m->len; i++)
		index_insert(m, i, entry_key(m, i)->hash);
	return 0;
}

static int map_grow(struct rv *v)
{
	struct rv_map *m = v->u.map;
	uint32_t cap = m->cap < 4 ? 4 : m->cap * 2;
	struct rv_map *bigger;

	if (m->cap >= MAP_MAX_ENTRIES)
		return WD_ETOOBIG;
	if (cap > MAP_MAX_ENTRIES)
		cap = MAP_MAX_ENTRIES;
	bigger = rv_mem_realloc(m, map_bytes(m->cap, m->stride), map_bytes(cap, m->stride));
	if (!bigger)
		return WD_ENOMEM;
	bigger->cap = cap;
	v->u.map = bigger;
	return 0;
}

static void order_drop(struct rv_map *m)
{
	free(m->order);
	m->order = NULL;
}

/* Adds a new entry at the end; key and value are owned by the map after a
 * successful return. */
static int map_append(struct rv *v, struct rv *key, struct rv *value, uint64_t h)
{
	struct rv_map *m = v->u.map;
	uint32_t i;

	if (m->len == m->cap) {
		int rc = map_grow(v);

		if (rc < 0)
			return rc;
		m = v->u.map;
	}

	if (m->len + 1 > RV_MAP_LINEAR &&
	    (!m->mask || ((size_t)m->len + 1) * 2 > (size_t)m->mask + 1)) {
		int rc = index_rebuild(m, m->len + 1);

		if (rc < 0)
			return rc;
	}

	i = m->len;
	if (m->in_order && i > 0 && rv_compare(entry_key(m, i - 1), key) > 0)
		m->in_order = 0;
	m->items[(size_t)i * m->stride] = key;
	if (m->stride == 2)
		m->items[(size_t)i * 2 + 1] = value;
	m->len++;
	if (m->mask)
		index_insert(m, i, h);
	order_drop(m);
	return 0;
}

int rv_object_put(struct rv *obj, struct rv *key, struct rv *value)
{
	int64_t i;
	uint64_t h;
	int rc;

	if (!obj || !key || !value || obj->kind != RV_OBJECT) {
		rv_unref(key);
		rv_unref(value);
		return WD_ENOMEM;
	}

	h = rv_hash(key);
	i = find_value(obj->u.map, key, h);
	if (i >= 0) {
		/* OPA keeps the first key and the last value. */
		struct rv **slot = &obj->u.map->items[2 * i + 1];

		rv_unref(*slot);
		*slot = value;
		rv_unref(key);
		return 0;
	}

	rc = map_append(obj, key, value, h);
	if (rc < 0) {
		rv_unref(key);
		rv_unref(value);
	}
	return rc;
}

int rv_set_add(struct rv *set, struct rv *item)
{
	uint64_t h;
	int rc;

	if (!set || !item || set->kind != RV_SET) {
		rv_unref(item);
		return WD_ENOMEM;
	}

	h = rv_hash(item);
	if (find_value(set->u.map, item, h) >= 0) {
		rv_unref(item);
		return 0;
	}

	rc = map_append(set, item, NULL, h);
	if (rc < 0)
		rv_unref(item);
	return rc;
}

/* ---- iteration ---- */

void rv_map_at(const struct rv *v, size_t i, struct rv **ret_key, struct rv **ret_value)
{
	const struct rv_map *m = v->u.map;

	*ret_key = m->items[i * m->stride];
	if (ret_value)
		*ret_value = m->stride == 2 ? m->items[i * 2 + 1] : NULL;
}

static int order_cmp(const void *pa, const void *pb, void *arg)
{
	const struct rv_map *m = arg;

	return rv_compare(entry_key(m, *(const uint32_t *)pa), entry_key(m, *(const uint32_t *)pb));
}

/* The sorted permutation is a cache of at most four bytes per entry, next to
 * at least eight the entries take, so it is not charged to the budget: a
 * query near its limit still iterates in the right order. */
int rv_map_ensure_order(const struct rv *v)
{
	struct rv_map *m = v->u.map;
	uint32_t *order;

	if (m->in_order || m->order)
		return 0;
	order = malloc((size_t)m->len * sizeof(uint32_t));
	if (!order)
		return WD_ENOMEM;
	for (uint32_t i = 0; i < m->len; i++)
		order[i] = i;
	qsort_r(order, m->len, sizeof(uint32_t), order_cmp, m);
	m->order = order;
	return 0;
}

void rv_map_sorted_at(const struct rv *v, size_t i, struct rv **ret_key, struct rv **ret_value)
{
	const struct rv_map *m = v->u.map;

	/* Without memory for the order, insertion order is the only answer
	 * left; it is still a complete iteration. */
	if (!m->in_order && rv_map_ensure_order(v) == 0 && m->order)
		i = m->order[i];
	rv_map_at(v, i, ret_key, ret_value);
}

static int entry_cmp(const void *pa, const void *pb)
{
	return rv_compare(*(struct rv *const *)pa, *(struct rv *const *)pb);
}

void rv_map_freeze_order(struct rv *v)
{
	struct rv_map *m = v->u.map;

	if (!m->in_order) {
		qsort(m->items, m->len, m->stride * sizeof(struct rv *), entry_cmp);
		m->in_order = 1;
		if (m->mask) {
			memset(m->slots, 0, slots_bytes(m));
			for (uint32_t i = 0; i < m->len; i++)
				index_insert(m, i, entry_key(m, i)->hash);
		}
	}
	order_drop(m);
}

/* ---- order between maps ---- */

/* OPA compares objects pair by pair in sorted key order (key, then value),
 * sets member by member, and the shorter prefix first. */
int rv_map_compare(const struct rv *a, const struct rv *b)
{
	size_t la = a->u.map->len, lb = b->u.map->len;
	size_t n = la < lb ? la : lb;

	for (size_t i = 0; i < n; i++) {
		struct rv *ka, *va, *kb, *vb;
		int c;

		rv_map_sorted_at(a, i, &ka, &va);
		rv_map_sorted_at(b, i, &kb, &vb);
		c = rv_compare(ka, kb);
		if (c)
			return c;
		if (va && vb) {
			c = rv_compare(va, vb);
			if (c)
				return c;
		}
	}
	if (la == lb)
		return 0;
	return la < lb ? -1 : 1;
}
