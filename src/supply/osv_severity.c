/* Severity of OSV records: CVSS v3 base scores computed from the vector,
 * and the textual ratings that GitHub, Debian, Ubuntu and OSS-Fuzz records
 * carry in their own fields. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "supply/osv_internal.h"

static const char *const rating_names[] = {
	[OSV_RATING_UNKNOWN] = "unknown",
	[OSV_RATING_NEGLIGIBLE] = "negligible",
	[OSV_RATING_LOW] = "low",
	[OSV_RATING_MEDIUM] = "medium",
	[OSV_RATING_HIGH] = "high",
	[OSV_RATING_CRITICAL] = "critical",
};

const char *osv_rating_name(enum osv_rating rating)
{
	if ((size_t)rating >= WD_ARRAY_LEN(rating_names))
		return "unknown";
	return rating_names[rating];
}

/* Rating words of the databases, lowercase. Debian's "unimportant" and
 * Ubuntu's "negligible" mean the issue needs no fix; "moderate" is
 * GitHub's medium and "important" Red Hat's high. */
static const struct {
	const char *word;
	enum osv_rating rating;
} rating_words[] = {
	{ "critical", OSV_RATING_CRITICAL },
	{ "high", OSV_RATING_HIGH },
	{ "important", OSV_RATING_HIGH },
	{ "medium", OSV_RATING_MEDIUM },
	{ "moderate", OSV_RATING_MEDIUM },
	{ "low", OSV_RATING_LOW },
	{ "negligible", OSV_RATING_NEGLIGIBLE },
	{ "unimportant", OSV_RATING_NEGLIGIBLE },
};

/* Maps a rating word (case-insensitive) to its rating; UNKNOWN for any
 * other text. Debian's
 * tracker marks urgencies it has not confirmed with trailing '*'s
 * ("low**"), which are ignored. */
static enum osv_rating rating_from_word(const char *text, size_t len)
{
	while (len > 0 && text[len - 1] == '*')
		len--;
	for (size_t i = 0; i < WD_ARRAY_LEN(rating_words); i++) {
		if (strlen(rating_words[i].word) == len && !strncasecmp(rating_words[i].word, text, len))
			return rating_words[i].rating;
	}
	return OSV_RATING_UNKNOWN;
}

int osv_rating_parse(const char *text, enum osv_rating *ret_rating, struct wd_error *err)
{
	for (size_t i = OSV_RATING_NEGLIGIBLE; i < WD_ARRAY_LEN(rating_names); i++) {
		if (!strcasecmp(text, rating_names[i])) {
			*ret_rating = (enum osv_rating)i;
			return 0;
		}
	}
	return wd_error_set(err, WD_EINVAL, "unknown severity \"%.64s\": expected negligible, "
					    "low, medium, high or critical", text);
}

/* CVSS v3.1 section 5 qualitative ratings, on the score times ten. */
static enum osv_rating rating_from_score(int score)
{
	if (score == 0)
		return OSV_RATING_NEGLIGIBLE;
	if (score < 40)
		return OSV_RATING_LOW;
	if (score < 70)
		return OSV_RATING_MEDIUM;
	if (score < 90)
		return OSV_RATING_HIGH;
	return OSV_RATING_CRITICAL;
}

/* A metric of the vector: its name, the values it allows and, for base
 * metrics, their weights (section 7.4). */
struct metric {
	const char *name;
	const char *values;
	double weights[5];
};

enum { AV, AC, PR, UI, S, C, I, A, BASE_METRICS };

static const struct metric metrics[] = {
	[AV] = { "AV", "NALP", { 0.85, 0.62, 0.55, 0.2 } },
	[AC] = { "AC", "LH", { 0.77, 0.44 } },
	[PR] = { "PR", "NLH", { 0.85, 0.62, 0.27 } },
	[UI] = { "UI", "NR", { 0.85, 0.62 } },
	[S] = { "S", "UC", { 0 } },
	[C] = { "C", "HLN", { 0.56, 0.22, 0 } },
	[I] = { "I", "HLN", { 0.56, 0.22, 0 } },
	[A] = { "A", "HLN", { 0.56, 0.22, 0 } },
	/* Temporal and environmental metrics, checked but not scored. */
	{ "E", "XUPFH", { 0 } },
	{ "RL", "XOTWU", { 0 } },
	{ "RC", "XURC", { 0 } },
	{ "CR", "XLMH", { 0 } },
	{ "IR", "XLMH", { 0 } },
	{ "AR", "XLMH", { 0 } },
	{ "MAV", "XNALP", { 0 } },
	{ "MAC", "XLH", { 0 } },
	{ "MPR", "XNLH", { 0 } },
	{ "MUI", "XNR", { 0 } },
	{ "MS", "XUC", { 0 } },
	{ "MC", "XNLH", { 0 } },
	{ "MI", "XNLH", { 0 } },
	{ "MA", "XNLH", { 0 } },
};

