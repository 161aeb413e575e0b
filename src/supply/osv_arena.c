/* The bump allocator of OSV records: chunks of at least 1 MiB, each
 * allocation aligned to max_align_t, freed all at once. */
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "supply/osv_internal.h"

#define CHUNK_BYTES ((size_t)1 << 20)

struct osv_arena_chunk {
	struct osv_arena_chunk *prev;
	size_t size;  /* bytes of data */
	size_t used;
	alignas(max_align_t) unsigned char data[];
};

void osv_arena_init(struct osv_arena *arena, size_t max)
{
	*arena = (struct osv_arena){ .max = max };
}

void osv_arena_free(struct osv_arena *arena)
{
	struct osv_arena_chunk *chunk;

	if (!arena)
		return;
	chunk = arena->head;
	while (chunk) {
		struct osv_arena_chunk *prev = chunk->prev;

		free(chunk);
		chunk = prev;
	}
	arena->head = NULL;
	arena->total = 0;
}

static size_t align_up(size_t size)
{
	const size_t align = alignof(max_align_t);

	return (size + align - 1) & ~(align - 1);
}

static struct osv_arena_chunk *new_chunk(struct osv_arena *arena, size_t need)
{
	struct osv_arena_chunk *chunk;
	size_t size = need > CHUNK_BYTES ? need : CHUNK_BYTES;

	if (size > arena->max || arena->total > arena->max - size)
		return NULL;
	chunk = malloc(sizeof(*chunk) + size);
	if (!chunk)
		return NULL;
	chunk->prev = arena->head;
	chunk->size = size;
	chunk->used = 0;
	arena->head = chunk;
	arena->total += size;
	return chunk;
}

void *osv_arena_alloc(struct osv_arena *arena, size_t size)
{
	struct osv_arena_chunk *chunk = arena->head;
	size_t need;
	void *p;

	if (size > arena->max)
		return NULL;
	need = align_up(size ? size : 1);
	if (!chunk || chunk->size - chunk->used < need) {
		chunk = new_chunk(arena, need);
		if (!chunk)
			return NULL;
	}
	p = chunk->data + chunk->used;
	chunk->used += need;
	return p;
}

void *osv_arena_array(struct osv_arena *arena, size_t n, size_t size)
{
	size_t bytes;
	void *p;

	if (__builtin_mul_overflow(n, size, &bytes))
		return NULL;
	p = osv_arena_alloc(arena, bytes);
	if (p)
		memset(p, 0, bytes);
	return p;
}

struct osv_arena_mark osv_arena_mark(const struct osv_arena *arena)
{
	return (struct osv_arena_mark){
		.head = arena->head,
		.used = arena->head ? arena->head->used : 0,
	};
}

void osv_arena_rewind(struct osv_arena *arena, struct osv_arena_mark mark)
{
	while (arena->head && arena->head != mark.head) {
		struct osv_arena_chunk *prev = arena->head->prev;

		arena->total -= arena->head->size;
		free(arena->head);
		arena->head = prev;
	}
	if (arena->head)
		arena->head->used = mark.used;
}
