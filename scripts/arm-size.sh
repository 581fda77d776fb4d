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

elf="$dir/examples/mcu/mk_example_mcu.elf"
if [ -f "$elf" ]; then
  read -r text data bss _ < <(arm-none-eabi-size "$elf" | awk 'NR==2 {print $1, $2, $3}')
  echo "minimal AT application (examples/mcu/uart_poll.c, linked with newlib-nano):"
  echo "  flash $((text + data)) bytes, RAM $((data + bss)) bytes (static; stack not included)"
  if arm-none-eabi-nm "$elf" | awk '{print $NF}' | grep -qE '^(malloc|_malloc_r|free|_free_r|printf|_printf_r|_sbrk)$'; then
    echo "arm-size: the linked example pulls in malloc/printf" >&2
    exit 1
  fi
fi
