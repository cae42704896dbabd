// Command bridgectl is the operator's tool for snotibridge: create topics,
// replay a time range into a sink, inspect and reset consumer offsets,
// inspect and redrive dead letters, and tail a topic as JSON. Run
// "bridgectl help" for the commands and exit codes.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
