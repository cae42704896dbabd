package replay

import "context"

// Holding is a sink handler that takes records before their effect is
// durable at the sink and makes them durable later: the energisme-files
// sink holds a file's records until the file is complete. The engine moves
// its progress over a record as soon as Handle took it, so the caller (bridgectl's replay) lets
// the sink move it back to the first record not yet durable, before the
// run (after a crash the saved state may be ahead) and after it.
type Holding interface {
	// Resume loads the sink's own progress, kept beside the state at path
	// (a replay that is not resumed discards it), and moves each range of
	// st back to the sink's first record not yet durable.
	Resume(path string, st *State, resumed bool) error
	// Finish ends the run. With complete, the range is over: what the sink
	// holds is made durable (the last files uploaded). Otherwise it is
	// dropped. Then st's ranges move back as in Resume, and st.Complete is
	// cleared if any did.
	Finish(ctx context.Context, st *State, complete bool) error
}
