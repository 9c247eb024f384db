// Command idpmock serves the PingOne and ZITADEL session APIs on one port.
//
//	idpmock [serve] [flags]   run the mock (default)
//	idpmock health [--addr]   exit 0 if a running mock answers /healthz (for container health checks)
//	idpmock proxy --upstream URL   forward to the real vendor, validating both ways
//	idpmock help [command]    usage of idpmock or of one command
//	idpmock version           version, commit, build date and Go version
//
// Every flag has an environment twin: --body-limit is IDPMOCK_BODY_LIMIT.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "idpmock:", err)
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(os.Stderr, "Run 'idpmock help' for usage.")
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a mistake on the command line (exit status 2, as flag
// parsing errors are in Go tools).
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// command is one subcommand: its flags are declared by flags, so help can
// list them without running the command.
type command struct {
	name, args, short string
	run               func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands []command

func init() {
	commands = []command{
		{"serve", "[flags]", "run the mock (the default command)", serveCmd},
		{"health", "[--addr ADDR]", "exit 0 if a running mock answers /healthz (container health checks)", health},
		{"proxy", "--upstream URL [flags]", "forward to the real vendor, validating requests and answers against the specs", proxyCmd},
		{"version", "", "print the version, commit, build date and Go version", versionCmd},
		{"help", "[command]", "print usage of idpmock or of one command", helpCmd},
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	name := "serve"
	if len(args) > 0 {
		switch a := args[0]; {
		case a == "-h" || a == "--help" || a == "-help":
			return mainUsage(stdout)
		case a == "--version" || a == "-version":
			return versionCmd(ctx, args[1:], stdout, stderr)
		case !strings.HasPrefix(a, "-"):
			name, args = a, args[1:]
		}
	}
	for _, c := range commands {
		if c.name == name {
			return c.run(ctx, args, stdout, stderr)
		}
	}
	return usageError{fmt.Errorf("unknown command %q", name)}
}

func mainUsage(w io.Writer) error {
	fmt.Fprint(w, `idpmock is an offline mock of the PingOne and ZITADEL session APIs.

Usage:

	idpmock <command> [flags]

The commands are:

`)
	for _, c := range commands {
		fmt.Fprintf(w, "\t%-8s %s\n", c.name, c.short)
	}
	fmt.Fprint(w, `
Without a command, idpmock serves ('idpmock --port 8080' is 'idpmock serve --port 8080').
Every flag has an environment twin, IDPMOCK_ plus the flag name in upper case
with _ for - (--log-level is IDPMOCK_LOG_LEVEL); a flag on the command line wins.

Use "idpmock help <command>" for a command's flags.
`)
	return nil
}

func helpCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	switch len(args) {
	case 0:
		return mainUsage(stdout)
	case 1:
		for _, c := range commands {
			if c.name == args[0] && c.name != "help" {
				return c.run(ctx, []string{"--help"}, stdout, stderr)
			}
		}
		if args[0] == "help" {
			return mainUsage(stdout)
		}
		return usageError{fmt.Errorf("help: unknown command %q", args[0])}
	}
	return usageError{fmt.Errorf("help: want one command, got %q", args)}
}

// newFlags is a flag set whose --help prints the command's usage, every
// flag with its environment twin, on stdout; errors go to stderr.
func newFlags(c string, stdout, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("idpmock "+c, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { commandUsage(stdout, c, fs) }
	return fs
}

func commandUsage(w io.Writer, name string, fs *flag.FlagSet) {
	for _, c := range commands {
		if c.name == name {
			fmt.Fprintf(w, "Usage: idpmock %s %s\n\n%s.\n", c.name, c.args, upperFirst(c.short))
		}
	}
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		return
	}
	fmt.Fprint(w, "\nFlags (environment twin in brackets; a flag on the command line wins):\n\n")
	fs.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		head := "  --" + f.Name
		if arg != "" {
			head += " " + arg
		}
		fmt.Fprintf(w, "%s  [%s]\n", head, envName(f.Name))
		fmt.Fprintf(w, "      %s", usage)
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func envName(flagName string) string {
	return "IDPMOCK_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// errHelpShown says --help was answered: the command exits 0.
var errHelpShown = errors.New("help shown")

// parse parses args, then fills every flag not given on the command line
// from its environment twin IDPMOCK_<NAME>. It refuses positional
// arguments: no command takes any. It returns errHelpShown after --help.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelpShown
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("%s: unexpected argument %q (flags start with --)", strings.TrimPrefix(fs.Name(), "idpmock "), fs.Arg(0))}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		env := envName(f.Name)
		if v, ok := os.LookupEnv(env); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = usageError{fmt.Errorf("%s=%q: %w", env, v, e)}
			}
		}
	})
	return err
}

// setByUser reports whether a flag came from the command line or its
// environment twin (parse sets the latter with fs.Set, which Visit sees).
func setByUser(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}

// addrFlags registers --addr and its shorthand --port; the returned
// function gives the address to listen on.
func addrFlags(fs *flag.FlagSet, def, usage string) func() (string, error) {
	addr := fs.String("addr", def, usage)
	port := fs.Int("port", 0, "shorthand for --addr 127.0.0.1:`PORT`")
	return func() (string, error) {
		if !setByUser(fs, "port") {
			return *addr, nil
		}
		if setByUser(fs, "addr") {
			return "", usageError{errors.New("give --addr or --port, not both")}
		}
		if *port < 0 || *port > 65535 {
			return "", usageError{fmt.Errorf("--port %d: want 0 to 65535", *port)}
		}
		return fmt.Sprintf("127.0.0.1:%d", *port), nil
	}
}

// journalSizeUsage is the same for serve and proxy, and so is its meaning.
const journalSizeUsage = "requests kept in the journal (GET /__mock/journal); -1 turns it off, 0 means the default"

func serveCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, args, stdout, stderr)
}

func health(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("health", stdout, stderr)
	addr := addrFlags(fs, "127.0.0.1:4010", "address of the running mock")
	timeout := fs.Duration("timeout", 2*time.Second, "how long to wait for the answer")
	if err := parse(fs, args); err != nil {
		return helpOK(err)
	}
	host, err := addr()
	if err != nil {
		return err
	}
	if strings.HasPrefix(host, ":") || strings.HasPrefix(host, "0.0.0.0:") {
		host = "127.0.0.1:" + host[strings.LastIndex(host, ":")+1:]
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+host+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health: %s", resp.Status)
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}

// helpOK turns "help was shown" into success.
func helpOK(err error) error {
	if errors.Is(err, errHelpShown) {
		return nil
	}
	return err
}
