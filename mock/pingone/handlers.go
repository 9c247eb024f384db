package pingone

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"slices"

	"github.com/google/uuid"

	gen "github.com/idpmock/idpmock/gen/pingone"
	"github.com/idpmock/idpmock/mock/clock"
	"github.com/idpmock/idpmock/mock/problem"
	"github.com/idpmock/idpmock/mock/state"
)

const logoutMediaType = "application/vnd.pingidentity.sso.session.logout"

// --- environment endpoint: by ID ---

func (v *Vendor) CreateSession(ctx context.Context, req gen.CreateSessionRequestObject) (gen.CreateSessionResponseObject, error) {
	if err := v.checkEnv(req.EnvID); err != nil {
		return nil, err
	}
	in, err := fromSessionRequest(req.Body)
	if err != nil {
		return nil, err
	}
	if err := v.checkUser(req.EnvID, in.userID); err != nil {
		return nil, err
	}
	info := infoFrom(ctx)
	// The session's times are needed before the store is touched: here
	// the clock comes first.
	now := clock.Now(ctx, v.clock)
	s := &session{ID: uuid.New(), EnvID: req.EnvID, CreatedAt: now, Seq: nextSeq(), WrittenAt: now}
	apply(s, in, info, now)
	if err := checkRenderable(s, in); err != nil {
		return nil, err
	}

	if in.token != nil {
		v.mu.Lock() // this process's token claims take turns (see v.mu)
		defer v.mu.Unlock()
		s.Token = *in.token
	}
	if err := v.createSession(ctx, s); err != nil {
		return nil, err
	}
	if in.token != nil {
		// Claimed after the create, so that a full environment answers
		// first, as PingOne does, and so that of two replicas claiming the
		// token at once at most one keeps it (the later check sees the
		// other's session); a conflict takes the session back.
		if err := v.claimToken(ctx, s.EnvID, *in.token, s.ID); err != nil {
			if _, derr := v.sessions.Delete(ctx, s.ID.String()); derr != nil && !errors.Is(derr, state.ErrNotFound) {
				return nil, storeError(derr)
			}
			return nil, err
		}
	}
	return gen.CreateSession201JSONResponse(s.render(info.base, sessionURL(info.base, s))), nil
}

func (v *Vendor) ReadSession(ctx context.Context, req gen.ReadSessionRequestObject) (gen.ReadSessionResponseObject, error) {
	s, err := v.live(ctx, req.EnvID, req.SessionID)
	if err != nil {
		return nil, err
	}
	base := infoFrom(ctx).base
	return gen.ReadSession200JSONResponse{SessionJSONResponse: gen.SessionJSONResponse(s.render(base, sessionURL(base, s)))}, nil
}

func (v *Vendor) UpdateSession(ctx context.Context, req gen.UpdateSessionRequestObject) (gen.UpdateSessionResponseObject, error) {
	in, err := fromUpdateRequest(req.Body)
	if err != nil {
		return nil, err
	}
	s, err := v.update(ctx, req.EnvID, req.SessionID, in, "", nil)
	if err != nil {
		return nil, err
	}
	base := infoFrom(ctx).base
	return gen.UpdateSession200JSONResponse(s.render(base, sessionURL(base, s))), nil
}

func (v *Vendor) ResetSession(ctx context.Context, req gen.ResetSessionRequestObject) (gen.ResetSessionResponseObject, error) {
	if err := checkLogoutRequest(ctx, req.Body); err != nil {
		return nil, err
	}
	if err := v.checkEnv(req.EnvID); err != nil {
		return nil, err
	}
	if err := v.signOut(ctx, req.EnvID, req.SessionID, nil); err != nil {
		return nil, err
	}
	return gen.ResetSession204Response{}, nil
}

// --- environment endpoint: by session token (ST cookie) ---

func (v *Vendor) ReadSessionByToken(ctx context.Context, req gen.ReadSessionByTokenRequestObject) (gen.ReadSessionByTokenResponseObject, error) {
	s, err := v.byToken(ctx, req.EnvID, req.Params.ST)
	if err != nil {
		return nil, err
	}
	base := infoFrom(ctx).base
	return gen.ReadSessionByToken200JSONResponse{SessionJSONResponse: gen.SessionJSONResponse(s.render(base, sessionURL(base, s)))}, nil
}

