package zitadel

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gen "github.com/idpmock/idpmock/gen/zitadel"
	"github.com/idpmock/idpmock/mock/clock"
	"github.com/idpmock/idpmock/mock/state"
	"github.com/idpmock/idpmock/mock/state/stores"
)

// service is the face-neutral core: the REST and Connect handlers only
// unwrap their requests into these calls and wrap the results.
type service struct {
	clock clock.Clock
	log   *slog.Logger

	// mu keeps Reset, Reload, RestoreState and SnapshotState (holding it)
	// from interleaving with this process's requests (sharing it). Requests
	// need no lock among themselves: each change is one atomic store
	// update, as it must be when other replicas write the same store.
	mu sync.RWMutex
	// inst and dir are swapped whole by Reset and Reload while requests
	// read them.
	inst     atomic.Pointer[instance]
	dir      atomic.Pointer[directory]
	users    state.Store[*user]
	intents  state.Store[*intent]
	sessions state.Store[*session]

	// max caps stored sessions (server.Deps.MaxSessions); 0: no cap.
	max int

	idMu   sync.Mutex
	lastID uint64
	// idNode is this process's part of the ids it mints (its low bits) and
	// idStep the distance between two of its ids: on a shared store, ids
	// from different replicas differ in their node part, as ZITADEL's
	// sonyflake ids differ in their machine id, with no store round trip.
	idNode, idStep uint64
}

// nodeBits are the low id bits that name the minting replica on a shared
// store (a random node: two replicas collide once in 256; a collision only
// costs Create's retry with the next id).
const nodeBits = 8

// newService builds the service on b (memory when nil); max caps the
// stored sessions (0: no cap) through the store's own limit, so the cap is
// checked in the same step that creates; budget is the process-wide bound.
func newService(c clock.Clock, log *slog.Logger, max int, b *stores.Backend, budget *state.Budget) (*service, error) {
	s := &service{max: max, clock: c, log: log, idStep: 1}
	if b.Shared() {
		var n [1]byte
		_, _ = rand.Read(n[:])
		s.idNode, s.idStep = uint64(n[0]), 1<<nodeBits
	}
	if err := s.openStores(b, budget); err != nil {
		return nil, err
	}
	s.inst.Store(&instance{})
	s.dir.Store(&directory{})
	return s, nil
}

// eventTime is the mock's clock as PostgreSQL stores an event's time:
// UTC, truncated to microseconds (pgx drops the nanoseconds). Every time
// the mock hands out goes through it, so what a client reads back, sends
// in a query and finds in a state snapshot is the same instant.
func eventTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// nextID returns a numeric, snowflake-like id ("222430354126975533") for
// mock time now: milliseconds in the high bits, then a sequence, then (on a
// shared store) the node. A process's ids grow.
func (s *service) nextID(now time.Time) string {
	s.idMu.Lock()
	defer s.idMu.Unlock()
	ms := uint64(max(now.UnixMilli()-1_600_000_000_000, 0))
	id := ms<<22 | s.idNode
	if id <= s.lastID {
		// The next id of this node past the last one (a restored lastId
		// may carry any node part).
		id = (s.lastID &^ (s.idStep - 1)) + s.idStep + s.idNode
	}
	s.lastID = id
	return strconv.FormatUint(id, 10)
}

