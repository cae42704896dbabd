package deploycheck_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

// valuesCase is one set of values the chart must render.
type valuesCase struct {
	name  string
	files []string // relative to this module
	set   []string
	// external are the Secrets and ConfigMaps the values reference that
	// the operator creates; every other reference must be rendered.
	external []string
}

var valuesCases = []valuesCase{
	{name: "default"},
	{
		name:  "production",
		files: []string{"../../helm/snotibridge/ci/production-values.yaml"},
		external: []string{"kafka-ca", "kafka-credentials", "snoti-products", "snotibridge-codecs",
			"snotibridge-enos-mapping", "enos-credentials", "energisme-credentials"},
	},
	{name: "simulators-and-inline-secrets", files: []string{"testdata/simulators-values.yaml"},
		external: []string{"decoder-tuning", "decoder-extra"}},
	{
		name:     "kafka-client-certificate",
		set:      []string{"kafka.tls.enabled=true", "kafka.tls.clientCertSecret.name=snotibridge-kafka-user"},
		external: []string{"snotibridge-kafka-user"},
	},
}

func (c valuesCase) args(chart string) []string {
	var a []string
	for _, f := range c.files {
		if !filepath.IsAbs(f) {
			f, _ = filepath.Abs(f)
		}
		a = append(a, "-f", f)
	}
	for _, s := range c.set {
		a = append(a, "--set", s)
	}
	return a
}

func chartDir(t *testing.T) string {
	return filepath.Join(repoRoot(t), "helm", "snotibridge")
}

func TestHelmLint(t *testing.T) {
	chart := chartDir(t)
	for _, c := range valuesCases {
		t.Run(c.name, func(t *testing.T) {
			out, err := runHelm(t, append([]string{"lint", "--strict", chart}, c.args(chart)...)...)
			if err != nil {
				t.Fatalf("helm lint: %v\n%s", err, out)
			}
		})
	}
}

// rendered is one manifest of helm template's output.
type rendered struct {
	source string // the template it came from
	kind   string
	name   string
	raw    []byte
}

func helmTemplate(t *testing.T, c valuesCase) []rendered {
	t.Helper()
	chart := chartDir(t)
	out, err := runHelm(t, append([]string{"template", "rel", chart, "--namespace", "iot"}, c.args(chart)...)...)
	if err != nil {
		t.Fatalf("helm template: %v", err)
	}
	var docs []rendered
	for _, doc := range bytes.Split(out, []byte("\n---\n")) {
		var src string
		if i := bytes.Index(doc, []byte("# Source: ")); i >= 0 {
			src = string(bytes.TrimSpace(bytes.SplitN(doc[i+len("# Source: "):], []byte("\n"), 2)[0]))
		}
		var head struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			t.Fatalf("%s: not YAML: %v", src, err)
		}
		if head.Kind == "" {
			continue // comments only
		}
		docs = append(docs, rendered{source: src, kind: head.Kind, name: head.Metadata.Name, raw: doc})
	}
	return docs
}

// decodeStrict decodes a manifest into a typed object, refusing unknown
// or duplicated fields, as the API server's strict field validation does.
func decodeStrict(t *testing.T, r rendered, into any) {
	t.Helper()
	if err := yaml.UnmarshalStrict(r.raw, into); err != nil {
		t.Errorf("%s %s (%s): %v", r.kind, r.name, r.source, err)
	}
}

// manifests is a render decoded by kind.
type manifests struct {
	deployments []appsv1.Deployment
	services    []corev1.Service
	configMaps  map[string]corev1.ConfigMap
	secrets     map[string]corev1.Secret
	jobs        []batchv1.Job
	pods        []corev1.Pod
	pdbs        map[string]policyv1.PodDisruptionBudget
	netpols     []networkingv1.NetworkPolicy
	custom      map[string][]map[string]any // by kind: KEDA and Prometheus operator resources
}

func decodeAll(t *testing.T, docs []rendered) manifests {
	t.Helper()
	m := manifests{configMaps: map[string]corev1.ConfigMap{}, secrets: map[string]corev1.Secret{},
		pdbs: map[string]policyv1.PodDisruptionBudget{}, custom: map[string][]map[string]any{}}
	seen := map[string]bool{}
	for _, r := range docs {
		if id := r.kind + "/" + r.name; seen[id] {
			t.Errorf("%s rendered twice", id)
		} else {
			seen[id] = true
		}
		switch r.kind {
		case "Deployment":
			var o appsv1.Deployment
			decodeStrict(t, r, &o)
			m.deployments = append(m.deployments, o)
		case "Service":
			var o corev1.Service
			decodeStrict(t, r, &o)
			m.services = append(m.services, o)
		case "ConfigMap":
			var o corev1.ConfigMap
			decodeStrict(t, r, &o)
			m.configMaps[o.Name] = o
		case "Secret":
			var o corev1.Secret
			decodeStrict(t, r, &o)
			m.secrets[o.Name] = o
		case "ServiceAccount":
			var o corev1.ServiceAccount
			decodeStrict(t, r, &o)
		case "Job":
			var o batchv1.Job
			decodeStrict(t, r, &o)
			m.jobs = append(m.jobs, o)
		case "Pod":
			var o corev1.Pod
			decodeStrict(t, r, &o)
			m.pods = append(m.pods, o)
		case "PodDisruptionBudget":
			var o policyv1.PodDisruptionBudget
			decodeStrict(t, r, &o)
			m.pdbs[o.Name] = o
		case "NetworkPolicy":
			var o networkingv1.NetworkPolicy
			decodeStrict(t, r, &o)
			m.netpols = append(m.netpols, o)
		case "ScaledObject", "TriggerAuthentication", "ServiceMonitor", "PrometheusRule":
			var o map[string]any
			if err := yaml.Unmarshal(r.raw, &o); err != nil {
				t.Errorf("%s %s: %v", r.kind, r.name, err)
			}
			m.custom[r.kind] = append(m.custom[r.kind], o)
		default:
			t.Errorf("%s %s (%s): kind not checked by this test; add it", r.kind, r.name, r.source)
		}
	}
	return m
}

