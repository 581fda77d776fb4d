/*
 * Update packages without a module: ustar headers, manifests, package opening and delta
 * checks over an in-memory reader, journals, model matching.
 */
#include <stdlib.h>

#include "mk_test.h"
#include "modemkit/fota.h"

#include "fota/fota_test_pkg.h"

static uint8_t delta[3000];

static void manifest_for(struct mk_fota_manifest *man, const uint8_t *d, size_t n)
{
    memset(man, 0, sizeof *man);
    strcpy(man->model, "SIM7600SA");
    strcpy(man->source, "LE11B01SIM7600M21-A");
    strcpy(man->target, "LE11B14SIM7600M22");
    man->method = MK_FOTA_METHOD_CDELTA;
    strcpy(man->delta_name, "b01_b14.zip");
    man->delta_size = n;
    mk_sha256(d, n, man->delta_sha256);
}

static void build(struct mem *m, bool with_sig)
{
    struct mk_fota_manifest man;
    char text[2048];
    size_t len;
    for (size_t i = 0; i < sizeof delta; i++)
        delta[i] = (uint8_t)(i * 7 + 3);
    manifest_for(&man, delta, sizeof delta);
    man.post = MK_FOTA_POST_HARD_POWER_CYCLE;
    mk_fota_manifest_write(&man, text, sizeof text, &len);
    m->len = 0;
    put(m, "manifest.json", text, len);
    if (with_sig) {
        uint8_t sig[64];
        memset(sig, 0xAB, sizeof sig);
        put(m, "manifest.sig", sig, sizeof sig);
    }
    put(m, "b01_b14.zip", delta, sizeof delta);
    finish(m);
}

static struct mem pkgmem;
static uint8_t work[4096];
static char manbuf[4096];

MK_TEST(tar_header_round_trip)
{
    uint8_t hdr[MK_TAR_BLOCK];
    struct mk_tar_entry e;
    MK_CHECK_EQ_INT(mk_tar_build_header(hdr, "manifest.json", 1234, 1700000000), MK_OK);
    /* POSIX ustar layout: name at 0, octal size at 124, magic at 257 */
    MK_CHECK_EQ_STR((char *)hdr, "manifest.json");
    MK_CHECK_EQ_MEM(hdr + 124, "00000002322", 12);
    MK_CHECK_EQ_MEM(hdr + 257,
                    "ustar\0"
                    "00",
                    8);
    MK_CHECK_EQ_INT(mk_tar_parse_header(hdr, 1024, &e), MK_OK);
    MK_CHECK_EQ_STR(e.name, "manifest.json");
    MK_CHECK_EQ_INT(e.size, 1234);
    MK_CHECK_EQ_INT(e.data_off, 1024 + 512);
    MK_CHECK_EQ_INT(e.type, '0');
    MK_CHECK_EQ_INT(mk_tar_padding(1234), 512 * 3 - 1234);
    MK_CHECK_EQ_INT(mk_tar_padding(1024), 0);
}

MK_TEST(tar_header_rejects)
{
    uint8_t hdr[MK_TAR_BLOCK], bad[MK_TAR_BLOCK];
    struct mk_tar_entry e;
    memset(hdr, 0, sizeof hdr);
    MK_CHECK_EQ_INT(mk_tar_parse_header(hdr, 0, &e), MK_E_NOENT); /* end of archive */
    mk_tar_build_header(hdr, "delta.bin", 10, 0);
    memcpy(bad, hdr, sizeof bad);
    bad[0] ^= 1; /* checksum no longer matches */
    MK_CHECK_EQ_INT(mk_tar_parse_header(bad, 0, &e), MK_E_FORMAT);
    memcpy(bad, hdr, sizeof bad);
    memcpy(bad + 257, "xxxxx", 5);
    MK_CHECK_EQ_INT(mk_tar_parse_header(bad, 0, &e), MK_E_FORMAT);
    MK_CHECK_EQ_INT(mk_tar_build_header(hdr, "../etc/passwd", 1, 0), MK_E_INVAL);
    MK_CHECK_EQ_INT(mk_tar_build_header(hdr, "/abs", 1, 0), MK_E_INVAL);
    MK_CHECK_EQ_INT(mk_tar_build_header(hdr, "", 1, 0), MK_E_INVAL);
    char longname[120];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    MK_CHECK_EQ_INT(mk_tar_build_header(hdr, longname, 1, 0), MK_E_INVAL);
    MK_CHECK_EQ_INT(mk_tar_build_header(hdr, "big", 1ull << 34, 0), MK_E_INVAL);
}

