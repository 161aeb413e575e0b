/* The registry: registration entries (SPIRE's model, spire-api-sdk
 * types/entry.proto), join tokens and attested nodes, kept in the datastore
 * under the migration component "registry". The registry neither writes the
 * audit log nor checks who may call it: the server layer does both, using
 * the SPIFFE IDs and entry ids that these calls return. A registry is used
 * by one thread at a time, like the store under it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/error.h"
#include "common/macros.h"
#include "identity/spiffe_id.h"
#include "store/store.h"

#define REGISTRY_MIGRATION_COMPONENT "registry"

/* Entry ids are RFC 4122 version 4 UUIDs in lowercase "8-4-4-4-12" form. */
#define REGISTRY_ENTRY_ID_LEN 36

/* Selector limits. A selector is "type:value": type matches [a-z0-9_-]+,
 * value is non-empty printable ASCII (0x20-0x7e), split at the first ':'. */
#define REGISTRY_MAX_SELECTORS 64
#define REGISTRY_SELECTOR_TYPE_MAX_LEN 64
#define REGISTRY_SELECTOR_MAX_LEN 1024

/* DNS names: RFC 1035 host names of at most 253 bytes, labels of 1-63
 * letters, digits and inner hyphens, with an optional leading "*." label. */
#define REGISTRY_MAX_DNS_NAMES 32
#define REGISTRY_DNS_NAME_MAX_LEN 253

/* Default upper bound of an entry's x509_svid_ttl and jwt_svid_ttl, in
 * seconds (30 days). The CA still cuts each SVID to its own notAfter. */
#define REGISTRY_DEFAULT_MAX_SVID_TTL 2592000

/* Page sizes of registry_entry_list and registry_node_list. */
#define REGISTRY_LIST_DEFAULT_LIMIT 100
#define REGISTRY_LIST_MAX_LIMIT 1000

/* Defaults for the walk in registry_authorized_entries. */
#define REGISTRY_DEFAULT_MAX_AUTHORIZATION_DEPTH 8
#define REGISTRY_DEFAULT_MAX_AUTHORIZED_ENTRIES 20000

/* Join tokens: 32 random bytes as 64 lowercase hex digits. */
#define REGISTRY_TOKEN_LEN 64
#define REGISTRY_TOKEN_BUF_LEN (REGISTRY_TOKEN_LEN + 1)
#define REGISTRY_TOKEN_DEFAULT_TTL 600
/* Upper bound of a join token's TTL, in seconds (7 days). */
#define REGISTRY_TOKEN_MAX_TTL 604800

/* Path prefix of agent SPIFFE IDs. Entries may use an agent ID as parent_id
 * but never as spiffe_id, so no workload can obtain an agent's identity. */
#define REGISTRY_AGENT_PATH_PREFIX "/warden/agent/"

/* Paths warden keeps for its own identities (agents, the server's serving
 * certificate). No entry and no minted SVID may take one. */
#define REGISTRY_RESERVED_PATH "/warden"

/* Returns true when path (a SPIFFE ID path such as "/warden/server") is
 * REGISTRY_RESERVED_PATH or lies under it. */
bool registry_path_reserved(const char *path);

/* Max length of a certificate serial number in hex (RFC 5280 section
 * 4.1.2.2 allows 20 octets, and leading zero octets are tolerated). */
#define REGISTRY_SERIAL_MAX_LEN 64

struct registry;

struct registry_options {
	const char *trust_domain;         /* required: the server's trust domain */
	int64_t max_x509_svid_ttl;        /* seconds; 0: REGISTRY_DEFAULT_MAX_SVID_TTL */
	int64_t max_jwt_svid_ttl;         /* seconds; 0: REGISTRY_DEFAULT_MAX_SVID_TTL */
	int max_authorization_depth;      /* 0: REGISTRY_DEFAULT_MAX_AUTHORIZATION_DEPTH */
	size_t max_authorized_entries;    /* 0: REGISTRY_DEFAULT_MAX_AUTHORIZED_ENTRIES */
};

/* Applies the registry's migrations to store and returns a registry that
 * borrows store (which must outlive it). WD_ECONFIG for a missing or invalid
 * trust domain or a negative option. */
WD_MUST_CHECK int registry_open(struct store *store, const struct registry_options *options,
	struct registry **ret_registry, struct wd_error *err);

