#!/usr/bin/env bash
# Builds each libFuzzer target of tests/fuzz/ with clang and runs it for
# FUZZ_SECONDS on a copy of its corpus (`make fuzz`; FUZZ_TARGETS="perm tz"
# picks some). A crash, leak or timeout is kept as FUZZ_DIR/NAME/crash-*,
# leak-* or timeout-*: minimise it (-minimize_crash=1), fix the cause and add
# it to tests/fuzz/corpus/NAME/, which the normal test run replays. The
# inputs a run finds stay in FUZZ_DIR/NAME/corpus for the next run.
set -eu
cd "$(dirname "$0")/../.."

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_DIR=${FUZZ_DIR:-/tmp/steward-fuzz}
FUZZ_CC=${FUZZ_CC:-clang}
FUZZ_NICE=${FUZZ_NICE:-10}   # a fuzzer takes a whole core: let other work go first
FUZZ_TARGETS=${FUZZ_TARGETS:-cli_settings tree jobcfg tz http_parse perm request audit credxml gitreport junit label nodecfg}
CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -Wall -Wextra -Werror
        -Wno-missing-field-initializers -std=gnu11 -D_GNU_SOURCE -DSTEWARD_VERSION=\"fuzz\" -Isrc"

# what each target links: sources, then pkg-config packages
target_sources() {
  case "$1" in
    cli_settings) echo "src/cli/settings.c src/util/fs.c src/util/strutil.c src/util/buf.c|libsodium" ;;
    tree)         echo "src/api/tree.c src/util/buf.c|jansson" ;;
    jobcfg)       echo "src/core/jobcfg.c src/core/jobcfg_load.c src/core/jobcfg_read.c src/core/jobcfg_edit.c src/core/jobcfg_write.c src/core/jobcfg_git.c src/core/jobcfg_support.c src/core/support.c src/core/perm.c src/util/buf.c src/util/strutil.c|libxml-2.0" ;;
    tz)           echo "src/util/tz.c src/util/fs.c src/util/strutil.c src/util/buf.c|libsodium" ;;
    http_parse)   echo "src/http/parse.c src/util/strutil.c src/util/secret.c src/util/buf.c|libsodium" ;;
    perm)         echo "src/core/perm.c src/core/jobcfg.c src/core/jobcfg_load.c src/core/jobcfg_read.c src/core/jobcfg_edit.c src/core/jobcfg_write.c src/core/jobcfg_git.c src/core/jobcfg_support.c src/core/support.c src/util/buf.c src/util/strutil.c|libxml-2.0" ;;
    gitreport)    echo "src/core/git.c src/core/poll.c src/util/buf.c src/util/strutil.c src/util/fs.c|libsodium" ;;
    credxml)      echo "src/core/credentials.c src/core/credentials_xml.c src/core/xmldoc.c $(ls src/store/*.c src/util/*.c | tr '\n' ' ')|libxml-2.0 sqlite3 libsodium" ;;
    junit)        echo "src/core/junit.c src/core/archive.c src/core/jobcfg.c src/core/jobcfg_load.c src/core/jobcfg_read.c src/core/jobcfg_edit.c src/core/jobcfg_write.c src/core/jobcfg_git.c src/core/jobcfg_bindings.c src/core/jobcfg_summary.c src/core/jobcfg_support.c src/core/support.c src/core/perm.c $(ls src/store/*.c src/util/*.c | tr '\n' ' ')|libxml-2.0 sqlite3 libsodium" ;;
    label)        echo "src/core/label.c src/util/buf.c src/util/strutil.c|libsodium" ;;
    nodecfg)      echo "$(ls src/util/*.c src/store/*.c src/core/*.c | tr '\n' ' ')|sqlite3 libxml-2.0 libsodium" ;;
    audit)        echo "src/core/audit.c src/core/perm.c src/util/strutil.c src/util/buf.c|libsodium" ;;
    request)      echo "$(ls src/util/*.c src/store/*.c src/core/*.c src/http/*.c src/api/*.c src/web/*.c \
                          | tr '\n' ' ')|libmicrohttpd gnutls sqlite3 libxml-2.0 jansson libsodium" ;;
    *) return 1 ;;
  esac
}

command -v "$FUZZ_CC" >/dev/null || { echo "fuzz: needs $FUZZ_CC (apt-get install clang)" >&2; exit 1; }
for t in $FUZZ_TARGETS; do
  target_sources "$t" >/dev/null || { echo "fuzz: no target $t" >&2; exit 1; }
done

status=0
for t in $FUZZ_TARGETS; do
  spec=$(target_sources "$t")
  out=$FUZZ_DIR/$t
  mkdir -p "$out/corpus"
  echo "== fuzz: building fuzz_$t into $out"
  # shellcheck disable=SC2086 # word lists on purpose
  $FUZZ_CC $CFLAGS $(pkg-config --cflags ${spec#*|}) -o "$out/fuzz_$t" \
    ${spec%|*} "tests/fuzz/fuzz_$t.c" $(pkg-config --libs ${spec#*|}) -lpthread
  cp -n "tests/fuzz/corpus/$t"/* "$out/corpus/" 2>/dev/null || true
  echo "== fuzz: running fuzz_$t for ${FUZZ_SECONDS}s"
  if ! (cd "$out" && nice -n "$FUZZ_NICE" "./fuzz_$t" -max_total_time="$FUZZ_SECONDS" -timeout=30 -rss_limit_mb=2048 \
          -print_final_stats=1 corpus >"fuzz.log" 2>&1); then
    echo "== fuzz: fuzz_$t found something: see $out/fuzz.log and $out/crash-* leak-* timeout-*"
    status=1
  fi
  grep -h '^stat::number_of_executed_units\|^stat::average_exec_per_sec' "$out/fuzz.log" || true
done
exit $status
