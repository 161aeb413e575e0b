/* Unit tests of the net.cidr_* builtins: Go's address syntax, containment,
 * expansion, merging and their error messages. */
#include "test_bi_crypto_support.h"

static void cidr_contains_cases(void **state)
{
	(void)state;
	tb_expect("net.cidr_contains", "[\"10.0.0.0/8\", \"10.20.0.0/16\"]", "true");
	tb_expect("net.cidr_contains", "[\"10.20.0.0/16\", \"10.0.0.0/8\"]", "false");
	tb_expect("net.cidr_contains", "[\"10.0.0.0/8\", \"10.255.255.255\"]", "true");
	tb_expect("net.cidr_contains", "[\"10.0.0.0/8\", \"11.0.0.0\"]", "false");
	tb_expect("net.cidr_contains", "[\"10.1.2.3/8\", \"10.9.9.9/32\"]", "true");
	tb_expect("net.cidr_contains", "[\"fd00::/8\", \"fd12:3456::/32\"]", "true");
	tb_expect("net.cidr_contains", "[\"fd00::/16\", \"fd01::1\"]", "false");
	tb_expect("net.cidr_contains", "[\"fd00::/16\", \"fd00:ffff::/16\"]", "true");
	/* An IPv4-mapped address lies in the IPv4 network, as in Go. */
	tb_expect("net.cidr_contains", "[\"10.0.0.0/8\", \"::ffff:10.1.1.1\"]", "true");
	tb_expect("net.cidr_overlap", "[\"192.168.0.0/16\", \"192.168.7.0/24\"]", "true");
}

static void cidr_contains_errors(void **state)
{
	(void)state;
	tb_expect_error("net.cidr_contains", "[\"nonsense\", \"10.0.0.1\"]", "eval_builtin_error",
			"net.cidr_contains: invalid CIDR address: nonsense");
	tb_expect_error("net.cidr_contains", "[\"10.0.0.0/8\", \"10.0.0\"]", "eval_builtin_error",
			"net.cidr_contains: not a valid textual representation of an IP address "
			"or CIDR: 10.0.0");
	/* Leading zeros are ambiguous and rejected since Go 1.17. */
	tb_expect_error("net.cidr_contains", "[\"010.0.0.0/8\", \"10.0.0.1\"]",
			"eval_builtin_error",
			"net.cidr_contains: invalid CIDR address: 010.0.0.0/8");
	tb_expect_error("net.cidr_contains", "[\"10.0.0.0/8\", 7]", "eval_type_error",
			"net.cidr_contains: operand 1 must be string but got number");
}

static void cidr_intersects_cases(void **state)
{
	(void)state;
	tb_expect("net.cidr_intersects", "[\"10.0.0.0/24\", \"10.0.0.128/25\"]", "true");
	tb_expect("net.cidr_intersects", "[\"10.0.0.0/25\", \"10.0.0.128/25\"]", "false");
	tb_expect("net.cidr_intersects", "[\"2001:db8::/32\", \"2001:db8:1::/48\"]", "true");
	tb_expect_error("net.cidr_intersects", "[\"10.0.0.0/24\", \"10.0.0.0/33\"]",
			"eval_builtin_error",
			"net.cidr_intersects: invalid CIDR address: 10.0.0.0/33");
}

static void cidr_is_valid_cases(void **state)
{
	(void)state;
	tb_expect("net.cidr_is_valid", "[\"172.16.0.0/12\"]", "true");
	tb_expect("net.cidr_is_valid", "[\"172.16.0.0/012\"]", "true");
	tb_expect("net.cidr_is_valid", "[\"172.16.0.0\"]", "false");
	tb_expect("net.cidr_is_valid", "[\"172.16.0.0/+12\"]", "false");
	tb_expect("net.cidr_is_valid", "[\"172.16.0.256/12\"]", "false");
	tb_expect("net.cidr_is_valid", "[\"fe80::1%eth0/64\"]", "false");
	tb_expect("net.cidr_is_valid", "[\"::/0\"]", "true");
	tb_expect("net.cidr_is_valid", "[\"1:2:3:4:5:6:7:8/128\"]", "true");
	tb_expect("net.cidr_is_valid", "[\"1:2:3:4:5:6:7:8:9/128\"]", "false");
	tb_expect("net.cidr_is_valid", "[\"1::2::3/64\"]", "false");
	tb_expect("net.cidr_is_valid", "[\"::ffff:1.2.3.4/128\"]", "true");
	tb_expect("net.cidr_is_valid", "[42]", "false");
}

static void cidr_expand_cases(void **state)
{
	(void)state;
	tb_expect("net.cidr_expand", "[\"172.16.5.9/31\"]", "[\"172.16.5.8\",\"172.16.5.9\"]");
	tb_expect("net.cidr_expand", "[\"172.16.5.9/32\"]", "[\"172.16.5.9\"]");
	tb_expect("net.cidr_expand", "[\"fd00::/127\"]", "[\"fd00::\",\"fd00::1\"]");
	tb_expect("net.cidr_expand", "[\"2001:db8:0:0:1::ff/128\"]", "[\"2001:db8::1:0:0:ff\"]");
	tb_expect_error("net.cidr_expand", "[\"172.16.5.9/40\"]", "eval_builtin_error",
			"net.cidr_expand: invalid CIDR address: 172.16.5.9/40");
	/* The result has a ceiling: a /8 would be 16 million strings. */
	tb_expect_error("net.cidr_expand", "[\"10.0.0.0/8\"]", "eval_builtin_error",
			"net.cidr_expand: CIDR 10.0.0.0/8 has more than 262144 addresses");
}

