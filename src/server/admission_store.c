/* Registered signatures in the datastore: one row per signature or
 * attestation, keyed by a random id and looked up by artifact digest. The
 * bundle or envelope is kept as the admin sent it, because it is verified
 * again at every issuance. */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/alloc.h"
#include "common/encoding.h"
#include "common/random.h"
#include "server/admission_internal.h"

/* content_sha256 makes a second upload of the same bytes for one digest a
 * duplicate, which the unique index rejects even with two servers on one
 * PostgreSQL datastore. */
static const char signatures_sqlite[] =
	"CREATE TABLE admission_signatures ("
	" id TEXT PRIMARY KEY,"
	" digest TEXT NOT NULL,"
	" kind TEXT NOT NULL,"
	" signer TEXT NOT NULL,"
	" predicate_type TEXT NOT NULL DEFAULT '',"
	" content TEXT NOT NULL,"
	" content_sha256 TEXT NOT NULL,"
	" created_at INTEGER NOT NULL,"
	" UNIQUE (digest, content_sha256));"
	"CREATE INDEX admission_signatures_digest ON admission_signatures (digest);";

static const char signatures_postgres[] =
	"CREATE TABLE admission_signatures ("
	" id TEXT PRIMARY KEY,"
	" digest TEXT NOT NULL,"
	" kind TEXT NOT NULL,"
	" signer TEXT NOT NULL,"
	" predicate_type TEXT NOT NULL DEFAULT '',"
	" content TEXT NOT NULL,"
	" content_sha256 TEXT NOT NULL,"
	" created_at BIGINT NOT NULL,"
	" UNIQUE (digest, content_sha256));"
	"CREATE INDEX admission_signatures_digest ON admission_signatures (digest);";

const struct store_migration admission_migrations[] = {
	{ 1, "registered signatures", signatures_sqlite, signatures_postgres },
};

const size_t admission_migration_count = WD_ARRAY_LEN(admission_migrations);

#define COLUMNS "id, digest, kind, signer, predicate_type, created_at"

void admission_signature_free(struct admission_signature *signature)
{
	if (!signature)
		return;
	free(signature->content);
	free(signature);
}

void admission_signature_list_free(struct admission_signature_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->count; i++)
		admission_signature_free(list->items[i]);
	free(list->items);
	free(list);
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int admission_digest_parse(const char *field, const char *text,
	uint8_t ret_digest[static SUPPLY_DIGEST_LEN], struct wd_error *err)
{
	static const char prefix[] = "sha256:";
	const char *hex;
	uint8_t *bytes = NULL;
	size_t len = 0;

	memset(ret_digest, 0, SUPPLY_DIGEST_LEN);
	if (!text)
		return wd_error_set(err, WD_EINVAL, "missing \"%s\"", field);
	if (strncmp(text, prefix, sizeof(prefix) - 1) != 0)
		goto bad;
	hex = text + sizeof(prefix) - 1;
	if (strlen(hex) != 2 * SUPPLY_DIGEST_LEN)
		goto bad;
	for (size_t i = 0; i < 2 * SUPPLY_DIGEST_LEN; i++) {
		if (!is_hex(hex[i]))
			goto bad;
	}
	if (wd_hex_decode(hex, 2 * SUPPLY_DIGEST_LEN, &bytes, &len) < 0 ||
	    len != SUPPLY_DIGEST_LEN) {
		free(bytes);
		return wd_error_set(err, WD_ENOMEM, "admission: out of memory");
	}
	memcpy(ret_digest, bytes, SUPPLY_DIGEST_LEN);
	free(bytes);
	return 0;
bad:
	return wd_error_set(err, WD_EINVAL, "invalid \"%s\" \"%.80s\": expected sha256: and 64 "
		"hex digits", field, text);
}

