/*
 * modemsim profiles: one const struct per simulated module + firmware.
 *
 * Add a profile by appending an entry to sim_profiles[]: identity strings, SIM_CAP_* bits
 * (which command families exist and which firmware deviations apply) and the test-command
 * answers that differ from the defaults in the command tables (cmd_*.c). Every quirk
 * cites its source; guesses say UNVERIFIED.
 *
 * Sources: S1 = SIM7500/SIM7600 AT Command Manual V3.00; S5/S6 = SIM7000 AT manual /
 * MQTT app note; seeds 000-003 in the project's field reports (copied as test fixtures).
 */
#include "sim.h"

#include <string.h>
#include <strings.h>

#define SIMCOM_LTE_BOOT "RDY\n+CPIN: READY\nSMS DONE\nPB DONE" /* S1 §1, S3/S4 logs */

/* LE11 firmware: ACCQ has no <mqtt_version> (seed 000: "not ... the ability to select the
 * MQTT version with the AT+CMQTTACCQ command" on LE11B01SIM7600M21-A). */
static const struct sim_test_answer tests_le11[] = {
    {"+CMQTTACCQ", "+CMQTTACCQ: (0-1),(1-128),(0-1)"},
    {NULL, NULL},
};

/* LE11B02SIM7500A rejects AT+CSSLCFG="sslversion",0,4 (seed 001, cmendes0101). S1 says 4
 * ("all") is valid and the default, so this firmware predates it. Decision (UNVERIFIED,
 * at-commands.md §9 asks exactly this): the key exists with range 0-3 and its default is
 * 3 (TLS 1.2), so a probe with AT+CSSLCFG=? can see the difference. */
static const struct sim_test_answer tests_sim7500a[] = {
    {"+CMQTTACCQ", "+CMQTTACCQ: (0-1),(1-128),(0-1)"},
    {"+CSSLCFG", "+CSSLCFG: \"sslversion\",(0-9),(0-3)\r\n"
                 "+CSSLCFG: \"authmode\",(0-9),(0-3)\r\n"
                 "+CSSLCFG: \"ignorelocaltime\",(0-9),(0,1)\r\n"
                 "+CSSLCFG: \"negotiatetime\",(0-9),(10-300)\r\n"
                 "+CSSLCFG: \"cacert\",(0-9),(5-128)\r\n"
                 "+CSSLCFG: \"clientcert\",(0-9),(5-128)\r\n"
                 "+CSSLCFG: \"clientkey\",(0-9),(5-128)\r\n"
                 "+CSSLCFG: \"enableSNI\",(0-9),(0,1)\r\n"
                 "+CSSLCFG: \"keypwd\",(0-9),(0-128)\r\n"
                 "+CSSLCFG: \"ciphersuites\",(0-9),(0x002F,0xFFFF)"},
    {NULL, NULL},
};

/*
 * Revisions a profile can be updated to over the air (modemsim --make-delta builds the
 * deltas). LE11B14SIM7600M22 is the revision the seed-000 user moved to, after which
 * AT+CMQTTACCQ took an MQTT version and AT+CMQTTCONNECT user name and password: the
 * same as -H firmware. 1529B05SIM7000G is made up for the simulation (the SIM7000 FOTA
 * note, S7, names no revisions beyond 1529B04).
 */
static const struct sim_revision revs_sim7600sa[] = {
    {"LE11B14SIM7600M22",
     SIM_CAP_SIMCOM | SIM_CAP_NETOPEN | SIM_CAP_CMQTT | SIM_CAP_CMQTT_VER | SIM_CAP_CMQTT_AUTH |
         SIM_CAP_CCERT | SIM_CAP_SSL_ALL | SIM_CAP_FS7600,
     NULL},
    {NULL, 0, NULL},
};

static const struct sim_revision revs_sim7000g[] = {
    {"1529B05SIM7000G", SIM_CAP_SMQTT | SIM_CAP_CNACT | SIM_CAP_CFS, NULL},
    {NULL, 0, NULL},
};

