package sinksim

import (
	"io"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/pkg/sftp"
)

// SFTPOp records one file operation served by the SFTP emulator. Paths are
// as the client sent them, relative to the server root.
type SFTPOp struct {
	Op     string    `json:"op"` // Write, Rename, PosixRename, Remove, Mkdir, Rmdir
	Path   string    `json:"path"`
	Target string    `json:"target,omitempty"`
	Err    string    `json:"err,omitempty"`
	Time   time.Time `json:"time"`
}

// rootFS serves SFTP requests from a directory, chrooted: every client path
// is resolved inside root.
type rootFS struct {
	root          string
	noPosixRename bool
	record        func(SFTPOp)
}

func (fs *rootFS) handlers() sftp.Handlers {
	return sftp.Handlers{FileGet: fs, FilePut: fs, FileCmd: fs, FileList: fs}
}

func (fs *rootFS) local(p string) string {
	return filepath.Join(fs.root, filepath.FromSlash(path.Clean("/"+p)))
}

func (fs *rootFS) note(op, p, target string, err error) error {
	rec := SFTPOp{Op: op, Path: path.Clean("/" + p), Time: time.Now()}
	if target != "" {
		rec.Target = path.Clean("/" + target)
	}
	if err != nil {
		rec.Err = err.Error()
	}
	fs.record(rec)
	return err
}

// Fileread opens a file for reading.
func (fs *rootFS) Fileread(r *sftp.Request) (io.ReaderAt, error) {
	return os.Open(fs.local(r.Filepath))
}

// Filewrite opens a file for writing with the client's open flags.
func (fs *rootFS) Filewrite(r *sftp.Request) (io.WriterAt, error) {
	pf := r.Pflags()
	flags := os.O_WRONLY
	if pf.Read {
		flags = os.O_RDWR
	}
	if pf.Creat {
		flags |= os.O_CREATE
	}
	if pf.Trunc {
		flags |= os.O_TRUNC
	}
	if pf.Excl {
		flags |= os.O_EXCL
	}
	f, err := os.OpenFile(fs.local(r.Filepath), flags, 0o644)
	if err = fs.note("Write", r.Filepath, "", err); err != nil {
		return nil, err
	}
	return f, nil
}

// Filecmd runs Setstat, Rename, Rmdir, Mkdir and Remove. Rename refuses to
// replace an existing file, as SFTP version 3 (and OpenSSH) does.
func (fs *rootFS) Filecmd(r *sftp.Request) error {
	switch r.Method {
	case "Setstat":
		return nil
	case "Rename":
		to := fs.local(r.Target)
		if _, err := os.Lstat(to); err == nil {
			return fs.note("Rename", r.Filepath, r.Target, os.ErrExist)
		}
		return fs.note("Rename", r.Filepath, r.Target, os.Rename(fs.local(r.Filepath), to))
	case "Rmdir":
		return fs.note("Rmdir", r.Filepath, "", os.Remove(fs.local(r.Filepath)))
	case "Mkdir":
		return fs.note("Mkdir", r.Filepath, "", os.Mkdir(fs.local(r.Filepath), 0o755))
	case "Remove":
		return fs.note("Remove", r.Filepath, "", os.Remove(fs.local(r.Filepath)))
	default:
		return sftp.ErrSSHFxOpUnsupported
	}
}

// PosixRename renames, replacing an existing target atomically
// (posix-rename@openssh.com), unless the emulator is configured without it.
func (fs *rootFS) PosixRename(r *sftp.Request) error {
	if fs.noPosixRename {
		return fs.note("PosixRename", r.Filepath, r.Target, sftp.ErrSSHFxOpUnsupported)
	}
	return fs.note("PosixRename", r.Filepath, r.Target, os.Rename(fs.local(r.Filepath), fs.local(r.Target)))
}

// Filelist serves List and Stat.
func (fs *rootFS) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	switch r.Method {
	case "List":
		entries, err := os.ReadDir(fs.local(r.Filepath))
		if err != nil {
			return nil, err
		}
		infos := make([]os.FileInfo, 0, len(entries))
		for _, e := range entries {
			if fi, err := e.Info(); err == nil {
				infos = append(infos, fi)
			}
		}
		return listerAt(infos), nil
	case "Stat":
		fi, err := os.Stat(fs.local(r.Filepath))
		if err != nil {
			return nil, err
		}
		return listerAt{fi}, nil
	default:
		return nil, sftp.ErrSSHFxOpUnsupported
	}
}

type listerAt []os.FileInfo

func (l listerAt) ListAt(dst []os.FileInfo, offset int64) (int, error) {
	if offset >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(dst, l[offset:])
	if n < len(dst) {
		return n, io.EOF
	}
	return n, nil
}
