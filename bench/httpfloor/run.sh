#!/bin/bash
# run.sh -- the HTTP floor: nginx's static 201 beside libmicrohttpd and
# libh2o-evloop answering the same 201, with and without a durable SQLite
# group commit before each answer, and optionally Steward itself.
#
# usage: bench/httpfloor/run.sh
#
# Compiles the programs of this directory with gcc (Debian packages:
# libmicrohttpd-dev libh2o-evloop-dev libsqlite3-dev nginx-light wrk), then
# measures, interleaved (every subject once per round, RUNS rounds),
# `wrk -t1 -c32` keep-alive and with 'Connection: close', POST with a
# Basic auth header through ../../../shared/bench/perf/count.lua, each
# subject started fresh for each measurement and stopped after it. Prints
# requests/s median [min-max], the median of the per-round ratios to nginx,
# server CPU per answer (utime+stime of the server and its children from
# /proc), p99 latency and, for the commit variants, rows per transaction.
#
# environment:
#   FLOOR_RUNS (3) rounds; FLOOR_SECS (5) seconds per wrk run;
#   FLOOR_PORT (18400) first port, one per subject after it;
#   FLOOR_MHD_THREADS (8: serve's default --threads) libmicrohttpd's pool;
#   FLOOR_SUBJECTS (all) names to run, space-separated (nginx always runs);
#   STEWARD_BIN (/work/main/build/steward; empty: no Steward row) measured
#     the way /tmp/trigbench.sh does: a job with a parameter and a quiet
#     period of an hour, so the triggers only queue;
#   FLOOR_DEADLINE (1200) seconds after which no new measurement starts;
#   FLOOR_KEEP=1 keeps the scratch directory.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PERF=${PERF_DIR:-$(cd "$HERE/../.." && pwd)/../shared/bench/perf}
[ -f "$PERF/count.lua" ] || PERF=/work/shared/bench/perf
RUNS=${FLOOR_RUNS:-3}
SECS=${FLOOR_SECS:-5}
PORT0=${FLOOR_PORT:-18400}
MHD_THREADS=${FLOOR_MHD_THREADS:-8}
DEADLINE=${FLOOR_DEADLINE:-1200}
STEWARD=${STEWARD_BIN-/work/main/build/steward}
HZ=$(getconf CLK_TCK)
NCPU=$(nproc)
W=$(mktemp -d /tmp/httpfloor.XXXXXX) || exit 1
RES=$W/results.tsv
: >"$RES"
START=$SECONDS
AUTH="Basic $(printf 'admin:11%s' 0123456789abcdef0123456789abcdef | base64 -w0)"

log() { printf '[%4d s] %s\n' $((SECONDS - START)) "$*" >&2; }

