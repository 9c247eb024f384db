// Package docs_test runs every code block of README.md and docs/*.md, so
// none can rot or pass while the mock rejects what it shows.
//
// What happens to a block depends on its language and on an optional HTML
// comment on the line before its fence:
//
//	```sh / ```bash   run by bash against a fresh in-process mock (one per
//	                  file, blocks in order, variables carried over);
//	                  http://127.0.0.1:4010 is rewritten to the mock's URL.
//	                  Every curl must get an answer below 400, unless the
//	                  block is marked <!-- doc-test: expect-error -->, then
//	                  at least one must get a 4xx and none a 5xx.
//	```go             a complete file (package clause and imports): built
//	                  and its tests run with go test.
//	anything else     must be marked: <!-- doc-test: output idpmock ARGS -->
//	                  (every line of the block appears, in order, in the
//	                  output of `idpmock ARGS`) or <!-- doc-test: skip REASON -->.
//
// <!-- doc-test: skip REASON --> works on any block (Docker, network); the
// test lists every skipped block with its reason. <!-- doc-test: server -->
// marks the command that starts the mock (make run): TestDocs skips it,
// TestFirstHour runs it. TestFirstHour (IDPMOCK_FIRST_HOUR=1, make
// first-hour-test) clones the repository and follows README.md's first
// screen (between <!-- first-hour:start --> and <!-- first-hour:end -->)
// against the clone's own `make run`.
package docs_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idpmock/idpmock/mock/mocktest"
)

// block is one fenced code block.
type block struct {
	file      string // relative to the repository root
	line      int    // of the opening fence
	lang      string
	directive string // "", "skip", "expect-error", "output", "server"
	arg       string // the skip reason, the output command
	firstHour bool   // inside the README's first-hour region
	text      string
}

func (b block) where() string { return fmt.Sprintf("%s:%d", b.file, b.line) }

var (
	fenceRe     = regexp.MustCompile("^(\\s*)(```+)\\s*([^`]*)$")
	directiveRe = regexp.MustCompile(`^<!--\s*doc-test:\s*(skip|expect-error|output|server)\b\s*(.*?)\s*-->\s*$`)
)

func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// docFiles is README.md and every docs/*.md, relative to root.
func docFiles(t testing.TB, root string) []string {
	t.Helper()
	files := []string{"README.md"}
	more, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range more {
		rel, _ := filepath.Rel(root, f)
		files = append(files, rel)
	}
	return files
}

// parse finds the fenced blocks of a Markdown file.
func parse(file string, src []byte) ([]block, error) {
	var out []block
	lines := strings.Split(string(src), "\n")
	inFirstHour := false
	for i := 0; i < len(lines); i++ {
		l := strings.TrimRight(lines[i], "\r")
		switch strings.TrimSpace(l) {
		case "<!-- first-hour:start -->":
			inFirstHour = true
			continue
		case "<!-- first-hour:end -->":
			inFirstHour = false
			continue
		}
		m := fenceRe.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		b := block{file: file, line: i + 1, firstHour: inFirstHour}
		if f := strings.Fields(m[3]); len(f) > 0 {
			b.lang = f[0]
		}
		for j := i - 1; j >= 0; j-- {
			prev := strings.TrimSpace(lines[j])
			if prev == "" {
				continue
			}
			if d := directiveRe.FindStringSubmatch(prev); d != nil {
				b.directive, b.arg = d[1], d[2]
			}
			break
		}
		var body []string
		closed := false
		for i++; i < len(lines); i++ {
			c := strings.TrimRight(lines[i], "\r")
			if strings.TrimSpace(c) == m[2] || (strings.HasPrefix(strings.TrimSpace(c), m[2]) && strings.Trim(strings.TrimSpace(c), "`") == "") {
				closed = true
				break
			}
			body = append(body, strings.TrimPrefix(c, m[1]))
		}
		if !closed {
			return nil, fmt.Errorf("%s:%d: code block never closed", file, b.line)
		}
		b.text = strings.Join(body, "\n") + "\n"
		out = append(out, b)
	}
	return out, nil
}

