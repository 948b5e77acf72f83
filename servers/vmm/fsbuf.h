/* A buffer the fs server shares with us (fs.idl's buffer_attach), mapped
 * at a fixed address of our space: the guest disk's (disk.c) and the
 * snapshots' (snapshot.c).  One fs call then moves up to FSBUF_BYTES
 * instead of 448 bytes.
 *
 * Its frames are the fs server's: when the server dies they vanish from
 * our space, perhaps in the middle of a copy.  So only a thread whose
 * faults come back to us as messages touches them: the disk's worker
 * (its faults restart it, disk_worker_fault), and safe_copy's copier
 * (servers/lib/safe_copy.h) for the snapshots. */
#ifndef VMM_FSBUF_H
#define VMM_FSBUF_H

#include <stdint.h>

#define FSBUF_PAGES 16
#define FSBUF_BYTES (FSBUF_PAGES * 4096UL)
#define FS_OPEN_CREATE 1      /* fs.idl's open flags */
#define FS_OPEN_TRUNC 4

struct fsbuf {
	uint64_t va;                  /* where its frames go in our space */
	uint64_t session;             /* the buffer's session with the fs server (0: none) */
	uint64_t frame[FSBUF_PAGES];
};

/* A buffer of the fs server fs, mapped at b->va; E_OK, or why not (with
 * nothing left mapped).  client: its name for the server (attaching
 * again under one name ends the earlier buffer of that name). */
long fsbuf_attach(struct fsbuf *b, uint64_t fs, const char *client);
/* Its frames out of our space, the session dropped (the frames may be
 * gone already, with the server). */
void fsbuf_unmap(struct fsbuf *b);
/* addr is inside the buffer. */
int fsbuf_holds(const struct fsbuf *b, uint64_t addr);
/* An fs call's status that says the server is gone (init restarts it). */
int fs_gone(long err);
/* Delete the capability in *slot and free the slot; *slot becomes 0. */
void cap_drop(uint64_t *slot);

#endif
