/* PostgreSQL connections of a database mount: one libpq connection per
 * config, opened when first needed, reopened once when it breaks, closed
 * when the config changes or the mount closes.
 *
 * libpq calls block, and they run on the server's event loop thread like
 * every handler, so each connection gets bounded waits: connect_timeout=5
 * and tcp_user_timeout=10000 ms whatever the URL sets, and a
 * statement_timeout of 30 s unless the URL sets its own "options". */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/alloc.h"
#include "common/log.h"
#include "secrets/db_internal.h"

struct db_conn {
	struct db_conn *next;
	char *name;
	PGconn *pg;
};

/* libpq prints notices (such as "role does not exist, skipping") on
 * stderr by default; they may quote statements, so they are dropped. */
static void drop_notice(void *context, const char *message)
{
	(void)context;
	(void)message;
}

static struct db_conn *conn_find(struct db_state *state, const char *name)
{
	for (struct db_conn *conn = state->conns; conn; conn = conn->next) {
		if (!strcmp(conn->name, name))
			return conn;
	}
	return NULL;
}

/* Bumped whenever a config's connection is closed for a change, so that
 * worker threads reopen theirs too (db_conn_async.c). */
static _Atomic uint64_t conn_epoch = 1;

uint64_t db_conn_epoch(void)
{
	return conn_epoch;
}

void db_conn_close(struct db_state *state, const char *name)
{
	conn_epoch++;
	for (struct db_conn **link = &state->conns; *link; link = &(*link)->next) {
		struct db_conn *conn = *link;

		if (strcmp(conn->name, name) != 0)
			continue;
		*link = conn->next;
		PQfinish(conn->pg);
		free(conn->name);
		free(conn);
		return;
	}
}

void db_conn_close_all(struct db_state *state)
{
	conn_epoch++;
	while (state->conns) {
		struct db_conn *conn = state->conns;

		state->conns = conn->next;
		PQfinish(conn->pg);
		free(conn->name);
		free(conn);
	}
}

static bool is_uri(const char *url)
{
	return !strncmp(url, "postgres://", 11) || !strncmp(url, "postgresql://", 13);
}

/* Appends value as a URI component: every byte but RFC 3986's
 * unreserved characters is percent-encoded, as Go's url.PathEscape does
 * for the characters a password may hold. */
static int append_uri_escaped(struct wd_buf *out, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			WD_TRY(wd_buf_append_byte(out, *p));
		} else {
			uint8_t encoded[3] = { '%', (uint8_t)hex[*p >> 4], (uint8_t)hex[*p & 0x0f] };

			WD_TRY(wd_buf_append(out, encoded, sizeof(encoded)));
		}
	}
	return 0;
}

/* Appends value for a key=value connection string: as it is when it has
 * only [A-Za-z0-9._-], else single-quoted with \ before ' and \. */
static int append_conninfo_value(struct wd_buf *out, const char *value)
{
	bool plain = *value != '\0';

	for (const char *p = value; *p && plain; p++)
		plain = isalnum((unsigned char)*p) || *p == '.' || *p == '_' || *p == '-';
	if (plain)
		return wd_buf_append_str(out, value);

	WD_TRY(wd_buf_append_byte(out, '\''));
	for (const char *p = value; *p; p++) {
		if (*p == '\'' || *p == '\\')
			WD_TRY(wd_buf_append_byte(out, '\\'));
		WD_TRY(wd_buf_append_byte(out, (uint8_t)*p));
	}
	return wd_buf_append_byte(out, '\'');
}

static int escape_credential(const char *value, bool uri, bool disable_escaping,
	struct wd_buf *out)
{
	if (disable_escaping)
		return wd_buf_append_str(out, value);
	return uri ? append_uri_escaped(out, value) : append_conninfo_value(out, value);
}

int db_conn_string(const json_t *config, const char *password, struct wd_buf *out,
	struct wd_error *err)
{
	const char *url = db_config_detail(config, "connection_url");
	const char *username = db_config_detail(config, "username");
	const json_t *details = json_object_get(config, "connection_details");
	bool disable_escaping = json_is_true(json_object_get(details, "disable_escaping"));
	struct wd_buf escaped_username;
	struct wd_buf escaped_password;
	int rc;