/* Roundup of CVSS v3.1 appendix A, which avoids floating-point error by
 * working in integers; returns tenths. CVSS v3.0 defines the same rounding
 * without the integer step. */
static int roundup_tenths(double value)
{
	/* value is never negative here, so adding a half rounds to nearest. */
	long scaled = (long)(value * 100000.0 + 0.5);

	if (scaled % 10000 == 0)
		return (int)(scaled / 10000);
	return (int)(scaled / 10000 + 1);
}

static int base_score(const int choice[BASE_METRICS])
{
	bool changed = choice[S] == 1;
	double pr = metrics[PR].weights[choice[PR]];
	double iss, impact, exploitability, total;

	/* Privileges weigh more when the scope changes (section 7.4). */
	if (changed && choice[PR] == 1)
		pr = 0.68;
	else if (changed && choice[PR] == 2)
		pr = 0.5;

	iss = 1.0 - (1.0 - metrics[C].weights[choice[C]]) * (1.0 - metrics[I].weights[choice[I]]) *
			    (1.0 - metrics[A].weights[choice[A]]);
	if (changed) {
		double power = 1.0;

		for (int i = 0; i < 15; i++)
			power *= iss - 0.02;
		impact = 7.52 * (iss - 0.029) - 3.25 * power;
	}
	else
		impact = 6.42 * iss;
	exploitability = 8.22 * metrics[AV].weights[choice[AV]] *
			 metrics[AC].weights[choice[AC]] * pr * metrics[UI].weights[choice[UI]];

	if (impact <= 0)
		return 0;
	total = changed ? 1.08 * (impact + exploitability) : impact + exploitability;
	return roundup_tenths(total < 10.0 ? total : 10.0);
}

int osv_cvss3_score(const char *vector, int *ret_score, enum osv_rating *ret_rating,
	struct wd_error *err)
{
	int choice[WD_ARRAY_LEN(metrics)];
	const char *p;

	if (strncmp(vector, "CVSS:3.0/", 9) && strncmp(vector, "CVSS:3.1/", 9))
		return wd_error_set(err, WD_EINVAL, "invalid CVSS v3 vector \"%.128s\": expected "
						    "CVSS:3.0/ or CVSS:3.1/ first", vector);
	for (size_t i = 0; i < WD_ARRAY_LEN(choice); i++)
		choice[i] = -1;

	p = vector + 9;
	for (;;) {
		size_t len = strcspn(p, "/");
		const char *colon = memchr(p, ':', len);
		size_t name_len = colon ? (size_t)(colon - p) : 0;
		size_t m;

		for (m = 0; m < WD_ARRAY_LEN(metrics); m++) {
			if (colon && strlen(metrics[m].name) == name_len &&
			    !strncmp(metrics[m].name, p, name_len))
				break;
		}
		if (m == WD_ARRAY_LEN(metrics))
			return wd_error_set(err, WD_EINVAL, "invalid CVSS v3 vector \"%.128s\": "
							    "unknown metric \"%.*s\"", vector,
				(int)(len < 16 ? len : 16), p);
		if (choice[m] >= 0)
			return wd_error_set(err, WD_EINVAL, "invalid CVSS v3 vector \"%.128s\": "
							    "metric %s given twice", vector,
				metrics[m].name);
		if (len != name_len + 2 || !strchr(metrics[m].values, colon[1]))
			return wd_error_set(err, WD_EINVAL, "invalid CVSS v3 vector \"%.128s\": "
							    "invalid value of metric %s", vector,
				metrics[m].name);
		choice[m] = (int)(strchr(metrics[m].values, colon[1]) - metrics[m].values);
		if (p[len] == '\0')
			break;
		p += len + 1;
	}

