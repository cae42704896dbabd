package codecs

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/snotibridge/snotibridge/pkg/filewatch"
	"github.com/snotibridge/snotibridge/pkg/gizwits"
	"github.com/snotibridge/snotibridge/pkg/value"
)

// Registry holds the codecs of a directory. Decode, DecodeKV and the
// accessors are safe for concurrent use and never wait for a reload.
type Registry struct {
	dir         string
	log         zerolog.Logger
	rescanEvery time.Duration
	debounce    time.Duration

	snap atomic.Pointer[snapshot]

	scanMu sync.Mutex            // serialises Rescan; guards files
	files  map[string]*codecFile // by base name

	metricsReg prometheus.Registerer // WithMetrics
	m          filewatch.Metrics     // the same reload metrics as the mapping files

	reloads      atomic.Uint64 // rescans that changed the snapshot
	reloadErrors atomic.Uint64 // failed loads: once per bad content of a file, or per failed read
	badFiles     atomic.Int64  // files whose current content does not load
	running      atomic.Bool
}

// Open loads every codec file of dir. It fails if dir cannot be read or if
// any file does not load, listing every bad file, so a bad configuration
// stops a start rather than dead-lettering a product's traffic; later
// reloads keep the previous good version instead (see Run).
func Open(dir string, log zerolog.Logger, opts ...Option) (*Registry, error) {
	r := &Registry{
		dir: dir, log: log.With().Str("codecs_dir", dir).Logger(),
		rescanEvery: DefaultRescanInterval, debounce: DefaultDebounce,
		files: map[string]*codecFile{},
	}
	for _, o := range opts {
		o(r)
	}
	if r.metricsReg != nil {
		r.m = filewatch.NewMetrics(r.metricsReg, "CODECS_DIR")
	}
	var problems []error
	if r.rescanEvery <= 0 {
		problems = append(problems, fmt.Errorf("rescan interval %v: must be > 0", r.rescanEvery))
	}
	if r.debounce < 0 {
		problems = append(problems, fmt.Errorf("debounce %v: must be ≥ 0", r.debounce))
	}
	if st, err := os.Stat(dir); err != nil {
		problems = append(problems, fmt.Errorf("opening codecs directory: %w", err))
	} else if !st.IsDir() {
		problems = append(problems, fmt.Errorf("opening codecs directory %s: not a directory", dir))
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	if err := r.Rescan(); err != nil {
		return nil, err
	}
	if len(r.files) == 0 {
		r.log.Warn().Msg("codecs directory holds no codec file")
	}
	return r, nil
}

// Rescan reads the directory now and publishes a new snapshot if anything
// changed. It returns the files that do not load (joined), which keep their
// previous good version if they had one. Safe to call concurrently with Run.
func (r *Registry) Rescan() error {
	r.scanMu.Lock()
	defer r.scanMu.Unlock()
	entries, err := os.ReadDir(r.dir)
	if err != nil {
		r.reloadErrors.Add(1)
		r.m.Rejected()
		r.log.Error().Err(err).Msg("reading codecs directory; keeping the loaded codecs")
		return fmt.Errorf("reading codecs directory: %w", err)
	}
	changed := false
	seen := map[string]bool{}
	var problems []error
	rejected := 0 // counted after the bad-file gauge is set, so Stats never shows one without the other
	for _, e := range entries {
		name := e.Name()
		key := productKeyOf(name)
		if key == "" {
			continue
		}
		path := filepath.Join(r.dir, name)
		st, err := os.Stat(path) // follows ConfigMap symlinks
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed while we listed, or a dangling symlink
		}
		if err == nil && st.IsDir() {
			continue
		}
		var data []byte
		if err == nil {
			data, err = os.ReadFile(path)
		}
		seen[name] = true
		prev := r.files[name]
		if err != nil {
			problems = append(problems, r.reject(name, key, prev, fmt.Errorf("reading: %w", err)))
			rejected++
			continue
		}
		sum := sha256.Sum256(data)
		if prev != nil && sameSum(prev.sum, sum) {
			if prev.err != nil {
				problems = append(problems, fmt.Errorf("%s: %w", path, prev.err))
			}
			continue
		}
		def, custom, err := parseCodecFile(name, data)
		if err != nil {
			problems = append(problems, r.reject(name, key, prev, err))
			rejected++
			r.files[name].sum = sum // do not re-parse (and re-count) the same bad bytes
			continue
		}
		r.files[name] = &codecFile{name: name, productKey: key, sum: sum, definition: def, custom: custom}
		changed = true
		r.log.Info().Str("file", name).Str("product_key", key).Str("kind", kindOf(r.files[name])).Msg("codec loaded")
	}
	for name, f := range r.files {
		if !seen[name] {
			delete(r.files, name)
			changed = changed || f.good()
			r.log.Info().Str("file", name).Str("product_key", f.productKey).Msg("codec file removed")
		}
	}
	products, conflicts := r.products()
	problems = append(problems, conflicts...)
	bad := 0
	for _, f := range r.files {
		if f.err != nil {
			bad++
		}
	}
	r.badFiles.Store(int64(bad + len(conflicts)))
	r.m.SetBad(bad+len(conflicts) > 0)
	r.reloadErrors.Add(uint64(rejected))
	if changed || r.snap.Load() == nil {
		var version uint64 = 1
		if old := r.snap.Load(); old != nil {
			version = old.version + 1
			r.reloads.Add(1)
			r.m.Loaded()
		}
		r.snap.Store(&snapshot{version: version, products: products})
		r.log.Info().Uint64("version", version).Int("products", len(products)).Msg("codecs published")
	}
	return errors.Join(problems...)
}

