#!/usr/bin/env bash
# Capture one small workload with perf and ftrace at the same time, as the files beside this script:
#
#   tests/data/traces/capture.sh OUTDIR NAME -- COMMAND...
#   e.g. tests/data/traces/capture.sh tests/data/traces loopback-anon-file -- python3 tests/data/traces/capture_work.py /tmp/f
#
# Needs root, tracefs at /sys/kernel/tracing, perf and trace-cmd. COMMAND must stop itself (SIGSTOP) before its
# work and again after it: both tracers are set up while it is stopped the first time and stopped while it is
# stopped the second, so they see exactly its work -- not its start-up, nor its exit, whose frees perf's
# per-task events do not see. ftrace is filtered to COMMAND's pid, perf records that pid, and ftrace uses perf's
# clock: the two print the same events with the same clock (each stamps its own event, microseconds apart).
#
# trace-cmd record cannot run in this sandbox (it writes /proc/sys/kernel/ftrace_enabled, which is refused), so
# the events are enabled through tracefs and the buffer saved with `trace-cmd extract`. The trace.dat is kept
# as version 6, uncompressed then xz'd (`trace-cmd convert`: the same records; 0.7 MB instead of the 1.1 MB of
# the zstd version 7 that extract writes, nearly all of it the kernel's kallsyms that trace.dat carries).
set -euo pipefail
out=${1:?usage: capture.sh OUTDIR NAME -- COMMAND...}; name=${2:?usage: capture.sh OUTDIR NAME -- COMMAND...}
shift 2; [ "${1:-}" = "--" ] && shift
T=/sys/kernel/tracing
EVENTS="mm_page_alloc mm_page_free mm_page_free_batched mm_page_alloc_zone_locked mm_page_pcpu_drain"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
state() { awk '{print $3}' "/proc/$1/stat" 2>/dev/null || echo gone; }

"$@" &
W=$!
until [ "$(state $W)" = T ]; do sleep 0.05; done

old_clock=$(sed 's/.*\[\(.*\)\].*/\1/' $T/trace_clock)
echo 0 > $T/tracing_on
echo perf > $T/trace_clock
echo > $T/trace
echo $W > $T/set_event_pid
echo 1 > $T/options/stacktrace
for e in $EVENTS; do echo 1 > $T/events/kmem/$e/enable; done
echo 1 > $T/tracing_on
# shellcheck disable=SC2046
perf record -q -g -p $W -o "$tmp/$name.perf.data" $(for e in $EVENTS; do printf -- "-e kmem:%s " $e; done) &
P=$!
sleep 1
kill -CONT $W
sleep 0.2
until [ "$(state $W)" = T ]; do sleep 0.05; done
kill -TERM $P; wait $P || true
echo 0 > $T/tracing_on
for e in $EVENTS; do echo 0 > $T/events/kmem/$e/enable; done
echo 0 > $T/options/stacktrace
cp $T/trace "$tmp/$name.ftrace.txt"
trace-cmd extract -o "$tmp/extract.dat" > /dev/null 2>&1
echo > $T/set_event_pid
echo > $T/trace
echo "$old_clock" > $T/trace_clock
echo 1 > $T/tracing_on
kill -CONT $W; wait $W || true

perf script -i "$tmp/$name.perf.data" > "$tmp/$name.perf.txt"
trace-cmd report -i "$tmp/extract.dat" > "$tmp/$name.trace-cmd.txt"
trace-cmd convert --file-version 6 --compression none -i "$tmp/extract.dat" -o "$tmp/$name.trace.dat" > /dev/null 2>&1
trace-cmd report -i "$tmp/$name.trace.dat" | cmp -s - "$tmp/$name.trace-cmd.txt" || { echo "convert changed the report" >&2; exit 1; }
for f in perf.data perf.txt ftrace.txt trace-cmd.txt trace.dat; do
    xz -9e -c "$tmp/$name.$f" > "$out/$name.$f.xz"
done
ls -l "$out/$name".*.xz
