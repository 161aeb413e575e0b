/* The OSV database: records held in one arena, an index from (ecosystem,
 * package name) to their affected entries, a table of ids so the latest
 * version of a record wins, and the problems found while loading. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/alloc.h"
#include "common/random.h"
#include "common/time.h"
#include "supply/osv_internal.h"

/* An index key: the ecosystem without its release, and the package name
 * (normalized for PyPI). Both point into the arena. */
struct index_slot {
	uint64_t hash;
	const char *base;
	size_t base_len;
	const char *name;
	struct osv_affected *head;
	struct osv_affected *tail;
};

struct id_slot {
	uint64_t hash;
	struct osv_record *record;
};

struct osv_db {
	struct osv_arena arena;
	struct osv_json json;
	unsigned char hash_key[crypto_shorthash_KEYBYTES];
	struct index_slot *slots;
	size_t slot_cap;  /* a power of two */
	size_t slot_used;
	struct id_slot *ids;
	size_t id_cap;    /* a power of two */
	size_t id_used;
	struct osv_db_stats stats;
	struct osv_problem *problems;
	size_t problem_count;
	size_t problem_total;
	struct osv_arena *adopted;  /* the arenas of the loader's threads */
	size_t adopted_count;
};

int osv_db_new(struct osv_db **ret_db, struct wd_error *err)
{
	struct osv_db *db;

	*ret_db = NULL;
	db = calloc(1, sizeof(*db));
	if (!db)
		return wd_error_set(err, WD_ENOMEM, "out of memory for the OSV database");
	osv_arena_init(&db->arena, OSV_MAX_DB_BYTES);
	osv_json_init(&db->json, OSV_MAX_TOKENS, OSV_MAX_DEPTH);
	if (wd_random_bytes(db->hash_key, sizeof(db->hash_key)) < 0) {
		free(db);
		return wd_error_set(err, WD_EINTERNAL, "random bytes for the index key failed");
	}
	*ret_db = db;
	return 0;
}

void osv_db_free(struct osv_db *db)
{
	if (!db)
		return;
	for (size_t i = 0; i < db->problem_count; i++) {
		free((char *)db->problems[i].path);
		free((char *)db->problems[i].message);
	}
	free(db->problems);
	free(db->slots);
	free(db->ids);
	osv_json_free(&db->json);
	osv_arena_free(&db->arena);
	for (size_t i = 0; i < db->adopted_count; i++)
		osv_arena_free(&db->adopted[i]);
	free(db->adopted);
	free(db);
}

const struct osv_db_stats *osv_db_stats(const struct osv_db *db)
{
	return &db->stats;
}

size_t osv_db_problem_count(const struct osv_db *db)
{
	return db->problem_count;
}

const struct osv_problem *osv_db_problem(const struct osv_db *db, size_t index)
{
	return index < db->problem_count ? &db->problems[index] : NULL;
}

size_t osv_db_problem_total(const struct osv_db *db)
{
	return db->problem_total;
}

static int compare_problems(const void *left, const void *right)
{
	const struct osv_problem *a = left, *b = right;
	int order = strcmp(a->path, b->path);

	return order ? order : strcmp(a->message, b->message);
}

void osv_db_sort_problems(struct osv_db *db)
{
	if (db->problem_count > 1)
		qsort(db->problems, db->problem_count, sizeof(*db->problems), compare_problems);
}

/* Records a problem; past OSV_MAX_PROBLEMS only the total grows. */
static int add_problem(struct osv_db *db, const char *path, const char *message, bool skipped,
	struct wd_error *err)
{
	struct osv_problem *problem;

	db->problem_total++;
	if (db->problem_count >= OSV_MAX_PROBLEMS)
		return 0;
	if (db->problem_count == 0) {
		db->problems = calloc(OSV_MAX_PROBLEMS, sizeof(*db->problems));
		if (!db->problems)
			return wd_error_set(err, WD_ENOMEM, "out of memory for the problems");
	}
	problem = &db->problems[db->problem_count];
	problem->path = strdup(path);
	problem->message = strdup(message);
	problem->skipped = skipped;
	if (!problem->path || !problem->message) {
		free((char *)problem->path);
		free((char *)problem->message);
		return wd_error_set(err, WD_ENOMEM, "out of memory for the problems");
	}
	db->problem_count++;
	return 0;
}

int osv_pypi_normalize(const char *name, char *out, size_t size)
{
	size_t n = 0;

	for (const char *p = name; *p;) {
		if (*p == '-' || *p == '_' || *p == '.') {
			while (*p == '-' || *p == '_' || *p == '.')
				p++;
			if (n + 1 >= size)
				return -1;
			out[n++] = '-';
			continue;
		}
		if (n + 1 >= size)
			return -1;
		out[n++] = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
		p++;
	}
	if (size == 0)
		return -1;
	out[n] = '\0';
	return (int)n;
}

