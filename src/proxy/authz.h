/* Authorization of the proxy: allow-lists of SPIFFE IDs for L4 listeners
 * and a Rego policy evaluated in process for each HTTP request on L7
 * listeners, with the caller's JWT verified first. Policies reload from
 * files or from the server's policy API without a restart. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/macros.h"
#include "proxy/http1.h"
#include "proxy/identity.h"

// SPIFFE ID patterns (line comments, because the examples contain the
// characters that open a block comment). "*" matches within one path
// segment, a final "/**" matches any number of further segments (none
// included), and everything else matches literally, the trust domain
// included: "spiffe://example.org/ns/*" matches "spiffe://example.org/ns/web"
// but not "spiffe://example.org/ns/web/x". The pattern "*" alone matches any
// ID. Validation also requires the pattern, with each "*" read as a letter,
// to be a valid SPIFFE ID, and allows "*" only in the path.
WD_MUST_CHECK int proxy_pattern_validate(const char *pattern, struct wd_error *err);
bool proxy_pattern_match(const char *pattern, const char *spiffe_id);

/* True when spiffe_id matches one of the patterns. */
bool proxy_allow_list_match(const char *const *patterns, size_t count, const char *spiffe_id);

/* JWT verification for request.jwt in the policy input. */
struct proxy_jwt_config {
	const char *jwks_path;         /* JWKS file (RFC 7517); reloaded on change */
	const char *issuer;            /* required "iss" when set */
	const char *const *audiences;  /* one must be in "aud" when count > 0 */
	size_t audience_count;
	int64_t leeway_seconds;        /* clock skew allowed on exp and nbf */
};

struct proxy_jwt_verifier;

WD_MUST_CHECK int proxy_jwt_verifier_new(const struct proxy_jwt_config *config,
	struct proxy_jwt_verifier **ret_verifier, struct wd_error *err);
void proxy_jwt_verifier_free(struct proxy_jwt_verifier *verifier); /* accepts NULL */

struct rv;

/* Tokens longer than this are rejected before any decoding. */
#define PROXY_JWT_MAX_LEN 16384

/* Verifies a compact JWS token at time now (Unix seconds). The alg must be
 * one of RS256/384/512, PS256/384/512, ES256/384/512 or EdDSA ("none" and
 * HMAC are rejected), and the header must have no "crit". The key is
 * chosen by kid (every key when the token has none) and must match alg in
 * type, curve and its own "alg". Then exp must be present and not passed
 * and nbf not in the future, both with the leeway, and iss and aud must
 * match the configuration. Stores the claims as a frozen value in
 * ret_claims. Recently verified tokens are cached until their exp, so a
 * repeated token costs a lookup; the time checks run on every call. The
 * JWKS file is stat'ed at most once a second and reloaded when it changed;
 * a file that no longer loads is logged and the last good keys stay.
 * WD_EINVAL for a malformed token, WD_ECRYPTO for a bad signature or no
 * key, WD_EEXPIRED, WD_EAUTH for iss, aud or nbf. Thread-safe. */
WD_MUST_CHECK int proxy_jwt_verify(struct proxy_jwt_verifier *verifier, const char *token,
	size_t len, int64_t now, struct rv **ret_claims, struct wd_error *err);

/* The policy source: set exactly one of path and server_url. */
struct proxy_policy_config {
	const char *path;        /* a .rego file or a directory of them (and
	                            data.json / data.yaml files) */
	const char *server_url;  /* "https://host:port" of the server's policy
	                            API; fetched over mTLS with the proxy's SVID */
	const char *server_id;   /* expected SPIFFE ID of the server; default
	                            spiffe://<own trust domain>/warden/server */
	const char *decision;    /* the rule to evaluate; default "data.proxy.allow" */
	unsigned reload_interval_ms; /* stat or poll interval; 0: 2000 */
	uint64_t max_steps;      /* evaluation steps per request; 0: engine default */
};

/* The parts of one request that go into the policy input, all borrowed. */
struct proxy_request_info {
	const char *source_id;        /* caller's SPIFFE ID */
	const char *source_address;   /* "ip:port" */
	const char *destination_id;   /* own SPIFFE ID (inbound) or the upstream's */
	const struct http1_head *head;
};

struct proxy_decision {
	bool allow;
	char reason[256];  /* from the policy's "reason" or why it was denied */
	char decision_id[37]; /* UUID of this decision, for the audit record */
	uint64_t eval_ns;  /* time spent in the evaluation */
};

struct proxy_authz;

/* Loads the policy (and starts the reload thread) and the JWT verifier
 * (jwt may be NULL: then request.jwt is never set). identity_source gives
 * the SVID for the server's policy API; it may be NULL in file mode.
 * WD_EINVAL naming the file and position when the policy does not compile.
 * A later bad policy is logged and the last good one stays in force. In
 * server mode the first fetch happens here and its failure is returned.
 * Only modules come from the server (GET /v1/policies), with an empty data
 * document, so policies served to proxies must keep their constants in the
 * policy. */
WD_MUST_CHECK int proxy_authz_new(const struct proxy_policy_config *policy,
	const struct proxy_jwt_config *jwt, struct proxy_identity_source *identity_source,
	struct proxy_authz **ret_authz, struct wd_error *err);
void proxy_authz_free(struct proxy_authz *authz); /* accepts NULL */

/* Evaluates the policy for one request; safe to call from several threads
 * at once. The input is {source: {spiffe_id, address}, destination:
 * {spiffe_id}, request: {method, path, query, headers, jwt}}: query maps
 * each parameter to the list of its percent-decoded values, headers maps
 * each lower-case name to its value (repeated names joined with ", "), and
 * jwt holds the verified claims of an "Authorization: Bearer" token and is
 * absent when there is none or it does not verify. request.path is the
 * path as sent, not percent-decoded. The decision is true or an object
 * whose "allow" is true to allow; anything else, undefined and evaluation
 * errors included, denies. The reason is the object's "reason" string, or
 * "allowed by DECISION", "denied by DECISION", "policy DECISION is
 * undefined" or the evaluation error ("CODE: message"). A denial after a
 * bearer token failed verification gets " (JWT not accepted: why)"
 * appended. eval_ns covers the Rego evaluation only. */
void proxy_authz_decide(struct proxy_authz *authz, const struct proxy_request_info *request,
	struct proxy_decision *ret_decision);

/* Counts of policy loads, for metrics. */
uint64_t proxy_authz_policy_generation(const struct proxy_authz *authz);
