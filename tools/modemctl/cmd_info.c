/* modemctl info: identity and capabilities. */
#include <string.h>

#include "cli.h"
#include "modemkit/modem.h"

static const char *mk_info_fota_name(uint32_t bits)
{
    if (bits & MK_CAP_FOTA_CFOTA)
        return "cfota";
    if (bits & MK_CAP_FOTA_CDELTA)
        return "cdelta";
    if (bits & MK_CAP_FLASH_DOWNLOAD)
        return "download-mode";
    return "none";
}

static const char *mk_info_fota_text(uint32_t bits)
{
    if (bits & MK_CAP_FOTA_CFOTA)
        return "delta into /fota/update.zip (AT+CFSWFILE), then AT+CFOTA=1";
    if (bits & MK_CAP_FOTA_CDELTA)
        return "delta into the cache drive (AT+CFTRANRX), then AT+CDELTA";
    if (bits & MK_CAP_FLASH_DOWNLOAD)
        return "CWE/SPK images in download mode (modemctl flash)";
    return "none known";
}

static const char *mk_info_mqtt_name(uint32_t bits)
{
    if (bits & MK_CAP_MQTT_CMQTT)
        return "cmqtt";
    if (bits & MK_CAP_MQTT_SM)
        return "sm";
    return "none";
}

static void mk_info_json(const struct mk_modem_id *id, const struct mk_modem_caps *caps)
{
    uint32_t b = caps->bits;
    bool mqtt = b & (MK_CAP_MQTT_CMQTT | MK_CAP_MQTT_SM);
    printf("{\"manufacturer\":");
    mk_host_json_str(stdout, id->manufacturer);
    printf(",\"model\":");
    mk_host_json_str(stdout, id->model);
    printf(",\"revision\":");
    mk_host_json_str(stdout, id->revision);
    printf(",\"imei\":");
    mk_host_json_str(stdout, id->imei);
    printf(",\"vendor\":");
    mk_host_json_str(stdout, mk_modem_vendor_name(id->vendor));
    printf(",\"family\":");
    mk_host_json_str(stdout, mk_modem_family_name(id->family));
    printf(",\"capabilities\":{\"mqtt\":\"%s\",\"mqtt_versions\":%s,\"mqtt_credentials\":%s,"
           "\"tls\":%s,\"tls_version_max\":%d,\"tls_sslversion_all\":%s,\"fota\":\"%s\"}",
           mk_info_mqtt_name(b),
           !mqtt ? "[]"
           : (b & MK_CAP_MQTT_VERSION) ? "[\"3.1\",\"3.1.1\"]"
           : caps->mqtt_version_default == 4 ? "[\"3.1.1\"]"
                                             : "[\"3.1\"]",
           (b & MK_CAP_MQTT_CREDENTIALS) ? "true" : "false", (b & MK_CAP_TLS) ? "true" : "false",
           caps->tls_version_max, (b & MK_CAP_TLS_VERSION_ALL) ? "true" : "false",
           mk_info_fota_name(b));
    printf(",\"quirk\":");
    if (caps->quirk) {
        printf("{\"revision\":");
        mk_host_json_str(stdout, caps->quirk->revision_prefix);
        printf(",\"what\":");
        mk_host_json_str(stdout, caps->quirk->what);
        printf(",\"evidence\":");
        mk_host_json_str(stdout, caps->quirk->evidence);
        printf(",\"remedy\":");
        mk_host_json_str(stdout, caps->quirk->remedy);
        printf("}");
    } else {
        printf("null");
    }
    printf("}\n");
}

static void mk_info_text(const struct mk_modem_id *id, const struct mk_modem_caps *caps)
{
    uint32_t b = caps->bits;
    printf("Manufacturer:      %s\n", id->manufacturer);
    printf("Model:             %s\n", id->model);
    printf("Revision:          %s\n", id->revision);
    printf("IMEI:              %s\n", id->imei[0] ? id->imei : "(not reported)");
    printf("Family:            %s (%s)\n", mk_modem_family_name(id->family),
           mk_modem_vendor_name(id->vendor));
    printf("Capabilities:\n");
    if (b & MK_CAP_MQTT_CMQTT)
        printf("  MQTT client      yes, AT+CMQTT* (clients 0 and 1)\n");
    else if (b & MK_CAP_MQTT_SM)
        printf("  MQTT client      yes, AT+SM*\n");
    else
        printf("  MQTT client      no\n");
    if (b & (MK_CAP_MQTT_CMQTT | MK_CAP_MQTT_SM)) {
        if (b & MK_CAP_MQTT_VERSION)
            printf("  MQTT versions    3.1 and 3.1.1 (selectable)\n");
        else
            printf("  MQTT versions    %s only (no version choice on this firmware)\n",
                   caps->mqtt_version_default == 4 ? "3.1.1" : "3.1");
        printf("  MQTT credentials %s\n",
               (b & MK_CAP_MQTT_CREDENTIALS) ? "yes (user name and password)"
                                             : "NO: this firmware cannot send a user name "
                                               "or password");
    }
    if (b & MK_CAP_TLS) {
        if (caps->tls_version_max >= 0)
            printf("  TLS              yes, module TLS, sslversion 0-%d%s\n",
                   caps->tls_version_max,
                   (b & MK_CAP_TLS_VERSION_ALL) ? "" : " (\"all\" = 4 not accepted)");
        else
            printf("  TLS              yes, module TLS%s\n",
                   (b & MK_CAP_TLS_VERSION_ALL) ? "" : " (sslversion 4 not accepted)");
    } else {
        printf("  TLS              no module TLS known\n");
    }
    printf("  Firmware update  %s\n", mk_info_fota_text(b));
    if (caps->quirk) {
        const struct mk_quirk *q = caps->quirk;
        printf("Known limitation of %s:\n  %s.\n  Evidence: %s.\n  Fix: %s.\n",
               q->revision_prefix, q->what, q->evidence, q->remedy);
    }
}

static int mk_info_run(struct mk_cli *cli, int argc, char **argv)
{
    (void)argv;
    if (argc > 1)
        return mk_cli_usage_error(cli, "takes no arguments");
    struct mk_modem_id id;
    struct mk_modem_caps caps;
    enum mk_err e = mk_modem_identify(cli->chan, &id);
    if (e != MK_OK)
        return mk_cli_fail(cli, e, "identifying the module: %s", mk_strerror(e));
    e = mk_modem_probe(cli->chan, &id, &caps);
    if (e != MK_OK)
        return mk_cli_fail(cli, e, "probing capabilities: %s", mk_strerror(e));
    if (cli->json)
        mk_info_json(&id, &caps);
    else
        mk_info_text(&id, &caps);
    return MK_EXIT_OK;
}

const struct mk_cli_cmd mk_cmd_info = {
    .name = "info",
    .synopsis = "info",
    .summary = "Show model, firmware, IMEI and capabilities",
    .description =
        "Identifies the module (ATI, AT+CGMI, AT+CGMM, AT+CGMR, AT+CGSN) and reports what its "
        "firmware can do: which MQTT client it has, whether the MQTT version can be chosen "
        "(probed with AT+CMQTTACCQ=?), whether MQTT user name and password are accepted "
        "(from the quirks table, which cites its evidence), the TLS version range (probed "
        "with AT+CSSLCFG=?) and how its firmware can be updated.\n\n"
        "When the firmware has a known limitation, the output says what is missing, how we "
        "know, and what fixes it.",
    .opts = NULL,
    .examples = "  modemctl -d /dev/ttyUSB2 info\n"
                "  modemctl -d sim:SIM7600SA --json info\n",
    .needs_device = true,
    .run = mk_info_run,
};
