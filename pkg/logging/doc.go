// Package logging builds the zerolog logger every service uses, from
// LOG_LEVEL and LOG_FORMAT.
package logging
