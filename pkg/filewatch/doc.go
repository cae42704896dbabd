// Package filewatch reloads configuration from files without a restart: the
// decoder's codec folder (package codecs) and the forwarders' mapping files
// (packages enosfwd and energismefwd) use it.
//
// Watch runs a rescan function whenever a folder changes. It watches the
// folder, not a file, with fsnotify: a Kubernetes ConfigMap mounted as a
// folder is updated by writing a new timestamped folder and renaming a
// "..data" symlink over the old one, and an editor saves by writing a
// temporary file and renaming it into place; both replace the file, so a
// watch on the file itself would be left on the old inode. Any event of
// the folder triggers one rescan after a short debounce (a ConfigMap swap
// is several events), and the folder is rescanned periodically as a safety
// net (a file behind a symlink that points outside the folder, a missed
// event, a folder that was removed and came back).
//
// File is one JSON or other file parsed into a value and reloaded by Watch:
// a new content is parsed and validated whole, then swapped in atomically;
// a content that does not parse is rejected — logged, counted in
// snotibridge_config_reloads_total{outcome="rejected"} and flagged by
// snotibridge_config_rejected — and the previous value stays in force.
package filewatch
