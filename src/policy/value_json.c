/* JSON into values: a bounded, non-recursive parser that keeps numbers exact,
 * shares repeated strings, numbers and object shapes, and reads files. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "policy/value.h"
#include "policy/value_impl.h"

/* Nesting limit when the caller passes 0. Values are freed and compared
 * recursively, so depth must stay well below what the stack holds. */
#define JSON_DEFAULT_DEPTH 1000

/* Strings up to this length go through the sharing cache: object keys and
 * enumerations repeat throughout real documents. */
#define INTERN_MAX_LEN 32
#define INTERN_SLOTS_MIN (1u << 12)
#define INTERN_SLOTS_MAX (1u << 16)

/* Numbers written with up to this many characters are shared the same way:
 * prices, scores and counts repeat as much as enumerations do. */
#define NUM_CACHE_TEXT 22
#define NUM_CACHE_SLOTS (1u << 16)

/* The caches hold no references: that would cost a write to the evicted
 * value on every miss. Nothing is freed while parsing except values replaced
 * by a duplicate key, and the first duplicate turns the caches off. */
struct str_entry {
	uint64_t hash;
	struct rv *value;
};

struct num_entry {
	struct rv *value;
	uint8_t len;
	char text[NUM_CACHE_TEXT];
};

/* A shared string is not reused past this many references, so refs never
 * reaches RV_FROZEN_BIT. */
#define INTERN_MAX_REFS (1u << 30)

/* Direct-mapped cache of object shapes by key sequence. */
#define SHAPE_SLOTS (1u << 12)

/* A mapped file is handed back in steps of this many parsed bytes. */
#define RELEASE_STEP ((size_t)8 << 20)

/* Inputs from this size on are parsed into arena chunks. */
#define ARENA_MIN_INPUT ((size_t)64 * 1024)

struct frame {
	uint8_t kind;           /* RV_ARRAY or RV_OBJECT */
	size_t base;            /* first stack slot of this container's items */
	struct rv *partial;     /* the container so far, once items spilled */
};

/* A container with this many items on the stack moves them into the value
 * it is building, so that a long array does not sit in memory twice: on the
 * doubling stack and in the final array. */
#define SPILL_ITEMS ((size_t)1 << 16)

struct parser {
	const unsigned char *p;
	size_t len;
	size_t pos;
	size_t max_depth;

	struct rv **stack;      /* finished values (and keys) not yet placed */
	size_t sp;
	size_t stack_cap;

	struct frame *frames;
	size_t depth;
	size_t frames_cap;

	struct str_entry *intern;       /* direct-mapped cache of short strings */
	size_t intern_slots;
	struct num_entry *numbers;      /* likewise, for numbers */
	bool no_cache;                  /* a value was freed: caches are off */
	struct rv_shape **shapes;       /* likewise, for object shapes */

	char *scratch;          /* decoded bytes of strings with escapes */
	size_t scratch_cap;

	bool mapped;            /* text is a private file mapping */
	size_t released;        /* bytes of it handed back to the system */

	const char *msg;        /* static error text */
	size_t err_pos;
	bool oom;
};

static bool fail(struct parser *ps, const char *msg)
{
	if (!ps->msg) {
		ps->msg = msg;
		ps->err_pos = ps->pos;
	}
	return false;
}

static bool fail_oom(struct parser *ps)
{
	ps->oom = true;
	return fail(ps, "out of memory");
}

static void skip_ws(struct parser *ps)
{
	while (ps->pos < ps->len) {
		unsigned char c = ps->p[ps->pos];

		if (c != ' ' && c != '\n' && c != '\r' && c != '\t')
			break;
		ps->pos++;
	}
}

