/* Attested nodes (agents): the SVID serials each agent holds, and the
 * evict and ban operations of SPIRE's agent API. */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "identity/registry_internal.h"

#define NODE_COLUMNS                                                           \
	"agent_id, serial, not_after, previous_serial, previous_not_after, "   \
	"attested_at, updated_at, banned"

void registry_node_free(struct registry_node *node)
{
	if (!node)
		return;
	free(node->agent_id);
	free(node->serial);
	free(node->previous_serial);
	free(node);
}

void registry_node_list_free(struct registry_node_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->count; i++)
		registry_node_free(list->nodes[i]);
	free(list->nodes);
	free(list->next_page_token);
	free(list);
}

/* Parses agent_id as an agent SPIFFE ID of this trust domain and returns
 * its canonical form. */
static int agent_id_canonical(const struct registry *registry, const char *agent_id,
	char **ret_id, struct wd_error *err)
{
	_wd_cleanup_(wd_freep) char *id = NULL;
	const char *path;

	*ret_id = NULL;
	WD_TRY(registry_spiffe_id_canonical(registry, "agent ID", agent_id, true, &id, err));
	path = id + strlen("spiffe://") + strlen(registry->trust_domain);
	if (strncmp(path, REGISTRY_AGENT_PATH_PREFIX, strlen(REGISTRY_AGENT_PATH_PREFIX)) != 0)
		return wd_error_set(err, WD_EINVAL,
			"invalid agent ID \"%.300s\": the path must start with %s", id,
			REGISTRY_AGENT_PATH_PREFIX);
	*ret_id = WD_TAKE_PTR(id);
	return 0;
}

/* Writes serial_hex in lowercase without leading zeros to out, so the same
 * number always compares equal. */
static int serial_normalize(const char *serial_hex, char out[static REGISTRY_SERIAL_MAX_LEN + 1],
	struct wd_error *err)
{
	size_t len;
	size_t start = 0;

	if (!serial_hex)
		return wd_error_set(err, WD_EINVAL, "missing SVID serial number");
	len = strnlen(serial_hex, REGISTRY_SERIAL_MAX_LEN + 1);
	if (len == 0 || len > REGISTRY_SERIAL_MAX_LEN)
		goto bad;
	for (size_t i = 0; i < len; i++) {
		char c = serial_hex[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			goto bad;
	}

	while (start + 1 < len && serial_hex[start] == '0')
		start++;
	for (size_t i = start; i < len; i++) {
		char c = serial_hex[i];

		out[i - start] = c >= 'A' && c <= 'F' ? (char)(c - 'A' + 'a') : c;
	}
	out[len - start] = '\0';
	return 0;
bad:
	return wd_error_set(err, WD_EINVAL,
		"invalid SVID serial number \"%.80s\": expected 1 to %d hexadecimal digits",
		serial_hex, REGISTRY_SERIAL_MAX_LEN);
}

static int read_node_row(void *context, const struct store_row *row)
{
	struct registry_node **ret_node = context;
	struct registry_node *node;

	if (*ret_node)
		return WD_ECORRUPT;
	node = wd_calloc(1, sizeof(*node));
	if (!node)
		return WD_ENOMEM;
	node->agent_id = wd_strdup(store_row_text(row, 0));
	node->serial = wd_strdup(store_row_text(row, 1));
	node->previous_serial = wd_strdup(store_row_text(row, 3));
	if (!node->agent_id || !node->serial || !node->previous_serial) {
		registry_node_free(node);
		return WD_ENOMEM;
	}
	node->not_after = store_row_int(row, 2);
	node->previous_not_after = store_row_int(row, 4);
	node->attested_at = store_row_int(row, 5);
	node->updated_at = store_row_int(row, 6);
	node->banned = store_row_int(row, 7) != 0;
	*ret_node = node;
	return 0;
}

/* Loads the node of a canonical agent ID; *ret_node stays NULL when there
 * is none. */
static int node_find(struct registry *registry, const char *agent_id,
	struct registry_node **ret_node, struct wd_error *err)
{
	struct store_value params[] = { STORE_TEXT_VALUE(agent_id) };
	int rc;

