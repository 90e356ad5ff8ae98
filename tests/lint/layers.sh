#!/usr/bin/env bash
# Each layer includes only layers to its left:
#   util <- store <- core <- http <- api, web <- daemon;  util <- cli
# and each outside library has one home. Prints every violation; exit 1 if any.
set -u
cd "$(dirname "$0")/../.."
allowed() {
  case "$1" in
    util)   echo "util" ;;
    store)  echo "util store" ;;
    core)   echo "util store core" ;;
    http)   echo "util store core http" ;;
    api)    echo "util store core http api" ;;
    web)    echo "util store core http web" ;;
    cli)    echo "util cli" ;;
    daemon) echo "util store core http api web cli daemon" ;;
  esac
}
bad=0
for f in $(find src -name '*.[ch]'); do
  layer=$(echo "$f" | cut -d/ -f2)
  ok=" $(allowed "$layer") "
  while read -r inc; do
    dep=${inc%%/*}
    case "$ok" in *" $dep "*) ;; *) echo "$f includes $inc: $layer may not include $dep"; bad=1 ;; esac
  done < <(grep -ho '^#include "[a-z]*/[^"]*"' "$f" | sed 's/#include "//; s/"$//')
done
check_home() { # library header, allowed paths (extended regex)
  for f in $(grep -rl "#include <$1" src); do
    [[ $f =~ ^($2)$ ]] || { echo "$f includes <$1>: that library lives in $2 only"; bad=1; }
  done
}
check_home microhttpd.h 'src/http/mhd\.c'
check_home gnutls/ 'src/http/tls\.c'
check_home sqlite3.h 'src/store/.*'
# the job-config parser, and the credentials' and nodes' XML (with their shared parse, xmldoc.c),
# which load libxml2 through jobcfg_libxml.c
check_home libxml/ 'src/core/jobcfg(_[a-z]+)?\.c|src/core/jobcfg_int\.h|src/core/credentials_xml\.c|src/core/nodecfg\.c|src/core/xmldoc\.[ch]'
check_home sodium.h 'src/util/secret\.c'
check_home curl/ 'src/cli/.*'
check_home jansson.h 'src/api/.*|src/cli/.*'
if [ $bad = 0 ]; then echo "layers: ok"; fi
exit $bad