// reject records that a file did not load: it keeps the previous good codec
// of the file, if any, and reports the error.
func (r *Registry) reject(name, key string, prev *codecFile, err error) error {
	path := filepath.Join(r.dir, name)
	r.m.Rejected()
	f := &codecFile{name: name, productKey: key, err: err}
	if prev != nil {
		f.sum, f.definition, f.custom = prev.sum, prev.definition, prev.custom
	}
	r.files[name] = f
	ev := r.log.Error().Err(err).Str("file", name).Str("product_key", key)
	if f.good() {
		ev.Msg("codec file rejected; keeping its previous version")
	} else {
		ev.Msg("codec file rejected; product has no codec from this file")
	}
	return fmt.Errorf("%s: %w", path, err)
}

// products builds the per-product view of the good files. Two exports (or two
// custom codecs) for one product are a conflict: the file sorted first wins.
func (r *Registry) products() (map[string]*product, []error) {
	out := map[string]*product{}
	var conflicts []error
	for _, name := range slices.Sorted(maps.Keys(r.files)) {
		f := r.files[name]
		if !f.good() {
			continue
		}
		p := out[f.productKey]
		if p == nil {
			p = &product{key: f.productKey}
			out[f.productKey] = p
		}
		switch {
		case f.definition != nil && p.definition != nil, f.custom != nil && p.custom != nil:
			err := fmt.Errorf("%s: product %s already has a %s from another file; ignoring this one", filepath.Join(r.dir, name), f.productKey, kindOf(f))
			r.log.Error().Err(err).Str("file", name).Msg("codec file conflicts")
			conflicts = append(conflicts, err)
		case f.definition != nil:
			p.definition = f.definition
		default:
			p.custom = f.custom
		}
	}
	return out, conflicts
}

func kindOf(f *codecFile) string {
	if f.definition != nil {
		return "gizwits " + string(f.definition.Protocol())
	}
	return "custom codec"
}

// Run watches the directory until ctx is done, rescanning on any file event
// (after the debounce) and every rescan interval, with the reload loop of
// package filewatch. It returns nil when ctx is cancelled. When fsnotify
// cannot watch the directory it logs it and relies on the periodic rescan.
// Call it at most once.
func (r *Registry) Run(ctx context.Context) error {
	if !r.running.CompareAndSwap(false, true) {
		return errors.New("codecs registry: Run called twice")
	}
	opts := filewatch.Options{RescanInterval: r.rescanEvery, Debounce: r.debounce}
	// Rescan logs and counts its own errors.
	return filewatch.Watch(ctx, r.dir, opts, func() { _ = r.Rescan() }, r.log)
}

