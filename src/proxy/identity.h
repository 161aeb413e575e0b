/* The proxy's own identity and its view of the trust bundles: an X.509-SVID
 * with its key, the bundles of every trust domain it trusts and the CRLs,
 * taken from the agent's Workload API stream or from files reloaded on
 * change. Each change produces a new immutable snapshot with TLS contexts
 * built from it, so new handshakes use the rotated SVID at once while
 * established connections keep the context they started with. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/error.h"
#include "common/macros.h"

/* An immutable snapshot, shared between threads with an atomic reference
 * count. */
struct proxy_identity;

struct proxy_identity *proxy_identity_ref(struct proxy_identity *identity);
void proxy_identity_unref(struct proxy_identity *identity); /* accepts NULL */

/* The SPIFFE ID of the proxy's own SVID ("spiffe://td/path"). */
const char *proxy_identity_spiffe_id(const struct proxy_identity *identity);

/* notAfter of the proxy's SVID, Unix seconds. */
int64_t proxy_identity_not_after(const struct proxy_identity *identity);

/* A counter that grows with every snapshot a source produces. */
uint64_t proxy_identity_generation(const struct proxy_identity *identity);

/* TLS contexts built for this snapshot (borrowed, valid while the snapshot
 * is referenced). Both present the SVID chain, allow TLS 1.2 and 1.3 only,
 * and verify the peer with proxy_identity_verify_peer from a certificate
 * verify callback. The server context requires a client certificate and
 * issues session tickets; the client context sends no SNI by itself. */
SSL_CTX *proxy_identity_server_ctx(const struct proxy_identity *identity);
SSL_CTX *proxy_identity_client_ctx(const struct proxy_identity *identity);

/* The SVID chain as PEM (leaf first) and its key, for clients that build
 * their own connections (the policy poller). Borrowed. */
const char *proxy_identity_chain_pem(const struct proxy_identity *identity, size_t *ret_len);
EVP_PKEY *proxy_identity_key(const struct proxy_identity *identity);

/* The CA certificates of trust_domain ("example.org"), or none. Borrowed. */
X509 *const *proxy_identity_authorities(const struct proxy_identity *identity,
	const char *trust_domain, size_t *ret_count);

/* Size of the reason text for a rejected peer, as written to the access
 * log and the audit chain. */
#define PROXY_REFUSAL_MAX 256

/* Verifies a peer chain (leaf first) at time now: the leaf has exactly one
 * URI SAN holding a SPIFFE ID, the chain validates against the bundle of
 * that ID's trust domain (federated bundles included), no certificate in
 * it has expired, and none is on a CRL of that trust domain. On success
 * writes the peer's SPIFFE ID to ret_spiffe_id (at most 2,048 bytes plus
 * the NUL). On failure returns WD_ECRYPTO, WD_EEXPIRED or WD_EREVOKED and
 * writes the reason, naming the offending ID or serial, to ret_reason. */
WD_MUST_CHECK int proxy_identity_verify_peer(const struct proxy_identity *identity,
	STACK_OF(X509) *chain, int64_t now, char *ret_spiffe_id, size_t spiffe_id_size,
	char ret_reason[static PROXY_REFUSAL_MAX]);

/* After a handshake on an SSL made from one of the snapshot's contexts:
 * the peer's SPIFFE ID recorded by the verify callback, or NULL when the
 * peer was not verified. The pointer stays valid while ssl lives. */
const char *proxy_identity_peer_id(const SSL *ssl);

/* After a failed handshake: the reason the verify callback refused the
 * peer, or NULL when it did not run or accepted. */
const char *proxy_identity_refusal(const SSL *ssl);

/* The identity source: set either workload_api_socket or the three file
 * paths. */
struct proxy_identity_config {
	const char *workload_api_socket; /* Unix socket path of the agent */
	const char *cert_path;           /* PEM chain, leaf first */
	const char *key_path;            /* PEM private key */
	const char *bundle_path;         /* PEM CA certificates of the own trust domain */
	const char *crl_path;            /* optional PEM or DER CRL(s) */
	unsigned reload_interval_ms;     /* file mode: how often to stat the files; 0: 1000 */
	unsigned start_timeout_ms;       /* how long start waits for the first SVID; 0: 30000 */
	const char *spiffe_id;           /* Workload API mode: the SVID to use; NULL: the first */
};

/* Called from the source's thread after each snapshot that replaces the
 * current one (not for the first, which start returns). It must not call
 * proxy_identity_source_free. */
typedef void (*proxy_identity_change_fn)(struct proxy_identity *identity, void *arg);

struct proxy_identity_source;

/* Starts a source: loads the files or opens the Workload API stream, waits
 * for the first snapshot, then keeps watching from a thread of its own.
 * WD_ECONFIG naming the file or socket when neither or both modes are set,
 * WD_EIO or WD_EINVAL naming the file that cannot be read or parsed,
 * WD_ETIMEOUT when the agent sends no SVID within start_timeout_ms. A
 * later bad file or a broken stream is logged and the last good snapshot
 * stays current; the stream is reopened with backoff. */
WD_MUST_CHECK int proxy_identity_source_start(const struct proxy_identity_config *config,
	proxy_identity_change_fn on_change, void *arg, struct proxy_identity_source **ret_source,
	struct wd_error *err);

/* Returns a new reference to the current snapshot; never NULL after a
 * successful start. Cheap enough to call per connection. */
struct proxy_identity *proxy_identity_source_current(struct proxy_identity_source *source);

/* Stops the thread and frees the source; accepts NULL. Snapshots still
 * referenced stay valid. */
void proxy_identity_source_free(struct proxy_identity_source *source);

/* Builds a snapshot directly from PEM files, for tests and tools. */
WD_MUST_CHECK int proxy_identity_load_files(const struct proxy_identity_config *config,
	struct proxy_identity **ret_identity, struct wd_error *err);
