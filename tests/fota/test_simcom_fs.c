/*
 * SIMCom file-system commands on the wire (fake io): AT+CFSWFILE's DOWNLOAD prompt and
 * exact data, input windows, AT+CFSRFILE/AT+CFTRANTX raw reads, "no such file" mapping,
 * AT+CFTRANRX forms, AT+FSMEM/FSATTRI parsing, AT+HTTPTOFS two-phase result, +CFOTA URCs.
 */
#include "mk_test.h"
#include "modemkit/simcom_fota.h"
#include "modemkit/simcom_fs.h"
#include "support/fake_io.h"

static struct mk_fake_io F;
static struct mk_at_chan CH;
static char LINE[600];

static void setup(void)
{
    mk_fake_io_init(&F, 3, 7);
    struct mk_at_config cfg = {.line_buf = LINE, .line_cap = sizeof LINE};
    mk_at_chan_init(&CH, &cfg, &F.io, &F.clock);
}

MK_TEST(cfs_paths)
{
    int idx;
    const char *name;
    MK_CHECK_EQ_INT(mk_simcom_cfs_split("/fota/update.zip", &idx, &name), MK_OK);
    MK_CHECK_EQ_INT(idx, 1);
    MK_CHECK_EQ_STR(name, "update.zip");
    MK_CHECK_EQ_INT(mk_simcom_cfs_split("customer/a.txt", &idx, &name), MK_OK);
    MK_CHECK_EQ_INT(idx, 3);
    MK_CHECK_EQ_INT(mk_simcom_cfs_split("/tmp/a", &idx, &name), MK_E_INVAL);
    MK_CHECK_EQ_INT(mk_simcom_cfs_split("/fota/", &idx, &name), MK_E_INVAL);
    MK_CHECK_EQ_INT(mk_simcom_cfs_split("/fota/a/b", &idx, &name), MK_E_INVAL);
    char drive, dir[8];
    MK_CHECK_EQ_INT(mk_simcom_fs_split("f:/update.zip", &drive, dir, sizeof dir, &name), MK_OK);
    MK_CHECK_EQ_INT(drive, 'F');
    MK_CHECK_EQ_STR(dir, "F:/");
    MK_CHECK_EQ_INT(mk_simcom_fs_split("update.zip", &drive, dir, sizeof dir, &name), MK_E_INVAL);
}

MK_TEST(cfs_input_window)
{
    /* 10240 bytes at 115200: 889 ms on the line, window twice that plus 1 s */
    MK_CHECK_EQ_INT(mk_simcom_cfs_input_ms(10240, 115200), 2 * 889 + 1000);
    MK_CHECK_EQ_INT(mk_simcom_cfs_input_ms(10240, 9600), 10000); /* capped (S5 §15) */
    MK_CHECK_EQ_INT(mk_simcom_cfs_input_ms(10, 921600), 1002);
    setup();
    uint8_t d[10240] = {0};
    /* at 9600 baud 10240 bytes need 10.7 s: more than the module's window allows */
    MK_CHECK_EQ_INT(mk_simcom_cfs_write(&CH, 1, "update.zip", false, d, sizeof d, 9600),
                    MK_E_INVAL);
    MK_CHECK_EQ_INT(mk_simcom_cfs_write(&CH, 1, "update.zip", false, d, 10241, 0), MK_E_INVAL);
    mk_fake_io_free(&F);
}

MK_TEST(cfswfile_download_prompt_and_data)
{
    setup();
    const uint8_t data[] = "binary\r\nOK\r\n\x00\x01 data";
    mk_fake_io_on(&F, MK_FAKE_LINE, "AT+CFSWFILE=1,\"update.zip\",1,20,1002", 0,
                  "\r\nDOWNLOAD\r\n");
    mk_fake_io_on_n(&F, MK_FAKE_BYTES, data, 20, 0, "\r\nOK\r\n", 6);
    MK_CHECK_EQ_INT(mk_simcom_cfs_write(&CH, 1, "update.zip", true, data, 20, 921600), MK_OK);
    MK_CHECK_EQ_INT(mk_fake_io_unmatched(&F), 0);
    /* the window runs out: the module says ERROR */
    mk_fake_io_on(&F, MK_FAKE_PREFIX, "AT+CFSWFILE=1,\"update.zip\",0,20,", 0, "\r\nDOWNLOAD\r\n");
    mk_fake_io_on_n(&F, MK_FAKE_BYTES, data, 20, 0, "\r\nERROR\r\n", 9);
    MK_CHECK_EQ_INT(mk_simcom_cfs_write(&CH, 1, "update.zip", false, data, 20, 0), MK_E_AT_ERROR);
    mk_fake_io_free(&F);
}

