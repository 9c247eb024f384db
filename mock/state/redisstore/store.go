package redisstore

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/idpmock/idpmock/mock/state"
)

// Config describes one record store.
type Config[T state.Record[T]] struct {
	// Name tells this store's keys apart from other stores' (for example
	// "pingone:sessions"); with the client's prefix it starts every key.
	Name string
	// Key is the record key.
	Key func(T) string
	// Indexes are the secondary indexes; names must not contain ':'.
	Indexes []state.Index[T]
	// Limit caps the number of records across all replicas (0: none).
	Limit int
	// IndexLimits caps the records per key of an index (per environment or
	// per user), across all replicas.
	IndexLimits map[string]int
	// TTL is how long Redis keeps a record after a write (0: forever). It is
	// a safety net against a full Redis, not the vendor's expiry, which
	// follows the mock clock: give it a margin past the mock expiry.
	TTL func(T) time.Duration
	// Codec encodes records (JSON when nil). New refuses the JSON default
	// for a type JSON would store only in part: give such a type a Codec.
	Codec Codec[T]
	// Budget bounds this store's records together with every other store of
	// the client opened with the same Budget (--max-total-sessions), across
	// replicas: each create counts the group's live records. nil: none.
	Budget *state.Budget
}

// Store is a state.Store in Redis. Records are JSON strings; each index key
// and the store as a whole are sorted sets of record keys scored by their
// deadline. Reads are one round trip, writes one (create) or two (update,
// delete: read, then compare-and-set), plus one per lost race.
type Store[T state.Record[T]] struct {
	c       *Client
	cfg     Config[T]
	space   string
	all     string
	indexes map[string]bool
	// stripes serialise this process's writes to one record: they would
	// only lose compare-and-set races to each other, each costing a round
	// trip. Races with other replicas remain and are retried.
	stripes [256]sync.Mutex
}

var _ state.Store[nopRec] = (*Store[nopRec])(nil)

type nopRec struct{}

func (nopRec) Clone() nopRec { return nopRec{} }

// New returns the store cfg describes on c.
func New[T state.Record[T]](c *Client, cfg Config[T]) (*Store[T], error) {
	if cfg.Name == "" || strings.ContainsAny(cfg.Name, "{}") || cfg.Key == nil {
		return nil, errors.New("redisstore: a store needs a name (without braces: it is the key's hash tag) and a key function")
	}
	if cfg.Codec == nil {
		if err := jsonLossless(reflect.TypeFor[T]()); err != nil {
			return nil, fmt.Errorf("redisstore: store %s needs a Codec: %w", cfg.Name, err)
		}
		cfg.Codec = JSON[T]{}
	}
	s := &Store[T]{c: c, cfg: cfg, space: c.space(cfg.Name), indexes: make(map[string]bool)}
	s.all = s.space + "all"
	c.budgetGroup(cfg.Budget, s.all)
	for _, ix := range cfg.Indexes {
		if ix.Name == "" || strings.Contains(ix.Name, ":") || s.indexes[ix.Name] {
			return nil, fmt.Errorf("redisstore: bad or duplicate index name %q", ix.Name)
		}
		s.indexes[ix.Name] = true
	}
	for name := range cfg.IndexLimits {
		if !s.indexes[name] {
			return nil, fmt.Errorf("redisstore: limit on unknown index %q", name)
		}
	}
	return s, nil
}

func (s *Store[T]) recKey(k string) string { return s.space + "r:" + k }

func (s *Store[T]) idxKey(index, ik string) string { return s.space + "i:" + index + ":" + ik }

// indexKeys are the sorted sets v belongs to, and each one's cap.
func (s *Store[T]) indexKeys(v T) (keys []string, caps []string) {
	for _, ix := range s.cfg.Indexes {
		lim := strconv.Itoa(s.cfg.IndexLimits[ix.Name])
		for _, ik := range ix.Keys(v) {
			keys = append(keys, s.idxKey(ix.Name, ik))
			caps = append(caps, lim)
		}
	}
	return keys, caps
}

