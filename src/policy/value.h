/* Rego values: immutable, reference-counted trees of null, booleans, numbers,
 * strings, arrays, objects and sets, ordered and printed as OPA does. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/macros.h"

/* The kinds, in OPA's sort order: values of a lower kind sort first. */
enum rv_kind {
	RV_NULL = 0,
	RV_BOOL,
	RV_NUMBER,
	RV_STRING,
	RV_ARRAY,
	RV_OBJECT,
	RV_SET,
};

/* How a number is held. Callers use the rv_number_* functions; the
 * representation is private to value.c and number.c. */
enum rv_num_repr {
	RV_NUM_INT = 0,   /* fits in int64_t */
	RV_NUM_BIG,       /* integer beyond int64_t (GMP mpz) */
	RV_NUM_DECIMAL,   /* non-integral, or written with a fraction/exponent */
};

struct rv_map;

/* A value. Reference counting: every function returning `struct rv *` hands
 * the caller one new reference unless its contract says "borrowed". Values
 * are immutable once shared; the builders below may only be used on a value
 * the caller just created (refs == 1). A frozen value (rv_freeze) is shared
 * across threads read-only and counts its references atomically. */
struct rv {
	uint32_t refs;          /* count; RV_REFS_FROZEN: static, never counted */
	uint8_t kind;           /* enum rv_kind */
	uint8_t num_repr;       /* enum rv_num_repr, for RV_NUMBER */
	uint8_t pad[2];
	uint64_t hash;          /* 0 until computed by rv_hash */
	union {
		bool boolean;
		struct {
			int64_t i;      /* RV_NUM_INT */
			void *big;      /* RV_NUM_BIG: mpz_t*, RV_NUM_DECIMAL: private */
		} num;
		struct {
			size_t len;     /* bytes, not counting the NUL */
			char *data;     /* NUL-terminated UTF-8 (may contain NUL) */
		} str;
		struct {
			size_t len;
			size_t cap;
			struct rv **items;
		} arr;
		struct rv_map *map;     /* RV_OBJECT and RV_SET */
	} u;
};

#define RV_REFS_FROZEN UINT32_MAX

/* ---- reference counting ---- */

/* Adds a reference and returns v; accepts NULL. */
struct rv *rv_ref(struct rv *v);

/* Drops a reference, freeing v and its children at zero; accepts NULL. */
void rv_unref(struct rv *v);

/* Marks v and everything under it frozen: immutable and shareable read-only
 * between threads, with reference counts that change atomically. Used for
 * loaded data documents and compiled constants. */
void rv_freeze(struct rv *v);

/* Drops the reference to a frozen tree (the same as rv_unref). */
void rv_free_frozen(struct rv *v);

/* ---- memory budget (per thread, for query limits) ---- */

/* Starts counting bytes allocated by this thread for values; after max_bytes
 * (0 = unlimited) every constructor returns NULL and rv_budget_hit() turns
 * true. */
void rv_budget_begin(size_t max_bytes);

/* Stops counting and clears the flag. */
void rv_budget_end(void);

/* True once the current budget was exceeded. */
bool rv_budget_hit(void);

/* Bytes currently charged to this thread's budget. */
size_t rv_budget_used(void);

/* ---- constructors: NULL when memory or the budget runs out ---- */

struct rv *rv_null(void);                 /* shared, never NULL */
struct rv *rv_bool(bool b);               /* shared, never NULL */
struct rv *rv_int(int64_t i);
struct rv *rv_double(double d);           /* NaN and infinities: NULL */

/* Parses a JSON/Rego number literal (integer, fraction, exponent, any size).
 * NULL for text that is not a number. */
struct rv *rv_number_parse(const char *text, size_t len);

struct rv *rv_string(const char *data, size_t len);
struct rv *rv_cstring(const char *s);
/* Takes over a malloc'd buffer of len bytes plus a NUL terminator. */
struct rv *rv_string_take(char *data, size_t len);

struct rv *rv_array_new(size_t cap_hint);
struct rv *rv_object_new(size_t cap_hint);
struct rv *rv_set_new(size_t cap_hint);

/* ---- builders: each takes ownership of its value arguments even on
 * failure; WD_ENOMEM when an argument is NULL or memory runs out ---- */

WD_MUST_CHECK int rv_array_push(struct rv *arr, struct rv *item);

