package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	gen "github.com/idpmock/idpmock/gen/admin"
	"github.com/idpmock/idpmock/mock/journal"
	"github.com/idpmock/idpmock/mock/override"
	"github.com/idpmock/idpmock/mock/problem"
)

var daysPrefix = regexp.MustCompile(`^([-+]?)(\d+)d(.*)$`)

// ParseDuration is time.ParseDuration plus a leading days part: "3d",
// "1d12h", "-2d".
func ParseDuration(s string) (time.Duration, error) {
	m := daysPrefix.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("advance %q: want a Go duration such as \"72h\", \"90m\" or \"3d\"", s)
		}
		return d, nil
	}
	days, err := strconv.Atoi(m[2])
	if err != nil || days > 100000 {
		return 0, fmt.Errorf("advance %q: too many days", s)
	}
	d := time.Duration(days) * 24 * time.Hour
	if m[3] != "" {
		rest, err := time.ParseDuration(m[3])
		if err != nil || strings.HasPrefix(m[3], "-") || strings.HasPrefix(m[3], "+") {
			return 0, fmt.Errorf("advance %q: want a Go duration after the days, such as \"1d12h\"", s)
		}
		d += rest
	}
	if m[1] == "-" {
		d = -d
	}
	return d, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func ptr[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func issues(in []problem.Issue) []gen.Issue {
	out := make([]gen.Issue, 0, len(in))
	for _, is := range in {
		out = append(out, gen.Issue{In: is.In, Field: ptr(is.Field), Rule: ptr(is.Rule), Message: is.Message})
	}
	return out
}

func values(m *map[string]*interface{}) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(*m))
	for k, v := range *m {
		if v == nil {
			out[k] = nil
		} else {
			out[k] = *v
		}
	}
	return out
}

func specOf(b *gen.OverrideSpec) (override.Spec, error) {
	s := override.Spec{Operation: b.Operation, Times: deref(b.Times), Status: deref(b.Status), DelayMs: deref(b.DelayMs), Fault: string(deref(b.Fault))}
	if b.Headers != nil {
		s.Headers = *b.Headers
	}
	if b.Body != nil {
		raw, err := json.Marshal(b.Body)
		if err != nil {
			return s, problem.New(problem.Invalid, "body: %v", err)
		}
		s.Body = raw
	}
	if m := b.Match; m != nil {
		s.Match.PathParams = deref(m.PathParams)
		s.Match.Headers = deref(m.Headers)
		s.Match.Body = values(m.Body)
	}
	return s, nil
}

func overrideDoc(r override.Rule) gen.Override {
	o := gen.Override{
		Id: r.ID, Operation: r.Operation, Source: gen.OverrideSource(r.Source), Hits: r.Hits, CreatedAt: r.CreatedAt,
		Times: ptr(r.Times), Status: ptr(r.Status), DelayMs: ptr(r.DelayMs),
	}
	if r.Remaining >= 0 {
		o.Remaining = &r.Remaining
	}
	if r.Fault != "" {
		f := gen.OverrideFault(r.Fault)
		o.Fault = &f
	}
	if len(r.Headers) > 0 {
		o.Headers = &r.Headers
	}
	if len(r.Body) > 0 {
		var v any
		_ = json.Unmarshal(r.Body, &v)
		o.Body = v
	}
	m := r.Match
	if len(m.PathParams)+len(m.Headers)+len(m.Body) > 0 {
		gm := &gen.Match{}
		if len(m.PathParams) > 0 {
			gm.PathParams = &m.PathParams
		}
		if len(m.Headers) > 0 {
			gm.Headers = &m.Headers
		}
		if len(m.Body) > 0 {
			b := make(map[string]*interface{}, len(m.Body))
			for k, v := range m.Body {
				b[k] = &v
			}
			gm.Body = &b
		}
		o.Match = gm
	}
	return o
}

func queryOf(b *gen.JournalQuery) (journal.Query, error) {
	q := journal.Query{
		Operation: deref(b.Operation), Vendor: deref(b.Vendor), Method: deref(b.Method), Path: deref(b.Path),
		Status: deref(b.Status), Valid: b.Valid, Unmatched: deref(b.Unmatched), Limit: deref(b.Limit),
		Header: deref(b.Headers), Body: values(b.Body), Procedure: deref(b.Procedure),
	}
	if b.Protocol != nil {
		q.Protocol = string(*b.Protocol)
	}
	if err := q.Check(); err != nil {
		return q, &problem.Problem{Kind: problem.Invalid, Message: err.Error(),
			Issues: []problem.Issue{{In: "body", Field: "body", Rule: "format", Message: err.Error()}}}
	}
	return q, nil
}

func listDoc(ctx context.Context, j *journal.Journal, q journal.Query) (gen.JournalList, error) {
	p, err := j.PageContext(ctx, q)
	if err != nil {
		return gen.JournalList{}, asProblem(err)
	}
	last := int(p.LastSeq)
	out := gen.JournalList{Entries: []gen.JournalEntry{}, Total: p.Total, LastSeq: &last}
	for _, e := range p.Entries {
		out.Entries = append(out.Entries, EntryDoc(e))
	}
	return out, nil
}

// EntryDoc is a journal entry as the admin API shows it.
func EntryDoc(e journal.Entry) gen.JournalEntry {
	ms := float32(e.Duration.Seconds() * 1000)
	d := gen.JournalEntry{
		Seq: int(e.Seq), At: e.At, Clock: e.Clock, Method: e.Method, Path: e.Path, Query: ptr(e.Query),
		Vendor: ptr(e.Vendor), Operation: ptr(e.Operation), Headers: e.Header, Body: e.Body,
		Valid: e.Valid(), Status: e.Status, DurationMs: &ms,
		Override: ptr(e.Override), Prefer: ptr(e.Prefer), Fault: ptr(e.Fault),
		Protocol: protocol(e.Protocol), Procedure: ptr(e.Procedure),
	}
	if d.Headers == nil {
		d.Headers = map[string][]string{}
	}
	if e.ResponseHeader != nil {
		h := map[string][]string(e.ResponseHeader)
		d.ResponseHeaders = &h
		d.ResponseBody = e.ResponseBody
	}
	if p := e.Problem; p != nil {
		pe := gen.Error{Code: gen.ErrorCode(p.Kind), Message: p.Message}
		if len(p.Issues) > 0 {
			is := issues(p.Issues)
			pe.Issues = &is
		}
		d.Problem = &pe
	}
	if n := e.Nearest; n != nil {
		d.Nearest = &gen.Nearest{Vendor: ptr(n.Vendor), Operation: ptr(n.Operation), Method: ptr(n.Method), Path: ptr(n.Path), Reasons: nonNil(n.Reasons)}
	}
	return d
}

// protocol is the entry's protocol in the admin API's enum; "" (an entry
// made before protocols were recorded) reads as rest.
func protocol(p string) *gen.JournalEntryProtocol {
	if p == "" {
		p = journal.ProtocolREST
	}
	v := gen.JournalEntryProtocol(p)
	return &v
}