/* Frees the registry; accepts NULL. The store stays open. */
void registry_close(struct registry *registry);

/* Returns the trust domain the registry was opened with. */
const char *registry_trust_domain(const struct registry *registry);

/* Validates one "type:value" selector; WD_EINVAL naming it otherwise. */
WD_MUST_CHECK int registry_selector_validate(const char *selector, struct wd_error *err);

/* Validates one DNS name as an entry may carry it; WD_EINVAL naming it. */
WD_MUST_CHECK int registry_dns_name_validate(const char *name, struct wd_error *err);

/* ---- Registration entries ---- */

/* A stored entry. Every string is owned by the entry; free it with
 * registry_entry_free. selectors are sorted by type, then value; SPIFFE IDs
 * are in canonical form. */
struct registry_entry {
	char id[REGISTRY_ENTRY_ID_LEN + 1];
	char *spiffe_id;
	char *parent_id;
	char **selectors;
	size_t selector_count;
	int64_t x509_svid_ttl;            /* seconds; 0 means the server default */
	int64_t jwt_svid_ttl;             /* seconds; 0 means the server default */
	char **dns_names;
	size_t dns_name_count;
	bool admin;                       /* an SVID for it may call the admin API */
	/* SVIDs are issued only while every unix:sha256 selector names a binary
	 * with a verified signature (the server's admission control). */
	bool require_signed;
	int64_t revision;                 /* 0 at creation, +1 on each update */
	int64_t created_at;               /* Unix seconds */
	int64_t updated_at;               /* Unix seconds */
};

/* Frees an entry; accepts NULL. */
void registry_entry_free(struct registry_entry *entry);

/* Bits of registry_entry_input.fields: which fields the input sets. */
enum {
	REGISTRY_FIELD_SPIFFE_ID = 1u << 0,
	REGISTRY_FIELD_PARENT_ID = 1u << 1,
	REGISTRY_FIELD_SELECTORS = 1u << 2,
	REGISTRY_FIELD_X509_SVID_TTL = 1u << 3,
	REGISTRY_FIELD_JWT_SVID_TTL = 1u << 4,
	REGISTRY_FIELD_DNS_NAMES = 1u << 5,
	REGISTRY_FIELD_ADMIN = 1u << 6,
	REGISTRY_FIELD_REQUIRE_SIGNED = 1u << 7,
	REGISTRY_FIELD_ALL = (1u << 8) - 1,
};

/* The mutable fields of an entry as a caller supplies them. Memory is
 * borrowed from the caller, except for inputs that registry_entry_from_json
 * returns, which own their strings. Create needs SPIFFE_ID, PARENT_ID and
 * SELECTORS in fields and treats the other fields as unset when their bit is
 * clear (TTL 0, no DNS names, admin and require_signed false). Update is a partial update, as
 * SPIRE's BatchUpdateEntry with an input mask: it replaces exactly the
 * fields whose bit is set and keeps the others, so REGISTRY_FIELD_ALL is a
 * full replacement. A set list field replaces the whole list. */
struct registry_entry_input {
	unsigned fields;
	const char *spiffe_id;
	const char *parent_id;
	const char *const *selectors;
	size_t selector_count;
	int64_t x509_svid_ttl;
	int64_t jwt_svid_ttl;
	const char *const *dns_names;
	size_t dns_name_count;
	bool admin;
	bool require_signed;
};

/* Validates input and stores a new entry with a random id, revision 0 and
 * created_at = updated_at = now. WD_EINVAL names the field and the bad
 * value, or names the entry when require_signed is set without a
 * unix:sha256 selector of 64 lowercase hex digits; WD_EEXIST names the existing entry with the same spiffe_id,
 * parent_id and selector set. ret_entry (may be NULL) gets the new entry. */
WD_MUST_CHECK int registry_entry_create(struct registry *registry,
	const struct registry_entry_input *input, int64_t now,
	struct registry_entry **ret_entry, struct wd_error *err);

/* Loads the entry with id; WD_ENOTFOUND naming the id. */
WD_MUST_CHECK int registry_entry_get(struct registry *registry, const char *id,
	struct registry_entry **ret_entry, struct wd_error *err);