MK_TEST(cfs_read_size_free_delete)
{
    setup();
    mk_fake_io_on_n(&F, MK_FAKE_LINE, "AT+CFSRFILE=1,\"update.zip\",1,8,100", 34, 0,
                    "\r\n+CFSRFILE: 8\r\nOK\r\n\r\nab\r\n\r\nOK\r\n", 32);
    uint8_t buf[8];
    size_t got = 0;
    MK_CHECK_EQ_INT(mk_simcom_cfs_read(&CH, 1, "update.zip", 100, buf, 8, &got), MK_OK);
    MK_CHECK_EQ_INT(got, 8);
    MK_CHECK_EQ_MEM(buf, "OK\r\n\r\nab", 8); /* raw bytes, whatever they look like */
    mk_fake_io_on(&F, MK_FAKE_LINE, "AT+CFSGFIS=1,\"update.zip\"", 0,
                  "\r\n+CFSGFIS: 10240\r\n\r\nOK\r\n");
    mk_fake_io_on(&F, MK_FAKE_LINE, "AT+CFSGFIS=1,\"nope\"", 0, "\r\nERROR\r\n");
    mk_fake_io_on(&F, MK_FAKE_LINE, "AT+CFSGFRS?", 0, "\r\n+CFSGFRS: 524288\r\n\r\nOK\r\n");
    mk_fake_io_on(&F, MK_FAKE_LINE, "AT+CFSDFILE=1,\"nope\"", 0, "\r\n+CME ERROR: 4\r\n");
    uint64_t v;
    MK_CHECK_EQ_INT(mk_simcom_cfs_size(&CH, 1, "update.zip", &v), MK_OK);
    MK_CHECK_EQ_INT(v, 10240);
    MK_CHECK_EQ_INT(mk_simcom_cfs_size(&CH, 1, "nope", &v), MK_E_NOENT);
    MK_CHECK_EQ_INT(mk_simcom_cfs_free(&CH, &v), MK_OK);
    MK_CHECK_EQ_INT(v, 524288);
    MK_CHECK_EQ_INT(mk_simcom_cfs_delete(&CH, 1, "nope"), MK_E_NOENT);
    mk_fake_io_free(&F);
}

MK_TEST(cfsinit_left_open_by_a_previous_host)
{
    setup();
    mk_fake_io_on(&F, MK_FAKE_LINE, "AT+CFSINIT", 0, "\r\nERROR\r\n");
    mk_fake_io_on(&F, MK_FAKE_LINE, "AT+CFSTERM", 0, "\r\nOK\r\n");
    mk_fake_io_on(&F, MK_FAKE_LINE, "AT+CFSINIT", 0, "\r\nOK\r\n");
    MK_CHECK_EQ_INT(mk_simcom_cfs_init(&CH), MK_OK);
    MK_CHECK(mk_fake_io_tx_equals(&F, "AT+CFSINIT\rAT+CFSTERM\rAT+CFSINIT\r"));
    mk_fake_io_free(&F);
}

