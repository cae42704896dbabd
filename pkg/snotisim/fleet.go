package snotisim

import (
	"bytes"
	"crypto/aes"
	"crypto/md5" //nolint:gosec // the doc's sub-device passcode key is an MD5
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/snotibridge/snotibridge/pkg/gizwits"
)

// Fleet configures the virtual devices.
type Fleet struct {
	// Devices is the number of virtual devices, spread round-robin over the
	// configured products (v2 products first, else one "sim" product for
	// v1). 0 disables the fleet.
	Devices int
	// Rate is the total events per second; 0 means as fast as the clients
	// take them (the backlog stays under Config.MaxBacklog).
	Rate float64
	// MaxEvents stops the fleet after that many events; 0 never stops.
	MaxEvents uint64
	// Seed makes the event sequence reproducible; 0 picks one at random.
	Seed uint64
	// Mix weighs the event types the fleet emits, by event_type (see
	// AllEventsMix for every type of the doc's table); nil is DefaultMix.
	// device_online needs no weight: an offline device always comes back
	// online first; a weight adds re-onlines of online devices.
	Mix map[string]float64
	// StartOnLogin holds the fleet back from Start until the first client
	// has logged in, and counts Rate from then: a client started after the
	// simulator gets the stated rate from its first push, not first the
	// backlog of what the fleet published before it was up (a benchmark's
	// start-up burst). False, the default, publishes from Start.
	StartOnLogin bool
}

// DefaultMix is the fleet's mix when Fleet.Mix is nil: the six event types
// both protocol versions share.
func DefaultMix() map[string]float64 {
	return map[string]float64{
		"device_status_raw": 40, "device_status_kv": 35, "attr_alert": 10, "attr_fault": 10, "device_offline": 2,
	}
}

// AllEventsMix weighs every v2 event type of the doc's table: mostly
// status reports, each other type now and then.
func AllEventsMix() map[string]float64 {
	m := DefaultMix()
	for t := range allTypes {
		if _, ok := m[t]; !ok {
			m[t] = 1
		}
	}
	m["device_online"] = 0.5      // re-online without offline (doc FAQ 9)
	m["datapoints_changed"] = 0.2 // product level, rare
	return m
}

func (f Fleet) validate() error {
	var errs []error
	if f.Devices < 0 || f.Rate < 0 || math.IsNaN(f.Rate) || math.IsInf(f.Rate, 0) {
		errs = append(errs, errors.New("fleet: devices and rate must be finite and not negative"))
	}
	total := 0.0
	for t, w := range f.Mix {
		if !knownType(t) {
			errs = append(errs, fmt.Errorf("fleet mix: event type %q: not in the doc's table", t))
		}
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			errs = append(errs, fmt.Errorf("fleet mix: weight of %s = %v: must be finite and not negative", t, w))
		}
		total += w
	}
	if f.Mix != nil && total <= 0 {
		errs = append(errs, errors.New("fleet mix: every weight is 0: give at least one event type a weight"))
	}
	return errors.Join(errs...)
}

// fleetTick is how often the fleet publishes what is due.
const fleetTick = 2 * time.Millisecond

// maxFleetBatch bounds one publish batch, so one lock hold stays short.
const maxFleetBatch = 4096

// fleet emits online/offline, status_raw, status_kv and alert/fault
// occurrence and recovery events for its devices.
type fleet struct {
	cfg Fleet
	srv *Server

	mu      sync.Mutex // devices' state: the fleet's goroutine and remote control
	byDID   map[string]*device
	mix     []mixEntry // cumulative weights
	devices []*device
	rng     *rand.Rand
	next    int
	emitted uint64
	events  uint64 // event_id counter for fault/alert occurrences
}

// mixEntry is one event type and its cumulative weight.
type mixEntry struct {
	eventType string
	upTo      float64
}

type device struct {
	did, mac  string
	index     int
	prod      *productState
	online    bool
	vals      rawValues
	conds     []int          // indexes of alert and fault attrs
	condEvent map[int]string // active condition → its event_id
	bareRaw   bool           // send status_raw data as a bare string
	written   map[int]bool   // attrs set by a remote write: they hold the written value
}

