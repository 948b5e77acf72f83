/* IPC wrappers: move words 4.. through the IPC buffer around the raw
 * system call. */
#include <libipc/libipc.h>
#include <libipc/ipc.h>

/* Words 4.. of a long message (the count bounded once, not per word: a
 * VM exit's message is 24 words each way, every exit) */
static uint64_t long_words(uint64_t info)
{
	uint64_t n = MSG_WORDS(info);
	return n < MSG_MAX_WORDS ? n : MSG_MAX_WORDS;
}

void ipc_put_words(const struct msg *m)
{
	uint64_t n = long_words(m->info);
	if (n > MSG_REG_WORDS) {
		struct ipc_buffer *b = ipc_buffer();
		for (uint64_t i = MSG_REG_WORDS; i < n; i++)
			b->words[i] = m->w[i];
	}
}

void ipc_get_words(struct msg *m)
{
	uint64_t n = long_words(m->info);
	if (n > MSG_REG_WORDS) {
		const struct ipc_buffer *b = ipc_buffer();
		for (uint64_t i = MSG_REG_WORDS; i < n; i++)
			m->w[i] = b->words[i];
	}
}

static long out_in(uint64_t n, uint64_t cap, struct msg *m, uint64_t reply_slot, uint64_t port)
{
	ipc_put_words(m);
	long err = ipc_syscall(n, cap, m, reply_slot, port);
	if (!err)
		ipc_get_words(m);
	return err;
}

long ipc_call(uint64_t port, struct msg *m) { return out_in(SYS_CALL, port, m, 0, 0); }
long ipc_reply_recv(uint64_t reply, uint64_t port, uint64_t reply_slot, struct msg *m)
{
	return out_in(SYS_REPLY_RECV, reply, m, reply_slot, port);
}

long ipc_send(uint64_t port, struct msg *m)
{
	ipc_put_words(m);
	return ipc_syscall(SYS_SEND, port, m, 0, 0);
}

long ipc_nb_send(uint64_t port, struct msg *m)
{
	ipc_put_words(m);
	return ipc_syscall(SYS_NB_SEND, port, m, 0, 0);
}

long ipc_reply(uint64_t reply, struct msg *m)
{
	ipc_put_words(m);
	return ipc_syscall(SYS_REPLY, reply, m, 0, 0);
}

long ipc_recv(uint64_t port, uint64_t reply_slot, struct msg *m)
{
	m->info = 0;
	return out_in(SYS_RECV, port, m, reply_slot, 0);
}

long ipc_nb_recv(uint64_t port, uint64_t reply_slot, struct msg *m)
{
	m->info = 0;
	return out_in(SYS_NB_RECV, port, m, reply_slot, 0);
}

void ipc_set_send_caps(const uint64_t *slots, unsigned n)
{
	struct ipc_buffer *b = ipc_buffer();
	for (unsigned i = 0; i < MSG_MAX_CAPS; i++)
		b->send_caps[i] = i < n ? slots[i] : 0;
}

void ipc_set_recv_slots(const uint64_t *slots, unsigned n)
{
	struct ipc_buffer *b = ipc_buffer();
	for (unsigned i = 0; i < MSG_MAX_CAPS; i++)
		b->recv_slots[i] = i < n ? slots[i] : 0;
}
