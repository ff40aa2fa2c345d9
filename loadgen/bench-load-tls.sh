#!/usr/bin/env bash
# bench-load-tls: ftpload over FTPS side by side with curl on the same server
# in the same run (loadgen/README.md, "Benchmarks"). bench-load.sh runs it
# after the plain-FTP cases; alone: loadgen/bench-load-tls.sh [FTPLOAD_BINARY]
#
# Servers, each in its own process on 127.0.0.1:
#   ftpserverlib v0.32.3 with explicit TLS (ftpserve ftpserverlib --tls), always;
#   vsftpd (OpenSSL) with ssl_enable (ftpserve vsftpd --tls) when servers/
#   finds vsftpd (it runs as root).
# FTPH_BENCH_QUICK=1: 256 MiB instead of 1 GiB, 16 x 64 MiB instead of 16 x 256 MiB.
# FTPH_BENCH_TLS_SERVERS="ftpserverlib vsftpd" picks the servers.
# FTPH_BENCH_ROUNDS=5 (one session) and FTPH_BENCH_ROUNDS16=3 (16 sessions):
# ftpload and curl alternate which goes first, round after round, and the
# verdicts compare medians (the machine's load moves MB/s by ±50% from one
# run to the next; a lone pair proves nothing). Every client run is
# bounded (FTPH_BENCH_RUN_TIMEOUT=300 s); a run that fails or times out
# is left out of the medians and said so.
set -euo pipefail
W=$(mktemp -d)
BIN=${1:-}
if [ -z "$BIN" ]; then BIN=$W/ftpload; go build -o "$BIN" ./cmd/ftpload; fi
go build -o "$W/ftpserve" ./cmd/ftpserve
BIG=1GiB BIGN=1073741824 EACH=256MiB EACHN=268435456
if [ -n "${FTPH_BENCH_QUICK:-}" ]; then BIG=256MiB BIGN=268435456 EACH=64MiB EACHN=67108864; fi
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$W" || true' EXIT

# field FILE NAME: a line "name: value" of ftpserve's output
field() { awk -v k="$2:" '$1==k {print $2}' "$1"; }
# waitfor FILE: until ftpserve printed its target (30 s at most)
waitfor() { for _ in $(seq 300); do grep -q '^running' "$1" 2>/dev/null && return 0; sleep 0.1; done; cat "$1" >&2; return 1; }
py() { python3 -c "$@"; }
tput_mb() { py "import json,sys;r=json.load(open(sys.argv[1]));print('%.0f' % (r['totals']['throughput_bytes_per_s']/1e6))" "$1"; }
cpu() { awk '{printf "%.2f", $1+$2}' "$1"; }
ROUNDS=${FTPH_BENCH_ROUNDS:-5} ROUNDS16=${FTPH_BENCH_ROUNDS16:-3} RUNMAX=${FTPH_BENCH_RUN_TIMEOUT:-300}
# timed OUT CMD...: CMD bounded by RUNMAX, its user+sys CPU into OUT.t
timed() { local o=$1; shift; /usr/bin/time -f "%U %S" -o "$o.t" timeout "$RUNMAX" "$@"; }
# sample FILE MBPS CPUFILE: one "MB/s CPU-s" line (nothing if the run failed)
sample() { if [ -n "$2" ] && [ -s "$3" ]; then echo "$2 $(cpu "$3")" >>"$1"; else echo "  (a run failed or timed out: left out)"; fi; }
# verdict LABEL FTPLOAD CURL MIN_MBPS_RATIO MAX_CPU_RATIO: medians, spread, ratio of medians
verdict() {
  py "
import statistics as st, sys
label, a, b, want_mb, want_cpu = sys.argv[1:6]
def load(f):
    try: return [tuple(map(float, l.split())) for l in open(f) if l.strip()]
    except FileNotFoundError: return []
A, B = load(a), load(b)
if not A or not B:
    print('verdict %s: no figures (runs failed)' % label); sys.exit()
def show(name, S):
    m, c = [x[0] for x in S], [x[1] for x in S]
    return '%s MB/s median %.0f (%.0f-%.0f), CPU median %.2f s (%.2f-%.2f), n=%d' % (name, st.median(m), min(m), max(m), st.median(c), min(c), max(c), len(S))
print('  ' + show('ftpload', A)); print('  ' + show('curl   ', B))
mb = st.median(x[0] for x in A) / st.median(x[0] for x in B)
cpu = st.median(x[1] for x in A) / st.median(x[1] for x in B)
ok = mb >= float(want_mb) and cpu <= float(want_cpu)
print('verdict %s: %.2fx MB/s (goal >= %sx) at %.2fx CPU (goal <= %sx), ratio of medians: %s' % (label, mb, want_mb, cpu, want_cpu, 'met' if ok else 'NOT met'))
" "$@"
}

