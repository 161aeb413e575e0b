/* The bump allocator behind every Rego syntax tree: nodes and strings come
 * from large chunks freed in one step, with a ceiling on the total. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "policy/ast.h"

/* Most modules fit in one chunk; larger requests get a chunk of their own. */
#define CHUNK_BYTES (64u * 1024u)
/* A parse of the largest accepted module stays far below this. */
#define ARENA_MAX_BYTES ((size_t)1 << 30)
#define ALIGN 16u

struct chunk {
	struct chunk *next;
	size_t used;
	size_t cap;
	_Alignas(16) unsigned char data[];
};

struct rego_arena {
	struct chunk *head;
	size_t total;
	/* Frozen values referenced by the tree, released with the arena. */
	struct rv **values;
	size_t values_len;
	size_t values_cap;
};

struct rego_arena *rego_arena_new(void)
{
	return calloc(1, sizeof(struct rego_arena));
}

void rego_arena_free(struct rego_arena *arena)
{
	struct chunk *c;

	if (!arena)
		return;
	for (size_t i = 0; i < arena->values_len; i++)
		rv_free_frozen(arena->values[i]);
	free(arena->values);
	c = arena->head;
	while (c) {
		struct chunk *next = c->next;

		free(c);
		c = next;
	}
	free(arena);
}

static struct chunk *chunk_new(struct rego_arena *arena, size_t need)
{
	struct chunk *c;
	size_t cap = need > CHUNK_BYTES ? need : CHUNK_BYTES;
	size_t bytes;

	if (__builtin_add_overflow(cap, sizeof(struct chunk), &bytes))
		return NULL;
	if (arena->total > ARENA_MAX_BYTES || bytes > ARENA_MAX_BYTES - arena->total)
		return NULL;
	c = malloc(bytes);
	if (!c)
		return NULL;
	c->used = 0;
	c->cap = cap;
	c->next = arena->head;
	arena->head = c;
	arena->total += bytes;
	return c;
}

void *rego_arena_alloc(struct rego_arena *arena, size_t size)
{
	struct chunk *c;
	size_t rounded;
	void *p;

	if (!arena)
		return NULL;
	if (size == 0)
		size = 1;
	if (__builtin_add_overflow(size, ALIGN - 1, &rounded))
		return NULL;
	rounded &= ~(size_t)(ALIGN - 1);

	c = arena->head;
	if (!c || c->cap - c->used < rounded) {
		c = chunk_new(arena, rounded);
		if (!c)
			return NULL;
	}
	p = c->data + c->used;
	c->used += rounded;
	memset(p, 0, size);
	return p;
}

char *rego_arena_strndup(struct rego_arena *arena, const char *s, size_t len)
{
	char *p;

	if (len == SIZE_MAX)
		return NULL;
	p = rego_arena_alloc(arena, len + 1);
	if (!p)
		return NULL;
	if (len)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

struct rv *rego_arena_keep_value(struct rego_arena *arena, struct rv *v)
{
	if (!v)
		return NULL;
	/* null and the booleans are shared singletons, never freed. */
	if (v->kind == RV_NULL || v->kind == RV_BOOL)
		return v;
	if (arena->values_len == arena->values_cap) {
		size_t cap = arena->values_cap ? arena->values_cap * 2 : 64;
		struct rv **grown = wd_reallocarray(arena->values, cap, sizeof(*grown));

		if (!grown) {
			rv_unref(v);
			return NULL;
		}
		arena->values = grown;
		arena->values_cap = cap;
	}
	rv_freeze(v);
	arena->values[arena->values_len++] = v;
	return v;
}