# ---------------------------------------------------------------- processes
SRV_PID='' WRK_PID=''
stop_pid() { # PID SIGNAL: signal, wait up to 5 s, then KILL
  kill -"$2" "$1" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null
  wait "$1" 2>/dev/null
}
# shellcheck disable=SC2317  # called by the traps
cleanup() {
  trap - EXIT INT TERM
  [ -n "$WRK_PID" ] && stop_pid "$WRK_PID" TERM
  [ -n "$SRV_PID" ] && stop_pid "$SRV_PID" "$SRV_SIG"
  [ -n "${FLOOR_KEEP:-}" ] && { echo "kept: $W" >&2; return; }
  rm -rf "$W"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

wait_port() { # PORT PID: up to 10 s
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
tree_ticks() { # utime+stime(+children's) of PID and its direct children
  local t=0 p v
  for p in "$1" $(ps -o pid= --ppid "$1" 2>/dev/null); do
    v=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12+$13+$14+$15}')
    t=$((t + ${v:-0}))
  done
  echo "$t"
}
box_busy() { awk '/^cpu /{print $2+$3+$4+$7+$8; exit}' /proc/stat; }
quiet_wait() { # up to 1.5 s for the box to use <= 5 % CPU over 0.25 s
  local a b
  for _ in 1 2 3 4 5 6; do
    a=$(box_busy); sleep 0.25; b=$(box_busy)
    [ $((b - a)) -le $((NCPU * HZ / 80)) ] && return
  done
}

# ---------------------------------------------------------------- build
CFLAGS=(-O2 -g -Wall -Wextra -Werror -std=gnu11)
build() { # NAME SOURCE DEFINE LIBS...
  local name=$1 src=$2 def=$3
  shift 3
  gcc "${CFLAGS[@]}" "$def" -o "$W/$name" "$HERE/$src" "$HERE/floor.c" "$@" -lsqlite3 -lpthread 2>"$W/$name.cc" ||
    { log "$name does not compile: $(head -n3 "$W/$name.cc")"; return 1; }
}
H2O_LIBS=$(pkg-config --cflags --libs libh2o-evloop 2>/dev/null || echo -lh2o-evloop)
# shellcheck disable=SC2086  # pkg-config's words
build mhd_static mhd_floor.c -DFLOOR_SUSPEND=0 -lmicrohttpd &&
  build mhd_suspend mhd_floor.c -DFLOOR_SUSPEND=1 -lmicrohttpd &&
  build h2o_static h2o_floor.c -DFLOOR_COMMIT=0 -DH2O_USE_LIBUV=0 $H2O_LIBS &&
  build h2o_commit h2o_floor.c -DFLOOR_COMMIT=1 -DH2O_USE_LIBUV=0 $H2O_LIBS || exit 1
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || { log "nginx is missing (apt-get install nginx-light)"; exit 1; }
command -v wrk >/dev/null || { log "wrk is missing (apt-get install wrk)"; exit 1; }
if [ -n "$STEWARD" ]; then
  if [ -x "$STEWARD" ]; then cp "$STEWARD" "$W/steward"  # a rebuild during the run changes nothing
  else log "no Steward at $STEWARD: no Steward row"; STEWARD=''; fi
fi

# ---------------------------------------------------------------- subjects
# name|description; started by start_subject NAME PORT DIR
ALL="nginx|nginx 1 worker, static 201
mhd_static|libmicrohttpd, Steward's daemon options, pool $MHD_THREADS, static 201
mhd_suspend|libmicrohttpd as mhd_static + suspend, commit thread, resume
mhd_static_p2|mhd_static with a pool of 2
mhd_suspend_p2|mhd_suspend with a pool of 2
h2o_static|libh2o-evloop, 1 loop, static 201
h2o_static2|libh2o-evloop, 2 loops, static 201
h2o_commit|h2o, 1 loop + commit thread (batch per loop turn)
h2o_commit2|h2o, 2 loops + commit thread
h2o_inline|h2o, 1 loop committing its own turn's batch
h2o_inline2|h2o, 2 loops, each committing its own batch
mhd_susp_ns|mhd_suspend without fsync (synchronous=OFF)
h2o_commit_ns|h2o_commit without fsync
h2o_commit2_ns|h2o_commit2 without fsync"
[ -n "$STEWARD" ] && ALL="$ALL
steward|Steward: auth, queue, group commit (trigbench's setup)"
SUBJECTS=$(printf '%s\n' "$ALL" | cut -d'|' -f1 | tr '\n' ' ')
if [ -n "${FLOOR_SUBJECTS:-}" ]; then
  SUBJECTS="nginx $(printf '%s\n' "$FLOOR_SUBJECTS" | tr ' ' '\n' | grep -vx -e nginx -e '' | tr '\n' ' ')"
fi

SRV_SIG=TERM
steward_home() { # DIR PORT -> the home is ready, the server is not started; sets STW_AUTH
  local tok
  "$W/steward" --home "$1/home" user add admin --password admin-password --admin >"$1/boot.log" 2>&1 || return 1
  tok=$("$W/steward" --home "$1/home" token new admin --name t 2>>"$1/boot.log") || return 1
  STW_TOKEN=$tok
  STW_AUTH="Basic $(printf 'admin:%s' "$tok" | base64 -w0)"
}
steward_job() { # PORT DIR
  local code
  code=$(curl -s -o "$2/job.answer" -w '%{http_code}' --max-time 10 -u "admin:$STW_TOKEN" -X POST \
    -H 'Content-Type: application/xml' --data-binary '<project><properties><hudson.model.ParametersDefinitionProperty><parameterDefinitions><hudson.model.StringParameterDefinition><name>N</name><defaultValue></defaultValue></hudson.model.StringParameterDefinition></parameterDefinitions></hudson.model.ParametersDefinitionProperty></properties><quietPeriod>3600</quietPeriod><builders/></project>' \
    "http://127.0.0.1:$1/createItem?name=noop")
  [ "$code" = 200 ] || [ "$code" = 201 ]
}
# start_subject NAME PORT DIR: sets SRV_PID, SRV_SIG and REQ_AUTH; 1 if it did not start
start_subject() {
  local name=$1 port=$2 dir=$3
  mkdir -p "$dir"
  SRV_SIG=TERM REQ_AUTH=$AUTH
  case $name in
    nginx)
      sed -e "s|@DIR@|$dir|g" -e "s|@PORT@|$port|g" "$PERF/nginx.conf.in" >"$dir/nginx.conf"
      "$NGINX" -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf" >"$dir/log" 2>&1 &
      SRV_SIG=QUIT ;;
    mhd_static) "$W/mhd_static" "$port" --threads "$MHD_THREADS" >"$dir/log" 2>&1 & ;;
    mhd_suspend) "$W/mhd_suspend" "$port" --threads "$MHD_THREADS" --db "$dir/q.db" >"$dir/log" 2>&1 & ;;
    mhd_static_p2) "$W/mhd_static" "$port" --threads 2 >"$dir/log" 2>&1 & ;;
    mhd_suspend_p2) "$W/mhd_suspend" "$port" --threads 2 --db "$dir/q.db" >"$dir/log" 2>&1 & ;;
    h2o_static) "$W/h2o_static" "$port" --threads 1 >"$dir/log" 2>&1 & ;;
    h2o_static2) "$W/h2o_static" "$port" --threads 2 >"$dir/log" 2>&1 & ;;
    h2o_commit) "$W/h2o_commit" "$port" --threads 1 --db "$dir/q.db" >"$dir/log" 2>&1 & ;;
    h2o_commit2) "$W/h2o_commit" "$port" --threads 2 --db "$dir/q.db" >"$dir/log" 2>&1 & ;;
    h2o_inline) "$W/h2o_commit" "$port" --threads 1 --inline --db "$dir/q.db" >"$dir/log" 2>&1 & ;;
    h2o_inline2) "$W/h2o_commit" "$port" --threads 2 --inline --db "$dir/q.db" >"$dir/log" 2>&1 & ;;
    mhd_susp_ns) "$W/mhd_suspend" "$port" --threads "$MHD_THREADS" --nosync --db "$dir/q.db" >"$dir/log" 2>&1 & ;;
    h2o_commit_ns) "$W/h2o_commit" "$port" --threads 1 --nosync --db "$dir/q.db" >"$dir/log" 2>&1 & ;;
    h2o_commit2_ns) "$W/h2o_commit" "$port" --threads 2 --nosync --db "$dir/q.db" >"$dir/log" 2>&1 & ;;
    steward)
      steward_home "$dir" "$port" || { log "steward: bootstrap failed: $(tail -n1 "$dir/boot.log")"; return 1; }
      REQ_AUTH=$STW_AUTH
      "$W/steward" --home "$dir/home" serve --listen "127.0.0.1:$port" --executors 4 \
        --queue-limit 1000000 --no-sandbox >"$dir/log" 2>&1 & ;;
    *) log "unknown subject $name"; return 1 ;;
  esac
  SRV_PID=$!
  if ! wait_port "$port" "$SRV_PID"; then
    log "$name did not start: $(tail -n1 "$dir/log" "$dir/error.log" 2>/dev/null | tr '\n' ' ')"
    stop_pid "$SRV_PID" KILL; SRV_PID=
    return 1
  fi
  if [ "$name" = steward ] && ! steward_job "$port" "$dir"; then
    log "steward: createItem failed: $(head -c 200 "$dir/job.answer")"
    stop_pid "$SRV_PID" TERM; SRV_PID=
    return 1
  fi
  return 0
}