func (v *Vendor) UpdateSessionByToken(ctx context.Context, req gen.UpdateSessionByTokenRequestObject) (gen.UpdateSessionByTokenResponseObject, error) {
	in, err := fromSessionRequest(req.Body)
	if err != nil {
		return nil, err
	}
	cur, err := v.byToken(ctx, req.EnvID, req.Params.ST)
	if err != nil {
		return nil, err
	}
	s, err := v.update(ctx, req.EnvID, cur.ID, in, cur.Token, cur)
	if err != nil {
		return nil, err
	}
	base := infoFrom(ctx).base
	return gen.UpdateSessionByToken200JSONResponse{SessionJSONResponse: gen.SessionJSONResponse(s.render(base, sessionURL(base, s)))}, nil
}

func (v *Vendor) ResetSessionByToken(ctx context.Context, req gen.ResetSessionByTokenRequestObject) (gen.ResetSessionByTokenResponseObject, error) {
	if err := checkLogoutRequest(ctx, req.Body); err != nil {
		return nil, err
	}
	s, err := v.byToken(ctx, req.EnvID, req.Params.ST)
	if err != nil {
		return nil, err
	}
	if err := v.signOut(ctx, req.EnvID, s.ID, s); err != nil {
		return nil, err
	}
	return gen.ResetSessionByToken204Response{}, nil
}

func (v *Vendor) DeleteSessionByToken(ctx context.Context, req gen.DeleteSessionByTokenRequestObject) (gen.DeleteSessionByTokenResponseObject, error) {
	s, err := v.byToken(ctx, req.EnvID, req.Params.ST)
	if err != nil {
		return nil, err
	}
	if _, err := v.sessions.DeleteSeen(ctx, s); err != nil {
		return nil, storeError(err)
	}
	return gen.DeleteSessionByToken204Response{}, nil
}

// --- users endpoint ---

func (v *Vendor) ReadUserSessions(ctx context.Context, req gen.ReadUserSessionsRequestObject) (gen.ReadUserSessionsResponseObject, error) {
	if err := v.checkUserEndpoint(req.EnvID, req.UserID); err != nil {
		return nil, err
	}
	list, err := v.userSessions(ctx, req.EnvID, req.UserID)
	if err != nil {
		return nil, err
	}
	base := infoFrom(ctx).base
	var out gen.ReadUserSessions200JSONResponse
	out.UnderscoreLinks.Self.Href = base + "/environments/" + req.EnvID.String() + "/users/" + req.UserID.String() + "/sessions"
	out.UnderscoreEmbedded.Sessions = make([]gen.Session, 0, len(list))
	for _, s := range list {
		out.UnderscoreEmbedded.Sessions = append(out.UnderscoreEmbedded.Sessions, s.render(base, userSessionURL(base, s)))
	}
	n := len(list)
	out.Count, out.Size = &n, &n
	return out, nil
}

func (v *Vendor) ReadUserSession(ctx context.Context, req gen.ReadUserSessionRequestObject) (gen.ReadUserSessionResponseObject, error) {
	s, err := v.ofUser(ctx, req.EnvID, req.UserID, req.SessionID)
	if err != nil {
		return nil, err
	}
	base := infoFrom(ctx).base
	return gen.ReadUserSession200JSONResponse(s.render(base, userSessionURL(base, s))), nil
}

func (v *Vendor) DeleteUserSession(ctx context.Context, req gen.DeleteUserSessionRequestObject) (gen.DeleteUserSessionResponseObject, error) {
	s, err := v.ofUser(ctx, req.EnvID, req.UserID, req.SessionID)
	if err != nil {
		return nil, err
	}
	if _, err := v.sessions.DeleteSeen(ctx, s); err != nil {
		return nil, storeError(err)
	}
	return gen.DeleteUserSession204Response{}, nil
}

// --- lookups ---

// checkEnv enforces KnownEnvironmentsOnly: PingOne answers 403, not 404,
// for an environment that does not exist.
func (v *Vendor) checkEnv(env uuid.UUID) error {
	if v.opts.KnownEnvironmentsOnly && !v.seed.Load().envs[env] {
		return errForbidden()
	}
	return nil
}