	for (size_t m = 0; m < BASE_METRICS; m++) {
		if (choice[m] < 0)
			return wd_error_set(err, WD_EINVAL, "invalid CVSS v3 vector \"%.128s\": "
							    "missing base metric %s", vector,
				metrics[m].name);
	}
	*ret_score = base_score(choice);
	*ret_rating = rating_from_score(*ret_score);
	return 0;
}

/* Returns the string member key of obj (0 for no object), or 0. */
static uint32_t string_member(const struct osv_json *json, uint32_t obj, const char *key)
{
	uint32_t value;

	if (!obj || osv_json_member(json, obj, key, &value, NULL) != 1 ||
	    json->tokens[value].type != OSV_JSON_STRING)
		return 0;
	return value;
}

/* Sets severity from the vector at index when it is a valid CVSS v3
 * vector; returns whether it did. */
static bool take_vector(const struct osv_json *json, uint32_t index, const char *origin,
	struct osv_arena *arena, struct osv_severity *severity)
{
	char *vector;
	int score;
	enum osv_rating rating;

	if (!index)
		return false;
	vector = osv_json_string_dup(json, index, arena);
	if (!vector || osv_cvss3_score(vector, &score, &rating, NULL) < 0)
		return false;
	*severity = (struct osv_severity){
		.rating = rating, .score = score, .vector = vector, .origin = origin,
	};
	return true;
}

static bool take_word(const struct osv_json *json, uint32_t index, const char *origin,
	struct osv_severity *severity)
{
	enum osv_rating rating;

	if (!index)
		return false;
	rating = rating_from_word(json->text + json->tokens[index].start, json->tokens[index].len);
	if (rating == OSV_RATING_UNKNOWN || json->tokens[index].escaped)
		return false;
	*severity = (struct osv_severity){ .rating = rating, .score = -1, .origin = origin };
	return true;
}

/* Returns the "score" of the first entry of the severity array whose type
 * is type, or 0. */
static uint32_t severity_score(const struct osv_json *json, uint32_t array, const char *type)
{
	uint32_t item;

	if (!array)
		return 0;
	item = osv_json_first_child(array);
	for (uint32_t i = 0; i < json->tokens[array].count; i++) {
		uint32_t type_index = string_member(json, item, "type");

		if (type_index && osv_json_string_equals(json, type_index, type))
			return string_member(json, item, "score");
		item = json->tokens[item].next;
	}
	return 0;
}

void osv_severity_resolve(const struct osv_json *json, uint32_t severity, uint32_t database,
	uint32_t ecosystem, struct osv_arena *arena, struct osv_severity *ret_severity)
{
	*ret_severity = (struct osv_severity){ .rating = OSV_RATING_UNKNOWN, .score = -1 };

	/* The first CVSS_V3 entry whose vector is valid. */
	if (severity) {
		uint32_t item = osv_json_first_child(severity);

		for (uint32_t i = 0; i < json->tokens[severity].count; i++) {
			uint32_t type = string_member(json, item, "type");

			if (type && osv_json_string_equals(json, type, "CVSS_V3") &&
			    take_vector(json, string_member(json, item, "score"), "severity CVSS_V3",
				    arena, ret_severity))
				return;
			item = json->tokens[item].next;
		}
	}
	/* TODO: CVSS_V2 and CVSS_V4 vectors are not scored; records with
	 * only those rate unknown unless a textual rating follows. */
	if (take_word(json, severity_score(json, severity, "Ubuntu"), "severity Ubuntu",
		    ret_severity))
		return;
	if (take_vector(json, string_member(json, database, "cvss"), "database_specific.cvss",
		    arena, ret_severity))
		return;
	if (take_word(json, string_member(json, database, "severity"),
		    "database_specific.severity", ret_severity))
		return;
	if (take_word(json, string_member(json, ecosystem, "severity"),
		    "ecosystem_specific.severity", ret_severity))
		return;
	take_word(json, string_member(json, ecosystem, "urgency"), "ecosystem_specific.urgency",
		ret_severity);
}
