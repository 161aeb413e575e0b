/* The agent's SVID cache: entries sorted by id, their pre-minted
 * X.509-SVIDs, JWT-SVIDs per entry and audience set, and the bundle, under
 * one mutex. Readers get deep copies, so nothing they hold changes under
 * them. */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/crypto.h>

#include "agent/cache.h"
#include "agent/selectors.h"
#include "agent/svid_crl.h"
#include "common/alloc.h"
#include "common/time.h"

struct cache_entry {
	char *id;
	char *spiffe_id;
	char *hint;
	struct agent_selector_set *selectors;
	int64_t revision;
	int64_t x509_svid_ttl;
	int64_t jwt_svid_ttl;

	bool has_svid;
	uint8_t *chain_der;
	size_t chain_der_len;
	uint8_t *key_der;
	size_t key_der_len;
	int64_t not_before;
	int64_t not_after;
	int64_t rotate_at;
};

struct cache_jwt {
	char *entry_id;
	char *audience_key; /* sorted, deduplicated audiences joined by '\n' */
	char *token;
	int64_t issued_at;
	int64_t expires_at;
	uint64_t last_used;
};

struct agent_cache {
	pthread_mutex_t mutex;
	char *trust_domain;
	agent_clock_fn clock;
	void *clock_arg;

	struct cache_entry **entries; /* sorted by id */
	size_t entry_count;
	size_t entry_capacity;

	struct cache_jwt *jwts;
	size_t jwt_count;
	uint64_t jwt_use_counter;

	bool has_bundle;
	uint8_t *authorities_der;
	size_t authorities_der_len;
	char *jwks_json;
	uint8_t **crl_der;
	size_t *crl_der_len;
	size_t crl_count;
	uint64_t bundle_sequence;

	uint64_t generation;
	struct event *notify_event;
	agent_cache_change_fn change_fn;
	void *change_arg;
	agent_jwt_fetch_fn jwt_fetch;
	void *jwt_fetch_arg;
};

static int64_t cache_now(struct agent_cache *cache)
{
	return cache->clock ? cache->clock(cache->clock_arg) : wd_now();
}

static void *memdup(const void *data, size_t len)
{
	void *copy = malloc(len ? len : 1);

	if (copy && len)
		memcpy(copy, data, len);
	return copy;
}

static void free_secret(void *data, size_t len)
{
	if (data)
		OPENSSL_cleanse(data, len);
	free(data);
}

static void entry_drop_svid(struct cache_entry *entry)
{
	free(entry->chain_der);
	free_secret(entry->key_der, entry->key_der_len);
	entry->chain_der = NULL;
	entry->key_der = NULL;
	entry->chain_der_len = 0;
	entry->key_der_len = 0;
	entry->has_svid = false;
	entry->not_before = entry->not_after = entry->rotate_at = 0;
}

static void entry_free(struct cache_entry *entry)
{
	if (!entry)
		return;
	entry_drop_svid(entry);
	free(entry->id);
	free(entry->spiffe_id);
	free(entry->hint);
	agent_selector_set_free(entry->selectors);
	free(entry);
}

static void jwt_clear(struct cache_jwt *jwt)
{
	free(jwt->entry_id);
	free(jwt->audience_key);
	if (jwt->token)
		free_secret(jwt->token, strlen(jwt->token));
	memset(jwt, 0, sizeof(*jwt));
}

/* Drops the JWT-SVIDs of entry_id, or all of them when entry_id is NULL. */
static void drop_jwts(struct agent_cache *cache, const char *entry_id)
{
	size_t kept = 0;

	for (size_t i = 0; i < cache->jwt_count; i++) {
		if (!entry_id || strcmp(cache->jwts[i].entry_id, entry_id) == 0)
			jwt_clear(&cache->jwts[i]);
		else
			cache->jwts[kept++] = cache->jwts[i];
	}
	cache->jwt_count = kept;
}

static void bundle_clear(struct agent_cache *cache)
{
	free(cache->authorities_der);
	free(cache->jwks_json);
	for (size_t i = 0; i < cache->crl_count; i++)
		free(cache->crl_der[i]);
	free(cache->crl_der);
	free(cache->crl_der_len);
	cache->authorities_der = NULL;
	cache->authorities_der_len = 0;
	cache->jwks_json = NULL;
	cache->crl_der = NULL;
	cache->crl_der_len = NULL;
	cache->crl_count = 0;
	cache->has_bundle = false;
}

/* Returns the index of id, or of where it would be inserted, and whether it
 * is there. */
static size_t find_entry(const struct agent_cache *cache, const char *id, bool *ret_found)
{
	size_t low = 0;
	size_t high = cache->entry_count;

	while (low < high) {
		size_t mid = low + (high - low) / 2;
		int cmp = strcmp(cache->entries[mid]->id, id);

		if (cmp == 0) {
			*ret_found = true;
			return mid;
		}
		if (cmp < 0)
			low = mid + 1;
		else
			high = mid;
	}
	*ret_found = false;
	return low;
}

