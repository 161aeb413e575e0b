/* Catalog packages made from purls, for SBOMs read back: the purl type
 * gives the package type, the qualifiers the architecture, the source
 * package and the distribution. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "supply/purl.h"
#include "supply/sbom_read.h"

static const struct {
	const char *purl_type;
	enum sbom_package_type type;
} types[] = {
	{ "deb", SBOM_TYPE_DEB },
	{ "apk", SBOM_TYPE_APK },
	{ "rpm", SBOM_TYPE_RPM },
	{ "pypi", SBOM_TYPE_PYTHON },
	{ "npm", SBOM_TYPE_NPM },
	{ "golang", SBOM_TYPE_GO_MODULE },
};

static int set(char **field, const char *value)
{
	if (!value)
		return 0;
	*field = strdup(value);
	return *field ? 0 : -1;
}

/* "name" or "namespace/name", as npm ("@scope/name") and Go (the module
 * path) name packages. */
static char *joined_name(const struct purl *p)
{
	size_t size;
	char *name;

	if (!p->namespace)
		return strdup(p->name);
	size = strlen(p->namespace) + 1 + strlen(p->name) + 1;
	name = malloc(size);
	if (name)
		snprintf(name, size, "%s/%s", p->namespace, p->name);
	return name;
}

/* Splits the upstream qualifier, "source" or "source@version", into the
 * package's source fields. */
static int set_upstream(struct sbom_package *pkg, const char *upstream)
{
	const char *at;

	if (!upstream)
		return 0;
	at = strrchr(upstream, '@');
	if (!at || pkg->type == SBOM_TYPE_RPM)
		return set(&pkg->source, upstream);
	pkg->source = wd_strndup(upstream, (size_t)(at - upstream));
	if (!pkg->source || set(&pkg->source_version, at + 1) < 0)
		return -1;
	return 0;
}

/* rpm purls carry the epoch as a qualifier; the catalog's version has it
 * in front, as rpm prints it. */
static int set_version(struct sbom_package *pkg, const struct purl *p)
{
	const char *epoch = purl_qualifier(p, "epoch");
	size_t size;

	if (pkg->type != SBOM_TYPE_RPM || !epoch || !strcmp(epoch, "0"))
		return set(&pkg->version, p->version);
	size = strlen(epoch) + 1 + strlen(p->version) + 1;
	pkg->version = malloc(size);
	if (!pkg->version)
		return -1;
	snprintf(pkg->version, size, "%s:%s", epoch, p->version);
	return 0;
}

/* Splits a distro qualifier "<id>-<version>" (debian-12, alpine-3.18.4,
 * rhel-9.2, opensuse-leap-15.5) at the last '-' before a digit. A value
 * without one ("jessie") names the namespace's distribution without a
 * version. */
static int set_distro(struct sbom_distro *distro, const struct purl *p)
{
	const char *value = purl_qualifier(p, "distro");
	const char *dash = NULL;
	char *id = NULL, *version = NULL;

	if (!value && !p->namespace)
		return 0;
	for (const char *c = value; c && *c; c++) {
		if (*c == '-' && isdigit((unsigned char)c[1]))
			dash = c;
	}
	if (dash) {
		id = wd_strndup(value, (size_t)(dash - value));
		version = strdup(dash + 1);
		if (!id || !version)
			goto nomem;
	} else if (p->namespace) {
		id = strdup(p->namespace);
		if (!id)
			goto nomem;
	} else {
		return 0;
	}
	free(distro->id);
	free(distro->version_id);
	distro->id = id;
	distro->version_id = version;
	return 0;
nomem:
	free(id);
	free(version);
	return -1;
}

int sbom_package_from_purl(const char *text, struct sbom_package *ret_pkg,
	struct sbom_distro *ret_distro, struct wd_error *err)
{
	struct sbom_package pkg = { 0 };
	struct purl p;
	size_t t;
	int rc = 0;

	*ret_pkg = pkg;
	WD_TRY(purl_parse(text, &p, err));
	for (t = 0; t < WD_ARRAY_LEN(types); t++) {
		if (!strcmp(p.type, types[t].purl_type))
			break;
	}
	WD_ENSURE(t < WD_ARRAY_LEN(types), wd_error_set(err, WD_EUNSUPPORTED,
		"purl type \"%.32s\" has no OSV ecosystem warden matches", p.type));
	WD_ENSURE(p.version, wd_error_set(err, WD_EUNSUPPORTED, "purl %.128s has no version",
		text));

	pkg.type = types[t].type;
	if (pkg.type == SBOM_TYPE_NPM || pkg.type == SBOM_TYPE_GO_MODULE)
		pkg.name = joined_name(&p);
	else
		pkg.name = strdup(p.name);
	WD_ENSURE(pkg.name && set_version(&pkg, &p) == 0 &&
		  set(&pkg.arch, purl_qualifier(&p, "arch")) == 0 &&
		  set_upstream(&pkg, purl_qualifier(&p, "upstream")) == 0 &&
		  set(&pkg.purl, text) == 0, WD_ENOMEM);
	if (ret_distro && (pkg.type == SBOM_TYPE_DEB || pkg.type == SBOM_TYPE_APK ||
			   pkg.type == SBOM_TYPE_RPM))
		WD_ENSURE(set_distro(ret_distro, &p) == 0, WD_ENOMEM);
	*ret_pkg = pkg;
	pkg = (struct sbom_package){ 0 };
out:
	if (rc == WD_ENOMEM)
		wd_error_set(err, rc, "out of memory for the package of %.128s", text);
	sbom_package_free(&pkg);
	purl_free(&p);
	return rc;
}