MK_TEST(manifest_round_trip)
{
    struct mk_fota_manifest a, b;
    char text[2048], why[200];
    size_t len;
    manifest_for(&a, (const uint8_t *)"abc", 3);
    a.post = MK_FOTA_POST_HARD_POWER_CYCLE;
    strcpy(a.url, "http://127.0.0.1:8000/d \"x\".zip");
    MK_CHECK_EQ_INT(mk_fota_manifest_write(&a, text, sizeof text, &len), MK_OK);
    MK_CHECK_EQ_INT(mk_fota_manifest_parse(text, len, &b, why, sizeof why), MK_OK);
    MK_CHECK_EQ_STR(b.model, "SIM7600SA");
    MK_CHECK_EQ_STR(b.source, "LE11B01SIM7600M21-A");
    MK_CHECK_EQ_STR(b.target, "LE11B14SIM7600M22");
    MK_CHECK_EQ_INT(b.method, MK_FOTA_METHOD_CDELTA);
    MK_CHECK_EQ_INT(b.delta_size, 3);
    MK_CHECK_EQ_MEM(b.delta_sha256, a.delta_sha256, MK_SHA256_LEN);
    MK_CHECK_EQ_INT(b.post, MK_FOTA_POST_HARD_POWER_CYCLE);
    MK_CHECK_EQ_STR(b.url, a.url);
    MK_CHECK_EQ_INT(mk_fota_manifest_write(&a, text, 100, &len), MK_E_NOSPC);
}

static enum mk_err parse_why(const char *text, char *why)
{
    struct mk_fota_manifest m;
    return mk_fota_manifest_parse(text, strlen(text), &m, why, 200);
}

#define SHA "\"sha256\":\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\""

MK_TEST(manifest_errors_say_why)
{
    char why[200];
    MK_CHECK_EQ_INT(parse_why("[1]", why), MK_E_MANIFEST);
    MK_CHECK(strstr(why, "not a JSON object"));
    MK_CHECK_EQ_INT(parse_why("{\"format\":\"other/1\"}", why), MK_E_MANIFEST);
    MK_CHECK(strstr(why, "format"));
    MK_CHECK_EQ_INT(parse_why("{\"format\":\"modemkit-fota/1\",\"model\":\"X\",\"source\":\"A\","
                              "\"target\":\"B\",\"method\":\"qfota\"}",
                              why),
                    MK_E_MANIFEST);
    MK_CHECK(strstr(why, "cfota or cdelta, not \"qfota\""));
    MK_CHECK_EQ_INT(parse_why("{\"format\":\"modemkit-fota/1\",\"model\":\"X\",\"target\":\"B\","
                              "\"method\":\"cfota\"}",
                              why),
                    MK_E_MANIFEST);
    MK_CHECK(strstr(why, "no \"source\""));
    MK_CHECK_EQ_INT(parse_why("{\"format\":\"modemkit-fota/1\",\"model\":\"X\",\"source\":\"A\","
                              "\"target\":\"B\",\"method\":\"cfota\",\"delta\":{\"file\":\"d\","
                              "\"size\":3,\"sha256\":\"12\"}}",
                              why),
                    MK_E_MANIFEST);
    MK_CHECK(strstr(why, "64 hex digits"));
    MK_CHECK_EQ_INT(parse_why("{\"format\":\"modemkit-fota/1\",\"model\":\"X\",\"source\":\"A\","
                              "\"target\":\"B\",\"method\":\"cfota\",\"delta\":{\"file\":\"d\","
                              "\"size\":3," SHA "},\"post\":[\"reboot-twice\"]}",
                              why),
                    MK_E_MANIFEST);
    MK_CHECK(strstr(why, "unknown post-update action \"reboot-twice\""));
    MK_CHECK_EQ_INT(parse_why("{\"format\":\"modemkit-fota/1\",\"model\":\"X\",\"source\":\"A\","
                              "\"target\":\"A\",\"method\":\"cfota\"}",
                              why),
                    MK_E_MANIFEST);
    MK_CHECK_EQ_INT(parse_why("{\"format\":\"modemkit-fota/1\",\"model\":\"X\",\"source\":\"A\","
                              "\"target\":\"B\",\"method\":\"cfota\",\"delta\":{\"file\":\"d\","
                              "\"size\":0," SHA "}}",
                              why),
                    MK_E_MANIFEST);
    MK_CHECK(strstr(why, "positive"));
    MK_CHECK_EQ_INT(parse_why("{\"format\":\"modemkit-fota/1\",\"model\":\"X\",\"source\":\"A\","
                              "\"target\":\"B\",\"method\":\"cfota\",\"delta\":{\"file\":\"d\","
                              "\"size\":3," SHA "},\"extra\":{\"ignored\":[1,2]}}",
                              why),
                    MK_OK);
}