static uint64_t hash_bytes(const struct osv_db *db, const void *data, size_t len)
{
	unsigned char out[crypto_shorthash_BYTES];
	uint64_t hash;

	crypto_shorthash(out, data, len, db->hash_key);
	memcpy(&hash, out, sizeof(hash));
	return hash;
}

/* Hashes the key from keyed hashes of its two parts, so no buffer joins
 * them, and ("ab", "c") and ("a", "bc") still hash apart. */
static uint64_t hash_key(const struct osv_db *db, const char *base, size_t base_len,
	const char *name)
{
	uint64_t base_hash = hash_bytes(db, base, base_len);

	return (base_hash * 0x9e3779b97f4a7c15u) ^ hash_bytes(db, name, strlen(name));
}

static bool slot_matches(const struct index_slot *slot, uint64_t hash, const char *base,
	size_t base_len, const char *name)
{
	return slot->hash == hash && slot->base_len == base_len &&
	       !memcmp(slot->base, base, base_len) && !strcmp(slot->name, name);
}

/* Returns the slot of the key, or the empty slot where it belongs. */
static struct index_slot *find_slot(struct index_slot *slots, size_t cap, uint64_t hash,
	const char *base, size_t base_len, const char *name)
{
	size_t mask = cap - 1;

	for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
		if (!slots[i].base || slot_matches(&slots[i], hash, base, base_len, name))
			return &slots[i];
	}
}

static int grow_index(struct osv_db *db, struct wd_error *err)
{
	size_t cap = db->slot_cap ? db->slot_cap * 2 : 1024;
	struct index_slot *slots = wd_calloc(cap, sizeof(*slots));

	if (!slots)
		return wd_error_set(err, WD_ENOMEM, "out of memory for the OSV index");
	for (size_t i = 0; i < db->slot_cap; i++) {
		const struct index_slot *old = &db->slots[i];

		if (old->base)
			*find_slot(slots, cap, old->hash, old->base, old->base_len, old->name) = *old;
	}
	free(db->slots);
	db->slots = slots;
	db->slot_cap = cap;
	return 0;
}

static size_t base_length(const char *ecosystem)
{
	return strcspn(ecosystem, ":");
}

static bool is_pypi(const char *base, size_t base_len)
{
	return base_len == 4 && !memcmp(base, "PyPI", 4);
}

static int index_affected(struct osv_db *db, struct osv_affected *affected,
	struct wd_error *err)
{
	const char *base = affected->ecosystem;
	size_t base_len = base_length(base);
	const char *name = affected->name;
	struct index_slot *slot;
	uint64_t hash;

	if (is_pypi(base, base_len)) {
		size_t size = strlen(name) + 1;
		char *normal = osv_arena_alloc(&db->arena, size);

		if (!normal || osv_pypi_normalize(name, normal, size) < 0)
			return wd_error_set(err, WD_ENOMEM, "out of memory for the OSV index");
		name = normal;
	}
	if ((db->slot_used + 1) * 2 > db->slot_cap)
		WD_TRY(grow_index(db, err));

	hash = hash_key(db, base, base_len, name);
	slot = find_slot(db->slots, db->slot_cap, hash, base, base_len, name);
	if (!slot->base) {
		*slot = (struct index_slot){
			.hash = hash, .base = base, .base_len = base_len, .name = name,
		};
		db->slot_used++;
	}
	if (slot->tail)
		slot->tail->next = affected;
	else
		slot->head = affected;
	slot->tail = affected;
	return 0;
}

const struct osv_affected *osv_db_lookup(const struct osv_db *db, const char *ecosystem_base,
	const char *name)
{
	size_t base_len = strlen(ecosystem_base);
	char normal[1024];
	uint64_t hash;

	if (!db->slot_cap)
		return NULL;
	if (is_pypi(ecosystem_base, base_len)) {
		if (osv_pypi_normalize(name, normal, sizeof(normal)) < 0)
			return NULL;
		name = normal;
	}
	hash = hash_key(db, ecosystem_base, base_len, name);
	return find_slot(db->slots, db->slot_cap, hash, ecosystem_base, base_len, name)->head;
}

/* Returns whether record a replaces b: a later "modified" time, or, at the
 * same time, the path that sorts first, so the outcome does not depend on
 * the order of the directory listing. */
static bool replaces(const struct osv_record *a, const struct osv_record *b)
{
	int64_t ta = 0, tb = 0;

	/* Both times were checked when the records were parsed. */
	if (wd_time_parse(a->modified, &ta, NULL) < 0 || wd_time_parse(b->modified, &tb, NULL) < 0)
		return false;
	if (ta != tb)
		return ta > tb;
	return strcmp(a->path, b->path) < 0;
}

