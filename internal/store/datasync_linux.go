package store

import (
	"errors"
	"os"
	"syscall"
)

// datasync flushes f's data (and the metadata needed to read it back), as
// SQLite itself does on Linux.
func datasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
