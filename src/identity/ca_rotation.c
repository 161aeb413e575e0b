/* CA rotation on the schedule of SPIRE's CA manager. The next slot is
 * prepared once the active one's remaining life is under min(lifetime/2,
 * 30 d) and activated once it is under min(lifetime/6, 7 d). A slot leaves
 * the bundle prune_grace_seconds after it expires. SPIRE keeps an expired CA
 * for 24 h, but the default grace here is 0: x509svid_issue cuts every SVID
 * to its CA's notAfter, so nothing still valid chains to an expired CA. */
#include <inttypes.h>

#include "identity/authority_internal.h"

#define THIRTY_DAYS (30 * 86400)
#define SEVEN_DAYS (7 * 86400)

/* The lifetime counts from when the slot was made, not from the backdated
 * notBefore, as SPIRE's thresholds count it. */
static int64_t slot_lifetime(const struct authority_slot *slot)
{
	return slot->not_after - slot->issued_at;
}

int64_t ca_preparation_threshold(const struct authority_slot *slot)
{
	int64_t half = slot_lifetime(slot) / 2;

	return half < THIRTY_DAYS ? half : THIRTY_DAYS;
}

int64_t ca_activation_threshold(const struct authority_slot *slot)
{
	int64_t sixth = slot_lifetime(slot) / 6;

	return sixth < SEVEN_DAYS ? sixth : SEVEN_DAYS;
}

/* The slots after the tick, and what changed on the way. Nothing here
 * touches the authority until the store transaction has committed. */
struct tick_plan {
	struct authority_slot *slots[AUTHORITY_MAX_SLOTS];
	enum authority_slot_state states[AUTHORITY_MAX_SLOTS];
	size_t count;
	struct authority_slot *pruned[AUTHORITY_MAX_SLOTS];
	size_t pruned_count;
	struct authority_slot *created;
	struct authority_slot *activated;
	struct authority_slot *deactivated;
	bool crl_due[AUTHORITY_MAX_SLOTS];
	bool crls_reissued;
};

static bool prune_due(const struct authority *authority, const struct authority_slot *slot,
	enum authority_slot_state state, int64_t now)
{
	/* A prepared slot that expired before it was activated can never sign,
	 * whatever the grace. */
	if (state == AUTHORITY_SLOT_PREPARED)
		return now >= slot->not_after;
	if (state == AUTHORITY_SLOT_OLD)
		return now > slot->not_after + authority->config.prune_grace_seconds;
	return false;
}

/* Moves the slots that prune_due selects from plan->slots to plan->pruned,
 * keeping the order of the rest. */
static void plan_prune(const struct authority *authority, struct tick_plan *plan, int64_t now)
{
	size_t kept = 0;

	for (size_t i = 0; i < plan->count; i++) {
		if (prune_due(authority, plan->slots[i], plan->states[i], now)) {
			plan->pruned[plan->pruned_count++] = plan->slots[i];
			continue;
		}
		plan->slots[kept] = plan->slots[i];
		plan->states[kept] = plan->states[i];
		kept++;
	}
	plan->count = kept;
}

static struct authority_slot *plan_find(const struct tick_plan *plan,
	enum authority_slot_state state, size_t *ret_index)
{
	for (size_t i = 0; i < plan->count; i++) {
		if (plan->states[i] == state) {
			*ret_index = i;
			return plan->slots[i];
		}
	}
	return NULL;
}

/* Runs inside the tick's transaction: the slot id counter is read and
 * advanced there, and the new slot's key files are written. */
static int plan_prepare(struct authority *authority, struct tick_plan *plan, int64_t now,
	struct wd_error *err)
{
	int64_t id = 0;

	if (plan->count >= AUTHORITY_MAX_SLOTS)
		return wd_error_set(err, WD_ETOOBIG,
			"cannot prepare a CA: %d slots are published; lower prune_grace",
			AUTHORITY_MAX_SLOTS);

	WD_TRY(authority_state_get(authority->store, AUTHORITY_STATE_NEXT_SLOT, &id, err));
	for (size_t i = 0; i < plan->count; i++) {
		if (id <= plan->slots[i]->id)
			id = plan->slots[i]->id + 1;
	}
	for (size_t i = 0; i < plan->pruned_count; i++) {
		if (id <= plan->pruned[i]->id)
			id = plan->pruned[i]->id + 1;
	}

	WD_TRY(ca_slot_create(authority, id, now, &plan->created, err));
	WD_TRY(ca_slot_insert(authority->store, plan->created, err));
	WD_TRY(authority_state_set(authority->store, AUTHORITY_STATE_NEXT_SLOT, id + 1, err));

	plan->slots[plan->count] = plan->created;
	plan->states[plan->count] = AUTHORITY_SLOT_PREPARED;
	plan->count++;
	return 0;
}

static int plan_rotation(struct authority *authority, struct tick_plan *plan, int64_t now,
	struct wd_error *err)
{
	struct authority_slot *active;
	struct authority_slot *prepared;
	size_t active_index = 0;
	size_t prepared_index = 0;

	for (size_t i = 0; i < authority->slot_count; i++) {
		plan->slots[i] = authority->slots[i];
		plan->states[i] = authority->slots[i]->state;
	}
	plan->count = authority->slot_count;
	plan_prune(authority, plan, now);

