package replay

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/snotibridge/snotibridge/pkg/filewatch"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// stateVersion changes when the file format does.
const stateVersion = 1

// State is a replay's progress on disk: the identity of the replay, its
// resolved ranges and, per range, the next offset to process. A replay
// started again with the same identity resumes from it.
type State struct {
	Version   int               `json:"version"`
	Identity  string            `json:"identity"`
	Params    map[string]string `json:"params"`
	Ranges    []RangeState      `json:"ranges"`
	Summary   Summary           `json:"summary"`
	Complete  bool              `json:"complete"`
	StartedAt time.Time         `json:"started_at"`
	UpdatedAt time.Time         `json:"updated_at"`
}

// RangeState is one partition's range and its progress.
type RangeState struct {
	PartitionRange
	Next int64 `json:"next"`
}

// Identity hashes a replay's parameters (name=value pairs, order
// irrelevant) into the short id that names its default state file.
func Identity(params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%s\n", k, params[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// DefaultStatePath is dir/<kind>-<identity>.json, dir defaulting to the
// user's state directory ($XDG_STATE_HOME or ~/.local/state)/snotibridge.
func DefaultStatePath(dir, kind, identity string) (string, error) {
	if dir == "" {
		base := os.Getenv("XDG_STATE_HOME")
		if base == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", fmt.Errorf("finding a state directory (set --state): %w", err)
			}
			base = filepath.Join(home, ".local", "state")
		}
		dir = filepath.Join(base, "snotibridge")
	}
	return filepath.Join(dir, kind+"-"+identity+".json"), nil
}

// LoadState reads the state at path; an absent file is (nil, nil).
func LoadState(path string) (*State, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading replay state: %w", err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("reading replay state %s: %w", path, err)
	}
	if s.Version != stateVersion {
		return nil, fmt.Errorf("reading replay state %s: version %d, this build reads %d", path, s.Version, stateVersion)
	}
	return &s, nil
}

// Plan returns what is left to read: each range from its next offset.
func (s *State) Plan() Plan {
	var p Plan
	for _, r := range s.Ranges {
		pr := r.PartitionRange
		pr.Start = r.Next
		p.Ranges = append(p.Ranges, pr)
	}
	return p
}

// Save writes s to path atomically: a temporary file in the same directory,
// synced, renamed over path, and the directory synced, so a crash leaves
// either the old state or the new one, never a torn file.
func (s *State) Save(path string) error {
	s.Version = stateVersion
	s.UpdatedAt = time.Now().UTC()
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding replay state: %w", err)
	}
	dir := filepath.Dir(path)
	// 0700: the state names topics, offsets and filters of an operator's
	// runs; nobody else on the machine needs to read it.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating state directory: %w", err)
	}
	if err := filewatch.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing replay state: %w", err)
	}
	return nil
}

// Describe renders the parameters for messages.
func (s *State) Describe() string {
	keys := make([]string, 0, len(s.Params))
	for k := range s.Params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + s.Params[k]
	}
	return strings.Join(parts, " ")
}

// ErrStateMismatch: the state file belongs to a replay with other parameters.
var ErrStateMismatch = errors.New("state file belongs to another replay")

// OpenState returns the saved state at path when it belongs to the replay
// described by params (resumed is then true), or a new state whose ranges
// come from resolve. restart ignores (and will overwrite) a saved state.
// path "" gives a new state kept in memory.
func OpenState(path string, params map[string]string, restart bool, resolve func() (Plan, error)) (st *State, resumed bool, err error) {
	id := Identity(params)
	if path != "" && !restart {
		saved, err := LoadState(path)
		if err != nil {
			return nil, false, err
		}
		if saved != nil {
			if saved.Identity != id {
				return nil, false, fmt.Errorf("%s: %w (%s); pass --restart to overwrite it or another --state", path, ErrStateMismatch, saved.Describe())
			}
			return saved, true, nil
		}
	}
	plan, err := resolve()
	if err != nil {
		return nil, false, err
	}
	st = &State{Version: stateVersion, Identity: id, Params: params}
	for _, r := range plan.Ranges {
		st.Ranges = append(st.Ranges, RangeState{PartitionRange: r, Next: r.Start})
	}
	return st, false, nil
}
