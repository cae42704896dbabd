package localstack

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Services are the stack's programs in start order (the emulators first,
// the ingest last); they stop in the reverse order, input first.
var Services = []string{"sink-sim", "snoti-sim", "enos-forwarder", "energisme-forwarder", "decoder", "ingest"}

// ProductKey is the simulated EV charger product, the one the example
// codecs and mappings know.
const ProductKey = "3f1c0a7e2b5d4c6e8a9b0c1d2e3f4a5b"

// Ports are the listen ports of the stack, all on 127.0.0.1.
type Ports struct {
	SNoti, Sink, SFTP int
	SimControl        int            // snoti-sim's /sim/ control API
	EnterpriseAPI     int            // snoti-sim's Gizwits Enterprise API
	HTTP              map[string]int // per service: health, readiness, metrics
}

// FixedPorts are make run's ports.
func FixedPorts() Ports {
	return Ports{SNoti: 2017, Sink: 8090, SFTP: 2022, SimControl: 8081, EnterpriseAPI: 8082, HTTP: map[string]int{
		"ingest": 9101, "decoder": 9102, "enos-forwarder": 9103, "energisme-forwarder": 9104, "snoti-sim": 9105, "sink-sim": 9106,
	}}
}

// PortsFrom are 11 consecutive ports from base on.
func PortsFrom(base int) Ports {
	p := Ports{SNoti: base, Sink: base + 1, SFTP: base + 2, HTTP: map[string]int{}}
	for i, n := range []string{"ingest", "decoder", "enos-forwarder", "energisme-forwarder", "snoti-sim", "sink-sim"} {
		p.HTTP[n] = base + 3 + i
	}
	p.SimControl, p.EnterpriseAPI = base+9, base+10
	return p
}

// Plan is what the wiring depends on.
type Plan struct {
	Root    string // repository root (codecs, mappings)
	RunDir  string // simulator state: certificate, known_hosts, SFTP root
	Ports   Ports
	Devices int     // snoti-sim's fleet
	Rate    float64 // events/s
}

// CAFile is where snoti-sim writes its certificate, for the ingest.
func (p Plan) CAFile() string { return filepath.Join(p.RunDir, "snoti-sim", "ca.pem") }

// KnownHostsFile is where sink-sim writes its SFTP host key, for the
// energisme-forwarder.
func (p Plan) KnownHostsFile() string { return filepath.Join(p.RunDir, "sink-sim", "known_hosts") }

// SFTPRoot is the directory sink-sim's SFTP server serves.
func (p Plan) SFTPRoot() string { return filepath.Join(p.RunDir, "sink-sim", "sftp") }

// ReadyFile is the file a simulator writes once it serves ("" for the
// other services): wait for it before starting what needs it.
func (p Plan) ReadyFile(service string) string {
	switch service {
	case "sink-sim":
		return p.KnownHostsFile()
	case "snoti-sim":
		return p.CAFile()
	}
	return ""
}

