#include "modemkit/err.h"

#include <stddef.h>

struct mk_err_entry {
    const char *name;
    const char *text;
};

#define MK_ERR(code, text) [code] = {#code, text}

/* Indexed by code; gaps between module ranges stay NULL. */
static const struct mk_err_entry mk_err_table[] = {
    MK_ERR(MK_OK, "success"),
    MK_ERR(MK_E_INVAL, "invalid argument"),
    MK_ERR(MK_E_NOSPC, "buffer too small"),
    MK_ERR(MK_E_IO, "input/output error"),
    MK_ERR(MK_E_TIMEOUT, "timed out"),
    MK_ERR(MK_E_HANGUP, "port hung up"),
    MK_ERR(MK_E_BUSY, "busy"),
    MK_ERR(MK_E_PROTO, "protocol error"),
    MK_ERR(MK_E_NOENT, "not found"),
    MK_ERR(MK_E_NOMEM, "out of memory"),
    MK_ERR(MK_E_UNSUPPORTED, "not supported"),
    MK_ERR(MK_E_CRC, "checksum mismatch"),
    MK_ERR(MK_E_OVERFLOW, "line too long"),
    MK_ERR(MK_E_STATE, "invalid state"),
    MK_ERR(MK_E_CANCELLED, "cancelled"),
    MK_ERR(MK_E_AT_ERROR, "module answered ERROR"),
    MK_ERR(MK_E_AT_CME, "module answered +CME ERROR"),
    MK_ERR(MK_E_AT_CMS, "module answered +CMS ERROR"),
    MK_ERR(MK_E_AT_NO_CARRIER, "no carrier"),
    MK_ERR(MK_E_AT_BUSY, "line busy"),
    MK_ERR(MK_E_AT_NO_ANSWER, "no answer"),
    MK_ERR(MK_E_AT_NO_DIALTONE, "no dial tone"),
    MK_ERR(MK_E_PERM, "permission denied"),
    MK_ERR(MK_E_EXISTS, "already exists"),
    MK_ERR(MK_E_FORMAT, "malformed data"),

    MK_ERR(MK_E_MQTT_FAILED, "MQTT operation failed"),
    MK_ERR(MK_E_MQTT_BUSY, "MQTT client is busy"),
    MK_ERR(MK_E_MQTT_NOT_CONNECTED, "MQTT client not connected"),
    MK_ERR(MK_E_MQTT_REFUSED_PROTOCOL, "broker refused the protocol version"),
    MK_ERR(MK_E_MQTT_REFUSED_ID, "broker rejected the client identifier"),
    MK_ERR(MK_E_MQTT_REFUSED_UNAVAILABLE, "broker unavailable"),
    MK_ERR(MK_E_MQTT_REFUSED_AUTH, "broker refused user name or password"),
    MK_ERR(MK_E_MQTT_REFUSED_NOT_AUTHORIZED, "broker refused: not authorized"),
    MK_ERR(MK_E_TLS_HANDSHAKE, "TLS handshake failed"),
    MK_ERR(MK_E_TLS_NO_CERT, "TLS certificate not set"),
    MK_ERR(MK_E_TLS_SESSION, "TLS session could not be opened"),
    MK_ERR(MK_E_DNS, "DNS lookup failed"),
    MK_ERR(MK_E_NET, "network or socket failure on the module"),
    MK_ERR(MK_E_FW_UNSUPPORTED, "not supported by this module firmware"),
    MK_ERR(MK_E_CERT, "certificate or key rejected"),
    MK_ERR(MK_E_MQTT_STATE, "MQTT client slot in the wrong state"),
    MK_ERR(MK_E_MQTT_PARAM, "module rejected an MQTT parameter"),

    MK_ERR(MK_E_FOTA_MODEL, "update package is for another module model"),
    MK_ERR(MK_E_FOTA_SOURCE, "module runs another revision than the package's source"),
    MK_ERR(MK_E_FOTA_SPACE, "not enough free space on the module"),
    MK_ERR(MK_E_FOTA_SIGNATURE, "update package signature invalid"),
    MK_ERR(MK_E_FOTA_INTEGRITY, "update package integrity check failed"),
    MK_ERR(MK_E_FOTA_FAILED, "module reported the update failed"),
    MK_ERR(MK_E_FOTA_NOT_BACK, "module did not come back after the update"),
    MK_ERR(MK_E_FOTA_VERSION, "revision after the update is not the target"),
    MK_ERR(MK_E_MANIFEST, "update manifest invalid"),
    MK_ERR(MK_E_JOURNAL, "update journal invalid"),

    MK_ERR(MK_E_SAHARA, "Sahara error reported by the target"),
    MK_ERR(MK_E_FIREHOSE_NAK, "Firehose command rejected"),
    MK_ERR(MK_E_QDL, "QDL error reported by the target"),
    MK_ERR(MK_E_IMAGE, "malformed firmware image"),
    MK_ERR(MK_E_IMAGE_CRC, "firmware image CRC mismatch"),
    MK_ERR(MK_E_IMAGE_PRODUCT, "firmware image is for another product"),
    MK_ERR(MK_E_DETECT, "no known download protocol on the port"),
    MK_ERR(MK_E_EDL_PROGRAMMER, "target needs a signed programmer"),
    MK_ERR(MK_E_BOOTLOOP, "device is in a reboot loop"),
    MK_ERR(MK_E_PORT_HELD, "port held by another process"),
    MK_ERR(MK_E_NO_DRIVER, "no serial driver bound to the device"),
    MK_ERR(MK_E_FLASH_VERSION, "version unchanged after flashing"),
    MK_ERR(MK_E_FLASH_NOT_BACK, "module did not come back after flashing"),

    MK_ERR(MK_E_CONFIG, "configuration error"),
    MK_ERR(MK_E_QUEUE_FULL, "queue full"),
};

static const struct mk_err_entry *mk_err_lookup(enum mk_err err)
{
    size_t i = (size_t)err;
    if (i >= sizeof(mk_err_table) / sizeof(mk_err_table[0]) || !mk_err_table[i].name)
        return NULL;
    return &mk_err_table[i];
}

const char *mk_strerror(enum mk_err err)
{
    const struct mk_err_entry *e = mk_err_lookup(err);
    return e ? e->text : "unknown error";
}

const char *mk_err_name(enum mk_err err)
{
    const struct mk_err_entry *e = mk_err_lookup(err);
    return e ? e->name : "MK_E_?";
}
