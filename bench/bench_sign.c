/* Measures in-process X.509-SVID signing: the bare certificate work
 * through the DER template (x509svid_issuer_issue_der: DER, serial, PEM),
 * with the subject's SubjectPublicKeyInfo DER and with only its EVP_PKEY,
 * and through the OpenSSL X509 API, d2i_X509 of an issued SVID, the full
 * authority_sign_x509 call that the server makes (which also records the
 * serial in SQLite) with SQLite's synchronous setting as store_open leaves
 * it (NORMAL) and with synchronous=FULL, the serial INSERT alone under both
 * settings, and two ways of putting the subject key into a certificate.
 * Prints one line per phase: "phase=NAME ops=N seconds=S rate=R
 * us_per_op=U". */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "bench_util.h"
#include "common/error.h"
#include "common/time.h"
#include "crypto/key.h"
#include "crypto/x509.h"
#include "identity/authority.h"
#include "identity/spiffe_id.h"
#include "identity/x509svid.h"
#include "store/store.h"

#define TRUST_DOMAIN "bench.example"
#define DEFAULT_SECONDS 5
#define DEFAULT_KEY_COUNT 1000
#define SPIFFE_ID_COUNT 16

struct options {
	unsigned long seconds;    /* per phase */
	unsigned long key_count;  /* subject public keys, used in turn */
	const char *only_phase;   /* NULL: every phase */
};

struct fixture {
	char *dir;                /* scratch directory, removed at exit */
	EVP_PKEY **public_keys;
	uint8_t **public_key_spkis;  /* the DER SubjectPublicKeyInfo of each key */
	size_t *public_key_spki_lens;
	size_t key_count;
	struct spiffe_id ids[SPIFFE_ID_COUNT];
};

struct phase_result {
	uint64_t ops;
	uint64_t elapsed_ns;
};

static void print_result(const char *phase, const struct phase_result *result)
{
	double seconds = (double)result->elapsed_ns / 1e9;
	double rate = seconds > 0 ? (double)result->ops / seconds : 0;
	double us_per_op = result->ops ? (double)result->elapsed_ns / 1e3 / (double)result->ops : 0;

	printf("phase=%s ops=%" PRIu64 " seconds=%.3f rate=%.1f us_per_op=%.2f\n", phase,
		result->ops, seconds, rate, us_per_op);
	fflush(stdout);
}

static void report_error(const char *what, int rc, const struct wd_error *err)
{
	fprintf(stderr, "bench_sign: %s failed: %s (%s)\n", what, wd_error_text(err),
		wd_error_name(rc));
}

/* Generates key_count EC P-256 keys and keeps only their public halves and
 * SubjectPublicKeyInfo DER, as the server gets them from CSRs. */
static int make_public_keys(struct fixture *fx, size_t key_count)
{
	struct wd_error err = { 0 };

	fx->public_keys = calloc(key_count, sizeof(fx->public_keys[0]));
	fx->public_key_spkis = calloc(key_count, sizeof(fx->public_key_spkis[0]));
	fx->public_key_spki_lens = calloc(key_count, sizeof(fx->public_key_spki_lens[0]));
	if (!fx->public_keys || !fx->public_key_spkis || !fx->public_key_spki_lens)
		return -1;
	for (size_t i = 0; i < key_count; i++) {
		EVP_PKEY *key = NULL;
		unsigned char *der = NULL;
		const unsigned char *cursor;
		int len;
		int rc = crypto_key_generate(CRYPTO_KEY_EC_P256, &key, &err);

		if (rc < 0) {
			report_error("generating a subject key", rc, &err);
			return -1;
		}
		len = i2d_PUBKEY(key, &der);
		EVP_PKEY_free(key);
		if (len <= 0)
			return -1;
		cursor = der;
		fx->public_keys[i] = d2i_PUBKEY(NULL, &cursor, len);
		fx->public_key_spkis[i] = der;
		fx->public_key_spki_lens[i] = (size_t)len;
		fx->key_count = i + 1;
		if (!fx->public_keys[i])
			return -1;
	}
	return 0;
}

