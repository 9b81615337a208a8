#!/usr/bin/env bash
# run-suite.sh builds the load generator, forge's benchmark server
# (examples/bench, from the main module one directory up) and the peer
# servers, then runs every scenario against each server in turn, a fresh
# server process per scenario, and prints a markdown table. Loopback only;
# every step is bounded.
#
#   ./run-suite.sh                         # full profile (~160 s on a quiet 2-core box)
#   PROFILE=smoke ./run-suite.sh           # CI-sized (< 60 s with cached builds)
#   SERVERS="gorilla forge" ./run-suite.sh # subset of: tcp gorilla forge melody gws coder
#
# Another server can run in the same suite as the peers:
#   TARGET_CMD="/path/to/server -addr 127.0.0.1:18100" \
#   TARGET_URL="ws://127.0.0.1:18100" [TARGET_NAME=ours] \
#   [TARGET_ECHO_PATH=/ws/echo] [TARGET_ROOM_PATH=/ws/room] \
#   [TARGET_STATS_URL=http://127.0.0.1:18100/stats] ./run-suite.sh
# TARGET_CMD is started with `exec` so its PID is the server's own (give a
# built binary, not `go run`, or the RSS/CPU figures are the go tool's).
#
# Knobs (env, defaults per profile below): ECHO_CONNS ECHO_MSGS SIZE PIPE_DEPTH
# PIPE_MSGS BC_SUBS BC_RATE BC_MSGS BC_PUBS BURST_RATE BURST_MSGS (0 = skip the
# burst run: BC_SUBS subscribers, BURST_MSGS published at BURST_RATE/s, far
# beyond what 2 cores deliver, so per-connection queues overflow and each
# server's slow-consumer policy shows as loss) IDLE_CONNS CLIENT (gobwas|gorilla)
# PIN=1 (server on CPU 0, load generator on CPU 1) BASE_PORT OUT_DIR SKIP_BUILD=1
# NOISY_CORES (0.15) NOISY_RETRIES (2) QUIET_WAIT (60) NOISY_BUDGET (240): a run
# during which other processes used more CPU than NOISY_CORES is set aside and
# retried once quiet; all retries together get at most NOISY_BUDGET seconds.
set -uo pipefail

cd "$(dirname "$0")"
BENCH=$PWD
BIN=$BENCH/bin
PROFILE=${PROFILE:-full}

case "$PROFILE" in
full)
	: "${ECHO_CONNS:=64}" "${ECHO_MSGS:=500000}" "${SIZE:=64}"
	: "${PIPE_DEPTH:=32}" "${PIPE_MSGS:=500000}"
	: "${BC_SUBS:=1000}" "${BC_RATE:=100}" "${BC_MSGS:=1000}" "${BC_PUBS:=1}"
	: "${BURST_RATE:=1000}" "${BURST_MSGS:=500}"
	: "${IDLE_CONNS:=10000}" "${IDLE_HOLD:=2s}"
	;;
smoke)
	: "${ECHO_CONNS:=64}" "${ECHO_MSGS:=60000}" "${SIZE:=64}"
	: "${PIPE_DEPTH:=32}" "${PIPE_MSGS:=60000}"
	: "${BC_SUBS:=500}" "${BC_RATE:=100}" "${BC_MSGS:=200}" "${BC_PUBS:=1}"
	: "${BURST_RATE:=1000}" "${BURST_MSGS:=0}"
	: "${IDLE_CONNS:=2000}" "${IDLE_HOLD:=1s}"
	;;
*)
	echo "PROFILE must be full or smoke" >&2
	exit 2
	;;
esac
: "${CLIENT:=gobwas}" "${BASE_PORT:=19170}" "${PIN:=0}"
: "${DRAIN_MAX:=20s}" # broadcast: wait at most this long after the last publish
: "${NOISY_CORES:=0.15}" "${NOISY_RETRIES:=2}" "${QUIET_WAIT:=60}" "${NOISY_BUDGET:=240}" # shared-machine guard
NOISY_SPENT=0
: "${SERVERS=tcp gorilla forge melody gws coder}" # SERVERS="" + TARGET_CMD: target only
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT_DIR=${OUT_DIR:-$BENCH/results/$STAMP-$PROFILE}
mkdir -p "$OUT_DIR"
RESULTS=$OUT_DIR/results.jsonl
: >"$RESULTS"

