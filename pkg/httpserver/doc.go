// Package httpserver serves the operational endpoints every service exposes:
// /healthz (the process is alive), /readyz (connected and making progress)
// and /metrics (Prometheus).
package httpserver
