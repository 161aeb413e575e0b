/* Private layout of Rego values, shared by value*.c and number.c: allocation
 * with budget accounting, flags, the map structure and number forms. */
#pragma once

#include <gmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "policy/value.h"

/* Bits of pad[0], for every kind. pad[1] holds a small decimal's exponent. */
enum {
	RVF_STATIC = 1,        /* statically allocated: never freed */
	RVF_EXT_DATA = 2,      /* string bytes in their own malloc'd block */
	RVF_INLINE_ITEMS = 4,  /* array items allocated after the struct */
	RVF_ARENA = 8,         /* allocated in a parse arena chunk */
	RVF_INLINE_MAP = 16,   /* map block (and index) after the struct */
	RVF_SHAPED = 32,       /* object of a shared shape, values after the
				* struct, u.map pointing at the shape */
};

#define RV_FLAGS(v) ((v)->pad[0])

/* The bit of refs that marks a frozen value (see value.c); static values
 * (RV_REFS_FROZEN) have it too. */
#define RV_FROZEN_BIT 0x80000000u

/* Reads refs atomically, because other threads may be changing a frozen
 * value's count. */
static inline uint32_t rv_refs_load(const struct rv *v)
{
	return __atomic_load_n(&v->refs, __ATOMIC_RELAXED);
}

/* Strings up to this many bytes live in the unused third word of the union,
 * so a short string costs one 40-byte block. */
#define RV_SHORT_STR 7

static inline char *rv_short_str_slot(struct rv *v)
{
	return (char *)v + offsetof(struct rv, u) + 2 * sizeof(size_t);
}

/* ---- allocation (value.c) ---- */

/* malloc/free charged to the thread's budget; rv_mem_alloc returns NULL once
 * the budget is spent. */
void *rv_mem_alloc(size_t size);
void *rv_mem_realloc(void *p, size_t old_size, size_t new_size);
void rv_mem_free(void *p, size_t size);
bool rv_mem_charge(size_t size);
void rv_mem_uncharge(size_t size);

/* Allocates a zeroed value of the kind with extra bytes after the struct
 * (the struct's fields zeroed, the extra bytes not). */
struct rv *rv_alloc_value(enum rv_kind kind, size_t extra);

/* Frees the block of a value whose contents are already released. */
void rv_free_block(struct rv *v);

/* Between begin and end, values this thread allocates come from arena
 * chunks (for parsing large documents); calls nest. */
void rv_arena_begin(void);
void rv_arena_end(void);

/* Bytes to uncharge when v itself (not its children) is freed. */
size_t rv_value_size(const struct rv *v);

/* ---- maps (value_map.c) ---- */

/* Entries are kept in insertion order as a flat array of pointers (key,
 * value for objects; member for sets). Maps above RV_MAP_LINEAR entries get
 * an open-addressing index of entry numbers; smaller ones are scanned, which
 * is faster than hashing at that size and costs no memory. */
#define RV_MAP_LINEAR 8

struct rv_map {
	uint32_t len;
	uint32_t cap;
	uint32_t mask;          /* index slots - 1; 0 without an index */
	uint8_t stride;         /* 2 for objects, 1 for sets */
	uint8_t in_order;       /* entries already sorted by rv_compare */
	uint8_t inline_slots;   /* the index lives in the value's block */
	uint8_t pad;
	void *slots;            /* entry number + 1, 0 = empty; 1, 2 or 4
				 * bytes a slot as the slot count needs */
	uint32_t *order;        /* sorted permutation, built on demand */
	struct rv *items[];
};

struct rv *rv_map_new(enum rv_kind kind, size_t cap_hint);

/* A map of exactly cap entries in the value's own block, index included;
 * it moves out to its own block if it ever grows. */
struct rv *rv_map_new_inline(enum rv_kind kind, size_t cap);

/* Bytes of an inline map block. */
size_t rv_map_inline_size(const struct rv_map *m);
void rv_map_release(struct rv *v);   /* unrefs entries, frees the map */

/* ---- shapes (value_shape.c) ---- */

/* The keys of an object, with their index and sorted order, shared by every
 * object parsed with the same keys in the same order: an array of records
 * stores each record's keys once, and each record is its struct plus one
 * pointer a value. Shapes are immutable; only their count changes. */
struct rv_shape {
	uint32_t refs;          /* changed atomically: frozen objects holding
				 * the shape may be freed on any thread */
	uint32_t len;
	uint32_t mask;          /* index slots - 1; 0 without an index */
	uint8_t in_order;       /* keys already sorted */
	uint8_t frozen;         /* keys already frozen */
	uint8_t pad[2];
	void *slots;            /* as struct rv_map's */
	uint32_t *order;        /* sorted permutation, NULL when in order */
	struct rv *keys[];
};