func newFleet(cfg Fleet, srv *Server) (*fleet, error) {
	var prods []*productState
	for _, p := range srv.cfg.Products {
		prods = append(prods, srv.products[p.ProductKey])
	}
	if len(prods) == 0 { // v1 only: one product under the enterprise queues
		def, err := parseDefinition(nil)
		if err != nil {
			return nil, err
		}
		prods = append(prods, &productState{Product: Product{ProductKey: "sim0000000000000000000000000000a"}, def: def})
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	f := &fleet{cfg: cfg, srv: srv, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), byDID: map[string]*device{}}
	mix := cfg.Mix
	if mix == nil {
		mix = DefaultMix()
	}
	types := make([]string, 0, len(mix))
	for t := range mix {
		types = append(types, t)
	}
	slices.Sort(types) // a reproducible order for Seed
	total := 0.0
	for _, t := range types {
		if mix[t] > 0 {
			total += mix[t]
			f.mix = append(f.mix, mixEntry{t, total})
		}
	}
	for i := range cfg.Devices {
		p := prods[i%len(prods)]
		d := &device{
			index:     i,
			did:       fmt.Sprintf("simdev%016d", i),
			mac:       fmt.Sprintf("5ca1ab%06x", i),
			prod:      p,
			condEvent: map[int]string{},
			bareRaw:   i%2 == 1,
			vals:      rawValues{nums: make([]uint64, len(p.def.attrs)), bins: make([][]byte, len(p.def.attrs))},
		}
		for j, a := range p.def.attrs {
			if isCondition(&a) {
				d.conds = append(d.conds, j)
			}
			if a.DataType == gizwits.Binary {
				d.vals.bins[j] = make([]byte, a.Position.Len)
			}
		}
		f.devices = append(f.devices, d)
		f.byDID[d.did] = d
	}
	return f, nil
}

// run publishes what is due every tick until quit or MaxEvents, from
// the first login when StartOnLogin is set.
func (f *fleet) run(quit <-chan struct{}) {
	if f.cfg.StartOnLogin {
		select {
		case <-quit:
			return
		case <-f.srv.firstLogin:
		}
	}
	t := time.NewTicker(fleetTick)
	defer t.Stop()
	start := time.Now()
	batch := make([]Event, 0, maxFleetBatch)
	fields := make([][]byte, 0, maxFleetBatch)
	for f.cfg.MaxEvents == 0 || f.emitted < f.cfg.MaxEvents {
		select {
		case <-quit:
			return
		case <-t.C:
		}
		room := f.srv.cfg.MaxBacklog - f.srv.b.minBacklog()
		n := room
		if f.cfg.Rate > 0 {
			n = min(n, int(f.cfg.Rate*time.Since(start).Seconds())-int(f.emitted))
		}
		if f.cfg.MaxEvents > 0 {
			n = min(n, int(f.cfg.MaxEvents-f.emitted))
		}
		for n > 0 {
			batch, fields = batch[:0], fields[:0]
			f.mu.Lock()
			for range min(n, maxFleetBatch) {
				e, fs := f.nextEvent()
				batch = append(batch, e)
				fields = append(fields, fs)
			}
			f.srv.publishRendered(batch, fields) // under mu: a remote write's report cannot overtake
			f.mu.Unlock()
			f.emitted += uint64(len(batch))
			n -= len(batch)
		}
	}
	f.srv.log.Info().Uint64("events", f.emitted).Msg("fleet: all events emitted")
}

// nextEvent advances the next device round-robin by one event and
// returns it with its fields as JSON (built by hand: the fleet must keep up
// with the fastest client).
func (f *fleet) nextEvent() (Event, []byte) {
	d := f.devices[f.next]
	f.next = (f.next + 1) % len(f.devices)
	e := Event{ProductKey: d.prod.ProductKey, DID: d.did, MAC: d.mac}
	if !d.online {
		d.online = true
		return f.online(d, e)
	}
	switch t := f.pick(); t {
	case "device_online":
		return f.online(d, e)
	case "device_offline":
		d.online = false
		e.EventType = t
		return e, nil
	case "device_status_raw":
		return f.statusRaw(d, e, true)
	case "device_status_kv":
		return f.statusKV(d, e, true)
	case "attr_alert", "attr_fault":
		return f.condition(d, e, t)
	default:
		return f.other(d, e, t)
	}
}

