package deploycheck_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"
)

// The broker of docker compose is the one make run and make test use.
func TestComposeKafkaMatchesThePinnedBroker(t *testing.T) {
	root := repoRoot(t)
	pom, err := os.ReadFile(filepath.Join(root, "tools", "kafka", "pom.xml"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`<kafka\.version>([^<]+)</kafka\.version>`).FindSubmatch(pom)
	if m == nil {
		t.Fatal("tools/kafka/pom.xml: no <kafka.version>")
	}
	img := loadCompose(t, root).Services["kafka"].Image
	if want := "apache/kafka:" + string(m[1]); img != want {
		t.Errorf("docker compose runs %s; tools/kafka/pom.xml pins Kafka %s: use %s", img, m[1], want)
	}
}

// The Go image must be able to build every module without fetching a
// toolchain (GOTOOLCHAIN=local).
func TestDockerfileGoImageBuildsEveryModule(t *testing.T) {
	root := repoRoot(t)
	df := parseDockerfile(t, root)
	img := expand(df.stages[0].from, df.globalArgs)
	m := regexp.MustCompile(`^golang:(\d+\.\d+(?:\.\d+)?)`).FindStringSubmatch(img)
	if m == nil {
		t.Fatalf("build image %s: no Go version in its tag", img)
	}
	image := "v" + m[1]
	mods, err := filepath.Glob(filepath.Join(root, "*", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	svcs, _ := filepath.Glob(filepath.Join(root, "services", "*", "go.mod"))
	for _, path := range append(mods, svcs...) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := modfile.ParseLax(path, b, nil)
		if err != nil {
			t.Fatal(err)
		}
		if f.Go == nil {
			continue
		}
		need := "v" + f.Go.Version
		// golang:1.26 is the newest 1.26.x: compare major.minor only then.
		if strings.Count(image, ".") == 1 {
			need = semver.MajorMinor(need)
		}
		if semver.Compare(image, need) < 0 {
			rel, _ := filepath.Rel(root, path)
			t.Errorf("%s needs go %s; the build image %s is older", rel, f.Go.Version, img)
		}
	}
}
