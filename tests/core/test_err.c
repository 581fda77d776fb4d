/* Pins every error code: its number, its name and its text. Changing any of them is a
 * compatibility break (scripts match on exit codes and messages); add, never edit. */
#include "mk_test.h"
#include "modemkit/err.h"

static const struct { int code; const char *name; const char *text; } pinned[] = {
    {0, "MK_OK", "success"},
    {1, "MK_E_INVAL", "invalid argument"},
    {2, "MK_E_NOSPC", "buffer too small"},
    {3, "MK_E_IO", "input/output error"},
    {4, "MK_E_TIMEOUT", "timed out"},
    {5, "MK_E_HANGUP", "port hung up"},
    {6, "MK_E_BUSY", "busy"},
    {7, "MK_E_PROTO", "protocol error"},
    {8, "MK_E_NOENT", "not found"},
    {9, "MK_E_NOMEM", "out of memory"},
    {10, "MK_E_UNSUPPORTED", "not supported"},
    {11, "MK_E_CRC", "checksum mismatch"},
    {12, "MK_E_OVERFLOW", "line too long"},
    {13, "MK_E_STATE", "invalid state"},
    {14, "MK_E_CANCELLED", "cancelled"},
    {15, "MK_E_AT_ERROR", "module answered ERROR"},
    {16, "MK_E_AT_CME", "module answered +CME ERROR"},
    {17, "MK_E_AT_CMS", "module answered +CMS ERROR"},
    {18, "MK_E_AT_NO_CARRIER", "no carrier"},
    {19, "MK_E_AT_BUSY", "line busy"},
    {20, "MK_E_AT_NO_ANSWER", "no answer"},
    {21, "MK_E_AT_NO_DIALTONE", "no dial tone"},
    {22, "MK_E_PERM", "permission denied"},
    {23, "MK_E_EXISTS", "already exists"},
    {24, "MK_E_FORMAT", "malformed data"},
    {50, "MK_E_MQTT_FAILED", "MQTT operation failed"},
    {51, "MK_E_MQTT_BUSY", "MQTT client is busy"},
    {52, "MK_E_MQTT_NOT_CONNECTED", "MQTT client not connected"},
    {53, "MK_E_MQTT_REFUSED_PROTOCOL", "broker refused the protocol version"},
    {54, "MK_E_MQTT_REFUSED_ID", "broker rejected the client identifier"},
    {55, "MK_E_MQTT_REFUSED_UNAVAILABLE", "broker unavailable"},
    {56, "MK_E_MQTT_REFUSED_AUTH", "broker refused user name or password"},
    {57, "MK_E_MQTT_REFUSED_NOT_AUTHORIZED", "broker refused: not authorized"},
    {58, "MK_E_TLS_HANDSHAKE", "TLS handshake failed"},
    {59, "MK_E_TLS_NO_CERT", "TLS certificate not set"},
    {60, "MK_E_TLS_SESSION", "TLS session could not be opened"},
    {61, "MK_E_DNS", "DNS lookup failed"},
    {62, "MK_E_NET", "network or socket failure on the module"},
    {63, "MK_E_FW_UNSUPPORTED", "not supported by this module firmware"},
    {64, "MK_E_CERT", "certificate or key rejected"},
    {65, "MK_E_MQTT_STATE", "MQTT client slot in the wrong state"},
    {66, "MK_E_MQTT_PARAM", "module rejected an MQTT parameter"},
    {100, "MK_E_FOTA_MODEL", "update package is for another module model"},
    {101, "MK_E_FOTA_SOURCE", "module runs another revision than the package's source"},
    {102, "MK_E_FOTA_SPACE", "not enough free space on the module"},
    {103, "MK_E_FOTA_SIGNATURE", "update package signature invalid"},
    {104, "MK_E_FOTA_INTEGRITY", "update package integrity check failed"},
    {105, "MK_E_FOTA_FAILED", "module reported the update failed"},
    {106, "MK_E_FOTA_NOT_BACK", "module did not come back after the update"},
    {107, "MK_E_FOTA_VERSION", "revision after the update is not the target"},
    {108, "MK_E_MANIFEST", "update manifest invalid"},
    {109, "MK_E_JOURNAL", "update journal invalid"},
    {150, "MK_E_SAHARA", "Sahara error reported by the target"},
    {151, "MK_E_FIREHOSE_NAK", "Firehose command rejected"},
    {152, "MK_E_QDL", "QDL error reported by the target"},
    {153, "MK_E_IMAGE", "malformed firmware image"},
    {154, "MK_E_IMAGE_CRC", "firmware image CRC mismatch"},
    {155, "MK_E_IMAGE_PRODUCT", "firmware image is for another product"},
    {156, "MK_E_DETECT", "no known download protocol on the port"},
    {157, "MK_E_EDL_PROGRAMMER", "target needs a signed programmer"},
    {158, "MK_E_BOOTLOOP", "device is in a reboot loop"},
    {159, "MK_E_PORT_HELD", "port held by another process"},
    {160, "MK_E_NO_DRIVER", "no serial driver bound to the device"},
    {161, "MK_E_FLASH_VERSION", "version unchanged after flashing"},
    {162, "MK_E_FLASH_NOT_BACK", "module did not come back after flashing"},
    {200, "MK_E_CONFIG", "configuration error"},
    {201, "MK_E_QUEUE_FULL", "queue full"},
};