// checkUser rejects, when only fixture environments are served, a user.id
// that is not one of the environment's users.
func (v *Vendor) checkUser(env, user uuid.UUID) error {
	if !v.opts.KnownEnvironmentsOnly || user == uuid.Nil {
		return nil
	}
	if e, ok := v.seed.Load().users[user]; !ok || e != env {
		return errInvalid(gen.INVALIDVALUE, "user.id", "The user does not exist in this environment.", nil)
	}
	return nil
}

// checkUserEndpoint is checkEnv plus, in the same mode, an unknown user
// being 404 like any unknown resource.
func (v *Vendor) checkUserEndpoint(env, user uuid.UUID) error {
	if err := v.checkEnv(env); err != nil {
		return err
	}
	if v.opts.KnownEnvironmentsOnly {
		if e, ok := v.seed.Load().users[user]; !ok || e != env {
			return errNotFound()
		}
	}
	return nil
}

// live finds an unexpired session of env by ID: the environment endpoint
// acts only on existing, unexpired sessions.
func (v *Vendor) live(ctx context.Context, env, id uuid.UUID) (*session, error) {
	if err := v.checkEnv(env); err != nil {
		return nil, err
	}
	s, err := v.sessions.Get(ctx, id.String())
	if err != nil {
		return nil, storeError(err)
	}
	if s.EnvID != env || s.Expired(clock.Now(ctx, v.clock)) {
		return nil, errNotFound()
	}
	return s, nil
}

// byToken finds an unexpired session of env by the ST cookie. A missing
// cookie is answered like an unknown one: 404.
func (v *Vendor) byToken(ctx context.Context, env uuid.UUID, token *string) (*session, error) {
	if err := v.checkEnv(env); err != nil {
		return nil, err
	}
	if token == nil || *token == "" {
		return nil, errNotFound()
	}
	found, err := v.sessions.Lookup(ctx, indexToken, tokenKey(env, *token))
	if err != nil {
		return nil, storeError(err)
	}
	now := clock.Now(ctx, v.clock)
	for _, s := range found {
		if !s.Expired(now) {
			return s, nil
		}
	}
	return nil, errNotFound()
}

// ofUser finds a session of the user, expired or not.
func (v *Vendor) ofUser(ctx context.Context, env, user, id uuid.UUID) (*session, error) {
	if err := v.checkUserEndpoint(env, user); err != nil {
		return nil, err
	}
	s, err := v.sessions.Get(ctx, id.String())
	if err != nil {
		return nil, storeError(err)
	}
	if s.EnvID != env || s.UserID != user {
		return nil, errNotFound()
	}
	return s, nil
}

// userSessions lists a user's sessions, newest first.
func (v *Vendor) userSessions(ctx context.Context, env, user uuid.UUID) ([]*session, error) {
	list, err := v.sessions.Lookup(ctx, indexUser, userKey(env, user))
	if err != nil {
		return nil, storeError(err)
	}
	slices.SortFunc(list, func(a, b *session) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		switch {
		case a.Seq > b.Seq:
			return -1
		case a.Seq < b.Seq:
			return 1
		}
		return 0
	})
	return list, nil
}

// --- writes ---
//
// The store may be shared with other replicas, so no rule spanning several
// sessions relies on v.mu: the caps are the store's, checked as it creates;
// a claimed token is checked after the write that claims it. Functions
// passed to Update may run again on a lost race, so they change nothing
// but the record (the variables they set are those of their last run,
// which is the one stored).

// errUnchanged ends an update that has nothing to write.
var errUnchanged = errors.New("pingone: unchanged")