func loadBlocks(t testing.TB, root string) map[string][]block {
	t.Helper()
	all := map[string][]block{}
	for _, f := range docFiles(t, root) {
		src, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		bs, err := parse(f, src)
		if err != nil {
			t.Fatal(err)
		}
		all[f] = bs
	}
	return all
}

func isShell(lang string) bool { return lang == "sh" || lang == "bash" || lang == "shell" }

// TestDocs runs or checks every block and reports the skipped ones.
func TestDocs(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the docs' examples need %s on PATH (apt-get install -y %s)", tool, tool)
		}
	}
	root := repoRoot(t)
	bin := buildIdpmock(t, root)
	files := loadBlocks(t, root)
	var skipped []string
	ran := 0
	for _, f := range docFiles(t, root) {
		blocks := files[f]
		t.Run(f, func(t *testing.T) {
			var shell []block
			for _, b := range blocks {
				switch {
				case b.directive == "skip":
					if b.arg == "" {
						t.Errorf("%s: <!-- doc-test: skip --> needs a reason", b.where())
					}
					skipped = append(skipped, fmt.Sprintf("%s (%s): %s", b.where(), b.lang, b.arg))
				case b.directive == "server":
					skipped = append(skipped, fmt.Sprintf("%s (%s): starts the mock; TestFirstHour runs it", b.where(), b.lang))
				case b.directive == "output":
					checkOutput(t, bin, b)
					ran++
				case isShell(b.lang):
					shell = append(shell, b)
				case b.lang == "go":
					runGo(t, root, b)
					ran++
				default:
					t.Errorf("%s: a %q block is neither run nor marked; add <!-- doc-test: skip REASON --> or <!-- doc-test: output idpmock ARGS --> before it", b.where(), b.lang)
				}
			}
			if len(shell) > 0 {
				srv := mocktest.Start(t)
				runShell(t, bin, strings.TrimPrefix(srv.URL, "http://"), shell)
				ran += len(shell)
			}
		})
	}
	t.Logf("%d blocks run or checked; %d skipped:", ran, len(skipped))
	for _, s := range skipped {
		t.Logf("  skipped %s", s)
	}
}

// buildIdpmock builds the binary the blocks call (idpmock version, ...).
func buildIdpmock(t testing.TB, root string) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "idpmock")
	cmd := exec.Command("go", "build", "-o", bin, "./mock/cmd/idpmock")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// checkOutput: every non-blank line of the block appears, in order, in the
// output of the idpmock command named by the directive.
func checkOutput(t *testing.T, bin string, b block) {
	t.Helper()
	args := strings.Fields(b.arg)
	if len(args) == 0 || args[0] != "idpmock" {
		t.Errorf("%s: <!-- doc-test: output --> wants an idpmock command, got %q", b.where(), b.arg)
		return
	}
	out, err := exec.Command(bin, args[1:]...).CombinedOutput()
	if err != nil {
		t.Errorf("%s: %s: %v\n%s", b.where(), b.arg, err, out)
		return
	}
	rest := string(out)
	for _, l := range strings.Split(b.text, "\n") {
		l = strings.TrimRight(l, " ")
		if strings.TrimSpace(l) == "" {
			continue
		}
		i := strings.Index(rest, l)
		if i < 0 {
			t.Errorf("%s: line %q is not (or not in this order) in the output of %s:\n%s", b.where(), l, b.arg, out)
			return
		}
		rest = rest[i+len(l):]
	}
}

// runGo builds a Go block as a test file of its own package inside the
// module, so it imports the repository's packages as a user's code would,
// and runs its tests.
func runGo(t *testing.T, root string, b block) {
	t.Helper()
	if !regexp.MustCompile(`(?m)^package \w+`).MatchString(b.text) {
		t.Errorf("%s: a Go block must be a complete file (package clause and imports), so it compiles as printed", b.where())
		return
	}
	parent := filepath.Join(root, "docs", "testdata")
	if err := os.MkdirAll(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp(parent, "goblock-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "block_test.go"), []byte(b.text), 0o644); err != nil {
		t.Fatal(err)
	}
	rel, _ := filepath.Rel(root, dir)
	cmd := exec.Command("go", "test", "-count=1", "-v", "./"+filepath.ToSlash(rel))
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("%s: the Go block does not pass go test: %v\n%s", b.where(), err, out)
		return
	}
	if !strings.Contains(string(out), "--- PASS") && regexp.MustCompile(`(?m)^func Test\w+\(`).MatchString(b.text) {
		t.Errorf("%s: the Go block's tests did not run:\n%s", b.where(), out)
	}
}

