/* Rego values: allocation under the thread's memory budget, reference
 * counting and freezing, strings and arrays, OPA's order and hashing. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/error.h"
#include "policy/value.h"
#include "policy/value_impl.h"

/* ---- memory budget ---- */

struct budget {
	size_t max;
	size_t used;
	bool active;
	bool hit;
};

static _Thread_local struct budget budget;

void rv_budget_begin(size_t max_bytes)
{
	budget.max = max_bytes;
	budget.used = 0;
	budget.active = true;
	budget.hit = false;
}

void rv_budget_end(void)
{
	budget.active = false;
	budget.hit = false;
	budget.used = 0;
	budget.max = 0;
}

bool rv_budget_hit(void)
{
	return budget.hit;
}

size_t rv_budget_used(void)
{
	return budget.used;
}

bool rv_mem_charge(size_t size)
{
	if (!budget.active)
		return true;
	if (budget.hit)
		return false;
	if (budget.max && (size > budget.max || budget.used > budget.max - size)) {
		budget.hit = true;
		return false;
	}
	budget.used += size;
	return true;
}

/* Values freed here may have been charged to another thread or before the
 * budget began, so the count saturates at zero. */
void rv_mem_uncharge(size_t size)
{
	if (!budget.active)
		return;
	budget.used = size < budget.used ? budget.used - size : 0;
}

void *rv_mem_alloc(size_t size)
{
	void *p;

	if (!rv_mem_charge(size))
		return NULL;
	p = malloc(size ? size : 1);
	if (!p)
		rv_mem_uncharge(size);
	return p;
}

void *rv_mem_realloc(void *p, size_t old_size, size_t new_size)
{
	void *q;

	if (new_size > old_size && !rv_mem_charge(new_size - old_size))
		return NULL;
	q = realloc(p, new_size ? new_size : 1);
	if (!q) {
		if (new_size > old_size)
			rv_mem_uncharge(new_size - old_size);
		return NULL;
	}
	if (new_size < old_size)
		rv_mem_uncharge(old_size - new_size);
	return q;
}

void rv_mem_free(void *p, size_t size)
{
	if (!p)
		return;
	rv_mem_uncharge(size);
	free(p);
}

/* ---- parse arenas ---- */

/* Values of a large parsed document are carved out of 256 KiB chunks: no
 * per-block malloc header or size-class rounding, which on a document of
 * small strings and numbers is a third of the memory. A chunk counts its
 * live values and goes back to the system when the last one is freed, from
 * whichever thread. */
#define ARENA_CHUNK ((size_t)256 * 1024)
#define ARENA_MAX_BLOCK ((size_t)4096)

struct arena_chunk {
	_Atomic uint32_t live;  /* values in it, plus one while it is filled */
	uint32_t unused;
	size_t used;            /* bytes handed out, header included */
};

static _Thread_local struct arena_chunk *arena_cur;
static _Thread_local unsigned arena_depth;

static void chunk_release(struct arena_chunk *c)
{
	if (atomic_fetch_sub_explicit(&c->live, 1, memory_order_acq_rel) == 1) {
		rv_mem_uncharge(ARENA_CHUNK);
		munmap(c, ARENA_CHUNK);
	}
}

/* Maps a chunk aligned to its size, so that a value finds its chunk by
 * masking its address. */
static struct arena_chunk *chunk_new(void)
{
	uint8_t *p, *aligned;
	size_t head, tail;

	if (!rv_mem_charge(ARENA_CHUNK))
		return NULL;
	p = mmap(NULL, 2 * ARENA_CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		rv_mem_uncharge(ARENA_CHUNK);
		return NULL;
	}
	aligned = (uint8_t *)(((uintptr_t)p + ARENA_CHUNK - 1) & ~(uintptr_t)(ARENA_CHUNK - 1));
	head = (size_t)(aligned - p);
	tail = ARENA_CHUNK - head;
	if (head)
		munmap(p, head);
	if (tail)
		munmap(aligned + ARENA_CHUNK, tail);

	struct arena_chunk *c = (struct arena_chunk *)aligned;

	atomic_init(&c->live, 1);
	c->used = sizeof(*c);
	return c;
}

