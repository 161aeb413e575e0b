/* Certificates and certificate requests as the objects OPA returns: Go's
 * encoding/json of x509.Certificate (field names, Go's enum numbers, base64
 * bytes, RFC 3339 times), read with OpenSSL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/x509v3.h>

#include "common/encoding.h"
#include "common/error.h"
#include "policy/bi_crypto_x509.h"
#include "policy/bi_net_ip.h"

int x509_put(struct rv *obj, const char *key, struct rv *value)
{
	struct rv *k = rv_cstring(key);

	if (!k) {
		rv_unref(value);
		return WD_ENOMEM;
	}
	return rv_object_put(obj, k, value);
}

struct rv *x509_b64_value(const uint8_t *data, size_t len)
{
	char *text = NULL;
	struct rv *value;

	if (wd_base64_encode(data ? data : (const uint8_t *)"", len, &text) < 0)
		return NULL;
	value = rv_string_take(text, strlen(text));
	if (!value)
		free(text);
	return value;
}

static struct rv *bn_value(const BIGNUM *bn)
{
	char *dec = BN_bn2dec(bn);
	struct rv *value = dec ? rv_number_parse(dec, strlen(dec)) : NULL;

	OPENSSL_free(dec);
	return value;
}

static struct rv *oid_value(const ASN1_OBJECT *obj)
{
	char text[256];
	struct rv *arr = rv_array_new(8);
	const char *p = text;

	if (!arr || OBJ_obj2txt(text, sizeof(text), obj, 1) <= 0) {
		rv_unref(arr);
		return NULL;
	}
	while (*p) {
		char *end;
		long long arc = strtoll(p, &end, 10);

		if (end == p || rv_array_push(arr, rv_int(arc)) < 0) {
			rv_unref(arr);
			return NULL;
		}
		p = *end == '.' ? end + 1 : end;
	}
	return arr;
}

/* A DER encoding produced by an i2d function, as base64. */
#define I2D_B64(fn, obj)                                                                     \
	({                                                                                   \
		unsigned char *der_ = NULL;                                                  \
		int len_ = fn(obj, &der_);                                                   \
		struct rv *v_ = len_ > 0 ? x509_b64_value(der_, (size_t)len_) : NULL;        \
		OPENSSL_free(der_);                                                          \
		v_;                                                                          \
	})

/* ---- names ---- */

struct name_fields {
	const char *json;
	int nid;
};

static const struct name_fields name_lists[] = {
	{ "Country", NID_countryName },
	{ "Organization", NID_organizationName },
	{ "OrganizationalUnit", NID_organizationalUnitName },
	{ "Locality", NID_localityName },
	{ "Province", NID_stateOrProvinceName },
	{ "StreetAddress", NID_streetAddress },
	{ "PostalCode", NID_postalCode },
};

static struct rv *entry_text(const X509_NAME_ENTRY *entry)
{
	unsigned char *utf8 = NULL;
	int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
	struct rv *value = len >= 0 ? rv_string((const char *)utf8, (size_t)len) : NULL;

	OPENSSL_free(utf8);
	return value;
}

/* pkix.Name: the attribute lists, SerialNumber, CommonName (the last one
 * wins, as in Go), Names in order, and ExtraNames null. */
static struct rv *name_value(const X509_NAME *name)
{
	struct rv *obj = rv_object_new(12), *names = rv_array_new(8);
	struct rv *serial = NULL, *cn = NULL;
	int rc = 0;