// pick draws an event type from the mix.
func (f *fleet) pick() string {
	r := f.rng.Float64() * f.mix[len(f.mix)-1].upTo
	for _, m := range f.mix {
		if r < m.upTo {
			return m.eventType
		}
	}
	return f.mix[len(f.mix)-1].eventType
}

// online is a device_online with the doc's fields; every fourth device is
// an NB-IoT one and adds latitude, longitude, iccid and imsi.
func (f *fleet) online(d *device, e Event) (Event, []byte) {
	e.EventType = "device_online"
	b := append(make([]byte, 0, 160), `{"ip":"10.0.`...)
	b = strconv.AppendInt(b, int64(f.rng.IntN(256)), 10)
	b = append(b, `.7","country":"France","region":"Auvergne-Rhone-Alpes","city":"Lyon"}`...)
	if d.index%4 == 3 { // NB-IoT fields: v2 only, the v1 doc predates them
		x := append(make([]byte, 0, 128), `{"latitude":45.7`...)
		x = strconv.AppendInt(x, int64(f.rng.IntN(1000)), 10)
		x = append(x, `,"longitude":4.8`...)
		x = strconv.AppendInt(x, int64(f.rng.IntN(1000)), 10)
		x = append(x, `,"iccid":"8933150319`...)
		x = fmt.Appendf(x, "%010d", d.index)
		x = append(x, `","imsi":"20815`...)
		x = fmt.Appendf(x, "%010d", d.index)
		e.V2FieldsJSON = append(x, `"}`...)
	}
	return e, b
}

// drift moves every value a little, within the attr's bounds, except the
// setpoints a remote write has set: a device keeps what it was told.
func (f *fleet) drift(d *device) {
	for i, a := range d.prod.def.attrs {
		if isCondition(&a) || d.written[i] {
			continue // driven by condition events, or held since a write
		}
		switch a.DataType {
		case gizwits.Bool:
			if f.rng.IntN(10) == 0 {
				d.vals.nums[i] ^= 1
			}
		case gizwits.Enum:
			if f.rng.IntN(10) == 0 {
				d.vals.nums[i] = uint64(f.rng.IntN(len(a.Enum)))
			}
		case gizwits.Binary:
			if f.rng.IntN(10) == 0 {
				for j := range d.vals.bins[i] {
					d.vals.bins[i][j] = byte(f.rng.UintN(256))
				}
			}
		default:
			lo, hi := uintBounds(&a)
			v := int64(d.vals.nums[i]) + int64(f.rng.IntN(5)) - 2
			d.vals.nums[i] = uint64(min(max(v, int64(lo)), int64(hi)))
		}
	}
}

func uintBounds(a *gizwits.Attr) (lo, hi uint64) {
	hi = uint64(1)<<(8*byteLen(a)) - 1
	lo = uint64(max(a.Min, 0))
	if a.Max > 0 && uint64(a.Max) < hi {
		hi = uint64(a.Max)
	}
	return lo, max(lo, hi)
}

// statusRaw is a device_status_raw with a real status report frame, its
// data sometimes bare, sometimes {"raw": …}: both are seen in the field.
func (f *fleet) statusRaw(d *device, e Event, drift bool) (Event, []byte) {
	if drift {
		f.drift(d)
	}
	frame, err := d.prod.def.statusFrame(d.vals)
	if err != nil { // the definition cannot hold its own values: send kv
		return f.statusKV(d, e, false)
	}
	e.EventType = "device_status_raw"
	b := make([]byte, 0, 32+base64.StdEncoding.EncodedLen(len(frame)))
	if d.bareRaw {
		b = append(b, `{"data":"`...)
	} else {
		b = append(b, `{"data":{"raw":"`...)
	}
	b = base64.StdEncoding.AppendEncode(b, frame)
	if d.bareRaw {
		return e, append(b, `"}`...)
	}
	return e, append(b, `"}}`...)
}

