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
	parts partitions
}

type topicPartition struct {
	topic     string
	partition int
}

// partitions is the contiguous-offset rule itself, without locking or
// bounds: per topic-partition, the offsets added in order and which are
// done. Tracker guards it for concurrent use; ContiguousDone applies it to
// one batch.
type partitions map[topicPartition]*partitionTrack

// add appends m's offset, not done, unless it is at or below one already
// added for its partition (it returns false then).
func (ps partitions) add(m kafka.Message) bool {
	k := topicPartition{m.Topic, m.Partition}
	p := ps[k]
	if p == nil {
		p = &partitionTrack{last: -1}
		ps[k] = p
	}
	if m.Offset <= p.last {
		return false
	}
	p.offsets = append(p.offsets, m.Offset)
	p.done = append(p.done, false)
	p.last = m.Offset
	return true
}

// fresh reports whether add would take m.
func (ps partitions) fresh(m kafka.Message) bool {
	p := ps[topicPartition{m.Topic, m.Partition}]
	return p == nil || m.Offset > p.last
}

// markDone marks m done; errUnknownMessage if it is not pending.
func (ps partitions) markDone(m kafka.Message) error {
	p := ps[topicPartition{m.Topic, m.Partition}]
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

// release moves each partition's head over its done prefix and returns,
// sorted by topic and partition, the last message released per partition,
// with how many were released in all.
func (ps partitions) release() ([]kafka.Message, int) {
	var out []kafka.Message
	released := 0
	for k, p := range ps {
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
	sort.Slice(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].Partition < out[j].Partition
	})
	return out, released
}

// ContiguousDone is the commit rule for one batch (messages of a partition
// in offset order): per topic-partition, the last message such that it and
// every earlier message of that partition in the batch are done. The
// Runner commits these; replay moves its progress past them. A message at
// or below an offset earlier in the batch (redelivered after a rebalance)
// is ignored.
func ContiguousDone(batch []kafka.Message, done []bool) []kafka.Message {
	ps := partitions{}
	for i, m := range batch {
		if ps.add(m) && done[i] {
			_ = ps.markDone(m)
		}
	}
	out, _ := ps.release()
	return out
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
	return &Tracker{slots: make(chan struct{}, max(maxPending, 1)), parts: partitions{}}
}

// Add records m as fetched and not done. It blocks while the tracker is
// full, until Committable releases room or ctx ends (the error is then
// ctx's and m is not recorded). It returns false, without blocking, for a
// message at or below an offset already added for its partition: Kafka
// delivers it again after a rebalance, and the earlier copy is already done
// or still with the handler, so the caller must not hand it over twice.
func (t *Tracker) Add(ctx context.Context, m kafka.Message) (bool, error) {
	t.mu.Lock()
	fresh := t.parts.fresh(m)
	t.mu.Unlock()
	if !fresh {
		return false, nil
	}
	select {
	case t.slots <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	t.mu.Lock()
	t.parts.add(m)
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
	return t.parts.markDone(m)
}

// Committable releases, for each partition, the messages done with nothing
// pending before them, and returns per partition the last one released: the
// message to pass to CommitMessages. Released messages free their slots.
// A message returned here is never returned again, so a caller whose commit
// fails must keep it and commit it (or a later one) again.
func (t *Tracker) Committable() []kafka.Message {
	t.mu.Lock()
	out, released := t.parts.release()
	t.mu.Unlock()
	for range released {
		<-t.slots
	}
	return out
}

// Pending returns how many messages are added and not yet released.
func (t *Tracker) Pending() int { return len(t.slots) }