func (s *Store[T]) ttl(v T) string {
	if s.cfg.TTL == nil {
		return "0"
	}
	d := s.cfg.TTL(v)
	if d <= 0 {
		return "0"
	}
	// Under a millisecond still expires: 0 would mean never.
	return strconv.FormatInt(max(d.Milliseconds(), 1), 10)
}

func (s *Store[T]) decode(raw string) (T, error) {
	v, err := s.cfg.Codec.Unmarshal([]byte(raw))
	if err != nil {
		return v, fmt.Errorf("redisstore: stored record does not decode: %w", err)
	}
	return v, nil
}

func (s *Store[T]) encode(v T) (string, error) {
	b, err := s.cfg.Codec.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("redisstore: %w", err)
	}
	return string(b), nil
}

func status(r []string) string {
	if len(r) == 0 {
		return ""
	}
	return r[0]
}

// Get returns the record under key: one GET.
func (s *Store[T]) Get(ctx context.Context, key string) (T, error) {
	var zero T
	raw, ok, err := s.c.get(ctx, s.recKey(key))
	if err != nil {
		return zero, err
	}
	if !ok {
		return zero, state.ErrNotFound
	}
	return s.decode(raw)
}

// Create stores v if its key is free and no cap is reached: one script.
func (s *Store[T]) Create(ctx context.Context, v T) error {
	raw, err := s.encode(v)
	if err != nil {
		return err
	}
	k := s.cfg.Key(v)
	ixKeys, caps := s.indexKeys(v)
	keys := append([]string{s.recKey(k), s.all}, ixKeys...)
	group := s.c.budgetGroup(s.cfg.Budget, "")
	keys = append(keys, group...)
	args := append([]string{raw, k, strconv.Itoa(s.cfg.Limit), s.ttl(v), strconv.Itoa(len(group)), strconv.Itoa(s.cfg.Budget.Limit())}, caps...)
	r, err := s.c.run(ctx, createScript, keys, args)
	if err != nil {
		return err
	}
	switch status(r) {
	case "ok":
		return nil
	case "exists":
		return state.ErrExists
	case "full":
		return state.ErrFull
	case "budget":
		used := 0
		if len(r) > 1 {
			used, _ = strconv.Atoi(r[1])
		}
		return state.NewBudgetError(s.cfg.Budget, used, 1)
	}
	return fmt.Errorf("redisstore: create: unexpected reply %q", r)
}

// Update replaces the record under key with fn's result: a read, then a
// compare-and-set script that writes only if nobody wrote in between. On a
// lost race fn runs again on the newer record (so it must be free of side
// effects); only one of its results is ever stored.
func (s *Store[T]) Update(ctx context.Context, key string, fn func(T) (T, error)) (T, error) {
	mu := s.stripe(key)
	mu.Lock()
	defer mu.Unlock()
	rk := s.recKey(key)
	raw, ok, err := s.c.get(ctx, rk)
	return s.update(ctx, key, raw, ok, err, fn)
}

// UpdateSeen is Update starting from seen, a version the caller has just
// read (a Lookup's result): the compare-and-set goes out at once, one round
// trip instead of two when nobody wrote in between; otherwise it continues
// as Update from the current version.
func (s *Store[T]) UpdateSeen(ctx context.Context, seen T, fn func(T) (T, error)) (T, error) {
	key := s.cfg.Key(seen)
	raw, err := s.encode(seen)
	mu := s.stripe(key)
	mu.Lock()
	defer mu.Unlock()
	return s.update(ctx, key, raw, true, err, fn)
}

