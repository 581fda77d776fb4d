/* Fuzz the JSON reader: parse, then exercise every accessor on every token. */
#include <stdint.h>
#include <stddef.h>

#include "modemkit/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct mk_json_tok toks[256];
    struct mk_json d;
    if (mk_json_parse(&d, (const char *)data, size, toks, 256) != MK_OK)
        return 0;
    for (size_t i = 0; i < d.ntoks; i++) {
        char buf[64];
        int64_t n;
        double f;
        bool b;
        (void)mk_json_str(&d, (int)i, buf, sizeof buf);
        (void)mk_json_int(&d, (int)i, &n);
        (void)mk_json_num(&d, (int)i, &f);
        (void)mk_json_bool(&d, (int)i, &b);
        (void)mk_json_get(&d, (int)i, "model");
        (void)mk_json_at(&d, (int)i, 1);
        (void)mk_json_streq(&d, (int)i, "x");
    }
    return 0;
}