static void digest_to_hex(const uint8_t digest[static SUPPLY_DIGEST_LEN],
	char out[static 2 * SUPPLY_DIGEST_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < SUPPLY_DIGEST_LEN; i++) {
		out[2 * i] = digits[digest[i] >> 4];
		out[2 * i + 1] = digits[digest[i] & 0xf];
	}
	out[2 * SUPPLY_DIGEST_LEN] = '\0';
}

static int content_hash(const char *content, size_t len,
	char out[static 2 * SUPPLY_DIGEST_LEN + 1])
{
	uint8_t digest[SUPPLY_DIGEST_LEN];
	unsigned int digest_len = 0;

	if (EVP_Digest(content, len, digest, &digest_len, EVP_sha256(), NULL) != 1 ||
	    digest_len != SUPPLY_DIGEST_LEN)
		return WD_ECRYPTO;
	digest_to_hex(digest, out);
	return 0;
}

/* Collects rows of COLUMNS (and content as a seventh column when asked). */
struct collector {
	struct admission_signature_list *list;
	size_t capacity;
	bool with_content;
	struct wd_error *err;
};

static int copy_column(char *out, size_t out_len, const struct store_row *row, size_t column)
{
	const char *text = store_row_text(row, column);

	if (!text || strlen(text) >= out_len)
		return WD_ECORRUPT;
	memcpy(out, text, strlen(text) + 1);
	return 0;
}

static int signature_from_row(const struct store_row *row, bool with_content,
	struct admission_signature **ret_signature)
{
	struct admission_signature *signature = wd_calloc(1, sizeof(*signature));
	int rc = 0;

	*ret_signature = NULL;
	WD_ENSURE(signature, WD_ENOMEM);
	WD_GUARD(copy_column(signature->id, sizeof(signature->id), row, 0));
	WD_GUARD(copy_column(signature->digest_hex, sizeof(signature->digest_hex), row, 1));
	WD_GUARD(copy_column(signature->kind, sizeof(signature->kind), row, 2));
	WD_GUARD(copy_column(signature->signer, sizeof(signature->signer), row, 3));
	WD_GUARD(copy_column(signature->predicate_type, sizeof(signature->predicate_type), row,
		4));
	signature->created_at = store_row_int(row, 5);
	if (with_content) {
		const char *content = store_row_text(row, 6);

		WD_ENSURE(content, WD_ECORRUPT);
		signature->content_len = strlen(content);
		signature->content = wd_strdup(content);
		WD_ENSURE(signature->content, WD_ENOMEM);
	}
	*ret_signature = WD_TAKE_PTR(signature);
out:
	admission_signature_free(signature);
	return rc;
}

static int collect_row(void *context, const struct store_row *row)
{
	struct collector *collector = context;
	struct admission_signature_list *list = collector->list;
	struct admission_signature *signature = NULL;
	int rc;

	if (list->count == collector->capacity) {
		size_t capacity = collector->capacity ? collector->capacity * 2 : 8;
		struct admission_signature **items = wd_reallocarray(list->items, capacity,
			sizeof(*items));

		if (!items)
			return wd_error_set(collector->err, WD_ENOMEM, "admission: out of memory");
		list->items = items;
		collector->capacity = capacity;
	}
	rc = signature_from_row(row, collector->with_content, &signature);
	if (rc == WD_ENOMEM)
		return wd_error_set(collector->err, rc, "admission: out of memory");
	if (rc < 0)
		return wd_error_set(collector->err, rc, "admission: malformed signature row");
	list->items[list->count++] = signature;
	return 0;
}

/* Runs a query of COLUMNS (with content when with_content) into a new list. */
static int query_list(struct admission *admission, const char *sql,
	const struct store_value *params, size_t param_count, bool with_content,
	struct admission_signature_list **ret_list, struct wd_error *err)
{
	struct admission_signature_list *list = wd_calloc(1, sizeof(*list));
	struct collector collector = { .list = list, .with_content = with_content, .err = err };
	int rc;

