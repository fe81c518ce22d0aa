"""Worker processes for work on hostile files, each task under a time and a memory bound.

A decoder that hangs or balloons on a crafted file is stopped from outside:
its worker is killed, the task is answered with what stopped it, and a fresh
worker takes the next task. Workers are forked from the process that starts
them (so they start in milliseconds with every library already imported) and
die with it, even when it is killed with SIGKILL.
"""

from __future__ import annotations

import ctypes
import faulthandler
import multiprocessing
import os
import pickle
import resource
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from mediacheck.errors import WorkerError
from mediacheck.intake.bounds import Bounds

PR_SET_PDEATHSIG = 1
PARENT_POLL_S = 1.0
STOP_GRACE_S = 5.0


class Stopped(Exception):
    """A task that did not finish: it ran past a bound, or its worker died."""


class TimeLimitExceeded(Stopped):
    pass


class MemoryLimitExceeded(Stopped):
    pass


class WorkerDied(Stopped):
    pass


@dataclass
class _Worker:
    process: Any  # multiprocessing.Process of the fork context
    conn: Connection
    ticket: int | None = None
    deadline: float = 0.0


@dataclass
class Pool:
    """Up to ``size`` workers; tasks are answered through ``result`` in any order asked."""

    size: int
    bounds: Bounds = Bounds()
    _workers: list[_Worker] = field(default_factory=list)
    _queue: deque[tuple[int, Callable[..., Any], tuple[Any, ...]]] = field(default_factory=deque)
    _done: dict[int, tuple[str, Any]] = field(default_factory=dict)
    _tickets: int = 0

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def submit(self, fn: Callable[..., Any], *args: Any) -> int:
        """Queue ``fn(*args)`` for a worker; returns the ticket to ask its result with."""
        self._tickets += 1
        self._queue.append((self._tickets, fn, args))
        self._dispatch()
        return self._tickets

    def result(self, ticket: int) -> Any:
        """The task's value; raises what it raised, or ``Stopped`` if it did not finish."""
        while ticket not in self._done:
            self._pump()
        kind, value = self._done.pop(ticket)
        if kind == "value":
            return value
        raise value

    def ready(self, ticket: int, timeout: float = 0.0) -> bool:
        """Whether ``result(ticket)`` would answer without waiting, after up to ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while ticket not in self._done:
            busy = [w for w in self._workers if w.ticket is not None]
            left = deadline - time.monotonic()
            if not busy or left < 0:
                return False
            answered = wait([w.conn for w in busy], timeout=left)
            for worker in busy:
                if worker.conn in answered:
                    self._answer(worker)
            self._dispatch()
        return True

    def close(self) -> None:
        """Stop idle workers, kill busy ones: their answers are no longer wanted."""
        for worker in self._workers:
            if worker.ticket is not None:
                worker.process.kill()
                continue
            try:
                worker.conn.send_bytes(pickle.dumps(None))
            except OSError:
                pass  # it died already
        deadline = time.monotonic() + STOP_GRACE_S
        for worker in self._workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
        self._workers.clear()

    def _dispatch(self) -> None:
        while self._queue:
            worker = self._idle_worker()
            if worker is None:
                return
            ticket, fn, args = self._queue.popleft()
            worker.conn.send_bytes(pickle.dumps((fn, args)))
            worker.ticket, worker.deadline = ticket, time.monotonic() + self.bounds.seconds

    def _idle_worker(self) -> _Worker | None:
        for worker in self._workers:
            if worker.ticket is None:
                return worker
        if len(self._workers) < self.size:
            self._workers.append(_start_worker(self.bounds, _threads(self.size)))
            return self._workers[-1]
        return None

    def _pump(self) -> None:
        """Wait for a reply or the nearest deadline, then hand out queued tasks."""
        busy = [w for w in self._workers if w.ticket is not None]
        nearest = min(w.deadline for w in busy) - time.monotonic()
        ready = wait([w.conn for w in busy], timeout=max(0.0, nearest))
        for worker in busy:
            if worker.conn in ready:
                self._answer(worker)
            elif time.monotonic() >= worker.deadline:
                seconds = f"{self.bounds.seconds:g}"
                self._retire(worker, TimeLimitExceeded(f"took longer than {seconds} s"))
        self._dispatch()

    def _answer(self, worker: _Worker) -> None:
        assert worker.ticket is not None
        try:
            kind, value = pickle.loads(worker.conn.recv_bytes())
        except (EOFError, OSError):
            worker.process.join()
            self._retire(worker, WorkerDied(_death(worker.process.exitcode)))
            return
        if kind == "memory":
            limit = f"{self.bounds.memory_mb} MB"
            self._retire(worker, MemoryLimitExceeded(f"needed more than {limit} of memory"))
            return
        self._done[worker.ticket] = (kind, value)
        worker.ticket = None

    def _retire(self, worker: _Worker, why: Stopped) -> None:
        """Answer the worker's task with ``why`` and end the worker: a fresh one takes over."""
        assert worker.ticket is not None
        self._done[worker.ticket] = ("raised", why)
        worker.process.kill()
        worker.process.join()
        worker.conn.close()
        self._workers.remove(worker)


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        name = signal.Signals(-exitcode).name
        return f"its worker process was ended by {name} (out of memory, or a decoder crashed)"
    return f"its worker process exited with code {exitcode}"


