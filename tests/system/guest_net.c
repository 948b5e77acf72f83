/* Guests' networks served by Berth's network server (issue 13): two
 * Linux guests, each with a virtio-net card on a port of the server's
 * virtual switch (the VMM's `net`), get their MAC and address from the
 * switch (10.0.4.10, 10.0.4.11), reach Berth itself (ping the gateway,
 * fetch a file from Berth's httpd), are kept apart from each other by
 * default, and reach each other (ping, TCP to the peer's busybox httpd)
 * once this program gives the first guest's port two rules (after both
 * guests told it, on Berth's port 7000, that they found their peer
 * blocked); the rules' counters show the frames they let through.  The guests' side is
 * tests/system/data/guest_net_autorun.sh.  Then the host fetches the
 * first guest's page through a port QEMU forwards to Berth and Berth's
 * NAT forwards to the guest (forward=tcp:8081:80 in its manifest).
 * Last, the second VM's VMM is killed: its switch port goes down and the
 * first guest's pings to the gateway go on and are answered. */
// test-root: build/init.elf
// test-module: tests/system/manifests/guest_net.manifest
// test-module: build/serial.elf
// test-module: build/rtc.elf
// test-module: build/pci.elf
// test-module: build/virtio_blk.elf
// test-module: build/virtio_net.elf
// test-module: build/fs.elf
// test-module: build/net.elf
// test-module: build/httpd.elf
// test-module: build/vmm.elf
// test-module: cache/linux/guest/bzImage
// test-module: cache/linux/guest/initramfs.cpio.gz
// test-disk-image: a build/tests/data/guest-net.img
// test-qemu: -drive if=none,id=da,format=raw,file={disk:a} -device virtio-blk-pci,disable-legacy=on,drive=da,addr=4
// test-hostfwd: g
// test-hostfwd: done
// test-net: user hostfwd=tcp:127.0.0.1:{hostfwd:g}-:8081 hostfwd=tcp:127.0.0.1:{hostfwd:done}-:7001
// test-host: guest-net-test: ready for the host => {python} tools/guest_net_host.py {hostfwd:g} {hostfwd:done}
// test-exit: none
// test-timeout: 400
// test-selfcheck: 256
// test-expect: ^vmm: \[linux\] net: 52:54:00:be:04:0a, 10\.0\.4\.10/24 via 10\.0\.4\.1
// test-expect: \[linux\] berth-guest: eth0 10\.0\.4\.10/24 via 10\.0\.4\.1
// test-expect: \[linux\] guest-net: 10\.0\.4\.10: the gateway \(Berth\) answers ping
// test-expect: \[linux2\] guest-net: 10\.0\.4\.11: the gateway \(Berth\) answers ping
// test-expect: \[linux\] guest-net: 10\.0\.4\.10: Berth's httpd says: hello from Berth's disk
// test-expect: \[linux\] guest-net: 10\.0\.4\.10: the peer is blocked by default
// test-expect: \[linux2\] guest-net: 10\.0\.4\.11: the peer is blocked by default
// test-expect: \[linux\] guest-net: 10\.0\.4\.10: the peer answers ping after the rules
// test-expect: \[linux\] guest-net: 10\.0\.4\.10: the peer's httpd says: hello from the Linux guest at 10\.0\.4\.11/24
// test-expect: \[linux2\] guest-net: 10\.0\.4\.11: the peer's httpd says: hello from the Linux guest at 10\.0\.4\.10/24
// test-expect: \[linux\] guest-net: 10\.0\.4\.10: interrupts ERR:0 MIS:0\s*$
// test-expect: \[linux2\] guest-net: 10\.0\.4\.11: interrupts ERR:0 MIS:0\s*$
// test-reject: \[linux2?\].*(spurious|nobody cared|Disabling IRQ|lost interrupt|NETDEV WATCHDOG)
// test-expect: \[linux\] guest-net: 10\.0\.4\.10: done
// test-expect: \[linux2\] guest-net: 10\.0\.4\.11: done
// test-expect: \[linux\] guest-net: 10\.0\.4\.10: QEMU's network \(10\.0\.2\.2\) answers through Berth's NAT
// test-expect: ok 7 - the host finished its check and said so
// test-expect: ok 10 - the first guest.s traffic goes on
// test-reject: the peer answered before any rule
#include "tap.h"
#include "init.h"
#include "vswitch.h"
#include "net_socket.h"
#include "tasks.h"

#define SYNC_PORT 7000
#define DONE_PORT 7001

#define INIT 8

