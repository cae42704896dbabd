package snotisim

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
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
}

func (f Fleet) validate() error {
	if f.Devices < 0 || f.Rate < 0 || math.IsNaN(f.Rate) || math.IsInf(f.Rate, 0) {
		return errors.New("fleet: devices and rate must be finite and not negative")
	}
	return nil
}

// fleetTick is how often the fleet publishes what is due.
const fleetTick = 2 * time.Millisecond

// maxFleetBatch bounds one publish batch, so one lock hold stays short.
const maxFleetBatch = 4096

// fleet emits online/offline, status_raw, status_kv and alert/fault
// occurrence and recovery events for its devices.
type fleet struct {
	cfg     Fleet
	srv     *Server
	devices []*device
	rng     *rand.Rand
	next    int
	emitted uint64
	events  uint64 // event_id counter for fault/alert occurrences
}

type device struct {
	did, mac  string
	prod      *productState
	online    bool
	vals      rawValues
	conds     []int          // indexes of alert and fault attrs
	condEvent map[int]string // active condition → its event_id
	bareRaw   bool           // send status_raw data as a bare string
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
	f := &fleet{cfg: cfg, srv: srv, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	for i := range cfg.Devices {
		p := prods[i%len(prods)]
		d := &device{
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
	}
	return f, nil
}

// run publishes what is due every tick until quit or MaxEvents.
func (f *fleet) run(quit <-chan struct{}) {
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
			for range min(n, maxFleetBatch) {
				e, fs := f.nextEvent()
				batch = append(batch, e)
				fields = append(fields, fs)
			}
			f.srv.publishRendered(batch, fields)
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
		e.EventType = "device_online"
		b := append(make([]byte, 0, 96), `{"ip":"10.0.`...)
		b = strconv.AppendInt(b, int64(f.rng.IntN(256)), 10)
		return e, append(b, `.7","country":"France","region":"Auvergne-Rhone-Alpes","city":"Lyon"}`...)
	}
	r := f.rng.Float64()
	switch {
	case r < 0.40:
		return f.statusRaw(d, e)
	case r < 0.75:
		return f.statusKV(d, e)
	case r < 0.95 && len(d.conds) > 0:
		return f.condition(d, e)
	case r < 0.97:
		d.online = false
		e.EventType = "device_offline"
		return e, nil
	default:
		return f.statusRaw(d, e)
	}
}

// drift moves every value a little, within the attr's bounds.
func (f *fleet) drift(d *device) {
	for i, a := range d.prod.def.attrs {
		if isCondition(&a) {
			continue // driven by condition events
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
func (f *fleet) statusRaw(d *device, e Event) (Event, []byte) {
	f.drift(d)
	frame, err := d.prod.def.statusFrame(d.vals)
	if err != nil { // the definition cannot hold its own values: send kv
		return f.statusKV(d, e)
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

func (f *fleet) statusKV(d *device, e Event) (Event, []byte) {
	f.drift(d)
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

// condition toggles one alert or fault: an occurrence with a new
// event_id, or the recovery of an active one with the same event_id.
func (f *fleet) condition(d *device, e Event) (Event, []byte) {
	i := d.conds[f.rng.IntN(len(d.conds))]
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