/* Most keys a shape holds; larger objects get a map of their own. */
#define RV_SHAPE_MAX_KEYS 64

/* A shape of n keys (a reference taken on each); NULL when a key repeats,
 * n is above RV_SHAPE_MAX_KEYS or memory runs out. */
struct rv_shape *rv_shape_new(struct rv *const *keys, size_t n);
void rv_shape_unref(struct rv_shape *shape);

/* An object of the shape, taking over n values (the shape gets a new
 * reference); NULL on memory, the values then still the caller's. */
struct rv *rv_object_new_shaped(struct rv_shape *shape, struct rv *const *values);

static inline struct rv_shape *rv_shape_of(const struct rv *v)
{
	return (struct rv_shape *)(void *)v->u.map;
}

static inline struct rv **rv_shaped_values(const struct rv *v)
{
	return (struct rv **)(uintptr_t)(v + 1);
}

/* ---- index slots (value_map.c) ---- */

size_t rv_slots_for(size_t n);
size_t rv_slots_bytes(size_t slots);

static inline uint32_t rv_slot_get(const void *slots, uint32_t mask, uint32_t s)
{
	if (mask < 256)
		return ((const uint8_t *)slots)[s];
	if (mask < 65536)
		return ((const uint16_t *)slots)[s];
	return ((const uint32_t *)slots)[s];
}

static inline void rv_slot_set(void *slots, uint32_t mask, uint32_t s, uint32_t e)
{
	if (mask < 256)
		((uint8_t *)slots)[s] = (uint8_t)e;
	else if (mask < 65536)
		((uint16_t *)slots)[s] = (uint16_t)e;
	else
		((uint32_t *)slots)[s] = e;
}

/* ---- map internals for value.c ---- */

size_t rv_map_len(const struct rv *v);

/* Freezes every key and value (a shape's keys once) with rv_freeze. */
void rv_map_freeze_children(struct rv *v);

/* Sorts the entries in place and builds the index, for rv_freeze. */
void rv_map_freeze_order(struct rv *v);

/* Makes sure the sorted order exists (no-op when in order). */
WD_MUST_CHECK int rv_map_ensure_order(const struct rv *v);

/* Compares two objects or two sets as OPA does. */
int rv_map_compare(const struct rv *a, const struct rv *b);

/* ---- numbers (number.c) ---- */

/* Integers written without fraction or exponent are RV_NUM_INT when they fit
 * int64, else RV_NUM_BIG (mpz after the struct). Literals with a fraction or
 * an exponent are RV_NUM_DECIMAL at their written scale (1.0 is 10 * 10^-1),
 * as are results that are not integers. A decimal whose mantissa fits int64
 * and exponent int8 keeps both in the struct (u.num.i and pad[1], u.num.big
 * NULL); others point u.num.big at a struct rv_bigdec after the struct.
 * Arithmetic results are normalized: integers with up to RV_BIG_DIGITS digits
 * become INT or BIG, other decimals lose trailing zeros. Hashing normalizes
 * too, so that 1, 1.0 and 1e0 hash alike. */
#define RV_BIG_DIGITS 1000

/* Largest position of a literal's leading digit; the exponent arithmetic of
 * parsing cannot overflow below it. */
#define RV_MAX_EXP 999999999

struct rv_bigdec {
	mpz_t m;
	int64_t exp;
};

/* An exact decimal for arithmetic: m * 10^exp. */
struct rv_dec {
	mpz_t m;
	int64_t exp;
};

void rv_dec_init_from(struct rv_dec *d, const struct rv *n);
void rv_dec_clear(struct rv_dec *d);

/* Builds the canonical number for m * 10^exp; consumes nothing. */
struct rv *rv_number_from_dec(const mpz_t m, int64_t exp);
struct rv *rv_number_from_mpz(const mpz_t z);

/* Builds the decimal m * 10^exp at that scale, as a literal is kept. */
struct rv *rv_number_decimal(const mpz_t m, int64_t exp);

int rv_number_compare(const struct rv *a, const struct rv *b);
uint64_t rv_number_hash(const struct rv *n);
void rv_number_release(struct rv *n);

/* ---- hashing helpers (value.c) ---- */

static inline uint64_t rv_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

uint64_t rv_hash_bytes(const void *data, size_t len, uint64_t seed);

/* Hash of a string value with these bytes, equal to rv_hash of it. */
uint64_t rv_string_hash(const char *data, size_t len);

/* Go's utf8.RuneCountInString: each invalid byte counts as one. */
size_t rv_utf8_count(const char *s, size_t len);

/* Decodes one UTF-8 sequence as Go does: on an invalid sequence returns
 * U+FFFD with *ret_size 1. */
uint32_t rv_utf8_decode(const unsigned char *s, size_t len, size_t *ret_size);
