/* Built-in functions: net.cidr_*, with the results and messages of OPA's
 * topdown/cidr.go. */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "policy/bi_net_ip.h"
#include "policy/builtin.h"

/* Ceiling on net.cidr_expand's result, in addresses (an IPv4 /14): each
 * address becomes a string value. */
#define NET_EXPAND_MAX (1u << 18)

/* Ceiling on net.cidr_merge's input, in networks. */
#define NET_MERGE_MAX (1u << 20)

/* OPA reads every CIDR argument as "operand 1" in its type errors. */
static int cidr_operand(struct rego_bctx *ctx, const struct rv *value, struct net_addr *ret_ip,
			struct net_prefix *ret_net)
{
	if (!rv_is(value, RV_STRING))
		return rego_bi_type_error(ctx, 1, "string", value);
	if (!net_parse_cidr(rv_str(value), rv_str_len(value), ret_ip, ret_net))
		return rego_bi_error(ctx, "invalid CIDR address: %s", rv_str(value));
	return 0;
}

/* True when b (an address or a CIDR) lies inside a. */
static int cidr_contains(struct rego_bctx *ctx, const struct rv *a, const struct rv *b,
			 bool *ret)
{
	struct net_addr ip, b_ip;
	struct net_prefix net, b_net;

	WD_TRY(cidr_operand(ctx, a, &ip, &net));
	if (!rv_is(b, RV_STRING))
		return rego_bi_type_error(ctx, 1, "string", b);
	if (net_parse_ip(rv_str(b), rv_str_len(b), &b_ip)) {
		*ret = net_prefix_contains(&net, &b_ip);
		return 0;
	}
	if (!net_parse_cidr(rv_str(b), rv_str_len(b), &b_ip, &b_net))
		return rego_bi_error(ctx,
				     "not a valid textual representation of an IP address or CIDR: %s",
				     rv_str(b));

	/* a contains b when it contains b's first and last addresses. */
	struct net_addr last = b_net.addr;

	net_addr_fill_host(&last, net_prefix_bits128(&b_net), true);
	*ret = net_prefix_contains(&net, &b_net.addr) && net_prefix_contains(&net, &last);
	return 0;
}

static int bi_cidr_contains(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			    struct rv **ret)
{
	bool contained = false;

	(void)nargs;
	WD_TRY(cidr_contains(ctx, args[0], args[1], &contained));
	*ret = rv_bool(contained);
	return 0;
}

static int bi_cidr_intersects(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			      struct rv **ret)
{
	struct net_addr ip;
	struct net_prefix a, b;

	(void)nargs;
	WD_TRY(cidr_operand(ctx, args[0], &ip, &a));
	WD_TRY(cidr_operand(ctx, args[1], &ip, &b));
	*ret = rv_bool(net_prefix_contains(&a, &b.addr) || net_prefix_contains(&b, &a.addr));
	return 0;
}

static int bi_cidr_is_valid(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			    struct rv **ret)
{
	struct net_addr ip;
	struct net_prefix net;

	(void)ctx;
	(void)nargs;
	*ret = rv_bool(rv_is(args[0], RV_STRING) &&
		       net_parse_cidr(rv_str(args[0]), rv_str_len(args[0]), &ip, &net));
	return 0;
}

static int bi_cidr_expand(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			  struct rv **ret)
{
	struct net_addr ip, cur;
	struct net_prefix net;
	struct rv *set = NULL;
	unsigned host_bits;
	char text[NET_TEXT_MAX];
	int rc;

	(void)nargs;
	WD_TRY(rego_bi_want(ctx, args, 1, RK_STRING));
	WD_TRY(cidr_operand(ctx, args[0], &ip, &net));
	host_bits = 128 - net_prefix_bits128(&net);
	if (host_bits > 18)
		return rego_bi_error(ctx, "CIDR %s has more than %u addresses", rv_str(args[0]),
				     NET_EXPAND_MAX);

	set = rv_set_new((size_t)1 << host_bits);
	WD_ENSURE(set, WD_ENOMEM);
	cur = net.addr;
	for (size_t n = 0; n < ((size_t)1 << host_bits); n++) {
		net_format_ip(&cur, text);
		WD_GUARD(rv_set_add(set, rv_cstring(text)));
		for (int i = 15; i >= 0 && ++cur.b[i] == 0; i--)
			;
	}
	*ret = WD_TAKE_PTR(set);
	rc = 0;
out:
	rv_unref(set);
	return rc;
}

