/* Authorization of entries for agents. An entry is authorized for
 * an agent when its parent_id is the agent's SPIFFE ID or the spiffe_id of
 * another entry authorized for it, as SPIRE resolves node aliases and
 * nested entries. Both walks run as recursive SQL queries, which SQLite
 * and PostgreSQL both support. */
#include <string.h>

#include "common/alloc.h"
#include "identity/registry_internal.h"

/* reachable contains the agent ID at depth 0 and every SPIFFE ID of an
 * entry that hangs from it, with its distance. Depth stops the recursion on a
 * cycle (UNION drops repeated rows), and only IDs below the maximum depth
 * can parent an authorized entry. */
static const char authorized_sql[] =
	"WITH RECURSIVE reachable (spiffe_id, depth) AS ("
	" SELECT CAST($1 AS TEXT), 0"
	" UNION"
	" SELECT e.spiffe_id, r.depth + 1 FROM registry_entries e"
	" JOIN reachable r ON e.parent_id = r.spiffe_id"
	" WHERE r.depth + 1 < $2)"
	" SELECT " REGISTRY_ENTRY_COLUMNS " FROM registry_entries"
	" WHERE parent_id IN (SELECT spiffe_id FROM reachable)"
	" ORDER BY id LIMIT $3";

/* ancestors starts at the entry's parent_id (one link from the entry) and
 * follows each ID to the parent_id of the entries that carry it. The entry
 * is authorized when the agent ID turns up within the maximum depth. */
static const char ancestor_sql[] =
	"WITH RECURSIVE ancestors (spiffe_id, depth) AS ("
	" SELECT CAST($1 AS TEXT), 1"
	" UNION"
	" SELECT e.parent_id, a.depth + 1 FROM registry_entries e"
	" JOIN ancestors a ON e.spiffe_id = a.spiffe_id"
	" WHERE a.depth < $3)"
	" SELECT 1 FROM ancestors WHERE spiffe_id = $2 LIMIT 1";

int registry_authorized_entries(struct registry *registry, const char *agent_id,
	struct registry_entry_list **ret_list, struct wd_error *err)
{
	struct registry_entry_collector collector = { .err = err };
	_wd_cleanup_(wd_freep) char *id = NULL;
	struct registry_entry_list *list = NULL;
	int rc = 0;

	*ret_list = NULL;
	WD_TRY(registry_spiffe_id_canonical(registry, "agent ID", agent_id, true, &id, err));

	collector.max = registry->max_authorized_entries;
	struct store_value params[] = {
		STORE_TEXT_VALUE(id),
		STORE_INT_VALUE(registry->max_authorization_depth),
		STORE_INT_VALUE((int64_t)registry->max_authorized_entries + 1),
	};
	rc = store_query(registry->store, authorized_sql, params, WD_ARRAY_LEN(params),
		registry_entry_collect_row, &collector, err);
	if (rc == WD_ETOOBIG)
		rc = wd_error_set(err, rc, "agent %s is authorized for more than %zu entries", id,
			registry->max_authorized_entries);
	if (rc < 0)
		goto out;

	list = wd_calloc(1, sizeof(*list));
	WD_ENSURE(list, WD_ENOMEM);
	list->entries = WD_TAKE_PTR(collector.entries);
	list->count = collector.count;
	collector.count = 0;
	*ret_list = list;
out:
	if (rc == WD_ENOMEM)
		wd_error_set(err, rc, "registry: out of memory");
	registry_entry_collector_clear(&collector);
	return rc;
}

static int set_found(void *context, const struct store_row *row)
{
	(void)row;
	*(bool *)context = true;
	return 0;
}

int registry_entry_authorized(struct registry *registry, const char *agent_id,
	const char *entry_id, struct registry_entry **ret_entry, struct wd_error *err)
{
	_wd_cleanup_(wd_freep) char *id = NULL;
	struct registry_entry *entry = NULL;
	bool authorized = false;
	int rc = 0;

	*ret_entry = NULL;
	WD_TRY(registry_spiffe_id_canonical(registry, "agent ID", agent_id, true, &id, err));
	WD_TRY(registry_entry_get(registry, entry_id, &entry, err));

	struct store_value params[] = {
		STORE_TEXT_VALUE(entry->parent_id),
		STORE_TEXT_VALUE(id),
		STORE_INT_VALUE(registry->max_authorization_depth),
	};
	WD_GUARD(store_query(registry->store, ancestor_sql, params, WD_ARRAY_LEN(params),
		set_found, &authorized, err));
	if (!authorized) {
		rc = wd_error_set(err, WD_EPERM, "entry \"%s\" (%.300s) is not authorized for agent %s",
			entry->id, entry->spiffe_id, id);
		goto out;
	}

	*ret_entry = WD_TAKE_PTR(entry);
out:
	registry_entry_free(entry);
	return rc;
}

bool registry_admin_check(struct registry *registry, const char *spiffe_id)
{
	_wd_cleanup_(wd_freep) char *id = NULL;
	bool admin = false;

	if (!spiffe_id ||
	    registry_spiffe_id_canonical(registry, "spiffe_id", spiffe_id, true, &id, NULL) < 0)
		return false;

	struct store_value params[] = { STORE_TEXT_VALUE(id) };
	if (store_query(registry->store,
		    "SELECT 1 FROM registry_entries WHERE spiffe_id = $1 AND admin = 1 LIMIT 1",
		    params, 1, set_found, &admin, NULL) < 0)
		return false;
	return admin;
}
