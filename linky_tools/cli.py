"""Command line: decode captures, simulate or replay a meter, read a real one (`linky-tic --help`).

Only `decode` is imported at start: the serving and reading commands import asyncio and the servers when they run.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
import contextlib
from datetime import datetime
import json
import os
from pathlib import Path
import re
import sys
from typing import TYPE_CHECKING, Any, Final, cast

from linky_tic import FRAME_PERIOD, Decoder, DecoderStats, Frame, Group, Mode

if TYPE_CHECKING:
    from .serve import FrameSource
    from .simulator import Fault

READ_SIZE: Final = 4096
# Frame periods of silence after which `read` gives up on a line that went quiet.
SILENT_PERIODS: Final = 4


def frame_json(frame: Frame) -> dict[str, Any]:
    """Return the JSON object `decode` writes for a frame."""
    return {
        "mode": str(frame.mode),
        "groups": {label: group.value for label, group in frame.groups.items()},
        "horodates": {
            label: group.horodate.isoformat() for label, group in frame.groups.items() if group.horodate is not None
        },
    }


class _JsonLines:
    """Write frames as `frame_json` objects, a line each, exactly as json.dumps writes them, but faster.

    The decoder hands out the same Group object for a group the meter repeats unchanged: each one's JSON text is made
    once and kept by the group's id, for a bounded number of groups. The groups are held while their texts are kept,
    so an id cannot be reused by another group meanwhile.
    """

    _KEPT = 4096

    def __init__(self) -> None:
        self._held: list[Group] = []
        self._values: dict[int, str] = {}
        self._horodates: dict[int, str] = {}

    def line(self, frame: Frame, stats: DecoderStats | None = None) -> str:
        """Return a frame's JSON line, without its newline."""
        if len(self._held) >= self._KEPT:  # between frames: a frame's texts are all kept while it is written
            self._held.clear()
            self._values.clear()
            self._horodates.clear()
        groups = frame.groups.values()
        ids = list(map(id, groups))
        kept = list(map(self._values.get, ids))
        values = self._remember(groups, kept) if None in kept else cast("list[str]", kept)
        horodates = ""
        if frame.mode is Mode.STANDARD:
            horodates = ", ".join(filter(None, map(self._horodates.get, ids)))
        line = f'{{"mode": "{frame.mode}", "groups": {{{", ".join(values)}}}, "horodates": {{{horodates}}}'
        if stats is not None:
            line += f', "stats": {json.dumps(stats.as_dict())}'
        return line + "}"

    def _remember(self, groups: Iterable[Group], kept: list[str | None]) -> list[str]:
        """Return the texts of a frame's groups, making those of the groups not seen yet."""
        return [text if text is not None else self._text(group) for group, text in zip(groups, kept, strict=True)]

    def _text(self, group: Group) -> str:
        self._held.append(group)
        label = json.dumps(group.label)
        if group.horodate is not None:
            self._horodates[id(group)] = f"{label}: {json.dumps(group.horodate.isoformat())}"
        text = self._values[id(group)] = f"{label}: {json.dumps(group.value)}"
        return text


def _write_frames(lines: _JsonLines, frames: list[Frame], stats: DecoderStats | None = None) -> None:
    """Write a JSON line a frame, and flush once: a read's frames go out together, as soon as they are decoded."""
    if frames:
        sys.stdout.write("".join(f"{lines.line(frame, stats)}\n" for frame in frames))
        sys.stdout.flush()


def _mode(value: str) -> Mode | None:
    return None if value == "auto" else Mode(value)


def _faults(value: str) -> list[Fault]:
    from .simulator import Fault

    try:
        return [Fault(name.strip()) for name in value.split(",") if name.strip()]
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"faults are among {', '.join(Fault)}") from err


def _serial(value: str) -> str:
    if not re.fullmatch(r"\d{12}", value):
        raise argparse.ArgumentTypeError("a serial number is 12 digits")
    return value


def _speed(value: str) -> float:
    speed = float(value)
    if not speed > 0:
        raise argparse.ArgumentTypeError("speed must be positive")
    return speed