static int make_ids(struct fixture *fx)
{
	struct wd_error err = { 0 };

	for (size_t i = 0; i < SPIFFE_ID_COUNT; i++) {
		char text[128];
		int n = snprintf(text, sizeof(text), "spiffe://" TRUST_DOMAIN "/bench/workload-%zu", i);
		int rc = spiffe_id_parse(text, (size_t)n, &fx->ids[i], &err);

		if (rc < 0) {
			report_error("parsing a SPIFFE ID", rc, &err);
			return -1;
		}
	}
	return 0;
}

static void fixture_clear(struct fixture *fx)
{
	for (size_t i = 0; i < fx->key_count; i++) {
		EVP_PKEY_free(fx->public_keys[i]);
		OPENSSL_free(fx->public_key_spkis[i]);
	}
	free(fx->public_keys);
	free(fx->public_key_spkis);
	free(fx->public_key_spki_lens);
	bench_tmpdir_remove(fx->dir);
	free(fx->dir);
}

/* The certificate work of authority_sign_x509 without the datastore: issue
 * with a CA of the same key type through an x509svid_issuer made once, as
 * the authority keeps one per CA, read the serial, encode PEM. */
/* Creates an EC P-256 CA for the bench trust domain and its issuer. */
static int make_issuer(EVP_PKEY **ret_key, X509 **ret_cert, struct x509svid_issuer **ret_issuer)
{
	struct wd_error err = { 0 };
	int rc;

	rc = crypto_key_generate(CRYPTO_KEY_EC_P256, ret_key, &err);
	if (rc == 0)
		rc = x509svid_ca_create(*ret_key, TRUST_DOMAIN, wd_now(), AUTHORITY_DEFAULT_CA_TTL,
			AUTHORITY_DEFAULT_BACKDATE, ret_cert, &err);
	if (rc == 0)
		rc = x509svid_issuer_new(*ret_cert, *ret_key, ret_issuer, &err);
	if (rc < 0)
		report_error("creating the CA", rc, &err);
	return rc;
}

/* The request for the i-th issuance, with the subject's SubjectPublicKeyInfo
 * DER as the server passes it from a CSR. */
static struct x509svid_request issue_request(const struct fixture *fx, uint64_t i)
{
	return (struct x509svid_request){
		.id = &fx->ids[i % SPIFFE_ID_COUNT],
		.public_key = fx->public_keys[i % fx->key_count],
		.public_key_spki = fx->public_key_spkis[i % fx->key_count],
		.public_key_spki_len = fx->public_key_spki_lens[i % fx->key_count],
		.now = wd_now(),
		.ttl_seconds = AUTHORITY_DEFAULT_X509_SVID_TTL,
		.backdate_seconds = AUTHORITY_DEFAULT_BACKDATE,
	};
}

/* One issuance through the OpenSSL X509 API, then the serial and PEM read
 * back from the X509 object, as authority_sign_x509 did before the DER
 * template. */
static int issue_openssl_once(struct x509svid_issuer *issuer,
	const struct x509svid_request *request)
{
	struct wd_error err = { 0 };
	char serial[AUTHORITY_SERIAL_HEX_SIZE];
	X509 *cert = NULL;
	char *pem = NULL;
	int rc;

	rc = x509svid_issuer_issue(issuer, request, &cert, &err);
	if (rc < 0) {
		report_error("x509svid_issuer_issue", rc, &err);
		return rc;
	}
	if (crypto_x509_serial_hex(cert, serial, sizeof(serial)) < 0 ||
	    crypto_x509_to_pem(cert, &pem) < 0) {
		fprintf(stderr, "bench_sign: encoding the SVID failed\n");
		rc = -1;
	}
	free(pem);
	X509_free(cert);
	return rc;
}

/* One issuance through the DER template: DER, PEM, serial and notAfter,
 * everything authority_sign_x509 returns. */
static int issue_der_once(struct x509svid_issuer *issuer, const struct x509svid_request *request)
{
	struct x509svid_issued issued = { 0 };
	struct wd_error err = { 0 };
	int rc;

	rc = x509svid_issuer_issue_der(issuer, request, &issued, &err);
	if (rc < 0) {
		report_error("x509svid_issuer_issue_der", rc, &err);
		return rc;
	}
	if (!issued.from_template) {
		fprintf(stderr, "bench_sign: the SVID did not take the DER template\n");
		rc = -1;
	}
	x509svid_issued_clear(&issued);
	return rc;
}

