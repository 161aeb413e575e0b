/* The JSON report of `warden scan -o json`. Its shape is documented in
 * docs/supply.md and kept stable: fields are only added. */
#include <string.h>

#include "supply/scan_internal.h"

static json_t *rule_object(struct scan_json *b, const struct scan_ignore_rule *rule)
{
	json_t *object = json_object();

	scan_json_set(b, object, "id", scan_json_string(b, rule->id));
	scan_json_set(b, object, "package", scan_json_string(b, rule->package));
	scan_json_set(b, object, "reason", scan_json_string(b, rule->reason));
	scan_json_set(b, object, "expires", scan_json_string(b, rule->expires));
	return object;
}

static json_t *vulnerability_object(struct scan_json *b, const struct scan_match *match)
{
	const struct osv_record *record = match->record;
	json_t *object = json_object();
	json_t *aliases = json_array();

	for (size_t i = 0; i < record->alias_count; i++)
		scan_json_append(b, aliases, scan_json_string(b, record->aliases[i]));
	scan_json_set(b, object, "id", scan_json_string(b, record->id));
	scan_json_set(b, object, "aliases", aliases);
	scan_json_set(b, object, "summary", scan_json_string(b, record->summary));
	scan_json_set(b, object, "modified", scan_json_string(b, record->modified));
	scan_json_set(b, object, "source", scan_json_string(b, record->path));
	scan_json_set(b, object, "severity",
		scan_json_string(b, osv_rating_name(match->severity.rating)));
	scan_json_set(b, object, "cvss_score", scan_json_score(b, &match->severity));
	scan_json_set(b, object, "cvss_vector", scan_json_string(b, match->severity.vector));
	scan_json_set(b, object, "severity_source", scan_json_string(b, match->severity.origin));
	return object;
}

static json_t *package_object(struct scan_json *b, const struct sbom_package *pkg)
{
	json_t *object = json_object();

	scan_json_set(b, object, "name", scan_json_string(b, pkg->name));
	scan_json_set(b, object, "version", scan_json_string(b, pkg->version));
	scan_json_set(b, object, "type", scan_json_string(b, sbom_package_type_name(pkg->type)));
	scan_json_set(b, object, "purl", scan_json_string(b, pkg->purl));
	scan_json_set(b, object, "location", scan_json_string(b, pkg->location));
	return object;
}

static json_t *match_object(struct scan_json *b, const struct scan_match *match)
{
	json_t *object = json_object();
	json_t *how = json_object();

	scan_json_set(b, how, "ecosystem", scan_json_string(b, match->affected->ecosystem));
	scan_json_set(b, how, "name", scan_json_string(b, match->matched_name));
	scan_json_set(b, how, "version", scan_json_string(b, match->matched_version));
	scan_json_set(b, how, "by", scan_json_string(b, match->by_versions ? "versions" : "range"));

	scan_json_set(b, object, "vulnerability", vulnerability_object(b, match));
	scan_json_set(b, object, "package", package_object(b, match->package));
	scan_json_set(b, object, "matched", how);
	scan_json_set(b, object, "fixed_version", scan_json_string(b, match->fixed));
	if (match->ignored_by)
		scan_json_set(b, object, "ignored_by", rule_object(b, match->ignored_by));
	else if (match->expired_rule)
		scan_json_set(b, object, "expired_ignore", rule_object(b, match->expired_rule));
	return object;
}

static json_t *count(struct scan_json *b, size_t value)
{
	json_t *number = json_integer((json_int_t)value);

	if (!number)
		b->failed = true;
	return number;
}

static json_t *database_object(struct scan_json *b, const struct scan_report *report)
{
	const struct osv_db_stats *stats = osv_db_stats(report->db);
	json_t *object = json_object();
	json_t *problems = json_array();

	for (size_t i = 0; i < osv_db_problem_count(report->db); i++) {
		const struct osv_problem *problem = osv_db_problem(report->db, i);
		json_t *item = json_object();

		scan_json_set(b, item, "path", scan_json_string(b, problem->path));
		scan_json_set(b, item, "message", scan_json_string(b, problem->message));
		scan_json_set(b, item, "skipped", json_boolean(problem->skipped));
		scan_json_append(b, problems, item);
	}
	scan_json_set(b, object, "path", scan_json_string(b, report->db_path));
	scan_json_set(b, object, "files", count(b, stats->files));
	scan_json_set(b, object, "records", count(b, stats->records));
	scan_json_set(b, object, "withdrawn", count(b, stats->withdrawn));
	scan_json_set(b, object, "skipped", count(b, stats->skipped));
	scan_json_set(b, object, "superseded", count(b, stats->superseded));
	scan_json_set(b, object, "git_ranges_ignored", count(b, stats->git_ranges));
	scan_json_set(b, object, "unusable_ranges", count(b, stats->unusable_ranges));
	scan_json_set(b, object, "problems", problems);
	scan_json_set(b, object, "problems_total", count(b, osv_db_problem_total(report->db)));
	return object;
}

static json_t *target_object(struct scan_json *b, const struct scan_report *report,
	const struct scan_result *result)
{
	const struct sbom_distro *distro = report->distro;
	json_t *object = json_object();
	json_t *distro_object = json_object();

	scan_json_set(b, distro_object, "id", scan_json_string(b, distro ? distro->id : NULL));
	scan_json_set(b, distro_object, "version_id",
		scan_json_string(b, distro ? distro->version_id : NULL));
	scan_json_set(b, object, "name", scan_json_string(b, report->target));
	scan_json_set(b, object, "kind", scan_json_string(b, report->target_kind));
	scan_json_set(b, object, "distro", distro_object);
	scan_json_set(b, object, "packages", count(b, result->packages));
	scan_json_set(b, object, "packages_queried", count(b, result->packages_queried));
	return object;
}

int scan_json_write(const struct scan_result *result, const struct scan_report *report,
	char **ret_text, struct wd_error *err)
{
	struct scan_json b = { 0 };
	json_t *root = json_object();
	json_t *matches = json_array(), *ignored = json_array(), *expired = json_array();
	json_t *warnings = json_array(), *tool = json_object();

	*ret_text = NULL;
	for (size_t i = 0; i < result->count; i++) {
		const struct scan_match *match = &result->matches[i];

		scan_json_append(&b, match->ignored_by ? ignored : matches, match_object(&b, match));
	}
	for (size_t i = 0; report->ignore && i < report->ignore->count; i++) {
		if (report->ignore->rules[i].expired)
			scan_json_append(&b, expired, rule_object(&b, &report->ignore->rules[i]));
	}
	for (size_t i = 0; i < result->warning_count; i++)
		scan_json_append(&b, warnings, scan_json_string(&b, result->warnings[i]));

	scan_json_set(&b, tool, "name", scan_json_string(&b, "warden"));
	scan_json_set(&b, tool, "version", scan_json_string(&b, report->tool_version));
	scan_json_set(&b, root, "tool", tool);
	scan_json_set(&b, root, "target", target_object(&b, report, result));
	scan_json_set(&b, root, "database", database_object(&b, report));
	scan_json_set(&b, root, "matches", matches);
	scan_json_set(&b, root, "ignored", ignored);
	scan_json_set(&b, root, "expired_ignores", expired);
	scan_json_set(&b, root, "warnings", warnings);
	scan_json_set(&b, root, "warnings_total", count(&b, result->warning_total));
	if (b.failed || !root) {
		json_decref(root);
		return wd_error_set(err, WD_ENOMEM, "out of memory for the JSON report");
	}
	return scan_json_finish(root, ret_text, err);
}