// shellPrelude wraps curl so each call's final status is logged per block.
const shellPrelude = `set -euo pipefail
__block=0
__hdr=$(mktemp)
curl() {
  command curl --max-time 30 -D "$__hdr" "$@"
  local rc=$?
  local st
  st=$(grep -a '^HTTP/' "$__hdr" | tail -1 | cut -d' ' -f2)
  echo "$__block ${st:-000}" >> "$__STATUS_LOG"
  return $rc
}
`

// runShell runs the blocks in order in one bash process against the mock
// at host, then checks each block's curl statuses.
func runShell(t *testing.T, bin, host string, blocks []block) {
	t.Helper()
	statusLog := filepath.Join(t.TempDir(), "status.log")
	var script strings.Builder
	script.WriteString(shellPrelude)
	for i, b := range blocks {
		text := strings.NewReplacer("127.0.0.1:4010", host, "localhost:4010", host).Replace(b.text)
		fmt.Fprintf(&script, "__block=%d\necho '@@begin %d' >&2\n%s\necho '@@end %d' >&2\n", i, i, text, i)
	}
	cmd := exec.Command("bash", "-c", script.String())
	cmd.Env = append(os.Environ(), "__STATUS_LOG="+statusLog, "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	cmd.Dir = t.TempDir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		err = <-done
	}
	t.Logf("output of %d blocks from %s:\n%s", len(blocks), blocks[0].where(), tail(stdout.String()))
	last := -1
	ended := map[int]bool{}
	sc := bufio.NewScanner(bytes.NewReader(stderr.Bytes()))
	for sc.Scan() {
		if n, ok := strings.CutPrefix(sc.Text(), "@@begin "); ok {
			last, _ = strconv.Atoi(n)
		}
		if n, ok := strings.CutPrefix(sc.Text(), "@@end "); ok {
			i, _ := strconv.Atoi(n)
			ended[i] = true
		}
	}
	if err != nil {
		where := "before the first block"
		if last >= 0 {
			where = blocks[last].where()
		}
		t.Errorf("%s: the block failed (%v)\nstdout:\n%s\nstderr:\n%s", where, err, tail(stdout.String()), tail(stderr.String()))
	}
	statuses := map[int][]int{}
	if raw, rerr := os.ReadFile(statusLog); rerr == nil {
		for _, l := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
			f := strings.Fields(l)
			if len(f) == 2 {
				i, _ := strconv.Atoi(f[0])
				st, _ := strconv.Atoi(f[1])
				statuses[i] = append(statuses[i], st)
			}
		}
	}
	for i, b := range blocks {
		if !ended[i] {
			continue // already reported, or never reached because of it
		}
		checkStatuses(t, b, statuses[i])
	}
}

func checkStatuses(t *testing.T, b block, sts []int) {
	t.Helper()
	errs := 0
	for _, st := range sts {
		switch {
		case st == 0 || st >= 500:
			t.Errorf("%s: a curl got %d (no answer or a server error); statuses %v", b.where(), st, sts)
			return
		case st >= 400:
			errs++
		}
	}
	if b.directive == "expect-error" {
		if errs == 0 {
			t.Errorf("%s: marked expect-error, but no curl got a 4xx (statuses %v)", b.where(), sts)
		}
		return
	}
	if errs > 0 {
		t.Errorf("%s: the mock refused a request the docs show as working (statuses %v); mark the block <!-- doc-test: expect-error --> if that is the point", b.where(), sts)
	}
}

func tail(s string) string {
	const max = 4000
	if len(s) > max {
		return "..." + s[len(s)-max:]
	}
	return s
}

