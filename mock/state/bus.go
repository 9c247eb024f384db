package state

import "context"

// Bus tells every replica sharing a store something and waits until each
// has acted on it, so that what one replica changed in the control data
// (the clock, the overrides) is what every replica serves the moment the
// change is acknowledged, without each request reading it again.
type Bus interface {
	// Handle registers fn for messages of kind (before the bus starts).
	// fn runs in the bus's goroutine, one message at a time; the sender
	// waits for it to return.
	Handle(kind string, fn func(ctx context.Context, payload []byte))
	// OnLive registers fn to run each time the bus (re)connects, before it
	// reports Live: messages sent while it was not listening are lost, so
	// fn reads afresh what they would have said.
	OnLive(fn func(ctx context.Context) error)
	// Live reports whether the bus is listening: only then may a replica
	// serve what it learnt from messages instead of reading the store.
	Live() bool
	// Call sends payload to every listening replica (this one included)
	// and returns once each has handled it, or fails after the store's
	// timeout (a *UnavailableError).
	Call(ctx context.Context, kind string, payload []byte) error
	// Start listens until ctx ends (after Handle and OnLive), reconnecting
	// by itself; it returns at once.
	Start(ctx context.Context) error
}
