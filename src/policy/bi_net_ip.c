/* IP address and CIDR parsing and printing with the rules of Go's net and
 * net/netip packages, which OPA's net.cidr_* builtins use. */
#include <stdio.h>
#include <string.h>

#include "policy/bi_net_ip.h"

static const uint8_t v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static bool is_v4_mapped(const uint8_t b[16])
{
	return memcmp(b, v4_mapped_prefix, sizeof(v4_mapped_prefix)) == 0;
}

/* Dotted decimal: four fields of 1 to 3 digits, at most 255, and no leading
 * zero (Go 1.17 and later reject "010" as ambiguous). */
static bool parse_v4(const char *s, size_t len, uint8_t out[4])
{
	size_t pos = 0;

	for (int field = 0; field < 4; field++) {
		unsigned value = 0;
		size_t digits = 0;

		if (field > 0) {
			if (pos >= len || s[pos] != '.')
				return false;
			pos++;
		}
		while (pos < len && s[pos] >= '0' && s[pos] <= '9') {
			if (digits == 1 && value == 0)
				return false;
			value = value * 10 + (unsigned)(s[pos] - '0');
			if (value > 255)
				return false;
			digits++;
			pos++;
		}
		if (digits == 0)
			return false;
		out[field] = (uint8_t)value;
	}
	return pos == len;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 4291 section 2.2 text, with "::" once and an optional trailing
 * dotted IPv4 part; zones are rejected as net.ParseIP does. */
static bool parse_v6(const char *s, size_t len, uint8_t out[16])
{
	size_t pos = 0, i = 0;
	int ellipsis = -1;

	memset(out, 0, 16);
	if (len >= 2 && s[0] == ':' && s[1] == ':') {
		ellipsis = 0;
		pos = 2;
		if (pos == len)
			return true;
	}

	while (i < 16) {
		size_t start = pos;
		unsigned value = 0;

		while (pos < len && hex_value(s[pos]) >= 0) {
			value = value * 16 + (unsigned)hex_value(s[pos]);
			pos++;
			if (pos - start > 4)
				return false;
		}
		if (pos == start)
			return false;

		/* A dotted IPv4 tail fills the last four bytes. */
		if (pos < len && s[pos] == '.') {
			if (ellipsis < 0 && i != 12)
				return false;
			if (i + 4 > 16 || !parse_v4(s + start, len - start, out + i))
				return false;
			i += 4;
			pos = len;
			break;
		}

		out[i++] = (uint8_t)(value >> 8);
		out[i++] = (uint8_t)value;
		if (pos == len)
			break;
		if (s[pos] != ':' || pos + 1 == len)
			return false;
		pos++;
		if (s[pos] == ':') {
			if (ellipsis >= 0)
				return false;
			ellipsis = (int)i;
			pos++;
			if (pos == len)
				break;
		}
	}
	if (pos != len)
		return false;

	if (i < 16) {
		size_t tail;

		if (ellipsis < 0)
			return false;
		tail = i - (size_t)ellipsis;
		memmove(out + 16 - tail, out + ellipsis, tail);
		memset(out + ellipsis, 0, 16 - tail - (size_t)ellipsis);
	} else if (ellipsis >= 0) {
		/* "::" must stand for at least one group. */
		return false;
	}
	return true;
}

bool net_parse_ip(const char *text, size_t len, struct net_addr *ret_addr)
{
	memset(ret_addr, 0, sizeof(*ret_addr));
	if (memchr(text, ':', len)) {
		ret_addr->v4 = false;
		return parse_v6(text, len, ret_addr->b);
	}
	memcpy(ret_addr->b, v4_mapped_prefix, sizeof(v4_mapped_prefix));
	ret_addr->v4 = true;
	return parse_v4(text, len, ret_addr->b + 12);
}

unsigned net_prefix_bits128(const struct net_prefix *net)
{
	return net->addr.v4 ? net->bits + 96 : net->bits;
}

void net_addr_fill_host(struct net_addr *addr, unsigned bits128, bool ones)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned first = i * 8;
		uint8_t host_mask;

		if (bits128 >= first + 8)
			continue;
		host_mask = (uint8_t)(bits128 <= first ? 0xffu : 0xffu >> (bits128 - first));
		if (ones)
			addr->b[i] |= host_mask;
		else
			addr->b[i] &= (uint8_t)~host_mask;
	}
}

