package deploycheck_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// loadCompose loads docker-compose.yml the way `docker compose` does:
// schema validation, interpolation, normalisation and consistency checks.
func loadCompose(t *testing.T, root string) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions(
		[]string{filepath.Join(root, "docker-compose.yml")},
		cli.WithWorkingDirectory(root),
		cli.WithEnv(nil), // the host's environment must not change the result
		cli.WithConsistency(true),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("loading docker-compose.yml: %v", err)
	}
	return p
}

// builtService returns the services/ folder a compose service is built
// from (its SERVICE build argument), or "" when it runs another image.
func builtService(s types.ServiceConfig) string {
	if s.Build == nil || s.Build.Args["SERVICE"] == nil {
		return ""
	}
	return *s.Build.Args["SERVICE"]
}

func TestComposeRunsEveryServiceFromTheRootDockerfile(t *testing.T) {
	root := repoRoot(t)
	p := loadCompose(t, root)

	built := map[string]string{} // services/ folder -> compose service
	for name, s := range p.Services {
		svc := builtService(s)
		if name == "kafka" {
			if !strings.HasPrefix(s.Image, "apache/kafka:") || s.Build != nil {
				t.Errorf("kafka: image %q, build %v: want the apache/kafka image, not built", s.Image, s.Build)
			}
			continue
		}
		if svc == "" {
			t.Errorf("%s: not built from the root Dockerfile with a SERVICE build argument", name)
			continue
		}
		if _, err := os.Stat(filepath.Join(root, "services", svc, "go.mod")); err != nil {
			t.Errorf("%s: SERVICE=%s is not a folder of services/", name, svc)
		}
		if s.Build.Context != root {
			t.Errorf("%s: build context %q, want the repository root", name, s.Build.Context)
		}
		if df := s.Build.Dockerfile; df != "" && df != "Dockerfile" {
			t.Errorf("%s: dockerfile %q, want the root Dockerfile", name, df)
		}
		if want := "snotibridge/" + svc + ":dev"; s.Image != want {
			t.Errorf("%s: image %q, want %q", name, s.Image, want)
		}
		built[svc] = name
	}
	for _, svc := range serviceFolders(t, root) {
		if _, ok := built[svc]; !ok {
			t.Errorf("services/%s is not in docker-compose.yml", svc)
		}
	}
}

func TestComposeSetsOnlyVariablesTheServicesRead(t *testing.T) {
	root := repoRoot(t)
	p := loadCompose(t, root)
	scan := newEnvScanner(root)
	for name, s := range p.Services {
		svc := builtService(s)
		if svc == "" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			if !written(root, svc) {
				t.Skipf("services/%s has no main.go yet: its variables cannot be checked", svc)
			}
			spec, err := scan.service(svc)
			if err != nil {
				t.Fatal(err)
			}
			if len(spec.vars) == 0 {
				t.Skipf("services/%s declares no envconfig variable yet", svc)
			}
			for v := range s.Environment {
				if !spec.vars[v] {
					t.Errorf("sets %s, which services/%s does not read (it reads %v)", v, svc, spec.names())
				}
			}
			for v := range spec.required {
				if s.Environment[v] == nil {
					t.Errorf("does not set %s, which services/%s requires", v, svc)
				}
			}
		})
	}
}

