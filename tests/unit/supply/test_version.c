/* Version order per ecosystem: tables of hand-checked pairs, each also
 * checked in reverse, and invalid versions that must be rejected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/error.h"
#include "supply/version.h"

struct order_case {
	const char *a;
	const char *b;
	int order;
};

/* Checks every case in both directions and names the failing pair. */
static void check_orders(enum supply_ecosystem ecosystem, const struct order_case *cases,
	size_t count)
{
	for (size_t i = 0; i < count; i++) {
		struct wd_error err = { 0 };
		int forward = 2;
		int backward = 2;

		if (supply_version_compare(ecosystem, cases[i].a, cases[i].b, &forward, &err) < 0)
			fail_msg("%s %s vs %s rejected: %s", supply_ecosystem_name(ecosystem),
				cases[i].a, cases[i].b, wd_error_text(&err));
		if (supply_version_compare(ecosystem, cases[i].b, cases[i].a, &backward, &err) < 0)
			fail_msg("%s %s vs %s rejected: %s", supply_ecosystem_name(ecosystem),
				cases[i].b, cases[i].a, wd_error_text(&err));
		if (forward != cases[i].order || backward != -cases[i].order)
			fail_msg("%s %s vs %s: expected %d, got %d (reversed %d)",
				supply_ecosystem_name(ecosystem), cases[i].a, cases[i].b,
				cases[i].order, forward, backward);
	}
}

/* Checks that each version is rejected when compared with the valid one. */
static void check_invalid(enum supply_ecosystem ecosystem, const char *valid,
	const char *const *versions, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		struct wd_error err = { 0 };
		int order = 7;
		char expected[128];
		int rc = supply_version_compare(ecosystem, valid, versions[i], &order, &err);

		if (rc != WD_EINVAL)
			fail_msg("%s \"%s\" accepted (rc %d, order %d)",
				supply_ecosystem_name(ecosystem), versions[i], rc, order);
		assert_int_equal(order, 7);

		/* The message names the scheme and quotes the value. */
		snprintf(expected, sizeof(expected), "invalid %s version \"%s\"",
			supply_ecosystem_name(ecosystem), versions[i]);
		if (strncmp(err.detail, expected, strlen(expected)))
			fail_msg("detail \"%s\" does not start with \"%s\"", err.detail, expected);
	}
}

static void dpkg_order(void **state)
{
	static const struct order_case cases[] = {
		{ "1.0", "1.0", 0 },
		{ "1.0", "1.1", -1 },
		{ "1.9", "1.10", -1 },
		{ "1.01", "1.1", 0 },
		{ "0:1.0", "1.0", 0 },
		{ "1.0", "1.0-0", 0 },
		{ "1.0-00", "1.0-0", 0 },
		{ "1:0.1", "2.0", 1 },
		{ "2:1.0", "10:0.1", -1 },
		/* '~' sorts before everything, even the end of the string. */
		{ "1.0~rc1", "1.0", -1 },
		{ "1.0~~", "1.0~", -1 },
		{ "1.0~~a", "1.0~~", 1 },
		{ "1.0~", "1.0", -1 },
		{ "1.2.3-1~deb7u1", "1.2.3-1", -1 },
		/* Letters sort before the other non-digits. */
		{ "1.0a", "1.0+", -1 },
		{ "1.0a", "1.0.", -1 },
		{ "1.0+", "1.0.", -1 },
		{ "1.0Z", "1.0a", -1 },
		{ "1.0a", "1.0", 1 },
		{ "1.0", "1.0.0", -1 },
		{ "2.7.4+reloaded2-13ubuntu1", "2.7.4+reloaded2-13+deb9u1", -1 },
		{ "1.0-1", "1.0-1.1", -1 },
		/* A letter outweighs the start of a digit run. */
		{ "1.0-a", "1.0-1", 1 },
		/* The last hyphen starts the revision. */
		{ "1.0-2-1", "1.0-10-1", -1 },
		{ "1:2:3-1", "1:2:3-1", 0 },
		{ "1.0-99999999999999999999999", "1.0-100000000000000000000000", -1 },
	};

	(void)state;
	check_orders(SUPPLY_ECOSYSTEM_DPKG, cases, sizeof(cases) / sizeof(cases[0]));
}