	WD_ENSURE(obj && names, WD_ENOMEM);
	for (size_t f = 0; f < WD_ARRAY_LEN(name_lists); f++) {
		struct rv *list = NULL;

		for (int i = 0; i < X509_NAME_entry_count(name); i++) {
			const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);

			if (OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)) != name_lists[f].nid)
				continue;
			if (!list)
				WD_ENSURE(list = rv_array_new(2), WD_ENOMEM);
			if (rv_array_push(list, entry_text(e)) < 0) {
				rv_unref(list);
				rc = WD_ENOMEM;
				goto out;
			}
		}
		WD_GUARD(x509_put(obj, name_lists[f].json, list ? list : rv_null()));
	}

	for (int i = 0; i < X509_NAME_entry_count(name); i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
		int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
		struct rv *atv = rv_object_new(2);

		WD_ENSURE(atv, WD_ENOMEM);
		if (x509_put(atv, "Type", oid_value(X509_NAME_ENTRY_get_object(e))) < 0 ||
		    x509_put(atv, "Value", entry_text(e)) < 0 || rv_array_push(names, atv) < 0) {
			rv_unref(atv);
			rc = WD_ENOMEM;
			goto out;
		}
		if (nid == NID_commonName) {
			rv_unref(cn);
			cn = entry_text(e);
		} else if (nid == NID_serialNumber) {
			rv_unref(serial);
			serial = entry_text(e);
		}
	}
	WD_GUARD(x509_put(obj, "SerialNumber", serial ? WD_TAKE_PTR(serial) : rv_cstring("")));
	WD_GUARD(x509_put(obj, "CommonName", cn ? WD_TAKE_PTR(cn) : rv_cstring("")));
	WD_GUARD(x509_put(obj, "Names", WD_TAKE_PTR(names)));
	WD_GUARD(x509_put(obj, "ExtraNames", rv_null()));
out:
	rv_unref(serial);
	rv_unref(cn);
	rv_unref(names);
	if (rc < 0) {
		rv_unref(obj);
		return NULL;
	}
	return obj;
}

/* ---- small conversions ---- */

static struct rv *time_value(const ASN1_TIME *t)
{
	struct tm tm;
	char text[40];

	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return NULL;
	snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return rv_cstring(text);
}

/* Go's x509.SignatureAlgorithm numbers. */
static int64_t go_signature_algorithm(int nid)
{
	static const int nids[][2] = {
		{ NID_md2WithRSAEncryption, 1 }, { NID_md5WithRSAEncryption, 2 },
		{ NID_sha1WithRSAEncryption, 3 }, { NID_sha256WithRSAEncryption, 4 },
		{ NID_sha384WithRSAEncryption, 5 }, { NID_sha512WithRSAEncryption, 6 },
		{ NID_dsaWithSHA1, 7 }, { NID_dsa_with_SHA256, 8 }, { NID_ecdsa_with_SHA1, 9 },
		{ NID_ecdsa_with_SHA256, 10 }, { NID_ecdsa_with_SHA384, 11 },
		{ NID_ecdsa_with_SHA512, 12 }, { NID_rsassaPss, 13 }, { NID_ED25519, 16 },
	};

	for (size_t i = 0; i < WD_ARRAY_LEN(nids); i++)
		if (nids[i][0] == nid)
			return nids[i][1];
	return 0;
}

/* Go's x509.PublicKeyAlgorithm numbers. */
static int64_t go_public_key_algorithm(EVP_PKEY *pkey)
{
	if (!pkey)
		return 0;
	if (EVP_PKEY_is_a(pkey, "RSA") || EVP_PKEY_is_a(pkey, "RSA-PSS"))
		return 1;
	if (EVP_PKEY_is_a(pkey, "DSA"))
		return 2;
	if (EVP_PKEY_is_a(pkey, "EC"))
		return 3;
	if (EVP_PKEY_is_a(pkey, "ED25519"))
		return 4;
	return 0;
}

/* Go's x509.KeyUsage bits from OpenSSL's KU_* flags. */
static int64_t go_key_usage(uint32_t ku)
{
	static const uint32_t bits[] = {
		KU_DIGITAL_SIGNATURE, KU_NON_REPUDIATION, KU_KEY_ENCIPHERMENT,
		KU_DATA_ENCIPHERMENT, KU_KEY_AGREEMENT, KU_KEY_CERT_SIGN, KU_CRL_SIGN,
		KU_ENCIPHER_ONLY, KU_DECIPHER_ONLY,
	};
	int64_t usage = 0;

	if (ku == UINT32_MAX)
		return 0;
	for (size_t i = 0; i < WD_ARRAY_LEN(bits); i++)
		if (ku & bits[i])
			usage |= (int64_t)1 << i;
	return usage;
}