func TestHelmTemplateDecodesStrictly(t *testing.T) {
	root := repoRoot(t)
	scan := newEnvScanner(root)
	exported := exportedMetrics(t, root)
	for _, c := range valuesCases {
		t.Run(c.name, func(t *testing.T) {
			docs := helmTemplate(t, c)
			m := decodeAll(t, docs)
			if len(m.deployments) == 0 {
				t.Fatal("no Deployment rendered")
			}
			partitions := 6
			if c.name == "production" {
				partitions = 12
			}
			checkDeployments(t, root, scan, c, m)
			checkReferences(t, c, m)
			checkHooks(t, m)
			checkPDBs(t, m)
			checkCustom(t, m, partitions, exported)
		})
	}
}

func component(labels map[string]string) string { return labels["app.kubernetes.io/component"] }

func checkDeployments(t *testing.T, root string, scan *envScanner, c valuesCase, m manifests) {
	t.Helper()
	enabled := map[string]bool{}
	for _, d := range m.deployments {
		svc := component(d.Labels)
		enabled[svc] = true
		spec := d.Spec.Template.Spec
		where := "Deployment " + d.Name
		if _, err := os.Stat(filepath.Join(root, "services", svc, "go.mod")); err != nil {
			t.Errorf("%s: component %q is not a folder of services/", where, svc)
		}
		if spec.SecurityContext == nil || spec.SecurityContext.RunAsNonRoot == nil || !*spec.SecurityContext.RunAsNonRoot {
			t.Errorf("%s: pod securityContext.runAsNonRoot is not true", where)
		}
		if len(spec.Containers) != 1 {
			t.Fatalf("%s: %d containers, want 1", where, len(spec.Containers))
		}
		ctr := spec.Containers[0]
		checkContainerSecurity(t, where, ctr)
		if !strings.Contains(ctr.Image, "/"+svc+":") {
			t.Errorf("%s: image %s is not the %s image", where, ctr.Image, svc)
		}
		if p := ctr.LivenessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" {
			t.Errorf("%s: liveness probe is not GET /healthz", where)
		}
		if p := ctr.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/readyz" {
			t.Errorf("%s: readiness probe is not GET /readyz", where)
		}
		if ctr.Resources.Requests.Memory().IsZero() || ctr.Resources.Limits.Memory().IsZero() {
			t.Errorf("%s: memory request and limit must be set", where)
		}
		for _, vm := range ctr.VolumeMounts {
			if vm.SubPath != "" {
				t.Errorf("%s: volume %s mounted with subPath: ConfigMap and Secret updates would never reach the pod", where, vm.Name)
			}
		}
		checkEnv(t, root, scan, where, svc, ctr.Env)
		checkMemLimit(t, where, ctr)
		for _, tsc := range spec.TopologySpreadConstraints {
			if sel := tsc.LabelSelector; sel == nil || component(sel.MatchLabels) != svc || sel.MatchLabels["app.kubernetes.io/instance"] == "" {
				t.Errorf("%s: topology spread constraint on %s selects %v, not this component's pods", where, tsc.TopologyKey, sel)
			}
		}
		if d.Spec.Template.Annotations["checksum/config"] == "" {
			t.Errorf("%s: no checksum/config pod annotation", where)
		}
		if sel := d.Spec.Selector.MatchLabels; component(sel) != svc || component(d.Spec.Template.Labels) != svc {
			t.Errorf("%s: selector %v does not pick the component's pods", where, sel)
		}
	}
	for _, sim := range []string{"snoti-sim", "sink-sim"} {
		if c.name != "simulators-and-inline-secrets" && enabled[sim] {
			t.Errorf("%s is enabled; simulators are off unless asked for", sim)
		}
	}
	for _, svc := range []string{"ingest", "decoder", "enos-forwarder", "energisme-forwarder"} {
		if !enabled[svc] {
			t.Errorf("no Deployment for %s", svc)
		}
	}
	services := map[string]bool{}
	for _, s := range m.services {
		services[component(s.Labels)] = true
		if len(s.Name) > 63 {
			t.Errorf("Service %s: name longer than 63 characters", s.Name)
		}
	}
	for svc := range enabled {
		if !services[svc] {
			t.Errorf("no Service for %s (metrics, helm test)", svc)
		}
	}
}