/* Applies the fields of input set in input->fields to entry id (see struct
 * registry_entry_input), increments its revision and sets updated_at = now.
 * Errors as registry_entry_create, plus WD_ENOTFOUND naming the id. The
 * stored entry is unchanged on any error. ret_entry (may be NULL) gets the
 * updated entry. */
WD_MUST_CHECK int registry_entry_update(struct registry *registry, const char *id,
	const struct registry_entry_input *input, int64_t now,
	struct registry_entry **ret_entry, struct wd_error *err);

/* Deletes entry id and hands the deleted entry to ret_entry (may be NULL) so
 * the caller can audit it and revoke its SVIDs. WD_ENOTFOUND naming the id. */
WD_MUST_CHECK int registry_entry_delete(struct registry *registry, const char *id,
	struct registry_entry **ret_entry, struct wd_error *err);

/* Filter and page of registry_entry_list. Set filters combine with AND. */
struct registry_entry_filter {
	const char *spiffe_id;     /* NULL: any */
	const char *parent_id;     /* NULL: any */
	const char *selector;      /* "type:value" the entry must contain; NULL: any */
	const char *page_token;    /* next_page_token of the previous page; NULL: first */
	size_t limit;              /* 0: REGISTRY_LIST_DEFAULT_LIMIT; cut to
	                              REGISTRY_LIST_MAX_LIMIT */
};

/* A list of entries; free with registry_entry_list_free. */
struct registry_entry_list {
	struct registry_entry **entries;
	size_t count;
	/* Token for the next page, or "" when this page is the last. */
	char next_page_token[REGISTRY_ENTRY_ID_LEN + 1];
};

void registry_entry_list_free(struct registry_entry_list *list);

/* Lists entries matching filter (may be NULL) in id order, one page at a
 * time. WD_EINVAL names a malformed filter value or page token. */
WD_MUST_CHECK int registry_entry_list(struct registry *registry,
	const struct registry_entry_filter *filter, struct registry_entry_list **ret_list,
	struct wd_error *err);

/* Reads an entry from a JSON object. With partial false the object must
 * hold "spiffe_id", "parent_id" and "selectors" (a create or a full
 * replacement); with partial true any subset of the mutable fields, and only
 * the fields present are set in ret_input->fields. WD_EINVAL names the field
 * and the bad value for unknown fields, the read-only fields "id",
 * "revision", "created_at" and "updated_at", and wrong JSON types. It also
 * covers values that break a rule needing no registry settings: SPIFFE ID
 * syntax and path, selectors, DNS names and negative TTLs. Create and update
 * check the trust domain and the TTL maximum. The caller's parser must
 * reject duplicate keys (JSON_REJECT_DUPLICATES), because a json_t keeps one
 * value per key. Free ret_input with registry_entry_input_free. */
WD_MUST_CHECK int registry_entry_from_json(const json_t *object, bool partial,
	struct registry_entry_input **ret_input, struct wd_error *err);

/* Frees an input returned by registry_entry_from_json; accepts NULL. */
void registry_entry_input_free(struct registry_entry_input *input);

/* Encodes entry as {"id","spiffe_id","parent_id","selectors":[...],
 * "x509_svid_ttl","jwt_svid_ttl","dns_names":[...],"admin","require_signed",
 * "revision","created_at","updated_at"} with TTLs in seconds and times in Unix
 * seconds. */
WD_MUST_CHECK int registry_entry_to_json(const struct registry_entry *entry,
	json_t **ret_object, struct wd_error *err);

/* ---- Join tokens ---- */

/* Creates a single-use join token valid for ttl_seconds from now (0 means
 * REGISTRY_TOKEN_DEFAULT_TTL; at most REGISTRY_TOKEN_MAX_TTL). Only the
 * SHA-256 of the token is stored. Writes the token to ret_token (a secret:
 * the caller shows it once and wipes it), the SPIFFE ID the agent will get
 * when it attests with the token to ret_agent_id (malloc'd), and the expiry
 * to ret_expires_at. ret_agent_id and ret_expires_at may be NULL. */
WD_MUST_CHECK int registry_token_create(struct registry *registry, int64_t ttl_seconds,
	int64_t now, char ret_token[static REGISTRY_TOKEN_BUF_LEN], char **ret_agent_id,
	int64_t *ret_expires_at, struct wd_error *err);

