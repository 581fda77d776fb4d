/*
 * Minimal MCU integration of the AT engine: a UART receive interrupt fills a ring
 * buffer, the main loop feeds the engine, sends what it has to send and polls for the
 * result, with a millisecond tick as the clock. No RTOS, no malloc, no printf.
 *
 * Board glue (uart_write_byte, the IRQ hookup, tick) is yours; here they are weak stubs so
 * the example builds for Cortex-M4 in the arm preset (cmake --preset arm).
 */
#include <stdint.h>

#include "modemkit/at.h"

/* ---- board glue -------------------------------------------------------------------- */

static volatile uint32_t g_tick_ms; /* incremented by SysTick every millisecond */

void mk_example_systick_isr(void);
void mk_example_systick_isr(void)
{
    g_tick_ms++;
}

/* Transmit one byte, returning 0 when the UART cannot take it now. */
__attribute__((weak)) int mk_example_uart_put(uint8_t byte);
__attribute__((weak)) int mk_example_uart_put(uint8_t byte)
{
    (void)byte;
    return 1;
}

/* Receive ring, filled by the UART RX interrupt; single producer, single consumer. */
static uint8_t g_rx_ring[512];
static volatile uint16_t g_rx_head, g_rx_tail;

void mk_example_uart_rx_isr(uint8_t byte);
void mk_example_uart_rx_isr(uint8_t byte)
{
    uint16_t next = (uint16_t)((g_rx_head + 1) % sizeof g_rx_ring);
    if (next != g_rx_tail) { /* full: drop; the engine resynchronises on timeouts */
        g_rx_ring[g_rx_head] = byte;
        g_rx_head = next;
    }
}

/* ---- the application ----------------------------------------------------------------- */

static char g_line_buf[256];
static struct mk_at g_at;
static volatile int g_registered; /* set from the URC callback, read by the main loop */

static void on_creg(void *user, const char *line, size_t len)
{
    struct mk_at_arg a[2];
    long stat;
    (void)user;
    /* "+CREG: 1" (unsolicited) - 1 home, 5 roaming */
    if (mk_at_split(line, len, "+CREG:", a, 2) >= 1 && mk_at_arg_long(&a[0], &stat) == MK_OK)
        g_registered = (stat == 1 || stat == 5);
}

static const struct mk_at_urc g_urcs[] = {
    {"+CREG:", on_creg, 0},
};

/* Move bytes between the UART and the engine; call it as often as you like. */
static void mk_example_service(uint64_t now)
{
    while (g_rx_tail != g_rx_head) {
        uint8_t b = g_rx_ring[g_rx_tail];
        g_rx_tail = (uint16_t)((g_rx_tail + 1) % sizeof g_rx_ring);
        mk_at_feed(&g_at, &b, 1, now);
    }
    const uint8_t *out;
    size_t n = mk_at_tx_peek(&g_at, &out), sent = 0;
    while (sent < n && mk_example_uart_put(out[sent]))
        sent++;
    if (sent)
        mk_at_tx_consume(&g_at, sent, now);
}

/* Returns the signal quality (0..31, 99 unknown) or -1; runs other work while waiting. */
int mk_example_read_csq(void);
int mk_example_read_csq(void)
{
    char resp[64];
    struct mk_at_cmd cmd = {
        .text = "AT+CSQ", .timeout_ms = 3000, .resp = resp, .resp_cap = sizeof resp};
    struct mk_at_result res;
    if (mk_at_submit(&g_at, &cmd, g_tick_ms) != MK_OK)
        return -1;
    for (;;) {
        uint64_t now = g_tick_ms;
        mk_example_service(now);
        if (mk_at_poll(&g_at, now, &res) == MK_DONE)
            break;
        /* ... the rest of the main loop runs here: sensors, watchdog, sleep until IRQ ... */
    }
    if (res.err != MK_OK)
        return -1;
    struct mk_at_arg a[2];
    long rssi;
    if (mk_at_split(resp, res.resp_len, "+CSQ:", a, 2) < 1 || mk_at_arg_long(&a[0], &rssi))
        return -1;
    return (int)rssi;
}

void mk_example_init(void);
void mk_example_init(void)
{
    struct mk_at_config cfg = {
        .line_buf = g_line_buf,
        .line_cap = sizeof g_line_buf,
        .urcs = g_urcs,
        .n_urcs = sizeof g_urcs / sizeof g_urcs[0],
    };
    mk_at_init(&g_at, &cfg);
}

#ifdef MK_EXAMPLE_MAIN
/* A complete program for the size report: init, then read the signal forever. */
int main(void)
{
    mk_example_init();
    for (;;) {
        int csq = mk_example_read_csq();
        (void)csq;
        (void)g_registered;
    }
}
#endif
