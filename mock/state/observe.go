package state

// Observer hears every change to a Memory's records, in the order they
// happen: it is called with the store's lock held, so it must be quick and
// must not call back into the store. The value it gets is the stored one,
// which the store never changes afterwards (updates store a new copy), so
// an observer may keep it and read it later; it must not modify it.
type Observer[T Record[T]] struct {
	// Changed: the record under key is now v; deleted is true when it was
	// removed (v is then the removed record).
	Changed func(key string, v T, deleted bool)
	// Replaced: every record may have changed at once (Clear, Restore).
	Replaced func()
}

func (m *Memory[T]) changed(key string, v T, deleted bool) {
	for _, o := range m.obs {
		if o.Changed != nil {
			o.Changed(key, v, deleted)
		}
	}
}

func (m *Memory[T]) replaced() {
	for _, o := range m.obs {
		if o.Replaced != nil {
			o.Replaced()
		}
	}
}

// Observe makes the store report each change to o from now on.
func (m *Memory[T]) Observe(o Observer[T]) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.obs = append(m.obs, o)
}
