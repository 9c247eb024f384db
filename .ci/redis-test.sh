#!/usr/bin/env bash
# redis-test: the Redis-backed state tests (mock/state/..., mock/pingone,
# mock/zitadel, mock/server's replicas sharing one Redis) against a private
# redis-server on a free loopback port, in a temp dir, without persistence;
# never the system service. Installs Debian's redis-server if missing.
#   .ci/redis-test.sh          tests (race detector)
#   .ci/redis-test.sh bench    BenchmarkStore: rueidis vs go-redis
set -Eeuo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}

if ! command -v redis-server >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
fi

dir=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT

free_port() {
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "no free port" >&2; return 1
}

for attempt in 1 2 3; do
  port=$(free_port)
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
    --logfile "$dir/redis.log" &
  pid=$!
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break 2; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=
  echo "redis-server did not start on $port (attempt $attempt):" >&2; tail -5 "$dir/redis.log" >&2 || true
done
[ -n "$pid" ] || exit 1
echo "redis-server $(redis-server --version | grep -o 'v=[0-9.]*') on 127.0.0.1:$port (pid $pid)"

export IDPMOCK_TEST_REDIS=127.0.0.1:$port
if [ "${1:-}" = bench ]; then
  $GO test -run '^$' -bench 'BenchmarkStore|BenchmarkCachedRead|BenchmarkUpdateStrategy|BenchmarkCodec' -benchtime "${BENCHTIME:-3000x}" -count "${COUNT:-3}" ./mock/state/redisstore/
else
  $GO test -race -count=1 ./mock/state/... ./mock/pingone/ ./mock/server/
  # ZITADEL's whole suite on the shared store, its Redis tests included.
  IDPMOCK_TEST_ZITADEL_STORE=redis $GO test -race -count=1 ./mock/zitadel/
fi