/* ExtKeyUsage (Go's numbers) and UnknownExtKeyUsage (OIDs). */
static int ext_key_usage(X509 *cert, struct rv *obj)
{
	static const int nids[] = {
		NID_anyExtendedKeyUsage, NID_server_auth, NID_client_auth, NID_code_sign,
		NID_email_protect, NID_ipsecEndSystem, NID_ipsecTunnel, NID_ipsecUser,
		NID_time_stamp, NID_OCSP_sign, NID_ms_sgc, NID_ns_sgc, NID_ms_code_com,
	};
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(cert, NID_ext_key_usage, NULL, NULL);
	struct rv *known = NULL, *unknown = NULL;
	int rc = 0;

	for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku); i++) {
		const ASN1_OBJECT *oid = sk_ASN1_OBJECT_value(eku, i);
		int nid = OBJ_obj2nid(oid);
		size_t k = 0;

		while (k < WD_ARRAY_LEN(nids) && nids[k] != nid)
			k++;
		if (k < WD_ARRAY_LEN(nids)) {
			if (!known)
				WD_ENSURE(known = rv_array_new(2), WD_ENOMEM);
			WD_GUARD(rv_array_push(known, rv_int((int64_t)k)));
		} else {
			if (!unknown)
				WD_ENSURE(unknown = rv_array_new(2), WD_ENOMEM);
			WD_GUARD(rv_array_push(unknown, oid_value(oid)));
		}
	}
	WD_GUARD(x509_put(obj, "ExtKeyUsage", known ? WD_TAKE_PTR(known) : rv_null()));
	WD_GUARD(x509_put(obj, "UnknownExtKeyUsage", unknown ? WD_TAKE_PTR(unknown) : rv_null()));
out:
	rv_unref(known);
	rv_unref(unknown);
	EXTENDED_KEY_USAGE_free(eku);
	return rc;
}

/* url.URL's JSON for a URI SAN, split per RFC 3986 section 3. */
static struct rv *url_value(const char *uri, size_t len)
{
	static const char *const names[] = {
		"Scheme", "Opaque", "Host", "Path", "RawPath", "RawQuery", "Fragment",
		"RawFragment",
	};
	const char *parts[8] = { "", "", "", "", "", "", "", "" };
	size_t lens[8] = { 0 };
	const char *p = uri, *end = uri + len, *hash, *q, *colon;
	struct rv *obj = rv_object_new(12);

	if (!obj)
		return NULL;
	hash = memchr(p, '#', len);
	if (hash) {
		parts[6] = hash + 1, lens[6] = (size_t)(end - hash - 1);
		end = hash;
	}
	q = memchr(p, '?', (size_t)(end - p));
	if (q) {
		parts[5] = q + 1, lens[5] = (size_t)(end - q - 1);
		end = q;
	}
	colon = memchr(p, ':', (size_t)(end - p));
	if (colon && colon > p && !memchr(p, '/', (size_t)(colon - p))) {
		parts[0] = p, lens[0] = (size_t)(colon - p);
		p = colon + 1;
	}
	if (end - p >= 2 && p[0] == '/' && p[1] == '/') {
		const char *slash = memchr(p + 2, '/', (size_t)(end - p - 2));
		const char *host_end = slash ? slash : end;

		parts[2] = p + 2, lens[2] = (size_t)(host_end - p - 2);
		p = host_end;
	} else if (lens[0] && p < end && *p != '/') {
		parts[1] = p, lens[1] = (size_t)(end - p);
		p = end;
	}
	parts[3] = p, lens[3] = (size_t)(end - p);

	for (size_t i = 0; i < WD_ARRAY_LEN(names); i++) {
		if (x509_put(obj, names[i], rv_string(parts[i], lens[i])) < 0)
			goto fail;
		if (i == 1 && x509_put(obj, "User", rv_null()) < 0)
			goto fail;
	}
	if (x509_put(obj, "OmitHost", rv_bool(false)) < 0 ||
	    x509_put(obj, "ForceQuery", rv_bool(false)) < 0)
		goto fail;
	return obj;
fail:
	rv_unref(obj);
	return NULL;
}

/* Appends to *list (created on first use) and returns 0. */
static int list_push(struct rv **list, struct rv *item)
{
	if (!*list && !(*list = rv_array_new(2))) {
		rv_unref(item);
		return WD_ENOMEM;
	}
	return rv_array_push(*list, item);
}

/* DNSNames, EmailAddresses, IPAddresses, URIs and OPA's URIStrings from a
 * subjectAltName extension. */
