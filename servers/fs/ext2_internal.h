/* ext2_internal.h: what the ext2_*.c files share: the mount structure,
 * on-disk field offsets and the helpers each file exports to the others.
 * Not part of the API (ext2.h is). */
#ifndef EXT2_INTERNAL_H
#define EXT2_INTERNAL_H

#include "ext2.h"

/* --- on-disk constants (ext2 revision 1) ---------------------------- */
#define EXT2_SUPER_OFFSET 1024
#define EXT2_SUPER_MAGIC  0xEF53
#define EXT2_VALID_FS     1
#define EXT2_ERROR_FS     2
#define EXT2_GOOD_OLD_REV 0
#define EXT2_GOOD_OLD_INODE_SIZE 128
#define EXT2_GOOD_OLD_FIRST_INO 11
#define EXT2_N_DIRECT 12
#define EXT2_IND  12
#define EXT2_DIND 13
#define EXT2_TIND 14
#define EXT2_RESIZE_INO 7

#define EXT2_FEATURE_COMPAT_DIR_INDEX 0x0020
#define EXT2_FEATURE_INCOMPAT_FILETYPE 0x0002
#define EXT2_FEATURE_INCOMPAT_SUPPORTED EXT2_FEATURE_INCOMPAT_FILETYPE
#define EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER 0x0001
#define EXT2_FEATURE_RO_COMPAT_LARGE_FILE   0x0002
#define EXT2_FEATURE_RO_COMPAT_SUPPORTED \
	(EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER | EXT2_FEATURE_RO_COMPAT_LARGE_FILE)
#define EXT2_INDEX_FL 0x00001000
#define EXT2_XATTR_MAGIC 0xEA020000u

/* superblock field offsets */
enum {
	SB_INODES_COUNT = 0, SB_BLOCKS_COUNT = 4, SB_R_BLOCKS_COUNT = 8,
	SB_FREE_BLOCKS = 12, SB_FREE_INODES = 16, SB_FIRST_DATA_BLOCK = 20,
	SB_LOG_BLOCK_SIZE = 24, SB_LOG_FRAG_SIZE = 28, SB_BLOCKS_PER_GROUP = 32,
	SB_FRAGS_PER_GROUP = 36, SB_INODES_PER_GROUP = 40, SB_MTIME = 44,
	SB_WTIME = 48, SB_MNT_COUNT = 52, SB_MAX_MNT_COUNT = 54, SB_MAGIC = 56,
	SB_STATE = 58, SB_REV_LEVEL = 76, SB_FIRST_INO = 84, SB_INODE_SIZE = 88,
	SB_FEATURE_COMPAT = 92, SB_FEATURE_INCOMPAT = 96,
	SB_FEATURE_RO_COMPAT = 100, SB_RESERVED_GDT = 206,
	SB_WANT_EXTRA_ISIZE = 0x15E,
};

/* group descriptor (32 bytes) */
enum { GD_BLOCK_BITMAP = 0, GD_INODE_BITMAP = 4, GD_INODE_TABLE = 8,
       GD_FREE_BLOCKS = 12, GD_FREE_INODES = 14, GD_USED_DIRS = 16,
       GD_SIZE = 32 };

/* little-endian field access on raw buffers */
static inline uint16_t get16(const void *p, size_t off)
{
	const uint8_t *b = (const uint8_t *)p + off;
	return (uint16_t)(b[0] | b[1] << 8);
}
static inline uint32_t get32(const void *p, size_t off)
{
	const uint8_t *b = (const uint8_t *)p + off;
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}
static inline void put16(void *p, size_t off, uint16_t v)
{
	uint8_t *b = (uint8_t *)p + off;
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
}
static inline void put32(void *p, size_t off, uint32_t v)
{
	uint8_t *b = (uint8_t *)p + off;
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
}

/* --- the in-memory inode: the fields the library uses, decoded -------- */
struct ext2_inode {
	uint32_t ino;
	uint16_t mode, links;
	uint32_t uid, gid;
	uint64_t size;
	uint32_t atime, ctime, mtime, dtime;
	uint32_t blocks;  /* 512-byte units */
	uint32_t flags;
	uint32_t block[15];
	uint32_t file_acl;
	bool is_new; /* iput zeroes the on-disk record first */
};