/* Inserts or replaces key -> value. */
WD_MUST_CHECK int rv_object_put(struct rv *obj, struct rv *key, struct rv *value);

/* Adds item; a duplicate is dropped (and unref'd). */
WD_MUST_CHECK int rv_set_add(struct rv *set, struct rv *item);

/* ---- accessors (borrowed results) ---- */

static inline enum rv_kind rv_kind_of(const struct rv *v)
{
	return (enum rv_kind)v->kind;
}

static inline bool rv_is(const struct rv *v, enum rv_kind kind)
{
	return v && v->kind == kind;
}

/* True for the boolean true. */
static inline bool rv_is_true(const struct rv *v)
{
	return v && v->kind == RV_BOOL && v->u.boolean;
}

static inline size_t rv_array_len(const struct rv *v)
{
	return v->u.arr.len;
}

static inline struct rv *rv_array_at(const struct rv *v, size_t i)
{
	return v->u.arr.items[i];
}

/* Number of entries of an object or members of a set. */
size_t rv_len(const struct rv *v);

/* Collection length as `count` sees it: array items, object entries, set
 * members, or string code points. */
size_t rv_count(const struct rv *v);

/* Object lookup; NULL when the key is absent. */
struct rv *rv_object_get(const struct rv *obj, const struct rv *key);
struct rv *rv_object_get_str(const struct rv *obj, const char *key);

/* Set membership. */
bool rv_set_has(const struct rv *set, const struct rv *item);

/* Iteration in insertion order: i from 0 to rv_len - 1. For a set, *ret_key
 * is the member and *ret_value is NULL. */
void rv_map_at(const struct rv *v, size_t i, struct rv **ret_key, struct rv **ret_value);

/* Iteration in OPA order (keys / members sorted by rv_compare); the sorted
 * index is computed once per value and cached. */
void rv_map_sorted_at(const struct rv *v, size_t i, struct rv **ret_key,
		      struct rv **ret_value);

/* ---- numbers ---- */

/* True when the number is integral (has no fractional part). */
bool rv_number_is_int(const struct rv *n);

/* Stores the integer in *ret; false when n is not integral or out of range. */
bool rv_number_to_i64(const struct rv *n, int64_t *ret);

/* The nearest double. */
double rv_number_to_double(const struct rv *n);

/* Writes the number as OPA prints it in JSON (shortest round-trip form for
 * decimals, all digits for integers). */
WD_MUST_CHECK int rv_number_format(const struct rv *n, struct wd_buf *out);

/* Arithmetic with OPA's results; NULL on out-of-memory. Division and
 * remainder by zero return NULL with *ret_div_zero set. */
struct rv *rv_num_add(const struct rv *a, const struct rv *b);
struct rv *rv_num_sub(const struct rv *a, const struct rv *b);
struct rv *rv_num_mul(const struct rv *a, const struct rv *b);
struct rv *rv_num_div(const struct rv *a, const struct rv *b, bool *ret_div_zero);
struct rv *rv_num_rem(const struct rv *a, const struct rv *b, bool *ret_div_zero);
struct rv *rv_num_neg(const struct rv *a);
struct rv *rv_num_abs(const struct rv *a);
struct rv *rv_num_round(const struct rv *a);   /* half away from zero */
struct rv *rv_num_ceil(const struct rv *a);
struct rv *rv_num_floor(const struct rv *a);

/* ---- comparison ---- */

/* Total order as OPA's ast.Compare: kind first, then value; numbers compare
 * numerically (1 == 1.0), arrays lexicographically, objects by sorted keys
 * then values, sets by sorted members. Returns <0, 0, >0. */
int rv_compare(const struct rv *a, const struct rv *b);

static inline bool rv_equal(const struct rv *a, const struct rv *b)
{
	return a == b || rv_compare(a, b) == 0;
}

/* Hash consistent with rv_compare (equal values hash equal; 1 and 1.0 too). */
uint64_t rv_hash(struct rv *v);

/* ---- strings ---- */

static inline const char *rv_str(const struct rv *v)
{
	return v->u.str.data;
}

static inline size_t rv_str_len(const struct rv *v)
{
	return v->u.str.len;
}

/* ---- JSON ---- */

/* Converts a jansson value (objects keep string keys). NULL on memory. */
struct rv *rv_from_json(const json_t *json);

