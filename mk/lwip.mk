# lwIP, the TCP/IP stack inside servers/net.  tools/setup-lwip.sh puts
# Debian's lwip source package into cache/lwip/src (never into the tree);
# its core is compiled here with the servers' flags and the port headers
# of servers/net/port into $(BUILD)/lwip/liblwip.a.  Only the net server
# links it.

LWIP_STAMP := cache/lwip/stamp
LWIP_SRC   := cache/lwip/src/src
LWIP_INC   := -Iservers/net/port -I$(LWIP_SRC)/include
# IPv4 core, Ethernet/ARP, DHCP, ICMP, raw, UDP, TCP (mirrors lwIP's
# src/Filelists.mk, less IPv6, AutoIP, IGMP, DNS and the sequential APIs)
LWIP_FILES := core/init.c core/def.c core/inet_chksum.c core/ip.c core/mem.c core/memp.c \
	core/netif.c core/pbuf.c core/raw.c core/stats.c core/sys.c core/tcp.c core/tcp_in.c \
	core/tcp_out.c core/timeouts.c core/udp.c \
	core/ipv4/dhcp.c core/ipv4/etharp.c core/ipv4/icmp.c core/ipv4/ip4_frag.c core/ipv4/ip4.c \
	core/ipv4/ip4_addr.c netif/ethernet.c
LWIP_OBJ   := $(patsubst %.c,$(BUILD)/lwip/%.o,$(LWIP_FILES))
# lwIP compiles clean under Berth's warnings (fatal, as everywhere).
LWIP_CFLAGS = $(UCFLAGS) $(LWIP_INC)

$(LWIP_STAMP): tools/setup-lwip.sh
	@tools/setup-lwip.sh

# The sources exist once the set-up ran (their times are the tarball's,
# so only their existence counts); a new lwIP (a new stamp) compiles again.
$(LWIP_SRC)/%.c: | $(LWIP_STAMP)
	@test -f $@ || { echo "lwip: $@ is missing (tools/setup-lwip.sh)" >&2; exit 1; }

$(BUILD)/lwip/%.o: $(LWIP_SRC)/%.c $(LWIP_STAMP) servers/net/port/lwipopts.h servers/net/port/arch/cc.h \
		| $(LIBC_STAMP)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(LWIP_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/lwip/liblwip.a: $(LWIP_OBJ)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^
