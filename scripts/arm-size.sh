#!/usr/bin/env bash
# Prints text/data/bss of the portable core built for Cortex-M4 and fails if it
# references malloc, free or anything of the printf family (the core must not).
set -euo pipefail
dir=${1:-build/arm}
lib="$dir/libmodemkit.a"
[ -f "$lib" ] || { echo "arm-size: $lib not found (cmake --preset arm && cmake --build --preset arm)" >&2; exit 1; }
echo "Cortex-M4 -Os sizes of libmodemkit.a, per object (bytes):"
arm-none-eabi-size -t "$lib" | awk 'NR==1 {printf "%8s %8s %8s  %s\n", $1, $2, $3, "object"; next}
  {printf "%8s %8s %8s  %s\n", $1, $2, $3, $6}'
bad=$(arm-none-eabi-nm -u "$lib" | awk '{print $2}' | grep -E '^(malloc|free|calloc|realloc|_malloc_r|_free_r|.*printf.*|puts|putchar|abort|exit)$' | sort -u || true)
if [ -n "$bad" ]; then
  echo "arm-size: the core references forbidden symbols:" >&2
  echo "$bad" >&2
  exit 1
fi
echo "arm-size: no malloc/free/printf references"