bool net_parse_cidr(const char *text, size_t len, struct net_addr *ret_ip,
		    struct net_prefix *ret_net)
{
	const char *slash = memchr(text, '/', len);
	size_t addr_len, pos;
	unsigned bits = 0, max_bits;

	if (!slash)
		return false;
	addr_len = (size_t)(slash - text);
	if (!net_parse_ip(text, addr_len, ret_ip))
		return false;

	/* Go's dtoi: decimal digits only, leading zeros allowed. */
	pos = addr_len + 1;
	if (pos == len)
		return false;
	for (; pos < len; pos++) {
		if (text[pos] < '0' || text[pos] > '9')
			return false;
		bits = bits * 10 + (unsigned)(text[pos] - '0');
		if (bits > 0xffffff)
			return false;
	}
	max_bits = ret_ip->v4 ? 32 : 128;
	if (bits > max_bits)
		return false;

	ret_net->addr = *ret_ip;
	ret_net->bits = bits;
	net_addr_fill_host(&ret_net->addr, net_prefix_bits128(ret_net), false);
	return true;
}

bool net_prefix_contains(const struct net_prefix *net, const struct net_addr *addr)
{
	struct net_addr masked = *addr;
	unsigned bits128 = net_prefix_bits128(net);

	net_addr_fill_host(&masked, bits128, false);
	return memcmp(masked.b, net->addr.b, 16) == 0;
}

int net_addr_compare(const struct net_addr *a, const struct net_addr *b)
{
	return memcmp(a->b, b->b, 16);
}

void net_format_ip(const struct net_addr *addr, char out[NET_TEXT_MAX])
{
	const uint8_t *b = addr->b;
	size_t best_start = 16, best_len = 0, used = 0;

	if (addr->v4 || is_v4_mapped(b)) {
		snprintf(out, NET_TEXT_MAX, "%u.%u.%u.%u", b[12], b[13], b[14], b[15]);
		return;
	}

	/* RFC 5952 section 4.2.3: the longest run (the first of equal runs)
	 * of two or more zero groups becomes "::". */
	for (size_t i = 0; i < 16; i += 2) {
		size_t j = i;

		while (j < 16 && b[j] == 0 && b[j + 1] == 0)
			j += 2;
		if (j - i > best_len && j - i >= 4) {
			best_start = i;
			best_len = j - i;
		}
		if (j > i)
			i = j - 2;
	}

	out[0] = '\0';
	for (size_t i = 0; i < 16; i += 2) {
		if (i == best_start) {
			used += (size_t)snprintf(out + used, NET_TEXT_MAX - used, "::");
			i += best_len - 2;
			continue;
		}
		if (i > 0 && i != best_start + best_len)
			used += (size_t)snprintf(out + used, NET_TEXT_MAX - used, ":");
		used += (size_t)snprintf(out + used, NET_TEXT_MAX - used, "%x",
					 (unsigned)(b[i] << 8 | b[i + 1]));
	}
}

void net_format_prefix(const struct net_prefix *net, char out[NET_TEXT_MAX])
{
	char ip[NET_TEXT_MAX];
	unsigned bits = net->bits & 0xff;

	/* IPNet.String prints an IPv4-mapped IPv6 network in IPv4 form with
	 * the low 32 bits of its mask. */
	if (!net->addr.v4 && is_v4_mapped(net->addr.b))
		bits = bits >= 96 ? bits - 96 : 0;
	net_format_ip(&net->addr, ip);
	snprintf(out, NET_TEXT_MAX, "%.47s/%u", ip, bits);
}