static void dpkg_invalid(void **state)
{
	static const char *const versions[] = {
		"", "a1.0", ":1.0", "x:1.0", "1:", "1.0-", "1.0 1", "-1", "1.0-1_2",
		"1.0_1", "99999999999:1.0",
	};

	(void)state;
	check_invalid(SUPPLY_ECOSYSTEM_DPKG, "1.0", versions, sizeof(versions) / sizeof(versions[0]));
}

static void rpm_order(void **state)
{
	static const struct order_case cases[] = {
		{ "1.0", "1.0", 0 },
		{ "2.0.1", "2.0", 1 },
		{ "5.5p1", "5.5p2", -1 },
		{ "5.5p10", "5.5p1", 1 },
		{ "10xyz", "10.1xyz", -1 },
		{ "xyz10", "xyz10.1", -1 },
		{ "1.0010", "1.9", 1 },
		{ "1.05", "1.5", 0 },
		{ "1.0", "1", 1 },
		{ "2.0", "2_0", 0 },
		{ "2.0a", "2.0.a", 0 },
		/* A number is newer than letters. */
		{ "1a", "1.1", -1 },
		{ "a", "1", -1 },
		{ "abc", "abd", -1 },
		{ "1.0~rc1", "1.0", -1 },
		{ "1.0~rc1", "1.0~rc2", -1 },
		{ "1.0~rc1~git123", "1.0~rc1", -1 },
		/* '^' sorts after the end but before any further segment. */
		{ "1.0^", "1.0", 1 },
		{ "1.0^git1", "1.0", 1 },
		{ "1.0^git1", "1.01", -1 },
		{ "1.0^20160101", "1.0.1", -1 },
		{ "1.0^git1~pre", "1.0^git1", -1 },
		{ "1.0~rc1^git1", "1.0~rc1", 1 },
		{ "1.0~rc1^git1", "1.0", -1 },
		/* Epoch, then version, then release. */
		{ "1:1.0-1", "2.0-1", 1 },
		{ "0:1.0-1", "1.0-1", 0 },
		{ "1.0-1", "1.0-2", -1 },
		{ "1.0-1.el8", "1.0-1.el9", -1 },
		{ "1.0", "1.0-1", -1 },
		{ "1.0", "1.0-", -1 },
		{ "1.1-1", "1.0-9", 1 },
		/* The epoch takes only digits before the first ':'. */
		{ "a:1.0", "a:1.0", 0 },
		{ "1.1.α", "1.1.α", 0 },
	};

	(void)state;
	check_orders(SUPPLY_ECOSYSTEM_RPM, cases, sizeof(cases) / sizeof(cases[0]));
}

static void rpm_invalid(void **state)
{
	static const char *const versions[] = { "", "1.0 1", "1:", "-1", "1.0\t" };

	(void)state;
	check_invalid(SUPPLY_ECOSYSTEM_RPM, "1.0", versions, sizeof(versions) / sizeof(versions[0]));
}

static void apk_order(void **state)
{
	static const struct order_case cases[] = {
		{ "1.0", "1.0", 0 },
		{ "1.0", "1.1", -1 },
		{ "1.9", "1.10", -1 },
		{ "1.0", "1.0.0", -1 },
		/* After a '.', leading zeros sort below numbers without. */
		{ "1.01", "1.1", -1 },
		{ "1.001", "1.01", -1 },
		{ "1.05", "1.4", -1 },
		{ "1.00", "1.0", -1 },
		{ "1.0.05", "1.0.0", 1 },
		{ "1.0a", "1.0", 1 },
		{ "1.0a", "1.0b", -1 },
		{ "1.0z", "1.0.1", -1 },
		/* Pre-release suffixes sort before the release, in this order. */
		{ "1.0_alpha", "1.0", -1 },
		{ "1.0_alpha", "1.0.0", -1 },
		{ "2.10_rc1", "2.10", -1 },
		{ "1.0_alpha1", "1.0_beta", -1 },
		{ "1.0_beta2", "1.0_pre1", -1 },
		{ "1.0_pre1", "1.0_rc1", -1 },
		{ "1.0_rc1", "1.0", -1 },
		{ "1.0_rc1", "1.0_rc2", -1 },
		{ "1.0_rc10", "1.0_rc2", 1 },
		{ "1.0_rc", "1.0_rc0", -1 },
		{ "1.2_rc1", "1.2", -1 },
		/* Post-release suffixes sort after it. */
		{ "1.0_p1", "1.0", 1 },
		{ "1.0_cvs", "1.0_svn", -1 },
		{ "1.0_git20200101", "1.0_hg1", -1 },
		{ "1.0_hg", "1.0_p", -1 },
		{ "1.0_p1", "1.0_p2", -1 },
		{ "1.0_alpha_p1", "1.0_alpha", 1 },
		/* The revision comes last. */
		{ "1.0-r1", "1.0", 1 },
		{ "1.0-r1", "1.0-r01", 0 },
		{ "1.0-r1", "1.0-r10", -1 },
		{ "1.0-r9", "1.0.1", -1 },
		{ "1.0-r1", "1.0_p1", -1 },
		{ "1.0_rc1-r5", "1.0", -1 },
		{ "2.34.1-r0", "2.34.1-r1", -1 },
	};

	(void)state;
	check_orders(SUPPLY_ECOSYSTEM_APK, cases, sizeof(cases) / sizeof(cases[0]));
}

