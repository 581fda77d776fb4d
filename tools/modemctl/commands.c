/* The command table: one line per command, in the order --help lists them. Each
 * command's text and code live in its own cmd_*.c file. */
#include "cli.h"

extern const struct mk_cli_cmd mk_cmd_info;
extern const struct mk_cli_cmd mk_cmd_at;
extern const struct mk_cli_cmd mk_cmd_image_info;
extern const struct mk_cli_cmd mk_cmd_image_verify;
extern const struct mk_cli_cmd mk_cmd_flash;
extern const struct mk_cli_cmd mk_cmd_fs_put, mk_cmd_fs_ls, mk_cmd_fs_rm;
extern const struct mk_cli_cmd mk_cmd_fota_pack, mk_cmd_fota_apply, mk_cmd_fota_status;

const struct mk_cli_cmd *const mk_cli_commands[] = {
    &mk_cmd_info,
    &mk_cmd_at,
    &mk_cmd_image_info,
    &mk_cmd_image_verify,
    &mk_cmd_flash,
    &mk_cmd_fs_put,
    &mk_cmd_fs_ls,
    &mk_cmd_fs_rm,
    &mk_cmd_fota_pack,
    &mk_cmd_fota_apply,
    &mk_cmd_fota_status,
    NULL,
};
