/* modemctl image info | image verify: Sierra CWE/SPK/NVU images, without a device. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "image.h"

static const char *mk_image_crc_text(const struct mk_cwe_image *im)
{
    if (!im->crc_checked)
        return "unchecked";
    return im->crc_ok ? "ok" : "BAD";
}

static void mk_image_json(const struct mk_cli_file *cf, enum mk_err err,
                          const struct mk_cwe_info *info, const char *problem)
{
    printf("{\"file\":");
    mk_host_json_str(stdout, cf->path);
    printf(",\"size\":%llu,\"ok\":%s", (unsigned long long)cf->f.size, err ? "false" : "true");
    if (info->count) {
        printf(",\"type\":");
        mk_host_json_str(stdout, info->images[0].hdr.type);
        printf(",\"product\":");
        mk_host_json_str(stdout, info->images[0].hdr.product);
    }
    printf(",\"firmware\":");
    mk_host_json_str(stdout, info->firmware);
    printf(",\"config\":");
    mk_host_json_str(stdout, info->config);
    printf(",\"carrier\":");
    mk_host_json_str(stdout, info->carrier);
    printf(",\"images\":[");
    for (size_t i = 0; i < info->count; i++) {
        const struct mk_cwe_image *im = &info->images[i];
        char path[48];
        mk_cli_cwe_path(info, i, path, sizeof path);
        printf("%s{\"path\":\"%s\",\"type\":", i ? "," : "", path);
        mk_host_json_str(stdout, im->hdr.type);
        printf(",\"product\":");
        mk_host_json_str(stdout, im->hdr.product);
        printf(",\"version\":");
        mk_host_json_str(stdout, im->hdr.version);
        printf(",\"date\":");
        mk_host_json_str(stdout, im->hdr.rel_date);
        printf(",\"offset\":%llu,\"size\":%u,\"depth\":%u,\"crc\":\"%s\",\"stored_crc\":"
               "\"0x%08x\",\"psb_crc\":\"%s\"}",
               (unsigned long long)im->offset, im->hdr.image_sz, im->depth, mk_image_crc_text(im),
               im->hdr.image_crc, im->psb_crc_ok ? "ok" : "BAD");
    }
    printf("]");
    if (err) {
        printf(",\"error\":{\"code\":");
        mk_host_json_str(stdout, mk_err_name(err));
        printf(",\"problem\":");
        mk_host_json_str(stdout, mk_cwe_problem_name(info->problem));
        if (info->fail_index >= 0 && (size_t)info->fail_index < info->count) {
            char path[48];
            mk_cli_cwe_path(info, (size_t)info->fail_index, path, sizeof path);
            printf(",\"image\":\"%s\"", path);
        }
        printf(",\"type\":");
        mk_host_json_str(stdout, info->fail_type);
        printf(",\"offset\":%llu,\"message\":", (unsigned long long)info->fail_offset);
        mk_host_json_str(stdout, problem);
        printf("}");
    }
    printf("}\n");
}

static void mk_image_text(const struct mk_cli_file *cf, enum mk_err err,
                          const struct mk_cwe_info *info, const char *problem, bool tree)
{
    const struct mk_cwe_image *top = info->count ? &info->images[0] : NULL;
    if (!tree) {
        if (err)
            printf("%s: FAILED: %s\n", cf->path, problem);
        else
            printf("%s: OK (%s %s, firmware %s, config %s, carrier %s, %zu images, every CRC "
                   "checked)\n",
                   cf->path, top->hdr.type, top->hdr.product,
                   info->firmware[0] ? info->firmware : "-", info->config[0] ? info->config : "-",
                   info->carrier[0] ? info->carrier : "-", info->count);
        return;
    }
    printf("%s: %llu bytes\n", cf->path, (unsigned long long)cf->f.size);
    if (top)
        printf("  %s image for product %s\n", top->hdr.type, top->hdr.product);
    printf("  firmware %s, config %s, carrier %s\n", info->firmware[0] ? info->firmware : "-",
           info->config[0] ? info->config : "-", info->carrier[0] ? info->carrier : "-");
    for (size_t i = 0; i < info->count; i++) {
        const struct mk_cwe_image *im = &info->images[i];
        char path[48];
        mk_cli_cwe_path(info, i, path, sizeof path);
        printf("  %*s%-*s %-4s %-4s offset %10llu size %10u crc %-9s %s %s\n", (int)im->depth * 2,
               "", 10 - (int)im->depth * 2 > 0 ? 10 - (int)im->depth * 2 : 1, path, im->hdr.type,
               im->hdr.product, (unsigned long long)im->offset, im->hdr.image_sz,
               mk_image_crc_text(im), im->hdr.rel_date, im->hdr.version);
    }
    if (err)
        printf("  PROBLEM: %s\n", problem);
}

static int mk_image_run(struct mk_cli *cli, int argc, char **argv, bool tree)
{
    int c;
    optind = 1;
    while ((c = getopt(argc, argv, "")) != -1)
        return mk_cli_usage_error(cli, "unknown option");
    if (optind >= argc)
        return mk_cli_usage_error(cli, "no image file given");
    static struct mk_cwe_image images[MK_CLI_CWE_TREE];
    int rc = MK_EXIT_OK;
    for (int i = optind; i < argc; i++) {
        struct mk_cli_file cf;
        const char *why;
        enum mk_err e = mk_cli_file_open(&cf, argv[i], &why);
        if (e != MK_OK) {
            int code = mk_cli_fail(cli, e, "%s: %s", argv[i], why ? why : mk_strerror(e));
            if (rc == MK_EXIT_OK)
                rc = code;
            continue;
        }
        struct mk_cwe_info info;
        e = mk_cli_cwe_parse(&cf, &info, images);
        char problem[300] = "";
        if (e != MK_OK) {
            if (e == MK_E_IMAGE || e == MK_E_IMAGE_CRC)
                mk_cwe_describe_problem(&info, problem, sizeof problem);
            else if (e == MK_E_NOSPC)
                snprintf(problem, sizeof problem, "more than %d sub-images", MK_CLI_CWE_TREE);
            else
                snprintf(problem, sizeof problem, "%s", mk_strerror(e));
        }
        if (cli->json)
            mk_image_json(&cf, e, &info, problem);
        else
            mk_image_text(&cf, e, &info, problem, tree);
        /* info shows what it could read; a file that is no image at all, and any failed
         * check for verify, is an error */
        bool fail = e != MK_OK && (!tree || info.count == 0);
        if (fail) {
            if (!cli->json && !tree)
                fprintf(stderr, "modemctl: %s: %s\n", cf.path, problem);
            if (rc == MK_EXIT_OK)
                rc = mk_cli_exit_code(e == MK_E_NOSPC ? MK_E_IMAGE : e);
        }
        mk_cli_file_close(&cf);
    }
    return rc;
}