static void apk_invalid(void **state)
{
	static const char *const versions[] = {
		"", "a", ".1", "1.", "1..2", "1.r2", "1_foo", "1.0bc", "1-x1", "1-r1.0", "1.0-",
		"1 0",
	};

	(void)state;
	check_invalid(SUPPLY_ECOSYSTEM_APK, "1.0", versions, sizeof(versions) / sizeof(versions[0]));
}

static void semver_order(void **state)
{
	/* The chain in semver.org section 11, then the other rules. */
	static const struct order_case cases[] = {
		{ "1.0.0-alpha", "1.0.0-alpha.1", -1 },
		{ "1.0.0-alpha.1", "1.0.0-alpha.beta", -1 },
		{ "1.0.0-alpha.beta", "1.0.0-beta", -1 },
		{ "1.0.0-beta", "1.0.0-beta.2", -1 },
		{ "1.0.0-beta.2", "1.0.0-beta.11", -1 },
		{ "1.0.0-beta.11", "1.0.0-rc.1", -1 },
		{ "1.0.0-rc.1", "1.0.0", -1 },
		{ "1.0.0", "2.0.0", -1 },
		{ "2.0.0", "2.1.0", -1 },
		{ "2.1.0", "2.1.1", -1 },
		{ "1.9.0", "1.10.0", -1 },
		{ "1.0.0-2", "1.0.0-10", -1 },
		{ "1.0.0-10", "1.0.0-1a", -1 },
		{ "1.0.0-Z", "1.0.0-a", -1 },
		{ "1.0.0-a-b", "1.0.0-a", 1 },
		{ "1.0.0-0.3.7", "1.0.0-x.7.z.92", -1 },
		/* Build metadata takes no part in the order. */
		{ "1.0.0+build.1", "1.0.0+build.2", 0 },
		{ "1.0.0-alpha+001", "1.0.0-alpha", 0 },
		{ "1.0.0+20130313144700", "1.0.0", 0 },
		{ "v1.2.3", "1.2.3", 0 },
		{ "99999999999999999999999.0.0", "100000000000000000000000.0.0", -1 },
	};

	(void)state;
	check_orders(SUPPLY_ECOSYSTEM_SEMVER, cases, sizeof(cases) / sizeof(cases[0]));
}

static void semver_invalid(void **state)
{
	static const char *const versions[] = {
		"", "1", "1.0", "1.0.0.0", "01.0.0", "1.02.0", "1.0.0-", "1.0.0-01",
		"1.0.0-a..b", "1.0.0+", "1.0.0+a..b", "1.0.0-a_b", " 1.0.0", "vv1.0.0",
	};

	(void)state;
	check_invalid(SUPPLY_ECOSYSTEM_SEMVER, "1.0.0", versions, sizeof(versions) / sizeof(versions[0]));
}

