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

/* Entry numbers are 32-bit, and a ceiling far below that keeps the index
 * sizes in range. */
#define MAP_MAX_ENTRIES (UINT32_MAX / 4)

static size_t map_bytes(uint32_t cap, uint8_t stride)
{
	return sizeof(struct rv_map) + (size_t)cap * stride * sizeof(struct rv *);
}

/* Slots hold entry numbers + 1 of at most half as many entries as slots, so
 * a byte is enough up to 256 slots and two bytes up to 65536. */
size_t rv_slots_bytes(size_t slots)
{
	return slots * (slots <= 256 ? 1 : slots <= 65536 ? 2 : 4);
}

static size_t slots_bytes_for(size_t slots)
{
	return rv_slots_bytes(slots);
}

static size_t slots_bytes(const struct rv_map *m)
{
	return m->mask ? slots_bytes_for((size_t)m->mask + 1) : 0;
}

static inline uint32_t slot_get(const struct rv_map *m, uint32_t s)
{
	return rv_slot_get(m->slots, m->mask, s);
}

static inline void slot_set(struct rv_map *m, uint32_t s, uint32_t e)
{
	rv_slot_set(m->slots, m->mask, s, e);
}

/* The slot count for n entries: a power of two, at least twice n, so probes
 * stay short at a load factor of at most one half. */
size_t rv_slots_for(size_t n)
{
	size_t slots = 16;

	while (slots < n * 2)
		slots *= 2;
	return slots;
}

static size_t slots_for(size_t n)
{
	return rv_slots_for(n);
}

static void free_slots(struct rv_map *m)
{
	if (!m->inline_slots)
		rv_mem_free(m->slots, slots_bytes(m));
	m->slots = NULL;
	m->inline_slots = 0;
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
		rv_free_block(v);
		return NULL;
	}
	memset(m, 0, sizeof(*m));
	m->cap = (uint32_t)cap_hint;
	m->stride = stride;
	m->in_order = 1;
	v->u.map = m;
	return v;
}

size_t rv_map_inline_size(const struct rv_map *m)
{
	return map_bytes(m->cap, m->stride) + (m->inline_slots ? slots_bytes(m) : 0);
}

struct rv *rv_map_new_inline(enum rv_kind kind, size_t cap)
{
	uint8_t stride = kind == RV_OBJECT ? 2 : 1;
	size_t slots = cap > RV_MAP_LINEAR ? slots_for(cap) : 0;
	size_t bytes, sb = slots ? slots_bytes_for(slots) : 0;
	struct rv_map *m;
	struct rv *v;

