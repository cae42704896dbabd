package sftpexport

import "time"

// TimestampLayout is the row timestamp format Energisme expects.
const TimestampLayout = "2006-01-02 15:04:05"

// Row is one value of one data point at one time.
type Row struct {
	// Module is the stable Energisme id of the data point (see
	// ModuleTemplate).
	Module string
	// Time is rendered with TimestampLayout in the file's time zone.
	Time time.Time
	// Value is a number, bool, string or nil; other types are rendered as
	// JSON.
	Value any
}
