#!/bin/bash
# bench/run.sh -- `make bench`: every benchmark, one after the other, into one table.
#
# Runs ../shared/bench/perf.sh, ../shared/bench/scale.sh, bench/history.py,
# bench/web.py and bench/cli.py against build/steward, each under a time limit,
# and writes bench/out/bench-<UTC date>-<commit>.tsv: the commit, date, machine
# and load averages, then one row per figure (bench/table.py; compare two runs
# with bench/compare.py). bench/trigger.py is not run: perf.sh measures the same
# figures (triggers beside nginx, trigger to start, memory) more carefully.
# docs/PERFORMANCE.md says what each figure means.
#
# perf.sh runs steward through bench/perf-steward.c (built here, static), which
# shares its latency directory with builds (`serve --build-bind`); the sandbox
# stays on.
#
# environment:
#   BENCH_QUICK=1         everything small and short, a smoke test of a few minutes
#   BENCH_BIN             the binary (default build/steward)
#   BENCH_SHARED          perf.sh and scale.sh (default ../shared/bench)
#   BENCH_HISTORY_HOME    where the full run keeps history.py's home of 1.1 million
#                         builds and reuses it on the next run (default
#                         /var/tmp/steward-bench-history, about 10 GB: generating it
#                         takes 4 minutes and removing it 20 here, where the file
#                         system discards every freed block); empty: a temporary
#                         home, removed at the end. Quick runs use a temporary one.
#   BENCH_ONLY            the steps to run, e.g. "scale history" (default: all)
# Ctrl-C or a time limit stops the running step and everything it started.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
PY=/usr/bin/python3
BIN=$(realpath "${BENCH_BIN:-$ROOT/build/steward}")
SHARED=$(realpath "${BENCH_SHARED:-$ROOT/../shared/bench}")
QUICK=${BENCH_QUICK:-}
[ "$QUICK" = 0 ] && QUICK=
ONLY=${BENCH_ONLY:-perf scale history web cli}
[ -x "$BIN" ] || { echo "bench: no executable at $BIN (make build)" >&2; exit 2; }

# everything a step starts carries this in its environment, even what leaves its
# process group (perf.sh starts steward with setsid): what is left is found by it
BENCH_RUN=bench-$$-$RANDOM$RANDOM
export BENCH_RUN
W=$(mktemp -d /tmp/bench.XXXXXX) || exit 1
chmod 755 "$W"   # nginx's workers (web.py's baseline) read a page below it
export TMPDIR=$W

COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
STAMP=$(date -u +%Y%m%dT%H%MZ)
OUT=$ROOT/bench/out
mkdir -p "$OUT"
NAME=$OUT/bench-$STAMP-$COMMIT
LOG=$NAME.log
: >"$LOG"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