MK_TEST(package_open_and_check)
{
    struct mk_fota_reader rd = {mem_read, &pkgmem, 0};
    struct mk_fota_pkg p;
    char why[320];
    build(&pkgmem, true);
    rd.size = pkgmem.len;
    MK_CHECK_EQ_INT(
        mk_fota_pkg_open(&p, &rd, manbuf, sizeof manbuf, work, sizeof work, why, sizeof why),
        MK_OK);
    MK_CHECK_EQ_STR(p.man.delta_name, "b01_b14.zip");
    MK_CHECK(p.has_sig);
    MK_CHECK_EQ_INT(p.sig[0], 0xAB);
    MK_CHECK_EQ_INT(p.delta_off, 512 * 2 + 512 * 2 + 512); /* manifest, sig, delta header */
    MK_CHECK(strstr(p.man_text, "\"hard-power-cycle\""));
    uint8_t id[32];
    mk_sha256(pkgmem.buf, pkgmem.len, id);
    MK_CHECK_EQ_MEM(p.id, id, 32);
    MK_CHECK_EQ_INT(strlen(p.id_hex), 64);
    MK_CHECK_EQ_INT(mk_fota_pkg_check_delta(&p, work, sizeof work, why, sizeof why), MK_OK);
    /* a flipped delta byte: refused, with both hashes in the message */
    pkgmem.buf[p.delta_off + 100] ^= 0x40;
    MK_CHECK_EQ_INT(mk_fota_pkg_check_delta(&p, work, sizeof work, why, sizeof why),
                    MK_E_FOTA_INTEGRITY);
    MK_CHECK(strstr(why, "the manifest expects SHA-256"));
    MK_CHECK(strstr(why, ", the file has "));
}

MK_TEST(package_shape_errors)
{
    struct mk_fota_reader rd = {mem_read, &pkgmem, 0};
    struct mk_fota_pkg p;
    char why[320];
    build(&pkgmem, false);
    rd.size = pkgmem.len;
    MK_CHECK_EQ_INT(
        mk_fota_pkg_open(&p, &rd, manbuf, sizeof manbuf, work, sizeof work, why, sizeof why),
        MK_OK);
    MK_CHECK(!p.has_sig);
    /* truncated: the archive ends inside the delta */
    rd.size = pkgmem.len - 3 * 512;
    MK_CHECK_EQ_INT(
        mk_fota_pkg_open(&p, &rd, manbuf, sizeof manbuf, work, sizeof work, why, sizeof why),
        MK_E_FORMAT);
    /* manifest too large for the caller's buffer */
    rd.size = pkgmem.len;
    MK_CHECK_EQ_INT(mk_fota_pkg_open(&p, &rd, manbuf, 64, work, sizeof work, why, sizeof why),
                    MK_E_NOSPC);
    /* no manifest at all */
    struct mem *m = &pkgmem;
    m->len = 0;
    put(m, "b01_b14.zip", delta, sizeof delta);
    finish(m);
    rd.size = m->len;
    MK_CHECK_EQ_INT(
        mk_fota_pkg_open(&p, &rd, manbuf, sizeof manbuf, work, sizeof work, why, sizeof why),
        MK_E_MANIFEST);
    MK_CHECK(strstr(why, "no manifest.json"));
    /* the manifest's delta member is missing */
    struct mk_fota_manifest man;
    char text[2048];
    size_t len;
    manifest_for(&man, delta, sizeof delta);
    mk_fota_manifest_write(&man, text, sizeof text, &len);
    m->len = 0;
    put(m, "manifest.json", text, len);
    put(m, "other.zip", delta, sizeof delta);
    finish(m);
    rd.size = m->len;
    MK_CHECK_EQ_INT(
        mk_fota_pkg_open(&p, &rd, manbuf, sizeof manbuf, work, sizeof work, why, sizeof why),
        MK_E_MANIFEST);
    MK_CHECK(strstr(why, "no member \"b01_b14.zip\""));
    /* a member of another size than the manifest says */
    m->len = 0;
    put(m, "manifest.json", text, len);
    put(m, "b01_b14.zip", delta, sizeof delta - 1);
    finish(m);
    rd.size = m->len;
    MK_CHECK_EQ_INT(
        mk_fota_pkg_open(&p, &rd, manbuf, sizeof manbuf, work, sizeof work, why, sizeof why),
        MK_E_FOTA_INTEGRITY);
    /* a signature that is not 64 bytes */
    m->len = 0;
    put(m, "manifest.json", text, len);
    put(m, "manifest.sig", "short", 5);
    put(m, "b01_b14.zip", delta, sizeof delta);
    finish(m);
    rd.size = m->len;
    MK_CHECK_EQ_INT(
        mk_fota_pkg_open(&p, &rd, manbuf, sizeof manbuf, work, sizeof work, why, sizeof why),
        MK_E_FOTA_SIGNATURE);
    /* garbage */
    memset(m->buf, 0x55, 4096);
    rd.size = 4096;
    MK_CHECK_EQ_INT(
        mk_fota_pkg_open(&p, &rd, manbuf, sizeof manbuf, work, sizeof work, why, sizeof why),
        MK_E_FORMAT);
}

