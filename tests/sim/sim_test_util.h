/*
 * Helpers shared by the modemsim integration tests (tests/sim/): start a simulator with
 * fast boot timings and run AT commands with checks.
 */
#ifndef SIM_TEST_UTIL_H
#define SIM_TEST_UTIL_H

#include "mk_test.h"
#include "support/sim_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T_MS 10000 /* generous per-step deadline; steps normally take milliseconds */

/* Starts modemsim with profile, fast boot, seed 7 and the extra args (NULL-terminated or
 * NULL); waits for the last boot URC (boot_done; NULL: until AT answers) and sends
 * ATE0. */
static inline int sim_up(struct mk_sim *s, const char *profile, const char *boot_done,
                         const char *const extra[])
{
    const char *args[48] = {"--profile", profile, "--boot-delay-ms", "0", "--sim-delay-ms",
                            "0", "--seed", "7"};
    int n = 8;
    for (int i = 0; extra && extra[i] && n < 47; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    if (mk_sim_start(s, args) != 0)
        return -1;
    if (boot_done ? mk_sim_expect(s, boot_done, T_MS) != 0 : mk_sim_wait_ready(s, T_MS) != 0)
        return -1;
    char resp[256];
    return mk_sim_cmd(s, "ATE0", resp, sizeof resp, T_MS) == 0 ? 0 : -1;
}

/* Runs cmd; checks the final result (0 OK/prompt, 1 error) and returns the response. */
#define AT_OK(s, cmd, resp) MK_CHECK_EQ_INT(mk_sim_cmd((s), (cmd), (resp), sizeof(resp), T_MS), 0)
#define AT_ERR(s, cmd, resp) MK_CHECK_EQ_INT(mk_sim_cmd((s), (cmd), (resp), sizeof(resp), T_MS), 1)
#define DATA_OK(s, str, resp)                                                                  \
    MK_CHECK_EQ_INT(mk_sim_data((s), (str), strlen(str), (resp), sizeof(resp), T_MS), 0)
#define CHECK_HAS(hay, needle)                                                                 \
    do {                                                                                       \
        if (!strstr((hay), (needle)))                                                          \
            MK_FAIL_AT(__FILE__, __LINE__, "\"%s\" not in \"%s\"", (needle), (hay));           \
    } while (0)

#endif
