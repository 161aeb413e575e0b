/* File mode: the SVID, its key, the bundle and CRLs read from PEM files,
 * and a thread that rebuilds the snapshot when any of the files changes. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/alloc.h"
#include "common/file.h"
#include "common/log.h"
#include "crypto/key.h"
#include "crypto/x509.h"
#include "identity/x509svid.h"
#include "proxy/identity_internal.h"

/* CA certificates one bundle file may hold, across trust domains. */
#define BUNDLE_MAX_CERTS 1024

/* Trust domain of a bundle CA from its URI SAN "spiffe://td", or the
 * fallback when it has none (as CAs from outside SPIFFE often do). */
static void ca_trust_domain(X509 *ca, const char *fallback,
	char ret_name[static SPIFFE_TRUST_DOMAIN_MAX_LEN + 1])
{
	struct spiffe_id id;

	if (x509svid_spiffe_id(ca, &id, NULL) == 0)
		snprintf(ret_name, SPIFFE_TRUST_DOMAIN_MAX_LEN + 1, "%s", id.trust_domain);
	else
		snprintf(ret_name, SPIFFE_TRUST_DOMAIN_MAX_LEN + 1, "%s", fallback);
}

/* Groups the bundle's CAs by trust domain into inputs (at most
 * IDENTITY_MAX_TRUST_DOMAINS, names in names). */
struct grouped_bundle {
	char names[IDENTITY_MAX_TRUST_DOMAINS][SPIFFE_TRUST_DOMAIN_MAX_LEN + 1];
	struct identity_bundle_input inputs[IDENTITY_MAX_TRUST_DOMAINS];
	size_t count;
};

static void grouped_clear(struct grouped_bundle *grouped)
{
	for (size_t i = 0; i < grouped->count; i++)
		sk_X509_free(grouped->inputs[i].authorities);
	grouped->count = 0;
}

static int group_bundle(STACK_OF(X509) *cas, const char *own_domain,
	struct grouped_bundle *grouped, const char *path, struct wd_error *err)
{
	for (int i = 0; i < sk_X509_num(cas); i++) {
		X509 *ca = sk_X509_value(cas, i);
		char name[SPIFFE_TRUST_DOMAIN_MAX_LEN + 1];
		size_t slot = 0;

		ca_trust_domain(ca, own_domain, name);
		while (slot < grouped->count && strcmp(grouped->names[slot], name) != 0)
			slot++;
		if (slot == grouped->count) {
			if (slot == IDENTITY_MAX_TRUST_DOMAINS)
				return wd_error_set(err, WD_ETOOBIG,
					"%s: more than %d trust domains", path,
					IDENTITY_MAX_TRUST_DOMAINS);
			grouped->inputs[slot].authorities = sk_X509_new_null();
			if (!grouped->inputs[slot].authorities)
				return wd_error_set(err, WD_ENOMEM, "out of memory reading %s", path);
			snprintf(grouped->names[slot], sizeof(grouped->names[slot]), "%s", name);
			grouped->inputs[slot].trust_domain = grouped->names[slot];
			grouped->count++;
		}
		if (!sk_X509_push(grouped->inputs[slot].authorities, ca))
			return wd_error_set(err, WD_ENOMEM, "out of memory reading %s", path);
	}
	return 0;
}

/* Adds the path to err's detail. A file that is missing or unreadable is
 * WD_EIO, as proxy_identity_source_start promises. */
static int name_file(int rc, const char *path, struct wd_error *err)
{
	char detail[sizeof(err->detail)];

	if (rc == WD_ENOTFOUND || rc == WD_EPERM)
		rc = WD_EIO;
	if (!err)
		return rc;
	snprintf(detail, sizeof(detail), "%s", wd_error_text(err));
	if (strstr(detail, path))
		return wd_error_set(err, rc, "%s", detail);
	return wd_error_set(err, rc, "%s: %s", path, detail);
}