static void *arena_alloc(size_t size)
{
	struct arena_chunk *c = arena_cur;
	void *p;

	size = (size + 7) & ~(size_t)7;
	if (!c || c->used + size > ARENA_CHUNK) {
		c = chunk_new();
		if (!c)
			return NULL;
		if (arena_cur)
			chunk_release(arena_cur);
		arena_cur = c;
	}
	p = (uint8_t *)c + c->used;
	c->used += size;
	atomic_fetch_add_explicit(&c->live, 1, memory_order_relaxed);
	return p;
}

void rv_arena_begin(void)
{
	arena_depth++;
}

void rv_arena_end(void)
{
	if (arena_depth && --arena_depth == 0 && arena_cur) {
		chunk_release(arena_cur);
		arena_cur = NULL;
	}
}

struct rv *rv_alloc_value(enum rv_kind kind, size_t extra)
{
	struct rv *v;
	size_t size;

	if (__builtin_add_overflow(sizeof(*v), extra, &size))
		return NULL;
	if (arena_depth && size <= ARENA_MAX_BLOCK) {
		v = arena_alloc(size);
		if (!v)
			return NULL;
		memset(v, 0, sizeof(*v));
		RV_FLAGS(v) = RVF_ARENA;
	} else {
		v = rv_mem_alloc(size);
		if (!v)
			return NULL;
		memset(v, 0, sizeof(*v));
	}
	v->refs = 1;
	v->kind = (uint8_t)kind;
	return v;
}

static void free_block_sized(struct rv *v, size_t size)
{
	if (RV_FLAGS(v) & RVF_ARENA)
		chunk_release((struct arena_chunk *)((uintptr_t)v & ~(uintptr_t)(ARENA_CHUNK - 1)));
	else
		rv_mem_free(v, size);
}

void rv_free_block(struct rv *v)
{
	free_block_sized(v, rv_value_size(v));
}

size_t rv_value_size(const struct rv *v)
{
	size_t size = sizeof(*v);

	switch (v->kind) {
	case RV_STRING:
		if (RV_FLAGS(v) & RVF_EXT_DATA)
			size += v->u.str.len + 1;
		else if (v->u.str.len > RV_SHORT_STR)
			size += v->u.str.len - RV_SHORT_STR;
		break;
	case RV_ARRAY:
		size += v->u.arr.cap * sizeof(struct rv *);
		break;
	case RV_OBJECT:
	case RV_SET:
		if ((RV_FLAGS(v) & RVF_SHAPED) && v->u.map)
			size += rv_shape_of(v)->len * sizeof(struct rv *);
		else if ((RV_FLAGS(v) & RVF_INLINE_MAP) && v->u.map)
			size += rv_map_inline_size(v->u.map);
		break;
	case RV_NUMBER:
		if (v->num_repr == RV_NUM_BIG)
			size += sizeof(mpz_t);
		else if (v->num_repr == RV_NUM_DECIMAL && v->u.num.big)
			size += sizeof(struct rv_bigdec);
		break;
	default:
		break;
	}
	return size;
}

/* ---- shared constants ---- */

static struct rv rv_static_null = {
	.refs = RV_REFS_FROZEN, .kind = RV_NULL, .pad = { RVF_STATIC, 0 },
	.hash = 0x6e756c6c6e756c6cULL,
};

static struct rv rv_static_bools[2] = {
	{ .refs = RV_REFS_FROZEN, .kind = RV_BOOL, .pad = { RVF_STATIC, 0 },
	  .hash = 0x66616c7365000001ULL, .u.boolean = false },
	{ .refs = RV_REFS_FROZEN, .kind = RV_BOOL, .pad = { RVF_STATIC, 0 },
	  .hash = 0x7472756500000002ULL, .u.boolean = true },
};

struct rv *rv_null(void)
{
	return &rv_static_null;
}

struct rv *rv_bool(bool b)
{
	return &rv_static_bools[b ? 1 : 0];
}

static bool is_static(const struct rv *v)
{
	return RV_FLAGS(v) & RVF_STATIC;
}

