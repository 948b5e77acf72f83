/* Building and reading Ethernet, ARP, IPv4 and ICMP frames by hand, for
 * the virtio-net tests that speak Ethernet themselves. */
#ifndef ETH_H
#define ETH_H

#include <stdint.h>
#include <string.h>

#define ETH_ARP 0x0806
#define ETH_IP 0x0800
#define ETH_TEST 0x88b5   /* IEEE local experimental: the tests' own frames */

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void put_mac(uint8_t *p, uint64_t mac)
{
	for (int i = 0; i < 6; i++)
		p[i] = (uint8_t)(mac >> (8 * i));
}

static inline void put_ip(uint8_t *p, const uint8_t ip[4])
{
	memcpy(p, ip, 4);
}

/* A broadcast ARP request (60 bytes, padded) from mac/me for target. */
static inline unsigned arp_request_frame(uint8_t *frame, uint64_t mac, const uint8_t me[4], const uint8_t target[4])
{
	memset(frame, 0, 60);
	memset(frame, 0xff, 6);
	put_mac(frame + 6, mac);
	put16(frame + 12, ETH_ARP);
	uint8_t *a = frame + 14;
	put16(a, 1);            /* Ethernet */
	put16(a + 2, ETH_IP);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, 1);        /* request */
	put_mac(a + 8, mac);
	put_ip(a + 14, me);
	put_ip(a + 24, target);
	return 60;
}

/* The Internet checksum (RFC 1071) of n bytes. */
static inline uint16_t inet_sum(const uint8_t *p, unsigned n)
{
	uint32_t s = 0;
	for (unsigned i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

#endif
