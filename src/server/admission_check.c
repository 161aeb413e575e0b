/* The issuance-time decision for an entry with require_signed: every
 * unix:sha256 digest of the entry needs a registered signature that
 * verifies now. */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/encoding.h"
#include "server/admission_internal.h"

/* Finds the first stored signature of digest that verifies now and fills
 * grant; WD_EPERM naming the entry, the digest and the reason otherwise. */
static int admit_digest(struct admission *admission, struct authority *authority,
	const struct registry_entry *entry, const char *hex, int64_t now,
	struct admission_grant *grant, struct wd_error *err)
{
	struct admission_signature_list *list = NULL;
	struct admission_verdict verdict;
	struct wd_error reason;
	uint8_t *digest = NULL;
	size_t digest_len = 0;
	int rc;

	wd_error_clear(&reason);
	/* The registry accepts require_signed only with 64 lowercase hex digits. */
	if (wd_hex_decode(hex, strlen(hex), &digest, &digest_len) < 0 ||
	    digest_len != SUPPLY_DIGEST_LEN) {
		free(digest);
		return wd_error_set(err, WD_EPERM, "entry %s requires a signed binary, but its "
			"selector unix:sha256:%.80s is not a SHA-256 digest", entry->id, hex);
	}
	WD_GUARD(admission_signature_list(admission, digest, true, &list, err));
	if (list->count == 0) {
		rc = wd_error_set(err, WD_EPERM, "entry %s requires a signed binary: sha256:%s has "
			"no registered signature", entry->id, hex);
		goto out;
	}

	for (size_t i = 0; i < list->count; i++) {
		const struct admission_signature *signature = list->items[i];

		wd_error_clear(&reason);
		if (admission_verify(admission, authority, digest, signature->content,
			signature->content_len, now, &verdict, &reason) < 0)
			continue;
		snprintf(grant->digest_hex, sizeof(grant->digest_hex), "%s", hex);
		snprintf(grant->signature_id, sizeof(grant->signature_id), "%s", signature->id);
		snprintf(grant->signer, sizeof(grant->signer), "%s", verdict.signer);
		rc = 0;
		goto out;
	}
	/* The last signature's reason is given; with one signature, the usual
	 * case, that is the whole story. */
	rc = wd_error_set(err, WD_EPERM, "entry %s requires a signed binary: no signature of "
		"sha256:%s verifies now (%zu registered; signature %s: %.200s)", entry->id, hex,
		list->count, list->items[list->count - 1]->id, wd_error_text(&reason));
out:
	admission_signature_list_free(list);
	free(digest);
	return rc;
}

int admission_check_entry(struct admission *admission, struct authority *authority,
	const struct registry_entry *entry, int64_t now, struct admission_grant **ret_grants,
	size_t *ret_grant_count, char *ret_refused_digest, struct wd_error *err)
{
	struct admission_grant *grants = NULL;
	size_t count = 0;
	int rc = 0;

	*ret_grants = NULL;
	*ret_grant_count = 0;
	ret_refused_digest[0] = '\0';
	if (!entry->require_signed)
		return 0;

	grants = wd_calloc(entry->selector_count ? entry->selector_count : 1, sizeof(*grants));
	if (!grants)
		return wd_error_set(err, WD_ENOMEM, "admission: out of memory");
	for (size_t i = 0; i < entry->selector_count; i++) {
		const char *hex = registry_selector_sha256(entry->selectors[i]);

		if (!hex)
			continue;
		rc = admit_digest(admission, authority, entry, hex, now, &grants[count], err);
		if (rc < 0) {
			snprintf(ret_refused_digest, 2 * SUPPLY_DIGEST_LEN + 1, "%s", hex);
			goto out;
		}
		count++;
	}
	/* Stored before the flag needed a digest, or changed in the datastore:
	 * an entry that names no binary cannot be admitted. */
	if (count == 0) {
		rc = wd_error_set(err, WD_EPERM, "entry %s requires a signed binary, but has no "
			"unix:sha256 selector", entry->id);
		goto out;
	}

	*ret_grants = WD_TAKE_PTR(grants);
	*ret_grant_count = count;
out:
	free(grants);
	return rc;
}