static bool push(struct parser *ps, struct rv *v)
{
	if (!v)
		return fail_oom(ps);
	if (ps->sp == ps->stack_cap) {
		size_t cap = ps->stack_cap ? ps->stack_cap * 2 : 64;
		struct rv **s = realloc(ps->stack, cap * sizeof(*s));

		if (!s) {
			rv_unref(v);
			return fail_oom(ps);
		}
		ps->stack = s;
		ps->stack_cap = cap;
	}
	ps->stack[ps->sp++] = v;
	return true;
}

/* ---- strings ---- */

static struct rv *make_string(struct parser *ps, const char *data, size_t len)
{
	struct str_entry *slot;
	struct rv *v;
	uint64_t h;

	if (len > INTERN_MAX_LEN || ps->no_cache)
		return rv_string(data, len);

	if (!ps->intern) {
		/* The table grows with the input up to 64Ki slots (1 MiB),
		 * which stays in cache: a larger one shared a few more strings
		 * of a 100 MB document but parsed it a fifth slower. */
		ps->intern_slots = INTERN_SLOTS_MIN;
		while (ps->intern_slots < INTERN_SLOTS_MAX && ps->intern_slots * 256 < ps->len)
			ps->intern_slots *= 2;
		ps->intern = calloc(ps->intern_slots, sizeof(*ps->intern));
		if (!ps->intern)
			return rv_string(data, len);
	}
	h = rv_string_hash(data, len);
	slot = &ps->intern[h & (ps->intern_slots - 1)];
	v = slot->value;
	if (v && slot->hash == h && v->u.str.len == len && memcmp(v->u.str.data, data, len) == 0 &&
	    v->refs < INTERN_MAX_REFS)
		return rv_ref(v);

	v = rv_string(data, len);
	if (!v)
		return NULL;
	v->hash = h;
	slot->hash = h;
	slot->value = v;
	return v;
}

static bool scratch_reserve(struct parser *ps, size_t need)
{
	char *s;
	size_t cap;

	if (need <= ps->scratch_cap)
		return true;
	cap = ps->scratch_cap ? ps->scratch_cap : 256;
	while (cap < need)
		cap *= 2;
	s = realloc(ps->scratch, cap);
	if (!s)
		return false;
	ps->scratch = s;
	ps->scratch_cap = cap;
	return true;
}

static int hex_digit(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool read_hex4(struct parser *ps, uint32_t *ret)
{
	uint32_t x = 0;

	if (ps->len - ps->pos < 4)
		return fail(ps, "truncated \\u escape");
	for (int i = 0; i < 4; i++) {
		int d = hex_digit(ps->p[ps->pos + (size_t)i]);

		if (d < 0)
			return fail(ps, "invalid \\u escape");
		x = (x << 4) | (uint32_t)d;
	}
	ps->pos += 4;
	*ret = x;
	return true;
}

static size_t utf8_put(char *out, uint32_t c)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | (c >> 6));
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | (c >> 12));
		out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (c >> 18));
	out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/* Returns the length of the valid UTF-8 sequence at pos, or 0. */
static size_t utf8_valid_at(const struct parser *ps, size_t pos)
{
	size_t size;
	uint32_t c = rv_utf8_decode(ps->p + pos, ps->len - pos, &size);

	if (c == 0xfffd && size == 1)
		return 0;
	return size;
}

/* Decodes a string whose opening quote is at pos - 1, from the first escape
 * at `start + done` on. Escapes follow JSON; a lone surrogate becomes
 * U+FFFD as Go's decoder makes it. */