static int alt_names(GENERAL_NAMES *sans, struct rv *obj, bool with_uri_strings)
{
	struct rv *dns = NULL, *email = NULL, *ips = NULL, *uris = NULL, *uri_strings = NULL;
	int rc = 0;

	for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);
		const ASN1_STRING *s;

		switch (gn->type) {
		case GEN_DNS:
			s = gn->d.dNSName;
			WD_GUARD(list_push(&dns, rv_string((const char *)ASN1_STRING_get0_data(s),
							   (size_t)ASN1_STRING_length(s))));
			break;
		case GEN_EMAIL:
			s = gn->d.rfc822Name;
			WD_GUARD(list_push(&email,
					   rv_string((const char *)ASN1_STRING_get0_data(s),
						     (size_t)ASN1_STRING_length(s))));
			break;
		case GEN_URI: {
			const char *text;
			size_t len;

			s = gn->d.uniformResourceIdentifier;
			text = (const char *)ASN1_STRING_get0_data(s);
			len = (size_t)ASN1_STRING_length(s);
			WD_GUARD(list_push(&uris, url_value(text, len)));
			WD_GUARD(list_push(&uri_strings, rv_string(text, len)));
			break;
		}
		case GEN_IPADD: {
			struct net_addr addr = { { 0 }, false };
			char text[NET_TEXT_MAX];

			s = gn->d.iPAddress;
			if (ASN1_STRING_length(s) == 4) {
				memcpy(addr.b, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
				memcpy(addr.b + 12, ASN1_STRING_get0_data(s), 4);
				addr.v4 = true;
			} else if (ASN1_STRING_length(s) == 16) {
				memcpy(addr.b, ASN1_STRING_get0_data(s), 16);
			} else {
				break;
			}
			net_format_ip(&addr, text);
			WD_GUARD(list_push(&ips, rv_cstring(text)));
			break;
		}
		default:
			break;
		}
	}
	WD_GUARD(x509_put(obj, "DNSNames", dns ? WD_TAKE_PTR(dns) : rv_null()));
	WD_GUARD(x509_put(obj, "EmailAddresses", email ? WD_TAKE_PTR(email) : rv_null()));
	WD_GUARD(x509_put(obj, "IPAddresses", ips ? WD_TAKE_PTR(ips) : rv_null()));
	WD_GUARD(x509_put(obj, "URIs", uris ? WD_TAKE_PTR(uris) : rv_null()));
	if (with_uri_strings)
		WD_GUARD(x509_put(obj, "URIStrings",
				  uri_strings ? WD_TAKE_PTR(uri_strings) : rv_null()));
out:
	rv_unref(dns);
	rv_unref(email);
	rv_unref(ips);
	rv_unref(uris);
	rv_unref(uri_strings);
	return rc;
}

static struct rv *extension_value(X509_EXTENSION *ext)
{
	struct rv *obj = rv_object_new(3);
	const ASN1_OCTET_STRING *data = X509_EXTENSION_get_data(ext);

	if (!obj || x509_put(obj, "Id", oid_value(X509_EXTENSION_get_object(ext))) < 0 ||
	    x509_put(obj, "Critical", rv_bool(X509_EXTENSION_get_critical(ext) > 0)) < 0 ||
	    x509_put(obj, "Value", x509_b64_value(ASN1_STRING_get0_data(data),
						   (size_t)ASN1_STRING_length(data))) < 0) {
		rv_unref(obj);
		return NULL;
	}
	return obj;
}

/* Access locations of one kind (OCSP or CA issuers) in authorityInfoAccess. */
static struct rv *aia_list(X509 *cert, int method)
{
	AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(cert, NID_info_access, NULL, NULL);
	struct rv *list = NULL;

	for (int i = 0; aia && i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
		ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
		const ASN1_STRING *s;

		if (OBJ_obj2nid(ad->method) != method || ad->location->type != GEN_URI)
			continue;
		s = ad->location->d.uniformResourceIdentifier;
		if (list_push(&list, rv_string((const char *)ASN1_STRING_get0_data(s),
					       (size_t)ASN1_STRING_length(s))) < 0) {
			rv_unref(list);
			list = NULL;
			break;
		}
	}
	AUTHORITY_INFO_ACCESS_free(aia);
	return list ? list : rv_null();
}

static struct rv *crl_points(X509 *cert)
{
	CRL_DIST_POINTS *points = X509_get_ext_d2i(cert, NID_crl_distribution_points, NULL, NULL);
	struct rv *list = NULL;