/* With without_spki, the DER path reads the subject point from the
 * EVP_PKEY, as for callers that have no SubjectPublicKeyInfo bytes. */
static int run_issue(const struct fixture *fx, bool openssl_api, bool without_spki,
	uint64_t duration_ns, struct phase_result *ret_result)
{
	struct x509svid_issuer *issuer = NULL;
	EVP_PKEY *ca_key = NULL;
	X509 *ca_cert = NULL;
	uint64_t start, deadline, ops = 0;
	int rc;

	rc = make_issuer(&ca_key, &ca_cert, &issuer);
	if (rc < 0)
		goto out;

	start = bench_now_ns();
	deadline = start + duration_ns;
	while (bench_now_ns() < deadline) {
		struct x509svid_request request = issue_request(fx, ops);

		if (without_spki) {
			request.public_key_spki = NULL;
			request.public_key_spki_len = 0;
		}
		rc = openssl_api ? issue_openssl_once(issuer, &request)
				 : issue_der_once(issuer, &request);
		if (rc < 0)
			goto out;
		ops++;
	}
	*ret_result = (struct phase_result){ .ops = ops, .elapsed_ns = bench_now_ns() - start };
	rc = 0;
out:
	x509svid_issuer_free(issuer);
	X509_free(ca_cert);
	EVP_PKEY_free(ca_key);
	return rc;
}

/* Times d2i_X509 of one issued SVID: what a caller of
 * authority_x509_svid_cert pays once per certificate. */
static int run_decode(const struct fixture *fx, uint64_t duration_ns,
	struct phase_result *ret_result)
{
	struct x509svid_issuer *issuer = NULL;
	struct x509svid_issued issued = { 0 };
	struct wd_error err = { 0 };
	struct x509svid_request request = issue_request(fx, 0);
	EVP_PKEY *ca_key = NULL;
	X509 *ca_cert = NULL;
	uint64_t start, deadline, ops = 0;
	int rc;

	rc = make_issuer(&ca_key, &ca_cert, &issuer);
	if (rc < 0)
		goto out;
	rc = x509svid_issuer_issue_der(issuer, &request, &issued, &err);
	if (rc < 0) {
		report_error("x509svid_issuer_issue_der", rc, &err);
		goto out;
	}

	start = bench_now_ns();
	deadline = start + duration_ns;
	while (bench_now_ns() < deadline) {
		const unsigned char *p = issued.der;
		X509 *cert = d2i_X509(NULL, &p, (long)issued.der_len);

		if (!cert) {
			fprintf(stderr, "bench_sign: decoding the SVID failed\n");
			rc = -1;
			goto out;
		}
		X509_free(cert);
		ops++;
	}
	*ret_result = (struct phase_result){ .ops = ops, .elapsed_ns = bench_now_ns() - start };
	rc = 0;
out:
	x509svid_issued_clear(&issued);
	x509svid_issuer_free(issuer);
	X509_free(ca_cert);
	EVP_PKEY_free(ca_key);
	return rc;
}

static int read_first_column(void *context, const struct store_row *row)
{
	const char *text = store_row_text(row, 0);

	snprintf(context, 32, "%s", text ? text : "");
	return 0;
}

/* Opens a fresh SQLite store in a new directory under fx->dir. With
 * synchronous set, switches the connection to that level; otherwise keeps
 * what store_open configured. Prints the level in effect. */
static int open_store(const struct fixture *fx, const char *name, const char *synchronous,
	char **ret_dir, struct store **ret_store)
{
	struct wd_error err = { 0 };
	struct store *store = NULL;
	char level[32] = "";
	char url[PATH_MAX];
	char *dir;
	int rc;

	*ret_dir = NULL;
	*ret_store = NULL;
	if (asprintf(&dir, "%s/%s", fx->dir, name) < 0)
		return -1;
	if (mkdir(dir, 0700) < 0 || snprintf(url, sizeof(url), "sqlite:%s/warden.db", dir) < 0) {
		fprintf(stderr, "bench_sign: creating \"%s\" failed\n", dir);
		free(dir);
		return -1;
	}
	rc = store_open(url, NULL, &store, &err);
	if (rc == 0 && synchronous) {
		char pragma[64];

		snprintf(pragma, sizeof(pragma), "PRAGMA synchronous = %s", synchronous);
		rc = store_exec(store, pragma, NULL, 0, NULL, &err);
	}
	if (rc == 0)
		rc = store_query(store, "PRAGMA synchronous", NULL, 0, read_first_column, level,
			&err);
	if (rc < 0) {
		report_error("opening the datastore", rc, &err);
		store_close(store);
		free(dir);
		return -1;
	}
	/* SQLite's levels: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA. */
	printf("store phase=%s synchronous=%s\n", name, level);
	*ret_dir = dir;
	*ret_store = store;
	return 0;
}