static void cidr_contains_matches_cases(void **state)
{
	(void)state;
	tb_expect("net.cidr_contains_matches", "[\"10.0.0.0/8\", \"10.3.3.3\"]",
		  "[[\"10.0.0.0/8\",\"10.3.3.3\"]]");
	tb_expect("net.cidr_contains_matches",
		  "[[\"10.0.0.0/8\", \"192.168.0.0/16\"], [\"192.168.1.1\", \"10.1.1.1\", \"8.8.8.8\"]]",
		  "[[0,1],[1,0]]");
	tb_expect("net.cidr_contains_matches",
		  "[{\"lan\": \"10.0.0.0/8\", \"dmz\": [\"172.16.0.0/12\", \"tag\"]}, "
		  "{\"$set\": [\"172.16.1.1\", \"10.0.0.1\"]}]",
		  "[[\"dmz\",\"172.16.1.1\"],[\"lan\",\"10.0.0.1\"]]");
	tb_expect("net.cidr_contains_matches",
		  "[{\"$set\": [[\"10.0.0.0/8\", 1]]}, [\"10.2.2.2\"]]", "[[[\"10.0.0.0/8\",1],0]]");
	tb_expect("net.cidr_contains_matches", "[7, \"10.0.0.1\"]", "[]");
	tb_expect_error("net.cidr_contains_matches", "[\"10.0.0.0/8\", [\"10.0.0.1\", []]]",
			"eval_builtin_error",
			"net.cidr_contains_matches: operand 2: element must be string or non-empty "
			"array");
	tb_expect_error("net.cidr_contains_matches", "[[7], \"10.0.0.1\"]", "eval_builtin_error",
			"net.cidr_contains_matches: operand 1: element must be string or non-empty "
			"array");
}

static void cidr_merge_cases(void **state)
{
	(void)state;
	tb_expect("net.cidr_merge", "[[]]", "[]");
	tb_expect("net.cidr_merge", "[[\"10.4.0.0/16\", \"10.5.0.0/16\"]]", "[\"10.4.0.0/15\"]");
	tb_expect("net.cidr_merge", "[[\"10.5.0.0/16\", \"10.6.0.0/16\"]]",
		  "[\"10.5.0.0/16\",\"10.6.0.0/16\"]");
	tb_expect("net.cidr_merge", "[[\"10.0.0.8/30\", \"10.0.0.12/31\", \"10.0.0.14/32\", "
		  "\"10.0.0.15/32\"]]",
		  "[\"10.0.0.8/29\"]");
	tb_expect("net.cidr_merge", "[[\"10.0.0.1/24\", \"10.0.0.0/16\"]]", "[\"10.0.0.0/16\"]");
	tb_expect("net.cidr_merge", "[{\"$set\": [\"fd00::/65\", \"fd00:0:0:0:8000::/65\"]}]",
		  "[\"fd00::/64\"]");
	/* Merged ranges split back into the fewest aligned blocks. */
	tb_expect("net.cidr_merge", "[[\"10.0.0.2/31\", \"10.0.0.4/30\", \"10.0.0.8/31\"]]",
		  "[\"10.0.0.2/31\",\"10.0.0.4/30\",\"10.0.0.8/31\"]");
	tb_expect("net.cidr_merge", "[[\"10.0.0.2/31\", \"10.0.0.4/30\", \"10.0.0.0/31\"]]",
		  "[\"10.0.0.0/29\"]");
	/* A bare IPv4 address gets its classful mask and is left unmasked. */
	tb_expect("net.cidr_merge", "[[\"10.1.2.3\"]]", "[\"10.1.2.3/8\"]");
	tb_expect("net.cidr_merge", "[[\"172.16.9.9\"]]", "[\"172.16.9.9/16\"]");
	tb_expect("net.cidr_merge", "[[\"200.1.1.1\", \"200.1.0.0/24\"]]", "[\"200.1.0.0/23\"]");
	tb_expect("net.cidr_merge", "[[\"::/0\", \"10.0.0.0/8\"]]", "[\"::/0\"]");
	tb_expect_error("net.cidr_merge", "[[\"fd00::1\"]]", "eval_builtin_error",
			"net.cidr_merge: IPv6 invalid: needs prefix length");
	tb_expect_error("net.cidr_merge", "[[\"bogus\"]]", "eval_builtin_error",
			"net.cidr_merge: invalid CIDR address: bogus");
	tb_expect_error("net.cidr_merge", "[[1]]", "eval_builtin_error",
			"net.cidr_merge: element must be string");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cidr_contains_cases),
		cmocka_unit_test(cidr_contains_errors),
		cmocka_unit_test(cidr_intersects_cases),
		cmocka_unit_test(cidr_is_valid_cases),
		cmocka_unit_test(cidr_expand_cases),
		cmocka_unit_test(cidr_contains_matches_cases),
		cmocka_unit_test(cidr_merge_cases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