func (f *fleet) statusKV(d *device, e Event, drift bool) (Event, []byte) {
	if drift {
		f.drift(d)
	}
	e.EventType = "device_status_kv"
	b := append(make([]byte, 0, 512), `{"data":{`...)
	for i := range d.prod.def.attrs {
		if i > 0 {
			b = append(b, ',')
		}
		a := &d.prod.def.attrs[i]
		b = appendJSONString(b, a.Name)
		b = append(b, ':')
		b = appendKVValue(b, a, d.vals, i)
	}
	return e, append(b, "}}"...)
}

// appendKVValue renders a value the way SNoti's kv events do: bools as
// 0/1, enums as labels, uints scaled, binaries as hex.
func appendKVValue(b []byte, a *gizwits.Attr, v rawValues, i int) []byte {
	switch a.DataType {
	case gizwits.Bool:
		return strconv.AppendUint(b, v.nums[i], 10)
	case gizwits.Enum:
		if int(v.nums[i]) < len(a.Enum) {
			return appendJSONString(b, a.Enum[v.nums[i]])
		}
		return strconv.AppendUint(b, v.nums[i], 10)
	case gizwits.Binary:
		b = append(b, '"')
		b = hex.AppendEncode(b, v.bins[i])
		return append(b, '"')
	default:
		return strconv.AppendFloat(b, math.Round(scaled(a, v.nums[i])*1e6)/1e6, 'f', -1, 64)
	}
}

// condition toggles one alert or fault (of the type asked for, when the
// product has one): an occurrence with a new event_id, or the recovery of
// an active one with the same event_id.
func (f *fleet) condition(d *device, e Event, eventType string) (Event, []byte) {
	want := gizwits.Alert
	if eventType == "attr_fault" {
		want = gizwits.Fault
	}
	var conds []int
	for _, i := range d.conds {
		if d.prod.def.attrs[i].Type == want {
			conds = append(conds, i)
		}
	}
	if len(conds) == 0 {
		conds = d.conds
	}
	if len(conds) == 0 {
		return f.statusKV(d, e, true)
	}
	i := conds[f.rng.IntN(len(conds))]
	a := &d.prod.def.attrs[i]
	id, active := d.condEvent[i]
	value := 1
	if active {
		value = 0
		delete(d.condEvent, i)
		d.vals.nums[i] = 0
	} else {
		f.events++
		id = fmt.Sprintf("%s-%d", d.did, f.events)
		d.condEvent[i] = id
		d.vals.nums[i] = 1
	}
	e.EventType = "attr_alert"
	if a.Type == gizwits.Fault {
		e.EventType = "attr_fault"
	}
	b := append(make([]byte, 0, 160), `{"event_id":`...)
	b = appendJSONString(b, id)
	b = append(b, `,"data":{"attr_name":`...)
	b = appendJSONString(b, a.Name)
	b = append(b, `,"attr_displayname":`...)
	b = appendJSONString(b, a.DisplayName)
	b = append(b, `,"value":`...)
	b = strconv.AppendInt(b, int64(value), 10)
	return e, append(b, "}}"...)
}

