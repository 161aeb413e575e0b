/* IP addresses and CIDR prefixes for the net.cidr_* builtins, parsed and
 * printed as Go's net package does (OPA's source of truth). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An address in 16 bytes; IPv4 is held IPv4-mapped (::ffff:a.b.c.d). */
struct net_addr {
	uint8_t b[16];
	bool v4;       /* written as IPv4 text */
};

/* A prefix: addr with its first `bits` bits significant, counted in the
 * address family (0..32 for IPv4, 0..128 for IPv6). */
struct net_prefix {
	struct net_addr addr;
	unsigned bits;
};

/* Room for the longest address or prefix text, with its NUL. */
#define NET_TEXT_MAX 64

/* Parses an IPv4 or IPv6 address as net.ParseIP (no zone, no leading zeros
 * in IPv4 fields). */
bool net_parse_ip(const char *text, size_t len, struct net_addr *ret_addr);

/* Parses "addr/bits" as net.ParseCIDR: stores the address as written and
 * the network (address masked to the prefix). */
bool net_parse_cidr(const char *text, size_t len, struct net_addr *ret_ip,
		    struct net_prefix *ret_net);

/* Bits of the prefix counted over all 128 bits (IPv4 adds 96). */
unsigned net_prefix_bits128(const struct net_prefix *net);

/* Sets the host bits (after the first bits128 bits) of addr to zero or,
 * when ones is true, to one. */
void net_addr_fill_host(struct net_addr *addr, unsigned bits128, bool ones);

/* True when addr lies in net (an IPv4 address also in an IPv4-mapped IPv6
 * prefix, as Go's IPNet.Contains). */
bool net_prefix_contains(const struct net_prefix *net, const struct net_addr *addr);

/* Compares addresses as 16 big-endian bytes. */
int net_addr_compare(const struct net_addr *a, const struct net_addr *b);

/* Writes the address as IP.String: dotted for IPv4 and IPv4-mapped, RFC
 * 5952 for IPv6. */
void net_format_ip(const struct net_addr *addr, char out[NET_TEXT_MAX]);

/* Writes "addr/bits" as IPNet.String. */
void net_format_prefix(const struct net_prefix *net, char out[NET_TEXT_MAX]);
