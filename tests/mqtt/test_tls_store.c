/*
 * The TLS store: local PEM checks (which file is wrong and why), content-addressed store
 * names, and CCERTDOWN / CCERTLIST / CCERTDELE on the wire (data redacted in traces).
 */
#include <stdio.h>
#include <string.h>

#include "mk_test.h"
#include "modemkit/tls.h"
#include "support/fake_io.h"

static const char CERT[] = "-----BEGIN CERTIFICATE-----\n"
                           "MIIBszCCAVmgAwIBAgIUQ2VydGlmaWNhdGVGb3JUZXN0aW5nMAoGCCqGSM49BAMC\n"
                           "MBExDzANBgNVBAMMBnRlc3RjYTAeFw0yNDAxMDEwMDAwMDBaFw0yNDAxMDMwMDAw\n"
                           "MDBa\n"
                           "-----END CERTIFICATE-----\n";
static const char KEY[] = "-----BEGIN EC PRIVATE KEY-----\r\n"
                          "MHcCAQEEIBkg4LVWM9nuwNSk3yRUSq1Zt1WcUvQmoE9bW4W3ZHo6oAoGCCqGSM49\r\n"
                          "AwEHoUQDQgAE\r\n"
                          "-----END EC PRIVATE KEY-----\r\n";

static enum mk_err check(const char *s, struct mk_tls_pem_info *info)
{
    return mk_tls_pem_check((const uint8_t *)s, strlen(s), info);
}

MK_TEST(pem_good_files)
{
    struct mk_tls_pem_info i;
    MK_CHECK_EQ_INT(check(CERT, &i), MK_OK);
    MK_CHECK_EQ_INT(i.certs, 1);
    MK_CHECK_EQ_INT(i.keys, 0);
    MK_CHECK_EQ_INT(check(KEY, &i), MK_OK);
    MK_CHECK_EQ_INT(i.keys, 1);
    MK_CHECK(!i.encrypted_key);
    char chain[2048];
    snprintf(chain, sizeof chain, "Bag Attributes\n    friendlyName: x\n%s\n%s", CERT, CERT);
    MK_CHECK_EQ_INT(check(chain, &i), MK_OK);
    MK_CHECK_EQ_INT(i.certs, 2);
    MK_CHECK_EQ_INT(check("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n"
                          "-----END ENCRYPTED PRIVATE KEY-----\n",
                          &i),
                    MK_OK);
    MK_CHECK(i.encrypted_key);
    MK_CHECK_EQ_INT(check("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
                          "DEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n",
                          &i),
                    MK_OK);
    MK_CHECK(i.encrypted_key);
}

MK_TEST(pem_bad_files_say_where_and_why)
{
    struct mk_tls_pem_info i;
    MK_CHECK_EQ_INT(check("", &i), MK_E_CERT);
    MK_CHECK(strstr(i.why, "empty"));
    /* cut short: no END line */
    char cut[sizeof CERT];
    memcpy(cut, CERT, 100);
    cut[100] = '\0';
    MK_CHECK_EQ_INT(check(cut, &i), MK_E_CERT);
    MK_CHECK(strstr(i.why, "without its END"));
    MK_CHECK_EQ_INT(i.line, 1);
    /* a missing body line: base64 length not a multiple of 4 */
    MK_CHECK_EQ_INT(check("-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAw\n"
                          "-----END CERTIFICATE-----\n",
                          &i),
                    MK_E_CERT);
    MK_CHECK(strstr(i.why, "multiple of 4"));
    MK_CHECK_EQ_INT(i.line, 3);
    MK_CHECK_EQ_INT(check("-----BEGIN CERTIFICATE-----\nMIIB%zCC\n-----END CERTIFICATE-----\n", &i),
                    MK_E_CERT);
    MK_CHECK(strstr(i.why, "not base64"));
    MK_CHECK_EQ_INT(i.line, 2);
    MK_CHECK_EQ_INT(check("-----BEGIN CERTIFICATE-----\nAAAA\n-----END PRIVATE KEY-----\n", &i),
                    MK_E_CERT);
    MK_CHECK(strstr(i.why, "label"));
    MK_CHECK_EQ_INT(check("just some text\n", &i), MK_E_CERT);
    MK_CHECK(strstr(i.why, "no PEM block"));
    static const uint8_t der[] = {0x30, 0x82, 0x01, 0xb3, 0x30, 0x82};
    MK_CHECK_EQ_INT(mk_tls_pem_check(der, sizeof der, &i), MK_E_CERT);
    MK_CHECK(strstr(i.why, "DER"));
    static uint8_t big[10241];
    memset(big, 'A', sizeof big);
    MK_CHECK_EQ_INT(mk_tls_pem_check(big, sizeof big, &i), MK_E_CERT);
    MK_CHECK(strstr(i.why, "10240"));
}

