#!/bin/sh
# systemd-analyze verify on the installed unit, with ExecStart pointing at
# the binary just built (verify wants the program to exist), in a
# directory of its own. Exit 77 (skipped) without systemd-analyze: `make
# test-deps` installs Debian's systemd package, which has it.
# Usage: verify-unit.sh CONFIGURED-UNIT STEWARD-BINARY
set -eu
unit=$1
bin=$2
command -v systemd-analyze >/dev/null 2>&1 || {
  echo "systemd-analyze not found (Debian package systemd): skipped"
  exit 77
}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sed "s|^ExecStart=[^ ]*/steward |ExecStart=$bin |" "$unit" > "$dir/steward.service"
grep -q "^ExecStart=$bin " "$dir/steward.service" || {
  echo "no ExecStart=.../steward line to point at $bin in $unit"
  exit 1
}
# the man page is installed with the unit, not here
out=$(systemd-analyze verify --man=no "$dir/steward.service" 2>&1) || {
  echo "$out"
  exit 1
}
# verify also warns without failing; a warning about our unit is a failure here
if printf '%s\n' "$out" | grep -q "steward.service"; then
  echo "$out"
  exit 1
fi
echo "steward.service: verified"
