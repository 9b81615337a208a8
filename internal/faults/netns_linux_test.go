package faults

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
)

// netns is a network namespace joined to the test's by a veth pair:
// hostIP on hostIf in the test's namespace, peerIP on peerIf inside it.
type netns struct {
	name           string
	hostIf, peerIf string
	hostIP, peerIP string
}

var netnsSeq atomic.Uint32

// newNetns makes a namespace and its veth pair, and removes both when the
// test ends, failed or not. It skips the test without root or ip, except
// in CI.
func newNetns(t *testing.T) *netns {
	t.Helper()
	if os.Geteuid() != 0 {
		skipOrFail(t, "network namespaces need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		skipOrFail(t, "network namespaces need ip (iproute2): %v", err)
	}
	// Names unique to this process and test: interface names have at
	// most 15 bytes.
	n := netnsSeq.Add(1)
	pid := os.Getpid()
	tag := fmt.Sprintf("%x%x", pid&0xfffff, n)
	ns := &netns{
		name:   "forgefaults-" + tag,
		hostIf: "ffh" + tag,
		peerIf: "ffp" + tag,
		// A /30 of 10.200.0.0/13 chosen by pid and sequence.
		hostIP: fmt.Sprintf("10.%d.%d.%d", 200+pid%8, (pid/8)%256, (n%64)*4+1),
	}
	ns.peerIP = strings.TrimSuffix(ns.hostIP, fmt.Sprint((n%64)*4+1)) + fmt.Sprint((n%64)*4+2)
	if len(ns.hostIf) > 15 {
		t.Fatalf("interface name %q is too long", ns.hostIf)
	}
	t.Cleanup(func() {
		// Deleting one end of a veth deletes both; the namespace goes
		// once its last socket has.
		_ = exec.Command("ip", "link", "del", ns.hostIf).Run()
		if err := exec.Command("ip", "netns", "del", ns.name).Run(); err != nil {
			t.Errorf("ip netns del %s: %v", ns.name, err)
		}
	})
	ns.ip(t, "netns", "add", ns.name)
	ns.ip(t, "link", "add", ns.hostIf, "type", "veth", "peer", "name", ns.peerIf)
	ns.ip(t, "link", "set", ns.peerIf, "netns", ns.name)
	ns.ip(t, "addr", "add", ns.hostIP+"/30", "dev", ns.hostIf)
	ns.ip(t, "link", "set", ns.hostIf, "up")
	ns.ip(t, "-n", ns.name, "addr", "add", ns.peerIP+"/30", "dev", ns.peerIf)
	ns.ip(t, "-n", ns.name, "link", "set", ns.peerIf, "up")
	ns.ip(t, "-n", ns.name, "link", "set", "lo", "up")
	return ns
}

// ip runs ip with args and fails the test if it fails.
func (ns *netns) ip(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// linkDown takes the namespace's end of the link down: from then on
// nothing passes either way, and neither side is told.
func (ns *netns) linkDown(t *testing.T) {
	t.Helper()
	ns.ip(t, "-n", ns.name, "link", "set", ns.peerIf, "down")
}

// addrGone removes the namespace's address: the link stays up, the
// server's packets arrive and are dropped there, unanswered, as when a
// NAT forgets the mapping or a phone changes networks.
func (ns *netns) addrGone(t *testing.T) {
	t.Helper()
	ns.ip(t, "-n", ns.name, "addr", "del", ns.peerIP+"/30", "dev", ns.peerIf)
}

// dial connects to addr from inside the namespace: the socket is made
// there (a socket stays in the namespace it was made in), then the thread
// goes back.
func (ns *netns) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	runtime.LockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	defer self.Close()
	target, err := os.Open("/run/netns/" + ns.name)
	if err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	defer target.Close()
	if err := setns(target); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("enter namespace %s: %w", ns.name, err)
	}
	var d net.Dialer
	c, derr := d.DialContext(ctx, network, addr)
	if err := setns(self); err != nil {
		// The thread is in the wrong namespace: keep it locked, so that
		// it ends with this goroutine.
		if c != nil {
			c.Close()
		}
		return nil, fmt.Errorf("leave namespace %s: %w", ns.name, err)
	}
	runtime.UnlockOSThread()
	return c, derr
}

// sysSetns is setns(2)'s number; the syscall package lacks it on amd64.
var sysSetns = map[string]uintptr{"amd64": 308, "arm64": 268, "386": 346, "riscv64": 268}[runtime.GOARCH]

func setns(f *os.File) error {
	if sysSetns == 0 {
		return fmt.Errorf("setns: unknown on %s", runtime.GOARCH)
	}
	if _, _, errno := syscall.Syscall(sysSetns, f.Fd(), syscall.CLONE_NEWNET, 0); errno != 0 {
		return errno
	}
	return nil
}