// update applies in to the unexpired session id of env. held is the token
// the session was found by ("" when found by ID): sending it again claims
// nothing. seen is the session as just read, if it was (see write).
func (v *Vendor) update(ctx context.Context, env, id uuid.UUID, in input, held string, seen *session) (*session, error) {
	if err := v.checkUser(env, in.userID); err != nil {
		return nil, err
	}
	if err := v.checkEnv(env); err != nil {
		return nil, err
	}
	info := infoFrom(ctx)
	claim := in.token != nil && *in.token != held
	var taken error // a live session of env already holds the new token
	if claim {
		v.mu.Lock()
		defer v.mu.Unlock()
		live, _, err := v.otherHolders(ctx, env, *in.token, id)
		if err != nil {
			return nil, err
		}
		if live {
			taken = errTokenTaken()
		}
	}
	var (
		prev    *session // the session before this update (for a lost token race)
		kept    bool     // the session held the sent token already
		newUser bool
	)
	s, err := v.write(ctx, id, seen, func(s *session) (*session, error) {
		// Liveness is checked in the same step that changes the session,
		// and answers before a token conflict, as PingOne does.
		now := clock.Now(ctx, v.clock)
		if s.EnvID != env || s.Expired(now) {
			return nil, errNotFound()
		}
		if taken != nil {
			return nil, taken
		}
		if in.token != nil {
			prev, kept = s.Clone(), s.Token == *in.token
		}
		oldUser := s.UserID
		apply(s, in, info, now)
		if err := checkRenderable(s, in); err != nil {
			return nil, err
		}
		if in.token != nil {
			s.Token = *in.token
		}
		s.WrittenAt, newUser = now, s.UserID != oldUser
		return s, nil
	})
	if err != nil {
		return nil, storeError(err)
	}
	if in.token != nil && !kept {
		if err := v.claimToken(ctx, env, *in.token, id); err != nil {
			// Another replica's session took the token between the check
			// above and this update: give the session back its last state.
			if rerr := v.revert(ctx, id, *in.token, prev); rerr != nil {
				return nil, rerr
			}
			return nil, err
		}
	}
	if newUser {
		if err := v.enforceUserCap(ctx, s.EnvID, s.UserID); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// write changes session id with fn, starting from seen when the caller has
// just read it (by token or user): a shared store then skips its own read.
func (v *Vendor) write(ctx context.Context, id uuid.UUID, seen *session, fn func(*session) (*session, error)) (*session, error) {
	if seen != nil {
		return v.sessions.UpdateSeen(ctx, seen, fn)
	}
	return v.sessions.Update(ctx, id.String(), fn)
}

// revert puts back prev, the state of session id before an update that
// claimed token, unless the session has changed its token since.
func (v *Vendor) revert(ctx context.Context, id uuid.UUID, token string, prev *session) error {
	_, err := v.sessions.Update(ctx, id.String(), func(s *session) (*session, error) {
		if s.Token != token {
			return nil, errUnchanged
		}
		return prev.Clone(), nil
	})
	if err != nil && !errors.Is(err, errUnchanged) && !errors.Is(err, state.ErrNotFound) {
		return storeError(err)
	}
	return nil
}

// signOut resets authentication of the unexpired session id of env: the
// session stays (same id and token) but its sign-on is gone, so the user
// must authenticate again.
func (v *Vendor) signOut(ctx context.Context, env, id uuid.UUID, seen *session) error {
	_, err := v.write(ctx, id, seen, func(s *session) (*session, error) {
		now := clock.Now(ctx, v.clock)
		if s.EnvID != env || s.Expired(now) {
			return nil, errNotFound()
		}
		s.SignOn, s.WrittenAt = nil, now
		return s, nil
	})
	return storeError(err)
}

func errTokenTaken() error {
	return errInvalid(gen.UNIQUENESSVIOLATION, "token", "Another session of this environment already uses this token.", nil)
}

// otherHolders looks up the sessions of env other than id that hold token:
// live reports whether one is unexpired; expired are the others.
func (v *Vendor) otherHolders(ctx context.Context, env uuid.UUID, token string, id uuid.UUID) (live bool, expired []*session, err error) {
	holders, err := v.sessions.Lookup(ctx, indexToken, tokenKey(env, token))
	if err != nil {
		return false, nil, storeError(err)
	}
	now := clock.Now(ctx, v.clock)
	for _, h := range holders {
		switch {
		case h.ID == id:
		case h.Expired(now):
			expired = append(expired, h)
		default:
			live = true
		}
	}
	return live, expired, nil
}

// claimToken checks, once session id holds token, that no other live
// session of env does (tokens are unique in an environment among live
// sessions), and takes it from expired holders. Of two sessions claiming a
// token at once, the later check sees the other: at most one keeps it.
func (v *Vendor) claimToken(ctx context.Context, env uuid.UUID, token string, id uuid.UUID) error {
	live, expired, err := v.otherHolders(ctx, env, token, id)
	if err != nil {
		return err
	}
	if live {
		return errTokenTaken()
	}
	for _, h := range expired {
		_, err := v.sessions.Update(ctx, h.ID.String(), func(s *session) (*session, error) {
			if s.Token != token || !s.Expired(clock.Now(ctx, v.clock)) {
				return nil, errUnchanged
			}
			s.Token = ""
			return s, nil
		})
		if err != nil && !errors.Is(err, errUnchanged) && !errors.Is(err, state.ErrNotFound) {
			return storeError(err)
		}
	}
	return nil
}

// maxCreateTries bounds createSession's retries, which other writers
// (replicas) can cause by filling the slot each eviction frees.
const maxCreateTries = 50

// createSession stores s under the store's caps, checked as it creates
// (no count then create, which would race across replicas): past the
// environment's cap PingOne's 429; a user at PingOne's 10 loses their
// oldest session to the new one, unless s's token is another live
// session's (checked before anything is evicted). Readers never see a
// user with more than 10.
func (v *Vendor) createSession(ctx context.Context, s *session) error {
	var cerr error
	for range maxCreateTries {
		cerr = v.sessions.Create(ctx, s)
		if !errors.Is(cerr, state.ErrFull) || errors.As(cerr, new(*state.BudgetError)) {
			return storeError(cerr)
		}
		if v.max > 0 {
			n, err := v.sessions.CountKey(ctx, indexEnv, s.EnvID.String())
			if err != nil {
				return storeError(err)
			}
			if n >= v.max {
				return errSessionCap(v.max)
			}
		}
		if s.UserID == uuid.Nil {
			continue // the environment was full, and is no longer
		}
		list, err := v.userSessions(ctx, s.EnvID, s.UserID)
		if err != nil {
			return err
		}
		if len(list) < maxSessionsPerUser {
			continue // another writer made room meanwhile
		}
		if s.Token != "" {
			live, _, err := v.otherHolders(ctx, s.EnvID, s.Token, s.ID)
			if err != nil {
				return err
			}
			if live {
				return errTokenTaken()
			}
		}
		if _, err := v.sessions.Delete(ctx, list[len(list)-1].ID.String()); err != nil && !errors.Is(err, state.ErrNotFound) {
			return storeError(err)
		}
	}
	return cerr
}

// enforceUserCap keeps a user's newest sessions only, after an update that
// gave a session its user (the store checks index caps on create only).
// Replicas doing it at once delete the same sessions.
func (v *Vendor) enforceUserCap(ctx context.Context, env, user uuid.UUID) error {
	if user == uuid.Nil {
		return nil
	}
	list, err := v.userSessions(ctx, env, user)
	if err != nil {
		return err
	}
	for _, s := range list[min(len(list), maxSessionsPerUser):] {
		if _, err := v.sessions.Delete(ctx, s.ID.String()); err != nil && !errors.Is(err, state.ErrNotFound) {
			return storeError(err)
		}
	}
	return nil
}

// checkLogoutRequest enforces the reset call's shape: PingOne's logout
// media type and an empty body.
func checkLogoutRequest(ctx context.Context, body io.Reader) error {
	ct := infoFrom(ctx).contentType
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil || mt != logoutMediaType {
		return fail(problem.UnsupportedMediaType, gen.INVALIDREQUEST, msgMediaType,
			detail(gen.INVALIDVALUE, "Content-Type", "Content-Type must be "+logoutMediaType+" (got "+quote(ct)+")", nil))
	}
	if body != nil {
		b, err := io.ReadAll(io.LimitReader(body, 1<<16))
		if err != nil {
			return err
		}
		if len(bytes.TrimSpace(b)) > 0 {
			return fail(problem.Invalid, gen.INVALIDREQUEST, msgInvalidRequest,
				detail(gen.INVALIDVALUE, "body", "The request body must be empty for Content-Type "+logoutMediaType+".", nil))
		}
	}
	return nil
}

func quote(s string) string {
	if s == "" {
		return "none"
	}
	return `"` + s + `"`
}

// storeError maps store failures: a missing record is PingOne's 404.
func storeError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, state.ErrNotFound) {
		return errNotFound()
	}
	if be := (*state.BudgetError)(nil); errors.As(err, &be) {
		return errTotalCap(be.Limit)
	}
	return err
}

func sessionURL(base string, s *session) string {
	return link(base, "/environments/", s.EnvID, segID{"/sessions/", s.ID})
}

func userSessionURL(base string, s *session) string {
	return link(base, "/environments/", s.EnvID, segID{"/users/", s.UserID}, segID{"/sessions/", s.ID})
}