// update is Update's compare-and-set loop from raw, the version read.
func (s *Store[T]) update(ctx context.Context, key, raw string, ok bool, err error, fn func(T) (T, error)) (T, error) {
	rk := s.recKey(key)
	return s.cas(ctx, "update", raw, ok, err, func(old T, raw string) (T, *script, []string, []string, error) {
		var zero T
		oldKeys, _ := s.indexKeys(old)
		nv, err := fn(old)
		if err != nil {
			return zero, nil, nil, nil, err
		}
		if s.cfg.Key(nv) != key {
			return zero, nil, nil, nil, errors.New("state: update changed the record key")
		}
		enc, err := s.encode(nv)
		if err != nil {
			return zero, nil, nil, nil, err
		}
		newKeys, _ := s.indexKeys(nv)
		keys := make([]string, 0, 2+len(oldKeys)+len(newKeys))
		keys = append(append(append(keys, rk, s.all), oldKeys...), newKeys...)
		return nv, updateScript, keys, []string{raw, enc, key, s.ttl(nv), strconv.Itoa(len(oldKeys))}, nil
	})
}

// cas runs a compare-and-set script that op builds from the version read
// (raw, decoded as old) and returns op's result once the script applied it;
// when another writer changed the record first, the script answers the
// current version and op runs again from it.
func (s *Store[T]) cas(ctx context.Context, what, raw string, ok bool, err error, op func(old T, raw string) (T, *script, []string, []string, error)) (T, error) {
	var zero T
	for attempt := 0; ; attempt++ {
		if err != nil {
			return zero, err
		}
		if !ok {
			return zero, state.ErrNotFound
		}
		old, err := s.decode(raw)
		if err != nil {
			return zero, err
		}
		res, sc, keys, args, err := op(old, raw)
		if err != nil {
			return zero, err
		}
		r, err := s.c.run(ctx, sc, keys, args)
		if err != nil {
			return zero, err
		}
		switch status(r) {
		case "ok":
			return res, nil
		case "notfound":
			return zero, state.ErrNotFound
		case "conflict":
			if len(r) < 2 {
				return zero, fmt.Errorf("redisstore: %s: conflict without value", what)
			}
			raw = r[1]
			if err := backoff(ctx, attempt); err != nil {
				return zero, err
			}
			continue
		}
		return zero, fmt.Errorf("redisstore: %s: unexpected reply %q", what, r)
	}
}

func (s *Store[T]) stripe(key string) *sync.Mutex {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return &s.stripes[h.Sum32()%uint32(len(s.stripes))]
}

