/* libFuzzer harness: parses arbitrary bytes as a Sigstore bundle and checks
 * the parser's promises. A bundle it accepts has one form of material and
 * of content, with the parts that form needs; one that can be written
 * (it has a message digest, or is a DSSE bundle) reads back the same. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "supply/bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_invariants(const struct supply_bundle *bundle)
{
	if (bundle->minor_version < 1 || bundle->minor_version > 3)
		__builtin_trap();
	if (bundle->material == SUPPLY_MATERIAL_PUBLIC_KEY) {
		if (!bundle->key_hint || bundle->certificates)
			__builtin_trap();
	} else if (!bundle->certificates || sk_X509_num(bundle->certificates) < 1 ||
		   sk_X509_num(bundle->certificates) > SUPPLY_BUNDLE_CERTS_MAX) {
		__builtin_trap();
	}
	if (bundle->content == SUPPLY_CONTENT_MESSAGE_SIGNATURE) {
		if (!bundle->signature || bundle->signature_len == 0)
			__builtin_trap();
	} else if (!bundle->envelope.payload_type || !bundle->envelope.payload ||
		   bundle->envelope.signature_count < 1) {
		__builtin_trap();
	}
}

static void check_round_trip(const struct supply_bundle *bundle)
{
	struct supply_bundle again;
	struct wd_error err = { 0 };
	char *text = NULL;

	if (bundle->content == SUPPLY_CONTENT_MESSAGE_SIGNATURE && !bundle->has_message_digest)
		return;
	if (supply_bundle_write(bundle, &text, &err) < 0)
		return;
	if (supply_bundle_parse(text, strlen(text), &again, &err) < 0)
		__builtin_trap();
	if (again.content != bundle->content || again.signature_len != bundle->signature_len ||
	    (bundle->signature_len &&
		    memcmp(again.signature, bundle->signature, bundle->signature_len) != 0) ||
	    again.envelope.payload_len != bundle->envelope.payload_len)
		__builtin_trap();
	supply_bundle_clear(&again);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct supply_bundle bundle;
	struct wd_error err = { 0 };

	if (supply_bundle_parse((const char *)data, size, &bundle, &err) < 0) {
		/* A failure has a detail and leaves nothing behind. */
		if (err.detail[0] == '\0' || bundle.signature || bundle.certificates)
			__builtin_trap();
		return 0;
	}
	check_invariants(&bundle);
	check_round_trip(&bundle);
	supply_bundle_clear(&bundle);
	return 0;
}