# Hard ceilings so nothing can run away (seconds).
SCEN_TIMEOUT=150 # one loadgen invocation
START_WAIT=30s   # server start-up

# The servers hold IDLE_CONNS sockets (and loadgen raises its own limit):
# lift the hard limit too when that is allowed (root), then the soft one.
need_fds=$((IDLE_CONNS + 4096))
if [[ "$(ulimit -Hn)" != unlimited && "$(ulimit -Hn)" -lt $need_fds ]]; then
	ulimit -Hn "$need_fds" 2>/dev/null || true
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# ------------------------------------------------------------------ build ---
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
	log "building loadgen, benchreport, forge and the peers into $BIN"
	mkdir -p "$BIN"
	go build -o "$BIN/loadgen" ./cmd/loadgen || exit 1
	go build -o "$BIN/benchreport" ./cmd/benchreport || exit 1
	for p in gorilla melody gws coder tcpecho; do
		go build -o "$BIN/peer-$p" "./peers/$p" || exit 1
	done
	# forge's server is examples/bench of the main module, built from the
	# working tree: the suite measures the code next to it.
	(cd .. && go build -o "$BIN/peer-forge" ./examples/bench) || exit 1
fi

# --------------------------------------------------------------- helpers ---
SERVER_PID=""

host_busy() { # machine-wide busy cores over 1 s (everything but idle+iowait)
	local a b
	read -r _ a1 a2 a3 a4 a5 a6 a7 a8 _ </proc/stat
	sleep 1
	read -r _ b1 b2 b3 b4 b5 b6 b7 b8 _ </proc/stat
	a=$((a1 + a2 + a3 + a6 + a7 + a8))
	b=$((b1 + b2 + b3 + b6 + b7 + b8))
	awk -v d=$((b - a)) 'BEGIN{printf "%.2f", d/100}'
}

port_in_use() { ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }

# pid_owns_port pid port: the listening socket belongs to pid (never measure
# someone else's server that happens to sit on the port)
pid_owns_port() { ss -ltnpH "sport = :$2" 2>/dev/null | grep -q "pid=$1,"; }

free_port() { # first free port at or above $1
	local p=$1
	while port_in_use "$p"; do p=$((p + 1)); done
	echo "$p"
}

start_server() { # name port
	local name=$1 port=$2 logf=$OUT_DIR/server-$1.log
	local pin=()
	if port_in_use "$port"; then
		log "port $port is already in use by another process; not starting $name"
		return 1
	fi
	[[ "$PIN" == 1 ]] && pin=(taskset -c 0)
	if [[ "$name" == "$TARGET_NAME_" ]]; then
		"${pin[@]}" bash -c "exec $TARGET_CMD" >>"$logf" 2>&1 &
	elif [[ "$name" == tcp ]]; then
		"${pin[@]}" "$BIN/peer-tcpecho" -addr "127.0.0.1:$port" >>"$logf" 2>&1 &
	else
		"${pin[@]}" "$BIN/peer-$name" -addr "127.0.0.1:$port" >>"$logf" 2>&1 &
	fi
	SERVER_PID=$!
	if ! "$BIN/loadgen" -scenario wait -url "tcp://127.0.0.1:$port" -duration "$START_WAIT" 2>>"$logf" ||
		! kill -0 "$SERVER_PID" 2>/dev/null || ! pid_owns_port "$SERVER_PID" "$port"; then
		log "$name (pid $SERVER_PID) is not the process listening on $port; see $logf"
		stop_server
		return 1
	fi
	sleep 0.3 # let start-up work (banners, DI, first GC) settle before baselines
}

