// Command baseline is the benchmark's yardstick: a bare Echo server that
// answers the mock's routes with fixed bytes (captured from the mock), with
// no validation, state, journal or middleware.
//
//	baseline --addr 127.0.0.1:4011 --routes routes.json
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/idpmock/idpmock/bench/workload"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:4011", "listen address")
	file := flag.String("routes", "", "routes file written by the benchmark")
	flag.Parse()
	if err := run(*addr, *file); err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
}

func run(addr, file string) error {
	raw, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var routes []workload.Route
	if err := json.Unmarshal(raw, &routes); err != nil {
		return err
	}
	hs := &http.Server{Addr: addr, Handler: workload.Baseline(routes), ReadHeaderTimeout: 30 * time.Second}
	return hs.ListenAndServe()
}
