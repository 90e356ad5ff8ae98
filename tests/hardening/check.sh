#!/bin/sh
# Reads the built binary back and fails if a hardening option is missing:
# PIE, full RELRO (relro + now), the stack protector, stack clash
# protection, CET instrumentation, and _FORTIFY_SOURCE=3 where the build
# optimises.
# Usage: check.sh STEWARD-BINARY fortify|no-fortify
set -eu
bin=$1
mode=$2
fail=0
no() { echo "hardening: $bin: $1"; fail=1; }

readelf -h "$bin" | grep -q 'Type:[[:space:]]*DYN' || no "not a position-independent executable (PIE)"
readelf -lW "$bin" | grep -q 'GNU_RELRO' || no "no RELRO segment (-Wl,-z,relro)"
readelf -dW "$bin" | grep -Eq 'BIND_NOW|FLAGS_1.*NOW' || no "symbols are bound lazily (-Wl,-z,now)"
readelf --dyn-syms -W "$bin" | grep -q '__stack_chk_fail' || no "no stack protector (-fstack-protector-strong)"

# The options every compilation unit had (-frecord-gcc-switches). CET is
# checked there, not by the binary's IBT/SHSTK note: Debian 12's crt1.o
# has none, so no program linked on it gets the note.
units=$(readelf -p .GCC.command.line "$bin" 2>/dev/null | grep 'GNU C' || true)
[ -n "$units" ] || no "no .GCC.command.line section (-frecord-gcc-switches) to read the options from"
for opt in -fstack-protector-strong -fstack-clash-protection -fcf-protection=full -fPI; do
  missing=$(printf '%s\n' "$units" | grep -c -v -- "$opt" || true)
  # a build directory set up before meson.build asked for an option keeps
  # its old settings: `meson setup --reconfigure DIR` brings it up to date
  [ "$missing" = 0 ] || no "$missing compilation units without $opt (an old build directory? run: meson setup --reconfigure $(dirname "$bin"))"
done
if [ "$mode" = fortify ]; then
  # what glibc's headers made of _FORTIFY_SOURCE, kept in the binary by daemon/main.c
  grep -aq 'steward-fortify-level=3' "$bin" || no "not built with _FORTIFY_SOURCE=3"
  readelf --dyn-syms -W "$bin" | grep -v __stack_chk_fail | grep -Eq '__[a-z_]+_chk' ||
    no "no fortified libc call (__*_chk) in the binary"
fi
[ "$fail" = 0 ] && echo "hardening: $bin: PIE, full RELRO, stack protector, stack clash protection, CET$([ "$mode" = fortify ] && echo ', FORTIFY_SOURCE=3' || true)"
exit "$fail"