	if (cap > UINT32_MAX / 4)
		return NULL;
	bytes = map_bytes((uint32_t)cap, stride);
	v = rv_alloc_value(kind, bytes + sb);
	if (!v)
		return NULL;
	m = (struct rv_map *)(v + 1);
	memset(m, 0, sizeof(*m));
	m->cap = (uint32_t)cap;
	m->stride = stride;
	m->in_order = 1;
	if (slots) {
		m->slots = (uint8_t *)m + bytes;
		m->mask = (uint32_t)(slots - 1);
		m->inline_slots = 1;
		memset(m->slots, 0, sb);
	}
	RV_FLAGS(v) |= RVF_INLINE_MAP;
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

static inline bool is_shaped(const struct rv *v)
{
	return RV_FLAGS(v) & RVF_SHAPED;
}

void rv_map_release(struct rv *v)
{
	struct rv_map *m = v->u.map;

	if (!m)
		return;
	if (is_shaped(v)) {
		struct rv_shape *shape = rv_shape_of(v);

		for (uint32_t i = 0; i < shape->len; i++)
			rv_unref(rv_shaped_values(v)[i]);
		rv_shape_unref(shape);
		v->u.map = NULL;
		return;
	}
	for (size_t i = 0; i < (size_t)m->len * m->stride; i++)
		rv_unref(m->items[i]);
	free(m->order);
	m->order = NULL;
	free_slots(m);
	if (RV_FLAGS(v) & RVF_INLINE_MAP)
		return;
	rv_mem_free(m, map_bytes(m->cap, m->stride));
	v->u.map = NULL;
}

/* ---- lookup ---- */

static inline struct rv *entry_key(const struct rv_map *m, uint32_t i)
{
	return m->items[(size_t)i * m->stride];
}

/* The keys of either layout, for lookups. */
struct keys {
	struct rv *const *keys;
	size_t stride;
	uint32_t len;
	uint32_t mask;
	const void *slots;
};

static void keys_of(const struct rv *v, struct keys *k)
{
	if (is_shaped(v)) {
		const struct rv_shape *s = rv_shape_of(v);

		k->keys = s->keys;
		k->stride = 1;
		k->len = s->len;
		k->mask = s->mask;
		k->slots = s->slots;
	} else {
		const struct rv_map *m = v->u.map;

		k->keys = m->items;
		k->stride = m->stride;
		k->len = m->len;
		k->mask = m->mask;
		k->slots = m->slots;
	}
}

static inline bool key_is(const struct rv *k, const struct rv *key, uint64_t h)
{
	if (k == key)
		return true;
	if (k->hash != h)
		return false;
	/* String keys are the common case: skip the general comparison. */
	if (k->kind == RV_STRING && key->kind == RV_STRING)
		return k->u.str.len == key->u.str.len &&
		       memcmp(k->u.str.data, key->u.str.data, k->u.str.len) == 0;
	return rv_compare(k, key) == 0;
}

static bool key_is_str(const struct rv *k, uint64_t h, const char *s, size_t len)
{
	return k->kind == RV_STRING && k->hash == h && k->u.str.len == len &&
	       memcmp(k->u.str.data, s, len) == 0;
}

/* Returns the entry number of key (key_is) or of the string s (key == NULL),
 * or -1. */
static int64_t find_in(const struct keys *k, const struct rv *key, const char *s, size_t len,
		       uint64_t h)
{
	if (!k->mask) {
		for (uint32_t i = 0; i < k->len; i++) {
			const struct rv *e = k->keys[i * k->stride];

			if (key ? key_is(e, key, h) : key_is_str(e, h, s, len))
				return i;
		}
		return -1;
	}

	for (uint32_t slot = (uint32_t)h & k->mask;; slot = (slot + 1) & k->mask) {
		uint32_t e = rv_slot_get(k->slots, k->mask, slot);
		const struct rv *ek;

		if (!e)
			return -1;
		ek = k->keys[(size_t)(e - 1) * k->stride];
		if (key ? key_is(ek, key, h) : key_is_str(ek, h, s, len))
			return e - 1;
	}
}

static int64_t find_value(const struct rv *v, const struct rv *key, uint64_t h)
{
	struct keys k;

	keys_of(v, &k);
	return find_in(&k, key, NULL, 0, h);
}

static struct rv **value_slot(const struct rv *v, int64_t i)
{
	if (is_shaped(v))
		return &rv_shaped_values(v)[i];
	return &v->u.map->items[2 * i + 1];
}

struct rv *rv_object_get(const struct rv *obj, const struct rv *key)
{
	int64_t i;

	if (!obj || !key || obj->kind != RV_OBJECT)
		return NULL;
	/* The key's hash is cached on it: frozen keys already carry one and
	 * others belong to the calling thread. */
	i = find_value(obj, key, rv_hash((struct rv *)key));
	return i < 0 ? NULL : *value_slot(obj, i);
}

struct rv *rv_object_get_str(const struct rv *obj, const char *key)
{
	struct keys k;
	size_t len;
	int64_t i;

