/* KV v2 routing: the first segment of the path below the mount names the
 * endpoint (config, data/, metadata/, delete/, undelete/, destroy/,
 * subkeys/) and the rest is the key. */
#include <string.h>

#include "secrets/kv_internal.h"

typedef int (*kv_route_fn)(struct secrets *secrets, struct vault_request *req, const char *key,
	struct vault_response *resp, struct wd_error *err);

struct kv_route {
	const char *prefix;
	bool exact;              /* the whole path, with no key after it */
	bool has_existence;      /* create vs update depends on the key's metadata */
	kv_route_fn handle;
};

static const struct kv_route routes[] = {
	{ "config", true, false, kv_v2_config },
	{ "data/", false, true, kv_v2_data },
	{ "metadata/", false, true, kv_v2_metadata },
	{ "delete/", false, false, kv_v2_delete_versions },
	{ "undelete/", false, false, kv_v2_undelete_versions },
	{ "destroy/", false, false, kv_v2_destroy_versions },
	{ "subkeys/", false, false, kv_v2_subkeys },
};

/* Returns the route of rel and the key after its prefix, or NULL. */
static const struct kv_route *route_find(const char *rel, const char **ret_key)
{
	for (size_t i = 0; i < WD_ARRAY_LEN(routes); i++) {
		size_t len = strlen(routes[i].prefix);

		if (routes[i].exact ? strcmp(rel, routes[i].prefix) != 0 :
				      strncmp(rel, routes[i].prefix, len) != 0)
			continue;
		*ret_key = rel + len;
		return &routes[i];
	}
	return NULL;
}

int kv_v2_handle(struct secrets *secrets, struct vault_request *req, struct vault_response *resp,
	struct wd_error *err)
{
	const char *key = NULL;
	const struct kv_route *route = route_find(req->rel, &key);

	if (!route)
		return wd_error_set(err, WD_ENOTFOUND, "unsupported path");
	return route->handle(secrets, req, key, resp, err);
}

int kv_v2_exists(struct secrets *secrets, const struct vault_request *req, bool *ret_exists,
	struct wd_error *err)
{
	const char *key = NULL;
	const struct kv_route *route = route_find(req->rel, &key);
	struct kv_meta *meta = NULL;

	/* Paths without an existence check are always updates, as Vault's
	 * router treats them. A bad key is left for handle() to reject. */
	*ret_exists = true;
	if (!route || !route->has_existence)
		return 0;
	if (kv_check_key(key, false, NULL) < 0) {
		*ret_exists = false;
		return 0;
	}

	WD_TRY(kv_meta_load(secrets, req->mount, key, &meta, err));
	*ret_exists = meta != NULL;
	kv_meta_free(meta);
	return 0;
}