/* --- block cache --------------------------------------------------- */
/* Write classes, written in this order by a sync (docs/fs.md):
 * DATA (file data, directory, indirect and xattr blocks) and BITMAP
 * blocks first, then INODE table blocks, then the deferred frees. */
enum buf_kind { BUF_DATA, BUF_BITMAP, BUF_INODE };

/* Neighbouring blocks go to and from the device in one request of up
 * to this many bytes (the block driver's buffer is 64 KiB). */
#define EXT2_RUN_BYTES 65536u
/* A sequential read of data reads this many blocks ahead (at most). */
#define EXT2_READ_AHEAD 32u

struct ext2_buf {
	uint32_t blk;
	uint8_t kind;
	bool valid, dirty;
	bool ahead;    /* read ahead, not yet asked for: its kind is not known */
	uint32_t pins;
	uint64_t used; /* LRU stamp */
	int32_t next;  /* hash chain (index), -1 at the end */
	uint8_t *data;
};

struct ext2_fs {
	struct ext2_blockdev *dev;
	bool ro;
	bool mounted;           /* past mount: damage is recorded on disk */
	uint32_t (*now)(void *);
	void *now_ctx;
	void (*notice)(void *, const char *);
	void *notice_ctx;
	char err[160];

	/* geometry */
	uint32_t bs;            /* block size in bytes */
	uint32_t sec_per_blk;
	uint32_t blocks_count, inodes_count, first_data_block;
	uint32_t bpg, ipg;      /* blocks/inodes per group */
	uint32_t ngroups;
	uint32_t inode_size, first_ino;
	uint32_t itable_blocks; /* per group */
	uint32_t gdt_blocks, reserved_gdt;
	uint32_t ptrs;          /* block pointers per block */
	uint16_t want_extra_isize;
	uint16_t state_at_mount;
	bool dir_index, filetype;

	/* superblock and group descriptors, kept in memory */
	uint8_t sb[1024];
	bool sb_dirty;
	uint8_t *gdt;           /* gdt_blocks * bs bytes */
	bool *gdt_dirty;        /* per GDT block */

	/* block cache */
	struct ext2_buf *bufs;
	uint32_t nbufs;
	int32_t *hash;          /* nhash chain heads: block number -> buffer */
	uint32_t nhash;
	uint64_t clock;
	uint32_t ndirty;

	/* frees deferred until the references to them are durable */
	uint32_t *free_blocks;
	uint32_t nfree_blocks, cap_free_blocks;
	uint32_t *free_inodes;  /* ino | 1u<<31 when a directory */
	uint32_t nfree_inodes, cap_free_inodes;
	/* how many of each list a sync may apply: the frees of finished
	 * operations, whose in-memory state is all in the cache */
	uint32_t ready_blocks, ready_inodes;

	uint32_t *bhint;        /* per group: no free block below this index */
	bool syncing;
	uint32_t last_miss;     /* the last data block read from the disk: sequential reads read ahead */
	uint8_t *run;           /* EXT2_RUN_BYTES: several blocks in one device request */
	struct ext2_buf **order; /* nbufs: the dirty blocks of a sync step, sorted */
};

