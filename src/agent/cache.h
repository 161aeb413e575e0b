/* The agent's cache of registration entries, pre-minted X.509-SVIDs,
 * JWT-SVIDs and the trust bundle. The sync thread writes it and the
 * Workload API handlers on the event-loop thread read it; every call takes
 * the cache's mutex, and every read returns deep copies. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/svid_crl.h"
#include "common/error.h"
#include "common/macros.h"

struct event_base;
struct agent_cache;
/* A workload's selectors, declared in agent/selectors.h. */
struct agent_selector_set;

/* Ceilings: the server authorizes at most 20000 entries per agent. */
#define AGENT_CACHE_MAX_ENTRIES 20000u
#define AGENT_CACHE_MAX_SELECTORS 64u
#define AGENT_CACHE_MAX_AUDIENCES 32u
/* JWT-SVIDs kept per cache; the least recently used is dropped first. */
#define AGENT_CACHE_MAX_JWT 1000u
/* Time limit of the server request behind agent_cache_jwt, in ms. */
#define AGENT_CACHE_JWT_TIMEOUT_MS 2000u

/* Returns the current Unix time in seconds; tests inject their own. */
typedef int64_t (*agent_clock_fn)(void *arg);

/* One X.509-SVID, deep-copied for the caller. */
struct agent_svid {
	char *entry_id;
	char *spiffe_id;
	char *hint;             /* "" when the entry has none */
	uint8_t *chain_der;     /* concatenated DER certificates, leaf first */
	size_t chain_der_len;
	uint8_t *key_der;       /* PKCS#8 DER private key; wiped on free */
	size_t key_der_len;
	int64_t expires_at;     /* Unix seconds: the leaf's notAfter */
};

struct agent_svid_list {
	struct agent_svid *items;
	size_t count;
};

/* One JWT-SVID, deep-copied for the caller. */
struct agent_jwt_svid {
	char *spiffe_id;
	char *hint;
	char *token;            /* compact JWS; wiped on free */
	int64_t expires_at;
};

struct agent_jwt_svid_list {
	struct agent_jwt_svid *items;
	size_t count;
};

/* The trust domain's bundle, deep-copied for the caller. */
struct agent_bundle {
	char *trust_domain;
	uint8_t *x509_authorities_der; /* concatenated DER CA certificates */
	size_t x509_authorities_der_len;
	char *jwks_json;               /* JWK Set of the jwt-svid keys */
	uint8_t **crl_der;             /* one DER CRL per published CA */
	size_t *crl_der_len;
	size_t crl_count;
	uint64_t sequence;             /* the server's bundle_sequence */
};

/* A registration entry as the sync thread stores it. Borrowed by the call. */
struct agent_entry_view {
	const char *id;
	const char *spiffe_id;
	const char *hint;                 /* may be NULL */
	const char *const *selectors;     /* "type:value" strings */
	size_t selector_count;
	int64_t revision;
	int64_t x509_svid_ttl;            /* seconds, 0 for the server default */
	int64_t jwt_svid_ttl;
};

/* Mints a JWT-SVID for entry_id with the audiences through the server.
 * Called by agent_cache_jwt without the cache's mutex held, from the
 * caller's thread. Returns 0 with a malloc'd token and its expiry, or a
 * negative WD_E* code with detail in err. */
typedef int (*agent_jwt_fetch_fn)(const char *entry_id, const char *const *audiences,
	size_t audience_count, char **ret_token, int64_t *ret_expires_at, void *arg,
	struct wd_error *err);

/* Runs on the event-loop thread after the cache changed. */
typedef void (*agent_cache_change_fn)(struct agent_cache *cache, void *arg);

/* Creates an empty cache for trust_domain. base (may be NULL: no change
 * notifications) must have been created after evthread_use_pthreads(),
 * which this call makes. clock may be NULL for wd_now(). */
WD_MUST_CHECK int agent_cache_new(const char *trust_domain, struct event_base *base,
	agent_clock_fn clock, void *clock_arg, struct agent_cache **ret_cache,
	struct wd_error *err);

/* Frees the cache, wiping keys and tokens; accepts NULL. No other thread
 * may use it any more. */
void agent_cache_free(struct agent_cache *cache);

/* Sets the function that runs on the loop thread after each change (NULL
 * to stop). Changes made in quick succession may fire it once. */
void agent_cache_set_change_cb(struct agent_cache *cache, agent_cache_change_fn fn, void *arg);

/* Sets the function agent_cache_jwt calls to mint a JWT-SVID. */
void agent_cache_set_jwt_fetch(struct agent_cache *cache, agent_jwt_fetch_fn fn, void *arg);

/* Returns a counter that increases on every change that readers can see. */
uint64_t agent_cache_generation(struct agent_cache *cache);

/* --- Workload API side (any thread) --- */

/* Returns in ret_list every cached, unexpired X.509-SVID whose entry's
 * selectors are all among workload_selectors, ordered by entry id so that
 * the first is a stable default identity. An empty list is a success.
 * Free with agent_svid_list_free. WD_ENOMEM. */
WD_MUST_CHECK int agent_cache_match(struct agent_cache *cache,
	const struct agent_selector_set *workload_selectors, struct agent_svid_list **ret_list);

/* Copies the trust domain's bundle to ret_bundle; WD_ENOTFOUND before the
 * first bundle arrived. Free with agent_bundle_free. */
WD_MUST_CHECK int agent_cache_bundle(struct agent_cache *cache, struct agent_bundle **ret_bundle);

