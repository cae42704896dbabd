package codecs

// Stats are counters for metrics.
type Stats struct {
	Version      uint64 // increases with every new snapshot
	Products     int
	Reloads      uint64 // rescans that changed something
	ReloadErrors uint64 // failed file loads since Open, once per bad content
	BadFiles     int    // files whose current content does not load
}

// Stats returns the registry's counters.
func (r *Registry) Stats() Stats {
	s := r.snap.Load()
	return Stats{
		Version: s.version, Products: len(s.products),
		Reloads: r.reloads.Load(), ReloadErrors: r.reloadErrors.Load(), BadFiles: int(r.badFiles.Load()),
	}
}
