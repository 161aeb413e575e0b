/* The SARIF 2.1.0 log (OASIS Static Analysis Results Interchange Format)
 * of `warden scan -o sarif`. It has one run, whose driver has a rule per
 * vulnerability, and a result per match not ignored. A result is located
 * at the file the package was found in and named by its purl. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "supply/scan_internal.h"

#define MESSAGE_MAX_BYTES (64u * 1024)

/* The level of a result for a rating: error for high and critical,
 * warning for medium and unknown, note for low and negligible. */
static const char *level_of(enum osv_rating rating)
{
	switch (rating) {
	case OSV_RATING_CRITICAL:
	case OSV_RATING_HIGH:
		return "error";
	case OSV_RATING_LOW:
	case OSV_RATING_NEGLIGIBLE:
		return "note";
	case OSV_RATING_MEDIUM:
	case OSV_RATING_UNKNOWN:
		break;
	}
	return "warning";
}

/* The artifact URI of a match: the package's location without its leading
 * '/', relative to the target, or the target itself (an SBOM file);
 * characters a URI reference does not allow are percent-encoded. */
static char *artifact_uri(const struct scan_match *match, const char *target)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *path = match->package->location ? match->package->location : target;
	struct wd_buf out;

	while (match->package->location && *path == '/')
		path++;
	wd_buf_init(&out, 128, MESSAGE_MAX_BYTES);
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9') || strchr("-._~/", *p);
		char triple[3] = { '%', hex[*p >> 4], hex[*p & 0xf] };

		if (plain ? wd_buf_append_byte(&out, *p) < 0 :
			    wd_buf_append(&out, triple, sizeof(triple)) < 0) {
			wd_buf_free(&out);
			return NULL;
		}
	}
	if (wd_buf_append(&out, "", 0) < 0) {
		wd_buf_free(&out);
		return NULL;
	}
	return wd_buf_take(&out, NULL);
}

/* Returns whether match rates above worst: a higher rating, or the same
 * with a higher CVSS score. */
static bool rates_above(const struct scan_match *match, const struct scan_match *worst)
{
	return !worst || match->severity.rating > worst->severity.rating ||
	       (match->severity.rating == worst->severity.rating &&
		match->severity.score > worst->severity.score);
}

static json_t *message(struct scan_json *b, const char *text)
{
	json_t *object = json_object();

	scan_json_set(b, object, "text", scan_json_string(b, text));
	return object;
}

static json_t *rule_object(struct scan_json *b, const struct scan_match *worst)
{
	const struct osv_record *record = worst->record;
	json_t *rule = json_object();
	json_t *config = json_object();
	json_t *properties = json_object();
	json_t *tags = json_array();
	char help_uri[512];
	char score[16];

	snprintf(help_uri, sizeof(help_uri), "https://osv.dev/vulnerability/%s", record->id);
	scan_json_append(b, tags, scan_json_string(b, "security"));
	scan_json_append(b, tags, scan_json_string(b, "vulnerability"));
	scan_json_append(b, tags, scan_json_string(b, osv_rating_name(worst->severity.rating)));
	scan_json_set(b, properties, "tags", tags);
	/* GitHub code scanning reads this CVSS score, as a string, for the
	 * severity of its alerts. */
	if (worst->severity.score >= 0) {
		snprintf(score, sizeof(score), "%d.%d", worst->severity.score / 10,
			worst->severity.score % 10);
		scan_json_set(b, properties, "security-severity", scan_json_string(b, score));
	}
	scan_json_set(b, config, "level", scan_json_string(b, level_of(worst->severity.rating)));

	scan_json_set(b, rule, "id", scan_json_string(b, record->id));
	scan_json_set(b, rule, "shortDescription",
		message(b, record->summary ? record->summary : record->id));
	scan_json_set(b, rule, "helpUri", scan_json_string(b, help_uri));
	scan_json_set(b, rule, "defaultConfiguration", config);
	scan_json_set(b, rule, "properties", properties);
	return rule;
}

static json_t *location_object(struct scan_json *b, const struct scan_match *match,
	const char *target)
{
	char *uri = artifact_uri(match, target);
	json_t *location = json_object();
	json_t *physical = json_object();
	json_t *artifact = json_object();
	json_t *logical = json_object();
	json_t *logicals = json_array();

	if (!uri)
		b->failed = true;
	scan_json_set(b, artifact, "uri", scan_json_string(b, uri ? uri : ""));
	free(uri);
	scan_json_set(b, physical, "artifactLocation", artifact);
	scan_json_set(b, logical, "name", scan_json_string(b, match->package->name));
	scan_json_set(b, logical, "kind", scan_json_string(b, "package"));
	if (match->package->purl)
		scan_json_set(b, logical, "fullyQualifiedName",
			scan_json_string(b, match->package->purl));
	scan_json_append(b, logicals, logical);
	scan_json_set(b, location, "physicalLocation", physical);
	scan_json_set(b, location, "logicalLocations", logicals);
	return location;
}

