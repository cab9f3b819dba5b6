"""The command line, a stable contract: `decode`'s JSON lines, serving, reading a real line."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
from pathlib import Path
import signal
import subprocess
import sys

import pytest

from linky_tic import Decoder, DecoderStats, Frame, Group, Mode, link, parse_horodate
from linky_tools import cli
from linky_tools.cli import _JsonLines, frame_json
from linky_tools.encoder import encode_frame
from linky_tools.serve import serve_tcp
from linky_tools.simulator import Profile, SimulatedMeter

from .conftest import CAPTURES, read_capture
from .waiting import GUARD

ROOT = Path(__file__).resolve().parents[1]
COMMAND = [sys.executable, "-m", "linky_tools"]
STANDARD = [
    Group("ADSC", "041864543210"),
    Group("DATE", "", parse_horodate("E260712140327")),
    Group("LTARF", " HEURE  CREUSE  "),
    Group("SMAXSN", "05661", parse_horodate("h260712081658")),
    Group("DPM1", "00", parse_horodate(" 260712060000")),
]


def _run(*args: str, data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    command = [*COMMAND, *args]
    return subprocess.run(command, input=data, capture_output=True, cwd=ROOT, check=False, timeout=GUARD)  # noqa: S603


def test_decode_json_contract(tmp_path: Path) -> None:
    frame = encode_frame(Mode.STANDARD, STANDARD)
    corrupted = bytearray(frame)
    corrupted[corrupted.index(b"HEURE")] ^= 0x01
    capture = tmp_path / "line.tic"
    capture.write_bytes(b"tail of a frame\x03" + frame + frame[:40] + b"\x04" + bytes(corrupted))
    result = _run("decode", str(capture))
    assert result.returncode == 0
    lines = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert lines[0] == {
        "mode": "standard",
        "groups": {"ADSC": "041864543210", "DATE": "", "LTARF": " HEURE  CREUSE  ", "SMAXSN": "05661", "DPM1": "00"},
        "horodates": {
            "DATE": "2026-07-12T14:03:27+02:00",
            "SMAXSN": "2026-07-12T08:16:58+01:00",
            "DPM1": "2026-07-12T06:00:00",
        },
    }
    assert "LTARF" not in lines[1]["groups"]
    assert len(lines) == 2
    stats = json.loads(result.stderr)
    assert stats["frames"] == 2
    assert stats["checksum_errors"] == 1
    assert stats["interrupted_frames"] == 1


def test_decode_stdin_historic() -> None:
    groups = [Group("ADCO", "041864543210"), Group("PTEC", "HP.."), Group("MOTDETAT", "000000")]
    result = _run("decode", "-", data=encode_frame(Mode.HISTORIC, groups) * 2)
    assert result.returncode == 0
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines == [{"mode": "historic", "groups": {g.label: g.value for g in groups}, "horodates": {}}] * 2
    assert json.loads(result.stderr)["frames"] == 2


def test_decode_damaged_separators() -> None:
    # An adapter that delivers 0x0E, 0x0F or 0x0B instead of LF, and damages every STX after the first frame.
    frame = encode_frame(Mode.STANDARD, STANDARD)
    damaged = [frame[:1] + frame[1:].replace(b"\n", bytes([byte])) for byte in (0x0E, 0x0F, 0x0B)]
    data = damaged[0] + b"".join(b"\x0b" + other[1:] for other in damaged[1:])
    result = _run("decode", "-", data=data)
    assert result.returncode == 0
    lines = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [line["groups"] for line in lines] == [{group.label: group.value for group in STANDARD}] * 3
    stats = json.loads(result.stderr)
    assert stats["damaged_separator_groups"] == 3 * len(STANDARD)
    assert stats["frames_without_stx"] == 2
    assert stats["checksum_errors"] == 0


@pytest.mark.skipif(not CAPTURES.is_dir(), reason="captures absent")
@pytest.mark.parametrize("path", sorted(CAPTURES.glob("*.tic")) if CAPTURES.is_dir() else [], ids=lambda p: p.name)
def test_decode_captures(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["decode", str(path)]) == 0
    out, err = capsys.readouterr()
    stats = json.loads(err)
    assert stats["frames"] == len(out.splitlines()) >= 1
    if "rx_errors" not in path.name:
        assert stats["checksum_errors"] == 0


def test_decode_forced_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capture = tmp_path / "standard.tic"
    capture.write_bytes(encode_frame(Mode.STANDARD, STANDARD))
    assert cli.main(["decode", "--mode", "historic", str(capture)]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert json.loads(err)["frames"] == 0


def test_decode_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["decode", "/nonexistent/line.tic"]) == 1
    assert "cannot read /nonexistent/line.tic" in capsys.readouterr().err
    assert cli.main(["replay", "/nonexistent/line.tic"]) == 1


def test_simulate_to_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "meter.tic"
    args = ["simulate", "--profile", "historic_tempo", "--start", "2026-01-14T12:00:00+00:00", "--seed", "3"]
    assert cli.main([*args, "--count", "5", "--output", str(output)]) == 0
    assert cli.main(["decode", str(output)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 5
    assert all(line["groups"]["OPTARIF"] == "BBR(" for line in lines)


def test_simulate_a_meter_of_another_serial(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["simulate", "--profile", "standard_base", "--serial", "041800000007", "--count", "1", "--output", "-"]
    assert cli.main(args) == 0
    assert b"ADSC\t041800000007\t" in capsys.readouterr().out.encode()


@pytest.mark.parametrize(
    "args",
    [
        ["simulate", "--profile", "nope"],
        ["simulate", "--profile", "historic_base", "--faults", "noise,lightning"],
        ["simulate", "--profile", "historic_base", "--tcp", "2000"],
        ["simulate", "--profile", "historic_base", "--speed", "0"],
        ["simulate", "--profile", "historic_base", "--serial", "0418765432"],
        ["simulate", "--profile", "historic_base", "--pty", "--tcp", "127.0.0.1:2000"],
        ["decode", "--mode", "fast"],
        [],
    ],
)
def test_usage_errors(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(args)
    assert exit_info.value.code == 2
    assert "usage:" in capsys.readouterr().err


def _interruptible() -> None:
    """Let Ctrl-C reach the served line as from a terminal.

    A shell ignores SIGINT for what it starts in the background (`scripts/test --stress &`), and the ignoring is
    inherited: Python would then install no KeyboardInterrupt handler, and `_stop` would wait for ever.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