MK_TEST(every_code_pinned)
{
    for (size_t i = 0; i < sizeof pinned / sizeof pinned[0]; i++) {
        MK_CHECK_EQ_STR(mk_strerror((enum mk_err)pinned[i].code), pinned[i].text);
        MK_CHECK_EQ_STR(mk_err_name((enum mk_err)pinned[i].code), pinned[i].name);
    }
}

MK_TEST(enum_values_match)
{
    MK_CHECK_EQ_INT(MK_OK, 0);
    MK_CHECK_EQ_INT(MK_E_INVAL, 1);
    MK_CHECK_EQ_INT(MK_E_NOSPC, 2);
    MK_CHECK_EQ_INT(MK_E_IO, 3);
    MK_CHECK_EQ_INT(MK_E_TIMEOUT, 4);
    MK_CHECK_EQ_INT(MK_E_HANGUP, 5);
    MK_CHECK_EQ_INT(MK_E_BUSY, 6);
    MK_CHECK_EQ_INT(MK_E_PROTO, 7);
    MK_CHECK_EQ_INT(MK_E_NOENT, 8);
    MK_CHECK_EQ_INT(MK_E_NOMEM, 9);
    MK_CHECK_EQ_INT(MK_E_UNSUPPORTED, 10);
    MK_CHECK_EQ_INT(MK_E_CRC, 11);
    MK_CHECK_EQ_INT(MK_E_OVERFLOW, 12);
    MK_CHECK_EQ_INT(MK_E_STATE, 13);
    MK_CHECK_EQ_INT(MK_E_CANCELLED, 14);
    MK_CHECK_EQ_INT(MK_E_AT_ERROR, 15);
    MK_CHECK_EQ_INT(MK_E_AT_CME, 16);
    MK_CHECK_EQ_INT(MK_E_AT_CMS, 17);
    MK_CHECK_EQ_INT(MK_E_AT_NO_CARRIER, 18);
    MK_CHECK_EQ_INT(MK_E_AT_BUSY, 19);
    MK_CHECK_EQ_INT(MK_E_AT_NO_ANSWER, 20);
    MK_CHECK_EQ_INT(MK_E_AT_NO_DIALTONE, 21);
    MK_CHECK_EQ_INT(MK_E_PERM, 22);
    MK_CHECK_EQ_INT(MK_E_EXISTS, 23);
    MK_CHECK_EQ_INT(MK_E_FORMAT, 24);
    MK_CHECK_EQ_INT(MK_E_MQTT_FAILED, 50);
    MK_CHECK_EQ_INT(MK_E_MQTT_BUSY, 51);
    MK_CHECK_EQ_INT(MK_E_MQTT_NOT_CONNECTED, 52);
    MK_CHECK_EQ_INT(MK_E_MQTT_REFUSED_PROTOCOL, 53);
    MK_CHECK_EQ_INT(MK_E_MQTT_REFUSED_ID, 54);
    MK_CHECK_EQ_INT(MK_E_MQTT_REFUSED_UNAVAILABLE, 55);
    MK_CHECK_EQ_INT(MK_E_MQTT_REFUSED_AUTH, 56);
    MK_CHECK_EQ_INT(MK_E_MQTT_REFUSED_NOT_AUTHORIZED, 57);
    MK_CHECK_EQ_INT(MK_E_TLS_HANDSHAKE, 58);
    MK_CHECK_EQ_INT(MK_E_TLS_NO_CERT, 59);
    MK_CHECK_EQ_INT(MK_E_TLS_SESSION, 60);
    MK_CHECK_EQ_INT(MK_E_DNS, 61);
    MK_CHECK_EQ_INT(MK_E_NET, 62);
    MK_CHECK_EQ_INT(MK_E_FW_UNSUPPORTED, 63);
    MK_CHECK_EQ_INT(MK_E_CERT, 64);
    MK_CHECK_EQ_INT(MK_E_MQTT_STATE, 65);
    MK_CHECK_EQ_INT(MK_E_MQTT_PARAM, 66);
    MK_CHECK_EQ_INT(MK_E_FOTA_MODEL, 100);
    MK_CHECK_EQ_INT(MK_E_FOTA_SOURCE, 101);
    MK_CHECK_EQ_INT(MK_E_FOTA_SPACE, 102);
    MK_CHECK_EQ_INT(MK_E_FOTA_SIGNATURE, 103);
    MK_CHECK_EQ_INT(MK_E_FOTA_INTEGRITY, 104);
    MK_CHECK_EQ_INT(MK_E_FOTA_FAILED, 105);
    MK_CHECK_EQ_INT(MK_E_FOTA_NOT_BACK, 106);
    MK_CHECK_EQ_INT(MK_E_FOTA_VERSION, 107);
    MK_CHECK_EQ_INT(MK_E_MANIFEST, 108);
    MK_CHECK_EQ_INT(MK_E_JOURNAL, 109);
    MK_CHECK_EQ_INT(MK_E_SAHARA, 150);
    MK_CHECK_EQ_INT(MK_E_FIREHOSE_NAK, 151);
    MK_CHECK_EQ_INT(MK_E_QDL, 152);
    MK_CHECK_EQ_INT(MK_E_IMAGE, 153);
    MK_CHECK_EQ_INT(MK_E_IMAGE_CRC, 154);
    MK_CHECK_EQ_INT(MK_E_IMAGE_PRODUCT, 155);
    MK_CHECK_EQ_INT(MK_E_DETECT, 156);
    MK_CHECK_EQ_INT(MK_E_EDL_PROGRAMMER, 157);
    MK_CHECK_EQ_INT(MK_E_BOOTLOOP, 158);
    MK_CHECK_EQ_INT(MK_E_PORT_HELD, 159);
    MK_CHECK_EQ_INT(MK_E_NO_DRIVER, 160);
    MK_CHECK_EQ_INT(MK_E_FLASH_VERSION, 161);
    MK_CHECK_EQ_INT(MK_E_FLASH_NOT_BACK, 162);
    MK_CHECK_EQ_INT(MK_E_CONFIG, 200);
    MK_CHECK_EQ_INT(MK_E_QUEUE_FULL, 201);
}

MK_TEST(unknown_codes)
{
    MK_CHECK_EQ_STR(mk_strerror((enum mk_err)49), "unknown error");
    MK_CHECK_EQ_STR(mk_strerror((enum mk_err)100000), "unknown error");
    MK_CHECK_EQ_STR(mk_err_name((enum mk_err)-1), "MK_E_?");
}

MK_TEST(every_enum_has_text)
{
    /* A code added to the enum but not to the table would print "unknown error". */
    int n = 0;
    for (int c = 0; c < 256; c++)
        if (strcmp(mk_err_name((enum mk_err)c), "MK_E_?") != 0)
            n++;
    MK_CHECK_EQ_INT(n, (int)(sizeof pinned / sizeof pinned[0]));
}

MK_TEST_MAIN()