	if (!url || !*url)
		return wd_error_set(err, WD_EINVAL, "connection_url cannot be empty");
	if (!password)
		password = db_config_detail(config, "password");
	wd_buf_init(&escaped_username, 64, 4 * DB_ROOT_USERNAME_MAX);
	wd_buf_init_secret(&escaped_password, 64, 4 * DB_ROOT_PASSWORD_MAX);

	WD_GUARD(escape_credential(username ? username : "", is_uri(url), disable_escaping,
		&escaped_username));
	WD_GUARD(escape_credential(password ? password : "", is_uri(url), disable_escaping,
		&escaped_password));
	{
		const struct db_substitution subs[] = {
			{ "username", wd_buf_str(&escaped_username) },
			{ "password", wd_buf_str(&escaped_password) },
		};

		WD_GUARD(db_substitute(url, subs, WD_ARRAY_LEN(subs), out));
	}
out:
	wd_buf_free(&escaped_username);
	wd_buf_free_secret(&escaped_password);
	if (rc < 0 && rc != WD_ENOMEM)
		return wd_error_set(err, rc, "connection_url is too long after substitution");
	return rc;
}

/* Replaces a password written literally in a URL ("scheme://user:pw@host")
 * in err, since libpq quotes the whole URI when it cannot parse it. */
static void scrub_url_password(struct wd_error *err, const char *url)
{
	const char *scheme_end = url ? strstr(url, "://") : NULL;
	const char *authority;
	const char *at;
	const char *colon;
	char secret[DB_URL_MAX + 1];
	size_t len;

	if (!scheme_end)
		return;
	authority = scheme_end + 3;
	len = strcspn(authority, "/?#");
	at = memrchr(authority, '@', len);
	colon = at ? memchr(authority, ':', (size_t)(at - authority)) : NULL;
	if (!colon || at - colon - 1 <= 0 || (size_t)(at - colon - 1) > DB_URL_MAX)
		return;
	len = (size_t)(at - colon - 1);
	memcpy(secret, colon + 1, len);
	secret[len] = '\0';
	if (strcmp(secret, "{{password}}") != 0)
		db_error_scrub(err, secret);
	OPENSSL_cleanse(secret, len);
}

/* Replaces the root password in err, both as it is and as it appears in
 * the connection string, since libpq may quote a bad URI component. */
static void scrub_password(struct wd_error *err, const json_t *config, const char *password)
{
	const char *url = db_config_detail(config, "connection_url");
	const json_t *details = json_object_get(config, "connection_details");
	struct wd_buf escaped;

	scrub_url_password(err, url);
	if (!password)
		password = db_config_detail(config, "password");
	if (!password || !*password)
		return;
	db_error_scrub(err, password);
	wd_buf_init_secret(&escaped, 64, 4 * DB_ROOT_PASSWORD_MAX);
	if (escape_credential(password, url && is_uri(url),
		json_is_true(json_object_get(details, "disable_escaping")), &escaped) == 0)
		db_error_scrub(err, wd_buf_str(&escaped));
	wd_buf_free_secret(&escaped);
}

/* Opens a connection with the stored root password or, when password is
 * not NULL, with that one. */
int db_conn_open(const json_t *config, const char *password, PGconn **ret_pg,
	struct wd_error *err)
{
	struct wd_buf conninfo;
	PGconn *pg;
	int rc = 0;

	*ret_pg = NULL;
	wd_buf_init_secret(&conninfo, 256, DB_URL_MAX + 8 * DB_ROOT_PASSWORD_MAX);
	WD_GUARD(db_conn_string(config, password, &conninfo, err));

	{
		/* Keywords after dbname override what the URL sets, those before
		 * it only fill in what the URL leaves out. */
		const char *const keywords[] = {
			"application_name", "options", "dbname", "connect_timeout", "tcp_user_timeout",
			NULL,
		};
		const char *const values[] = {
			"warden", "-c statement_timeout=30000 -c timezone=UTC", wd_buf_str(&conninfo),
			"5", "10000", NULL,
		};

		pg = PQconnectdbParams(keywords, values, 1);
	}
	if (!pg) {
		rc = WD_ENOMEM;
		goto out;
	}
	if (PQstatus(pg) != CONNECTION_OK) {
		const char *message = PQerrorMessage(pg);

		rc = wd_error_set(err, WD_EIO, "failed to connect to database \"%.64s\" at \"%.128s\": "
			"%.*s", PQdb(pg) ? PQdb(pg) : "", PQhost(pg) ? PQhost(pg) : "",
			(int)strcspn(message, "\n"), message);
		scrub_password(err, config, password);
		PQfinish(pg);
		goto out;
	}
	PQsetNoticeProcessor(pg, drop_notice, NULL);
	*ret_pg = pg;
out:
	wd_buf_free_secret(&conninfo);
	return rc;
}

