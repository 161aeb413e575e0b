/* The secrets service: a Vault-compatible HTTP API (KV, dynamic PostgreSQL
 * credentials, leases, tokens, ACL policies) over an encrypted barrier.
 * This header is the server's interface; the parts share secrets_internal.h. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <jansson.h>

#include "audit/audit.h"
#include "common/error.h"
#include "common/macros.h"
#include "net/net.h"
#include "store/store.h"

struct secrets;
struct authority;

/* Vault's system defaults: 768 hours for both the default and the maximum
 * lease TTL. */
#define SECRETS_DEFAULT_LEASE_TTL (768 * 3600)
#define SECRETS_MAX_LEASE_TTL (768 * 3600)

/* Most routes secrets_build_routes writes. */
#define SECRETS_MAX_ROUTES 8

/* Most routes secrets_build_seal_routes writes. */
#define SECRETS_MAX_SEAL_ROUTES 3

/* Bytes of the key-encryption key of the identity CA's key files. */
#define SECRETS_IDENTITY_KEK_LEN 32

struct secrets_config {
	/* Initialize with one unseal share, unseal and wipe earlier barrier
	 * state at start: nothing survives a restart. For demos only. */
	bool dev;
	/* Root token id in dev mode; NULL makes a random one. */
	const char *dev_root_token;
	int64_t default_lease_ttl;  /* seconds; 0: SECRETS_DEFAULT_LEASE_TTL */
	int64_t max_lease_ttl;      /* seconds; 0: SECRETS_MAX_LEASE_TTL */
	/* Optional Rego module consulted after the ACL allows a request; NULL
	 * disables it. Its query is data.warden.secrets.allow. */
	const char *rego_policy_path;
	/* Called after every unseal through sys/unseal with the key-encryption
	 * key of the identity CA's key files, which the barrier keeps at
	 * core/identity-kek; the first such unseal creates it. The callee
	 * copies the key, which is wiped after the call. NULL: the key is
	 * neither created nor read, as dev mode needs. */
	void (*on_unseal)(void *arg, const uint8_t kek[SECRETS_IDENTITY_KEK_LEN]);
	/* Called before every seal, shutdown included; may be NULL. */
	void (*on_seal)(void *arg);
	void *callback_arg;
	/* Several servers on one datastore: the name this server claims a lease
	 * under before it revokes it, and how old, in seconds, another server's
	 * claim must be before this one takes it over. NULL and 0 on a datastore
	 * of its own, where no claim is recorded. */
	const char *node_id;
	int64_t claim_stale_seconds;
};

/* Opens the service on the server's store, audit chain and event loop.
 * authority gives the trust bundle that cert and JWT login check against.
 * Creates the barrier tables on first use. Sealed unless config->dev; a
 * dev start prints the unseal key and root token to stderr. */
WD_MUST_CHECK int secrets_open(struct store *store, struct audit_log *audit,
	struct event_base *base, struct authority *authority, const struct secrets_config *config,
	struct secrets **ret_secrets, struct wd_error *err);

/* Finishes every request waiting for a worker thread and stops the
 * workers; the server calls it before it closes its listeners. Accepts
 * NULL. */
void secrets_drain(struct secrets *secrets);

/* Reads every stored lease again into the revocation schedule, while
 * unsealed: a server that takes over the run-once work of a shared
 * datastore schedules the leases other servers made. */
void secrets_leases_rescan(struct secrets *secrets);

/* Seals the barrier (wiping keys), stops timers and frees; accepts NULL. */
void secrets_free(struct secrets *secrets);

/* Fills routes with the catch-all routes of the Vault API ("/v1/{path...}"
 * for every verb Vault clients send) and returns how many. */
size_t secrets_build_routes(struct secrets *secrets,
	struct net_route routes[static SECRETS_MAX_ROUTES]);

/* Fills routes with the routes of sys/unseal and sys/seal-status alone, for
 * the admin socket: they must stay reachable when clients cannot verify the
 * TLS listeners' certificate. Returns how many; the caller sets .auth. */
size_t secrets_build_seal_routes(struct secrets *secrets,
	struct net_route routes[static SECRETS_MAX_SEAL_ROUTES]);

/* Runs once a second from the server's tick: lease expiry and retries. */
void secrets_tick(struct secrets *secrets, int64_t now);

/* Whether the barrier is unsealed, for /v1/health and logs. */
bool secrets_unsealed(const struct secrets *secrets);

/* Reads the shared state again after another server sharing the datastore
 * changed it (its writes notify "secrets_mount" and "seal:..."). Unsealed,
 * it reloads the mount table, after waiting for requests on worker threads;
 * on a failure the current table stays. Sealed, it reloads the seal
 * configuration, so a barrier initialized elsewhere can be unsealed. */
WD_MUST_CHECK int secrets_reload(struct secrets *secrets, struct wd_error *err);

/* Maximum tokens and lease ids one secrets_revoke_tokens_matching call
 * collects. More fail with WD_ETOOBIG after revoking that many. */
#define SECRETS_REVOKE_MAX_ITEMS 10000

/* Decides from a token's creation path ("auth/cert/login") and its login
 * metadata (an object of strings: cert login sets "spiffe_id" and
 * "serial_number", JWT login of a JWT-SVID sets "spiffe_id") whether the
 * token is to be revoked. */
typedef bool (*secrets_token_match_fn)(void *arg, const char *path, const json_t *meta);

/* Revokes every token for which match returns true, with its child tokens
 * and the leases of all of them (token_revoke), walking all stored tokens.
 * ret_tokens gets one object per matched token: "accessor_hmac" (its
 * accessor as the audit records hash it), "spiffe_id" (from its metadata,
 * or ""), "path", and "first_lease" (the index in ret_lease_ids of the
 * first lease of its tree). ret_lease_ids gets the id of each lease that
 * the matched tokens and their descendants own. Both are JSON arrays the
 * caller owns. Returns WD_EUNAVAILABLE while sealed. After another error, the tokens already
 * revoked stay revoked and are listed. */
WD_MUST_CHECK int secrets_revoke_tokens_matching(struct secrets *secrets,
	secrets_token_match_fn match, void *arg, json_t *ret_tokens, json_t *ret_lease_ids,
	struct wd_error *err);
