package kafkatest

import (
	"crypto/rand"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestKafkaShTakesAClusterIDStartingWithADash formats with a cluster id
// that starts with '-', as one in 64 of the random ones StartCluster and
// tools/run make does: kafka.sh's format (tools/run's path) and its run
// (the cluster nodes') both format it, and the broker serves. The storage
// tool took such an id after -t for an option and failed.
func TestKafkaShTakesAClusterIDStartingWithADash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a broker")
	}
	var raw [16]byte
	_, _ = rand.Read(raw[:])
	raw[0] = 0xf8 | raw[0]&0x03 // the first six bits are 62: '-'
	id := base64.RawURLEncoding.EncodeToString(raw[:])
	if id[0] != '-' {
		t.Fatalf("cluster id %q does not start with '-'", id)
	}
	script, err := scriptPath()
	if err != nil {
		t.Fatal(err)
	}

	// Formatted only: a broker's directory and ports, never started.
	f, err := newBroker(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	format := exec.Command(script, "format", f.dir, strconv.Itoa(f.port), strconv.Itoa(f.cport))
	format.Env = append(os.Environ(), "KAFKA_CLUSTER_ID="+id)
	if out, err := format.CombinedOutput(); err != nil {
		t.Fatalf("kafka.sh format with cluster id %s: %v\n%s", id, err, out)
	}
	wantClusterID(t, f.dir, id)

	b, err := newBroker(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b.env = []string{"KAFKA_CLUSTER_ID=" + id}
	t.Cleanup(b.Stop)
	if err := b.Start(); err != nil {
		t.Fatalf("kafka.sh run with cluster id %s: %v", id, err)
	}
	wantClusterID(t, b.dir, id)
}

// wantClusterID checks the cluster id that formatting dir's storage wrote.
func wantClusterID(t *testing.T, dir, id string) {
	t.Helper()
	meta, err := os.ReadFile(filepath.Join(dir, "data", "meta.properties"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(meta), "cluster.id="+id+"\n") {
		t.Errorf("meta.properties of %s has no cluster.id=%s:\n%s", dir, id, meta)
	}
}
