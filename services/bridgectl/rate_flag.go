package main

import (
	"fmt"
	"strconv"
	"strings"
)

// rateFlag is a records-per-second limit written "200" or "200/s".
type rateFlag float64

func (r *rateFlag) String() string { return strconv.FormatFloat(float64(*r), 'f', -1, 64) }

func (r *rateFlag) Set(s string) error {
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "/s"), 64)
	if err != nil || v < 0 {
		return fmt.Errorf("%q: want records per second, e.g. 200 or 200/s (0: no limit)", s)
	}
	*r = rateFlag(v)
	return nil
}