log() { printf '== bench %s: %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$LOG"; }

# the processes that carry BENCH_RUN, but this shell
marked() {
  local e p
  for e in /proc/[0-9]*/environ; do
    p=${e#/proc/}
    p=${p%/environ}
    [ "$p" = "$$" ] && continue
    grep -qzxF "BENCH_RUN=$BENCH_RUN" "$e" 2>/dev/null && echo "$p"
  done
}
# ends what a step left running: TERM, then KILL after 3 s
sweep() {
  local left p
  left=$(marked)
  [ -n "$left" ] || return 0
  for p in $left; do
    log "left running, ended: $p $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | head -c 200)"
    kill -TERM "$p" 2>/dev/null
  done
  sleep 3
  for p in $(marked); do kill -KILL "$p" 2>/dev/null; done
}

STEP_PID='' TAIL_PID=''
# stop_step: the running step's process group gets TERM (perf.sh and the Python
# scripts then stop their servers), KILL after 30 s
stop_step() {
  [ -n "$STEP_PID" ] || return 0
  kill -TERM "$STEP_PID" 2>/dev/null   # timeout passes it on to the step's group
  for _ in $(seq 300); do kill -0 "$STEP_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$STEP_PID" 2>/dev/null
  wait "$STEP_PID" 2>/dev/null
  STEP_PID=''
  [ -n "$TAIL_PID" ] && kill "$TAIL_PID" 2>/dev/null
  TAIL_PID=''
}
# shellcheck disable=SC2317  # called by the traps
cleanup() {
  trap - EXIT INT TERM
  stop_step
  sweep
  log "removing $W"
  rm -rf "$W"
}
trap cleanup EXIT
trap 'log "interrupted: no table written"; exit 130' INT TERM HUP

# step NAME LIMIT_S CMD...: runs CMD in its own process group under a time limit,
# its output in W/NAME.out, on the terminal and in the log; sets STATUS (ok, or
# what went wrong)
step() {
  local name=$1 limit=$2 rc t0 out=$W/$1.out
  shift 2
  log "$name: $* (at most $limit s)"
  t0=$SECONDS
  : >"$out"
  timeout -k 30 "$limit" "$@" </dev/null >"$out" 2>&1 &
  STEP_PID=$!
  tail --pid="$STEP_PID" -n +1 -f "$out" &
  TAIL_PID=$!
  wait "$STEP_PID"
  rc=$?
  STEP_PID=''
  wait "$TAIL_PID"
  TAIL_PID=''

  cat "$out" >>"$LOG"
  case $rc in
    0) STATUS=ok ;;
    124 | 137) STATUS="stopped after its time limit of $limit s" ;;
    *) STATUS="exit status $rc" ;;
  esac
  sweep
  log "$name: $STATUS, $((SECONDS - t0)) s"
}
want() { case " $ONLY " in *" $1 "*) return 0 ;; esac; return 1; }

if [ -n "$QUICK" ]; then
  MODE="quick (BENCH_QUICK=1): perf.sh PERF_RUNS=1 PERF_SECS=2; scale.sh 2,000 jobs;"
  MODE+=" history.py 20 jobs x 50 builds, big 2,000 builds, 64 MiB log; web.py 20 requests a page; cli.py 3 runs"
  PERF_ENV=(PERF_RUNS=1 PERF_SECS=2) SCALE_N=2000
  HIST_ARGS=(--jobs 20 --builds 50 --big-builds 2000 --log-mb 64 --starts 3 --requests 10)
  WEB_ARGS=(--requests 20) CLI_ARGS=(--runs 3)
  LIMIT_PERF=900 LIMIT_SCALE=300 LIMIT_HIST=600 LIMIT_WEB=300 LIMIT_CLI=300
else
  MODE="full: perf.sh PERF_RUNS=${PERF_RUNS:-3} PERF_SECS=${PERF_SECS:-5}; scale.sh ${SCALE_JOBS:-10000} jobs;"
  MODE+=" history.py 1,000 jobs x 1,000 builds, big 100,000 builds, 1 GiB log; web.py 200 requests a page; cli.py 30 runs"
  PERF_ENV=(PERF_RUNS="${PERF_RUNS:-3}" PERF_SECS="${PERF_SECS:-5}") SCALE_N=${SCALE_JOBS:-10000}
  HIST_ARGS=() WEB_ARGS=() CLI_ARGS=()
  LIMIT_PERF=1800 LIMIT_SCALE=900 LIMIT_HIST=2400 LIMIT_WEB=900 LIMIT_CLI=900
fi
if [ -n "$QUICK" ]; then HIST_HOME=$W/history-home
else HIST_HOME=${BENCH_HISTORY_HOME-/var/tmp/steward-bench-history}; fi
[ -n "$HIST_HOME" ] || HIST_HOME=$W/history-home
if [ -d "$HIST_HOME" ] && [ ! -f "$HIST_HOME/bench-history.json" ]; then
  log "removing $HIST_HOME: its generation did not finish"
  rm -rf "$HIST_HOME"
fi

