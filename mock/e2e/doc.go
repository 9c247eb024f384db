// Package e2e proves that several idpmock replicas sharing one Redis behave
// as one mock: the contract scenarios and the issue-17 checks (concurrent
// updates of one session over two replicas, the clock, reset, Redis
// stopping mid-load, round trips per operation) with traffic alternating
// between two replicas behind a round-robin proxy (mocktest.StartReplicas).
// Its tests run under `make redis-test` and skip without IDPMOCK_TEST_REDIS.
package e2e