static const struct sim_profile sim_profiles[] = {
    {
        /* SIM7600E-H with the full CMQTT of the V3.00 manual (S1 §16). "SIM7600M22" is
         * the revision family of -H parts (at-commands.md §1.1, TinyGSM #540). */
        .name = "SIM7600E-H",
        .summary = "SIMCom SIM7600E-H, full CMQTT (MQTT 3.1/3.1.1, credentials), TLS store",
        .caps = SIM_CAP_SIMCOM | SIM_CAP_NETOPEN | SIM_CAP_CMQTT | SIM_CAP_CMQTT_VER |
                SIM_CAP_CMQTT_AUTH | SIM_CAP_CCERT | SIM_CAP_SSL_ALL | SIM_CAP_FS7600,
        .ati = SIM_ATI_SIMCOM_LTE,
        .manufacturer = "SIMCOM INCORPORATED",
        .model = "SIMCOM_SIM7600E-H",
        .ati_model = "SIMCOM_SIM7600E-H",
        .revision = "LE20B04SIM7600M22",
        .ati_revision = "SIM7600M22_V1.1", /* UNVERIFIED: the -H short form */
        .cgmr_fmt = "+CGMR: %s",
        .gmr_fmt = "+GMR: %s", /* seed 000 quotes "+GMR: <revision>" */
        .imei = "861551030000012",
        .imsi = "001010000000001",
        .iccid = "89860000000000000011",
        /* Field layout of seed 001 (F1 log), values of our own. */
        .cpsi = "+CPSI: LTE,Online,001-01,0x1A2B,136092930,257,EUTRAN-BAND3,1275,5,5,-98,"
                "-870,-610,12",
        .boot_urcs = SIMCOM_LTE_BOOT,
        .cmqtt_default_version = 3, /* S1: ACCQ default is 3 (MQTT 3.1) */
        .smqtt_version = 4,
        /* +CMQTTSTART: 0 before OK on SIM7600 (F1 log; T-SIM7600X #49). */
        .urc_order = "START=before",
        .tests = NULL,
    },
    {
        /* The "non -H" SIM7600SA of seed 000: no ACCQ version, no CONNECT credentials. */
        .name = "SIM7600SA",
        .summary = "SIMCom SIM7600SA, old LE11 firmware: no MQTT version, no credentials",
        .caps = SIM_CAP_SIMCOM | SIM_CAP_NETOPEN | SIM_CAP_CMQTT | SIM_CAP_CCERT |
                SIM_CAP_SSL_ALL | SIM_CAP_FS7600,
        .ati = SIM_ATI_SIMCOM_LTE,
        .manufacturer = "SIMCOM INCORPORATED",
        .model = "SIMCOM_SIM7600SA",
        .ati_model = "SIMCOM_SIM7600SA",
        .revision = "LE11B01SIM7600M21-A",
        .ati_revision = "SIM7600M21-A_V1.1", /* short form seen in seed 001 (F1) */
        .cgmr_fmt = "+CGMR: %s",
        .gmr_fmt = "+GMR: %s", /* seed 000 */
        .imei = "861551030000020",
        .imsi = "001010000000002",
        .iccid = "89860000000000000029",
        .cpsi = "+CPSI: LTE,Online,001-01,0x309D,136092931,257,EUTRAN-BAND28,9410,3,3,-110,"
                "-950,-700,9",
        .boot_urcs = SIMCOM_LTE_BOOT,
        /* UNVERIFIED (at-commands.md §9): the protocol level old firmware sends; assume
         * 3.1 ("MQIsdp") like A76XX's documented default. */
        .cmqtt_default_version = 3,
        .smqtt_version = 4,
        .urc_order = "START=before",
        .tests = tests_le11,
        .revisions = revs_sim7600sa,
    },
    {
        /* SIM7500A on LE11B02SIM7500A firmware (seed 001, cmendes0101): sslversion 4 is
         * refused. UNVERIFIED: its CMQTT is assumed to be the old LE11 one too. */
        .name = "SIM7500A",
        .summary = "SIMCom SIM7500A, LE11B02 firmware: CSSLCFG sslversion 4 refused",
        .caps = SIM_CAP_SIMCOM | SIM_CAP_NETOPEN | SIM_CAP_CMQTT | SIM_CAP_CCERT | SIM_CAP_FS7600,
        .ati = SIM_ATI_SIMCOM_LTE,
        .manufacturer = "SIMCOM INCORPORATED",
        .model = "SIMCOM_SIM7500A",
        .ati_model = "SIMCOM_SIM7500A",
        .revision = "LE11B02SIM7500A",
        .ati_revision = "SIM7500A_V1.1", /* UNVERIFIED */
        .cgmr_fmt = "+CGMR: %s",         /* seed 001: "+CGMR: LE11B02SIM7500A" */
        .gmr_fmt = "+GMR: %s",
        .imei = "861551030000038",
        .imsi = "310410000000003",
        .iccid = "89010000000000000034",
        .cpsi = "+CPSI: LTE,Online,310-410,0x4E21,26411524,311,EUTRAN-BAND2,800,5,5,-101,"
                "-905,-640,10",
        .boot_urcs = SIMCOM_LTE_BOOT,
        .cmqtt_default_version = 3,
        .smqtt_version = 4,
        .urc_order = "START=before",
        .tests = tests_sim7500a,
    },
    {
        /* SIM7000G: SM* MQTT (S6, S9 §17), CNACT bearer (S5 §5.2, seed 003). */
        .name = "SIM7000G",
        .summary = "SIMCom SIM7000G, SM* MQTT, CNACT/CNCFG/CGNAPN bearer",
        .caps = SIM_CAP_SMQTT | SIM_CAP_CNACT | SIM_CAP_CFS,
        .ati = SIM_ATI_SIMCOM_7000,
        .manufacturer = "SIMCOM_Ltd",       /* UNVERIFIED */
        .model = "SIMCOM_SIM7000G",         /* UNVERIFIED */
        .ati_model = "SIM7000G",
        .revision = "1529B04SIM7000G",
        .ati_revision = "R1529",            /* UNVERIFIED: "SIM7000G R1529" */
        .cgmr_fmt = "Revision:%s",
        .gmr_fmt = "Revision:%s",           /* seed 003 (S7 §5.4) */
        .imei = "869257030000042",
        .imsi = "460110000000004",
        .iccid = "89860000000000000045",
        .cpsi = "+CPSI: LTE CAT-M1,Online,460-11,0x5A1E,187214780,257,EUTRAN-BAND3,1250,5,5,"
                "-10,-67,-41,16",
        .boot_urcs = "RDY\n+CFUN: 1\n+CPIN: READY\nSMS Ready", /* UNVERIFIED */
        .cmqtt_default_version = 3,
        .smqtt_version = 4, /* UNVERIFIED */
        .urc_order = "",
        .tests = NULL,
        .revisions = revs_sim7000g,
    },
    {
        /* Sierra Wireless RC7620 on R8 firmware (seed 002). */
        .name = "RC7620",
        .summary = "Sierra Wireless RC7620, SWI9X07H_00.08.07.00, AT!IMPREF/!GSTATUS/!BOOTHOLD",
        .caps = SIM_CAP_SIERRA | SIM_CAP_BOOTHOLD,
        .ati = SIM_ATI_SIERRA,
        .manufacturer = "Sierra Wireless, Incorporated", /* mmcli in seed 004 */
        .model = "RC7620",
        .ati_model = "RC7620",
        .revision = "SWI9X07H_00.08.07.00 0ce4c1 jenkins 2021/03/17 02:18:20", /* seed 002 */
        .ati_revision = NULL,
        .cgmr_fmt = "%s", /* seed 002: AT+CGMR answers the bare string */
        .gmr_fmt = "%s",
        .imei = "353296090000057",
        .imsi = "208010000000005",
        .iccid = "89330000000000000056",
        .cpsi = NULL,
        .boot_urcs = "", /* UNVERIFIED: no RDY on Sierra */
        .cmqtt_default_version = 3,
        .smqtt_version = 4,
        .urc_order = "",
        .tests = NULL,
        .sierra_fw = "00.08.07.00",
        .sierra_carrier = "SIERRA",
        .sierra_config = "SIERRA_000.057_000",
        .sierra_subpri = "001",
        /* RC76xx images carry product "9X07" (SWI9X07H, seed 004's package) */
        .dl_product = "9X07",
    },
};

#define NPROFILES (sizeof sim_profiles / sizeof sim_profiles[0])

/* By profile name or by factory revision (e.g. "LE11B01SIM7600M21-A"). */
const struct sim_profile *sim_profile_find(const char *name)
{
    for (size_t i = 0; i < NPROFILES; i++) {
        const struct sim_profile *p = &sim_profiles[i];
        if (strcasecmp(p->name, name) == 0 || strcasecmp(p->revision, name) == 0 ||
            strncasecmp(p->revision, name, strlen(name) > 8 ? strlen(name) : 8) == 0)
            return p;
    }
    return NULL;
}

const struct sim_profile *sim_profile_at(size_t i)
{
    return i < NPROFILES ? &sim_profiles[i] : NULL;
}

const struct sim_profile *sim_profile_effective(const struct sim_profile *base, const char *rev)
{
    static struct sim_profile eff;
    for (const struct sim_revision *r = base->revisions; r && r->revision; r++) {
        if (strcmp(r->revision, rev) == 0) {
            eff = *base;
            eff.caps = r->caps;
            eff.tests = r->tests;
            return &eff;
        }
    }
    return base;
}