/* ---- reference counting ----
 *
 * A frozen value keeps its count in the low 31 bits of refs, with
 * RV_FROZEN_BIT set; other threads may reference it, so its count changes
 * atomically. Counting (rather than making frozen values immortal) lets
 * frozen trees share nodes with each other and with values the caller
 * still holds: each node goes when its last holder lets go. RV_REFS_FROZEN
 * itself stays the mark of static values that are never counted. */

static bool is_frozen(const struct rv *v)
{
	return (rv_refs_load(v) & RV_FROZEN_BIT) != 0;
}

struct rv *rv_ref(struct rv *v)
{
	if (!v || rv_refs_load(v) == RV_REFS_FROZEN)
		return v;
	if (is_frozen(v))
		__atomic_add_fetch(&v->refs, 1, __ATOMIC_RELAXED);
	else
		v->refs++;
	return v;
}

static void value_free(struct rv *v)
{
	size_t size = rv_value_size(v);

	switch (v->kind) {
	case RV_STRING:
		if (RV_FLAGS(v) & RVF_EXT_DATA)
			free(v->u.str.data);
		break;
	case RV_ARRAY:
		for (size_t i = 0; i < v->u.arr.len; i++)
			rv_unref(v->u.arr.items[i]);
		if (!(RV_FLAGS(v) & RVF_INLINE_ITEMS))
			free(v->u.arr.items);
		break;
	case RV_OBJECT:
	case RV_SET:
		rv_map_release(v);
		break;
	case RV_NUMBER:
		rv_number_release(v);
		break;
	default:
		break;
	}
	free_block_sized(v, size);
}

void rv_unref(struct rv *v)
{
	if (!v || rv_refs_load(v) == RV_REFS_FROZEN)
		return;
	if (is_frozen(v)) {
		if (__atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL) == RV_FROZEN_BIT)
			value_free(v);
		return;
	}
	if (--v->refs > 0)
		return;
	value_free(v);
}

/* Freezing computes every hash and sorts every map, so that readers on other
 * threads never write to a frozen value except its atomic count. */
void rv_freeze(struct rv *v)
{
	if (!v || rv_refs_load(v) == RV_REFS_FROZEN || is_frozen(v) || is_static(v))
		return;

	switch (v->kind) {
	case RV_ARRAY:
		for (size_t i = 0; i < v->u.arr.len; i++)
			rv_freeze(v->u.arr.items[i]);
		break;
	case RV_OBJECT:
	case RV_SET:
		rv_map_freeze_children(v);
		rv_map_freeze_order(v);
		break;
	default:
		break;
	}
	(void)rv_hash(v);
	v->refs |= RV_FROZEN_BIT;
}

void rv_free_frozen(struct rv *v)
{
	rv_unref(v);
}

/* ---- strings ---- */

/* The bytes start in the last word of the struct and run on past its end,
 * so a string of len bytes takes 33 + len bytes, and one of up to seven
 * bytes just the struct. */
struct rv *rv_string(const char *data, size_t len)
{
	struct rv *v;
	char *dst;

	if (!data && len)
		return NULL;
	if (len > SIZE_MAX - sizeof(*v) - 1)
		return NULL;
	v = rv_alloc_value(RV_STRING, len > RV_SHORT_STR ? len - RV_SHORT_STR : 0);
	if (!v)
		return NULL;
	dst = rv_short_str_slot(v);
	if (len)
		memcpy(dst, data, len);
	dst[len] = '\0';
	v->u.str.len = len;
	v->u.str.data = dst;
	return v;
}

struct rv *rv_cstring(const char *s)
{
	if (!s)
		return NULL;
	return rv_string(s, strlen(s));
}

struct rv *rv_string_take(char *data, size_t len)
{
	struct rv *v;

	if (!data)
		return NULL;
	/* Short strings are copied into the struct, which is smaller than
	 * keeping the caller's block. */
	if (len <= RV_SHORT_STR) {
		v = rv_string(data, len);
		free(data);
		return v;
	}
	if (!rv_mem_charge(len + 1)) {
		free(data);
		return NULL;
	}
	v = rv_alloc_value(RV_STRING, 0);
	if (!v) {
		rv_mem_uncharge(len + 1);
		free(data);
		return NULL;
	}
	RV_FLAGS(v) |= RVF_EXT_DATA;
	v->u.str.len = len;
	v->u.str.data = data;
	return v;
}