/* The full call the server makes for POST /v1/svid/x509. */
static int run_sign(const struct fixture *fx, const char *name, const char *synchronous,
	uint64_t duration_ns, struct phase_result *ret_result)
{
	struct authority_config config;
	struct authority *authority = NULL;
	struct store *store = NULL;
	struct wd_error err = { 0 };
	uint64_t start, deadline, ops = 0;
	char *dir = NULL;
	int rc;

	if (open_store(fx, name, synchronous, &dir, &store) < 0)
		return -1;
	authority_config_init(&config);
	config.trust_domain = TRUST_DOMAIN;
	config.data_dir = dir;
	config.ca_key_type = CRYPTO_KEY_EC_P256;
	rc = authority_open(&config, store, wd_now(), &authority, &err);
	if (rc < 0) {
		report_error("authority_open", rc, &err);
		goto out;
	}

	start = bench_now_ns();
	deadline = start + duration_ns;
	while (bench_now_ns() < deadline) {
		struct authority_x509_request request = {
			.spiffe_id = &fx->ids[ops % SPIFFE_ID_COUNT],
			.public_key = fx->public_keys[ops % fx->key_count],
			.public_key_spki = fx->public_key_spkis[ops % fx->key_count],
			.public_key_spki_len = fx->public_key_spki_lens[ops % fx->key_count],
			.entry_id = "bench-entry",
		};
		struct authority_x509_svid svid;

		rc = authority_sign_x509(authority, &request, wd_now(), &svid, &err);
		if (rc < 0) {
			report_error("authority_sign_x509", rc, &err);
			goto out;
		}
		authority_x509_svid_clear(&svid);
		ops++;
	}
	*ret_result = (struct phase_result){ .ops = ops, .elapsed_ns = bench_now_ns() - start };
	rc = 0;
out:
	authority_close(authority);
	store_close(store);
	free(dir);
	return rc;
}

/* The serial INSERT alone, into a table shaped like authority_serials
 * (same columns and indexes) in a fresh store, one autocommit per row as
 * authority_sign_x509 does. */
static int run_insert(const struct fixture *fx, const char *name, const char *synchronous,
	uint64_t duration_ns, struct phase_result *ret_result)
{
	static const char *const schema[] = {
		"CREATE TABLE bench_serials (serial TEXT PRIMARY KEY, spiffe_id TEXT NOT NULL,"
		" entry_id TEXT, slot_id INTEGER NOT NULL, issued_at INTEGER NOT NULL,"
		" not_after INTEGER NOT NULL, revoked_at INTEGER, reason TEXT)",
		"CREATE INDEX bench_serials_spiffe_id ON bench_serials (spiffe_id)",
		"CREATE INDEX bench_serials_entry_id ON bench_serials (entry_id)",
	};
	struct store *store = NULL;
	struct wd_error err = { 0 };
	uint64_t start, deadline, ops = 0;
	char *dir = NULL;
	int rc = 0;

	if (open_store(fx, name, synchronous, &dir, &store) < 0)
		return -1;
	for (size_t i = 0; i < WD_ARRAY_LEN(schema) && rc == 0; i++)
		rc = store_exec(store, schema[i], NULL, 0, NULL, &err);
	if (rc < 0) {
		report_error("creating the table", rc, &err);
		goto out;
	}

	start = bench_now_ns();
	deadline = start + duration_ns;
	while (bench_now_ns() < deadline) {
		unsigned char random[16];
		char serial[2 * sizeof(random) + 1];
		int64_t now = wd_now();

		/* Random serials, like the 128-bit ones the authority issues, so
		 * rows land at random places in the primary-key B-tree. */
		if (RAND_bytes(random, sizeof(random)) != 1) {
			fprintf(stderr, "bench_sign: RAND_bytes failed\n");
			rc = -1;
			goto out;
		}
		for (size_t i = 0; i < sizeof(random); i++)
			snprintf(serial + 2 * i, 3, "%02x", random[i]);

		struct store_value params[] = {
			STORE_TEXT_VALUE(serial),
			STORE_TEXT_VALUE("spiffe://" TRUST_DOMAIN "/bench/workload-0"),
			STORE_TEXT_VALUE("bench-entry"),
			STORE_INT_VALUE(1),
			STORE_INT_VALUE(now),
			STORE_INT_VALUE(now + AUTHORITY_DEFAULT_X509_SVID_TTL),
		};
		rc = store_exec(store,
			"INSERT INTO bench_serials (serial, spiffe_id, entry_id, slot_id, issued_at,"
			" not_after) VALUES ($1, $2, $3, $4, $5, $6)",
			params, WD_ARRAY_LEN(params), NULL, &err);
		if (rc < 0) {
			report_error("INSERT", rc, &err);
			goto out;
		}
		ops++;
	}
	*ret_result = (struct phase_result){ .ops = ops, .elapsed_ns = bench_now_ns() - start };
	rc = 0;
out:
	store_close(store);
	free(dir);
	return rc;
}

