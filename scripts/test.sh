#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, then
#   1. gcc build with -Werror, every test (slow sweeps in their bounded form);
#   2. clang ASan+UBSan build with -Werror, every test, plus short libFuzzer runs;
#   3. arm-none-eabi -Os build of the portable core, with the size and no-malloc check.
# Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh

jobs=$(nproc 2>/dev/null || echo 2)
# Slow sweeps run bounded here (ctest -L slow without these runs them whole).
export FOTA_SWEEP_SAMPLE=${FOTA_SWEEP_SAMPLE:-12}
step() { printf '\n=== %s ===\n' "$*"; }

step "gcc build (-Werror)"
cmake --preset dev -DMK_WERROR=ON >/dev/null
cmake --build --preset dev -j "$jobs"
step "gcc: test suite"
ctest --preset dev -j "$jobs"

step "clang ASan+UBSan build (-Werror)"
cmake --preset asan -DMK_WERROR=ON >/dev/null
cmake --build --preset asan -j "$jobs"
step "clang ASan+UBSan: test suite and fuzz smoke"
ctest --preset asan -j "$jobs"

step "arm-none-eabi build of the core"
cmake --preset arm -DMK_WERROR=ON >/dev/null
cmake --build --preset arm -j "$jobs"
scripts/arm-size.sh build/arm

step "all tests passed"
