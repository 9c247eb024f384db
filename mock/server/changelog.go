package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/idpmock/idpmock/mock/admin"
	"github.com/idpmock/idpmock/mock/state"
)

// Changes is how a vendor reports changes to its stored records (a store
// observer calls it, under the store's lock, in the order of the changes).
type Changes interface {
	// Record notes that record id of vendor changed. doc, called later and
	// at most once, returns the record as an element of the vendor's
	// Incremental.RecordsMember list, or nil when the record was deleted;
	// it must read only values that no longer change.
	Record(vendor, id string, doc func() (json.RawMessage, error))
	// Replaced notes that every record of vendor may have changed at once
	// (reset, state load): its whole state is saved next.
	Replaced(vendor string)
}

// Incremental is implemented by Stateful vendors whose state document is
// mostly one list of records reported through Deps.Changes, so a large
// state is saved record by record.
type Incremental interface {
	Stateful
	// RecordsMember names the member of the state document listing the
	// records, each an object with a string "id".
	RecordsMember() string
	// SnapshotRest returns the state document without RecordsMember
	// (nil when it holds nothing else). It must be cheap: it is taken at
	// every save.
	SnapshotRest(ctx context.Context) (json.RawMessage, error)
}

// changeFeed hands record changes to the persister when there is one.
type changeFeed struct {
	p atomic.Pointer[persister]
}

func (f *changeFeed) Record(vendor, id string, doc func() (json.RawMessage, error)) {
	if p := f.p.Load(); p != nil {
		p.record(vendor, id, doc)
	}
}

func (f *changeFeed) Replaced(vendor string) {
	if p := f.p.Load(); p != nil {
		p.replaced(vendor)
	}
}

// logEntry is one line of the change log. Replaying the log over the
// snapshot sets each record, each vendor's rest and the clock to the last
// value logged, so replaying more of the log than needed (entries the
// snapshot already holds) is harmless: see persister.compact.
type logEntry struct {
	Vendor string            `json:"v,omitempty"`
	ID     string            `json:"id,omitempty"`    // a record: Doc is its value, absent when deleted
	Doc    json.RawMessage   `json:"doc,omitempty"`   // the record
	Rest   json.RawMessage   `json:"rest,omitempty"`  // the document without the records member
	Whole  json.RawMessage   `json:"whole,omitempty"` // the whole vendor document
	Clock  *admin.ClockState `json:"clock,omitempty"`
}

// vendorDoc is a vendor's state document taken apart for replay.
type vendorDoc struct {
	member  string // "" for vendors saved whole
	rest    map[string]json.RawMessage
	order   []string
	records map[string]json.RawMessage
}

func splitDoc(raw json.RawMessage, member string) (*vendorDoc, error) {
	d := &vendorDoc{member: member, rest: map[string]json.RawMessage{}, records: map[string]json.RawMessage{}}
	if isNull(raw) {
		return d, nil
	}
	if err := json.Unmarshal(raw, &d.rest); err != nil {
		return nil, err
	}
	if member == "" {
		return d, nil
	}
	list := d.rest[member]
	delete(d.rest, member)
	if isNull(list) {
		return d, nil
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(list, &elems); err != nil {
		return nil, fmt.Errorf("/%s: %w", member, err)
	}
	for i, e := range elems {
		var id struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(e, &id); err != nil || id.ID == "" {
			return nil, fmt.Errorf("/%s/%d: no string id", member, i)
		}
		d.set(id.ID, e)
	}
	return d, nil
}

func (d *vendorDoc) set(id string, doc json.RawMessage) {
	if isNull(doc) {
		delete(d.records, id)
		return
	}
	if _, ok := d.records[id]; !ok {
		d.order = append(d.order, id)
	}
	d.records[id] = doc
}

func (d *vendorDoc) join() (json.RawMessage, error) {
	if d.member != "" {
		elems := make([]json.RawMessage, 0, len(d.records))
		for _, id := range d.order {
			if e, ok := d.records[id]; ok {
				elems = append(elems, e)
			}
		}
		list, err := json.Marshal(elems)
		if err != nil {
			return nil, err
		}
		d.rest[d.member] = list
	}
	return json.Marshal(d.rest)
}

// replayLog applies change log lines to st. member gives each vendor's
// records member ("" for vendors saved whole). A last line cut short by a
// crash is ignored; any other bad line is an error.
func replayLog(st *admin.State, logs [][]byte, member func(vendor string) string) (int, error) {
	docs := map[string]*vendorDoc{}
	doc := func(v string) (*vendorDoc, error) {
		if d, ok := docs[v]; ok {
			return d, nil
		}
		d, err := splitDoc(st.Vendors[v], member(v))
		if err != nil {
			return nil, fmt.Errorf("vendor %s: %w", v, err)
		}
		docs[v] = d
		return d, nil
	}
	n := 0
	for li, data := range logs {
		lines := bytes.Split(data, []byte("\n"))
		for i, line := range lines {
			if len(line) == 0 {
				continue
			}
			var e logEntry
			if err := json.Unmarshal(line, &e); err != nil {
				if i == len(lines)-1 {
					break // no newline after it: a write the crash cut short
				}
				return n, fmt.Errorf("change log %d, line %d: %w", li, i+1, err)
			}
			n++
			if e.Clock != nil {
				c := *e.Clock
				st.Clock = &c
			}
			if e.Vendor == "" {
				continue
			}
			if st.Vendors == nil {
				st.Vendors = map[string]json.RawMessage{}
			}
			switch {
			case e.Whole != nil:
				d, err := splitDoc(e.Whole, member(e.Vendor))
				if err != nil {
					return n, fmt.Errorf("change log %d, line %d: vendor %s: %w", li, i+1, e.Vendor, err)
				}
				docs[e.Vendor] = d
			case e.Rest != nil:
				d, err := doc(e.Vendor)
				if err != nil {
					return n, err
				}
				rest := map[string]json.RawMessage{}
				if err := json.Unmarshal(e.Rest, &rest); err != nil {
					return n, fmt.Errorf("change log %d, line %d: %w", li, i+1, err)
				}
				delete(rest, d.member)
				d.rest = rest
			case e.ID != "":
				d, err := doc(e.Vendor)
				if err != nil {
					return n, err
				}
				if d.member == "" {
					return n, fmt.Errorf("change log %d, line %d: vendor %s does not save records one by one", li, i+1, e.Vendor)
				}
				d.set(e.ID, e.Doc)
			}
		}
	}
	for v, d := range docs {
		raw, err := d.join()
		if err != nil {
			return n, err
		}
		st.Vendors[v] = raw
	}
	return n, nil
}

var errPersistClosed = errors.New("state file closed")

// ObserveRecords reports every change of store's records to ch under vendor,
// each record saved as doc(record) in JSON, so a persisted state saves one
// record, not all of them, per change. A nil ch, or a store that cannot be
// observed (Redis, which keeps the state itself: no --state-file), observes
// nothing.
func ObserveRecords[T state.Record[T]](ch Changes, vendor string, store state.Store[T], doc func(T) any) {
	m, ok := store.(*state.Memory[T])
	if ch == nil || !ok {
		return
	}
	m.Observe(state.Observer[T]{
		Changed: func(key string, v T, deleted bool) {
			ch.Record(vendor, key, func() (json.RawMessage, error) {
				if deleted {
					return nil, nil
				}
				return json.Marshal(doc(v))
			})
		},
		Replaced: func() { ch.Replaced(vendor) },
	})
}
