/* The command table: one line per command, in the order --help lists them (as in
 * ARCHITECTURE.md). Each command's text and code live in its own cmd_*.c file. */
#include "cli.h"

extern const struct mk_cli_cmd mk_cmd_info, mk_cmd_at;
extern const struct mk_cli_cmd mk_cmd_net_status, mk_cmd_net_up;
extern const struct mk_cli_cmd mk_cmd_cert_put, mk_cmd_cert_ls, mk_cmd_cert_rm;
extern const struct mk_cli_cmd mk_cmd_mqtt_pub, mk_cmd_mqtt_sub;
extern const struct mk_cli_cmd mk_cmd_fs_put, mk_cmd_fs_ls, mk_cmd_fs_rm;
extern const struct mk_cli_cmd mk_cmd_fota_pack, mk_cmd_fota_apply, mk_cmd_fota_status;
extern const struct mk_cli_cmd mk_cmd_image_info, mk_cmd_image_verify, mk_cmd_flash;

const struct mk_cli_cmd *const mk_cli_commands[] = {
    &mk_cmd_info,       &mk_cmd_at,          &mk_cmd_net_status, &mk_cmd_net_up,
    &mk_cmd_cert_put,   &mk_cmd_cert_ls,     &mk_cmd_cert_rm,    &mk_cmd_mqtt_pub,
    &mk_cmd_mqtt_sub,   &mk_cmd_fs_put,      &mk_cmd_fs_ls,      &mk_cmd_fs_rm,
    &mk_cmd_fota_pack,  &mk_cmd_fota_apply,  &mk_cmd_fota_status, &mk_cmd_image_info,
    &mk_cmd_image_verify, &mk_cmd_flash,     NULL,
};
