// Package fakevendor is a tiny vendor for testing idpmock's generic
// machinery without a real identity provider: things that expire on the
// server clock, seeded from fixtures/fake/things.json. It implements every
// optional vendor interface.
package fakevendor

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"github.com/idpmock/idpmock/mock/clock"
	"github.com/idpmock/idpmock/mock/problem"
	"github.com/idpmock/idpmock/mock/server"
)

//go:embed spec.yaml
var spec []byte

// Thing is the fake resource.
type Thing struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// Vendor is the fake vendor.
type Vendor struct {
	clock  clock.Clock
	mu     sync.Mutex
	things map[string]Thing
	seq    int
	// Seeds counts fixture loads, so tests can see a reload happened.
	Seeds int
}

// New is a server.VendorFactory.
func New(d server.Deps) (server.Vendor, error) {
	return &Vendor{clock: d.Clock, things: map[string]Thing{}}, nil
}

func (v *Vendor) Name() string { return "fake" }
func (v *Vendor) Spec() (*openapi3.T, error) {
	return openapi3.NewLoader().LoadFromData(spec)
}
func (v *Vendor) BasePath() string   { return "" }
func (v *Vendor) Prefixes() []string { return []string{"/fake/"} }

func (v *Vendor) WriteError(c echo.Context, p *problem.Problem) error {
	return c.JSON(p.Status(), map[string]string{"error": string(p.Kind), "message": p.Message})
}

func (v *Vendor) Register(e *echo.Echo) {
	e.POST("/fake/things", v.create)
	e.GET("/fake/things/:id", v.read)
	e.DELETE("/fake/things/:id", v.delete)
}

func (v *Vendor) create(c echo.Context) error {
	var in struct {
		Name       string `json:"name"`
		TTLSeconds int    `json:"ttlSeconds"`
	}
	if err := json.NewDecoder(c.Request().Body).Decode(&in); err != nil {
		return problem.New(problem.Invalid, "bad body: %v", err)
	}
	if in.TTLSeconds == 0 {
		in.TTLSeconds = 3600
	}
	v.mu.Lock()
	v.seq++
	t := Thing{ID: fmt.Sprintf("t%d", v.seq), Name: in.Name, ExpiresAt: v.clock.Now().Add(time.Duration(in.TTLSeconds) * time.Second).UTC()}
	v.things[t.ID] = t
	v.mu.Unlock()
	return c.JSON(http.StatusCreated, t)
}

func (v *Vendor) get(id string) (Thing, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	t, ok := v.things[id]
	if !ok || !v.clock.Now().Before(t.ExpiresAt) {
		return Thing{}, false
	}
	return t, true
}

func (v *Vendor) read(c echo.Context) error {
	t, ok := v.get(c.Param("id"))
	if !ok {
		return v.WriteError(c, problem.New(problem.NotFound, "no thing %s", c.Param("id")))
	}
	return c.JSON(http.StatusOK, t)
}

func (v *Vendor) delete(c echo.Context) error {
	if _, ok := v.get(c.Param("id")); !ok {
		return v.WriteError(c, problem.New(problem.NotFound, "no thing %s", c.Param("id")))
	}
	v.mu.Lock()
	delete(v.things, c.Param("id"))
	v.mu.Unlock()
	return c.NoContent(http.StatusNoContent)
}

func (v *Vendor) seeds(fsys fs.FS) ([]Thing, error) {
	raw, err := fs.ReadFile(fsys, "fake/things.json")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ts []Thing
	if err := json.Unmarshal(raw, &ts); err != nil {
		return nil, fmt.Errorf("fake/things.json: %w", err)
	}
	return ts, nil
}

func (v *Vendor) Reset(_ context.Context, fsys fs.FS) error {
	ts, err := v.seeds(fsys)
	if err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.things, v.seq = map[string]Thing{}, 0
	for _, t := range ts {
		v.things[t.ID] = t
	}
	v.Seeds++
	return nil
}

// Reload adds or replaces seeded things, keeping created ones.
func (v *Vendor) Reload(_ context.Context, fsys fs.FS) error {
	ts, err := v.seeds(fsys)
	if err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, t := range ts {
		v.things[t.ID] = t
	}
	v.Seeds++
	return nil
}

type snapshot struct {
	Seq    int     `json:"seq"`
	Things []Thing `json:"things"`
}

func (v *Vendor) SnapshotState(context.Context) (json.RawMessage, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := snapshot{Seq: v.seq, Things: []Thing{}}
	for _, t := range v.things {
		s.Things = append(s.Things, t)
	}
	sort.Slice(s.Things, func(i, j int) bool { return s.Things[i].ID < s.Things[j].ID })
	return json.Marshal(s)
}

func (v *Vendor) RestoreState(_ context.Context, doc json.RawMessage) error {
	var s snapshot
	if err := json.Unmarshal(doc, &s); err != nil {
		return fmt.Errorf("fake state: %w", err)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.seq, v.things = s.Seq, map[string]Thing{}
	for _, t := range s.Things {
		v.things[t.ID] = t
	}
	return nil
}

var (
	_ server.Stateful = (*Vendor)(nil)
	_ server.Reloader = (*Vendor)(nil)
)
