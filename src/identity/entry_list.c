/* Listing registration entries by SPIFFE ID, parent ID or selector, one
 * page at a time in entry id order. */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "identity/registry_internal.h"

/* Longest SQL the filter can build, with every clause present. */
#define LIST_SQL_MAX 1024

struct list_query {
	char sql[LIST_SQL_MAX];
	size_t sql_len;
	struct store_value params[6];
	size_t param_count;
};

/* Appends text to the SQL; the clauses are fixed strings that fit in
 * LIST_SQL_MAX, so a cut would be a bug, which the final check catches. */
static void append_sql(struct list_query *query, const char *text)
{
	size_t len = strlen(text);

	if (query->sql_len + len >= sizeof(query->sql)) {
		query->sql_len = sizeof(query->sql);
		return;
	}
	memcpy(query->sql + query->sql_len, text, len + 1);
	query->sql_len += len;
}

/* Appends the placeholder $N for the next parameter and binds value to it. */
static void append_param(struct list_query *query, struct store_value value)
{
	char placeholder[8];

	if (query->param_count >= WD_ARRAY_LEN(query->params)) {
		query->sql_len = sizeof(query->sql);
		return;
	}
	query->params[query->param_count++] = value;
	snprintf(placeholder, sizeof(placeholder), "$%zu", query->param_count);
	append_sql(query, placeholder);
}

int registry_entry_list(struct registry *registry, const struct registry_entry_filter *filter,
	struct registry_entry_list **ret_list, struct wd_error *err)
{
	static const struct registry_entry_filter no_filter = { 0 };
	struct registry_entry_collector collector = { .err = err };
	struct list_query query = { 0 };
	_wd_cleanup_(wd_freep) char *spiffe_id = NULL;
	_wd_cleanup_(wd_freep) char *parent_id = NULL;
	_wd_cleanup_(wd_freep) char *selector_type = NULL;
	struct registry_entry_list *list = NULL;
	size_t limit;
	int rc = 0;

	*ret_list = NULL;
	if (!filter)
		filter = &no_filter;
	limit = filter->limit ? filter->limit : REGISTRY_LIST_DEFAULT_LIMIT;
	if (limit > REGISTRY_LIST_MAX_LIMIT)
		limit = REGISTRY_LIST_MAX_LIMIT;

	append_sql(&query, "SELECT " REGISTRY_ENTRY_COLUMNS " FROM registry_entries e WHERE 1 = 1");

	if (filter->spiffe_id) {
		WD_TRY(registry_spiffe_id_canonical(registry, "spiffe_id", filter->spiffe_id,
			false, &spiffe_id, err));
		append_sql(&query, " AND spiffe_id = ");
		append_param(&query, STORE_TEXT_VALUE(spiffe_id));
	}
	if (filter->parent_id) {
		WD_TRY(registry_spiffe_id_canonical(registry, "parent_id", filter->parent_id,
			false, &parent_id, err));
		append_sql(&query, " AND parent_id = ");
		append_param(&query, STORE_TEXT_VALUE(parent_id));
	}
	if (filter->selector) {
		size_t type_len;

		WD_TRY(registry_selector_validate(filter->selector, err));
		type_len = strcspn(filter->selector, ":");
		selector_type = wd_strndup(filter->selector, type_len);
		if (!selector_type)
			return wd_error_set(err, WD_ENOMEM, "registry: out of memory");
		append_sql(&query, " AND EXISTS (SELECT 1 FROM registry_entry_selectors s"
			" WHERE s.entry_id = e.id AND s.type = ");
		append_param(&query, STORE_TEXT_VALUE(selector_type));
		append_sql(&query, " AND s.value = ");
		append_param(&query, STORE_TEXT_VALUE(filter->selector + type_len + 1));
		append_sql(&query, ")");
	}
	if (filter->page_token) {
		WD_TRY(registry_entry_id_validate("page token", filter->page_token, err));
		append_sql(&query, " AND id > ");
		append_param(&query, STORE_TEXT_VALUE(filter->page_token));
	}
	/* Fetching one row past the page shows whether another page follows. */
	append_sql(&query, " ORDER BY id LIMIT ");
	append_param(&query, STORE_INT_VALUE((int64_t)limit + 1));
	if (query.sql_len >= sizeof(query.sql))
		return wd_error_set(err, WD_EINTERNAL, "registry: entry list query too long");

	collector.max = limit + 1;
	WD_GUARD(store_query(registry->store, query.sql, query.params, query.param_count,
		registry_entry_collect_row, &collector, err));

	list = wd_calloc(1, sizeof(*list));
	WD_ENSURE(list, WD_ENOMEM);
	if (collector.count > limit) {
		registry_entry_free(collector.entries[limit]);
		collector.count = limit;
		memcpy(list->next_page_token, collector.entries[limit - 1]->id,
			REGISTRY_ENTRY_ID_LEN + 1);
	}
	list->entries = WD_TAKE_PTR(collector.entries);
	list->count = collector.count;
	collector.count = 0;

	*ret_list = WD_TAKE_PTR(list);
out:
	if (rc == WD_ENOMEM)
		wd_error_set(err, rc, "registry: out of memory");
	registry_entry_collector_clear(&collector);
	return rc;
}

/* The agent's reach as in registry_authorized_entries: the agent ID at depth
 * 0 and the SPIFFE ID of every entry hanging from it, up to the maximum
 * depth. $1 agent ID, $2 maximum depth. */
#define REACHABLE_CTE                                                          \
	"WITH RECURSIVE reachable (spiffe_id, depth) AS ("                     \
	" SELECT CAST($1 AS TEXT), 0"                                           \
	" UNION"                                                                \
	" SELECT e.spiffe_id, r.depth + 1 FROM registry_entries e"              \
	" JOIN reachable r ON e.parent_id = r.spiffe_id"                        \
	" WHERE r.depth + 1 < $2)"

