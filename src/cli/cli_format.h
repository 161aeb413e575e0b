/* Text output of the operator commands, in spire-server's "Label : value"
 * layout, from the admin API's JSON objects. A missing or mistyped field
 * prints as an empty value instead of failing the command. */
#pragma once

#include <stdio.h>

#include <jansson.h>

#include "common/time.h"

/* Width of the label column before ": ". */
#define CLI_LABEL_WIDTH 14

/* Prints "<label padded> : <value>" and a newline. */
void cli_print_field(FILE *out, const char *label, const char *value);

/* Formats a time field: Unix seconds as RFC 3339 UTC, a string as it is,
 * anything else as "". */
void cli_format_time(const json_t *value, char ret_text[static WD_TIME_TEXT_MAX]);

/* Prints one registration entry as a block of fields: Entry ID, SPIFFE ID,
 * Parent ID, Revision, the TTLs ("default" for 0), one Selector and one DNS
 * name line per value, and Admin and Require signed only when true. */
void cli_print_entry(FILE *out, const json_t *entry);

/* Prints "Found N entries" (or "entry") and each entry after a blank line. */
void cli_print_entry_list(FILE *out, const json_t *entries);

/* Prints "Found N agents" (or "agent") and each agent (SPIFFE ID, serial,
 * expiry, attestation time, banned) after a blank line. */
void cli_print_agent_list(FILE *out, const json_t *agents);

/* Prints one registered signature of /v1/signatures: Signature ID, Digest,
 * Kind, Signer, Predicate type (attestations only) and Created at. */
void cli_print_signature(FILE *out, const json_t *signature);

/* Prints "Found N signatures" (or "signature") and each after a blank line. */
void cli_print_signature_list(FILE *out, const json_t *signatures);

/* Prints the CA status of GET /v1/ca: trust domain, bundle sequence, CRL
 * number, then one block per slot (id, state, key type, validity,
 * fingerprint, JWT key ID). */
void cli_print_ca(FILE *out, const json_t *status);

/* Prints {"<key>": items, "next_page_token": ""} as compact JSON and a
 * newline: the pages of a list route joined in the shape of one response.
 * Returns 0, or 1 when memory runs out or writing fails. */
int cli_print_list_json(FILE *out, const char *key, json_t *items);
