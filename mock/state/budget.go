package state

import (
	"fmt"
	"sync/atomic"
)

// Budget bounds the records of several stores together (every vendor's
// sessions in every tenant), so memory has a process-wide bound whatever
// the per-store limits. Safe for concurrent use; a nil *Budget is no bound.
type Budget struct {
	limit int64
	used  atomic.Int64
	what  string // what is counted, for errors: "sessions"
}

// NewBudget returns a budget of limit records (limit <= 0: no bound, nil).
func NewBudget(limit int, what string) *Budget {
	if limit <= 0 {
		return nil
	}
	return &Budget{limit: int64(limit), what: what}
}

// Limit is the bound (0 for a nil budget).
func (b *Budget) Limit() int {
	if b == nil {
		return 0
	}
	return int(b.limit)
}

// Used is how many records the budget counts now.
func (b *Budget) Used() int {
	if b == nil {
		return 0
	}
	return int(b.used.Load())
}

// BudgetError is a create or restore refused by a Budget; it matches
// ErrFull.
type BudgetError struct {
	Limit, Used, Asked int
	What               string
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("state: at most %d %s in total (%d stored, %d more asked)", e.Limit, e.What, e.Used, e.Asked)
}

func (e *BudgetError) Is(target error) bool { return target == ErrFull }

// reserve takes n records from the budget, or none and a *BudgetError.
func (b *Budget) reserve(n int) error {
	if b == nil || n <= 0 {
		b.release(-n)
		return nil
	}
	for {
		used := b.used.Load()
		if used+int64(n) > b.limit {
			return &BudgetError{Limit: int(b.limit), Used: int(used), Asked: n, What: b.what}
		}
		if b.used.CompareAndSwap(used, used+int64(n)) {
			return nil
		}
	}
}

func (b *Budget) release(n int) {
	if b != nil && n > 0 {
		b.used.Add(-int64(n))
	}
}

// SetBudget counts the store's records in b from now on; the records it
// holds are counted at once, over the bound if need be.
func (m *Memory[T]) SetBudget(b *Budget) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.budget.release(len(m.m))
	m.budget = b
	if b != nil {
		b.used.Add(int64(len(m.m)))
	}
}

// overIndexCaps reports the first index cap (WithIndexLimit) that vs,
// as a whole new content, would break: Restore is held to the caps Create
// is.
func (m *Memory[T]) overIndexCaps(vs []T) error {
	return OverIndexCaps(vs, m.indexes, m.ixMax)
}

// OverIndexCaps reports (as ErrFull) whether vs, loaded as a store's whole
// content, would put more records under one index key than ixMax allows
// for that index: the check a store's Load or Restore makes.
func OverIndexCaps[T Record[T]](vs []T, indexes []Index[T], ixMax map[string]int) error {
	if len(ixMax) == 0 {
		return nil
	}
	counts := map[string]map[string]int{}
	for _, v := range vs {
		for _, ix := range indexes {
			n := ixMax[ix.Name]
			if n <= 0 {
				continue
			}
			if counts[ix.Name] == nil {
				counts[ix.Name] = map[string]int{}
			}
			for _, ik := range ix.Keys(v) {
				if counts[ix.Name][ik]++; counts[ix.Name][ik] > n {
					return fmt.Errorf("%w: more than %d records with %s %s", ErrFull, n, ix.Name, ik)
				}
			}
		}
	}
	return nil
}

// NewBudgetError is the error of a create that b refuses with used records
// counted and asked more wanted (for stores that count elsewhere, as Redis
// does inside its create script).
func NewBudgetError(b *Budget, used, asked int) *BudgetError {
	return &BudgetError{Limit: b.Limit(), Used: used, Asked: asked, What: b.what}
}
