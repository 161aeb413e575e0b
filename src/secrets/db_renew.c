/* Renewal of a database lease, as Vault's secretCredsRenew. The role is
 * loaded again, so a deleted role cannot renew. The TTL is computed from
 * the lease's issue time, and the renew statements move the user's VALID
 * UNTIL to the new end plus the 5 s buffer. */
#include <string.h>

#include "common/log.h"
#include "common/time.h"
#include "secrets/db_internal.h"

/* Vault's default renew statement of its PostgreSQL plugin. */
static const char default_renew_statement[] =
	"ALTER ROLE \"{{name}}\" VALID UNTIL '{{expiration}}';";

struct renewal {
	const char *username;
	const json_t *statements;
	const char *expiration;
};

static int renew_work(PGconn *pg, void *context, struct wd_error *err)
{
	const struct renewal *renewal = context;
	const struct db_substitution subs[] = {
		{ "name", renewal->username },
		{ "username", renewal->username },
		{ "expiration", renewal->expiration },
	};
	json_t *defaults = NULL;
	json_t *queries = NULL;
	int rc;

	if (json_array_size(renewal->statements) == 0) {
		defaults = json_pack("[s]", default_renew_statement);
		if (!defaults)
			return WD_ENOMEM;
	}
	rc = db_statements_expand(defaults ? defaults : renewal->statements, &queries, err);
	if (rc == 0)
		rc = db_exec_transaction(pg, queries, subs, WD_ARRAY_LEN(subs), NULL, err);
	json_decref(queries);
	json_decref(defaults);
	return rc;
}

int db_lease_renew(struct secrets *secrets, struct vault_mount *mount, const json_t *internal,
	int64_t issue_time, int64_t increment, int64_t *ret_ttl, struct wd_error *err)
{
	struct db_state *state = mount->state;
	const char *username = json_string_value(json_object_get(internal, "username"));
	const char *role_name = json_string_value(json_object_get(internal, "role"));
	const char *db_name = json_string_value(json_object_get(internal, "db_name"));
	char expiration[DB_EXPIRATION_TEXT_MAX];
	json_t *role = NULL;
	json_t *config = NULL;
	int64_t now = wd_now();
	int64_t ttl = 0;
	int rc;

	*ret_ttl = 0;
	if (!username || !role_name || !db_name)
		return wd_error_set(err, WD_EIO, "lease has no username, role or db_name to renew");

	rc = db_role_load(state, role_name, &role, err);
	if (rc == WD_ENOTFOUND)
		return wd_error_set(err, WD_ECONFLICT, "error during renew: could not find role with "
			"name \"%s\"", role_name);
	WD_TRY(rc);

	WD_GUARD(vault_calculate_ttl(secrets, mount, now, issue_time, increment,
		db_role_seconds(role, "default_ttl"), db_role_seconds(role, "max_ttl"), &ttl, NULL,
		err));
	if (ttl > 0) {
		/* The user lives in the database the lease was made in, even if
		 * the role now names another. */
		struct renewal renewal = {
			.username = username,
			.statements = json_object_get(role, "renew_statements"),
			.expiration = expiration,
		};

		db_format_expiration(now + ttl + DB_EXPIRATION_BUFFER_SECONDS, expiration);
		rc = db_config_load(state, db_name, &config, err);
		if (rc == WD_ENOTFOUND)
			rc = wd_error_set(err, WD_EIO, "failed to find entry for connection with name: "
				"\"%.128s\"", db_name);
		WD_GUARD(rc);
		rc = db_conn_run(state, db_name, config, renew_work, &renewal, err);
		if (rc < 0) {
			db_error_prefix(err, "failed to renew the database user: ");
			err->code = rc = WD_EIO;
			goto out;
		}
	}
	*ret_ttl = ttl;
	log_info("database", "lease renewed", "mount", mount->path, "username", username);
out:
	json_decref(config);
	json_decref(role);
	return rc;
}
