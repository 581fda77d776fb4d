/* Firehose builders, stream parser, attributes, NAK and missing-ACK handling, payload
 * negotiation (reference download-mode.md §2). */
#include "mk_test.h"
#include "modemkit/firehose.h"

#define HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<data>\n"
#define TAIL " />\n</data>"

MK_TEST(builders)
{
    char b[512];
    size_t n;
    struct mk_firehose_configure c = {
        .memory_name = "eMMC",
        .max_payload_to_target = 1048576,
        .target_name = "8960",
    };
    MK_CHECK_EQ_INT(mk_firehose_build_configure(b, sizeof b, &c, &n), MK_OK);
    MK_CHECK_EQ_STR(b,
                    HEAD "<configure MemoryName=\"eMMC\" MaxPayloadSizeToTargetInBytes=\"1048576\" "
                         "Verbose=\"0\" ZlpAwareHost=\"0\" SkipStorageInit=\"0\" "
                         "TargetName=\"8960\"" TAIL);
    MK_CHECK_EQ_INT(n, strlen(b));
    /* exactly enough room needs the NUL too; one less is refused, never cut */
    MK_CHECK_EQ_INT(mk_firehose_build_configure(b, n + 1, &c, &n), MK_OK);
    MK_CHECK_EQ_INT(mk_firehose_build_configure(b, n, &c, &n), MK_E_NOSPC);

    struct mk_firehose_configure q = {.memory_name = "ufs",
                                      .max_payload_to_target = 1048576,
                                      .zlp_aware_host = true,
                                      .always_validate = true,
                                      .skip_write = true,
                                      .max_digest_table_size = 8192,
                                      .pages_per_block = 64};
    MK_CHECK_EQ_INT(mk_firehose_build_configure(b, sizeof b, &q, &n), MK_OK);
    MK_CHECK_EQ_STR(b,
                    HEAD "<configure MemoryName=\"ufs\" MaxPayloadSizeToTargetInBytes=\"1048576\" "
                         "Verbose=\"0\" ZlpAwareHost=\"1\" SkipStorageInit=\"0\" "
                         "AlwaysValidate=\"1\" SkipWrite=\"1\" MaxDigestTableSizeInBytes=\"8192\" "
                         "PAGES_PER_BLOCK=\"64\"" TAIL);

    /* Sierra's whole-file program (libqmi, §2.6): 5000 bytes in 4096-byte sectors = 2 */
    MK_CHECK_EQ_INT(mk_firehose_build_program_cwe(b, sizeof b, 5000, 4096, 64, &n), MK_OK);
    MK_CHECK_EQ_STR(b, HEAD "<program PAGES_PER_BLOCK=\"64\" SECTOR_SIZE_IN_BYTES=\"4096\" "
                            "filename=\"spkg.cwe\" num_partition_sectors=\"2\" "
                            "physical_partition_number=\"0\" start_sector=\"-1\"" TAIL);
    MK_CHECK_EQ_INT(mk_firehose_build_program_cwe(b, sizeof b, 4096, 4096, 0, &n), MK_OK);
    MK_CHECK(strstr(b, "num_partition_sectors=\"1\"") != NULL);
    MK_CHECK(strstr(b, "PAGES_PER_BLOCK") == NULL);
    MK_CHECK_EQ_INT(mk_firehose_build_program_cwe(b, sizeof b, 1, 0, 0, &n), MK_E_INVAL);

    struct mk_firehose_region r = {.sector_size = 512,
                                   .num_sectors = 34,
                                   .physical_partition = 1,
                                   .start_sector = "NUM_DISK_SECTORS-33.",
                                   .filename = "gpt_backup0.bin",
                                   .label = "B&<\"'>"};
    MK_CHECK_EQ_INT(mk_firehose_build_program(b, sizeof b, &r, &n), MK_OK);
    MK_CHECK_EQ_STR(b, HEAD
                    "<program SECTOR_SIZE_IN_BYTES=\"512\" filename=\"gpt_backup0.bin\" "
                    "label=\"B&amp;&lt;&quot;&apos;&gt;\" num_partition_sectors=\"34\" "
                    "physical_partition_number=\"1\" start_sector=\"NUM_DISK_SECTORS-33.\"" TAIL);
    struct mk_firehose_region e = {
        .sector_size = 4096, .num_sectors = 10, .pages_per_block = 64, .last_sector = "9"};
    MK_CHECK_EQ_INT(mk_firehose_build_erase(b, sizeof b, &e, &n), MK_OK);
    MK_CHECK_EQ_STR(b, HEAD "<erase PAGES_PER_BLOCK=\"64\" SECTOR_SIZE_IN_BYTES=\"4096\" "
                            "last_sector=\"9\" num_partition_sectors=\"10\" "
                            "physical_partition_number=\"0\" start_sector=\"0\"" TAIL);
    struct mk_firehose_region rd = {.sector_size = 512, .num_sectors = 1, .start_sector = "1"};
    MK_CHECK_EQ_INT(mk_firehose_build_read(b, sizeof b, &rd, &n), MK_OK);
    MK_CHECK_EQ_STR(b, HEAD "<read SECTOR_SIZE_IN_BYTES=\"512\" num_partition_sectors=\"1\" "
                            "physical_partition_number=\"0\" start_sector=\"1\"" TAIL);

    struct mk_firehose_patch p = {.sector_size = 512,
                                  .byte_offset = "296",
                                  .filename = "DISK",
                                  .physical_partition = 0,
                                  .size_in_bytes = 8,
                                  .start_sector = "NUM_DISK_SECTORS-1.",
                                  .value = "NUM_DISK_SECTORS-34."};
    MK_CHECK_EQ_INT(mk_firehose_build_patch(b, sizeof b, &p, &n), MK_OK);
    MK_CHECK_EQ_STR(b, HEAD
                    "<patch SECTOR_SIZE_IN_BYTES=\"512\" byte_offset=\"296\" "
                    "filename=\"DISK\" physical_partition_number=\"0\" size_in_bytes=\"8\" "
                    "start_sector=\"NUM_DISK_SECTORS-1.\" value=\"NUM_DISK_SECTORS-34.\"" TAIL);

    MK_CHECK_EQ_INT(mk_firehose_build_power(b, sizeof b, "reset", 0, &n), MK_OK);
    MK_CHECK_EQ_STR(b, HEAD "<power DelayInSeconds=\"0\" value=\"reset\"" TAIL);
    MK_CHECK_EQ_INT(mk_firehose_build_power(b, sizeof b, "off", 10, &n), MK_OK);
    MK_CHECK_EQ_STR(b, HEAD "<power DelayInSeconds=\"10\" value=\"off\"" TAIL);
    MK_CHECK_EQ_INT(mk_firehose_build_power(b, sizeof b, "reset", -1, &n), MK_OK);
    MK_CHECK_EQ_STR(b, HEAD "<power value=\"reset\"" TAIL);

    MK_CHECK_EQ_INT(mk_firehose_build_getstorageinfo(b, sizeof b, MK_FIREHOSE_SIERRA, 0, &n),
                    MK_OK);
    MK_CHECK_EQ_STR(b, HEAD "<getStorageInfo physical_partition_number=\"0\"" TAIL);
    MK_CHECK_EQ_INT(mk_firehose_build_getstorageinfo(b, sizeof b, MK_FIREHOSE_QCOM, 2, &n), MK_OK);
    MK_CHECK_EQ_STR(b, HEAD "<getstorageinfo physical_partition_number=\"2\"" TAIL);
    MK_CHECK_EQ_INT(mk_firehose_build_nop(b, sizeof b, MK_FIREHOSE_QCOM, &n), MK_OK);
    MK_CHECK_EQ_STR(b, HEAD "<nop" TAIL);
    MK_CHECK_EQ_INT(mk_firehose_build_nop(b, sizeof b, MK_FIREHOSE_SIERRA, &n), MK_OK);
    MK_CHECK_EQ_STR(b, HEAD "<NOP value=\"ping\"" TAIL);

    struct mk_firehose_attr a[] = {{"value", "0"}};
    MK_CHECK_EQ_INT(mk_firehose_build(b, sizeof b, "setbootablestoragedrive", a, 1, &n), MK_OK);
    MK_CHECK_EQ_STR(b, HEAD "<setbootablestoragedrive value=\"0\"" TAIL);
}