	*ret_list = NULL;
	if (!list)
		return wd_error_set(err, WD_ENOMEM, "admission: out of memory");
	rc = store_query(admission->store, sql, params, param_count, collect_row, &collector, err);
	if (rc < 0) {
		admission_signature_list_free(list);
		return rc;
	}
	*ret_list = list;
	return 0;
}

int admission_signature_list(struct admission *admission, const uint8_t *digest,
	bool with_content, struct admission_signature_list **ret_list, struct wd_error *err)
{
	char hex[2 * SUPPLY_DIGEST_LEN + 1] = "";
	struct store_value params[] = { STORE_TEXT_VALUE(hex) };
	const char *sql;

	if (!digest)
		return query_list(admission, with_content ?
			"SELECT " COLUMNS ", content FROM admission_signatures ORDER BY created_at, id" :
			"SELECT " COLUMNS " FROM admission_signatures ORDER BY created_at, id",
			NULL, 0, with_content, ret_list, err);
	digest_to_hex(digest, hex);
	sql = with_content ?
		"SELECT " COLUMNS ", content FROM admission_signatures WHERE digest = $1 "
		"ORDER BY created_at, id" :
		"SELECT " COLUMNS " FROM admission_signatures WHERE digest = $1 "
		"ORDER BY created_at, id";
	return query_list(admission, sql, params, 1, with_content, ret_list, err);
}

/* Fails when the digest already has this content or the maximum number of
 * signatures, inside the caller's transaction. */
static int check_room(struct admission *admission, const char *digest_hex,
	const char *hash, struct wd_error *err)
{
	struct admission_signature_list *list = NULL;
	struct store_value params[] = { STORE_TEXT_VALUE(digest_hex), STORE_TEXT_VALUE(hash) };
	int rc;

	WD_TRY(query_list(admission, "SELECT " COLUMNS " FROM admission_signatures "
		"WHERE digest = $1 AND content_sha256 = $2", params, 2, false, &list, err));
	if (list->count > 0)
		rc = wd_error_set(err, WD_EEXIST, "duplicate signature: signature %s of sha256:%s "
			"has the same content", list->items[0]->id, digest_hex);
	else
		rc = 0;
	admission_signature_list_free(list);
	WD_TRY(rc);

	WD_TRY(query_list(admission, "SELECT " COLUMNS " FROM admission_signatures "
		"WHERE digest = $1", params, 1, false, &list, err));
	if (list->count >= ADMISSION_MAX_SIGNATURES_PER_DIGEST)
		rc = wd_error_set(err, WD_ETOOBIG, "sha256:%s already has %zu signatures, the "
			"maximum: delete one first", digest_hex, list->count);
	admission_signature_list_free(list);
	return rc;
}

int admission_signature_add(struct admission *admission,
	const uint8_t digest[static SUPPLY_DIGEST_LEN], const char *content, size_t len,
	const struct admission_verdict *verdict, int64_t now,
	struct admission_signature **ret_signature, struct wd_error *err)
{
	struct admission_signature *signature = NULL;
	char hash[2 * SUPPLY_DIGEST_LEN + 1];
	bool in_transaction = false;
	int rc;

	if (ret_signature)
		*ret_signature = NULL;
	if (len > ADMISSION_MAX_CONTENT_BYTES)
		return wd_error_set(err, WD_ETOOBIG, "signature of %zu bytes is larger than the "
			"maximum %u", len, ADMISSION_MAX_CONTENT_BYTES);
	if (strlen(content) != len)
		return wd_error_set(err, WD_EINVAL, "signature contains a NUL character");
	if (content_hash(content, len, hash) < 0)
		return wd_error_set(err, WD_ECRYPTO, "admission: SHA-256 failed");

