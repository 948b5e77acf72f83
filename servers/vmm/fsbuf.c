/* A buffer shared with the fs server (fsbuf.h). */
#include "vm.h"
#include "fs.h"     /* generated from idl/fs.idl */
#include "fsbuf.h"

void cap_drop(uint64_t *slot)
{
	if (*slot) {
		sys_cnode_delete(*slot);
		slot_free(*slot);
		*slot = 0;
	}
}

int fs_gone(long err)
{
	return err == E_NO_REPLY || err == E_DEAD_PORT || err == E_BAD_CAP;
}

void fsbuf_unmap(struct fsbuf *b)
{
	for (unsigned p = 0; p < FSBUF_PAGES; p++) {
		if (b->frame[p])
			sys_page_unmap(b->frame[p]);
		cap_drop(&b->frame[p]);
	}
	cap_drop(&b->session);
}

long fsbuf_attach(struct fsbuf *b, uint64_t fs, const char *client)
{
	uint32_t pages;
	fsbuf_unmap(b);
	long err = fs_buffer_attach(fs, client, &b->session, &pages);
	if (err) {
		b->session = 0;
		return err;
	}
	if (pages != FSBUF_PAGES)
		err = E_BAD_MSG;
	for (unsigned p = 0; !err && p < FSBUF_PAGES; p++) {
		err = fs_buffer_frame(b->session, p, &b->frame[p]);
		if (err)
			b->frame[p] = 0;
		else
			err = page_map_with_tables(b->frame[p], b->va + p * PAGE_SIZE, RIGHT_READ | RIGHT_WRITE);
	}
	if (err)
		fsbuf_unmap(b);
	return err;
}

int fsbuf_holds(const struct fsbuf *b, uint64_t addr)
{
	return addr >= b->va && addr < b->va + FSBUF_BYTES;
}
