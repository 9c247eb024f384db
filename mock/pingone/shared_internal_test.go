package pingone

import (
	"sync"
	"testing"
	"time"
)

// TestSafetyTTL: Redis keeps a session for its mock lifetime left when
// written plus a day, at least an hour, and a bounded time for sessions
// that would outlive any Duration.
func TestSafetyTTL(t *testing.T) {
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		active      time.Time
		idleMinutes int64
		want        time.Duration
	}{
		{"30 minutes left", at, 30, 24*time.Hour + 30*time.Minute},
		{"activeAt in the future", at.Add(time.Hour), 30, 25*time.Hour + 30*time.Minute},
		{"expired 2 hours ago", at.Add(-3 * time.Hour), 60, 22 * time.Hour},
		{"expired long ago: the floor", at.AddDate(-1, 0, 0), 60, minSafetyTTL},
		{"until year 9999: the ceiling", at, (lastRenderable.Unix() - at.Unix()) / 60, maxSafetyTTL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &session{ActiveAt: tc.active, IdleMinutes: tc.idleMinutes, WrittenAt: at}
			if got := safetyTTL(s); got != tc.want {
				t.Errorf("safetyTTL = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestNextSeq: sequence numbers increase strictly, also when taken at once.
func TestNextSeq(t *testing.T) {
	const workers, each = 8, 1000
	got := make([][]uint64, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				got[w] = append(got[w], nextSeq())
			}
		}()
	}
	wg.Wait()
	seen := map[uint64]bool{}
	for _, seqs := range got {
		for i, n := range seqs {
			if i > 0 && n <= seqs[i-1] {
				t.Fatalf("%d after %d: not increasing", n, seqs[i-1])
			}
			if seen[n] {
				t.Fatalf("%d handed out twice", n)
			}
			seen[n] = true
		}
	}
	if before, after := uint64(time.Now().Add(-time.Minute).UnixNano()), nextSeq(); after < before {
		t.Errorf("%d is not wall-clock nanoseconds", after)
	}
}
