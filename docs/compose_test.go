package docs_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// composeFile is the part of a Compose file these checks read.
type composeFile struct {
	Name     string `yaml:"name"`
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Build       any               `yaml:"build"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Ports       []string          `yaml:"ports"`
		Volumes     []string          `yaml:"volumes"`
		Healthcheck map[string]any    `yaml:"healthcheck"`
		DependsOn   map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
	} `yaml:"services"`
}

func readCompose(t *testing.T, file string) composeFile {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", file))
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(raw, &c); err != nil { // merge keys (<<) included
		t.Fatalf("%s: %v", file, err)
	}
	return c
}

// TestComposeReplicas: compose.replicas.yaml runs Redis, two idpmock
// replicas on it and a load balancer over both, each with a healthcheck and
// started in order; compose.yaml (the single-mock example) points to it.
// Where docker-compose (or docker compose) is installed, it validates both
// files too.
func TestComposeReplicas(t *testing.T) {
	c := readCompose(t, "compose.replicas.yaml")
	redis, ok := c.Services["redis"]
	if !ok || !strings.HasPrefix(redis.Image, "redis:") || redis.Healthcheck["test"] == nil {
		t.Fatalf("redis service: %+v", redis)
	}
	var replicas []string
	for name, s := range c.Services {
		if s.Environment["IDPMOCK_STORE"] == "" {
			continue
		}
		replicas = append(replicas, name)
		if s.Environment["IDPMOCK_STORE"] != "redis://redis:6379/0" {
			t.Errorf("%s: IDPMOCK_STORE=%q", name, s.Environment["IDPMOCK_STORE"])
		}
		if s.Image != "idpmock:local" || s.Build == nil || s.Healthcheck["interval"] == nil {
			t.Errorf("%s: want the local image with a frequent healthcheck: %+v", name, s)
		}
		if s.DependsOn["redis"].Condition != "service_healthy" {
			t.Errorf("%s: starts before Redis is healthy", name)
		}
	}
	slices.Sort(replicas)
	if len(replicas) != 2 {
		t.Fatalf("replicas on Redis: %v, want two", replicas)
	}
	lb, ok := c.Services["lb"]
	if !ok || lb.Healthcheck["test"] == nil || !slices.Contains(lb.Ports, "127.0.0.1:4010:4010") {
		t.Fatalf("lb service: %+v", lb)
	}
	for _, r := range replicas {
		if lb.DependsOn[r].Condition != "service_healthy" {
			t.Errorf("lb: does not wait for %s", r)
		}
	}
	// The balancer's configuration names both replicas in one upstream.
	var conf string
	for _, v := range lb.Volumes {
		if src, _, ok := strings.Cut(v, ":"); ok && strings.HasSuffix(src, ".conf") {
			conf = src
		}
	}
	raw, err := os.ReadFile(filepath.Join("..", conf))
	if err != nil {
		t.Fatalf("lb configuration %q: %v", conf, err)
	}
	upstream := regexp.MustCompile(`(?s)upstream idpmock \{(.*?)\}`).FindSubmatch(raw)
	if upstream == nil {
		t.Fatalf("%s: no upstream idpmock", conf)
	}
	for _, r := range replicas {
		if !strings.Contains(string(upstream[1]), "server "+r+":4010;") {
			t.Errorf("%s: upstream lacks %s", conf, r)
		}
	}

	main := readCompose(t, "compose.yaml")
	if _, ok := main.Services["idpmock"]; !ok || main.Services["idpmock"].Environment["IDPMOCK_STORE"] != "" {
		t.Errorf("compose.yaml: the single-mock example changed: %+v", main.Services["idpmock"])
	}
	if raw, _ := os.ReadFile("../compose.yaml"); !strings.Contains(string(raw), "compose.replicas.yaml") {
		t.Error("compose.yaml does not point to compose.replicas.yaml")
	}

	validateWithCompose(t, "compose.yaml", "compose.replicas.yaml")
}

// validateWithCompose runs `config -q` of the Compose CLI found, if any.
func validateWithCompose(t *testing.T, files ...string) {
	var cli []string
	if exec.Command("docker", "compose", "version").Run() == nil {
		cli = []string{"docker", "compose"}
	} else if p, err := exec.LookPath("docker-compose"); err == nil {
		cli = []string{p}
	} else {
		t.Log("no Compose CLI: checked the files' structure only")
		return
	}
	for _, f := range files {
		args := append(cli[1:len(cli):len(cli)], "-f", f, "config", "-q")
		if strings.HasSuffix(cli[0], "docker-compose") {
			// Compose v1 (Debian's docker-compose 1.29) predates the
			// top-level name: validate a copy without it.
			raw, err := os.ReadFile(filepath.Join("..", f))
			if err != nil {
				t.Fatal(err)
			}
			tmp := filepath.Join(t.TempDir(), filepath.Base(f))
			lines := regexp.MustCompile(`(?m)^name:.*\n`).ReplaceAll(raw, nil)
			if err := os.WriteFile(tmp, lines, 0o644); err != nil {
				t.Fatal(err)
			}
			args = []string{"--project-directory", ".", "-f", tmp, "config", "-q"}
		}
		cmd := exec.Command(cli[0], args...)
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s config %s: %v\n%s", strings.Join(cli, " "), f, err, out)
		}
	}
}
