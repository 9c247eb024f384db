package pingone_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/idpmock/idpmock/mock/pingone"
	"github.com/idpmock/idpmock/mock/server"
)

// BenchmarkPersistedCreate is write throughput with --state-file on a
// state of 100,000 sessions (creates, in-process, 4 goroutines per CPU),
// to compare the ways of saving: the benchmark measures requests; the
// saving runs beside them as it does in the server.
func BenchmarkPersistedCreate(b *testing.B) {
	for _, persist := range []bool{false, true} {
		b.Run(fmt.Sprintf("persist=%v", persist), func(b *testing.B) {
			dir := b.TempDir()
			seed := filepath.Join(dir, "seed.json")
			var sb strings.Builder
			now := time.Now().UTC().Format(time.RFC3339)
			sb.WriteString(`{"vendors":{"pingone":{"sessions":[`)
			for i := range 100_000 {
				if i > 0 {
					sb.WriteByte(',')
				}
				fmt.Fprintf(&sb, `{"id":%q,"environment":{"id":%q},"createdAt":%q,"activeAt":%q,"userAgent":"seed"}`, uuid.NewString(), uuid.NewSHA1(uuid.Nil, []byte{byte(i % 4)}), now, now)
			}
			sb.WriteString(`]}}}`)
			if err := os.WriteFile(seed, []byte(sb.String()), 0o600); err != nil {
				b.Fatal(err)
			}
			cfg := server.Config{StateFile: seed, MaxSessions: -1}
			if persist {
				cfg.PersistFile = filepath.Join(dir, "state.json")
			}
			ms, err := server.New(context.Background(), cfg, pingone.Factory(pingone.Options{}))
			if err != nil {
				b.Fatal(err)
			}
			defer ms.Close(context.Background())
			h := ms.Handler()
			body := `{"activeAt":"` + now + `","idleTimeoutInMinutes":60,"userAgent":"bench"}`
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest(http.MethodPost, sessionsPath, strings.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", "Bearer t")
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != http.StatusCreated {
						b.Fatalf("%d %s", rec.Code, rec.Body)
					}
				}
			})
		})
	}
}
