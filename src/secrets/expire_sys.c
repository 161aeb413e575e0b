/* The sys/leases/... endpoints of Vault's API and the legacy sys/renew,
 * sys/revoke, sys/revoke-prefix and sys/revoke-force paths. Bodies,
 * status codes and messages follow Vault (OpenBao internal/vault/
 * logical_system.go and expiration.go), which hvac and node-vault expect. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/time.h"
#include "net/net_json.h"
#include "secrets/barrier.h"
#include "secrets/expire_internal.h"

/* Irrevocable leases listed when the request gives no limit (Vault's
 * MaxIrrevocableLeasesToReturn). */
#define IRREVOCABLE_LIST_DEFAULT 10000

/* Accessor reported for a lease whose mount is gone, as Vault reports it. */
#define MOUNT_NOT_FOUND "mount-accessor-not-found"

typedef int (*route_fn)(struct secrets *secrets, struct vault_request *req, const char *param,
	struct vault_response *resp, struct wd_error *err);

/* One path below "sys/": exact, or a prefix ending in '/' whose remainder
 * is the parameter. */
struct route {
	const char *path;
	bool prefix;
	unsigned ops;        /* bit (1 << vault_op) per allowed operation */
	route_fn handle;
};

#define OP(op) (1u << (op))
#define OPS_WRITE (OP(VAULT_OP_UPDATE) | OP(VAULT_OP_CREATE))

/* --- Request fields --- */

/* A string field from the body, or for GET requests from the query, as
 * Vault's field data merges both. */
static const char *request_field(const struct vault_request *req, const char *name)
{
	const char *value = json_string_value(json_object_get(req->body, name));

	if (!value && req->net)
		value = net_request_query(req->net, name);
	return value;
}

/* Reads a boolean as Go's strconv.ParseBool does: a JSON bool, or the
 * strings 1, t, T, TRUE, true, True and their false forms. */
static int request_bool(const struct vault_request *req, const char *name, bool fallback,
	bool *ret_value, struct wd_error *err)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };
	const json_t *value = json_object_get(req->body, name);
	const char *text;

	*ret_value = fallback;
	if (json_is_boolean(value)) {
		*ret_value = json_is_true(value);
		return 0;
	}
	if (value && !json_is_null(value) && !json_is_string(value))
		return wd_error_set(err, WD_EINVAL, "invalid value for \"%s\": expected a bool", name);

	text = request_field(req, name);
	if (!text)
		return 0;
	for (size_t i = 0; i < WD_ARRAY_LEN(yes); i++) {
		if (strcmp(text, yes[i]) == 0) {
			*ret_value = true;
			return 0;
		}
		if (strcmp(text, no[i]) == 0) {
			*ret_value = false;
			return 0;
		}
	}
	return wd_error_set(err, WD_EINVAL, "invalid value for \"%s\": \"%.32s\" is not a bool",
		name, text);
}

/* The lease id from the body, else from the URL; Vault's message when
 * neither is given. */
static int request_lease_id(const struct vault_request *req, const char *param,
	const char **ret_id, struct wd_error *err)
{
	const char *id = NULL;

	WD_TRY(net_json_get_string(req->body, "lease_id", false, VAULT_LEASE_ID_MAX - 1, &id, err));
	if (!id || !id[0])
		id = param;
	if (!id || !id[0])
		return wd_error_set(err, WD_EINVAL, "lease_id must be specified");
	*ret_id = id;
	return 0;
}

static void format_time(int64_t seconds, char out[static 40])
{
	vault_format_time(seconds * INT64_C(1000000000), out, 40);
}

/* --- Lookup --- */

/* Whether renewing could succeed now, as Vault's lookup reports it. */
static bool renewable_now(const struct lease *lease, int64_t now)
{
	return lease->renewable && !lease->irrevocable && lease->expire_time > now;
}

static int handle_lookup(struct secrets *secrets, struct vault_request *req, const char *param,
	struct vault_response *resp, struct wd_error *err)
{
	struct lease *lease = NULL;
	const char *id = NULL;
	char issue[40], expire[40], renewal[40];
	int64_t now = wd_now();
	int rc;

	WD_TRY(request_lease_id(req, param, &id, err));
	rc = expire_lease_load(secrets, id, &lease, err);
	if (rc == WD_ENOTFOUND)
		return wd_error_set(err, WD_EINVAL, "invalid lease");
	if (rc < 0)
		return rc;

