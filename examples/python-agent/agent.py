#!/usr/bin/env python3
"""A small actorflow agent in Python: serves the kind `py-upper` over NATS.

It speaks the wire protocol of docs/agent-protocol.md with nats-py and msgpack: heartbeats, the
JetStream work queue of its kind (not the optional direct path), `taken`, progress (+WPI), the
result as a request on `<prefix>.results`, the ack once the engine answered, and cancel.
Run: NATS_URL=nats://127.0.0.1:4222 python3 agent.py (see README.md).
"""
import asyncio, os, re, signal, socket, time

import msgpack, nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.errors import TimeoutError as NothingQueued
from nats.js.errors import BadRequestError, NotFoundError

PREFIX = os.environ.get("ACTORFLOW_NATS_PREFIX", "actorflow")
CONCURRENCY = int(os.environ.get("CONCURRENCY", "4"))
ACK_WAIT_S = int(os.environ.get("ACK_WAIT_MS", "10000")) / 1000


class StepFailure(Exception):
    """Fails the attempt with a stable code; retryable=False skips the step's retry policy."""

    def __init__(self, code, message, retryable=True):
        super().__init__(message)
        self.code, self.retryable = code, retryable


async def py_upper(task, log):
    """Input `{ text, delayMs? }` → `{ text: TEXT }`; `delayMs` makes it slow enough to cancel."""
    args = task["input"] if isinstance(task["input"], dict) else {}
    if not isinstance(args.get("text"), str):
        raise StepFailure("not_a_string", "input.text must be a string", retryable=False)
    await log("info", "uppercasing", {"length": len(args["text"])})
    await asyncio.sleep((args.get("delayMs") or 0) / 1000)
    return {"text": args["text"].upper()}


HANDLERS = {"py-upper": py_upper}


def token(s):
    """One subject token: every UTF-16 code unit other than A-Z a-z 0-9 _ - becomes `~` + hex (2+ digits)."""
    def esc(m):
        units = m.group().encode("utf-16-be")
        return "".join("~%02x" % int.from_bytes(units[i:i + 2], "big") for i in range(0, len(units), 2))
    return re.sub(r"[^A-Za-z0-9_-]", esc, s)


STREAM = token(PREFIX).replace("-", "_").upper() + "_TASKS"
pack = msgpack.packb


def unpack(data):
    # msgpackr writes JavaScript's `undefined` as fixext 1 of type 0: read it as None.
    return msgpack.unpackb(data, ext_hook=lambda code, d: None if code == 0 else msgpack.ExtType(code, d))