static bool read_escaped(struct parser *ps, size_t start, struct rv **ret)
{
	size_t out = ps->pos - start;

	if (!scratch_reserve(ps, out + 64))
		return fail_oom(ps);
	memcpy(ps->scratch, ps->p + start, out);

	for (;;) {
		unsigned char c;

		if (ps->pos >= ps->len)
			return fail(ps, "unterminated string");
		if (!scratch_reserve(ps, out + 8))
			return fail_oom(ps);
		c = ps->p[ps->pos];
		if (c == '"') {
			ps->pos++;
			break;
		}
		if (c < 0x20)
			return fail(ps, "control character in string");
		if (c >= 0x80) {
			size_t n = utf8_valid_at(ps, ps->pos);

			if (!n)
				return fail(ps, "invalid UTF-8 in string");
			memcpy(ps->scratch + out, ps->p + ps->pos, n);
			out += n;
			ps->pos += n;
			continue;
		}
		if (c != '\\') {
			ps->scratch[out++] = (char)c;
			ps->pos++;
			continue;
		}

		ps->pos++;
		if (ps->pos >= ps->len)
			return fail(ps, "unterminated string");
		c = ps->p[ps->pos++];
		switch (c) {
		case '"': ps->scratch[out++] = '"'; break;
		case '\\': ps->scratch[out++] = '\\'; break;
		case '/': ps->scratch[out++] = '/'; break;
		case 'b': ps->scratch[out++] = '\b'; break;
		case 'f': ps->scratch[out++] = '\f'; break;
		case 'n': ps->scratch[out++] = '\n'; break;
		case 'r': ps->scratch[out++] = '\r'; break;
		case 't': ps->scratch[out++] = '\t'; break;
		case 'u': {
			uint32_t cp, lo;

			if (!read_hex4(ps, &cp))
				return false;
			if (cp >= 0xd800 && cp <= 0xdbff && ps->len - ps->pos >= 6 &&
			    ps->p[ps->pos] == '\\' && ps->p[ps->pos + 1] == 'u') {
				size_t save = ps->pos;

				ps->pos += 2;
				if (!read_hex4(ps, &lo))
					return false;
				if (lo >= 0xdc00 && lo <= 0xdfff) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				} else {
					/* Not a pair: this one is lone and
					 * the next is read on its own. */
					cp = 0xfffd;
					ps->pos = save;
				}
			} else if (cp >= 0xd800 && cp <= 0xdfff) {
				cp = 0xfffd;
			}
			out += utf8_put(ps->scratch + out, cp);
			break;
		}
		default:
			ps->pos--;
			return fail(ps, "invalid escape in string");
		}
	}

	*ret = make_string(ps, ps->scratch, out);
	if (!*ret)
		return fail_oom(ps);
	return true;
}

/* Reads the string whose opening quote is at pos. */
static bool read_string(struct parser *ps, struct rv **ret)
{
	size_t start;

	ps->pos++;
	start = ps->pos;
	while (ps->pos < ps->len) {
		unsigned char c = ps->p[ps->pos];

		if (c == '"') {
			*ret = make_string(ps, (const char *)ps->p + start, ps->pos - start);
			ps->pos++;
			if (!*ret)
				return fail_oom(ps);
			return true;
		}
		if (c == '\\')
			return read_escaped(ps, start, ret);
		if (c < 0x20)
			return fail(ps, "control character in string");
		if (c >= 0x80) {
			size_t n = utf8_valid_at(ps, ps->pos);

			if (!n)
				return fail(ps, "invalid UTF-8 in string");
			ps->pos += n;
			continue;
		}
		ps->pos++;
	}
	return fail(ps, "unterminated string");
}

/* ---- scalars ---- */

static bool read_literal(struct parser *ps, const char *word, struct rv *v)
{
	size_t n = strlen(word);

	if (ps->len - ps->pos < n || memcmp(ps->p + ps->pos, word, n) != 0)
		return fail(ps, "invalid literal");
	ps->pos += n;
	return push(ps, v);
}

