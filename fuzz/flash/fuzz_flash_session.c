/*
 * The flashing sessions (flash.h) fed arbitrary target bytes: whatever the port says,
 * every flow must end (each wait is bounded, restarts are counted) with a result, never
 * crash, hang or read out of bounds. data[0] picks the flow (Sierra boot-and-hold, PBL
 * EDL, QDL, Sierra with the AT probe), data[1] the largest read; the rest is what the
 * target sends, delivered in reads of 1..max bytes whatever the host writes. Time is
 * virtual: a wait with nothing left to read moves the clock by its whole timeout.
 */
#include <stdint.h>
#include <string.h>

#include "modemkit/cwe_build.h"
#include "modemkit/flash.h"

struct fz {
    const uint8_t *p;
    size_t len, off, max;
    struct mk_vclock vc;
    unsigned reads;
};

static enum mk_err fz_read(void *ctx, uint8_t *buf, size_t cap, size_t *n)
{
    struct fz *f = ctx;
    size_t left = f->len - f->off, want = 1 + (f->reads++ % f->max);
    if (want > cap)
        want = cap;
    if (want > left)
        want = left;
    memcpy(buf, f->p + f->off, want);
    f->off += want;
    *n = want;
    return MK_OK;
}

static enum mk_err fz_write(void *ctx, const uint8_t *buf, size_t len, size_t *n)
{
    (void)ctx;
    (void)buf;
    *n = len;
    return MK_OK;
}

static enum mk_err fz_wait(void *ctx, uint32_t timeout_ms, bool want_write)
{
    struct fz *f = ctx;
    if (want_write || f->off < f->len)
        return MK_OK;
    mk_vclock_advance(&f->vc, timeout_ms);
    return MK_E_TIMEOUT;
}

static uint8_t image[8192];
static size_t image_len;

static enum mk_err img_read(void *ctx, uint64_t off, uint8_t *buf, size_t len)
{
    (void)ctx;
    if (off + len > image_len)
        return MK_E_IO;
    memcpy(buf, image + off, len);
    return MK_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    if (!image_len) {
        struct mk_cwe_package pk = {.product = "9X07", .sku = "9999999_1_SWI9X07H",
                                    .device = "SWI9X07H", .firmware = "00.08.24.02",
                                    .carrier = "GENERIC", .config = "001.110_000",
                                    .boot_len = 300, .appl_len = 3000, .nvup_len = 200,
                                    .seed = 1};
        struct mk_cwe_build b;
        mk_cwe_build_init(&b, image, sizeof image);
        mk_cwe_build_package(&b, &pk);
        if (mk_cwe_build_finish(&b, &image_len) != MK_OK)
            return 0;
    }
    struct fz f = {.p = data + 2, .len = size - 2, .max = 1 + data[1] % 64u};
    struct mk_clock clock;
    mk_vclock_init(&f.vc, &clock, 1000);
    static const struct mk_io_ops ops = {fz_read, fz_write, NULL, fz_wait};
    struct mk_io io = {&ops, &f};
    static uint8_t work[4096];
    struct mk_flash_config c;
    mk_flash_config_default(&c);
    c.buf = work;
    c.cap = sizeof work;
    c.qdl_chunk = 1024;
    c.probe_at = (data[0] & 3) == 3;
    static struct mk_flash fl;
    mk_flash_init(&fl, &io, &clock, &c);
    struct mk_flash_file file = {img_read, NULL, image_len, "fuzz.spk"};
    switch (data[0] & 3) {
    case 1: {
        struct mk_flash_op op;
        memset(&op, 0, sizeof op);
        op.kind = MK_FLASH_OP_PROGRAM;
        op.region.sector_size = 512;
        op.region.start_sector = "0";
        op.file = file;
        (void)mk_flash_edl(&fl, &file, &op, 1);
        break;
    }
    case 2:
        (void)mk_flash_qdl(&fl, &file, 1);
        break;
    default:
        (void)mk_flash_sierra(&fl, &file, 1);
    }
    /* the message is always a terminated string */
    return (int)(strlen(mk_flash_message(&fl)) > MK_FLASH_MSG_CAP);
}
