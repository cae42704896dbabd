// Package sftpexport writes Energisme flat files: rows of (module,
// timestamp, value) rendered as CSV or JSON and uploaded over SFTP so that
// they appear whole (written under a temporary name, then renamed).
//
// File names are derived from the Kafka offset ranges a file covers
// (Batch.FileName), so uploading the same batch again after a failure
// replaces the earlier file instead of adding a duplicate. The caller (the
// energisme-forwarder's file loop) keeps a batch until Upload succeeded and
// commits its offsets only then.
package sftpexport
