// Command benchsummary turns the `go test -bench` output of `make bench`
// into one markdown table: every figure of issue 16, its reference from the
// same run (Kafka's ProducerPerformance for the ingest, the no-op Kafka
// copy for the consuming stages), the ratio, the target and whether it is
// met; then the references without a target (the Energisme push's HTTP
// ceiling). It prints them and writes them to the output file. An
// optional third file holds the unmeasured warm-up run of the chain,
// whose figures the notes give beside the medians.
//
//	benchsummary bench-results/go-bench.txt bench-results/summary.md [bench-results/warmup.txt]
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) != 3 && len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: benchsummary <go test -bench output> <summary.md> [<warm-up run output>]")
		os.Exit(2)
	}
	warmup := ""
	if len(os.Args) == 4 {
		warmup = os.Args[3]
	}
	if err := run(os.Args[1], os.Args[2], warmup); err != nil {
		fmt.Fprintln(os.Stderr, "benchsummary:", err)
		os.Exit(1)
	}
}

// run writes the summary of in to out; warmup, unless empty, is the
// warm-up run's output.
func run(in, out, warmup string) error {
	res, err := readResults(in)
	if err != nil {
		return err
	}
	if len(res) == 0 {
		return fmt.Errorf("%s: no benchmark results", in)
	}
	var warm Results
	if warmup != "" {
		if warm, err = readResults(warmup); err != nil {
			return err
		}
	}
	table := "# make bench summary\n\n" + Table(res) + Notes(res, warm)
	fmt.Print("\n" + table)
	return os.WriteFile(out, []byte(table), 0o644)
}

// readResults parses the go test -bench output in the file name.
func readResults(name string) (Results, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	res, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return res, nil
}