static void on_notify(evutil_socket_t fd, short what, void *arg)
{
	struct agent_cache *cache = arg;
	agent_cache_change_fn fn;
	void *fn_arg;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&cache->mutex);
	fn = cache->change_fn;
	fn_arg = cache->change_arg;
	pthread_mutex_unlock(&cache->mutex);
	if (fn)
		fn(cache, fn_arg);
}

/* Counts a change; the caller holds the mutex. */
static void changed_locked(struct agent_cache *cache)
{
	cache->generation++;
	/* event_active is safe from any thread once libevent uses pthreads
	 * locking; several activations before the loop runs fire once. */
	if (cache->notify_event)
		event_active(cache->notify_event, EV_WRITE, 0);
}

int agent_cache_new(const char *trust_domain, struct event_base *base, agent_clock_fn clock,
	void *clock_arg, struct agent_cache **ret_cache, struct wd_error *err)
{
	struct agent_cache *cache;

	*ret_cache = NULL;
	if (base && evthread_use_pthreads() < 0)
		return wd_error_set(err, WD_EINTERNAL, "cannot enable libevent thread support");
	cache = wd_calloc(1, sizeof(*cache));
	if (!cache)
		return wd_error_set(err, WD_ENOMEM, "out of memory creating the SVID cache");
	cache->clock = clock;
	cache->clock_arg = clock_arg;
	cache->trust_domain = wd_strdup(trust_domain);
	if (!cache->trust_domain || pthread_mutex_init(&cache->mutex, NULL) != 0) {
		free(cache->trust_domain);
		free(cache);
		return wd_error_set(err, WD_ENOMEM, "out of memory creating the SVID cache");
	}
	if (base) {
		cache->notify_event = event_new(base, -1, 0, on_notify, cache);
		if (!cache->notify_event) {
			agent_cache_free(cache);
			return wd_error_set(err, WD_ENOMEM, "cannot create the cache change event");
		}
	}
	*ret_cache = cache;
	return 0;
}

void agent_cache_free(struct agent_cache *cache)
{
	if (!cache)
		return;
	if (cache->notify_event)
		event_free(cache->notify_event);
	for (size_t i = 0; i < cache->entry_count; i++)
		entry_free(cache->entries[i]);
	free(cache->entries);
	drop_jwts(cache, NULL);
	free(cache->jwts);
	bundle_clear(cache);
	free(cache->trust_domain);
	pthread_mutex_destroy(&cache->mutex);
	free(cache);
}

void agent_cache_set_change_cb(struct agent_cache *cache, agent_cache_change_fn fn, void *arg)
{
	pthread_mutex_lock(&cache->mutex);
	cache->change_fn = fn;
	cache->change_arg = arg;
	pthread_mutex_unlock(&cache->mutex);
}

void agent_cache_set_jwt_fetch(struct agent_cache *cache, agent_jwt_fetch_fn fn, void *arg)
{
	pthread_mutex_lock(&cache->mutex);
	cache->jwt_fetch = fn;
	cache->jwt_fetch_arg = arg;
	pthread_mutex_unlock(&cache->mutex);
}

uint64_t agent_cache_generation(struct agent_cache *cache)
{
	uint64_t generation;

	pthread_mutex_lock(&cache->mutex);
	generation = cache->generation;
	pthread_mutex_unlock(&cache->mutex);
	return generation;
}

void agent_cache_notify(struct agent_cache *cache)
{
	pthread_mutex_lock(&cache->mutex);
	changed_locked(cache);
	pthread_mutex_unlock(&cache->mutex);
}

/* ---- Readers ---- */

static void svid_clear(struct agent_svid *svid)
{
	free(svid->entry_id);
	free(svid->spiffe_id);
	free(svid->hint);
	free(svid->chain_der);
	free_secret(svid->key_der, svid->key_der_len);
}

void agent_svid_list_free(struct agent_svid_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->count; i++)
		svid_clear(&list->items[i]);
	free(list->items);
	free(list);
}

static int svid_copy(const struct cache_entry *entry, struct agent_svid *ret_svid)
{
	struct agent_svid svid = {
		.entry_id = wd_strdup(entry->id),
		.spiffe_id = wd_strdup(entry->spiffe_id),
		.hint = wd_strdup(entry->hint ? entry->hint : ""),
		.chain_der = memdup(entry->chain_der, entry->chain_der_len),
		.chain_der_len = entry->chain_der_len,
		.key_der = memdup(entry->key_der, entry->key_der_len),
		.key_der_len = entry->key_der_len,
		.expires_at = entry->not_after,
	};

	if (!svid.entry_id || !svid.spiffe_id || !svid.hint || !svid.chain_der || !svid.key_der) {
		svid_clear(&svid);
		return WD_ENOMEM;
	}
	*ret_svid = svid;
	return 0;
}

static bool entry_serves(const struct cache_entry *entry, int64_t now,
	const struct agent_selector_set *workload)
{
	return entry->has_svid && entry->not_after > now &&
		agent_selectors_subset(entry->selectors, workload);
}