/* ---- net.cidr_contains_matches ---- */

/* The CIDR or address of one collection element: a string, or the first
 * item of a non-empty array. */
static int match_term(struct rego_bctx *ctx, size_t operand, const struct rv *item,
		      const struct rv **ret)
{
	if (rv_is(item, RV_STRING)) {
		*ret = item;
		return 0;
	}
	if (rv_is(item, RV_ARRAY) && rv_array_len(item) > 0) {
		*ret = rv_array_at(item, 0);
		return 0;
	}
	return rego_bi_error(ctx, "operand %zu: element must be string or non-empty array",
			     operand);
}

/* Lists (cidr, index) pairs of an operand: a string is its own index, an
 * array's index is the position, a set's the member, an object's the key.
 * Other kinds give no pairs, as in OPA. */
static int match_pairs(struct rego_bctx *ctx, size_t operand, struct rv *v,
		       const struct rv ***ret_cidrs, struct rv ***ret_indexes, size_t *ret_count)
{
	size_t count = 0;
	int rc = 0;

	*ret_cidrs = NULL;
	*ret_indexes = NULL;
	*ret_count = 0;
	if (rv_is(v, RV_STRING))
		count = 1;
	else if (rv_is(v, RV_ARRAY))
		count = rv_array_len(v);
	else if (rv_is(v, RV_OBJECT) || rv_is(v, RV_SET))
		count = rv_len(v);
	if (count == 0)
		return 0;

	*ret_cidrs = wd_calloc(count, sizeof(**ret_cidrs));
	*ret_indexes = wd_calloc(count, sizeof(**ret_indexes));
	WD_ENSURE(*ret_cidrs && *ret_indexes, WD_ENOMEM);

	for (size_t i = 0; i < count; i++) {
		struct rv *key = NULL, *value = NULL, *index;
		const struct rv *item;

		if (rv_is(v, RV_STRING)) {
			item = v;
			index = rv_ref(v);
		} else if (rv_is(v, RV_ARRAY)) {
			item = rv_array_at(v, i);
			index = rv_int((int64_t)i);
		} else {
			rv_map_sorted_at(v, i, &key, &value);
			item = rv_is(v, RV_SET) ? key : value;
			index = rv_ref(key);
		}
		WD_ENSURE(index, WD_ENOMEM);
		(*ret_indexes)[i] = index;
		*ret_count = i + 1;
		if (!rv_is(v, RV_STRING))
			WD_GUARD(match_term(ctx, operand, item, &item));
		(*ret_cidrs)[i] = item;
	}
out:
	return rc;
}

static void free_pairs(const struct rv **cidrs, struct rv **indexes, size_t count)
{
	for (size_t i = 0; indexes && i < count; i++)
		rv_unref(indexes[i]);
	free(indexes);
	free(cidrs);
}

static int bi_cidr_contains_matches(struct rego_bctx *ctx, struct rv *const *args,
				    size_t nargs, struct rv **ret)
{
	const struct rv **cidrs_a = NULL, **cidrs_b = NULL;
	struct rv **index_a = NULL, **index_b = NULL;
	size_t count_a = 0, count_b = 0;
	struct rv *result = NULL;
	int rc;

	(void)nargs;
	WD_GUARD(match_pairs(ctx, 1, args[0], &cidrs_a, &index_a, &count_a));
	WD_GUARD(match_pairs(ctx, 2, args[1], &cidrs_b, &index_b, &count_b));
	result = rv_set_new(0);
	WD_ENSURE(result, WD_ENOMEM);

	for (size_t i = 0; i < count_a; i++) {
		for (size_t j = 0; j < count_b; j++) {
			struct rv *pair;
			bool contained = false;

			WD_GUARD(cidr_contains(ctx, cidrs_a[i], cidrs_b[j], &contained));
			if (!contained)
				continue;
			pair = rv_array_new(2);
			WD_ENSURE(pair, WD_ENOMEM);
			if (rv_array_push(pair, rv_ref(index_a[i])) < 0 ||
			    rv_array_push(pair, rv_ref(index_b[j])) < 0) {
				rv_unref(pair);
				rc = WD_ENOMEM;
				goto out;
			}
			WD_GUARD(rv_set_add(result, pair));
		}
	}
	*ret = WD_TAKE_PTR(result);
	rc = 0;
out:
	rv_unref(result);
	free_pairs(cidrs_a, index_a, count_a);
	free_pairs(cidrs_b, index_b, count_b);
	return rc;
}