static void go_order(void **state)
{
	static const struct order_case cases[] = {
		{ "v1.0.0", "v1.0.1", -1 },
		{ "v1.2.3-pre", "v1.2.3", -1 },
		/* Pseudo-versions order as semver pre-releases. */
		{ "v0.0.0-20191109021931-daa7c04131f5", "v0.0.1", -1 },
		{ "v0.0.0-20191109021931-daa7c04131f5", "v0.0.0-20200101000000-aaaaaaaaaaaa", -1 },
		{ "v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.3", 1 },
		{ "v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.4", -1 },
		{ "v1.2.4-pre.0.20191109021931-daa7c04131f5", "v1.2.4-pre", 1 },
		/* "+incompatible" is build metadata. */
		{ "v2.0.0+incompatible", "v2.0.0", 0 },
		{ "v2.0.0+incompatible", "v2.0.1+incompatible", -1 },
		{ "v2.0.0+incompatible", "v1.9.9", 1 },
	};

	(void)state;
	check_orders(SUPPLY_ECOSYSTEM_GO, cases, sizeof(cases) / sizeof(cases[0]));
}

static void go_invalid(void **state)
{
	static const char *const versions[] = { "1.0.0", "v1.0", "v1", "V1.0.0", "v01.0.0", "" };

	(void)state;
	check_invalid(SUPPLY_ECOSYSTEM_GO, "v1.0.0", versions, sizeof(versions) / sizeof(versions[0]));
}

static void pep440_order(void **state)
{
	static const struct order_case cases[] = {
		{ "1.0", "1.0.0", 0 },
		{ "1.0", "1.1", -1 },
		{ "1.9", "1.10", -1 },
		{ "1!1.0", "2.0", 1 },
		{ "1!1.0", "2!1.0", -1 },
		{ "0!1.0", "1.0", 0 },
		/* dev < pre-releases < release < post-releases. */
		{ "1.0.dev0", "1.0a0", -1 },
		{ "1.0a1", "1.0b1", -1 },
		{ "1.0b2", "1.0rc1", -1 },
		{ "1.0rc1", "1.0", -1 },
		{ "1.0", "1.0.post1", -1 },
		{ "1.0.post1", "1.1.dev0", -1 },
		{ "1.0a1.dev1", "1.0a1", -1 },
		{ "1.0a1", "1.0a1.post1", -1 },
		{ "1.0a1.post1.dev1", "1.0a1.post1", -1 },
		{ "1.0.post1.dev1", "1.0.post1", -1 },
		{ "1.0.post1.dev1", "1.0", 1 },
		{ "1.2.post3.dev4", "1.2b3.dev4", 1 },
		{ "1.0.dev1", "1.0.dev2", -1 },
		/* Normalization: spellings, case, separators, implicit numbers. */
		{ "1.0alpha1", "1.0a1", 0 },
		{ "1.0-beta.2", "1.0b2", 0 },
		{ "1.0c1", "1.0rc1", 0 },
		{ "1.0pre1", "1.0rc1", 0 },
		{ "1.0preview1", "1.0rc1", 0 },
		{ "1.0a", "1.0a0", 0 },
		{ "1.0-1", "1.0.post1", 0 },
		{ "1.0rev1", "1.0.post1", 0 },
		{ "1.0r", "1.0.post0", 0 },
		{ "1.0_post_2", "1.0.post2", 0 },
		{ "1.0DEV", "1.0.dev0", 0 },
		{ "v1.0", "1.0", 0 },
		{ " 1.0\n", "1.0", 0 },
		{ "1.0.0RC1", "1.0rc1", 0 },
		{ "1.0a01", "1.0a1", 0 },
		/* Local versions: after the public version, numbers above strings. */
		{ "1.0+local", "1.0", 1 },
		{ "1.0+local", "1.0.post1", -1 },
		{ "1.0+local.0", "1.0+local.0.1", -1 },
		{ "1.0+local.a", "1.0+local.1", -1 },
		{ "1.0+abc", "1.0+abd", -1 },
		{ "1.0+1", "1.0+01", 0 },
		{ "1.0+ubuntu-1", "1.0+ubuntu.1", 0 },
		{ "1.0+UBUNTU", "1.0+ubuntu", 0 },
		{ "1.0+2", "1.0+10", -1 },
	};

	(void)state;
	check_orders(SUPPLY_ECOSYSTEM_PEP440, cases, sizeof(cases) / sizeof(cases[0]));
}

