#!/usr/bin/env bash
# bench-load-tls: ftpload over FTPS side by side with curl on the same server
# in the same run (loadgen/README.md, "Benchmarks"). bench-load.sh runs it
# after the plain-FTP cases; alone: loadgen/bench-load-tls.sh [FTPLOAD_BINARY]
#
# Servers, each in its own process on 127.0.0.1:
#   ftpserverlib v0.32.3 with explicit TLS (ftpserve ftpserverlib --tls), always;
#   vsftpd (OpenSSL) with ssl_enable, started by hand here when this runs as
#   root and servers/ finds vsftpd: ftpserve vsftpd writes its accounts and
#   configuration, the TLS lines are added to a copy of it.
# FTPH_BENCH_QUICK=1: 256 MiB instead of 1 GiB, 16 x 64 MiB instead of 16 x 256 MiB.
# FTPH_BENCH_TLS_SERVERS="ftpserverlib vsftpd" picks the servers.
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

start_ftpserverlib() { # → HOSTPORT CA PRANGE
  "$W/ftpserve" ftpserverlib --tls --pasv-range 22000-22999 >"$W/fsl.out" 2>&1 &
  PIDS+=($!); waitfor "$W/fsl.out"
  HOSTPORT=$(field "$W/fsl.out" addr) CA=$(field "$W/fsl.out" tls-ca) PRANGE=22000-22999
}

start_vsftpd() { # → HOSTPORT CA PRANGE, or return 1
  [ "$(id -u)" = 0 ] || return 1
  local st=$W/vsftpd
  "$W/ftpserve" vsftpd --state-dir "$st" --pasv-range 23000-23099 >"$W/vs.out" 2>&1 &
  local p=$!; waitfor "$W/vs.out" || return 1
  kill -INT $p; wait $p 2>/dev/null || true
  local bin; bin=$(for d in "${FTPH_SERVERS_CACHE:-/var/cache/ftpharness/servers}/vsftpd/usr/sbin" /usr/sbin; do [ -x "$d/vsftpd" ] && echo "$d/vsftpd" && break; done)
  [ -n "$bin" ] || return 1
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$st/key.pem" -out "$st/cert.pem" 2>/dev/null
  local port=$((20990 + RANDOM % 9))
  mkdir -p "$st/root" && chown "$(field "$W/vs.out" user)" "$st/root"
  sed "s/^listen_port=.*/listen_port=$port/" "$st/vsftpd.conf" >"$st/tls.conf"
  # ssl_ciphers=HIGH: vsftpd's default (DES-CBC3-SHA) leaves Go's TLS 1.2 no suite;
  # TLS is optional for the session (ftp:// churn runs on the same server)
  printf '%s\n' ssl_enable=YES "rsa_cert_file=$st/cert.pem" "rsa_private_key_file=$st/key.pem" ssl_ciphers=HIGH \
    require_ssl_reuse=YES force_local_logins_ssl=NO force_local_data_ssl=NO >>"$st/tls.conf"
  "$bin" "$st/tls.conf" >"$st/out" 2>&1 &
  PIDS+=($!); sleep 0.5
  HOSTPORT=127.0.0.1:$port CA=$st/cert.pem PRANGE=23000-23099
}

