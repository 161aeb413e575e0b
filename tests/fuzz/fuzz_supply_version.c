/* libFuzzer harness for version order: the first byte picks the ecosystem
 * and the rest holds up to three versions, one per line. Every comparison
 * either rejects an input with a detail or orders it, and the order is
 * reflexive, antisymmetric and transitive. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "supply/version.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Longer than any version a scheme accepts, so the length check runs too. */
#define VERSION_BYTES 512

static const enum supply_ecosystem ecosystems[] = {
	SUPPLY_ECOSYSTEM_DPKG, SUPPLY_ECOSYSTEM_RPM, SUPPLY_ECOSYSTEM_APK,
	SUPPLY_ECOSYSTEM_SEMVER, SUPPLY_ECOSYSTEM_PEP440, SUPPLY_ECOSYSTEM_GO,
};

/* Copies the line at *offset into a NUL-terminated buffer and moves *offset
 * past it. A NUL byte inside the line ends the string early. */
static void take_line(const uint8_t *data, size_t size, size_t *offset, char *out)
{
	size_t length = 0;

	while (*offset < size && data[*offset] != '\n') {
		if (length < VERSION_BYTES - 1)
			out[length++] = (char)data[*offset];
		(*offset)++;
	}
	if (*offset < size)
		(*offset)++;
	out[length] = '\0';
}

/* Returns the order of a and b, or 2 when the comparison rejects them. A
 * rejection must be WD_EINVAL with a detail that names the problem. */
static int compare(enum supply_ecosystem ecosystem, const char *a, const char *b)
{
	struct wd_error err;
	int order = 3;
	int rc;

	wd_error_clear(&err);
	rc = supply_version_compare(ecosystem, a, b, &order, &err);
	if (rc < 0) {
		if (rc != WD_EINVAL || strncmp(err.detail, "invalid ", 8) != 0 || order != 3)
			abort();
		return 2;
	}
	if (order < -1 || order > 1)
		abort();
	return order;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char a[VERSION_BYTES];
	static char b[VERSION_BYTES];
	static char c[VERSION_BYTES];
	enum supply_ecosystem ecosystem;
	size_t offset = 1;
	int aa, ab, ba, bc, ac;

	if (size == 0)
		return 0;
	ecosystem = ecosystems[data[0] % (sizeof(ecosystems) / sizeof(ecosystems[0]))];
	take_line(data, size, &offset, a);
	take_line(data, size, &offset, b);
	take_line(data, size, &offset, c);

	/* Reflexivity: a valid version equals itself. */
	aa = compare(ecosystem, a, a);
	if (aa == -1 || aa == 1)
		abort();

	/* Antisymmetry: swapping the versions negates the order, and a
	 * rejection does not depend on the argument order. */
	ab = compare(ecosystem, a, b);
	ba = compare(ecosystem, b, a);
	if (ab == 2 || ba == 2) {
		if (ab != ba)
			abort();
		return 0;
	}
	if (ab != -ba)
		abort();

	/* Transitivity over a third version, when there is one. */
	if (c[0] == '\0')
		return 0;
	bc = compare(ecosystem, b, c);
	ac = compare(ecosystem, a, c);
	if (bc == 2 || ac == 2)
		return 0;
	if (ab <= 0 && bc <= 0 && ac > 0)
		abort();
	if (ab >= 0 && bc >= 0 && ac < 0)
		abort();
	if (ab == 0 && bc == 0 && ac != 0)
		abort();
	return 0;
}