static bool read_number(struct parser *ps)
{
	size_t start = ps->pos, len;
	struct num_entry *e = NULL;
	const char *text;
	struct rv *v;

	while (ps->pos < ps->len) {
		unsigned char c = ps->p[ps->pos];

		if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' ||
		      c == 'E'))
			break;
		ps->pos++;
	}
	len = ps->pos - start;
	text = (const char *)ps->p + start;

	/* Integers of up to three digits are shared statics already, so only
	 * the rest go through the cache. */
	if (len <= NUM_CACHE_TEXT && ps->len >= ARENA_MIN_INPUT && !ps->no_cache &&
	    !(len <= 3 && memchr(text, '.', len) == NULL && memchr(text, 'e', len) == NULL &&
	      memchr(text, 'E', len) == NULL && text[0] != '-')) {
		if (!ps->numbers)
			ps->numbers = calloc(NUM_CACHE_SLOTS, sizeof(*ps->numbers));
		if (ps->numbers) {
			e = &ps->numbers[rv_hash_bytes(text, len, 0x4e554dULL) &
					 (NUM_CACHE_SLOTS - 1)];
			if (e->value && e->len == len && memcmp(e->text, text, len) == 0 &&
			    e->value->refs < INTERN_MAX_REFS)
				return push(ps, rv_ref(e->value));
		}
	}

	v = rv_number_parse(text, len);
	if (!v) {
		if (rv_budget_hit())
			return fail_oom(ps);
		ps->pos = start;
		return fail(ps, "invalid number");
	}
	if (e) {
		e->value = v;
		e->len = (uint8_t)len;
		memcpy(e->text, text, len);
	}
	return push(ps, v);
}

/* ---- containers ---- */

static bool open_frame(struct parser *ps, uint8_t kind)
{
	if (ps->depth >= ps->max_depth)
		return fail(ps, "nesting too deep");
	if (ps->depth == ps->frames_cap) {
		size_t cap = ps->frames_cap ? ps->frames_cap * 2 : 16;
		struct frame *f = realloc(ps->frames, cap * sizeof(*f));

		if (!f)
			return fail_oom(ps);
		ps->frames = f;
		ps->frames_cap = cap;
	}
	ps->frames[ps->depth].kind = kind;
	ps->frames[ps->depth].base = ps->sp;
	ps->frames[ps->depth].partial = NULL;
	ps->depth++;
	ps->pos++;
	return true;
}

/* Moves the frame's items from the stack into its partial container. */
static bool spill(struct parser *ps, struct frame *f)
{
	size_t n = ps->sp - f->base;

	if (!f->partial) {
		f->partial = f->kind == RV_ARRAY ? rv_array_new(n) : rv_object_new(n / 2);
		if (!f->partial)
			return fail_oom(ps);
	}
	if (f->kind == RV_ARRAY) {
		for (size_t i = 0; i < n; i++) {
			struct rv *item = ps->stack[f->base + i];

			ps->stack[f->base + i] = NULL;
			if (rv_array_push(f->partial, item) < 0) {
				for (size_t j = i + 1; j < n; j++)
					rv_unref(ps->stack[f->base + j]);
				ps->sp = f->base;
				return fail_oom(ps);
			}
		}
	} else {
		size_t before = rv_len(f->partial);

		for (size_t i = 0; i + 1 < n; i += 2) {
			struct rv *key = ps->stack[f->base + i];
			struct rv *value = ps->stack[f->base + i + 1];

			if (rv_object_put(f->partial, key, value) < 0) {
				for (size_t j = i + 2; j < n; j++)
					rv_unref(ps->stack[f->base + j]);
				ps->sp = f->base;
				return fail_oom(ps);
			}
		}
		/* A duplicate key freed the value it replaced. */
		if (rv_len(f->partial) < before + n / 2)
			ps->no_cache = true;
	}
	ps->sp = f->base;
	return true;
}

/* Finishes a container whose items were spilled; the array gives back the
 * capacity it grew by doubling. */
static struct rv *close_partial(struct parser *ps, struct frame *f)
{
	struct rv *v;

	if (ps->sp > f->base && !spill(ps, f))
		return NULL;
	v = f->partial;
	f->partial = NULL;
	if (v->kind == RV_ARRAY && v->u.arr.cap > v->u.arr.len) {
		struct rv **items = rv_mem_realloc(v->u.arr.items,
						   v->u.arr.cap * sizeof(struct rv *),
						   v->u.arr.len * sizeof(struct rv *));

		if (items) {
			v->u.arr.items = items;
			v->u.arr.cap = v->u.arr.len;
		}
	}
	return v;
}

