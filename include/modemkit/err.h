/*
 * modemkit error codes.
 *
 * One enum for the whole project. MK_OK is 0, every failure is > 0. Numbers are frozen:
 * a code is never renumbered or reused, new codes are appended inside the range of the
 * module that needs them (tests/core/test_err.c pins every number and string).
 *
 *   1..49     core, io, AT channel
 *   50..99    modem identity, MQTT, TLS store, file transfer
 *   100..149  FOTA
 *   150..199  download-mode flashing
 *   200..249  agent (modemd)
 *
 * "Not finished yet" is never an error: functions that can be pending return a step
 * status (enum mk_step) and keep errors for real failures.
 */
#ifndef MODEMKIT_ERR_H
#define MODEMKIT_ERR_H

#ifdef __cplusplus
extern "C" {
#endif

enum mk_err {
    MK_OK = 0,

    /* core, io, AT channel */
    MK_E_INVAL = 1,        /* invalid argument (caller bug or bad user input) */
    MK_E_NOSPC = 2,        /* caller buffer too small; nothing was truncated */
    MK_E_IO = 3,           /* I/O error on the port */
    MK_E_TIMEOUT = 4,      /* deadline passed */
    MK_E_HANGUP = 5,       /* port closed by the peer / device vanished */
    MK_E_BUSY = 6,         /* resource already in use */
    MK_E_PROTO = 7,        /* peer sent bytes that break the protocol */
    MK_E_NOENT = 8,        /* no such file, device or entry */
    MK_E_NOMEM = 9,        /* out of memory (host tools only) */
    MK_E_UNSUPPORTED = 10, /* operation not supported by this module or build */
    MK_E_CRC = 11,         /* checksum mismatch */
    MK_E_OVERFLOW = 12,    /* input line longer than the buffer; skipped */
    MK_E_STATE = 13,       /* operation not valid in the current state */
    MK_E_CANCELLED = 14,   /* cancelled by the caller */
    MK_E_AT_ERROR = 15,    /* module answered ERROR */
    MK_E_AT_CME = 16,      /* module answered +CME ERROR */
    MK_E_AT_CMS = 17,      /* module answered +CMS ERROR */
    MK_E_AT_NO_CARRIER = 18,
    MK_E_AT_BUSY = 19,     /* final result BUSY (call setup) */
    MK_E_AT_NO_ANSWER = 20,
    MK_E_AT_NO_DIALTONE = 21,
    MK_E_PERM = 22,        /* permission denied opening a port or file */
    MK_E_EXISTS = 23,      /* already exists */
    MK_E_FORMAT = 24,      /* malformed data (file, reply, URL) */

    /* modem identity, MQTT, TLS store, file transfer */
    MK_E_MQTT_FAILED = 50,         /* CMQTT <err> 1 and other generic failures */
    MK_E_MQTT_BUSY = 51,           /* CMQTT <err> 14: client is busy */
    MK_E_MQTT_NOT_CONNECTED = 52,  /* CMQTT <err> 11: no connection */
    MK_E_MQTT_REFUSED_PROTOCOL = 53, /* CONNACK 1 / <err> 27 */
    MK_E_MQTT_REFUSED_ID = 54,     /* CONNACK 2 / <err> 28 */
    MK_E_MQTT_REFUSED_UNAVAILABLE = 55, /* CONNACK 3 / <err> 29 */
    MK_E_MQTT_REFUSED_AUTH = 56,   /* CONNACK 4 / <err> 30 */
    MK_E_MQTT_REFUSED_NOT_AUTHORIZED = 57, /* CONNACK 5 / <err> 31 */
    MK_E_TLS_HANDSHAKE = 58,       /* <err> 32 */
    MK_E_TLS_NO_CERT = 59,         /* <err> 33 */
    MK_E_TLS_SESSION = 60,         /* <err> 34 */
    MK_E_DNS = 61,                 /* <err> 25 */
    MK_E_NET = 62,                 /* socket or network failure on the module */
    MK_E_FW_UNSUPPORTED = 63,      /* this firmware revision cannot do what was asked */
    MK_E_CERT = 64,                /* certificate or key file rejected locally */
    MK_E_MQTT_STATE = 65,          /* client slot in the wrong state (19, 20, 21, 23) */
    MK_E_MQTT_PARAM = 66,          /* module rejected a parameter (12, 22, 2, 13) */

    /* FOTA */
    MK_E_FOTA_MODEL = 100,      /* package is for another module model */
    MK_E_FOTA_SOURCE = 101,     /* running revision is not the package's source */
    MK_E_FOTA_SPACE = 102,      /* not enough free space on the module */
    MK_E_FOTA_SIGNATURE = 103,  /* package signature missing or invalid */
    MK_E_FOTA_INTEGRITY = 104,  /* delta size or SHA-256 mismatch */
    MK_E_FOTA_FAILED = 105,     /* module reported the update failed */
    MK_E_FOTA_NOT_BACK = 106,   /* module did not come back after the update */
    MK_E_FOTA_VERSION = 107,    /* revision after the update is not the target */
    MK_E_MANIFEST = 108,        /* manifest missing or malformed */
    MK_E_JOURNAL = 109,         /* job journal unreadable or for another package */

    /* download-mode flashing */
    MK_E_SAHARA = 150,          /* target reported a Sahara error status */
    MK_E_FIREHOSE_NAK = 151,    /* Firehose NAK or missing final ACK */
    MK_E_QDL = 152,             /* Sierra QDL error reply */
    MK_E_IMAGE = 153,           /* malformed or truncated CWE image */
    MK_E_IMAGE_CRC = 154,       /* CWE header or payload CRC mismatch */
    MK_E_IMAGE_PRODUCT = 155,   /* image built for another product */
    MK_E_DETECT = 156,          /* no known download protocol on the port */
    MK_E_EDL_PROGRAMMER = 157,  /* PBL EDL target needs a signed programmer */
    MK_E_BOOTLOOP = 158,        /* device keeps appearing and vanishing */
    MK_E_PORT_HELD = 159,       /* another process (ModemManager) holds the port */
    MK_E_NO_DRIVER = 160,       /* USB device present but no serial driver bound */
    MK_E_FLASH_VERSION = 161,   /* version unchanged after flashing */
    MK_E_FLASH_NOT_BACK = 162,  /* module did not come back in normal mode after flashing */

    /* agent */
    MK_E_CONFIG = 200,          /* configuration file error */
    MK_E_QUEUE_FULL = 201,      /* telemetry queue full; oldest dropped */
};

/* Step status for operations that can be in progress. Not an error. */
enum mk_step {
    MK_DONE = 0,
    MK_PENDING = 1,
};

/*
 * Human-readable, fixed text for an error code. Never NULL: unknown codes give
 * "unknown error". The strings are static and stable (pinned by a test).
 */
const char *mk_strerror(enum mk_err err);

/* The enum's symbolic name ("MK_E_TIMEOUT"), for logs and JSON; "MK_E_?" if unknown. */
const char *mk_err_name(enum mk_err err);

#ifdef __cplusplus
}
#endif

#endif
