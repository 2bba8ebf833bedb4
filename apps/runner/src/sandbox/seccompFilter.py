"""Writes the sandbox's seccomp filter (classic BPF, as bubblewrap's --seccomp reads it) to stdout.

Built with libseccomp (Debian's python3-seccomp), never by hand. Everything is allowed except the
syscalls below, which fail with EPERM (clone3 with ENOSYS, so that libc falls back to clone, whose
flags a filter can see). The list is Docker's default profile's blocked set for an unprivileged
container, plus io_uring, AF_VSOCK sockets and the kernel keyrings (RELIABILITY 49). Syscalls of
other architectures (i386, x32) are killed by libseccomp's bad-arch action.
"""

import errno
import sys

import seccomp

DENIED = [
    # io_uring: a second syscall surface that bypasses seccomp argument checks.
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    # Kernel keyrings are shared per uid and between namespaces.
    "keyctl", "add_key", "request_key",
    # Mounts and namespaces (Docker's default set).
    "mount", "umount", "umount2", "pivot_root", "unshare", "setns",
    "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
    # Kernel code, tracing and introspection.
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "create_module", "get_kernel_syms", "query_module", "bpf", "perf_event_open",
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "lookup_dcookie",
    "userfaultfd", "open_by_handle_at", "name_to_handle_at", "fanotify_init",
    # Host-wide state: clocks, swap, accounting, quotas, reboot, old or x86-only calls.
    "acct", "swapon", "swapoff", "reboot", "settimeofday", "clock_settime", "clock_adjtime",
    "stime", "quotactl", "quotactl_fd", "nfsservctl", "uselib", "ustat", "sysfs", "_sysctl",
    "vm86", "vm86old", "iopl", "ioperm",
]

# clone() flags that make namespaces (CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET).
CLONE_NAMESPACE_FLAGS = [0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000]
AF_VSOCK = 40

f = seccomp.SyscallFilter(seccomp.ALLOW)
for name in DENIED:
    try:
        f.add_rule(seccomp.ERRNO(errno.EPERM), name)
    except (RuntimeError, ValueError):
        pass  # Not a syscall on this architecture (umount, stime, vm86... on x86_64).
f.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
for flag in CLONE_NAMESPACE_FLAGS:
    f.add_rule(seccomp.ERRNO(errno.EPERM), "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
f.add_rule(seccomp.ERRNO(errno.EPERM), "socket", seccomp.Arg(0, seccomp.EQ, AF_VSOCK))
f.add_rule(seccomp.ERRNO(errno.EPERM), "socketpair", seccomp.Arg(0, seccomp.EQ, AF_VSOCK))
sys.stdout.flush()
f.export_bpf(sys.stdout)