	active = plan_find(plan, AUTHORITY_SLOT_ACTIVE, &active_index);
	if (!active)
		return wd_error_set(err, WD_ECORRUPT, "the authority has no active CA slot");

	prepared = plan_find(plan, AUTHORITY_SLOT_PREPARED, &prepared_index);
	if (!prepared && active->not_after - now < ca_preparation_threshold(active)) {
		WD_TRY(plan_prepare(authority, plan, now, err));
		prepared = plan->created;
		prepared_index = plan->count - 1;
	}

	if (prepared && active->not_after - now < ca_activation_threshold(active)) {
		plan->states[active_index] = AUTHORITY_SLOT_OLD;
		plan->states[prepared_index] = AUTHORITY_SLOT_ACTIVE;
		plan->deactivated = active;
		plan->activated = prepared;
		/* The slot just retired may be expired already, after an outage. */
		plan_prune(authority, plan, now);
	}
	return 0;
}

static int store_plan(struct authority *authority, const struct tick_plan *plan,
	struct wd_error *err)
{
	if (plan->activated) {
		WD_TRY(ca_slot_set_state(authority->store, plan->deactivated->id, "old", err));
		WD_TRY(ca_slot_set_state(authority->store, plan->activated->id, "active", err));
	}
	for (size_t i = 0; i < plan->pruned_count; i++)
		WD_TRY(ca_slot_set_state(authority->store, plan->pruned[i]->id, "pruned", err));
	return 0;
}

/* Takes the committed plan over: states, the new slot list, freed pruned
 * slots and their key files. */
static void apply_plan(struct authority *authority, struct tick_plan *plan)
{
	for (size_t i = 0; i < plan->count; i++) {
		plan->slots[i]->state = plan->states[i];
		authority->slots[i] = plan->slots[i];
	}
	for (size_t i = plan->count; i < AUTHORITY_MAX_SLOTS; i++)
		authority->slots[i] = NULL;
	authority->slot_count = plan->count;

	for (size_t i = 0; i < plan->pruned_count; i++) {
		ca_slot_remove_keys(authority, plan->pruned[i]->id);
		ca_slot_free(plan->pruned[i]);
		plan->pruned[i] = NULL;
	}
	plan->created = NULL;
}

static void report_plan(const struct tick_plan *plan, bool bundle_changed, uint64_t sequence,
	struct authority_changes *ret_changes)
{
	*ret_changes = (struct authority_changes){
		.prepared_slot = plan->created ? plan->created->id : 0,
		.activated_slot = plan->activated ? plan->activated->id : 0,
		.deactivated_slot = plan->deactivated ? plan->deactivated->id : 0,
		.pruned_count = plan->pruned_count,
		.crls_reissued = plan->crls_reissued,
		.bundle_changed = bundle_changed,
		.sequence = sequence,
	};
	for (size_t i = 0; i < plan->pruned_count; i++)
		ret_changes->pruned_slots[i] = plan->pruned[i]->id;
}

static int tick_locked(struct authority *authority, int64_t now,
	struct authority_changes *ret_changes, struct wd_error *err)
{
	struct authority_crl_stage stage = { 0 };
	struct authority_changes changes;
	struct tick_plan plan = { 0 };
	bool in_transaction = false;
	bool bundle_changed;
	uint64_t sequence = authority->sequence;
	int rc;

	/* Preparing a slot writes keys, and every other step signs a CRL. */
	if (authority_sealed_locked(authority)) {
		*ret_changes = (struct authority_changes){ .sequence = sequence };
		return 0;
	}

	WD_GUARD(store_begin(authority->store, err));
	in_transaction = true;
	WD_GUARD(plan_rotation(authority, &plan, now, err));
	WD_GUARD(store_plan(authority, &plan, err));

	for (size_t i = 0; i < plan.count; i++) {
		plan.crl_due[i] = authority_crl_due(plan.slots[i], now);
		plan.crls_reissued = plan.crls_reissued || plan.crl_due[i];
	}
	WD_GUARD(authority_crl_stage_build(authority, plan.slots, plan.count, plan.crl_due, now,
		&stage, err));

	bundle_changed = plan.created || plan.pruned_count > 0 || plan.crls_reissued;
	if (bundle_changed)
		WD_GUARD(authority_sequence_bump(authority, &sequence, err));
	in_transaction = false;
	WD_GUARD(store_commit(authority->store, err));

	report_plan(&plan, bundle_changed, sequence, &changes);
	authority_crl_stage_install(authority, plan.slots, plan.count, &stage);
	authority->sequence = sequence;
	apply_plan(authority, &plan);

	*ret_changes = changes;
	rc = 0;
out:
	if (in_transaction)
		store_rollback(authority->store);
	if (plan.created) {
		ca_slot_remove_keys(authority, plan.created->id);
		ca_slot_free(plan.created);
	}
	authority_crl_stage_release(&stage);
	return rc;
}

int authority_tick(struct authority *authority, int64_t now,
	struct authority_changes *ret_changes, struct wd_error *err)
{
	int rc;

	*ret_changes = (struct authority_changes){ 0 };
	pthread_mutex_lock(&authority->lock);
	rc = tick_locked(authority, now, ret_changes, err);
	pthread_mutex_unlock(&authority->lock);
	return rc;
}