stop_server() {
	[[ -z "$SERVER_PID" ]] && return 0
	kill -TERM "$SERVER_PID" 2>/dev/null
	for _ in $(seq 1 50); do
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$SERVER_PID" 2>/dev/null
	wait "$SERVER_PID" 2>/dev/null
	SERVER_PID=""
}
trap 'stop_server; exit 130' INT TERM

run_lg() { # name tag args... : one loadgen run; prints exactly one JSON line
	local name=$1 tag=$2
	shift 2
	local pin=() out rc
	[[ "$PIN" == 1 ]] && pin=(taskset -c 1)
	out=$(timeout -k 5 "$SCEN_TIMEOUT" "${pin[@]}" "$BIN/loadgen" -label "$name" -tag "$tag" -client "$CLIENT" "$@" 2>>"$OUT_DIR/loadgen.log")
	rc=$?
	if [[ -n "$out" ]]; then
		printf '%s\n' "$out"
	else
		printf '{"label":"%s","tag":"%s","ok":false,"error":"loadgen exited %s without output"}\n' "$name" "$tag" "$rc"
	fi
	tail -n 1 "$OUT_DIR/loadgen.log" >&2
}

# foreign_of JSON-line: CPU cores other processes used during the run (0 if absent)
foreign_of() {
	local f
	f=$(grep -o '"foreign_cores":[-0-9.]*' <<<"$1" | cut -d: -f2)
	echo "${f:-0}"
}

wait_quiet() { # up to QUIET_WAIT seconds for the box to go quiet (< 0.2 busy cores)
	local t0=$SECONDS b
	while ((SECONDS - t0 < QUIET_WAIT)); do
		b=$(host_busy)
		awk -v b="$b" 'BEGIN{exit !(b < 0.2)}' && return 0
	done
	log "machine still busy after ${QUIET_WAIT}s; going on"
}

# scenario name tag port loadgen-args...: fresh server, one run, stop. A run
# during which other processes used more than NOISY_CORES is kept aside in
# noisy.jsonl and retried (NOISY_RETRIES times) once the machine is quiet.
scenario() {
	local name=$1 tag=$2 port=$3
	shift 3
	local try line f t0
	for ((try = 0; try <= NOISY_RETRIES; try++)); do
		t0=$SECONDS
		if ! start_server "$name" "$port"; then
			line=$(printf '{"label":"%s","tag":"%s","ok":false,"error":"server did not start"}' "$name" "$tag")
			break
		fi
		line=$(run_lg "$name" "$tag" -pid "$SERVER_PID" "$@")
		stop_server
		f=$(foreign_of "$line")
		if ((try < NOISY_RETRIES && NOISY_SPENT < NOISY_BUDGET)) &&
			awk -v f="$f" -v n="$NOISY_CORES" 'BEGIN{exit !(f > n)}'; then
			printf '%s\n' "$line" >>"$OUT_DIR/noisy.jsonl"
			log "$name/$tag: other processes used $f cores during the run; retrying when quiet"
			wait_quiet
			NOISY_SPENT=$((NOISY_SPENT + SECONDS - t0))
			continue
		fi
		break
	done
	printf '%s\n' "$line" >>"$RESULTS"
}

# ------------------------------------------------------------------ suite ---
TARGET_NAME_=""
if [[ -n "${TARGET_CMD:-}" ]]; then
	: "${TARGET_URL:?TARGET_URL (ws://127.0.0.1:PORT) is required with TARGET_CMD}"
	TARGET_NAME_=${TARGET_NAME:-target}
	SERVERS="$SERVERS $TARGET_NAME_"
fi

cat >"$OUT_DIR/meta.json" <<EOF
{"stamp":"$STAMP","profile":"$PROFILE","client":"$CLIENT","pin":"$PIN",
 "servers":"$(echo $SERVERS)","kernel":"$(uname -r)","cpus":$(nproc),
 "cpu_model":"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)",
 "go":"$(go version 2>/dev/null | awk '{print $3}')",
 "forge_commit":"$(git -C .. describe --always --dirty 2>/dev/null)",
 "echo":{"conns":$ECHO_CONNS,"msgs":$ECHO_MSGS,"size":$SIZE},
 "pipe":{"conns":1,"depth":$PIPE_DEPTH,"msgs":$PIPE_MSGS,"size":$SIZE},
 "broadcast":{"subs":$BC_SUBS,"pubs":$BC_PUBS,"rate":$BC_RATE,"msgs":$BC_MSGS,"size":$SIZE},
 "burst":{"subs":$BC_SUBS,"pubs":1,"rate":$BURST_RATE,"msgs":$BURST_MSGS,"size":$SIZE},
 "idle":{"conns":$IDLE_CONNS,"hold":"$IDLE_HOLD"}}