// checkMemLimit: GOMEMLIMIT follows the container's memory limit.
func checkMemLimit(t *testing.T, where string, c corev1.Container) {
	t.Helper()
	for _, e := range c.Env {
		if e.Name != "GOMEMLIMIT" {
			continue
		}
		if r := e.ValueFrom; r == nil || r.ResourceFieldRef == nil || r.ResourceFieldRef.Resource != "limits.memory" || r.ResourceFieldRef.ContainerName != c.Name {
			t.Errorf("%s: GOMEMLIMIT is not the resourceFieldRef limits.memory of container %s", where, c.Name)
		}
		return
	}
	if !c.Resources.Limits.Memory().IsZero() {
		t.Errorf("%s: a memory limit and no GOMEMLIMIT: the Go GC would not see the limit", where)
	}
}

func checkContainerSecurity(t *testing.T, where string, c corev1.Container) {
	t.Helper()
	sc := c.SecurityContext
	switch {
	case sc == nil:
		t.Errorf("%s: container %s has no securityContext", where, c.Name)
	case sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot:
		t.Errorf("%s: container %s: runAsNonRoot is not true", where, c.Name)
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Errorf("%s: container %s: readOnlyRootFilesystem is not true", where, c.Name)
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Errorf("%s: container %s: allowPrivilegeEscalation is not false", where, c.Name)
	case sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL"):
		t.Errorf("%s: container %s: capabilities do not drop ALL", where, c.Name)
	}
}

// runtimeVars are read by the Go runtime, not by a service's Config.
var runtimeVars = map[string]bool{"GOMEMLIMIT": true}

// checkEnv fails for variables the service does not read, and for
// required ones left unset.
func checkEnv(t *testing.T, root string, scan *envScanner, where, svc string, env []corev1.EnvVar) {
	t.Helper()
	if !written(root, svc) {
		t.Logf("%s: services/%s has no main.go yet: variables not checked", where, svc)
		return
	}
	spec, err := scan.service(svc)
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.vars) == 0 {
		t.Logf("%s: services/%s declares no variable yet: not checked", where, svc)
		return
	}
	set := map[string]bool{}
	for _, e := range env {
		if set[e.Name] {
			t.Errorf("%s: %s set twice", where, e.Name)
		}
		set[e.Name] = true
		if runtimeVars[e.Name] {
			continue
		}
		if !spec.vars[e.Name] {
			t.Errorf("%s: sets %s, which services/%s does not read", where, e.Name, svc)
		}
	}
	for v := range spec.required {
		if !set[v] {
			t.Errorf("%s: does not set %s, which services/%s requires", where, v, svc)
		}
	}
}

// checkReferences fails when a pod uses a Secret or ConfigMap that is
// neither rendered nor one the values say the operator provides.
func checkReferences(t *testing.T, c valuesCase, m manifests) {
	t.Helper()
	check := func(where, kind, name string) {
		var ok bool
		switch kind {
		case "Secret":
			_, ok = m.secrets[name]
		case "ConfigMap":
			_, ok = m.configMaps[name]
		}
		if !ok && !slices.Contains(c.external, name) {
			t.Errorf("%s uses %s %q, which is neither rendered nor an existing one named in the values", where, kind, name)
		}
	}
	pods := map[string]corev1.PodSpec{}
	for _, d := range m.deployments {
		pods["Deployment "+d.Name] = d.Spec.Template.Spec
	}
	for _, j := range m.jobs {
		pods["Job "+j.Name] = j.Spec.Template.Spec
	}
	for where, spec := range pods {
		for _, v := range spec.Volumes {
			switch {
			case v.Secret != nil:
				check(where, "Secret", v.Secret.SecretName)
			case v.ConfigMap != nil:
				check(where, "ConfigMap", v.ConfigMap.Name)
			}
		}
		for _, ctr := range spec.Containers {
			for _, ef := range ctr.EnvFrom {
				switch {
				case ef.SecretRef != nil:
					check(where, "Secret", ef.SecretRef.Name)
				case ef.ConfigMapRef != nil:
					check(where, "ConfigMap", ef.ConfigMapRef.Name)
				}
			}
			for _, e := range ctr.Env {
				if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
					ref := e.ValueFrom.SecretKeyRef
					check(where, "Secret", ref.Name)
					if s, ok := m.secrets[ref.Name]; ok && s.Data[ref.Key] == nil {
						t.Errorf("%s: %s reads key %q of Secret %s, which has no such key", where, e.Name, ref.Key, ref.Name)
					}
				}
			}
		}
	}
}

