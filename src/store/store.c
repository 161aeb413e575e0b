/* The public datastore calls: backend choice by URL, input checks shared by
 * every backend, nested transactions by counting, and row access. */
#include <ctype.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/random.h"
#include "store/store_backend.h"

/* Statements sent to any backend; see store_statement_count. */
static atomic_uint_fast64_t statement_count;

uint64_t store_statement_count(void)
{
	return atomic_load_explicit(&statement_count, memory_order_relaxed);
}

static void count_statement(void)
{
	atomic_fetch_add_explicit(&statement_count, 1, memory_order_relaxed);
}

struct url_scheme {
	const char *prefix;
	const struct store_backend_ops *ops; /* NULL: recognised, not built */
};

static const struct url_scheme url_schemes[] = {
	{ "sqlite:", &store_sqlite_ops },
	{ "postgres://", &store_postgres_ops },
	{ "postgresql://", &store_postgres_ops },
};

/* Returns the length of a "scheme://" prefix (RFC 3986 scheme characters),
 * or 0 when url has none and is a plain path. */
static size_t url_scheme_length(const char *url)
{
	size_t i = 0;

	if (!isalpha((unsigned char)url[0]))
		return 0;
	while (isalnum((unsigned char)url[i]) || url[i] == '+' || url[i] == '-' ||
		url[i] == '.')
		i++;
	if (strncmp(url + i, "://", 3) != 0)
		return 0;
	return i;
}

static int backend_for_url(const char *url, const struct store_backend_ops **ret_ops,
	const char **ret_location, struct wd_error *err)
{
	size_t scheme_length;

	*ret_ops = NULL;
	*ret_location = NULL;

	for (size_t i = 0; i < WD_ARRAY_LEN(url_schemes); i++) {
		const struct url_scheme *scheme = &url_schemes[i];
		size_t prefix_length = strlen(scheme->prefix);

		if (strncmp(url, scheme->prefix, prefix_length) != 0)
			continue;
		if (!scheme->ops)
			return wd_error_set(err, WD_EUNSUPPORTED,
				"datastore URL scheme '%.*s' is not supported by this build: "
				"only SQLite is built in, so use sqlite:PATH or a file path",
				(int)(strchr(scheme->prefix, ':') - scheme->prefix),
				scheme->prefix);
		*ret_ops = scheme->ops;
		*ret_location = url + prefix_length;
		return 0;
	}

	scheme_length = url_scheme_length(url);
	if (scheme_length > 0)
		return wd_error_set(err, WD_EUNSUPPORTED,
			"datastore URL scheme '%.*s' is not supported: use sqlite:PATH, a "
			"file path or postgres://...", (int)scheme_length, url);

	*ret_ops = &store_sqlite_ops;
	*ret_location = url;
	return 0;
}

int store_open(const char *url, const struct store_options *options,
	struct store **ret_store, struct wd_error *err)
{
	_wd_cleanup_(wd_freep) struct store *store = NULL;
	const struct store_backend_ops *ops;
	const char *location;
	int rc;

	if (ret_store)
		*ret_store = NULL;
	if (!url || !ret_store)
		return wd_error_set(err, WD_EINVAL, "store_open needs a URL and ret_store");
	if (options && options->busy_timeout_ms < 0)
		return wd_error_set(err, WD_EINVAL,
			"invalid busy timeout %d ms: use 0 for the default or a positive value",
			options->busy_timeout_ms);

	rc = backend_for_url(url, &ops, &location, err);
	if (rc < 0)
		return rc;

	store = wd_calloc(1, sizeof(*store));
	if (!store)
		return wd_error_set(err, WD_ENOMEM, "out of memory opening the datastore");
	store->ops = ops;

	rc = ops->open(location, options, &store->handle, err);
	if (rc < 0)
		return rc;

	*ret_store = WD_TAKE_PTR(store);
	return 0;
}

void store_close(struct store *store)
{
	if (!store)
		return;
	/* Closing inside a transaction discards it, as a dropped connection
	 * would. */
	if (store->depth > 0)
		store->ops->rollback(store->handle);
	store->ops->close(store->handle);
	free(store);
}

const char *store_backend(const struct store *store)
{
	if (!store)
		return NULL;
	return store->ops->name;
}

int store_begin(struct store *store, struct wd_error *err)
{
	int rc;

	if (!store)
		return wd_error_set(err, WD_EINVAL, "store_begin needs a store");
	if (store->depth == UINT_MAX)
		return wd_error_set(err, WD_ETOOBIG, "transactions nested too deep");

	if (store->depth == 0) {
		count_statement();
		rc = store->ops->begin(store->handle, err);
		if (rc < 0)
			return rc;
		store->rollback_only = false;
	}
	store->depth++;
	return 0;
}

/* Ends the outermost transaction in the backend and resets the counter, so a
 * failed commit leaves no transaction open and a later store_rollback is a
 * no-op. */
