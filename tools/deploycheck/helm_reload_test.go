package deploycheck_test

import (
	"path"
	"strings"
	"testing"
)

// reloadedFiles are the variables naming configuration the services reload
// on change; each must point into a ConfigMap mounted as a folder.
var reloadedFiles = map[string]string{
	"CODECS_DIR": "decoder", "ENOS_MAPPING_FILE": "enos-forwarder", "ENERGISME_MAPPING_FILE": "energisme-forwarder",
}

// TestHelmMountsReloadedConfigAsFolders: a changed codec or mapping
// ConfigMap reaches running pods only through the kubelet's ..data swap of
// a folder mount (a subPath mount never changes). Every variable of
// reloadedFiles points into such a mount of a ConfigMap volume.
func TestHelmMountsReloadedConfigAsFolders(t *testing.T) {
	for _, c := range valuesCases {
		t.Run(c.name, func(t *testing.T) {
			m := decodeAll(t, helmTemplate(t, c))
			found := map[string]bool{}
			for _, d := range m.deployments {
				spec := d.Spec.Template.Spec
				if len(spec.Containers) != 1 {
					continue
				}
				ctr := spec.Containers[0]
				for _, e := range ctr.Env {
					svc, ok := reloadedFiles[e.Name]
					if !ok {
						continue
					}
					found[e.Name] = true
					if component(d.Labels) != svc {
						t.Errorf("Deployment %s sets %s, read by %s", d.Name, e.Name, svc)
					}
					mounted := false
					for _, vm := range ctr.VolumeMounts {
						dir := path.Clean(vm.MountPath)
						if e.Value != dir && !strings.HasPrefix(e.Value, dir+"/") {
							continue
						}
						for _, v := range spec.Volumes {
							if v.Name == vm.Name && v.ConfigMap != nil && vm.SubPath == "" && vm.SubPathExpr == "" {
								mounted = true
							}
						}
					}
					if !mounted {
						t.Errorf("Deployment %s: %s=%s is not inside a ConfigMap volume mounted as a folder: updates would never reach the pod", d.Name, e.Name, e.Value)
					}
				}
			}
			for v := range reloadedFiles {
				if !found[v] {
					t.Errorf("no Deployment sets %s", v)
				}
			}
		})
	}
}
