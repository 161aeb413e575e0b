/* Audit records of the secrets API. Every string of a request or response
 * is replaced by its HMAC-SHA256 under a salt kept in the barrier. The
 * chain shows that a value was read or written, and which one when the
 * operator hashes a candidate, but never the value itself. */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "secrets/secrets_internal.h"

void vault_audit_hash(const struct secrets *secrets, const char *text, char *out, size_t len)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	static const char hex[] = "0123456789abcdef";
	char digits[2 * EVP_MAX_MD_SIZE + 1];

	/* Responses of sys/init hold the root token and the unseal keys while
	 * no salt exists; a hash under a zero key would reveal them. */
	if (!secrets->audit_salt_loaded) {
		snprintf(out, len, "redacted");
		return;
	}
	if (!HMAC(EVP_sha256(), secrets->audit_salt, sizeof(secrets->audit_salt),
		(const unsigned char *)text, strlen(text), mac, &mac_len)) {
		snprintf(out, len, "hmac-sha256:error");
		return;
	}
	for (unsigned int i = 0; i < mac_len; i++) {
		digits[2 * i] = hex[mac[i] >> 4];
		digits[2 * i + 1] = hex[mac[i] & 0xf];
	}
	digits[2 * mac_len] = '\0';
	snprintf(out, len, "hmac-sha256:%s", digits);
}

json_t *vault_audit_redact(const struct secrets *secrets, const json_t *value)
{
	char hashed[96];

	if (!value)
		return json_null();
	switch (json_typeof(value)) {
	case JSON_STRING:
		vault_audit_hash(secrets, json_string_value(value), hashed, sizeof(hashed));
		return json_string(hashed);
	case JSON_OBJECT: {
		json_t *copy = json_object();
		const char *key;
		json_t *item;

		if (!copy)
			return NULL;
		json_object_foreach((json_t *)value, key, item) {
			json_t *redacted = vault_audit_redact(secrets, item);

			if (!redacted || json_object_set_new(copy, key, redacted) < 0) {
				json_decref(copy);
				return NULL;
			}
		}
		return copy;
	}
	case JSON_ARRAY: {
		json_t *copy = json_array();
		size_t index;
		json_t *item;

		if (!copy)
			return NULL;
		json_array_foreach(value, index, item) {
			json_t *redacted = vault_audit_redact(secrets, item);

			if (!redacted || json_array_append_new(copy, redacted) < 0) {
				json_decref(copy);
				return NULL;
			}
		}
		return copy;
	}
	default:
		return json_deep_copy(value);
	}
}