int agent_cache_match(struct agent_cache *cache,
	const struct agent_selector_set *workload_selectors, struct agent_svid_list **ret_list)
{
	struct agent_svid_list *list;
	int64_t now = cache_now(cache);
	int rc = 0;

	*ret_list = NULL;
	list = wd_calloc(1, sizeof(*list));
	if (!list)
		return WD_ENOMEM;

	pthread_mutex_lock(&cache->mutex);
	for (size_t i = 0; i < cache->entry_count; i++) {
		const struct cache_entry *entry = cache->entries[i];

		if (!entry_serves(entry, now, workload_selectors))
			continue;
		if (!list->items) {
			list->items = wd_calloc(cache->entry_count - i, sizeof(*list->items));
			if (!list->items) {
				rc = WD_ENOMEM;
				break;
			}
		}
		rc = svid_copy(entry, &list->items[list->count]);
		if (rc < 0)
			break;
		list->count++;
	}
	pthread_mutex_unlock(&cache->mutex);

	if (rc < 0) {
		agent_svid_list_free(list);
		return rc;
	}
	*ret_list = list;
	return 0;
}

void agent_bundle_free(struct agent_bundle *bundle)
{
	if (!bundle)
		return;
	free(bundle->trust_domain);
	free(bundle->x509_authorities_der);
	free(bundle->jwks_json);
	for (size_t i = 0; i < bundle->crl_count; i++)
		free(bundle->crl_der[i]);
	free(bundle->crl_der);
	free(bundle->crl_der_len);
	free(bundle);
}

static int bundle_copy_locked(const struct agent_cache *cache, struct agent_bundle *bundle)
{
	bundle->trust_domain = wd_strdup(cache->trust_domain);
	bundle->x509_authorities_der = memdup(cache->authorities_der, cache->authorities_der_len);
	bundle->x509_authorities_der_len = cache->authorities_der_len;
	bundle->jwks_json = wd_strdup(cache->jwks_json ? cache->jwks_json : "{\"keys\":[]}");
	bundle->sequence = cache->bundle_sequence;
	if (!bundle->trust_domain || !bundle->x509_authorities_der || !bundle->jwks_json)
		return WD_ENOMEM;
	if (cache->crl_count == 0)
		return 0;
	bundle->crl_der = wd_calloc(cache->crl_count, sizeof(*bundle->crl_der));
	bundle->crl_der_len = wd_calloc(cache->crl_count, sizeof(*bundle->crl_der_len));
	if (!bundle->crl_der || !bundle->crl_der_len)
		return WD_ENOMEM;
	for (size_t i = 0; i < cache->crl_count; i++) {
		bundle->crl_der[i] = memdup(cache->crl_der[i], cache->crl_der_len[i]);
		if (!bundle->crl_der[i])
			return WD_ENOMEM;
		bundle->crl_der_len[i] = cache->crl_der_len[i];
		bundle->crl_count = i + 1;
	}
	return 0;
}

int agent_cache_bundle(struct agent_cache *cache, struct agent_bundle **ret_bundle)
{
	struct agent_bundle *bundle;
	int rc;

	*ret_bundle = NULL;
	bundle = wd_calloc(1, sizeof(*bundle));
	if (!bundle)
		return WD_ENOMEM;
	pthread_mutex_lock(&cache->mutex);
	rc = cache->has_bundle ? bundle_copy_locked(cache, bundle) : WD_ENOTFOUND;
	pthread_mutex_unlock(&cache->mutex);
	if (rc < 0) {
		agent_bundle_free(bundle);
		return rc;
	}
	*ret_bundle = bundle;
	return 0;
}

/* ---- Writers ---- */

int agent_cache_put_entry(struct agent_cache *cache, const struct agent_entry_view *view,
	struct wd_error *err)
{
	struct cache_entry *entry = NULL;
	struct agent_selector_set *selectors = NULL;
	bool found;
	size_t index;
	int rc = 0;

	if (!view->id || !view->spiffe_id)
		return wd_error_set(err, WD_EINVAL, "entry without id or spiffe_id");
	if (view->selector_count == 0 || view->selector_count > AGENT_CACHE_MAX_SELECTORS)
		return wd_error_set(err, WD_ETOOBIG, "entry \"%.64s\" has %zu selectors; expected 1 "
			"to %u", view->id, view->selector_count, AGENT_CACHE_MAX_SELECTORS);
	WD_TRY(agent_selector_set_parse(view->selectors, view->selector_count,
		AGENT_CACHE_MAX_SELECTORS, &selectors, err));