/* Sets the subject public key of cert from the key's curve and encoded
 * point, without OpenSSL 3.0's encoder round trip in X509_set_pubkey (which
 * encodes the key to DER and decodes it again). EC keys only. */
static int set_ec_pubkey_direct(X509 *cert, EVP_PKEY *key)
{
	unsigned char point[256];
	char group[64];
	unsigned char *encoded;
	size_t len = 0;
	int curve;

	if (!EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
		    sizeof(point), &len) ||
	    !EVP_PKEY_get_group_name(key, group, sizeof(group), NULL))
		return -1;
	curve = OBJ_txt2nid(group);
	if (curve == NID_undef || len > INT_MAX)
		return -1;
	encoded = OPENSSL_memdup(point, len);
	if (!encoded)
		return -1;
	if (!X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(cert),
		    OBJ_nid2obj(NID_X9_62_id_ecPublicKey), V_ASN1_OBJECT, OBJ_nid2obj(curve),
		    encoded, (int)len)) {
		OPENSSL_free(encoded);
		return -1;
	}
	return 0;
}

/* Checks once that the direct path writes the same SubjectPublicKeyInfo
 * DER as i2d_PUBKEY, so the two pubkey phases compare equal work. */
static int check_direct_pubkey(EVP_PKEY *key)
{
	unsigned char *expected = NULL;
	unsigned char *actual = NULL;
	X509 *cert = X509_new();
	int expected_len = i2d_PUBKEY(key, &expected);
	int actual_len = -1;
	int rc = -1;

	if (cert && set_ec_pubkey_direct(cert, key) == 0)
		actual_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &actual);
	if (expected_len > 0 && actual_len == expected_len &&
	    memcmp(expected, actual, (size_t)actual_len) == 0)
		rc = 0;
	else
		fprintf(stderr, "bench_sign: the direct SubjectPublicKeyInfo differs from "
			"i2d_PUBKEY\n");
	OPENSSL_free(expected);
	OPENSSL_free(actual);
	X509_free(cert);
	return rc;
}

/* X509_new, one way of setting the subject key, X509_free. */
static int run_pubkey(const struct fixture *fx, bool direct, uint64_t duration_ns,
	struct phase_result *ret_result)
{
	uint64_t start, deadline, ops = 0;

