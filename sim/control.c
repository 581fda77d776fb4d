/*
 * The test bench around the simulated module: a FIFO (--control PATH) through which
 * tests and scripts act on the "hardware" the way a GPIO script does on a real board:
 * cut and restore power, hold the boot pin. `modemsim --ctl PATH LINE` is the client, so
 * a hard power-cycle command for modemctl/modemd can simply be that command line.
 */
#include "sim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int sim_control_open(struct sim *s)
{
    s->ctl_fd = -1;
    if (!s->opt.control)
        return 0;
    unlink(s->opt.control);
    if (mkfifo(s->opt.control, 0600) != 0) {
        sim_warn("--control %s: %s", s->opt.control, strerror(errno));
        return -1;
    }
    /* O_RDWR: the FIFO never reports end-of-file when a client closes its end. */
    s->ctl_fd = open(s->opt.control, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (s->ctl_fd < 0) {
        sim_warn("--control %s: %s", s->opt.control, strerror(errno));
        return -1;
    }
    return 0;
}

void sim_control_close(struct sim *s)
{
    if (s->ctl_fd >= 0) {
        close(s->ctl_fd);
        s->ctl_fd = -1;
        unlink(s->opt.control);
    }
    sim_buf_free(&s->ctl_in);
}

static void sim_control_line(struct sim *s, char *line)
{
    char *arg = strchr(line, ' ');
    if (arg)
        *arg++ = '\0';
    sim_log(s, "control: %s%s%s", line, arg ? " " : "", arg ? arg : "");
    if (strcmp(line, "power-cycle") == 0) {
        int off_ms = arg ? atoi(arg) : s->opt.reenum_delay_ms;
        sim_dev_power_off(s);
        sim_dev_power_on(s, off_ms < 0 ? 0 : off_ms);
    } else if (strcmp(line, "power-off") == 0) {
        sim_dev_power_off(s);
    } else if (strcmp(line, "power-on") == 0) {
        sim_dev_power_on(s, 0);
    } else if (strcmp(line, "tp1") == 0 && arg) {
        s->tp1 = strcmp(arg, "on") == 0;
    } else if (strcmp(line, "cut") == 0) {
        if (s->power != SIM_POWER_OFF)
            sim_dev_reset(s, true);
    } else if (strcmp(line, "drop-broker") == 0) {
        sim_mqtt_drop_all(s);
    } else {
        sim_warn("control: unknown command \"%s\"", line);
    }
}

void sim_control_input(struct sim *s)
{
    char buf[512];
    for (;;) {
        ssize_t n = read(s->ctl_fd, buf, sizeof buf);
        if (n <= 0)
            break;
        sim_buf_put(&s->ctl_in, buf, (size_t)n);
    }
    for (;;) {
        uint8_t *nl = memchr(s->ctl_in.p, '\n', s->ctl_in.len);
        if (!nl)
            break;
        size_t len = (size_t)(nl - s->ctl_in.p);
        char *line = sim_xmemdup(s->ctl_in.p, len);
        sim_buf_consume(&s->ctl_in, len + 1);
        if (len && line[len - 1] == '\r')
            line[len - 1] = '\0';
        if (line[0])
            sim_control_line(s, line);
        free(line);
    }
}

int sim_control_send(const char *path, int argc, char **argv)
{
    char line[512];
    size_t n = 0;
    for (int i = 0; i < argc; i++) {
        int w = snprintf(line + n, sizeof line - n, "%s%s", i ? " " : "", argv[i]);
        if (w < 0 || (size_t)w >= sizeof line - n - 1) {
            fprintf(stderr, "modemsim --ctl: command too long\n");
            return 2;
        }
        n += (size_t)w;
    }
    line[n++] = '\n';
    /* O_NONBLOCK: fails with ENXIO instead of blocking when no simulator listens. */
    int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "modemsim --ctl %s: %s\n", path,
                errno == ENXIO ? "no modemsim is listening there" : strerror(errno));
        return 1;
    }
    ssize_t w = write(fd, line, n);
    close(fd);
    if (w != (ssize_t)n) {
        fprintf(stderr, "modemsim --ctl %s: write failed\n", path);
        return 1;
    }
    return 0;
}