# measure NAME PORT MODE ROUND: one wrk run on a fresh server; appends a line to $RES
measure() {
  local name=$1 port=$2 mode=$3 round=$4 dir=$W/$1.$3.$4 out c0 c1 b0 b1 line wcpu hdr=() tm=()
  start_subject "$name" "$port" "$dir" || { printf '%s\t%s\t%s\tna\n' "$name" "$mode" "$round" >>"$RES"; return; }
  [ "$mode" = close ] && hdr=(-H 'Connection: close')
  quiet_wait
  out=$dir/wrk.txt
  [ -x /usr/bin/time ] && tm=(/usr/bin/time -f 'wrk_cpu_s %U %S' -o "$dir/wrk.time")
  c0=$(tree_ticks "$SRV_PID"); b0=$(box_busy)
  PERF_METHOD=POST PERF_PATH=/job/noop/buildWithParameters PERF_VARY=N PERF_BASE=$((round * 1000000000)) \
    PERF_AUTH=$REQ_AUTH PERF_OK=201 \
    timeout -k 2 $((SECS + 20)) "${tm[@]}" wrk -t1 -c32 -d"${SECS}s" --timeout 2s -s "$PERF/count.lua" "${hdr[@]}" \
    "http://127.0.0.1:$port" >"$out" 2>&1 &
  WRK_PID=$!
  wait "$WRK_PID"
  WRK_PID=
  c1=$(tree_ticks "$SRV_PID"); b1=$(box_busy)
  stop_pid "$SRV_PID" "$SRV_SIG"
  SRV_PID=
  line=$(grep -m1 '^PERF_RESULT' "$out")
  if [ -z "$line" ]; then
    log "$name $mode round $round: wrk failed: $(tail -n1 "$out")"
    printf '%s\t%s\t%s\tna\n' "$name" "$mode" "$round" >>"$RES"
    return
  fi
  wcpu=$(awk '/^wrk_cpu_s/{print $2+$3}' "$dir/wrk.time" 2>/dev/null)
  awk -v l="$line" -v c=$((c1 - c0)) -v b=$((b1 - b0)) -v w="${wcpu:-0}" -v ncpu="$NCPU" -v hz="$HZ" \
    -v n="$name" -v m="$mode" -v r="$round" \
    -v batch="$(sed -n 's/.*rows_per_batch=\([0-9.]*\).*/\1/p' "$dir/log" | tail -n1)" '
    BEGIN { k = split(l, a, " "); for (i = 2; i <= k; i++) { split(a[i], kv, "="); v[kv[1]] = kv[2] }
            d = v["dur_us"] / 1e6; ok = v["ok"] + 0
            rate = d > 0 ? ok / d : 0; cpu = ok > 0 ? c * 1e6 / hz / ok : 0
            wus = ok > 0 ? w * 1e6 / ok : 0
            # the rest of the box: neither the server nor wrk (other work on a shared machine)
            oth = d > 0 ? (b - c - w * hz) / (ncpu * hz * d) * 100 : 0; if (oth < 0) oth = 0
            if (batch == "" || batch == "0.0") batch = "-"
            printf "%s\t%s\t%s\t%.1f\t%.2f\t%d\t%d\t%d\t%s\t%s\t%.2f\t%.0f\n", n, m, r, rate, cpu, v["p50_us"],
              v["p99_us"], v["errors"] + v["other"] + v["noloc"], batch, v["statuses"], wus, oth }' >>"$RES"
  log "$(tail -n1 "$RES" | cut -f1-9 | tr '\t' ' ')"
  [ -n "${FLOOR_KEEP:-}" ] || rm -rf "$dir"
}

