/* libFuzzer harness: parses arbitrary bytes as a purl and as the purl of
 * a catalog package, and checks that a parsed purl builds again and parses
 * back to the same components. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "supply/purl.h"
#include "supply/sbom_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void round_trip(const struct purl *p)
{
	struct purl_qualifier qualifiers[64];
	struct purl_parts parts = {
		.type = p->type, .namespace = p->namespace, .name = p->name,
		.version = p->version, .qualifiers = qualifiers,
		.qualifier_count = p->qualifier_count, .subpath = p->subpath,
	};
	struct wd_error err = { 0 };
	struct purl again;
	char *text = NULL;

	if (p->qualifier_count > 64)
		__builtin_trap();
	for (size_t i = 0; i < p->qualifier_count; i++)
		qualifiers[i] = (struct purl_qualifier){ p->qualifiers[i].key, p->qualifiers[i].value };
	if (purl_build(&parts, &text, &err) < 0)
		return;
	if (purl_parse(text, &again, &err) == 0) {
		/* Type normalizations apply once; the components must hold. */
		if (!same(again.type, p->type) || !same(again.name, p->name) ||
		    !same(again.version, p->version) || !same(again.namespace, p->namespace) ||
		    again.qualifier_count != p->qualifier_count)
			__builtin_trap();
		purl_free(&again);
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct sbom_package pkg;
	struct sbom_distro distro = { 0 };
	struct wd_error err = { 0 };
	struct purl p;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	if (purl_parse(text, &p, &err) == 0) {
		if (!p.type || !p.name || !p.name[0])
			__builtin_trap();
		round_trip(&p);
		purl_free(&p);
	} else if (!err.detail[0]) {
		__builtin_trap();
	}
	if (sbom_package_from_purl(text, &pkg, &distro, &err) == 0) {
		if (!pkg.name || !pkg.version || !pkg.purl)
			__builtin_trap();
		sbom_package_free(&pkg);
	}
	sbom_distro_free(&distro);
	free(text);
	return 0;
}