	format_time(lease->issue_time, issue);
	format_time(lease->expire_time, expire);
	format_time(lease->last_renewal, renewal);
	resp->data = json_pack("{s:s, s:s, s:s, s:o, s:b, s:I, s:s}",
		"id", lease->lease_id,
		"issue_time", issue,
		"expire_time", expire,
		"last_renewal", lease->last_renewal ? json_string(renewal) : json_null(),
		"renewable", renewable_now(lease, now),
		"ttl", (json_int_t)(lease->expire_time > now ? lease->expire_time - now : 0),
		"path", lease->path);
	if (resp->data && lease->irrevocable &&
		json_object_set_new(resp->data, "revoke_error",
			json_string(lease->revoke_err ? lease->revoke_err : "unknown")) < 0)
		rc = WD_ENOMEM;
	expire_lease_free(lease);
	if (!resp->data || rc == WD_ENOMEM)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	return 0;
}

static int add_key(void *context, const char *rest)
{
	return json_array_append_new(context, json_string(rest)) < 0 ? WD_ENOMEM : 0;
}

static int handle_lookup_list(struct secrets *secrets, struct vault_request *req,
	const char *param, struct vault_response *resp, struct wd_error *err)
{
	char key[EXPIRE_KEY_MAX];
	json_t *keys = json_array();
	size_t len = strlen(param);
	int n;
	int rc;

	(void)req;
	if (!keys)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	n = snprintf(key, sizeof(key), "%s%s%s", EXPIRE_ID_PREFIX, param,
		len && param[len - 1] != '/' ? "/" : "");
	if (n < 0 || (size_t)n >= sizeof(key)) {
		json_decref(keys);
		return wd_error_set(err, WD_EINVAL, "prefix \"%.64s...\" is too long", param);
	}

	rc = barrier_list(secrets->barrier, key, true, add_key, keys, err);
	if (rc < 0) {
		json_decref(keys);
		return rc == WD_ENOMEM ? wd_error_set(err, rc, "out of memory") : rc;
	}

	/* A list with no keys is a 404 with an empty error list in Vault. */
	if (json_array_size(keys) == 0) {
		json_decref(keys);
		return wd_error_set(err, WD_ENOTFOUND, "%s", "");
	}
	resp->data = json_pack("{s:o}", "keys", keys);
	return resp->data ? 0 : wd_error_set(err, WD_ENOMEM, "out of memory");
}

/* --- Renew --- */

static int renew_error(struct wd_error *err, const char *message)
{
	return wd_error_set(err, WD_EINVAL, "%s", message);
}

/* Checks the lease can be renewed, in Vault's order of checks. */
static int check_renewable(const struct lease *lease, int64_t now, struct wd_error *err)
{
	if (strncmp(lease->mount, "auth/", 5) == 0)
		return renew_error(err, "tokens cannot be renewed through this endpoint");
	if (lease->irrevocable)
		return renew_error(err, "lease is expired and has failed previous revocation attempts");
	if (lease->expire_time <= now)
		return renew_error(err, "lease expired");
	if (!lease->renewable)
		return renew_error(err, "lease is not renewable");
	return 0;
}

/* Gets a TTL from the backend and caps it so that the lease ends by its
 * issue time plus the mount's maximum. Capping adds Vault's warning. */
static int renew_ttl(struct secrets *secrets, const struct lease *lease, int64_t increment,
	int64_t now, int64_t *ret_ttl, struct vault_response *resp, struct wd_error *err)
{
	struct vault_mount *mount = vault_mount_lookup(secrets, lease->path);
	char warning[256] = "";
	int64_t granted = 0;

	*ret_ttl = 0;
	if (!mount || strcmp(mount->path, lease->mount) != 0)
		return renew_error(err, "lease is not renewable");
	if (!mount->backend->lease_renew)
		return renew_error(err, "lease is not renewable");

	WD_TRY(mount->backend->lease_renew(secrets, mount, lease->internal, lease->issue_time,
		increment, &granted, err));

	/* A zero grant would fall back to the mount's default TTL below,
	 * extending a lease the backend did not extend. */
	if (granted <= 0)
		return renew_error(err, "lease is not renewable");
	WD_TRY(vault_calculate_ttl(secrets, mount, now, lease->issue_time, granted, 0, 0, ret_ttl,
		warning, err));

	/* A backend that capped the increment itself (at a role's max_ttl,
	 * say) returns less than requested: warn as Vault's CalculateTTL does,
	 * naming the TTL that was left. */
	if (!warning[0] && increment > *ret_ttl) {
		char requested[32], left[32];

		vault_format_duration(increment, requested, sizeof(requested));
		vault_format_duration(*ret_ttl, left, sizeof(left));
		snprintf(warning, sizeof(warning), "TTL of \"%s\" exceeded the effective max_ttl of "
			"\"%s\"; TTL value is capped accordingly", requested, left);
	}
	if (warning[0] && vault_response_warn(resp, "%s", warning) < 0)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	return 0;
}