MK_TEST(httptofs_two_phase)
{
    setup();
    struct mk_fake_rule *r = mk_fake_io_on(
        &F, MK_FAKE_LINE, "AT+HTTPTOFS=\"http://127.0.0.1:8000/u.zip\",\"/fota/update.zip\",60", 0,
        "\r\nOK\r\n");
    mk_fake_io_then(r, 3000, "\r\n+HTTPTOFS: 200,109285\r\n");
    int status;
    uint64_t len;
    MK_CHECK_EQ_INT(mk_simcom_cfs_http_to_fs(&CH, "http://127.0.0.1:8000/u.zip", "/fota/update.zip",
                                             60000, &status, &len),
                    MK_OK);
    MK_CHECK_EQ_INT(status, 200);
    MK_CHECK_EQ_INT(len, 109285);
    r = mk_fake_io_on(&F, MK_FAKE_PREFIX, "AT+HTTPTOFS=", 0, "\r\nOK\r\n");
    mk_fake_io_then(r, 10, "\r\n+HTTPTOFS: 601,0\r\n");
    MK_CHECK_EQ_INT(
        mk_simcom_cfs_http_to_fs(&CH, "http://x/y", "/fota/update.zip", 1000, &status, &len),
        MK_E_NET);
    MK_CHECK_EQ_INT(status, 601);
    mk_fake_io_free(&F);
}

MK_TEST(cftranrx_forms)
{
    setup();
    const uint8_t d[5] = {'>', '\r', 'O', 'K', 0};
    mk_fake_io_on(&F, MK_FAKE_LINE, "AT+CFTRANRX=\"F:/update.zip\",5", 0, "\r\n>");
    mk_fake_io_on_n(&F, MK_FAKE_BYTES, d, 5, 0, "\r\nOK\r\n", 6);
    MK_CHECK_EQ_INT(mk_simcom_fs_put(&CH, "F:/update.zip", MK_SIMCOM_FS_NEW, d, 5, 0), MK_OK);
    mk_fake_io_on(&F, MK_FAKE_LINE, "AT+CFTRANRX=\"F:/update.zip\",5,100,5", 0, "\r\n>");
    mk_fake_io_on_n(&F, MK_FAKE_BYTES, d, 5, 0, "\r\nOK\r\n", 6);
    MK_CHECK_EQ_INT(mk_simcom_fs_put(&CH, "F:/update.zip", 5, d, 5, 0), MK_OK);
    MK_CHECK_EQ_INT(mk_fake_io_unmatched(&F), 0);
    mk_fake_io_free(&F);
}

MK_TEST(cftrantx_blocks)
{
    setup();
    mk_fake_io_on(&F, MK_FAKE_LINE, "AT+CFTRANTX=\"F:/update.zip\",10,6", 0,
                  "\r\n+CFTRANTX: DATA,4\r\n\r\nOK\r\n+CFTRANTX: DATA,2\r\nab\r\n+CFTRANTX: 0\r\n"
                  "\r\nOK\r\n");
    uint8_t buf[6];
    size_t got;
    MK_CHECK_EQ_INT(mk_simcom_fs_get(&CH, "F:/update.zip", 10, buf, 6, &got), MK_OK);
    MK_CHECK_EQ_INT(got, 6);
    MK_CHECK_EQ_MEM(buf, "\r\nOKab", 6);
    mk_fake_io_free(&F);
}

MK_TEST(fs7600_size_mem_list)
{
    setup();
    mk_fake_io_times(
        mk_fake_io_on(&F, MK_FAKE_LINE, "AT+FSCD=\"F:/\"", 0, "\r\n+FSCD: F:/\r\n\r\nOK\r\n"), 0);
    mk_fake_io_on(&F, MK_FAKE_LINE, "AT+FSATTRI=\"update.zip\"", 0,
                  "\r\n+FSATTRI: 70256,2024/01/01 00:00:00\r\n\r\nOK\r\n");
    mk_fake_io_on(&F, MK_FAKE_LINE, "AT+FSDEL=\"gone.bin\"", 0, "\r\nERROR\r\n");
    mk_fake_io_on(&F, MK_FAKE_LINE, "AT+FSMEM", 0,
                  "\r\n+FSMEM: C:(11348480,2441216),F:(8388608,70256)\r\n\r\nOK\r\n");
    mk_fake_io_on(&F, MK_FAKE_LINE, "AT+FSLS", 0,
                  "\r\n+FSLS: SUBDIRECTORIES:\r\nlogs\r\n\r\n+FSLS: FILES:\r\nupdate.zip\r\n"
                  "RDY.txt\r\n\r\nOK\r\n");
    uint64_t size, total, used;
    MK_CHECK_EQ_INT(mk_simcom_fs_size(&CH, "F:/update.zip", &size), MK_OK);
    MK_CHECK_EQ_INT(size, 70256);
    MK_CHECK_EQ_INT(mk_simcom_fs_delete(&CH, "F:/gone.bin"), MK_E_NOENT);
    MK_CHECK_EQ_INT(mk_simcom_fs_mem(&CH, 'F', &total, &used), MK_OK);
    MK_CHECK_EQ_INT(total, 8388608);
    MK_CHECK_EQ_INT(used, 70256);
    MK_CHECK_EQ_INT(mk_simcom_fs_parse_mem("+FSMEM: C:(11348480, 2201600)", 'F', &total, &used),
                    MK_OK); /* the only drive listed (S1's example) */
    MK_CHECK_EQ_INT(total, 11348480);
    MK_CHECK_EQ_INT(mk_simcom_fs_parse_mem("+FSMEM: nonsense", 'C', &total, &used), MK_E_FORMAT);
    mk_fake_io_free(&F);
}

