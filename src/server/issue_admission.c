/* Admission control at the two routes that issue SVIDs for an entry on an
 * agent's request, /v1/svid/x509 and /v1/svid/jwt. This file logs each
 * refusal and audits each admitted binary. A refusal returns to the route,
 * which audits it with its other failures. */
#include <stdio.h>

#include "common/log.h"
#include "common/time.h"
#include "server/admission.h"
#include "server/server_internal.h"

int server_admit_entry(struct server_ctx *ctx, const struct caller *caller,
	const struct registry_entry *entry, struct wd_error *err)
{
	struct admission_grant *grants = NULL;
	char refused[2 * SUPPLY_DIGEST_LEN + 1];
	size_t count = 0;
	int rc;

	if (!entry->require_signed)
		return 0;
	rc = admission_check_entry(ctx->admission, ctx->authority, entry, wd_now(), &grants,
		&count, refused, err);
	if (rc < 0) {
		log_warn("server", "svid issuance refused by admission control", "entry_id",
			entry->id, "spiffe_id", entry->spiffe_id, "agent_id", caller->spiffe_id,
			"digest", refused[0] ? refused : "-", "error", wd_error_text(err));
		return rc;
	}

	for (size_t i = 0; i < count; i++) {
		char detail[ADMISSION_SIGNER_MAX + 256];

		snprintf(detail, sizeof(detail), "entry=%s sha256:%s signature=%s signer=%s",
			entry->id, grants[i].digest_hex, grants[i].signature_id, grants[i].signer);
		server_audit(ctx, caller->actor, "svid.admit", entry->spiffe_id, "success", detail);
	}
	free(grants);
	return 0;
}