	pthread_mutex_lock(&cache->mutex);
	index = find_entry(cache, view->id, &found);
	if (found) {
		entry = cache->entries[index];
		bool reissue = entry->revision != view->revision ||
			strcmp(entry->spiffe_id, view->spiffe_id) != 0 ||
			entry->x509_svid_ttl != view->x509_svid_ttl ||
			entry->jwt_svid_ttl != view->jwt_svid_ttl;
		char *spiffe_id = wd_strdup(view->spiffe_id);
		char *hint = view->hint ? wd_strdup(view->hint) : NULL;

		if (!spiffe_id || (view->hint && !hint)) {
			free(spiffe_id);
			free(hint);
			rc = wd_error_set(err, WD_ENOMEM, "out of memory caching an entry");
			goto unlock;
		}
		free(entry->spiffe_id);
		free(entry->hint);
		agent_selector_set_free(entry->selectors);
		entry->spiffe_id = spiffe_id;
		entry->hint = hint;
		entry->selectors = WD_TAKE_PTR(selectors);
		entry->revision = view->revision;
		entry->x509_svid_ttl = view->x509_svid_ttl;
		entry->jwt_svid_ttl = view->jwt_svid_ttl;
		if (reissue) {
			entry_drop_svid(entry);
			drop_jwts(cache, entry->id);
		}
		changed_locked(cache);
		goto unlock;
	}

	if (cache->entry_count >= AGENT_CACHE_MAX_ENTRIES) {
		rc = wd_error_set(err, WD_ETOOBIG, "the cache holds %u entries already",
			AGENT_CACHE_MAX_ENTRIES);
		goto unlock;
	}
	if (cache->entry_count == cache->entry_capacity) {
		size_t capacity = cache->entry_capacity ? cache->entry_capacity * 2 : 16;
		void *grown = wd_reallocarray(cache->entries, capacity, sizeof(*cache->entries));

		if (!grown) {
			rc = wd_error_set(err, WD_ENOMEM, "out of memory caching an entry");
			goto unlock;
		}
		cache->entries = grown;
		cache->entry_capacity = capacity;
	}
	entry = wd_calloc(1, sizeof(*entry));
	if (entry) {
		entry->id = wd_strdup(view->id);
		entry->spiffe_id = wd_strdup(view->spiffe_id);
		entry->hint = view->hint ? wd_strdup(view->hint) : NULL;
	}
	if (!entry || !entry->id || !entry->spiffe_id || (view->hint && !entry->hint)) {
		entry_free(entry);
		rc = wd_error_set(err, WD_ENOMEM, "out of memory caching an entry");
		goto unlock;
	}
	entry->selectors = WD_TAKE_PTR(selectors);
	entry->revision = view->revision;
	entry->x509_svid_ttl = view->x509_svid_ttl;
	entry->jwt_svid_ttl = view->jwt_svid_ttl;
	memmove(&cache->entries[index + 1], &cache->entries[index],
		(cache->entry_count - index) * sizeof(*cache->entries));
	cache->entries[index] = entry;
	cache->entry_count++;
	changed_locked(cache);
unlock:
	pthread_mutex_unlock(&cache->mutex);
	agent_selector_set_free(selectors);
	return rc;
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int agent_cache_retain(struct agent_cache *cache, const char *const *ids, size_t id_count,
	size_t *ret_dropped)
{
	const char **sorted = NULL;
	size_t kept = 0;
	size_t dropped = 0;

	if (ret_dropped)
		*ret_dropped = 0;
	if (id_count) {
		sorted = wd_calloc(id_count, sizeof(*sorted));
		if (!sorted)
			return WD_ENOMEM;
		memcpy(sorted, ids, id_count * sizeof(*sorted));
		qsort(sorted, id_count, sizeof(*sorted), compare_strings);
	}

	pthread_mutex_lock(&cache->mutex);
	for (size_t i = 0; i < cache->entry_count; i++) {
		struct cache_entry *entry = cache->entries[i];
		const char *key = entry->id;

		if (sorted && bsearch(&key, sorted, id_count, sizeof(*sorted), compare_strings)) {
			cache->entries[kept++] = entry;
			continue;
		}
		drop_jwts(cache, entry->id);
		entry_free(entry);
		dropped++;
	}
	cache->entry_count = kept;
	if (dropped)
		changed_locked(cache);
	pthread_mutex_unlock(&cache->mutex);

	free(sorted);
	if (ret_dropped)
		*ret_dropped = dropped;
	return 0;
}

void agent_cache_clear(struct agent_cache *cache)
{
	pthread_mutex_lock(&cache->mutex);
	for (size_t i = 0; i < cache->entry_count; i++)
		entry_free(cache->entries[i]);
	cache->entry_count = 0;
	drop_jwts(cache, NULL);
	bundle_clear(cache);
	cache->bundle_sequence = 0;
	changed_locked(cache);
	pthread_mutex_unlock(&cache->mutex);
}

int agent_cache_set_svid(struct agent_cache *cache, const char *entry_id,
	const uint8_t *chain_der, size_t chain_der_len, const uint8_t *key_der, size_t key_der_len,
	int64_t not_before, int64_t not_after, int64_t rotate_at)
{
	uint8_t *chain;
	uint8_t *key;
	bool found;
	size_t index;

	if (not_after <= not_before || chain_der_len == 0 || key_der_len == 0)
		return WD_EINVAL;
	chain = memdup(chain_der, chain_der_len);
	key = memdup(key_der, key_der_len);
	if (!chain || !key) {
		free(chain);
		free_secret(key, key_der_len);
		return WD_ENOMEM;
	}

	pthread_mutex_lock(&cache->mutex);
	index = find_entry(cache, entry_id, &found);
	if (!found) {
		pthread_mutex_unlock(&cache->mutex);
		free(chain);
		free_secret(key, key_der_len);
		return WD_ENOTFOUND;
	}
	struct cache_entry *entry = cache->entries[index];

	entry_drop_svid(entry);
	entry->chain_der = chain;
	entry->chain_der_len = chain_der_len;
	entry->key_der = key;
	entry->key_der_len = key_der_len;
	entry->not_before = not_before;
	entry->not_after = not_after;
	entry->rotate_at = rotate_at;
	entry->has_svid = true;
	changed_locked(cache);
	pthread_mutex_unlock(&cache->mutex);
	return 0;
}

void agent_cache_ids_free(char **ids, size_t count)
{
	if (!ids)
		return;
	for (size_t i = 0; i < count; i++)
		free(ids[i]);
	free(ids);
}

int agent_cache_due(struct agent_cache *cache, int64_t now, char ***ret_ids, size_t *ret_count)
{
	char **ids = NULL;
	size_t count = 0;
	int rc = 0;

	*ret_ids = NULL;
	*ret_count = 0;
	pthread_mutex_lock(&cache->mutex);
	if (cache->entry_count) {
		ids = wd_calloc(cache->entry_count, sizeof(*ids));
		if (!ids)
			rc = WD_ENOMEM;
	}
	for (size_t i = 0; rc == 0 && i < cache->entry_count; i++) {
		const struct cache_entry *entry = cache->entries[i];

		if (entry->has_svid && entry->rotate_at > now)
			continue;
		ids[count] = wd_strdup(entry->id);
		if (!ids[count])
			rc = WD_ENOMEM;
		else
			count++;
	}
	pthread_mutex_unlock(&cache->mutex);
	if (rc < 0) {
		agent_cache_ids_free(ids, count);
		return rc;
	}
	*ret_ids = ids;
	*ret_count = count;
	return 0;
}

int64_t agent_cache_next_rotation(struct agent_cache *cache)
{
	int64_t next = INT64_MAX;

	pthread_mutex_lock(&cache->mutex);
	for (size_t i = 0; i < cache->entry_count; i++)
		if (cache->entries[i]->has_svid && cache->entries[i]->rotate_at < next)
			next = cache->entries[i]->rotate_at;
	pthread_mutex_unlock(&cache->mutex);
	return next;
}

int agent_cache_entry_ttl(struct agent_cache *cache, const char *entry_id, int64_t *ret_ttl)
{
	bool found;
	size_t index;

	*ret_ttl = 0;
	pthread_mutex_lock(&cache->mutex);
	index = find_entry(cache, entry_id, &found);
	if (found)
		*ret_ttl = cache->entries[index]->x509_svid_ttl;
	pthread_mutex_unlock(&cache->mutex);
	return found ? 0 : WD_ENOTFOUND;
}

void agent_revoked_list_free(struct agent_revoked_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->count; i++) {
		free(list->items[i].entry_id);
		free(list->items[i].spiffe_id);
	}
	free(list->items);
	free(list);
}

