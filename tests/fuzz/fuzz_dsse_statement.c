/* libFuzzer harness: parses arbitrary bytes as a DSSE envelope and, on its
 * own, as an in-toto Statement. An accepted envelope has a payload type and
 * signatures, its PAE has the length the protocol gives, its JSON reads back
 * the same, and its payload goes through the Statement parser. An accepted
 * Statement has subjects, and matching a digest against them never fails
 * with anything but a mismatch. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supply/dsse.h"
#include "supply/intoto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_statement(const uint8_t *data, size_t size)
{
	static const uint8_t digest[SUPPLY_DIGEST_LEN] = { 0 };
	struct supply_statement statement;
	struct wd_error err = { 0 };
	int rc;

	if (supply_statement_parse(data, size, &statement, &err) < 0) {
		if (err.detail[0] == '\0' || statement.root)
			__builtin_trap();
		return;
	}
	if (!statement.type || !statement.predicate_type ||
	    json_array_size(statement.subjects) < 1)
		__builtin_trap();
	rc = supply_statement_match_subject(&statement, digest, &err);
	if (rc != WD_OK && rc != WD_ECRYPTO)
		__builtin_trap();
	supply_statement_clear(&statement);
}

static void check_pae(const struct supply_dsse_envelope *envelope)
{
	char header[64];
	uint8_t *pae = NULL;
	size_t len = 0;
	int n = snprintf(header, sizeof(header), "DSSEv1 %zu ", strlen(envelope->payload_type));

	if (supply_dsse_pae(envelope->payload_type, envelope->payload, envelope->payload_len,
		    &pae, &len) < 0)
		__builtin_trap();
	if (len < envelope->payload_len + (size_t)n ||
	    memcmp(pae + len - envelope->payload_len, envelope->payload,
		    envelope->payload_len) != 0 ||
	    memcmp(pae, header, (size_t)n) != 0)
		__builtin_trap();
	free(pae);
}

static void check_round_trip(const struct supply_dsse_envelope *envelope)
{
	struct supply_dsse_envelope again;
	struct wd_error err = { 0 };
	json_t *json = NULL;
	char *text;

	if (supply_dsse_to_json(envelope, &json) < 0)
		return;
	text = json_dumps(json, JSON_COMPACT);
	json_decref(json);
	if (!text)
		return;
	if (supply_dsse_parse(text, strlen(text), &again, &err) < 0 ||
	    again.payload_len != envelope->payload_len ||
	    again.signature_count != envelope->signature_count ||
	    strcmp(again.payload_type, envelope->payload_type) != 0)
		__builtin_trap();
	supply_dsse_clear(&again);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct supply_dsse_envelope envelope;
	struct wd_error err = { 0 };

	check_statement(data, size);
	if (supply_dsse_parse((const char *)data, size, &envelope, &err) < 0) {
		if (err.detail[0] == '\0' || envelope.payload || envelope.signatures)
			__builtin_trap();
		return 0;
	}
	if (!envelope.payload_type || envelope.payload_type[0] == '\0' ||
	    envelope.signature_count < 1)
		__builtin_trap();
	check_pae(&envelope);
	check_round_trip(&envelope);
	check_statement(envelope.payload, envelope.payload_len);
	supply_dsse_clear(&envelope);
	return 0;
}