	if (!obj || !key || obj->kind != RV_OBJECT)
		return NULL;
	len = strlen(key);
	keys_of(obj, &k);
	i = find_in(&k, NULL, key, len, rv_string_hash(key, len));
	return i < 0 ? NULL : *value_slot(obj, i);
}

bool rv_set_has(const struct rv *set, const struct rv *item)
{
	if (!set || !item || set->kind != RV_SET)
		return false;
	return find_value(set, item, rv_hash((struct rv *)item)) >= 0;
}

size_t rv_map_len(const struct rv *v)
{
	return is_shaped(v) ? rv_shape_of(v)->len : v->u.map->len;
}

/* ---- insertion ---- */

static void index_insert(struct rv_map *m, uint32_t entry, uint64_t h)
{
	uint32_t s = (uint32_t)h & m->mask;

	while (slot_get(m, s))
		s = (s + 1) & m->mask;
	slot_set(m, s, entry + 1);
}

static int index_rebuild(struct rv_map *m, uint32_t want_entries)
{
	size_t slots = slots_for(want_entries);
	void *table;

	table = rv_mem_alloc(slots_bytes_for(slots));
	if (!table)
		return WD_ENOMEM;
	memset(table, 0, slots_bytes_for(slots));
	free_slots(m);
	m->slots = table;
	m->mask = (uint32_t)(slots - 1);
	for (uint32_t i = 0; i < m->len; i++)
		index_insert(m, i, entry_key(m, i)->hash);
	return 0;
}

/* Doubles the entry space. An inline map moves to a block of its own, and its
 * index stays where it is until the next rebuild. */
static int map_grow(struct rv *v)
{
	struct rv_map *m = v->u.map;
	uint32_t cap = m->cap < 4 ? 4 : m->cap * 2;
	struct rv_map *bigger;

	if (m->cap >= MAP_MAX_ENTRIES)
		return WD_ETOOBIG;
	if (cap > MAP_MAX_ENTRIES)
		cap = MAP_MAX_ENTRIES;
	if (RV_FLAGS(v) & RVF_INLINE_MAP) {
		bigger = rv_mem_alloc(map_bytes(cap, m->stride));
		if (!bigger)
			return WD_ENOMEM;
		memcpy(bigger, m, map_bytes(m->len, m->stride));
		RV_FLAGS(v) &= (uint8_t)~RVF_INLINE_MAP;
	} else {
		bigger = rv_mem_realloc(m, map_bytes(m->cap, m->stride), map_bytes(cap, m->stride));
		if (!bigger)
			return WD_ENOMEM;
	}
	bigger->cap = cap;
	v->u.map = bigger;
	return 0;
}

static void order_drop(struct rv_map *m)
{
	free(m->order);
	m->order = NULL;
}

/* Gives a shaped object a map of its own before it changes. The values'
 * space after the struct is left unused. */
static int unshare(struct rv *v)
{
	struct rv_shape *shape = rv_shape_of(v);
	uint32_t n = shape->len;
	struct rv_map *m;

	m = rv_mem_alloc(map_bytes(n, 2));
	if (!m)
		return WD_ENOMEM;
	memset(m, 0, sizeof(*m));
	m->cap = n;
	m->len = n;
	m->stride = 2;
	m->in_order = shape->in_order;
	for (uint32_t i = 0; i < n; i++) {
		m->items[2 * i] = shape->keys[i];
		m->items[2 * i + 1] = rv_shaped_values(v)[i];
	}
	if (n > RV_MAP_LINEAR && index_rebuild(m, n) < 0) {
		rv_mem_free(m, map_bytes(n, 2));
		return WD_ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++)
		rv_ref(shape->keys[i]);
	RV_FLAGS(v) &= (uint8_t)~RVF_SHAPED;
	v->u.map = m;
	rv_shape_unref(shape);
	return 0;
}

/* Adds a new entry at the end. The map owns key and value after a successful
 * return. */
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
	if (rv_refs_load(obj) & RV_FROZEN_BIT) {
		rv_unref(key);
		rv_unref(value);
		return WD_EINVAL;
	}

	h = rv_hash(key);
	i = find_value(obj, key, h);
	if (i >= 0) {
		/* OPA keeps the first key and the last value. */
		struct rv **slot = value_slot(obj, i);

		rv_unref(*slot);
		*slot = value;
		rv_unref(key);
		return 0;
	}

	rc = is_shaped(obj) ? unshare(obj) : 0;
	if (rc == 0)
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
	if (rv_refs_load(set) & RV_FROZEN_BIT) {
		rv_unref(item);
		return WD_EINVAL;
	}

	h = rv_hash(item);
	if (find_value(set, item, h) >= 0) {
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

	if (is_shaped(v)) {
		*ret_key = rv_shape_of(v)->keys[i];
		if (ret_value)
			*ret_value = rv_shaped_values(v)[i];
		return;
	}

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

	if (is_shaped(v) || m->in_order || m->order)
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

	if (is_shaped(v)) {
		const struct rv_shape *shape = rv_shape_of(v);

		rv_map_at(v, shape->order ? shape->order[i] : i, ret_key, ret_value);
		return;
	}

	/* Without memory for the order, fall back to insertion order, which
	 * still visits every entry once. */
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

	/* A shape's order is built with it. */
	if (is_shaped(v))
		return;
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

void rv_map_freeze_children(struct rv *v)
{
	if (is_shaped(v)) {
		struct rv_shape *shape = rv_shape_of(v);

		for (uint32_t i = 0; i < shape->len; i++)
			rv_freeze(rv_shaped_values(v)[i]);
		if (!shape->frozen) {
			for (uint32_t i = 0; i < shape->len; i++)
				rv_freeze(shape->keys[i]);
			shape->frozen = 1;
		}
		return;
	}
	for (size_t i = 0; i < (size_t)v->u.map->len * v->u.map->stride; i++)
		rv_freeze(v->u.map->items[i]);
}

/* ---- order between maps ---- */

/* OPA compares objects pair by pair in sorted key order (key, then value),
 * sets member by member, and the shorter prefix first. */
int rv_map_compare(const struct rv *a, const struct rv *b)
{
	size_t la = rv_map_len(a), lb = rv_map_len(b);
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
