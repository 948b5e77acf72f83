/* Error codes returned in rax by every system call.  See docs/abi.md. */
#ifndef BERTH_ERRORS_H
#define BERTH_ERRORS_H

enum berth_error {
	E_OK = 0,
	E_BAD_SYSCALL = 1,     /* unknown call number */
	E_BAD_CAP = 2,         /* slot index outside the CNode, or slot empty */
	E_WRONG_TYPE = 3,      /* the capability names the wrong kind of object */
	E_NO_RIGHTS = 4,       /* the capability lacks a right the call needs */
	E_BAD_ARG = 5,         /* an argument is outside its defined values */
	E_RANGE = 6,           /* an object would not fit in its untyped */
	E_ALIGN = 7,           /* offset or address misaligned */
	E_OVERLAP = 8,         /* retype below the untyped's watermark */
	E_SLOT_FULL = 9,       /* destination slot is occupied */
	E_MAPPED = 10,         /* already mapped (frame, table or address) */
	E_NOT_MAPPED = 11,     /* unmap of something not mapped */
	E_MISSING_TABLE = 12,  /* a page-table level is missing; rdx = level */
	E_BAD_ADDRESS = 13,    /* user pointer not mapped or not in user space */
	E_STATE = 14,          /* object not in a state that allows the call */
	E_NOT_COPYABLE = 15,   /* RECEIVE, reply, untyped and page-table caps move only */
	E_REPLY_USED = 16,     /* a send-once (reply) right was used already */
	E_DEAD_PORT = 17,      /* the port's receive right is gone */
	E_NO_REPLY = 18,       /* no reply: its right was destroyed unused; or, to a
	                        * replier, the caller is gone */
	E_WOULD_BLOCK = 19,    /* a non-blocking call found no partner */
	E_BAD_MSG = 20,        /* message too long, too many caps, bad cap to send */
	E_RECV_SLOTS = 21,     /* the receiver named no (free) slot for a cap */
	E_LIMIT = 22,          /* a fixed kernel table is full (address-space IDs) */
	E_COUNT
};

#endif
