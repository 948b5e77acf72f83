/* lwIP's configuration for servers/net (see lwIP's src/include/lwip/opt.h
 * for every option and its default).  docs/net.md gives the reasons in
 * prose; in short:
 *   - NO_SYS: no threads inside lwIP.  The server calls it from several
 *     threads, but always under its one lock (servers/net/lock.c).
 *   - memory: lwIP's own heap (MEM_SIZE at LWIP_HEAP_VA, pages main.c
 *     maps from the server's own quota before lwip_init: init maps at
 *     most 256 pages of an image) and its pools (static arrays), fixed
 *     in size, so a flood cannot make it ask for more.  Received frames
 *     are copied into heap pbufs.
 *   - IPv4 only: Ethernet, ARP, ICMP, UDP, TCP, DHCP, IP fragments, a
 *     raw PCB for ping, and the loopback interface (127.0.0.1).
 */
#ifndef BERTH_LWIPOPTS_H
#define BERTH_LWIPOPTS_H

#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_TIMERS 1
#define LWIP_NETCONN 0
#define LWIP_SOCKET 0
#define LWIP_NETIF_API 0

/* --- memory: about 1 MiB in all ------------------------------------------ */
#define MEM_LIBC_MALLOC 0
#define MEMP_MEM_MALLOC 0
#define MEM_ALIGNMENT 8
#define MEM_SIZE (1024 * 1024)
#define LWIP_HEAP_VA 0x5c000000UL
#define LWIP_HEAP_BYTES (MEM_SIZE + 4096)
#define LWIP_RAM_HEAP_POINTER ((void *)LWIP_HEAP_VA)
#define MEMP_NUM_PBUF 128
#define MEMP_NUM_RAW_PCB 4
#define MEMP_NUM_UDP_PCB 24
#define MEMP_NUM_TCP_PCB 80
#define MEMP_NUM_TCP_PCB_LISTEN 24
#define MEMP_NUM_TCP_SEG 1024
#define MEMP_NUM_REASSDATA 8
#define MEMP_NUM_FRAG_PBUF 32
#define MEMP_NUM_ARP_QUEUE 32
#define PBUF_POOL_SIZE 16
/* the window is bounded by the heap, not the pool: received frames go
 * to heap pbufs (link.c), so the pool-based check does not apply */
#define LWIP_DISABLE_TCP_SANITY_CHECKS 1
#define PBUF_POOL_BUFSIZE 1536

/* --- protocols ----------------------------------------------------------- */
#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define ETHARP_SUPPORT_STATIC_ENTRIES 0
#define ARP_QUEUEING 1
#define IP_FORWARD 0
#define IP_REASSEMBLY 1
#define IP_FRAG 1
#define IP_REASS_MAX_PBUFS 48
#define LWIP_ICMP 1
#define LWIP_RAW 1
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_DHCP 1
#define LWIP_DHCP_CHECK_LINK_UP 1
#define DHCP_DOES_ARP_CHECK 0
#define LWIP_AUTOIP 0
#define LWIP_IGMP 0
#define LWIP_DNS 0
#define LWIP_ALTCP 0
#define SO_REUSE 1

/* --- TCP: windows for throughput on QEMU's user network ------------------- */
#define TCP_MSS 1460
#define TCP_WND (32 * TCP_MSS)
#define TCP_SND_BUF (32 * TCP_MSS)
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / TCP_MSS)
#define TCP_SNDLOWAT (TCP_SND_BUF / 4)
#define TCP_LISTEN_BACKLOG 1
#define TCP_DEFAULT_LISTEN_BACKLOG 16
#define LWIP_TCP_KEEPALIVE 1
#define TCP_QUEUE_OOSEQ 1
#define LWIP_WND_SCALE 1
#define TCP_RCV_SCALE 2

/* --- interfaces ----------------------------------------------------------- */
#define LWIP_NETIF_LINK_CALLBACK 1
#define LWIP_NETIF_STATUS_CALLBACK 1
#define LWIP_NETIF_HOSTNAME 1
#define LWIP_NETIF_LOOPBACK 1
#define LWIP_HAVE_LOOPIF 1
#define LWIP_LOOPBACK_MAX_PBUFS 256
#define LWIP_SINGLE_NETIF 0

/* --- checks and statistics ------------------------------------------------- */
#define LWIP_STATS 0
#define LWIP_DEBUG 0
#define CHECKSUM_CHECK_IP 1
#define CHECKSUM_CHECK_TCP 1
#define CHECKSUM_CHECK_UDP 1
#define CHECKSUM_CHECK_ICMP 1

#endif