static int handle_renew(struct secrets *secrets, struct vault_request *req, const char *param,
	struct vault_response *resp, struct wd_error *err)
{
	struct lease *lease = NULL;
	const char *id = NULL;
	int64_t increment = 0;
	int64_t ttl;
	int64_t now = wd_now();
	int rc;

	WD_TRY(request_lease_id(req, param, &id, err));
	WD_TRY(vault_json_ttl(req->body, "increment", &increment, err));
	if (increment < 0)
		return wd_error_set(err, WD_EINVAL, "increment must not be negative");

	rc = expire_lease_load(secrets, id, &lease, err);
	if (rc == WD_ENOTFOUND)
		return renew_error(err, strncmp(id, "auth/", 5) == 0
				? "tokens cannot be renewed through this endpoint"
				: "lease not found");
	if (rc < 0)
		return rc;

	WD_GUARD(check_renewable(lease, now, err));
	WD_GUARD(renew_ttl(secrets, lease, increment, now, &ttl, resp, err));

	lease->expire_time = now + ttl;
	lease->last_renewal = now;
	WD_GUARD(expire_lease_update(secrets, lease, err));

	/* The envelope carries the lease; data stays null, as Vault's for
	 * database leases. */
	resp->status = 200;
	snprintf(resp->lease_id, sizeof(resp->lease_id), "%s", lease->lease_id);
	resp->renewable = lease->renewable;
	resp->lease_duration = ttl;
	rc = 0;
out:
	expire_lease_free(lease);
	return rc;
}

/* --- Revoke --- */

static int handle_revoke(struct secrets *secrets, struct vault_request *req, const char *param,
	struct vault_response *resp, struct wd_error *err)
{
	const char *id = NULL;
	bool sync;

	WD_TRY(request_lease_id(req, param, &id, err));

	/* Vault's code defaults sync to true (its docs say false): 204 once
	 * revoked. sync=false queues the lease and replies 202. */
	WD_TRY(request_bool(req, "sync", true, &sync, err));
	if (sync)
		return expire_revoke_request(secrets, req, id, err);

	WD_TRY(expire_revoke_lazily(secrets, id, wd_now(), err));
	resp->status = 202;
	return 0;
}

static int revoke_later(void *context, const char *lease_id)
{
	struct secrets *secrets = context;

	return expire_revoke_lazily(secrets, lease_id, wd_now(), NULL);
}

/* revoke-prefix with sync=false: every lease under prefix becomes due now.
 * A prefix naming one lease queues that lease, as the sync form does. */
static int revoke_prefix_lazily(struct secrets *secrets, const char *prefix,
	struct wd_error *err)
{
	char folder[VAULT_LEASE_ID_MAX];
	size_t len = strlen(prefix);
	int64_t due;

	if (len + 2 > sizeof(folder))
		return wd_error_set(err, WD_EINVAL, "prefix \"%.64s...\" is too long", prefix);
	if (prefix[len - 1] != '/' &&
		expire_schedule_find(secrets->expiration->schedule, prefix, &due))
		return expire_revoke_lazily(secrets, prefix, wd_now(), err);

	snprintf(folder, sizeof(folder), "%s%s", prefix, prefix[len - 1] == '/' ? "" : "/");
	return expire_lease_each(secrets, folder, revoke_later, secrets, err);
}

static int handle_revoke_prefix(struct secrets *secrets, struct vault_request *req,
	const char *param, struct vault_response *resp, struct wd_error *err)
{
	bool sync;

	if (!param[0])
		return wd_error_set(err, WD_EINVAL, "prefix is required");
	WD_TRY(request_bool(req, "sync", true, &sync, err));
	if (sync)
		return expire_revoke_prefix(secrets, param, false, err);

	WD_TRY(revoke_prefix_lazily(secrets, param, err));
	resp->status = 202;
	return 0;
}