EOF

log "profile=$PROFILE servers: $SERVERS -> $OUT_DIR"
SUITE_T0=$(date +%s)
next_port=$BASE_PORT
for name in $SERVERS; do
	if [[ "$name" == "$TARGET_NAME_" ]]; then
		hp=${TARGET_URL#ws://}
		hp=${hp%%/*}
		port=${hp##*:}
	else
		port=$(free_port "$next_port")
		next_port=$((port + 1))
	fi
	busy=$(host_busy)
	log "== $name (port $port); host busy before start: $busy cores"
	awk -v b="$busy" 'BEGIN{exit !(b > 0.3)}' && log "WARNING: the machine is busy with something else ($busy cores); figures will be noisy"
	printf '{"label":"%s","tag":"host","ok":true,"host_busy_before":%s}\n' "$name" "$busy" >>"$RESULTS"

	if [[ "$name" == tcp ]]; then
		url=tcp://127.0.0.1:$port
		scenario tcp echo "$port" -scenario tcp-echo -url "$url" -conns "$ECHO_CONNS" -msgs "$ECHO_MSGS" -size "$SIZE" -duration 60s
		scenario tcp pipe "$port" -scenario tcp-echo -url "$url" -conns 1 -pipeline "$PIPE_DEPTH" -msgs "$PIPE_MSGS" -size "$SIZE" -duration 60s
		continue
	fi
	if [[ "$name" == "$TARGET_NAME_" ]]; then
		echo_url=ws://$hp${TARGET_ECHO_PATH:-/echo}
		room_url=ws://$hp${TARGET_ROOM_PATH:-/room}
		stats_url=${TARGET_STATS_URL:-}
	else
		echo_url=ws://127.0.0.1:$port/echo
		room_url=ws://127.0.0.1:$port/room
		stats_url=http://127.0.0.1:$port/stats
	fi
	scenario "$name" echo "$port" -scenario echo -url "$echo_url" -conns "$ECHO_CONNS" -msgs "$ECHO_MSGS" -size "$SIZE" -duration 60s
	scenario "$name" pipe "$port" -scenario echo -url "$echo_url" -conns 1 -pipeline "$PIPE_DEPTH" -msgs "$PIPE_MSGS" -size "$SIZE" -duration 60s
	scenario "$name" broadcast "$port" -scenario broadcast -url "$room_url" -conns "$BC_SUBS" -publishers "$BC_PUBS" \
		-rate "$BC_RATE" -msgs "$BC_MSGS" -size "$SIZE" -duration 60s -drain 2s -drain-max "$DRAIN_MAX"
	if [[ "$BURST_MSGS" -gt 0 ]]; then
		scenario "$name" burst "$port" -scenario broadcast -url "$room_url" -conns "$BC_SUBS" -publishers 1 \
			-rate "$BURST_RATE" -msgs "$BURST_MSGS" -size "$SIZE" -duration 60s -drain 2s -drain-max "$DRAIN_MAX"
	fi
	scenario "$name" idle "$port" -scenario idle -url "$echo_url" -conns "$IDLE_CONNS" -hold "$IDLE_HOLD" \
		-stats-url "$stats_url" -duration 60s
done
log "suite took $(($(date +%s) - SUITE_T0)) s"

"$BIN/benchreport" -in "$RESULTS" -json "$OUT_DIR/summary.json" -meta "$OUT_DIR/meta.json" | tee "$OUT_DIR/table.md"
log "results: $OUT_DIR/{results.jsonl,summary.json,table.md,loadgen.log}"