MK_TEST(journal_round_trip)
{
    struct mk_fota_journal a, b;
    char text[2048];
    size_t len;
    memset(&a, 0, sizeof a);
    memset(a.package, 'a', 64);
    strcpy(a.path, "/var/lib/fota/p.fota");
    strcpy(a.model, "SIM7000G");
    strcpy(a.source, "1529B04SIM7000G");
    strcpy(a.target, "1529B05SIM7000G");
    a.method = MK_FOTA_METHOD_CFOTA;
    a.delta_size = 109285;
    a.state = MK_FOTA_STATE_UPDATING;
    a.result = MK_FOTA_RES_INITIAL;
    a.offset = 109285;
    a.apply_sent = true;
    a.apply_count = 2;
    a.sessions = 3;
    a.power_cycled = true;
    a.err = MK_E_HANGUP;
    strcpy(a.message, "line 1\nwith \"quotes\" and \\ and \x01");
    MK_CHECK_EQ_INT(mk_fota_journal_encode(&a, text, sizeof text, &len), MK_OK);
    MK_CHECK(strstr(text, "\"state\": 3,\n  \"state_name\": \"updating\""));
    MK_CHECK(strstr(text, "\"error\": \"MK_E_HANGUP\""));
    MK_CHECK_EQ_INT(mk_fota_journal_decode(&b, text, len), MK_OK);
    MK_CHECK_EQ_MEM(&a.package, &b.package, sizeof a.package);
    MK_CHECK_EQ_STR(b.path, a.path);
    MK_CHECK_EQ_STR(b.message, a.message);
    MK_CHECK_EQ_INT(b.state, MK_FOTA_STATE_UPDATING);
    MK_CHECK_EQ_INT(b.offset, 109285);
    MK_CHECK(b.apply_sent && b.power_cycled && !b.final && !b.reported);
    MK_CHECK_EQ_INT(b.apply_count, 2);
    MK_CHECK_EQ_INT(b.sessions, 3);
    MK_CHECK_EQ_INT(b.err, MK_E_HANGUP);
    MK_CHECK_EQ_INT(b.method, MK_FOTA_METHOD_CFOTA);
    MK_CHECK_EQ_INT(mk_fota_journal_encode(&a, text, 200, &len), MK_E_NOSPC);
    /* torn or foreign files are refused, never half-used */
    MK_CHECK_EQ_INT(mk_fota_journal_decode(&b, text, 150), MK_E_JOURNAL);
    MK_CHECK_EQ_INT(mk_fota_journal_decode(&b, "{\"format\":\"x\"}", 14), MK_E_JOURNAL);
}

MK_TEST(result_mapping)
{
    MK_CHECK_EQ_INT(mk_fota_result_for(MK_OK), 1);
    MK_CHECK_EQ_INT(mk_fota_result_for(MK_E_FOTA_SPACE), 2);
    MK_CHECK_EQ_INT(mk_fota_result_for(MK_E_HANGUP), 4);
    MK_CHECK_EQ_INT(mk_fota_result_for(MK_E_FOTA_INTEGRITY), 5);
    MK_CHECK_EQ_INT(mk_fota_result_for(MK_E_FOTA_SIGNATURE), 5);
    MK_CHECK_EQ_INT(mk_fota_result_for(MK_E_FOTA_SOURCE), 6);
    MK_CHECK_EQ_INT(mk_fota_result_for(MK_E_FOTA_MODEL), 6);
    MK_CHECK_EQ_INT(mk_fota_result_for(MK_E_FOTA_FAILED), 8);
    MK_CHECK_EQ_INT(mk_fota_result_for(MK_E_FOTA_VERSION), 8);
    MK_CHECK_EQ_INT(mk_fota_result_for(MK_E_BOOTLOOP), 8);
    MK_CHECK_EQ_STR(mk_fota_result_name(MK_FOTA_RES_NO_FLASH), "not enough flash");
    MK_CHECK_EQ_STR(mk_fota_state_name(MK_FOTA_STATE_DOWNLOADED), "downloaded");
}

MK_TEST(model_match)
{
    MK_CHECK(mk_fota_model_match("SIM7600SA", "SIMCOM_SIM7600SA"));
    MK_CHECK(mk_fota_model_match("simcom_sim7000g", "SIM7000G"));
    MK_CHECK(!mk_fota_model_match("SIM7600SA", "SIMCOM_SIM7600SA-H"));
    MK_CHECK(!mk_fota_model_match("SIM7600SA-H", "SIMCOM_SIM7600SA"));
    MK_CHECK(!mk_fota_model_match("", ""));
}

MK_TEST_MAIN()
