package deploycheck_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// promtoolVersion is the Prometheus module version whose promtool is built
// from the Go module proxy for the tests (v0.316.0 is Prometheus 3.16.0).
const promtoolVersion = "v0.316.0"

// promtool returns the path of a promtool binary, built on first use into
// .cache/bin/promtool-<version>/. remove_all_sd leaves out Prometheus's
// service discoveries (cloud SDKs, client-go): rule tests need none, and the
// build takes minutes less. SNOTIBRIDGE_SKIP_PROMTOOL=1 skips the caller.
func promtool(t *testing.T) string {
	t.Helper()
	return goTool(t, "promtool", "github.com/prometheus/prometheus/cmd/promtool", promtoolVersion, "remove_all_sd", "SNOTIBRIDGE_SKIP_PROMTOOL")
}

// alertsCase renders every alert of the chart: the production values
// enable the PrometheusRule and the SFTP export.
func alertsCase() valuesCase {
	for _, c := range valuesCases {
		if c.name == "production" {
			return c
		}
	}
	panic("no production values case")
}

// renderedRules returns the rendered PrometheusRule's spec (its groups), as
// a Prometheus rules file.
func renderedRules(t *testing.T) []byte {
	t.Helper()
	for _, r := range helmTemplate(t, alertsCase()) {
		if r.kind != "PrometheusRule" {
			continue
		}
		var pr struct {
			Spec struct {
				Groups []any `json:"groups"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal(r.raw, &pr); err != nil {
			t.Fatal(err)
		}
		out, err := yaml.Marshal(map[string]any{"groups": pr.Spec.Groups})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	t.Fatal("the production values render no PrometheusRule")
	return nil
}

// ruleAlerts lists the alert names of a rules file.
func ruleAlerts(t *testing.T, rules []byte) []string {
	t.Helper()
	var f struct {
		Groups []struct {
			Rules []struct {
				Alert string `json:"alert"`
			} `json:"rules"`
		} `json:"groups"`
	}
	if err := yaml.Unmarshal(rules, &f); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" && !slices.Contains(names, r.Alert) {
				names = append(names, r.Alert)
			}
		}
	}
	return names
}

func runPromtool(t *testing.T, dir string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, promtool(t), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("promtool %s:\n%s", strings.Join(args, " "), out)
}

// TestAlertRulesFire evaluates every alert of the chart with `promtool test
// rules` against testdata/alerts.test.yaml: each fires on the series it
// exists for, after its for:, and stays quiet on healthy ones.
func TestAlertRulesFire(t *testing.T) {
	rules := renderedRules(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), rules, 0o644); err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(filepath.Join("testdata", "alerts.test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "alerts.test.yaml"), tests, 0o644); err != nil {
		t.Fatal(err)
	}

	// Every alert needs a case where it fires and one where it is quiet.
	var suite struct {
		Tests []struct {
			Name  string `json:"name"`
			Cases []struct {
				Alertname string `json:"alertname"`
				ExpAlerts []any  `json:"exp_alerts"`
			} `json:"alert_rule_test"`
		} `json:"tests"`
	}
	if err := yaml.Unmarshal(tests, &suite); err != nil {
		t.Fatalf("testdata/alerts.test.yaml: %v", err)
	}
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, tg := range suite.Tests {
		for _, c := range tg.Cases {
			if len(c.ExpAlerts) > 0 {
				fires[c.Alertname] = true
			} else {
				quiet[c.Alertname] = true
			}
		}
	}
	alerts := ruleAlerts(t, rules)
	if len(alerts) < 10 {
		t.Fatalf("only %d alerts rendered: %v", len(alerts), alerts)
	}
	for _, a := range alerts {
		if !fires[a] {
			t.Errorf("alert %s has no promtool case where it fires", a)
		}
		if !quiet[a] {
			t.Errorf("alert %s has no promtool case where it stays quiet", a)
		}
	}
	for a := range fires {
		if !slices.Contains(alerts, a) {
			t.Errorf("testdata/alerts.test.yaml tests %s, which the chart does not render", a)
		}
	}

	runPromtool(t, dir, "check", "rules", "rules.yaml")
	runPromtool(t, dir, "test", "rules", "alerts.test.yaml")
}

// TestPinnedToolsBuild builds (or finds in .cache/bin) the Helm and promtool
// the chart tests run; make test-tools runs it alone before the tests.
func TestPinnedToolsBuild(t *testing.T) {
	for _, bin := range []string{helm(t), promtool(t)} {
		if fi, err := os.Stat(bin); err != nil || fi.Mode()&0o111 == 0 {
			t.Errorf("%s: not an executable: %v", bin, err)
		}
	}
}