# ---------------------------------------------------------------- measure
log "scratch $W; subjects: $SUBJECTS; $RUNS rounds of ${SECS}s, keep-alive then close"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
for mode in ka close; do
  for r in $(seq "$RUNS"); do
    i=0
    for s in $SUBJECTS; do
      i=$((i + 1))
      if [ $((SECONDS - START)) -ge "$DEADLINE" ]; then
        log "deadline of $DEADLINE s passed: $s $mode round $r skipped"
        printf '%s\t%s\t%s\tna\n' "$s" "$mode" "$r" >>"$RES"
        continue
      fi
      measure "$s" $((PORT0 + i)) "$mode" "$r"
    done
  done
done

# ---------------------------------------------------------------- table
echo
echo "HTTP floor, $(date -u '+%Y-%m-%d %H:%M UTC'), $NCPU CPUs ($(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)), load $LOAD0 at start, $(cut -d' ' -f1-3 /proc/loadavg) at end"
echo "wrk -t1 -c32 -d${SECS}s, POST + Basic auth (count.lua), $RUNS interleaved rounds, each subject started fresh per run"
[ -n "$STEWARD" ] && echo "steward: $STEWARD ($(stat -c '%y' "$STEWARD" | cut -d. -f1))"
/usr/bin/python3 - "$RES" "$ALL" <<'EOF'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
desc = dict(l.split("|", 1) for l in sys.argv[2].splitlines())
data = {}
for r in rows:
    if len(r) < 9 or r[3] == "na":
        data.setdefault((r[0], r[1]), [])
        continue
    data.setdefault((r[0], r[1]), []).append(r)
