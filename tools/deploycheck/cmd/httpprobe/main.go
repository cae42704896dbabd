// Command httpprobe is the health check of the container images: it GETs a
// URL and exits 0 on a 2xx answer, 1 otherwise. Distroless images have no
// shell, curl or wget, and docker compose health checks run inside the
// container. It uses only the standard library so the Dockerfile builds it
// as a lone file.
//
//	httpprobe http://127.0.0.1:8080/readyz
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: httpprobe <url>")
		os.Exit(2)
	}
	if err := probe(os.Args[1], 3*time.Second); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func probe(url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("building request: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("probing %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("probing %s: status %d", url, resp.StatusCode)
	}
	return nil
}