start_ftpserverlib() { # → HOSTPORT CA PRANGE
  "$W/ftpserve" ftpserverlib --tls --pasv-range 22000-22999 >"$W/fsl.out" 2>&1 &
  PIDS+=($!); waitfor "$W/fsl.out"
  HOSTPORT=$(field "$W/fsl.out" addr) CA=$(field "$W/fsl.out" tls-ca) PRANGE=22000-22999
}

start_vsftpd() { # → HOSTPORT CA PRANGE, or return 1 (no vsftpd here)
  # servers/ starts vsftpd's FTPS variant (ssl_enable, ssl_ciphers=HIGH,
  # require_ssl_reuse at its default; TLS optional, so ftp:// churn runs on
  # the same server)
  "$W/ftpserve" vsftpd --tls --pasv-range 23000-23099 >"$W/vs.out" 2>&1 &
  PIDS+=($!); waitfor "$W/vs.out" || return 1
  HOSTPORT=$(field "$W/vs.out" addr) CA=$(field "$W/vs.out" tls-ca) PRANGE=23000-23099
}

bench_server() { # NAME
  local name=$1 u=ftpuser:ftppass J=$W/$1
  mkdir -p "$J"
  local T=ftpes://$u@$HOSTPORT C="curl -s --ssl-reqd --cacert $CA"
  "$BIN" retr --target "$T" --tls-ca "$CA" --size $BIG --count 1 --quiet --keep-files --json "$J/up.json" # upload once
  "$BIN" retr --target "$T" --tls-ca "$CA" --size $EACH --count 1 --quiet --keep-files

  # like with like: curl on the cipher suite ftpload's data connections
  # negotiated (Go's client prefers AES-128-GCM with AES hardware, curl's
  # OpenSSL AES-256-GCM, which costs both ends more)
  local suite; suite=$(py "import json;print(' '.join(json.load(open('$J/up.json'))['tls'].get('suites', {})))")
  case $suite in "TLS 1.3 "*) C="$C --tls13-ciphers ${suite#TLS 1.3 }" ;; esac
  echo "== [$name] data connections: ftpload ${suite:-?}; curl $($C -v -o /dev/null "ftp://$u@$HOSTPORT/" 2>&1 | awk '/SSL connection using/ {s=$0} END {sub(/.*using /, "", s); print s}')"

  echo "== [$name] FTPS RETR of $BIG, one session: ftpload vs curl (same server, $ROUNDS rounds, alternating who goes first)"
  local i k mb
  for i in $(seq "$ROUNDS"); do
    for k in $( ((i % 2)) && echo "ftpload curl" || echo "curl ftpload"); do
      rm -f "$J/1.t" "$J/r1.json"
      if [ $k = ftpload ]; then
        mb=
        timed "$J/1" "$BIN" retr --target "$T" --tls-ca "$CA" --size $BIG --count 1 --sessions 1 --quiet --keep-files --json "$J/r1.json" &&
          mb=$(tput_mb "$J/r1.json")
      else
        mb=$(timed "$J/1" $C -o /dev/null -w '%{speed_download}' "ftp://$u@$HOSTPORT/ftpload-$BIGN.bin") &&
          mb=$(py "print('%.0f' % ($mb/1e6))") || mb=
      fi
      sample "$J/s1-$k" "$mb" "$J/1.t"
    done
  done
  verdict "[$name] RETR $BIG, one session" "$J/s1-ftpload" "$J/s1-curl" 1.0 1.0

  echo "== [$name] FTPS 16 sessions x $EACH: ftpload vs 16 curl processes ($ROUNDS16 rounds, alternating)"
  local s e
  for i in $(seq "$ROUNDS16"); do
    for k in $( ((i % 2)) && echo "ftpload curl" || echo "curl ftpload"); do
      rm -f "$J/16.t" "$J/r16.json"
      if [ $k = ftpload ]; then
        mb=
        timed "$J/16" "$BIN" retr --target "$T" --tls-ca "$CA" --size $EACH --count 16 --sessions 16 --quiet --keep-files --json "$J/r16.json" &&
          mb=$(tput_mb "$J/r16.json")
      else
        # curl's exit status is lost in the background: wait's is the last one's
        mb= s=$(date +%s.%N)
        timed "$J/16" bash -c "st=0; for i in \$(seq 16); do $C -o /dev/null ftp://$u@$HOSTPORT/ftpload-$EACHN.bin & done; for j in \$(jobs -p); do wait \$j || st=1; done; exit \$st" &&
          e=$(date +%s.%N) && mb=$(py "print('%.0f' % (16*$EACHN/($e-$s)/1e6))")
      fi
      sample "$J/s16-$k" "$mb" "$J/16.t"
    done
  done
  verdict "[$name] 16 sessions x $EACH" "$J/s16-ftpload" "$J/s16-curl" 1.0 0.5

  echo "== [$name] churn, 8 sessions, 5 s each: plain FTP vs FTPS (resumed) vs FTPS (full handshakes)"
  local args
  for k in plain tls tls-noresume; do
    case $k in
      plain) args=(--target "ftp://$u@$HOSTPORT") ;;
      tls) args=(--target "$T" --tls-ca "$CA") ;;
      tls-noresume) args=(--target "$T" --tls-ca "$CA" --tls-resume=false) ;;
    esac
    timeout "$RUNMAX" "$BIN" churn "${args[@]}" --pasv-range "$PRANGE" --sessions 8 --duration 5s --quiet --json "$J/ch-$k.json" || true
  done
  py "
