/* The database secrets engine (mount type "database"): Vault's API for
 * dynamic PostgreSQL users. This file routes a request to its handler and
 * keeps the mount's state. The db_*.c files do the work. */
#include <stdlib.h>
#include <string.h>

#include "secrets/db_internal.h"

typedef int (*db_handler_fn)(const struct db_call *call, struct wd_error *err);

/* One collection of paths: "<collection>/" lists, "<collection>/<name>"
 * reads, writes and deletes. NULL: the operation is not supported. */
struct db_route {
	const char *collection;
	db_handler_fn list;
	db_handler_fn read;
	db_handler_fn write;
	db_handler_fn delete;
};

static const struct db_route routes[] = {
	{ "config", db_config_list, db_config_read, db_config_write, db_config_delete },
	{ "roles", db_role_list, db_role_read, db_role_write, db_role_delete },
	{ "creds", NULL, db_creds_read, NULL, NULL },
	{ "reset", NULL, NULL, db_config_reset, NULL },
	{ "rotate-root", NULL, NULL, db_config_rotate_root, NULL },
};

/* Splits rel into its route and name ("" for the collection itself).
 * Returns NULL when no route matches, as Vault's 404. */
static const struct db_route *find_route(const char *rel, const char **ret_name)
{
	size_t collection_len = strcspn(rel, "/");

	*ret_name = NULL;
	for (size_t i = 0; i < WD_ARRAY_LEN(routes); i++) {
		if (strlen(routes[i].collection) != collection_len ||
			strncmp(rel, routes[i].collection, collection_len) != 0)
			continue;
		*ret_name = rel[collection_len] == '/' ? rel + collection_len + 1 : "";
		return &routes[i];
	}
	return NULL;
}

static int database_handle(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err)
{
	const char *name = NULL;
	const struct db_route *route = find_route(req->rel, &name);
	db_handler_fn handler = NULL;
	struct db_call call = {
		.secrets = secrets, .req = req, .resp = resp, .state = req->mount->state,
	};

	if (!route || (*name && !db_name_valid(name)))
		return wd_error_set(err, WD_ENOTFOUND, "unsupported path");
	call.name = name;

	if (!*name)
		handler = req->op == VAULT_OP_LIST ? route->list : NULL;
	else if (req->op == VAULT_OP_READ)
		handler = route->read;
	else if (req->op == VAULT_OP_CREATE || req->op == VAULT_OP_UPDATE)
		handler = route->write;
	else if (req->op == VAULT_OP_DELETE)
		handler = route->delete;
	if (!handler)
		return wd_error_set(err, WD_EUNSUPPORTED, "unsupported operation");
	return handler(&call, err);
}

static int database_exists(struct secrets *secrets, const struct vault_request *req,
	bool *ret_exists, struct wd_error *err)
{
	const char *name = NULL;
	const struct db_route *route = find_route(req->rel, &name);
	struct db_state *state = req->mount->state;
	json_t *value = NULL;
	int rc;

	(void)secrets;
	/* Paths other than a config or a role are always "update", as Vault's
	 * paths without an existence check. */
	*ret_exists = true;
	if (!route || !*name || !db_name_valid(name) || route->read == db_creds_read ||
		!route->read)
		return 0;

	rc = route->read == db_config_read ? db_config_load(state, name, &value, err) :
		db_role_load(state, name, &value, err);
	json_decref(value);
	if (rc == WD_ENOTFOUND) {
		*ret_exists = false;
		wd_error_clear(err);
		return 0;
	}
	return rc;
}

static int database_mount_open(struct secrets *secrets, struct vault_mount *mount,
	struct wd_error *err)
{
	struct db_state *state = calloc(1, sizeof(*state));

	(void)err;
	if (!state)
		return WD_ENOMEM;
	state->secrets = secrets;
	vault_mount_storage_prefix(mount, state->prefix, sizeof(state->prefix));
	mount->state = state;
	return 0;
}

static void database_mount_close(struct vault_mount *mount)
{
	struct db_state *state = mount->state;

	if (!state)
		return;
	db_conn_close_all(state);
	free(state);
	mount->state = NULL;
}

const struct vault_backend vault_backend_database = {
	.type = "database",
	.mount_open = database_mount_open,
	.mount_close = database_mount_close,
	.handle = database_handle,
	.exists = database_exists,
	.lease_revoke = db_lease_revoke,
	.lease_revoke_start = db_lease_revoke_start,
	.lease_renew = db_lease_renew,
};
