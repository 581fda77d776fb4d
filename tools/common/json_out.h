/* JSON output helpers shared by the host programs (modemctl, modemd). */
#ifndef MK_HOST_JSON_OUT_H
#define MK_HOST_JSON_OUT_H

#include <stdio.h>

/* Writes s (NUL-terminated, UTF-8 passed through) as a quoted, escaped JSON string. */
void mk_host_json_str(FILE *out, const char *s);

#endif