// Products returns the product_keys that have a codec, sorted.
func (r *Registry) Products() []string {
	return slices.Sorted(maps.Keys(r.snap.Load().products))
}

// Definition returns the data-point definition of a product, if it has one.
func (r *Registry) Definition(productKey string) (*gizwits.Definition, bool) {
	p := r.snap.Load().products[productKey]
	if p == nil || p.definition == nil {
		return nil, false
	}
	return p.definition, true
}

// Decode decodes a device_status_raw payload (the bytes after base64) of a
// product. Errors wrap ErrNoCodec, ErrUnknownAction or the sentinels of
// gizwits and devcodec; ReasonOf classifies them. With ErrUnknownAction the
// Result still carries the frame and action of the undecoded payload.
func (r *Registry) Decode(productKey string, raw []byte) (Result, error) {
	p := r.snap.Load().products[productKey]
	if p == nil {
		return Result{}, fmt.Errorf("decoding payload of product %s: %w", productKey, ErrNoCodec)
	}
	res := Result{ProductKey: productKey}
	if p.definition != nil {
		m, err := p.definition.Decode(raw)
		if err != nil {
			return Result{}, fmt.Errorf("decoding payload of product %s: %w", productKey, err)
		}
		res.Frame, res.Action = m.Frame, m.Action
		if m.Kind == gizwits.KindStatus {
			res.Source, res.Fields = SourceStandard, m.Fields
			if p.definition.Protocol() == gizwits.VarLen {
				res.Source = SourceVarLen
			}
			return res, nil
		}
		if p.custom == nil {
			res.Source = SourceOpaque
			return res, fmt.Errorf("decoding payload of product %s: action %s (%s) and no custom codec: %w", productKey, m.Action, m.Kind, ErrUnknownAction)
		}
		payload := m.Frame.P0
		if m.Kind == gizwits.KindTransparent {
			payload = m.Payload
		}
		return r.decodeCustom(res, p, payload)
	}
	f, err := gizwits.ParseFrame(raw)
	if err != nil {
		return Result{}, fmt.Errorf("decoding payload of product %s: %w", productKey, err)
	}
	res.Frame = f
	payload := f.P0
	if f.Framed && gizwits.Action(f.P0[0]) == gizwits.ActionTransparent {
		res.Action, payload = gizwits.ActionTransparent, f.P0[1:]
	}
	return r.decodeCustom(res, p, payload)
}

func (r *Registry) decodeCustom(res Result, p *product, payload []byte) (Result, error) {
	m, err := p.custom.Decode(payload)
	if err != nil {
		return Result{}, fmt.Errorf("decoding payload of product %s: %w", p.key, err)
	}
	res.Source, res.Message, res.Fields = SourceCustom, m.Name, m.Fields
	return res, nil
}

// DecodeKV types a device_status_kv map. With a data-point definition, its
// attrs are typed as a decoded payload would be (0/1 → bool, labels checked,
// numbers rounded to the ratio); keys it does not know and every key of a
// product without a definition keep their JSON types. Keys come in
// definition order, then sorted. It never fails for want of a codec.
func (r *Registry) DecodeKV(productKey string, kv map[string]any) (Result, error) {
	res := Result{ProductKey: productKey, Source: SourceKV}
	fields := make([]value.Field, 0, len(kv))
	var err error
	if p := r.snap.Load().products[productKey]; p != nil && p.definition != nil {
		fields, err = p.definition.DecodeKV(fields, kv)
	} else {
		for _, k := range slices.Sorted(maps.Keys(kv)) {
			var v value.Value
			if v, err = value.FromJSON(kv[k]); err != nil {
				break
			}
			fields = append(fields, value.Field{Name: k, Value: v})
		}
	}
	if err != nil {
		return Result{}, fmt.Errorf("typing key/value status of product %s: %w", productKey, err)
	}
	res.Fields = fields
	return res, nil
}
