// Command benchsummary turns the `go test -bench` output of `make bench`
// into one markdown table: every figure of issue 16, its reference from the
// same run (Kafka's ProducerPerformance for the ingest, the no-op Kafka
// copy for the consuming stages), the ratio, the target and whether it is
// met; then the references without a target (the Energisme push's HTTP
// ceiling). It prints them and writes them to the output file.
//
//	benchsummary bench-results/go-bench.txt bench-results/summary.md
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: benchsummary <go test -bench output> <summary.md>")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "benchsummary:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	res, err := Parse(f)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	if len(res) == 0 {
		return fmt.Errorf("%s: no benchmark results", in)
	}
	table := "# make bench summary\n\n" + Table(res) + Notes(res)
	fmt.Print("\n" + table)
	return os.WriteFile(out, []byte(table), 0o644)
}
