package netpoll

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain checks that nothing is left running once every test's
// connections are released: the loop exits when no descriptor is
// registered, and the pool's workers with it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// pair returns both ends of a loopback TCP connection.
func pair(t *testing.T) (server, client *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); c.Close() })
	return s.(*net.TCPConn), c.(*net.TCPConn)
}

func open(t *testing.T, nc *net.TCPConn) *Desc {
	t.Helper()
	rc, err := nc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	d, err := Open(rc)
	if !Supported {
		if !errors.Is(err, ErrUnsupported) {
			t.Fatalf("Open on an unsupported system: %v; want ErrUnsupported", err)
		}
		t.Skip("readiness events are implemented on Linux only")
	}
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// drain reads what nc has without waiting, as a connection's function
// must before it waits again.
func drain(t *testing.T, nc *net.TCPConn) int {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	var b [64]byte
	n, err := nc.Read(b[:])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestWaitAndClose checks that an event calls the function of the Wait
// before it, that bytes arriving later are announced again (by a call or
// by Wait returning true), and that Close wakes a Wait and makes the next
// fail.
func TestWaitAndClose(t *testing.T) {
	srv, cl := pair(t)
	d := open(t, srv)
	defer d.Release()
	ready := make(chan struct{}, 1)
	f := func() { ready <- struct{}{} }

	for i := range 3 {
		if now, err := d.Wait(f); err != nil {
			t.Fatalf("Wait %d: %v", i, err)
		} else if !now {
			if _, err := cl.Write([]byte("x")); err != nil {
				t.Fatal(err)
			}
			<-ready
		}
		drain(t, srv)
		// Bytes that arrive while the function runs are not lost: the
		// next Wait reports them, or its function is called.
		if _, err := cl.Write([]byte("y")); err != nil {
			t.Fatal(err)
		}
		if now, err := d.Wait(f); err != nil {
			t.Fatal(err)
		} else if !now {
			<-ready
		}
		drain(t, srv)
	}

	if now, err := d.Wait(f); err != nil || now {
		t.Fatalf("Wait with nothing sent: %v, %v; want to wait", now, err)
	}
	d.Close()
	<-ready // Close runs the pending Wait's function
	if _, err := d.Wait(f); !errors.Is(err, ErrClosed) {
		t.Fatalf("Wait after Close: %v; want ErrClosed", err)
	}
}

// TestPoolBound runs more functions than the pool has workers, the first
// ones held until the pool is full: no more than the bound run at once,
// and every one runs.
func TestPoolBound(t *testing.T) {
	const bound, n = 3, 20
	p := newPool(bound, 0)
	quit := make(chan struct{})
	defer close(quit)
	var running, most, done atomic.Int32
	gate := make(chan struct{})
	started := make(chan struct{}, n)
	var wg sync.WaitGroup
	wg.Add(n)
	go func() {
		for range n {
			p.run(func() {
				defer wg.Done()
				r := running.Add(1)
				for m := most.Load(); r > m && !most.CompareAndSwap(m, r); m = most.Load() {
				}
				started <- struct{}{}
				<-gate
				running.Add(-1)
				done.Add(1)
			}, quit)
		}
	}()
	for range bound {
		<-started // the pool is full
	}
	close(gate)
	wg.Wait()
	if m := most.Load(); m > bound {
		t.Errorf("%d functions ran at once; the bound is %d", m, bound)
	}
	if d := done.Load(); d != n {
		t.Errorf("%d functions ran; want %d", d, n)
	}
}

// TestPoolLinger fills the lingering budget with functions that linger
// and stay parked: one more may not linger, and new work still gets the
// pool's workers, every one of them.
func TestPoolLinger(t *testing.T) {
	const workers, lingering = 2, 3
	p := newPool(workers, lingering)
	quit := make(chan struct{})
	defer close(quit)
	parked := make(chan struct{})
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range lingering {
		wg.Add(1)
		p.run(func() {
			defer wg.Done()
			if !p.linger() {
				t.Error("linger refused within the budget")
				return
			}
			defer p.unlinger()
			parked <- struct{}{}
			<-release
		}, quit)
	}
	for range lingering {
		<-parked
	}
	if p.linger() {
		t.Fatalf("linger allowed beyond the budget of %d", lingering)
	}
	// Every worker is there for new work while the budget is spent.
	gate := make(chan struct{})
	started := make(chan struct{}, workers)
	for range workers {
		wg.Add(1)
		p.run(func() {
			defer wg.Done()
			started <- struct{}{}
			<-gate
		}, quit)
	}
	for range workers {
		<-started
	}
	close(gate)
	close(release)
	wg.Wait()
	if !p.linger() {
		t.Fatal("linger refused once every lingering function had stopped")
	}
	p.unlinger()
}

// TestLingerSweep lingers on a connection that hears nothing: the sweep
// calls evict within a few windows, LingerWoke reports it once, and
// after Unlinger no evict runs.
func TestLingerSweep(t *testing.T) {
	srv, _ := pair(t)
	d := open(t, srv)
	defer d.Release()
	evicted := make(chan struct{}, 4)
	evict := func() { evicted <- struct{}{} }
	if !d.Linger(evict) {
		t.Fatal("Linger refused with nothing else lingering")
	}
	d.LingerWait()
	select {
	case <-evicted:
	case <-time.After(10 * time.Second):
		t.Fatal("a wait that heard nothing was not ended by the sweep")
	}
	if !d.LingerWoke(false) {
		t.Fatal("LingerWoke after the sweep's evict reported no eviction")
	}
	if d.LingerWoke(false) {
		t.Fatal("LingerWoke reported the same eviction twice")
	}
	d.Unlinger()
	d.LingerWait() // not lingering: the sweep no longer looks
	time.Sleep(3 * LingerWindow)
	select {
	case <-evicted:
		t.Fatal("evict ran after Unlinger")
	default:
	}
	d.LingerWoke(false)
}
