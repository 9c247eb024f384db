package state

import (
	"context"
	"errors"
	"sync"
)

// ErrUnavailable means the backend (Redis) could not be reached or did not
// answer in time. Vendors map it to their own "unavailable" error.
var ErrUnavailable = errors.New("state: store unavailable")

// UnavailableError carries why the backend is unavailable; it matches
// ErrUnavailable with errors.Is.
type UnavailableError struct{ Err error }

func (e *UnavailableError) Error() string { return "state: store unavailable: " + e.Err.Error() }

// Unwrap returns the cause.
func (e *UnavailableError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnavailable) true.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

var _ Store[nopRecord] = (*Memory[nopRecord])(nil)

type nopRecord struct{}

func (nopRecord) Clone() nopRecord { return nopRecord{} }

// WithIndexLimit caps how many records may share one key of index (for
// example sessions per user or per environment); Create past it returns
// ErrFull.
func WithIndexLimit[T Record[T]](index string, n int) Option[T] {
	return func(m *Memory[T]) {
		if m.ixMax == nil {
			m.ixMax = make(map[string]int)
		}
		m.ixMax[index] = n
	}
}

// indexFull reports whether v would exceed an index cap; m.mu is held.
func (m *Memory[T]) indexFull(v T) bool {
	for _, ix := range m.indexes {
		n := m.ixMax[ix.Name]
		if n <= 0 {
			continue
		}
		for _, ik := range ix.Keys(v) {
			if len(m.idx[ix.Name][ik]) >= n {
				return true
			}
		}
	}
	return false
}

// CountKey is Count for the Store interface.
func (m *Memory[T]) CountKey(ctx context.Context, index, indexKey string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if !m.hasIndex(index) {
		return 0, errors.New("state: no index " + index)
	}
	return m.Count(index, indexKey), nil
}

func (m *Memory[T]) hasIndex(name string) bool {
	for _, ix := range m.indexes {
		if ix.Name == name {
			return true
		}
	}
	return false
}

// Total is Len for the Store interface.
func (m *Memory[T]) Total(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return m.Len(), nil
}

// Reset is Clear for the Store interface.
func (m *Memory[T]) Reset(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.Clear()
	return nil
}

// Dump is Snapshot for the Store interface.
func (m *Memory[T]) Dump(ctx context.Context) ([]T, error) {
	return m.List(ctx, nil)
}

// Load is Restore for the Store interface.
func (m *Memory[T]) Load(ctx context.Context, vs []T) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return m.Restore(vs)
}

// Cell is one small shared value, such as the mock clock's offset and
// freeze. Load of a never-stored cell returns the zero value.
type Cell[T any] interface {
	Load(ctx context.Context) (T, error)
	Store(ctx context.Context, v T) error
}

// Counters are named budgets that fire exactly n times in total, however
// many replicas take from them (an override's "N times").
type Counters interface {
	// Arm sets name's budget to n (replacing what was left).
	Arm(ctx context.Context, name string, n int64) error
	// Take consumes one unit; false when the budget is spent or was never armed.
	Take(ctx context.Context, name string) (bool, error)
	// Left is what remains (0 when unarmed).
	Left(ctx context.Context, name string) (int64, error)
	// Disarm forgets name.
	Disarm(ctx context.Context, name string) error
	// Next adds one to name and returns the sum: ids and sequence numbers
	// that stay unique across replicas.
	Next(ctx context.Context, name string) (int64, error)
	// Reset forgets every name.
	Reset(ctx context.Context) error
}

// Log is a capped shared list of entries (the journal across replicas):
// once it holds its cap, appending drops the oldest entry.
type Log interface {
	Append(ctx context.Context, entry []byte) error
	// Recent returns up to n entries, newest first (all when n <= 0).
	Recent(ctx context.Context, n int) ([][]byte, error)
	Len(ctx context.Context) (int, error)
	Clear(ctx context.Context) error
}

// MemoryCell is a Cell in process memory.
type MemoryCell[T any] struct {
	mu sync.RWMutex
	v  T
}

// Load returns the stored value.
func (c *MemoryCell[T]) Load(ctx context.Context) (T, error) {
	if err := ctx.Err(); err != nil {
		var zero T
		return zero, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.v, nil
}

// Store replaces the value.
func (c *MemoryCell[T]) Store(ctx context.Context, v T) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.v = v
	c.mu.Unlock()
	return nil
}

// MemoryCounters are Counters in process memory.
type MemoryCounters struct {
	mu sync.Mutex
	m  map[string]int64
}

// Arm sets name's budget.
func (c *MemoryCounters) Arm(ctx context.Context, name string, n int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]int64)
	}
	c.m[name] = n
	return nil
}

// Take consumes one unit of name's budget.
func (c *MemoryCounters) Take(ctx context.Context, name string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m[name] <= 0 {
		return false, nil
	}
	c.m[name]--
	return true, nil
}

// Left is name's remaining budget.
func (c *MemoryCounters) Left(ctx context.Context, name string) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return max(c.m[name], 0), nil
}

// Next adds one to name.
func (c *MemoryCounters) Next(ctx context.Context, name string) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]int64)
	}
	c.m[name]++
	return c.m[name], nil
}

// Disarm forgets name.
func (c *MemoryCounters) Disarm(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, name)
	return nil
}

// Reset forgets every name.
func (c *MemoryCounters) Reset(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = nil
	return nil
}

// MemoryLog is a Log in process memory.
type MemoryLog struct {
	max  int
	mu   sync.Mutex
	buf  [][]byte // oldest first
	seqs []int64  // buf's numbers
	n    int64    // the newest number given
}

// NewMemoryLog returns a Log that keeps the newest max entries.
func NewMemoryLog(max int) *MemoryLog { return &MemoryLog{max: max} }

// Append adds entry, dropping the oldest past the cap.
func (l *MemoryLog) Append(ctx context.Context, entry []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err := l.Push(ctx, entry)
	return err
}

// Push adds entry numbered after every entry before it.
func (l *MemoryLog) Push(ctx context.Context, entry []byte) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	l.buf = append(l.buf, append([]byte(nil), entry...))
	l.seqs = append(l.seqs, l.n)
	if over := len(l.buf) - l.max; l.max > 0 && over > 0 {
		l.buf = append(l.buf[:0], l.buf[over:]...)
		l.seqs = append(l.seqs[:0], l.seqs[over:]...)
	}
	return l.n, nil
}

// Since returns the entries numbered above since, oldest first, and the
// newest number given.
func (l *MemoryLog) Since(ctx context.Context, since int64) ([]Numbered, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Numbered
	for i, e := range l.buf {
		if l.seqs[i] > since {
			out = append(out, Numbered{Seq: l.seqs[i], Entry: append([]byte(nil), e...)})
		}
	}
	return out, l.n, nil
}

// Newest is the newest number given.
func (l *MemoryLog) Newest(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n, nil
}

// Recent returns up to n entries, newest first.
func (l *MemoryLog) Recent(ctx context.Context, n int) ([][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if n <= 0 || n > len(l.buf) {
		n = len(l.buf)
	}
	out := make([][]byte, 0, n)
	for i := len(l.buf) - 1; i >= 0 && len(out) < n; i-- {
		out = append(out, append([]byte(nil), l.buf[i]...))
	}
	return out, nil
}

// Len is how many entries are kept.
func (l *MemoryLog) Len(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buf), nil
}

// Clear drops every entry.
func (l *MemoryLog) Clear(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf, l.seqs = nil, nil
	return nil
}

var _ SeqLog = (*MemoryLog)(nil)
