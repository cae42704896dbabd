package codecs

// snapshot is every product's codecs at one point; immutable once published,
// so a decode that loaded it is never disturbed by a reload.
type snapshot struct {
	version  uint64
	products map[string]*product
}