/* Parses JSON text of len bytes with a nesting limit; NULL with a message in
 * err (may be NULL) for bad JSON. Big integers and decimals keep their
 * exact value. */
struct rv *rv_parse_json(const char *text, size_t len, size_t max_depth,
			 struct wd_buf *err);

/* Converts to jansson for APIs. Sets become sorted arrays; object keys that
 * are not strings are written as their JSON text, as OPA does. NULL on
 * memory. Numbers beyond int64 and double go through json_real or, where
 * exactness matters, use rv_write_json instead. */
json_t *rv_to_json(const struct rv *v);

/* Appends compact JSON text with OPA's order (sorted object keys and set
 * members) and exact numbers. */
WD_MUST_CHECK int rv_write_json(const struct rv *v, struct wd_buf *out);

/* Appends indented JSON text (two spaces, as `opa eval --format pretty`
 * prints values). */
WD_MUST_CHECK int rv_write_json_pretty(const struct rv *v, struct wd_buf *out);

/* Appends the value as Rego source text: sets as {1, 2} and set() when
 * empty, strings quoted. Used by sprintf's %v and error messages. */
WD_MUST_CHECK int rv_write_rego(const struct rv *v, struct wd_buf *out);

/* The type name OPA's type_name returns: "null", "boolean", "number",
 * "string", "array", "object", "set". */
const char *rv_type_name(const struct rv *v);

/* ---- YAML (value_yaml.c) ---- */

/* Parses one YAML document (libyaml) into a value: mappings become objects,
 * sequences arrays, plain scalars null/booleans/numbers/strings by the YAML
 * 1.1 rules of go-yaml v2, as OPA's yaml.unmarshal does (yes, on and y are
 * booleans). NULL with a message in err. */
struct rv *rv_parse_yaml(const char *text, size_t len, struct wd_buf *err);

/* Like rv_parse_yaml with YAML 1.2's core schema, as yaml.v3 reads files:
 * y, n, yes, no, on and off stay strings. For configuration and test case
 * files rather than yaml.unmarshal. */
struct rv *rv_parse_yaml_core(const char *text, size_t len, struct wd_buf *err);

/* Appends the value as a YAML document (yaml.marshal). */
WD_MUST_CHECK int rv_write_yaml(const struct rv *v, struct wd_buf *out);

/* ---- values: additions ---- */

/* Parses the JSON document read from fd (a file, pipe or socket) as
 * rv_parse_json does. A regular file is mapped and its pages handed back
 * as parsing passes them, so a large data document never sits in memory
 * next to its values. Fails with a message past max_bytes. */
struct rv *rv_parse_json_fd(int fd, size_t max_bytes, size_t max_depth, struct wd_buf *err);

/* The number in the plain form OPA gives computed results: an integral value
 * as RV_NUM_INT (or RV_NUM_BIG), anything else as a decimal without trailing
 * zeros. rv_number_parse keeps a literal's written form ("1.0", "2.50",
 * "1e3" are RV_NUM_DECIMAL and print as 1.0, 2.50 and 1000), as OPA keeps the
 * literal text; a builtin that computes a number through text calls this on
 * the parsed result. NULL for a non-number or on memory. */
struct rv *rv_number_normalize(const struct rv *n);

/* ---- values: notes on the contracts above ---- */

/* rv_num_div and rv_num_rem set *ret_div_zero for a zero divisor ("divide by
 * zero", "modulo by zero"). rv_num_rem also returns NULL, with *ret_div_zero
 * false, when an operand is not integral: OPA's "modulo on floating-point
 * number". A caller tells the three apart by checking rv_number_is_int on
 * both operands before the call; any other NULL means memory ran out. The
 * rv_num_* functions return NULL for operands that are not numbers.
 *
 * rv_number_parse rejects literals whose leading digit sits beyond 10^999999999
 * either way. Arithmetic returns NULL for an operand whose decimal exponent
 * passes 400000 (products can reach that) and for a float result beyond
 * about 2^1400000, so that no operation expands megabytes of digits.
 *
 * The builders return WD_EINVAL (and still consume their arguments) for a
 * frozen container, which other threads may be reading.
 *
 * rv_parse_json with max_depth 0 allows 1000 levels of nesting.
 *
 * rv_freeze builds every sorted order, so rv_map_sorted_at on a frozen value
 * never allocates; rv_map_at may then follow either order. */