/* Builds the array from the stack with its items right after the struct,
 * since a parsed array usually never grows. */
static struct rv *close_array(struct parser *ps, size_t base)
{
	size_t n = ps->sp - base;
	struct rv *v;

	v = rv_alloc_value(RV_ARRAY, n * sizeof(struct rv *));
	if (!v)
		return NULL;
	RV_FLAGS(v) |= RVF_INLINE_ITEMS;
	v->u.arr.items = (struct rv **)(v + 1);
	v->u.arr.len = n;
	v->u.arr.cap = n;
	if (n)
		memcpy(v->u.arr.items, ps->stack + base, n * sizeof(struct rv *));
	ps->sp = base;
	return v;
}

/* The shape for the keys at stack[base], stride 2: from the cache when the
 * same key values came before (keys are shared strings, so comparing
 * pointers is enough), else a new one. NULL for duplicate keys or no
 * memory, and the caller then builds an ordinary map. */
static struct rv_shape *shape_for(struct parser *ps, size_t base, size_t n)
{
	struct rv *keys[RV_SHAPE_MAX_KEYS];
	uint64_t h = 0x5348415045ULL + n;
	struct rv_shape **slot, *shape;

	if (n > RV_SHAPE_MAX_KEYS)
		return NULL;
	if (!ps->shapes) {
		ps->shapes = calloc(SHAPE_SLOTS, sizeof(*ps->shapes));
		if (!ps->shapes)
			return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		keys[i] = ps->stack[base + 2 * i];
		h = rv_mix64(h ^ (uint64_t)(uintptr_t)keys[i]);
	}
	slot = &ps->shapes[h & (SHAPE_SLOTS - 1)];
	shape = *slot;
	if (shape && shape->len == n && shape->refs < INTERN_MAX_REFS &&
	    memcmp(shape->keys, keys, n * sizeof(keys[0])) == 0)
		return shape;

	shape = rv_shape_new(keys, n);
	if (!shape)
		return NULL;
	rv_shape_unref(*slot);
	*slot = shape;
	return shape;
}

/* Duplicate keys: the last value wins, as with Go's decoder. */
static struct rv *close_object(struct parser *ps, size_t base)
{
	size_t n = (ps->sp - base) / 2;
	struct rv_shape *shape = shape_for(ps, base, n);
	struct rv *v;
	size_t i;

	if (shape) {
		struct rv *values[RV_SHAPE_MAX_KEYS];

		for (i = 0; i < n; i++)
			values[i] = ps->stack[base + 2 * i + 1];
		v = rv_object_new_shaped(shape, values);
		if (!v)
			return NULL;
		/* The shape holds its own references to the keys. */
		for (i = 0; i < n; i++)
			rv_unref(ps->stack[base + 2 * i]);
		ps->sp = base;
		return v;
	}

	v = rv_map_new_inline(RV_OBJECT, n);
	if (!v)
		return NULL;
	for (i = 0; i < n; i++) {
		struct rv *key = ps->stack[base + 2 * i];
		struct rv *value = ps->stack[base + 2 * i + 1];

		ps->stack[base + 2 * i] = NULL;
		ps->stack[base + 2 * i + 1] = NULL;
		if (rv_object_put(v, key, value) < 0) {
			rv_unref(v);
			v = NULL;
			break;
		}
	}
	/* Replaced values were freed and may still sit in a cache. */
	if (!v || rv_len(v) < n)
		ps->no_cache = true;
	for (; i < n; i++) {
		rv_unref(ps->stack[base + 2 * i]);
		rv_unref(ps->stack[base + 2 * i + 1]);
	}
	ps->sp = base;
	return v;
}

