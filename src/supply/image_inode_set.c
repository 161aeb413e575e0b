/* A set of inode numbers with a ceiling: the entries one layer created,
 * which an opaque whiteout later in the same layer keeps. */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "supply/image_internal.h"

void image_inode_set_init(struct image_inode_set *set, size_t max)
{
	memset(set, 0, sizeof(*set));
	set->max = max;
}

void image_inode_set_clear(struct image_inode_set *set)
{
	if (set->slots)
		memset(set->slots, 0, set->cap * sizeof(set->slots[0]));
	set->count = 0;
	set->has_zero = false;
}

void image_inode_set_free(struct image_inode_set *set)
{
	if (!set)
		return;
	free(set->slots);
	set->slots = NULL;
	set->count = set->cap = 0;
	set->has_zero = false;
}

/* A 64-bit mix (the finalizer of MurmurHash3), so that the sequential
 * inode numbers of one file system spread over the slots. */
static size_t slot_of(uint64_t ino, size_t cap)
{
	ino ^= ino >> 33;
	ino *= 0xff51afd7ed558ccdull;
	ino ^= ino >> 33;
	return (size_t)(ino & (cap - 1));
}

static void insert(uint64_t *slots, size_t cap, uint64_t ino)
{
	size_t i = slot_of(ino, cap);

	while (slots[i] != 0 && slots[i] != ino)
		i = (i + 1) & (cap - 1);
	slots[i] = ino;
}

bool image_inode_set_contains(const struct image_inode_set *set, uint64_t ino)
{
	size_t i;

	if (ino == 0)
		return set->has_zero;
	if (!set->slots)
		return false;
	for (i = slot_of(ino, set->cap); set->slots[i] != 0; i = (i + 1) & (set->cap - 1)) {
		if (set->slots[i] == ino)
			return true;
	}
	return false;
}

/* Doubles the table (a power of two, kept at most half full). */
static int grow(struct image_inode_set *set, struct wd_error *err)
{
	size_t cap = set->cap ? set->cap * 2 : 1024;
	uint64_t *slots;

	if (cap < set->cap)
		return wd_error_set(err, WD_ENOMEM, "inode set too large");
	slots = wd_calloc(cap, sizeof(slots[0]));
	if (!slots)
		return wd_error_set(err, WD_ENOMEM, "out of memory for %zu inode numbers", cap);
	for (size_t i = 0; i < set->cap; i++) {
		if (set->slots[i] != 0)
			insert(slots, cap, set->slots[i]);
	}
	free(set->slots);
	set->slots = slots;
	set->cap = cap;
	return 0;
}

int image_inode_set_add(struct image_inode_set *set, uint64_t ino, struct wd_error *err)
{
	if (image_inode_set_contains(set, ino))
		return 0;
	if (set->count >= set->max)
		return wd_error_set(err, WD_ETOOBIG, "more than %zu entries in one layer", set->max);
	if (ino == 0) {
		set->has_zero = true;
		set->count++;
		return 0;
	}
	if ((set->count + 1) * 2 > set->cap)
		WD_TRY(grow(set, err));
	insert(set->slots, set->cap, ino);
	set->count++;
	return 0;
}