/* Marks token used, in one transaction, and returns the agent SPIFFE ID it
 * grants: spiffe://<trust domain>/warden/agent/join_token/<first 32 hex
 * digits of the SHA-256 of the token>. WD_EINVAL for a token that is not 64
 * hex digits, WD_ENOTFOUND "unknown join token", WD_EEXPIRED when now is at
 * or past its expiry, WD_ECONFLICT "join token already used". No error
 * detail ever contains the token. */
WD_MUST_CHECK int registry_token_consume(struct registry *registry, const char *token,
	int64_t now, char **ret_agent_id, struct wd_error *err);

/* Deletes tokens whose expiry is at or before now, used or not; ret_count
 * (may be NULL) gets the number deleted. */
WD_MUST_CHECK int registry_token_prune(struct registry *registry, int64_t now,
	int64_t *ret_count, struct wd_error *err);

/* ---- Attested nodes ---- */

/* An attested node (agent). Owned strings; free with registry_node_free. */
struct registry_node {
	char *agent_id;
	char *serial;            /* lowercase hex serial of the current SVID
	                            without leading zeros; "" when banned */
	int64_t not_after;       /* expiry of the current SVID, Unix seconds */
	char *previous_serial;   /* the SVID before the last renewal, or "" */
	int64_t previous_not_after;
	int64_t attested_at;     /* Unix seconds of the last attestation */
	int64_t updated_at;      /* Unix seconds of the last change */
	bool banned;
};

void registry_node_free(struct registry_node *node);

/* Every node write below notifies other servers with "node:AGENT_ID" (or
 * "node" for an agent ID too long for a payload) in its transaction. */

/* Records a node that has just attested with an SVID (serial_hex, expiring
 * at not_after). A node that attests again gets a fresh record without its
 * earlier serials. WD_EBANNED "agent ... is banned" when the agent ID is
 * banned; WD_EINVAL naming a bad agent ID or serial. */
WD_MUST_CHECK int registry_node_attest(struct registry *registry, const char *agent_id,
	const char *serial_hex, int64_t not_after, int64_t now, struct wd_error *err);

/* Records a renewed SVID for an attested node: the current serial becomes
 * the previous one, which registry_node_check accepts until it expires.
 * WD_ENOTFOUND or WD_EBANNED as registry_node_check. */
WD_MUST_CHECK int registry_node_renew(struct registry *registry, const char *agent_id,
	const char *serial_hex, int64_t not_after, int64_t now, struct wd_error *err);

/* Returns 0 when agent_id is attested, not banned and its current SVID has
 * not expired at now. When serial_hex is not NULL it must be the node's
 * current or previous serial, and that SVID must not have expired. Serials
 * are compared as numbers, so case and leading zeros do not matter.
 * WD_ENOTFOUND "agent ... is not attested (evicted?)", WD_EBANNED "agent ...
 * is banned", WD_EEXPIRED, WD_EPERM for any other serial. */
WD_MUST_CHECK int registry_node_check(struct registry *registry, const char *agent_id,
	const char *serial_hex, int64_t now, struct wd_error *err);

/* Like registry_node_check, and on success stores in ret_not_after when the
 * checked SVID expires (the current one's when serial_hex is NULL), after
 * which the check fails again. */
WD_MUST_CHECK int registry_node_check_until(struct registry *registry, const char *agent_id,
	const char *serial_hex, int64_t now, int64_t *ret_not_after, struct wd_error *err);

/* Loads the record of agent_id, banned or not; WD_ENOTFOUND naming it. */
WD_MUST_CHECK int registry_node_get(struct registry *registry, const char *agent_id,
	struct registry_node **ret_node, struct wd_error *err);

struct registry_node_list {
	struct registry_node **nodes;
	size_t count;
	/* Agent ID to pass as page_token for the next page, or NULL at the end. */
	char *next_page_token;
};

void registry_node_list_free(struct registry_node_list *list);

/* Lists nodes, banned ones included, in agent ID order after page_token
 * (NULL: from the start), at most limit (0: REGISTRY_LIST_DEFAULT_LIMIT; cut
 * to REGISTRY_LIST_MAX_LIMIT). */
WD_MUST_CHECK int registry_node_list(struct registry *registry, const char *page_token,
	size_t limit, struct registry_node_list **ret_list, struct wd_error *err);

