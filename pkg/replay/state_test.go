package replay_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/snotibridge/snotibridge/pkg/replay"
)

func TestStateSaveAndOpen(t *testing.T) {
	dir := t.TempDir()
	params := map[string]string{"topics": "t", "from": "earliest", "to": "latest"}
	path, err := replay.DefaultStatePath(dir, "replay", replay.Identity(params))
	if err != nil {
		t.Fatal(err)
	}
	resolved := 0
	resolve := func() (replay.Plan, error) {
		resolved++
		return replay.Plan{Ranges: []replay.PartitionRange{{Topic: "t", Partition: 0, Start: 10, End: 20}}}, nil
	}

	st, resumed, err := replay.OpenState(path, params, false, resolve)
	if err != nil || resumed || resolved != 1 {
		t.Fatalf("new state: resumed %v, resolved %d, err %v", resumed, resolved, err)
	}
	st.Ranges[0].Next = 15
	if err := st.Save(path); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("state dir holds %d files, want only the state (no temporary left)", len(entries))
	}

	st, resumed, err = replay.OpenState(path, params, false, resolve)
	if err != nil || !resumed || resolved != 1 {
		t.Fatalf("reopen: resumed %v, resolved %d, err %v", resumed, resolved, err)
	}
	if r := st.Plan().Ranges[0]; r.Start != 15 || r.End != 20 {
		t.Errorf("remaining range %+v, want [15, 20)", r)
	}

	other := map[string]string{"topics": "t", "from": "earliest", "to": "100"}
	if _, _, err := replay.OpenState(path, other, false, resolve); !errors.Is(err, replay.ErrStateMismatch) {
		t.Errorf("other parameters on the same file: %v, want ErrStateMismatch", err)
	}
	if _, resumed, err := replay.OpenState(path, params, true, resolve); err != nil || resumed || resolved != 2 {
		t.Errorf("restart: resumed %v, resolved %d, err %v", resumed, resolved, err)
	}

	if err := os.WriteFile(filepath.Join(dir, "torn.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := replay.LoadState(filepath.Join(dir, "torn.json")); err == nil {
		t.Error("LoadState of a torn file succeeded")
	}
}
