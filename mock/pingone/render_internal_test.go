package pingone

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestLink: links read as the concatenation of uuid.String they replace.
func TestLink(t *testing.T) {
	for _, id := range []uuid.UUID{uuid.Nil, uuid.MustParse("f3a8c6b1-0e2d-4c7f-9a55-1b2c3d4e5f60"), uuid.New()} {
		env := uuid.New()
		want := "https://x/v1/environments/" + env.String() + "/users/" + id.String() + "/sessions/" + env.String()
		if got := link("https://x/v1", "/environments/", env, segID{"/users/", id}, segID{"/sessions/", env}); got != want {
			t.Errorf("link = %q, want %q", got, want)
		}
		if got := link("", "/u/", id); got != "/u/"+id.String() {
			t.Errorf("link = %q, want %q", got, "/u/"+id.String())
		}
	}
	env, id := uuid.New(), uuid.New()
	if n := testing.AllocsPerRun(100, func() { link("https://x", "/environments/", env, segID{"/sessions/", id}) }); n != 1 {
		t.Errorf("link allocates %.0f times, want 1", n)
	}
}

// TestLatest: the latest sign-on wins; on a tie the first name in sorted
// order does, whatever the map's order.
func TestLatest(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		with map[string]time.Time
		want time.Time
		ok   bool
	}{
		{"none", nil, time.Time{}, false},
		{"newest", map[string]time.Time{"pwd": t0, "otp": t0.Add(time.Minute), "fido": t0.Add(-time.Minute)}, t0.Add(time.Minute), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			so := &signOn{With: map[string]authenticatorSignOn{}}
			for n, at := range tt.with {
				so.With[n] = authenticatorSignOn{At: at}
			}
			got, ok := so.latest()
			if ok != tt.ok || !got.At.Equal(tt.want) {
				t.Errorf("latest = %v %v, want %v %v", got.At, ok, tt.want, tt.ok)
			}
		})
	}
	for range 20 { // map order varies between runs of the loop
		so := &signOn{With: map[string]authenticatorSignOn{}}
		for _, n := range []string{"pwd", "otp", "fido", "email"} {
			a := authenticatorSignOn{At: t0}
			a.Policy.Id = n
			so.With[n] = a
		}
		if got, _ := so.latest(); got.Policy.Id != "email" {
			t.Fatalf("tie went to %v, want email's", got.Policy.Id)
		}
	}
}