static int read_chain(const char *path, size_t max_count, STACK_OF(X509) **ret_chain,
	struct wd_error *err)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int rc;

	rc = wd_file_read(path, IDENTITY_MAX_FILE_BYTES, &data, &len, err);
	if (rc == 0)
		rc = crypto_x509_chain_from_pem((const char *)data, len, max_count, ret_chain, err);
	free(data);
	return rc < 0 ? name_file(rc, path, err) : 0;
}

static int read_key(const char *path, EVP_PKEY **ret_key, struct wd_error *err)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int rc;

	rc = wd_file_read(path, IDENTITY_MAX_FILE_BYTES, &data, &len, err);
	if (rc == 0)
		rc = crypto_key_from_pem((const char *)data, len, ret_key, err);
	wd_free_secret(data, len);
	return rc < 0 ? name_file(rc, path, err) : 0;
}

static int read_crls(const char *path, STACK_OF(X509_CRL) **ret_crls, struct wd_error *err)
{
	STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
	uint8_t *data = NULL;
	size_t len = 0;
	int rc;

	*ret_crls = NULL;
	WD_ENSURE(crls, wd_error_set(err, WD_ENOMEM, "out of memory reading %s", path));
	rc = wd_file_read(path, IDENTITY_MAX_FILE_BYTES, &data, &len, err);
	WD_ENSURE(rc == 0, name_file(rc, path, err));
	WD_GUARD(identity_parse_crls(data, len, path, crls, err));
	*ret_crls = WD_TAKE_PTR(crls);
	rc = 0;
out:
	free(data);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	return rc;
}

int proxy_identity_load_files(const struct proxy_identity_config *config,
	struct proxy_identity **ret_identity, struct wd_error *err)
{
	struct grouped_bundle *grouped = NULL;
	STACK_OF(X509) *chain = NULL;
	STACK_OF(X509) *cas = NULL;
	STACK_OF(X509_CRL) *crls = NULL;
	EVP_PKEY *key = NULL;
	struct spiffe_id own;
	struct identity_input input = { 0 };
	int rc;

	*ret_identity = NULL;
	WD_ENSURE(config && config->cert_path && config->key_path && config->bundle_path,
		wd_error_set(err, WD_ECONFIG, "the certificate, key and bundle paths are required"));
	WD_GUARD(read_chain(config->cert_path, IDENTITY_MAX_CHAIN, &chain, err));
	WD_GUARD(read_key(config->key_path, &key, err));
	WD_GUARD(read_chain(config->bundle_path, BUNDLE_MAX_CERTS, &cas, err));
	if (config->crl_path && config->crl_path[0])
		WD_GUARD(read_crls(config->crl_path, &crls, err));

	rc = x509svid_spiffe_id(sk_X509_value(chain, 0), &own, err);
	if (rc < 0) {
		rc = name_file(rc, config->cert_path, err);
		goto out;
	}
	grouped = calloc(1, sizeof(*grouped));
	WD_ENSURE(grouped, wd_error_set(err, WD_ENOMEM, "out of memory reading %s",
		config->bundle_path));
	WD_GUARD(group_bundle(cas, own.trust_domain, grouped, config->bundle_path, err));

	input.chain = chain;
	input.key = key;
	input.bundles = grouped->inputs;
	input.bundle_count = grouped->count;
	input.crls = crls;
	rc = identity_build(&input, ret_identity, err);
	if (rc < 0)
		rc = name_file(rc, config->cert_path, err);
out:
	if (grouped)
		grouped_clear(grouped);
	free(grouped);
	EVP_PKEY_free(key);
	sk_X509_pop_free(chain, X509_free);
	sk_X509_pop_free(cas, X509_free);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	return rc;
}

/* --- the watching thread --- */

/* The stat(2) fields of one file. A change in any of them means the file
 * was rewritten or replaced, because a rename over it changes the inode. */
struct file_stamp {
	bool present;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

#define WATCHED_FILES 4

static void stamp_files(const struct proxy_identity_source *source,
	struct file_stamp stamps[static WATCHED_FILES])
{
	const char *const paths[WATCHED_FILES] = { source->cert_path, source->key_path,
		source->bundle_path, source->crl_path };