static int commit_outermost(struct store *store, struct wd_error *err)
{
	int rc;

	store->depth = 0;
	if (store->rollback_only) {
		store->rollback_only = false;
		store->ops->rollback(store->handle);
		return wd_error_set(err, WD_ECONFLICT,
			"commit failed: an inner transaction rolled back, so the whole "
			"transaction was rolled back");
	}

	count_statement();
	rc = store->ops->commit(store->handle, err);
	if (rc < 0)
		store->ops->rollback(store->handle);
	return rc;
}

int store_commit(struct store *store, struct wd_error *err)
{
	if (!store)
		return wd_error_set(err, WD_EINVAL, "store_commit needs a store");
	if (store->depth == 0)
		return wd_error_set(err, WD_EINVAL, "commit without a matching store_begin");

	if (store->depth > 1) {
		store->depth--;
		return 0;
	}
	return commit_outermost(store, err);
}

void store_rollback(struct store *store)
{
	if (!store || store->depth == 0)
		return;

	store->depth--;
	if (store->depth > 0) {
		store->rollback_only = true;
		return;
	}
	store->rollback_only = false;
	count_statement();
	store->ops->rollback(store->handle);
}

/* Checks what every backend relies on: pointers present, types known, and
 * lengths that fit an int, which is SQLite's and libpq's length type. */
static int check_statement(const struct store *store, const char *function,
	const char *sql, const struct store_value *params, size_t param_count,
	struct wd_error *err)
{
	if (!store || !sql)
		return wd_error_set(err, WD_EINVAL, "%s needs a store and SQL", function);
	if (param_count > 0 && !params)
		return wd_error_set(err, WD_EINVAL, "%s got %zu parameters but no array",
			function, param_count);
	if (param_count > INT32_MAX)
		return wd_error_set(err, WD_ETOOBIG, "%s got too many parameters (%zu)",
			function, param_count);

	for (size_t i = 0; i < param_count; i++) {
		const struct store_value *value = &params[i];

		switch (value->type) {
		case STORE_NULL:
		case STORE_INT:
			break;
		case STORE_TEXT:
			if (!value->text)
				return wd_error_set(err, WD_EINVAL,
					"parameter $%zu is text with a NULL pointer", i + 1);
			if (strlen(value->text) > INT32_MAX)
				return wd_error_set(err, WD_ETOOBIG,
					"parameter $%zu is text longer than 2 GiB", i + 1);
			break;
		case STORE_BLOB:
			if (!value->blob && value->len > 0)
				return wd_error_set(err, WD_EINVAL,
					"parameter $%zu is a blob of %zu bytes with a NULL pointer",
					i + 1, value->len);
			if (value->len > INT32_MAX)
				return wd_error_set(err, WD_ETOOBIG,
					"parameter $%zu is a blob of %zu bytes, above 2 GiB",
					i + 1, value->len);
			break;
		default:
			return wd_error_set(err, WD_EINVAL, "parameter $%zu has unknown type %d",
				i + 1, (int)value->type);
		}
	}
	return 0;
}

int store_exec(struct store *store, const char *sql, const struct store_value *params,
	size_t param_count, int64_t *ret_changes, struct wd_error *err)
{
	int rc;

	if (ret_changes)
		*ret_changes = 0;
	rc = check_statement(store, "store_exec", sql, params, param_count, err);
	if (rc < 0)
		return rc;
	count_statement();
	return store->ops->exec(store->handle, sql, params, param_count, ret_changes, err);
}

int store_query(struct store *store, const char *sql, const struct store_value *params,
	size_t param_count, store_row_fn on_row, void *context, struct wd_error *err)
{
	char summary[STORE_SQL_SUMMARY_MAX];
	int rc;

	rc = check_statement(store, "store_query", sql, params, param_count, err);
	if (rc < 0)
		return rc;
	if (!on_row)
		return wd_error_set(err, WD_EINVAL, "store_query needs a row callback");

	/* Cleared first, so a detail that the callback records in the same err
	 * through its context is distinct from one left over from earlier. */
	wd_error_clear(err);
	count_statement();
	rc = store->ops->query(store->handle, sql, params, param_count, on_row, context,
		err);
	if (rc < 0 && err && err->code == WD_OK) {
		store_sql_summary(sql, summary);
		wd_error_set(err, rc, "query '%s' stopped by its row callback with %s",
			summary, wd_error_name(rc));
	}
	return rc;
}

static bool is_word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '*';
}