// newToken mints an opaque session token shaped like ZITADEL's (base64url
// without padding, 78 characters).
func newToken() string {
	b := make([]byte, 58)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// caller is who the bearer token belongs to: a user whose personal access
// token it is, or the instance's default caller. Tokens are fixture data,
// read from the directory without a store round trip.
func (s *service) caller(ctx context.Context) string {
	tok, _ := ctx.Value(bearerKey{}).(string)
	if tok != "" {
		if id, ok := s.dir.Load().byPAT[tok]; ok {
			return id
		}
	}
	return s.inst.Load().DefaultCallerID
}

type bearerKey struct{}

// The users' indexes: login names lower-cased (a case-sensitive instance
// filters the candidates), personal access tokens as they are.
const (
	byLoginName = "loginName"
	byToken     = "token"
)

// change collects what one Create/Set call does to a session. Within a
// store update it is rebuilt at each run of the update's fn (a shared
// store may run it again after a lost race), so what the checks do outside
// the session is only recorded here and applied once by settle.
type change struct {
	s       *session
	now     time.Time
	events  int
	resp    *gen.Challenges
	message string // PGV name of the request, for validation errors
	// checked is the user resolveUser read for a user check, which the
	// other checks reuse instead of reading it again.
	checked *user
	// op names this request: an intent it consumes and a recovery code it
	// uses are marked with it, so a re-run of the same update accepts its
	// own consumption.
	op string

	// Effects for settle: a wrong password (the user's id), a right one
	// that resets a failure counter, OTP codes to log.
	wrongPassword string
	resetFailures string
	otpLogs       []otpLog
}

// otpLog is an OTP code the mock "sends" by logging it.
type otpLog struct {
	msg                 string
	user, key, to, code string
}

// newOp names one request for change.op.
func newOp(sessionID string) string {
	b := make([]byte, 9)
	_, _ = rand.Read(b)
	return sessionID + "/" + base64.RawURLEncoding.EncodeToString(b)
}

// input is a Create or Set request, face-neutral.
type input struct {
	message    string // CreateSessionRequest or SetSessionRequest
	checks     *gen.Checks
	metadata   map[string]string
	challenges *gen.RequestChallenges
	userAgent  *gen.UserAgent
	lifetime   *string
	token      string // Set only: the deprecated, ignored token
}

// parsed is input after the protojson-level decoding the schema cannot do.
type parsed struct {
	metadata map[string][]byte
	lifetime time.Duration
	hasLife  bool
}

func (in *input) parse() (parsed, *zerr) {
	var p parsed
	if in.metadata != nil {
		p.metadata = make(map[string][]byte, len(in.metadata))
		for _, k := range sortedKeys(in.metadata) {
			b, err := decodeBytes(in.metadata[k])
			if err != nil {
				return p, plainErr(codeInvalidArgument, "proto: invalid value for bytes field value: %q", in.metadata[k])
			}
			p.metadata[k] = b
		}
	}
	if in.lifetime != nil {
		d, err := parseDuration(*in.lifetime)
		if err != nil {
			return p, plainErr(codeInvalidArgument, "proto: %v", err)
		}
		if d <= 0 {
			return p, plainErr(codeInvalidArgument, "invalid %s.Lifetime: value must be greater than 0s", in.message)
		}
		p.lifetime, p.hasLife = d, true
	}
	return p, nil
}

// create is CreateSession.
func (s *service) create(ctx context.Context, in input) (*gen.CreateSessionResponse, *zerr) {
	p, zerr := in.parse()
	if zerr != nil {
		return nil, zerr
	}
	checked, zerr := s.resolveUser(ctx, in.checks)
	if zerr != nil {
		return nil, zerr
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	// After the user's read: a shared clock rides on the first round trip.
	now := eventTime(clock.Now(ctx, s.clock))
	sess := &session{
		ID: s.nextID(now), Created: now, Changed: now, CreatorID: s.caller(ctx),
		Metadata: map[string][]byte{}, UserAgent: userAgentFrom(in.userAgent),
	}
	c := &change{s: sess, now: now, events: 1, checked: checked} // session.added
	c.op = newOp(sess.ID)
	if zerr := s.apply(ctx, c, checked, in, p); zerr != nil {
		return nil, s.settle(ctx, c, zerr)
	}
	sess.TokenID = newToken()
	c.events++ // session.token.set
	sess.Sequence += uint64(c.events)
	if zerr := s.insert(ctx, sess, true); zerr != nil {
		return nil, zerr
	}
	if zerr := s.settle(ctx, c, nil); zerr != nil {
		return nil, zerr
	}
	return &gen.CreateSessionResponse{
		Details:      s.details(sess),
		SessionId:    strPtr(sess.ID),
		SessionToken: strPtr(sess.TokenID),
		Challenges:   c.resp,
	}, nil
}

// set is SetSession; the token it is sent is ignored.
func (s *service) set(ctx context.Context, id string, in input) (*gen.SetSessionResponse, *zerr) {
	p, zerr := in.parse()
	if zerr != nil {
		return nil, zerr
	}
	checked, zerr := s.resolveUser(ctx, in.checks)
	if zerr != nil {
		return nil, zerr
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var (
		now   time.Time
		c     *change
		token *string
	)
	op := newOp(id)
	// step is the whole change, run inside the store's atomic update so
	// that no other writer (another replica on a shared store) can slip
	// between reading the session and writing it back. It may run more
	// than once: it changes nothing but the session and c.
	step := func(sess *session) (*session, error) {
		if now.IsZero() {
			// After the session's read: a shared clock rides on it.
			now = eventTime(clock.Now(ctx, s.clock))
		}
		if sess.Terminated {
			return nil, errSessionEnded()
		}
		if sess.expired(now) {
			return nil, errSessionExpired()
		}
		c = &change{s: sess, now: now, checked: checked, op: op}
		if zerr := s.apply(ctx, c, checked, in, p); zerr != nil {
			return nil, zerr
		}
		// Nothing changed: ZITADEL pushes no event and mints no token, so
		// the answer has no sessionToken and the details of the last change
		// (internal/command/session.go updateSession).
		if c.events == 0 {
			return nil, errUnchanged
		}
		sess.TokenID = newToken()
		c.events++
		token = strPtr(sess.TokenID)
		sess.Changed = now
		sess.Sequence += uint64(c.events)
		return sess, nil
	}
	sess, err := s.sessions.Update(ctx, id, step)
	if errors.Is(err, state.ErrNotFound) {
		// ZITADEL's command side never asks whether the session exists: it
		// runs the checks against an empty write model and pushes what they
		// produce (command/session.go UpdateSession). The events land on an
		// aggregate the sessions projection has no row for, so GetSession
		// and ListSessions never see it; only a later Set or Delete does.
		sess, err = step(&session{ID: id, Ghost: true, Metadata: map[string][]byte{}})
		if err == nil {
			if zerr := s.insert(ctx, sess, false); zerr != nil {
				return nil, zerr
			}
		}
	}
	switch failed, isCheck := checkErr(err); {
	case errors.Is(err, errUnchanged):
		sess = c.s
	case isCheck:
		// A check failed; what the checks before it did to users stays.
		return nil, s.settle(ctx, c, failed)
	case err != nil:
		return nil, storeErr(err)
	}
	if zerr := s.settle(ctx, c, nil); zerr != nil {
		return nil, zerr
	}
	return &gen.SetSessionResponse{
		Details:      s.details(sess),
		SessionToken: token,
		Challenges:   c.resp,
	}, nil
}

// errUnchanged ends an update that has nothing to write.
var errUnchanged = errors.New("zitadel: nothing changed")

// checkErr is err as a check's own error, if it is one.
func checkErr(err error) (*zerr, bool) {
	var z *zerr
	return z, errors.As(err, &z)
}

// asZerr is the client's error for what an update returned: a check's own
// error, else the store's.
func asZerr(err error) *zerr {
	var z *zerr
	if errors.As(err, &z) {
		return z
	}
	return storeErr(err)
}

// insert stores a new session. With newID, a taken id (a SetSession ghost
// holds it, see set) is replaced by a fresh one. Past the session cap (the
// store's limit, checked as it creates), terminated and ghost sessions
// (kept only so a later delete or set answers as ZITADEL does) go first;
// past that, the create fails with resource_exhausted.
func (s *service) insert(ctx context.Context, sess *session, newID bool) *zerr {
	evicted := false
	for {
		err := s.sessions.Create(ctx, sess)
		var total *state.BudgetError // the process-wide cap, not this instance's
		switch {
		case err == nil:
			return nil
		case newID && errors.Is(err, state.ErrExists):
			sess.ID = s.nextID(sess.Created)
		case errors.Is(err, state.ErrFull) && !errors.As(err, &total) && !evicted:
			ended, err := s.sessions.List(ctx, func(x *session) bool { return x.Terminated || x.Ghost })
			if err != nil {
				return storeErr(err)
			}
			for _, x := range ended {
				// Another request (or replica) may have evicted it first.
				if _, err := s.sessions.Delete(ctx, x.ID); err != nil && !errors.Is(err, state.ErrNotFound) {
					return storeErr(err)
				}
			}
			evicted = true
		case errors.Is(err, state.ErrFull) && !errors.As(err, &total):
			return plainErr(codeResourceExhausted, "idpmock stores at most %d sessions per instance (--max-sessions); delete sessions or reset the mock (POST /__mock/reset)", s.max)
		default:
			return storeErr(err)
		}
	}
}

// get is GetSession.
func (s *service) get(ctx context.Context, id string, token *string) (*gen.GetSessionResponse, *zerr) {
	sess, err := s.sessions.Get(ctx, id)
	if err != nil || sess.Terminated || sess.Ghost {
		if err == nil || errors.Is(err, state.ErrNotFound) {
			return nil, errSessionNotFound()
		}
		return nil, storeErr(err)
	}
	if token != nil && *token != sess.TokenID {
		return nil, errGetTokenInvalid()
	}
	out := s.render(ctx, sess)
	return &gen.GetSessionResponse{Session: &out}, nil
}

// remove is DeleteSession: idempotent once the token (if any) verifies.
func (s *service) remove(ctx context.Context, id string, token *string) (*gen.DeleteSessionResponse, *zerr) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var (
		now     time.Time
		current *session
	)
	sess, err := s.sessions.Update(ctx, id, func(sess *session) (*session, error) {
		if now.IsZero() {
			now = eventTime(clock.Now(ctx, s.clock)) // after the read
		}
		current = sess
		if token != nil && *token != "" && *token != sess.TokenID {
			return nil, errDelTokenInvalid()
		}
		// A ghost (events without session.added) is not active: ZITADEL
		// answers with its write model's details and pushes nothing.
		if sess.Terminated || sess.Ghost {
			return nil, errUnchanged
		}
		sess.Terminated = true
		sess.Sequence++
		sess.Changed = now
		return sess, nil
	})
	switch {
	case errors.Is(err, state.ErrNotFound):
		if token != nil && *token != "" {
			return nil, errDelTokenInvalid()
		}
		// Unknown sessions terminate "successfully": ZITADEL renders the
		// empty write model, which only knows its resource owner, the
		// instance (command/session.go terminateSession).
		return &gen.DeleteSessionResponse{Details: &gen.Details{ResourceOwner: strPtr(s.inst.Load().ID)}}, nil
	case errors.Is(err, errUnchanged):
		sess = current
	case err != nil:
		return nil, asZerr(err)
	}
	return &gen.DeleteSessionResponse{Details: s.details(sess)}, nil
}

// list is ListSessions.
func (s *service) list(ctx context.Context, req *gen.ListSessionsRequest) (*gen.ListSessionsResponse, *zerr) {
	var offset, limit uint64
	if req != nil && req.Query != nil {
		q := req.Query
		if q.Offset != nil {
			raw, _ := q.Offset.MarshalJSON()
			n, err := parseUint(raw, 64)
			if err != nil {
				return nil, plainErr(codeInvalidArgument, "proto: invalid value for uint64 field offset: %s", raw)
			}
			offset = n
		}
		if q.Limit != nil {
			raw, _ := q.Limit.MarshalJSON()
			n, err := parseUint(raw, 32)
			if err != nil {
				return nil, plainErr(codeInvalidArgument, "proto: invalid value for uint32 field limit: %s", raw)
			}
			limit = n
		}
	}
	q := s.inst.Load().Query
	if q.MaxLimit > 0 && limit > q.MaxLimit {
		return nil, errLimitExceeded()
	}
	if limit == 0 {
		limit = q.DefaultLimit
	}
	var filters []func(*session) bool
	if req != nil && req.Queries != nil {
		for _, q := range *req.Queries {
			f, zerr := s.filter(ctx, q)
			if zerr != nil {
				return nil, zerr
			}
			filters = append(filters, f)
		}
	}
	// The last session event is the latest change of any session the
	// projection knows (terminated ones included, ghosts not): derived from
	// the stored sessions, so every replica of a shared store reports the
	// same, in the same round trip as the list.
	var last time.Time
	all, err := s.sessions.List(ctx, func(x *session) bool {
		if !x.Ghost && x.Changed.After(last) {
			last = x.Changed
		}
		if x.Terminated || x.Ghost {
			return false
		}
		for _, f := range filters {
			if !f(x) {
				return false
			}
		}
		return true
	})
	if err != nil {
		return nil, storeErr(err)
	}
	sortSessions(all, req)
	total := uint64(len(all))
	// ZITADEL reads the projection's state, which no longer carries a
	// sequence (query/current_state.go prepareLatestState): processedSequence
	// is 0 and omitted; timestamp is the last session event's time, the zero
	// Timestamp before the instance has any.
	ts := fmtTime(last)
	out := &gen.ListSessionsResponse{Details: &gen.ListDetails{
		TotalResult: uintStr(total),
		Timestamp:   &ts,
	}}
	if offset >= total {
		// The total is COUNT(*) OVER () read from the returned rows
		// (query/session.go prepareSessionsQuery): no rows, no total.
		out.Details.TotalResult = nil
		return out, nil
	}
	page := all[offset:]
	if limit > 0 && uint64(len(page)) > limit {
		page = page[:limit]
	}
	sessions := make([]gen.Session, 0, len(page))
	for _, x := range page {
		sessions = append(sessions, s.render(ctx, x))
	}
	out.Sessions = &sessions
	return out, nil
}

// sortSessions orders a ListSessions result. With sortingColumn
// SESSION_FIELD_NAME_CREATION_DATE, ZITADEL sorts by creation date,
// descending unless query.asc (query/search_query.go SearchRequest.toQuery);
// equal dates (PostgreSQL leaves their order open) go by id the same way.
// Without a sorting column ZITADEL adds no ORDER BY at all, so PostgreSQL
// returns rows in whatever order it scans them and query.asc has no
// effect; the mock returns them in creation order, oldest first, which is
// what a freshly written projection table usually yields.
func sortSessions(all []*session, req *gen.ListSessionsRequest) {
	byDate := req != nil && req.SortingColumn != nil && *req.SortingColumn == gen.SESSIONFIELDNAMECREATIONDATE
	asc := !byDate || (req.Query != nil && req.Query.Asc != nil && *req.Query.Asc)
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i], all[j]
		c := cmp.Or(a.Created.Compare(b.Created), cmpID(a.ID, b.ID))
		if asc {
			return c < 0
		}
		return c > 0
	})
}

