/* Opening and closing the registry, and the helpers its files share. */
#include <string.h>

#include <openssl/evp.h>

#include "common/alloc.h"
#include "identity/registry_internal.h"

int registry_open(struct store *store, const struct registry_options *options,
	struct registry **ret_registry, struct wd_error *err)
{
	_wd_cleanup_(wd_freep) struct registry *registry = NULL;
	size_t td_len;
	int rc;

	if (ret_registry)
		*ret_registry = NULL;
	if (!store || !options || !ret_registry)
		return wd_error_set(err, WD_EINTERNAL, "registry_open: missing argument");

	if (!options->trust_domain)
		return wd_error_set(err, WD_ECONFIG, "registry: missing trust domain");
	rc = spiffe_trust_domain_validate(options->trust_domain, err);
	if (rc < 0)
		return wd_error_set(err, WD_ECONFIG, "registry: invalid trust domain \"%.255s\"",
			options->trust_domain);
	if (options->max_x509_svid_ttl < 0 || options->max_jwt_svid_ttl < 0 ||
	    options->max_authorization_depth < 0)
		return wd_error_set(err, WD_ECONFIG,
			"registry: maximum SVID TTLs and authorization depth must not be negative");

	registry = wd_calloc(1, sizeof(*registry));
	if (!registry)
		return wd_error_set(err, WD_ENOMEM, "registry: out of memory");

	registry->store = store;
	td_len = strlen(options->trust_domain);
	memcpy(registry->trust_domain, options->trust_domain, td_len + 1);
	registry->max_x509_svid_ttl = options->max_x509_svid_ttl ?
		options->max_x509_svid_ttl : REGISTRY_DEFAULT_MAX_SVID_TTL;
	registry->max_jwt_svid_ttl = options->max_jwt_svid_ttl ?
		options->max_jwt_svid_ttl : REGISTRY_DEFAULT_MAX_SVID_TTL;
	registry->max_authorization_depth = options->max_authorization_depth ?
		options->max_authorization_depth : REGISTRY_DEFAULT_MAX_AUTHORIZATION_DEPTH;
	registry->max_authorized_entries = options->max_authorized_entries ?
		options->max_authorized_entries : REGISTRY_DEFAULT_MAX_AUTHORIZED_ENTRIES;

	rc = store_migrate(store, REGISTRY_MIGRATION_COMPONENT, registry_migrations,
		registry_migration_count, err);
	if (rc < 0)
		return rc;

	*ret_registry = WD_TAKE_PTR(registry);
	return 0;
}

void registry_close(struct registry *registry)
{
	free(registry);
}

const char *registry_trust_domain(const struct registry *registry)
{
	return registry->trust_domain;
}

int registry_sha256(const void *data, size_t len, uint8_t digest[static 32])
{
	unsigned int digest_len = 0;

	if (EVP_Digest(data, len, digest, &digest_len, EVP_sha256(), NULL) != 1 ||
	    digest_len != 32)
		return WD_ECRYPTO;
	return 0;
}
