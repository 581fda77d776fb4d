/* modemctl net status / net up: registration, signal and the data connection. */
#include <getopt.h>
#include <string.h>

#include "cli.h"
#include "modemkit/bearer.h"
#include "modemkit/modem.h"

static void net_print(struct mk_cli *cli, const struct mk_bearer_status *st)
{
    if (cli->json) {
        printf("{\"sim\":");
        mk_host_json_str(stdout, st->sim);
        printf(",\"csq\":%d,\"dbm\":", st->rssi);
        if (st->dbm)
            printf("%d", st->dbm);
        else
            printf("null");
        printf(",\"creg\":%d,\"cgreg\":%d,\"cereg\":%d,\"registered\":%s,\"cpsi\":", st->creg,
               st->cgreg, st->cereg, mk_bearer_registered(st) ? "true" : "false");
        mk_host_json_str(stdout, st->cpsi);
        printf(",\"data\":%s,\"ip\":", st->data_up ? "true" : "false");
        mk_host_json_str(stdout, st->ip);
        printf(",\"apn\":");
        mk_host_json_str(stdout, st->apn);
        printf("}\n");
        return;
    }
    printf("SIM:           %s\n", st->sim[0] ? st->sim : "(unknown)");
    if (st->dbm)
        printf("Signal:        %d dBm (CSQ %d)\n", st->dbm, st->rssi);
    else
        printf("Signal:        unknown (CSQ %d)\n", st->rssi);
    printf("Registration:  %s (CREG %s, CGREG %s, CEREG %s)\n",
           mk_bearer_registered(st) ? "registered" : "NOT registered", mk_bearer_reg_name(st->creg),
           mk_bearer_reg_name(st->cgreg), mk_bearer_reg_name(st->cereg));
    if (st->cpsi[0])
        printf("Serving cell:  %s\n", st->cpsi);
    printf("Data:          %s", st->data_up ? "up" : "down");
    if (st->ip[0])
        printf(", IP %s", st->ip);
    if (st->apn[0])
        printf(", APN %s", st->apn);
    printf("\n");
}

static int net_run(struct mk_cli *cli, const char *apn, bool up)
{
    struct mk_modem_id id;
    struct mk_bearer_status st;
    enum mk_err e = mk_modem_identify(cli->chan, &id);
    if (e != MK_OK)
        return mk_cli_fail(cli, e, "identifying the module: %s", mk_strerror(e));
    e = up ? mk_bearer_up(cli->chan, &id, apn, &st) : mk_bearer_status(cli->chan, &id, &st);
    if (e == MK_E_NET)
        return mk_cli_fail(cli, e,
                           "the module could not bring its data connection up "
                           "(check SIM, signal and APN; -v shows its answers)");
    if (e == MK_E_UNSUPPORTED)
        return mk_cli_fail(cli, e, "no known bring-up sequence for %s", id.model);
    if (e == MK_E_INVAL)
        return mk_cli_fail(cli, e, "--apn: at most 62 bytes, no '\"' or control characters");
    if (e != MK_OK)
        return mk_cli_fail(cli, e, "%s: %s", up ? "net up" : "net status", mk_strerror(e));
    net_print(cli, &st);
    return MK_EXIT_OK;
}

static int net_status(struct mk_cli *cli, int argc, char **argv)
{
    (void)argv;
    if (argc > 1)
        return mk_cli_usage_error(cli, "takes no arguments");
    return net_run(cli, NULL, false);
}

static int net_up(struct mk_cli *cli, int argc, char **argv)
{
    static const struct option longopts[] = {{"apn", required_argument, NULL, 'a'},
                                             {NULL, 0, NULL, 0}};
    const char *apn = NULL;
    int c;
    optind = 0; /* 0: glibc starts over (main parsed with "+" ordering) */
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c != 'a')
            return mk_cli_usage_error(cli, "unknown option");
        apn = optarg;
    }
    if (optind < argc)
        return mk_cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
    return net_run(cli, apn, true);
}

const struct mk_cli_cmd mk_cmd_net_status = {
    .name = "net status",
    .synopsis = "net status",
    .summary = "Show SIM, signal, registration and the data connection",
    .description =
        "Reads AT+CPIN?, AT+CSQ, AT+CREG?/CGREG?/CEREG?, AT+CPSI? and the data connection "
        "(SIM7500/SIM7600: AT+NETOPEN?, AT+IPADDR, AT+CGDCONT?; SIM7000: AT+CNACT?, "
        "AT+CGNAPN). Commands the module rejects show as unknown.",
    .opts = NULL,
    .examples = "  modemctl -d /dev/ttyUSB2 net status\n  modemctl --json net status\n",
    .needs_device = true,
    .run = net_status,
};

static const struct mk_cli_opt_doc net_up_opts[] = {
    {"--apn APN", "Set the APN first (SIM7500/SIM7600: AT+CGDCONT=1,\"IP\",APN; SIM7000: "
                  "AT+CNCFG). Default: keep what is configured or what the network gives."},
    {NULL, NULL},
};

const struct mk_cli_cmd mk_cmd_net_up = {
    .name = "net up",
    .synopsis = "net up [--apn APN]",
    .summary = "Bring the data connection up",
    .description =
        "SIM7500/SIM7600: AT+NETOPEN, waiting for +NETOPEN: 0 (\"Network is already opened\" "
        "counts as up); SIM7000: AT+CNACT=1, waiting for +APP PDP: ACTIVE. Then prints the "
        "status as 'net status' does. The SIM7600's MQTT service does not need this "
        "(AT+CMQTTSTART opens the data connection itself); the SIM7000's does.",
    .opts = net_up_opts,
    .examples = "  modemctl net up --apn internet\n",
    .needs_device = true,
    .run = net_up,
};