// cmpID compares numeric ids as numbers (ids are snowflake-like and grow
// with time), anything else as text after them.
func cmpID(a, b string) int {
	x, errA := strconv.ParseUint(a, 10, 64)
	y, errB := strconv.ParseUint(b, 10, 64)
	switch {
	case errA == nil && errB == nil:
		return cmp.Compare(x, y)
	case errA == nil:
		return -1
	case errB == nil:
		return 1
	}
	return strings.Compare(a, b)
}

// filter turns one SearchQuery into a predicate.
func (s *service) filter(ctx context.Context, q gen.SearchQuery) (func(*session) bool, *zerr) {
	switch {
	case q.IdsQuery != nil:
		var ids []string
		if q.IdsQuery.Ids != nil {
			ids = *q.IdsQuery.Ids
		}
		return func(x *session) bool { return slices.Contains(ids, x.ID) }, nil
	case q.UserIdQuery != nil:
		id := deref(q.UserIdQuery.Id)
		// SQL user_id = '': sessions without a checked user hold NULL there,
		// so an empty id matches nothing.
		return func(x *session) bool { return id != "" && x.UserID == id }, nil
	case q.CreationDateQuery != nil:
		return timeFilter(q.CreationDateQuery.CreationDate, q.CreationDateQuery.Method, func(x *session) time.Time { return x.Created })
	case q.ExpirationDateQuery != nil:
		return timeFilter(q.ExpirationDateQuery.ExpirationDate, q.ExpirationDateQuery.Method, func(x *session) time.Time { return x.Expiration })
	case q.CreatorQuery != nil:
		id := deref(q.CreatorQuery.Id)
		if id == "" {
			id = s.caller(ctx)
		}
		return func(x *session) bool { return x.CreatorID == id }, nil
	case q.UserAgentQuery != nil:
		fp := deref(q.UserAgentQuery.FingerprintId)
		if fp == "" {
			// The caller's token carries no user agent in the mock.
			return nil, errQueryInvalid("GRPC-x8n23uh")
		}
		return func(x *session) bool {
			return x.UserAgent != nil && x.UserAgent.FingerprintID != nil && *x.UserAgent.FingerprintID == fp
		}, nil
	}
	return nil, errQueryInvalid("GRPC-Sfefs")
}

