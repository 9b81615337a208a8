//go:build linux

package connection

import (
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The poller tells listening connections (see Conn.Listen) that input has
// arrived, so that one parked between messages holds no goroutine. It is an
// epoll instance of its own, beside the runtime's, which watches each
// socket edge-triggered from its registration on: input is reported as it
// arrives, whether the connection is parked (it is resumed) or running (it
// is marked, and reads again before it parks; see listener.notify). A
// connection parks only after a read that left its socket empty, so no
// input waits unreported, and parking costs no system call.
//
// One goroutine waits on the instance, and runs one of the connections
// each report resumes itself (see run). It is started by the first listener
// and ended when the last one leaves (the instance is then closed; a later
// listener starts a new one), so that a program with no listening
// connection runs no poller. The goroutine waits in the runtime's own
// poller, which watches the instance's descriptor like a socket's (an
// epoll instance is readable when it has reports): it does not hold a
// thread in epoll_wait, whose every wake-up would cost a thread switch
// and the scheduler's hand-off, several times a message's own cost.
//
// Sockets are known to the instance by a registration number, never by
// their descriptor, which the system reuses as soon as a socket is closed:
// an event for a registration that is gone is ignored.
type poller struct {
	epfd   int
	file   *os.File        // epfd, in the runtime's poller
	raw    syscall.RawConn // file's
	wakefd int             // an eventfd; written to end the goroutine
	done   chan struct{}   // closed when the goroutine has ended (see end)
	w      *workers        // run the listeners it resumes
	leader atomic.Uint64   // the generation of the goroutine that waits (see run)
	ended  sync.Once
}

var polling struct {
	mu   sync.Mutex
	p    *poller              // guarded by mu; nil without listeners
	regs map[uint64]*listener // guarded by mu
	next uint64               // guarded by mu; the last registration number given
}

// canPoll reports whether this platform parks listening connections.
const canPoll = true

// pollJoin registers l with the poller, starting one if needed. It fails
// only when the system refuses an epoll instance; the listener then reads
// in a goroutine of its own, as on platforms without the poller.
func pollJoin(l *listener) error {
	polling.mu.Lock()
	defer polling.mu.Unlock()
	if polling.p == nil {
		p, err := newPoller()
		if err != nil {
			return err
		}
		polling.p = p
		polling.regs = make(map[uint64]*listener)
		go p.run(0)
	}
	polling.next++
	reg, epfd := polling.next, polling.p.epfd
	// Input already there when the socket is added is reported too.
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLET}
	ev.Fd, ev.Pad = int32(uint32(reg)), int32(uint32(reg>>32))
	var err error
	if cerr := l.raw.Control(func(fd uintptr) { err = unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, int(fd), &ev) }); cerr != nil {
		err = cerr
	}
	if err != nil {
		if len(polling.regs) == 0 {
			p := polling.p
			polling.p, polling.regs = nil, nil
			defer p.stop() // after the unlock
		}
		return err
	}
	l.reg, l.epfd, l.w = reg, epfd, polling.p.w
	polling.regs[reg] = l
	return nil
}

// pollLeave removes l's registration (the socket's interest too, if it is
// still open) and, when l was the last listener, ends the poller and waits
// for its goroutine.
func pollLeave(l *listener) {
	polling.mu.Lock()
	if l.reg == 0 || polling.regs[l.reg] != l {
		// Never joined, handed over (pollHandOver), or the poller failed.
		polling.mu.Unlock()
		return
	}
	delete(polling.regs, l.reg)
	// The socket may be closed already; closing it removed the interest.
	_ = l.raw.Control(func(fd uintptr) {
		_ = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, int(fd), nil)
	})
	var last *poller
	if len(polling.regs) == 0 && polling.p != nil {
		last, polling.p, polling.regs = polling.p, nil, nil
	}
	polling.mu.Unlock()
	if last != nil {
		last.stop()
	}
}

// pollHandOver gives from's registration to to, which then owns it as if
// it had joined, and reports whether there was one to give (there is none
// once the poller failed).
func pollHandOver(from, to *listener) bool {
	polling.mu.Lock()
	defer polling.mu.Unlock()
	if from.reg == 0 || polling.regs[from.reg] != from {
		return false
	}
	to.raw, to.reg, to.epfd, to.w = from.raw, from.reg, from.epfd, from.w
	polling.regs[from.reg] = to
	return true
}

func newPoller() (*poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, err
	}
	// Registration number 0 is the wake-up descriptor's.
	err = unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &unix.EpollEvent{Events: unix.EPOLLIN})
	if err == nil {
		// Non-blocking, so that os.NewFile hands it to the runtime's
		// poller.
		err = unix.SetNonblock(epfd, true)
	}
	if err != nil {
		unix.Close(wakefd)
		unix.Close(epfd)
		return nil, err
	}
	file := os.NewFile(uintptr(epfd), "forge-poller")
	raw, err := file.SyscallConn()
	if err != nil {
		unix.Close(wakefd)
		file.Close()
		return nil, err
	}
	return &poller{epfd: epfd, file: file, raw: raw, wakefd: wakefd, done: make(chan struct{}), w: newWorkers()}, nil
}