bench_server() { # NAME
  local name=$1 u=ftpuser:ftppass J=$W/$1
  mkdir -p "$J"
  local T=ftpes://$u@$HOSTPORT C="curl -s --ssl-reqd --cacert $CA"
  "$BIN" retr --target "$T" --tls-ca "$CA" --size $BIG --count 1 --quiet --keep-files # upload once
  "$BIN" retr --target "$T" --tls-ca "$CA" --size $EACH --count 1 --quiet --keep-files

  echo "== [$name] FTPS RETR of $BIG, one session: ftpload vs curl (same server, same run)"
  /usr/bin/time -f "%U %S" -o "$J/t1" "$BIN" retr --target "$T" --tls-ca "$CA" --size $BIG --count 1 --sessions 1 --quiet --keep-files --json "$J/r1.json"
  /usr/bin/time -f "%U %S" -o "$J/c1" $C -o /dev/null -w '%{speed_download}' "ftp://$u@$HOSTPORT/ftpload-$BIGN.bin" >"$J/c1.speed"
  local lg cu; lg=$(tput_mb "$J/r1.json"); cu=$(py "print('%.0f' % ($(cat "$J/c1.speed")/1e6))")
  echo "ftpload $lg MB/s cpu $(cpu "$J/t1")s; curl $cu MB/s cpu $(cpu "$J/c1")s; ratio $(py "print('%.2f' % ($lg/$cu))")x MB/s at $(py "print('%.2f' % ($(cpu "$J/t1")/$(cpu "$J/c1")))")x CPU"

  echo "== [$name] FTPS 16 sessions x $EACH: ftpload vs 16 curl processes"
  /usr/bin/time -f "%U %S" -o "$J/t16" "$BIN" retr --target "$T" --tls-ca "$CA" --size $EACH --count 16 --sessions 16 --quiet --keep-files --json "$J/r16.json"
  local s e; s=$(date +%s.%N)
  /usr/bin/time -f "%U %S" -o "$J/c16" bash -c "for i in \$(seq 16); do $C -o /dev/null ftp://$u@$HOSTPORT/ftpload-$EACHN.bin & done; wait"
  e=$(date +%s.%N)
  local lg16 cu16; lg16=$(tput_mb "$J/r16.json"); cu16=$(py "print('%.0f' % (16*$EACHN/($e-$s)/1e6))")
  echo "ftpload $lg16 MB/s cpu $(cpu "$J/t16")s; curl x16 $cu16 MB/s cpu $(cpu "$J/c16")s; ratio $(py "print('%.2f' % ($lg16/$cu16))")x MB/s at $(py "print('%.2f' % ($(cpu "$J/t16")/$(cpu "$J/c16")))")x CPU"

  echo "== [$name] churn, 8 sessions, 5 s each: plain FTP vs FTPS (resumed) vs FTPS (full handshakes)"
  local k args
  for k in plain tls tls-noresume; do
    case $k in
      plain) args=(--target "ftp://$u@$HOSTPORT") ;;
      tls) args=(--target "$T" --tls-ca "$CA") ;;
      tls-noresume) args=(--target "$T" --tls-ca "$CA" --tls-resume=false) ;;
    esac
    "$BIN" churn "${args[@]}" --pasv-range "$PRANGE" --sessions 8 --duration 5s --quiet --json "$J/ch-$k.json" || true
  done
  py "
import json
def l(k): return json.load(open('$J/ch-%s.json' % k))
p = l('plain')
for k in ('plain', 'tls', 'tls-noresume'):
    r = l(k); t = r['totals']; ph = r['phases']; tl = r.get('tls') or {}
    hs = ph.get('data-tls-handshake', {}).get('p50_ms', 0)
    errs = ','.join('%s=%d' % (e['class'], e['count']) for e in (r['errors'] or [])) or 'none'
    res = ' resumed %.0f%%' % (100 * tl['resumption_rate']) if tl.get('data_handshakes') else ''
    extra = '' if k == 'plain' else '  (+%.2f ms per cycle at p50)' % (r['latency']['p50_ms'] - p['latency']['p50_ms'])
    print('%-13s %6.0f cycles/s  p50 %.2f ms%s  data handshake p50 %.2f ms%s  errors %s' % (k, t['rate_per_s'], r['latency']['p50_ms'], extra, hs, res, errs))
"

  echo "== [$name] exhaust over plain FTP and FTPS (same server and range)"
  for k in plain tls; do
    case $k in plain) args=(--target "ftp://$u@$HOSTPORT") ;; tls) args=(--target "$T" --tls-ca "$CA") ;; esac
    "$BIN" exhaust "${args[@]}" --pasv-range "$PRANGE" --sessions 32 --recovery-timeout 5s --quiet --json "$J/ex-$k.json" || true
    py "import json;e=json.load(open('$J/ex-$k.json'))['exhaust'];print('%-5s capacity %d (busy before %d), %s, %.3fs to exhaust' % ('$k', e['capacity'], e['busy_before'], e['failure_mode'], e['time_to_exhaust_s']))"
  done
}

for s in ${FTPH_BENCH_TLS_SERVERS:-ftpserverlib vsftpd}; do
  if start_"$s"; then bench_server "$s"; else echo "== [$s] skipped (needs root and vsftpd installed: scripts/install-servers)"; fi
done
