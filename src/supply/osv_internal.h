/* Internals of the OSV loader: the memory arena of the records, and the
 * JSON tokenizer that reads them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/macros.h"
#include "supply/osv.h"

/* A bump allocator: records are never freed one by one, so they live in
 * large chunks freed together with the database. */
struct osv_arena_chunk;

struct osv_arena {
	struct osv_arena_chunk *head;  /* the chunk allocations come from */
	size_t total;                  /* bytes of all chunks */
	size_t max;                    /* ceiling on total */
};

/* A position to rewind to, taken before a record that may turn out invalid. */
struct osv_arena_mark {
	struct osv_arena_chunk *head;
	size_t used;
};

void osv_arena_init(struct osv_arena *arena, size_t max);
void osv_arena_free(struct osv_arena *arena);

/* Returns size bytes aligned for any type, or NULL past the ceiling or when
 * memory runs out. The bytes are not zeroed. */
void *osv_arena_alloc(struct osv_arena *arena, size_t size);

/* Returns a zeroed array of n elements of size bytes, or NULL (also when
 * n * size overflows). */
void *osv_arena_array(struct osv_arena *arena, size_t n, size_t size);

struct osv_arena_mark osv_arena_mark(const struct osv_arena *arena);

/* Frees everything allocated since mark. */
void osv_arena_rewind(struct osv_arena *arena, struct osv_arena_mark mark);

/* Values in one record file. A file of OSV_MAX_FILE_BYTES could hold about
 * 16 million; an eighth of that is still far beyond any real record. */
#define OSV_MAX_TOKENS (2u * 1024 * 1024)

enum osv_json_type {
	OSV_JSON_NULL,
	OSV_JSON_FALSE,
	OSV_JSON_TRUE,
	OSV_JSON_NUMBER,
	OSV_JSON_STRING,
	OSV_JSON_ARRAY,
	OSV_JSON_OBJECT,
};

/* One JSON value. Tokens are stored in document order, so the children of
 * an array or object follow it, and an object's members alternate key and
 * value. */
struct osv_json_token {
	uint8_t type;       /* enum osv_json_type */
	bool escaped;       /* a string containing backslash escapes */
	uint32_t start;     /* offset of the text; for strings, after the quote */
	uint32_t len;       /* bytes of text; for strings, without the quotes */
	uint32_t count;     /* arrays: elements; objects: members */
	uint32_t next;      /* index of the first token after this value and its children */
};

/* A tokenized document. The token array is reused from one document to
 * the next. */
struct osv_json {
	const char *text;
	size_t text_len;
	struct osv_json_token *tokens;
	size_t count;
	size_t cap;
	size_t max_tokens;
	size_t max_depth;
};

/* Sets json up empty; a document may have at most max_tokens values nested
 * at most max_depth deep. */
void osv_json_init(struct osv_json *json, size_t max_tokens, size_t max_depth);
void osv_json_free(struct osv_json *json);

/* Tokenizes len bytes of text as one JSON value (RFC 8259), which must stay
 * alive while the tokens are used. Strings must be valid UTF-8 and contain
 * no escaped NUL or unpaired surrogate. WD_EINVAL with "line L column C:
 * reason", WD_ETOOBIG past a ceiling, WD_ENOMEM. */
WD_MUST_CHECK int osv_json_parse(struct osv_json *json, const char *text, size_t len,
	struct wd_error *err);

/* Looks up key in the object at index obj. Returns 1 and the value's index
 * in ret_value, 0 when the key is absent, or WD_EINVAL when it appears more
 * than once (err names the key). */
WD_MUST_CHECK int osv_json_member(const struct osv_json *json, uint32_t obj, const char *key,
	uint32_t *ret_value, struct wd_error *err);

/* Returns the index of the first child of an array or object (its first
 * key for an object). The next array element is tokens[index].next. The
 * next object member is tokens[index + 1].next, past the member's value. */