/* ---- net.cidr_merge ---- */

/* An address range as the merge works on it, in 16-byte form. */
struct range {
	struct net_addr first, last;
	struct net_prefix net;   /* the input network, while not merged */
	bool merged;
};

static int range_compare(const void *pa, const void *pb)
{
	const struct range *a = pa, *b = pb;
	int cmp = net_addr_compare(&a->last, &b->last);

	return cmp ? cmp : net_addr_compare(&a->first, &b->first);
}

/* The network of one element: a CIDR, or an IPv4 address with its classful
 * default mask (as Go's IP.DefaultMask), the address left unmasked. */
static int merge_element(struct rego_bctx *ctx, const struct rv *item, struct range *ret)
{
	struct net_addr ip;

	if (!rv_is(item, RV_STRING))
		return rego_bi_error(ctx, "element must be string");
	memset(ret, 0, sizeof(*ret));
	if (net_parse_ip(rv_str(item), rv_str_len(item), &ip)) {
		if (!ip.v4)
			return rego_bi_error(ctx, "IPv6 invalid: needs prefix length");
		ret->net.addr = ip;
		if (ip.b[12] < 0x80)
			ret->net.bits = 8;
		else if (ip.b[12] < 0xc0)
			ret->net.bits = 16;
		else
			ret->net.bits = 24;
	} else if (!net_parse_cidr(rv_str(item), rv_str_len(item), &ip, &ret->net)) {
		return rego_bi_error(ctx, "invalid CIDR address: %s", rv_str(item));
	}

	ret->first = ret->net.addr;
	ret->last = ret->net.addr;
	net_addr_fill_host(&ret->first, net_prefix_bits128(&ret->net), false);
	net_addr_fill_host(&ret->last, net_prefix_bits128(&ret->net), true);
	ret->first.v4 = ret->last.v4 = false;
	return 0;
}

/* The address before a, staying at the bottom of the IPv4-mapped or IPv6
 * space (cilium's GetPreviousIP, which OPA uses). */
