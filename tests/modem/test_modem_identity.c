/* Identity parsing against the formats in the seeds and manuals. */
#include "mk_test.h"
#include "modemkit/modem.h"

MK_TEST(simcom_ati_from_seed_001)
{
    struct mk_modem_id id = {0};
    mk_modem_parse_ati("Manufacturer: SIMCOM INCORPORATED\nModel: SIMCOM_SIM7600E\n"
                       "Revision: SIM7600M21-A_V1.1\nIMEI: 867584030000000\n+GCAP: +CGSM\n",
                       &id);
    MK_CHECK_EQ_STR(id.manufacturer, "SIMCOM INCORPORATED");
    MK_CHECK_EQ_STR(id.model, "SIMCOM_SIM7600E");
    MK_CHECK_EQ_STR(id.revision, "SIM7600M21-A_V1.1");
    MK_CHECK_EQ_STR(id.imei, "867584030000000");
    mk_modem_classify(&id);
    MK_CHECK_EQ_INT(id.vendor, MK_VENDOR_SIMCOM);
    MK_CHECK_EQ_INT(id.family, MK_FAMILY_SIM7600);
}

MK_TEST(strip_each_vendor_prefix)
{
    static const struct {
        const char *in, *out;
    } v[] = {
        {"+CGMR: LE11B02SIM7500A", "LE11B02SIM7500A"},
        {"+GMR: LE11B01SIM7600M21-A", "LE11B01SIM7600M21-A"},
        {"Revision:1529B04SIM7000G", "1529B04SIM7000G"},
        {"SWI9X07H_00.08.07.00 0ce4c1 jenkins 2021/03/17 02:18:20",
         "SWI9X07H_00.08.07.00 0ce4c1 jenkins 2021/03/17 02:18:20"},
        {"+CGSN: \"867584030000000\"", "867584030000000"},
        {"  SIMCOM INCORPORATED \r", "SIMCOM INCORPORATED"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t len = strlen(v[i].in);
        const char *p = mk_modem_strip_prefix(v[i].in, &len);
        char buf[128];
        memcpy(buf, p, len);
        buf[len] = '\0';
        MK_CHECK_EQ_STR(buf, v[i].out);
    }
}

MK_TEST(classify_families)
{
    struct mk_modem_id id = {.manufacturer = "SIMCOM INCORPORATED", .model = "SIMCOM_SIM7600A",
                             .revision = "LE11B02SIM7500A"};
    mk_modem_classify(&id);
    /* The model says SIM7600 but the firmware is a SIM7500 build (seed 001); the model
     * wins for the family, the revision drives quirks. */
    MK_CHECK_EQ_INT(id.family, MK_FAMILY_SIM7600);
    struct mk_modem_id rc = {.manufacturer = "Sierra Wireless, Incorporated", .model = "RC7620",
                             .revision = "SWI9X07H_00.08.07.00 0ce4c1 jenkins"};
    mk_modem_classify(&rc);
    MK_CHECK_EQ_INT(rc.vendor, MK_VENDOR_SIERRA);
    MK_CHECK_EQ_INT(rc.family, MK_FAMILY_RC76XX);
    struct mk_modem_id s7000 = {.manufacturer = "SIMCOM INCORPORATED", .model = "SIMCOM_SIM7000G",
                                .revision = "1529B04SIM7000G"};
    mk_modem_classify(&s7000);
    MK_CHECK_EQ_INT(s7000.family, MK_FAMILY_SIM7000);
    MK_CHECK(mk_modem_family_caps(s7000.family) & MK_CAP_MQTT_SM);
}

MK_TEST(accq_test_answer)
{
    bool v;
    MK_CHECK_EQ_INT(mk_modem_parse_accq_test("+CMQTTACCQ: (0-1),(1-128),(0-1),(3-4)", &v), MK_OK);
    MK_CHECK(v);
    MK_CHECK_EQ_INT(mk_modem_parse_accq_test("+CMQTTACCQ: (0-1),(1-128),(0-1)", &v), MK_OK);
    MK_CHECK(!v);
    MK_CHECK_EQ_INT(mk_modem_parse_accq_test("garbage", &v), MK_E_FORMAT);
}

MK_TEST(csslcfg_test_answer)
{
    const char *full = "+CSSLCFG: \"sslversion\",(0-9),(0-4)\n+CSSLCFG: \"authmode\",(0-9),(0-3)";
    MK_CHECK_EQ_INT(mk_modem_parse_sslversion_max(full), 4);
    MK_CHECK_EQ_INT(mk_modem_parse_sslversion_max("+CSSLCFG: \"sslversion\",(0-9),(0-3)"), 3);
    MK_CHECK_EQ_INT(mk_modem_parse_sslversion_max("+CSSLCFG: \"authmode\",(0-9),(0-3)"), -1);
}

MK_TEST(quirks_cite_evidence)
{
    size_t n;
    const struct mk_quirk *q = mk_modem_quirks(&n);
    MK_CHECK(n >= 2);
    for (size_t i = 0; i < n; i++) {
        MK_CHECK(q[i].revision_prefix && q[i].revision_prefix[0]);
        MK_CHECK(q[i].evidence && strstr(q[i].evidence, "seed"));
        MK_CHECK(q[i].remedy && q[i].remedy[0]);
        MK_CHECK(q[i].lacks != 0);
    }
    struct mk_modem_id old = {.model = "SIMCOM_SIM7600SA", .revision = "LE11B01SIM7600M21-A"};
    const struct mk_quirk *hit = mk_modem_find_quirk(&old);
    MK_CHECK(hit && (hit->lacks & MK_CAP_MQTT_CREDENTIALS));
    struct mk_modem_id newer = {.model = "SIMCOM_SIM7600SA", .revision = "LE11B14SIM7600M22"};
    MK_CHECK(mk_modem_find_quirk(&newer) == NULL);
}

MK_TEST_MAIN()
