/* SVID signing with the active slot: X.509-SVIDs, whose serials are recorded
 * for revocation, and JWT-SVIDs. */
#include <inttypes.h>
#include <limits.h>
#include <string.h>

#include <openssl/err.h>

#include "common/alloc.h"
#include "crypto/x509.h"
#include "identity/authority_internal.h"
#include "identity/x509svid.h"

/* Entry ids are UUIDs today; the bound leaves room for other id forms. */
#define ENTRY_ID_MAX_LEN 128

/* Max audiences of one JWT-SVID. */
#define JWT_AUDIENCE_MAX 32

void authority_x509_svid_clear(struct authority_x509_svid *svid)
{
	if (!svid)
		return;
	free(svid->der);
	free(svid->chain_pem);
	X509_free(svid->decoded_cert);
	*svid = (struct authority_x509_svid){ 0 };
}

X509 *authority_x509_svid_cert(struct authority_x509_svid *svid)
{
	const unsigned char *p;

	if (!svid || !svid->der || svid->der_len == 0 || svid->der_len > LONG_MAX)
		return NULL;
	if (svid->decoded_cert)
		return svid->decoded_cert;
	p = svid->der;
	svid->decoded_cert = d2i_X509(NULL, &p, (long)svid->der_len);
	if (svid->decoded_cert && p != svid->der + svid->der_len) {
		X509_free(svid->decoded_cert);
		svid->decoded_cert = NULL;
	}
	ERR_clear_error();
	return svid->decoded_cert;
}

static int check_subject(const struct authority *authority, const struct spiffe_id *id,
	struct wd_error *err)
{
	if (!id)
		return wd_error_set(err, WD_EINVAL, "missing SPIFFE ID");
	if (!spiffe_id_member_of(id, authority->trust_domain))
		return wd_error_set(err, WD_EINVAL,
			"SPIFFE ID \"spiffe://%.255s%.200s\" is not in trust domain \"%.255s\"",
			id->trust_domain, id->path, authority->trust_domain);
	if (id->path[0] == '\0')
		return wd_error_set(err, WD_EINVAL,
			"SPIFFE ID \"spiffe://%.255s\" has no path; only the CA holds the trust "
			"domain's own ID", id->trust_domain);
	return 0;
}

static int check_entry_id(const char *entry_id, struct wd_error *err)
{
	size_t len;

	if (!entry_id)
		return 0;
	len = strnlen(entry_id, ENTRY_ID_MAX_LEN + 1);
	if (len == 0 || len > ENTRY_ID_MAX_LEN)
		return wd_error_set(err, WD_EINVAL, "entry id must be 1 to %d bytes",
			ENTRY_ID_MAX_LEN);
	for (size_t i = 0; i < len; i++) {
		if (entry_id[i] < 0x21 || entry_id[i] > 0x7e)
			return wd_error_set(err, WD_EINVAL,
				"entry id \"%.128s\" holds a character outside printable ASCII",
				entry_id);
	}
	return 0;
}

static int active_slot_at(struct authority *authority, int64_t now,
	struct authority_slot **ret_slot, struct wd_error *err)
{
	struct authority_slot *active = ca_active_slot(authority);

	*ret_slot = NULL;
	if (!active)
		return wd_error_set(err, WD_EINTERNAL, "the authority has no active CA slot");
	if (ca_slot_sealed(active))
		return wd_error_set(err, WD_EUNAVAILABLE, AUTHORITY_SEALED_MESSAGE);
	if (now >= active->not_after)
		return wd_error_set(err, WD_EUNAVAILABLE,
			"the active CA (slot %" PRId64 ") expired at %" PRId64 "; it is rotated on "
			"the next authority tick", active->id, active->not_after);
	*ret_slot = active;
	return 0;
}

static int record_serial(struct authority *authority, const struct authority_x509_svid *svid,
	const char *spiffe_id, const char *entry_id, int64_t now, struct wd_error *err)
{
	struct store_value params[] = {
		STORE_TEXT_VALUE(svid->serial_hex),
		STORE_TEXT_VALUE(spiffe_id),
		STORE_TEXT_VALUE(entry_id),
		STORE_INT_VALUE(svid->slot_id),
		STORE_INT_VALUE(now),
		STORE_INT_VALUE(svid->not_after),
	};

	return store_exec(authority->store,
		"INSERT INTO authority_serials (serial, spiffe_id, entry_id, slot_id, issued_at,"
		" not_after) VALUES ($1, $2, $3, $4, $5, $6)",
		params, WD_ARRAY_LEN(params), NULL, err);
}

static int sign_x509_locked(struct authority *authority,
	const struct authority_x509_request *request, const char *spiffe_id, int64_t now,
	struct authority_x509_svid *ret_svid, struct wd_error *err)
{
	struct authority_x509_svid svid = { 0 };
	struct x509svid_issued issued = { 0 };
	struct authority_slot *active;
	struct x509svid_request issue;
	int rc;

	WD_GUARD(active_slot_at(authority, now, &active, err));
	issue = (struct x509svid_request){
		.id = request->spiffe_id,
		.public_key = request->public_key,
		.public_key_spki = request->public_key_spki,
		.public_key_spki_len = request->public_key_spki_len,
		.dns_names = request->dns_names,
		.dns_name_count = request->dns_name_count,
		.now = now,
		.ttl_seconds = request->ttl_seconds ? request->ttl_seconds
						    : authority->config.x509_svid_ttl_seconds,
		.backdate_seconds = authority->config.x509_backdate_seconds,
	};
	if (!active->issuer)
		WD_GUARD(x509svid_issuer_new(active->cert, active->x509_key, &active->issuer, err));
	WD_GUARD(x509svid_issuer_issue_der(active->issuer, &issue, &issued, err));