	*ret_node = NULL;
	rc = store_query(registry->store,
		"SELECT " NODE_COLUMNS " FROM registry_nodes WHERE agent_id = $1", params, 1,
		read_node_row, ret_node, err);
	if (rc < 0) {
		registry_node_free(*ret_node);
		*ret_node = NULL;
		if (!err || err->code != rc)
			wd_error_set(err, rc, "registry: cannot read agent %s", agent_id);
	}
	return rc;
}

static int not_attested(const char *agent_id, struct wd_error *err)
{
	return wd_error_set(err, WD_ENOTFOUND, "agent %s is not attested (evicted?)", agent_id);
}

static int banned(const char *agent_id, struct wd_error *err)
{
	return wd_error_set(err, WD_EBANNED, "agent %s is banned", agent_id);
}

/* Tells other servers that the record of agent id changed, inside the
 * caller's transaction where there is one. Their caches of node checks for
 * that agent are then stale. */
static int notify_node_change(struct registry *registry, const char *id,
	struct wd_error *err)
{
	char payload[STORE_NOTIFY_PAYLOAD_MAX + 1];
	int len = snprintf(payload, sizeof(payload), "node:%s", id);

	if (len < 0 || (size_t)len >= sizeof(payload))
		snprintf(payload, sizeof(payload), "node");
	return store_notify(registry->store, payload, err);
}

int registry_node_attest(struct registry *registry, const char *agent_id,
	const char *serial_hex, int64_t not_after, int64_t now, struct wd_error *err)
{
	_wd_cleanup_(wd_freep) char *id = NULL;
	char serial[REGISTRY_SERIAL_MAX_LEN + 1];
	struct registry_node *node = NULL;
	bool in_transaction = false;
	int rc = 0;

	wd_error_clear(err);
	WD_TRY(agent_id_canonical(registry, agent_id, &id, err));
	WD_TRY(serial_normalize(serial_hex, serial, err));
	if (not_after <= now)
		return wd_error_set(err, WD_EINVAL,
			"invalid SVID expiry %lld for agent %s: not after the current time %lld",
			(long long)not_after, id, (long long)now);

	WD_GUARD(store_begin(registry->store, err));
	in_transaction = true;
	WD_GUARD(node_find(registry, id, &node, err));
	if (node && node->banned) {
		rc = banned(id, err);
		goto out;
	}

	/* Attesting again starts afresh: serials of earlier SVIDs stop being
	 * accepted. */
	struct store_value params[] = {
		STORE_TEXT_VALUE(id),
		STORE_TEXT_VALUE(serial),
		STORE_INT_VALUE(not_after),
		STORE_INT_VALUE(now),
	};
	WD_GUARD(store_exec(registry->store, node ?
		"UPDATE registry_nodes SET serial = $2, not_after = $3, previous_serial = '', "
		"previous_not_after = 0, attested_at = $4, updated_at = $4 WHERE agent_id = $1" :
		"INSERT INTO registry_nodes (agent_id, serial, not_after, attested_at, updated_at) "
		"VALUES ($1, $2, $3, $4, $4)", params, WD_ARRAY_LEN(params), NULL, err));
	WD_GUARD(notify_node_change(registry, id, err));
	WD_GUARD(store_commit(registry->store, err));
	in_transaction = false;
out:
	if (in_transaction)
		store_rollback(registry->store);
	registry_node_free(node);
	return rc;
}

int registry_node_renew(struct registry *registry, const char *agent_id,
	const char *serial_hex, int64_t not_after, int64_t now, struct wd_error *err)
{
	_wd_cleanup_(wd_freep) char *id = NULL;
	char serial[REGISTRY_SERIAL_MAX_LEN + 1];
	struct registry_node *node = NULL;
	bool in_transaction = false;
	int rc = 0;

	wd_error_clear(err);
	WD_TRY(agent_id_canonical(registry, agent_id, &id, err));
	WD_TRY(serial_normalize(serial_hex, serial, err));
	if (not_after <= now)
		return wd_error_set(err, WD_EINVAL,
			"invalid SVID expiry %lld for agent %s: not after the current time %lld",
			(long long)not_after, id, (long long)now);

	WD_GUARD(store_begin(registry->store, err));
	in_transaction = true;
	WD_GUARD(node_find(registry, id, &node, err));
	if (!node) {
		rc = not_attested(id, err);
		goto out;
	}
	if (node->banned) {
		rc = banned(id, err);
		goto out;
	}

	/* Renewing to the serial already current changes nothing, so a retried
	 * renewal cannot push out the previous serial the agent may still use. */
	if (strcmp(node->serial, serial) != 0) {
		struct store_value params[] = {
			STORE_TEXT_VALUE(id),
			STORE_TEXT_VALUE(serial),
			STORE_INT_VALUE(not_after),
			STORE_INT_VALUE(now),
		};
		WD_GUARD(store_exec(registry->store,
			"UPDATE registry_nodes SET previous_serial = serial, "
			"previous_not_after = not_after, serial = $2, not_after = $3, "
			"updated_at = $4 WHERE agent_id = $1", params, WD_ARRAY_LEN(params), NULL,
			err));
		WD_GUARD(notify_node_change(registry, id, err));
	}
	WD_GUARD(store_commit(registry->store, err));
	in_transaction = false;
out:
	if (in_transaction)
		store_rollback(registry->store);
	registry_node_free(node);
	return rc;
}

static int svid_expired(const char *agent_id, const char *serial, int64_t not_after,
	struct wd_error *err)
{
	return wd_error_set(err, WD_EEXPIRED, "SVID %s of agent %s expired at %lld", serial,
		agent_id, (long long)not_after);
}

int registry_node_check(struct registry *registry, const char *agent_id,
	const char *serial_hex, int64_t now, struct wd_error *err)
{
	int64_t not_after;

	return registry_node_check_until(registry, agent_id, serial_hex, now, &not_after, err);
}

int registry_node_check_until(struct registry *registry, const char *agent_id,
	const char *serial_hex, int64_t now, int64_t *ret_not_after, struct wd_error *err)
{
	_wd_cleanup_(wd_freep) char *id = NULL;
	char serial[REGISTRY_SERIAL_MAX_LEN + 1];
	struct registry_node *node = NULL;
	int64_t not_after = 0;
	int rc = 0;

	*ret_not_after = 0;
	wd_error_clear(err);
	WD_TRY(agent_id_canonical(registry, agent_id, &id, err));
	if (serial_hex)
		WD_TRY(serial_normalize(serial_hex, serial, err));

	WD_GUARD(node_find(registry, id, &node, err));
	if (!node) {
		rc = not_attested(id, err);
		goto out;
	}
	if (node->banned) {
		rc = banned(id, err);
		goto out;
	}

	if (!serial_hex || strcmp(serial, node->serial) == 0) {
		not_after = node->not_after;
		if (now >= node->not_after)
			rc = svid_expired(id, node->serial, node->not_after, err);
	} else if (node->previous_serial[0] && strcmp(serial, node->previous_serial) == 0) {
		not_after = node->previous_not_after;
		if (now >= node->previous_not_after)
			rc = svid_expired(id, node->previous_serial, node->previous_not_after, err);
	} else {
		rc = wd_error_set(err, WD_EPERM,
			"SVID serial %s is not a current SVID of agent %s", serial, id);
	}
	if (rc == 0)
		*ret_not_after = not_after;
out:
	registry_node_free(node);
	return rc;
}

int registry_node_get(struct registry *registry, const char *agent_id,
	struct registry_node **ret_node, struct wd_error *err)
{
	_wd_cleanup_(wd_freep) char *id = NULL;
	struct registry_node *node = NULL;