static json_t *result_object(struct scan_json *b, const struct scan_match *match,
	size_t rule_index, const char *target)
{
	const struct sbom_package *pkg = match->package;
	json_t *result = json_object();
	json_t *locations = json_array();
	char text[2048];

	if (match->fixed)
		snprintf(text, sizeof(text), "%s %s (%s) is affected by %s (%s); fixed in %s.",
			pkg->name, pkg->version, sbom_package_type_name(pkg->type), match->record->id,
			osv_rating_name(match->severity.rating), match->fixed);
	else
		snprintf(text, sizeof(text), "%s %s (%s) is affected by %s (%s); no fix is known.",
			pkg->name, pkg->version, sbom_package_type_name(pkg->type), match->record->id,
			osv_rating_name(match->severity.rating));
	scan_json_append(b, locations, location_object(b, match, target));
	scan_json_set(b, result, "ruleId", scan_json_string(b, match->record->id));
	scan_json_set(b, result, "ruleIndex", json_integer((json_int_t)rule_index));
	scan_json_set(b, result, "level", scan_json_string(b, level_of(match->severity.rating)));
	scan_json_set(b, result, "message", message(b, text));
	scan_json_set(b, result, "locations", locations);
	return result;
}

static int compare_ids(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Collects the distinct ids of the matches not ignored, sorted. */
static const char **rule_ids(const struct scan_result *result, size_t *ret_count)
{
	const char **ids = calloc(result->count ? result->count : 1, sizeof(*ids));
	size_t n = 0;

	*ret_count = 0;
	if (!ids)
		return NULL;
	for (size_t i = 0; i < result->count; i++) {
		if (!result->matches[i].ignored_by)
			ids[n++] = result->matches[i].record->id;
	}
	qsort(ids, n, sizeof(*ids), compare_ids);
	*ret_count = 0;
	for (size_t i = 0; i < n; i++) {
		if (*ret_count == 0 || strcmp(ids[*ret_count - 1], ids[i]))
			ids[(*ret_count)++] = ids[i];
	}
	return ids;
}

static size_t rule_index(const char **ids, size_t count, const char *id)
{
	const char **found = bsearch(&id, ids, count, sizeof(*ids), compare_ids);

	return found ? (size_t)(found - ids) : 0;
}

int scan_sarif_write(const struct scan_result *result, const struct scan_report *report,
	char **ret_text, struct wd_error *err)
{
	struct scan_json b = { 0 };
	size_t id_count = 0;
	const char **ids = rule_ids(result, &id_count);
	const struct scan_match **worst;
	json_t *root = json_object(), *runs = json_array(), *run = json_object();
	json_t *tool = json_object(), *driver = json_object();
	json_t *rules = json_array(), *results = json_array();

	*ret_text = NULL;
	if (!ids)
		b.failed = true;
	/* A rule takes the severity of its worst match. */
	worst = calloc(id_count ? id_count : 1, sizeof(*worst));
	if (!worst)
		b.failed = true;
	for (size_t i = 0; ids && worst && i < result->count; i++) {
		const struct scan_match *match = &result->matches[i];
		size_t index = rule_index(ids, id_count, match->record->id);

		if (!match->ignored_by && rates_above(match, worst[index]))
			worst[index] = match;
	}
	for (size_t i = 0; ids && worst && i < id_count; i++)
		scan_json_append(&b, rules, rule_object(&b, worst[i]));
	for (size_t i = 0; ids && worst && i < result->count; i++) {
		const struct scan_match *match = &result->matches[i];

		if (match->ignored_by)
			continue;
		scan_json_append(&b, results, result_object(&b, match,
			rule_index(ids, id_count, match->record->id), report->target));
	}
	free(worst);
	free(ids);

	scan_json_set(&b, driver, "name", scan_json_string(&b, "warden"));
	scan_json_set(&b, driver, "version", scan_json_string(&b, report->tool_version));
	scan_json_set(&b, driver, "semanticVersion", scan_json_string(&b, report->tool_version));
	scan_json_set(&b, driver, "rules", rules);
	scan_json_set(&b, tool, "driver", driver);
	scan_json_set(&b, run, "tool", tool);
	scan_json_set(&b, run, "results", results);
	scan_json_append(&b, runs, run);
	scan_json_set(&b, root, "$schema",
		scan_json_string(&b, "https://json.schemastore.org/sarif-2.1.0.json"));
	scan_json_set(&b, root, "version", scan_json_string(&b, "2.1.0"));
	scan_json_set(&b, root, "runs", runs);
	if (b.failed || !root) {
		json_decref(root);
		return wd_error_set(err, WD_ENOMEM, "out of memory for the SARIF log");
	}
	return scan_json_finish(root, ret_text, err);
}