order = []
for r in rows:
    if r[0] not in order:
        order.append(r[0])
def fmt(vals, f="%.0f"):
    if not vals:
        return "n/a"
    return (f % statistics.median(vals)) + " [" + (f % min(vals)) + "-" + (f % max(vals)) + "]"
for mode, title in (("ka", "keep-alive"), ("close", "Connection: close")):
    print()
    print("%-14s %-22s %-18s %-7s %-7s %-7s %-7s %-7s %-4s %s" % (title, "answers/s", "x nginx", "us CPU", "wrk us", "other%", "p99 ms", "rows/tx", "bad", "what"))
    ng = {r[2]: float(r[3]) for r in data.get(("nginx", mode), [])}
    for s in order:
        rs = data.get((s, mode))
        if rs is None:
            continue
        rates = [float(r[3]) for r in rs]
        ratios = [float(r[3]) / ng[r[2]] for r in rs if ng.get(r[2])]
        cpu = [float(r[4]) for r in rs]
        p99 = [int(r[6]) / 1000 for r in rs]
        bad = sum(int(r[7]) for r in rs)
        batch = [float(r[8]) for r in rs if r[8] != "-"]
        wrk = [float(r[10]) for r in rs if len(r) > 11]
        oth = [float(r[11]) for r in rs if len(r) > 11]
        med = lambda v, f="%.1f": f % statistics.median(v) if v else "n/a"
        print("%-14s %-22s %-18s %-7s %-7s %-7s %-7s %-7s %-4d %s" % (
            s, fmt(rates), fmt(ratios, "%.2f"), med(cpu), med(wrk), med(oth, "%.0f"), med(p99),
            "%.1f" % statistics.median(batch) if batch else "-", bad, desc.get(s, "")))
print()
print("us CPU: server utime+stime (with children) per 201; wrk us: the client's; other%: the rest of the box's CPU")
print("(other work on a shared machine) during the run; all medians; bad: non-201, errors, 201 without Location")
EOF
log "done"