static void pep440_invalid(void **state)
{
	static const char *const versions[] = {
		"", "a", "1.", "1..0", "1.0+", "1.0+a..b", "1!", "1.0-bulbasaur", "1.0a1a2", "1.0 1",
		"1.0.post1.post2", "1.0+a_",
	};

	(void)state;
	check_invalid(SUPPLY_ECOSYSTEM_PEP440, "1.0", versions, sizeof(versions) / sizeof(versions[0]));
}

static void ecosystem_names(void **state)
{
	static const struct {
		const char *name;
		enum supply_ecosystem ecosystem;
	} cases[] = {
		{ "Debian", SUPPLY_ECOSYSTEM_DPKG },
		{ "Debian:12", SUPPLY_ECOSYSTEM_DPKG },
		{ "Ubuntu:22.04:LTS", SUPPLY_ECOSYSTEM_DPKG },
		{ "Alpine", SUPPLY_ECOSYSTEM_APK },
		{ "Alpine:v3.18", SUPPLY_ECOSYSTEM_APK },
		{ "Red Hat", SUPPLY_ECOSYSTEM_RPM },
		{ "Rocky Linux:9", SUPPLY_ECOSYSTEM_RPM },
		{ "PyPI", SUPPLY_ECOSYSTEM_PEP440 },
		{ "npm", SUPPLY_ECOSYSTEM_SEMVER },
		{ "Go", SUPPLY_ECOSYSTEM_GO },
		{ "dpkg", SUPPLY_ECOSYSTEM_DPKG },
		{ "pep440", SUPPLY_ECOSYSTEM_PEP440 },
	};
	static const char *const unknown[] = { "", "debian", "Deb", "Debianx", "Maven", "Red", ":Debian" };
	struct wd_error err = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum supply_ecosystem ecosystem = SUPPLY_ECOSYSTEM_GO;

		if (cases[i].ecosystem == SUPPLY_ECOSYSTEM_GO)
			ecosystem = SUPPLY_ECOSYSTEM_DPKG;
		if (supply_ecosystem_parse(cases[i].name, &ecosystem, &err) < 0)
			fail_msg("%s rejected: %s", cases[i].name, wd_error_text(&err));
		if (ecosystem != cases[i].ecosystem)
			fail_msg("%s: expected %d, got %d", cases[i].name, cases[i].ecosystem, ecosystem);
	}

	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		enum supply_ecosystem ecosystem = SUPPLY_ECOSYSTEM_GO;
		char expected[128];

		assert_int_equal(supply_ecosystem_parse(unknown[i], &ecosystem, &err), WD_EINVAL);
		assert_int_equal(ecosystem, SUPPLY_ECOSYSTEM_GO);
		snprintf(expected, sizeof(expected), "unknown ecosystem: \"%s\"", unknown[i]);
		assert_string_equal(err.detail, expected);
	}
}

static void error_names_second_version(void **state)
{
	struct wd_error err = { 0 };
	int order = 5;

	(void)state;
	assert_int_equal(supply_version_compare(SUPPLY_ECOSYSTEM_DPKG, "1.0", "1.0-", &order, &err),
		WD_EINVAL);
	assert_int_equal(order, 5);
	assert_string_equal(err.detail, "invalid dpkg version \"1.0-\": empty revision");
	assert_int_equal(supply_version_compare(SUPPLY_ECOSYSTEM_DPKG, "1.0", NULL, &order, &err),
		WD_EINVAL);
	assert_int_equal(supply_version_compare((enum supply_ecosystem)99, "1", "1", &order, &err),
		WD_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dpkg_order),
		cmocka_unit_test(dpkg_invalid),
		cmocka_unit_test(rpm_order),
		cmocka_unit_test(rpm_invalid),
		cmocka_unit_test(apk_order),
		cmocka_unit_test(apk_invalid),
		cmocka_unit_test(semver_order),
		cmocka_unit_test(semver_invalid),
		cmocka_unit_test(go_order),
		cmocka_unit_test(go_invalid),
		cmocka_unit_test(pep440_order),
		cmocka_unit_test(pep440_invalid),
		cmocka_unit_test(ecosystem_names),
		cmocka_unit_test(error_names_second_version),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