static int handle_revoke_force(struct secrets *secrets, struct vault_request *req,
	const char *param, struct vault_response *resp, struct wd_error *err)
{
	(void)req;
	(void)resp;
	if (!param[0])
		return wd_error_set(err, WD_EINVAL, "prefix is required");
	return expire_revoke_prefix(secrets, param, true, err);
}

/* --- Tidy --- */

/* Most token index entries one tidy examines. */
#define TIDY_MAX_ENTRIES (2 * (size_t)EXPIRE_MAX_LEASES)

static int collect_name(void *context, const char *rest)
{
	json_t *names = context;

	if (json_array_size(names) >= TIDY_MAX_ENTRIES)
		return WD_ETOOBIG;
	return json_array_append_new(names, json_string(rest)) < 0 ? WD_ENOMEM : 0;
}

/* Whether the index entry "<hash>/<escaped id>" points at a lease that is
 * missing or belongs to another token. Read errors count as "keep". */
static bool index_dangles(struct secrets *secrets, const char *rest)
{
	const char *slash = strchr(rest, '/');
	char id[VAULT_LEASE_ID_MAX];
	struct lease *lease = NULL;
	size_t hash_len;
	bool dangles;
	int rc;

	if (!slash || expire_token_key_unescape(slash + 1, id, sizeof(id)) < 0)
		return true;
	hash_len = (size_t)(slash - rest);

	rc = expire_lease_load(secrets, id, &lease, NULL);
	if (rc == WD_ENOTFOUND)
		return true;
	if (rc < 0)
		return false;
	dangles = strlen(lease->token_hash) != hash_len ||
		strncmp(lease->token_hash, rest, hash_len) != 0;
	expire_lease_free(lease);
	return dangles;
}

/* Deletes token index entries whose lease is gone. Both change in one
 * transaction, so these come only from older bugs or manual edits. */
static int tidy_index(struct secrets *secrets, size_t *ret_checked, size_t *ret_removed,
	struct wd_error *err)
{
	json_t *names = json_array();
	char key[EXPIRE_KEY_MAX];
	int rc;

	*ret_checked = 0;
	*ret_removed = 0;
	if (!names)
		return wd_error_set(err, WD_ENOMEM, "out of memory");

	rc = barrier_list(secrets->barrier, EXPIRE_TOKEN_PREFIX, false, collect_name, names, err);
	if (rc == WD_ENOMEM || rc == WD_ETOOBIG)
		wd_error_set(err, rc, rc == WD_ENOMEM ? "out of memory"
			: "more than %zu token index entries", TIDY_MAX_ENTRIES);

	for (size_t i = 0; rc >= 0 && i < json_array_size(names); i++) {
		const char *rest = json_string_value(json_array_get(names, i));
		int n;

		(*ret_checked)++;
		if (!index_dangles(secrets, rest))
			continue;
		n = snprintf(key, sizeof(key), "%s%s", EXPIRE_TOKEN_PREFIX, rest);
		if (n < 0 || (size_t)n >= sizeof(key))
			continue;
		rc = barrier_delete(secrets->barrier, key, err);
		if (rc == 0)
			(*ret_removed)++;
	}
	json_decref(names);
	return rc < 0 ? rc : 0;
}

static int handle_tidy(struct secrets *secrets, struct vault_request *req, const char *param,
	struct vault_response *resp, struct wd_error *err)
{
	size_t checked_count, removed_count;
	char checked[24], removed[24];
	int rc;

	(void)req;
	(void)param;
	rc = tidy_index(secrets, &checked_count, &removed_count, err);
	snprintf(checked, sizeof(checked), "%zu", checked_count);
	snprintf(removed, sizeof(removed), "%zu", removed_count);
	if (rc < 0) {
		log_error("expire", "lease tidy failed", "checked", checked, "removed", removed,
			"error", wd_error_text(err));
		return rc;
	}
	log_info("expire", "lease index tidied", "checked", checked, "removed", removed);

	/* Vault replies 202 with this warning. Here the work is already done
	 * when it is sent. */
	resp->status = 202;
	if (vault_response_warn(resp, "Tidy operation successfully started. Any information from "
				      "the operation will be printed to Vault's server logs.") < 0)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	return 0;
}

