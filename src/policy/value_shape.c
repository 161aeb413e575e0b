/* Object shapes: one shared copy of the keys, index and sorted order for all
 * parsed objects that have the same keys in the same order. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "policy/value.h"
#include "policy/value_impl.h"

static size_t shape_bytes(size_t n, size_t slots, bool in_order)
{
	return sizeof(struct rv_shape) + n * sizeof(struct rv *) +
	       (slots ? rv_slots_bytes(slots) : 0) + (in_order ? 0 : n * sizeof(uint32_t));
}

static int key_order_cmp(const void *pa, const void *pb, void *arg)
{
	struct rv *const *keys = arg;

	return rv_compare(keys[*(const uint32_t *)pa], keys[*(const uint32_t *)pb]);
}

/* True when key i equals one of the keys before it. */
static bool repeats_before(const struct rv_shape *s, uint32_t i)
{
	struct rv *k = s->keys[i];

	if (!s->mask) {
		for (uint32_t j = 0; j < i; j++) {
			if (s->keys[j]->hash == k->hash && rv_compare(s->keys[j], k) == 0)
				return true;
		}
		return false;
	}
	for (uint32_t slot = (uint32_t)k->hash & s->mask;; slot = (slot + 1) & s->mask) {
		uint32_t e = rv_slot_get(s->slots, s->mask, slot);
		struct rv *other;

		if (!e) {
			rv_slot_set(s->slots, s->mask, slot, i + 1);
			return false;
		}
		other = s->keys[e - 1];
		if (other->hash == k->hash && rv_compare(other, k) == 0)
			return true;
	}
}

struct rv_shape *rv_shape_new(struct rv *const *keys, size_t n)
{
	size_t slots = n > RV_MAP_LINEAR ? rv_slots_for(n) : 0;
	bool in_order = true;
	struct rv_shape *s;
	uint8_t *tail;

	if (n > RV_SHAPE_MAX_KEYS)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		(void)rv_hash(keys[i]);
		if (i > 0 && in_order && rv_compare(keys[i - 1], keys[i]) >= 0)
			in_order = false;
	}

	s = rv_mem_alloc(shape_bytes(n, slots, in_order));
	if (!s)
		return NULL;
	memset(s, 0, sizeof(*s));
	s->refs = 1;
	s->len = (uint32_t)n;
	s->in_order = in_order;
	memcpy(s->keys, keys, n * sizeof(struct rv *));
	tail = (uint8_t *)(s->keys + n);
	if (slots) {
		s->slots = tail;
		s->mask = (uint32_t)(slots - 1);
		memset(s->slots, 0, rv_slots_bytes(slots));
		tail += rv_slots_bytes(slots);
	}

	/* Keys in strictly ascending order cannot repeat. Others are checked
	 * while the index fills. */
	if (!in_order) {
		for (uint32_t i = 0; i < n; i++) {
			if (repeats_before(s, i)) {
				rv_mem_free(s, shape_bytes(n, slots, in_order));
				return NULL;
			}
		}
		s->order = (uint32_t *)(void *)tail;
		for (uint32_t i = 0; i < n; i++)
			s->order[i] = i;
		qsort_r(s->order, n, sizeof(uint32_t), key_order_cmp, s->keys);
	} else if (slots) {
		for (uint32_t i = 0; i < n; i++)
			(void)repeats_before(s, i);
	}

	for (size_t i = 0; i < n; i++)
		rv_ref(keys[i]);
	return s;
}

void rv_shape_unref(struct rv_shape *s)
{
	if (!s)
		return;
	/* Objects of a frozen shape may be released on any thread. */
	if (s->frozen ? __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) > 0 : --s->refs > 0)
		return;
	for (uint32_t i = 0; i < s->len; i++)
		rv_unref(s->keys[i]);
	rv_mem_free(s, shape_bytes(s->len, s->mask ? (size_t)s->mask + 1 : 0, s->in_order));
}

struct rv *rv_object_new_shaped(struct rv_shape *shape, struct rv *const *values)
{
	struct rv *v = rv_alloc_value(RV_OBJECT, shape->len * sizeof(struct rv *));

	if (!v)
		return NULL;
	RV_FLAGS(v) |= RVF_SHAPED;
	__atomic_add_fetch(&shape->refs, 1, __ATOMIC_RELAXED);
	v->u.map = (struct rv_map *)(void *)shape;
	if (shape->len)
		memcpy(rv_shaped_values(v), values, shape->len * sizeof(struct rv *));
	return v;
}