// Prepare writes snoti-sim's products file and removes the simulators'
// ready files of an earlier run.
func (p Plan) Prepare() error {
	// snoti-sim declares only the v1 enterprise queue the ingest reads: a
	// products file without subkeys keeps the EV charger product (so the
	// codecs and mappings apply) but no v2 queue that nobody consumes.
	products := filepath.Join(p.RunDir, "snoti-sim", "products.json")
	if err := os.MkdirAll(filepath.Dir(products), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(products, []byte(`[{"product_key":"`+ProductKey+`","auth_id":"sim-auth-id","auth_secret":"sim-auth-secret","subkeys":[]}]`+"\n"), 0o644); err != nil {
		return err
	}
	for _, f := range []string{p.CAFile(), p.KnownHostsFile()} {
		if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}

// Wiring is each service's own variables (KAFKA_BROKERS, HTTP_ADDR and
// logging come on top): the simulators, the example codecs and mappings,
// the SFTP export with 1-minute files, device commands through snoti-sim's
// Enterprise API. A later entry for the same variable wins (os/exec), so
// callers may append overrides.
func (p Plan) Wiring() map[string][]string {
	pp, run, root := p.Ports, p.RunDir, p.Root
	sink := fmt.Sprintf("http://127.0.0.1:%d", pp.Sink)
	return map[string][]string{
		"sink-sim": {fmt.Sprintf("SINK_SIM_ADDR=127.0.0.1:%d", pp.Sink), fmt.Sprintf("SINK_SIM_SFTP_ADDR=127.0.0.1:%d", pp.SFTP),
			"SINK_SIM_SFTP_ROOT=" + p.SFTPRoot(), "SINK_SIM_SFTP_HOST_KEY_FILE=" + filepath.Join(run, "sink-sim", "ssh_host_ed25519_key"),
			"SINK_SIM_SFTP_KNOWN_HOSTS_FILE=" + p.KnownHostsFile()},
		"snoti-sim": {fmt.Sprintf("SNOTI_SIM_ADDR=127.0.0.1:%d", pp.SNoti), "SNOTI_SIM_CA_OUT=" + p.CAFile(),
			"SNOTI_SIM_PRODUCTS_FILE=" + filepath.Join(run, "snoti-sim", "products.json"),
			"SNOTI_SIM_EVENT_MIX=default", // the v1 event types: the ingest logs in with v1
			fmt.Sprintf("SNOTI_SIM_CONTROL_ADDR=127.0.0.1:%d", pp.SimControl), fmt.Sprintf("SNOTI_SIM_ENTERPRISE_API_ADDR=127.0.0.1:%d", pp.EnterpriseAPI),
			fmt.Sprintf("SNOTI_SIM_DEVICES=%d", p.Devices), fmt.Sprintf("SNOTI_SIM_RATE=%g", p.Rate)},
		"enos-forwarder": {"ENOS_APIM_URL=" + sink, "ENOS_API_URL=" + sink, "ENOS_ACCESS_KEY=sim-access-key", "ENOS_SECRET_KEY=sim-secret-key",
			"ENOS_ORG_ID=sim-org", "ENOS_MAPPING_FILE=" + filepath.Join(root, "services", "enos-forwarder", "mapping.example.json")},
		"energisme-forwarder": {"ENERGISME_URL=" + sink + "/push", "ENERGISME_TOKEN=sim-token",
			"ENERGISME_MAPPING_FILE=" + filepath.Join(root, "services", "energisme-forwarder", "mapping.example.json"),
			fmt.Sprintf("ENERGISME_SFTP_ADDR=127.0.0.1:%d", pp.SFTP), "ENERGISME_SFTP_USER=energisme", "ENERGISME_SFTP_PASSWORD=energisme",
			"ENERGISME_SFTP_KNOWN_HOSTS=" + p.KnownHostsFile(), "ENERGISME_SFTP_DIR=/", "ENERGISME_FILE_INTERVAL=1m"},
		"decoder": {"CODECS_DIR=" + filepath.Join(root, "services", "decoder", "codecs")},
		"ingest": {fmt.Sprintf("SNOTI_ADDR=127.0.0.1:%d", pp.SNoti), "SNOTI_PROTOCOL=v1", "SNOTI_ENTERPRISE_ID=sim-enterprise",
			"SNOTI_ENTERPRISE_SECRET=sim-secret", "SNOTI_CA_FILE=" + p.CAFile(), "SNOTI_PREFETCH=1000",
			// Device commands: SNoti v1 has no remote control, so they go
			// through snoti-sim's Enterprise API to the same virtual devices.
			"COMMANDS_ENABLED=true", "COMMANDS_PATH=enterprise_api", fmt.Sprintf("GIZWITS_API_URL=http://127.0.0.1:%d", pp.EnterpriseAPI),
			"GIZWITS_PRODUCT_SECRETS=" + ProductKey + ":sim-product-secret"},
	}
}

// BuildCommand builds bridgectl and every service into dir (CGO off, as
// make build).
func BuildCommand(ctx context.Context, root, dir string) *exec.Cmd {
	pkgs := []string{"./services/bridgectl"}
	for _, n := range Services {
		pkgs = append(pkgs, "./services/"+n)
	}
	cmd := exec.CommandContext(ctx, "go", append([]string{"build", "-trimpath", "-o", dir + "/"}, pkgs...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	return cmd
}