	svid.der = WD_TAKE_PTR(issued.der);
	svid.der_len = issued.der_len;
	svid.chain_pem = WD_TAKE_PTR(issued.pem);
	svid.slot_id = active->id;
	svid.not_after = issued.not_after;
	_Static_assert(X509SVID_SERIAL_HEX_SIZE <= AUTHORITY_SERIAL_HEX_SIZE,
		"an X.509-SVID serial fits the authority's serial buffer");
	memcpy(svid.serial_hex, issued.serial_hex, sizeof(issued.serial_hex));
	WD_GUARD(record_serial(authority, &svid, spiffe_id, request->entry_id, now, err));

	*ret_svid = svid;
	svid = (struct authority_x509_svid){ 0 };
	rc = 0;
out:
	x509svid_issued_clear(&issued);
	authority_x509_svid_clear(&svid);
	return rc;
}

int authority_sign_x509(struct authority *authority,
	const struct authority_x509_request *request, int64_t now,
	struct authority_x509_svid *ret_svid, struct wd_error *err)
{
	char spiffe_id[SPIFFE_ID_MAX_LEN + 1];
	int rc;

	*ret_svid = (struct authority_x509_svid){ 0 };
	if (!request || !request->public_key)
		return wd_error_set(err, WD_EINVAL, "X.509-SVID request: missing public key");
	WD_TRY(check_subject(authority, request->spiffe_id, err));
	WD_TRY(check_entry_id(request->entry_id, err));
	if (request->ttl_seconds < 0)
		return wd_error_set(err, WD_EINVAL, "X.509-SVID request: TTL %" PRId64
			" is negative", request->ttl_seconds);
	if (spiffe_id_format(request->spiffe_id, spiffe_id, sizeof(spiffe_id)) < 0)
		return wd_error_set(err, WD_EINVAL, "X.509-SVID request: SPIFFE ID is longer than "
			"%d bytes", SPIFFE_ID_MAX_LEN);

	pthread_mutex_lock(&authority->lock);
	rc = sign_x509_locked(authority, request, spiffe_id, now, ret_svid, err);
	pthread_mutex_unlock(&authority->lock);
	return rc;
}

static int check_audience(const char *const *audience, size_t count, struct wd_error *err)
{
	if (count == 0 || !audience)
		return wd_error_set(err, WD_EINVAL, "JWT-SVID request: at least one audience is "
			"required");
	if (count > JWT_AUDIENCE_MAX)
		return wd_error_set(err, WD_ETOOBIG, "JWT-SVID request: %zu audiences, at most %d "
			"are allowed", count, JWT_AUDIENCE_MAX);
	for (size_t i = 0; i < count; i++) {
		if (!audience[i] || audience[i][0] == '\0')
			return wd_error_set(err, WD_EINVAL, "JWT-SVID request: audience %zu is empty",
				i);
	}
	return 0;
}

/* exp is cut to the JWT key's notAfter, so no JWT-SVID outlives the key
 * that verifies it in the bundle. */
static int sign_jwt_locked(struct authority *authority, const struct spiffe_id *spiffe_id,
	const char *const *audience, size_t audience_count, int64_t ttl_seconds, int64_t now,
	char **ret_token, int64_t *ret_expires_at, struct wd_error *err)
{
	struct jwtsvid_claims_in claims;
	struct authority_slot *active;
	int64_t expires_at;
	int rc;

	WD_TRY(active_slot_at(authority, now, &active, err));
	if (__builtin_add_overflow(now, ttl_seconds, &expires_at))
		return wd_error_set(err, WD_EINVAL, "JWT-SVID request: TTL %" PRId64
			" is out of range", ttl_seconds);
	if (expires_at > active->not_after)
		expires_at = active->not_after;

	claims = (struct jwtsvid_claims_in){
		.subject = spiffe_id,
		.audience = audience,
		.audience_count = audience_count,
		.issued_at = now,
		.expires_at = expires_at,
	};
	rc = jwtsvid_sign(active->jwt_key, active->jwt_kid, authority->config.jwt_rsa_alg,
		&claims, ret_token, err);
	if (rc < 0)
		return rc;
	*ret_expires_at = expires_at;
	return 0;
}

int authority_sign_jwt(struct authority *authority, const struct spiffe_id *spiffe_id,
	const char *const *audience, size_t audience_count, int64_t ttl_seconds, int64_t now,
	char **ret_token, int64_t *ret_expires_at, struct wd_error *err)
{
	char *token = NULL;
	int64_t expires_at = 0;
	int rc;

	*ret_token = NULL;
	*ret_expires_at = 0;
	WD_TRY(check_subject(authority, spiffe_id, err));
	WD_TRY(check_audience(audience, audience_count, err));
	if (ttl_seconds < 0)
		return wd_error_set(err, WD_EINVAL, "JWT-SVID request: TTL %" PRId64 " is negative",
			ttl_seconds);
	if (ttl_seconds == 0)
		ttl_seconds = authority->config.jwt_svid_ttl_seconds;

	pthread_mutex_lock(&authority->lock);
	rc = sign_jwt_locked(authority, spiffe_id, audience, audience_count, ttl_seconds, now,
		&token, &expires_at, err);
	pthread_mutex_unlock(&authority->lock);
	if (rc < 0)
		return rc;

	*ret_token = token;
	*ret_expires_at = expires_at;
	return 0;
}
