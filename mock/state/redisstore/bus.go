package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/idpmock/idpmock/mock/state"
)

// Bus is a state.Bus on Redis pub/sub: Call publishes on the bus's channel
// and waits until as many replicas as Redis delivered it to have counted
// themselves in an acknowledgement key. Each replica listens on a connection
// of its own; while that connection is down the bus is not Live, and the
// replica reads the store as if it had no bus.
type Bus struct {
	c       *Client
	channel string
	ackPre  string

	mu       sync.Mutex
	handlers map[string]func(context.Context, []byte)
	onLive   []func(context.Context) error
	started  bool
	live     atomic.Bool
}

// NewBus returns the bus called name; Start makes it listen.
func NewBus(c *Client, name string) *Bus {
	sp := c.space(name)
	return &Bus{c: c, channel: sp + "bus", ackPre: sp + "ack:", handlers: map[string]func(context.Context, []byte){}}
}

var _ state.Bus = (*Bus)(nil)

// Handle registers fn for kind.
func (b *Bus) Handle(kind string, fn func(context.Context, []byte)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.handlers[kind] = fn
}

// OnLive registers fn to run on each (re)connection.
func (b *Bus) OnLive(fn func(context.Context) error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.onLive = append(b.onLive, fn)
}

// Live reports whether the bus listens now.
func (b *Bus) Live() bool { return b.live.Load() }

// errNoPubSub: the backend cannot listen (go-redis in the benchmark).
var errNoPubSub = errors.New("redisstore: this client cannot listen to pub/sub")

// Start listens until ctx ends, reconnecting after a failure. It returns
// at once; Live turns true once the bus listens and OnLive has run.
func (b *Bus) Start(ctx context.Context) error {
	rb, ok := b.c.b.(*rueidisBackend)
	if !ok {
		return errNoPubSub
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.started {
		return nil
	}
	b.started = true
	go b.listen(ctx, rb.c)
	return nil
}

func (b *Bus) listen(ctx context.Context, rc rueidis.Client) {
	for ctx.Err() == nil {
		b.session(ctx, rc)
		b.live.Store(false)
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// session is one connection's life: subscribe, catch up, serve messages
// until the connection fails.
func (b *Bus) session(ctx context.Context, rc rueidis.Client) {
	dc, release := rc.Dedicate()
	defer release()
	msgs := make(chan rueidis.PubSubMessage, 64)
	closed := dc.SetPubSubHooks(rueidis.PubSubHooks{OnMessage: func(m rueidis.PubSubMessage) { msgs <- m }})
	sctx, cancel := context.WithTimeout(ctx, b.c.opts.Timeout)
	err := dc.Do(sctx, dc.B().Subscribe().Channel(b.channel).Build()).Error()
	cancel()
	if err != nil {
		return
	}
	b.mu.Lock()
	hooks := append([]func(context.Context) error(nil), b.onLive...)
	b.mu.Unlock()
	// Messages that arrive while catching up wait in msgs: each is applied
	// after the fresh read, so none is lost and none is overtaken.
	for _, fn := range hooks {
		if err := fn(ctx); err != nil {
			return
		}
	}
	b.live.Store(true)
	for {
		select {
		case <-ctx.Done():
			return
		case <-closed:
			return
		case m := <-msgs:
			b.deliver(ctx, m.Message)
		}
	}
}

// deliver runs the handler of one message and acknowledges it.
func (b *Bus) deliver(ctx context.Context, msg string) {
	kind, rest, ok1 := strings.Cut(msg, "\n")
	nonce, payload, ok2 := strings.Cut(rest, "\n")
	if !ok1 || !ok2 {
		return
	}
	b.mu.Lock()
	fn := b.handlers[kind]
	b.mu.Unlock()
	if fn != nil {
		fn(ctx, []byte(payload))
	}
	_, _ = b.c.run(ctx, ackScript, []string{b.ackPre + nonce}, nil)
}

// ackScript counts one acknowledgement; the key outlives any waiter.
var ackScript = newScript(`
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], 60000)
return {tostring(n)}
`)

// publishScript publishes and answers how many listeners got the message.
var publishScript = newScript(`return {tostring(redis.call('PUBLISH', KEYS[1], ARGV[1]))}`)

// Call publishes payload and waits for every listener's acknowledgement.
func (b *Bus) Call(ctx context.Context, kind string, payload []byte) error {
	var n [12]byte
	_, _ = rand.Read(n[:])
	nonce := hex.EncodeToString(n[:])
	r, err := b.c.run(ctx, publishScript, []string{b.channel}, []string{kind + "\n" + nonce + "\n" + string(payload)})
	if err != nil {
		return err
	}
	want, _ := strconv.Atoi(status(r))
	if want == 0 {
		return nil
	}
	deadline := time.Now().Add(b.c.opts.Timeout)
	wait := 200 * time.Microsecond
	for {
		v, ok, err := b.c.get(ctx, b.ackPre+nonce)
		if err != nil {
			return err
		}
		if got, _ := strconv.Atoi(v); ok && got >= want {
			return nil
		}
		if time.Now().After(deadline) {
			return &state.UnavailableError{Err: fmt.Errorf("%s: %d of %d replicas acknowledged within %s", kind, atoiOr0(v), want, b.c.opts.Timeout)}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, 5*time.Millisecond)
	}
}

func atoiOr0(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