	*ret_node = NULL;
	wd_error_clear(err);
	WD_TRY(agent_id_canonical(registry, agent_id, &id, err));
	WD_TRY(node_find(registry, id, &node, err));
	if (!node)
		return not_attested(id, err);
	*ret_node = node;
	return 0;
}

struct node_collector {
	struct registry_node **nodes;
	size_t count;
	size_t capacity;
};

static int collect_node_row(void *context, const struct store_row *row)
{
	struct node_collector *collector = context;
	struct registry_node *node = NULL;

	if (collector->count == collector->capacity)
		return WD_ETOOBIG;
	WD_TRY(read_node_row(&node, row));
	collector->nodes[collector->count++] = node;
	return 0;
}

int registry_node_list(struct registry *registry, const char *page_token, size_t limit,
	struct registry_node_list **ret_list, struct wd_error *err)
{
	struct node_collector collector = { 0 };
	struct registry_node_list *list = NULL;
	int rc = 0;

	*ret_list = NULL;
	wd_error_clear(err);
	if (limit == 0)
		limit = REGISTRY_LIST_DEFAULT_LIMIT;
	if (limit > REGISTRY_LIST_MAX_LIMIT)
		limit = REGISTRY_LIST_MAX_LIMIT;

	/* Fetching one row past the page shows whether another page follows. */
	collector.capacity = limit + 1;
	collector.nodes = wd_calloc(collector.capacity, sizeof(*collector.nodes));
	list = wd_calloc(1, sizeof(*list));
	WD_ENSURE(collector.nodes && list, WD_ENOMEM);

