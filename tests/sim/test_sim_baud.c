/*
 * modemsim --baud: bytes cross the port at the line rate (10 bits per byte) in both
 * directions. Measured with a 10240-byte AT+CCERTDOWN whose data the module echoes
 * (ATE1): the host's bytes go in at the line rate while the echo comes out at it.
 * The bounds are wide on purpose: this checks pacing exists and has the right order of
 * magnitude, not a scheduler's precision.
 */
#include "sim_test_util.h"

#define N 10240

/* Seconds from the first data byte to the final OK, for a sim started with args. */
static double upload_seconds(const char *baud)
{
    const char *args[] = {"--profile", "SIM7600E-H", "--boot-delay-ms", "0", "--sim-delay-ms",
                          "0", baud ? "--baud" : NULL, baud, NULL};
    struct mk_sim s;
    if (mk_sim_start(&s, args) != 0 || mk_sim_expect(&s, "PB DONE\r\n", T_MS) != 0)
        return -1;
    static unsigned char data[N];
    for (size_t i = 0; i < N; i++)
        data[i] = (unsigned char)('A' + i % 26);
    char resp[256];
    double secs = -1;
    if (mk_sim_cmd(&s, "AT+CCERTDOWN=\"big.pem\",10240", resp, sizeof resp, T_MS) == 0 &&
        strcmp(resp, ">\n") == 0) {
        int64_t t0 = mk_test_now_ms();
        /* the echo (10240 letters, no CR inside) then the final result */
        if (mk_sim_write(&s, data, N) == 0 && mk_sim_expect(&s, "\r\nOK\r\n", 20000) == 0)
            secs = (double)(mk_test_now_ms() - t0) / 1000.0;
    }
    MK_CHECK_EQ_INT(mk_sim_stop(&s), 0);
    return secs;
}

MK_TEST(baud_115200_paces_the_port)
{
    double line = (double)N * 10.0 / 115200.0; /* 0.89 s each way, both at once */
    double paced = upload_seconds("115200");
    double free_run = upload_seconds(NULL);
    printf("# 10240 B at 115200 bd: %.3f s (line time %.3f s, %.0f B/s); unpaced %.3f s\n",
           paced, line, paced > 0 ? N / paced : 0.0, free_run);
    MK_CHECK(paced > 0);
    MK_CHECK(paced >= 0.8 * line);
    MK_CHECK(paced <= 3.0 * line);
    MK_CHECK(free_run >= 0);
    MK_CHECK(free_run < 0.5 * line);
}

MK_TEST_MAIN()
