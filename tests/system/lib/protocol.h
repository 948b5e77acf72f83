/* Labels and slots shared by the system tests and their helper programs
 * in tests/system/progs/. */
#ifndef TEST_PROTOCOL_H
#define TEST_PROTOCOL_H

/* progs/server.c: its receive right is in slot 8 (PROCESS_FIRST_GIVEN) */
#define SERVER_PORT_SLOT 8
#define LABEL_ECHO 1     /* reply: word i + i + 1, same length */
#define LABEL_WHOAMI 2   /* reply: w0 = the caller's badge */
#define LABEL_TAKE_CAPS 3 /* reply: w0 = caps received, w1..3 = their badges */
#define LABEL_GIVE_FRAME 4 /* reply carries a frame cap filled with 0xab */
#define LABEL_COUNT 5    /* w0 = client, w1 = sequence number; reply: w0 = sequence */
#define LABEL_STATS 6    /* reply: w0 = messages, w1 = out-of-order ones, w2 = clients */

/* progs/faulter.c: touches pages, then calls slot 8 with LABEL_DONE */
#define FAULTER_REGION 0x40000000UL
#define FAULTER_PAGES 32
#define LABEL_DONE 7     /* w0 = checksum of what it read back */
#define LABEL_WILD 8     /* then it touches FAULTER_WILD_ADDR */
#define FAULTER_WILD_ADDR 0x7000000000UL

#endif