func checkHooks(t *testing.T, m manifests) {
	t.Helper()
	if len(m.jobs) != 1 {
		t.Fatalf("%d Jobs, want the topics Job", len(m.jobs))
	}
	j := m.jobs[0]
	if hook := j.Annotations["helm.sh/hook"]; hook != "pre-install,pre-upgrade" {
		t.Errorf("Job %s: helm.sh/hook %q, want pre-install,pre-upgrade", j.Name, hook)
	}
	ctr := j.Spec.Template.Spec.Containers[0]
	if !strings.Contains(ctr.Image, "/bridgectl:") || !slices.Equal(ctr.Args, []string{"topics", "ensure"}) {
		t.Errorf("Job %s runs %s %v, want bridgectl topics ensure", j.Name, ctr.Image, ctr.Args)
	}
	if j.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever && j.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyOnFailure {
		t.Errorf("Job %s: restartPolicy %q", j.Name, j.Spec.Template.Spec.RestartPolicy)
	}
	checkContainerSecurity(t, "Job "+j.Name, ctr)
	checkEnv(t, repoRoot(t), newEnvScanner(repoRoot(t)), "Job "+j.Name, "bridgectl", ctr.Env)
	// A pre-install hook runs before the release's resources exist: it may
	// only read Secrets that are hooks themselves, weighted before it.
	for _, e := range ctr.Env {
		if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			continue
		}
		if s, ok := m.secrets[e.ValueFrom.SecretKeyRef.Name]; ok && s.Annotations["helm.sh/hook"] == "" {
			t.Errorf("Job %s reads %s from Secret %s, which does not exist yet at pre-install", j.Name, e.Name, s.Name)
		}
	}

	if len(m.pods) != 1 || m.pods[0].Annotations["helm.sh/hook"] != "test" {
		t.Fatalf("want one helm test Pod, got %d", len(m.pods))
	}
	tp := m.pods[0]
	if len(tp.Spec.Containers) != len(m.deployments) {
		t.Errorf("test Pod probes %d services, want %d", len(tp.Spec.Containers), len(m.deployments))
	}
	for _, ctr := range tp.Spec.Containers {
		checkContainerSecurity(t, "Pod "+tp.Name, ctr)
		if len(ctr.Command) != 2 || ctr.Command[0] != "/usr/local/bin/httpprobe" || !strings.HasSuffix(ctr.Command[1], ":8080/readyz") {
			t.Errorf("test container %s runs %v", ctr.Name, ctr.Command)
		}
	}
}

func checkPDBs(t *testing.T, m manifests) {
	t.Helper()
	for _, d := range m.deployments {
		replicas := int32(1)
		if d.Spec.Replicas != nil {
			replicas = *d.Spec.Replicas
		}
		for _, so := range m.custom["ScaledObject"] {
			if str(so, "spec", "scaleTargetRef", "name") == d.Name {
				replicas = int32(num(so, "spec", "minReplicaCount"))
			}
		}
		pdb, ok := m.pdbs[d.Name]
		switch {
		case replicas > 1 && !ok:
			t.Errorf("Deployment %s: %d replicas and no PodDisruptionBudget", d.Name, replicas)
		case replicas <= 1 && ok:
			t.Errorf("Deployment %s: one replica, yet a PodDisruptionBudget that would block node drains", d.Name)
		case ok && component(pdb.Spec.Selector.MatchLabels) != component(d.Labels):
			t.Errorf("PodDisruptionBudget %s selects %v", pdb.Name, pdb.Spec.Selector.MatchLabels)
		case ok && (pdb.Spec.UnhealthyPodEvictionPolicy == nil || *pdb.Spec.UnhealthyPodEvictionPolicy != policyv1.AlwaysAllow):
			t.Errorf("PodDisruptionBudget %s: unhealthyPodEvictionPolicy is not AlwaysAllow: unready pods (a sink outage) would block node drains", pdb.Name)
		}
	}
}

