/* RPC between two address spaces: with and without badges, capability
 * transfer both ways, the largest message and one word more, and the same
 * traffic through the fast path and the general path. */
// test-module: build/tests/system/progs/server.elf
#include "tap.h"
#include <libipc/ipc.h>
#include "protocol.h"

#define FRAME_VADDR 0x60000000UL

static uint64_t rng;
static uint64_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* n calls of mixed lengths; a checksum of all replies, or 0 on any error */
static uint64_t traffic(uint64_t port, unsigned n, unsigned flags)
{
	uint64_t sum = 1;
	rng = 12345;
	for (unsigned i = 0; i < n; i++) {
		struct msg m;
		uint64_t words = next_random() % 7; /* 0..6: both sides of the register line */
		for (uint64_t k = 0; k < words; k++)
			m.w[k] = next_random();
		m.info = MSG_INFO(LABEL_ECHO, words, 0) | flags;
		if (ipc_call(port, &m) || MSG_WORDS(m.info) != words || MSG_LABEL(m.info) != LABEL_ECHO)
			return 0;
		for (uint64_t k = 0; k < words; k++)
			sum = sum * 31 + m.w[k];
	}
	return sum;
}

int main(const struct bootinfo *bi)
{
	tap_plan(21);
	struct process server;
	uint64_t port, plain = slot_alloc(), badged = slot_alloc();
	const struct bootinfo_module *mod = &bi->module[0];
	long err = object_alloc(OBJ_PORT, 0, &port);
	err = err ? err : sys_cnode_mint(port, CAP_ROOT_CNODE, plain, RIGHT_SEND, 0);
	err = err ? err : sys_cnode_mint(port, CAP_ROOT_CNODE, badged, RIGHT_SEND, 0x4242);
	err = err ? err : process_spawn((const void *)mod->vaddr, mod->size, 100, 0, 20, &server);
	err = err ? err : sys_cnode_move(port, server.cnode, SERVER_PORT_SLOT);
	err = err ? err : process_start(&server);
	tap_eq(err, E_OK, "spawn the server from a boot module, move it the receive right, start it");

	struct msg m = { .info = MSG_INFO(LABEL_ECHO, 2, 0), .w = { 10, 20 } };
	err = ipc_call(plain, &m);
	tap_ok(!err && MSG_LABEL(m.info) == LABEL_ECHO && MSG_WORDS(m.info) == 2 && m.w[0] == 11 &&
	       m.w[1] == 22, "a call to the other address space and its reply (err %ld)", err);

	m.info = MSG_INFO(LABEL_WHOAMI, 0, 0);
	err = ipc_call(plain, &m);
	tap_ok(!err && m.w[0] == 0, "an unbadged send right shows badge 0");
	m.info = MSG_INFO(LABEL_WHOAMI, 0, 0);
	err = ipc_call(badged, &m);
	tap_ok(!err && m.w[0] == 0x4242, "a badged send right shows its badge (%lx)", m.w[0]);

	/* the longest message, and one word more */
	m.info = MSG_INFO(LABEL_ECHO, MSG_MAX_WORDS, 0);
	for (int i = 0; i < MSG_MAX_WORDS; i++)
		m.w[i] = 1000 + i;
	err = ipc_call(plain, &m);
	int all = !err && MSG_WORDS(m.info) == MSG_MAX_WORDS;
	for (int i = 0; all && i < MSG_MAX_WORDS; i++)
		all = m.w[i] == (uint64_t)(1000 + 2 * i + 1);
	tap_ok(all, "a %d-word message goes and comes back intact", MSG_MAX_WORDS);
	m.info = MSG_INFO(LABEL_ECHO, MSG_MAX_WORDS + 1, 0);
	tap_eq(ipc_syscall(SYS_CALL, plain, &m, 0, 0), E_BAD_MSG, "a message one word longer is refused");
	m.info = MSG_INFO(LABEL_ECHO, 1, MSG_MAX_CAPS + 1);
	tap_eq(ipc_syscall(SYS_CALL, plain, &m, 0, 0), E_BAD_MSG, "a message with too many caps is refused");
	m.info = MSG_INFO(LABEL_ECHO, 1, 1);
	ipc_set_send_caps((const uint64_t[]){ slot_alloc() }, 1);
	tap_eq(ipc_syscall(SYS_CALL, plain, &m, 0, 0), E_BAD_MSG, "a message naming an empty slot to send is refused");

	/* capabilities to the server: it reports how many and their badges */
	uint64_t give[3] = { badged, plain, CAP_ROOT_VSPACE };
	ipc_set_send_caps(give, 3);
	m.info = MSG_INFO(LABEL_TAKE_CAPS, 0, 3);
	err = ipc_call(plain, &m);
	tap_ok(!err && m.w[0] == 3 && m.w[1] == 0x4242 && m.w[2] == 0 && m.w[3] == 0,
	       "three capabilities transferred, with badges (err %ld, %lu caps)", err, m.w[0]);
	tap_ok(cspace_slot_type(badged) == OBJ_PORT && cspace_slot_type(CAP_ROOT_VSPACE) == OBJ_VSPACE,
	       "copies were sent: ours are still there");

	/* and a capability back */
	uint64_t got = slot_alloc();
	ipc_set_send_caps(0, 0);
	ipc_set_recv_slots(&got, 1);
	m.info = MSG_INFO(LABEL_GIVE_FRAME, 0, 0);
	err = ipc_call(plain, &m);
	tap_ok(!err && MSG_CAPS(m.info) == 1, "the reply carries a frame capability (err %ld)", err);
	err = page_map_with_tables(got, FRAME_VADDR, RIGHT_READ);
	tap_ok(!err && *(volatile uint8_t *)FRAME_VADDR == 0xab && *(volatile uint8_t *)(FRAME_VADDR + 4095) == 0xab,
	       "mapped, it shows what the server wrote");
	ipc_set_recv_slots(0, 0);
	m.info = MSG_INFO(LABEL_GIVE_FRAME, 0, 0);
	err = ipc_call(plain, &m);
	tap_eq(err, E_NO_REPLY, "a reply with a cap we have no slot for fails; the server cannot answer");

	/* the same traffic on both paths gives the same replies */
	uint64_t msgs[3] = { 0 }, fastpath[3] = { 0 }, switches[2] = { 0 };
	long kc_err = sys_kernel_counter(KC_IPC_MESSAGES, &msgs[0]);
	sys_kernel_counter(KC_IPC_FASTPATH, &fastpath[0]);
	sys_kernel_counter(KC_SPACE_SWITCHES, &switches[0]);
	uint64_t fast = traffic(plain, 2000, 0);
	sys_kernel_counter(KC_IPC_MESSAGES, &msgs[1]);
	sys_kernel_counter(KC_IPC_FASTPATH, &fastpath[1]);
	sys_kernel_counter(KC_SPACE_SWITCHES, &switches[1]);
	uint64_t slow = traffic(plain, 2000, MSG_FLAG_SLOWPATH);
	sys_kernel_counter(KC_IPC_MESSAGES, &msgs[2]);
	sys_kernel_counter(KC_IPC_FASTPATH, &fastpath[2]);
	tap_ok(fast != 0 && fast == slow, "2000 calls: fast path and general path agree (%lx, %lx)", fast, slow);
	uint64_t fast_msgs = msgs[1] - msgs[0], slow_msgs = msgs[2] - msgs[1];
	uint64_t fast_fp = fastpath[1] - fastpath[0], slow_fp = fastpath[2] - fastpath[1];
	/* forced calls go the general path; the server's replies may still
	 * go fast; the server lives in another address space, so every
	 * message is a switch */
	uint64_t fast_sw = switches[1] - switches[0];
	tap_ok(!kc_err && fast_msgs == 4000 && slow_msgs == 4000 && slow_fp <= 2000 && fast_fp > slow_fp &&
	               fast_sw >= 4000,
	       "kernel counters: 4000 messages each way (%lu, %lu); fast-path moves %lu, forced slow %lu; %lu switches",
	       fast_msgs, slow_msgs, fast_fp, slow_fp, fast_sw);
	uint64_t fast_b = traffic(badged, 500, 0), slow_b = traffic(badged, 500, MSG_FLAG_SLOWPATH);
	tap_ok(fast_b == slow_b && fast_b != 0, "and with a badged right");

	/* errors on the way */
	m.info = MSG_INFO(LABEL_ECHO, 0, 0);
	tap_eq(ipc_call(CAP_ROOT_VSPACE, &m), E_WRONG_TYPE, "a call on a VSpace capability is refused");
	m.info = MSG_INFO(LABEL_ECHO, 0, 0);
	tap_eq(ipc_recv(plain, 0, &m), E_NO_RIGHTS, "receiving on a send right is refused");

	/* the server goes away: its receive right dies with its CNode */
	process_destroy(&server);
	tap_eq(cspace_slot_type(server.cnode), OBJ_NONE, "destroy the server");
	tap_eq(cspace_slot_type(plain), OBJ_PORT, "our send right outlives the server");
	m.info = MSG_INFO(LABEL_ECHO, 0, 0);
	tap_eq(ipc_call(plain, &m), E_DEAD_PORT, "a call on the dead port fails at once");
	tap_done();
}