MK_TEST(store_names)
{
    char n[200];
    MK_CHECK_EQ_INT(mk_tls_store_name("/etc/ssl/my ca.crt", (const uint8_t *)"abc", 3, n, sizeof n),
                    MK_OK);
    /* SHA-256("abc") = ba7816bf... */
    MK_CHECK_EQ_STR(n, "my_ca-ba7816bf.pem");
    MK_CHECK(mk_tls_name_ok(n));
    static char longname[300];
    memset(longname, 'x', 299);
    MK_CHECK_EQ_INT(mk_tls_store_name(longname, (const uint8_t *)"abc", 3, n, sizeof n), MK_OK);
    MK_CHECK_EQ_INT(strlen(n), 128);
    MK_CHECK(mk_tls_name_ok(n));
    MK_CHECK(!mk_tls_name_ok("ab.pm"));
    MK_CHECK(mk_tls_name_ok("x.pem"));
    MK_CHECK(!mk_tls_name_ok(".pem"));
    MK_CHECK(!mk_tls_name_ok("bad\".pem"));
    MK_CHECK(!mk_tls_name_ok("dir/c.pem"));
    MK_CHECK(mk_tls_name_ok("CA.DER"));
}

static char NAMES[512];

static void on_name(void *user, const char *name)
{
    (void)user;
    strcat(NAMES, name);
    strcat(NAMES, ";");
}

MK_TEST(ccert_commands_on_the_wire)
{
    struct mk_fake_io f;
    struct mk_at_chan ch;
    static char line[256];
    static char trace[4096];
    mk_fake_io_init(&f, 5, 9);
    struct mk_at_config cfg = {0};
    cfg.line_buf = line;
    cfg.line_cap = sizeof line;
    mk_at_chan_init(&ch, &cfg, &f.io, &f.clock);
    char down[64];
    snprintf(down, sizeof down, "AT+CCERTDOWN=\"key.pem\",%zu", strlen(KEY));
    mk_fake_io_on(&f, MK_FAKE_LINE, down, 0, "\r\n>");
    mk_fake_io_on_n(&f, MK_FAKE_BYTES, KEY, strlen(KEY), 0, "\r\nOK\r\n", 6);
    MK_CHECK_EQ_INT(mk_tls_cert_put(&ch, "key.pem", (const uint8_t *)KEY, strlen(KEY)), MK_OK);
    mk_fake_io_on(&f, MK_FAKE_LINE, "AT+CCERTLIST", 0,
                  "\r\n+CCERTLIST: \"ca.pem\"\r\n+CCERTLIST: \"key.pem\"\r\n\r\nOK\r\n");
    NAMES[0] = '\0';
    MK_CHECK_EQ_INT(mk_tls_cert_list(&ch, on_name, NULL), MK_OK);
    MK_CHECK_EQ_STR(NAMES, "ca.pem;key.pem;");
    mk_fake_io_on(&f, MK_FAKE_LINE, "AT+CCERTLIST", 0, "\r\n+CCERTLIST: \"ca.pem\"\r\n\r\nOK\r\n");
    bool found = true;
    MK_CHECK_EQ_INT(mk_tls_cert_has(&ch, "key.pem", &found), MK_OK);
    MK_CHECK(!found);
    mk_fake_io_on(&f, MK_FAKE_LINE, "AT+CCERTDELE=\"nope.pem\"", 0, "\r\nERROR\r\n");
    MK_CHECK_EQ_INT(mk_tls_cert_delete(&ch, "nope.pem"), MK_E_AT_ERROR);
    MK_CHECK_EQ_INT(mk_tls_cert_put(&ch, "k.txt", (const uint8_t *)"x", 1), MK_E_INVAL);
    MK_CHECK_EQ_INT(mk_fake_io_unmatched(&f), 0);
    (void)trace;
    mk_fake_io_free(&f);
}

MK_TEST_MAIN()