/* ext2_super.c */
int ext2_fail(struct ext2_fs *fs, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
uint32_t ext2_now(struct ext2_fs *fs);
void ext2_sb_set32(struct ext2_fs *fs, size_t off, uint32_t v);
uint8_t *ext2_gd(struct ext2_fs *fs, uint32_t group);
int ext2_write_super_gdt(struct ext2_fs *fs);
void ext2_gd_dirty(struct ext2_fs *fs, uint32_t group);

/* ext2_cache.c */
int ext2_cache_init(struct ext2_fs *fs, uint32_t nbufs);
void ext2_cache_free(struct ext2_fs *fs);
/* Pins block blk in the cache (reading it unless fresh: then zeroed). */
int ext2_bget(struct ext2_fs *fs, uint32_t blk, enum buf_kind kind, bool fresh,
	      struct ext2_buf **out);
void ext2_bput(struct ext2_fs *fs, struct ext2_buf *b);
void ext2_bdirty(struct ext2_fs *fs, struct ext2_buf *b);
int ext2_sync_all(struct ext2_fs *fs);
int ext2_dev_read(struct ext2_fs *fs, uint32_t blk, void *buf);
int ext2_dev_write(struct ext2_fs *fs, uint32_t blk, const void *buf);
int ext2_dev_flush(struct ext2_fs *fs);

/* ext2_alloc.c */
bool ext2_is_data_block(struct ext2_fs *fs, uint32_t blk);
bool ext2_group_has_super(struct ext2_fs *fs, uint32_t g);
int ext2_alloc_block(struct ext2_fs *fs, uint32_t goal, uint32_t *blk);
int ext2_alloc_inode(struct ext2_fs *fs, uint32_t parent, bool dir, uint32_t *ino);
int ext2_defer_free_block(struct ext2_fs *fs, uint32_t blk);
int ext2_defer_free_inode(struct ext2_fs *fs, uint32_t ino, bool dir);
int ext2_apply_frees(struct ext2_fs *fs);
void ext2_frees_ready(struct ext2_fs *fs);
/* Undo an allocation nothing has pointed to yet (a failed operation). */
void ext2_unalloc_block(struct ext2_fs *fs, uint32_t blk);
void ext2_unalloc_inode(struct ext2_fs *fs, uint32_t ino, bool dir);

/* ext2_inode.c */
int ext2_iget(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in);
int ext2_iput(struct ext2_fs *fs, const struct ext2_inode *in);
/* Pins the inode table block holding ino (so a later iput cannot fail on
 * a read); release with ext2_bput.  NULL-safe with *b = NULL on error. */
int ext2_ipin(struct ext2_fs *fs, uint32_t ino, struct ext2_buf **b);
void ext2_inew(struct ext2_fs *fs, struct ext2_inode *in, uint32_t ino, uint16_t mode);
bool ext2_has_blocks(struct ext2_fs *fs, const struct ext2_inode *in);
/* Maps logical block lblk of in; *pblk = 0 for a hole.  With alloc, fills
 * the hole with a zeroed block and updates in (the caller writes it). */
int ext2_bmap(struct ext2_fs *fs, struct ext2_inode *in, uint64_t lblk, bool alloc,
	      uint32_t *pblk);
/* Frees every block from logical block from on; updates in. */
int ext2_free_from(struct ext2_fs *fs, struct ext2_inode *in, uint64_t from);
uint64_t ext2_max_lblocks(struct ext2_fs *fs);
int ext2_release_inode(struct ext2_fs *fs, struct ext2_inode *in);

/* ext2_dir.c */
int ext2_dir_find(struct ext2_fs *fs, struct ext2_inode *dir, const char *name,
		  size_t len, uint32_t *ino, uint8_t *type);
int ext2_dir_add(struct ext2_fs *fs, struct ext2_inode *dir, const char *name,
		 size_t len, uint32_t ino, uint8_t type);
int ext2_dir_remove(struct ext2_fs *fs, struct ext2_inode *dir, const char *name,
		    size_t len);
int ext2_dir_set(struct ext2_fs *fs, struct ext2_inode *dir, const char *name,
		 size_t len, uint32_t ino, uint8_t type);
/* Pins the directory block holding name's entry (see ext2_ipin). */
int ext2_dir_pin(struct ext2_fs *fs, struct ext2_inode *dir, const char *name, size_t len,
		 struct ext2_buf **b);
int ext2_dir_rename_entry(struct ext2_fs *fs, struct ext2_inode *dir, const char *name,
			  size_t len, const char *to, size_t to_len);
int ext2_dir_is_empty(struct ext2_fs *fs, struct ext2_inode *dir);
int ext2_dir_init(struct ext2_fs *fs, struct ext2_inode *dir, uint32_t parent);
int ext2_dir_set_dotdot(struct ext2_fs *fs, struct ext2_inode *dir, uint32_t parent);
uint8_t ext2_mode_to_dt(uint16_t mode);

/* ext2_path.c */
int ext2_walk(struct ext2_fs *fs, const char *path, uint32_t *ino);
int ext2_walk_parent(struct ext2_fs *fs, const char *path, uint32_t *parent,
		     const char **name, size_t *len);

#endif