	struct store_value params[] = {
		STORE_TEXT_VALUE(page_token ? page_token : ""),
		STORE_INT_VALUE((int64_t)collector.capacity),
	};
	WD_GUARD(store_query(registry->store,
		"SELECT " NODE_COLUMNS " FROM registry_nodes WHERE agent_id > $1 "
		"ORDER BY agent_id LIMIT $2", params, WD_ARRAY_LEN(params), collect_node_row,
		&collector, err));

	if (collector.count > limit) {
		registry_node_free(collector.nodes[limit]);
		collector.count = limit;
		list->next_page_token = wd_strdup(collector.nodes[limit - 1]->agent_id);
		WD_ENSURE(list->next_page_token, WD_ENOMEM);
	}
	list->nodes = WD_TAKE_PTR(collector.nodes);
	list->count = collector.count;
	collector.count = 0;

	*ret_list = WD_TAKE_PTR(list);
out:
	if (rc < 0 && (!err || err->code != rc))
		wd_error_set(err, rc, "registry: cannot list agents");
	for (size_t i = 0; i < collector.count; i++)
		registry_node_free(collector.nodes[i]);
	free(collector.nodes);
	registry_node_list_free(list);
	return rc;
}

int registry_node_evict(struct registry *registry, const char *agent_id,
	struct wd_error *err)
{
	_wd_cleanup_(wd_freep) char *id = NULL;
	int64_t changes = 0;
	int rc;

	wd_error_clear(err);
	WD_TRY(agent_id_canonical(registry, agent_id, &id, err));

	struct store_value params[] = { STORE_TEXT_VALUE(id) };
	WD_TRY(store_begin(registry->store, err));
	WD_GUARD(store_exec(registry->store, "DELETE FROM registry_nodes WHERE agent_id = $1",
		params, 1, &changes, err));
	if (changes == 0) {
		rc = not_attested(id, err);
		goto out;
	}
	WD_GUARD(notify_node_change(registry, id, err));
	WD_GUARD(store_commit(registry->store, err));
	return 0;
out:
	store_rollback(registry->store);
	return rc;
}

int registry_node_ban(struct registry *registry, const char *agent_id, int64_t now,
	struct wd_error *err)
{
	_wd_cleanup_(wd_freep) char *id = NULL;
	int64_t changes = 0;
	int rc;

	wd_error_clear(err);
	WD_TRY(agent_id_canonical(registry, agent_id, &id, err));

	/* SPIRE stores a ban as an empty serial. The banned flag records it
	 * explicitly, and the serials are cleared as well. */
	struct store_value params[] = { STORE_TEXT_VALUE(id), STORE_INT_VALUE(now) };
	WD_TRY(store_begin(registry->store, err));
	WD_GUARD(store_exec(registry->store,
		"UPDATE registry_nodes SET banned = 1, serial = '', not_after = 0, "
		"previous_serial = '', previous_not_after = 0, updated_at = $2 "
		"WHERE agent_id = $1", params, WD_ARRAY_LEN(params), &changes, err));
	if (changes == 0) {
		rc = not_attested(id, err);
		goto out;
	}
	WD_GUARD(notify_node_change(registry, id, err));
	WD_GUARD(store_commit(registry->store, err));
	return 0;
out:
	store_rollback(registry->store);
	return rc;
}