/* frames the switch dropped from a guest so far (0 if it cannot say) */
static uint64_t dropped_from(uint64_t sw, const char *vm)
{
	uint64_t mac, ff, fd = 0, tf, td;
	uint32_t ip, up;
	char last[32];
	if (vswitch_port_stats(sw, vm, &mac, &ip, &up, &ff, &fd, &tf, &td, last))
		return 0;
	return fd;
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	tap_plan(10);
	uint64_t sw = 0;
	for (unsigned t = 0; t < 600 && init_lookup(INIT, "switch", &sw); t++)
		clock_nap(10);
	tap_ok(sw != 0, "the network server publishes its switch");
	/* each guest connects to SYNC_PORT once it found its peer blocked */
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(SYNC_PORT) };
	int listening = l >= 0 && bind(l, (struct sockaddr *)&a4, sizeof(a4)) == 0 && listen(l, 2) == 0;
	struct timeval wait = { .tv_sec = 300 };
	setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
	int told = 0;
	for (int k = 0; listening && k < 2; k++) {
		int c = accept(l, 0, 0);
		if (c < 0)
			break;
		closesocket(c);
		told++;
	}
	tap_ok(told == 2, "both guests say they found their peer blocked (%d)", told);
	tap_ok(dropped_from(sw, "linux") >= 3 && dropped_from(sw, "linux2") >= 3,
	       "the switch counted the dropped frames on both ports");
	unsigned t;
	long a = vswitch_fw_insert(sw, "linux", 0, "out accept any 10.0.4.11/32");
	long b = vswitch_fw_insert(sw, "linux", 1, "in accept any 10.0.4.11/32");
	tap_ok(!a && !b, "two rules on the first guest's port: to and from the second");
	long bad = vswitch_fw_insert(sw, "linux", 0, "out accept tcp 10.0.4.11 80");
	tap_eq(bad, E_BAD_ARG, "a rule without a prefix is refused");
	uint32_t more = 0;
	char rule[64];
	uint64_t frames = 0, bytes;
	for (t = 0; t < 1200; t++) {
		if (!vswitch_fw_rule(sw, "linux", 0, &more, rule, &frames, &bytes) && frames >= 2)
			break;
		clock_nap(10);
	}
	tap_ok(frames >= 2, "the rule's counter shows the frames it let out");
	debug_printf("guest-net-test: rule 0 '%s': %lu frames, %lu bytes\n", rule, frames, bytes);
	/* the host's turn: it says "done" on DONE_PORT when it has finished */
	int d = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a7 = { .sin_family = AF_INET, .sin_port = htons(DONE_PORT) };
	int ok = d >= 0 && bind(d, (struct sockaddr *)&a7, sizeof(a7)) == 0 && listen(d, 1) == 0;
	setsockopt(d, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
	clock_nap(500); /* the guests finish their checks */
	debug_printf("\nguest-net-test: ready for the host\n");
	int c = ok ? accept(d, 0, 0) : -1;
	char word[16] = { 0 };
	if (c >= 0) {
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
		recv(c, word, sizeof(word) - 1, 0);
		closesocket(c);
	}
	tap_ok(c >= 0 && !strncmp(word, "done", 4), "the host finished its check and said so");

	/* One VM's VMM killed: the other guest's network is untouched (its
	 * pings to the gateway go on through the switch and are answered;
	 * what it still sends to the dead peer is dropped), the dead VM's
	 * port goes down. */
	uint64_t mac, ff0, fd0, tf0, td0, ff1, fd1, tf1, td1, mac2, f2, d2, t2, x2;
	uint32_t ip, up, ip2, up2 = 1, state = 1, end = 0;
	int64_t detail;
	char last[32];
	vswitch_port_stats(sw, "linux", &mac, &ip, &up, &ff0, &fd0, &tf0, &td0, last);
	tap_eq(init_kill(INIT, "linux2"), E_OK, "the second VM's VMM killed");
	for (t = 0; t < 500 && (state != 0 || up2); t++) {
		task_status("linux2", &state, &end, &detail);
		vswitch_port_stats(sw, "linux2", &mac2, &ip2, &up2, &f2, &d2, &t2, &x2, last);
		clock_nap(10);
	}
	tap_ok(state == 0 && !up2, "it is gone and its switch port is down");
	/* the guest pings about once a second; under load (two QEMUs on two
	 * cores in make test) its seconds run slower than ours, so wait for
	 * three pings' frames each way, up to 30 s, rather than count 5 s */
	uint64_t since = clock_ms();
	ff1 = ff0;
	tf1 = tf0;
	for (t = 0; t < 60 && (ff1 < ff0 + 3 || tf1 < tf0 + 3); t++) {
		clock_nap(50);
		vswitch_port_stats(sw, "linux", &mac, &ip, &up, &ff1, &fd1, &tf1, &td1, last);
	}
	int found = task_status("linux", &state, &end, &detail);
	tap_ok(up && ff1 >= ff0 + 3 && tf1 >= tf0 + 3 && found && state == 1,
	       "the first guest's traffic goes on: %lu frames out, %lu in over %lu ms (%lu dropped: '%s'; up %u, "
	       "state %u)", ff1 - ff0, tf1 - tf0, (unsigned long)(clock_ms() - since), fd1 - fd0, last, up, state);
	return 0;
}