/* --- Irrevocable leases: count and list --- */

static const char *mount_accessor(struct secrets *secrets, const char *lease_id)
{
	struct vault_mount *mount = vault_mount_lookup(secrets, lease_id);

	return mount ? mount->accessor : MOUNT_NOT_FOUND;
}

/* Checks that the request names type=irrevocable, the only type Vault
 * serves. Other types are a 404 with no errors. */
static int check_irrevocable_type(const struct vault_request *req, struct wd_error *err)
{
	const char *type = request_field(req, "type");

	if (!type || strcasecmp(type, "irrevocable") != 0)
		return wd_error_set(err, WD_ENOTFOUND, "%s", "");
	return 0;
}

struct count_state {
	struct secrets *secrets;
	json_t *counts;
	json_int_t total;
};

static int count_one(void *context, const char *lease_id)
{
	struct count_state *state = context;
	const char *accessor = mount_accessor(state->secrets, lease_id);
	json_int_t n = json_integer_value(json_object_get(state->counts, accessor));

	state->total++;
	return json_object_set_new(state->counts, accessor, json_integer(n + 1)) < 0 ? WD_ENOMEM : 0;
}

static int handle_count(struct secrets *secrets, struct vault_request *req, const char *param,
	struct vault_response *resp, struct wd_error *err)
{
	struct count_state state = { .secrets = secrets };

	(void)param;
	WD_TRY(check_irrevocable_type(req, err));
	state.counts = json_object();
	if (!state.counts ||
		expire_schedule_each_irrevocable(secrets->expiration->schedule, count_one, &state) < 0) {
		json_decref(state.counts);
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	}
	resp->data = json_pack("{s:I, s:o}", "lease_count", state.total, "counts", state.counts);
	return resp->data ? 0 : wd_error_set(err, WD_ENOMEM, "out of memory");
}

struct irrevocable_item {
	int64_t expire_time;
	json_t *entry;        /* {lease_id, mount_id, error} */
};

struct list_state {
	struct secrets *secrets;
	struct irrevocable_item *items;
	size_t count;
	size_t cap;
};

static int list_one(void *context, const char *lease_id)
{
	struct list_state *state = context;
	struct lease *lease = NULL;
	struct irrevocable_item *item;

	if (expire_lease_load(state->secrets, lease_id, &lease, NULL) < 0)
		return 0;
	if (state->count == state->cap) {
		size_t cap = state->cap ? 2 * state->cap : 64;
		struct irrevocable_item *grown = wd_reallocarray(state->items, cap, sizeof(*grown));

		if (!grown) {
			expire_lease_free(lease);
			return WD_ENOMEM;
		}
		state->items = grown;
		state->cap = cap;
	}

	item = &state->items[state->count];
	item->expire_time = lease->expire_time;
	item->entry = json_pack("{s:s, s:s, s:s}", "lease_id", lease->lease_id, "mount_id",
		mount_accessor(state->secrets, lease_id), "error",
		lease->revoke_err ? lease->revoke_err : "unknown");
	expire_lease_free(lease);
	if (!item->entry)
		return WD_ENOMEM;
	state->count++;
	return 0;
}

/* Vault's order: expire time, then lease id. */
static int compare_items(const void *a, const void *b)
{
	const struct irrevocable_item *x = a, *y = b;

	if (x->expire_time != y->expire_time)
		return x->expire_time < y->expire_time ? -1 : 1;
	return strcmp(json_string_value(json_object_get(x->entry, "lease_id")),
		json_string_value(json_object_get(y->entry, "lease_id")));
}

/* Reads limit: absent for the default, "none" for every lease, or a
 * positive integer. */
static int parse_limit(const struct vault_request *req, size_t *ret_limit, struct wd_error *err)
{
	const json_t *value = json_object_get(req->body, "limit");
	const char *text = request_field(req, "limit");
	char *end = NULL;
	long long n;

	*ret_limit = IRREVOCABLE_LIST_DEFAULT;
	if (json_is_integer(value)) {
		n = json_integer_value(value);
	} else if (!text || !text[0]) {
		return 0;
	} else if (strcasecmp(text, "none") == 0) {
		*ret_limit = SIZE_MAX;
		return 0;
	} else {
		n = strtoll(text, &end, 10);
		if (!end || *end)
			return wd_error_set(err, WD_EINVAL, "invalid 'limit' provided: \"%.32s\"", text);
	}
	if (n < 1)
		return wd_error_set(err, WD_EINVAL, "limit must be 'none' or a positive integer");
	*ret_limit = (size_t)n;
	return 0;
}