static bool read_key(struct parser *ps)
{
	struct rv *key;

	skip_ws(ps);
	if (ps->pos >= ps->len || ps->p[ps->pos] != '"')
		return fail(ps, "expected string key");
	if (!read_string(ps, &key))
		return false;
	if (!push(ps, key))
		return false;
	skip_ws(ps);
	if (ps->pos >= ps->len || ps->p[ps->pos] != ':')
		return fail(ps, "expected ':'");
	ps->pos++;
	return true;
}

/* Drops the pages of a mapped file already parsed, so that the text and the
 * values are not both resident. Parsed strings are copies, and a page read
 * again would come back from the file. */
static void release_read(struct parser *ps)
{
	uintptr_t base = (uintptr_t)ps->p;
	uintptr_t from = (base + ps->released + 4095) & ~(uintptr_t)4095;
	uintptr_t to = (base + ps->pos) & ~(uintptr_t)4095;

	if (to > from)
		(void)madvise((void *)from, to - from, MADV_DONTNEED);
	ps->released = ps->pos;
}

/* Reads one value at the top level or inside containers; loops instead of
 * recursing, so only max_depth bounds nesting. */
static bool parse(struct parser *ps)
{
	for (;;) {
		if (ps->mapped && ps->pos - ps->released >= RELEASE_STEP)
			release_read(ps);

		/* A value is expected here. */
		skip_ws(ps);
		if (ps->pos >= ps->len)
			return fail(ps, "unexpected end of input");

		switch (ps->p[ps->pos]) {
		case '{':
			if (!open_frame(ps, RV_OBJECT))
				return false;
			skip_ws(ps);
			if (ps->pos < ps->len && ps->p[ps->pos] == '}')
				break;
			if (!read_key(ps))
				return false;
			continue;
		case '[':
			if (!open_frame(ps, RV_ARRAY))
				return false;
			skip_ws(ps);
			if (ps->pos < ps->len && ps->p[ps->pos] == ']')
				break;
			continue;
		case '"': {
			struct rv *s;

			if (!read_string(ps, &s) || !push(ps, s))
				return false;
			break;
		}
		case 't':
			if (!read_literal(ps, "true", rv_bool(true)))
				return false;
			break;
		case 'f':
			if (!read_literal(ps, "false", rv_bool(false)))
				return false;
			break;
		case 'n':
			if (!read_literal(ps, "null", rv_null()))
				return false;
			break;
		default:
			if (ps->p[ps->pos] != '-' && (ps->p[ps->pos] < '0' || ps->p[ps->pos] > '9'))
				return fail(ps, "expected a value");
			if (!read_number(ps))
				return false;
			break;
		}

		/* A value was completed (or an empty container is about to
		 * close): close containers until one wants more. */
		for (;;) {
			struct frame *f;
			unsigned char c;
			struct rv *done;

			if (ps->depth == 0)
				return true;
			f = &ps->frames[ps->depth - 1];
			skip_ws(ps);
			if (ps->pos >= ps->len)
				return fail(ps, "unexpected end of input");
			c = ps->p[ps->pos];

			if (c == ',' && (ps->sp > f->base || f->partial)) {
				if (ps->sp - f->base >= SPILL_ITEMS && !spill(ps, f))
					return false;
				ps->pos++;
				if (f->kind == RV_OBJECT && !read_key(ps))
					return false;
				break;
			}
			if (f->partial && (c == ']' || c == '}') &&
			    c == (f->kind == RV_ARRAY ? ']' : '}')) {
				done = close_partial(ps, f);
				if (!done)
					return false;
			} else if (f->kind == RV_ARRAY && c == ']') {
				done = close_array(ps, f->base);
			} else if (f->kind == RV_OBJECT && c == '}') {
				done = close_object(ps, f->base);
			} else {
				return fail(ps, f->kind == RV_ARRAY ? "expected ',' or ']'"
								    : "expected ',' or '}'");
			}
			ps->pos++;
			ps->depth--;
			if (!push(ps, done))
				return false;
		}
	}
}