/* Collect every message of `in` fed in pieces of `step` bytes. */
struct seen {
    int logs, responses, elements, garbage, errors;
    char last_log[128];
    struct mk_firehose_response resp[4];
    enum mk_err resp_err[4];
};

static void feed_all(struct mk_firehose_rx *rx, const char *in, size_t len, size_t step,
                     struct seen *s)
{
    for (size_t off = 0; off < len;) {
        size_t chunk = len - off < step ? len - off : step, taken = 0;
        while (taken < chunk) {
            taken += mk_firehose_rx_feed(rx, in + off + taken, chunk - taken);
            struct mk_firehose_msg m;
            while (mk_firehose_rx_next(rx, &m) == MK_DONE) {
                switch (m.type) {
                case MK_FIREHOSE_MSG_LOG:
                    s->logs++;
                    MK_CHECK_EQ_INT(
                        mk_firehose_attr_get(&m, "value", s->last_log, sizeof s->last_log), MK_OK);
                    break;
                case MK_FIREHOSE_MSG_RESPONSE:
                    if (s->responses < 4) {
                        s->resp_err[s->responses] =
                            mk_firehose_parse_response(&m, &s->resp[s->responses]);
                    }
                    s->responses++;
                    break;
                case MK_FIREHOSE_MSG_ELEMENT:
                    s->elements++;
                    break;
                case MK_FIREHOSE_MSG_GARBAGE:
                    s->garbage++;
                    break;
                case MK_FIREHOSE_MSG_ERROR:
                    s->errors++;
                    break;
                }
            }
        }
        off += chunk;
    }
}