// other renders the event types beyond status and conditions with the
// doc's field sets.
func (f *fleet) other(d *device, e Event, t string) (Event, []byte) {
	e.EventType = t
	n := f.rng.IntN(1 << 20)
	switch t {
	case "datapoints_changed": // product level: no did, no mac
		e.DID, e.MAC = "", ""
		return e, nil
	case "sub_device_added", "sub_device_deleted":
		b := append(make([]byte, 0, 200), `{"child_product_key":"`...)
		b = append(b, d.prod.ProductKey...)
		b = fmt.Appendf(b, `","child_did":"simchild%014d","child_mac":"c0ffee%06x"`, n, n&0xffffff)
		if t == "sub_device_added" {
			b = append(b, `,"child_passcode":"`...)
			b = hex.AppendEncode(b, childPasscode(d.did, fmt.Sprintf("pass%06d", n)))
			b = append(b, '"')
		}
		return e, append(b, '}')
	case "device_bind", "device_unbind":
		return e, fmt.Appendf(nil, `{"app_id":"simapp%04d","uid":"simuser%08d"}`, n%16, n)
	case "device_reset":
		return e, nil
	case "device_file_download":
		return e, fmt.Appendf(nil, `{"download_url":"https://files.sim.invalid/%s/%d.bin"}`, d.did, n)
	case "app2dev_raw", "app2dev_kv":
		sources := [...]string{"client", "open_api", "scheduler", "enterprise_api", "gateway"}
		src := sources[n%len(sources)]
		b := append(make([]byte, 0, 256), `{"source":"`...)
		b = append(b, src...)
		b = append(b, '"')
		switch src {
		case "enterprise_api":
			b = append(b, `,"enterprise_id":"sim-enterprise"`...)
		case "gateway":
		default:
			b = fmt.Appendf(b, `,"appid":"simapp%04d","uid":"simuser%08d"`, n%16, n)
		}
		if t == "app2dev_raw" {
			b = append(b, `,"data":"`...)
			b = base64.StdEncoding.AppendEncode(b, []byte{0x05, byte(n), byte(n >> 8)})
			return e, append(b, `"}`...)
		}
		_, kv := f.statusKV(d, Event{}, false)
		return e, append(append(b, ','), kv[1:]...)
	case "device_gps_kv":
		return e, fmt.Appendf(nil, `{"data":{"longitude":4.8%03d,"latitude":45.7%03d,"hdop":0.9,"num_satellites":%d,"payload":"$GPGGA,sim*%02X"}}`,
			n%1000, (n>>10)%1000, 4+n%8, n%256)
	case "device_lbs_kv":
		return e, fmt.Appendf(nil, `{"data":{"longitude":4.8%03d,"latitude":45.7%03d,"country":"France","province":"Auvergne-Rhone-Alpes","city":"Lyon","adcode":"69123","road":"Rue de la Republique","street":"Rue de la Republique","poi":"Place Bellecour","imsi":"20815%010d","signal":-7%d.5}}`,
			n%1000, (n>>10)%1000, d.index, n%10)
	default:
		return f.statusKV(d, e, true)
	}
}

// childPasscode is a sub-device passcode as the doc describes it: AES-128
// ECB with PKCS#7 padding, keyed by the MD5 of the gateway's passcode.
func childPasscode(gatewayPasscode, passcode string) []byte {
	key := md5.Sum([]byte(gatewayPasscode))
	block, _ := aes.NewCipher(key[:])
	pad := aes.BlockSize - len(passcode)%aes.BlockSize
	plain := append([]byte(passcode), bytes.Repeat([]byte{byte(pad)}, pad)...)
	out := make([]byte, len(plain))
	for i := 0; i < len(plain); i += aes.BlockSize {
		block.Encrypt(out[i:i+aes.BlockSize], plain[i:i+aes.BlockSize])
	}
	return out
}

// write applies a remote write_attrs to a virtual device and publishes its
// status report at once (kv and raw), as a device answers a control: the
// written values show in the very next status push. Devices that are not
// the fleet's are left alone.
func (f *fleet) write(did string, values map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.byDID[did]
	if !ok {
		return
	}
	for name, v := range values {
		for i := range d.prod.def.attrs {
			a := &d.prod.def.attrs[i]
			if a.Name != name {
				continue
			}
			if d.written == nil {
				d.written = map[int]bool{}
			}
			d.written[i] = true
			switch x := v.(type) {
			case bool:
				d.vals.nums[i] = 0
				if x {
					d.vals.nums[i] = 1
				}
			case int:
				d.vals.nums[i] = uint64(x)
			case float64:
				d.vals.nums[i] = uint64(math.Round((x - a.Addition) / max(a.Ratio, 1e-12)))
			case []byte:
				copy(d.vals.bins[i], x)
			}
		}
	}
	base := Event{ProductKey: d.prod.ProductKey, DID: d.did, MAC: d.mac}
	kv, kvFields := f.statusKV(d, base, false)
	raw, rawFields := f.statusRaw(d, base, false)
	f.srv.publishRendered([]Event{kv, raw}, [][]byte{kvFields, rawFields})
}
