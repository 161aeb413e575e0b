/* OSV vulnerability records (ossf.github.io/osv-schema, version 1.7): a
 * database loaded from a directory of JSON files, indexed by ecosystem and
 * package name, and the evaluation of a version against affected ranges. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "common/macros.h"
#include "supply/version.h"

/* Ceilings on what a database directory can make the loader allocate. */
#define OSV_MAX_FILE_BYTES (32u * 1024 * 1024)  /* one record file */
#define OSV_MAX_RECORDS 2000000u
#define OSV_MAX_DB_BYTES ((size_t)4 << 30)      /* memory of all records */
#define OSV_MAX_DEPTH 64u                        /* JSON nesting of a record */
#define OSV_MAX_DIR_DEPTH 32u                    /* subdirectories below the root */
#define OSV_MAX_PROBLEMS 1000u                   /* problems kept with their text */

/* Severity ratings, from the lowest. UNKNOWN sorts below NEGLIGIBLE, so a
 * threshold never counts a record that states no severity. */
enum osv_rating {
	OSV_RATING_UNKNOWN,
	OSV_RATING_NEGLIGIBLE,
	OSV_RATING_LOW,
	OSV_RATING_MEDIUM,
	OSV_RATING_HIGH,
	OSV_RATING_CRITICAL,
};

/* The lowercase name of rating: "unknown", "negligible", ..., "critical". */
const char *osv_rating_name(enum osv_rating rating);

/* Parses one of the rating names negligible, low, medium, high and critical
 * (case-insensitive). WD_EINVAL names the text otherwise. */
WD_MUST_CHECK int osv_rating_parse(const char *text, enum osv_rating *ret_rating,
	struct wd_error *err);

/* The severity that a record or one of its affected packages states. */
struct osv_severity {
	enum osv_rating rating;
	int score;           /* CVSS base score times ten (98 for 9.8), -1 without a vector */
	const char *vector;  /* the CVSS vector the score comes from, or NULL */
	const char *origin;  /* the field it was taken from, e.g. "severity[0]" */
};

/* Computes the base score of a CVSS v3.0 or v3.1 vector
 * ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H") as defined in section 7
 * of the CVSS v3.1 specification, times ten, and its rating (0.0 is
 * negligible, the CVSS "None"). Temporal and environmental metrics are
 * checked for syntax but take no part. WD_EINVAL names the bad metric. */
WD_MUST_CHECK int osv_cvss3_score(const char *vector, int *ret_score, enum osv_rating *ret_rating,
	struct wd_error *err);

enum osv_event_kind {
	OSV_EVENT_INTRODUCED,
	OSV_EVENT_FIXED,
	OSV_EVENT_LAST_AFFECTED,
	OSV_EVENT_LIMIT,
};

struct osv_event {
	enum osv_event_kind kind;
	const char *version;  /* "0" in introduced and "*" in limit are the special values */
};

/* An ECOSYSTEM or SEMVER range. GIT ranges are counted, not kept. */
struct osv_range {
	bool semver;                   /* type SEMVER, else ECOSYSTEM */
	bool usable;                   /* the scheme is known and every version valid in it */
	enum supply_ecosystem scheme;  /* the version order of the events */
	struct osv_event *events;      /* sorted by version when usable */
	size_t event_count;
	const char *problem;           /* why a range of a known scheme is not usable, or NULL */
};

struct osv_record;

/* One entry of a record's "affected" array. */
struct osv_affected {
	const struct osv_record *record;
	const char *ecosystem;   /* as written: "Debian:12", "PyPI" */
	const char *release;     /* the text after the first ':' of ecosystem, "" without one */
	const char *name;        /* as written */
	const char *purl;        /* NULL when absent */
	bool has_scheme;         /* the ecosystem's version order is known */
	enum supply_ecosystem scheme;
	struct osv_range *ranges;
	size_t range_count;
	const char **versions;
	size_t version_count;
	struct osv_severity severity;  /* from this entry, rating UNKNOWN when it states none */
	struct osv_affected *next;     /* the next entry with the same index key */
};

