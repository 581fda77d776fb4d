/* Exit codes of modemctl: one documented, stable number per kind of failure, so that
 * scripts (and modemd) can tell "wrong package" from "module said no" from "timeout". */
#include "cli.h"

struct mk_cli_exit_doc {
    int code;
    const char *text;
};

static const struct mk_cli_exit_doc mk_cli_exit_docs[] = {
    {MK_EXIT_OK, "success"},
    {MK_EXIT_FAILURE, "failure not covered below"},
    {MK_EXIT_USAGE, "invalid command line"},
    {MK_EXIT_DEVICE, "device cannot be opened, is held by another process, or vanished"},
    {MK_EXIT_TIMEOUT, "the module did not answer in time"},
    {MK_EXIT_MODULE_ERROR, "the module answered ERROR / +CME ERROR"},
    {MK_EXIT_FW_UNSUPPORTED, "the module's firmware cannot do what was asked (see fota)"},
    {MK_EXIT_MQTT, "MQTT connection refused or lost"},
    {MK_EXIT_TLS, "TLS handshake, certificate or key problem"},
    {MK_EXIT_BAD_INPUT, "an input file or argument value is malformed"},
    {MK_EXIT_FOTA_MODEL, "update package is for another module model"},
    {MK_EXIT_FOTA_SOURCE, "update package needs another source firmware revision"},
    {MK_EXIT_FOTA_SPACE, "not enough free space on the module for the update"},
    {MK_EXIT_FOTA_SIGNATURE, "update package signature missing or invalid"},
    {MK_EXIT_FOTA_INTEGRITY, "update package corrupt (size or SHA-256 mismatch)"},
    {MK_EXIT_UPDATE_FAILED, "the module reported the update failed or did not come back"},
    {MK_EXIT_FLASH_PROTOCOL, "download-mode protocol failure (Sahara, Firehose, QDL)"},
    {MK_EXIT_IMAGE, "firmware image malformed, corrupt or for another product"},
    {MK_EXIT_BOOTLOOP, "the device is in a reboot loop (force download mode, power-cycle)"},
    {MK_EXIT_VERSION_UNCHANGED, "the module still runs the old version after the update"},
};

int mk_cli_exit_code(enum mk_err err)
{
    switch (err) {
    case MK_OK:
        return MK_EXIT_OK;
    case MK_E_INVAL:
        return MK_EXIT_USAGE;
    case MK_E_IO:
    case MK_E_HANGUP:
    case MK_E_NOENT:
    case MK_E_PERM:
    case MK_E_BUSY:
    case MK_E_PORT_HELD:
    case MK_E_NO_DRIVER:
        return MK_EXIT_DEVICE;
    case MK_E_TIMEOUT:
        return MK_EXIT_TIMEOUT;
    case MK_E_AT_ERROR:
    case MK_E_AT_CME:
    case MK_E_AT_CMS:
    case MK_E_AT_NO_CARRIER:
    case MK_E_AT_BUSY:
    case MK_E_AT_NO_ANSWER:
    case MK_E_AT_NO_DIALTONE:
    case MK_E_MQTT_PARAM:
    case MK_E_MQTT_STATE:
        return MK_EXIT_MODULE_ERROR;
    case MK_E_FW_UNSUPPORTED:
    case MK_E_UNSUPPORTED:
        return MK_EXIT_FW_UNSUPPORTED;
    case MK_E_MQTT_FAILED:
    case MK_E_MQTT_BUSY:
    case MK_E_MQTT_NOT_CONNECTED:
    case MK_E_MQTT_REFUSED_PROTOCOL:
    case MK_E_MQTT_REFUSED_ID:
    case MK_E_MQTT_REFUSED_UNAVAILABLE:
    case MK_E_MQTT_REFUSED_AUTH:
    case MK_E_MQTT_REFUSED_NOT_AUTHORIZED:
    case MK_E_DNS:
    case MK_E_NET:
        return MK_EXIT_MQTT;
    case MK_E_TLS_HANDSHAKE:
    case MK_E_TLS_NO_CERT:
    case MK_E_TLS_SESSION:
    case MK_E_CERT:
        return MK_EXIT_TLS;
    case MK_E_FORMAT:
    case MK_E_MANIFEST:
    case MK_E_CONFIG:
    case MK_E_NOSPC:
        return MK_EXIT_BAD_INPUT;
    case MK_E_FOTA_MODEL:
        return MK_EXIT_FOTA_MODEL;
    case MK_E_FOTA_SOURCE:
        return MK_EXIT_FOTA_SOURCE;
    case MK_E_FOTA_SPACE:
        return MK_EXIT_FOTA_SPACE;
    case MK_E_FOTA_SIGNATURE:
        return MK_EXIT_FOTA_SIGNATURE;
    case MK_E_FOTA_INTEGRITY:
        return MK_EXIT_FOTA_INTEGRITY;
    case MK_E_FOTA_FAILED:
    case MK_E_FOTA_NOT_BACK:
    case MK_E_FLASH_NOT_BACK:
        return MK_EXIT_UPDATE_FAILED;
    case MK_E_SAHARA:
    case MK_E_FIREHOSE_NAK:
    case MK_E_QDL:
    case MK_E_DETECT:
    case MK_E_EDL_PROGRAMMER:
        return MK_EXIT_FLASH_PROTOCOL;
    case MK_E_IMAGE:
    case MK_E_IMAGE_CRC:
    case MK_E_IMAGE_PRODUCT:
        return MK_EXIT_IMAGE;
    case MK_E_BOOTLOOP:
        return MK_EXIT_BOOTLOOP;
    case MK_E_FLASH_VERSION:
    case MK_E_FOTA_VERSION:
        return MK_EXIT_VERSION_UNCHANGED;
    default:
        return MK_EXIT_FAILURE;
    }
}

void mk_cli_print_exit_codes(FILE *out, bool man)
{
    for (size_t i = 0; i < sizeof mk_cli_exit_docs / sizeof mk_cli_exit_docs[0]; i++) {
        if (man)
            fprintf(out, ".TP\n.B %d\n%s\n", mk_cli_exit_docs[i].code, mk_cli_exit_docs[i].text);
        else
            fprintf(out, "  %2d  %s\n", mk_cli_exit_docs[i].code, mk_cli_exit_docs[i].text);
    }
}
