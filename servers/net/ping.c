/*
 * ping: ICMP echo requests from a raw lwIP PCB, each with a deferred
 * reply answered when the matching echo reply arrives (same identifier,
 * sequence number and source) or when its timeout runs out.  lwIP itself
 * answers other hosts' echo requests; the raw PCB only looks at replies
 * and leaves every other ICMP message to lwIP.
 */
#include "net.h"
#include "socket.h"
#include "lwip/raw.h"
#include "lwip/icmp.h"
#include "lwip/inet_chksum.h"
#include "lwip/ip.h"
#include "lwip/prot/ip4.h"

#define MAX_PINGS 8
#define PING_MAX_SIZE 1400
#define PING_MAX_TIMEOUT 60000

struct ping {
	uint64_t reply;           /* 0: free */
	uint32_t addr;
	uint16_t id, seq;
	uint64_t sent_us, deadline;
};

static struct ping pings[MAX_PINGS];
static struct raw_pcb *pcb;
static uint16_t next_id;

static u8_t on_icmp(void *arg, struct raw_pcb *p, struct pbuf *pb, const ip_addr_t *from)
{
	(void)arg;
	(void)p;
	struct icmp_echo_hdr echo;
	uint8_t ttl;
	/* the IP header is still in front of the ICMP message */
	if (pb->tot_len < IP_HLEN + sizeof(echo) || pbuf_copy_partial(pb, &ttl, 1, 8) != 1)
		return 0;
	uint16_t hlen = (uint16_t)((pbuf_get_at(pb, 0) & 0x0f) * 4);
	if (hlen < IP_HLEN || pb->tot_len < hlen + sizeof(echo) ||
	    pbuf_copy_partial(pb, &echo, sizeof(echo), hlen) != sizeof(echo) || echo.type != ICMP_ER)
		return 0;
	uint32_t src = lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(from)));
	for (unsigned i = 0; i < MAX_PINGS; i++) {
		struct ping *q = &pings[i];
		if (q->reply && q->addr == src && q->id == lwip_ntohs(echo.id) && q->seq == lwip_ntohs(echo.seqno)) {
			uint64_t rtt = clock_us() - q->sent_us;
			uint64_t words[2] = { rtt > 0xffffffffULL ? 0xffffffffULL : rtt, ttl };
			reply_words(&q->reply, SOCKET_PING_LABEL, E_OK, words, 2);
			pbuf_free(pb);
			return 1;   /* ours: eaten */
		}
	}
	return 0;
}

long ping_start(void *ctx, uint32_t addr, uint32_t seq, uint32_t size, uint32_t timeout_ms)
{
	unsigned i = 0;
	while (i < MAX_PINGS && pings[i].reply)
		i++;
	if (i == MAX_PINGS)
		return E_LIMIT;
	if (!pcb)
		return NET_ENOBUFS;
	uint16_t len = (uint16_t)(sizeof(struct icmp_echo_hdr) + size);
	struct pbuf *p = pbuf_alloc(PBUF_IP, len, PBUF_RAM);
	if (!p)
		return NET_ENOBUFS;
	struct icmp_echo_hdr *echo = p->payload;
	struct ping *q = &pings[i];
	q->addr = addr;
	q->id = ++next_id;
	q->seq = (uint16_t)seq;
	echo->type = ICMP_ECHO;
	echo->code = 0;
	echo->chksum = 0;
	echo->id = lwip_htons(q->id);
	echo->seqno = lwip_htons(q->seq);
	for (uint32_t k = 0; k < size; k++)
		((uint8_t *)(echo + 1))[k] = (uint8_t)('a' + k % 26);
	echo->chksum = inet_chksum(echo, len);
	ip_addr_t to;
	ip_addr_set_ip4_u32_val(to, lwip_htonl(addr));
	q->sent_us = clock_us();
	err_t e = raw_sendto(pcb, p, &to);
	pbuf_free(p);
	if (e != ERR_OK)
		return e == ERR_RTE ? NET_EHOSTUNREACH : NET_ENOBUFS;
	/* an echo reply that comes with nobody waiting is simply not matched */
	if (!(q->reply = defer_current(ctx)))
		return E_LIMIT;
	q->deadline = deadline_after(timeout_ms);
	return SERVER_DEFERRED;
}

void ping_service(void)
{
	uint64_t now = clock_ms();
	for (unsigned i = 0; i < MAX_PINGS; i++)
		if (pings[i].reply && pings[i].deadline <= now)
			reply_words(&pings[i].reply, SOCKET_PING_LABEL, E_WOULD_BLOCK, 0, 0);
}

uint64_t ping_next_deadline(void)
{
	uint64_t next = NO_DEADLINE;
	for (unsigned i = 0; i < MAX_PINGS; i++)
		if (pings[i].reply && pings[i].deadline < next)
			next = pings[i].deadline;
	return next;
}

long ping_check(uint32_t size, uint32_t timeout_ms)
{
	return size > PING_MAX_SIZE || !timeout_ms || timeout_ms > PING_MAX_TIMEOUT ? E_BAD_ARG : E_OK;
}

void ping_init(void)
{
	pcb = raw_new(IP_PROTO_ICMP);
	if (pcb)
		raw_recv(pcb, on_icmp, 0);
}
