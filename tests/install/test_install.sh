#!/bin/sh
# cmake --install puts the library, headers, pkg-config file, both programs and their
# man pages in place, and a program builds against the installed tree with pkg-config
# alone (no source tree on the include path).
set -eu
build=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
p=$tmp/prefix
for f in lib/libmodemkit.a lib/libmodemkit_posix.a lib/pkgconfig/modemkit.pc \
         include/modemkit/at.h include/modemkit/err.h include/modemkit/posix.h \
         bin/modemctl bin/modemsim share/man/man1/modemctl.1 share/man/man1/modemsim.1; do
  [ -e "$p/$f" ] || { echo "missing after install: $f"; exit 1; }
done
cat > "$tmp/app.c" <<'C'
#include <stdio.h>
#include <string.h>
#include "modemkit/at.h"
#include "modemkit/crc.h"
#include "modemkit/posix.h"
int main(void)
{
    /* a real call into each installed library */
    if (mk_crc16_x25("123456789", 9) != 0x906E)
        return 1;
    struct mk_at_arg a[3];
    const char *l = "+CSQ: 20,99";
    if (mk_at_split(l, strlen(l), "+CSQ:", a, 3) != 2)
        return 1;
    printf("%s %llu\n", mk_strerror(MK_E_TIMEOUT), (unsigned long long)(mk_posix_now_ms() > 0));
    return 0;
}
C
export PKG_CONFIG_PATH="$p/lib/pkgconfig"
# shellcheck disable=SC2086 # MK_APP_CFLAGS holds several flags
"${CC:-cc}" -std=c11 -Wall -Werror ${MK_APP_CFLAGS:-} $(pkg-config --cflags modemkit) \
   "$tmp/app.c" $(pkg-config --libs modemkit) -o "$tmp/app"
out=$("$tmp/app")
[ "$out" = "timed out 1" ] || { echo "unexpected output: $out"; exit 1; }
"$p/bin/modemctl" --version | grep -q '^modemctl '
"$p/bin/modemsim" --version | grep -q '^modemsim '
man -l "$p/share/man/man1/modemctl.1" 2>/dev/null | grep -q "EXIT STATUS" || grep -q "EXIT STATUS" "$p/share/man/man1/modemctl.1"
grep -q -- "--profile" "$p/share/man/man1/modemsim.1"
echo "install ok: $(find "$p" -type f | wc -l) files"
