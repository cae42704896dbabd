package testkit

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
)

// FreePort returns a TCP port on 127.0.0.1 that was free when asked, for a
// program the test starts (a broker, a registry).
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// RepoFile is the path of a file of the repository, e.g.
// RepoFile("tools", "kafka", "kafka.sh"): found from this source file's
// location, or from SNOTIBRIDGE_ROOT when set (a test binary run away from
// its sources).
func RepoFile(elem ...string) (string, error) {
	root := os.Getenv("SNOTIBRIDGE_ROOT")
	if root == "" {
		_, file, _, ok := runtime.Caller(0)
		if !ok {
			return "", errors.New("locating the repository: set SNOTIBRIDGE_ROOT")
		}
		root = filepath.Join(filepath.Dir(file), "..", "..")
	}
	p := filepath.Join(append([]string{root}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("locating %s (set SNOTIBRIDGE_ROOT to the repository root): %w", filepath.Join(elem...), err)
	}
	return p, nil
}