/* Returns JWT-SVIDs for audiences (1 to AGENT_CACHE_MAX_AUDIENCES) for the
 * entries matching workload_selectors: only the one whose SPIFFE ID is
 * spiffe_id, or all of them when spiffe_id is NULL, in entry id order. A
 * token cached for the same entry and audience set is reused until half of
 * its lifetime has passed. Otherwise the fetch function is called. It BLOCKS
 * on the server, for up to AGENT_CACHE_JWT_TIMEOUT_MS for each connect, send
 * and receive step per entry, so a handler on the loop thread should call
 * this from a worker thread or accept that latency. WD_ENOTFOUND when no entry matches, WD_EINVAL for
 * bad audiences, WD_EUNAVAILABLE without a fetch function, or the fetch
 * function's error. Free with agent_jwt_svid_list_free. */
WD_MUST_CHECK int agent_cache_jwt(struct agent_cache *cache,
	const struct agent_selector_set *workload_selectors, const char *spiffe_id,
	const char *const *audiences, size_t audience_count,
	struct agent_jwt_svid_list **ret_list, struct wd_error *err);

void agent_svid_list_free(struct agent_svid_list *list);
void agent_jwt_svid_list_free(struct agent_jwt_svid_list *list);
void agent_bundle_free(struct agent_bundle *bundle);

/* --- Sync side --- */

/* Inserts or replaces an entry. A changed revision, SPIFFE ID or TTL drops
 * its X.509-SVID and JWT-SVIDs, so the entry needs minting again.
 * WD_ETOOBIG past AGENT_CACHE_MAX_ENTRIES or AGENT_CACHE_MAX_SELECTORS,
 * WD_EINVAL for a selector without ':', WD_ENOMEM. */
WD_MUST_CHECK int agent_cache_put_entry(struct agent_cache *cache,
	const struct agent_entry_view *entry, struct wd_error *err);

/* Drops every entry whose id is not among ids, with its SVIDs. Writes the
 * number dropped to ret_dropped (may be NULL). */
WD_MUST_CHECK int agent_cache_retain(struct agent_cache *cache, const char *const *ids,
	size_t id_count, size_t *ret_dropped);

/* Drops every entry, SVID and the bundle, for an evicted or banned agent. */
void agent_cache_clear(struct agent_cache *cache);

/* Stores the X.509-SVID of entry_id: the chain as concatenated DER (leaf
 * first), the PKCS#8 DER key, and the Unix times of the leaf's notBefore
 * and notAfter. rotate_at is when the sync thread should replace it.
 * Copies everything. WD_ENOTFOUND for an unknown entry, WD_EINVAL when
 * not_after <= not_before. */
WD_MUST_CHECK int agent_cache_set_svid(struct agent_cache *cache, const char *entry_id,
	const uint8_t *chain_der, size_t chain_der_len, const uint8_t *key_der, size_t key_der_len,
	int64_t not_before, int64_t not_after, int64_t rotate_at);

/* Returns in ret_ids (a malloc'd array of malloc'd strings, freed with
 * agent_cache_ids_free) the ids of entries without an X.509-SVID or whose
 * rotate_at has passed at now, in entry id order. */
WD_MUST_CHECK int agent_cache_due(struct agent_cache *cache, int64_t now, char ***ret_ids,
	size_t *ret_count);

/* Returns the earliest rotate_at of the cached SVIDs, or INT64_MAX. */
int64_t agent_cache_next_rotation(struct agent_cache *cache);

/* Returns the entry's x509_svid_ttl, or WD_ENOTFOUND. */
WD_MUST_CHECK int agent_cache_entry_ttl(struct agent_cache *cache, const char *entry_id,
	int64_t *ret_ttl);

void agent_cache_ids_free(char **ids, size_t count);

/* One X.509-SVID that agent_cache_set_bundle dropped as revoked. */
struct agent_revoked_svid {
	char *entry_id;
	char *spiffe_id;
	char serial[AGENT_CRL_SERIAL_HEX_SIZE]; /* the leaf's, lowercase hex */
};

struct agent_revoked_list {
	struct agent_revoked_svid *items;
	size_t count;
};

void agent_revoked_list_free(struct agent_revoked_list *list);

/* Replaces the bundle; each argument is copied and crl_der may hold zero
 * CRLs. In the same step it drops every cached X.509-SVID whose serial is
 * on a CRL of its issuer (agent_crl_set_check), with the entry's JWT-SVIDs,
 * and lists them in ret_revoked (free with agent_revoked_list_free). When it
 * dropped any, the change is not announced: the caller renews them and then
 * calls agent_cache_notify, so open streams move from the revoked SVID to
 * its replacement and never see the gap between. WD_EINVAL when the
 * authorities are not DER certificates, WD_ENOMEM. After a WD_ENOMEM from
 * the revocation check the bundle is stored and the SVIDs that may be
 * revoked are dropped, for the next agent_cache_due to list. */
WD_MUST_CHECK int agent_cache_set_bundle(struct agent_cache *cache,
	const uint8_t *x509_authorities_der, size_t x509_authorities_der_len,
	const char *jwks_json, const uint8_t *const *crl_der, const size_t *crl_der_len,
	size_t crl_count, uint64_t sequence, struct agent_revoked_list **ret_revoked,
	struct wd_error *err);

/* Returns the sequence of the cached bundle, 0 before the first. */
uint64_t agent_cache_bundle_sequence(struct agent_cache *cache);

/* Returns the number of cached entries. */
size_t agent_cache_entry_count(struct agent_cache *cache);

/* Tells the loop thread that the cache changed; the setters call it. */
void agent_cache_notify(struct agent_cache *cache);