def _address(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise argparse.ArgumentTypeError("expected HOST:PORT, e.g. 127.0.0.1:2000")
    return host, int(port)


def _decode(args: argparse.Namespace) -> int:
    decoder = Decoder(_mode(args.mode))
    lines = _JsonLines()
    with contextlib.ExitStack() as stack:
        try:
            stream = sys.stdin.buffer if args.file == "-" else stack.enter_context(Path(args.file).open("rb"))
        except OSError as err:
            print(f"error: cannot read {args.file}: {err.strerror}", file=sys.stderr)
            return 1
        # os.read returns what has arrived: frames piped in live are written as they complete.
        while chunk := os.read(stream.fileno(), READ_SIZE):
            _write_frames(lines, decoder.feed(chunk))
    print(json.dumps(decoder.stats.as_dict()), file=sys.stderr)
    return 0


def _add_line_options(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--pty", action="store_true", help="serve on a new pseudo-terminal (the default)")
    where.add_argument("--tcp", type=_address, metavar="HOST:PORT", help="serve on a TCP port, as ser2net does")
    where.add_argument(
        "--esphome",
        type=_address,
        metavar="HOST:PORT",
        help="behind a fake ESPHome device's serial proxy `tic` (native API, plaintext; needs aioesphomeapi)",
    )
    parser.add_argument("--speed", type=_speed, default=1.0, help="times the real line rate (default 1)")


async def _serve(source: FrameSource, args: argparse.Namespace) -> None:
    import asyncio

    from .serve import MeterServer, serve_pty, serve_tcp

    if args.esphome is not None:
        await _serve_esphome(source, *args.esphome, speed=args.speed)
        return
    server: MeterServer
    if args.tcp is not None:
        server = await serve_tcp(source, *args.tcp, speed=args.speed)
    else:
        server = await serve_pty(source, speed=args.speed)
    print(server.url, flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.close()


async def _serve_esphome(source: FrameSource, host: str, port: int, *, speed: float) -> None:
    import asyncio

    from .esphome_device import EspHomeDevice  # aioesphomeapi only for this way of serving

    device = EspHomeDevice(source, speed=speed)
    await device.start(host, port)
    print(f"esphome://{device.address}/?port_name=tic", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await device.close()


def _simulate(args: argparse.Namespace) -> int:
    import asyncio

    from .simulator import SimulatedMeter

    meter = SimulatedMeter(args.profile, start=args.start, seed=args.seed, faults=args.faults, serial=args.serial)
    if args.output is not None:
        with contextlib.ExitStack() as stack:
            out = sys.stdout.buffer if args.output == "-" else stack.enter_context(Path(args.output).open("wb"))
            for _ in range(args.count):
                out.write(meter.next_frame())
        return 0
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(meter, args))
    return 0


def _replay(args: argparse.Namespace) -> int:
    import asyncio

    from .serve import CaptureReplay

    try:
        data = Path(args.file).read_bytes()
    except OSError as err:
        print(f"error: cannot read {args.file}: {err.strerror}", file=sys.stderr)
        return 1
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(CaptureReplay(data), args))
    return 0


async def _read_line(url: str, mode: Mode | None) -> None:
    """Detect the line's mode and speed, then print its frames as they come until it ends or falls silent."""
    import asyncio

    from linky_tic import LineProtocol, TicLinkError, close_transport, connect_tic, detect

    detection = await detect(url, mode)
    print(
        f"{url}: {detection.mode} mode, {detection.baudrate} baud; reading (Ctrl-C to stop)",
        file=sys.stderr,
        flush=True,
    )
    lines = _JsonLines()

    def print_frame(frame: Frame, _at: float) -> None:
        _write_frames(lines, [frame], line.decoder.stats)

    line = LineProtocol(asyncio.get_running_loop(), mode, print_frame, pause=0)
    transport = await connect_tic(url, detection.baudrate, lambda: line)
    try:
        line.watch_silence(FRAME_PERIOD[detection.mode] * SILENT_PERIODS)
        reason = await line.ended
    finally:
        line.stop()
        await close_transport(transport)
    raise TicLinkError(reason)


def _read(args: argparse.Namespace) -> int:
    import asyncio

    from linky_tic import NothingReceivedError, PortBusyError, Rfc2217NegotiationError, TicLinkError

    hints = {
        PortBusyError: "another program holds the port (stop it, or the integration, first)",
        NothingReceivedError: "silence: check the wiring, and that the meter's TIC output is on",
        Rfc2217NegotiationError: "ser2net: use a raw TCP accepter (accepter: tcp,PORT) and socket://HOST:PORT",
    }
    try:
        asyncio.run(_read_line(args.device, _mode(args.mode)))
    except KeyboardInterrupt:
        pass
    except TicLinkError as err:
        hint = next((text for kind, text in hints.items() if isinstance(err, kind)), "")
        print(f"error: {args.device}: {err}" + (f" ({hint})" if hint else ""), file=sys.stderr)
        return 1
    return 0


def parser(*, decode_only: bool = False) -> argparse.ArgumentParser:
    """Build the command line parser; `decode_only` leaves out the other commands and what they import."""
    root = argparse.ArgumentParser(prog="linky-tic", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    modes = ["auto", *Mode]

    decode = commands.add_parser("decode", help="decode raw TIC bytes into one JSON object per frame")
    decode.add_argument("--mode", choices=modes, default="auto")
    decode.add_argument("file", nargs="?", default="-", metavar="FILE", help="raw capture, or - for stdin")
    decode.set_defaults(run=_decode)
    if decode_only:
        return root

    from .simulator import Fault, Profile

    simulate = commands.add_parser("simulate", help="serve a simulated meter")
    simulate.add_argument("--profile", choices=list(Profile), required=True)
    simulate.add_argument("--faults", type=_faults, default=[], metavar="LIST", help=f"among {', '.join(Fault)}")
    simulate.add_argument("--seed", type=int, default=0)
    simulate.add_argument("--start", type=datetime.fromisoformat, help="simulated start time (ISO 8601, aware)")
    simulate.add_argument(
        "--serial", type=_serial, help="the meter's serial number, 12 digits (several meters in one Home Assistant)"
    )
    _add_line_options(simulate)
    simulate.add_argument("--output", metavar="FILE", help="write --count frames to FILE (- for stdout) instead")
    simulate.add_argument("--count", type=int, default=10)
    simulate.set_defaults(run=_simulate)

    replay = commands.add_parser("replay", help="serve a capture file over and over")
    replay.add_argument("file", metavar="FILE")
    _add_line_options(replay)
    replay.set_defaults(run=_replay)

    read = commands.add_parser("read", help="read a real meter: detect mode and speed, print frames live")
    read.add_argument("device", metavar="DEVICE_OR_URL", help="/dev/ttyUSB0, socket://host:port, rfc2217://...")
    read.add_argument("--mode", choices=modes, default="auto")
    read.set_defaults(run=_read)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser(decode_only=argv[:1] == ["decode"]).parse_args(argv)
    status: int = args.run(args)
    return status
