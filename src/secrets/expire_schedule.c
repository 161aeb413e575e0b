/* The in-memory schedule of the expiration manager. A binary min-heap of
 * (due time, lease id) serves the tick. A hash table from lease id to the
 * same entries lets renewals and revocations move or drop an entry in
 * O(log n). expire_restore rebuilds it from the barrier after each unseal. */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "secrets/expire_internal.h"

struct entry {
	char *lease_id;
	int64_t due;          /* Unix seconds */
	bool irrevocable;
	size_t heap_index;
	struct entry *next;   /* hash chain */
};

struct expire_schedule {
	struct entry **heap;
	size_t count;
	size_t heap_cap;
	struct entry **buckets;   /* bucket_count is a power of two */
	size_t bucket_count;
	size_t irrevocable_count;
};

#define INITIAL_BUCKETS 64

/* FNV-1a, 64 bits. */
static uint64_t hash_id(const char *id)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const unsigned char *c = (const unsigned char *)id; *c; c++) {
		h ^= *c;
		h *= 0x100000001b3ULL;
	}
	return h;
}

int expire_schedule_new(struct expire_schedule **ret_schedule)
{
	struct expire_schedule *schedule = calloc(1, sizeof(*schedule));

	*ret_schedule = NULL;
	if (!schedule)
		return WD_ENOMEM;
	schedule->buckets = wd_calloc(INITIAL_BUCKETS, sizeof(*schedule->buckets));
	if (!schedule->buckets) {
		free(schedule);
		return WD_ENOMEM;
	}
	schedule->bucket_count = INITIAL_BUCKETS;
	*ret_schedule = schedule;
	return 0;
}

void expire_schedule_clear(struct expire_schedule *schedule)
{
	for (size_t i = 0; i < schedule->count; i++) {
		free(schedule->heap[i]->lease_id);
		free(schedule->heap[i]);
	}
	schedule->count = 0;
	schedule->irrevocable_count = 0;
	memset(schedule->buckets, 0, schedule->bucket_count * sizeof(*schedule->buckets));
}

void expire_schedule_free(struct expire_schedule *schedule)
{
	if (!schedule)
		return;
	expire_schedule_clear(schedule);
	free(schedule->heap);
	free(schedule->buckets);
	free(schedule);
}

static struct entry *find(const struct expire_schedule *schedule, const char *lease_id)
{
	size_t bucket = hash_id(lease_id) & (schedule->bucket_count - 1);

	for (struct entry *e = schedule->buckets[bucket]; e; e = e->next)
		if (strcmp(e->lease_id, lease_id) == 0)
			return e;
	return NULL;
}

/* Doubles the table when it contains more entries than buckets. A failed
 * growth only makes chains longer, so it is not an error. */
static void maybe_grow_buckets(struct expire_schedule *schedule)
{
	size_t count = schedule->bucket_count * 2;
	struct entry **buckets;

	if (schedule->count < schedule->bucket_count)
		return;
	buckets = wd_calloc(count, sizeof(*buckets));
	if (!buckets)
		return;

	for (size_t i = 0; i < schedule->count; i++) {
		struct entry *e = schedule->heap[i];
		size_t bucket = hash_id(e->lease_id) & (count - 1);

		e->next = buckets[bucket];
		buckets[bucket] = e;
	}
	free(schedule->buckets);
	schedule->buckets = buckets;
	schedule->bucket_count = count;
}

static void unlink_bucket(struct expire_schedule *schedule, struct entry *target)
{
	size_t bucket = hash_id(target->lease_id) & (schedule->bucket_count - 1);

	for (struct entry **link = &schedule->buckets[bucket]; *link; link = &(*link)->next) {
		if (*link == target) {
			*link = target->next;
			return;
		}
	}
}

static bool before(const struct entry *a, const struct entry *b)
{
	if (a->due != b->due)
		return a->due < b->due;
	return strcmp(a->lease_id, b->lease_id) < 0;
}

static void place(struct expire_schedule *schedule, struct entry *e, size_t index)
{
	schedule->heap[index] = e;
	e->heap_index = index;
}

static void sift_up(struct expire_schedule *schedule, size_t index)
{
	struct entry *e = schedule->heap[index];

	while (index > 0) {
		size_t parent = (index - 1) / 2;

		if (!before(e, schedule->heap[parent]))
			break;
		place(schedule, schedule->heap[parent], index);
		index = parent;
	}
	place(schedule, e, index);
}

