/* Lease records in the barrier: sys/expire/id/<lease id> holds the lease as
 * JSON, and sys/expire/token/<token hash>/<escaped lease id> indexes it by
 * the token that created it. Both change in one barrier transaction. */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "net/net_json.h"
#include "secrets/barrier.h"
#include "secrets/expire_internal.h"

/* Ceiling of the ids one listing collects: every lease the manager may
 * hold, since restore and revoke-prefix walk all of them. */
#define LIST_MAX_IDS (2 * (size_t)EXPIRE_MAX_LEASES)

void expire_lease_free(struct lease *lease)
{
	if (!lease)
		return;
	free(lease->lease_id);
	free(lease->path);
	free(lease->mount);
	free(lease->revoke_err);
	json_decref(lease->internal);
	free(lease);
}

int64_t expire_lease_due(const struct lease *lease)
{
	if (lease->next_attempt > 0)
		return lease->next_attempt;
	return lease->expire_time;
}

int expire_id_key(const char *lease_id, char *out, size_t len)
{
	int n = snprintf(out, len, "%s%s", EXPIRE_ID_PREFIX, lease_id);

	return n < 0 || (size_t)n >= len ? WD_ETOOBIG : 0;
}

int expire_token_key(const char *token_hash, const char *lease_id, char *out, size_t len)
{
	int n = snprintf(out, len, "%s%s/", EXPIRE_TOKEN_PREFIX, token_hash);
	size_t used;

	if (n < 0 || (size_t)n >= len)
		return WD_ETOOBIG;
	used = (size_t)n;

	/* Escape '/' so that the lease id stays one segment, and '%' so that
	 * the escaping can be reversed. */
	for (const char *c = lease_id; *c; c++) {
		const char *piece = NULL;
		size_t piece_len;

		if (*c == '/')
			piece = "%2F";
		else if (*c == '%')
			piece = "%25";
		piece_len = piece ? 3 : 1;

		if (used + piece_len >= len)
			return WD_ETOOBIG;
		if (piece)
			memcpy(out + used, piece, 3);
		else
			out[used] = *c;
		used += piece_len;
	}
	out[used] = '\0';
	return 0;
}

int expire_token_key_unescape(const char *escaped, char *out, size_t len)
{
	size_t used = 0;

	for (const char *c = escaped; *c; c++) {
		char next = *c;

		if (*c == '%') {
			if (strncmp(c, "%2F", 3) == 0)
				next = '/';
			else if (strncmp(c, "%25", 3) == 0)
				next = '%';
			else
				return WD_EINVAL;
			c += 2;
		}
		if (used + 1 >= len)
			return WD_ETOOBIG;
		out[used++] = next;
	}
	out[used] = '\0';
	return used ? 0 : WD_EINVAL;
}

static json_t *lease_to_json(const struct lease *lease)
{
	json_t *obj = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:b, s:O, s:I, s:I, s:s, s:b}",
		"lease_id", lease->lease_id,
		"path", lease->path,
		"mount", lease->mount,
		"token_hash", lease->token_hash,
		"issue_time", (json_int_t)lease->issue_time,
		"expire_time", (json_int_t)lease->expire_time,
		"last_renewal", (json_int_t)lease->last_renewal,
		"renewable", lease->renewable,
		"internal", lease->internal ? lease->internal : json_null(),
		"attempts", (json_int_t)lease->attempts,
		"next_attempt", (json_int_t)lease->next_attempt,
		"revoke_err", lease->revoke_err ? lease->revoke_err : "",
		"irrevocable", lease->irrevocable);

	/* Only a shared datastore records claims; records without them read
	 * as unclaimed. */
	if (obj && lease->claim_owner[0] &&
	    (json_object_set_new(obj, "claim_owner", json_string(lease->claim_owner)) < 0 ||
	     json_object_set_new(obj, "claim_time", json_integer(lease->claim_time)) < 0)) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

static int copy_string(const json_t *obj, const char *name, size_t max_len, char **ret_value,
	struct wd_error *err)
{
	const char *value = NULL;
	int rc = net_json_get_string(obj, name, true, max_len, &value, err);

	if (rc < 0)
		return rc;
	*ret_value = wd_strdup(value);
	return *ret_value ? 0 : wd_error_set(err, WD_ENOMEM, "out of memory");
}

static int get_time(const json_t *obj, const char *name, int64_t *ret_value,
	struct wd_error *err)
{
	int rc = net_json_get_int(obj, name, true, 0, INT64_MAX, ret_value, err);

	return rc < 0 ? rc : 0;
}

/* Decodes a stored record; any missing or mistyped field is WD_ECORRUPT
 * naming the field. */
