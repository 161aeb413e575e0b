/* Text output of entries, agents and the CA status for the operator
 * commands. */
#include <inttypes.h>
#include <string.h>

#include "cli/cli_format.h"

void cli_print_field(FILE *out, const char *label, const char *value)
{
	fprintf(out, "%-*s: %s\n", CLI_LABEL_WIDTH, label, value);
}

static const char *string_member(const json_t *object, const char *key)
{
	const char *value = json_string_value(json_object_get(object, key));

	return value ? value : "";
}

static void print_integer(FILE *out, const char *label, const json_t *object, const char *key)
{
	const json_t *value = json_object_get(object, key);
	char text[24] = "";

	if (json_is_integer(value))
		snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT, json_integer_value(value));
	cli_print_field(out, label, text);
}

static void print_time(FILE *out, const char *label, const json_t *object, const char *key)
{
	char text[WD_TIME_TEXT_MAX];

	cli_format_time(json_object_get(object, key), text);
	cli_print_field(out, label, text);
}

void cli_format_time(const json_t *value, char ret_text[static WD_TIME_TEXT_MAX])
{
	ret_text[0] = '\0';
	if (json_is_integer(value) && json_integer_value(value) == 0) {
		/* A banned agent holds no SVID, so it has no expiry. */
		snprintf(ret_text, WD_TIME_TEXT_MAX, "none");
	} else if (json_is_integer(value)) {
		if (wd_time_format((int64_t)json_integer_value(value), ret_text) < 0)
			ret_text[0] = '\0';
	} else if (json_is_string(value)) {
		snprintf(ret_text, WD_TIME_TEXT_MAX, "%s", json_string_value(value));
	}
}

/* An entry TTL of 0 means the server's default for the SVID type. */
static void print_ttl(FILE *out, const char *label, const json_t *entry, const char *key)
{
	const json_t *value = json_object_get(entry, key);
	char text[WD_DURATION_TEXT_MAX] = "";

	if (json_is_integer(value)) {
		json_int_t seconds = json_integer_value(value);

		if (seconds == 0)
			snprintf(text, sizeof(text), "default");
		else if (wd_duration_format((int64_t)seconds, text) < 0)
			snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT "s", seconds);
	}
	cli_print_field(out, label, text);
}

static void print_each(FILE *out, const char *label, const json_t *array)
{
	size_t i;
	const json_t *item;

	json_array_foreach(array, i, item) {
		if (json_is_string(item))
			cli_print_field(out, label, json_string_value(item));
	}
}

void cli_print_entry(FILE *out, const json_t *entry)
{
	cli_print_field(out, "Entry ID", string_member(entry, "id"));
	cli_print_field(out, "SPIFFE ID", string_member(entry, "spiffe_id"));
	cli_print_field(out, "Parent ID", string_member(entry, "parent_id"));
	print_integer(out, "Revision", entry, "revision");
	print_ttl(out, "X509-SVID TTL", entry, "x509_svid_ttl");
	print_ttl(out, "JWT-SVID TTL", entry, "jwt_svid_ttl");
	print_each(out, "Selector", json_object_get(entry, "selectors"));
	print_each(out, "DNS name", json_object_get(entry, "dns_names"));
	if (json_is_true(json_object_get(entry, "admin")))
		cli_print_field(out, "Admin", "true");
	if (json_is_true(json_object_get(entry, "require_signed")))
		cli_print_field(out, "Require signed", "true");
}

static void print_found(FILE *out, size_t count, const char *singular, const char *plural)
{
	fprintf(out, "Found %zu %s\n", count, count == 1 ? singular : plural);
}

void cli_print_entry_list(FILE *out, const json_t *entries)
{
	size_t i;
	const json_t *entry;

	print_found(out, json_array_size(entries), "entry", "entries");
	json_array_foreach(entries, i, entry) {
		fputc('\n', out);
		cli_print_entry(out, entry);
	}
}

static void print_agent(FILE *out, const json_t *agent)
{
	const char *serial = string_member(agent, "serial");

	cli_print_field(out, "SPIFFE ID", string_member(agent, "spiffe_id"));
	/* A banned agent has no current SVID, so no serial. */
	cli_print_field(out, "Serial", serial[0] ? serial : "none");
	print_time(out, "Expires at", agent, "expires_at");
	print_time(out, "Attested at", agent, "attested_at");
	cli_print_field(out, "Banned", json_is_true(json_object_get(agent, "banned")) ? "true" :
		"false");
}

void cli_print_agent_list(FILE *out, const json_t *agents)
{
	size_t i;
	const json_t *agent;

	print_found(out, json_array_size(agents), "agent", "agents");
	json_array_foreach(agents, i, agent) {
		fputc('\n', out);
		print_agent(out, agent);
	}
}

void cli_print_signature(FILE *out, const json_t *signature)
{
	const char *predicate_type = string_member(signature, "predicate_type");

	cli_print_field(out, "Signature ID", string_member(signature, "id"));
	cli_print_field(out, "Digest", string_member(signature, "digest"));
	cli_print_field(out, "Kind", string_member(signature, "kind"));
	cli_print_field(out, "Signer", string_member(signature, "signer"));
	if (predicate_type[0])
		cli_print_field(out, "Predicate type", predicate_type);
	print_time(out, "Created at", signature, "created_at");
}

void cli_print_signature_list(FILE *out, const json_t *signatures)
{
	size_t i;
	const json_t *signature;

	print_found(out, json_array_size(signatures), "signature", "signatures");
	json_array_foreach(signatures, i, signature) {
		fputc('\n', out);
		cli_print_signature(out, signature);
	}
}

static void print_slot(FILE *out, const json_t *slot)
{
	print_integer(out, "Slot ID", slot, "id");
	cli_print_field(out, "State", string_member(slot, "state"));
	cli_print_field(out, "Key type", string_member(slot, "key_type"));
	print_time(out, "Not before", slot, "not_before");
	print_time(out, "Not after", slot, "not_after");
	cli_print_field(out, "Fingerprint", string_member(slot, "x509_fingerprint"));
	cli_print_field(out, "JWT key ID", string_member(slot, "jwt_kid"));
}

void cli_print_ca(FILE *out, const json_t *status)
{
	size_t i;
	const json_t *slot;

	cli_print_field(out, "Trust domain", string_member(status, "trust_domain"));
	print_integer(out, "Sequence", status, "sequence");
	print_integer(out, "CRL number", status, "crl_number");
	json_array_foreach(json_object_get(status, "slots"), i, slot) {
		fputc('\n', out);
		print_slot(out, slot);
	}
}

int cli_print_list_json(FILE *out, const char *key, json_t *items)
{
	json_t *joined = json_pack("{s:O, s:s}", key, items, "next_page_token", "");
	int rc = 1;

	if (joined && json_dumpf(joined, out, JSON_COMPACT) == 0 && fputc('\n', out) != EOF)
		rc = 0;
	json_decref(joined);
	return rc;
}