struct osv_record {
	const char *id;
	const char *path;        /* the file, relative to the database directory */
	const char *modified;
	const char *published;   /* NULL when absent */
	const char *withdrawn;   /* NULL unless the record was withdrawn */
	const char *summary;     /* NULL when absent */
	const char **aliases;
	size_t alias_count;
	struct osv_severity severity;  /* from the top level */
	struct osv_affected *affected;
	size_t affected_count;
	size_t git_ranges;       /* GIT ranges ignored */
	bool superseded;         /* another file has the same id with a later "modified" */
};

/* Counts over a whole database. */
struct osv_db_stats {
	size_t files;            /* JSON files read */
	size_t records;          /* records loaded, withdrawn ones included */
	size_t withdrawn;        /* records with "withdrawn", never matched */
	size_t skipped;          /* files rejected as invalid; see the problems */
	size_t superseded;       /* records replaced by a later one with the same id */
	size_t git_ranges;       /* GIT ranges ignored */
	size_t unusable_ranges;  /* ranges with a version their scheme rejects */
	size_t other_ecosystems; /* affected entries of ecosystems without a known order */
};

/* One invalid record or range: the file and what is wrong with it. */
struct osv_problem {
	const char *path;
	const char *message;
	bool skipped;  /* the whole file was skipped, not just one range */
};

struct osv_db;

/* Creates an empty database. The index hash is keyed with random bytes, so a
 * crafted database cannot choose colliding keys. */
WD_MUST_CHECK int osv_db_new(struct osv_db **ret_db, struct wd_error *err);

/* Frees the database and every record; accepts NULL. */
void osv_db_free(struct osv_db *db);

/* Parses one OSV record of len bytes, read from path (relative to the
 * database directory, used in messages), and adds it to db. Returns 0 when
 * it was added, WD_EINVAL when the record is invalid (err names path and
 * field, nothing is added), WD_ETOOBIG past a ceiling, WD_ENOMEM. A range
 * with a version its scheme rejects is dropped and recorded as a problem. */
WD_MUST_CHECK int osv_db_add(struct osv_db *db, const char *path, const void *data, size_t len,
	struct wd_error *err);

/* Reads every regular file ending in ".json" under dir, recursively, into
 * db. An invalid record is recorded as a problem and skipped; an unreadable
 * directory or file, a ceiling or memory failure stops the load. */
WD_MUST_CHECK int osv_db_load_dir(struct osv_db *db, const char *dir, struct wd_error *err);

const struct osv_db_stats *osv_db_stats(const struct osv_db *db);

/* The problems, in the order found; at most OSV_MAX_PROBLEMS are kept, and
 * osv_db_problem_total counts every one. */
size_t osv_db_problem_count(const struct osv_db *db);
const struct osv_problem *osv_db_problem(const struct osv_db *db, size_t index);
size_t osv_db_problem_total(const struct osv_db *db);

/* Sorts the kept problems by path, then message, so the report does not
 * depend on the order the directory listed its files in. */
void osv_db_sort_problems(struct osv_db *db);

/* Returns the first affected entry whose ecosystem, without its release, is
 * ecosystem_base ("Debian", "PyPI") and whose package is name (PyPI names
 * compare after PEP 503 normalization); NULL when there is none. Follow
 * ->next for the rest. Withdrawn records are not in the index, superseded
 * ones are (check record->superseded). */
const struct osv_affected *osv_db_lookup(const struct osv_db *db, const char *ecosystem_base,
	const char *name);

/* The outcome of checking one version against one affected entry. */
struct osv_verdict {
	bool affected;
	bool by_versions;   /* found in the "versions" list rather than a range */
	const char *fixed;  /* the first fixed version above the installed one, or NULL */
};

/* Checks version against affected with the evaluation of the OSV schema
 * ("Evaluation"): listed in "versions" (exact text), or inside a usable
 * range, where limit events bound the range and last_affected is
 * inclusive. Each range compares in its own scheme. WD_EINVAL names the
 * version when a usable range's scheme rejects it. */
WD_MUST_CHECK int osv_affected_check(const struct osv_affected *affected, const char *version,
	struct osv_verdict *ret_verdict, struct wd_error *err);

/* Normalizes a PyPI project name as PEP 503 does (lowercase, each run of
 * '-', '_' and '.' as one '-') into out of size bytes. Returns the length,
 * or -1 when out is too small. */
int osv_pypi_normalize(const char *name, char *out, size_t size);