	for (int i = 0; points && i < sk_DIST_POINT_num(points); i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(points, i);

		if (!dp->distpoint || dp->distpoint->type != 0)
			continue;
		for (int j = 0; j < sk_GENERAL_NAME_num(dp->distpoint->name.fullname); j++) {
			GENERAL_NAME *gn = sk_GENERAL_NAME_value(dp->distpoint->name.fullname, j);
			const ASN1_STRING *s;

			if (gn->type != GEN_URI)
				continue;
			s = gn->d.uniformResourceIdentifier;
			if (list_push(&list, rv_string((const char *)ASN1_STRING_get0_data(s),
						       (size_t)ASN1_STRING_length(s))) < 0) {
				rv_unref(list);
				list = NULL;
				goto out;
			}
		}
	}
out:
	CRL_DIST_POINTS_free(points);
	return list ? list : rv_null();
}

static struct rv *octets_or_null(const ASN1_OCTET_STRING *s)
{
	if (!s)
		return rv_null();
	return x509_b64_value(ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
}

/* The fields Go always writes as null, false or 0 for a parsed certificate
 * whose constraints this builder does not decode. */
static int put_defaults(struct rv *obj)
{
	static const char *const nulls[] = {
		"ExtraExtensions", "UnhandledCriticalExtensions", "PermittedDNSDomains",
		"ExcludedDNSDomains", "PermittedIPRanges", "ExcludedIPRanges",
		"PermittedEmailAddresses", "ExcludedEmailAddresses", "PermittedURIDomains",
		"ExcludedURIDomains", "PolicyMappings",
	};
	static const char *const falses[] = {
		"PermittedDNSDomainsCritical", "InhibitAnyPolicyZero", "InhibitPolicyMappingZero",
		"RequireExplicitPolicyZero",
	};
	static const char *const zeros[] = {
		"InhibitAnyPolicy", "InhibitPolicyMapping", "RequireExplicitPolicy",
	};

	for (size_t i = 0; i < WD_ARRAY_LEN(nulls); i++)
		WD_TRY(x509_put(obj, nulls[i], rv_null()));
	for (size_t i = 0; i < WD_ARRAY_LEN(falses); i++)
		WD_TRY(x509_put(obj, falses[i], rv_bool(false)));
	for (size_t i = 0; i < WD_ARRAY_LEN(zeros); i++)
		WD_TRY(x509_put(obj, zeros[i], rv_int(0)));
	return 0;
}

/* The certificate policies, as PolicyIdentifiers (arrays of OID arcs) and
 * Policies (Go's x509.OID, which marshals as dotted text). */
static int put_policies(X509 *cert, struct rv *obj)
{
	CERTIFICATEPOLICIES *policies = X509_get_ext_d2i(cert, NID_certificate_policies, NULL,
							NULL);
	struct rv *ids = NULL, *texts = NULL;
	int rc = 0;

	for (int i = 0; policies && i < sk_POLICYINFO_num(policies); i++) {
		const ASN1_OBJECT *oid = sk_POLICYINFO_value(policies, i)->policyid;
		char text[256];

		WD_GUARD(list_push(&ids, oid_value(oid)));
		WD_ENSURE(OBJ_obj2txt(text, sizeof(text), oid, 1) > 0, WD_EINVAL);
		WD_GUARD(list_push(&texts, rv_cstring(text)));
	}
	WD_GUARD(x509_put(obj, "PolicyIdentifiers", ids ? WD_TAKE_PTR(ids) : rv_null()));
	WD_GUARD(x509_put(obj, "Policies", texts ? WD_TAKE_PTR(texts) : rv_null()));
out:
	rv_unref(ids);
	rv_unref(texts);
	CERTIFICATEPOLICIES_free(policies);
	return rc;
}

/* The TBSCertificate inside a certificate's DER: the first element of the
 * outer SEQUENCE (RFC 5280 section 4.1). */
static struct rv *tbs_value(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	long inner_len;
	int tag, xclass;
	const unsigned char *tbs;

	if (ASN1_get_object(&p, &inner_len, &tag, &xclass, (long)len) & 0x80)
		return NULL;
	tbs = p;
	if (ASN1_get_object(&p, &inner_len, &tag, &xclass, (long)(len - (size_t)(p - der))) & 0x80)
		return NULL;
	return x509_b64_value(tbs, (size_t)(p - tbs) + (size_t)inner_len);
}

int x509_cert_value(X509 *cert, bool with_uri_strings, struct rv **ret)
{
	struct rv *obj = rv_object_new(64);
	unsigned char *der = NULL;
	int der_len = i2d_X509(cert, &der);
	const ASN1_BIT_STRING *sig = NULL;
	const X509_ALGOR *sig_alg = NULL;
	EVP_PKEY *pkey = X509_get0_pubkey(cert);
	BIGNUM *serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	GENERAL_NAMES *sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	uint32_t flags = X509_get_extension_flags(cert);
	long pathlen = X509_get_pathlen(cert);
	struct rv *key = NULL, *exts = NULL;
	int rc;

	WD_ENSURE(obj && der_len > 0 && serial, WD_ENOMEM);
	X509_get0_signature(&sig, &sig_alg, cert);

	WD_GUARD(x509_put(obj, "Raw", x509_b64_value(der, (size_t)der_len)));
	WD_GUARD(x509_put(obj, "RawTBSCertificate", tbs_value(der, (size_t)der_len)));
	WD_GUARD(x509_put(obj, "RawSubjectPublicKeyInfo",
			  I2D_B64(i2d_X509_PUBKEY, X509_get_X509_PUBKEY(cert))));
	WD_GUARD(x509_put(obj, "RawSubject", I2D_B64(i2d_X509_NAME, X509_get_subject_name(cert))));
	WD_GUARD(x509_put(obj, "RawIssuer", I2D_B64(i2d_X509_NAME, X509_get_issuer_name(cert))));
	WD_GUARD(x509_put(obj, "Signature", x509_b64_value(sig->data, (size_t)sig->length)));
	WD_GUARD(x509_put(obj, "SignatureAlgorithm",
			  rv_int(go_signature_algorithm(X509_get_signature_nid(cert)))));
	WD_GUARD(x509_put(obj, "PublicKeyAlgorithm", rv_int(go_public_key_algorithm(pkey))));
	if (pkey)
		WD_GUARD(x509_key_value(pkey, false, &key));
	WD_GUARD(x509_put(obj, "PublicKey", key ? WD_TAKE_PTR(key) : rv_null()));
	WD_GUARD(x509_put(obj, "Version", rv_int(X509_get_version(cert) + 1)));
	WD_GUARD(x509_put(obj, "SerialNumber", bn_value(serial)));
	WD_GUARD(x509_put(obj, "Issuer", name_value(X509_get_issuer_name(cert))));
	WD_GUARD(x509_put(obj, "Subject", name_value(X509_get_subject_name(cert))));
	WD_GUARD(x509_put(obj, "NotBefore", time_value(X509_get0_notBefore(cert))));
	WD_GUARD(x509_put(obj, "NotAfter", time_value(X509_get0_notAfter(cert))));
	WD_GUARD(x509_put(obj, "KeyUsage", rv_int(go_key_usage(X509_get_key_usage(cert)))));

	exts = rv_array_new((size_t)X509_get_ext_count(cert));
	WD_ENSURE(exts, WD_ENOMEM);
	for (int i = 0; i < X509_get_ext_count(cert); i++)
		WD_GUARD(rv_array_push(exts, extension_value(X509_get_ext(cert, i))));
	WD_GUARD(x509_put(obj, "Extensions", WD_TAKE_PTR(exts)));
	WD_GUARD(ext_key_usage(cert, obj));

	/* Go: MaxPathLen is -1 for a CA without pathLenConstraint, 0 when there
	 * are no basic constraints. */
	WD_GUARD(x509_put(obj, "BasicConstraintsValid", rv_bool(flags & EXFLAG_BCONS)));
	WD_GUARD(x509_put(obj, "IsCA", rv_bool(flags & EXFLAG_CA)));
	if (!(flags & EXFLAG_BCONS))
		pathlen = 0;
	else if (pathlen < 0)
		pathlen = -1;
	WD_GUARD(x509_put(obj, "MaxPathLen", rv_int(pathlen)));
	WD_GUARD(x509_put(obj, "MaxPathLenZero",
			  rv_bool((flags & EXFLAG_BCONS) && pathlen == 0)));
	WD_GUARD(x509_put(obj, "SubjectKeyId", octets_or_null(X509_get0_subject_key_id(cert))));
	WD_GUARD(x509_put(obj, "AuthorityKeyId",
			  octets_or_null(X509_get0_authority_key_id(cert))));
	WD_GUARD(x509_put(obj, "OCSPServer", aia_list(cert, NID_ad_OCSP)));
	WD_GUARD(x509_put(obj, "IssuingCertificateURL", aia_list(cert, NID_ad_ca_issuers)));
	WD_GUARD(alt_names(sans, obj, with_uri_strings));
	WD_GUARD(x509_put(obj, "CRLDistributionPoints", crl_points(cert)));
	WD_GUARD(put_policies(cert, obj));
	WD_GUARD(put_defaults(obj));

	*ret = WD_TAKE_PTR(obj);
	rc = 0;
out:
	rv_unref(obj);
	rv_unref(key);
	rv_unref(exts);
	OPENSSL_free(der);
	BN_free(serial);
	GENERAL_NAMES_free(sans);
	return rc;
}

int x509_csr_value(X509_REQ *req, struct rv **ret)
{
	struct rv *obj = rv_object_new(20), *key = NULL, *exts = NULL;
	unsigned char *der = NULL;
	int der_len = i2d_X509_REQ(req, &der);
	const ASN1_BIT_STRING *sig = NULL;
	const X509_ALGOR *sig_alg = NULL;
	EVP_PKEY *pkey = X509_REQ_get0_pubkey(req);
	STACK_OF(X509_EXTENSION) *ext_list = X509_REQ_get_extensions(req);
	GENERAL_NAMES *sans = NULL;
	int rc;

	WD_ENSURE(obj && der_len > 0, WD_ENOMEM);
	X509_REQ_get0_signature(req, &sig, &sig_alg);
	WD_GUARD(x509_put(obj, "Raw", x509_b64_value(der, (size_t)der_len)));
	WD_GUARD(x509_put(obj, "RawTBSCertificateRequest", tbs_value(der, (size_t)der_len)));
	WD_GUARD(x509_put(obj, "RawSubjectPublicKeyInfo",
			  I2D_B64(i2d_X509_PUBKEY, X509_REQ_get_X509_PUBKEY(req))));
	WD_GUARD(x509_put(obj, "RawSubject",
			  I2D_B64(i2d_X509_NAME, X509_REQ_get_subject_name(req))));
	WD_GUARD(x509_put(obj, "Version", rv_int(X509_REQ_get_version(req))));
	WD_GUARD(x509_put(obj, "Signature", x509_b64_value(sig->data, (size_t)sig->length)));
	WD_GUARD(x509_put(obj, "SignatureAlgorithm",
			  rv_int(go_signature_algorithm(X509_REQ_get_signature_nid(req)))));
	WD_GUARD(x509_put(obj, "PublicKeyAlgorithm", rv_int(go_public_key_algorithm(pkey))));
	if (pkey)
		WD_GUARD(x509_key_value(pkey, false, &key));
	WD_GUARD(x509_put(obj, "PublicKey", key ? WD_TAKE_PTR(key) : rv_null()));
	WD_GUARD(x509_put(obj, "Subject", name_value(X509_REQ_get_subject_name(req))));
	WD_GUARD(x509_put(obj, "Attributes", rv_null()));

	exts = rv_array_new(4);
	WD_ENSURE(exts, WD_ENOMEM);
	for (int i = 0; ext_list && i < sk_X509_EXTENSION_num(ext_list); i++) {
		X509_EXTENSION *ext = sk_X509_EXTENSION_value(ext_list, i);

		WD_GUARD(rv_array_push(exts, extension_value(ext)));
		if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) == NID_subject_alt_name && !sans)
			sans = X509V3_EXT_d2i(ext);
	}
	WD_GUARD(x509_put(obj, "Extensions", rv_array_len(exts) ? WD_TAKE_PTR(exts) : rv_null()));
	WD_GUARD(x509_put(obj, "ExtraExtensions", rv_null()));
	WD_GUARD(alt_names(sans, obj, false));

	*ret = WD_TAKE_PTR(obj);
	rc = 0;
out:
	rv_unref(obj);
	rv_unref(key);
	rv_unref(exts);
	OPENSSL_free(der);
	sk_X509_EXTENSION_pop_free(ext_list, X509_EXTENSION_free);
	GENERAL_NAMES_free(sans);
	return rc;
}