log "steward $BIN (commit $COMMIT), $MODE"
log "table: $NAME.tsv, log: $LOG"
SOURCES=()
if want perf; then
  # static: the exec perf.sh times from is this one's, and it has no libraries to load
  WRAP=$W/perf-steward WRAP_NOTE=static
  if ! cc -O2 -Wall -Wextra -static -o "$WRAP" bench/perf-steward.c 2>>"$LOG"; then
    WRAP_NOTE="dynamic (a static link failed: is libc6-dev there?)"
    cc -O2 -Wall -Wextra -o "$WRAP" bench/perf-steward.c 2>>"$LOG" || WRAP= WRAP_NOTE="not built"
  fi
  if [ -n "$WRAP" ]; then
    step perf.sh "$LIMIT_PERF" env "${PERF_ENV[@]}" PERF_TSV="$W/perf.tsv" \
      STEWARD_BIN="$WRAP" BENCH_STEWARD_REAL="$BIN" "$SHARED/perf.sh"
    SOURCES+=(--source perf.sh perf "$W/perf.tsv" "$STATUS")
  else
    log "perf.sh not run: bench/perf-steward.c does not compile (see the log)"
    SOURCES+=(--source perf.sh perf "$W/perf.tsv" "bench/perf-steward.c does not compile")
  fi
fi
if want scale; then
  step scale.sh "$LIMIT_SCALE" env SCALE_JOBS="$SCALE_N" "$SHARED/scale.sh" "$BIN"
  SOURCES+=(--source scale.sh scale "$W/scale.sh.out" "$STATUS")
fi
if want history; then
  step history.py "$LIMIT_HIST" "$PY" bench/history.py --bin "$BIN" --home "$HIST_HOME" \
    "${HIST_ARGS[@]}" --tsv "$W/history.tsv"
  SOURCES+=(--source history.py figures "$W/history.tsv" "$STATUS")
fi
if want web; then
  step web.py "$LIMIT_WEB" "$PY" bench/web.py --bin "$BIN" "${WEB_ARGS[@]}" --tsv "$W/web.tsv"
  SOURCES+=(--source web.py figures "$W/web.tsv" "$STATUS")
fi
if want cli; then
  step cli.py "$LIMIT_CLI" "$PY" bench/cli.py --bin "$BIN" "${CLI_ARGS[@]}" --tsv "$W/cli.tsv"
  SOURCES+=(--source cli.py figures "$W/cli.tsv" "$STATUS")
fi

LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
mem=$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
dirty=''
[ -n "$(git status --porcelain --untracked-files=no -- src meson.build meson_options.txt 2>/dev/null)" ] &&
  dirty=" (with uncommitted changes to the source)"
btype=$("$PY" -c 'import json,sys
for o in json.load(open(sys.argv[1])):
    if o["name"] == "buildtype": print(o["value"])' "$(dirname "$BIN")/meson-info/intro-buildoptions.json" 2>/dev/null)
"$PY" bench/table.py --out "$NAME.tsv" --binary "$BIN" \
  --header "commit	$(git log -1 --format='%h %s' 2>/dev/null | cut -c1-100)$dirty" \
  --header "date	$(date -u '+%Y-%m-%d %H:%M UTC')" \
  --header "machine	$cpu, $(nproc) cores, $mem, $(uname -sr)" \
  --header "load	$LOAD0 before, $LOAD1 after (1, 5, 15 min averages)" \
  --header "binary	$BIN, meson buildtype ${btype:-unknown}" \
  --header "mode	$MODE" \
  --header "perf.sh	steward through bench/perf-steward.c (${WRAP_NOTE:-not built}): serve --build-bind W/lat (mode 1777), so that the latency job's builds can write the marks perf.sh waits for; the sandbox stays on" \
  "${SOURCES[@]}" || exit 1
echo
"$PY" bench/table.py --print "$NAME.tsv" | tee -a "$LOG"
log "table: $NAME.tsv"
