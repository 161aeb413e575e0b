/* libFuzzer harness: the admission check of a registered signature. The
 * input is a digest line ("sha256:<hex>\n") and a Sigstore bundle or DSSE
 * envelope, verified against one fixed trusted key and the SPDX predicate
 * type. The seeds are signed with that key, so mutations reach the checks
 * after the signature too. A failure must carry a detail; a success must
 * name the key and, for an attestation, the predicate type. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/admission_internal.h"
#include "supply/bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char trusted_pem[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEKVoj9AAz/v2adevjhc98O2IFBQQJ\n"
	"uV00fSuNznylQ7w96sdNL+8wqVRW6QGACvrJ1JbczChsZ1caCcCk9fs2UA==\n"
	"-----END PUBLIC KEY-----\n";

static EVP_PKEY *key;
static char *hint;
static char spdx[] = "https://spdx.dev/Document";
static char *predicate_types[] = { spdx };

/* The admission state without a store or an authority: only key signers
 * are trusted, so verification touches neither. */
static struct admission *trusted_admission(void)
{
	static struct admission admission;

	if (!key) {
		struct wd_error err = { 0 };

		if (supply_public_key_from_pem(trusted_pem, sizeof(trusted_pem) - 1, &key,
			&err) < 0 || supply_bundle_key_hint(key, &hint, &err) < 0)
			__builtin_trap();
		admission.keys = &key;
		admission.key_hints = &hint;
		admission.key_count = 1;
		admission.predicate_types = predicate_types;
		admission.predicate_type_count = 1;
	}
	return &admission;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct admission *admission = trusted_admission();
	struct admission_verdict verdict;
	struct wd_error err = { 0 };
	uint8_t digest[SUPPLY_DIGEST_LEN];
	const uint8_t *newline = memchr(data, '\n', size);
	char line[128];
	size_t line_len;
	int rc;

	if (!newline)
		return 0;
	line_len = (size_t)(newline - data);
	if (line_len >= sizeof(line))
		return 0;
	memcpy(line, data, line_len);
	line[line_len] = '\0';
	if (admission_digest_parse("digest", line, digest, &err) < 0) {
		if (err.detail[0] == '\0')
			__builtin_trap();
		return 0;
	}

	rc = admission_verify(admission, NULL, digest, (const char *)newline + 1,
		size - line_len - 1, 0, &verdict, &err);
	if (rc < 0) {
		if (err.detail[0] == '\0' || verdict.kind)
			__builtin_trap();
		return 0;
	}
	if (strncmp(verdict.signer, "key:", 4) != 0 || strcmp(verdict.signer + 4, hint) != 0)
		__builtin_trap();
	if (strcmp(verdict.kind, "attestation") == 0 ?
		strcmp(verdict.predicate_type, spdx) != 0 : verdict.predicate_type[0] != '\0')
		__builtin_trap();
	return 0;
}
