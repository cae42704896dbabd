package consume

import (
	"context"
	"errors"
	"sort"
	"sync"

	"github.com/segmentio/kafka-go"
)

// Tracker follows messages that are fetched in offset order but finish in
// any order, and tells what may be committed: per topic-partition, the last
// message before which every fetched message is done. It holds at most
// maxPending messages that are fetched and not yet released by Committable;
// Add blocks while it is full, which is how an asynchronous consumer stops
// fetching when its handler falls behind (a sink outage), so lag grows in
// Kafka rather than in memory.
//
// Add is called by one goroutine (the fetch loop); Done, Committable and
// Pending may be called concurrently with it and with each other.
type Tracker struct {
	slots chan struct{} // one token per pending message

	mu    sync.Mutex
	parts map[topicPartition]*partitionTrack
}

type topicPartition struct {
	topic     string
	partition int
}

// partitionTrack is one partition's pending offsets, ascending, as a queue
// whose head is the oldest message not yet released.
type partitionTrack struct {
	offsets []int64
	done    []bool
	head    int
	last    int64 // highest offset ever added; -1 before the first
}

// NewTracker returns a tracker holding at most maxPending messages (at
// least 1).
func NewTracker(maxPending int) *Tracker {
	return &Tracker{slots: make(chan struct{}, max(maxPending, 1)), parts: map[topicPartition]*partitionTrack{}}
}

// Add records m as fetched and not done. It blocks while the tracker is
// full, until Committable releases room or ctx ends (the error is then
// ctx's and m is not recorded). It returns false, without blocking, for a
// message at or below an offset already added for its partition: Kafka
// delivers it again after a rebalance, and the earlier copy is already done
// or still with the handler, so the caller must not hand it over twice.
func (t *Tracker) Add(ctx context.Context, m kafka.Message) (bool, error) {
	k := topicPartition{m.Topic, m.Partition}
	t.mu.Lock()
	p := t.parts[k]
	if p == nil {
		p = &partitionTrack{last: -1}
		t.parts[k] = p
	}
	dup := m.Offset <= p.last
	t.mu.Unlock()
	if dup {
		return false, nil
	}
	select {
	case t.slots <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	t.mu.Lock()
	p.offsets = append(p.offsets, m.Offset)
	p.done = append(p.done, false)
	p.last = m.Offset
	t.mu.Unlock()
	return true, nil
}

// errUnknownMessage is returned by Done for a message that is not pending.
var errUnknownMessage = errors.New("consume: message is not pending in the tracker")

// Done marks m done. Marking a message twice is harmless; a message that
// was never added (or was already released) yields an error and changes
// nothing.
func (t *Tracker) Done(m kafka.Message) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.parts[topicPartition{m.Topic, m.Partition}]
	if p == nil {
		return errUnknownMessage
	}
	live := p.offsets[p.head:]
	i := sort.Search(len(live), func(i int) bool { return live[i] >= m.Offset })
	if i == len(live) || live[i] != m.Offset {
		return errUnknownMessage
	}
	p.done[p.head+i] = true
	return nil
}

// Committable releases, for each partition, the messages done with nothing
// pending before them, and returns per partition the last one released: the
// message to pass to CommitMessages. Released messages free their slots.
// A message returned here is never returned again, so a caller whose commit
// fails must keep it and commit it (or a later one) again.
func (t *Tracker) Committable() []kafka.Message {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []kafka.Message
	released := 0
	for k, p := range t.parts {
		n := 0
		for p.head+n < len(p.offsets) && p.done[p.head+n] {
			n++
		}
		if n == 0 {
			continue
		}
		out = append(out, kafka.Message{Topic: k.topic, Partition: k.partition, Offset: p.offsets[p.head+n-1]})
		p.head += n
		released += n
		// Compact once the released prefix dominates, so memory follows the
		// pending count rather than the partition's history.
		if p.head > len(p.offsets)/2 {
			p.offsets = append(p.offsets[:0], p.offsets[p.head:]...)
			p.done = append(p.done[:0], p.done[p.head:]...)
			p.head = 0
		}
	}
	for range released {
		<-t.slots
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].Partition < out[j].Partition
	})
	return out
}

// Pending returns how many messages are added and not yet released.
func (t *Tracker) Pending() int { return len(t.slots) }
