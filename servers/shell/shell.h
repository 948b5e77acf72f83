/* What the shell's parts share (main.c: the console and the name
 * service; files.c: the file commands). */
#ifndef SHELL_H
#define SHELL_H

#include <stdint.h>
#include <stddef.h>

/* idl/fs.idl's open flags; the longest echo text */
#define FS_OPEN_CREATE 1u
#define FS_OPEN_TRUNC 4u
#define LINE_TEXT_MAX 127

void out(const char *s);
void outf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t lookup(const char *name);   /* a right from init's name service, or 0 */
void drop(uint64_t slot);

#define FILES_HELP \
	"  ls [PATH]     a directory's entries (type, size, name), or one file\n" \
	"  cat FILE      print a file\n" \
	"  cp FROM TO    copy a file\n" \
	"  mv FROM TO    rename a file or directory\n" \
	"  rm FILE       remove a file\n" \
	"  mkdir DIR     make a directory; rmdir DIR removes an empty one\n" \
	"  df            the file system's size, free blocks and inodes\n" \
	"  sync          write everything the file system holds back to the disk\n" \
	"  echo WORDS > FILE   write the words to a file (>> appends)\n"

#define NET_HELP \
	"  ifconfig      the network interface: address, netmask, gateway, MAC, link, counters\n" \
	"  ping A.B.C.D [COUNT]  ICMP echo requests (4 unless COUNT), one a second\n"

#define TRACE_HELP \
	"  trace on NAME...  record the messages to and from these tasks (docs/trace.md)\n" \
	"  trace off [NAME...]  stop (every task when no name is given)\n" \
	"  trace show    the records, oldest first: time, delta, from -> to, kind, label\n"

/* The trace command (trace.c): 1 if cmd was it (and it ran), 0 if not. */
int trace_command(const char *cmd, char *arg);

/* A network command (net.c): 1 if cmd was one (and ran), 0 if not. */
int net_command(const char *cmd, char *arg);

/* A VM's port on the network server's switch (vmnet.c); args: the
 * words after the VM's name. */
void vm_fw(const char *name, char *args);
void vm_net(const char *name);
void vm_forward(const char *name, char *args);

/* --- input (input.c, lineedit.c; README.md "Input") --- */

/* The reader thread's messages to the main thread, on the shell's port. */
#define SHELL_TYPED 0x7f10               /* w0 count (at most 256), w1.. the bytes */
#define SHELL_CONSOLE_NEW 0x7f11         /* the console driver was restarted */

/* One edited line into line (size bytes, its end not included), from
 * the bytes the reader sends to typed_port. */
void input_read_line(char *line, size_t size, uint64_t typed_port);
/* The i-th command name, for Tab completion; 0 past the last. */
const char *shell_command_name(unsigned i);

/* A file command (files.c): 1 if cmd was one (and ran), 0 if not. */
int files_command(const char *cmd, char *arg);
/* echo with a redirection: "WORDS > FILE" or "WORDS >> FILE". */
void files_echo_to(char *arg);

#endif
