/* Private parts of the proxy identity module shared by its files: the
 * trust object the TLS callbacks hold, the snapshot builder and the source
 * that both file mode and Workload API mode fill. */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "identity/spiffe_id.h"
#include "proxy/identity.h"

/* Ceilings on what a bundle source may make the proxy hold. */
#define IDENTITY_MAX_TRUST_DOMAINS 256
#define IDENTITY_MAX_AUTHORITIES 64       /* CA certificates per trust domain */
#define IDENTITY_MAX_CHAIN 16             /* own SVID chain, leaf included */
#define IDENTITY_MAX_CRLS 64
#define IDENTITY_MAX_REVOKED 1000000      /* revoked serials per trust domain */
#define IDENTITY_MAX_FILE_BYTES ((size_t)16 << 20)

/* One trust domain: its CA certificates and the serials its CRLs revoke,
 * sorted for bsearch. */
struct identity_domain {
	char *name;
	X509 **authorities;
	size_t authority_count;
	char **revoked;
	size_t revoked_count;
};

/* The immutable verification data of a snapshot. The snapshot and each of
 * its SSL_CTX hold a reference, so SSLs outlive the snapshot safely. */
struct identity_trust {
	atomic_uint refs;
	struct identity_domain *domains;
	size_t domain_count;
};

struct proxy_identity {
	atomic_uint refs;
	uint64_t generation;
	char spiffe_id[SPIFFE_ID_MAX_LEN + 1];
	int64_t not_after;
	STACK_OF(X509) *chain;
	char *chain_pem;
	size_t chain_pem_len;
	EVP_PKEY *key;
	struct identity_trust *trust;
	SSL_CTX *server_ctx;
	SSL_CTX *client_ctx;
};

/* CA certificates for one trust domain, as a source hands them over. */
struct identity_bundle_input {
	const char *trust_domain;
	STACK_OF(X509) *authorities;
};

/* Everything a snapshot is built from; the builder takes references and
 * copies, the caller keeps ownership. */
struct identity_input {
	STACK_OF(X509) *chain;                 /* leaf first */
	EVP_PKEY *key;
	const struct identity_bundle_input *bundles;
	size_t bundle_count;
	STACK_OF(X509_CRL) *crls;              /* may be NULL */
};

/* Builds a snapshot with the next process-wide generation number.
 * WD_EINVAL naming the problem when the key does not match the leaf, the
 * leaf has no SPIFFE ID or a limit is passed. */
WD_MUST_CHECK int identity_build(const struct identity_input *input,
	struct proxy_identity **ret_identity, struct wd_error *err);

struct identity_trust *identity_trust_ref(struct identity_trust *trust);
void identity_trust_unref(struct identity_trust *trust);

/* Builds the trust object: bundles grouped by trust domain (duplicates
 * merged) and the serials of every CRL whose signature verifies against a
 * CA of a trust domain. CRLs that match no CA are skipped. */
WD_MUST_CHECK int identity_trust_build(const struct identity_bundle_input *bundles,
	size_t bundle_count, STACK_OF(X509_CRL) *crls, struct identity_trust **ret_trust,
	struct wd_error *err);

const struct identity_domain *identity_trust_find(const struct identity_trust *trust,
	const char *trust_domain);

/* proxy_identity_verify_peer on a trust object. */
WD_MUST_CHECK int identity_trust_verify(const struct identity_trust *trust,
	STACK_OF(X509) *chain, int64_t now, char *ret_spiffe_id, size_t spiffe_id_size,
	char ret_reason[static PROXY_REFUSAL_MAX]);

/* Checks a resumed session's peer leaf: its trust domain is still trusted,
 * it has not expired and its serial is not revoked. */
bool identity_trust_leaf_current(const struct identity_trust *trust, X509 *leaf, int64_t now);

/* Builds the server and client SSL_CTX of a snapshot. */
WD_MUST_CHECK int identity_tls_build(struct proxy_identity *identity, struct wd_error *err);

/* Parses concatenated DER certificates; WD_EINVAL when empty or malformed,
 * WD_ETOOBIG past max_count. */
WD_MUST_CHECK int identity_der_certs(const uint8_t *der, size_t len, size_t max_count,
	const char *what, STACK_OF(X509) **ret_certs, struct wd_error *err);

/* Parses one or more CRLs, PEM or DER, appending them to crls. */
WD_MUST_CHECK int identity_parse_crls(const uint8_t *data, size_t len, const char *what,
	STACK_OF(X509_CRL) *crls, struct wd_error *err);

/* The shared state of a running source, referenced by its owner and by
 * its thread. stop_fd wakes a Workload API thread blocked on an idle
 * stream, so proxy_identity_source_free can join it; should the join still
 * time out, the thread is left to exit and free the source on its own. */
struct proxy_identity_source {
	atomic_uint refs;
	pthread_mutex_t lock;              /* guards current, last_error */
	pthread_cond_t cond;               /* CLOCK_MONOTONIC; signals a new snapshot or stop */
	pthread_mutex_t callback_lock;     /* held while on_change runs */
	atomic_bool stopping;
	int stop_fd;                       /* eventfd, readable once stopping */
	struct proxy_identity *current;
	char last_error[sizeof(((struct wd_error *)0)->detail)];
	bool thread_started;
	pthread_t thread;
	/* Copies of the configuration strings. */
	char *workload_api_socket;
	char *cert_path;
	char *key_path;
	char *bundle_path;
	char *crl_path;
	char *spiffe_id;
	unsigned reload_interval_ms;
	unsigned start_timeout_ms;
	proxy_identity_change_fn on_change;
	void *arg;
	void *mode_state;                  /* handed from the mode's start to its thread */
};

void identity_source_unref(struct proxy_identity_source *source);

/* Makes identity current (taking the caller's reference) and wakes a
 * waiting start. When it replaces an earlier snapshot, runs on_change
 * unless the source is stopping. */
void identity_source_publish(struct proxy_identity_source *source,
	struct proxy_identity *identity);

/* Records why the last attempt failed, for the error of a timed-out start. */
void identity_source_set_error(struct proxy_identity_source *source, const char *text);

/* Sleeps up to ms or until the source is stopping; returns true when it
 * is stopping. */
bool identity_source_wait(struct proxy_identity_source *source, unsigned ms);

/* Starts the source's thread on body, which receives a reference to the
 * source and must drop it with identity_source_unref before returning. */
WD_MUST_CHECK int identity_source_spawn(struct proxy_identity_source *source,
	void *(*body)(void *), struct wd_error *err);

/* Starts file mode: loads the files once, then watches them. */
WD_MUST_CHECK int identity_files_start(struct proxy_identity_source *source,
	struct wd_error *err);

/* Starts Workload API mode and waits for the first snapshot. */
WD_MUST_CHECK int identity_workload_start(struct proxy_identity_source *source,
	struct wd_error *err);
