// Package fielderr is the error a library returns for one bad field of its
// Config: it names the Go field, not an environment variable, because the
// library does not know where the value came from. pkg/config renames the
// fields to the variables a service reads them from (config.Rename), so an
// operator still sees "SNOTI_PREFETCH=0: must be 1..32767".
package fielderr