// checkCustom checks the CRD-based resources as unstructured objects.
func checkCustom(t *testing.T, m manifests, partitions int, exported map[string]bool) {
	t.Helper()
	deployments := map[string]bool{}
	for _, d := range m.deployments {
		deployments[d.Name] = true
		if len(m.custom["ScaledObject"]) > 0 && d.Spec.Replicas != nil {
			for _, so := range m.custom["ScaledObject"] {
				if str(so, "spec", "scaleTargetRef", "name") == d.Name {
					t.Errorf("Deployment %s sets replicas while KEDA scales it: every upgrade would reset it", d.Name)
				}
			}
		}
	}
	for _, so := range m.custom["ScaledObject"] {
		name := str(so, "metadata", "name")
		requireAPI(t, so, "keda.sh/v1alpha1")
		if !deployments[str(so, "spec", "scaleTargetRef", "name")] {
			t.Errorf("ScaledObject %s targets %q, not a rendered Deployment", name, str(so, "spec", "scaleTargetRef", "name"))
		}
		if max := num(so, "spec", "maxReplicaCount"); max < 1 || max > partitions {
			t.Errorf("ScaledObject %s: maxReplicaCount %d, want 1..%d (partitions)", name, max, partitions)
		}
		trig, _ := get(so, "spec", "triggers").([]any)
		// One trigger per consumer group the Deployment's pods run.
		target := str(so, "spec", "scaleTargetRef", "name")
		var want []string
		for _, d := range m.deployments {
			if d.Name == target {
				for _, e := range d.Spec.Template.Spec.Containers[0].Env {
					if e.Name == "GROUP_ID" || (e.Name == "FILES_GROUP_ID" && slices.ContainsFunc(d.Spec.Template.Spec.Containers[0].Env, func(e corev1.EnvVar) bool { return e.Name == "ENERGISME_SFTP_ADDR" })) {
						want = append(want, e.Value)
					}
				}
			}
		}
		var groups []string
		for _, x := range trig {
			tr := x.(map[string]any)
			for _, k := range []string{"bootstrapServers", "consumerGroup", "lagThreshold"} {
				if str(tr, "metadata", k) == "" {
					t.Errorf("ScaledObject %s: kafka trigger without %s", name, k)
				}
			}
			groups = append(groups, str(tr, "metadata", "consumerGroup"))
			if tr["type"] != "kafka" {
				t.Errorf("ScaledObject %s: trigger type %v", name, tr["type"])
			}
			if str(tr, "metadata", "excludePersistentLag") != "true" {
				t.Errorf("ScaledObject %s: excludePersistentLag is not true: a dead sink would scale the group to its maximum", name)
			}
			if ref := str(tr, "authenticationRef", "name"); ref != "" && !slices.ContainsFunc(m.custom["TriggerAuthentication"], func(o map[string]any) bool { return str(o, "metadata", "name") == ref }) {
				t.Errorf("ScaledObject %s: authenticationRef %s not rendered", name, ref)
			}
		}
		slices.Sort(groups)
		slices.Sort(want)
		if len(want) == 0 || !slices.Equal(groups, want) {
			t.Errorf("ScaledObject %s: triggers on groups %v, want the groups its pods run %v", name, groups, want)
		}
		if get(so, "spec", "advanced", "horizontalPodAutoscalerConfig", "behavior", "scaleUp") == nil || get(so, "spec", "advanced", "horizontalPodAutoscalerConfig", "behavior", "scaleDown") == nil {
			t.Errorf("ScaledObject %s: no HPA scaleUp/scaleDown behavior", name)
		}
	}
	for _, ta := range m.custom["TriggerAuthentication"] {
		requireAPI(t, ta, "keda.sh/v1alpha1")
		refs, _ := get(ta, "spec", "secretTargetRef").([]any)
		if len(refs) == 0 {
			t.Errorf("TriggerAuthentication %s: no secretTargetRef", str(ta, "metadata", "name"))
		}
	}
	for _, sm := range m.custom["ServiceMonitor"] {
		requireAPI(t, sm, "monitoring.coreos.com/v1")
		eps, _ := get(sm, "spec", "endpoints").([]any)
		if len(eps) == 0 || str(eps[0].(map[string]any), "port") != "http" || get(sm, "spec", "selector", "matchLabels") == nil {
			t.Errorf("ServiceMonitor %s: want an endpoint on port http and a selector", str(sm, "metadata", "name"))
		}
	}
	for _, pr := range m.custom["PrometheusRule"] {
		requireAPI(t, pr, "monitoring.coreos.com/v1")
		var alerts []string
		groups, _ := get(pr, "spec", "groups").([]any)
		for _, g := range groups {
			rules, _ := g.(map[string]any)["rules"].([]any)
			for _, r := range rules {
				rule := r.(map[string]any)
				alert, expr := str(rule, "alert"), str(rule, "expr")
				alerts = append(alerts, alert)
				if alert == "" || expr == "" || str(rule, "annotations", "summary") == "" {
					t.Errorf("PrometheusRule: rule %v lacks alert, expr or summary", rule)
				}
				checkPromQL(t, "alert "+alert, expr, exported)
			}
		}
		for _, want := range []string{"SnotibridgeNoPushesReceived", "SnotibridgeAckLatencyHigh", "SnotibridgeConsumerLagGrowing", "SnotibridgeDeadLetters", "SnotibridgeSinkFailing",
			"SnotibridgeComponentDown", "SnotibridgePodDown", "SnotibridgeCrashLooping"} {
			if !slices.Contains(alerts, want) {
				t.Errorf("PrometheusRule: no %s alert", want)
			}
		}
	}
	for name, cm := range m.configMaps {
		if cm.Labels["grafana_dashboard"] == "" {
			continue
		}
		var d map[string]any
		if err := json.Unmarshal([]byte(cm.Data["snotibridge.json"]), &d); err != nil || d["panels"] == nil {
			t.Errorf("ConfigMap %s: dashboard is not Grafana JSON: %v", name, err)
		}
	}
}

func requireAPI(t *testing.T, o map[string]any, apiVersion string) {
	t.Helper()
	if o["apiVersion"] != apiVersion || str(o, "metadata", "name") == "" || get(o, "spec") == nil {
		t.Errorf("%v %v: want apiVersion %s, metadata.name and spec", o["kind"], get(o, "metadata", "name"), apiVersion)
	}
}