// run waits for reports and resumes the connections they name, until stop.
// gen is the goroutine's generation: it waits on the instance for as long
// as p.leader is gen.
//
// Of the connections a report resumes, the goroutine runs one itself,
// after handing the others to workers: a connection that receives a
// message now and then is then read, served and parked without a hand-off
// to another goroutine, which cost about as much as the message. A
// callback may take long, or wait (a Read of its own, a request to the
// client); if it has not returned after inlineBudget, a new goroutine
// takes over the waiting (a successor, gen+1), this one ends once its run
// of the connection returned (the messages its read brought delivered,
// the connection parked, handed to a worker or ended), and the connection
// is left to workers for slowFor (listener.slow, set before the
// successor starts), so that the others' reports wait for its callbacks
// once in that time at most. Two goroutines may wait on the instance for
// a moment (a successor the timer started late); only the one whose gen
// is p.leader loops.
func (p *poller) run(gen uint64) {
	events := make([]unix.EpollEvent, 256)
	var (
		n   int
		err error
	)
	// Take the reports there are without waiting; with none, the runtime
	// parks this goroutine until the instance is readable.
	take := func(uintptr) bool {
		n, err = unix.EpollWait(p.epfd, events, 0)
		return n > 0 || err != nil && err != syscall.EINTR
	}
	var (
		budget *time.Timer              // made by the first connection run here
		inline bool                     // a connection runs here (see below)
		timed  atomic.Pointer[listener] // the connection that runs here, for budget's function
	)
	defer func() {
		if budget != nil {
			budget.Stop()
		}
		if inline {
			// The connection's callback ended this goroutine
			// (runtime.Goexit, as t.FailNow does): the connection is
			// stranded, as it would be in a worker, but the others are
			// not, and stop still finds a goroutine to take its report.
			p.succeed(gen)
		}
	}()
	for p.leader.Load() == gen {
		if rerr := p.raw.Read(take); err == nil {
			err = rerr
		}
		if err != nil {
			// Not expected from a valid instance (nor from one stop closed
			// under a goroutine that a successor replaced); the listeners
			// that were parked are resumed so that none is stranded, and
			// read in goroutines of their own from now on.
			p.failAll()
			p.end()
			return
		}
		var mine *listener
		for _, ev := range events[:n] {
			reg := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
			if reg == 0 {
				p.end()
				return
			}
			polling.mu.Lock()
			l := polling.regs[reg]
			polling.mu.Unlock()
			if l == nil {
				continue
			}
			if mine == nil && !l.watching && !l.isSlow() && l.state.CompareAndSwap(parked, running) {
				mine = l // run below, once the others are handed over
				continue
			}
			l.notify()
		}
		if mine == nil {
			continue
		}
		timed.Store(mine)
		if budget == nil {
			budget = time.AfterFunc(inlineBudget, func() {
				// This connection's callbacks wait or take long, and the
				// others' reports should not wait for them again. It is
				// marked before the successor starts: once it parked, a
				// report for it may reach the successor before this
				// goroutine gets past listenLoop.
				if l := timed.Load(); l != nil {
					l.markSlow()
				}
				p.succeed(gen)
			})
		} else {
			budget.Reset(inlineBudget)
		}
		inline = true
		mine.c.listenLoop(mine, true)
		inline = false
		if !budget.Stop() {
			// The function may not have looked yet: marked before
			// timed is cleared, it starts the successor after either.
			mine.markSlow()
		}
		timed.Store(nil)
	}
}

// slowFor is how long the poller leaves a connection to workers after its
// run in the poller's goroutine outlasted inlineBudget: not for good, as
// the run's time is the wall clock's, and a collection, a preemption or a
// busy box can stretch a callback that is quick as a rule.
const slowFor = 10 * time.Second

// pollEpoch is the origin of listener.slow's times.
var pollEpoch = time.Now()

func (l *listener) markSlow() { l.slow.Store(int64(time.Since(pollEpoch) + slowFor)) }

func (l *listener) isSlow() bool {
	until := l.slow.Load()
	return until != 0 && time.Since(pollEpoch) < time.Duration(until)
}

// inlineBudget is how long a connection may run in the poller's goroutine
// before another goroutine takes over the waiting.
const inlineBudget = time.Millisecond

// succeed starts a successor to the goroutine of generation gen, unless
// one was started already.
func (p *poller) succeed(gen uint64) {
	if p.leader.CompareAndSwap(gen, gen+1) {
		go p.run(gen + 1)
	}
}

// end releases the instance, once: the goroutine that takes stop's report
// (or fails) calls it.
func (p *poller) end() {
	p.ended.Do(func() {
		unix.Close(p.wakefd)
		p.file.Close()
		close(p.done)
	})
}

func (p *poller) failAll() {
	polling.mu.Lock()
	var ls []*listener
	if polling.p == p {
		for _, l := range polling.regs {
			l.noPoll.Store(true)
			ls = append(ls, l)
		}
		polling.p, polling.regs = nil, nil
	}
	polling.mu.Unlock()
	for _, l := range ls {
		l.resume()
	}
}

// stop has the goroutine that waits end, waits until the instance is
// released (end), and has the idle workers end. A goroutine that a
// successor replaced may still be running a connection's end (the one
// that called stop, say) when it returns.
func (p *poller) stop() {
	var one = [8]byte{1}
	_, _ = unix.Write(p.wakefd, one[:])
	<-p.done
	close(p.w.quit)
}