class Agent:
    def __init__(self, nc):
        self.nc, self.js = nc, nc.jetstream()
        self.name = f"{socket.gethostname()}-{os.getpid()}"
        self.id = f"ag_{self.name}_{int(time.time() * 1000):x}"
        self.started_at = time.time() * 1000
        self.slots = asyncio.Semaphore(CONCURRENCY)
        self.handlers = {}  # taskId → the handler's asyncio task (what a cancel aborts)
        self.held = set()  # every task from its fetch until its ack or nak
        self.cancelled = {}  # taskIds cancelled before they arrived (insertion-ordered, bounded)

    async def heartbeat(self, leaving=False):
        # No `direct: true`: the engine then sends this agent nothing directly, only through the queue.
        await self.nc.publish(f"{PREFIX}.agents.heartbeat", pack({
            "id": self.id, "name": self.name, "kinds": list(HANDLERS), "capacity": CONCURRENCY,
            "inFlight": len(self.held), "version": "0.1.0", "startedAt": self.started_at, "leaving": leaving}))

    async def beat(self):
        while True:
            await self.heartbeat()
            await asyncio.sleep(1)

    async def on_cancel(self, msg):
        task_id = unpack(msg.data)["taskId"]
        if task_id in self.handlers:
            self.handlers[task_id].cancel()
        else:
            self.cancelled[task_id] = True
            if len(self.cancelled) > 10_000:
                del self.cancelled[next(iter(self.cancelled))]

    async def bind(self, kind):
        """The task stream and the kind's durable consumer: created by whichever process comes first."""
        try:
            await self.js.stream_info(STREAM)
        except NotFoundError:
            try:
                await self.js.add_stream(StreamConfig(name=STREAM, subjects=[f"{PREFIX}.tasks.>"], retention=RetentionPolicy.WORK_QUEUE,
                                                      storage=StorageType.FILE, duplicate_window=120))
            except BadRequestError:
                pass  # another process created it meanwhile
        durable = "kind_" + token(kind).replace("~", "_")
        try:
            await self.js.add_consumer(STREAM, ConsumerConfig(
                durable_name=durable, filter_subject=f"{PREFIX}.tasks.*.{token(kind)}", ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL, ack_wait=ACK_WAIT_S, max_deliver=-1, max_ack_pending=100_000))
        except BadRequestError:
            pass  # it exists with other settings (another agent's ack wait): use it as it is
        return await self.js.pull_subscribe_bind(durable, stream=STREAM)

    async def pull(self, sub):
        """Fetches one task per free slot, so a busy agent leaves the queue to the others."""
        while True:
            await self.slots.acquire()
            try:
                [msg] = await sub.fetch(1, timeout=5)
            except Exception as err:  # nothing queued, or the connection is down
                self.slots.release()
                if not isinstance(err, NothingQueued):
                    await asyncio.sleep(1)
                continue
            self.held.add(asyncio.create_task(self.execute(msg)))

    async def execute(self, msg):
        try:
            try:
                task = unpack(msg.data)
            except Exception:
                return await msg.term()  # not a task: never redeliver it
            if self.cancelled.pop(task["taskId"], None):
                return await msg.ack()  # cancelled before it got here: nothing to run
            ids = {k: task[k] for k in ("taskId", "executionId", "stepId", "attempt")}
            await self.nc.publish(f"{PREFIX}.taken", pack({**ids, "agentId": self.id}))
            progress = asyncio.create_task(self.working(msg))
            try:
                reported = await self.report(await self.run(task, ids))
            finally:
                progress.cancel()
            # Ack only once the engine journaled the result; a nak hands the task to another agent.
            await (msg.ack() if reported else msg.nak())
        finally:
            self.held.discard(asyncio.current_task())
            self.slots.release()

    async def run(self, task, ids):
        t0 = time.monotonic()
        where = {k: task[k] for k in ("executionId", "stepId", "attempt")}
        log = lambda level, message, data=None: self.nc.publish(f"{PREFIX}.logs", pack({**where, "level": level, "message": message, "data": data}))
        work = self.handlers[task["taskId"]] = asyncio.create_task(HANDLERS[task["agent"]](task, log))
        timeout = task["timeoutMs"] / 1000 if task.get("timeoutMs") else None
        failed = lambda code, message, retryable: {"ok": False, "error": {"code": code, "message": message, "retryable": retryable}}
        try:
            result = {"ok": True, "output": await asyncio.wait_for(work, timeout)}
        except asyncio.CancelledError:  # on_cancel cancelled the handler
            result = failed("cancelled", "the step was cancelled", False)
        except TimeoutError:
            result = failed("step_timeout", "step timed out", True)
        except Exception as err:
            code = getattr(err, "code", None)
            result = failed(code if isinstance(code, str) else "failed", str(err), getattr(err, "retryable", True) is not False)
        finally:
            del self.handlers[task["taskId"]]
        return {**ids, **result, "agentId": self.id, "costs": [], "durationMs": (time.monotonic() - t0) * 1000}

    async def working(self, msg):
        """+WPI: JetStream would hand a task silent for the ack wait to another agent."""
        while True:
            await asyncio.sleep(max(0.25, ACK_WAIT_S / 3))
            await msg.in_progress()

    async def report(self, result):
        """The engine answers after its journal commit; retried with backoff (it applies one result per attempt)."""
        delay = 0.1
        for _ in range(40):
            try:
                await self.nc.request(f"{PREFIX}.results", pack(result), timeout=5)
                return True
            except Exception:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2)
        return False


async def main():
    nc = await nats.connect(os.environ.get("NATS_URL", "nats://127.0.0.1:4222"), name="actorflow-python-agent", max_reconnect_attempts=-1)
    agent = Agent(nc)
    await nc.subscribe(f"{PREFIX}.cancel", cb=agent.on_cancel)
    beat = asyncio.create_task(agent.beat())
    pulls = [asyncio.create_task(agent.pull(await agent.bind(kind))) for kind in HANDLERS]
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    print(f"agent {agent.id} ready: {', '.join(HANDLERS)}", flush=True)
    await stop.wait()
    # Drain: take nothing more, let the held tasks finish and report, then say it is leaving.
    for p in pulls:
        p.cancel()
    await asyncio.gather(*agent.held)
    beat.cancel()
    await agent.heartbeat(leaving=True)
    try:
        await nc.drain()
    except nats.errors.Error:
        await nc.close()  # NATS is gone: nothing left to flush


if __name__ == "__main__":
    asyncio.run(main())