func get(o map[string]any, path ...string) any {
	var cur any = o
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func str(o map[string]any, path ...string) string {
	s, _ := get(o, path...).(string)
	return s
}

func num(o map[string]any, path ...string) int {
	f, _ := get(o, path...).(float64)
	return int(f)
}

func TestHelmRefusesBadValues(t *testing.T) {
	chart := chartDir(t)
	tests := []struct {
		name    string
		set     []string
		wantErr string
	}{
		{name: "unknown value", set: []string{"ingest.replica=2"}, wantErr: "additional properties"},
		{name: "keda above partitions", set: []string{"enosForwarder.autoscaling.keda.enabled=true", "enosForwarder.autoscaling.keda.maxReplicas=7"}, wantErr: "must be at most topics.partitions"},
		{name: "replicas above partitions", set: []string{"decoder.replicas=7"}, wantErr: "must be at most topics.partitions"},
		{name: "sasl without credentials", set: []string{"kafka.sasl.mechanism=plain"}, wantErr: "kafka.sasl.username"},
		{name: "unknown sasl mechanism", set: []string{"kafka.sasl.mechanism=gssapi"}, wantErr: "mechanism"},
		{name: "writable root filesystem", set: []string{"containerSecurityContext.readOnlyRootFilesystem=false"}, wantErr: "readOnlyRootFilesystem"},
		{name: "prefetch out of range", set: []string{"ingest.snoti.prefetch=0"}, wantErr: "prefetch"},
		{name: "min ISR above replication", set: []string{"topics.minInsyncReplicas=2"}, wantErr: "minInsyncReplicas"},
		{name: "broker without port", set: []string{"kafka.brokers[0]=kafka"}, wantErr: "brokers"},
		{name: "sasl without tls", set: []string{"kafka.sasl.mechanism=scram-sha-512", "kafka.sasl.username.value=u", "kafka.sasl.password.value=p"},
			wantErr: "kafka.sasl.mechanism=scram-sha-512 without kafka.tls.enabled=true: the credentials and every record would cross the network unencrypted; set kafka.tls.enabled=true"},
		{name: "client certificate without tls", set: []string{"kafka.tls.clientCertSecret.name=user"}, wantErr: "kafka.tls.clientCertSecret.name is set but kafka.tls.enabled is false"},
		{name: "plain http token service", set: []string{"enosForwarder.enos.apimUrl=http://apim.example"}, wantErr: "apimUrl"},
		{name: "plain http integration", set: []string{"enosForwarder.enos.apiUrl=http://iot.example"}, wantErr: "apiUrl"},
		{name: "plain http energisme", set: []string{"energismeForwarder.energisme.url=http://api.energisme.example/push"}, wantErr: "url"},
		// Issue 20.10: unsafe or broken values refused at render.
		{name: "sftp without known_hosts", set: []string{"energismeForwarder.sftp.addr=sftp.example:22", "energismeForwarder.sftp.user=u"}, wantErr: "energismeForwarder.sftp.knownHosts"},
		{name: "privileged container", set: []string{"containerSecurityContext.privileged=true"}, wantErr: "privileged"},
		{name: "added capability", set: []string{"containerSecurityContext.capabilities.add[0]=NET_ADMIN"}, wantErr: "'add' not allowed"},
		{name: "capabilities not dropped", set: []string{"containerSecurityContext.capabilities.drop[0]=NET_RAW"}, wantErr: "drop"},
		{name: "seccomp unconfined", set: []string{"podSecurityContext.seccompProfile.type=Unconfined"}, wantErr: "seccompProfile"},
		{name: "root user", set: []string{"podSecurityContext.runAsUser=0"}, wantErr: "runAsUser"},
		{name: "pod sysctls", set: []string{"podSecurityContext.sysctls[0].name=net.ipv4.ip_forward"}, wantErr: "sysctls"},
		{name: "hostPath volume", set: []string{"decoder.extraVolumes[0].name=host", "decoder.extraVolumes[0].hostPath.path=/"}, wantErr: "hostPath"},
		{name: "spread across components", set: []string{"topologySpreadConstraints[0].maxSkew=1", "topologySpreadConstraints[0].topologyKey=zone",
			"topologySpreadConstraints[0].whenUnsatisfiable=DoNotSchedule", "topologySpreadConstraints[0].labelSelector.matchLabels.app=x"}, wantErr: "labelSelector"},
		{name: "digest not sha256", set: []string{"image.digests.ingest=latest"}, wantErr: "digests"},
		{name: "digest of no service", set: []string{"image.digests.kafka=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}, wantErr: "invalid propertyName 'kafka'"},
		{name: "env valueFrom unknown source", set: []string{"decoder.env.DECODER_BATCH_SIZE.valueFrom.vaultRef=x"}, wantErr: "DECODER_BATCH_SIZE"},
		{name: "probe period zero", set: []string{"probes.liveness.periodSeconds=0"}, wantErr: "periodSeconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"template", "rel", chart}
			for _, s := range tt.set {
				args = append(args, "--set", s)
			}
			_, err := runHelm(t, args...)
			if err == nil {
				t.Fatalf("rendered with %v; want an error mentioning %q", tt.set, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v; want it to mention %q", err, tt.wantErr)
			}
		})
	}
}

func TestDashboardUsesExportedMetrics(t *testing.T) {
	root := repoRoot(t)
	exported := exportedMetrics(t, root)
	b, err := os.ReadFile(filepath.Join(root, "helm", "snotibridge", "dashboards", "snotibridge.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID    string `json:"uid"`
		Panels []struct {
			Type    string `json:"type"`
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	var all strings.Builder
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			checkPromQL(t, fmt.Sprintf("panel %q", p.Title), tg.Expr, exported)
			all.WriteString(tg.Expr + "\n")
		}
	}
	// Issue 9: per stage, rate in/out, ACK latency, write latency, lag,
	// retries, DLQ, reconnects.
	for _, m := range []string{"snoti_pushes_total", "ingest_records_written_total", "ingest_push_ack_seconds_bucket", "ingest_kafka_write_seconds_bucket",
		"snotibridge_consumer_messages_total", "snotibridge_consumer_lag", "snotibridge_consumer_retries_total",
		"snotibridge_consumer_dead_letters_total", "snoti_reconnects_total"} {
		if !strings.Contains(all.String(), m) {
			t.Errorf("dashboard does not show %s", m)
		}
	}
}

// usedContent is what a pod reads from the ConfigMaps and Secrets of a
// render, by "<Kind>/<name>[/<key>]": per key where the pod names keys,
// whole objects otherwise; "" for objects the chart does not render.
func usedContent(m manifests, spec corev1.PodSpec) map[string]string {
	data := func(kind, name string) map[string]string {
		switch kind {
		case "ConfigMap":
			if cm, ok := m.configMaps[name]; ok {
				return cm.Data
			}
		case "Secret":
			if s, ok := m.secrets[name]; ok {
				out := map[string]string{}
				for k, v := range s.Data {
					out[k] = string(v)
				}
				return out
			}
		}
		return nil
	}
	used := map[string]string{}
	add := func(kind, name, key string) {
		// The simulator's certificate is generated when the cluster holds
		// none: random under helm template, kept by upgrades (lookup).
		if kind == "Secret" && strings.HasSuffix(name, "-snoti-sim-tls") {
			return
		}
		d := data(kind, name)
		if key != "" {
			used[kind+"/"+name+"/"+key] = d[key]
			return
		}
		b, _ := json.Marshal(d)
		used[kind+"/"+name] = string(b)
	}
	for _, v := range spec.Volumes {
		var kind, name string
		var items []corev1.KeyToPath
		switch {
		case v.ConfigMap != nil:
			kind, name, items = "ConfigMap", v.ConfigMap.Name, v.ConfigMap.Items
		case v.Secret != nil:
			kind, name, items = "Secret", v.Secret.SecretName, v.Secret.Items
		default:
			continue
		}
		if len(items) == 0 {
			add(kind, name, "")
		}
		for _, it := range items {
			add(kind, name, it.Key)
		}
	}
	for _, c := range spec.Containers {
		for _, e := range c.Env {
			switch {
			case e.ValueFrom == nil:
			case e.ValueFrom.SecretKeyRef != nil:
				add("Secret", e.ValueFrom.SecretKeyRef.Name, e.ValueFrom.SecretKeyRef.Key)
			case e.ValueFrom.ConfigMapKeyRef != nil:
				add("ConfigMap", e.ValueFrom.ConfigMapKeyRef.Name, e.ValueFrom.ConfigMapKeyRef.Key)
			}
		}
		for _, ef := range c.EnvFrom {
			switch {
			case ef.SecretRef != nil:
				add("Secret", ef.SecretRef.Name, "")
			case ef.ConfigMapRef != nil:
				add("ConfigMap", ef.ConfigMapRef.Name, "")
			}
		}
	}
	return used
}

// TestHelmChecksumsFollowMountedContent: a Deployment's checksum/config
// changes when, and only when, the content of a ConfigMap or Secret its
// pods mount or read changes, so an upgrade rolls exactly those pods; with
// the simulator's generated certificate, identical values roll nothing.
func TestHelmChecksumsFollowMountedContent(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := write("base.yaml", `
enosForwarder:
  mapping:
    content: '{"products": {}}'
energismeForwarder:
  sftp:
    addr: sftp.example:22
    user: snotibridge
    password: { value: sftp-secret }
    knownHosts: "sftp.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
`)
	variants := []struct {
		name    string
		values  string
		changed []string // components whose pods must roll
	}{
		{name: "identical values", values: "{}"},
		{name: "unrelated value", values: "topics: { ensureJob: { backoffLimit: 9 } }"},
		{name: "EnOS mapping", values: `enosForwarder: { mapping: { content: '{"products": {"x": {}}}' } }`, changed: []string{"enos-forwarder"}},
		{name: "known_hosts", values: `energismeForwarder: { sftp: { knownHosts: "sftp.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFx0" } }`, changed: []string{"energisme-forwarder"}},
		{name: "codec file", values: `decoder: { codecs: { files: { 3f1c0a7e2b5d4c6e8a9b0c1d2e3f4a5b.json: '{"product_key": "3f1c0a7e2b5d4c6e8a9b0c1d2e3f4a5b", "entities": []}' } } }`, changed: []string{"decoder"}},
		{name: "SFTP password", values: `energismeForwarder: { sftp: { password: { value: other } } }`, changed: []string{"energisme-forwarder"}},
		// The chart's Secret changes, but no pod reads that key (the
		// forwarder talks to the simulator).
		{name: "unused EnOS key", values: `enosForwarder: { enos: { accessKey: { value: changed } } }`},
		{name: "Kafka password", values: `kafka: { sasl: { password: { value: changed } } }`,
			changed: []string{"ingest", "decoder", "enos-forwarder", "energisme-forwarder", "snoti-sim", "sink-sim"}},
	}
	render := func(extra ...string) manifests {
		c := valuesCase{name: "checksums", files: append([]string{"testdata/simulators-values.yaml", base}, extra...)}
		return decodeAll(t, helmTemplate(t, c))
	}
	before := render()
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			after := render(write(strings.ReplaceAll(v.name, " ", "-")+".yaml", v.values))
			for _, d := range before.deployments {
				var d2 *appsv1.Deployment
				for i := range after.deployments {
					if after.deployments[i].Name == d.Name {
						d2 = &after.deployments[i]
					}
				}
				if d2 == nil {
					t.Fatalf("%s not rendered the second time", d.Name)
				}
				svc := component(d.Labels)
				sumChanged := d.Spec.Template.Annotations["checksum/config"] != d2.Spec.Template.Annotations["checksum/config"]
				contentChanged := !maps.Equal(usedContent(before, d.Spec.Template.Spec), usedContent(after, d2.Spec.Template.Spec))
				if sumChanged != contentChanged {
					t.Errorf("%s: checksum changed %v, content its pods use changed %v", d.Name, sumChanged, contentChanged)
				}
				if want := slices.Contains(v.changed, svc); sumChanged != want {
					t.Errorf("%s: checksum changed %v, want %v", d.Name, sumChanged, want)
				}
			}
		})
	}
}

// flattenValues lists the leaf values of a values tree by dotted path:
// non-empty maps are walked, anything else is a leaf.
func flattenValues(prefix string, v any, out map[string]any) {
	if m, ok := v.(map[string]any); ok && len(m) > 0 {
		for k, x := range m {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flattenValues(p, x, out)
		}
		return
	}
	out[prefix] = v
}

// TestChartReadmeListsEveryValue: the chart README's values table has a row
// for every value of values.yaml, with its default, and no other row.
func TestChartReadmeListsEveryValue(t *testing.T) {
	chart := chartDir(t)
	vb, err := os.ReadFile(filepath.Join(chart, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var values map[string]any
	if err := yaml.Unmarshal(vb, &values); err != nil {
		t.Fatal(err)
	}
	leaves := map[string]any{}
	flattenValues("", values, leaves)
	rb, err := os.ReadFile(filepath.Join(chart, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(rb)
	rows := map[string]string{}
	for _, line := range strings.Split(readme, "\n") {
		cells := strings.Split(line, " | ")
		if len(cells) < 3 || !strings.HasPrefix(cells[0], "| `") {
			continue
		}
		key := strings.Trim(strings.TrimPrefix(cells[0], "| "), "`")
		if _, dup := rows[key]; dup {
			t.Errorf("README: %s listed twice", key)
		}
		rows[key] = strings.Trim(cells[1], "`")
	}
	for key, def := range leaves {
		cell, ok := rows[key]
		if !ok {
			t.Errorf("helm/snotibridge/README.md: no row for %s", key)
			continue
		}
		var got any
		if err := json.Unmarshal([]byte(cell), &got); err != nil {
			t.Errorf("README: %s: default %s is not JSON: %v", key, cell, err)
			continue
		}
		want, _ := json.Marshal(def)
		if g, _ := json.Marshal(got); !bytes.Equal(g, want) {
			t.Errorf("README: %s: default %s, values.yaml has %s", key, g, want)
		}
	}
	for key := range rows {
		if _, ok := leaves[key]; !ok {
			t.Errorf("README lists %s, which values.yaml does not have", key)
		}
	}
}

// TestHelmMountsTheKafkaClientCertificate: with kafka.tls.clientCertSecret,
// every pod that talks to Kafka (services and the topics hook) gets
// KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE pointing into a mount of that
// Secret holding those keys.
func TestHelmMountsTheKafkaClientCertificate(t *testing.T) {
	var c valuesCase
	for _, vc := range valuesCases {
		if vc.name == "kafka-client-certificate" {
			c = vc
		}
	}
	m := decodeAll(t, helmTemplate(t, c))
	var specs []corev1.PodSpec
	for _, d := range m.deployments {
		specs = append(specs, d.Spec.Template.Spec)
	}
	for _, j := range m.jobs {
		specs = append(specs, j.Spec.Template.Spec)
	}
	if len(specs) < 5 {
		t.Fatalf("%d pod specs rendered, want the services and the topics job", len(specs))
	}
	for _, spec := range specs {
		ctr := spec.Containers[0]
		env := map[string]string{}
		for _, e := range ctr.Env {
			env[e.Name] = e.Value
		}
		cert, key := env["KAFKA_TLS_CERT_FILE"], env["KAFKA_TLS_KEY_FILE"]
		if cert != "/etc/snotibridge/kafka-client/user.crt" || key != "/etc/snotibridge/kafka-client/user.key" {
			t.Errorf("container %s: KAFKA_TLS_CERT_FILE=%q KAFKA_TLS_KEY_FILE=%q, want files under /etc/snotibridge/kafka-client", ctr.Name, cert, key)
			continue
		}
		var volume string
		for _, vm := range ctr.VolumeMounts {
			if vm.MountPath == "/etc/snotibridge/kafka-client" && vm.ReadOnly {
				volume = vm.Name
			}
		}
		found := false
		for _, v := range spec.Volumes {
			if v.Name != volume || v.Secret == nil || v.Secret.SecretName != "snotibridge-kafka-user" {
				continue
			}
			keys := map[string]bool{}
			for _, it := range v.Secret.Items {
				keys[it.Path] = it.Key == it.Path
			}
			found = keys["user.crt"] && keys["user.key"]
		}
		if !found {
			t.Errorf("container %s: no read-only mount of Secret snotibridge-kafka-user with user.crt and user.key at /etc/snotibridge/kafka-client", ctr.Name)
		}
	}
}
