/* A test server in its own address space: answers the protocol in
 * lib/protocol.h on the port whose receive right it was given. */
#include <libipc/libipc.h>
#include <libipc/ipc.h>
#include "../lib/protocol.h"

#define MAX_CLIENTS 16
#define REPLY_SLOT 40
#define CAP_SLOTS 41          /* 41, 42, 43: caps received with TAKE_CAPS */
#define FRAME_VADDR 0x50000000UL

static uint64_t expected[MAX_CLIENTS], messages, out_of_order, clients;

static void handle(struct msg *m)
{
	uint64_t label = MSG_LABEL(m->info), n = MSG_WORDS(m->info);
	switch (label) {
	case LABEL_ECHO:
		for (uint64_t i = 0; i < n; i++)
			m->w[i] += i + 1;
		m->info = MSG_INFO(LABEL_ECHO, n, 0);
		break;
	case LABEL_WHOAMI:
		m->w[0] = m->badge;
		m->info = MSG_INFO(LABEL_WHOAMI, 1, 0);
		break;
	case LABEL_TAKE_CAPS: {
		const struct ipc_buffer *b = ipc_buffer();
		uint64_t k = MSG_CAPS(m->info);
		for (uint64_t i = 0; i < 3; i++)
			m->w[i + 1] = i < k ? b->recv_badges[i] : 0;
		m->w[0] = k;
		for (uint64_t i = 0; i < 3; i++)
			sys_cnode_delete(CAP_SLOTS + i);
		m->info = MSG_INFO(LABEL_TAKE_CAPS, 4, 0);
		break;
	}
	case LABEL_GIVE_FRAME: {
		uint64_t f;
		if (page_alloc_map(FRAME_VADDR, RIGHT_READ | RIGHT_WRITE, &f)) {
			m->info = MSG_INFO(0, 0, 0);
			break;
		}
		memset((void *)FRAME_VADDR, 0xab, PAGE_SIZE);
		sys_page_unmap(f);
		ipc_set_send_caps(&f, 1);
		m->info = MSG_INFO(LABEL_GIVE_FRAME, 0, 1);
		break;
	}
	case LABEL_COUNT: {
		uint64_t c = m->w[0];
		if (c < MAX_CLIENTS) {
			if (!expected[c])
				clients++;
			if (m->w[1] != expected[c])
				out_of_order++;
			expected[c] = m->w[1] + 1;
		}
		messages++;
		m->w[0] = m->w[1];
		m->info = MSG_INFO(LABEL_COUNT, 1, 0);
		break;
	}
	case LABEL_STATS:
		m->w[0] = messages;
		m->w[1] = out_of_order;
		m->w[2] = clients;
		m->info = MSG_INFO(LABEL_STATS, 3, 0);
		break;
	default:
		m->info = MSG_INFO(0, 0, 0);
	}
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	static const uint64_t slots[3] = { CAP_SLOTS, CAP_SLOTS + 1, CAP_SLOTS + 2 };
	struct msg m;
	ipc_set_recv_slots(slots, 3);
	long err = ipc_recv(SERVER_PORT_SLOT, REPLY_SLOT, &m);
	for (;;) {
		if (err == E_DEAD_PORT)
			return 0;
		if (err) {
			/* a reply the caller could not take: drop the reply
			 * right, so the caller learns no answer will come */
			debug_printf("# server: error %ld; dropping the reply right\n", err);
			sys_cnode_delete(REPLY_SLOT);
			ipc_set_recv_slots(slots, 3);
			err = ipc_recv(SERVER_PORT_SLOT, REPLY_SLOT, &m);
			continue;
		}
		ipc_set_send_caps(0, 0);
		handle(&m);
		ipc_set_recv_slots(slots, 3);
		err = ipc_reply_recv(REPLY_SLOT, SERVER_PORT_SLOT, REPLY_SLOT, &m);
	}
}
