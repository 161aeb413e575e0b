/* Vulnerability scanning: the packages of a catalog matched against an OSV
 * database, an ignore list applied to the matches, and the reports. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/macros.h"
#include "supply/osv.h"
#include "supply/sbom.h"

/* Release strings a query accepts; the ecosystem without a release is one
 * of them when any_release_empty is set. */
#define SCAN_MAX_RELEASES 3

/* A lookup of one package in the database. */
struct scan_query {
	const char *ecosystem;  /* OSV ecosystem without its release: "Debian", "PyPI" */
	char name[256];         /* the name records use: the source package for Debian and Alpine */
	char version[256];      /* the version compared: the source version when dpkg records one */
	char releases[SCAN_MAX_RELEASES][64];  /* accepted releases, "" for none */
	size_t release_count;
	char release_prefix[64];  /* Red Hat: a CPE stream such as "enterprise_linux:9" */
};

/* Fills up to max queries for pkg on distro (whose strings may be NULL)
 * and stores their number (0 when its type has no OSV ecosystem, such as
 * a binary, or the distribution is not supported) in ret_count. ret_note
 * is set to a static explanation when the queries are narrower than the
 * package deserves (no known release, an unsupported distribution), or to
 * NULL. A package with a name or version that does not fit a query is
 * not queried, with a note saying so. */
void scan_package_queries(const struct sbom_package *pkg, const struct sbom_distro *distro,
	struct scan_query *ret_queries, size_t max, size_t *ret_count, const char **ret_note);

/* Returns whether a record's release (the text after the first ':' of
 * its ecosystem, "" without one) is one the query accepts. */
bool scan_query_accepts(const struct scan_query *query, const char *release);

struct scan_ignore_rule;

/* One vulnerability found in one package. */
struct scan_match {
	const struct sbom_package *package;
	const struct osv_record *record;
	const struct osv_affected *affected;
	const char *ecosystem;         /* the query's ecosystem */
	char *matched_name;            /* the name looked up */
	char *matched_version;         /* the version compared */
	const char *fixed;             /* the first fixed version above it, or NULL */
	bool by_versions;              /* found in the record's versions list */
	struct osv_severity severity;  /* the affected entry's, else the record's */
	const struct scan_ignore_rule *ignored_by;  /* the rule that hides it, or NULL */
	const struct scan_ignore_rule *expired_rule; /* an expired rule that would hide it */
};

/* The outcome of a scan. warnings are malloc'd lines without a newline. */
struct scan_result {
	struct scan_match *matches;
	size_t count;
	size_t cap;
	char **warnings;
	size_t warning_count;
	size_t warning_total;   /* warnings past SCAN_MAX_WARNINGS are only counted */
	size_t packages;        /* packages in the catalog */
	size_t packages_queried;/* packages with an OSV ecosystem */
};

#define SCAN_MAX_WARNINGS 1000u
#define SCAN_MAX_MATCHES 10000000u

void scan_result_free(struct scan_result *result);

/* Matches every package of catalog against db and appends the matches,
 * sorted by package name, version, type, location and vulnerability id, to
 * result (which starts zeroed). A package whose version its ecosystem's
 * order rejects is skipped with a warning. WD_ENOMEM, WD_ETOOBIG. */
WD_MUST_CHECK int scan_catalog(const struct sbom_catalog *catalog, const struct sbom_distro *distro,
	const struct osv_db *db, struct scan_result *result, struct wd_error *err);

/* Appends a printf-formatted warning to result. */
WD_MUST_CHECK int scan_warn(struct scan_result *result, struct wd_error *err, const char *fmt,
	...) WD_PRINTF(3, 4);

/* One entry of an ignore file. */
struct scan_ignore_rule {
	char *id;          /* a vulnerability id or alias */
	char *package;     /* a package or source package name, or NULL for any */
	char *reason;
	char *expires;     /* "YYYY-MM-DD" */
	int64_t expires_at;/* Unix seconds of 00:00 UTC on that day */
	bool expired;      /* now was at or past expires_at when the file was read */
	size_t index;      /* its position in the file, from 0 */
};

struct scan_ignore {
	struct scan_ignore_rule *rules;
	size_t count;
};

#define SCAN_MAX_IGNORE_RULES 10000u
#define SCAN_MAX_IGNORE_BYTES (4u * 1024 * 1024)

/* Parses an ignore file, a JSON object
 *   {"ignore": [{"id": "CVE-2024-1", "package": "zlib", "reason": "...",
 *                "expires": "2025-06-30"}, ...]}
 * where package is optional and the rest required; unknown keys are
 * rejected so a misspelled key is not silently dropped. A rule expires at
 * 00:00 UTC of its date: from then on, compared with now (Unix seconds),
 * it ignores nothing. WD_EINVAL names the entry and field. */
WD_MUST_CHECK int scan_ignore_parse(const char *text, size_t len, int64_t now,
	struct scan_ignore *ret_ignore, struct wd_error *err);

/* Reads and parses the ignore file at path; errors name the path. */
WD_MUST_CHECK int scan_ignore_load(const char *path, int64_t now, struct scan_ignore *ret_ignore,
	struct wd_error *err);

void scan_ignore_free(struct scan_ignore *ignore);

/* Marks each match that a rule in force covers as ignored, and each that
 * only an expired rule covers with that rule. A rule covers a match when
 * its id is the record's id or one of its aliases, and its package, if
 * set, is the package's name or the name looked up. */
void scan_ignore_apply(const struct scan_ignore *ignore, struct scan_result *result);

/* Returns whether a match not ignored has a rating at or above threshold.
 * Unknown ratings never reach a threshold. */
bool scan_result_fails(const struct scan_result *result, enum osv_rating threshold);

/* The facts about a scan that the reports give besides the matches. */
struct scan_report {
	const char *target;           /* as the user named it */
	const char *target_kind;      /* "directory", "spdx-json" or "cyclonedx-json" */
	const struct sbom_distro *distro;
	const char *db_path;
	const struct osv_db *db;
	const struct scan_ignore *ignore;  /* NULL without an ignore file */
	const char *tool_version;
};

/* Writes the NAME INSTALLED FIXED-IN TYPE VULNERABILITY SEVERITY table of
 * the matches not ignored, or "No vulnerabilities found". */
WD_MUST_CHECK int scan_table_write(const struct scan_result *result, char **ret_text,
	struct wd_error *err);

/* Writes the JSON report (docs/supply.md gives its shape). */
WD_MUST_CHECK int scan_json_write(const struct scan_result *result,
	const struct scan_report *report, char **ret_text, struct wd_error *err);

/* Writes a SARIF 2.1.0 log with one rule per vulnerability and one result
 * per match not ignored. */
WD_MUST_CHECK int scan_sarif_write(const struct scan_result *result,
	const struct scan_report *report, char **ret_text, struct wd_error *err);
