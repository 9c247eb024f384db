package redisstore

import (
	"context"
	"time"

	"github.com/redis/rueidis"

	"github.com/idpmock/idpmock/mock/state"
)

type rueidisBackend struct{ c rueidis.Client }

func openRueidis(url string, o Options) (backend, error) {
	opt, err := rueidis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	opt.Dialer.Timeout = o.Timeout
	// A Redis that stops answering is noticed (and the connection redialled)
	// within the operation timeout instead of TCP keep-alive's minutes.
	opt.ConnWriteTimeout = o.Timeout
	c, err := rueidis.NewClient(opt)
	if err != nil {
		return nil, &state.UnavailableError{Err: err}
	}
	return &rueidisBackend{c: c}, nil
}

func rueidisErr(err error) error {
	if re, ok := rueidis.IsRedisErr(err); ok && !re.IsNil() {
		return &errReply{msg: re.Error()}
	}
	return err
}

func (b *rueidisBackend) get(ctx context.Context, key string) (string, bool, error) {
	v, err := b.c.Do(ctx, b.c.B().Get().Key(key).Build()).ToString()
	if rueidis.IsRedisNil(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, rueidisErr(err)
	}
	return v, true, nil
}

func (b *rueidisBackend) getCached(ctx context.Context, key string, ttl time.Duration) (string, bool, bool, error) {
	r := b.c.DoCache(ctx, b.c.B().Get().Key(key).Cache(), ttl)
	hit := r.IsCacheHit()
	v, err := r.ToString()
	if rueidis.IsRedisNil(err) {
		return "", false, hit, nil
	}
	if err != nil {
		return "", false, hit, rueidisErr(err)
	}
	return v, true, hit, nil
}

func (b *rueidisBackend) run(ctx context.Context, s *script, keys, args []string) ([]string, error) {
	s.once.Do(func() { s.ru = rueidis.NewLuaScript(s.src) })
	v, err := s.ru.Exec(ctx, b.c, keys, args).AsStrSlice()
	if err != nil {
		return nil, rueidisErr(err)
	}
	return v, nil
}

func (b *rueidisBackend) close() { b.c.Close() }

func (b *rueidisBackend) preOf(r rueidis.RedisResult) preResult {
	v, err := r.ToString()
	if rueidis.IsRedisNil(err) {
		return preResult{}
	}
	if err != nil {
		return preResult{err: rueidisErr(err)}
	}
	return preResult{v: v, ok: true}
}

// runWithGet pipelines GET pre and EVALSHA of s: one round trip. A Redis
// that does not know s yet (NOSCRIPT, once per script) gets it by Exec.
func (b *rueidisBackend) runWithGet(ctx context.Context, pre string, s *script, keys, args []string) (preResult, []string, error) {
	s.once.Do(func() { s.ru = rueidis.NewLuaScript(s.src) })
	nk := b.c.B().Evalsha().Sha1(s.sha()).Numkeys(int64(len(keys)))
	var ev rueidis.Completed
	if len(keys) > 0 {
		ev = nk.Key(keys...).Arg(args...).Build()
	} else {
		ev = nk.Arg(args...).Build()
	}
	rs := b.c.DoMulti(ctx, b.c.B().Get().Key(pre).Build(), ev)
	p := b.preOf(rs[0])
	v, err := rs[1].AsStrSlice()
	if re, ok := rueidis.IsRedisErr(err); ok && re.IsNoScript() {
		v, err = s.ru.Exec(ctx, b.c, keys, args).AsStrSlice()
	}
	if err != nil {
		return p, nil, rueidisErr(err)
	}
	return p, v, nil
}

// getWithGet pipelines GET pre and GET key: one round trip.
func (b *rueidisBackend) getWithGet(ctx context.Context, pre, key string) (preResult, string, bool, error) {
	rs := b.c.DoMulti(ctx, b.c.B().Get().Key(pre).Build(), b.c.B().Get().Key(key).Build())
	p := b.preOf(rs[0])
	v, err := rs[1].ToString()
	if rueidis.IsRedisNil(err) {
		return p, "", false, nil
	}
	if err != nil {
		return p, "", false, rueidisErr(err)
	}
	return p, v, true, nil
}
