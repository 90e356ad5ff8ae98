#!/bin/bash
# bench.sh ROUNDS CONFIGS... : A B A B interleaving (nginx right before each
# subject run, same mode), results appended to $SPIKE_OUT (default /var/tmp/spike-h2o/results.tsv).
# config names: mhd2 mhd8 h2o1 h2o2
set -u
D=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd); P=$(realpath "${BENCH_SHARED:-$D/../../../../shared/bench}")/perf; PY=/usr/bin/python3
W=/var/tmp/spike-h2o; mkdir -p $W
OUT=${SPIKE_OUT:-$W/results.tsv}
[ -s $OUT ] || printf 'round\tname\tmode\tok\tother\terrors\tdur_us\trate\tcpu_us_per\trss_idle_kib\trss_after_kib\tlibs\tstart_ms\tp50_us\tp99_us\tnoloc\textra\n' > $OUT
ROUNDS=$1; shift
AUTH="Basic $(printf 'admin:11%s' 0123456789abcdef0123456789abcdef | base64 -w0)"
BASE=1000000000

pids_of() { echo $1 $(pgrep -P $1); }           # nginx: master + worker
cpu_ticks() { local t=0; for p in $(pids_of $1); do t=$((t + $(awk '{print $14+$15}' /proc/$p/stat))); done; echo $t; }
rss_kib() { local t=0; for p in $(pids_of $1); do t=$((t + $(awk '/VmRSS/{print $2}' /proc/$p/status))); done; echo $t; }
libs() { local p=$(pids_of $1); p=${p##* }; grep '\.so' /proc/$p/maps | awk '{print $6}' | sort -u | wc -l; }

run_one() { # round name mode argv...
  local r=$1 name=$2 mode=$3; shift 3
  local res=$W/start.res lg=$W/$name.log st pid ms hdr=()
  rm -f $res
  $PY $P/client.py start $res $PORT $lg 5 -- "$@" &
  local CP=$!
  for _ in $(seq 200); do [ -s $res ] && break; sleep 0.05; done
  read -r st pid ms < $res || true
  if [ "$st" != OK ]; then echo "start failed: $name $st"; kill $CP; wait $CP; return; fi
  sleep 0.3
  local rss0=$(rss_kib $pid) nl=$(libs $pid) c0=$(cpu_ticks $pid)
  [ $mode = close ] && hdr=(-H 'Connection: close')
  BASE=$((BASE + 1000000))
  local line
  line=$(PERF_METHOD=POST PERF_PATH=/job/noop/buildWithParameters PERF_OK=201 PERF_AUTH="$AUTH" PERF_VARY=N PERF_BASE=$BASE \
    wrk -t1 -c32 -d5s --timeout 2s -s $P/count.lua "${hdr[@]}" http://127.0.0.1:$PORT | grep PERF_RESULT)
  local c1=$(cpu_ticks $pid) rss1=$(rss_kib $pid)
  if [ $name = nginx ]; then kill -QUIT $pid; else kill -TERM $pid; fi
  wait $CP
  local extra=$(grep -o 'items=[0-9]* batches=[0-9]*' $lg | tail -1 | tr ' ' ,)
  declare -A v; for kv in ${line#PERF_RESULT }; do v[${kv%%=*}]=${kv#*=}; done
  local hz=$(getconf CLK_TCK)
  local rate=$(awk -v o=${v[ok]} -v d=${v[dur_us]} 'BEGIN{printf "%.0f", o/(d/1e6)}')
  local cpu=$(awk -v a=$c0 -v b=$c1 -v o=${v[ok]} -v hz=$hz 'BEGIN{printf "%.1f", o?(b-a)*1e6/hz/o:0}')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' $r $name $mode ${v[ok]} ${v[other]} ${v[errors]} ${v[dur_us]} \
    $rate $cpu $rss0 $rss1 $nl $ms ${v[p50_us]} ${v[p99_us]} ${v[noloc]} "${extra:--}" | tee -a $OUT
  rm -f $W/*.db $W/*.db-wal $W/*.db-shm $lg
}

nginx_run() { # round mode
  local NW=$W/nginx; rm -rf $NW; mkdir -p $NW
  sed -e "s|@DIR@|$NW|g" -e "s|@PORT@|$PORT|g" $P/nginx.conf.in > $NW/nginx.conf
  run_one $1 nginx $2 nginx -e $NW/error.log -p $NW -c $NW/nginx.conf
}

for r in $(seq $ROUNDS); do
  for c in "$@"; do
    for mode in ka close; do
      PORT=$($PY $P/client.py freeport); nginx_run $r $mode
      PORT=$($PY $P/client.py freeport); DB=$W/q-$r-$c-$mode.db
      case $c in
        mhd2) run_one $r $c${TAG:-} $mode $D/mhd_trig $PORT $DB 2 ;;
        mhd8) run_one $r $c${TAG:-} $mode $D/mhd_trig $PORT $DB 8 ;;
        h2o1) run_one $r $c${TAG:-} $mode $D/h2o_trig $PORT $DB 1 ;;
        h2o2) run_one $r $c${TAG:-} $mode $D/h2o_trig $PORT $DB 2 ;;
      esac
    done
  done
done
