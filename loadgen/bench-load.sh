#!/usr/bin/env bash
# bench-load: the load generator's benchmark figures (loadgen/README.md).
# Runs everything on 127.0.0.1; the sink runs in its own process.
# Usage: loadgen/bench-load.sh   (from the repository root; FTPH_BENCH_QUICK=1 shortens the FTPS cases)
set -euo pipefail
BIN=$(mktemp -d)/ftpload
go build -o "$BIN" ./cmd/ftpload
PORT=${SINK_PORT:-2199}
"$BIN" sink --addr 127.0.0.1:$PORT --pasv-range 23000-31999 2>/dev/null &
SINK=$!
trap 'kill $SINK 2>/dev/null || true' EXIT
sleep 0.5
T=ftp://u:p@127.0.0.1:$PORT
J=$(mktemp -d)
mbps() { python3 -c "import json,sys;print('%.0f' % (json.load(open(sys.argv[1]))['totals']['throughput_bytes_per_s']/1e6))" "$1"; }

echo "== single-session RETR of 1 GiB (sink in another process)"
/usr/bin/time -f "%U %S" -o $J/t1 "$BIN" retr --target $T --size 1GiB --count 1 --sessions 1 --quiet --json $J/r1.json
c=$(curl -s -o /dev/null -w '%{speed_download}' $T/ftpload-1073741824.bin)
lg=$(mbps $J/r1.json); cu=$(python3 -c "print('%.0f' % ($c/1e6))")
echo "ftpload $lg MB/s, curl $cu MB/s, ratio $(python3 -c "print('%.2f' % ($lg/$cu))")"

echo "== 16 sessions x 256 MiB: ftpload vs 16 curl processes"
/usr/bin/time -f "%U %S" -o $J/t16 "$BIN" retr --target $T --size 256MiB --count 16 --sessions 16 --quiet --json $J/r16.json
lcpu=$(awk '{print $1+$2}' $J/t16)
start=$(date +%s.%N)
/usr/bin/time -f "%U %S" -o $J/c16 bash -c "for i in \$(seq 16); do curl -s -o /dev/null $T/ftpload-268435456.bin & done; wait"
end=$(date +%s.%N)
ccpu=$(awk '{print $1+$2}' $J/c16)
cmb=$(python3 -c "print('%.0f' % (16*268435456/($end-$start)/1e6))")
echo "ftpload $(mbps $J/r16.json) MB/s cpu ${lcpu}s; curl x16 $cmb MB/s cpu ${ccpu}s"

echo "== churn against the sink (cycles/s)"
"$BIN" churn --target $T --pasv-range 23000-31999 --sessions 16 --duration 5s --quiet --json $J/ch.json
python3 -c "import json;r=json.load(open('$J/ch.json'));print('%.0f cycles/s, p99 %.2f ms' % (r['totals']['rate_per_s'], r['latency']['p99_ms']))"

echo "== exhaust, 1000-port range, embedded ftpserverlib v0.32.3"
"$BIN" exhaust --pasv-range 22000-22999 --sessions 64 --quiet --json $J/ex.json
python3 -c "import json;e=json.load(open('$J/ex.json'))['exhaust'];print('capacity %d (busy before %d), %s, %.3fs to exhaust' % (e['capacity'], e['busy_before'], e['failure_mode'], e['time_to_exhaust_s']))"

echo "== RSS per held session (exhaust, 200 vs 8000 sessions over 4 source IPs)"
for n in 200 8000; do
  /usr/bin/time -f "%M" -o $J/m$n "$BIN" exhaust --target $T --pasv-range 23000-31999 --count $n --sessions 64 --source 127.0.0.2-127.0.0.5 --recovery-timeout 2s --quiet
done
python3 -c "a=int(open('$J/m200').read().split()[-1]);b=int(open('$J/m8000').read().split()[-1]);print('%.1f KiB per held session' % ((b-a)/7800))"

# FTPS: ftpload vs curl --ssl-reqd on ftpserverlib v0.32.3 and vsftpd (loadgen/bench-load-tls.sh)
kill $SINK 2>/dev/null || true
"$(dirname "$0")/bench-load-tls.sh" "$BIN"