static inline uint32_t osv_json_first_child(uint32_t index)
{
	return index + 1;
}

/* Decodes the string at index into a NUL-terminated copy in arena. NULL
 * when memory runs out. */
char *osv_json_string_dup(const struct osv_json *json, uint32_t index, struct osv_arena *arena);

/* Returns whether the string at index equals text after decoding. */
bool osv_json_string_equals(const struct osv_json *json, uint32_t index, const char *text);

/* Builds the record of a tokenized document in arena; path is copied into
 * it. Range versions are neither checked nor sorted yet. WD_EINVAL names
 * the field ("affected[0].package.name: expected a string"), WD_ENOMEM. */
WD_MUST_CHECK int osv_record_parse(const struct osv_json *json, const char *path,
	struct osv_arena *arena, struct osv_record **ret_record, struct wd_error *err);

/* A field's place in a record, formatted only for messages, so the fields
 * of valid records cost no formatting: "affected[1].ranges[0].events". */
struct osv_field {
	const struct osv_field *parent;  /* NULL at the top level */
	const char *key;                 /* a member name, or NULL for an array element */
	uint32_t index;                  /* the element's index when key is NULL */
};

/* Writes the path of field into out of size bytes, truncated if need be. */
void osv_field_format(const struct osv_field *field, char *out, size_t size);

/* Picks the version order of range (SEMVER ranges, and Go, whose OSV
 * versions have no leading 'v', compare as semver; ECOSYSTEM ranges in the
 * order of affected's ecosystem), checks every event version in it, and
 * sorts the events. A range with a version the order rejects is left
 * unusable, with range->problem naming the event under events_field.
 * Returns -1 only when memory runs out. */
WD_MUST_CHECK int osv_range_prepare(struct osv_range *range, const struct osv_affected *affected,
	const struct osv_field *events_field, struct osv_arena *arena);

/* Resolves the severity that the fields of one level state: the first valid
 * CVSS_V3 vector of "severity", then an "Ubuntu" priority there, then the
 * database_specific "cvss" vector and "severity" text, then the
 * ecosystem_specific "severity" or Debian "urgency". Any of the three
 * indices may be 0 for an absent field. An invalid vector or unknown text
 * is skipped. */
void osv_severity_resolve(const struct osv_json *json, uint32_t severity, uint32_t database,
	uint32_t ecosystem, struct osv_arena *arena, struct osv_severity *ret_severity);

/* Reads one record from len bytes of data into arena, using json's token
 * array; path is copied into the record. Safe to run in several threads
 * with their own json and arena. WD_EINVAL (err names the field, not the
 * path) for an invalid record, WD_ENOMEM; the arena is rewound on failure. */
WD_MUST_CHECK int osv_record_read(struct osv_json *json, struct osv_arena *arena,
	const char *path, const void *data, size_t len, struct osv_record **ret_record,
	struct wd_error *err);

/* Adds a record read by osv_record_read to the counts, the id table and
 * the index, and records its unusable ranges as problems. WD_ETOOBIG past
 * OSV_MAX_RECORDS, WD_ENOMEM. */
WD_MUST_CHECK int osv_db_register(struct osv_db *db, struct osv_record *record,
	struct wd_error *err);

/* Counts a file that was not read as a record (invalid, or over the size
 * ceiling) as skipped, with reason as its problem. */
WD_MUST_CHECK int osv_db_skip_file(struct osv_db *db, const char *path, const char *reason,
	struct wd_error *err);

/* Counts one file of the directory walk. */
void osv_db_count_file(struct osv_db *db);

/* Moves the chunks of arena, which contains registered records, into db,
 * to be freed with it; arena is left empty. */
WD_MUST_CHECK int osv_db_adopt_arena(struct osv_db *db, struct osv_arena *arena,
	struct wd_error *err);

/* Returns the memory ceiling of the database's records, in bytes. */
size_t osv_db_arena_budget(const struct osv_db *db);
