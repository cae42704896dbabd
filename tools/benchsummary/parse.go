package main

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Results holds the metrics of `go test -bench` output, by package import
// path, benchmark name (without the -GOMAXPROCS suffix) and unit. A
// benchmark that ran several times (-count) has every value, in order.
type Results map[string]map[string]map[string][]float64

// Parse reads `go test -bench` output (several packages, in any order;
// other lines are ignored). A benchmark line is its name, the iteration
// count, then value-unit pairs: ns/op, B/op, allocs/op and the metrics
// reported with b.ReportMetric.
func Parse(r io.Reader) (Results, error) {
	res := Results{}
	pkg, pending := "", ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if p, ok := strings.CutPrefix(text, "pkg: "); ok {
			pkg, pending = strings.TrimSpace(p), ""
			continue
		}
		f := strings.Fields(text)
		if len(f) > 0 && strings.HasPrefix(f[0], "Benchmark") && (len(f) < 4 || len(f)%2 != 0 || !isCount(f[1])) {
			// The name alone: what the benchmark printed came before its
			// figures, which follow on a line of their own.
			pending = f[0]
			continue
		}
		if len(f) >= 3 && len(f)%2 == 1 && isCount(f[0]) && pending != "" {
			f = append([]string{pending}, f...)
		}
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 || !isCount(f[1]) {
			continue
		}
		pending = ""
		if pkg == "" {
			return nil, fmt.Errorf("line %d: benchmark %s before any \"pkg:\" line", line, f[0])
		}
		name := trimProcs(f[0])
		for i := 2; i < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("line %d: %s: value %q of %s is not a number", line, f[0], f[i], f[i+1])
			}
			res.add(pkg, name, f[i+1], v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return res, nil
}

func (r Results) add(pkg, name, unit string, v float64) {
	if r[pkg] == nil {
		r[pkg] = map[string]map[string][]float64{}
	}
	if r[pkg][name] == nil {
		r[pkg][name] = map[string][]float64{}
	}
	r[pkg][name][unit] = append(r[pkg][name][unit], v)
}

func isCount(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

// trimProcs removes the -N GOMAXPROCS suffix go test appends to a name.
func trimProcs(name string) string {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return name
	}
	if _, err := strconv.Atoi(name[i+1:]); err != nil {
		return name
	}
	return name[:i]
}

// Values returns every value of one metric, for the package whose import
// path ends with pkgSuffix.
func (r Results) Values(pkgSuffix, bench, unit string) []float64 {
	for pkg, benches := range r {
		if pkg == pkgSuffix || strings.HasSuffix(pkg, "/"+pkgSuffix) {
			return benches[bench][unit]
		}
	}
	return nil
}

// Benchmarks returns the names of the benchmarks of the package whose
// import path ends with pkgSuffix that start with prefix, sorted.
func (r Results) Benchmarks(pkgSuffix, prefix string) []string {
	var names []string
	for pkg, benches := range r {
		if pkg != pkgSuffix && !strings.HasSuffix(pkg, "/"+pkgSuffix) {
			continue
		}
		for name := range benches {
			if strings.HasPrefix(name, prefix) {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	return names
}

// Median returns the median of one metric over its runs, and whether it
// was measured at all.
func (r Results) Median(pkgSuffix, bench, unit string) (float64, bool) {
	v := slices.Clone(r.Values(pkgSuffix, bench, unit))
	if len(v) == 0 {
		return 0, false
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2], true
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2, true
}

// SumSuffix sums the medians of every metric of one benchmark whose unit
// ends with suffix (the chain benchmark's per-program CPU figures), and
// returns the units summed.
func (r Results) SumSuffix(pkgSuffix, bench, suffix string) (float64, []string) {
	var sum float64
	var units []string
	for pkg, benches := range r {
		if pkg != pkgSuffix && !strings.HasSuffix(pkg, "/"+pkgSuffix) {
			continue
		}
		for unit := range benches[bench] {
			if strings.HasSuffix(unit, suffix) {
				units = append(units, unit)
			}
		}
	}
	slices.Sort(units)
	for _, u := range units {
		v, _ := r.Median(pkgSuffix, bench, u)
		sum += v
	}
	return sum, units
}