static const char changed_sql[] =
	REACHABLE_CTE
	" SELECT " REGISTRY_ENTRY_COLUMNS " FROM registry_entries"
	" WHERE parent_id IN (SELECT spiffe_id FROM reachable) AND change_seq > $3"
	" ORDER BY id LIMIT $4";

static const char ids_sql[] =
	REACHABLE_CTE
	" SELECT id FROM registry_entries"
	" WHERE parent_id IN (SELECT spiffe_id FROM reachable)"
	" ORDER BY id LIMIT $3";

struct id_collector {
	char (*ids)[REGISTRY_ENTRY_ID_LEN + 1];
	size_t count;
	size_t capacity;
	size_t max;
};

static int collect_id(void *context, const struct store_row *row)
{
	struct id_collector *collector = context;
	const char *id = store_row_text(row, 0);

	if (!id || strlen(id) != REGISTRY_ENTRY_ID_LEN)
		return WD_ECORRUPT;
	if (collector->count >= collector->max)
		return WD_ETOOBIG;
	if (collector->count == collector->capacity) {
		size_t capacity = collector->capacity ? collector->capacity * 2 : 64;
		void *grown = wd_reallocarray(collector->ids, capacity, sizeof(*collector->ids));

		if (!grown)
			return WD_ENOMEM;
		collector->ids = grown;
		collector->capacity = capacity;
	}
	memcpy(collector->ids[collector->count++], id, REGISTRY_ENTRY_ID_LEN + 1);
	return 0;
}

static int copy_counter(void *context, const struct store_row *row)
{
	*(int64_t *)context = store_row_int(row, 0);
	return 0;
}

int registry_entry_revision(struct registry *registry, int64_t *ret_revision,
	struct wd_error *err)
{
	*ret_revision = 0;
	return store_query(registry->store,
		"SELECT value FROM registry_counters WHERE name = 'entry_change_seq'", NULL, 0,
		copy_counter, ret_revision, err);
}

uint64_t registry_entry_write_count(const struct registry *registry)
{
	return registry->entry_writes;
}

void registry_entry_changes_free(struct registry_entry_changes *changes)
{
	if (!changes)
		return;
	for (size_t i = 0; i < changes->changed_count; i++)
		registry_entry_free(changes->changed[i]);
	free(changes->changed);
	free(changes->ids);
	free(changes);
}

int registry_authorized_changes(struct registry *registry, const char *agent_id,
	int64_t since, struct registry_entry_changes **ret_changes, struct wd_error *err)
{
	struct registry_entry_collector collector = { .err = err };
	struct id_collector ids = { 0 };
	struct registry_entry_changes *changes = NULL;
	_wd_cleanup_(wd_freep) char *id = NULL;
	bool in_transaction = false;
	int64_t revision = 0;
	int rc = 0;

	*ret_changes = NULL;
	if (since < 0)
		return wd_error_set(err, WD_EINVAL, "invalid \"since\": %lld is negative",
			(long long)since);
	WD_TRY(registry_spiffe_id_canonical(registry, "agent ID", agent_id, true, &id, err));

	/* The counter is read first: an entry that commits a higher change_seq
	 * while the lists are read comes again with the next sync, never not at
	 * all. */
	WD_GUARD(store_begin(registry->store, err));
	in_transaction = true;
	WD_GUARD(store_query(registry->store,
		"SELECT value FROM registry_counters WHERE name = 'entry_change_seq'", NULL, 0,
		copy_counter, &revision, err));

	collector.max = registry->max_authorized_entries;
	struct store_value changed_params[] = {
		STORE_TEXT_VALUE(id),
		STORE_INT_VALUE(registry->max_authorization_depth),
		STORE_INT_VALUE(since),
		STORE_INT_VALUE((int64_t)registry->max_authorized_entries + 1),
	};
	WD_GUARD(store_query(registry->store, changed_sql, changed_params,
		WD_ARRAY_LEN(changed_params), registry_entry_collect_row, &collector, err));

	ids.max = registry->max_authorized_entries;
	struct store_value id_params[] = {
		STORE_TEXT_VALUE(id),
		STORE_INT_VALUE(registry->max_authorization_depth),
		STORE_INT_VALUE((int64_t)registry->max_authorized_entries + 1),
	};
	WD_GUARD(store_query(registry->store, ids_sql, id_params, WD_ARRAY_LEN(id_params),
		collect_id, &ids, err));
	WD_GUARD(store_commit(registry->store, err));
	in_transaction = false;

	changes = wd_calloc(1, sizeof(*changes));
	WD_ENSURE(changes, WD_ENOMEM);
	changes->changed = WD_TAKE_PTR(collector.entries);
	changes->changed_count = collector.count;
	collector.count = 0;
	changes->ids = WD_TAKE_PTR(ids.ids);
	changes->id_count = ids.count;
	changes->revision = revision;
	*ret_changes = WD_TAKE_PTR(changes);
out:
	if (in_transaction)
		store_rollback(registry->store);
	if (rc == WD_ETOOBIG)
		rc = wd_error_set(err, rc, "agent %s is authorized for more than %zu entries", id,
			registry->max_authorized_entries);
	else if (rc == WD_ENOMEM)
		wd_error_set(err, rc, "registry: out of memory");
	else if (rc == WD_ECORRUPT && err && err->code == WD_OK)
		wd_error_set(err, rc, "registry: malformed entry id in the datastore");
	registry_entry_collector_clear(&collector);
	free(ids.ids);
	return rc;
}