import json
def l(k):
    try: return json.load(open('$J/ch-%s.json' % k))
    except (OSError, ValueError): return None
p = l('plain')
for k in ('plain', 'tls', 'tls-noresume'):
    r = l(k)
    if r is None or p is None:
        print('%-13s no report (the run failed)' % k); continue
    t = r['totals']; ph = r['phases']; tl = r.get('tls') or {}
    hs = ph.get('data-tls-handshake', {}).get('p50_ms', 0)
    errs = ','.join('%s=%d' % (e['class'], e['count']) for e in (r['errors'] or [])) or 'none'
    res = ' resumed %.0f%%' % (100 * tl['resumption_rate']) if tl.get('data_handshakes') else ''
    extra = '' if k == 'plain' else '  (+%.2f ms per cycle at p50)' % (r['latency']['p50_ms'] - p['latency']['p50_ms'])
    print('%-13s %6.0f cycles/s  p50 %.2f ms%s  data handshake p50 %.2f ms%s  errors %s' % (k, t['rate_per_s'], r['latency']['p50_ms'], extra, hs, res, errs))
    if k != 'plain' and t['errors'] > t['ok']:
        print('verdict [$name] churn %s vs plain: no price, most cycles failed (errors %s)' % (k, errs))
    elif k != 'plain':
        print('verdict [$name] churn %s vs plain: %.2fx the cycles/s, +%.2f ms per passive cycle at p50 (a price, no goal)%s' % (
            k, t['rate_per_s'] / max(p['totals']['rate_per_s'], 1e-9), r['latency']['p50_ms'] - p['latency']['p50_ms'],
            '' if errs == 'none' else '; errors ' + errs))
"

  echo "== [$name] exhaust over plain FTP and FTPS (same server and range)"
  for k in plain tls; do
    case $k in plain) args=(--target "ftp://$u@$HOSTPORT") ;; tls) args=(--target "$T" --tls-ca "$CA") ;; esac
    timeout "$RUNMAX" "$BIN" exhaust "${args[@]}" --pasv-range "$PRANGE" --sessions 32 --recovery-timeout 5s --quiet --json "$J/ex-$k.json" || true
  done
  py "
import json
def l(k):
    try: return json.load(open('$J/ex-%s.json' % k))['exhaust']
    except (OSError, ValueError, KeyError): return None
e = {k: l(k) for k in ('plain', 'tls')}
for k, x in e.items():
    print('%-5s ' % k + ('capacity %d (busy before %d), %s, %.3fs to exhaust' % (x['capacity'], x['busy_before'], x['failure_mode'], x['time_to_exhaust_s']) if x else 'no report (the run failed)'))
if e['plain'] and e['tls']:
    a, b = e['tls']['capacity'], e['plain']['capacity']
    print('verdict [$name] exhaust: FTPS capacity %d vs plain %d: %s' % (a, b, 'the same (met)' if a == b else 'NOT the same (differs by %d)' % (a - b)))
else:
    print('verdict [$name] exhaust: no figures (a run failed)')
"
}

for s in ${FTPH_BENCH_TLS_SERVERS:-ftpserverlib vsftpd}; do
  if start_"$s"; then bench_server "$s"; else echo "== [$s] skipped (needs root and vsftpd installed: scripts/install-servers)"; fi
done
