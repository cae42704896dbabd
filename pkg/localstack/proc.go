package localstack

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

// Spawner starts every child from one OS thread that never exits: the
// kernel sends Pdeathsig when the thread that forked a child dies, not the
// process, and Go may otherwise retire a thread while the process lives on.
type Spawner struct{ reqs chan spawnReq }

type spawnReq struct {
	cmd  *exec.Cmd
	done chan error
}

// NewSpawner starts the spawning thread; it lives as long as the process.
func NewSpawner() *Spawner {
	s := &Spawner{reqs: make(chan spawnReq)}
	go func() {
		runtime.LockOSThread() // never unlocked: the thread lives as long as the process
		for r := range s.reqs {
			r.done <- r.cmd.Start()
		}
	}()
	return s
}

// Start starts cmd so that it dies with its parent (Pdeathsig, even when
// the parent is killed with SIGKILL) and in a process group of its own (a
// terminal's Ctrl-C or SIGHUP reaches only the parent, which stops
// children in order).
func (s *Spawner) Start(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	done := make(chan error, 1)
	s.reqs <- spawnReq{cmd: cmd, done: done}
	return <-done
}

// Output starts cmd like Start, waits for it and returns its combined
// output.
func (s *Spawner) Output(cmd *exec.Cmd) ([]byte, error) {
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	if err := s.Start(cmd); err != nil {
		return nil, err
	}
	err := cmd.Wait()
	return b.Bytes(), err
}

// Child is one long-running program, its output appended to Log.
type Child struct {
	Name   string
	Log    string
	Cmd    *exec.Cmd
	exited chan struct{} // closed once waited for
	err    error         // the exit status, valid after exited
}

// StartChild starts cmd like Start with its stdout and stderr appended to
// logPath, and waits for it in the background.
func (s *Spawner) StartChild(name, logPath string, cmd *exec.Cmd) (*Child, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", logPath, err)
	}
	defer logf.Close() // the child holds its own descriptor
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := s.Start(cmd); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	c := &Child{Name: name, Log: logPath, Cmd: cmd, exited: make(chan struct{})}
	go func() { c.err = cmd.Wait(); close(c.exited) }()
	return c, nil
}

// Pid is the child's process id.
func (c *Child) Pid() int { return c.Cmd.Process.Pid }

// Exited is closed once the child has exited and been waited for.
func (c *Child) Exited() <-chan struct{} { return c.exited }

// Alive reports whether the child has not exited yet.
func (c *Child) Alive() bool {
	select {
	case <-c.exited:
		return false
	default:
		return true
	}
}

// Kill sends SIGKILL to the child's process group (kill -9: no cleanup)
// and waits until it has exited.
func (c *Child) Kill() {
	if !c.Alive() {
		return
	}
	_ = syscall.Kill(-c.Pid(), syscall.SIGKILL)
	<-c.exited
}

// Stop sends SIGTERM to the child's process group and waits up to budget
// (or until hurry is closed), then SIGKILLs it. It reports whether the
// child had to be killed.
func (c *Child) Stop(budget time.Duration, hurry <-chan struct{}) (killed bool) {
	if !c.Alive() {
		return false
	}
	_ = syscall.Kill(-c.Pid(), syscall.SIGTERM)
	select {
	case <-c.exited:
		return false
	case <-time.After(budget):
	case <-hurry:
	}
	_ = syscall.Kill(-c.Pid(), syscall.SIGKILL)
	<-c.exited
	return true
}

// Status describes how the child ended ("exit 0", "signal: killed", …).
func (c *Child) Status() string {
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
