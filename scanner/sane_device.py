"""Driving a SANE scanner through the `scanimage` program, one page at a time.

Why `scanimage` and not python-sane:
- python-sane has no wheel: it compiles against libsane-dev with a C compiler, and
  Debian's `python3-sane` only serves Debian's own Python, not a virtual
  environment. `scanimage` ships with sane-utils, which every SANE install has.
- Scanner backends are C code of uneven quality; a crash in one kills the process
  that loaded it. In a child process it kills only the child: the station keeps
  every page already received and tells the secretary what to do.
- `scanimage --batch --batch-print` writes each page to `NAME.part`, renames it when
  the page is complete and prints its name: the station receives a page the moment
  it is whole, never a half page (measured with strace on sane-utils 1.2.1). On a jam
  the `.part` file is removed, so the sheet being read is rescanned, never half kept.
- Its exit status is the SANE status (6 jammed, 8 cover open, 3 busy...) and its
  last error line carries SANE's own words, which is all the station needs.
The price: options are set once per feed (one `scanimage` run per loaded pile),
which is how a secretary works anyway (load, scan, clear the jam, go on).

Settings per scanner family (source names, mode names, extra options) are
profiles in hardware/profiles/*.yaml; the station checks each one against what the
device announces (`scanimage -d DEVICE -A`) and says in plain words what does not fit.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import os
import queue
import re
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from massicot_core.errors import UserError
from scanner.feeder import FeedEnd, FeedResult, Receive
from scanner.sources import SourcePage

PROFILES_DIR = Path(__file__).resolve().parent.parent / "hardware" / "profiles"
SCANIMAGE = "scanimage"
PAGE_SUFFIX = ".jpg"
# A page at 600 dpi on a slow USB scanner takes well under a minute; a backend silent for longer is stuck.
DEFAULT_STALL_SECONDS = 60.0
STOP_GRACE_SECONDS = 3.0  # after SIGTERM, before SIGKILL: a deadlocked backend ignores the polite signal
WATCH_EVERY_SECONDS = 0.25

# SANE_Status numbers (sane.h); scanimage exits with them.
_STATUS_BY_CODE = {
    2: FeedEnd.CANCELLED,
    3: FeedEnd.BUSY,
    6: FeedEnd.JAMMED,
    7: FeedEnd.EMPTY,
    8: FeedEnd.COVER_OPEN,
    9: FeedEnd.IO_ERROR,
    11: FeedEnd.ACCESS_DENIED,
}
# SANE's sane_strstatus() words, as scanimage prints them after "sane_start:" / "sane_read:".
_STATUS_BY_WORDS = {
    "document feeder jammed": FeedEnd.JAMMED,
    "document feeder out of documents": FeedEnd.EMPTY,
    "scanner cover is open": FeedEnd.COVER_OPEN,
    "device busy": FeedEnd.BUSY,
    "error during device i/o": FeedEnd.IO_ERROR,
    "access to resource has been denied": FeedEnd.ACCESS_DENIED,
    "operation was cancelled": FeedEnd.CANCELLED,
}


# ---------------------------------------------------------------- profiles


class ScannerProfile(BaseModel):
    """Good settings for one scanner family, with the SANE option names its backend uses."""

    name: str
    family: str
    match: list[str] = []  # substrings of "device vendor model" that pick this profile
    source_front: list[str]  # candidate names of the ADF front-side source, first offered wins
    source_duplex: list[str] = []
    mode: list[str] = ["Gray"]
    resolution: int = 300
    # Scan area: option name → mm. Only options the device offers are applied.
    geometry: dict[str, float] = {}
    options: dict[str, str] = {}  # further options (name without dashes → value), when offered
    # The watchdog: seconds without a page, a status line, a growing page file or an exit before the
    # station stops the backend (a hung driver would otherwise hang the station with it).
    stall_seconds: float = DEFAULT_STALL_SECONDS
    notes: str = ""


def profile_names() -> list[str]:
    return sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))


def load_profile(name: str) -> ScannerProfile:
    path = PROFILES_DIR / f"{name}.yaml"
    if not path.is_file():
        raise UserError(f"there is no scanner profile {name!r}; profiles: {', '.join(profile_names())}")
    try:
        return ScannerProfile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (yaml.YAMLError, ValidationError) as exc:
        first = str(exc).splitlines()[0]
        raise UserError(f"scanner profile {path} is not valid ({first}); correct it or use another") from None


def profile_for(device: SaneDevice) -> ScannerProfile:
    """The profile whose `match` fits the device; the generic one when none does."""
    haystack = f"{device.name} {device.vendor} {device.model}".lower()
    for name in profile_names():
        profile = load_profile(name)
        if any(m.lower() in haystack for m in profile.match):
            return profile
    return load_profile("generic")


# ---------------------------------------------------------------- devices and their options


@dataclass(frozen=True)
class SaneDevice:
    name: str  # e.g. "fujitsu:fi-7160:12345", "test:0"
    vendor: str
    model: str
    kind: str


@dataclass(frozen=True)
class DeviceOption:
    name: str  # with its dashes, as scanimage spells it: "--source", "-x"
    choices: list[str] = field(default_factory=list)
    low: float | None = None
    high: float | None = None
    active: bool = True


def _require_scanimage() -> str:
    path = shutil.which(SCANIMAGE)
    if not path:
        raise UserError(
            "the program `scanimage` is not installed: install SANE's utilities "
            "(`apt-get install sane-utils`) and run the same command again"
        )
    return path


def _run(args: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [_require_scanimage(), *args], capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise UserError(
            "the scanner did not answer within a minute: switch it off and on, "
            "then run the same command again"
        ) from None


def list_devices() -> list[SaneDevice]:
    """Every scanner SANE sees (USB, network, and the `test` device when enabled)."""
    done = _run(["-f", "%d\t%v\t%m\t%t\n"])
    devices = []
    for line in done.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) == 4 and parts[0]:
            devices.append(SaneDevice(*parts))
    return devices


def choose_device(name: str | None) -> SaneDevice:
    devices = list_devices()
    if not devices:
        raise UserError(
            "no scanner found. Check that the scanner is switched on and plugged in (USB cable or network), "
            "and that this user may use it (see hardware/README.md: the 'scanner' group), "
            "then run `massicot scan devices`"
        )
    if name is None:
        real = [d for d in devices if not d.name.startswith("test")]
        if len(real) == 1:
            return real[0]
        listing = ", ".join(d.name for d in devices)
        raise UserError(f"several scanners are connected ({listing}): choose one with --device NAME")
    for device in devices:
        if device.name == name:
            return device
    # SANE accepts a backend name alone ("test", "fujitsu"): take its first device.
    for device in devices:
        if device.name.split(":")[0] == name:
            return device
    listing = ", ".join(d.name for d in devices)
    raise UserError(f"no scanner named {name!r} is connected; scanners found: {listing}")


_OPTION_LINE = re.compile(
    r"^\s+(--?[A-Za-z][\w-]*)(\[=\((?P<bool>[^)]*)\)\])?\s*(?P<spec>.*?)\s*\[(?P<cur>[^\]]*)\]\s*$"
)
_RANGE = re.compile(r"^(-?[\d.]+)\.\.(-?[\d.]+)")


def parse_device_options(text: str) -> dict[str, DeviceOption]:
    """Options as `scanimage -d DEVICE -A` lists them: name, allowed values, active or not."""
    options: dict[str, DeviceOption] = {}
    for line in text.splitlines():
        m = _OPTION_LINE.match(line)
        if not m:
            continue
        name, spec = m.group(1), m.group("spec")
        active = m.group("cur") != "inactive"
        if m.group("bool") is not None:
            options[name] = DeviceOption(name, choices=m.group("bool").split("|"), active=active)
            continue
        spec = re.sub(r"\s*\(in steps of [^)]*\)", "", spec)
        rng = _RANGE.match(spec)
        if rng:
            options[name] = DeviceOption(
                name, low=float(rng.group(1)), high=float(rng.group(2)), active=active
            )
        elif "|" in spec:
            choices = spec.split("|")
            choices[-1] = re.sub(r"(dpi|mm|pel|bit|%|us)$", "", choices[-1])
            options[name] = DeviceOption(name, choices=choices, active=active)
        else:
            options[name] = DeviceOption(name, active=active)
    return options


def device_options(device: SaneDevice) -> dict[str, DeviceOption]:
    done = _run(["-d", device.name, "-A"])
    if done.returncode != 0 and "open of device" in done.stderr:
        raise UserError(_open_failure_words(device.name, done.stderr))
    return parse_device_options(done.stdout)


def _open_failure_words(name: str, stderr: str) -> str:
    end = _end_from(1, stderr)
    if end is FeedEnd.BUSY:
        return f"the scanner {name} is busy: close any other scanning program and run the same command again"
    if end is FeedEnd.ACCESS_DENIED:
        return (
            f"this user may not use the scanner {name}: add it to the 'scanner' group "
            "(hardware/README.md), log in again and run the same command"
        )
    return (
        f"the scanner {name} could not be opened: check that it is on and plugged in, "
        "then run `massicot scan devices`"
    )


# ---------------------------------------------------------------- settings


@dataclass(frozen=True)
class SaneSettings:
    device: SaneDevice
    profile: str
    args: list[str]  # scanimage options, device-specific, in order
    duplex: bool
    dpi: int
    stall_seconds: float = DEFAULT_STALL_SECONDS


def _pick(wanted: list[str], option: DeviceOption | None, what: str, device: SaneDevice) -> str | None:
    if option is None or not option.choices:
        return None
    for choice in wanted:
        if choice in option.choices:
            return choice
    raise UserError(
        f"the scanner {device.name} offers no {what} among {', '.join(wanted)} "
        f"(it offers: {', '.join(option.choices)}); choose another --profile"
    )


def settings_for(
    device: SaneDevice,
    profile: ScannerProfile,
    options: dict[str, DeviceOption],
    *,
    duplex: bool = False,
    dpi: int | None = None,
    stall_seconds: float | None = None,
) -> SaneSettings:
    """The scanimage options for this device: ADF source, gray mode, resolution, scan area."""
    args: list[str] = ["-d", device.name]
    if duplex and not profile.source_duplex:
        raise UserError(f"the profile {profile.name!r} has no duplex source: scan without --duplex")
    source = _pick(
        profile.source_duplex if duplex else profile.source_front,
        options.get("--source"),
        "feeder source",
        device,
    )
    if source is None and "--source" not in options:
        raise UserError(f"the scanner {device.name} has no document feeder (no 'source' option)")
    if source:
        args += ["--source", source]
    mode = _pick(profile.mode, options.get("--mode"), "gray mode", device)
    if mode:
        args += ["--mode", mode]
    dpi = dpi or profile.resolution
    resolution = options.get("--resolution")
    if resolution is not None:
        allowed = resolution.choices
        if allowed and str(dpi) not in allowed:
            raise UserError(
                f"the scanner {device.name} cannot scan at {dpi} dpi; it offers {', '.join(allowed)}: "
                "choose one with --dpi"
            )
        if resolution.low is not None and not (resolution.low <= dpi <= (resolution.high or dpi)):
            raise UserError(
                f"the scanner {device.name} scans from {resolution.low:g} to {resolution.high:g} dpi: "
                "choose --dpi in that range"
            )
        args += ["--resolution", str(dpi)]
    for name, mm in profile.geometry.items():
        option = options.get(name)
        if option is None:
            continue
        if option.high is not None:
            mm = min(mm, option.high)  # a smaller scan area than A4 (the test device): take what there is
        args += [name, f"{mm:g}"]
    for key, value in profile.options.items():
        name = f"--{key}"
        option = options.get(name)
        if option is None:
            continue  # an option of another model of the family: not this one
        if option.choices and value not in option.choices:
            raise UserError(
                f"profile {profile.name!r}: option {key}={value!r} is not accepted by {device.name} "
                f"(it accepts: {', '.join(option.choices)})"
            )
        args += [f"{name}={value}"]
    return SaneSettings(
        device=device,
        profile=profile.name,
        args=args,
        duplex=duplex,
        dpi=dpi,
        stall_seconds=stall_seconds or profile.stall_seconds,
    )


# ---------------------------------------------------------------- feeding


def _end_from(returncode: int, stderr: str) -> FeedEnd:
    """How scanimage stopped, from its last error line first (SANE's words), else its exit status."""
    lowered = stderr.lower()
    if "open of device" in lowered and "failed" in lowered:
        # sane_open says "Invalid argument" for a device name it does not know.
        for words, end in _STATUS_BY_WORDS.items():
            if words in lowered:
                return end
        return FeedEnd.NOT_FOUND
    for line in reversed(lowered.splitlines()):
        for words, end in _STATUS_BY_WORDS.items():
            if words in line:
                return end
    if returncode == 0:
        return FeedEnd.EMPTY
    return _STATUS_BY_CODE.get(returncode, FeedEnd.FAILED)


def _die_with_parent() -> None:
    """Run in the child before exec: if the station is killed, the scanner stops feeding.

    Without it a `kill -9` of the station would leave scanimage pulling sheets nobody
    receives; with it the sheets stay in the feeder and the device is free for the rerun.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def page_from_spool(path: Path, dpi: float | None) -> SourcePage:
    """A page scanimage finished writing, as a source page named after its spool file.

    The spool name carries the station run and the page's sequence number, so two
    pages are never confused even when their bytes are equal (a blank sheet twice).
    """
    data = path.read_bytes()
    identity = hashlib.sha256(path.name.encode() + b"\0" + data).hexdigest()
    return SourcePage(
        source=f"{path.name}#0",
        file_sha256=identity,
        index=0,
        data=data,
        media_type="image/jpeg",
        dpi=dpi,
    )


@dataclass
class TestBackendFault:
    """A fault the SANE `test` backend injects for real: `pages` good pages, then `status`.

    Only for the `test` device. scanimage sets options once per run, so the fault is
    one extra run with `--read-return-value SANE_STATUS_...`: the backend then fails
    the next sheet's read exactly as a jammed scanner does.
    """

    pages: int
    status: str  # "JAMMED", "COVER_OPEN", "NO_DOCS", "DEVICE_BUSY", "IO_ERROR"..., or "SLOW"

    def inject(self) -> list[str]:
        """scanimage options for the faulty sheet.

        SLOW is a sheet the test device takes many seconds to deliver (600 dpi, one byte per read,
        delays in its reader): long enough for a test to freeze the backend in the middle of the
        page (SIGSTOP), as a driver stuck in a futex wait is frozen; the station's watchdog must
        then stop it.
        """
        if self.status == "SLOW":
            return [
                "--resolution=600",
                "--read-limit=yes",
                "--read-limit-size=1",
                "--read-delay=yes",
                "--read-delay-duration=200000",
                "--batch-count=1",
            ]
        return ["--read-return-value", f"SANE_STATUS_{self.status}", "--batch-count=1"]

    @classmethod
    def parse_plan(cls, text: str) -> list[TestBackendFault]:
        """`jammed@3,cover_open@0,no_docs@2`: one fault per feed, in order."""
        plan = []
        for item in filter(None, (part.strip() for part in text.split(","))):
            status, _, pages = item.partition("@")
            try:
                plan.append(cls(pages=int(pages or 0), status=status.upper()))
            except ValueError:
                raise UserError(f"fault {item!r}: write it STATUS@PAGES, e.g. jammed@3") from None
        return plan


class SaneFeeder:
    """A SANE scanner's document feeder, through scanimage. Implements scanner.feeder.Feeder."""

    def __init__(
        self,
        settings: SaneSettings,
        spool: Path,
        run_id: str,
        faults: list[TestBackendFault] | None = None,
    ) -> None:
        if faults and not settings.device.name.startswith("test"):
            raise UserError("faults can only be injected into SANE's test device")
        self.settings = settings
        self.spool = spool
        self.run_id = run_id
        self.faults = list(faults or [])
        self._sequence = 0
        self._process: subprocess.Popen[str] | None = None

    @property
    def description(self) -> str:
        d = self.settings.device
        side = "both sides" if self.settings.duplex else "front side"
        return f"{d.vendor} {d.model} ({d.name}), {side}, {self.settings.dpi} dpi, gray"

    # -- spool

    def leftovers(self) -> list[Path]:
        """Pages a previous run had fully scanned but not yet received (station killed)."""
        for part in self.spool.glob("*.part"):
            part.unlink(missing_ok=True)  # a half-written page: its sheet is rescanned, never half kept
        return sorted(self.spool.glob(f"*{PAGE_SUFFIX}"))

    def _deliver(self, path: Path, receive: Receive) -> None:
        receive(page_from_spool(path, self.settings.dpi))
        path.unlink(missing_ok=True)  # only once the page is durably in the lot

    # -- feeding

    def feed(self, receive: Receive) -> FeedResult:
        self.spool.mkdir(parents=True, exist_ok=True)
        delivered = 0
        for path in self.leftovers():
            self._deliver(path, receive)
            delivered += 1
        fault = self.faults.pop(0) if self.faults else None
        if fault is None:
            end, detail, pages = self._scanimage([], receive)
            return FeedResult(end, delivered + pages, detail)
        pages = 0
        if fault.pages > 0:
            end, detail, pages = self._scanimage([f"--batch-count={fault.pages}"], receive)
            if pages < fault.pages:  # the feeder emptied (or failed) before the fault point
                return FeedResult(end, delivered + pages, detail)
        end, detail, extra = self._scanimage(fault.inject(), receive)
        return FeedResult(end, delivered + pages + extra, detail)

    def _scanimage(self, extra: list[str], receive: Receive) -> tuple[FeedEnd, str, int]:
        pattern = str(self.spool / f"{self.run_id}-%05d{PAGE_SUFFIX}")
        args = [
            _require_scanimage(),
            *self.settings.args,
            "--format=jpeg",
            f"--batch={pattern}",
            f"--batch-start={self._sequence + 1}",
            "--batch-print",
            *extra,
        ]
        process = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group: the watchdog stops it and any child at once
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - needed for the parent-death signal
        )
        self._process = process
        watch = _Watchdog(self.spool, self.settings.stall_seconds)
        errors: list[str] = []

        def drain() -> None:
            # stderr gets a line or two per page ("Scanning page 7"): each one is a sign of life.
            for line in process.stderr or []:
                errors.append(line)
                watch.alive()

        drainer = threading.Thread(target=drain, daemon=True)
        drainer.start()
        lines: queue.Queue[str | None] = queue.Queue()

        def read() -> None:
            for line in process.stdout or []:
                lines.put(line)
            lines.put(None)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        pages = 0
        hung = False
        try:
            while True:
                try:
                    line = lines.get(timeout=WATCH_EVERY_SECONDS)
                except queue.Empty:
                    if watch.stalled():
                        hung = True
                        self._stop_group(process)
                        break
                    continue
                if line is None:
                    break
                name = line.strip()
                if not name:
                    continue
                self._sequence += 1
                self._deliver(Path(name), receive)
                pages += 1
                watch.alive()  # the time spent analysing the page is the station's, not the scanner's
        except BaseException:
            self.stop()
            raise
        finally:
            returncode = process.wait()
            drainer.join(timeout=5)
            reader.join(timeout=5)
            self._process = None
        if hung:
            for part in self.spool.glob("*.part"):
                part.unlink(missing_ok=True)  # the sheet being read is rescanned, never half kept
            seconds = f"{self.settings.stall_seconds:g}"
            return FeedEnd.HUNG, f"no sign of the scanner for {seconds} s", pages
        stderr = "".join(errors)
        if "write error" in stderr.lower():
            # scanimage: "Output file write error --- out of disk space?": the lot's disk is full.
            self.stop()
            raise OSError(errno.ENOSPC, "no space left for the scanner's pages", str(self.spool))
        end = _end_from(returncode, stderr)
        if "cannot open" in stderr and end is FeedEnd.FAILED:
            raise UserError(f"the scanner's pages cannot be written to {self.spool}: check the lot folder")
        detail = _last_error(stderr)
        if end is FeedEnd.NOT_FOUND:
            detail = detail or f"device {self.settings.device.name}"
        return end, detail, pages

    def stop(self) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            self._stop_group(process)
        for part in self.spool.glob("*.part"):
            part.unlink(missing_ok=True)

    @staticmethod
    def _stop_group(process: subprocess.Popen[str]) -> None:
        """SIGTERM to scanimage's process group, SIGKILL if it is still there after a grace time."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, sig)
            try:
                process.wait(timeout=STOP_GRACE_SECONDS)
                return
            except subprocess.TimeoutExpired:
                continue


class _Watchdog:
    """When did the scanner last show a sign of life: a line it wrote, or its page file growing."""

    def __init__(self, spool: Path, stall_seconds: float) -> None:
        self.spool = spool
        self.stall_seconds = stall_seconds
        self._last = time.monotonic()
        self._part_size = -1
        self._lock = threading.Lock()

    def alive(self) -> None:
        with self._lock:
            self._last = time.monotonic()

    def stalled(self) -> bool:
        size = sum(p.stat().st_size for p in self.spool.glob("*.part") if p.exists())
        if size != self._part_size:  # a slow scanner writing its page is alive
            self._part_size = size
            self.alive()
        with self._lock:
            return time.monotonic() - self._last > self.stall_seconds


def _last_error(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.startswith("scanimage:")]
    return lines[-1].removeprefix("scanimage:").strip() if lines else ""


def spool_is_writable(spool: Path) -> None:
    try:
        spool.mkdir(parents=True, exist_ok=True)
        probe = spool / ".write-probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UserError(
            f"the lot folder cannot be written ({spool}: {exc.strerror}); "
            "choose a folder this user may write to"
        ) from None


__all__ = [
    "DeviceOption",
    "SaneDevice",
    "SaneFeeder",
    "SaneSettings",
    "ScannerProfile",
    "TestBackendFault",
    "choose_device",
    "device_options",
    "list_devices",
    "load_profile",
    "page_from_spool",
    "parse_device_options",
    "profile_for",
    "profile_names",
    "settings_for",
    "spool_is_writable",
]
