/* An explicit revocation (sys/leases/revoke) whose backend work runs on a
 * worker thread: the request waits without holding the event loop, and the
 * lease is deleted once the backend reports the secret gone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "secrets/expire_internal.h"

struct revoke_request {
	struct vault_call *call;
	struct lease *lease;
};

static void revoke_request_done(struct secrets *secrets, void *context, int rc,
	struct wd_error *err)
{
	struct revoke_request *job = context;
	struct wd_error done_err;
	char detail[sizeof(done_err.detail)];

	wd_error_clear(&done_err);
	if (rc < 0) {
		/* The message of the revocation run in place. */
		snprintf(detail, sizeof(detail), "%s", wd_error_text(err));
		wd_error_set(&done_err, rc, "failed to revoke lease \"%s\": %s",
			job->lease->lease_id, detail);
	} else if (expire_lease_delete(secrets, job->lease, &done_err) < 0) {
		rc = done_err.code;
	} else {
		expire_schedule_remove(secrets->expiration->schedule, job->lease->lease_id);
		log_info("expire", "lease revoked", "lease_id", job->lease->lease_id);
	}
	vault_call_finish(job->call, rc, &done_err);
	expire_lease_free(job->lease);
	free(job);
}

/* Starts the backend's revocation on a worker. Returns VAULT_PENDING when
 * it did (the job then owns lease), or a negative code to revoke in place. */
static int revoke_on_worker(struct secrets *secrets, struct vault_request *req,
	struct lease *lease, struct wd_error *err)
{
	struct vault_mount *mount = vault_mount_lookup(secrets, lease->path);
	struct revoke_request *job;
	struct vault_call *call;

	if (!req->call || !mount || strcmp(mount->path, lease->mount) != 0 ||
	    !mount->backend->lease_revoke_start)
		return WD_EUNSUPPORTED;
	job = calloc(1, sizeof(*job));
	if (!job)
		return WD_EUNSUPPORTED;
	call = vault_request_defer(req);
	if (!call) {
		free(job);
		return WD_EUNSUPPORTED;
	}
	job->call = call;
	job->lease = lease;
	if (mount->backend->lease_revoke_start(secrets, mount, lease->internal,
		    revoke_request_done, job, err) < 0) {
		/* Deferred already: the caller revokes in place and the core
		 * finishes the request. */
		wd_error_clear(err);
		free(job);
		return WD_EUNSUPPORTED;
	}
	return VAULT_PENDING;
}

int expire_revoke_request(struct secrets *secrets, struct vault_request *req,
	const char *lease_id, struct wd_error *err)
{
	struct lease *lease = NULL;
	int rc;

	WD_TRY(expire_check_ready(secrets, err));
	rc = expire_lease_load(secrets, lease_id, &lease, err);
	if (rc == WD_ENOTFOUND) {
		wd_error_clear(err);
		return 0;
	}
	if (rc < 0)
		return rc;

	rc = revoke_on_worker(secrets, req, lease, err);
	if (rc == VAULT_PENDING)
		return rc;
	rc = expire_revoke_lease(secrets, lease, false, err);
	expire_lease_free(lease);
	return rc;
}
