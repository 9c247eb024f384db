package server

import (
	"github.com/idpmock/idpmock/mock/state/stores"

	"time"

	"github.com/idpmock/idpmock/mock/journal"
)

// DefaultAddr is where the mock listens unless told otherwise.
const DefaultAddr = "127.0.0.1:4010"

// DefaultConfig is the configuration the command line starts from: every
// flag of `idpmock serve` takes its default from here, and Defaults fills a
// zero numeric field with the value here, so the two cannot drift apart.
// Booleans are the exception a Go zero value forces: a zero Config has
// CORS off, the command line (and DefaultConfig) has it on.
func DefaultConfig() Config {
	return Config{
		Addr:             DefaultAddr,
		CORS:             true,
		BodyLimit:        1 << 20,
		ShutdownTimeout:  10 * time.Second,
		ReadTimeout:      30 * time.Second,
		WriteTimeout:     60 * time.Second,
		IdleTimeout:      120 * time.Second,
		JournalSize:      journal.DefaultSize,
		PersistDelay:     DefaultPersistDelay,
		MaxSessions:      DefaultMaxSessions,
		MaxTotalSessions: DefaultMaxTotalSessions,
		Store:            "memory",
		StorePrefix:      stores.DefaultPrefix,
	}
}
