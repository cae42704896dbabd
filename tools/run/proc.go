package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"
)

// spawner starts every child from one OS thread that never exits: the
// kernel sends Pdeathsig when the thread that forked a child dies, not the
// process, and Go may otherwise retire a thread while the process lives on.
type spawner struct{ reqs chan spawnReq }

type spawnReq struct {
	cmd  *exec.Cmd
	done chan error
}

func newSpawner() *spawner {
	s := &spawner{reqs: make(chan spawnReq)}
	go func() {
		runtime.LockOSThread() // never unlocked: the thread lives as long as the process
		for r := range s.reqs {
			r.done <- r.cmd.Start()
		}
	}()
	return s
}

// start starts cmd so that it dies with the supervisor (Pdeathsig) and
// in a process group of its own (a terminal's Ctrl-C or SIGHUP reaches only
// the supervisor, which stops children in order).
func (s *spawner) start(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	done := make(chan error, 1)
	s.reqs <- spawnReq{cmd: cmd, done: done}
	return <-done
}

// output starts cmd like start and returns its combined output.
func (s *spawner) output(cmd *exec.Cmd) ([]byte, error) {
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	if err := s.start(cmd); err != nil {
		return nil, err
	}
	err := cmd.Wait()
	return b.Bytes(), err
}

// child is one long-running program of the stack.
type child struct {
	name   string
	log    string
	cmd    *exec.Cmd
	exited chan struct{} // closed once waited for
	err    error         // the exit status, valid after exited
}

func (s *spawner) startChild(name, logPath string, cmd *exec.Cmd) (*child, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", logPath, err)
	}
	defer logf.Close() // the child holds its own descriptor
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := s.start(cmd); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	c := &child{name: name, log: logPath, cmd: cmd, exited: make(chan struct{})}
	go func() { c.err = cmd.Wait(); close(c.exited) }()
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

func (c *child) alive() bool {
	select {
	case <-c.exited:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM to the child's process group and waits up to budget
// (or until hurry is closed), then SIGKILLs it. It reports whether the
// child had to be killed.
func (c *child) stop(budget time.Duration, hurry <-chan struct{}) (killed bool) {
	if !c.alive() {
		return false
	}
	_ = syscall.Kill(-c.pid(), syscall.SIGTERM)
	select {
	case <-c.exited:
		return false
	case <-time.After(budget):
	case <-hurry:
	}
	_ = syscall.Kill(-c.pid(), syscall.SIGKILL)
	<-c.exited
	return true
}

// status describes how the child ended.
func (c *child) status() string {
	var ee *exec.ExitError
	switch {
	case c.err == nil:
		return "exit 0"
	case errors.As(c.err, &ee):
		return ee.ProcessState.String()
	default:
		return c.err.Error()
	}
}
