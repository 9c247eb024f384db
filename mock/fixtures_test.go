package mock_test

import (
	"context"
	"io/fs"
	"os"
	"path"
	"strings"
	"testing"

	"github.com/idpmock/idpmock/fixtures"
	"github.com/idpmock/idpmock/mock"
	"github.com/idpmock/idpmock/mock/fixture"
	"github.com/idpmock/idpmock/mock/server"
)

// The server trusts the embedded fixtures at start-up (fixture.Load skips
// them); this is the check that earns that trust: every embedded seed file
// of every vendor passes its schema, which may reach into the vendor spec.
func TestEmbeddedFixturesValid(t *testing.T) {
	deps := server.Deps{}
	checked := 0
	for _, f := range mock.Vendors(mock.Config{}) {
		v, err := f(deps)
		if err != nil {
			t.Fatal(err)
		}
		spec, err := v.Spec()
		if err != nil {
			t.Fatal(err)
		}
		files, err := fs.Glob(fixtures.Data, v.Name()+"/*.json")
		if err != nil {
			t.Fatal(err)
		}
		if len(files) == 0 {
			t.Fatalf("%s: no embedded fixtures", v.Name())
		}
		for _, file := range files {
			name := strings.TrimSuffix(path.Base(file), ".json")
			t.Run(file, func(t *testing.T) {
				raw, err := fs.ReadFile(fixtures.Data, file)
				if err != nil {
					t.Fatal(err)
				}
				if err := fixture.Validate(v.Name(), name, spec, raw); err != nil {
					t.Fatal(err)
				}
			})
			checked++
		}
		// The same files also load through a directory, where they are
		// validated at start-up like any user's fixtures.
		if err := v.Reset(context.Background(), dirOf(t)); err != nil {
			t.Fatalf("%s: seeding from a directory copy: %v", v.Name(), err)
		}
	}
	t.Logf("%d embedded fixture files valid", checked)
}

// dirOf copies the embedded fixtures to a temporary directory.
func dirOf(t *testing.T) fs.FS {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, fixtures.Data); err != nil {
		t.Fatal(err)
	}
	return os.DirFS(dir)
}
