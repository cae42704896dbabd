// Package jsonappend appends JSON as encoding/json writes it, without its
// reflection or allocations, for the sink clients' hand-written encoders
// (pkg/enos, pkg/energisme), each checked against encoding/json by a
// differential test and a fuzz target.
package jsonappend

import (
	"encoding/json"
	"unicode/utf8"
)

// String appends s quoted as encoding/json quotes it (HTML characters
// escaped, invalid UTF-8 replaced): as is when nothing needs escaping,
// else by encoding/json itself.
func String(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string never fails
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
