package main

import (
	"errors"
	"fmt"
)

// Exit codes, documented in the usage text and the README ("Operations"). Scripts may
// rely on them.
const (
	exitOK      = 0 // done (or nothing to do)
	exitFailure = 1 // failed or interrupted: Kafka, a sink, a file
	exitUsage   = 2 // bad flags, arguments or environment
	exitRefused = 3 // refused (active group members) or plan shown without --execute
)

// exitError carries an exit code other than exitFailure.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErrorf(format string, a ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, a...)}
}

func refusedf(format string, a ...any) error {
	return &exitError{code: exitRefused, err: fmt.Errorf(format, a...)}
}

// errHelp: --help was asked for and printed.
var errHelp = errors.New("help")

// codeOf maps an error to the process exit code.
func codeOf(err error) int {
	if err == nil || errors.Is(err, errHelp) {
		return exitOK
	}
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return exitFailure
}