/* Drops each X.509-SVID that crls revokes, and the entry's cached
 * JWT-SVIDs with it, and lists it in revoked (room for every entry). The
 * caller holds the mutex. A chain that does not decode cannot be checked
 * and stays. On WD_ENOMEM every revoked SVID is still dropped, but some may
 * be missing from the list. */
static int drop_revoked_locked(struct agent_cache *cache, const struct agent_crl_set *crls,
	struct agent_revoked_list *revoked)
{
	int rc = 0;

	for (size_t i = 0; i < cache->entry_count; i++) {
		struct cache_entry *entry = cache->entries[i];
		char serial[AGENT_CRL_SERIAL_HEX_SIZE];
		bool is_revoked = false;

		if (!entry->has_svid)
			continue;
		if (agent_crl_set_check(crls, entry->chain_der, entry->chain_der_len, &is_revoked,
			    serial) < 0 || !is_revoked)
			continue;
		entry_drop_svid(entry);
		drop_jwts(cache, entry->id);

		struct agent_revoked_svid *item = &revoked->items[revoked->count];
		item->entry_id = wd_strdup(entry->id);
		item->spiffe_id = wd_strdup(entry->spiffe_id);
		memcpy(item->serial, serial, sizeof(item->serial));
		if (!item->entry_id || !item->spiffe_id) {
			free(item->entry_id);
			free(item->spiffe_id);
			memset(item, 0, sizeof(*item));
			rc = WD_ENOMEM;
			continue;
		}
		revoked->count++;
	}
	return rc;
}