static int mk_image_info_run(struct mk_cli *cli, int argc, char **argv)
{
    return mk_image_run(cli, argc, argv, true);
}

static int mk_image_verify_run(struct mk_cli *cli, int argc, char **argv)
{
    return mk_image_run(cli, argc, argv, false);
}

const struct mk_cli_cmd mk_cmd_image_info = {
    .name = "image info",
    .synopsis = "image info FILE...",
    .summary = "Show the tree and versions of CWE/SPK/NVU images",
    .description =
        "Reads Sierra Wireless firmware images (.cwe, .spk, .nvu) without a device: the "
        "400-byte header of every nested image (type, product, version, date, offset, size), "
        "the product, firmware version, config version and carrier found the way "
        "qmi-firmware-update finds them (top-level version, file name, BOOT and NVUP "
        "sub-images), and every CRC (header and payload; CRC-32 without final xor).\n\n"
        "Sub-images are numbered as qmi-firmware-update numbers them (0, 0.1, 0.1.0...). A "
        "file that holds no CWE image at all makes the command fail; a bad CRC is shown in "
        "the tree (use 'image verify' to fail on it). With --json, one object per file.",
    .opts = NULL,
    .examples = "  modemctl image info RC76xx_Release9_GENERIC_GCF_7620.spk\n"
                "  modemctl --json image info fw.spk carrier.nvu\n",
    .needs_device = false,
    .run = mk_image_info_run,
};

const struct mk_cli_cmd mk_cmd_image_verify = {
    .name = "image verify",
    .synopsis = "image verify FILE...",
    .summary = "Check every CRC and the structure of CWE/SPK/NVU images",
    .description =
        "Checks each file as 'modemctl flash' does before sending it: the nesting of the "
        "images, the header and payload CRC of every sub-image, and that the top-level size "
        "matches the file. Prints one line per file, OK or FAILED naming the failing "
        "sub-image, its offset and the stored and computed CRCs. Unlike qmi-firmware-update "
        "--verify, which checks no CRC, a flipped payload byte is found.\n\n"
        "Exits with 17 (image) if any file fails, 3 if a file cannot be read.",
    .opts = NULL,
    .examples = "  modemctl image verify fw.spk carrier.nvu\n"
                "  modemctl --json image verify fw.spk\n",
    .needs_device = false,
    .run = mk_image_verify_run,
};