	if (direct && check_direct_pubkey(fx->public_keys[0]) < 0)
		return -1;
	start = bench_now_ns();
	deadline = start + duration_ns;
	while (bench_now_ns() < deadline) {
		EVP_PKEY *key = fx->public_keys[ops % fx->key_count];
		X509 *cert = X509_new();
		int ok = cert && (direct ? set_ec_pubkey_direct(cert, key) == 0
					 : X509_set_pubkey(cert, key) == 1);

		X509_free(cert);
		if (!ok) {
			fprintf(stderr, "bench_sign: setting the subject key failed\n");
			return -1;
		}
		ops++;
	}
	*ret_result = (struct phase_result){ .ops = ops, .elapsed_ns = bench_now_ns() - start };
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bench_sign [--seconds N] [--keys N] [--phase NAME]\n"
		"  --seconds N  duration of each phase in seconds (default %d)\n"
		"  --keys N     pre-generated subject public keys, used in turn (default %d)\n"
		"  --phase NAME run one phase: issue, issue-pkey, issue-openssl, decode,\n"
		"               sign-default, sign-full, insert-default, insert-full,\n"
		"               pubkey-set, pubkey-direct\n"
		"               (default: all)\n",
		DEFAULT_SECONDS, DEFAULT_KEY_COUNT);
}

static int parse_options(int argc, char **argv, struct options *ret_options)
{
	static const struct option long_options[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "keys", required_argument, NULL, 'k' },
		{ "phase", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct options options = {
		.seconds = DEFAULT_SECONDS,
		.key_count = DEFAULT_KEY_COUNT,
	};
	int c;

	while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (c) {
		case 's':
			if (bench_parse_uint("--seconds", optarg, 1, 3600, &options.seconds) < 0)
				return -1;
			break;
		case 'k':
			if (bench_parse_uint("--keys", optarg, 1, 1000000, &options.key_count) < 0)
				return -1;
			break;
		case 'p':
			options.only_phase = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "bench_sign: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return -1;
	}
	*ret_options = options;
	return 0;
}

static bool wanted(const struct options *options, const char *phase)
{
	return !options->only_phase || strcmp(options->only_phase, phase) == 0;
}

int main(int argc, char **argv)
{
	struct fixture fx = { 0 };
	struct options options;
	struct phase_result result;
	uint64_t duration_ns;
	int status = 1;

	if (parse_options(argc, argv, &options) < 0)
		return 2;
	duration_ns = options.seconds * 1000000000u;

	fx.dir = bench_tmpdir_create("warden-bench-sign");
	if (!fx.dir)
		goto out;
	if (make_ids(&fx) < 0 || make_public_keys(&fx, options.key_count) < 0) {
		fprintf(stderr, "bench_sign: preparing subject keys failed\n");
		goto out;
	}
	printf("setup keys=%zu seconds_per_phase=%lu\n", fx.key_count, options.seconds);

	if (wanted(&options, "issue")) {
		if (run_issue(&fx, false, false, duration_ns, &result) < 0)
			goto out;
		print_result("issue", &result);
	}
	if (wanted(&options, "issue-pkey")) {
		if (run_issue(&fx, false, true, duration_ns, &result) < 0)
			goto out;
		print_result("issue-pkey", &result);
	}
	if (wanted(&options, "issue-openssl")) {
		if (run_issue(&fx, true, false, duration_ns, &result) < 0)
			goto out;
		print_result("issue-openssl", &result);
	}
	if (wanted(&options, "decode")) {
		if (run_decode(&fx, duration_ns, &result) < 0)
			goto out;
		print_result("decode", &result);
	}
	if (wanted(&options, "sign-default")) {
		if (run_sign(&fx, "sign-default", NULL, duration_ns, &result) < 0)
			goto out;
		print_result("sign-default", &result);
	}
	if (wanted(&options, "sign-full")) {
		if (run_sign(&fx, "sign-full", "FULL", duration_ns, &result) < 0)
			goto out;
		print_result("sign-full", &result);
	}
	if (wanted(&options, "insert-default")) {
		if (run_insert(&fx, "insert-default", NULL, duration_ns, &result) < 0)
			goto out;
		print_result("insert-default", &result);
	}
	if (wanted(&options, "insert-full")) {
		if (run_insert(&fx, "insert-full", "FULL", duration_ns, &result) < 0)
			goto out;
		print_result("insert-full", &result);
	}
	if (wanted(&options, "pubkey-set")) {
		if (run_pubkey(&fx, false, duration_ns, &result) < 0)
			goto out;
		print_result("pubkey-set", &result);
	}
	if (wanted(&options, "pubkey-direct")) {
		if (run_pubkey(&fx, true, duration_ns, &result) < 0)
			goto out;
		print_result("pubkey-direct", &result);
	}
	status = 0;
out:
	fixture_clear(&fx);
	return status;
}