/* Makes the password of an interrupted rotate-root the stored one (found
 * is true) or drops it as stale (false), in config and in the barrier. */
static void settle_pending_password(struct db_state *state, const char *name, json_t *config,
	bool found)
{
	json_t *details = json_object_get(config, "connection_details");
	json_t *pending = json_object_get(config, "pending_root_password");
	struct wd_error err;

	wd_error_clear(&err);
	if (found && (!json_is_object(details) ||
		json_object_set(details, "password", pending) < 0))
		return;
	json_object_del(config, "pending_root_password");
	if (db_config_store(state, name, config, &err) < 0)
		log_error("database", "failed to store the root password state after an interrupted "
			"rotation", "config", name, "error", wd_error_text(&err));
	else
		log_warn("database", found ? "root password of an interrupted rotation is current; "
			"stored it" : "dropped the unused root password of an interrupted rotation",
			"config", name);
}

/* Returns the open connection of config name, opening it when there is
 * none or it broke. */
static int conn_get(struct db_state *state, const char *name, json_t *config, PGconn **ret_pg,
	struct wd_error *err)
{
	struct db_conn *conn = conn_find(state, name);
	const json_t *pending;
	PGconn *pg = NULL;
	int rc;

	*ret_pg = NULL;
	if (conn && PQstatus(conn->pg) == CONNECTION_OK) {
		/* A transaction left open by an interrupted request. */
		if (PQtransactionStatus(conn->pg) != PQTRANS_IDLE)
			PQclear(PQexec(conn->pg, "ROLLBACK"));
		*ret_pg = conn->pg;
		return 0;
	}
	if (conn)
		db_conn_close(state, name);

	/* A rotate-root that stopped between changing the password in
	 * PostgreSQL and storing it leaves the new one as pending: whichever
	 * of the two logs in is the current one. */
	rc = db_conn_open(config, NULL, &pg, err);
	pending = json_object_get(config, "pending_root_password");
	if (json_is_string(pending)) {
		if (rc < 0) {
			struct wd_error pending_err;

			if (db_conn_open(config, json_string_value(pending), &pg, &pending_err) == 0) {
				wd_error_clear(err);
				rc = 0;
				settle_pending_password(state, name, config, true);
			}
		} else {
			settle_pending_password(state, name, config, false);
		}
	}
	WD_TRY(rc);

	conn = calloc(1, sizeof(*conn));
	if (!conn || !(conn->name = wd_strdup(name))) {
		free(conn);
		PQfinish(pg);
		return WD_ENOMEM;
	}
	conn->pg = pg;
	conn->next = state->conns;
	state->conns = conn;
	*ret_pg = pg;
	return 0;
}

int db_conn_run(struct db_state *state, const char *name, json_t *config, db_conn_work_fn work,
	void *context, struct wd_error *err)
{
	PGconn *pg = NULL;
	int rc;

	WD_TRY(conn_get(state, name, config, &pg, err));
	rc = work(pg, context, err);
	if (rc >= 0 || PQstatus(pg) != CONNECTION_BAD)
		return rc;

	/* The server closed the connection (a restart, an idle timeout): the
	 * work failed before it could commit, so it runs once more. */
	log_warn("database", "connection broke; reconnecting once", "config", name, "error",
		wd_error_text(err));
	db_conn_close(state, name);
	wd_error_clear(err);
	WD_TRY(conn_get(state, name, config, &pg, err));
	return work(pg, context, err);
}

int db_conn_verify(struct db_state *state, const char *name, json_t *config,
	struct wd_error *err)
{
	PGconn *pg = NULL;
	int rc;

	db_conn_close(state, name);
	rc = conn_get(state, name, config, &pg, err);
	if (rc == 0)
		rc = db_exec(pg, "SELECT 1", err);
	if (rc < 0) {
		db_conn_close(state, name);
		if (rc == WD_ENOMEM)
			return rc;
		db_error_prefix(err, "error verifying connection: ");
		err->code = WD_EINVAL;
		return WD_EINVAL;
	}
	return 0;
}
