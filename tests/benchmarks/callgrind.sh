#!/bin/bash
# callgrind.sh: instructions per event, app side and worker side, for mpel's
# pipelined add (i, 1), for the fair bound and for the old raw loop beside it. Instruction
# counts are stable where timings are not.
#
#   tests/benchmarks/callgrind.sh [BUILDDIR]     (default: build)
#
# Each case runs twice, with N1 and N2 events (env N1, N2; default 10000 and
# 50000), and reports (Ir(N2) - Ir(N1)) / (N2 - N1): the start-up, module
# loading and tear-down cancel out. The mpel worker runs under callgrind too,
# through a wrapper named by MPEL_WORKER. Optional: not part of meson test.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
n1=${N1:-10000}
n2=${N2:-50000}

worker=$build/mpel/mpel-worker
module=$build/tests/mpel-test-module.so
bench_mpel=$build/tests/benchmarks/bench-mpel
bench_raw=$build/tests/benchmarks/bench-raw
bench_bound=$build/tests/benchmarks/bench-bound

for f in "$worker" "$module" "$bench_mpel" "$bench_raw" "$bench_bound"; do
  [ -e "$f" ] || { echo "callgrind.sh: $f is missing: build first (meson compile -C $build)" >&2; exit 2; }
done
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is not installed" >&2; exit 77; }
command -v flock >/dev/null || { echo "callgrind.sh: flock (util-linux) is not installed" >&2; exit 77; }

out=$(mktemp -d "${TMPDIR:-/tmp}/mpel-callgrind.XXXXXX")
if [ -n "${KEEP:-}" ]; then
  echo "callgrind.sh: profiles kept in $out" >&2
else
  trap 'rm -rf "$out"' EXIT
fi

# The worker wrapper: holds a lock while the worker (under callgrind) lives,
# so that we can wait, with a deadline, for its profile to be written.
cat > "$out/worker.sh" <<EOF
#!/bin/sh
exec 9>"\$CG_DIR/worker.lock"
flock -x 9
exec valgrind --quiet --log-file="\$CG_DIR/worker.log" --tool=callgrind --callgrind-out-file="\$CG_DIR/worker.out" "$worker" "\$@"
EOF
chmod +x "$out/worker.sh"

ir() {
  # The total instruction count in a callgrind profile.
  awk '/^(summary|totals):/ { print $2; exit }' "$1"
}

run_mpel() {
  local n=$1 dir=$out/mpel-$1
  mkdir -p "$dir"
  CG_DIR=$dir MPEL_WORKER=$out/worker.sh MPEL_TEST_MODULE=$module \
    LD_LIBRARY_PATH=$build/mpel${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
    timeout 1800 valgrind --quiet --log-file="$dir/app.log" --tool=callgrind --callgrind-out-file="$dir/app.out" \
      "$bench_mpel" --pipelined-only "$n" > "$dir/result.json"
  # The worker exits at EOF; its profile is written when it has.
  flock -w 300 "$dir/worker.lock" true
  [ -s "$dir/worker.out" ] || { echo "callgrind.sh: no worker profile for N=$n" >&2; exit 1; }
  echo "$(ir "$dir/app.out") $(ir "$dir/worker.out")"
}

run_forked() {
  # $1: a name, $2: N, then the program and its options.
  local name=$1 n=$2 dir=$out/$1-$2 pid
  shift 2
  mkdir -p "$dir"
  # callgrind follows the fork: one profile per process, named by pid.
  # No timeout(1) here: $! must be valgrind's pid, which names the parent's
  # profile. bench-raw has a deadline of its own (alarm).
  valgrind --quiet --log-file="$dir/log" --tool=callgrind --callgrind-out-file="$dir/cg.%p" \
    "$@" --pipelined-only "$n" > "$dir/result.json" &
  pid=$!
  wait "$pid"
  local app=$dir/cg.$pid child
  child=$(ls "$dir"/cg.* | grep -v "cg.$pid\$" | head -n1)
  echo "$(ir "$app") $(ir "$child")"
}

per_event() {
  awk -v a="$1" -v b="$2" -v n1="$n1" -v n2="$n2" 'BEGIN { printf "%.0f", (b - a) / (n2 - n1) }'
}

echo "callgrind: N1=$n1 N2=$n2 (this takes a few minutes)" >&2
read -r m_app1 m_wrk1 < <(run_mpel "$n1")
read -r m_app2 m_wrk2 < <(run_mpel "$n2")
read -r r_app1 r_wrk1 < <(run_forked raw "$n1" "$bench_raw")
read -r r_app2 r_wrk2 < <(run_forked raw "$n2" "$bench_raw")
read -r b_app1 b_wrk1 < <(run_forked bound "$n1" "$bench_bound")
read -r b_app2 b_wrk2 < <(run_forked bound "$n2" "$bench_bound")

m_app=$(per_event "$m_app1" "$m_app2")
m_wrk=$(per_event "$m_wrk1" "$m_wrk2")
r_app=$(per_event "$r_app1" "$r_app2")
r_wrk=$(per_event "$r_wrk1" "$r_wrk2")
b_app=$(per_event "$b_app1" "$b_app2")
b_wrk=$(per_event "$b_wrk1" "$b_wrk2")

cat <<EOF
Instructions per pipelined add (i, 1) event (callgrind Ir, (N2 - N1) = $((n2 - n1)) events):

| | app side | worker side |
|---|---:|---:|
| fair bound (blocking) | $b_app | $b_wrk |
| old raw loop | $r_app | $r_wrk |
| mpel | $m_app | $m_wrk |
| mpel / fair bound | $(awk -v a="$m_app" -v b="$b_app" 'BEGIN { printf "%.2f", a / b }') | $(awk -v a="$m_wrk" -v b="$b_wrk" 'BEGIN { printf "%.2f", a / b }') |
EOF

# Where the instructions go, for the N2 runs (self cost, top 12).
if command -v callgrind_annotate >/dev/null; then
  for side in app worker; do
    echo
    echo "mpel $side, N=$n2, top functions by self cost:"
    echo '```'
    callgrind_annotate --threshold=100 "$out/mpel-$n2/$side.out" 2>/dev/null |
      awk '/PROGRAM TOTALS/ { print } /file:function/ { f = 1; next } f && NF && !/^-/ { print; if (++n == 12) exit }' ||
      true  # awk leaving early is SIGPIPE for callgrind_annotate
    echo '```'
  done
fi