int agent_cache_set_bundle(struct agent_cache *cache, const uint8_t *x509_authorities_der,
	size_t x509_authorities_der_len, const char *jwks_json, const uint8_t *const *crl_der,
	const size_t *crl_der_len, size_t crl_count, uint64_t sequence,
	struct agent_revoked_list **ret_revoked, struct wd_error *err)
{
	struct agent_cache staged = { 0 };
	struct agent_crl_set *crls = NULL;
	struct agent_revoked_list *revoked = NULL;
	int rc = 0;

	*ret_revoked = NULL;
	staged.authorities_der = memdup(x509_authorities_der, x509_authorities_der_len);
	staged.authorities_der_len = x509_authorities_der_len;
	staged.jwks_json = wd_strdup(jwks_json ? jwks_json : "{\"keys\":[]}");
	if (crl_count) {
		staged.crl_der = wd_calloc(crl_count, sizeof(*staged.crl_der));
		staged.crl_der_len = wd_calloc(crl_count, sizeof(*staged.crl_der_len));
	}
	revoked = wd_calloc(1, sizeof(*revoked));
	if (!staged.authorities_der || !staged.jwks_json || !revoked ||
	    (crl_count && (!staged.crl_der || !staged.crl_der_len)))
		goto nomem;
	for (size_t i = 0; i < crl_count; i++) {
		staged.crl_der[i] = memdup(crl_der[i], crl_der_len[i]);
		if (!staged.crl_der[i])
			goto nomem;
		staged.crl_der_len[i] = crl_der_len[i];
		staged.crl_count = i + 1;
	}
	rc = agent_crl_set_new(staged.authorities_der, staged.authorities_der_len,
		(const uint8_t *const *)staged.crl_der, staged.crl_der_len, staged.crl_count, &crls,
		err);
	if (rc < 0)
		goto fail;

	pthread_mutex_lock(&cache->mutex);
	if (cache->entry_count) {
		revoked->items = wd_calloc(cache->entry_count, sizeof(*revoked->items));
		if (!revoked->items)
			rc = WD_ENOMEM;
	}
	bundle_clear(cache);
	cache->authorities_der = staged.authorities_der;
	cache->authorities_der_len = staged.authorities_der_len;
	cache->jwks_json = staged.jwks_json;
	cache->crl_der = staged.crl_der;
	cache->crl_der_len = staged.crl_der_len;
	cache->crl_count = staged.crl_count;
	cache->bundle_sequence = sequence;
	cache->has_bundle = true;
	/* Checked in the same lock as the bundle is stored, so no reader ever
	 * gets the new CRLs together with an SVID they revoke. */
	if (revoked->items && drop_revoked_locked(cache, crls, revoked) < 0)
		rc = WD_ENOMEM;
	if (rc < 0) {
		/* Without a complete list the caller cannot renew at once, so
		 * drop every SVID that could be revoked; agent_cache_due lists
		 * them for minting. */
		for (size_t i = 0; !revoked->items && i < cache->entry_count; i++)
			entry_drop_svid(cache->entries[i]);
		changed_locked(cache);
	} else if (revoked->count) {
		/* Announced by the caller's agent_cache_notify once the
		 * replacements are in. */
		cache->generation++;
	} else {
		changed_locked(cache);
	}
	pthread_mutex_unlock(&cache->mutex);
	agent_crl_set_free(crls);
	if (rc < 0) {
		agent_revoked_list_free(revoked);
		return wd_error_set(err, rc, "out of memory checking SVIDs against the CRLs");
	}
	*ret_revoked = revoked;
	return 0;
nomem:
	rc = wd_error_set(err, WD_ENOMEM, "out of memory storing the bundle");
fail:
	bundle_clear(&staged);
	agent_revoked_list_free(revoked);
	return rc;
}

uint64_t agent_cache_bundle_sequence(struct agent_cache *cache)
{
	uint64_t sequence;

	pthread_mutex_lock(&cache->mutex);
	sequence = cache->bundle_sequence;
	pthread_mutex_unlock(&cache->mutex);
	return sequence;
}

size_t agent_cache_entry_count(struct agent_cache *cache)
{
	size_t count;

	pthread_mutex_lock(&cache->mutex);
	count = cache->entry_count;
	pthread_mutex_unlock(&cache->mutex);
	return count;
}

/* ---- JWT-SVIDs ---- */

void agent_jwt_svid_list_free(struct agent_jwt_svid_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->count; i++) {
		free(list->items[i].spiffe_id);
		free(list->items[i].hint);
		if (list->items[i].token)
			free_secret(list->items[i].token, strlen(list->items[i].token));
	}
	free(list->items);
	free(list);
}

/* Builds the cache key of an audience set: sorted, without duplicates,
 * joined by '\n'. */
