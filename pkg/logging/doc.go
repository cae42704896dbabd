// Package logging builds the zerolog logger every service uses, from a
// level and a format (LOG_LEVEL and LOG_FORMAT, read by pkg/config).
package logging