/* ---- arrays ---- */

struct rv *rv_array_new(size_t cap_hint)
{
	struct rv *v = rv_alloc_value(RV_ARRAY, 0);

	if (!v)
		return NULL;
	if (cap_hint) {
		if (cap_hint > SIZE_MAX / sizeof(struct rv *) / 2)
			cap_hint = 16;
		v->u.arr.items = rv_mem_alloc(cap_hint * sizeof(struct rv *));
		if (!v->u.arr.items) {
			rv_free_block(v);
			return NULL;
		}
		v->u.arr.cap = cap_hint;
	}
	return v;
}

static int array_grow(struct rv *arr)
{
	size_t cap = arr->u.arr.cap ? arr->u.arr.cap * 2 : 4;
	size_t bytes;
	struct rv **items;

	if (__builtin_mul_overflow(cap, sizeof(struct rv *), &bytes))
		return WD_ENOMEM;

	if (RV_FLAGS(arr) & RVF_INLINE_ITEMS) {
		/* Items after the struct cannot move: copy them out and keep
		 * the inline block unused (charged as before). */
		items = rv_mem_alloc(bytes);
		if (!items)
			return WD_ENOMEM;
		memcpy(items, arr->u.arr.items, arr->u.arr.len * sizeof(struct rv *));
		RV_FLAGS(arr) &= (uint8_t)~RVF_INLINE_ITEMS;
		rv_mem_uncharge(arr->u.arr.cap * sizeof(struct rv *));
	} else {
		items = rv_mem_realloc(arr->u.arr.items, arr->u.arr.cap * sizeof(struct rv *),
				       bytes);
		if (!items)
			return WD_ENOMEM;
	}
	arr->u.arr.items = items;
	arr->u.arr.cap = cap;
	return 0;
}

int rv_array_push(struct rv *arr, struct rv *item)
{
	if (!arr || !item || arr->kind != RV_ARRAY) {
		rv_unref(item);
		return WD_ENOMEM;
	}
	if (rv_refs_load(arr) & RV_FROZEN_BIT) {
		rv_unref(item);
		return WD_EINVAL;
	}
	if (arr->u.arr.len == arr->u.arr.cap && array_grow(arr) < 0) {
		rv_unref(item);
		return WD_ENOMEM;
	}
	arr->u.arr.items[arr->u.arr.len++] = item;
	return 0;
}

/* ---- accessors ---- */

size_t rv_len(const struct rv *v)
{
	if (!v)
		return 0;
	switch (v->kind) {
	case RV_OBJECT:
	case RV_SET:
		return rv_map_len(v);
	case RV_ARRAY:
		return v->u.arr.len;
	case RV_STRING:
		return v->u.str.len;
	default:
		return 0;
	}
}

size_t rv_count(const struct rv *v)
{
	if (!v)
		return 0;
	if (v->kind == RV_STRING)
		return rv_utf8_count(v->u.str.data, v->u.str.len);
	return rv_len(v);
}

const char *rv_type_name(const struct rv *v)
{
	static const char *const names[] = {
		[RV_NULL] = "null", [RV_BOOL] = "boolean", [RV_NUMBER] = "number",
		[RV_STRING] = "string", [RV_ARRAY] = "array", [RV_OBJECT] = "object",
		[RV_SET] = "set",
	};

	if (!v || v->kind > RV_SET)
		return "undefined";
	return names[v->kind];
}

/* ---- UTF-8 ---- */

uint32_t rv_utf8_decode(const unsigned char *s, size_t len, size_t *ret_size)
{
	uint32_t c = s[0];
	size_t n;
	uint32_t min;

	*ret_size = 1;
	if (c < 0x80)
		return c;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		c &= 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		c &= 0x07;
		min = 0x10000;
	} else {
		return 0xfffd;
	}
	if (len < n)
		return 0xfffd;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0xfffd;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0xfffd;
	*ret_size = n;
	return c;
}

size_t rv_utf8_count(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t count = 0;
	size_t i = 0;

	while (i < len) {
		size_t size;

		if (p[i] < 0x80) {
			i++;
		} else {
			(void)rv_utf8_decode(p + i, len - i, &size);
			i += size;
		}
		count++;
	}
	return count;
}