async def _serve_command(*args: str) -> tuple[asyncio.subprocess.Process, str]:
    process = await asyncio.create_subprocess_exec(
        *COMMAND,
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        preexec_fn=_interruptible,  # one signal call, before exec
    )
    async with asyncio.timeout(GUARD):  # a Python process started on a loaded machine: seconds
        url = (await process.stdout.readline()).decode().strip()
    return process, url


async def _stop(process: asyncio.subprocess.Process) -> int:
    process.send_signal(signal.SIGINT)
    async with asyncio.timeout(GUARD):
        return await process.wait()


async def test_simulate_on_tcp(socket_enabled: None) -> None:
    process, url = await _serve_command(
        "simulate", "--profile", "standard_tri", "--tcp", "127.0.0.1:0", "--speed", "50", "--faults", "parity"
    )
    try:
        assert url.startswith("socket://127.0.0.1:")
        detection = await link.detect(url, within=GUARD)
        assert detection.mode is Mode.STANDARD
        assert detection.frame.value("ADSC") == "041876543210"
    finally:
        assert await _stop(process) == 0


async def test_replay_on_a_pty() -> None:
    read_capture("historic_mono_tempo_pyteleinfo.tic")
    process, url = await _serve_command(
        "replay", str(CAPTURES / "historic_mono_tempo_pyteleinfo.tic"), "--pty", "--speed", "20"
    )
    try:
        detection = await link.detect(url, Mode.HISTORIC, within=GUARD)
        assert detection.frame.value("PTEC") == "HCJB"
    finally:
        assert await _stop(process) == 0


