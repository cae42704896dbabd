package fielderr

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Rename returns err with the fields names maps renamed: the Field of every
// *Error, and each whole-word mention of a field in its Reason; Value and
// Err stay as they are. Errors joined with errors.Join are renamed one by
// one, in order, and a wrapped one keeps its prefix ("validating EnOS
// config: APIURL …"); any other error is kept. A library renames the
// fields of a Config it holds onto its own; pkg/config renames fields to
// environment variables.
func Rename(err error, names map[string]string) error {
	if err == nil || len(names) == 0 {
		return err
	}
	quoted := make([]string, 0, len(names))
	for n := range names {
		quoted = append(quoted, regexp.QuoteMeta(n))
	}
	// Longest first, so that of two names one of which starts the other,
	// the longer wins.
	slices.SortFunc(quoted, func(a, b string) int { return cmp.Or(len(b)-len(a), strings.Compare(a, b)) })
	r := renamer{names: names, word: regexp.MustCompile(`\b(` + strings.Join(quoted, "|") + `)\b`)}
	return r.rename(err)
}

type renamer struct {
	names map[string]string
	word  *regexp.Regexp
}

func (r renamer) rename(err error) error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		parts := j.Unwrap()
		out := make([]error, 0, len(parts))
		for _, e := range parts {
			out = append(out, r.rename(e))
		}
		return errors.Join(out...)
	}
	fe, ok := err.(*Error)
	if !ok {
		inner := errors.Unwrap(err)
		if inner == nil {
			return err
		}
		prefix, ok := strings.CutSuffix(err.Error(), inner.Error())
		if !ok {
			return err
		}
		return fmt.Errorf("%s%w", prefix, r.rename(inner))
	}
	c := *fe
	if v, ok := r.names[c.Field]; ok {
		c.Field = v
	}
	c.Reason = r.word.ReplaceAllStringFunc(c.Reason, func(w string) string { return r.names[w] })
	return &c
}