static void collect(void *user, const char *name, bool is_dir)
{
    char *out = user;
    strcat(out, is_dir ? "d:" : "f:");
    strcat(out, name);
    strcat(out, ";");
}

MK_TEST(fs7600_list)
{
    setup();
    mk_fake_io_on(&F, MK_FAKE_LINE, "AT+FSCD=\"C:/\"", 0, "\r\n+FSCD: C:/\r\n\r\nOK\r\n");
    mk_fake_io_on(&F, MK_FAKE_LINE, "AT+FSLS", 0,
                  "\r\n+FSLS: SUBDIRECTORIES:\r\nlogs\r\n\r\n+FSLS: FILES:\r\nupdate.zip\r\n"
                  "RDY.txt\r\n\r\nOK\r\n");
    char names[128] = "";
    MK_CHECK_EQ_INT(mk_simcom_fs_list(&CH, "C:/", collect, names), MK_OK);
    MK_CHECK_EQ_STR(names, "d:logs;f:update.zip;f:RDY.txt;");
    mk_fake_io_free(&F);
}

MK_TEST(cfota_urcs)
{
    int pct = -1;
    const char *s;
    s = "+CFOTA: \"Start to update\"";
    MK_CHECK_EQ_INT(mk_simcom_cfota_parse_urc(s, strlen(s), &pct), MK_FOTA_URC_START);
    s = "+CFOTA: \"Updating\",40";
    MK_CHECK_EQ_INT(mk_simcom_cfota_parse_urc(s, strlen(s), &pct), MK_FOTA_URC_PROGRESS);
    MK_CHECK_EQ_INT(pct, 40);
    s = "+CFOTA: \"Update successfully, please wait for reset\"";
    MK_CHECK_EQ_INT(mk_simcom_cfota_parse_urc(s, strlen(s), &pct), MK_FOTA_URC_SUCCESS);
    s = "+CFOTA: \"Update failed, please wait for reset\"";
    MK_CHECK_EQ_INT(mk_simcom_cfota_parse_urc(s, strlen(s), &pct), MK_FOTA_URC_FAILED);
    s = "+CFOTA: 6";
    MK_CHECK_EQ_INT(mk_simcom_cfota_parse_urc(s, strlen(s), &pct), MK_FOTA_URC_OTHER);
    s = "+CFOTA: \"Updating\",400";
    MK_CHECK_EQ_INT(mk_simcom_cfota_parse_urc(s, strlen(s), &pct), MK_FOTA_URC_OTHER);
    MK_CHECK(mk_simcom_fota_ops(MK_FOTA_METHOD_CFOTA)->max_chunk == 10240);
    MK_CHECK(mk_simcom_fota_ops(MK_FOTA_METHOD_NONE) == NULL);
    MK_CHECK_EQ_INT(mk_simcom_fota_method_for(MK_FAMILY_SIM7600), MK_FOTA_METHOD_CDELTA);
    MK_CHECK_EQ_INT(mk_simcom_fota_method_for(MK_FAMILY_RC76XX), MK_FOTA_METHOD_NONE);
}

MK_TEST_MAIN()