	for (size_t i = 0; i < WATCHED_FILES; i++) {
		struct stat st;

		memset(&stamps[i], 0, sizeof(stamps[i]));
		if (!paths[i] || stat(paths[i], &st) != 0)
			continue;
		stamps[i].present = true;
		stamps[i].dev = st.st_dev;
		stamps[i].ino = st.st_ino;
		stamps[i].size = st.st_size;
		stamps[i].mtime = st.st_mtim;
	}
}

static bool stamps_equal(const struct file_stamp *a, const struct file_stamp *b)
{
	for (size_t i = 0; i < WATCHED_FILES; i++) {
		if (a[i].present != b[i].present || a[i].dev != b[i].dev || a[i].ino != b[i].ino ||
			a[i].size != b[i].size || a[i].mtime.tv_sec != b[i].mtime.tv_sec ||
			a[i].mtime.tv_nsec != b[i].mtime.tv_nsec)
			return false;
	}
	return true;
}

static void source_config(const struct proxy_identity_source *source,
	struct proxy_identity_config *ret_config)
{
	memset(ret_config, 0, sizeof(*ret_config));
	ret_config->cert_path = source->cert_path;
	ret_config->key_path = source->key_path;
	ret_config->bundle_path = source->bundle_path;
	ret_config->crl_path = source->crl_path;
}

static void *watch_files(void *arg)
{
	struct proxy_identity_source *source = arg;
	struct file_stamp loaded[WATCHED_FILES];
	struct file_stamp attempted[WATCHED_FILES];
	struct proxy_identity_config config;
	char last_warning[sizeof(((struct wd_error *)0)->detail)] = "";

	/* The stamps taken before the first load, so a change made while it
	 * ran is seen at the first tick. */
	memcpy(loaded, source->mode_state, sizeof(loaded));
	free(source->mode_state);
	source->mode_state = NULL;
	memcpy(attempted, loaded, sizeof(attempted));
	source_config(source, &config);

	while (!identity_source_wait(source, source->reload_interval_ms)) {
		struct file_stamp now[WATCHED_FILES];
		struct proxy_identity *identity = NULL;
		struct wd_error err = { 0 };
		bool retry;

		stamp_files(source, now);
		if (stamps_equal(now, loaded))
			continue;
		retry = stamps_equal(now, attempted);
		memcpy(attempted, now, sizeof(attempted));

		/* A half-written set (a new certificate before its key) fails
		 * here and is tried again at the next tick. The last good
		 * snapshot stays current meanwhile. */
		if (proxy_identity_load_files(&config, &identity, &err) < 0) {
			if (!retry || strcmp(last_warning, wd_error_text(&err)) != 0)
				log_warn("proxy", "cannot reload the identity files, keeping the "
					"current SVID", "error", wd_error_text(&err));
			snprintf(last_warning, sizeof(last_warning), "%s", wd_error_text(&err));
			continue;
		}
		memcpy(loaded, now, sizeof(loaded));
		last_warning[0] = '\0';
		log_info("proxy", "identity files reloaded", "spiffe_id",
			proxy_identity_spiffe_id(identity), "cert", source->cert_path);
		identity_source_publish(source, identity);
	}
	identity_source_unref(source);
	return NULL;
}

int identity_files_start(struct proxy_identity_source *source, struct wd_error *err)
{
	struct proxy_identity_config config;
	struct proxy_identity *identity = NULL;
	struct file_stamp *stamps = calloc(WATCHED_FILES, sizeof(*stamps));
	int rc;

	if (!stamps)
		return wd_error_set(err, WD_ENOMEM, "out of memory starting the file watcher");
	stamp_files(source, stamps);
	source_config(source, &config);
	rc = proxy_identity_load_files(&config, &identity, err);
	if (rc < 0) {
		free(stamps);
		return rc;
	}
	identity_source_publish(source, identity);

	source->mode_state = stamps;
	rc = identity_source_spawn(source, watch_files, err);
	if (rc < 0) {
		free(source->mode_state);
		source->mode_state = NULL;
	}
	return rc;
}