static int audience_key(const char *const *audiences, size_t count, char **ret_key)
{
	const char **sorted;
	size_t len = 1;
	char *key;
	char *p;

	*ret_key = NULL;
	sorted = wd_calloc(count, sizeof(*sorted));
	if (!sorted)
		return WD_ENOMEM;
	memcpy(sorted, audiences, count * sizeof(*sorted));
	qsort(sorted, count, sizeof(*sorted), compare_strings);
	for (size_t i = 0; i < count; i++)
		len += strlen(sorted[i]) + 1;
	key = malloc(len);
	if (!key) {
		free(sorted);
		return WD_ENOMEM;
	}
	p = key;
	for (size_t i = 0; i < count; i++) {
		size_t item_len = strlen(sorted[i]);

		if (i > 0 && strcmp(sorted[i], sorted[i - 1]) == 0)
			continue;
		memcpy(p, sorted[i], item_len);
		p += item_len;
		*p++ = '\n';
	}
	*p = '\0';
	free(sorted);
	*ret_key = key;
	return 0;
}

/* Returns the cached token of entry_id for key while it is below half its
 * lifetime at now, or NULL; the caller holds the mutex. */
static struct cache_jwt *find_jwt(struct agent_cache *cache, const char *entry_id,
	const char *key, int64_t now)
{
	for (size_t i = 0; i < cache->jwt_count; i++) {
		struct cache_jwt *jwt = &cache->jwts[i];
		int64_t refresh_at = jwt->issued_at + (jwt->expires_at - jwt->issued_at) / 2;

		if (strcmp(jwt->entry_id, entry_id) == 0 && strcmp(jwt->audience_key, key) == 0)
			return now < refresh_at ? jwt : NULL;
	}
	return NULL;
}

/* Stores a fetched token, replacing an older one for the same entry and
 * audiences and evicting the least recently used past AGENT_CACHE_MAX_JWT.
 * Takes token; the caller holds the mutex. */
static void store_jwt(struct agent_cache *cache, const char *entry_id, const char *key,
	char *token, int64_t issued_at, int64_t expires_at)
{
	struct cache_jwt *slot = NULL;

	for (size_t i = 0; i < cache->jwt_count && !slot; i++)
		if (strcmp(cache->jwts[i].entry_id, entry_id) == 0 &&
		    strcmp(cache->jwts[i].audience_key, key) == 0)
			slot = &cache->jwts[i];
	if (!slot && cache->jwt_count < AGENT_CACHE_MAX_JWT) {
		if (!cache->jwts)
			cache->jwts = wd_calloc(AGENT_CACHE_MAX_JWT, sizeof(*cache->jwts));
		if (cache->jwts)
			slot = &cache->jwts[cache->jwt_count++];
	}
	if (!slot && cache->jwts) {
		slot = &cache->jwts[0];
		for (size_t i = 1; i < cache->jwt_count; i++)
			if (cache->jwts[i].last_used < slot->last_used)
				slot = &cache->jwts[i];
	}
	if (!slot) {
		free_secret(token, strlen(token));
		return;
	}
	jwt_clear(slot);
	slot->entry_id = wd_strdup(entry_id);
	slot->audience_key = wd_strdup(key);
	slot->token = token;
	slot->issued_at = issued_at;
	slot->expires_at = expires_at;
	slot->last_used = ++cache->jwt_use_counter;
	if (!slot->entry_id || !slot->audience_key) {
		/* Out of memory: keep the slot empty but well-formed. */
		jwt_clear(slot);
		slot->entry_id = wd_strdup("");
		slot->audience_key = wd_strdup("");
		if (!slot->entry_id || !slot->audience_key) {
			jwt_clear(slot);
			*slot = cache->jwts[--cache->jwt_count];
			memset(&cache->jwts[cache->jwt_count], 0, sizeof(*slot));
		}
	}
}

/* The identity a JWT-SVID is requested for, copied out of the lock. */
struct jwt_target {
	char *entry_id;
	char *spiffe_id;
	char *hint;
};

static void targets_free(struct jwt_target *targets, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(targets[i].entry_id);
		free(targets[i].spiffe_id);
		free(targets[i].hint);
	}
	free(targets);
}

/* Copies the entries of workload_selectors (only spiffe_id's when not NULL).
 * X.509-SVIDs are not needed for JWT-SVIDs, so entries still minting count. */
static int collect_targets(struct agent_cache *cache, const struct agent_selector_set *workload,
	const char *spiffe_id, struct jwt_target **ret_targets, size_t *ret_count)
{
	struct jwt_target *targets = NULL;
	size_t count = 0;
	int rc = 0;

	*ret_targets = NULL;
	*ret_count = 0;
	pthread_mutex_lock(&cache->mutex);
	if (cache->entry_count) {
		targets = wd_calloc(cache->entry_count, sizeof(*targets));
		if (!targets)
			rc = WD_ENOMEM;
	}
	for (size_t i = 0; rc == 0 && i < cache->entry_count; i++) {
		const struct cache_entry *entry = cache->entries[i];

		if (!agent_selectors_subset(entry->selectors, workload))
			continue;
		if (spiffe_id && strcmp(entry->spiffe_id, spiffe_id) != 0)
			continue;
		targets[count].entry_id = wd_strdup(entry->id);
		targets[count].spiffe_id = wd_strdup(entry->spiffe_id);
		targets[count].hint = wd_strdup(entry->hint ? entry->hint : "");
		count++;
		if (!targets[count - 1].entry_id || !targets[count - 1].spiffe_id ||
		    !targets[count - 1].hint)
			rc = WD_ENOMEM;
	}
	pthread_mutex_unlock(&cache->mutex);
	if (rc < 0) {
		targets_free(targets, count);
		return rc;
	}
	*ret_targets = targets;
	*ret_count = count;
	return 0;
}

