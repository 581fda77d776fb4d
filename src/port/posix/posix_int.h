/* Internal API shared by the files of src/port/posix. */
#ifndef MK_POSIX_INT_H
#define MK_POSIX_INT_H

#include <stdint.h>

/*
 * Linux termios2 (BOTHER): sets the tty's input and output rate to an arbitrary value.
 * Lives in its own file because <asm/termbits.h> cannot be included next to
 * <termios.h>. Returns 0 or an errno value; ENOTSUP where termios2 does not exist.
 */
int mk_posix_termios2_set(int fd, uint32_t rate);

/* Reads the output rate back as a number (0 and ENOTSUP where termios2 is missing). */
int mk_posix_termios2_get(int fd, uint32_t *rate);

#endif
