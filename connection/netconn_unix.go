//go:build unix

package connection

import "syscall"

const canTryWrite = true

func rawWrite(fd uintptr, p []byte) (int, error) { return syscall.Write(int(fd), p) }

func rawRead(fd uintptr, p []byte) (int, error) { return syscall.Read(int(fd), p) }
