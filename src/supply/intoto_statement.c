/* in-toto Statement v1: building one for a single artifact and reading the
 * subjects and predicate type of one inside a DSSE payload. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/encoding.h"
#include "supply/intoto.h"
#include "supply/supply_json.h"

#define WHAT "in-toto Statement"

static const struct {
	const char *name;
	const char *uri;
} predicate_types[] = {
	{ "spdx", "https://spdx.dev/Document" },
	{ "spdxjson", "https://spdx.dev/Document" },
	{ "cyclonedx", "https://cyclonedx.org/bom" },
	{ "slsaprovenance", "https://slsa.dev/provenance/v1" },
	{ "slsaprovenance1", "https://slsa.dev/provenance/v1" },
	{ "slsaprovenance02", "https://slsa.dev/provenance/v0.2" },
	{ "openvex", "https://openvex.dev/ns" },
};

int supply_predicate_type_resolve(const char *name, const char **ret_uri, struct wd_error *err)
{
	*ret_uri = NULL;
	for (size_t i = 0; i < WD_ARRAY_LEN(predicate_types); i++) {
		if (strcmp(name, predicate_types[i].name) == 0) {
			*ret_uri = predicate_types[i].uri;
			return WD_OK;
		}
	}
	if (!strchr(name, ':') || strlen(name) > SUPPLY_INTOTO_TYPE_MAX)
		return wd_error_set(err, WD_EINVAL,
			"invalid predicate type \"%.64s\": expected spdx, cyclonedx, slsaprovenance, "
			"openvex or a URI", name);
	*ret_uri = name;
	return WD_OK;
}

int supply_statement_build(const char *subject_name, const uint8_t digest[static SUPPLY_DIGEST_LEN],
	const char *predicate_type, json_t *predicate, char **ret_text, size_t *ret_len,
	struct wd_error *err)
{
	char *hex = NULL;
	json_t *statement = NULL;
	char *text = NULL;
	int rc;

	*ret_text = NULL;
	*ret_len = 0;
	WD_ENSURE(json_is_object(predicate), wd_error_set(err, WD_EINVAL,
		"the predicate is not a JSON object"));
	WD_GUARD(wd_hex_encode(digest, SUPPLY_DIGEST_LEN, &hex));

	/* The field order of the framework's examples and of cosign. */
	statement = json_pack("{s:s, s:[{s:s, s:{s:s}}], s:s, s:O}",
		"_type", SUPPLY_INTOTO_STATEMENT_V1,
		"subject", "name", subject_name, "digest", "sha256", hex,
		"predicateType", predicate_type,
		"predicate", predicate);
	WD_ENSURE(statement, wd_error_set(err, WD_EINVAL,
		"building the in-toto Statement failed: the subject name or predicate type is "
		"not UTF-8"));
	text = json_dumps(statement, JSON_COMPACT | JSON_PRESERVE_ORDER);
	WD_ENSURE(text, WD_ENOMEM);
	*ret_len = strlen(text);
	*ret_text = WD_TAKE_PTR(text);
	rc = WD_OK;
out:
	free(hex);
	json_decref(statement);
	return rc;
}

void supply_statement_clear(struct supply_statement *statement)
{
	if (!statement)
		return;
	json_decref(statement->root);
	memset(statement, 0, sizeof(*statement));
}

/* Checks one subject: an object with a non-empty digest object whose
 * values are strings. */
static int check_subject(json_t *subject, size_t index, struct wd_error *err)
{
	char path[64];
	json_t *digest;
	const char *algorithm;
	json_t *value;

	snprintf(path, sizeof(path), "subject[%zu].", index);
	if (!json_is_object(subject))
		return wd_error_set(err, WD_EINVAL, WHAT ": \"subject[%zu]\" is not a JSON object",
			index);
	WD_TRY(supply_json_object(subject, WHAT, path, "digest", true, &digest, err));
	if (json_object_size(digest) == 0)
		return wd_error_set(err, WD_EINVAL, WHAT ": field \"%sdigest\" is empty", path);
	json_object_foreach(digest, algorithm, value) {
		if (!json_is_string(value))
			return wd_error_set(err, WD_EINVAL,
				WHAT ": field \"%sdigest.%.32s\" is not a JSON string", path, algorithm);
	}
	return WD_OK;
}

int supply_statement_parse(const uint8_t *payload, size_t len,
	struct supply_statement *ret_statement, struct wd_error *err)
{
	struct supply_statement statement = { 0 };
	size_t count;
	int rc;

	memset(ret_statement, 0, sizeof(*ret_statement));
	WD_GUARD(supply_json_load((const char *)payload, len, WHAT, &statement.root, err));
	WD_GUARD(supply_json_string(statement.root, WHAT, "", "_type", true, &statement.type,
		err));
	WD_ENSURE(strcmp(statement.type, SUPPLY_INTOTO_STATEMENT_V1) == 0 ||
			  strcmp(statement.type, SUPPLY_INTOTO_STATEMENT_V01) == 0,
		wd_error_set(err, WD_EUNSUPPORTED,
			WHAT ": unsupported _type \"%.128s\", expected \"%s\"", statement.type,
			SUPPLY_INTOTO_STATEMENT_V1));
	WD_GUARD(supply_json_string(statement.root, WHAT, "", "predicateType", true,
		&statement.predicate_type, err));
	WD_ENSURE(statement.predicate_type[0] != '\0', wd_error_set(err, WD_EINVAL,
		WHAT ": field \"predicateType\" is empty"));

	WD_GUARD(supply_json_array(statement.root, WHAT, "", "subject", true, &statement.subjects,
		err));
	count = json_array_size(statement.subjects);
	WD_ENSURE(count > 0, wd_error_set(err, WD_EINVAL, WHAT ": field \"subject\" is empty"));
	WD_ENSURE(count <= SUPPLY_INTOTO_SUBJECTS_MAX, wd_error_set(err, WD_ETOOBIG,
		WHAT ": field \"subject\" has %zu entries, at most %d are allowed", count,
		SUPPLY_INTOTO_SUBJECTS_MAX));
	for (size_t i = 0; i < count; i++)
		WD_GUARD(check_subject(json_array_get(statement.subjects, i), i, err));

	*ret_statement = statement;
	memset(&statement, 0, sizeof(statement));
	rc = WD_OK;
out:
	supply_statement_clear(&statement);
	return rc;
}

int supply_statement_match_subject(const struct supply_statement *statement,
	const uint8_t digest[static SUPPLY_DIGEST_LEN], struct wd_error *err)
{
	_wd_cleanup_(wd_freep) char *hex = NULL;
	size_t index;
	json_t *subject;

	WD_TRY(wd_hex_encode(digest, SUPPLY_DIGEST_LEN, &hex));
	json_array_foreach(statement->subjects, index, subject) {
		const char *value = json_string_value(
			json_object_get(json_object_get(subject, "digest"), "sha256"));

		/* The framework writes lowercase hex; uppercase names the same
		 * digest, so it matches too. */
		if (value && strlen(value) == 2 * SUPPLY_DIGEST_LEN && strcasecmp(value, hex) == 0)
			return WD_OK;
	}
	return wd_error_set(err, WD_ECRYPTO,
		"no subject of the in-toto Statement has the artifact's digest sha256:%s", hex);
}