// backoff spreads writers racing for one record once they have lost a few
// times in a row.
func backoff(ctx context.Context, attempt int) error {
	if attempt < 3 {
		return ctx.Err()
	}
	d := time.Duration(rand.Int64N(int64(min(attempt, 20))*int64(50*time.Microsecond))) + time.Microsecond
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Delete removes the record under key and returns it: a read, then a
// compare-and-delete script.
func (s *Store[T]) Delete(ctx context.Context, key string) (T, error) {
	mu := s.stripe(key)
	mu.Lock()
	defer mu.Unlock()
	rk := s.recKey(key)
	raw, ok, err := s.c.get(ctx, rk)
	return s.delete(ctx, key, raw, ok, err)
}

// DeleteSeen is Delete starting from seen, a version the caller has just
// read: one round trip instead of two when nobody wrote in between.
func (s *Store[T]) DeleteSeen(ctx context.Context, seen T) (T, error) {
	key := s.cfg.Key(seen)
	raw, err := s.encode(seen)
	mu := s.stripe(key)
	mu.Lock()
	defer mu.Unlock()
	return s.delete(ctx, key, raw, true, err)
}

// delete is Delete's compare-and-delete loop from raw, the version read.
func (s *Store[T]) delete(ctx context.Context, key, raw string, ok bool, err error) (T, error) {
	rk := s.recKey(key)
	return s.cas(ctx, "delete", raw, ok, err, func(old T, raw string) (T, *script, []string, []string, error) {
		ixKeys, _ := s.indexKeys(old)
		return old, deleteScript, append([]string{rk, s.all}, ixKeys...), []string{raw, key}, nil
	})
}

// records decodes a script's values, ordered by record key.
func (s *Store[T]) records(raws []string, keep func(T) bool) ([]T, error) {
	out := make([]T, 0, len(raws))
	for _, raw := range raws {
		v, err := s.decode(raw)
		if err != nil {
			return nil, err
		}
		if keep == nil || keep(v) {
			out = append(out, v)
		}
	}
	slices.SortFunc(out, func(a, b T) int { return strings.Compare(s.cfg.Key(a), s.cfg.Key(b)) })
	return out, nil
}

// Lookup returns the records whose index keys include indexKey, ordered by
// record key: one script.
func (s *Store[T]) Lookup(ctx context.Context, index, indexKey string) ([]T, error) {
	if !s.indexes[index] {
		return nil, errors.New("state: no index " + index)
	}
	r, err := s.c.run(ctx, rangeScript, []string{s.idxKey(index, indexKey)}, []string{s.recKey("")})
	if err != nil {
		return nil, err
	}
	return s.records(r, nil)
}

// List returns the records keep accepts (all when keep is nil), ordered by
// key: one script.
func (s *Store[T]) List(ctx context.Context, keep func(T) bool) ([]T, error) {
	r, err := s.c.run(ctx, rangeScript, []string{s.all}, []string{s.recKey("")})
	if err != nil {
		return nil, err
	}
	return s.records(r, keep)
}

func (s *Store[T]) count(ctx context.Context, set string) (int, error) {
	r, err := s.c.run(ctx, countScript, []string{set}, nil)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(status(r))
}

// CountKey is how many records have indexKey in index, across replicas.
func (s *Store[T]) CountKey(ctx context.Context, index, indexKey string) (int, error) {
	if !s.indexes[index] {
		return 0, errors.New("state: no index " + index)
	}
	return s.count(ctx, s.idxKey(index, indexKey))
}

// Total is how many records the store holds, across replicas.
func (s *Store[T]) Total(ctx context.Context) (int, error) { return s.count(ctx, s.all) }

// pattern matches every key of this store.
func (s *Store[T]) pattern() string { return glob(s.space) }

// glob matches every key starting with space, its glob characters escaped.
func glob(space string) string {
	var b strings.Builder
	for _, r := range space {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String() + "*"
}

// Reset removes every record and index of this store in one script.
func (s *Store[T]) Reset(ctx context.Context) error {
	_, err := s.c.run(ctx, resetScript, nil, []string{s.pattern()})
	return err
}

// Dump returns every record ordered by key.
func (s *Store[T]) Dump(ctx context.Context) ([]T, error) { return s.List(ctx, nil) }

// Load replaces the whole content with vs in one script: all or nothing.
// Duplicate keys are an error and change nothing.
func (s *Store[T]) Load(ctx context.Context, vs []T) error {
	// The caps hold for a load as for creates (the budget as far as this
	// store's records go: the other stores of its group may change meanwhile).
	if s.cfg.Limit > 0 && len(vs) > s.cfg.Limit {
		return fmt.Errorf("%w: %d records, at most %d", state.ErrFull, len(vs), s.cfg.Limit)
	}
	if b := s.cfg.Budget; b != nil && len(vs) > b.Limit() {
		return state.NewBudgetError(b, 0, len(vs))
	}
	if err := state.OverIndexCaps(vs, s.cfg.Indexes, s.cfg.IndexLimits); err != nil {
		return err
	}
	args := []string{s.pattern(), s.recKey(""), s.all}
	seen := make(map[string]bool, len(vs))
	for _, v := range vs {
		k := s.cfg.Key(v)
		if seen[k] {
			return errors.New("state: duplicate key " + k)
		}
		seen[k] = true
		raw, err := s.encode(v)
		if err != nil {
			return err
		}
		ixKeys, _ := s.indexKeys(v)
		args = append(args, k, raw, s.ttl(v), strconv.Itoa(len(ixKeys)))
		args = append(args, ixKeys...)
	}
	_, err := s.c.run(ctx, loadScript, nil, args)
	return err
}
