// Package robust holds no code, only tests that attack the whole mock, as
// a client or the operating system could: hostile requests against every
// operation of every vendor, fuzzing, concurrency, tenant isolation,
// secrets in logs, durability across SIGKILL and graceful shutdown. They
// live at the composition root's side because they need every vendor at
// once, which the generic packages may not import.
package robust