static struct net_addr previous_addr(const struct net_addr *a)
{
	static const uint8_t zero[16];
	struct net_addr prev = *a;
	bool mapped = memcmp(a->b, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0;

	if (memcmp(a->b, zero, 16) == 0 ||
	    (mapped && memcmp(a->b + 12, zero, 4) == 0))
		return prev;
	for (int i = 15; i >= (mapped ? 12 : 0); i--)
		if (prev.b[i]-- != 0)
			break;
	return prev;
}

/* Appends the fewest aligned prefixes covering [first, last] to out. */
static int range_to_prefixes(struct rego_bctx *ctx, struct net_addr first, struct net_addr last,
			     struct rv *out)
{
	bool v4 = memcmp(first.b, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0;
	unsigned min_bits = v4 ? 96 : 0;
	char text[NET_TEXT_MAX];

	(void)ctx;
	for (;;) {
		unsigned bits = 128;
		struct net_prefix net;
		struct net_addr block_last;

		/* The largest block aligned at first that ends by last. */
		while (bits > min_bits) {
			struct net_addr lo = first, hi = first;

			net_addr_fill_host(&lo, bits - 1, false);
			net_addr_fill_host(&hi, bits - 1, true);
			if (net_addr_compare(&lo, &first) != 0 || net_addr_compare(&hi, &last) > 0)
				break;
			bits--;
		}
		net.addr = first;
		net.addr.v4 = v4;
		net.bits = v4 ? bits - 96 : bits;
		net_format_prefix(&net, text);
		WD_TRY(rv_set_add(out, rv_cstring(text)));

		block_last = first;
		net_addr_fill_host(&block_last, bits, true);
		if (net_addr_compare(&block_last, &last) >= 0)
			return 0;
		first = block_last;
		for (int i = 15; i >= 0 && ++first.b[i] == 0; i--)
			;
	}
}

static int bi_cidr_merge(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			 struct rv **ret)
{
	struct rv *v = args[0], *result = NULL;
	struct range *ranges = NULL;
	size_t count, kept;
	char text[NET_TEXT_MAX];
	int rc;

	(void)nargs;
	if (!rv_is(v, RV_ARRAY) && !rv_is(v, RV_SET))
		return rego_bi_error(ctx, "operand must be an array");
	count = rv_is(v, RV_ARRAY) ? rv_array_len(v) : rv_len(v);
	if (count > NET_MERGE_MAX)
		return rego_bi_error(ctx, "operand has more than %u networks", NET_MERGE_MAX);

	ranges = wd_calloc(count ? count : 1, sizeof(*ranges));
	WD_ENSURE(ranges, WD_ENOMEM);
	for (size_t i = 0; i < count; i++) {
		struct rv *item, *unused;

		if (rv_is(v, RV_ARRAY))
			item = rv_array_at(v, i);
		else
			rv_map_sorted_at(v, i, &item, &unused);
		WD_GUARD(merge_element(ctx, item, &ranges[i]));
	}

	/* Sort by last then first address, and fold each range into the one
	 * before it when they touch or overlap. */
	qsort(ranges, count, sizeof(*ranges), range_compare);
	kept = count;
	for (size_t i = count; i-- > 1;) {
		struct net_addr prev = previous_addr(&ranges[i].first);

		if (net_addr_compare(&prev, &ranges[i - 1].last) > 0)
			continue;
		if (net_addr_compare(&ranges[i].first, &ranges[i - 1].first) < 0)
			ranges[i - 1].first = ranges[i].first;
		ranges[i - 1].last = ranges[i].last;
		ranges[i - 1].merged = true;
		memmove(&ranges[i], &ranges[i + 1], (kept - i - 1) * sizeof(*ranges));
		kept--;
	}

	result = rv_set_new(kept);
	WD_ENSURE(result, WD_ENOMEM);
	for (size_t i = 0; i < kept; i++) {
		if (!ranges[i].merged) {
			net_format_prefix(&ranges[i].net, text);
			WD_GUARD(rv_set_add(result, rv_cstring(text)));
			continue;
		}
		WD_GUARD(range_to_prefixes(ctx, ranges[i].first, ranges[i].last, result));
	}
	*ret = WD_TAKE_PTR(result);
	rc = 0;
out:
	rv_unref(result);
	free(ranges);
	return rc;
}

const struct rego_builtin rego_builtins_net[] = {
	{ .name = "net.cidr_contains", .arity = 2, .arg_types = { RK_STRING, RK_STRING },
	  .result_type = RK_BOOL, .fn = bi_cidr_contains },
	{ .name = "net.cidr_contains_matches", .arity = 2,
	  .arg_types = { RK_STRING | RK_ARRAY | RK_OBJECT | RK_SET,
			 RK_STRING | RK_ARRAY | RK_OBJECT | RK_SET },
	  .result_type = RK_SET, .fn = bi_cidr_contains_matches },
	{ .name = "net.cidr_expand", .arity = 1, .arg_types = { RK_STRING },
	  .result_type = RK_SET, .fn = bi_cidr_expand },
	{ .name = "net.cidr_intersects", .arity = 2, .arg_types = { RK_STRING, RK_STRING },
	  .result_type = RK_BOOL, .fn = bi_cidr_intersects },
	{ .name = "net.cidr_is_valid", .arity = 1, .arg_types = { RK_STRING },
	  .result_type = RK_BOOL, .fn = bi_cidr_is_valid },
	{ .name = "net.cidr_merge", .arity = 1, .arg_types = { RK_ARRAY | RK_SET },
	  .result_type = RK_SET, .fn = bi_cidr_merge },
	{ .name = "net.cidr_overlap", .arity = 2, .flags = REGO_BI_DEPRECATED,
	  .arg_types = { RK_STRING, RK_STRING }, .result_type = RK_BOOL,
	  .fn = bi_cidr_contains },
	{ .name = NULL },
};
