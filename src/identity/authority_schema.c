/* The authority's tables as store migrations, and its named counters (bundle
 * sequence, last cRLNumber, next slot id). */
#include "identity/authority_internal.h"

/* A slot row outlives its keys: a pruned slot keeps its row with state
 * 'pruned' so slot ids are never reused and recorded serials still name the
 * CA that signed them. */
static const char slots_sqlite[] =
	"CREATE TABLE authority_slots ("
	" id INTEGER PRIMARY KEY,"
	" state TEXT NOT NULL,"
	" key_type TEXT NOT NULL,"
	" ca_cert_pem TEXT NOT NULL,"
	" jwt_kid TEXT NOT NULL,"
	" issued_at INTEGER NOT NULL,"
	" not_before INTEGER NOT NULL,"
	" not_after INTEGER NOT NULL);"
	"CREATE TABLE authority_state ("
	" name TEXT PRIMARY KEY,"
	" value INTEGER NOT NULL);";

static const char slots_postgres[] =
	"CREATE TABLE authority_slots ("
	" id BIGINT PRIMARY KEY,"
	" state TEXT NOT NULL,"
	" key_type TEXT NOT NULL,"
	" ca_cert_pem TEXT NOT NULL,"
	" jwt_kid TEXT NOT NULL,"
	" issued_at BIGINT NOT NULL,"
	" not_before BIGINT NOT NULL,"
	" not_after BIGINT NOT NULL);"
	"CREATE TABLE authority_state ("
	" name TEXT PRIMARY KEY,"
	" value BIGINT NOT NULL);";

/* One row per issued X.509-SVID. The partial index serves CRL building,
 * which reads only the revoked serials of one slot. */
static const char serials_sqlite[] =
	"CREATE TABLE authority_serials ("
	" serial TEXT PRIMARY KEY,"
	" spiffe_id TEXT NOT NULL,"
	" entry_id TEXT,"
	" slot_id INTEGER NOT NULL,"
	" issued_at INTEGER NOT NULL,"
	" not_after INTEGER NOT NULL,"
	" revoked_at INTEGER,"
	" reason TEXT);"
	"CREATE INDEX authority_serials_spiffe_id ON authority_serials (spiffe_id);"
	"CREATE INDEX authority_serials_entry_id ON authority_serials (entry_id);"
	"CREATE INDEX authority_serials_revoked ON authority_serials (slot_id)"
	" WHERE revoked_at IS NOT NULL;";

static const char serials_postgres[] =
	"CREATE TABLE authority_serials ("
	" serial TEXT PRIMARY KEY,"
	" spiffe_id TEXT NOT NULL,"
	" entry_id TEXT,"
	" slot_id BIGINT NOT NULL,"
	" issued_at BIGINT NOT NULL,"
	" not_after BIGINT NOT NULL,"
	" revoked_at BIGINT,"
	" reason TEXT);"
	"CREATE INDEX authority_serials_spiffe_id ON authority_serials (spiffe_id);"
	"CREATE INDEX authority_serials_entry_id ON authority_serials (entry_id);"
	"CREATE INDEX authority_serials_revoked ON authority_serials (slot_id)"
	" WHERE revoked_at IS NOT NULL;";

/* The CRL each slot last issued, which a start with sealed keys serves. */
static const char crls_sql[] = "ALTER TABLE authority_slots ADD COLUMN crl_pem TEXT;";

/* Sealed CA keys shared by every server on the datastore (ca_key_store.c).
 * SQLite servers keep their keys in files and leave the table empty. */
static const char keys_sqlite[] =
	"CREATE TABLE authority_keys ("
	" slot_id INTEGER NOT NULL,"
	" role TEXT NOT NULL,"
	" sealed_key BLOB NOT NULL,"
	" PRIMARY KEY (slot_id, role));";

static const char keys_postgres[] =
	"CREATE TABLE authority_keys ("
	" slot_id BIGINT NOT NULL,"
	" role TEXT NOT NULL,"
	" sealed_key BYTEA NOT NULL,"
	" PRIMARY KEY (slot_id, role));";

static const struct store_migration migrations[] = {
	{ .version = 1, .name = "authority slots and counters",
	  .sql_sqlite = slots_sqlite, .sql_postgres = slots_postgres },
	{ .version = 2, .name = "authority issued serials",
	  .sql_sqlite = serials_sqlite, .sql_postgres = serials_postgres },
	{ .version = 3, .name = "authority stored CRLs",
	  .sql_sqlite = crls_sql, .sql_postgres = crls_sql },
	{ .version = 4, .name = "authority sealed keys",
	  .sql_sqlite = keys_sqlite, .sql_postgres = keys_postgres },
};

int authority_schema_migrate(struct store *store, struct wd_error *err)
{
	return store_migrate(store, AUTHORITY_MIGRATION_COMPONENT, migrations,
		WD_ARRAY_LEN(migrations), err);
}

struct state_row {
	bool found;
	int64_t value;
};

static int read_state_row(void *context, const struct store_row *row)
{
	struct state_row *state = context;

	state->found = true;
	state->value = store_row_int(row, 0);
	return 0;
}

/* A counter that was never written reads as 0. */
int authority_state_get(struct store *store, const char *name, int64_t *ret_value,
	struct wd_error *err)
{
	struct store_value params[] = { STORE_TEXT_VALUE(name) };
	struct state_row state = { 0 };
	int rc;

	*ret_value = 0;
	rc = store_query(store, "SELECT value FROM authority_state WHERE name = $1", params,
		WD_ARRAY_LEN(params), read_state_row, &state, err);
	if (rc < 0)
		return rc;

	*ret_value = state.found ? state.value : 0;
	return 0;
}

int authority_state_set(struct store *store, const char *name, int64_t value,
	struct wd_error *err)
{
	struct store_value params[] = { STORE_TEXT_VALUE(name), STORE_INT_VALUE(value) };

	return store_exec(store,
		"INSERT INTO authority_state (name, value) VALUES ($1, $2)"
		" ON CONFLICT (name) DO UPDATE SET value = excluded.value",
		params, WD_ARRAY_LEN(params), NULL, err);
}