def _threads(workers: int) -> int:
    """Threads each worker's libraries may use: the pool is the parallelism, one per core.

    Left to itself OpenBLAS starts a thread per core in every worker, and its wait for
    more work spins: two workers on two cores each burn a second core
    after every matrix product (copy-move's: about 0.2 s of CPU per photo).
    """
    return max(1, (os.cpu_count() or 1) // workers)


def _start_worker(bounds: Bounds, threads: int) -> _Worker:
    context = multiprocessing.get_context("fork")
    ours, theirs = context.Pipe()
    process = context.Process(
        target=_serve, args=(theirs, os.getpid(), bounds.memory_mb, threads), daemon=True
    )
    try:
        process.start()
    except OSError as exc:
        ours.close()
        raise WorkerError(f"cannot start a worker process: {exc.strerror or exc}") from exc
    finally:
        theirs.close()  # its end: a worker that dies reads as end-of-file on ours
    return _Worker(process, ours)


def _serve(conn: Connection, parent: int, memory_mb: int, threads: int) -> None:
    """The worker: run tasks until told to stop, answering each on ``conn``."""
    _die_with(parent)
    _limit_threads(threads)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    faulthandler.disable()  # a crash is told by the parent in one line, not as a stack dump
    # The bound is on what a file's analysis adds: a worker forked from a large process
    # (a server, a test run) starts with that process's address space already mapped.
    limit = _address_space() + memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    while True:
        try:
            task = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError):
            return
        if task is None:
            return
        try:
            conn.send_bytes(_run(*task))
        except OSError:
            return  # the parent is gone or stopped listening


def _limit_threads(threads: int) -> None:
    # BLAS and OpenMP pools, for this process's life. Not OpenCV's: cv2.setNumThreads
    # hangs in a forked child once the parent has used its pool.
    from threadpoolctl import threadpool_info, threadpool_limits

    # Never more than a pool already has: OPENBLAS_NUM_THREADS=1 (set by `serve` and the
    # tests) keeps a forked child's OpenBLAS from starting threads that can spin forever.
    threadpool_limits(min([threads, *(pool["num_threads"] for pool in threadpool_info())]))


def _address_space() -> int:
    """Bytes of address space this process maps now (0 where /proc cannot tell)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


def _run(fn: Callable[..., Any], args: tuple[Any, ...]) -> bytes:
    try:
        return pickle.dumps(("value", fn(*args)))
    except MemoryError:
        return pickle.dumps(("memory", None))
    except Exception as exc:  # noqa: BLE001 - the parent decides what an exception means
        try:
            return pickle.dumps(("raised", exc))
        except Exception:  # noqa: BLE001 - an exception that cannot cross processes
            return pickle.dumps(("raised", RuntimeError(f"{type(exc).__name__}: {exc}")))


def _die_with(parent: int) -> None:
    """End this worker when the parent ends, however it ends."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        pdeathsig = libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL) == 0
    except (OSError, AttributeError):
        pdeathsig = False  # not Linux
    if os.getppid() != parent:
        os._exit(0)  # the parent died before the signal was armed
    if not pdeathsig:
        threading.Thread(target=_watch, args=(parent,), daemon=True).start()


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    os._exit(0)