async def test_read_prints_frames_live(
    socket_enabled: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The detection's and the silence's windows are not what this test is about: a loaded machine must not hit them.
    monkeypatch.setattr(link, "DETECT_TIMEOUT", dict.fromkeys(Mode, GUARD))
    monkeypatch.setattr(cli, "SILENT_PERIODS", GUARD)
    printed: list[Frame] = []
    enough = asyncio.Event()
    write_frames = cli._write_frames

    def write_then_count(lines: _JsonLines, frames: list[Frame], stats: DecoderStats | None = None) -> None:
        write_frames(lines, frames, stats)
        printed.extend(frames)
        if len(printed) >= 3:
            enough.set()

    monkeypatch.setattr(cli, "_write_frames", write_then_count)
    async with await serve_tcp(SimulatedMeter("standard_mono"), speed=50) as server:
        reading = asyncio.create_task(cli._read_line(server.url, None))
        waiting = asyncio.create_task(enough.wait())
        done, _ = await asyncio.wait({reading, waiting}, timeout=GUARD, return_when=asyncio.FIRST_COMPLETED)
        assert waiting in done, reading.exception() if reading.done() else "no three frames printed"
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading
    out, err = capsys.readouterr()
    assert "standard mode, 9600 baud" in err
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == len(printed) >= 3
    assert all(line["mode"] == "standard" and line["stats"]["checksum_errors"] == 0 for line in lines)


def test_read_missing_port(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["read", "/dev/ttyLINKY-nonexistent"]) == 1
    assert capsys.readouterr().err.startswith("error: /dev/ttyLINKY-nonexistent: ")


def test_read_busy_port(capsys: pytest.CaptureFixture[str]) -> None:
    master, slave = os.openpty()
    try:
        fcntl.flock(slave, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert cli.main(["read", os.ttyname(slave)]) == 1
        assert "another program holds the port" in capsys.readouterr().err
    finally:
        os.close(master)
        os.close(slave)


def test_read_silent_port(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(link, "DETECT_TIMEOUT", dict.fromkeys(Mode, 0.2))
    master, slave = os.openpty()
    try:
        assert cli.main(["read", "--mode", "historic", os.ttyname(slave)]) == 1
        assert "silence" in capsys.readouterr().err
    finally:
        os.close(master)
        os.close(slave)


async def test_serve_in_process(socket_enabled: None, capsys: pytest.CaptureFixture[str]) -> None:
    args = cli.parser().parse_args(["simulate", "--profile", "standard_mono", "--tcp", "127.0.0.1:0", "--speed", "50"])
    serving = asyncio.create_task(cli._serve(SimulatedMeter(args.profile), args))
    async with asyncio.timeout(GUARD):
        while not (url := capsys.readouterr().out.strip()):  # noqa: ASYNC110 - the URL arrives on stdout
            await asyncio.sleep(0.01)
    detection = await link.detect(url, Mode.STANDARD, within=GUARD)
    assert detection.baudrate == 9600
    serving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await serving


def test_json_lines_are_json_dumps_exactly() -> None:
    """`decode`'s fast JSON lines are byte for byte what json.dumps writes, for every profile, kept texts included."""
    decoder = Decoder()
    lines = _JsonLines()
    lines._KEPT = 40  # emptied every few frames here
    for profile in Profile:
        meter = SimulatedMeter(profile)
        for frame in decoder.feed(b"".join(meter.next_frame(elapsed=61.0) for _ in range(30))):
            expected = json.dumps(frame_json(frame))
            assert lines.line(frame) == expected
            assert lines.line(frame) == expected
            assert lines.line(frame, decoder.stats) == json.dumps(
                {**frame_json(frame), "stats": decoder.stats.as_dict()}
            )