// timeFilter compares a session time with a query's; a zero session time
// (no expiration) counts as "never", i.e. later than any date.
func timeFilter(at *string, method *gen.TimestampQueryMethod, get func(*session) time.Time) (func(*session) bool, *zerr) {
	var ref time.Time
	if at != nil {
		t, err := parseTime(*at)
		if err != nil {
			return nil, plainErr(codeInvalidArgument, "proto: %v", err)
		}
		// pgx sends the parameter with microsecond precision too, so a
		// date read back from a session matches it exactly.
		ref = eventTime(t)
	}
	m := gen.TimestampQueryMethod("TIMESTAMP_QUERY_METHOD_EQUALS")
	if method != nil {
		m = *method
	}
	return func(x *session) bool {
		v := get(x)
		never := v.IsZero()
		switch m {
		case "TIMESTAMP_QUERY_METHOD_GREATER":
			return never || v.After(ref)
		case "TIMESTAMP_QUERY_METHOD_GREATER_OR_EQUALS":
			return never || !v.Before(ref)
		case "TIMESTAMP_QUERY_METHOD_LESS":
			return !never && v.Before(ref)
		case "TIMESTAMP_QUERY_METHOD_LESS_OR_EQUALS":
			return !never && !v.After(ref)
		}
		return !never && v.Equal(ref)
	}, nil
}

