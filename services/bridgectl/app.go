package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/config"
	"github.com/snotibridge/snotibridge/pkg/logging"
	"github.com/snotibridge/snotibridge/pkg/replay"
)

const usage = `bridgectl — operate a snotibridge pipeline

Usage:
  bridgectl topics ensure   [flags]   create the pipeline's topics, report differences
  bridgectl replay          [flags]   replay a range of a topic into a sink, by Kafka
                                      record time (default) or device time (--time device)
  bridgectl offsets show    [flags]   a consumer group's offsets and lag
  bridgectl offsets reset   [flags]   move a stopped group's offsets (--execute)
  bridgectl dlq list        [flags]   dead letters counted by stage and reason
  bridgectl dlq show        [flags]   dead letters as JSON lines, with the original record
  bridgectl dlq redrive     [flags]   resend dead letters to the sink or source (--execute)
  bridgectl tail            [flags]   a topic's records decoded to JSON lines
  bridgectl codecs fetch    [flags]   a product's data points from the Gizwits
                                      Enterprise API, into CODECS_DIR
  bridgectl command send    [flags]   a command for a device (--wait: its result)
  bridgectl command tail    [flags]   command results as JSON lines (tail's flags;
                                      --filter event_id=<command_id>)

Run "bridgectl <command> --help" for a command's flags. Kafka, topic names
and logging come from the environment (KAFKA_*, TOPIC_*, LOG_*), as for the
services, with the same meaning: a copy of a forwarder's environment works
(its TOPIC_DLQ is where a replay into its sink dead-letters; the plan says
which variable it used). See the README, "Operations".

Exit codes:
  0  done, or nothing to do
  1  failed or interrupted (a stopped replay resumes when run again)
  2  usage or configuration error
  3  refused: the group has active members, or a plan was shown and not
     executed (add --execute)
`

// app is one invocation of bridgectl.
type app struct {
	cfg   Config
	log   zerolog.Logger
	out   io.Writer // results: tables, JSON lines
	errw  io.Writer // plans, progress, summaries
	tty   bool      // errw is a terminal: draw a progress bar
	sinks replay.Sinks
	// progressEvery is the interval of plain progress lines.
	progressEvery time.Duration
}

type command struct {
	name string
	run  func(a *app, ctx context.Context, args []string) error
}

var commands = []command{
	{"topics ensure", (*app).topicsEnsure},
	{"replay", (*app).replay},
	{"offsets show", (*app).offsetsShow},
	{"offsets reset", (*app).offsetsReset},
	{"dlq list", (*app).dlqList},
	{"dlq show", (*app).dlqShow},
	{"dlq redrive", (*app).dlqRedrive},
	{"tail", (*app).tail},
	{"codecs fetch", (*app).codecsFetch},
	{"command send", (*app).commandSend},
	{"command tail", (*app).commandTail},
}

// run is bridgectl without the process: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd, rest, err := findCommand(args)
	if err != nil {
		if errors.Is(err, errHelp) {
			fmt.Fprint(stdout, usage)
			return exitOK
		}
		fmt.Fprintf(stderr, "bridgectl: %v\n\n%s", err, usage)
		return exitUsage
	}
	a := &app{out: stdout, errw: stderr, progressEvery: 10 * time.Second}
	if f, ok := stderr.(*os.File); ok {
		a.tty = isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
	}
	// With --help the configuration only supplies the defaults shown, so a
	// bad environment does not hide the help.
	help := wantsHelp(rest)
	var env environ
	err = config.Load(&env)
	a.cfg = env.config() // what did load, for --help's defaults
	if err != nil && !help {
		fmt.Fprintf(stderr, "bridgectl: invalid configuration:\n%v\n", err)
		return exitUsage
	}
	if _, set := os.LookupEnv("LOG_FORMAT"); !set {
		a.cfg.Log.Format = "console"
	}
	if a.log, err = logging.NewTo(stderr, a.cfg.Log, "bridgectl"); err != nil && !help {
		fmt.Fprintf(stderr, "bridgectl: %v\n", err)
		return exitUsage
	}
	return a.exec(ctx, cmd, rest)
}

// exec runs cmd and prints its error; tests call it with a built app.
func (a *app) exec(ctx context.Context, cmd command, args []string) int {
	err := cmd.run(a, ctx, args)
	if err != nil && !errors.Is(err, errHelp) {
		fmt.Fprintf(a.errw, "bridgectl %s: %v\n", cmd.name, err)
	}
	return codeOf(err)
}

func findCommand(args []string) (command, []string, error) {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		return command{}, nil, errHelp
	}
	for _, c := range commands {
		words := strings.Fields(c.name)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == c.name {
			return c, args[len(words):], nil
		}
	}
	return command{}, nil, fmt.Errorf("unknown command %q", strings.Join(args[:min(2, len(args))], " "))
}

func wantsHelp(args []string) bool {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" || a == "--" {
			return a != "--"
		}
	}
	return false
}

// flags returns a FlagSet for a command that prints its synopsis and flags
// on --help.
func (a *app) flags(name, synopsis string) *flag.FlagSet { // synopsis starts with name
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(a.errw)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: bridgectl %s\n\nFlags:\n", strings.TrimSpace(synopsis))
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), "\nExit codes: 0 ok, 1 failure, 2 usage, 3 refused or not executed (see bridgectl help).\n")
	}
	return fs
}

// parse parses args; --help gives errHelp, a bad flag a usage error.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return &exitError{code: exitUsage, err: err}
	}
	if fs.NArg() > 0 {
		return usageErrorf("unexpected argument %q (flags go before nothing else; see --help)", fs.Arg(0))
	}
	return nil
}