static struct rv *parse_text(const char *text, size_t len, size_t max_depth, bool mapped,
			     struct wd_buf *err)
{
	struct parser ps = {
		.p = (const unsigned char *)text,
		.len = len,
		.max_depth = max_depth ? max_depth : JSON_DEFAULT_DEPTH,
		.mapped = mapped,
	};
	struct rv *result = NULL;
	bool ok;

	if (!text) {
		ps.len = 0;
		ps.p = (const unsigned char *)"";
	}

	/* Large documents go to arena chunks. A small request body would only
	 * map a chunk to use a page of it. */
	if (len >= ARENA_MIN_INPUT)
		rv_arena_begin();
	ok = parse(&ps);
	if (len >= ARENA_MIN_INPUT)
		rv_arena_end();

	if (ok) {
		skip_ws(&ps);
		if (ps.pos != ps.len)
			fail(&ps, "unexpected data after the value");
		else
			result = ps.stack[--ps.sp];
	}

	/* A message that does not fit the caller's buffer is left out, and the
	 * NULL result still tells the failure. */
	if (!result && err) {
		int rc;

		if (ps.oom)
			rc = wd_buf_append_str(err, "out of memory parsing JSON");
		else
			rc = wd_buf_appendf(err, "invalid JSON at byte %zu: %s", ps.err_pos,
					    ps.msg ? ps.msg : "syntax error");
		(void)rc;
	}

	for (size_t i = 0; i < ps.sp; i++)
		rv_unref(ps.stack[i]);
	for (size_t i = 0; i < ps.depth; i++)
		rv_unref(ps.frames[i].partial);
	free(ps.intern);
	free(ps.numbers);
	if (ps.shapes) {
		for (size_t i = 0; i < SHAPE_SLOTS; i++)
			rv_shape_unref(ps.shapes[i]);
	}
	free(ps.shapes);
	free(ps.stack);
	free(ps.frames);
	free(ps.scratch);
	return result;
}

struct rv *rv_parse_json(const char *text, size_t len, size_t max_depth, struct wd_buf *err)
{
	return parse_text(text, len, max_depth, false, err);
}

static struct rv *parse_stream(int fd, size_t max_bytes, size_t max_depth, struct wd_buf *err)
{
	struct wd_buf text;
	struct rv *v = NULL;
	char chunk[65536];
	int rc = 0;

	wd_buf_init(&text, sizeof(chunk), max_bytes);
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0) {
			rc = WD_EIO;
			break;
		}
		if (n == 0)
			break;
		rc = wd_buf_append(&text, chunk, (size_t)n);
		if (rc < 0)
			break;
	}
	if (rc == WD_ETOOBIG)
		rc = wd_buf_appendf(err, "JSON document larger than %zu bytes", max_bytes);
	else if (rc < 0)
		rc = wd_buf_append_str(err, "cannot read JSON document");
	else
		v = parse_text((const char *)wd_buf_str(&text), wd_buf_len(&text), max_depth, false,
			       err);
	(void)rc;
	wd_buf_free(&text);
	return v;
}

struct rv *rv_parse_json_fd(int fd, size_t max_bytes, size_t max_depth, struct wd_buf *err)
{
	struct wd_buf scratch;
	struct stat st;
	struct rv *v;
	void *map;
	int rc;

	if (!err) {
		wd_buf_init(&scratch, 0, 0);
		err = &scratch;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
		return parse_stream(fd, max_bytes, max_depth, err);
	if ((uint64_t)st.st_size > max_bytes) {
		rc = wd_buf_appendf(err, "JSON document larger than %zu bytes", max_bytes);
		(void)rc;
		return NULL;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return parse_stream(fd, max_bytes, max_depth, err);
	(void)madvise(map, (size_t)st.st_size, MADV_SEQUENTIAL);
	v = parse_text(map, (size_t)st.st_size, max_depth, true, err);
	munmap(map, (size_t)st.st_size);
	return v;
}
