// Command snoti-sim runs a protocol-faithful Gizwits SNoti server (TLS)
// with virtual devices, fault injection and a delivery ledger, for
// `make run`, tests and benchmarks. See pkg/snotisim.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"reflect"
	"text/tabwriter"

	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/config"
)

// defaultHTTPAddr is snoti-sim's HTTP_ADDR when unset: loopback, as every
// port of the simulator, unless told otherwise.
const defaultHTTPAddr = "127.0.0.1:8080"

func main() {
	if code, done := handleArgs(os.Args[1:], os.Stdout, os.Stderr); done {
		os.Exit(code)
	}
	if _, set := os.LookupEnv("HTTP_ADDR"); !set {
		_ = os.Setenv("HTTP_ADDR", defaultHTTPAddr)
	}
	var e environ
	config.Main("snoti-sim", &e, func(ctx context.Context, log zerolog.Logger) error {
		return run(ctx, e.config(), log)
	})
}

// handleArgs answers -h/--help with the usage (exit 0) and any other
// argument with the usage on stderr (exit 2): snoti-sim is configured by
// environment variables only. done is false when there are no arguments.
func handleArgs(args []string, stdout, stderr io.Writer) (code int, done bool) {
	if len(args) == 0 {
		return 0, false
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return 0, true
	}
	fmt.Fprintf(stderr, "snoti-sim: unexpected argument %q: it takes none, only environment variables\n\n", args[0])
	usage(stderr)
	return 2, true
}

func usage(w io.Writer) {
	fmt.Fprint(w, `snoti-sim: a Gizwits SNoti server (v1 and v2 on one TLS port) with virtual
devices, fault injection and a delivery ledger, for development and tests.
Not a real server: see the README's snoti-sim section for what it does not do.

Usage: [VARIABLE=value ...] snoti-sim

It listens on 127.0.0.1 unless told otherwise: TLS on SNOTI_SIM_ADDR,
/healthz, /readyz and /metrics on HTTP_ADDR (default `+defaultHTTPAddr+` here),
the /sim/ control API on SNOTI_SIM_CONTROL_ADDR.

Environment variables:
`)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  VARIABLE\tDEFAULT\tMEANING")
	var e environ // what snoti-sim reads: the shared variables and its own
	writeVars(tw, reflect.TypeOf(e))
	_ = tw.Flush()
}

// sharedDesc describes the shared variables snoti-sim reads (it reads no
// Kafka variable).
var sharedDesc = map[string]string{
	"LOG_LEVEL": "trace, debug, info, warn or error", "LOG_FORMAT": "json or console",
	"HTTP_ADDR": "/healthz, /readyz, /metrics", "SHUTDOWN_TIMEOUT": "bound on a graceful shutdown",
}

// writeVars lists the envconfig-tagged fields of t, nested structs too.
func writeVars(w io.Writer, t reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, tagged := f.Tag.Lookup("envconfig")
		if !tagged {
			if f.Type.Kind() == reflect.Struct && f.Name != "Kafka" {
				writeVars(w, f.Type)
			}
			continue
		}
		def := f.Tag.Get("default")
		if name == "HTTP_ADDR" {
			def = defaultHTTPAddr
		}
		desc := f.Tag.Get("desc")
		if desc == "" {
			desc = sharedDesc[name]
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\n", name, def, desc)
	}
}