func TestComposeHealthChecksAndStartOrder(t *testing.T) {
	root := repoRoot(t)
	p := loadCompose(t, root)

	healthy := func(name string) bool {
		s, ok := p.Services[name]
		return ok && s.HealthCheck != nil && !s.HealthCheck.Disable && len(s.HealthCheck.Test) > 1
	}
	if !healthy("kafka") {
		t.Fatal("kafka: no health check")
	}
	topics, ok := p.Services["topics"]
	switch {
	case !ok:
		t.Fatal("no topics service running bridgectl topics ensure")
	case builtService(topics) != "bridgectl" || !slices.Equal(topics.Command, types.ShellCommand{"topics", "ensure"}):
		t.Errorf("topics: runs %s %v, want bridgectl topics ensure", builtService(topics), topics.Command)
	case topics.DependsOn["kafka"].Condition != types.ServiceConditionHealthy:
		t.Errorf("topics: depends on kafka with %q, want service_healthy", topics.DependsOn["kafka"].Condition)
	case topics.Restart != "" && topics.Restart != types.RestartPolicyNo:
		t.Errorf("topics: restart %q: a one-shot job must not restart", topics.Restart)
	}

	for name, s := range p.Services {
		for dep, d := range s.DependsOn {
			switch d.Condition {
			case types.ServiceConditionHealthy:
				if !healthy(dep) {
					t.Errorf("%s waits for %s to be healthy, but %s has no health check", name, dep, dep)
				}
			case types.ServiceConditionCompletedSuccessfully:
				if dep != "topics" {
					t.Errorf("%s waits for %s to complete, but only topics is a one-shot", name, dep)
				}
			default:
				t.Errorf("%s depends on %s with condition %q: use service_healthy or service_completed_successfully", name, dep, d.Condition)
			}
		}
		if name == "kafka" || name == "topics" {
			continue
		}
		if !healthy(name) {
			t.Errorf("%s: no health check", name)
		} else if test := s.HealthCheck.Test; test[0] != "CMD" || test[1] != "/usr/local/bin/httpprobe" ||
			!strings.HasSuffix(test[len(test)-1], httpPort(s)+"/readyz") {
			t.Errorf("%s: health check %v, want [CMD /usr/local/bin/httpprobe http://127.0.0.1%s/readyz]", name, test, httpPort(s))
		}
		if s.Environment["KAFKA_BROKERS"] != nil && s.DependsOn["topics"].Condition != types.ServiceConditionCompletedSuccessfully {
			t.Errorf("%s uses Kafka but does not wait for topics to complete successfully", name)
		}
	}
	for name, dep := range map[string]string{"ingest": "snoti-sim", "enos-forwarder": "sink-sim", "energisme-forwarder": "sink-sim"} {
		if p.Services[name].DependsOn[dep].Condition != types.ServiceConditionHealthy {
			t.Errorf("%s does not wait for %s to be healthy", name, dep)
		}
	}
}

// httpPort is the :port the service serves /readyz on inside its container.
func httpPort(s types.ServiceConfig) string {
	addr := ":8080"
	if v := s.Environment["HTTP_ADDR"]; v != nil {
		addr = *v
	}
	return addr[strings.LastIndex(addr, ":"):]
}

func TestComposeMountsExistAndPointVariablesAtThem(t *testing.T) {
	root := repoRoot(t)
	p := loadCompose(t, root)
	for name, s := range p.Services {
		svc := builtService(s)
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			if _, err := os.Stat(v.Source); err != nil {
				if svc != "" && !written(root, svc) {
					t.Logf("%s: bind source %s is missing; services/%s is still being written", name, v.Source, svc)
					continue
				}
				t.Errorf("%s: bind source %s: %v", name, v.Source, err)
			}
			if !v.ReadOnly {
				t.Errorf("%s: bind mount %s is writable: mount repository files read-only", name, v.Target)
			}
		}
		// Every *_FILE and *_DIR variable names a path inside a mount.
		for k, val := range s.Environment {
			if val == nil || !(strings.HasSuffix(k, "_FILE") || strings.HasSuffix(k, "_DIR") || strings.HasSuffix(k, "_OUT") || strings.HasSuffix(k, "_ROOT")) {
				continue
			}
			if !slices.ContainsFunc(s.Volumes, func(v types.ServiceVolumeConfig) bool {
				return *val == v.Target || strings.HasPrefix(*val, strings.TrimSuffix(v.Target, "/")+"/")
			}) {
				t.Errorf("%s: %s=%s is not inside any volume of the service", name, k, *val)
			}
		}
	}
}

