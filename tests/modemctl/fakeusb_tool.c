/*
 * mk_fakeusb_tool: builds the fake sysfs/procfs trees of tests/support/fake_usb.h from
 * the command line, for the modemctl end-to-end tests (MODEMCTL_SYSFS/MODEMCTL_PROCFS).
 *
 *   mk_fakeusb_tool SYS add PORT sim7600|rc76xx|boothold|edl DEVNUM bound|unbound
 *   mk_fakeusb_tool PROC proc PID COMM PATH...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/fake_usb.h"

int main(int argc, char **argv)
{
    if (argc >= 7 && strcmp(argv[2], "add") == 0) {
        static const char *const names[] = {"sim7600", "rc76xx", "boothold", "edl"};
        for (int i = 0; i < 4; i++)
            if (strcmp(argv[4], names[i]) == 0)
                return mk_fakeusb_add_profile(argv[1], argv[3], (enum mk_fakeusb_profile)i,
                                              (unsigned)atoi(argv[5]),
                                              strcmp(argv[6], "bound") == 0) == 0
                           ? 0
                           : 1;
    }
    if (argc >= 5 && strcmp(argv[2], "proc") == 0)
        return mk_fakeusb_proc_add(argv[1], atoi(argv[3]), argv[4], (const char *const *)argv + 5,
                                   (size_t)(argc - 5)) == 0
                   ? 0
                   : 1;
    fprintf(stderr, "usage: see the comment in fakeusb_tool.c\n");
    return 2;
}
