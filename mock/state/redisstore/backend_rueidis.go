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
