/*
 * Arbitrary line rates on Linux. The glibc in Debian 12 only maps the B* constants, so a
 * rate such as 250000 or 3686400 goes through the kernel's termios2 interface with the
 * BOTHER flag. <asm/termbits.h> redefines struct termios, hence this separate file that
 * never includes <termios.h>.
 */
#include "posix_int.h"

#include <errno.h>

#if defined(__linux__)
#include <asm/termbits.h>
#include <sys/ioctl.h>

int mk_posix_termios2_set(int fd, uint32_t rate)
{
    struct termios2 t;
    if (ioctl(fd, TCGETS2, &t) != 0)
        return errno;
    /* Clear the output and input speed fields, then ask for "other" rates in both. */
    t.c_cflag &= ~(tcflag_t)(CBAUD | (CBAUD << IBSHIFT));
    t.c_cflag |= (tcflag_t)(BOTHER | (BOTHER << IBSHIFT));
    t.c_ispeed = rate;
    t.c_ospeed = rate;
    if (ioctl(fd, TCSETS2, &t) != 0)
        return errno;
    return 0;
}

int mk_posix_termios2_get(int fd, uint32_t *rate)
{
    struct termios2 t;
    if (ioctl(fd, TCGETS2, &t) != 0)
        return errno;
    *rate = t.c_ospeed;
    return 0;
}

#else

int mk_posix_termios2_set(int fd, uint32_t rate)
{
    (void)fd;
    (void)rate;
    return ENOTSUP;
}

int mk_posix_termios2_get(int fd, uint32_t *rate)
{
    (void)fd;
    *rate = 0;
    return ENOTSUP;
}

#endif
