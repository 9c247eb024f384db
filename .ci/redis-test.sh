#!/usr/bin/env bash
# redis-test: every Redis test of the repository against a private
# redis-server on a free loopback port, in a temp dir, without persistence;
# never the system service. Installs Debian's redis-server if missing.
#   .ci/redis-test.sh          tests (race detector), in two passes:
#     1. every package with a test that reads IDPMOCK_TEST_REDIS (through
#        mock/internal/redistest or mocktest.RedisAddr/StartReplicas), mock/state/... and the
#        end-to-end checks of mock/e2e (two replicas behind a proxy);
#     2. the vendor suites and contract scenarios (every mocktest.Start)
#        with IDPMOCK_TEST_REPLICAS=2: each test's mock is two replicas on
#        this Redis behind a round-robin proxy.
#   .ci/redis-test.sh bench    BenchmarkStore: rueidis vs go-redis
set -Eeuo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}

# redis-server, and nginx for mock/e2e's TestComposeBalancer (compose/nginx.conf
# in front of two replicas; it skips without nginx).
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
[ "${1:-}" = bench ] || command -v nginx >/dev/null || missing+=(nginx-light)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
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
  # Packages whose tests use Redis when IDPMOCK_TEST_REDIS is set.
  mapfile -t redis_pkgs < <(
    { echo ./mock/state/...; echo ./mock/e2e;
      grep -rlE --include='*_test.go' 'IDPMOCK_TEST_REDIS|redistest\.|mocktest\.(RedisAddr|StartReplicas|EnvRedis)' . |
        grep -v '^./mock/state/' | xargs -r -n1 dirname; } | sort -u)
  # Both passes run; the script fails if either did.
  rc=0
  echo "== pass 1: Redis tests (${redis_pkgs[*]})"
  # ZITADEL's whole suite runs on the shared store here (its Redis tests included).
  IDPMOCK_TEST_ZITADEL_STORE=redis $GO test -race -count=1 "${redis_pkgs[@]}" || rc=1
  # The vendor suites through two replicas. Not mock/server: its tests pin
  # transport details (a dropped connection, timeouts) that a proxy in
  # between changes by design.
  echo "== pass 2: vendor suites and contract scenarios across two replicas"
  IDPMOCK_TEST_REPLICAS=2 $GO test -race -count=1 ./contracts ./mock ./mock/pingone ./mock/zitadel || rc=1
  exit $rc
fi
