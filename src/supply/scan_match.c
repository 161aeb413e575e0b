/* Matching a catalog against an OSV database: each package's queries are
 * looked up in the index, each affected entry in an accepted release is
 * evaluated, and one match is kept per package and record. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "supply/scan.h"

/* Distinct explanations of narrow queries, counted per scan. */
#define MAX_NOTES 16
#define MAX_QUERIES 2

struct note_count {
	const char *note;
	size_t packages;
};

void scan_result_free(struct scan_result *result)
{
	if (!result)
		return;
	for (size_t i = 0; i < result->count; i++) {
		free(result->matches[i].matched_name);
		free(result->matches[i].matched_version);
	}
	free(result->matches);
	for (size_t i = 0; i < result->warning_count; i++)
		free(result->warnings[i]);
	free(result->warnings);
	*result = (struct scan_result){ 0 };
}

int scan_warn(struct scan_result *result, struct wd_error *err, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	char *copy;

	result->warning_total++;
	if (result->warning_count >= SCAN_MAX_WARNINGS)
		return 0;
	if (!result->warnings) {
		result->warnings = wd_calloc(SCAN_MAX_WARNINGS, sizeof(*result->warnings));
		if (!result->warnings)
			return wd_error_set(err, WD_ENOMEM, "out of memory for the warnings");
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	copy = strdup(line);
	if (!copy)
		return wd_error_set(err, WD_ENOMEM, "out of memory for the warnings");
	result->warnings[result->warning_count++] = copy;
	return 0;
}

static int add_match(struct scan_result *result, const struct scan_match *match,
	struct wd_error *err)
{
	if (result->count >= SCAN_MAX_MATCHES)
		return wd_error_set(err, WD_ETOOBIG, "more than %u matches", SCAN_MAX_MATCHES);
	if (result->count == result->cap) {
		size_t cap = result->cap ? result->cap * 2 : 64;
		struct scan_match *grown = wd_reallocarray(result->matches, cap, sizeof(*grown));

		if (!grown)
			return wd_error_set(err, WD_ENOMEM, "out of memory for %zu matches", cap);
		result->matches = grown;
		result->cap = cap;
	}
	result->matches[result->count] = *match;
	result->matches[result->count].matched_name = strdup(match->matched_name);
	result->matches[result->count].matched_version = strdup(match->matched_version);
	if (!result->matches[result->count].matched_name ||
	    !result->matches[result->count].matched_version) {
		free(result->matches[result->count].matched_name);
		free(result->matches[result->count].matched_version);
		return wd_error_set(err, WD_ENOMEM, "out of memory for the matches");
	}
	result->count++;
	return 0;
}

/* Returns whether the matches of pkg, which are the last ones, include
 * record already. */
static bool already_matched(const struct scan_result *result, const struct sbom_package *pkg,
	const struct osv_record *record)
{
	for (size_t i = result->count; i > 0; i--) {
		const struct scan_match *match = &result->matches[i - 1];

		if (match->package != pkg)
			return false;
		if (match->record == record)
			return true;
	}
	return false;
}

/* Evaluates every affected entry of one query. A version the order of an
 * entry rejects ends the query with one warning. */
static int match_query(const struct osv_db *db, const struct sbom_package *pkg,
	const struct scan_query *query, struct scan_result *result, struct wd_error *err)
{
	for (const struct osv_affected *affected = osv_db_lookup(db, query->ecosystem, query->name);
	     affected; affected = affected->next) {
		struct wd_error check_err = { 0 };
		struct osv_verdict verdict;
		struct scan_match match;

		if (affected->record->superseded || !scan_query_accepts(query, affected->release))
			continue;
		if (osv_affected_check(affected, query->version, &verdict, &check_err) < 0)
			return scan_warn(result, err, "%s %s (%s): %s; it was not matched against %s "
						      "and later records",
				pkg->name, pkg->version, sbom_package_type_name(pkg->type),
				wd_error_text(&check_err), affected->record->id);
		if (!verdict.affected || already_matched(result, pkg, affected->record))
			continue;

		match = (struct scan_match){
			.package = pkg,
			.record = affected->record,
			.affected = affected,
			.ecosystem = query->ecosystem,
			.matched_name = (char *)query->name,
			.matched_version = (char *)query->version,
			.fixed = verdict.fixed,
			.by_versions = verdict.by_versions,
			.severity = affected->severity.rating != OSV_RATING_UNKNOWN ?
					    affected->severity : affected->record->severity,
		};
		WD_TRY(add_match(result, &match, err));
	}
	return 0;
}

static void count_note(struct note_count *notes, size_t *note_count, const char *note)
{
	for (size_t i = 0; i < *note_count; i++) {
		if (notes[i].note == note) {
			notes[i].packages++;
			return;
		}
	}
	if (*note_count < MAX_NOTES)
		notes[(*note_count)++] = (struct note_count){ note, 1 };
}

static int compare_text(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static int compare_matches(const void *left, const void *right)
{
	const struct scan_match *a = left, *b = right;
	const struct sbom_package *pa = a->package, *pb = b->package;
	int order = compare_text(pa->name, pb->name);

	if (!order)
		order = compare_text(pa->version, pb->version);
	if (!order)
		order = (int)pa->type - (int)pb->type;
	if (!order)
		order = compare_text(pa->location, pb->location);
	if (!order && pa != pb)
		order = pa < pb ? -1 : 1;
	return order ? order : strcmp(a->record->id, b->record->id);
}

int scan_catalog(const struct sbom_catalog *catalog, const struct sbom_distro *distro,
	const struct osv_db *db, struct scan_result *result, struct wd_error *err)
{
	struct note_count notes[MAX_NOTES];
	size_t note_count = 0;

	result->packages += catalog->count;
	for (size_t i = 0; i < catalog->count; i++) {
		const struct sbom_package *pkg = &catalog->packages[i];
		struct scan_query queries[MAX_QUERIES];
		size_t count;
		const char *note;

		scan_package_queries(pkg, distro, queries, MAX_QUERIES, &count, &note);
		if (note)
			count_note(notes, &note_count, note);
		if (count > 0)
			result->packages_queried++;
		for (size_t q = 0; q < count; q++)
			WD_TRY(match_query(db, pkg, &queries[q], result, err));
	}
	for (size_t i = 0; i < note_count; i++)
		WD_TRY(scan_warn(result, err, "%zu %s: %s", notes[i].packages,
			notes[i].packages == 1 ? "package" : "packages", notes[i].note));

	if (result->count > 1)
		qsort(result->matches, result->count, sizeof(*result->matches), compare_matches);
	return 0;
}

bool scan_result_fails(const struct scan_result *result, enum osv_rating threshold)
{
	for (size_t i = 0; i < result->count; i++) {
		const struct scan_match *match = &result->matches[i];

		if (!match->ignored_by && match->severity.rating != OSV_RATING_UNKNOWN &&
		    match->severity.rating >= threshold)
			return true;
	}
	return false;
}
