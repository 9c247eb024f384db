package pingone

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"

	gen "github.com/idpmock/idpmock/gen/pingone"
)

// input is a create or update request, reduced to what the mock keeps. The
// spec has already checked types and required fields; what is left here is
// what a schema cannot say.
type input struct {
	activeAt  time.Time
	idle      *int64 // nil: not sent
	userID    uuid.UUID
	userAgent string
	signOn    *gen.LastSignOnRequest
	token     *string // nil: not sent (always nil for Update Session By ID)
}

func fromSessionRequest(b *gen.SessionRequest) (input, error) {
	in := input{activeAt: b.ActiveAt, userAgent: b.UserAgent, signOn: b.LastSignOn, token: b.Token}
	in.userID = userOf(b.User)
	var err error
	in.idle, err = idleMinutes(b.IdleTimeoutInMinutes)
	return in, err
}

func fromUpdateRequest(b *gen.SessionUpdateRequest) (input, error) {
	in := input{activeAt: b.ActiveAt, userAgent: b.UserAgent, signOn: b.LastSignOn}
	in.userID = userOf(b.User)
	var err error
	in.idle, err = idleMinutes(b.IdleTimeoutInMinutes)
	return in, err
}

func userOf(u *gen.UserReference) uuid.UUID {
	if u == nil || u.Id == nil {
		return uuid.Nil
	}
	return *u.Id
}

// idleMinutes reads idleTimeoutInMinutes, sent as a number or (as in every
// PingOne example) a numeric string.
func idleMinutes(v *gen.IdleTimeoutInMinutes) (*int64, error) {
	if v == nil {
		return nil, nil
	}
	raw, err := v.MarshalJSON()
	if err != nil {
		return nil, err
	}
	raw = bytes.TrimSpace(raw)
	if bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var text string
	if len(raw) > 0 && raw[0] == '"' {
		if err := json.Unmarshal(raw, &text); err != nil {
			return nil, errInvalid(gen.INVALIDVALUE, "idleTimeoutInMinutes", "idleTimeoutInMinutes must be an integer", nil)
		}
	} else {
		text = string(raw)
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
		n, err = maxIdleMinutes+1, nil // out of range either way
	}
	if err != nil {
		return nil, errInvalid(gen.INVALIDVALUE, "idleTimeoutInMinutes", "idleTimeoutInMinutes must be an integer", nil)
	}
	if n < 1 || n > maxIdleMinutes {
		lo, hi := int64(1), int64(maxIdleMinutes)
		return nil, errInvalid(gen.OUTOFRANGE, "idleTimeoutInMinutes",
			fmt.Sprintf("idleTimeoutInMinutes must be between %d and %d", lo, hi),
			&gen.InnerError{RangeMinimumValue: &lo, RangeMaximumValue: &hi})
	}
	return &n, nil
}

// toSignOn keeps the caller's sign-on.
func toSignOn(r *gen.LastSignOnRequest) *signOn {
	if r == nil {
		return nil
	}
	so := &signOn{
		Authenticators: append([]string(nil), r.Authenticators...),
		RemoteIP:       r.RemoteIp,
		With:           make(map[string]authenticatorSignOn, len(r.WithAuthenticator)),
	}
	for name, w := range r.WithAuthenticator {
		so.With[name] = authenticatorSignOn{At: w.At.UTC(), Policy: w.Policy}
	}
	return so
}

// apply writes in onto s as a create or an update (PUT replaces what the
// caller sets; an omitted idle timeout keeps the current one) and records
// the request's location.
func apply(s *session, in input, info requestInfo, now time.Time) {
	s.ActiveAt = in.activeAt.UTC()
	if in.idle != nil {
		s.IdleMinutes = *in.idle
	} else if s.IdleMinutes == 0 {
		s.IdleMinutes = defaultIdleMinutes
	}
	s.UserAgent = in.userAgent
	s.UserID = in.userID
	s.SignOn = nil
	if s.UserID != uuid.Nil { // without a user, PingOne ignores lastSignOn
		s.SignOn = toSignOn(in.signOn)
	}

	// One location per create/update: where and when the user signed on
	// if the request says so, else the caller's address, now.
	loc := gen.Location{At: timestamp(now), RemoteIp: info.clientIP}
	if s.SignOn != nil {
		if l, ok := s.SignOn.latest(); ok {
			loc.At = timestamp(l.At)
		}
		if s.SignOn.RemoteIP != "" {
			loc.RemoteIp = s.SignOn.RemoteIP
		}
	}
	if loc.RemoteIp == "" {
		loc.RemoteIp = "127.0.0.1"
	}
	s.Locations = append(s.Locations, loc)
	if n := len(s.Locations); n > maxLocations {
		s.Locations = append([]gen.Location(nil), s.Locations[n-maxLocations:]...)
	}
}

// checkRenderable refuses a session whose expiresAt would fall past year
// 9999, which no RFC 3339 date-time can carry. PingOne's own limit is not
// documented; refusing with its usual OUT_OF_RANGE detail (rather than
// clamping) keeps expiresAt = activeAt + idleTimeoutInMinutes true of every
// session a client reads back. The detail names idleTimeoutInMinutes when
// the request sent it (it is what pushes the date out), else activeAt.
func checkRenderable(s *session, in input) error {
	if s.renderable() {
		return nil
	}
	target := "activeAt"
	if in.idle != nil {
		target = "idleTimeoutInMinutes"
	}
	lo := int64(1)
	hi := max((lastRenderable.Unix()-s.ActiveAt.Unix())/60, 0)
	return errInvalid(gen.OUTOFRANGE, target,
		fmt.Sprintf("activeAt plus idleTimeoutInMinutes must be at most %s; with this activeAt, idleTimeoutInMinutes must be between %d and %d", timestamp(lastRenderable), lo, hi),
		&gen.InnerError{RangeMinimumValue: &lo, RangeMaximumValue: &hi})
}
