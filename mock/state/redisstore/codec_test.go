package redisstore

import (
	"bytes"
	"context"
	"encoding/gob"
	"github.com/idpmock/idpmock/mock/internal/redistest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/idpmock/idpmock/mock/state"
	"github.com/idpmock/idpmock/mock/state/statetest"
)

type inner struct{ A, B string }

type okRec struct {
	ID   string `json:"id"`
	At   time.Time
	In   *inner
	List []inner
	M    map[string][]byte
	Next *okRec
}

type hiddenRec struct {
	ID       string `json:"id"`
	Failures int    `json:"-"`
}

type unexportedRec struct {
	ID    string
	count int
}

type nestedHidden struct {
	ID string
	In []hiddenRec
}

func TestJSONLossless(t *testing.T) {
	tests := []struct {
		typ  reflect.Type
		want string // "" for lossless, else part of the error
	}{
		{reflect.TypeFor[*okRec](), ""},
		{reflect.TypeFor[statetest.Rec](), ""},
		{reflect.TypeFor[*hiddenRec](), "Failures is tagged"},
		{reflect.TypeFor[unexportedRec](), "count is unexported"},
		{reflect.TypeFor[nestedHidden](), "In.Failures"},
		{reflect.TypeFor[struct{ F func() }](), "func"},
	}
	for _, tt := range tests {
		t.Run(tt.typ.String(), func(t *testing.T) {
			err := jsonLossless(tt.typ)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}

func (h *hiddenRec) Clone() *hiddenRec { c := *h; return &c }

// gobCodec keeps every exported field, json:"-" or not.
type gobCodec struct{}

func (gobCodec) Marshal(v *hiddenRec) ([]byte, error) {
	var b bytes.Buffer
	err := gob.NewEncoder(&b).Encode(v)
	return b.Bytes(), err
}

func (gobCodec) Unmarshal(b []byte) (*hiddenRec, error) {
	var v hiddenRec
	err := gob.NewDecoder(bytes.NewReader(b)).Decode(&v)
	return &v, err
}

// A type JSON would store in part needs a Codec, and with one every field
// survives.
func TestCodecRequired(t *testing.T) {
	c := &Client{prefix: "x:"}
	cfg := Config[*hiddenRec]{Name: "h", Key: func(h *hiddenRec) string { return h.ID }}
	if _, err := New(c, cfg); err == nil || !strings.Contains(err.Error(), "needs a Codec") {
		t.Fatalf("New without codec = %v", err)
	}
	addr := redistest.Addr(t)
	cfg.Codec = gobCodec{}
	s, err := New(openAt(t, addr, redistest.Prefix(), Options{}), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Create(ctx, &hiddenRec{ID: "u", Failures: 2}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Update(ctx, "u", func(h *hiddenRec) (*hiddenRec, error) { h.Failures++; return h, nil })
	if err != nil || got.Failures != 3 {
		t.Fatalf("update = %+v, %v", got, err)
	}
	if got, _ := s.Get(ctx, "u"); got.Failures != 3 {
		t.Fatalf("get = %+v", got)
	}
}

// BenchmarkCodec compares encodings of a session-sized record (what each
// store operation pays on top of the round trip).
func BenchmarkCodec(b *testing.B) {
	v := &okRec{ID: "3b0c9a7e-5f7d-4c1e-9a59-2f0a1d7e6b21", At: time.Now(), In: &inner{A: "Mozilla/5.0 (X11; Linux x86_64)", B: "203.0.113.7"},
		List: []inner{{A: "pwd", B: "policy-1"}, {A: "otp", B: "policy-2"}}, M: map[string][]byte{"k": []byte("value")}}
	codecs := []struct {
		name      string
		marshal   func() ([]byte, error)
		unmarshal func([]byte) error
	}{
		{"json", func() ([]byte, error) { return JSON[*okRec]{}.Marshal(v) }, func(p []byte) error { _, err := JSON[*okRec]{}.Unmarshal(p); return err }},
		{"gob", func() ([]byte, error) {
			var buf bytes.Buffer
			err := gob.NewEncoder(&buf).Encode(v)
			return buf.Bytes(), err
		}, func(p []byte) error { var x okRec; return gob.NewDecoder(bytes.NewReader(p)).Decode(&x) }},
	}
	for _, c := range codecs {
		p, err := c.marshal()
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				p, _ := c.marshal()
				if err := c.unmarshal(p); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(p)), "bytes")
		})
	}
}

func TestNewRejects(t *testing.T) {
	c := &Client{prefix: "x:"}
	key := func(r statetest.Rec) string { return r.ID }
	ixs := statetest.Indexes
	tests := []struct {
		name string
		cfg  Config[statetest.Rec]
	}{
		{"no name", Config[statetest.Rec]{Key: key}},
		{"braces", Config[statetest.Rec]{Name: "a{b}", Key: key}},
		{"no key", Config[statetest.Rec]{Name: "a"}},
		{"colon in index", Config[statetest.Rec]{Name: "a", Key: key, Indexes: append(ixs[:1:1], state.Index[statetest.Rec]{Name: "x:y", Keys: ixs[0].Keys})}},
		{"duplicate index", Config[statetest.Rec]{Name: "a", Key: key, Indexes: append(ixs[:1:1], ixs[0])}},
		{"limit on unknown index", Config[statetest.Rec]{Name: "a", Key: key, IndexLimits: map[string]int{"nope": 1}}},
	}
	for _, tt := range tests {
		if _, err := New(c, tt.cfg); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
	if _, err := New(c, Config[statetest.Rec]{Name: "a", Key: key, Indexes: ixs, IndexLimits: map[string]int{statetest.Owner: 2}}); err != nil {
		t.Errorf("valid config: %v", err)
	}
}