static int lease_from_json(const json_t *obj, struct lease **ret_lease, struct wd_error *err)
{
	struct lease *lease = calloc(1, sizeof(*lease));
	const char *token_hash = NULL;
	const char *revoke_err = NULL;
	int rc;

	*ret_lease = NULL;
	if (!lease)
		return wd_error_set(err, WD_ENOMEM, "out of memory");

	WD_GUARD(copy_string(obj, "lease_id", VAULT_LEASE_ID_MAX, &lease->lease_id, err));
	WD_GUARD(copy_string(obj, "path", VAULT_PATH_MAX, &lease->path, err));
	WD_GUARD(copy_string(obj, "mount", VAULT_MOUNT_PATH_MAX, &lease->mount, err));
	WD_GUARD(net_json_get_string(obj, "token_hash", true, sizeof(lease->token_hash) - 1,
		&token_hash, err));
	snprintf(lease->token_hash, sizeof(lease->token_hash), "%s", token_hash);

	WD_GUARD(get_time(obj, "issue_time", &lease->issue_time, err));
	WD_GUARD(get_time(obj, "expire_time", &lease->expire_time, err));
	WD_GUARD(get_time(obj, "last_renewal", &lease->last_renewal, err));
	WD_GUARD(get_time(obj, "attempts", &lease->attempts, err));
	WD_GUARD(get_time(obj, "next_attempt", &lease->next_attempt, err));
	WD_GUARD(net_json_get_bool(obj, "renewable", true, &lease->renewable, err));
	WD_GUARD(net_json_get_bool(obj, "irrevocable", true, &lease->irrevocable, err));
	{
		const char *owner = NULL;

		WD_GUARD(net_json_get_string(obj, "claim_owner", false, EXPIRE_CLAIM_OWNER_MAX,
			&owner, err));
		snprintf(lease->claim_owner, sizeof(lease->claim_owner), "%s", owner ? owner : "");
		WD_GUARD(net_json_get_int(obj, "claim_time", false, 0, INT64_MAX,
			&lease->claim_time, err));
	}

	WD_GUARD(net_json_get_string(obj, "revoke_err", true, EXPIRE_REVOKE_ERR_MAX, &revoke_err,
		err));
	if (revoke_err[0]) {
		lease->revoke_err = wd_strdup(revoke_err);
		WD_ENSURE(lease->revoke_err, WD_ENOMEM);
	}

	lease->internal = json_incref(json_object_get(obj, "internal"));
	WD_ENSURE(lease->internal, WD_ECORRUPT);

	*ret_lease = WD_TAKE_PTR(lease);
	rc = 0;
out:
	if (rc == WD_EINVAL) {
		char detail[sizeof(err->detail)];

		snprintf(detail, sizeof(detail), "%s", err ? wd_error_text(err) : "");
		rc = wd_error_set(err, WD_ECORRUPT, "stored lease is malformed: %s", detail);
	}
	else if (rc == WD_ECORRUPT)
		rc = wd_error_set(err, WD_ECORRUPT, "stored lease has no internal data");
	else if (rc == WD_ENOMEM)
		rc = wd_error_set(err, WD_ENOMEM, "out of memory");
	expire_lease_free(lease);
	return rc;
}

int expire_lease_load(struct secrets *secrets, const char *lease_id, struct lease **ret_lease,
	struct wd_error *err)
{
	char key[EXPIRE_KEY_MAX];
	json_t *obj = NULL;
	struct lease *lease = NULL;
	int rc;

	*ret_lease = NULL;
	if (expire_id_key(lease_id, key, sizeof(key)) < 0)
		return wd_error_set(err, WD_ENOTFOUND, "lease not found");

	rc = barrier_get_json(secrets->barrier, key, &obj, err);
	if (rc == WD_ENOTFOUND)
		return wd_error_set(err, WD_ENOTFOUND, "lease not found");
	if (rc < 0)
		return rc;

	rc = lease_from_json(obj, &lease, err);
	json_decref(obj);
	if (rc < 0)
		return rc;

	/* A record copied to another key would fail the barrier's path
	 * binding, but check anyway: the id is what revocation trusts. */
	if (strcmp(lease->lease_id, lease_id) != 0) {
		expire_lease_free(lease);
		return wd_error_set(err, WD_ECORRUPT, "stored lease \"%s\" names another id",
			lease_id);
	}
	*ret_lease = lease;
	return 0;
}

int expire_lease_save(struct secrets *secrets, const struct lease *lease, struct wd_error *err)
{
	char key[EXPIRE_KEY_MAX];
	json_t *obj = NULL;
	json_t *index = NULL;
	int rc;

	WD_ENSURE(expire_id_key(lease->lease_id, key, sizeof(key)) == 0, WD_ETOOBIG);
	obj = lease_to_json(lease);
	WD_ENSURE(obj, WD_ENOMEM);

	WD_GUARD(barrier_begin(secrets->barrier, err));
	rc = barrier_put_json(secrets->barrier, key, obj, err);
	if (rc == 0 && lease->token_hash[0]) {
		/* The index entry carries the id too, for a reader that does
		 * not unescape the key. */
		index = json_pack("{s:s}", "lease_id", lease->lease_id);
		rc = !index ? WD_ENOMEM
			: expire_token_key(lease->token_hash, lease->lease_id, key, sizeof(key));
		if (rc == 0)
			rc = barrier_put_json(secrets->barrier, key, index, err);
	}
	if (rc < 0) {
		barrier_rollback(secrets->barrier);
		goto out;
	}
	WD_GUARD(barrier_commit(secrets->barrier, err));
out:
	if (rc == WD_ENOMEM || rc == WD_ETOOBIG)
		wd_error_set(err, rc, rc == WD_ENOMEM ? "out of memory"
			: "lease id \"%s\" is too long", lease->lease_id);
	json_decref(obj);
	json_decref(index);
	return rc;
}

