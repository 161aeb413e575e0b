/* Lease claims on a datastore that several servers share. Only the server
 * holding the singleton lock revokes expired leases, but a holder can die
 * between dropping a lease's secret and deleting its record, or stall long
 * enough for another to take over. Before it calls the backend, a server
 * therefore records its name and the time in the lease, in one transaction
 * with a fresh read. Only the claimer deletes the record afterwards, again
 * after a fresh read. A claim older than the takeover bound is stale: its
 * server is presumed dead and the next holder claims the lease again and
 * revokes it once more, which backends accept for a secret already gone.
 * Each lease therefore ends with exactly one deletion, by one server. */
#include <stdio.h>
#include <string.h>

#include "secrets/barrier.h"
#include "secrets/expire_internal.h"

enum expire_claim_decision expire_claim_decide(const struct lease *lease, const char *node_id,
	int64_t now, int64_t stale_after, int64_t *ret_wait_until)
{
	*ret_wait_until = 0;
	if (!lease->claim_owner[0] || strcmp(lease->claim_owner, node_id) == 0)
		return EXPIRE_CLAIM_TAKE;
	/* A claim from the future (clock skew between servers) counts from now. */
	if (lease->claim_time <= now && now - lease->claim_time >= stale_after)
		return EXPIRE_CLAIM_TAKE;
	*ret_wait_until = (lease->claim_time <= now ? lease->claim_time : now) + stale_after;
	return EXPIRE_CLAIM_WAIT;
}

int expire_claim(struct secrets *secrets, const char *lease_id, int64_t now,
	struct lease **ret_lease, int64_t *ret_wait_until, struct wd_error *err)
{
	struct lease *lease = NULL;
	bool in_transaction = false;
	int rc;

	*ret_lease = NULL;
	*ret_wait_until = 0;
	WD_GUARD(barrier_begin(secrets->barrier, err));
	in_transaction = true;
	WD_GUARD(expire_lease_load(secrets, lease_id, &lease, err));
	if (expire_lease_due(lease) <= now &&
	    expire_claim_decide(lease, secrets->config.node_id, now,
		    secrets->config.claim_stale_seconds, ret_wait_until) == EXPIRE_CLAIM_WAIT) {
		rc = wd_error_set(err, WD_EUNAVAILABLE, "lease \"%s\" is claimed by server \"%s\"",
			lease_id, lease->claim_owner);
		goto out;
	}
	/* A renewed lease is returned unclaimed: the caller reschedules it. */
	if (expire_lease_due(lease) <= now) {
		snprintf(lease->claim_owner, sizeof(lease->claim_owner), "%s",
			secrets->config.node_id);
		lease->claim_time = now;
		WD_GUARD(expire_lease_save(secrets, lease, err));
	}
	in_transaction = false;
	WD_GUARD(barrier_commit(secrets->barrier, err));
	*ret_lease = lease;
	lease = NULL;
	rc = 0;
out:
	if (in_transaction)
		barrier_rollback(secrets->barrier);
	expire_lease_free(lease);
	return rc;
}

int expire_claim_finish(struct secrets *secrets, const struct lease *lease,
	struct wd_error *err)
{
	struct lease *stored = NULL;
	bool in_transaction = false;
	int rc;

	WD_GUARD(barrier_begin(secrets->barrier, err));
	in_transaction = true;
	WD_GUARD(expire_lease_load(secrets, lease->lease_id, &stored, err));
	if (strcmp(stored->claim_owner, lease->claim_owner) != 0 ||
	    stored->claim_time != lease->claim_time) {
		rc = wd_error_set(err, WD_ECONFLICT, "server \"%s\" took over lease \"%s\"",
			stored->claim_owner, lease->lease_id);
		goto out;
	}
	WD_GUARD(expire_lease_delete(secrets, stored, err));
	in_transaction = false;
	WD_GUARD(barrier_commit(secrets->barrier, err));
	rc = 0;
out:
	if (in_transaction)
		barrier_rollback(secrets->barrier);
	expire_lease_free(stored);
	return rc;
}