/* ---- order ---- */

static int compare_strings(const struct rv *a, const struct rv *b)
{
	size_t n = a->u.str.len < b->u.str.len ? a->u.str.len : b->u.str.len;
	int c = n ? memcmp(a->u.str.data, b->u.str.data, n) : 0;

	if (c)
		return c < 0 ? -1 : 1;
	if (a->u.str.len == b->u.str.len)
		return 0;
	return a->u.str.len < b->u.str.len ? -1 : 1;
}

static int compare_arrays(const struct rv *a, const struct rv *b)
{
	size_t n = a->u.arr.len < b->u.arr.len ? a->u.arr.len : b->u.arr.len;

	for (size_t i = 0; i < n; i++) {
		int c = rv_compare(a->u.arr.items[i], b->u.arr.items[i]);

		if (c)
			return c;
	}
	if (a->u.arr.len == b->u.arr.len)
		return 0;
	return a->u.arr.len < b->u.arr.len ? -1 : 1;
}

int rv_compare(const struct rv *a, const struct rv *b)
{
	if (a == b)
		return 0;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;

	switch (a->kind) {
	case RV_NULL:
		return 0;
	case RV_BOOL:
		return (int)a->u.boolean - (int)b->u.boolean;
	case RV_NUMBER:
		return rv_number_compare(a, b);
	case RV_STRING:
		return compare_strings(a, b);
	case RV_ARRAY:
		return compare_arrays(a, b);
	default:
		return rv_map_compare(a, b);
	}
}

/* ---- hashing ---- */

static inline uint64_t load64(const unsigned char *p)
{
	uint64_t x;

	memcpy(&x, p, sizeof(x));
	return x;
}

/* One multiply per eight bytes and a full mix at the end: strings are
 * hashed once (the hash is cached), but a large document has millions. */
uint64_t rv_hash_bytes(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = seed ^ (len * 0x9e3779b97f4a7c15ULL);

	while (len >= 8) {
		h = (h ^ load64(p)) * 0xff51afd7ed558ccdULL;
		h ^= h >> 29;
		p += 8;
		len -= 8;
	}
	if (len) {
		uint64_t tail = 0;

		memcpy(&tail, p, len);
		h = (h ^ tail) * 0xff51afd7ed558ccdULL;
		h ^= h >> 29;
	}
	return rv_mix64(h);
}

uint64_t rv_string_hash(const char *data, size_t len)
{
	uint64_t h = rv_hash_bytes(data, len, 0x5354524947ULL);

	return h ? h : 1;
}

static uint64_t hash_compute(struct rv *v)
{
	uint64_t h;

	switch (v->kind) {
	case RV_STRING:
		return rv_string_hash(v->u.str.data, v->u.str.len);
	case RV_NUMBER:
		return rv_number_hash(v);
	case RV_ARRAY:
		h = 0x4152524159ULL + v->u.arr.len;
		for (size_t i = 0; i < v->u.arr.len; i++)
			h = rv_mix64(h ^ rv_hash(v->u.arr.items[i])) + i;
		return h;
	case RV_OBJECT:
	case RV_SET: {
		size_t n = rv_map_len(v);

		/* Order-independent: maps equal as maps hash alike whatever
		 * order their entries were inserted in. */
		h = (v->kind == RV_OBJECT ? 0x4f424a454354ULL : 0x534554ULL) + n;
		for (size_t i = 0; i < n; i++) {
			struct rv *key, *value;

			rv_map_at(v, i, &key, &value);
			h += rv_mix64(rv_hash(key) * 31 + (value ? rv_hash(value) : 0));
		}
		return rv_mix64(h);
	}
	case RV_BOOL:
		return v->u.boolean ? 2 : 3;
	default:
		return 4;
	}
}

uint64_t rv_hash(struct rv *v)
{
	uint64_t h;

	if (v->hash)
		return v->hash;
	h = hash_compute(v);
	if (!h)
		h = 1;
	if (!(rv_refs_load(v) & RV_FROZEN_BIT))
		v->hash = h;
	return h;
}
