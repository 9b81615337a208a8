//go:build !unix

package connection

const canTryWrite = false

func rawWrite(uintptr, []byte) (int, error) { panic("unreachable") }

func rawRead(uintptr, []byte) (int, error) { panic("unreachable") }
