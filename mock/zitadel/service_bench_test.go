package zitadel

import (
	"context"
	"strconv"
	"testing"

	"github.com/idpmock/idpmock/fixtures"
	gen "github.com/idpmock/idpmock/gen/zitadel"
	"github.com/idpmock/idpmock/mock/clock"
	"github.com/idpmock/idpmock/mock/server"
)

// BenchmarkService measures the session service alone, without HTTP and
// validation: what the store and the checks cost per operation.
func BenchmarkService(b *testing.B) {
	ctx := context.Background()
	sv, err := New(server.Deps{Clock: clock.New()})
	if err != nil {
		b.Fatal(err)
	}
	s := sv.(*Vendor).svc
	if err := sv.(*Vendor).Reset(ctx, fixtures.Data); err != nil {
		b.Fatal(err)
	}
	patCtx := context.WithValue(ctx, bearerKey{}, "pat-mickey")
	login := "Mini@Mouse.com"
	byName := input{message: "CreateSessionRequest", checks: &gen.Checks{User: &gen.CheckUser{LoginName: &login}}}
	created, zErr := s.create(ctx, byName)
	if zErr != nil {
		b.Fatal(zErr)
	}
	id := *created.SessionId
	password := "Password1!"
	for _, c := range []struct {
		name string
		op   func(i int) *zerr
	}{
		{"create-by-login-name", func(int) *zerr { _, z := s.create(patCtx, byName); return z }},
		{"set-metadata", func(i int) *zerr {
			_, z := s.set(ctx, id, input{message: "SetSessionRequest", metadata: map[string]string{"k": encodeBytes([]byte(strconv.Itoa(i)))}})
			return z
		}},
		{"set-password", func(int) *zerr {
			_, z := s.set(ctx, id, input{message: "SetSessionRequest", checks: &gen.Checks{Password: &gen.CheckPassword{Password: password}}})
			return z
		}},
		{"get", func(int) *zerr { _, z := s.get(ctx, id, nil); return z }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if z := c.op(i); z != nil {
					b.Fatal(z)
				}
			}
		})
	}
}