// shutdownDefault is SHUTDOWN_TIMEOUT's default, read from pkg/config.
func shutdownDefault(t *testing.T, root string) time.Duration {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "pkg", "config", "shared.go"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`envconfig:"SHUTDOWN_TIMEOUT" default:"([^"]+)"`).FindSubmatch(b)
	if m == nil {
		t.Fatal("pkg/config/shared.go: no SHUTDOWN_TIMEOUT default found")
	}
	d, err := time.ParseDuration(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestComposeIsLocalAndHardened: nothing published beyond the loopback
// interface, long-running services restart and drain before being killed,
// and every container runs without capabilities or privilege escalation.
func TestComposeIsLocalAndHardened(t *testing.T) {
	root := repoRoot(t)
	p := loadCompose(t, root)
	drain := shutdownDefault(t, root)
	for name, s := range p.Services {
		for _, port := range s.Ports {
			if port.HostIP != "127.0.0.1" {
				t.Errorf("%s: port %s published on %q, want 127.0.0.1 only", name, port.Published, port.HostIP)
			}
		}
		if !slices.Contains(s.CapDrop, "ALL") {
			t.Errorf("%s: cap_drop %v, want [ALL]", name, s.CapDrop)
		}
		if !slices.Contains(s.SecurityOpt, "no-new-privileges:true") {
			t.Errorf("%s: security_opt %v lacks no-new-privileges:true", name, s.SecurityOpt)
		}
		if builtService(s) != "" && !s.ReadOnly {
			t.Errorf("%s: root filesystem writable; want read_only: true", name)
		}
		if name == "topics" {
			continue // a one-shot job (checked in TestComposeHealthChecksAndStartOrder)
		}
		if s.Restart != types.RestartPolicyUnlessStopped && s.Restart != types.RestartPolicyAlways {
			t.Errorf("%s: restart %q, want unless-stopped", name, s.Restart)
		}
		budget := drain
		if v := s.Environment["SHUTDOWN_TIMEOUT"]; v != nil {
			if d, err := time.ParseDuration(*v); err == nil {
				budget = d
			}
		}
		if s.StopGracePeriod == nil || time.Duration(*s.StopGracePeriod) <= budget {
			t.Errorf("%s: stop_grace_period %v, want above the %s drain budget (SHUTDOWN_TIMEOUT)", name, s.StopGracePeriod, budget)
		}
	}
}

// volumePath is where a path inside a container lives: the named volume
// and the path inside it, or "" when no named volume holds it.
func volumePath(s types.ServiceConfig, path string) (volume, rel string) {
	for _, v := range s.Volumes {
		if v.Type != types.VolumeTypeVolume {
			continue
		}
		target := strings.TrimSuffix(v.Target, "/")
		r, ok := strings.CutPrefix(path, target+"/")
		if !ok {
			continue
		}
		if v.Volume != nil && v.Volume.Subpath != "" {
			r = strings.Trim(v.Volume.Subpath, "/") + "/" + r
		}
		return v.Source, r
	}
	return "", ""
}

// TestComposeSinkSimKeyStaysWithSinkSim: the SFTP emulator's host private
// key is on a volume other services mount; none of them may see it, and
// energisme-forwarder still finds the known_hosts line sink-sim writes.
func TestComposeSinkSimKeyStaysWithSinkSim(t *testing.T) {
	p := loadCompose(t, repoRoot(t))
	sim := p.Services["sink-sim"]
	env := func(s types.ServiceConfig, k string) string {
		if v := s.Environment[k]; v != nil {
			return *v
		}
		return ""
	}
	keyVol, keyRel := volumePath(sim, env(sim, "SINK_SIM_SFTP_HOST_KEY_FILE"))
	if keyVol == "" {
		t.Fatal("sink-sim: SINK_SIM_SFTP_HOST_KEY_FILE is not on a named volume")
	}
	for name, s := range p.Services {
		if name == "sink-sim" {
			continue
		}
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeVolume || v.Source != keyVol {
				continue
			}
			sub := ""
			if v.Volume != nil {
				sub = strings.Trim(v.Volume.Subpath, "/")
			}
			if sub == "" || keyRel == sub || strings.HasPrefix(keyRel, sub+"/") {
				t.Errorf("%s: mounts %s (subpath %q), which holds sink-sim's SSH host private key %s", name, keyVol, sub, keyRel)
			}
		}
	}
	fwd := p.Services["energisme-forwarder"]
	hostsVol, hostsRel := volumePath(sim, env(sim, "SINK_SIM_SFTP_KNOWN_HOSTS_FILE"))
	gotVol, gotRel := volumePath(fwd, env(fwd, "ENERGISME_SFTP_KNOWN_HOSTS"))
	if hostsVol == "" || gotVol != hostsVol || gotRel != hostsRel {
		t.Errorf("energisme-forwarder reads known_hosts at %s:%s, sink-sim writes it at %s:%s", gotVol, gotRel, hostsVol, hostsRel)
	}
}