	signature = wd_calloc(1, sizeof(*signature));
	WD_ENSURE(signature, wd_error_set(err, WD_ENOMEM, "admission: out of memory"));
	WD_ENSURE(wd_random_uuid(signature->id) == 0,
		wd_error_set(err, WD_EINTERNAL, "admission: random signature id failed"));
	digest_to_hex(digest, signature->digest_hex);
	snprintf(signature->kind, sizeof(signature->kind), "%s", verdict->kind);
	snprintf(signature->signer, sizeof(signature->signer), "%s", verdict->signer);
	snprintf(signature->predicate_type, sizeof(signature->predicate_type), "%s",
		verdict->predicate_type);
	signature->created_at = now;

	struct store_value params[] = {
		STORE_TEXT_VALUE(signature->id),
		STORE_TEXT_VALUE(signature->digest_hex),
		STORE_TEXT_VALUE(signature->kind),
		STORE_TEXT_VALUE(signature->signer),
		STORE_TEXT_VALUE(signature->predicate_type),
		STORE_TEXT_VALUE(content),
		STORE_TEXT_VALUE(hash),
		STORE_INT_VALUE(now),
	};

	WD_GUARD(store_begin(admission->store, err));
	in_transaction = true;
	WD_GUARD(check_room(admission, signature->digest_hex, hash, err));
	WD_GUARD(store_exec(admission->store,
		"INSERT INTO admission_signatures (id, digest, kind, signer, predicate_type, "
		"content, content_sha256, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
		params, WD_ARRAY_LEN(params), NULL, err));
	WD_GUARD(store_commit(admission->store, err));
	in_transaction = false;

	if (ret_signature)
		*ret_signature = WD_TAKE_PTR(signature);
out:
	if (in_transaction)
		store_rollback(admission->store);
	admission_signature_free(signature);
	return rc;
}

static int validate_id(const char *id, struct wd_error *err)
{
	size_t len;

	if (!id)
		return wd_error_set(err, WD_EINVAL, "missing signature id");
	len = strnlen(id, ADMISSION_ID_LEN + 1);
	for (size_t i = 0; i < len; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		char c = id[i];

		if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			goto bad;
	}
	if (len == ADMISSION_ID_LEN)
		return 0;
bad:
	return wd_error_set(err, WD_EINVAL, "invalid signature id \"%.64s\": expected a "
		"lowercase UUID", id);
}

int admission_signature_delete(struct admission *admission, const char *id,
	struct admission_signature **ret_signature, struct wd_error *err)
{
	struct admission_signature_list *list = NULL;
	struct store_value params[] = { STORE_TEXT_VALUE(id) };
	bool in_transaction = false;
	int rc;

	if (ret_signature)
		*ret_signature = NULL;
	WD_TRY(validate_id(id, err));

	WD_GUARD(store_begin(admission->store, err));
	in_transaction = true;
	WD_GUARD(query_list(admission, "SELECT " COLUMNS " FROM admission_signatures "
		"WHERE id = $1", params, 1, false, &list, err));
	WD_ENSURE(list->count == 1,
		wd_error_set(err, WD_ENOTFOUND, "signature \"%s\" not found", id));
	WD_GUARD(store_exec(admission->store, "DELETE FROM admission_signatures WHERE id = $1",
		params, 1, NULL, err));
	WD_GUARD(store_commit(admission->store, err));
	in_transaction = false;

	if (ret_signature) {
		*ret_signature = list->items[0];
		list->items[0] = NULL;
	}
out:
	if (in_transaction)
		store_rollback(admission->store);
	admission_signature_list_free(list);
	return rc;
}

int admission_signature_to_json(const struct admission_signature *signature,
	json_t **ret_object)
{
	char digest[sizeof("sha256:") + 2 * SUPPLY_DIGEST_LEN];

	snprintf(digest, sizeof(digest), "sha256:%s", signature->digest_hex);
	*ret_object = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "id", signature->id,
		"digest", digest, "kind", signature->kind, "signer", signature->signer,
		"predicate_type", signature->predicate_type, "created_at",
		(json_int_t)signature->created_at);
	return *ret_object ? 0 : WD_ENOMEM;
}