static int grow_ids(struct osv_db *db, struct wd_error *err)
{
	size_t cap = db->id_cap ? db->id_cap * 2 : 1024;
	struct id_slot *ids = wd_calloc(cap, sizeof(*ids));

	if (!ids)
		return wd_error_set(err, WD_ENOMEM, "out of memory for the OSV ids");
	for (size_t i = 0; i < db->id_cap; i++) {
		size_t j;

		if (!db->ids[i].record)
			continue;
		for (j = (size_t)db->ids[i].hash & (cap - 1); ids[j].record; j = (j + 1) & (cap - 1))
			;
		ids[j] = db->ids[i];
	}
	free(db->ids);
	db->ids = ids;
	db->id_cap = cap;
	return 0;
}

/* Registers record under its id. When the id is known already, the older
 * record is marked superseded. */
static int register_id(struct osv_db *db, struct osv_record *record, struct wd_error *err)
{
	uint64_t hash = hash_bytes(db, record->id, strlen(record->id));
	size_t mask;
	size_t i;

	if ((db->id_used + 1) * 2 > db->id_cap)
		WD_TRY(grow_ids(db, err));
	mask = db->id_cap - 1;
	for (i = (size_t)hash & mask; db->ids[i].record; i = (i + 1) & mask) {
		struct osv_record *known = db->ids[i].record;

		if (db->ids[i].hash != hash || strcmp(known->id, record->id))
			continue;
		db->stats.superseded++;
		if (replaces(record, known)) {
			known->superseded = true;
			db->ids[i].record = record;
		} else {
			record->superseded = true;
		}
		return 0;
	}
	db->ids[i] = (struct id_slot){ .hash = hash, .record = record };
	db->id_used++;
	return 0;
}

int osv_record_read(struct osv_json *json, struct osv_arena *arena, const char *path,
	const void *data, size_t len, struct osv_record **ret_record, struct wd_error *err)
{
	struct osv_arena_mark mark = osv_arena_mark(arena);
	int rc;

	*ret_record = NULL;
	if (len > OSV_MAX_FILE_BYTES)
		return wd_error_set(err, WD_EINVAL, "larger than %u bytes", OSV_MAX_FILE_BYTES);
	rc = osv_json_parse(json, data, len, err);
	/* Too many values is a fault of this file, not of the database. */
	if (rc == WD_ETOOBIG)
		rc = WD_EINVAL;
	if (rc == 0)
		rc = osv_record_parse(json, path, arena, ret_record, err);
	if (rc < 0)
		osv_arena_rewind(arena, mark);
	return rc;
}

int osv_db_register(struct osv_db *db, struct osv_record *record, struct wd_error *err)
{
	if (db->stats.records >= OSV_MAX_RECORDS)
		return wd_error_set(err, WD_ETOOBIG, "more than %u OSV records", OSV_MAX_RECORDS);
	WD_TRY(register_id(db, record, err));

	db->stats.records++;
	db->stats.git_ranges += record->git_ranges;
	if (record->withdrawn)
		db->stats.withdrawn++;
	for (size_t i = 0; i < record->affected_count; i++) {
		struct osv_affected *affected = &record->affected[i];

		for (size_t j = 0; j < affected->range_count; j++) {
			if (!affected->ranges[j].problem)
				continue;
			db->stats.unusable_ranges++;
			WD_TRY(add_problem(db, record->path, affected->ranges[j].problem, false, err));
		}
		if (!affected->ecosystem)
			continue;
		if (!affected->has_scheme) {
			db->stats.other_ecosystems++;
			continue;
		}
		if (!record->withdrawn && !record->superseded)
			WD_TRY(index_affected(db, affected, err));
	}
	return 0;
}

int osv_db_add(struct osv_db *db, const char *path, const void *data, size_t len,
	struct wd_error *err)
{
	struct osv_record *record;
	int rc = osv_record_read(&db->json, &db->arena, path, data, len, &record, err);

	if (rc == WD_EINVAL) {
		char reason[sizeof(err->detail)];

		snprintf(reason, sizeof(reason), "%s", err ? err->detail : "");
		return wd_error_set(err, rc, "%s: %s", path, reason);
	}
	WD_TRY(rc);
	return osv_db_register(db, record, err);
}

int osv_db_skip_file(struct osv_db *db, const char *path, const char *reason,
	struct wd_error *err)
{
	db->stats.skipped++;
	return add_problem(db, path, reason, true, err);
}

void osv_db_count_file(struct osv_db *db)
{
	db->stats.files++;
}

int osv_db_adopt_arena(struct osv_db *db, struct osv_arena *arena, struct wd_error *err)
{
	struct osv_arena *grown = wd_reallocarray(db->adopted, db->adopted_count + 1,
		sizeof(*grown));

	if (!grown)
		return wd_error_set(err, WD_ENOMEM, "out of memory for the OSV database");
	db->adopted = grown;
	db->adopted[db->adopted_count++] = *arena;
	osv_arena_init(arena, arena->max);
	return 0;
}

size_t osv_db_arena_budget(const struct osv_db *db)
{
	return db->arena.max;
}
