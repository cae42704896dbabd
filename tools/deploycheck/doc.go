// Package deploycheck holds no code of its own: its tests validate the
// deployment files at the repository root — the Dockerfile, docker-compose.yml
// and the Helm chart helm/snotibridge — without a Docker engine or a cluster.
//
// The tests run with `make test` like every module's. They build Helm from
// the Go module proxy once into .cache/bin/helm-<version> (two to three
// minutes on two cores with an empty build cache) and reuse it; the
// Dockerfile check compiles every service as the image would (about a
// minute cold, seconds once cached). SNOTIBRIDGE_SKIP_HELM=1 skips the Helm
// tests on purpose; nothing is skipped by default.
package deploycheck