static int handle_irrevocable_list(struct secrets *secrets, struct vault_request *req,
	const char *param, struct vault_response *resp, struct wd_error *err)
{
	struct list_state state = { .secrets = secrets };
	json_t *leases = NULL;
	size_t limit;
	int rc;

	(void)param;
	WD_TRY(check_irrevocable_type(req, err));
	WD_TRY(parse_limit(req, &limit, err));

	rc = expire_schedule_each_irrevocable(secrets->expiration->schedule, list_one, &state);
	WD_ENSURE(rc == 0, WD_ENOMEM);
	if (state.count > 1)
		qsort(state.items, state.count, sizeof(*state.items), compare_items);

	leases = json_array();
	WD_ENSURE(leases, WD_ENOMEM);
	for (size_t i = 0; i < state.count && i < limit; i++)
		WD_ENSURE(json_array_append(leases, state.items[i].entry) == 0, WD_ENOMEM);
	if (state.count > limit)
		WD_ENSURE(vault_response_warn(resp, "Command halted because many irrevocable leases "
			"were found. To emit the entire list, re-run the command with limit set "
			"to none.") == 0, WD_ENOMEM);

	resp->data = json_pack("{s:I, s:O}", "lease_count", (json_int_t)json_array_size(leases),
		"leases", leases);
	WD_ENSURE(resp->data, WD_ENOMEM);
	rc = 0;
out:
	if (rc == WD_ENOMEM)
		wd_error_set(err, rc, "out of memory");
	for (size_t i = 0; i < state.count; i++)
		json_decref(state.items[i].entry);
	free(state.items);
	json_decref(leases);
	return rc;
}

/* --- Dispatch --- */

static const struct route routes[] = {
	{ "leases/lookup", false, OPS_WRITE, handle_lookup },
	{ "leases/lookup/", true, OP(VAULT_OP_LIST), handle_lookup_list },
	{ "leases/renew", false, OPS_WRITE, handle_renew },
	{ "leases/renew/", true, OPS_WRITE, handle_renew },
	{ "leases/revoke", false, OPS_WRITE, handle_revoke },
	{ "leases/revoke/", true, OPS_WRITE, handle_revoke },
	{ "leases/revoke-prefix/", true, OPS_WRITE, handle_revoke_prefix },
	{ "leases/revoke-force/", true, OPS_WRITE, handle_revoke_force },
	{ "leases/tidy", false, OPS_WRITE, handle_tidy },
	{ "leases/count", false, OP(VAULT_OP_READ), handle_count },
	{ "leases", false, OP(VAULT_OP_READ), handle_irrevocable_list },
	/* Vault's paths from before sys/leases/; node-vault still uses
	 * sys/revoke-prefix. */
	{ "renew", false, OPS_WRITE, handle_renew },
	{ "renew/", true, OPS_WRITE, handle_renew },
	{ "revoke", false, OPS_WRITE, handle_revoke },
	{ "revoke/", true, OPS_WRITE, handle_revoke },
	{ "revoke-prefix/", true, OPS_WRITE, handle_revoke_prefix },
	{ "revoke-force/", true, OPS_WRITE, handle_revoke_force },
};

static const struct route *find_route(const char *rel, const char **ret_param)
{
	for (size_t i = 0; i < WD_ARRAY_LEN(routes); i++) {
		size_t len = strlen(routes[i].path);

		if (routes[i].prefix ? strncmp(rel, routes[i].path, len) == 0
				     : strcmp(rel, routes[i].path) == 0) {
			*ret_param = routes[i].prefix ? rel + len : "";
			return &routes[i];
		}
	}
	return NULL;
}

int expire_handle_sys(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err)
{
	const char *rel = req->rel ? req->rel : "";
	const char *param = "";
	const struct route *route = find_route(rel, &param);

	if (!route)
		return wd_error_set(err, WD_ENOTFOUND,
			"no handler for route \"sys/%s\". route entry not found.", rel);
	if (!(route->ops & OP(req->op)))
		return wd_error_set(err, WD_EUNSUPPORTED, "unsupported operation");
	WD_TRY(expire_check_ready(secrets, err));
	return route->handle(secrets, req, param, resp, err);
}