// details is what ZITADEL's session commands fill from the session's write
// model: sequence, change date and resource owner (the instance), never a
// creation date (command/session.go sessionWriteModelToSessionChanged,
// object/v2 DomainToDetailsPb).
func (s *service) details(sess *session) *gen.Details {
	return &gen.Details{
		Sequence:      uintStr(sess.Sequence),
		ChangeDate:    timePtr(sess.Changed),
		ResourceOwner: strPtr(s.inst.Load().ID),
	}
}

// render converts a stored session to its protojson shape: zero values
// omitted, factors only once a user was checked.
func (s *service) render(ctx context.Context, x *session) gen.Session {
	out := gen.Session{
		Id:             strPtr(x.ID),
		CreationDate:   timePtr(x.Created),
		ChangeDate:     timePtr(x.Changed),
		Sequence:       uintStr(x.Sequence),
		ExpirationDate: timePtr(x.Expiration),
	}
	if len(x.Metadata) > 0 {
		md := make(gen.Metadata, len(x.Metadata))
		for k, v := range x.Metadata {
			md[k] = encodeBytes(v)
		}
		out.Metadata = &md
	}
	if ua := x.UserAgent; ua != nil && (ua.FingerprintID != nil || ua.IP != nil || ua.Description != nil || len(ua.Header) > 0) {
		g := gen.UserAgent{FingerprintId: ua.FingerprintID, Ip: ua.IP, Description: ua.Description}
		if len(ua.Header) > 0 {
			h := make(map[string]gen.HeaderValues, len(ua.Header))
			for k, v := range ua.Header {
				var vals *[]string
				if len(v) > 0 {
					vals = ptr(slices.Clone(v))
				}
				h[k] = gen.HeaderValues{Values: vals}
			}
			g.Header = &h
		}
		out.UserAgent = &g
	}
	if x.UserID == "" || x.UserCheckedAt.IsZero() {
		return out
	}
	f := gen.Factors{User: &gen.UserFactor{VerifiedAt: timePtr(x.UserCheckedAt), Id: strPtr(x.UserID), OrganizationId: strPtr(x.UserOrgID)}}
	if u := s.dir.Load().byID[x.UserID]; u != nil { // names are fixture data
		f.User.LoginName = strPtr(u.preferredLoginName())
		f.User.DisplayName = strPtr(u.DisplayName)
	}
	if !x.PasswordAt.IsZero() {
		f.Password = &gen.PasswordFactor{VerifiedAt: timePtr(x.PasswordAt)}
	}
	if !x.WebAuthNAt.IsZero() {
		f.WebAuthN = &gen.WebAuthNFactor{VerifiedAt: timePtr(x.WebAuthNAt)}
		if x.WebAuthNUV {
			f.WebAuthN.UserVerified = ptr(true)
		}
	}
	if !x.IntentAt.IsZero() {
		f.Intent = &gen.IntentFactor{VerifiedAt: timePtr(x.IntentAt)}
	}
	if !x.TOTPAt.IsZero() {
		f.Totp = &gen.TOTPFactor{VerifiedAt: timePtr(x.TOTPAt)}
	}
	if !x.OTPSMSAt.IsZero() {
		f.OtpSms = &gen.OTPFactor{VerifiedAt: timePtr(x.OTPSMSAt)}
	}
	if !x.OTPEmailAt.IsZero() {
		f.OtpEmail = &gen.OTPFactor{VerifiedAt: timePtr(x.OTPEmailAt)}
	}
	if !x.RecoveryAt.IsZero() {
		f.RecoveryCode = &gen.RecoveryCodeFactor{VerifiedAt: timePtr(x.RecoveryAt)}
	}
	out.Factors = &f
	return out
}

func userAgentFrom(ua *gen.UserAgent) *userAgent {
	if ua == nil {
		return nil
	}
	out := &userAgent{FingerprintID: ua.FingerprintId, Description: ua.Description}
	if ua.Ip != nil {
		// ZITADEL stores a parsed net.IP; an unparsable address is dropped.
		if ip := normalizeIP(*ua.Ip); ip != "" {
			out.IP = &ip
		}
	}
	if ua.Header != nil {
		out.Header = make(map[string][]string, len(*ua.Header))
		for k, v := range *ua.Header {
			if v.Values != nil {
				out.Header[k] = slices.Clone(*v.Values)
			} else {
				out.Header[k] = nil
			}
		}
	}
	return out
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// storeErr is the client's error for a store failure: the shared store
// down is ZITADEL's unavailable (code 14), as the server words it.
func storeErr(err error) *zerr {
	if errors.Is(err, state.ErrUnavailable) {
		return plainErr(codeUnavailable, "the mock's state store is unavailable")
	}
	if errors.Is(err, state.ErrFull) {
		return newErr(codeResourceExhausted, "", "the mock's session limit is reached")
	}
	return plainErr(codeInternal, "%s", strings.TrimPrefix(fmt.Sprint(err), "state: "))
}
