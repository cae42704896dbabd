// Package schemas embeds every version of every Avro schema of the
// pipeline's records. Files are named <Name>.v<N>.avsc; the highest N of a
// name is the version writers use, and every version stays here forever so
// that readers can decode any record ever written.
package schemas
