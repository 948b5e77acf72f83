/* The shell's command line split into words: a small part of what a
 * POSIX shell does, enough that a name, a path or a guest's kernel
 * command line can hold any character.
 *
 *   - Words are separated by spaces and tabs.
 *   - '...' keeps everything inside as it is.
 *   - "..." keeps everything inside, but \" and \\ stand for " and \.
 *   - Outside quotes, \ makes the next character an ordinary one
 *     (\  a space inside a word, \> a '>').
 *   - Quoted and unquoted parts next to each other make one word
 *     (cmdline="console=ttyS0 quiet" is the word cmdline=console=ttyS0 quiet);
 *     "" or '' alone is an empty word.
 *   - An unquoted > or >> sends the command's output to the file named by
 *     the next word (only echo writes files; others refuse); it may stand
 *     anywhere in the line, with or without spaces around it.
 *
 * Pure code: no system calls and no C library, so it is built into the
 * shell and, on the host, into tests/unit/test_shell_words.c. */
#ifndef SHELL_WORDS_H
#define SHELL_WORDS_H

#include <stddef.h>

#define WORDS_MAX 32

struct words {
	int argc;
	char *argv[WORDS_MAX + 1];  /* argv[argc] is 0 */
	const char *redirect;       /* the file after > or >>, or 0 */
	int append;                 /* it was >> */
};

/* Split line into *w in place (the words point into line, which is
 * rewritten).  0, or -1 with *error saying what is wrong in a few words
 * (an unterminated quote, too many words, > without a file, two
 * redirections, a \ ending the line). */
int words_split(char *line, struct words *w, const char **error);

/* argv[0..argc) joined by single spaces into buf (size bytes with its
 * NUL): the length, or -1 if it does not fit. */
int words_join(char *const *argv, int argc, char *buf, size_t size);

#endif