static void sift_down(struct expire_schedule *schedule, size_t index)
{
	struct entry *e = schedule->heap[index];

	for (;;) {
		size_t child = 2 * index + 1;

		if (child >= schedule->count)
			break;
		if (child + 1 < schedule->count &&
			before(schedule->heap[child + 1], schedule->heap[child]))
			child++;
		if (!before(schedule->heap[child], e))
			break;
		place(schedule, schedule->heap[child], index);
		index = child;
	}
	place(schedule, e, index);
}

static void set_irrevocable(struct expire_schedule *schedule, struct entry *e, bool irrevocable)
{
	if (e->irrevocable == irrevocable)
		return;
	e->irrevocable = irrevocable;
	if (irrevocable)
		schedule->irrevocable_count++;
	else
		schedule->irrevocable_count--;
}

static int insert(struct expire_schedule *schedule, const char *lease_id, int64_t due,
	bool irrevocable)
{
	struct entry *e;
	size_t bucket;

	if (schedule->count == schedule->heap_cap) {
		size_t cap = schedule->heap_cap ? 2 * schedule->heap_cap : 64;
		struct entry **grown = wd_reallocarray(schedule->heap, cap, sizeof(*grown));

		if (!grown)
			return WD_ENOMEM;
		schedule->heap = grown;
		schedule->heap_cap = cap;
	}

	e = calloc(1, sizeof(*e));
	if (!e)
		return WD_ENOMEM;
	e->lease_id = wd_strdup(lease_id);
	if (!e->lease_id) {
		free(e);
		return WD_ENOMEM;
	}
	e->due = due;

	bucket = hash_id(lease_id) & (schedule->bucket_count - 1);
	e->next = schedule->buckets[bucket];
	schedule->buckets[bucket] = e;
	schedule->heap[schedule->count] = e;
	e->heap_index = schedule->count;
	schedule->count++;
	set_irrevocable(schedule, e, irrevocable);
	sift_up(schedule, e->heap_index);
	maybe_grow_buckets(schedule);
	return 0;
}

int expire_schedule_set(struct expire_schedule *schedule, const char *lease_id, int64_t due,
	bool irrevocable)
{
	struct entry *e = find(schedule, lease_id);

	if (!e)
		return insert(schedule, lease_id, due, irrevocable);

	set_irrevocable(schedule, e, irrevocable);
	e->due = due;
	sift_up(schedule, e->heap_index);
	sift_down(schedule, e->heap_index);
	return 0;
}

void expire_schedule_remove(struct expire_schedule *schedule, const char *lease_id)
{
	struct entry *e = find(schedule, lease_id);
	size_t index;
	struct entry *last;

	if (!e)
		return;
	unlink_bucket(schedule, e);
	set_irrevocable(schedule, e, false);

	/* Move the last entry into the hole and restore the heap order in
	 * whichever direction it is broken. */
	index = e->heap_index;
	last = schedule->heap[--schedule->count];
	if (last != e) {
		place(schedule, last, index);
		sift_up(schedule, index);
		sift_down(schedule, last->heap_index);
	}
	free(e->lease_id);
	free(e);
}

const char *expire_schedule_first(const struct expire_schedule *schedule, int64_t *ret_due)
{
	*ret_due = 0;
	if (schedule->count == 0)
		return NULL;
	*ret_due = schedule->heap[0]->due;
	return schedule->heap[0]->lease_id;
}

bool expire_schedule_find(const struct expire_schedule *schedule, const char *lease_id,
	int64_t *ret_due)
{
	const struct entry *e = find(schedule, lease_id);

	if (ret_due)
		*ret_due = e ? e->due : 0;
	return e != NULL;
}

size_t expire_schedule_count(const struct expire_schedule *schedule)
{
	return schedule->count;
}

size_t expire_schedule_irrevocable_count(const struct expire_schedule *schedule)
{
	return schedule->irrevocable_count;
}

int expire_schedule_each_irrevocable(const struct expire_schedule *schedule,
	expire_lease_fn on_lease, void *context)
{
	for (size_t i = 0; i < schedule->count; i++) {
		int rc;

		if (!schedule->heap[i]->irrevocable)
			continue;
		rc = on_lease(context, schedule->heap[i]->lease_id);
		if (rc < 0)
			return rc;
	}
	return 0;
}