int expire_lease_delete(struct secrets *secrets, const struct lease *lease,
	struct wd_error *err)
{
	char key[EXPIRE_KEY_MAX];
	int rc;

	if (expire_id_key(lease->lease_id, key, sizeof(key)) < 0)
		return wd_error_set(err, WD_ETOOBIG, "lease id \"%s\" is too long",
			lease->lease_id);

	WD_TRY(barrier_begin(secrets->barrier, err));
	rc = barrier_delete(secrets->barrier, key, err);
	if (rc == 0 && lease->token_hash[0]) {
		rc = expire_token_key(lease->token_hash, lease->lease_id, key, sizeof(key));
		if (rc == 0)
			rc = barrier_delete(secrets->barrier, key, err);
		else
			wd_error_set(err, rc, "lease id \"%s\" is too long", lease->lease_id);
	}
	if (rc < 0) {
		barrier_rollback(secrets->barrier);
		return rc;
	}
	return barrier_commit(secrets->barrier, err);
}

/* Ids gathered by a listing, so that callbacks may change the barrier. */
struct id_list {
	const char *prefix;      /* prepended to each listed remainder */
	bool unescape;           /* remainders are escaped token index names */
	char **ids;
	size_t count;
	size_t cap;
};

static void id_list_free(struct id_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->ids[i]);
	free(list->ids);
}

static int id_list_add(void *context, const char *rest)
{
	struct id_list *list = context;
	char id[VAULT_LEASE_ID_MAX];
	int n;

	if (list->count == LIST_MAX_IDS)
		return WD_ETOOBIG;
	if (list->count == list->cap) {
		size_t cap = list->cap ? 2 * list->cap : 64;
		char **grown = wd_reallocarray(list->ids, cap, sizeof(*grown));

		if (!grown)
			return WD_ENOMEM;
		list->ids = grown;
		list->cap = cap;
	}

	if (list->unescape) {
		/* A name that does not unescape was not written by this file:
		 * skip it rather than fail every revocation by token. */
		if (expire_token_key_unescape(rest, id, sizeof(id)) < 0)
			return 0;
	} else {
		n = snprintf(id, sizeof(id), "%s%s", list->prefix, rest);
		if (n < 0 || (size_t)n >= sizeof(id))
			return 0;
	}

	list->ids[list->count] = wd_strdup(id);
	if (!list->ids[list->count])
		return WD_ENOMEM;
	list->count++;
	return 0;
}

static int list_and_call(struct secrets *secrets, const char *key_prefix, struct id_list *list,
	expire_lease_fn on_lease, void *context, struct wd_error *err)
{
	int rc = barrier_list(secrets->barrier, key_prefix, false, id_list_add, list, err);

	if (rc == WD_ENOMEM)
		rc = wd_error_set(err, rc, "out of memory");
	else if (rc == WD_ETOOBIG)
		rc = wd_error_set(err, rc, "more than %zu leases under \"%s\"", LIST_MAX_IDS,
			key_prefix);

	for (size_t i = 0; rc >= 0 && i < list->count; i++)
		rc = on_lease(context, list->ids[i]);
	id_list_free(list);
	return rc < 0 ? rc : 0;
}

int expire_lease_each(struct secrets *secrets, const char *prefix, expire_lease_fn on_lease,
	void *context, struct wd_error *err)
{
	struct id_list list = { .prefix = prefix };
	char key[EXPIRE_KEY_MAX];

	if (expire_id_key(prefix, key, sizeof(key)) < 0)
		return wd_error_set(err, WD_EINVAL, "prefix \"%s\" is too long", prefix);
	return list_and_call(secrets, key, &list, on_lease, context, err);
}

int expire_lease_each_by_token(struct secrets *secrets, const char *token_hash,
	expire_lease_fn on_lease, void *context, struct wd_error *err)
{
	struct id_list list = { .unescape = true };
	char key[EXPIRE_KEY_MAX];
	int n = snprintf(key, sizeof(key), "%s%s/", EXPIRE_TOKEN_PREFIX, token_hash);

	if (n < 0 || (size_t)n >= sizeof(key) || !token_hash[0] || strchr(token_hash, '/'))
		return wd_error_set(err, WD_EINVAL, "invalid token hash");
	return list_and_call(secrets, key, &list, on_lease, context, err);
}