// TestFirstHour follows the README's first screen on a fresh clone: the
// server block (make run) in the clone, then the first screen's shell
// blocks against it.
func TestFirstHour(t *testing.T) {
	if os.Getenv("IDPMOCK_FIRST_HOUR") == "" {
		t.Skip("set IDPMOCK_FIRST_HOUR=1 (make first-hour-test) to clone the repository and follow the README")
	}
	root := repoRoot(t)
	clone := filepath.Join(t.TempDir(), "idpmock")
	if out, err := exec.Command("git", "clone", "--quiet", root, clone).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	src, err := os.ReadFile(filepath.Join(clone, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := parse("README.md", src)
	if err != nil {
		t.Fatal(err)
	}
	var server *block
	var shell []block
	for i, b := range blocks {
		if !b.firstHour {
			continue
		}
		switch {
		case b.directive == "server":
			server = &blocks[i]
		case b.directive == "skip":
			t.Logf("skipped %s: %s", b.where(), b.arg)
		case isShell(b.lang):
			shell = append(shell, b)
		}
	}
	if server == nil || len(shell) == 0 {
		t.Fatalf("README.md's first screen needs a <!-- doc-test: server --> block and shell examples (found server %v, %d shell blocks)", server != nil, len(shell))
	}
	port := freePort(t)
	host := fmt.Sprintf("127.0.0.1:%d", port)
	// The README's own command, in the clone, with only the address
	// changed (IDPMOCK_ADDR, as the README says) so parallel runs do not
	// collide on 4010.
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "bash", "-c", "exec "+strings.TrimSpace(firstCommand(server.text)))
	cmd.Dir = clone
	cmd.Env = append(os.Environ(), "IDPMOCK_ADDR="+host)
	var logs lockedBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 15 * time.Second
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	waitHealthy(t, host, 5*time.Minute, &logs)
	t.Logf("%s: %q answered /healthz after %s", server.where(), firstCommand(server.text), time.Since(start).Round(time.Millisecond))
	bin := filepath.Join(clone, "bin", "idpmock") // what make run built
	if _, err := os.Stat(bin); err != nil {
		bin = buildIdpmock(t, clone)
	}
	runShell(t, bin, host, shell)
	if !strings.Contains(logs.String(), "ready") {
		t.Errorf("the mock's log has no ready banner:\n%s", logs.String())
	}
}

// firstCommand is the block's first command line, comments dropped.
func firstCommand(text string) string {
	for _, l := range strings.Split(text, "\n") {
		l, _, _ = strings.Cut(l, " #")
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			return l
		}
	}
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func waitHealthy(t *testing.T, host string, limit time.Duration, logs *lockedBuffer) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + host + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no healthy mock on %s after %s; its output:\n%s", host, limit, tail(logs.String()))
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestGoVersion: the README asks for the Go version go.mod requires.
func TestGoVersion(t *testing.T) {
	root := repoRoot(t)
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod has no go directive")
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "Go](https://go.dev/dl/) " + string(m[1]) + " or newer"; !bytes.Contains(readme, []byte(want)) {
		t.Errorf("README.md should say %q (go.mod: go %s)", want, m[1])
	}
}

// pendingLinks are files other branches add (merged by the lead); remove an
// entry once the file is in the repository. Every other relative link in
// README.md and docs/*.md must name an existing file.
var pendingLinks = map[string]string{}

var linkRe = regexp.MustCompile(`\]\(([^)\s]+)\)`)

func TestRelativeLinks(t *testing.T) {
	root := repoRoot(t)
	for _, f := range docFiles(t, root) {
		src, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(src), "\n") {
			for _, m := range linkRe.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "#") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				target, _, _ = strings.Cut(target, "#")
				rel := filepath.ToSlash(filepath.Join(filepath.Dir(f), target))
				if _, err := os.Stat(filepath.Join(root, rel)); err == nil {
					continue
				}
				if who, ok := pendingLinks[rel]; ok {
					t.Logf("%s:%d: %s is not here yet (%s adds it)", f, i+1, rel, who)
					continue
				}
				t.Errorf("%s:%d: link to %s: no such file", f, i+1, rel)
			}
		}
	}
}