/* Fills item with a cached or freshly fetched token for target. */
static int jwt_for_target(struct agent_cache *cache, const struct jwt_target *target,
	const char *key, const char *const *audiences, size_t audience_count,
	struct agent_jwt_svid *item, struct wd_error *err)
{
	agent_jwt_fetch_fn fetch;
	void *fetch_arg;
	char *token = NULL;
	int64_t expires_at = 0;
	int64_t now = cache_now(cache);

	item->spiffe_id = wd_strdup(target->spiffe_id);
	item->hint = wd_strdup(target->hint);
	if (!item->spiffe_id || !item->hint)
		return wd_error_set(err, WD_ENOMEM, "out of memory copying a JWT-SVID");

	pthread_mutex_lock(&cache->mutex);
	struct cache_jwt *cached = find_jwt(cache, target->entry_id, key, now);
	if (cached) {
		cached->last_used = ++cache->jwt_use_counter;
		item->token = wd_strdup(cached->token);
		item->expires_at = cached->expires_at;
	}
	fetch = cache->jwt_fetch;
	fetch_arg = cache->jwt_fetch_arg;
	pthread_mutex_unlock(&cache->mutex);
	if (cached)
		return item->token ? 0 : wd_error_set(err, WD_ENOMEM, "out of memory");

	if (!fetch)
		return wd_error_set(err, WD_EUNAVAILABLE, "no JWT-SVID source is set up yet");
	/* The server call runs without the mutex, so the sync thread and other
	 * readers go on meanwhile. */
	WD_TRY(fetch(target->entry_id, audiences, audience_count, &token, &expires_at, fetch_arg,
		err));
	item->token = wd_strdup(token);
	item->expires_at = expires_at;
	if (!item->token) {
		free_secret(token, strlen(token));
		return wd_error_set(err, WD_ENOMEM, "out of memory copying a JWT-SVID");
	}

	pthread_mutex_lock(&cache->mutex);
	bool still_cached = false;
	for (size_t i = 0; i < cache->entry_count && !still_cached; i++)
		still_cached = strcmp(cache->entries[i]->id, target->entry_id) == 0;
	if (still_cached && expires_at > now)
		store_jwt(cache, target->entry_id, key, token, now, expires_at);
	else
		free_secret(token, strlen(token));
	pthread_mutex_unlock(&cache->mutex);
	return 0;
}

int agent_cache_jwt(struct agent_cache *cache, const struct agent_selector_set *workload_selectors,
	const char *spiffe_id, const char *const *audiences, size_t audience_count,
	struct agent_jwt_svid_list **ret_list, struct wd_error *err)
{
	struct jwt_target *targets = NULL;
	struct agent_jwt_svid_list *list = NULL;
	_wd_cleanup_(wd_freep) char *key = NULL;
	size_t target_count = 0;
	int rc = 0;

	*ret_list = NULL;
	if (audience_count == 0 || audience_count > AGENT_CACHE_MAX_AUDIENCES)
		return wd_error_set(err, WD_EINVAL, "expected 1 to %u audiences, got %zu",
			AGENT_CACHE_MAX_AUDIENCES, audience_count);
	for (size_t i = 0; i < audience_count; i++)
		if (!audiences[i] || !*audiences[i] || strchr(audiences[i], '\n'))
			return wd_error_set(err, WD_EINVAL, "audience %zu is empty or contains a "
				"newline", i);
	if (audience_key(audiences, audience_count, &key) < 0)
		return wd_error_set(err, WD_ENOMEM, "out of memory");

	WD_GUARD(collect_targets(cache, workload_selectors, spiffe_id, &targets, &target_count));
	if (target_count == 0) {
		rc = spiffe_id ? wd_error_set(err, WD_ENOTFOUND, "no identity %.300s for this "
			"workload", spiffe_id) : wd_error_set(err, WD_ENOTFOUND, "no identity "
			"issued for this workload");
		goto out;
	}

	list = wd_calloc(1, sizeof(*list));
	WD_ENSURE(list, WD_ENOMEM);
	list->items = wd_calloc(target_count, sizeof(*list->items));
	WD_ENSURE(list->items, WD_ENOMEM);
	for (size_t i = 0; i < target_count; i++) {
		list->count = i + 1;
		WD_GUARD(jwt_for_target(cache, &targets[i], key, audiences, audience_count,
			&list->items[i], err));
	}
	*ret_list = WD_TAKE_PTR(list);
out:
	if (rc == WD_ENOMEM && err && err->code == WD_OK)
		wd_error_set(err, rc, "out of memory");
	targets_free(targets, target_count);
	agent_jwt_svid_list_free(list);
	return rc;
}
