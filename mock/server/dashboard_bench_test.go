package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/idpmock/idpmock/mock/internal/fakevendor"
	"github.com/idpmock/idpmock/mock/server"
)

// BenchmarkVendorRequest serves a journaled vendor request in process,
// with the dashboard closed and with it open (a long poll of the journal
// waiting, woken by every request), to show what an open dashboard costs
// and that a closed one costs nothing.
func BenchmarkVendorRequest(b *testing.B) {
	for _, open := range []bool{false, true} {
		name := "dashboard closed"
		if open {
			name = "dashboard open"
		}
		b.Run(name, func(b *testing.B) {
			ms, err := server.New(context.Background(), server.Config{}, fakevendor.New)
			if err != nil {
				b.Fatal(err)
			}
			h := ms.Handler()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if open {
				go func() {
					j := ms.Journal()
					for ctx.Err() == nil {
						j.Wait(ctx, j.Seq())
					}
				}()
			}
			body := `{"name":"bench","ttlSeconds":60}`
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/fake/things", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer t")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusCreated {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
		})
	}
}