/* Logs then an ACK, as several documents in one read and split at every byte. */
static const char multi[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<data>\n<log value=\"INFO: Binary build date: "
    "Jun 25 2019 @ 04:13:39\" /></data>"
    "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<data>\n<log value=\"SWI supported functions: "
    "CWE\" /></data>\r\n"
    "<?xml version=\"1.0\" encoding=\"UTF-8\" ?><data><log value='quote &quot;x&quot; &amp; "
    "&lt;tag&gt; &apos;y&apos; &#65;&#x42;' /></data>"
    "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<data>\n<response value=\"ACK\" "
    "MinVersionSupported=\"1\" MemoryName=\"NAND\" MaxPayloadSizeFromTargetInBytes=\"4096\" "
    "MaxPayloadSizeToTargetInBytes=\"8192\" MaxPayloadSizeToTargetInBytesSupported=\"8192\" "
    "MaxXMLSizeInBytes=\"4096\" Version=\"1\" TargetName=\"9x07\" />\n</data>\n";

MK_TEST(multi_document_and_split_reads)
{
    size_t len = sizeof multi - 1;
    for (size_t step = 1; step <= len; step += (step < 40 ? 1 : 37)) {
        char buf[1024];
        struct mk_firehose_rx rx;
        mk_firehose_rx_init(&rx, buf, sizeof buf);
        struct seen s = {0};
        feed_all(&rx, multi, len, step, &s);
        MK_CHECK_EQ_INT(s.logs, 3);
        MK_CHECK_EQ_INT(s.responses, 1);
        MK_CHECK_EQ_INT(s.garbage + s.errors + s.elements, 0);
        MK_CHECK_EQ_STR(s.last_log, "quote \"x\" & <tag> 'y' AB");
        MK_CHECK_EQ_INT(s.resp_err[0], MK_OK);
        MK_CHECK(s.resp[0].ack);
        MK_CHECK_EQ_INT(s.resp[0].rawmode, -1);
        MK_CHECK_EQ_INT(s.resp[0].max_payload_to_target, 8192);
        MK_CHECK_EQ_INT(s.resp[0].max_payload_to_target_supported, 8192);
        MK_CHECK_EQ_INT(s.resp[0].max_payload_from_target, 4096);
        MK_CHECK_EQ_INT(s.resp[0].max_xml_size, 4096);
        MK_CHECK_EQ_STR(s.resp[0].memory_name, "NAND");
        MK_CHECK_EQ_STR(s.resp[0].target_name, "9x07");
    }
}

/* libqmi's test fixture: a 9x55 NAKs configure and names the size it accepts (§2.3). */
MK_TEST(configure_nak_negotiates_size)
{
    static const char nak[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?><data><response value=\"NAK\" "
        "MemoryName=\"eMMC\" MaxPayloadSizeFromTargetInBytes=\"4096\" "
        "MaxPayloadSizeToTargetInBytes=\"8192\" MaxPayloadSizeToTargetInBytesSupported=\"8192\" "
        "TargetName=\"9x55\" /></data>";
    char buf[1024];
    struct mk_firehose_rx rx;
    mk_firehose_rx_init(&rx, buf, sizeof buf);
    struct seen s = {0};
    feed_all(&rx, nak, sizeof nak - 1, 64, &s);
    MK_CHECK_EQ_INT(s.responses, 1);
    MK_CHECK_EQ_INT(s.resp_err[0], MK_E_FIREHOSE_NAK); /* a NAK is an error... */
    MK_CHECK(!s.resp[0].ack);
    MK_CHECK_EQ_STR(s.resp[0].target_name, "9x55");
    uint64_t use = 0;
    bool retry = false;
    /* ...that configure turns into a retry with the offered size */
    MK_CHECK_EQ_INT(mk_firehose_negotiate(&s.resp[0], 1048576, &use, &retry), MK_OK);
    MK_CHECK(retry);
    MK_CHECK_EQ_INT(use, 8192);
    MK_CHECK_EQ_INT(mk_firehose_block_size(use, 4096), 8192);
    MK_CHECK_EQ_INT(mk_firehose_block_size(10000, 4096), 8192);
    MK_CHECK_EQ_INT(mk_firehose_block_size(1000, 4096), 4096);
    /* the same size refused again: give up */
    MK_CHECK_EQ_INT(mk_firehose_negotiate(&s.resp[0], 8192, &use, &retry), MK_E_FIREHOSE_NAK);
    /* a NAK without a size: libqmi's "unknown max payload size" */
    struct mk_firehose_response bare = {.ack = false, .rawmode = -1};
    MK_CHECK_EQ_INT(mk_firehose_negotiate(&bare, 1048576, &use, &retry), MK_E_FIREHOSE_NAK);
    /* only the Supported attribute */
    bare.max_payload_to_target_supported = 16384;
    MK_CHECK_EQ_INT(mk_firehose_negotiate(&bare, 1048576, &use, &retry), MK_OK);
    MK_CHECK_EQ_INT(use, 16384);
    /* the retry is ACKed */
    struct mk_firehose_response ack = {.ack = true, .rawmode = -1, .max_payload_to_target = 8192};
    MK_CHECK_EQ_INT(mk_firehose_negotiate(&ack, 8192, &use, &retry), MK_OK);
    MK_CHECK(!retry);
    MK_CHECK_EQ_INT(use, 8192);
    ack.max_payload_to_target = 0;
    MK_CHECK_EQ_INT(mk_firehose_negotiate(&ack, 4096, &use, &retry), MK_OK);
    MK_CHECK_EQ_INT(use, 4096);
}

static void txn_run(struct mk_firehose_txn *t, const char *in)
{
    char buf[1024];
    struct mk_firehose_rx rx;
    mk_firehose_rx_init(&rx, buf, sizeof buf);
    mk_firehose_rx_feed(&rx, in, strlen(in));
    struct mk_firehose_msg m;
    while (mk_firehose_rx_next(&rx, &m) == MK_DONE)
        mk_firehose_txn_on_msg(t, &m);
}

MK_TEST(nak_and_missing_ack_are_errors)
{
    struct mk_firehose_txn t;
    /* a NAK after logs */
    mk_firehose_txn_init(&t);
    txn_run(&t, HEAD "<log value=\"ERROR: XML not formed correctly\" />\n</data>" HEAD
                     "<response value=\"NAK\" />\n</data>");
    MK_CHECK(t.done);
    MK_CHECK_EQ_INT(t.logs, 1);
    MK_CHECK_EQ_INT(mk_firehose_txn_result(&t), MK_E_FIREHOSE_NAK);
    /* logs only, then the stream ends (timeout / hangup): no ACK means failure */
    mk_firehose_txn_init(&t);
    txn_run(&t, HEAD "<log value=\"Finished programming\" />\n</data>");
    MK_CHECK(!t.done);
    MK_CHECK_EQ_INT(mk_firehose_txn_result(&t), MK_E_FIREHOSE_NAK);
    /* nothing at all */
    mk_firehose_txn_init(&t);
    MK_CHECK_EQ_INT(mk_firehose_txn_result(&t), MK_E_FIREHOSE_NAK);
    /* a value that is neither ACK nor NAK, or no value: not a success */
    mk_firehose_txn_init(&t);
    txn_run(&t, HEAD "<response value=\"MAYBE\" />\n</data>");
    MK_CHECK_EQ_INT(mk_firehose_txn_result(&t), MK_E_FIREHOSE_NAK);
    mk_firehose_txn_init(&t);
    txn_run(&t, HEAD "<response rawmode=\"false\" />\n</data>");
    MK_CHECK_EQ_INT(mk_firehose_txn_result(&t), MK_E_FIREHOSE_NAK);
    /* the ACK, and later messages do not change the outcome */
    mk_firehose_txn_init(&t);
    txn_run(&t,
            HEAD "<response value=\"ACK\" />\n</data>" HEAD "<response value=\"NAK\" /></data>");
    MK_CHECK_EQ_INT(mk_firehose_txn_result(&t), MK_OK);
    /* a truncated document (no closing '>') never counts as the ACK */
    mk_firehose_txn_init(&t);
    txn_run(&t, HEAD "<response value=\"ACK\"");
    MK_CHECK_EQ_INT(mk_firehose_txn_result(&t), MK_E_FIREHOSE_NAK);
}

/* <read>: ACK rawmode="true", then raw sectors in the same read, then the final ACK. */
MK_TEST(rawmode_stops_the_parser)
{
    char in[512];
    size_t len = 0;
    const char *ack_raw = HEAD "<response value=\"ACK\" rawmode=\"true\" />\n</data>";
    memcpy(in, ack_raw, strlen(ack_raw));
    len += strlen(ack_raw);
    /* raw data that looks like XML must not be parsed */
    const char *raw = "<?xml <data><response value=\"NAK\"/></data>";
    memcpy(in + len, raw, strlen(raw));
    len += strlen(raw);
    const char *fin = HEAD "<response value=\"ACK\" rawmode=\"false\" />\n</data>";
    memcpy(in + len, fin, strlen(fin));
    len += strlen(fin);

    char buf[1024];
    struct mk_firehose_rx rx;
    mk_firehose_rx_init(&rx, buf, sizeof buf);
    MK_CHECK_EQ_INT(mk_firehose_rx_feed(&rx, in, len), len);
    struct mk_firehose_msg m;
    MK_CHECK_EQ_INT(mk_firehose_rx_next(&rx, &m), MK_DONE);
    MK_CHECK_EQ_INT(m.type, MK_FIREHOSE_MSG_RESPONSE);
    MK_CHECK(m.ack && m.rawmode);
    MK_CHECK_EQ_INT(mk_firehose_rx_next(&rx, &m), MK_PENDING);
    const uint8_t *data;
    size_t n;
    mk_firehose_rx_raw(&rx, &data, &n);
    MK_CHECK_EQ_INT(n, strlen(raw) + strlen(fin));
    MK_CHECK_EQ_MEM(data, raw, strlen(raw));
    mk_firehose_rx_consume(&rx, strlen(raw));
    mk_firehose_rx_resume(&rx);
    MK_CHECK_EQ_INT(mk_firehose_rx_next(&rx, &m), MK_DONE);
    MK_CHECK_EQ_INT(m.type, MK_FIREHOSE_MSG_RESPONSE);
    MK_CHECK(m.ack && !m.rawmode);
    struct mk_firehose_response r;
    MK_CHECK_EQ_INT(mk_firehose_parse_response(&m, &r), MK_OK);
    MK_CHECK_EQ_INT(r.rawmode, 0);
    MK_CHECK_EQ_INT(mk_firehose_rx_next(&rx, &m), MK_PENDING);
}

/* The simulator's side: host commands come out as elements with their attributes. */
MK_TEST(request_parser)
{
    char doc[512];
    size_t n;
    struct mk_firehose_configure c = {.memory_name = "NAND", .max_payload_to_target = 1048576};
    MK_CHECK_EQ_INT(mk_firehose_build_configure(doc, sizeof doc, &c, &n), MK_OK);
    char buf[1024];
    struct mk_firehose_rx rx;
    mk_firehose_rx_init(&rx, buf, sizeof buf);
    mk_firehose_rx_feed(&rx, doc, n);
    struct mk_firehose_msg m;
    MK_CHECK_EQ_INT(mk_firehose_rx_next(&rx, &m), MK_DONE);
    MK_CHECK_EQ_INT(m.type, MK_FIREHOSE_MSG_ELEMENT);
    MK_CHECK_EQ_INT(m.tag_len, 9);
    MK_CHECK_EQ_MEM(m.tag, "configure", 9);
    uint64_t v;
    MK_CHECK_EQ_INT(mk_firehose_attr_u64(&m, "MaxPayloadSizeToTargetInBytes", &v), MK_OK);
    MK_CHECK_EQ_INT(v, 1048576);
    MK_CHECK_EQ_INT(mk_firehose_attr_u64(&m, "maxpayloadsizetotargetinbytes", &v), MK_OK);
    char name[16];
    MK_CHECK_EQ_INT(mk_firehose_attr_get(&m, "MemoryName", name, sizeof name), MK_OK);
    MK_CHECK_EQ_STR(name, "NAND");
    MK_CHECK_EQ_INT(mk_firehose_attr_get(&m, "Nope", name, sizeof name), MK_E_NOENT);
    MK_CHECK_EQ_INT(mk_firehose_attr_u64(&m, "MemoryName", &v), MK_E_FORMAT);

    /* <program> then raw data: the target holds the parser itself */
    MK_CHECK_EQ_INT(mk_firehose_build_program_cwe(doc, sizeof doc, 10, 4096, 0, &n), MK_OK);
    mk_firehose_rx_feed(&rx, doc, n);
    mk_firehose_rx_feed(&rx, "\0\0<?xml", 7);
    MK_CHECK_EQ_INT(mk_firehose_rx_next(&rx, &m), MK_DONE);
    MK_CHECK_EQ_MEM(m.tag, "program", 7);
    MK_CHECK_EQ_INT(mk_firehose_attr_u64(&m, "num_partition_sectors", &v), MK_OK);
    MK_CHECK_EQ_INT(v, 1);
    mk_firehose_rx_hold(&rx);
    MK_CHECK_EQ_INT(mk_firehose_rx_next(&rx, &m), MK_PENDING);
    const uint8_t *data;
    mk_firehose_rx_raw(&rx, &data, &n);
    MK_CHECK_EQ_INT(n, 7);
    MK_CHECK_EQ_INT(data[0], 0);
}

MK_TEST(attribute_scanner)
{
    const char *a = " value=\"a > b / c\" Other = 'x\"y' flag empty=\"\" n=0x1F bare=12 /";
    const char *v;
    size_t n;
    MK_CHECK_EQ_INT(mk_firehose_attr_find(a, strlen(a), "value", &v, &n), MK_OK);
    MK_CHECK_EQ_INT(n, 9);
    MK_CHECK_EQ_MEM(v, "a > b / c", 9);
    MK_CHECK_EQ_INT(mk_firehose_attr_find(a, strlen(a), "other", &v, &n), MK_OK);
    MK_CHECK_EQ_INT(n, 3);
    MK_CHECK_EQ_MEM(v, "x\"y", 3);
    MK_CHECK_EQ_INT(mk_firehose_attr_find(a, strlen(a), "flag", &v, &n), MK_E_NOENT);
    MK_CHECK_EQ_INT(mk_firehose_attr_find(a, strlen(a), "empty", &v, &n), MK_OK);
    MK_CHECK_EQ_INT(n, 0);
    MK_CHECK_EQ_INT(mk_firehose_attr_find(a, strlen(a), "bare", &v, &n), MK_OK);
    MK_CHECK_EQ_MEM(v, "12", 2);
    MK_CHECK_EQ_INT(mk_firehose_attr_find(a, strlen(a), "valu", &v, &n), MK_E_NOENT);
    /* a value in quotes is never mistaken for an attribute name */
    const char *tricky = " value=\"rawmode=true\"";
    MK_CHECK_EQ_INT(mk_firehose_attr_find(tricky, strlen(tricky), "rawmode", &v, &n), MK_E_NOENT);
    const char *open = " a=\"unterminated";
    MK_CHECK_EQ_INT(mk_firehose_attr_find(open, strlen(open), "b", &v, &n), MK_E_FORMAT);

    char out[32];
    size_t olen;
    MK_CHECK_EQ_INT(
        mk_firehose_unescape("&amp;amp; &bogus; &#0; &#x7f; & end", 35, out, sizeof out, &olen),
        MK_OK);
    MK_CHECK_EQ_STR(out, "&amp; &bogus; &#0; \x7f & end");
    MK_CHECK_EQ_INT(mk_firehose_unescape("abcdef", 6, out, 4, &olen), MK_E_NOSPC);
    MK_CHECK_EQ_STR(out, "abc");
    MK_CHECK_EQ_INT(mk_firehose_unescape("&#x100;&#9999999999;", 20, out, sizeof out, &olen),
                    MK_OK);
    MK_CHECK_EQ_STR(out, "&#x100;&#9999999999;");
}

MK_TEST(garbage_overflow_and_unterminated)
{
    char buf[128];
    struct mk_firehose_rx rx;
    mk_firehose_rx_init(&rx, buf, sizeof buf);
    struct seen s = {0};
    /* junk before a document, an unterminated document closed by the next one */
    const char *in = "\x01\x02 junk <?xml version=\"1.0\"?><data><log value=\"a\"/>"
                     "<?xml version=\"1.0\"?><data><response value=\"ACK\"/></data>";
    feed_all(&rx, in, strlen(in), 7, &s);
    MK_CHECK(s.garbage >= 1);
    MK_CHECK_EQ_INT(s.logs, 1);
    MK_CHECK_EQ_INT(s.responses, 1);
    MK_CHECK_EQ_INT(s.errors, 0);

    /* a document larger than the buffer is dropped and reported; parsing recovers */
    mk_firehose_rx_init(&rx, buf, sizeof buf);
    memset(&s, 0, sizeof s);
    char big[600];
    strcpy(big, "<?xml version=\"1.0\"?><data><log value=\"");
    size_t l = strlen(big);
    memset(big + l, 'x', 300);
    strcpy(big + l + 300, "\"/></data><?xml?><data><response value=\"ACK\"/></data>");
    feed_all(&rx, big, strlen(big), 50, &s);
    MK_CHECK(s.errors >= 1);
    MK_CHECK_EQ_INT(s.responses, 1);
    MK_CHECK_EQ_INT(s.resp_err[0], MK_OK);

    /* an element without its closing '>' (an open quote) inside a complete document */
    mk_firehose_rx_init(&rx, buf, sizeof buf);
    memset(&s, 0, sizeof s);
    const char *broken = "<?xml?><data><log value=\"x </data>";
    feed_all(&rx, broken, strlen(broken), 100, &s);
    MK_CHECK_EQ_INT(s.logs, 0);
    MK_CHECK_EQ_INT(s.errors, 1);

    /* comments, bare elements and a stray '<' */
    mk_firehose_rx_init(&rx, buf, sizeof buf);
    memset(&s, 0, sizeof s);
    const char *odd = "<!-- hi --><response value=\"ACK\"/><data>< <log value='z'/></data>";
    feed_all(&rx, odd, strlen(odd), 3, &s);
    MK_CHECK_EQ_INT(s.responses, 1);
    MK_CHECK_EQ_INT(s.logs, 1);
}

MK_TEST(target_side_builders)
{
    char b[256];
    size_t n;
    MK_CHECK_EQ_INT(mk_firehose_build_log(b, sizeof b, "a<b", &n), MK_OK);
    MK_CHECK_EQ_STR(b, HEAD "<log value=\"a&lt;b\"" TAIL);
    struct mk_firehose_attr extra[] = {{"rawmode", "true"}};
    MK_CHECK_EQ_INT(mk_firehose_build_response(b, sizeof b, true, extra, 1, &n), MK_OK);
    MK_CHECK_EQ_STR(b, HEAD "<response value=\"ACK\" rawmode=\"true\"" TAIL);
    MK_CHECK_EQ_INT(mk_firehose_build_response(b, sizeof b, false, NULL, 0, &n), MK_OK);
    MK_CHECK_EQ_STR(b, HEAD "<response value=\"NAK\"" TAIL);
}

MK_TEST_MAIN()
