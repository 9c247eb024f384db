package pingone

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	gen "github.com/idpmock/idpmock/gen/pingone"
)

// session is what the mock stores. It holds only what callers set plus the
// server's own facts (id, environment, creation time, location history);
// everything else in a response is derived when the session is rendered.
type session struct {
	ID          uuid.UUID
	EnvID       uuid.UUID
	UserID      uuid.UUID // uuid.Nil: anonymous session
	Token       string    // empty: not reachable through /sessions/me
	CreatedAt   time.Time
	ActiveAt    time.Time
	IdleMinutes int64
	UserAgent   string
	SignOn      *signOn // nil for anonymous sessions and after a reset
	Locations   []gen.Location
	Seq         uint64    // creation order, to sort sessions created at the same mock instant (nextSeq)
	WrittenAt   time.Time // mock time of the last write, for the store's safety TTL
}

// signOn is the last sign-on as the caller sent it.
type signOn struct {
	Authenticators []string
	RemoteIP       string
	With           map[string]authenticatorSignOn
}

type authenticatorSignOn struct {
	At     time.Time
	Policy gen.PolicyReference
}

// Clone returns a deep copy (state.Record).
func (s *session) Clone() *session {
	c := *s
	c.Locations = slices.Clone(s.Locations)
	for i, l := range c.Locations {
		c.Locations[i] = cloneLocation(l)
	}
	if s.SignOn != nil {
		so := *s.SignOn
		so.Authenticators = slices.Clone(s.SignOn.Authenticators)
		so.With = maps.Clone(s.SignOn.With)
		c.SignOn = &so
	}
	return &c
}

func cloneLocation(l gen.Location) gen.Location {
	dup := func(p *string) *string {
		if p == nil {
			return nil
		}
		v := *p
		return &v
	}
	l.City, l.State, l.Region, l.Country = dup(l.City), dup(l.State), dup(l.Region), dup(l.Country)
	return l
}

// ExpiresAt is activeAt plus the idle timeout. It adds seconds, not a
// time.Duration, which overflows past ~292 years (153,722,867 minutes)
// while the spec allows any int32.
func (s *session) ExpiresAt() time.Time {
	return time.Unix(s.ActiveAt.Unix()+s.IdleMinutes*60, int64(s.ActiveAt.Nanosecond())).UTC()
}

// lastRenderable is the latest instant an RFC 3339 date-time (four-digit
// year) can carry at PingOne's millisecond precision.
var lastRenderable = time.Date(9999, 12, 31, 23, 59, 59, 999_000_000, time.UTC)

// renderable reports whether every date-time of s fits RFC 3339, so a
// session that could not be read back is never stored.
func (s *session) renderable() bool {
	return !s.ExpiresAt().After(lastRenderable) && !s.ActiveAt.After(lastRenderable) && !s.CreatedAt.After(lastRenderable)
}

// Expired reports whether expiresAt has passed at now.
func (s *session) Expired(now time.Time) bool {
	return now.After(s.ExpiresAt())
}

// latest is the most recent authenticator sign-on, which PingOne reports as
// lastSignOn's top-level at and policy; ok is false when there is none.
func (so *signOn) latest() (a authenticatorSignOn, ok bool) {
	var at string // of a; ties go to the first name in sorted order
	for name, w := range so.With {
		if !ok || w.At.After(a.At) || (w.At.Equal(a.At) && name < at) {
			a, at, ok = w, name, true
		}
	}
	return a, ok
}

// timestamp formats t as PingOne does: UTC with milliseconds.
func timestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// render builds the API representation of s. selfURL is the _links.self
// target, which differs between the environment and user endpoints.
func (s *session) render(base, selfURL string) gen.Session {
	envURL := link(base, "/environments/", s.EnvID)
	a := parseAgent(s.UserAgent)
	out := gen.Session{
		UnderscoreLinks: gen.SessionLinks{
			Self:        gen.Link{Href: selfURL},
			Environment: gen.Link{Href: envURL},
		},
		Id:                   s.ID,
		Environment:          gen.ObjectReference{Id: s.EnvID},
		CreatedAt:            timestamp(s.CreatedAt),
		ActiveAt:             timestamp(s.ActiveAt),
		IdleTimeoutInMinutes: s.IdleMinutes,
		UserAgent:            s.UserAgent,
		Browser:              a.Browser,
		OperatingSystem:      a.OS,
		Device:               a.Device,
		Locations:            slices.Clone(s.Locations),
		ExpiresAt:            timestamp(s.ExpiresAt()),
	}
	if out.Locations == nil {
		out.Locations = []gen.Location{}
	}
	if s.UserID != uuid.Nil {
		out.User = &gen.ObjectReference{Id: s.UserID}
		out.UnderscoreLinks.User = &gen.Link{Href: link(envURL, "/users/", s.UserID)}
	}
	if so := s.SignOn; so != nil {
		ls := &gen.LastSignOn{
			RemoteIp:          so.RemoteIP,
			Authenticators:    slices.Clone(so.Authenticators),
			WithAuthenticator: make(map[string]gen.AuthenticatorSignOn, len(so.With)),
		}
		if ls.Authenticators == nil {
			ls.Authenticators = []string{}
		}
		for name, w := range so.With {
			ls.WithAuthenticator[name] = gen.AuthenticatorSignOn{At: timestamp(w.At), Policy: w.Policy}
		}
		if l, ok := so.latest(); ok {
			at, pol := timestamp(l.At), l.Policy
			ls.At, ls.Policy = &at, &pol
		}
		out.LastSignOn = ls
	}
	return out
}

// link appends to base each segment followed by its id (the ids in their
// canonical text), in one allocation: rendering a session builds several
// links per request, and uuid.String plus concatenation cost one each.
func link(base string, seg1 string, id1 uuid.UUID, more ...segID) string {
	n := len(base) + len(seg1) + 36
	for _, m := range more {
		n += len(m.seg) + 36
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(base)
	b.WriteString(seg1)
	writeUUID(&b, id1)
	for _, m := range more {
		b.WriteString(m.seg)
		writeUUID(&b, m.id)
	}
	return b.String()
}

type segID struct {
	seg string
	id  uuid.UUID
}

// writeUUID writes u as u.String() does, without its allocation.
func writeUUID(b *strings.Builder, u uuid.UUID) {
	const hex = "0123456789abcdef"
	var text [36]byte
	j := 0
	for i, x := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			text[j] = '-'
			j++
		}
		text[j], text[j+1] = hex[x>>4], hex[x&0xf]
		j += 2
	}
	b.Write(text[:])
}