/* Deletes the record of agent_id, so the agent must attest again with a new
 * token. For a banned node this lifts the ban, as SPIRE's DeleteAgent does.
 * WD_ENOTFOUND naming the agent. */
WD_MUST_CHECK int registry_node_evict(struct registry *registry, const char *agent_id,
	struct wd_error *err);

/* Bans agent_id: clears its serials and makes registry_node_check and
 * registry_node_attest fail with WD_EBANNED until it is evicted.
 * WD_ENOTFOUND naming the agent when it has no record. */
WD_MUST_CHECK int registry_node_ban(struct registry *registry, const char *agent_id,
	int64_t now, struct wd_error *err);

/* ---- Authorization ---- */

/* Lists the entries agent_id may obtain SVIDs for: entries whose parent_id
 * is agent_id and, transitively, entries whose parent_id is the spiffe_id of
 * an entry already included (SPIRE's node aliases and nesting). The walk
 * stops max_authorization_depth links from the agent, which also ends
 * cycles. WD_ETOOBIG when more than max_authorized_entries match. Entries
 * are in id order; next_page_token is "". */
WD_MUST_CHECK int registry_authorized_entries(struct registry *registry, const char *agent_id,
	struct registry_entry_list **ret_list, struct wd_error *err);

/* The changes an agent needs since its last sync (delta sync): every change
 * to an entry increments one registry-wide counter, and each created or
 * updated entry records the value in its change_seq. Free with
 * registry_entry_changes_free. */
struct registry_entry_changes {
	struct registry_entry **changed;  /* authorized, change_seq > since; id order */
	size_t changed_count;
	char (*ids)[REGISTRY_ENTRY_ID_LEN + 1]; /* every authorized entry, id order */
	size_t id_count;
	int64_t revision;                 /* the counter when the lists were read */
};

void registry_entry_changes_free(struct registry_entry_changes *changes);

/* Stores the current entry revision, the counter that every entry create,
 * update and delete raises, in ret_revision: one datastore statement and no
 * entry read, so an agent whose revision is current learns that nothing
 * changed cheaply. */
WD_MUST_CHECK int registry_entry_revision(struct registry *registry, int64_t *ret_revision,
	struct wd_error *err);

/* Returns how many entry creates, updates and deletes this handle has
 * started, committed or rolled back. A copy of registry_entry_revision read
 * after the count last changed stays current until the count changes
 * again or another process writes an entry. */
uint64_t registry_entry_write_count(const struct registry *registry);

/* Returns the entries authorized for agent_id (the rule of
 * registry_authorized_entries) that changed after revision since, the ids
 * of all entries authorized now, and the current revision, read in one
 * transaction. A caller passes the returned revision as the next since and
 * drops any entry it holds whose id is not in ids, which covers deletions
 * and entries that left the agent's reach. since 0 returns every authorized
 * entry. An entry that came into reach through a change of another entry
 * keeps its own change_seq, so a caller that finds an id it does not hold
 * in ids syncs again from 0. WD_EINVAL for a negative since, WD_ETOOBIG as
 * registry_authorized_entries. */
WD_MUST_CHECK int registry_authorized_changes(struct registry *registry, const char *agent_id,
	int64_t since, struct registry_entry_changes **ret_changes, struct wd_error *err);

/* Loads entry_id when agent_id may obtain SVIDs for it (the same rule as
 * registry_authorized_entries). WD_ENOTFOUND naming the entry when it does
 * not exist; WD_EPERM naming the entry and the agent when it is not
 * authorized. */
WD_MUST_CHECK int registry_entry_authorized(struct registry *registry, const char *agent_id,
	const char *entry_id, struct registry_entry **ret_entry, struct wd_error *err);

/* Selector type and value prefix of a workload binary's SHA-256, as the
 * agent's unix attestor emits it: "unix:sha256:<64 lowercase hex digits>". */
#define REGISTRY_SHA256_SELECTOR_PREFIX "unix:sha256:"
#define REGISTRY_SHA256_HEX_LEN 64

/* Returns the hex digest of selector when it is a unix:sha256 selector,
 * else NULL. The digest is not checked. */
const char *registry_selector_sha256(const char *selector);

/* Returns true when an entry with admin = true has spiffe_id as its SPIFFE
 * ID. Any failure (malformed ID, datastore error) returns false. */
bool registry_admin_check(struct registry *registry, const char *spiffe_id);
