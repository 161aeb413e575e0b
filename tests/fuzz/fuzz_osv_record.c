/* libFuzzer harness: parses arbitrary bytes as an OSV record, evaluates a
 * few versions against every affected entry of a record that loads (which
 * runs the range checks in each version order), and adds it to a
 * database, whose index and id table must take it. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "supply/osv.h"
#include "supply/osv_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const probes[] = { "0", "1.0.0", "1:2.3-4", "v1.2.3", "1.0rc1", "3.1.4-r5" };

static void evaluate(const struct osv_record *record)
{
	for (size_t i = 0; i < record->affected_count; i++) {
		const struct osv_affected *a = &record->affected[i];

		for (size_t v = 0; v < sizeof(probes) / sizeof(probes[0]); v++) {
			struct osv_verdict verdict;
			struct wd_error err = { 0 };

			if (osv_affected_check(a, probes[v], &verdict, &err) < 0 && !err.detail[0])
				__builtin_trap();
			if (verdict.fixed && !verdict.affected)
				__builtin_trap();
		}
		for (size_t r = 0; r < a->range_count; r++) {
			if (a->ranges[r].problem && a->ranges[r].usable)
				__builtin_trap();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct osv_json json;
	struct osv_arena arena;
	struct osv_record *record = NULL;
	struct osv_db *db = NULL;
	struct wd_error err = { 0 };
	int rc;

	osv_json_init(&json, OSV_MAX_TOKENS, OSV_MAX_DEPTH);
	osv_arena_init(&arena, (size_t)1 << 30);
	rc = osv_record_read(&json, &arena, "fuzz.json", data, size, &record, &err);
	/* Invariants: a failure has a detail; a record has an id, a time and
	 * entries that evaluate without crashing. */
	if (rc < 0 && !err.detail[0])
		__builtin_trap();
	if (rc == 0) {
		if (!record->id[0] || !record->modified)
			__builtin_trap();
		evaluate(record);
	}
	osv_json_free(&json);
	osv_arena_free(&arena);

	if (osv_db_new(&db, &err) < 0)
		return 0;
	err = (struct wd_error){ 0 };
	rc = osv_db_add(db, "fuzz.json", data, size, &err);
	if (rc == WD_EINVAL && strncmp(err.detail, "fuzz.json: ", 11))
		__builtin_trap();
	if (rc == 0 && osv_db_stats(db)->records != 1)
		__builtin_trap();
	osv_db_free(db);
	return 0;
}
