/* The registry's tables as store migrations. Selector and DNS name lists are
 * stored '\n'-joined in the entry row (neither may contain a newline), and
 * the selectors again one per row so entries can be listed by selector. */
#include "identity/registry_internal.h"

/* identity_hash is the SHA-256 of the canonical spiffe_id, parent_id and
 * sorted selectors. A unique index on it rejects a duplicate entry even when
 * two servers share one PostgreSQL datastore. Unlike an index on the three
 * columns, it stays within PostgreSQL's btree row size limit. */
static const char entries_sqlite[] =
	"CREATE TABLE registry_entries ("
	" id TEXT PRIMARY KEY,"
	" spiffe_id TEXT NOT NULL,"
	" parent_id TEXT NOT NULL,"
	" selectors TEXT NOT NULL,"
	" identity_hash TEXT NOT NULL UNIQUE,"
	" x509_svid_ttl INTEGER NOT NULL DEFAULT 0,"
	" jwt_svid_ttl INTEGER NOT NULL DEFAULT 0,"
	" dns_names TEXT NOT NULL DEFAULT '',"
	" admin INTEGER NOT NULL DEFAULT 0,"
	" revision INTEGER NOT NULL DEFAULT 0,"
	" created_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL);"
	"CREATE INDEX registry_entries_parent_id ON registry_entries (parent_id);"
	"CREATE INDEX registry_entries_spiffe_id ON registry_entries (spiffe_id);"
	"CREATE TABLE registry_entry_selectors ("
	" entry_id TEXT NOT NULL REFERENCES registry_entries (id) ON DELETE CASCADE,"
	" type TEXT NOT NULL,"
	" value TEXT NOT NULL,"
	" PRIMARY KEY (entry_id, type, value));"
	"CREATE INDEX registry_entry_selectors_type_value"
	" ON registry_entry_selectors (type, value);";

static const char entries_postgres[] =
	"CREATE TABLE registry_entries ("
	" id TEXT PRIMARY KEY,"
	" spiffe_id TEXT NOT NULL,"
	" parent_id TEXT NOT NULL,"
	" selectors TEXT NOT NULL,"
	" identity_hash TEXT NOT NULL UNIQUE,"
	" x509_svid_ttl BIGINT NOT NULL DEFAULT 0,"
	" jwt_svid_ttl BIGINT NOT NULL DEFAULT 0,"
	" dns_names TEXT NOT NULL DEFAULT '',"
	" admin INTEGER NOT NULL DEFAULT 0,"
	" revision BIGINT NOT NULL DEFAULT 0,"
	" created_at BIGINT NOT NULL,"
	" updated_at BIGINT NOT NULL);"
	"CREATE INDEX registry_entries_parent_id ON registry_entries (parent_id);"
	"CREATE INDEX registry_entries_spiffe_id ON registry_entries (spiffe_id);"
	"CREATE TABLE registry_entry_selectors ("
	" entry_id TEXT NOT NULL REFERENCES registry_entries (id) ON DELETE CASCADE,"
	" type TEXT NOT NULL,"
	" value TEXT NOT NULL,"
	" PRIMARY KEY (entry_id, type, value));"
	"CREATE INDEX registry_entry_selectors_type_value"
	" ON registry_entry_selectors (type, value);";

/* token_hash is the SHA-256 of the token; the token itself is never
 * stored. A used token keeps its row until it expires, so a second use
 * fails as "already used" rather than "unknown". */
static const char tokens_sqlite[] =
	"CREATE TABLE registry_join_tokens ("
	" token_hash BLOB PRIMARY KEY,"
	" agent_id TEXT NOT NULL,"
	" created_at INTEGER NOT NULL,"
	" expires_at INTEGER NOT NULL,"
	" used_at INTEGER);"
	"CREATE INDEX registry_join_tokens_expires_at ON registry_join_tokens (expires_at);";

static const char tokens_postgres[] =
	"CREATE TABLE registry_join_tokens ("
	" token_hash BYTEA PRIMARY KEY,"
	" agent_id TEXT NOT NULL,"
	" created_at BIGINT NOT NULL,"
	" expires_at BIGINT NOT NULL,"
	" used_at BIGINT);"
	"CREATE INDEX registry_join_tokens_expires_at ON registry_join_tokens (expires_at);";

/* A banned node keeps its row with banned = 1 and empty serials, as SPIRE
 * stores a ban as an empty certificate serial number. */
static const char nodes_sqlite[] =
	"CREATE TABLE registry_nodes ("
	" agent_id TEXT PRIMARY KEY,"
	" serial TEXT NOT NULL,"
	" not_after INTEGER NOT NULL,"
	" previous_serial TEXT NOT NULL DEFAULT '',"
	" previous_not_after INTEGER NOT NULL DEFAULT 0,"
	" attested_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL,"
	" banned INTEGER NOT NULL DEFAULT 0);";

static const char nodes_postgres[] =
	"CREATE TABLE registry_nodes ("
	" agent_id TEXT PRIMARY KEY,"
	" serial TEXT NOT NULL,"
	" not_after BIGINT NOT NULL,"
	" previous_serial TEXT NOT NULL DEFAULT '',"
	" previous_not_after BIGINT NOT NULL DEFAULT 0,"
	" attested_at BIGINT NOT NULL,"
	" updated_at BIGINT NOT NULL,"
	" banned INTEGER NOT NULL DEFAULT 0);";

/* A change counter for delta sync: every create, update and delete of an
 * entry increments the counter row in its transaction, and creates and
 * updates store the new value in the entry's change_seq. Entries that exist
 * before this migration, and the counter, start at 1, so a sync from 0
 * returns them. */
static const char change_seq_sqlite[] =
	"ALTER TABLE registry_entries ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 1;"
	"CREATE INDEX registry_entries_change_seq ON registry_entries (change_seq);"
	"CREATE TABLE registry_counters ("
	" name TEXT PRIMARY KEY,"
	" value INTEGER NOT NULL);"
	"INSERT INTO registry_counters (name, value) VALUES ('entry_change_seq', 1);";

static const char change_seq_postgres[] =
	"ALTER TABLE registry_entries ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 1;"
	"CREATE INDEX registry_entries_change_seq ON registry_entries (change_seq);"
	"CREATE TABLE registry_counters ("
	" name TEXT PRIMARY KEY,"
	" value BIGINT NOT NULL);"
	"INSERT INTO registry_counters (name, value) VALUES ('entry_change_seq', 1);";

/* Admission control per entry: existing entries keep issuing as before. */
static const char require_signed_sql[] =
	"ALTER TABLE registry_entries ADD COLUMN require_signed INTEGER NOT NULL DEFAULT 0;";

const struct store_migration registry_migrations[] = {
	{ 1, "registration entries and selectors", entries_sqlite, entries_postgres },
	{ 2, "join tokens", tokens_sqlite, tokens_postgres },
	{ 3, "attested nodes", nodes_sqlite, nodes_postgres },
	{ 4, "entry change counter", change_seq_sqlite, change_seq_postgres },
	{ 5, "entry require_signed flag", require_signed_sql, require_signed_sql },
};

const size_t registry_migration_count = WD_ARRAY_LEN(registry_migrations);