void store_sql_summary(const char *sql, char buf[static STORE_SQL_SUMMARY_MAX])
{
	size_t length = 0;
	int words = 0;

	buf[0] = '\0';
	if (!sql)
		return;

	while (words < 3) {
		size_t word_length = 0;

		while (isspace((unsigned char)*sql))
			sql++;
		if (isdigit((unsigned char)*sql))
			break;
		while (is_word_char(sql[word_length]))
			word_length++;
		if (word_length == 0)
			break;
		if (length + (length > 0) + word_length >= STORE_SQL_SUMMARY_MAX)
			break;

		if (length > 0)
			buf[length++] = ' ';
		memcpy(buf + length, sql, word_length);
		length += word_length;
		buf[length] = '\0';
		sql += word_length;
		words++;
	}
}

size_t store_row_columns(const struct store_row *row)
{
	if (!row)
		return 0;
	return row->ops->row_columns(row->cursor);
}

bool store_row_is_null(const struct store_row *row, size_t column)
{
	if (column >= store_row_columns(row))
		return true;
	return row->ops->row_is_null(row->cursor, column);
}

int64_t store_row_int(const struct store_row *row, size_t column)
{
	if (column >= store_row_columns(row))
		return 0;
	return row->ops->row_int(row->cursor, column);
}

const char *store_row_text(const struct store_row *row, size_t column)
{
	if (column >= store_row_columns(row))
		return NULL;
	return row->ops->row_text(row->cursor, column);
}

const void *store_row_blob(const struct store_row *row, size_t column, size_t *ret_len)
{
	if (ret_len)
		*ret_len = 0;
	if (column >= store_row_columns(row))
		return NULL;
	return row->ops->row_blob(row->cursor, column, ret_len);
}

/* Hex digits of the process id at the start of every payload sent. */
#define ORIGIN_HEX 16

static pthread_once_t origin_once = PTHREAD_ONCE_INIT;
static char origin[ORIGIN_HEX + 1];

static void make_origin(void)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t bytes[ORIGIN_HEX / 2] = { 0 };

	/* Without randomness the id is zero: listeners then count every
	 * notification as another process's, which costs only a refresh. */
	if (wd_random_bytes(bytes, sizeof(bytes)) < 0)
		memset(bytes, 0, sizeof(bytes));
	for (size_t i = 0; i < sizeof(bytes); i++) {
		origin[2 * i] = hex[bytes[i] >> 4];
		origin[2 * i + 1] = hex[bytes[i] & 15];
	}
	origin[ORIGIN_HEX] = '\0';
}

int store_notify(struct store *store, const char *payload, struct wd_error *err)
{
	char wire[ORIGIN_HEX + 1 + STORE_NOTIFY_PAYLOAD_MAX + 1];

	if (!store || !payload)
		return wd_error_set(err, WD_EINVAL, "store_notify needs a store and a payload");
	if (strlen(payload) > STORE_NOTIFY_PAYLOAD_MAX)
		return wd_error_set(err, WD_EINVAL, "notification payload of %zu bytes is above "
			"%d", strlen(payload), STORE_NOTIFY_PAYLOAD_MAX);
	if (!store->ops->notify)
		return 0;
	pthread_once(&origin_once, make_origin);
	snprintf(wire, sizeof(wire), "%s %s", origin, payload);
	count_statement();
	return store->ops->notify(store->handle, wire, err);
}

int store_listen(struct store *store, struct wd_error *err)
{
	if (!store)
		return wd_error_set(err, WD_EINVAL, "store_listen needs a store");
	if (!store->ops->listen)
		return wd_error_set(err, WD_EUNSUPPORTED, "the %s datastore has no change "
			"notification", store->ops->name);
	if (store->depth > 0)
		return wd_error_set(err, WD_ECONFLICT, "store_listen inside a transaction");
	return store->ops->listen(store->handle, err);
}

int store_listen_fd(struct store *store)
{
	if (!store || !store->ops->listen_fd)
		return -1;
	return store->ops->listen_fd(store->handle);
}

struct drain_context {
	store_notify_fn fn;
	void *arg;
};

/* Splits the wire form "ORIGIN PAYLOAD" and hands PAYLOAD on. */
static void deliver(const char *wire, void *arg)
{
	struct drain_context *context = arg;

	if (strlen(wire) <= ORIGIN_HEX || wire[ORIGIN_HEX] != ' ')
		return;
	for (size_t i = 0; i < ORIGIN_HEX; i++)
		if (!isxdigit((unsigned char)wire[i]))
			return;
	pthread_once(&origin_once, make_origin);
	context->fn(wire + ORIGIN_HEX + 1, strncmp(wire, origin, ORIGIN_HEX) == 0, context->arg);
}

int store_listen_drain(struct store *store, store_notify_fn fn, void *arg, struct wd_error *err)
{
	struct drain_context context = { fn, arg };

	if (!store || !fn)
		return wd_error_set(err, WD_EINVAL, "store_listen_drain needs a store and a "
			"function");
	if (!store->ops->listen_drain)
		return wd_error_set(err, WD_EUNSUPPORTED, "the %s datastore has no change "
			"notification", store->ops->name);
	return store->ops->listen_drain(store->handle, deliver, &context, err);
}
