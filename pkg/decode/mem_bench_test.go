package decode_test

import "runtime"

type runtimeMem struct{ mallocs, bytes uint64 }

func (m *runtimeMem) read() {
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	m.mallocs, m.bytes = s.Mallocs, s.TotalAlloc
}
